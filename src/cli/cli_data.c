/* Parsing of the data options; strict like the rest of the command line. */
#include <config.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_data.h"
#include "core/status.h"
#include "data/augment.h"
#include "data/image.h"

#define DEFAULT_TOP 3

__attribute__((format(printf, 1, 2)))
static bool usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fcnn: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'fcnn --help' for more information.\n");
    va_end(ap);
    return false;
}

void fcnn_cli_data_defaults(struct fcnn_data_cli *d)
{
    *d = (struct fcnn_data_cli){ .top = DEFAULT_TOP, .predict_format = FCNN_PREDICT_TEXT };
}

static bool parse_count(const char *option, const char *arg, long min, long max, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno || end == arg || *end || v < min || v > max)
        return usage("--%s must be an integer from %ld to %ld, not '%s'", option, min, max, arg);
    *out = (int)v;
    return true;
}

bool fcnn_cli_data_option(int opt, const char *arg, struct fcnn_data_cli *d)
{
    struct fcnn_data_options *s = &d->source;
    char *end;
    switch (opt) {
    case FCNN_OPT_TRAIN_IMAGES: s->train_images = arg; return true;
    case FCNN_OPT_TRAIN_LABELS: s->train_labels = arg; return true;
    case FCNN_OPT_TEST_IMAGES: s->test_images = arg; return true;
    case FCNN_OPT_TEST_LABELS: s->test_labels = arg; return true;
    case FCNN_OPT_CLASSES: return parse_count("classes", arg, 2, 256, &s->classes);
    case FCNN_OPT_CLASS_NAMES: s->class_names_path = arg; return true;
    case FCNN_OPT_COLOR_MODE:
        if (!strcmp(arg, "grayscale"))
            s->color_mode = FCNN_COLOR_GRAYSCALE;
        else if (!strcmp(arg, "rgb"))
            s->color_mode = FCNN_COLOR_RGB;
        else
            return usage("--color-mode must be grayscale or rgb, not '%s'", arg);
        return true;
    case FCNN_OPT_IMAGE_SIZE: {
        errno = 0;
        long rows = strtol(arg, &end, 10), cols = 0;
        bool ok = !errno && end != arg && (*end == 'x' || *end == 'X');
        if (ok) {
            const char *c = end + 1;
            cols = strtol(c, &end, 10);
            ok = !errno && end != c && !*end;
        }
        if (!ok || rows < 1 || cols < 1 || rows > FCNN_IMAGE_MAX_SIDE || cols > FCNN_IMAGE_MAX_SIDE)
            return usage("--image-size must be HxW (each 1 to %d), not '%s'", FCNN_IMAGE_MAX_SIDE,
                         arg);
        s->image_rows = (int)rows;
        s->image_cols = (int)cols;
        return true;
    }
    case FCNN_OPT_SKIP_BAD_IMAGES: s->skip_bad_images = true; return true;
    case FCNN_OPT_VALIDATION_SPLIT: {
        errno = 0;
        double f = strtod(arg, &end);
        if (errno || end == arg || *end || !(f > 0 && f < 1))
            return usage("--validation-split must be a fraction between 0 and 1, not '%s'", arg);
        s->validation_split = f;
        return true;
    }
    case FCNN_OPT_AUGMENT: {
        struct fcnn_augment a;
        if (fcnn_augment_parse(arg, &a) != FCNN_OK)
            return usage("%s", fcnn_last_error());
        d->augment = arg;
        return true;
    }
    case FCNN_OPT_PREDICT: d->predict_first = arg; return true;
    case FCNN_OPT_PREDICT_FORMAT:
        if (!strcmp(arg, "text"))
            d->predict_format = FCNN_PREDICT_TEXT;
        else if (!strcmp(arg, "csv"))
            d->predict_format = FCNN_PREDICT_CSV;
        else if (!strcmp(arg, "json"))
            d->predict_format = FCNN_PREDICT_JSON;
        else
            return usage("--predict-format must be text, csv or json, not '%s'", arg);
        return true;
    case FCNN_OPT_TOP: return parse_count("top", arg, 1, 256, &d->top);
    }
    return usage("internal error: unknown data option %d", opt);
}

bool fcnn_cli_data_finish(struct fcnn_data_cli *d, int argc, char **argv, int first,
                          bool has_load, bool other_mode)
{
    const struct fcnn_data_options *s = &d->source;
    if (first < argc && !d->predict_first)
        return usage("unexpected argument '%s'", argv[first]);
    if (d->predict_first) {
        /* getopt moved the files after --predict's first to the end of argv, in order. */
        d->predict_more = argv + first;
        d->predict_count = argc - first + 1;
        if (!has_load)
            return usage("--predict needs --load MODEL (the model to predict with)");
        if (other_mode)
            return usage("--predict cannot be combined with --eval, --bench, --tune or --resume");
    }
    if (!s->train_images != !s->train_labels)
        return usage("--train-images and --train-labels go together: give both");
    if (!s->test_images != !s->test_labels)
        return usage("--test-images and --test-labels go together: give both");
    return true;
}

const char *fcnn_cli_predict_file(const struct fcnn_data_cli *d, int i)
{
    return i == 0 ? d->predict_first : d->predict_more[i - 1];
}

void fcnn_cli_data_help(FILE *out)
{
    fprintf(out,
            "  --train-images=FILE    IDX images [N,H,W] or [N,H,W,C] (with --train-labels)\n"
            "  --train-labels=FILE    IDX labels 0..K-1 for them\n"
            "  --test-images=FILE     the test set's, likewise (with --test-labels)\n"
            "  --test-labels=FILE\n"
            "  --classes=K            the class count (default: the largest label + 1, or the\n"
            "                         class folders)\n"
            "  --class-names=FILE     one class name per line (default: the folder names; for\n"
            "                         IDX the label numbers, or Fashion-MNIST's names)\n"
            "  --color-mode=MODE      image folders: grayscale or rgb (default: the first\n"
            "                         image's)\n"
            "  --image-size=HxW       resize every image (bilinear); default: all must have\n"
            "                         the first image's size\n"
            "  --skip-bad-images      skip undecodable images, count and list them (default:\n"
            "                         stop at the first)\n"
            "  --validation-split=F   hold out a seeded fraction F of the training set for\n"
            "                         val_loss, val_accuracy and early stopping; the test set\n"
            "                         is then read once, for the final report (default: none,\n"
            "                         validation on the test set)\n"
            "  --augment=SPEC         training only: flip, shift:N, rotate:DEGREES,\n"
            "                         comma-separated (e.g. flip,shift:2,rotate:10)\n\n"
            "Prediction:\n"
            "  --predict FILE...      with --load: the top classes of each PNG, JPEG or PGM\n"
            "                         image, prepared as the model's training images were\n"
            "  --predict-format=FMT   text, csv or json (default: text)\n"
            "  --top=N                classes shown per image (default: %d)\n",
            DEFAULT_TOP);
}
