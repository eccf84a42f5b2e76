/* Chooses the data source, loads it, and settles the class count and names. */
#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/rng.h"
#include "core/quote.h"
#include "core/status.h"
#include "data/source.h"

/* The first labels of Fashion-MNIST's training and test files. Fashion-MNIST and MNIST
 * share file names, shapes and counts; these tell them apart, so Fashion-MNIST's class
 * names are printed for it alone. */
static const uint8_t fashion_train_start[16] = { 9, 0, 0, 3, 0, 2, 7, 2, 5, 5, 0, 9, 5, 5, 7, 9 };
static const uint8_t fashion_test_start[16] = { 9, 2, 1, 1, 6, 1, 4, 6, 5, 7, 4, 5, 7, 3, 4, 1 };

/* Salt of the validation split's generator, so that it draws apart from training's. */
#define VALIDATION_SALT 0x76616c6964617465ULL

void fcnn_data_free(struct fcnn_data *d)
{
    fcnn_dataset_free(&d->train);
    fcnn_dataset_free(&d->val);
    fcnn_dataset_free(&d->test);
    fcnn_classes_free(&d->names);
    fcnn_skipped_free(&d->skipped);
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool starts_like(const struct fcnn_dataset *d, const uint8_t *start)
{
    int n = d->count < 16 ? d->count : 16;
    return n > 0 && memcmp(d->labels, start, (size_t)n) == 0;
}

static int same_shape(const struct fcnn_dataset *a, const char *a_name,
                      const struct fcnn_dataset *b, const char *b_name)
{
    if (a->rows == b->rows && a->cols == b->cols && a->channels == b->channels)
        return FCNN_OK;
    return fcnn_error(FCNN_ERR_INVALID, "%s: images are %dx%dx%d but %s has %dx%dx%d", fcnn_quote(b_name),
                      b->rows, b->cols, b->channels, fcnn_quote(a_name), a->rows, a->cols, a->channels);
}

static int load_idx(const struct fcnn_data_options *o, const char *dir, struct fcnn_data *d)
{
    char train_images[4096], train_labels[4096], test_images[4096], test_labels[4096];
    int status = FCNN_OK;
    int limit_classes = o->classes;
    if (!limit_classes && o->known_classes && o->known_classes->count)
        limit_classes = o->known_classes->count;
    if (o->need_train) {
        if (o->train_images) {
            snprintf(train_images, sizeof train_images, "%s", o->train_images);
            snprintf(train_labels, sizeof train_labels, "%s", o->train_labels);
        } else {
            status = fcnn_dataset_find(dir, FCNN_TRAINING_SET, train_images, train_labels,
                                       sizeof train_images);
        }
    }
    if (status == FCNN_OK) {
        if (o->test_images) {
            snprintf(test_images, sizeof test_images, "%s", o->test_images);
            snprintf(test_labels, sizeof test_labels, "%s", o->test_labels);
        } else {
            status = fcnn_dataset_find(dir, FCNN_TEST_SET, test_images, test_labels,
                                       sizeof test_images);
        }
    }
    int max_train = -1, max_test = -1;
    if (status == FCNN_OK && o->need_train)
        status = fcnn_dataset_load_files(train_images, train_labels, limit_classes,
                                         o->train_limit, &d->train, &max_train);
    if (status == FCNN_OK)
        status = fcnn_dataset_load_files(test_images, test_labels, limit_classes, o->test_limit,
                                         &d->test, &max_test);
    if (status == FCNN_OK && o->need_train)
        status = same_shape(&d->train, train_images, &d->test, test_images);
    if (status != FCNN_OK)
        return status;
    snprintf(d->where, sizeof d->where, "%s", o->need_train && o->train_images ? train_images
                                             : o->test_images ? test_images : dir);
    d->kind = FCNN_SOURCE_IDX;
    d->rows = d->test.rows;
    d->cols = d->test.cols;
    d->channels = d->test.channels;
    d->classes = limit_classes ? limit_classes
                               : (max_train > max_test ? max_train : max_test) + 1;
    d->fashion_mnist = d->rows == 28 && d->cols == 28 && d->channels == 1 && d->classes == 10 &&
                       (!o->need_train || starts_like(&d->train, fashion_train_start)) &&
                       starts_like(&d->test, fashion_test_start);
    return FCNN_OK;
}

static int load_folders(const struct fcnn_data_options *o, const char *dir,
                        struct fcnn_data *d)
{
    char train_root[4096], test_root[4096];
    snprintf(train_root, sizeof train_root, "%s/train", dir);
    snprintf(test_root, sizeof test_root, "%s/test", dir);
    struct fcnn_folder_options fo = {
        .channels = o->color_mode == FCNN_COLOR_GRAYSCALE ? 1 : o->color_mode == FCNN_COLOR_RGB ? 3 : 0,
        .rows = o->image_rows, .cols = o->image_cols, .resize = o->image_rows > 0,
        .skip_bad = o->skip_bad_images, .progress = o->progress,
    };
    int status = FCNN_OK;
    if (!is_dir(test_root))
        return fcnn_error(FCNN_ERR_IO, "%s: no such folder (an image dataset needs %s/<class>/ "
                          "for the final report, beside %s/<class>/)", test_root, test_root,
                          train_root);
    if (o->class_names_path)
        status = fcnn_classes_read(o->class_names_path, &d->names);
    else if (o->known_classes && o->known_classes->count)
        status = fcnn_classes_copy(o->known_classes->count,
                                   (const char *const *)o->known_classes->names, &d->names);
    else
        status = fcnn_folder_classes(o->need_train ? train_root : test_root, &d->names);
    if (status == FCNN_OK && o->need_train) {
        fo.limit = o->train_limit;
        status = fcnn_folder_load(train_root, &d->names, false, &fo, &d->train, &d->skipped);
    }
    if (status == FCNN_OK) {
        fo.limit = o->test_limit;
        status = fcnn_folder_load(test_root, &d->names, true, &fo, &d->test, &d->skipped);
    }
    if (status != FCNN_OK)
        return status;
    snprintf(d->where, sizeof d->where, "%s", dir);
    d->kind = FCNN_SOURCE_FOLDER;
    d->rows = fo.rows;
    d->cols = fo.cols;
    d->channels = fo.channels;
    d->classes = d->names.count;
    if (o->classes && o->classes != d->classes)
        return fcnn_error(FCNN_ERR_INVALID, "--classes %d, but %s has %d class folders",
                          o->classes, o->need_train ? train_root : test_root, d->classes);
    return FCNN_OK;
}

/* The names of an IDX dataset: from --class-names, Fashion-MNIST's, or numbers. */
static int name_idx_classes(const struct fcnn_data_options *o, struct fcnn_data *d)
{
    if (!o->class_names_path) {
        if (d->fashion_mnist)
            return fcnn_classes_copy(FCNN_CLASSES, fcnn_class_names, &d->names);
        return fcnn_classes_numbered(d->classes, &d->names);
    }
    int status = fcnn_classes_read(o->class_names_path, &d->names);
    if (status != FCNN_OK)
        return status;
    d->fashion_mnist = false;
    if (o->classes && o->classes != d->names.count)
        return fcnn_error(FCNN_ERR_INVALID, "%s: %d class names, but --classes %d",
                          o->class_names_path, d->names.count, o->classes);
    if (d->names.count < d->classes)
        return fcnn_error(FCNN_ERR_INVALID, "%s: %d class names, but the labels go up to %d",
                          o->class_names_path, d->names.count, d->classes - 1);
    d->classes = d->names.count;
    return FCNN_OK;
}

int fcnn_data_load(const struct fcnn_data_options *o, struct fcnn_data *out)
{
    memset(out, 0, sizeof *out);
    const char *dir = fcnn_data_dir(o->dir);
    char train_root[4096], test_root[4096];
    snprintf(train_root, sizeof train_root, "%s/train", dir);
    snprintf(test_root, sizeof test_root, "%s/test", dir);
    bool explicit_files = o->train_images || o->test_images;
    bool folders = !explicit_files && (is_dir(train_root) || is_dir(test_root));
    int status = folders ? load_folders(o, dir, out) : load_idx(o, dir, out);
    if (status == FCNN_OK && !folders)
        status = name_idx_classes(o, out);
    if (status == FCNN_OK && out->classes < 2)
        status = fcnn_error(FCNN_ERR_INVALID, "%s: the labels name %d class; a classifier needs "
                            "at least 2 (give --classes K)", out->where, out->classes);
    if (status == FCNN_OK && o->need_train && o->validation_split > 0)
        status = fcnn_data_hold_out(&out->train, o->validation_split, o->seed, &out->val);
    if (status != FCNN_OK)
        fcnn_data_free(out);
    return status;
}

int fcnn_data_hold_out(struct fcnn_dataset *train, double fraction, uint64_t seed,
                       struct fcnn_dataset *val)
{
    memset(val, 0, sizeof *val);
    int n = train->count;
    int held = (int)floor(fraction * n);
    if (!(fraction > 0 && fraction < 1) || held < 1 || held >= n)
        return fcnn_error(FCNN_ERR_INVALID, "--validation-split %g of %d training samples "
                          "leaves %d for validation and %d for training (each needs at least 1)",
                          fraction, n, held, n - held);
    int32_t *order = malloc(sizeof *order * (size_t)n);
    bool *is_val = calloc((size_t)n, sizeof *is_val);
    size_t sample = fcnn_dataset_sample_bytes(train);
    *val = (struct fcnn_dataset){ .count = held, .rows = train->rows, .cols = train->cols,
                                  .channels = train->channels,
                                  .images = malloc(sample * (size_t)held),
                                  .labels = malloc((size_t)held) };
    if (!order || !is_val || !val->images || !val->labels) {
        free(order);
        free(is_val);
        fcnn_dataset_free(val);
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory for the validation split");
    }
    struct fcnn_rng rng;
    fcnn_rng_seed(&rng, seed ^ VALIDATION_SALT);
    fcnn_rng_permutation(&rng, order, n);
    for (int i = 0; i < held; i++)
        is_val[order[i]] = true;
    /* Compact in place: training samples move down, validation ones out. */
    int t = 0, v = 0;
    for (int i = 0; i < n; i++) {
        const uint8_t *src = train->images + sample * (size_t)i;
        if (is_val[i]) {
            memcpy(val->images + sample * (size_t)v, src, sample);
            val->labels[v++] = train->labels[i];
        } else {
            memmove(train->images + sample * (size_t)t, src, sample);
            train->labels[t++] = train->labels[i];
        }
    }
    train->count = t;
    free(order);
    free(is_val);
    return FCNN_OK;
}
