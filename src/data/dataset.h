/* Fashion-MNIST as fcnn uses it: the four IDX files of a directory, kept in memory as
 * uint8 exactly as stored (scaled to [0,1] one batch at a time, on the device). */
#ifndef FCNN_DATASET_H
#define FCNN_DATASET_H

#include <stdint.h>

#define FCNN_IMAGE_ROWS 28
#define FCNN_IMAGE_COLS 28
#define FCNN_IMAGE_PIXELS (FCNN_IMAGE_ROWS * FCNN_IMAGE_COLS)
#define FCNN_CLASSES 10

/* Where Debian's dataset-fashion-mnist package puts the files. */
#define FCNN_DEFAULT_DATA_DIR "/usr/share/datasets/fashion-mnist"

extern const char *const fcnn_class_names[FCNN_CLASSES];

struct fcnn_dataset {
    int count;
    uint8_t *images; /* count x 28 x 28, row-major */
    uint8_t *labels; /* count, each 0..9 */
};

enum fcnn_subset { FCNN_TRAINING_SET, FCNN_TEST_SET };

/* Loads one split from `dir` (files "train-*-idx?-ubyte" or "t10k-*", each with or without
 * ".gz"), keeping the first `limit` samples when limit > 0. */
int fcnn_dataset_load(const char *dir, enum fcnn_subset subset, int limit, struct fcnn_dataset *out);
void fcnn_dataset_free(struct fcnn_dataset *d);

/* The data directory: `option` if given, else $FCNN_DATA, else the Debian default. */
const char *fcnn_data_dir(const char *option);

#endif
