/* Folders of images as a dataset, as Keras's image_dataset_from_directory reads them:
 * ROOT/<class>/<file> with the classes in sorted order of their folder names. Every file
 * is decoded once, up front, to the dataset's one size and channel count. */
#ifndef FCNN_FOLDER_H
#define FCNN_FOLDER_H

#include <stdbool.h>
#include <stdio.h>

#include "data/classes.h"
#include "data/dataset.h"

struct fcnn_folder_options {
    int channels;          /* 1 or 3; 0: the first image's */
    int rows, cols;        /* the size every image is resized to; 0: the first image's,
                              and any other size is refused */
    bool resize;           /* resize every image to rows x cols (--image-size) */
    bool skip_bad;         /* count and list undecodable files instead of stopping */
    int limit;             /* keep this many images at most (0: all), spread over classes
                              as the files come in sorted order */
    FILE *progress;        /* a progress line while decoding many files; NULL: silent */
};

/* The bad files skipped (with skip_bad): one line each, naming the file and why. */
struct fcnn_skipped {
    int count;
    char **lines;
};
void fcnn_skipped_free(struct fcnn_skipped *s);

/* The sorted class folders of `root`. */
int fcnn_folder_classes(const char *root, struct fcnn_class_names *out);

/* Decodes every image of root/<class>/ for the given classes (a class folder may be
 * missing or empty when `allow_empty`, for a test set). On return o->rows, cols and
 * channels hold what was used, so that the test set can be read the same way. */
int fcnn_folder_load(const char *root, const struct fcnn_class_names *classes,
                     bool allow_empty, struct fcnn_folder_options *o, struct fcnn_dataset *out,
                     struct fcnn_skipped *skipped);

/* Whether a file name has an image extension fcnn reads (.png, .jpg, .jpeg, .pgm). */
bool fcnn_folder_is_image_name(const char *name);

#endif
