/* Tests of the PNG plots: each function writes a real PNG of the expected pixel size,
 * says nothing on stderr, leaves PLplot's current stream as it was, and rejects bad
 * arguments and unwritable paths with a status. Exit 77 (skip) without PLplot.
 *
 * Set FCNN_PLOT_KEEP=DIR to write the plots there too, to look at them. */
#include <config.h>

#include <stdio.h>

#ifndef HAVE_PLPLOT
int main(void)
{
    puts("SKIP: built without PLplot, no plots");
    return 77;
}
#else

#include <dirent.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <plplot.h>

#include "report/plot.h"
#include "core/status.h"

#if defined(__SANITIZE_ADDRESS__)
/* LeakSanitizer: fontconfig, which pango loads under PLplot's cairo driver, keeps its
 * font caches for the life of the process and never frees them; that is not ours to fix.
 * (The fcnn binary needs the same suppression when it plots under the sanitizers.) */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig.so\n";
}
#endif

static int failures;

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);        \
            failures++;                                                                    \
        }                                                                                  \
    } while (0)

static const char *const fashion_names[10] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot",
};

/* A PNG: the signature, an IHDR chunk with the expected size, and more than a blank
 * page's worth of bytes (a white 900x600 PNG compresses to a few hundred bytes). */
static void check_png(const char *path, unsigned width, unsigned height)
{
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (!f)
        return;
    unsigned char head[24] = {0};
    size_t got = fread(head, 1, sizeof head, f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    CHECK(got == sizeof head && !memcmp(head, signature, 8));
    CHECK(!memcmp(head + 12, "IHDR", 4));
    unsigned w = (unsigned)head[16] << 24 | head[17] << 16 | head[18] << 8 | head[19];
    unsigned h = (unsigned)head[20] << 24 | head[21] << 16 | head[22] << 8 | head[23];
    CHECK(w == width && h == height);
    CHECK(size > 8000);
    if (w != width || h != height || size <= 8000)
        fprintf(stderr, "%s: %ux%u, %ld bytes\n", path, w, h, size);
}

/* Synthetic 28x28 images, one per class shape family, so the grid has something to show
 * without the dataset: a filled ellipse whose proportions depend on the label. */
static void make_image(uint8_t *px, int label)
{
    double rx = 4.0 + label % 5 * 2.0, ry = 12.0 - label % 4 * 2.0;
    for (int y = 0; y < 28; y++)
        for (int x = 0; x < 28; x++) {
            double dx = (x - 13.5) / rx, dy = (y - 13.5) / ry, d = dx * dx + dy * dy;
            px[y * 28 + x] = d < 1.0 ? (uint8_t)(255 - 120 * d - (x + y) % 3 * 20) : 0;
        }
}

/* Runs with stderr sent to a file, and checks that nothing was written there. */
static int stderr_fd = -1;
static char stderr_path[600];

static void quiet_begin(const char *dir)
{
    snprintf(stderr_path, sizeof stderr_path, "%s/stderr.txt", dir);
    fflush(stderr);
    stderr_fd = dup(2);
    if (!freopen(stderr_path, "w", stderr))
        stderr_fd = -1;
}

static void quiet_end(void)
{
    if (stderr_fd < 0)
        return;
    fflush(stderr);
    dup2(stderr_fd, 2);
    close(stderr_fd);
    stderr_fd = -1;
    struct stat st;
    CHECK(stat(stderr_path, &st) == 0 && st.st_size == 0);
    if (st.st_size > 0) {
        char buf[512] = {0};
        FILE *f = fopen(stderr_path, "r");
        if (f) {
            size_t n = fread(buf, 1, sizeof buf - 1, f);
            buf[n] = '\0';
            fclose(f);
        }
        fprintf(stderr, "plotting wrote to stderr: %s\n", buf);
    }
    unlink(stderr_path);
}

static void draw_all(const char *dir)
{
    char path[700];
    double loss[12], acc[12], val_loss[12], val_acc[12];
    for (int i = 0; i < 12; i++) {
        loss[i] = 0.55 * exp(-0.25 * i) + 0.18;
        acc[i] = 0.94 - 0.14 * exp(-0.35 * i);
        val_loss[i] = 0.42 * exp(-0.2 * i) + 0.24 + 0.004 * i * i / 4;
        val_acc[i] = 0.915 - 0.07 * exp(-0.3 * i) - 0.0005 * i;
    }
    struct fcnn_plot_series s = {12, loss, acc, val_loss, val_acc};
    CHECK(fcnn_plot_history(dir, &s) == FCNN_OK);
    snprintf(path, sizeof path, "%s/accuracy.png", dir);
    check_png(path, 900, 600);
    snprintf(path, sizeof path, "%s/loss.png", dir);
    check_png(path, 900, 600);

    /* Test-set counts shaped like a trained model's: strong diagonal, shirts confused. */
    int matrix[100];
    for (int r = 0; r < 10; r++)
        for (int c = 0; c < 10; c++)
            matrix[r * 10 + c] = r == c ? 820 + 17 * ((r * 7) % 10) : (r * 3 + c * 5) % 9;
    matrix[6 * 10 + 0] = 112;
    matrix[6 * 10 + 6] = 690;
    matrix[0 * 10 + 6] = 95;
    matrix[4 * 10 + 2] = 61;
    snprintf(path, sizeof path, "%s/confusion.png", dir);
    CHECK(fcnn_plot_confusion(path, matrix, fashion_names, 10) == FCNN_OK);
    check_png(path, 1000, 950);

    static uint8_t images[25 * 28 * 28];
    int truth[25], pred[25];
    for (int i = 0; i < 25; i++) {
        truth[i] = (i * 7) % 10;
        pred[i] = i % 6 == 3 ? (truth[i] + 4) % 10 : truth[i];
        make_image(images + i * 28 * 28, truth[i]);
    }
    snprintf(path, sizeof path, "%s/predictions.png", dir);
    CHECK(fcnn_plot_predictions(path, images, truth, pred, fashion_names, 10, 25) == FCNN_OK);
    check_png(path, 1100, 1150);
}

/* Edge cases that must still draw: one epoch, no validation, a diverged value, unnamed
 * classes, an empty matrix, fewer than 25 images. */
static void draw_edge_cases(const char *dir)
{
    char path[700];
    double one[1] = {0.5};
    struct fcnn_plot_series single = {1, one, one, NULL, NULL};
    CHECK(fcnn_plot_history(dir, &single) == FCNN_OK);
    snprintf(path, sizeof path, "%s/loss.png", dir);
    check_png(path, 900, 600);

    double loss[3] = {0.6, NAN, 0.4}, acc[3] = {0.7, 0.8, INFINITY};
    struct fcnn_plot_series diverged = {3, loss, acc, loss, acc};
    CHECK(fcnn_plot_history(dir, &diverged) == FCNN_OK);

    int zeros[9] = {0};
    snprintf(path, sizeof path, "%s/confusion-empty.png", dir);
    CHECK(fcnn_plot_confusion(path, zeros, NULL, 3) == FCNN_OK);
    check_png(path, 1000, 950);

    static uint8_t images[3 * 28 * 28];
    int truth[3] = {0, 1, 2}, pred[3] = {0, 2, 2};
    for (int i = 0; i < 3; i++)
        make_image(images + i * 28 * 28, truth[i]);
    snprintf(path, sizeof path, "%s/predictions-few.png", dir);
    CHECK(fcnn_plot_predictions(path, images, truth, pred, NULL, 3, 3) == FCNN_OK);
    check_png(path, 1100, 1150);
}

static void check_errors(const char *dir)
{
    char path[700];
    snprintf(path, sizeof path, "%s/no-such-dir", dir);
    double v[2] = {0.5, 0.4};
    struct fcnn_plot_series s = {2, v, v, NULL, NULL};
    CHECK(fcnn_plot_history(path, &s) == FCNN_ERR_IO);
    CHECK(strstr(fcnn_last_error(), "no-such-dir/accuracy.png") != NULL);
    CHECK(strstr(fcnn_last_error(), "No such file") != NULL);

    struct fcnn_plot_series none = {0, v, v, NULL, NULL};
    CHECK(fcnn_plot_history(dir, &none) == FCNN_ERR_INVALID);
    double nan2[2] = {NAN, NAN};
    struct fcnn_plot_series all_nan = {2, nan2, nan2, NULL, NULL};
    CHECK(fcnn_plot_history(dir, &all_nan) == FCNN_ERR_INVALID);
    CHECK(strstr(fcnn_last_error(), "no finite values") != NULL);

    int negative[4] = {1, -1, 0, 2};
    snprintf(path, sizeof path, "%s/bad.png", dir);
    CHECK(fcnn_plot_confusion(path, negative, NULL, 2) == FCNN_ERR_INVALID);
    CHECK(strstr(fcnn_last_error(), "negative count") != NULL);

    static uint8_t images[28 * 28];
    int truth[1] = {0}, pred[1] = {10};
    CHECK(fcnn_plot_predictions(path, images, truth, pred, fashion_names, 10, 1) ==
          FCNN_ERR_INVALID);
    CHECK(strstr(fcnn_last_error(), "label outside 0..9") != NULL);
    CHECK(fcnn_plot_predictions(path, images, truth, truth, fashion_names, 10, 26) ==
          FCNN_ERR_INVALID);
    CHECK(access(path, F_OK) != 0); /* rejected before any file was created */
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d));) {
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

int main(void)
{
    const char *base = getenv("TMPDIR");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/fcnn-plot-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 99;
    }
    PLINT stream_before = -1, stream_after = -2;
    plgstrm(&stream_before);

    quiet_begin(dir);
    draw_all(dir);
    draw_edge_cases(dir);
    check_errors(dir);
    quiet_end();
    plgstrm(&stream_after);
    CHECK(stream_before == stream_after);

    const char *keep = getenv("FCNN_PLOT_KEEP");
    if (keep && *keep)
        draw_all(keep);
    remove_dir(dir);
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    puts("all plot checks passed");
    return 0;
}
#endif
