/* The IDX loader: small generated files, gzip and plain, load correctly, and every kind of
 * malformed file is rejected with its own message naming the file. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "data/dataset.h"
#include "data/gzip_whole.h"
#include "data/idx.h"
#include "core/status.h"

#include "expect.h"

static char dir[] = "/tmp/fcnn-test-idx-XXXXXX";

static void put_u32(unsigned char *b, uint32_t v)
{
    b[0] = (unsigned char)(v >> 24);
    b[1] = (unsigned char)(v >> 16);
    b[2] = (unsigned char)(v >> 8);
    b[3] = (unsigned char)v;
}

/* An IDX file: magic, dims, then `len` payload bytes, gzip-compressed or plain. */
static void write_idx(const char *name, int gzip, uint32_t magic, const uint32_t *dims, int ndims,
                      const unsigned char *payload, size_t len)
{
    char path[512];
    unsigned char header[20];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    put_u32(header, magic);
    for (int i = 0; i < ndims; i++)
        put_u32(header + 4 + 4 * i, dims[i]);
    size_t header_len = 4 + 4 * (size_t)ndims;
    if (gzip) {
        gzFile gz = gzopen(path, "wb");
        gzwrite(gz, header, (unsigned)header_len);
        if (len)
            gzwrite(gz, payload, (unsigned)len);
        gzclose(gz);
    } else {
        FILE *f = fopen(path, "wb");
        fwrite(header, 1, header_len, f);
        if (len)
            fwrite(payload, 1, len, f);
        fclose(f);
    }
}

static void path_of(const char *name, char *path, size_t size)
{
    snprintf(path, size, "%s/%s", dir, name);
}

/* Loading `name` as images fails, and the one-line message names the file and contains
 * `what`. */
static void expect_images_rejected(const char *name, const char *what)
{
    char path[512];
    struct fcnn_dataset d = { .count = -1, .images = (uint8_t *)"sentinel" };
    int total = -1;
    path_of(name, path, sizeof path);
    int status = fcnn_idx_read_images(path, 0, &d, &total);
    const char *msg = fcnn_last_error();
    EXPECT(status != FCNN_OK, "%s: accepted, expected rejection for '%s'", name, what);
    EXPECT(strstr(msg, path) && strstr(msg, what), "%s: message '%s' lacks '%s'", name, msg, what);
    EXPECT(!strchr(msg, '\n'), "%s: message is not one line", name);
    EXPECT(d.images == NULL && d.count == 0 && total == 0, "%s: outputs not cleared on failure",
           name);
}

static void expect_labels_rejected(const char *name, const char *what)
{
    char path[512];
    int count = -1, total = -1, max = -1;
    uint8_t *labels = NULL;
    path_of(name, path, sizeof path);
    int status = fcnn_idx_read_labels(path, 10, 0, &count, &total, &max, &labels);
    const char *msg = fcnn_last_error();
    EXPECT(status != FCNN_OK, "%s: accepted, expected rejection for '%s'", name, what);
    EXPECT(strstr(msg, path) && strstr(msg, what), "%s: message '%s' lacks '%s'", name, msg, what);
    EXPECT(labels == NULL, "%s: labels not cleared on failure", name);
}

/* Copies a file, keeping only its first `keep` bytes (or all, if keep is 0) and XOR-ing
 * the byte at `flip_at` (if not 0) with 0xff. */
static void copy_damaged(const char *from, const char *to, long keep, long flip_at)
{
    char src[512], dst[512];
    path_of(from, src, sizeof src);
    path_of(to, dst, sizeof dst);
    FILE *in = fopen(src, "rb");
    fseek(in, 0, SEEK_END);
    long size = ftell(in);
    rewind(in);
    unsigned char *buf = malloc((size_t)size);
    if (fread(buf, 1, (size_t)size, in) != (size_t)size)
        abort();
    fclose(in);
    if (flip_at)
        buf[flip_at] ^= 0xff;
    FILE *out = fopen(dst, "wb");
    fwrite(buf, 1, (size_t)(keep ? keep : size), out);
    fclose(out);
    free(buf);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 99;
    }
    enum { N = 5 };
    unsigned char pixels[N * 784], labels[N] = { 0, 9, 3, 7, 1 };
    /* Pseudo-random pixels: compress poorly, so damage lands in real deflate data. */
    uint32_t x = 12345;
    for (int i = 0; i < N * 784; i++) {
        x = x * 1103515245u + 12345u;
        pixels[i] = (unsigned char)(x >> 16);
    }
    uint32_t image_dims[3] = { N, 28, 28 }, label_dims[1] = { N };

    /* Good files, compressed and plain, load exactly. */
    write_idx("train-images-idx3-ubyte.gz", 1, 2051, image_dims, 3, pixels, sizeof pixels);
    write_idx("train-labels-idx1-ubyte.gz", 1, 2049, label_dims, 1, labels, N);
    write_idx("t10k-images-idx3-ubyte", 0, 2051, image_dims, 3, pixels, sizeof pixels);
    write_idx("t10k-labels-idx1-ubyte", 0, 2049, label_dims, 1, labels, N);
    struct fcnn_dataset train, test;
    int status = fcnn_dataset_load(dir, FCNN_TRAINING_SET, 0, &train);
    EXPECT(status == FCNN_OK, "gzip dataset: %s", fcnn_last_error());
    if (status == FCNN_OK) {
        EXPECT(train.count == N, "gzip dataset count %d", train.count);
        EXPECT(memcmp(train.images, pixels, sizeof pixels) == 0, "gzip pixels differ");
        EXPECT(memcmp(train.labels, labels, N) == 0, "gzip labels differ");
        fcnn_dataset_free(&train);
    }
    status = fcnn_dataset_load(dir, FCNN_TEST_SET, 3, &test);
    EXPECT(status == FCNN_OK, "plain dataset: %s", fcnn_last_error());
    if (status == FCNN_OK) {
        EXPECT(test.count == 3, "--test-limit 3 kept %d samples", test.count);
        EXPECT(memcmp(test.images, pixels, 3 * 784) == 0, "plain pixels differ");
        EXPECT(memcmp(test.labels, labels, 3) == 0, "plain labels differ");
        fcnn_dataset_free(&test);
    }

    /* Other shapes: [N, 8, 8] and [N, 32, 32, 3]. */
    {
        char path[512];
        struct fcnn_dataset d = { 0 };
        int total;
        write_idx("small-idx3", 0, 2051, (uint32_t[]){ 5, 8, 8 }, 3, pixels, 5 * 64);
        path_of("small-idx3", path, sizeof path);
        status = fcnn_idx_read_images(path, 0, &d, &total);
        EXPECT(status == FCNN_OK && d.rows == 8 && d.cols == 8 && d.channels == 1 && d.count == 5 &&
                   memcmp(d.images, pixels, 5 * 64) == 0,
               "8x8 images: %s", fcnn_last_error());
        fcnn_dataset_free(&d);
        write_idx("rgb-idx4.gz", 1, 2052, (uint32_t[]){ 1, 32, 32, 3 }, 4, pixels, 3072);
        path_of("rgb-idx4.gz", path, sizeof path);
        status = fcnn_idx_read_images(path, 0, &d, &total);
        EXPECT(status == FCNN_OK && d.rows == 32 && d.cols == 32 && d.channels == 3 &&
                   d.count == 1 && memcmp(d.images, pixels, 3072) == 0,
               "32x32x3 images: %s", fcnn_last_error());
        fcnn_dataset_free(&d);
        /* A limit reads the first images only: the damaged rest of a file is not reached. */
        copy_damaged("train-images-idx3-ubyte.gz", "cut-gzip.gz", 2000, 0);
        path_of("cut-gzip.gz", path, sizeof path);
        status = fcnn_idx_read_images(path, 1, &d, &total);
        EXPECT(status == FCNN_OK && d.count == 1 && total == N &&
                   memcmp(d.images, pixels, 784) == 0,
               "limit 1 on a cut file: %s", fcnn_last_error());
        fcnn_dataset_free(&d);
        status = fcnn_idx_read_images(path, 0, &d, &total);
        EXPECT(status != FCNN_OK && strstr(fcnn_last_error(), "gzip stream is truncated"),
               "the whole cut file: %s", fcnn_last_error());
        /* 47 classes: the largest label is reported, labels under the limit checked. */
        unsigned char many[47];
        for (int i = 0; i < 47; i++)
            many[i] = (unsigned char)(46 - i);
        write_idx("labels-47", 0, 2049, (uint32_t[]){ 47 }, 1, many, 47);
        path_of("labels-47", path, sizeof path);
        int count, max;
        uint8_t *labels47;
        status = fcnn_idx_read_labels(path, 0, 3, &count, &total, &max, &labels47);
        EXPECT(status == FCNN_OK && count == 3 && total == 47 && max == 46 && labels47[0] == 46,
               "47 labels: %s (count %d, total %d, max %d)", fcnn_last_error(), count, total, max);
        if (status == FCNN_OK)
            free(labels47);
        status = fcnn_idx_read_labels(path, 40, 0, &count, &total, &max, &labels47);
        EXPECT(status != FCNN_OK && strstr(fcnn_last_error(), "label 46 at index 0 is not a class 0..39"),
               "label above K: %s", fcnn_last_error());
    }

    /* A whole gzip image file is inflated in one call where libdeflate is built in, and
     * read by zlib otherwise; with the same bytes either way. Whatever that one call does
     * not take exactly (a limit, a second gzip member, bytes after the member, a bad
     * checksum) is read by zlib as before. */
    {
        char path[512];
        struct fcnn_dataset d = { 0 };
        int total;
#ifdef HAVE_LIBDEFLATE
        const unsigned long one_call = 1;
#else
        const unsigned long one_call = 0;
#endif
        unsigned long before = fcnn_gzip_inflated_whole_count();
        path_of("train-images-idx3-ubyte.gz", path, sizeof path);
        status = fcnn_idx_read_images(path, 0, &d, &total);
        EXPECT(status == FCNN_OK && d.count == N && memcmp(d.images, pixels, sizeof pixels) == 0,
               "whole gzip file: %s", fcnn_last_error());
        EXPECT(fcnn_gzip_inflated_whole_count() == before + one_call,
               "whole gzip file: inflated in one call %lu times, expected %lu",
               fcnn_gzip_inflated_whole_count() - before, one_call);
        fcnn_dataset_free(&d);
        before = fcnn_gzip_inflated_whole_count();
        status = fcnn_idx_read_images(path, N - 1, &d, &total);
        EXPECT(status == FCNN_OK && d.count == N - 1 && total == N &&
                   memcmp(d.images, pixels, (N - 1) * 784) == 0,
               "limited gzip read: %s", fcnn_last_error());
        fcnn_dataset_free(&d);

        /* Two gzip members: the header and two images, then the other three. */
        unsigned char header[16];
        put_u32(header, 2051);
        for (int i = 0; i < 3; i++)
            put_u32(header + 4 + 4 * i, image_dims[i]);
        path_of("two-members.gz", path, sizeof path);
        gzFile gz = gzopen(path, "wb");
        gzwrite(gz, header, sizeof header);
        gzwrite(gz, pixels, 2 * 784);
        gzclose(gz);
        gz = gzopen(path, "ab");
        gzwrite(gz, pixels + 2 * 784, (N - 2) * 784);
        gzclose(gz);
        status = fcnn_idx_read_images(path, 0, &d, &total);
        EXPECT(status == FCNN_OK && d.count == N && memcmp(d.images, pixels, sizeof pixels) == 0,
               "two gzip members: %s", fcnn_last_error());
        fcnn_dataset_free(&d);

        /* Bytes after the gzip member: zlib ignores them, as it always has. */
        copy_damaged("train-images-idx3-ubyte.gz", "garbage-after.gz", 0, 0);
        path_of("garbage-after.gz", path, sizeof path);
        FILE *f = fopen(path, "ab");
        fputs("not gzip", f);
        fclose(f);
        status = fcnn_idx_read_images(path, 0, &d, &total);
        EXPECT(status == FCNN_OK && d.count == N && memcmp(d.images, pixels, sizeof pixels) == 0,
               "bytes after the gzip member: %s", fcnn_last_error());
        fcnn_dataset_free(&d);

        /* A bad checksum (the trailer's CRC-32, 8 bytes from the end) is zlib's error. */
        struct stat st;
        path_of("train-images-idx3-ubyte.gz", path, sizeof path);
        EXPECT(stat(path, &st) == 0, "stat %s", path);
        copy_damaged("train-images-idx3-ubyte.gz", "bad-crc.gz", 0, (long)st.st_size - 8);
        expect_images_rejected("bad-crc.gz", "corrupt gzip data");
        EXPECT(fcnn_gzip_inflated_whole_count() == before, "a limit, two members, bytes after "
               "them or a bad checksum were taken by the one call");
    }

    /* Malformed image files. */
    write_idx("bad-magic", 1, 2049, image_dims, 3, pixels, sizeof pixels);
    expect_images_rejected("bad-magic", "bad magic number 2049");
    write_idx("zero-side", 0, 2051, (uint32_t[]){ N, 0, 28 }, 3, pixels, 0);
    expect_images_rejected("zero-side", "images are 0x28");
    write_idx("five-channels", 0, 2052, (uint32_t[]){ 1, 28, 28, 5 }, 4, pixels, 28 * 28 * 5);
    expect_images_rejected("five-channels", "images have 5 channels");
    write_idx("floats", 0, 0x0D03, image_dims, 3, pixels, sizeof pixels);
    expect_images_rejected("floats", "element type 0x0d is not unsigned bytes");
    /* A header claiming 78 GB in a file of a few kilobytes is refused before the pixels
     * are allocated (plain: by the file's size; gzip: by deflate's largest ratio). */
    write_idx("huge-plain", 0, 2051, (uint32_t[]){ 100000000, 28, 28 }, 3, pixels, sizeof pixels);
    expect_images_rejected("huge-plain", "file ends after 3920 of the 78400000000 bytes");
    write_idx("huge-gzip", 1, 2051, (uint32_t[]){ 100000000, 28, 28 }, 3, pixels, sizeof pixels);
    expect_images_rejected("huge-gzip", "more than a gzip file of");
    write_idx("count-too-large", 1, 2051, (uint32_t[]){ N + 1, 28, 28 }, 3, pixels, sizeof pixels);
    expect_images_rejected("count-too-large", "file ends after 3920 of the 4704 bytes");
    write_idx("truncated-plain", 0, 2051, image_dims, 3, pixels, sizeof pixels - 100);
    expect_images_rejected("truncated-plain", "file ends after 3820 of the 3920 bytes");
    write_idx("trailing", 0, 2051, (uint32_t[]){ N - 1, 28, 28 }, 3, pixels, sizeof pixels);
    expect_images_rejected("trailing", "784 bytes follow the images");
    write_idx("zero-count", 0, 2051, (uint32_t[]){ 0, 28, 28 }, 3, pixels, 0);
    expect_images_rejected("zero-count", "declares 0 items");
    write_idx("short-header", 0, 2051, image_dims, 1, NULL, 0);
    expect_images_rejected("short-header", "too short for an IDX image header");
    copy_damaged("train-images-idx3-ubyte.gz", "truncated-gzip", 2000, 0);
    expect_images_rejected("truncated-gzip", "gzip stream is truncated");
    copy_damaged("train-images-idx3-ubyte.gz", "corrupt-gzip", 0, 1500);
    expect_images_rejected("corrupt-gzip", "corrupt gzip data");
    expect_images_rejected("no-such-file", "no such file");

    /* Malformed label files. */
    unsigned char bad_labels[N] = { 0, 1, 10, 2, 3 };
    write_idx("label-ten", 0, 2049, label_dims, 1, bad_labels, N);
    expect_labels_rejected("label-ten", "label 10 at index 2 is not a class 0..9");
    write_idx("label-magic", 0, 2051, label_dims, 1, labels, N);
    expect_labels_rejected("label-magic", "bad magic number 2051");
    write_idx("label-short", 1, 2049, (uint32_t[]){ N + 2 }, 1, labels, N);
    expect_labels_rejected("label-short", "file ends after 5 of the 7 bytes");

    /* A dataset whose image and label counts differ. */
    char sub[600];
    snprintf(sub, sizeof sub, "%s/mismatch", dir);
    mkdir(sub, 0700);
    write_idx("mismatch/train-images-idx3-ubyte", 0, 2051, image_dims, 3, pixels, sizeof pixels);
    write_idx("mismatch/train-labels-idx1-ubyte", 0, 2049, (uint32_t[]){ N - 1 }, 1, labels, N - 1);
    status = fcnn_dataset_load(sub, FCNN_TRAINING_SET, 0, &train);
    EXPECT(status != FCNN_OK && strstr(fcnn_last_error(), "holds 5 images but") &&
               strstr(fcnn_last_error(), "holds 4 labels"),
           "count mismatch: %s", fcnn_last_error());

    /* A missing directory names the package that provides the data. */
    status = fcnn_dataset_load("/nonexistent/fcnn-data", FCNN_TRAINING_SET, 0, &train);
    EXPECT(status != FCNN_OK && strstr(fcnn_last_error(), "/nonexistent/fcnn-data") &&
               strstr(fcnn_last_error(), "dataset-fashion-mnist"),
           "missing directory: %s", fcnn_last_error());
    /* A directory without the files names the file it looked for. */
    snprintf(sub, sizeof sub, "%s/empty", dir);
    mkdir(sub, 0700);
    status = fcnn_dataset_load(sub, FCNN_TEST_SET, 0, &test);
    EXPECT(status != FCNN_OK && strstr(fcnn_last_error(), "t10k-images-idx3-ubyte.gz: no such file"),
           "missing file: %s", fcnn_last_error());

    char command[700];
    snprintf(command, sizeof command, "rm -rf '%s'", dir);
    if (system(command) != 0)
        fprintf(stderr, "warning: could not remove %s\n", dir);
    if (failures)
        fprintf(stderr, "%d failure(s)\n", failures);
    else
        printf("IDX loader: all checks passed\n");
    return failures ? 1 : 0;
}
