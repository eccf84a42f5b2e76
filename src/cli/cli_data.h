/* The command line's data options: where the data comes from and how it is read, the
 * validation split, augmentation, and prediction on image files. Kept beside cli.c,
 * which hands these options over, so the two grow apart. */
#ifndef FCNN_CLI_DATA_H
#define FCNN_CLI_DATA_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "data/source.h"

enum fcnn_predict_format { FCNN_PREDICT_TEXT, FCNN_PREDICT_CSV, FCNN_PREDICT_JSON };

struct fcnn_data_cli {
    /* Everything but the directory, limits, seed and need_train, which the main options
     * hold; main fills those in. */
    struct fcnn_data_options source;
    const char *augment;             /* --augment SPEC; NULL: none */
    const char *predict_first;       /* --predict FILE [FILE...]: the first file, */
    char *const *predict_more;       /* the others (in argv), */
    int predict_count;               /* and how many in all */
    enum fcnn_predict_format predict_format;
    int top;                         /* classes shown per file */
};

/* Option codes, above cli.c's. */
enum {
    FCNN_OPT_DATA_FIRST = 512,
    FCNN_OPT_TRAIN_IMAGES = FCNN_OPT_DATA_FIRST, FCNN_OPT_TRAIN_LABELS, FCNN_OPT_TEST_IMAGES,
    FCNN_OPT_TEST_LABELS, FCNN_OPT_CLASSES, FCNN_OPT_CLASS_NAMES, FCNN_OPT_COLOR_MODE,
    FCNN_OPT_IMAGE_SIZE, FCNN_OPT_SKIP_BAD_IMAGES, FCNN_OPT_VALIDATION_SPLIT, FCNN_OPT_AUGMENT,
    FCNN_OPT_PREDICT, FCNN_OPT_PREDICT_FORMAT, FCNN_OPT_TOP,
    FCNN_OPT_DATA_LAST
};

#define FCNN_DATA_LONG_OPTIONS                                                         \
    { "train-images", required_argument, NULL, FCNN_OPT_TRAIN_IMAGES },               \
    { "train-labels", required_argument, NULL, FCNN_OPT_TRAIN_LABELS },               \
    { "test-images", required_argument, NULL, FCNN_OPT_TEST_IMAGES },                 \
    { "test-labels", required_argument, NULL, FCNN_OPT_TEST_LABELS },                 \
    { "classes", required_argument, NULL, FCNN_OPT_CLASSES },                         \
    { "class-names", required_argument, NULL, FCNN_OPT_CLASS_NAMES },                 \
    { "color-mode", required_argument, NULL, FCNN_OPT_COLOR_MODE },                   \
    { "image-size", required_argument, NULL, FCNN_OPT_IMAGE_SIZE },                   \
    { "skip-bad-images", no_argument, NULL, FCNN_OPT_SKIP_BAD_IMAGES },               \
    { "validation-split", required_argument, NULL, FCNN_OPT_VALIDATION_SPLIT },       \
    { "augment", required_argument, NULL, FCNN_OPT_AUGMENT },                         \
    { "predict", required_argument, NULL, FCNN_OPT_PREDICT },                         \
    { "predict-format", required_argument, NULL, FCNN_OPT_PREDICT_FORMAT },           \
    { "top", required_argument, NULL, FCNN_OPT_TOP }

void fcnn_cli_data_defaults(struct fcnn_data_cli *d);
/* One data option; false after printing a one-line usage error. */
bool fcnn_cli_data_option(int opt, const char *arg, struct fcnn_data_cli *d);
/* After parsing: the files after --predict (argv[first..argc-1]) and the checks between
 * options. `has_load`, `other_mode`: --load was given; --eval, --bench, --tune or
 * --resume was. False after printing a one-line usage error. */
bool fcnn_cli_data_finish(struct fcnn_data_cli *d, int argc, char **argv, int first,
                          bool has_load, bool other_mode);
/* File i of --predict's. */
const char *fcnn_cli_predict_file(const struct fcnn_data_cli *d, int i);
/* The options' lines for --help. */
void fcnn_cli_data_help(FILE *out);

#endif
