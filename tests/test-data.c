/* The data sources: IDX sets of other shapes and class counts, image folders written here
 * with libpng and libjpeg (good, truncated, not an image, mixed sizes, an empty class,
 * an unknown test class), class names, resizing and channel conversion, and the
 * validation split (sizes, disjointness, same seed same split). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/status.h"
#include "data/image.h"
#include "data/source.h"

#include "expect.h"

static char dir[] = "/tmp/fcnn-test-data-XXXXXX";

static void put_u32(unsigned char *b, uint32_t v)
{
    b[0] = (unsigned char)(v >> 24);
    b[1] = (unsigned char)(v >> 16);
    b[2] = (unsigned char)(v >> 8);
    b[3] = (unsigned char)v;
}

static void write_idx(const char *path, uint32_t magic, const uint32_t *dims, int ndims,
                      const uint8_t *data, size_t len)
{
    gzFile gz = gzopen(path, "wb");
    unsigned char header[20];
    put_u32(header, magic);
    for (int i = 0; i < ndims; i++)
        put_u32(header + 4 + 4 * i, dims[i]);
    gzwrite(gz, header, 4 + 4 * (unsigned)ndims);
    gzwrite(gz, data, (unsigned)len);
    gzclose(gz);
}

static void sub(const char *name, char *path, size_t size)
{
    snprintf(path, size, "%s/%s", dir, name);
}

/* An IDX set in dir/name: n train and n test samples of rows x cols x channels, sample i
 * filled with i (so samples can be told apart) and labelled i % classes. */
static void make_idx_set(const char *name, int rows, int cols, int channels, int classes, int n)
{
    char path[600], file[700];
    sub(name, path, sizeof path);
    mkdir(path, 0700);
    size_t sample = (size_t)rows * cols * channels;
    uint8_t *images = malloc(sample * (size_t)n), *labels = malloc((size_t)n);
    for (int i = 0; i < n; i++) {
        memset(images + sample * (size_t)i, i & 0xff, sample);
        images[sample * (size_t)i] = (uint8_t)(i >> 8); /* unique beyond 256 samples */
        labels[i] = (uint8_t)(i % classes);
    }
    uint32_t dims[4] = { (uint32_t)n, (uint32_t)rows, (uint32_t)cols, (uint32_t)channels };
    const char *prefixes[2] = { "train", "t10k" };
    for (int p = 0; p < 2; p++) {
        snprintf(file, sizeof file, "%s/%s-images-idx%d-ubyte.gz", path, prefixes[p],
                 channels > 1 ? 4 : 3);
        write_idx(file, channels > 1 ? 2052 : 2051, dims, channels > 1 ? 4 : 3, images,
                  sample * (size_t)n);
        snprintf(file, sizeof file, "%s/%s-labels-idx1-ubyte.gz", path, prefixes[p]);
        write_idx(file, 2049, dims, 1, labels, (size_t)n);
    }
    free(images);
    free(labels);
}

static struct fcnn_data_options options(const char *name)
{
    static char path[600];
    sub(name, path, sizeof path);
    return (struct fcnn_data_options){ .dir = path, .need_train = true, .seed = 42 };
}

static void test_idx_shapes(void)
{
    struct fcnn_data d;
    make_idx_set("small", 8, 8, 1, 47, 94);
    struct fcnn_data_options o = options("small");
    int status = fcnn_data_load(&o, &d);
    EXPECT(status == FCNN_OK, "8x8, 47 classes: %s", fcnn_last_error());
    if (status == FCNN_OK) {
        EXPECT(d.rows == 8 && d.cols == 8 && d.channels == 1, "8x8 shape %dx%dx%d", d.rows, d.cols,
               d.channels);
        EXPECT(d.classes == 47 && d.names.count == 47, "47 classes, got %d", d.classes);
        EXPECT(!strcmp(d.names.names[0], "0") && !strcmp(d.names.names[46], "46"),
               "IDX without names is numbered, got '%s'", d.names.names[46]);
        EXPECT(!d.fashion_mnist, "8x8 data taken for Fashion-MNIST");
        EXPECT(d.train.count == 94 && d.test.count == 94, "counts %d %d", d.train.count,
               d.test.count);
        fcnn_data_free(&d);
    }

    make_idx_set("rgb", 32, 32, 3, 4, 20);
    o = options("rgb");
    o.train_limit = 7;
    status = fcnn_data_load(&o, &d);
    EXPECT(status == FCNN_OK, "32x32x3: %s", fcnn_last_error());
    if (status == FCNN_OK) {
        EXPECT(d.rows == 32 && d.channels == 3 && d.classes == 4, "32x32x3 read as %dx%dx%d, %d "
               "classes", d.rows, d.cols, d.channels, d.classes);
        EXPECT(d.train.count == 7 && d.train.images[3072 * 6 + 1] == 6, "train limit 7: %d",
               d.train.count);
        fcnn_data_free(&d);
    }

    /* A label above K: --classes 3 with labels up to 3 names the file. */
    o = options("rgb");
    o.classes = 3;
    status = fcnn_data_load(&o, &d);
    EXPECT(status != FCNN_OK && strstr(fcnn_last_error(), "train-labels-idx1-ubyte.gz") &&
               strstr(fcnn_last_error(), "label 3 at index 3 is not a class 0..2"),
           "label above K: %s", fcnn_last_error());

    /* Class names from a file: as many as the classes, or refused. */
    char names[600];
    sub("names.txt", names, sizeof names);
    FILE *f = fopen(names, "w");
    fprintf(f, "a cat\na dog\nan extraordinarily long class name that goes on and on\nbird\n");
    fclose(f);
    o = options("rgb");
    o.class_names_path = names;
    status = fcnn_data_load(&o, &d);
    EXPECT(status == FCNN_OK && d.classes == 4 && !strcmp(d.names.names[1], "a dog"),
           "--class-names: %s", fcnn_last_error());
    if (status == FCNN_OK)
        fcnn_data_free(&d);
    o = options("small");
    o.class_names_path = names;
    status = fcnn_data_load(&o, &d);
    EXPECT(status != FCNN_OK && strstr(fcnn_last_error(), names) &&
               strstr(fcnn_last_error(), "4 class names, but the labels go up to 46"),
           "too few names: %s", fcnn_last_error());

    /* Fashion-MNIST's names for Fashion-MNIST alone. */
    const char *fashion = "/usr/share/datasets/fashion-mnist";
    if (access(fashion, R_OK) == 0) {
        o = (struct fcnn_data_options){ .dir = fashion, .need_train = true, .train_limit = 100,
                                        .test_limit = 100 };
        status = fcnn_data_load(&o, &d);
        EXPECT(status == FCNN_OK && d.fashion_mnist && !strcmp(d.names.names[9], "Ankle boot"),
               "Fashion-MNIST's names: %s", fcnn_last_error());
        if (status == FCNN_OK)
            fcnn_data_free(&d);
    }
    make_idx_set("mnist-like", 28, 28, 1, 10, 30);
    o = options("mnist-like");
    status = fcnn_data_load(&o, &d);
    EXPECT(status == FCNN_OK && !d.fashion_mnist && !strcmp(d.names.names[9], "9"),
           "28x28 data that is not Fashion-MNIST gets numbers: %s", fcnn_last_error());
    if (status == FCNN_OK)
        fcnn_data_free(&d);
}

static void test_validation_split(void)
{
    struct fcnn_data a, b, c;
    struct fcnn_data_options o = options("small");
    o.validation_split = 0.25;
    int sa = fcnn_data_load(&o, &a), sb = fcnn_data_load(&o, &b);
    o.seed = 43;
    int sc = fcnn_data_load(&o, &c);
    EXPECT(sa == FCNN_OK && sb == FCNN_OK && sc == FCNN_OK, "split: %s", fcnn_last_error());
    if (sa || sb || sc)
        return;
    EXPECT(a.val.count == 23 && a.train.count == 71, "0.25 of 94: %d val, %d train", a.val.count,
           a.train.count);
    /* Each sample's first two bytes say which it was: every one is in exactly one part. */
    int seen[94] = { 0 };
    size_t s = 64;
    for (int i = 0; i < a.train.count; i++)
        seen[a.train.images[s * i] * 256 + a.train.images[s * i + 1]]++;
    for (int i = 0; i < a.val.count; i++)
        seen[a.val.images[s * i] * 256 + a.val.images[s * i + 1]] += 10;
    int in_train = 0, in_val = 0;
    for (int i = 0; i < 94; i++) {
        EXPECT(seen[i] == 1 || seen[i] == 10, "sample %d appears %d times", i, seen[i]);
        in_train += seen[i] == 1;
        in_val += seen[i] == 10;
    }
    EXPECT(in_train == 71 && in_val == 23, "parts: %d and %d", in_train, in_val);
    for (int i = 0; i < a.val.count; i++) {
        int id = a.val.images[s * i] * 256 + a.val.images[s * i + 1];
        EXPECT(a.val.labels[i] == id % 47, "validation sample %d lost its label", id);
    }
    EXPECT(memcmp(a.val.images, b.val.images, s * 23) == 0 &&
               memcmp(a.train.images, b.train.images, s * 71) == 0,
           "same seed, different split");
    EXPECT(memcmp(a.val.images, c.val.images, s * 23) != 0, "another seed, the same split");
    EXPECT(a.test.count == 94, "the test set is untouched: %d", a.test.count);
    fcnn_data_free(&a);
    fcnn_data_free(&b);
    fcnn_data_free(&c);

    struct fcnn_dataset one = { 0 }, val;
    o = options("small");
    o.train_limit = 1;
    o.validation_split = 0.5;
    int status = fcnn_data_load(&o, &a);
    EXPECT(status != FCNN_OK && strstr(fcnn_last_error(), "--validation-split"),
           "a split of one sample: %s", fcnn_last_error());
    (void)one, (void)val;
}

/* A w x h image with a gradient, as PNG or JPEG. */
static void write_picture(const char *path, int rows, int cols, int channels, int seed, bool jpeg)
{
    struct fcnn_image img = { rows, cols, channels, malloc((size_t)rows * cols * channels) };
    for (int i = 0; i < rows * cols * channels; i++)
        img.pixels[i] = (uint8_t)(i * 7 + seed * 31);
    int status = jpeg ? fcnn_jpeg_write(path, &img, 95) : fcnn_png_write(path, &img);
    EXPECT(status == FCNN_OK, "writing %s: %s", path, fcnn_last_error());
    free(img.pixels);
}

static void mkdirs(const char *a, const char *b, const char *c)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, a);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/%s/%s", dir, a, b);
    mkdir(path, 0700);
    if (c) {
        snprintf(path, sizeof path, "%s/%s/%s/%s", dir, a, b, c);
        mkdir(path, 0700);
    }
}

static void picture(const char *rel, int rows, int cols, int channels, int seed)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    write_picture(path, rows, cols, channels, seed, strstr(rel, ".jpg") != NULL);
}

static void test_folders(void)
{
    if (!fcnn_png_available() || !fcnn_jpeg_available()) {
        printf("skip image folders: this build has no libpng or libjpeg\n");
        return;
    }
    /* A good set: two classes in train, one of them in test; PNG and JPEG. */
    mkdirs("img", "train", "zebra");
    mkdirs("img", "train", "ant");
    mkdirs("img", "test", "ant");
    picture("img/train/zebra/1.png", 6, 5, 1, 1);
    picture("img/train/zebra/2.jpg", 6, 5, 1, 2);
    picture("img/train/ant/a.png", 6, 5, 1, 3);
    picture("img/test/ant/t.png", 6, 5, 1, 4);
    char notes[700];
    snprintf(notes, sizeof notes, "%s/img/train/ant/README.txt", dir);
    FILE *f = fopen(notes, "w");
    fprintf(f, "not an image, and not named like one: ignored\n");
    fclose(f);

    struct fcnn_data d;
    struct fcnn_data_options o = options("img");
    int status = fcnn_data_load(&o, &d);
    EXPECT(status == FCNN_OK, "image folders: %s", fcnn_last_error());
    if (status == FCNN_OK) {
        EXPECT(d.kind == FCNN_SOURCE_FOLDER && d.classes == 2 && !strcmp(d.names.names[0], "ant") &&
                   !strcmp(d.names.names[1], "zebra"),
               "classes are the sorted folder names");
        EXPECT(d.rows == 6 && d.cols == 5 && d.channels == 1, "shape %dx%dx%d", d.rows, d.cols,
               d.channels);
        EXPECT(d.train.count == 3 && d.test.count == 1, "counts %d and %d", d.train.count,
               d.test.count);
        EXPECT(d.train.labels[0] == 0 && d.train.labels[1] == 1 && d.train.labels[2] == 1,
               "labels follow the folders");
        /* PNG is lossless: ant/a.png's pixels come back exactly. */
        bool exact = true;
        for (int i = 0; i < 30; i++)
            exact &= d.train.images[i] == (uint8_t)(i * 7 + 3 * 31);
        EXPECT(exact, "PNG pixels changed");
        fcnn_data_free(&d);
    }
    o.color_mode = FCNN_COLOR_RGB;
    status = fcnn_data_load(&o, &d);
    EXPECT(status == FCNN_OK && d.channels == 3 && d.train.images[0] == d.train.images[1] &&
               d.train.images[1] == d.train.images[2],
           "rgb from gray: %s", fcnn_last_error());
    if (status == FCNN_OK)
        fcnn_data_free(&d);

    /* Mixed sizes: refused naming the file, or resized with --image-size. */
    picture("img/train/zebra/3.png", 9, 9, 3, 5);
    o = options("img");
    status = fcnn_data_load(&o, &d);
    EXPECT(status != FCNN_OK && strstr(fcnn_last_error(), "zebra/3.png: image is 9x9, not 6x5"),
           "mixed sizes: %s", fcnn_last_error());
    o.image_rows = 4;
    o.image_cols = 4;
    status = fcnn_data_load(&o, &d);
    EXPECT(status == FCNN_OK && d.rows == 4 && d.cols == 4 && d.channels == 1 &&
               d.train.count == 4,
           "--image-size 4x4: %s", fcnn_last_error());
    if (status == FCNN_OK)
        fcnn_data_free(&d);

    /* A truncated PNG and a text file named .jpg: one line naming the file, or skipped. */
    char path[700];
    snprintf(path, sizeof path, "%s/img/train/zebra/3.png", dir);
    unlink(path);
    picture("img/train/zebra/4.png", 6, 5, 1, 6);
    snprintf(path, sizeof path, "%s/img/train/zebra/4.png", dir);
    if (truncate(path, 40) != 0)
        perror("truncate");
    o = options("img");
    status = fcnn_data_load(&o, &d);
    EXPECT(status != FCNN_OK && strstr(fcnn_last_error(), "zebra/4.png") &&
               !strchr(fcnn_last_error(), '\n'),
           "truncated PNG: %s", fcnn_last_error());
    snprintf(path, sizeof path, "%s/img/train/zebra/5.jpg", dir);
    f = fopen(path, "w");
    fprintf(f, "this is text\n");
    fclose(f);
    o.skip_bad_images = true;
    status = fcnn_data_load(&o, &d);
    EXPECT(status == FCNN_OK && d.skipped.count == 2 && d.train.count == 3 &&
               strstr(d.skipped.lines[0], "4.png") && strstr(d.skipped.lines[1], "5.jpg") &&
               strstr(d.skipped.lines[1], "not a PNG, JPEG or binary PGM"),
           "--skip-bad-images: %s (%d skipped)", fcnn_last_error(), d.skipped.count);
    if (status == FCNN_OK)
        fcnn_data_free(&d);
    o.skip_bad_images = false;
    unlink(path);
    snprintf(path, sizeof path, "%s/img/train/zebra/4.png", dir);
    unlink(path);

    /* An empty class folder in train; a test class the training set lacks. */
    mkdirs("img", "train", "empty");
    status = fcnn_data_load(&o, &d);
    EXPECT(status != FCNN_OK && strstr(fcnn_last_error(), "train/empty: class folder holds no images"),
           "empty class: %s", fcnn_last_error());
    snprintf(path, sizeof path, "%s/img/train/empty", dir);
    rmdir(path);
    mkdirs("img", "test", "moth");
    status = fcnn_data_load(&o, &d);
    EXPECT(status != FCNN_OK && strstr(fcnn_last_error(), "test/moth: class folder not among"),
           "unknown test class: %s", fcnn_last_error());
}

static void test_pixels(void)
{
    /* Resizing keeps a constant image constant and a 2x2 up to 4x4 interpolates. */
    uint8_t px[4] = { 0, 100, 200, 40 };
    struct fcnn_image img = { 2, 2, 1, malloc(4) };
    memcpy(img.pixels, px, 4);
    EXPECT(fcnn_image_resize(&img, 4, 4) == FCNN_OK, "resize: %s", fcnn_last_error());
    /* Pixel centres: (0,0) of the output maps to -0.25, clamped to 0: the corner value;
     * (0,1) maps to x = 0.25: 0 * 0.75 + 100 * 0.25 = 25. */
    EXPECT(img.pixels[0] == 0 && img.pixels[1] == 25 && img.pixels[3] == 100 &&
               img.pixels[15] == 40,
           "bilinear values %d %d %d %d", img.pixels[0], img.pixels[1], img.pixels[3],
           img.pixels[15]);
    EXPECT(fcnn_image_to_channels(&img, 3) == FCNN_OK && img.channels == 3 &&
               img.pixels[3] == 25 && img.pixels[5] == 25,
           "gray to rgb");
    EXPECT(fcnn_image_to_channels(&img, 1) == FCNN_OK && img.pixels[1] == 25, "rgb to gray");

    /* PGM: written and read back exactly; a comment and a maximum of 15 scale to 255;
     * a truncated one names the file. */
    char path[700];
    snprintf(path, sizeof path, "%s/a.pgm", dir);
    EXPECT(fcnn_pgm_write(path, &img) == FCNN_OK, "pgm write: %s", fcnn_last_error());
    struct fcnn_image back;
    EXPECT(fcnn_image_read(path, &back) == FCNN_OK && back.rows == 4 && back.cols == 4 &&
               back.channels == 1 && memcmp(back.pixels, img.pixels, 16) == 0,
           "pgm read back: %s", fcnn_last_error());
    fcnn_image_free(&back);
    fcnn_image_free(&img);
    FILE *f = fopen(path, "wb");
    fprintf(f, "P5 # two by one\n2 1\n15\n");
    fputc(15, f);
    fputc(5, f);
    fclose(f);
    EXPECT(fcnn_image_read(path, &back) == FCNN_OK && back.pixels[0] == 255 && back.pixels[1] == 85,
           "pgm with maximum 15: %s", fcnn_last_error());
    fcnn_image_free(&back);
    f = fopen(path, "wb");
    fprintf(f, "P5\n2 2\n255\n");
    fputc(1, f);
    fclose(f);
    EXPECT(fcnn_image_read(path, &back) != FCNN_OK && strstr(fcnn_last_error(), path) &&
               strstr(fcnn_last_error(), "PGM data is truncated"),
           "truncated pgm: %s", fcnn_last_error());

    /* A file that is no image, under a name with a line break: still one line, naming it. */
    snprintf(path, sizeof path, "%s/two\nlines.png", dir);
    f = fopen(path, "wb");
    fprintf(f, "text\n");
    fclose(f);
    EXPECT(fcnn_image_read(path, &back) != FCNN_OK && !strchr(fcnn_last_error(), '\n') &&
               strstr(fcnn_last_error(), "two\\nlines.png") &&
               strstr(fcnn_last_error(), "not a PNG, JPEG or binary PGM image"),
           "not an image, odd name: %s", fcnn_last_error());
    remove(path);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 99;
    }
    test_idx_shapes();
    test_validation_split();
    test_folders();
    test_pixels();
    char command[700];
    snprintf(command, sizeof command, "rm -rf '%s'", dir);
    if (system(command) != 0)
        fprintf(stderr, "warning: could not remove %s\n", dir);
    if (failures)
        fprintf(stderr, "%d failure(s)\n", failures);
    else
        printf("data sources: all checks passed\n");
    return failures ? 1 : 0;
}
