/* Makes the data the data tests train and fail on, so that no test needs files from
 * outside (Fashion-MNIST is used only when the package is installed):
 *
 *   make-data idx DIR ROWS COLS CHANNELS CLASSES NTRAIN NTEST
 *       synthetic IDX files under the standard names (idx4 when CHANNELS > 1), gzip
 *   make-data folder DIR ROWS COLS CHANNELS CLASSES NTRAIN NTEST
 *       the same images as DIR/{train,test}/<class>/NNNNN.{png,jpg} (every third a JPEG)
 *   make-data idx-folder IDXDIR DIR NTRAIN NTEST
 *       the first images of an IDX dataset (Fashion-MNIST) as PNG folders, one per class
 *       named after the label, for decoding figures and equality with the IDX data
 *   make-data export IDXDIR DIR N
 *       the first N test images of an IDX dataset as DIR/NNNNN_LABEL.png
 *
 * Synthetic class c is a bright square whose place depends on c, over noise: a small
 * network learns it in an epoch. Exit 77 when this build cannot write PNG or JPEG. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "core/rng.h"
#include "core/status.h"
#include "data/dataset.h"
#include "data/image.h"

static void put_u32(unsigned char *b, uint32_t v)
{
    b[0] = (unsigned char)(v >> 24);
    b[1] = (unsigned char)(v >> 16);
    b[2] = (unsigned char)(v >> 8);
    b[3] = (unsigned char)v;
}

static int write_idx(const char *path, uint32_t magic, const uint32_t *dims, int ndims,
                     const uint8_t *data, size_t bytes)
{
    gzFile gz = gzopen(path, "wb");
    if (!gz)
        return fcnn_error(FCNN_ERR_IO, "%s: cannot create", path);
    unsigned char header[20];
    put_u32(header, magic);
    for (int i = 0; i < ndims; i++)
        put_u32(header + 4 + 4 * i, dims[i]);
    int ok = gzwrite(gz, header, 4 + 4 * (unsigned)ndims) > 0;
    for (size_t done = 0; ok && done < bytes; done += 1u << 20) {
        size_t n = bytes - done < (1u << 20) ? bytes - done : (1u << 20);
        ok = gzwrite(gz, data + done, (unsigned)n) > 0;
    }
    if (gzclose(gz) != Z_OK || !ok)
        return fcnn_error(FCNN_ERR_IO, "%s: write failed", path);
    return FCNN_OK;
}

/* Sample i of a synthetic set: its label and pixels. */
static int synthetic(struct fcnn_rng *rng, int i, int rows, int cols, int channels, int classes,
                     uint8_t *pixels)
{
    int label = (i * 7) % classes;
    int side = rows / 3 > 1 ? rows / 3 : 1;
    int places = (rows - side + 1) * (cols - side + 1);
    int place = (int)((long)label * (places - 1) / (classes > 1 ? classes - 1 : 1));
    int top = place / (cols - side + 1), left = place % (cols - side + 1);
    for (int y = 0; y < rows; y++)
        for (int x = 0; x < cols; x++)
            for (int c = 0; c < channels; c++) {
                bool in = y >= top && y < top + side && x >= left && x < left + side;
                int v = (int)fcnn_rng_below(rng, 200) + (in ? 50 : 0);
                pixels[((size_t)y * cols + x) * channels + c] = (uint8_t)(v > 255 ? 255 : v);
            }
    return label;
}

static int make_idx(const char *dir, int rows, int cols, int channels, int classes, int ntrain,
                    int ntest)
{
    struct fcnn_rng rng;
    fcnn_rng_seed(&rng, 7);
    size_t sample = (size_t)rows * cols * channels;
    int status = FCNN_OK;
    mkdir(dir, 0777);
    for (int part = 0; part < 2 && status == FCNN_OK; part++) {
        int n = part ? ntest : ntrain;
        uint8_t *images = malloc(sample * (size_t)n), *labels = malloc((size_t)n);
        if (!images || !labels)
            return fcnn_error(FCNN_ERR_NOMEM, "out of memory");
        for (int i = 0; i < n; i++)
            labels[i] = (uint8_t)synthetic(&rng, i, rows, cols, channels, classes,
                                           images + sample * (size_t)i);
        char path[4096];
        const char *prefix = part ? "t10k" : "train";
        uint32_t dims[4] = { (uint32_t)n, (uint32_t)rows, (uint32_t)cols, (uint32_t)channels };
        snprintf(path, sizeof path, "%s/%s-images-idx%d-ubyte.gz", dir, prefix,
                 channels > 1 ? 4 : 3);
        status = write_idx(path, channels > 1 ? 2052 : 2051, dims, channels > 1 ? 4 : 3, images,
                           sample * (size_t)n);
        snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
        if (status == FCNN_OK)
            status = write_idx(path, 2049, dims, 1, labels, (size_t)n);
        free(images);
        free(labels);
    }
    return status;
}

static int write_image(const char *path, const struct fcnn_image *img, bool jpeg)
{
    return jpeg ? fcnn_jpeg_write(path, img, 95) : fcnn_png_write(path, img);
}

/* Writes sample i into dir/part/<class>/. */
static int put_in_folder(const char *dir, const char *part, const char *class_name, int i,
                         const struct fcnn_image *img, bool jpeg)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, part);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/%s/%s", dir, part, class_name);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/%s/%s/%05d.%s", dir, part, class_name, i, jpeg ? "jpg" : "png");
    return write_image(path, img, jpeg);
}

static int make_folder(const char *dir, int rows, int cols, int channels, int classes,
                       int ntrain, int ntest)
{
    struct fcnn_rng rng;
    fcnn_rng_seed(&rng, 7);
    struct fcnn_image img = { rows, cols, channels, malloc((size_t)rows * cols * channels) };
    if (!img.pixels)
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory");
    mkdir(dir, 0777);
    int status = FCNN_OK;
    for (int i = 0; i < ntrain + ntest && status == FCNN_OK; i++) {
        int label = synthetic(&rng, i, rows, cols, channels, classes, img.pixels);
        char name[32];
        snprintf(name, sizeof name, "k%02d", label);
        status = put_in_folder(dir, i < ntrain ? "train" : "test", name, i, &img, i % 3 == 2);
    }
    free(img.pixels);
    return status;
}

static int make_idx_folder(const char *idx_dir, const char *dir, int ntrain, int ntest)
{
    mkdir(dir, 0777);
    int status = FCNN_OK;
    for (int part = 0; part < 2 && status == FCNN_OK; part++) {
        struct fcnn_dataset d;
        status = fcnn_dataset_load(idx_dir, part ? FCNN_TEST_SET : FCNN_TRAINING_SET,
                                   part ? ntest : ntrain, &d);
        size_t sample = fcnn_dataset_sample_bytes(&d);
        for (int i = 0; i < d.count && status == FCNN_OK; i++) {
            struct fcnn_image img = { d.rows, d.cols, d.channels, d.images + sample * (size_t)i };
            char name[32];
            snprintf(name, sizeof name, "%d", d.labels[i]);
            status = put_in_folder(dir, part ? "test" : "train", name, i, &img, false);
        }
        fcnn_dataset_free(&d);
    }
    return status;
}

static int export_test(const char *idx_dir, const char *dir, int n)
{
    struct fcnn_dataset d;
    mkdir(dir, 0777);
    int status = fcnn_dataset_load(idx_dir, FCNN_TEST_SET, n, &d);
    size_t sample = status == FCNN_OK ? fcnn_dataset_sample_bytes(&d) : 0;
    for (int i = 0; i < d.count && status == FCNN_OK; i++) {
        struct fcnn_image img = { d.rows, d.cols, d.channels, d.images + sample * (size_t)i };
        char path[4096];
        snprintf(path, sizeof path, "%s/%05d_%d.png", dir, i, d.labels[i]);
        status = fcnn_png_write(path, &img);
    }
    fcnn_dataset_free(&d);
    return status;
}

int main(int argc, char **argv)
{
    int status;
    if (argc == 9 && !strcmp(argv[1], "idx"))
        status = make_idx(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), atoi(argv[6]),
                          atoi(argv[7]), atoi(argv[8]));
    else if (argc == 9 && !strcmp(argv[1], "folder"))
        status = make_folder(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), atoi(argv[6]),
                             atoi(argv[7]), atoi(argv[8]));
    else if (argc == 6 && !strcmp(argv[1], "idx-folder"))
        status = make_idx_folder(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]));
    else if (argc == 5 && !strcmp(argv[1], "export"))
        status = export_test(argv[2], argv[3], atoi(argv[4]));
    else {
        fprintf(stderr, "usage: make-data idx|folder DIR ROWS COLS CHANNELS CLASSES NTRAIN NTEST\n"
                        "       make-data idx-folder IDXDIR DIR NTRAIN NTEST\n"
                        "       make-data export IDXDIR DIR N\n");
        return 99;
    }
    if (status == FCNN_ERR_UNSUPPORTED) {
        fprintf(stderr, "make-data: %s\n", fcnn_last_error());
        return 77;
    }
    if (status != FCNN_OK) {
        fprintf(stderr, "make-data: %s\n", fcnn_last_error());
        return 1;
    }
    return 0;
}
