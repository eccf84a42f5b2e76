/* Finds and loads the IDX files of one split under their standard names. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
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

size_t fcnn_dataset_sample_bytes(const struct fcnn_dataset *d)
{
    return (size_t)d->rows * (size_t)d->cols * (size_t)d->channels;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && !S_ISDIR(st.st_mode);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* `dir/base[.gz]`, or else the one file of `dir` whose name ends with "-base[.gz]" and
 * contains `part` (EMNIST's "emnist-letters-train-images-idx3-ubyte"). */
static bool find_one(const char *dir, const char *base, char *path, size_t size)
{
    snprintf(path, size, "%s/%s.gz", dir, base);
    if (exists(path))
        return true;
    snprintf(path, size, "%s/%s", dir, base);
    if (exists(path))
        return true;
    DIR *d = opendir(dir);
    if (!d)
        return false;
    char suffix[128], suffix_gz[136];
    snprintf(suffix, sizeof suffix, "-%s", base);
    snprintf(suffix_gz, sizeof suffix_gz, "-%s.gz", base);
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (ends_with(e->d_name, suffix) || ends_with(e->d_name, suffix_gz)) {
            if (found++ == 0)
                snprintf(path, size, "%s/%s", dir, e->d_name);
        }
    }
    closedir(d);
    return found == 1;
}

int fcnn_dataset_find(const char *dir, enum fcnn_subset subset, char *images, char *labels,
                      size_t size)
{
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return fcnn_error(FCNN_ERR_IO,
                          "%s: no such data directory (install Debian's dataset-fashion-mnist "
                          "package, or give --data DIR or $FCNN_DATA)", fcnn_quote(dir));
    /* MNIST and Fashion-MNIST say "t10k", EMNIST "test". */
    const char *prefixes[2] = { subset == FCNN_TRAINING_SET ? "train" : "t10k",
                                subset == FCNN_TRAINING_SET ? NULL : "test" };
    char base[64];
    for (int p = 0; p < 2 && prefixes[p]; p++) {
        snprintf(base, sizeof base, "%s-images-idx3-ubyte", prefixes[p]);
        bool found = find_one(dir, base, images, size);
        if (!found) {
            snprintf(base, sizeof base, "%s-images-idx4-ubyte", prefixes[p]);
            found = find_one(dir, base, images, size);
        }
        snprintf(base, sizeof base, "%s-labels-idx1-ubyte", prefixes[p]);
        if (found && find_one(dir, base, labels, size))
            return FCNN_OK;
        if (found)
            return fcnn_error(FCNN_ERR_IO, "%s/%s.gz: no such file (nor %s without .gz), for %s",
                              fcnn_quote(dir), base, base, fcnn_quote(images));
    }
    return fcnn_error(FCNN_ERR_IO, "%s/%s-images-idx3-ubyte.gz: no such file (nor %s-images-"
                      "idx3-ubyte, nor idx4 for images with channels)", fcnn_quote(dir), prefixes[0],
                      prefixes[0]);
}

int fcnn_dataset_load_files(const char *images_path, const char *labels_path, int classes,
                            int limit, struct fcnn_dataset *out, int *max_label)
{
    memset(out, 0, sizeof *out);
    int label_count, label_total, largest;
    int status = fcnn_idx_read_labels(labels_path, classes, limit, &label_count, &label_total,
                                      &largest, &out->labels);
    if (status != FCNN_OK)
        return status;
    int image_total;
    status = fcnn_idx_read_images(images_path, limit, out, &image_total);
    if (status == FCNN_OK && image_total != label_total)
        status = fcnn_error(FCNN_ERR_INVALID, "%s: holds %d images but %s holds %d labels",
                            images_path, image_total, labels_path, label_total);
    if (status != FCNN_OK) {
        fcnn_dataset_free(out);
        return status;
    }
    out->count = label_count;
    if (max_label)
        *max_label = largest;
    return FCNN_OK;
}

int fcnn_dataset_load(const char *dir, enum fcnn_subset subset, int limit, struct fcnn_dataset *out)
{
    char images[4096], labels[4096];
    memset(out, 0, sizeof *out);
    int status = fcnn_dataset_find(dir, subset, images, labels, sizeof images);
    if (status == FCNN_OK)
        status = fcnn_dataset_load_files(images, labels, 0, limit, out, NULL);
    return status;
}

uint8_t *fcnn_dataset_alloc_images(size_t bytes)
{
    void *block = NULL;
    return posix_memalign(&block, 4096, bytes ? bytes : 1) == 0 ? block : NULL;
}

void fcnn_dataset_free(struct fcnn_dataset *d)
{
    free(d->images);
    free(d->labels);
    memset(d, 0, sizeof *d);
}
