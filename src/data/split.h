/* A dataset split resident on the device for a whole run: its uint8 pixels and labels
 * (uploaded once), the order in which the current pass visits them, and the loss and
 * prediction of every sample from the last pass, which the host reads in few, large
 * transfers instead of once per step. */
#ifndef FCNN_SPLIT_H
#define FCNN_SPLIT_H

#include "backend/backend.h"
#include "data/dataset.h"

struct fcnn_split {
    const struct fcnn_dataset *data; /* the host copy; labels for accuracy */
    int count;
    struct fcnn_buffer *images, *labels, *order, *loss, *pred;
    int32_t *host_order;             /* the same order, on the host */
    float *host_loss;                /* per sample, in pass order, once downloaded */
    int32_t *host_pred;
};

int fcnn_split_create(struct fcnn_backend *be, const struct fcnn_dataset *data,
                      struct fcnn_split **out);
/* As fcnn_split_create, but the split takes the host images over (data->images is NULL
 * after, whatever the outcome), for a split whose pixels the host reads no more: a device
 * that reads host memory as its own uses them in place (fcnn_buffer_adopt). */
int fcnn_split_create_taking_images(struct fcnn_backend *be, struct fcnn_dataset *data,
                                    struct fcnn_split **out);
void fcnn_split_destroy(struct fcnn_backend *be, struct fcnn_split *split);

/* Sets the visiting order (a permutation of 0..count-1; NULL: the stored order). */
int fcnn_split_set_order(struct fcnn_backend *be, struct fcnn_split *split, const int32_t *order);

/* Tensors for the whole split and for samples [first, first + n) of the pass. */
struct fcnn_tensor fcnn_split_images(const struct fcnn_split *split);
struct fcnn_tensor fcnn_split_labels(const struct fcnn_split *split);
struct fcnn_tensor fcnn_split_order(const struct fcnn_split *split);
struct fcnn_tensor fcnn_split_loss(const struct fcnn_split *split, int first, int n);
struct fcnn_tensor fcnn_split_pred(const struct fcnn_split *split, int first, int n);

/* Copies losses and predictions of samples [first, first + n) to host_loss / host_pred. */
int fcnn_split_fetch(struct fcnn_backend *be, struct fcnn_split *split, int first, int n);

/* The true label of the pass's i-th sample. */
int fcnn_split_label_at(const struct fcnn_split *split, int i);

#endif
