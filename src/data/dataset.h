/* One split of a dataset as fcnn keeps it in memory: uint8 samples in NHWC order exactly
 * as stored (scaled to [0,1] one batch at a time, on the device) and one uint8 label per
 * sample. Every data source (IDX files, folders of images) produces this. */
#ifndef FCNN_DATASET_H
#define FCNN_DATASET_H

#include <stddef.h>
#include <stdint.h>

/* Fashion-MNIST's shape: the reference model's input when no data says otherwise. */
#define FCNN_IMAGE_ROWS 28
#define FCNN_IMAGE_COLS 28
#define FCNN_IMAGE_PIXELS (FCNN_IMAGE_ROWS * FCNN_IMAGE_COLS)
#define FCNN_CLASSES 10

/* Labels are stored as one byte. */
#define FCNN_MAX_CLASSES 256

/* Where Debian's dataset-fashion-mnist package puts the files. */
#define FCNN_DEFAULT_DATA_DIR "/usr/share/datasets/fashion-mnist"

extern const char *const fcnn_class_names[FCNN_CLASSES];

struct fcnn_dataset {
    int count;
    int rows, cols, channels; /* every sample's shape */
    uint8_t *images;          /* count x rows x cols x channels, row-major, channels last */
    uint8_t *labels;          /* count, each 0..classes-1 */
};

enum fcnn_subset { FCNN_TRAINING_SET, FCNN_TEST_SET };

/* A block for `bytes` bytes of images, page-aligned so that a device sharing the host's
 * memory can take it over as it is (fcnn_buffer_adopt); freed with free(). NULL when out
 * of memory. */
uint8_t *fcnn_dataset_alloc_images(size_t bytes);

/* Bytes of one sample. */
size_t fcnn_dataset_sample_bytes(const struct fcnn_dataset *d);

/* Loads one split of the IDX files of `dir` under their standard names ("train-*" or
 * "t10k-*", images idx3 or idx4, each with or without ".gz"), keeping the first `limit`
 * samples when limit > 0. Labels must be below `classes` (0: FCNN_MAX_CLASSES). */
/* The image and label files of one split in `dir` (see fcnn_dataset_load). */
int fcnn_dataset_find(const char *dir, enum fcnn_subset subset, char *images, char *labels,
                      size_t size);
/* Loads an image file and a label file; *max_label (if not NULL) is the largest label of
 * the whole label file. */
int fcnn_dataset_load_files(const char *images_path, const char *labels_path, int classes,
                            int limit, struct fcnn_dataset *out, int *max_label);
int fcnn_dataset_load(const char *dir, enum fcnn_subset subset, int limit, struct fcnn_dataset *out);
void fcnn_dataset_free(struct fcnn_dataset *d);

/* The data directory: `option` if given, else $FCNN_DATA, else the Debian default. */
const char *fcnn_data_dir(const char *option);

#endif
