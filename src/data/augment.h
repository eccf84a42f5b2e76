/* Training-time augmentation, as Keras's RandomFlip("horizontal"), RandomTranslation and
 * RandomRotation layers: each training sample is flipped left-right with probability
 * 1/2, shifted by up to `shift` pixels along each axis and rotated by up to `rotate`
 * degrees, with zeros where no source pixel falls. The draws come from the run's seeded
 * generator on the host (a few numbers per sample); the pixels are moved on the device. */
#ifndef FCNN_AUGMENT_H
#define FCNN_AUGMENT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/rng.h"

struct fcnn_augment {
    bool flip;
    int shift;    /* pixels, 0: none */
    float rotate; /* degrees, 0: none */
};

/* "flip,shift:2,rotate:10" (any subset, any order). FCNN_ERR_INVALID with one line
 * naming the bad part. */
int fcnn_augment_parse(const char *spec, struct fcnn_augment *out);
bool fcnn_augment_any(const struct fcnn_augment *a);
/* The specification as fcnn_augment_parse reads it back to the same values ("flip,shift:2,
 * rotate:10"; "" when nothing is on), for checkpoints and messages. */
void fcnn_augment_text(const struct fcnn_augment *a, char *text, size_t size);
/* Whether two specifications augment alike. */
bool fcnn_augment_equal(const struct fcnn_augment *a, const struct fcnn_augment *b);

/* The draws for n samples, in the order of the augment op's params: per sample { flip
 * (0 or 1), shift_rows, shift_cols (whole pixels), angle (radians) }, each drawn from
 * `rng` only when that augmentation is on, so that the generator moves the same way
 * for the same specification. */
void fcnn_augment_draw(const struct fcnn_augment *a, struct fcnn_rng *rng, int n, float *params);

#endif
