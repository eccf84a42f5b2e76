/* IDX files (the MNIST family's format), gzip-compressed or plain, validated strictly.
 * Each failure returns a status with one line naming the file and the problem. */
#ifndef FCNN_IDX_H
#define FCNN_IDX_H

#include <stdint.h>

#define FCNN_IDX_IMAGES_MAGIC 2051 /* unsigned bytes, 3 dimensions */
#define FCNN_IDX_LABELS_MAGIC 2049 /* unsigned bytes, 1 dimension */

/* Reads `count` images of rows x cols bytes; the image size must be expect_rows x
 * expect_cols. *pixels is malloc'ed. */
int fcnn_idx_read_images(const char *path, int expect_rows, int expect_cols, int *count,
                         uint8_t **pixels);

/* Reads `count` labels, each in 0..classes-1. *labels is malloc'ed. */
int fcnn_idx_read_labels(const char *path, int classes, int *count, uint8_t **labels);

#endif
