/* PNG plots with PLplot (pngcairo): training history, confusion matrix, predictions.
 *
 * PLplot keeps global state and calls exit() on fatal errors (a missing device, an
 * unopenable file), so everything that could be fatal is checked here first: the device
 * is looked up before plinit and the output file is opened by us and handed over with
 * plsfile. Recoverable PLplot errors go to a per-stream buffer (plsError) instead of
 * stderr, and become our one-line error. */
#include <config.h>

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <plplot.h>

#include "report/plot.h"
#include "core/fault.h"
#include "core/file.h"
#include "core/quote.h"
#include "core/status.h"

/* Our cmap0 palette (cmap0 index 0 is the background). */
enum colour {
    C_WHITE,  /* background, and text on dark cells */
    C_BLACK,  /* axes, labels, text */
    C_GRID,   /* light grey grid lines */
    C_TRAIN,  /* blue: training curves */
    C_VAL,    /* orange: validation curves */
    C_WRONG,  /* red: mispredictions */
    C_COLOURS
};

bool fcnn_plots_available(void)
{
    return true;
}

static void set_palette(void)
{
    static const PLINT rgb[C_COLOURS][3] = {
        [C_WHITE] = {255, 255, 255}, [C_BLACK] = {0, 0, 0},     [C_GRID] = {220, 220, 220},
        [C_TRAIN] = {31, 119, 180},  [C_VAL] = {255, 127, 14}, [C_WRONG] = {214, 39, 40},
    };
    plscmap0n(C_COLOURS);
    for (int i = 0; i < C_COLOURS; i++)
        plscol0(i, rgb[i][0], rgb[i][1], rgb[i][2]);
}

/* ---- one PLplot stream per file ---------------------------------------------------- */

struct plot {
    const char *path;
    char *png;             /* the PNG PLplot wrote, in memory, written out atomically */
    size_t png_size;
    PLINT previous_stream; /* restored when the plot ends */
    PLINT errcode;         /* set by PLplot through plsError */
    char errmsg[1024];     /* PLplot needs at least 160 bytes */
};

static bool have_pngcairo(void)
{
    enum { MAX_DEVICES = 128 };
    const char *menu_storage[MAX_DEVICES], *name_storage[MAX_DEVICES];
    const char **menu = menu_storage, **names = name_storage;
    int n = MAX_DEVICES; /* in: room in the arrays; out: devices found */
    plgDevs(&menu, &names, &n);
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], "pngcairo"))
            return true;
    return false;
}

/* Opens `path` for a width x height pixel PNG on a fresh stream with a white page. */
static int plot_begin(struct plot *p, const char *path, int width, int height)
{
    memset(p, 0, sizeof *p);
    p->path = path;
    if (!have_pngcairo())
        return fcnn_error(FCNN_ERR_UNSUPPORTED, "%s: PLplot has no pngcairo device "
                          "(install plplot-driver-cairo)", fcnn_quote(path));
    /* PLplot writes into memory: it closes the file itself and cannot report a failed
     * write, so the file on disk is written by us, atomically, with every error checked. */
    FILE *f = open_memstream(&p->png, &p->png_size);
    if (!f)
        return fcnn_error(FCNN_ERR_NOMEM, "%s: %s", fcnn_quote(path), strerror(errno));

    plgstrm(&p->previous_stream);
    PLINT stream = -1;
    plmkstrm(&stream);
    if (stream < 0) {
        fclose(f);
        free(p->png);
        plsstrm(p->previous_stream);
        return fcnn_error(FCNN_ERR_UNSUPPORTED, "%s: no free PLplot stream", fcnn_quote(path));
    }
    plsError(&p->errcode, p->errmsg);
    plsdev("pngcairo");
    plsfile(f); /* PLplot closes it in plend1 */
    plspage(0.0, 0.0, width, height, 0, 0);
    set_palette();
    plinit();
    pladv(0);
    return FCNN_OK;
}

/* Ends the stream (which draws the PNG into memory), restores the previous stream, checks
 * that a PNG arrived and writes it to the file through a temporary file and rename. */
static int plot_end(struct plot *p)
{
    plend1(); /* closes the memory stream, which sets p->png and p->png_size */
    plsstrm(p->previous_stream);
    int status = FCNN_OK;
    static const unsigned char png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    int injected = fcnn_fault_write("plot"); /* the tests' full disk (core/fault.h) */
    if (injected) {
        status = fcnn_error(FCNN_ERR_IO, "%s: cannot write: %s", fcnn_quote(p->path),
                            strerror(injected));
    } else if (p->errcode) {
        /* PLplot's message is framed by newlines; keep our error to one line. */
        for (char *c = p->errmsg; *c; c++)
            if (*c == '\n')
                *c = ' ';
        status = fcnn_error(FCNN_ERR_IO, "%s: PLplot failed:%s", fcnn_quote(p->path), p->errmsg);
    } else if (!p->png || p->png_size < 8 || memcmp(p->png, png_signature, 8) != 0) {
        status = fcnn_error(FCNN_ERR_IO, "%s: PLplot did not draw a PNG image",
                            fcnn_quote(p->path));
    } else {
        status = fcnn_file_write_all(p->path, "plot", p->png, p->png_size);
    }
    free(p->png);
    p->png = NULL;
    return status;
}

/* Writes `text` anchored at (x, y) in normalised page coordinates [0,1] x [0,1], at
 * `angle` degrees; `just` says which point of the text sits on the anchor (0 its start,
 * 0.5 its middle, 1 its end), and it is centred vertically. Used for labels that
 * lie outside the plot viewport, where plmtex cannot rotate freely. It changes the
 * viewport and window, so callers restore their own afterwards. */
static void page_text(double x, double y, double angle, double just, const char *text,
                      double page_aspect)
{
    plvpor(0.0, 1.0, 0.0, 1.0);
    plwind(0.0, page_aspect, 0.0, 1.0); /* square units, so the angle is true */
    double rad = angle * M_PI / 180.0;
    plptex(x * page_aspect, y, cos(rad), sin(rad), just, text);
}

/* The width of `chars` characters at the current character size, as a fraction of the
 * page width. PLplot has no text-measuring call; in the sans font pngcairo uses, the
 * average character is about 0.62 of the character height, so 0.65 errs on the roomy
 * side. */
static double text_width(size_t chars)
{
    PLFLT default_mm, height_mm, x0, x1, y0, y1;
    plgchr(&default_mm, &height_mm);
    plgspa(&x0, &x1, &y0, &y1);
    return 0.65 * height_mm * (double)chars / (x1 - x0);
}

/* The character height as a fraction of the page height. */
static double text_height(void)
{
    PLFLT default_mm, height_mm, x0, x1, y0, y1;
    plgchr(&default_mm, &height_mm);
    plgspa(&x0, &x1, &y0, &y1);
    return height_mm / (y1 - y0);
}

/* ---- training history -------------------------------------------------------------- */

/* Range of the finite values of up to two series, padded so curves clear the frame. */
static bool value_range(const double *a, const double *b, int n, double *lo, double *hi)
{
    double min = INFINITY, max = -INFINITY;
    for (int i = 0; i < n; i++) {
        if (a && isfinite(a[i])) {
            min = fmin(min, a[i]);
            max = fmax(max, a[i]);
        }
        if (b && isfinite(b[i])) {
            min = fmin(min, b[i]);
            max = fmax(max, b[i]);
        }
    }
    if (min > max)
        return false;
    double pad = max > min ? 0.08 * (max - min) : fmax(0.05 * fabs(max), 0.05);
    *lo = min - pad;
    *hi = max + pad;
    return true;
}

/* A tick step of 1, 2 or 5 times a power of ten giving at most `max_ticks` ticks. */
static double tick_step(double range, int max_ticks)
{
    double step = 1.0;
    while (range / step > max_ticks) {
        double base = step;
        if (range / (2 * base) <= max_ticks)
            return 2 * base;
        if (range / (5 * base) <= max_ticks)
            return 5 * base;
        step = 10 * base;
    }
    return step;
}

/* Draws one series as a line with a marker at each epoch, broken at non-finite values. */
static void draw_series(const double *y, int n, enum colour colour, PLINT marker)
{
    plcol0(colour);
    plwidth(2.5);
    for (int i = 0; i < n; i++) {
        PLFLT xi = i + 1, yi = y[i];
        if (!isfinite(yi))
            continue;
        if (i + 1 < n && isfinite(y[i + 1])) {
            PLFLT xs[2] = {xi, xi + 1}, ys[2] = {yi, y[i + 1]};
            plline(2, xs, ys);
        }
        plpoin(1, &xi, &yi, marker);
    }
    plwidth(1.0);
}

static void draw_legend(const char *train_label, const char *val_label, bool has_val,
                        PLINT position)
{
    PLINT opts[2] = {PL_LEGEND_LINE, PL_LEGEND_LINE};
    PLINT text_colours[2] = {C_BLACK, C_BLACK}, line_colours[2] = {C_TRAIN, C_VAL};
    PLINT line_styles[2] = {1, 1};
    PLFLT line_widths[2] = {3.0, 3.0};
    const char *texts[2] = {train_label, val_label};
    PLFLT width, height;
    pllegend(&width, &height, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
             position | PL_POSITION_INSIDE, 0.03, 0.03, 0.08, C_WHITE, C_BLACK, 1, 0, 0,
             has_val ? 2 : 1, opts, 1.0, 1.0, 2.0, 0.0, text_colours, texts, NULL, NULL, NULL,
             NULL, line_colours, line_styles, line_widths, NULL, NULL, NULL, NULL);
}

/* The share of the plot's height kept free of data at the top, for the legend. */
#define LEGEND_BAND 0.22

/* One history plot: `train` and optional `val` against the epoch. The legend sits in a
 * band at the top that the axis range keeps empty: no corner is safe by assumption, as a
 * validation loss that rises while the model overfits runs into the top right. */
static int plot_curves(const char *path, const char *title, const char *ylabel, int epochs,
                       const double *train, const double *val)
{
    double ylo, yhi;
    if (!value_range(train, val, epochs, &ylo, &yhi))
        return fcnn_error(FCNN_ERR_INVALID, "%s: no finite values to plot", fcnn_quote(path));
    yhi += (yhi - ylo) * LEGEND_BAND / (1 - LEGEND_BAND);
    struct plot p;
    int rc = plot_begin(&p, path, 900, 600);
    if (rc != FCNN_OK)
        return rc;
    double xlo = 1.0, xhi = epochs, xpad = epochs > 1 ? 0.03 * (epochs - 1) : 0.5;
    plschr(0.0, 1.3);
    plvpor(0.13, 0.96, 0.13, 0.9);
    plwind(xlo - xpad, xhi + xpad, ylo, yhi);
    double xstep = tick_step(xhi - xlo, 12);
    plcol0(C_GRID);
    plbox("g", xstep, 1, "g", 0.0, 0);
    plcol0(C_BLACK);
    plbox("bcnst", xstep, 1, "bcnstv", 0.0, 0);
    pllab("Epoch", ylabel, "");
    plschr(0.0, 1.7);
    plmtex("t", 1.2, 0.5, 0.5, title);
    plschr(0.0, 1.3);

    const PLINT circle = 17 /* a filled dot in the Hershey table */;
    draw_series(train, epochs, C_TRAIN, circle);
    if (val)
        draw_series(val, epochs, C_VAL, circle);
    plcol0(C_BLACK);
    draw_legend("Training", "Validation", val != NULL, PL_POSITION_TOP | PL_POSITION_RIGHT);
    return plot_end(&p);
}

int fcnn_plot_history(const char *dir, const struct fcnn_plot_series *s)
{
    if (!dir || !s || s->epochs < 1 || !s->loss || !s->accuracy)
        return fcnn_error(FCNN_ERR_INVALID, "%s: plot_history: no epochs to plot",
                          fcnn_quote(dir));
    size_t len = strlen(dir) + sizeof "/accuracy.png";
    char *path = malloc(len);
    if (!path)
        return fcnn_error(FCNN_ERR_NOMEM, "%s: out of memory", fcnn_quote(dir));
    snprintf(path, len, "%s/accuracy.png", dir);
    int rc = plot_curves(path, "Accuracy vs Epochs", "Accuracy", s->epochs, s->accuracy,
                         s->val_accuracy);
    if (rc == FCNN_OK) {
        snprintf(path, len, "%s/loss.png", dir);
        rc = plot_curves(path, "Loss vs Epochs", "Loss", s->epochs, s->loss, s->val_loss);
    }
    free(path);
    return rc;
}

/* ---- confusion matrix -------------------------------------------------------------- */

/* A white-to-navy colour scale for cell counts (cmap1). */
static void set_blues(void)
{
    PLFLT pos[3] = {0.0, 0.5, 1.0};
    PLFLT r[3] = {0.97, 0.42, 0.03}, g[3] = {0.98, 0.68, 0.19}, b[3] = {1.0, 0.84, 0.42};
    plscmap1n(256);
    plscmap1l(1, 3, pos, r, g, b, NULL);
}

/* Longer class names are cut, with "...", so that the axes keep room for the cells. */
enum { LABEL_MAX = 24 };

static const char *class_label(const char *const *names, int i, char *buf, size_t len)
{
    if (names && names[i] && strlen(names[i]) <= LABEL_MAX)
        return names[i];
    if (names && names[i])
        snprintf(buf, len, "%.*s...", LABEL_MAX - 3, names[i]);
    else
        snprintf(buf, len, "%d", i);
    return buf;
}

int fcnn_plot_confusion(const char *path, const int *matrix, const char *const *class_names,
                        int classes)
{
    if (!path || !matrix || classes < 1 || classes > 100)
        return fcnn_error(FCNN_ERR_INVALID, "%s: plot_confusion: bad arguments",
                          fcnn_quote(path));
    int max = 0;
    size_t longest = 1;
    for (int i = 0; i < classes * classes; i++) {
        if (matrix[i] < 0)
            return fcnn_error(FCNN_ERR_INVALID, "%s: confusion matrix has a negative count",
                              fcnn_quote(path));
        if (matrix[i] > max)
            max = matrix[i];
    }
    char num[LABEL_MAX + 8];
    for (int i = 0; i < classes; i++) {
        size_t len = strlen(class_label(class_names, i, num, sizeof num));
        longest = len > longest ? len : longest;
    }

    /* Text has a fixed size in pixels: beyond a dozen classes the page grows with them,
     * so that cells keep room for their counts. */
    const double grow = classes > 12 ? (classes / 12.0 < 4.0 ? classes / 12.0 : 4.0) : 1.0;
    const int width = (int)(1000 * grow), height = (int)(950 * grow);
    const double aspect = (double)width / height;
    struct plot p;
    int rc = plot_begin(&p, path, width, height);
    if (rc != FCNN_OK)
        return rc;
    set_blues();
    /* Room on the left and below for the class names (the lower ones at 45 degrees),
     * from an estimate of their width: PLplot cannot measure text. */
    const double label_scale = 1.2, rad45 = M_PI / 4;
    plschr(0.0, label_scale);
    const double label_w = text_width(longest);
    const double left = 0.07 + label_w + 0.015;
    const double bottom = 0.07 + (label_w * sin(rad45) + text_height()) * aspect + 0.01;
    const double right = 0.83, top = 0.92;
    plschr(0.0, 1.1);
    plvpor(left, right, bottom, top);
    plwind(0.0, classes, 0.0, classes);

    /* Cells: row r (true class) is drawn from the top, column c (predicted) from the left,
     * as every confusion matrix is read. */
    for (int r = 0; r < classes; r++) {
        for (int c = 0; c < classes; c++) {
            int v = matrix[r * classes + c];
            double level = max > 0 ? (double)v / max : 0.0;
            PLFLT x[4] = {c, c + 1, c + 1, c}, y0 = classes - r - 1;
            PLFLT y[4] = {y0, y0, y0 + 1, y0 + 1};
            plcol1(level);
            plfill(4, x, y);
            char text[16];
            snprintf(text, sizeof text, "%d", v);
            plcol0(level > 0.5 ? C_WHITE : C_BLACK); /* contrast on dark cells */
            plptex(c + 0.5, y0 + 0.5, 1.0, 0.0, 0.5, text);
        }
    }
    plcol0(C_BLACK);
    plbox("bc", 1.0, 0, "bc", 1.0, 0);
    plschr(0.0, label_scale);
    for (int i = 0; i < classes; i++) {
        const char *name = class_label(class_names, i, num, sizeof num);
        plmtex("lv", 0.8, (classes - i - 0.5) / classes, 1.0, name);
    }
    plschr(0.0, 1.6);
    plmtex("t", 1.5, 0.5, 0.5, "Confusion matrix");

    /* The colour bar, right of the cells: fine shades rather than PL_COLORBAR_GRADIENT,
     * whose cairo implementation in PLplot 5.15 leaks its pattern on every call. */
    enum { BAR_LEVELS = 129 };
    PLFLT levels[BAR_LEVELS];
    for (int i = 0; i < BAR_LEVELS; i++)
        levels[i] = (max > 0 ? max : 1) * (double)i / (BAR_LEVELS - 1);
    PLFLT bar_w, bar_h;
    PLINT label_opts[1] = {PL_COLORBAR_LABEL_RIGHT}, n_values[1] = {BAR_LEVELS};
    const char *labels[1] = {"Count"}, *axis_opts[1] = {"bcvtm"};
    PLFLT ticks[1] = {0.0};
    PLINT sub_ticks[1] = {0};
    const PLFLT *values[1] = {levels};
    plschr(0.0, 1.2);
    plcolorbar(&bar_w, &bar_h, PL_COLORBAR_SHADE, PL_POSITION_RIGHT | PL_POSITION_OUTSIDE,
               0.03, 0.0, 0.035, 1.0, C_WHITE, C_BLACK, 1, 0.0, 0.0, 0, 0.0, 1, label_opts,
               labels, 1, axis_opts, ticks, sub_ticks, n_values, values);

    /* Predicted-class names below the cells at 45 degrees, ending under their column,
     * and the two axis titles, on the whole page. */
    plschr(0.0, label_scale);
    plcol0(C_BLACK);
    for (int i = 0; i < classes; i++) {
        double x = left + (right - left) * (i + 0.5) / classes;
        page_text(x + 0.008, bottom - 0.015, 45.0, 1.0,
                  class_label(class_names, i, num, sizeof num), aspect);
    }
    plschr(0.0, 1.5);
    page_text((left + right) / 2, 0.03, 0.0, 0.5, "Predicted", aspect);
    page_text(0.035, (bottom + top) / 2, 90.0, 0.5, "True", aspect);
    return plot_end(&p);
}

/* ---- prediction grid --------------------------------------------------------------- */

enum { GRID_SIDE = 5 };

static void set_grays(void)
{
    PLFLT pos[2] = {0.0, 1.0}, level[2] = {0.0, 1.0};
    plscmap1n(256);
    plscmap1l(1, 2, pos, level, level, level, NULL);
}

/* Draws one rows x cols image into the current viewport; image row 0 is the top. Colour
 * images are drawn in gray (their luma): the grid shows shapes and mistakes. */
static int draw_image(const uint8_t *pixels, int rows, int cols, int channels)
{
    PLFLT *column_data = malloc(sizeof *column_data * (size_t)rows * (size_t)cols);
    const PLFLT **columns = malloc(sizeof *columns * (size_t)cols);
    if (!column_data || !columns) {
        free(column_data);
        free(columns);
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory drawing an image");
    }
    for (int x = 0; x < cols; x++) {
        PLFLT *column = column_data + (size_t)x * (size_t)rows;
        for (int y = 0; y < rows; y++) {
            const uint8_t *px = pixels + ((size_t)(rows - 1 - y) * (size_t)cols + (size_t)x) *
                                             (size_t)channels;
            column[y] = channels >= 3 ? 0.2989 * px[0] + 0.5870 * px[1] + 0.1140 * px[2] : px[0];
        }
        columns[x] = column;
    }
    plwind(0.0, cols, 0.0, rows);
    plimage(columns, cols, rows, 0.0, cols, 0.0, rows, 0.0, 255.0, 0.0, cols, 0.0, rows);
    free(column_data);
    free(columns);
    return FCNN_OK;
}

int fcnn_plot_predictions(const char *path, const uint8_t *images, const int *true_labels,
                          const int *pred_labels, const char *const *class_names, int classes,
                          int count)
{
    return fcnn_plot_predictions_shaped(path, images, 28, 28, 1, true_labels, pred_labels,
                                        class_names, classes, count);
}

int fcnn_plot_predictions_shaped(const char *path, const uint8_t *images, int rows, int cols,
                                 int channels, const int *true_labels, const int *pred_labels,
                                 const char *const *class_names, int classes, int count)
{
    if (!path || !images || !true_labels || !pred_labels || classes < 1 || count < 1 ||
        count > FCNN_PLOT_MAX_PREDICTIONS || rows < 1 || cols < 1 || channels < 1)
        return fcnn_error(FCNN_ERR_INVALID, "%s: plot_predictions: bad arguments",
                          fcnn_quote(path));
    for (int i = 0; i < count; i++)
        if (true_labels[i] < 0 || true_labels[i] >= classes || pred_labels[i] < 0 ||
            pred_labels[i] >= classes)
            return fcnn_error(FCNN_ERR_INVALID, "%s: image %d has a label outside 0..%d",
                              fcnn_quote(path), i, classes - 1);

    const int width = 1100, height = 1150;
    const double aspect = (double)width / height;
    struct plot p;
    int rc = plot_begin(&p, path, width, height);
    if (rc != FCNN_OK)
        return rc;
    set_grays();
    int wrong = 0;
    for (int i = 0; i < count; i++)
        wrong += true_labels[i] != pred_labels[i];
    char title[96];
    snprintf(title, sizeof title, "Predictions on test images: %d of %d wrong (in red)", wrong,
             count);
    plschr(0.0, 1.2);
    plcol0(C_BLACK);
    page_text(0.5, 0.975, 0.0, 0.5, title, aspect);

    /* Each grid cell: the image square in its lower part, two title lines above it. */
    const double margin = 0.03, grid_top = 0.94;
    const double cell_w = (1.0 - 2 * margin) / GRID_SIDE;
    const double cell_h = (grid_top - margin) / GRID_SIDE;
    /* The longer side of an image fills the square the 28x28 ones do. */
    const double side = cell_w * 0.68;
    const double image_w = cols >= rows ? side : side * cols / rows;
    const double image_h = (rows >= cols ? side : side * rows / cols) * aspect;
    char num_true[LABEL_MAX + 8], num_pred[LABEL_MAX + 8];
    for (int i = 0; i < count; i++) {
        int row = i / GRID_SIDE, col = i % GRID_SIDE;
        double x0 = margin + col * cell_w + (cell_w - image_w) / 2;
        double y0 = grid_top - (row + 1) * cell_h + 0.01;
        plvpor(x0, x0 + image_w, y0, y0 + image_h);
        rc = draw_image(images + (size_t)i * (size_t)rows * (size_t)cols * (size_t)channels, rows,
                        cols, channels);
        if (rc != FCNN_OK)
            break;

        bool mistake = true_labels[i] != pred_labels[i];
        plcol0(mistake ? C_WRONG : C_BLACK);
        plwidth(mistake ? 4.0 : 1.0);
        plbox("bc", 0.0, 0, "bc", 0.0, 0);
        plwidth(1.0);
        char line[128];
        plschr(0.0, 0.78);
        snprintf(line, sizeof line, "true: %s",
                 class_label(class_names, true_labels[i], num_true, sizeof num_true));
        plmtex("t", 2.3, 0.5, 0.5, line);
        snprintf(line, sizeof line, "pred: %s",
                 class_label(class_names, pred_labels[i], num_pred, sizeof num_pred));
        plmtex("t", 0.9, 0.5, 0.5, line);
    }
    int end = plot_end(&p);
    return rc != FCNN_OK ? rc : end;
}
