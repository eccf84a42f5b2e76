/* IDX files (the MNIST family's format), gzip-compressed or plain, validated strictly.
 * Each failure returns a status with one line naming the file and the problem. */
#ifndef FCNN_IDX_H
#define FCNN_IDX_H

#include <stdint.h>

#include "data/dataset.h"

#define FCNN_IDX_LABELS_MAGIC 2049 /* unsigned bytes, 1 dimension */
#define FCNN_IDX_IMAGES_MAGIC 2051 /* unsigned bytes, 3 dimensions: [N, H, W] */
#define FCNN_IDX_IMAGES4_MAGIC 2052 /* unsigned bytes, 4 dimensions: [N, H, W, C] */

/* Reads images [N, H, W] (one channel) or [N, H, W, C] into out->images, rows, cols,
 * channels and count, and the number in the file into *total; only the first `limit` images when limit > 0 (the rest of the file
 * is not read). out->labels is left alone. A header that declares more data than the
 * file can hold is refused before the pixels are allocated. */
int fcnn_idx_read_images(const char *path, int limit, struct fcnn_dataset *out, int *total);

/* Reads every label of the file (they are small, and the class count is found from all
 * of them), checks each is below `classes`, and keeps the first `limit` (> 0) in
 * *labels. *count is the number kept, *total the number in the file, *max_label the
 * largest label in the file. */
int fcnn_idx_read_labels(const char *path, int classes, int limit, int *count, int *total,
                         int *max_label, uint8_t **labels);

#endif
