/* Data sources behind one interface: IDX files (found in a directory by their standard
 * names, or named one by one) and folders of images both give the same in-memory data:
 * uint8 NHWC training and test sets, an optional validation split held out of the
 * training set, the input shape, the class count and the class names. */
#ifndef FCNN_SOURCE_H
#define FCNN_SOURCE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "data/classes.h"
#include "data/dataset.h"
#include "data/folder.h"

enum fcnn_color_mode { FCNN_COLOR_AUTO, FCNN_COLOR_GRAYSCALE, FCNN_COLOR_RGB };

struct fcnn_data_options {
    const char *dir;                           /* --data; NULL: $FCNN_DATA, else Debian's */
    const char *train_images, *train_labels;   /* IDX files named one by one */
    const char *test_images, *test_labels;
    int train_limit, test_limit;               /* 0: all */
    int classes;                               /* --classes; 0: from the data */
    const char *class_names_path;              /* --class-names FILE */
    enum fcnn_color_mode color_mode;           /* image folders */
    int image_rows, image_cols;                /* --image-size; 0: as the images are */
    bool skip_bad_images;
    double validation_split;                   /* 0: none */
    uint64_t seed;                             /* of the validation split */
    bool need_train;                           /* false: --eval, the test set alone */
    FILE *progress;                            /* decoding progress; NULL: none */
    /* The classes of the model the data is for (from its checkpoint): image folders take
     * this list rather than their own, IDX labels must be below its count. */
    const struct fcnn_class_names *known_classes;
};

enum fcnn_source_kind { FCNN_SOURCE_IDX, FCNN_SOURCE_FOLDER };

struct fcnn_data {
    enum fcnn_source_kind kind;
    char where[4096];            /* the directory, or the training images file */
    int rows, cols, channels;    /* of every sample */
    int classes;
    struct fcnn_class_names names;
    bool fashion_mnist;          /* the names are Fashion-MNIST's */
    struct fcnn_dataset train, val, test; /* val.count 0: no validation split */
    struct fcnn_skipped skipped; /* --skip-bad-images */
};

/* Loads what the options name. Errors are one line naming the file or folder. */
int fcnn_data_load(const struct fcnn_data_options *o, struct fcnn_data *out);
void fcnn_data_free(struct fcnn_data *d);

/* Moves a seeded fraction of `train` (at least one sample, and leaving one) into `val`;
 * both keep their samples in the original order. */
int fcnn_data_hold_out(struct fcnn_dataset *train, double fraction, uint64_t seed,
                       struct fcnn_dataset *val);

#endif
