/* Finds and loads the Fashion-MNIST IDX files of one split. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/dataset.h"
#include "data/idx.h"
#include "core/quote.h"
#include "core/status.h"

const char *const fcnn_class_names[FCNN_CLASSES] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot",
};

const char *fcnn_data_dir(const char *option)
{
    if (option && *option)
        return option;
    const char *env = getenv("FCNN_DATA");
    return env && *env ? env : FCNN_DEFAULT_DATA_DIR;
}

/* `dir/base.gz` if it exists, else `dir/base`; the error names both. */
static int find_file(const char *dir, const char *base, char *path, size_t size)
{
    struct stat st;
    if ((size_t)snprintf(path, size, "%s/%s.gz", dir, base) >= size)
        return fcnn_error(FCNN_ERR_IO, "%s: data directory name too long", fcnn_quote(dir));
    if (stat(path, &st) == 0)
        return FCNN_OK;
    snprintf(path, size, "%s/%s", dir, base);
    if (stat(path, &st) == 0)
        return FCNN_OK;
    return fcnn_error(FCNN_ERR_IO, "%s/%s.gz: no such file (nor %s without .gz)",
                      fcnn_quote(dir), base, base);
}

int fcnn_dataset_load(const char *dir, enum fcnn_subset subset, int limit, struct fcnn_dataset *out)
{
    const char *prefix = subset == FCNN_TRAINING_SET ? "train" : "t10k";
    char images_path[4096], labels_path[4096], base[64];
    struct stat st;
    memset(out, 0, sizeof *out);

    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return fcnn_error(FCNN_ERR_IO,
                          "%s: no such data directory (install Debian's dataset-fashion-mnist "
                          "package, or give --data DIR or $FCNN_DATA)", fcnn_quote(dir));
    snprintf(base, sizeof base, "%s-images-idx3-ubyte", prefix);
    int status = find_file(dir, base, images_path, sizeof images_path);
    if (status != FCNN_OK)
        return status;
    snprintf(base, sizeof base, "%s-labels-idx1-ubyte", prefix);
    status = find_file(dir, base, labels_path, sizeof labels_path);
    if (status != FCNN_OK)
        return status;

    int image_count, label_count;
    status = fcnn_idx_read_images(images_path, FCNN_IMAGE_ROWS, FCNN_IMAGE_COLS, &image_count,
                                  &out->images);
    if (status != FCNN_OK)
        return status;
    status = fcnn_idx_read_labels(labels_path, FCNN_CLASSES, &label_count, &out->labels);
    if (status != FCNN_OK) {
        fcnn_dataset_free(out);
        return status;
    }
    if (image_count != label_count) {
        fcnn_dataset_free(out);
        return fcnn_error(FCNN_ERR_INVALID, "%s: holds %d images but %s holds %d labels",
                          fcnn_quote(images_path), image_count, fcnn_quote(labels_path), label_count);
    }
    out->count = limit > 0 && limit < image_count ? limit : image_count;
    return FCNN_OK;
}

void fcnn_dataset_free(struct fcnn_dataset *d)
{
    free(d->images);
    free(d->labels);
    memset(d, 0, sizeof *d);
}
