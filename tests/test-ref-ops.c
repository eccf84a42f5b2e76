/* tests/test-ref-ops: the reference backend against small cases worked out by hand.
 *
 * The cross-backend harness holds every backend to the reference, and grad mode holds the
 * reference's backward ops to its forward ones; neither can tell whether the forward ops
 * themselves compute the right thing. These cases can: each expected value below was
 * computed by hand (the optimizer steps with bc), and the comments show the working.
 * Kernels are asymmetric on purpose, so that a flipped (true convolution instead of
 * Keras's cross-correlation) or transposed kernel gives other numbers. */
#include <config.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "core/status.h"

static struct fcnn_backend *be;
static int failures;

static struct fcnn_buffer *buffers[128];
static int buffer_count;

/* A tensor in its own buffer on the reference backend, holding `data` (if given). */
static struct fcnn_tensor make(enum fcnn_dtype dtype, int ndim, const int *shape, const void *data)
{
    struct fcnn_tensor t = fcnn_tensor_make(NULL, 0, dtype, ndim, shape);
    if (buffer_count == (int)(sizeof buffers / sizeof buffers[0]) ||
        fcnn_buffer_alloc(be, fcnn_tensor_bytes(&t), &t.buffer) != FCNN_OK) {
        printf("cannot allocate a test buffer: %s\n", fcnn_last_error());
        exit(99);
    }
    buffers[buffer_count++] = t.buffer;
    if (data && fcnn_upload(be, &t, data) != FCNN_OK) {
        printf("cannot upload: %s\n", fcnn_last_error());
        exit(99);
    }
    return t;
}

#define F32(ndim, shape, data) make(FCNN_F32, ndim, (const int[])shape, data)
#define SHAPE(...) { __VA_ARGS__ }

static void free_buffers(void)
{
    while (buffer_count)
        fcnn_buffer_free(be, buffers[--buffer_count]);
}

static void expect_status(const char *what, int got, int want)
{
    if (got != want) {
        printf("FAIL %s: status %s (%s), expected %s\n", what, fcnn_status_name(got),
               fcnn_last_error(), fcnn_status_name(want));
        failures++;
    }
}

/* Float results: the reference rounds its double sums once, so exact decimal values agree
 * to a few float ulps; 1e-6 relative (or absolute below 1) is tight enough to catch any
 * wrong term. */
static void expect_floats(const char *what, const struct fcnn_tensor *t, const float *want)
{
    size_t n = fcnn_tensor_count(t);
    float *got = malloc(n * sizeof *got);
    expect_status(what, fcnn_download(be, t, got), FCNN_OK);
    int wrong = 0;
    for (size_t i = 0; i < n; i++) {
        double allowed = 1e-6 * fmax(1.0, fabs(want[i]));
        if (!(fabs((double)got[i] - want[i]) <= allowed)) {
            if (!wrong)
                printf("FAIL %s:\n", what);
            printf("    element %zu: expected %.9g, got %.9g\n", i, (double)want[i], (double)got[i]);
            wrong++;
        }
    }
    if (wrong)
        failures++;
    else
        printf("ok   %s\n", what);
    free(got);
}

static void expect_ints(const char *what, const struct fcnn_tensor *t, const int32_t *want)
{
    size_t n = fcnn_tensor_count(t);
    int32_t *got = malloc(n * sizeof *got);
    expect_status(what, fcnn_download(be, t, got), FCNN_OK);
    int wrong = 0;
    for (size_t i = 0; i < n; i++) {
        if (got[i] != want[i]) {
            if (!wrong)
                printf("FAIL %s:\n", what);
            printf("    element %zu: expected %d, got %d\n", i, (int)want[i], (int)got[i]);
            wrong++;
        }
    }
    if (wrong)
        failures++;
    else
        printf("ok   %s\n", what);
    free(got);
}

/* --- convolution ---------------------------------------------------------------------- */

/* Equal strides and the same padding on every side. */
static struct fcnn_conv2d_params conv_params(int stride, int pad, enum fcnn_activation act)
{
    return (struct fcnn_conv2d_params){ .sh = stride, .sw = stride, .pad_top = pad,
                                        .pad_bottom = pad, .pad_left = pad, .pad_right = pad,
                                        .act = act };
}


/* x = 1..9 as a 3x3 image, x[r][c] = 3r + c + 1. The kernel has three taps,
 *     w = [[1, 0, 0],
 *          [0, 0, 2],
 *          [0,-1, 0]],
 * so with "same" padding y[r][c] = x[r-1][c-1] + 2 x[r][c+1] - x[r+1][c] + b, zeros outside. */
static const float x123[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
static const float kernel3[9] = { 1, 0, 0, 0, 0, 2, 0, -1, 0 };

static void test_conv_forward(void)
{
    struct fcnn_tensor x = F32(4, SHAPE(1, 3, 3, 1), x123);
    struct fcnn_tensor w = F32(4, SHAPE(3, 3, 1, 1), kernel3);
    struct fcnn_tensor b = F32(1, SHAPE(1), ((const float[]){ -0.5f }));
    struct fcnn_tensor y = F32(4, SHAPE(1, 3, 3, 1), NULL);

    /* (0,0): 0 + 2*2 - 4 = 0;   (0,1): 0 + 2*3 - 5 = 1;   (0,2): 0 + 0 - 6 = -6
     * (1,0): 0 + 2*5 - 7 = 3;   (1,1): 1 + 2*6 - 8 = 5;   (1,2): 2 + 0 - 9 = -7
     * (2,0): 0 + 2*8 - 0 = 16;  (2,1): 4 + 2*9 - 0 = 22;  (2,2): 5 + 0 - 0 = 5;  then b. */
    struct fcnn_conv2d_params same = conv_params(1, 1, FCNN_ACT_NONE);
    expect_status("conv2d_fwd same", fcnn_conv2d_fwd(be, &x, &w, &b, &y, &same), FCNN_OK);
    expect_floats("conv2d_fwd 3x3 same padding", &y,
                  (const float[]){ -0.5f, 0.5f, -6.5f, 2.5f, 4.5f, -7.5f, 15.5f, 21.5f, 4.5f });

    same.act = FCNN_ACT_RELU;
    expect_status("conv2d_fwd relu", fcnn_conv2d_fwd(be, &x, &w, &b, &y, &same), FCNN_OK);
    expect_floats("conv2d_fwd 3x3 same padding, ReLU", &y,
                  (const float[]){ 0, 0.5f, 0, 2.5f, 4.5f, 0, 15.5f, 21.5f, 4.5f });

    /* Stride 2 with pad 1 keeps outputs (0,0), (0,2), (2,0), (2,2) of the stride-1 grid. */
    struct fcnn_tensor y2 = F32(4, SHAPE(1, 2, 2, 1), NULL);
    struct fcnn_conv2d_params stride2 = conv_params(2, 1, FCNN_ACT_NONE);
    expect_status("conv2d_fwd stride 2", fcnn_conv2d_fwd(be, &x, &w, &b, &y2, &stride2), FCNN_OK);
    expect_floats("conv2d_fwd stride 2", &y2, (const float[]){ -0.5f, -6.5f, 15.5f, 4.5f });

    /* No padding: only the centre, 5 - 0.5. */
    struct fcnn_tensor y1 = F32(4, SHAPE(1, 1, 1, 1), NULL);
    struct fcnn_conv2d_params valid = conv_params(1, 0, FCNN_ACT_NONE);
    expect_status("conv2d_fwd pad 0", fcnn_conv2d_fwd(be, &x, &w, &b, &y1, &valid), FCNN_OK);
    expect_floats("conv2d_fwd no padding", &y1, (const float[]){ 4.5f });
}

/* Channels and batch: a 1x1 kernel mixing 2 input channels into 3, w[c][k] (HWIO):
 *   w[0] = [1, 0, -1], w[1] = [2, 1, 0], b = [0, 0.5, 1]
 * pixel (x0, x1) gives (x0 + 2 x1, x1 + 0.5, 1 - x0); image 1 is image 0 negated. */
static void test_conv_channels(void)
{
    struct fcnn_tensor x = F32(4, SHAPE(2, 2, 2, 2), ((const float[]){
        1, 2, 3, 4, 5, 6, 7, 8, -1, -2, -3, -4, -5, -6, -7, -8 }));
    struct fcnn_tensor w = F32(4, SHAPE(1, 1, 2, 3), ((const float[]){ 1, 0, -1, 2, 1, 0 }));
    struct fcnn_tensor b = F32(1, SHAPE(3), ((const float[]){ 0, 0.5f, 1 }));
    struct fcnn_tensor y = F32(4, SHAPE(2, 2, 2, 3), NULL);
    struct fcnn_conv2d_params p = conv_params(1, 0, FCNN_ACT_NONE);
    expect_status("conv2d_fwd channels", fcnn_conv2d_fwd(be, &x, &w, &b, &y, &p), FCNN_OK);
    expect_floats("conv2d_fwd 1x1, 2 -> 3 channels, batch 2", &y, (const float[]){
        5, 2.5f, 0, 11, 4.5f, -2, 17, 6.5f, -4, 23, 8.5f, -6,
        -5, -1.5f, 2, -11, -3.5f, 4, -17, -5.5f, 6, -23, -7.5f, 8 });
}

/* Backward data: the taps send dy[r][c] back to x[r-1][c-1] (weight 1), x[r][c+1] (2) and
 * x[r+1][c] (-1), so dx[r][c] = dy[r+1][c+1] + 2 dy[r][c-1] - dy[r-1][c].
 * Checked against the forward by the adjoint identity <conv(x), dy> = <x, dx>: with
 * dy = 1..9 both sides are 312. */
static void test_conv_backward(void)
{
    struct fcnn_tensor w = F32(4, SHAPE(3, 3, 1, 1), kernel3);
    struct fcnn_tensor dy = F32(4, SHAPE(1, 3, 3, 1), x123);
    struct fcnn_tensor dx = F32(4, SHAPE(1, 3, 3, 1), NULL);
    struct fcnn_conv2d_params same = conv_params(1, 1, FCNN_ACT_NONE);
    expect_status("conv2d_bwd_data", fcnn_conv2d_bwd_data(be, &dy, &w, &dx, &same), FCNN_OK);
    /* (0,0): 5;  (0,1): 6 + 2*1 = 8;  (0,2): 0 + 2*2 = 4;  (1,0): 8 - 1 = 7;
     * (1,1): 9 + 2*4 - 2 = 15;  (1,2): 2*5 - 3 = 7;  (2,0): -4;  (2,1): 2*7 - 5 = 9;
     * (2,2): 2*8 - 6 = 10. */
    expect_floats("conv2d_bwd_data same padding", &dx,
                  (const float[]){ 5, 8, 4, 7, 15, 7, -4, 9, 10 });

    /* Stride 2: dy = [1 2; 3 4] sits at (0,0), (0,2), (2,0), (2,2) of a zero 3x3 grid.
     * Adjoint check: <[0,-6,16,5], [1,2,3,4]> = 56 = <x, dx>. */
    struct fcnn_tensor dy2 = F32(4, SHAPE(1, 2, 2, 1), ((const float[]){ 1, 2, 3, 4 }));
    struct fcnn_conv2d_params stride2 = conv_params(2, 1, FCNN_ACT_NONE);
    expect_status("conv2d_bwd_data stride 2", fcnn_conv2d_bwd_data(be, &dy2, &w, &dx, &stride2),
                  FCNN_OK);
    expect_floats("conv2d_bwd_data stride 2", &dx,
                  (const float[]){ 0, 2, 0, -1, 4, -2, 0, 6, 0 });

    /* Backward filter: dw[i][j] = sum over outputs of x[r+i-1][c+j-1] dy[r][c]; with dy
     * nonzero at (0,0) = 1, (1,1) = 2, (2,2) = -1:
     *   dw[i][j] = x[i-1][j-1] + 2 x[i][j] - x[i+1][j+1].
     * Adjoint check: <dw, w> = -3 + 2*14 - 20 = 5 = <conv(x), dy> = 0 + 2*5 - 5. */
    struct fcnn_tensor x = F32(4, SHAPE(1, 3, 3, 1), x123);
    struct fcnn_tensor dy3 = F32(4, SHAPE(1, 3, 3, 1), ((const float[]){ 1, 0, 0, 0, 2, 0, 0, 0, -1 }));
    struct fcnn_tensor dw = F32(4, SHAPE(3, 3, 1, 1), NULL);
    expect_status("conv2d_bwd_filter", fcnn_conv2d_bwd_filter(be, &x, &dy3, &dw, &same), FCNN_OK);
    /* (0,0): 2 - 5;  (0,1): 4 - 6;  (0,2): 6;  (1,0): 8 - 8;  (1,1): 1 + 10 - 9;
     * (1,2): 2 + 12;  (2,0): 14;  (2,1): 4 + 16;  (2,2): 5 + 18. */
    expect_floats("conv2d_bwd_filter same padding", &dw,
                  (const float[]){ -3, -2, 6, 0, 2, 14, 14, 20, 23 });
}

static void test_bias(void)
{
    struct fcnn_tensor dy = F32(2, SHAPE(2, 2), ((const float[]){ 1, 2, 3, 4 }));
    struct fcnn_tensor db = F32(1, SHAPE(2), NULL);
    expect_status("bias_bwd 2-D", fcnn_bias_bwd(be, &dy, &db), FCNN_OK);
    expect_floats("bias_bwd 2-D: column sums", &db, (const float[]){ 4, 6 });

    /* 1x2x2x3 holding 1..12: channel c sums c+1, c+4, c+7, c+10. */
    struct fcnn_tensor dy4 = F32(4, SHAPE(1, 2, 2, 3), ((const float[]){
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 }));
    struct fcnn_tensor db3 = F32(1, SHAPE(3), NULL);
    expect_status("bias_bwd 4-D", fcnn_bias_bwd(be, &dy4, &db3), FCNN_OK);
    expect_floats("bias_bwd 4-D: sums over n, h, w", &db3, (const float[]){ 22, 26, 30 });
}

/* --- pooling -------------------------------------------------------------------------- */

static void test_pool(void)
{
    /* 4x4, 2x2 windows, stride 2. Window (0,1) is a four-way tie at 2: the first in row-major
     * order, (0,2), takes the gradient. Window (1,0) is all negative. */
    struct fcnn_tensor x = F32(4, SHAPE(1, 4, 4, 1), ((const float[]){
        1, 3, 2, 2,
        4, 0, 2, 2,
        -1, -2, 5, 6,
        -3, -4, 7, 5 }));
    struct fcnn_tensor y = F32(4, SHAPE(1, 2, 2, 1), NULL);
    struct fcnn_pool_params p = { .ph = 2, .pw = 2, .sh = 2, .sw = 2 };
    expect_status("maxpool_fwd", fcnn_maxpool_fwd(be, &x, &y, &p), FCNN_OK);
    expect_floats("maxpool_fwd 2x2 stride 2", &y, (const float[]){ 4, 2, -1, 7 });
    struct fcnn_tensor dy = F32(4, SHAPE(1, 2, 2, 1), ((const float[]){ 10, 20, 30, 40 }));
    struct fcnn_tensor dx = F32(4, SHAPE(1, 4, 4, 1), NULL);
    expect_status("maxpool_bwd", fcnn_maxpool_bwd(be, &x, &dy, &dx, &p), FCNN_OK);
    expect_floats("maxpool_bwd: to each window's first maximum", &dx, (const float[]){
        0, 0, 20, 0,
        10, 0, 0, 0,
        30, 0, 0, 0,
        0, 0, 40, 0 });

    /* Overlapping 2x2 windows, stride 1, on 3x3: windows (0,0) and (0,1) share their
     * maximum 5 at (0,1), which receives both gradients, 1 + 2. */
    struct fcnn_tensor xo = F32(4, SHAPE(1, 3, 3, 1), ((const float[]){ 1, 5, 2, 3, 4, 0, 6, -1, 2 }));
    struct fcnn_tensor yo = F32(4, SHAPE(1, 2, 2, 1), NULL);
    struct fcnn_pool_params overlap = { .ph = 2, .pw = 2, .sh = 1, .sw = 1 };
    expect_status("maxpool_fwd overlap", fcnn_maxpool_fwd(be, &xo, &yo, &overlap), FCNN_OK);
    expect_floats("maxpool_fwd 2x2 stride 1", &yo, (const float[]){ 5, 5, 6, 4 });
    struct fcnn_tensor dyo = F32(4, SHAPE(1, 2, 2, 1), ((const float[]){ 1, 2, 3, 4 }));
    struct fcnn_tensor dxo = F32(4, SHAPE(1, 3, 3, 1), NULL);
    expect_status("maxpool_bwd overlap", fcnn_maxpool_bwd(be, &xo, &dyo, &dxo, &overlap), FCNN_OK);
    expect_floats("maxpool_bwd 2x2 stride 1: shared maximum sums", &dxo,
                  (const float[]){ 0, 3, 0, 0, 4, 0, 3, 0, 0 });

    /* Channels pool separately: NHWC [1,8, 4,5, 3,6, 2,7] has channel 0 = 1,4,3,2 and
     * channel 1 = 8,5,6,7. */
    struct fcnn_tensor xc = F32(4, SHAPE(1, 2, 2, 2), ((const float[]){ 1, 8, 4, 5, 3, 6, 2, 7 }));
    struct fcnn_tensor yc = F32(4, SHAPE(1, 1, 1, 2), NULL);
    expect_status("maxpool_fwd channels", fcnn_maxpool_fwd(be, &xc, &yc, &p), FCNN_OK);
    expect_floats("maxpool_fwd per channel", &yc, (const float[]){ 4, 8 });
    struct fcnn_tensor dyc = F32(4, SHAPE(1, 1, 1, 2), ((const float[]){ 1, 2 }));
    struct fcnn_tensor dxc = F32(4, SHAPE(1, 2, 2, 2), NULL);
    expect_status("maxpool_bwd channels", fcnn_maxpool_bwd(be, &xc, &dyc, &dxc, &p), FCNN_OK);
    expect_floats("maxpool_bwd per channel", &dxc, (const float[]){ 0, 2, 1, 0, 0, 0, 0, 0 });

    /* 3x3 with 2x2 stride 2 ("valid"): one window, the last row and column dropped, so the
     * 9s never count. */
    struct fcnn_tensor xf = F32(4, SHAPE(1, 3, 3, 1), ((const float[]){ 1, 2, 9, 3, 4, 9, 9, 9, 9 }));
    struct fcnn_tensor yf = F32(4, SHAPE(1, 1, 1, 1), NULL);
    expect_status("maxpool_fwd floor", fcnn_maxpool_fwd(be, &xf, &yf, &p), FCNN_OK);
    expect_floats("maxpool_fwd drops the remainder", &yf, (const float[]){ 4 });
    struct fcnn_tensor dyf = F32(4, SHAPE(1, 1, 1, 1), ((const float[]){ 5 }));
    struct fcnn_tensor dxf = F32(4, SHAPE(1, 3, 3, 1), NULL);
    expect_status("maxpool_bwd floor", fcnn_maxpool_bwd(be, &xf, &dyf, &dxf, &p), FCNN_OK);
    expect_floats("maxpool_bwd zeroes the remainder", &dxf,
                  (const float[]){ 0, 0, 0, 0, 5, 0, 0, 0, 0 });
}

/* Keras's "same" is asymmetric when the padding is odd: TensorFlow puts the extra row and
 * column after. A 2x2 kernel at stride 1 on 3x3 pads nothing before and one after, so
 *   y[r][c] = x[r][c] + 2 x[r][c+1] + 3 x[r+1][c] + 4 x[r+1][c+1]   (outside: 0),
 * here with no bias (use_bias=False). Padding one before instead would shift every value. */
static void test_conv_keras_padding(void)
{
    struct fcnn_tensor x = F32(4, SHAPE(1, 3, 3, 1), x123);
    struct fcnn_tensor w = F32(4, SHAPE(2, 2, 1, 1), ((const float[]){ 1, 2, 3, 4 }));
    struct fcnn_tensor y = F32(4, SHAPE(1, 3, 3, 1), NULL);
    struct fcnn_window_axis axis = fcnn_window_axis(3, 2, 1, FCNN_PADDING_SAME);
    expect_status("same 2 on 3: out 3, pad 0 before, 1 after",
                  axis.out == 3 && axis.before == 0 && axis.after == 1 ? FCNN_OK : -1, FCNN_OK);
    struct fcnn_conv2d_params p = { .sh = 1, .sw = 1, .pad_bottom = 1, .pad_right = 1 };
    expect_status("conv2d_fwd even kernel", fcnn_conv2d_fwd(be, &x, &w, NULL, &y, &p), FCNN_OK);
    expect_floats("conv2d_fwd 2x2 same, no bias", &y,
                  (const float[]){ 37, 47, 21, 67, 77, 33, 23, 26, 9 });

    /* 3x3 of ones at stride 2 on 4x4 (1..16): "same" gives 2x2 and pads one row and column
     * after, none before, so the windows start at rows and columns 0 and 2. */
    static const float x16[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
    static const float ones[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
    struct fcnn_tensor x4 = F32(4, SHAPE(1, 4, 4, 1), x16);
    struct fcnn_tensor w3 = F32(4, SHAPE(3, 3, 1, 1), ones);
    struct fcnn_tensor y2 = F32(4, SHAPE(1, 2, 2, 1), NULL);
    axis = fcnn_window_axis(4, 3, 2, FCNN_PADDING_SAME);
    expect_status("same 3 stride 2 on 4: out 2, pad 0 before, 1 after",
                  axis.out == 2 && axis.before == 0 && axis.after == 1 ? FCNN_OK : -1, FCNN_OK);
    struct fcnn_conv2d_params s2 = { .sh = 2, .sw = 2, .pad_bottom = 1, .pad_right = 1 };
    expect_status("conv2d_fwd stride 2 same", fcnn_conv2d_fwd(be, &x4, &w3, NULL, &y2, &s2),
                  FCNN_OK);
    expect_floats("conv2d_fwd 3x3 stride 2 same on 4x4", &y2, (const float[]){ 54, 45, 72, 54 });
    /* Its input gradient sends dy of each window to every input it covers. Adjoint check:
     * <y, dy> = 54 + 90 + 216 + 216 = 576 = <x, dx>. */
    struct fcnn_tensor dy = F32(4, SHAPE(1, 2, 2, 1), ((const float[]){ 1, 2, 3, 4 }));
    struct fcnn_tensor dx = F32(4, SHAPE(1, 4, 4, 1), NULL);
    expect_status("conv2d_bwd_data stride 2 same", fcnn_conv2d_bwd_data(be, &dy, &w3, &dx, &s2),
                  FCNN_OK);
    expect_floats("conv2d_bwd_data 3x3 stride 2 same on 4x4", &dx, (const float[]){
        1, 1, 3, 2, 1, 1, 3, 2, 4, 4, 10, 6, 3, 3, 7, 4 });
    /* Its weight gradient: dw[i][j] = sum over windows of x at the tap times dy. */
    struct fcnn_tensor dw = F32(4, SHAPE(3, 3, 1, 1), NULL);
    expect_status("conv2d_bwd_filter stride 2 same",
                  fcnn_conv2d_bwd_filter(be, &x4, &dy, &dw, &s2), FCNN_OK);
    /* (0,0): 1 + 2*3 + 3*9 + 4*11 = 78;  (0,1): 2 + 2*4 + 3*10 + 4*12 = 88;
     * (0,2): 3 + 0 + 3*11 + 0 = 36;      (1,0): 5 + 2*7 + 3*13 + 4*15 = 118;
     * (1,1): 6 + 2*8 + 3*14 + 4*16 = 128; (1,2): 7 + 3*15 = 52;
     * (2,0): 9 + 2*11 = 31;  (2,1): 10 + 2*12 = 34;  (2,2): 11. */
    expect_floats("conv2d_bwd_filter 3x3 stride 2 same on 4x4", &dw, (const float[]){
        78, 88, 36, 118, 128, 52, 31, 34, 11 });
}

/* Pooling with "same" padding: a 2x2 pool at stride 2 on 3x3 pads one row and column after.
 * Max pooling ignores the padding (all-negative windows keep their negative maximum) and
 * average pooling divides by the real positions only (TensorFlow's rule). */
static void test_pool_same(void)
{
    struct fcnn_tensor xn = F32(4, SHAPE(1, 3, 3, 1), ((const float[]){
        -1, -2, -3, -4, -5, -6, -7, -8, -9 }));
    struct fcnn_tensor y = F32(4, SHAPE(1, 2, 2, 1), NULL);
    struct fcnn_pool_params p = { .ph = 2, .pw = 2, .sh = 2, .sw = 2, .pad_bottom = 1,
                                  .pad_right = 1 };
    expect_status("maxpool_fwd same", fcnn_maxpool_fwd(be, &xn, &y, &p), FCNN_OK);
    expect_floats("maxpool_fwd same ignores the padding", &y, (const float[]){ -1, -3, -7, -9 });
    struct fcnn_tensor dy = F32(4, SHAPE(1, 2, 2, 1), ((const float[]){ 1, 2, 3, 4 }));
    struct fcnn_tensor dx = F32(4, SHAPE(1, 3, 3, 1), NULL);
    expect_status("maxpool_bwd same", fcnn_maxpool_bwd(be, &xn, &dy, &dx, &p), FCNN_OK);
    expect_floats("maxpool_bwd same", &dx, (const float[]){ 1, 0, 2, 0, 0, 0, 3, 0, 4 });

    struct fcnn_tensor x = F32(4, SHAPE(1, 3, 3, 1), x123);
    expect_status("avgpool_fwd same", fcnn_avgpool_fwd(be, &x, &y, &p), FCNN_OK);
    /* (1+2+4+5)/4, (3+6)/2, (7+8)/2, 9/1 */
    expect_floats("avgpool_fwd same divides by the real positions", &y,
                  (const float[]){ 3, 4.5f, 7.5f, 9 });
    struct fcnn_tensor dya = F32(4, SHAPE(1, 2, 2, 1), ((const float[]){ 4, 6, 8, 5 }));
    expect_status("avgpool_bwd same", fcnn_avgpool_bwd(be, &dya, &dx, &p), FCNN_OK);
    expect_floats("avgpool_bwd same: dy over each window's real positions", &dx,
                  (const float[]){ 1, 1, 3, 1, 1, 3, 4, 4, 5 });

    /* Overlapping 2x2 windows at stride 1 ("valid") on 3x3: the centre is in all four. */
    struct fcnn_pool_params overlap = { .ph = 2, .pw = 2, .sh = 1, .sw = 1 };
    expect_status("avgpool_fwd overlap", fcnn_avgpool_fwd(be, &x, &y, &overlap), FCNN_OK);
    expect_floats("avgpool_fwd 2x2 stride 1", &y, (const float[]){ 3, 4, 6, 7 });
    expect_status("avgpool_bwd overlap", fcnn_avgpool_bwd(be, &dya, &dx, &overlap), FCNN_OK);
    /* dy / 4 = 1, 1.5, 2, 1.25 summed over the windows holding each input. */
    expect_floats("avgpool_bwd 2x2 stride 1", &dx, (const float[]){
        1, 2.5f, 1.5f, 3, 5.75f, 2.75f, 2, 3.25f, 1.25f });

    /* Global: channel 0 holds 1, 4, 3, 2 and channel 1 holds 8, 5, 6, 7. */
    struct fcnn_tensor xc = F32(4, SHAPE(1, 2, 2, 2), ((const float[]){ 1, 8, 4, 5, 3, 6, 2, 7 }));
    struct fcnn_tensor yc = F32(2, SHAPE(1, 2), NULL);
    expect_status("global_avgpool_fwd", fcnn_global_avgpool_fwd(be, &xc, &yc), FCNN_OK);
    expect_floats("global_avgpool_fwd: channel means", &yc, (const float[]){ 2.5f, 6.5f });
    struct fcnn_tensor dyc = F32(2, SHAPE(1, 2), ((const float[]){ 4, 8 }));
    struct fcnn_tensor dxc = F32(4, SHAPE(1, 2, 2, 2), NULL);
    expect_status("global_avgpool_bwd", fcnn_global_avgpool_bwd(be, &dyc, &dxc), FCNN_OK);
    expect_floats("global_avgpool_bwd: dy / (h*w) everywhere", &dxc,
                  (const float[]){ 1, 2, 1, 2, 1, 2, 1, 2 });
}

/* --- ReLU and dense --------------------------------------------------------------------- */

static void test_relu(void)
{
    /* dy passes where y > 0 only: not at +0, not at -0. */
    const float y_values[5] = { 0.0f, 1.5f, -0.0f, 2.0f, 0.0f };
    struct fcnn_tensor y = F32(1, SHAPE(5), y_values);
    struct fcnn_tensor dy = F32(1, SHAPE(5), ((const float[]){ 1, 2, 3, 4, 5 }));
    struct fcnn_tensor dx = F32(1, SHAPE(5), NULL);
    expect_status("relu_bwd", fcnn_relu_bwd(be, &y, &dy, &dx), FCNN_OK);
    expect_floats("relu_bwd", &dx, (const float[]){ 0, 2, 0, 4, 0 });
    /* In place (dx = dy), which the reference allows. */
    expect_status("relu_bwd in place", fcnn_relu_bwd(be, &y, &dy, &dy), FCNN_OK);
    expect_floats("relu_bwd in place", &dy, (const float[]){ 0, 2, 0, 4, 0 });
}

/* x [2,3], w [3,2] (Keras's [in, out]), b [2]:
 *   x = [[1, 2, 3], [-1, 0, 1]],  w = [[1, -1], [0, 2], [3, 1]],  b = [0.5, -6]
 *   x w = [[1 + 9, -1 + 4 + 3], [-1 + 3, 1 + 1]] = [[10, 6], [2, 2]]. */
static void test_dense(void)
{
    struct fcnn_tensor x = F32(2, SHAPE(2, 3), ((const float[]){ 1, 2, 3, -1, 0, 1 }));
    struct fcnn_tensor w = F32(2, SHAPE(3, 2), ((const float[]){ 1, -1, 0, 2, 3, 1 }));
    struct fcnn_tensor b = F32(1, SHAPE(2), ((const float[]){ 0.5f, -6 }));
    struct fcnn_tensor y = F32(2, SHAPE(2, 2), NULL);
    expect_status("dense_fwd", fcnn_dense_fwd(be, &x, &w, &b, &y, FCNN_ACT_NONE), FCNN_OK);
    expect_floats("dense_fwd", &y, (const float[]){ 10.5f, 0, 2.5f, -4 });
    expect_status("dense_fwd relu", fcnn_dense_fwd(be, &x, &w, &b, &y, FCNN_ACT_RELU), FCNN_OK);
    expect_floats("dense_fwd ReLU", &y, (const float[]){ 10.5f, 0, 2.5f, 0 });

    /* dy = [[1, 2], [3, -1]]:
     *   dx = dy w^T = [[1 - 2, 4, 3 + 2], [3 + 1, -2, 9 - 1]]
     *   dw = x^T dy = [[1 - 3, 2 + 1], [2, 4], [3 + 3, 6 - 1]]
     * Adjoint check: <dy, x w> = 10 + 12 + 6 - 2 = 26 = <dx, x> = <dw, w>. */
    struct fcnn_tensor dy = F32(2, SHAPE(2, 2), ((const float[]){ 1, 2, 3, -1 }));
    struct fcnn_tensor dx = F32(2, SHAPE(2, 3), NULL);
    struct fcnn_tensor dw = F32(2, SHAPE(3, 2), NULL);
    expect_status("dense_bwd_data", fcnn_dense_bwd_data(be, &dy, &w, &dx), FCNN_OK);
    expect_floats("dense_bwd_data", &dx, (const float[]){ -1, 4, 5, 4, -2, 8 });
    expect_status("dense_bwd_weights", fcnn_dense_bwd_weights(be, &x, &dy, &dw), FCNN_OK);
    expect_floats("dense_bwd_weights", &dw, (const float[]){ -2, 3, 2, 4, 6, 5 });
}

/* --- softmax cross-entropy -------------------------------------------------------------- */

/* Three samples of three classes, grad_scale 0.5:
 *   [0, 0, 0], label 1: p = 1/3 each; loss ln 3; pred 0 (a tie: the first maximum);
 *       dlogits 0.5 [1/3, 1/3 - 1, 1/3]
 *   [0, ln 2, ln 7], label 2: p = [0.1, 0.2, 0.7]; loss ln(10/7); pred 2;
 *       dlogits 0.5 [0.1, 0.2, -0.3]
 *   [1000, 999, 1000], label 1: exp(1000) overflows, so only a max-subtracted softmax gets
 *       p = [1, e^-1, 1] / (2 + e^-1); loss 1 + ln(2 + e^-1); pred 0 (tie);
 *       p0 = p2 = 0.42231879825, p1 = 0.15536240350 (bc). */
static void test_softmax(void)
{
    struct fcnn_tensor logits = F32(2, SHAPE(3, 3), ((const float[]){
        0, 0, 0, 0, (float)log(2.0), (float)log(7.0), 1000, 999, 1000 }));
    struct fcnn_tensor labels = make(FCNN_I32, 1, (const int[]){ 3 }, (const int32_t[]){ 1, 2, 1 });
    struct fcnn_tensor dlogits = F32(2, SHAPE(3, 3), NULL);
    struct fcnn_tensor loss = F32(1, SHAPE(3), NULL);
    struct fcnn_tensor pred = make(FCNN_I32, 1, (const int[]){ 3 }, NULL);
    const float want_loss[3] = { 1.09861228867f, 0.356674943939f, 1.86199480406f };
    const int32_t want_pred[3] = { 0, 2, 0 };

    expect_status("softmax_xent", fcnn_softmax_xent(be, &logits, &labels, &dlogits, &loss, &pred, 0.5f),
                  FCNN_OK);
    expect_floats("softmax_xent loss", &loss, want_loss);
    expect_ints("softmax_xent pred", &pred, want_pred);
    expect_floats("softmax_xent dlogits", &dlogits, (const float[]){
        1.0f / 6, -1.0f / 3, 1.0f / 6,
        0.05f, 0.1f, -0.15f,
        0.211159399126f, -0.422318798252f, 0.211159399126f });

    /* Evaluation: dlogits omitted, loss and pred still written. */
    struct fcnn_tensor loss2 = F32(1, SHAPE(3), NULL);
    struct fcnn_tensor pred2 = make(FCNN_I32, 1, (const int[]){ 3 }, NULL);
    expect_status("softmax_xent without dlogits",
                  fcnn_softmax_xent(be, &logits, &labels, NULL, &loss2, &pred2, 0.5f), FCNN_OK);
    expect_floats("softmax_xent loss without dlogits", &loss2, want_loss);
    expect_ints("softmax_xent pred without dlogits", &pred2, want_pred);

    /* A label out of range is refused, not read past the row. */
    struct fcnn_tensor bad = make(FCNN_I32, 1, (const int[]){ 3 }, (const int32_t[]){ 1, 3, 0 });
    expect_status("softmax_xent rejects label 3 of 3 classes",
                  fcnn_softmax_xent(be, &logits, &bad, &dlogits, &loss, &pred, 0.5f),
                  FCNN_ERR_INVALID);
    printf("ok   softmax_xent rejects a label out of range\n");
}

/* --- optimizers ------------------------------------------------------------------------- */

static void test_optimizers(void)
{
    /* SGD, lr 0.1: [1 - 0.05, -2 - 0.4]. */
    struct fcnn_tensor p = F32(1, SHAPE(2), ((const float[]){ 1, -2 }));
    struct fcnn_tensor g = F32(1, SHAPE(2), ((const float[]){ 0.5f, 4 }));
    expect_status("sgd_update", fcnn_sgd_update(be, &p, &g, &(struct fcnn_sgd_params){ 0.1f }), FCNN_OK);
    expect_floats("sgd_update", &p, (const float[]){ 0.95f, -2.4f });

    /* Momentum 0.9, lr 0.1, v = [0.1, -0.2]: v = [0.09 - 0.05, -0.18 - 0.4] = [0.04, -0.58],
     * p = [1.04, -2.58]. */
    struct fcnn_tensor pm = F32(1, SHAPE(2), ((const float[]){ 1, -2 }));
    struct fcnn_tensor v = F32(1, SHAPE(2), ((const float[]){ 0.1f, -0.2f }));
    expect_status("momentum_update",
                  fcnn_momentum_update(be, &pm, &g, &v, &(struct fcnn_momentum_params){ 0.1f, 0.9f }),
                  FCNN_OK);
    expect_floats("momentum_update velocity", &v, (const float[]){ 0.04f, -0.58f });
    expect_floats("momentum_update param", &pm, (const float[]){ 1.04f, -2.58f });

    /* Adam, Keras's formulas, first step (t = 1) from zero moments, lr 0.1, epsilon 1e-7,
     * g = [0.5, -4]:
     *   alpha = 0.1 sqrt(1 - 0.999) / (1 - 0.9) = 0.0316227766
     *   m = 0.1 g = [0.05, -0.4];  v = 0.001 g^2 = [0.00025, 0.016]
     *   p -= alpha m / (sqrt(v) + 1e-7) -> [0.900000632452, -1.900000079057]  (bc)
     * about lr sign(g), as Adam's first step should be. */
    struct fcnn_tensor ga = F32(1, SHAPE(2), ((const float[]){ 0.5f, -4 }));
    struct fcnn_adam_params adam = { .alpha = 0.0316227766017f, .beta1 = 0.9f, .beta2 = 0.999f,
                                     .epsilon = 1e-7f };
    struct fcnn_tensor pa = F32(1, SHAPE(2), ((const float[]){ 1, -2 }));
    struct fcnn_tensor ma = F32(1, SHAPE(2), ((const float[]){ 0, 0 }));
    struct fcnn_tensor va = F32(1, SHAPE(2), ((const float[]){ 0, 0 }));
    expect_status("adam_update t=1", fcnn_adam_update(be, &pa, &ga, &ma, &va, &adam), FCNN_OK);
    expect_floats("adam_update t=1 m", &ma, (const float[]){ 0.05f, -0.4f });
    expect_floats("adam_update t=1 v", &va, (const float[]){ 0.00025f, 0.016f });
    expect_floats("adam_update t=1 param", &pa, (const float[]){ 0.900000632452f, -1.900000079057f });

    /* A second step (t = 2) from m = [0.1, -0.1], v = [0.01, 0.04], with epsilon 1e-3 so
     * that where epsilon goes shows (outside the square root):
     *   alpha = 0.1 sqrt(1 - 0.999^2) / (1 - 0.9^2) = 0.0235316725
     *   m = m + (g - m) 0.1 = [0.14, -0.49];  v = v + (g^2 - v) 0.001 = [0.01024, 0.05596]
     *   p -= alpha m / (sqrt(v) + 1e-3) -> [0.967762587870, -1.951462432470]  (bc) */
    adam = (struct fcnn_adam_params){ .alpha = 0.0235316725327f, .beta1 = 0.9f, .beta2 = 0.999f,
                                      .epsilon = 1e-3f };
    struct fcnn_tensor pb = F32(1, SHAPE(2), ((const float[]){ 1, -2 }));
    struct fcnn_tensor mb = F32(1, SHAPE(2), ((const float[]){ 0.1f, -0.1f }));
    struct fcnn_tensor vb = F32(1, SHAPE(2), ((const float[]){ 0.01f, 0.04f }));
    expect_status("adam_update t=2", fcnn_adam_update(be, &pb, &ga, &mb, &vb, &adam), FCNN_OK);
    expect_floats("adam_update t=2 m", &mb, (const float[]){ 0.14f, -0.49f });
    expect_floats("adam_update t=2 v", &vb, (const float[]){ 0.01024f, 0.05596f });
    expect_floats("adam_update t=2 param", &pb, (const float[]){ 0.967762587870f, -1.951462432470f });
}

/* --- batch loading ---------------------------------------------------------------------- */

static void test_load_batch(void)
{
    /* Three 2x2 samples; order [2, 0, 1] from position 1 picks samples 0 then 1. */
    const uint8_t pixels[12] = { 0, 255, 51, 102, 1, 2, 3, 4, 10, 20, 30, 40 };
    struct fcnn_tensor images = make(FCNN_U8, 4, (const int[]){ 3, 2, 2, 1 }, pixels);
    struct fcnn_tensor labels = make(FCNN_U8, 1, (const int[]){ 3 }, (const uint8_t[]){ 7, 3, 9 });
    struct fcnn_tensor order = make(FCNN_I32, 1, (const int[]){ 3 }, (const int32_t[]){ 2, 0, 1 });
    struct fcnn_tensor x = F32(4, SHAPE(2, 2, 2, 1), NULL);
    struct fcnn_tensor y = make(FCNN_I32, 1, (const int[]){ 2 }, NULL);
    expect_status("load_batch", fcnn_load_batch(be, &images, &labels, &order, 1, &x, &y), FCNN_OK);
    expect_floats("load_batch pixels / 255", &x, (const float[]){
        0, 1, 0.2f, 0.4f, 1 / 255.0f, 2 / 255.0f, 3 / 255.0f, 4 / 255.0f });
    expect_ints("load_batch labels", &y, (const int32_t[]){ 7, 3 });

    /* An index outside the dataset is refused. */
    struct fcnn_tensor bad = make(FCNN_I32, 1, (const int[]){ 3 }, (const int32_t[]){ 2, 0, 5 });
    expect_status("load_batch rejects index 5 of 3 samples",
                  fcnn_load_batch(be, &images, &labels, &bad, 1, &x, &y), FCNN_ERR_INVALID);
    printf("ok   load_batch rejects an index out of range\n");
}

/* --- activations, dropout, batch normalization ------------------------------------- */

static int run(struct fcnn_op_call call)
{
    return fcnn_op_run(be, &call);
}

/* sigmoid(ln 3) = 1 / (1 + 1/3) = 0.75 and tanh(ln 2) = (4 - 1) / (4 + 1) = 0.6; their
 * derivatives from the output: 0.75 * 0.25 = 0.1875 and 1 - 0.36 = 0.64. */
static void test_activations(void)
{
    const float x_values[4] = { 0.0f, (float)log(3.0), (float)log(2.0), -2.0f };
    struct fcnn_tensor x = F32(1, SHAPE(4), x_values), y = F32(1, SHAPE(4), NULL);
    expect_status("sigmoid", run((struct fcnn_op_call){ .op = FCNN_OP_ACTIVATION_FWD,
                                                        .t = { &x, &y }, .p.act = FCNN_ACT_SIGMOID }),
                  FCNN_OK);
    expect_floats("sigmoid", &y, (const float[]){ 0.5f, 0.75f, 2.0f / 3.0f,
                                                  (float)(1 / (1 + exp(2.0))) });
    expect_status("tanh", run((struct fcnn_op_call){ .op = FCNN_OP_ACTIVATION_FWD,
                                                     .t = { &x, &y }, .p.act = FCNN_ACT_TANH }),
                  FCNN_OK);
    expect_floats("tanh", &y, (const float[]){ 0.0f, 0.8f, 0.6f, (float)tanh(-2.0) });
    expect_status("relu", run((struct fcnn_op_call){ .op = FCNN_OP_ACTIVATION_FWD,
                                                     .t = { &x, &y }, .p.act = FCNN_ACT_RELU }),
                  FCNN_OK);
    expect_floats("relu", &y, (const float[]){ 0.0f, (float)log(3.0), (float)log(2.0), 0.0f });

    struct fcnn_tensor out = F32(1, SHAPE(3), ((const float[]){ 0.75f, 0.6f, 0.5f }));
    struct fcnn_tensor dy = F32(1, SHAPE(3), ((const float[]){ 2, 1, -4 }));
    struct fcnn_tensor dx = F32(1, SHAPE(3), NULL);
    expect_status("sigmoid backward",
                  run((struct fcnn_op_call){ .op = FCNN_OP_ACTIVATION_BWD, .t = { &out, &dy, &dx },
                                             .p.act = FCNN_ACT_SIGMOID }), FCNN_OK);
    expect_floats("sigmoid backward", &dx, (const float[]){ 0.375f, 0.24f, -1.0f });
    expect_status("tanh backward",
                  run((struct fcnn_op_call){ .op = FCNN_OP_ACTIVATION_BWD, .t = { &out, &dy, &dx },
                                             .p.act = FCNN_ACT_TANH }), FCNN_OK);
    expect_floats("tanh backward", &dx, (const float[]){ 0.875f, 0.64f, -3.0f });
    expect_status("softmax is no elementwise op",
                  run((struct fcnn_op_call){ .op = FCNN_OP_ACTIVATION_FWD, .t = { &x, &y },
                                             .p.act = FCNN_ACT_SOFTMAX }), FCNN_ERR_INVALID);
}

/* The mask: about 1 - rate of the elements kept (five standard deviations of a binomial),
 * each kept one exactly x / (1 - rate), the rest 0; the backward applies the same mask;
 * another seed gives another mask; rate 0 is the identity. */
static void test_dropout(void)
{
    enum { N = 100000 };
    float *ones = malloc(N * sizeof *ones), *got = malloc(N * sizeof *got);
    float *again = malloc(N * sizeof *again);
    for (int i = 0; i < N; i++)
        ones[i] = 3.0f;
    struct fcnn_tensor x = F32(1, SHAPE(N), ones), y = F32(1, SHAPE(N), NULL);
    struct fcnn_op_call call = { .op = FCNN_OP_DROPOUT_FWD, .t = { &x, &y },
                                 .p.dropout = { .rate = 0.25f, .seed = 5 } };
    expect_status("dropout", run(call), FCNN_OK);
    fcnn_download(be, &y, got);
    int kept = 0, wrong = 0;
    for (int i = 0; i < N; i++) {
        kept += got[i] != 0.0f;
        wrong += got[i] != 0.0f && got[i] != 4.0f; /* 3 / 0.75 */
    }
    double fraction = (double)kept / N, sd = sqrt(0.25 * 0.75 / N);
    printf("%s dropout(0.25): %.4f kept (want 0.75 +- %.4f), %d wrongly scaled\n",
           fabs(fraction - 0.75) <= 5 * sd && !wrong ? "ok  " : "FAIL", fraction, 5 * sd, wrong);
    failures += !(fabs(fraction - 0.75) <= 5 * sd) || wrong;

    call.op = FCNN_OP_DROPOUT_BWD; /* dy = x: dx must be y */
    expect_status("dropout backward", run(call), FCNN_OK);
    fcnn_download(be, &y, again);
    bool same = memcmp(got, again, N * sizeof *got) == 0;
    call.op = FCNN_OP_DROPOUT_FWD;
    call.p.dropout.seed = 6;
    expect_status("dropout, another seed", run(call), FCNN_OK);
    fcnn_download(be, &y, again);
    bool other = memcmp(got, again, N * sizeof *got) != 0;
    call.p.dropout.rate = 0.0f;
    expect_status("dropout, rate 0", run(call), FCNN_OK);
    fcnn_download(be, &y, again);
    bool identity = memcmp(ones, again, N * sizeof *got) == 0;
    printf("%s dropout: backward on the same mask %s, another seed another mask %s, rate 0 "
           "the identity %s\n", same && other && identity ? "ok  " : "FAIL", same ? "yes" : "NO",
           other ? "yes" : "NO", identity ? "yes" : "NO");
    failures += !(same && other && identity);
    free(ones);
    free(got);
    free(again);
}

/* x [4, 2]: channel 0 holds 1, 2, 3, 6 (mean 3, biased variance (4 + 1 + 0 + 9) / 4 = 3.5),
 * channel 1 zeros (variance 0: epsilon alone keeps it finite). gamma [2, 1], beta
 * [0.5, -1], epsilon 1e-3, momentum 0.9, moving statistics from [1, 1]:
 *   y[r][0] = (x - 3) / sqrt(3.501) * 2 + 0.5,  y[r][1] = -1
 *   moving mean     = 0.9 [1, 1] + 0.1 [3, 0]   = [1.2, 0.9]
 *   moving variance = 0.9 [1, 1] + 0.1 [3.5, 0] = [1.25, 0.9] */
static void test_batchnorm(void)
{
    struct fcnn_tensor x = F32(2, SHAPE(4, 2), ((const float[]){ 1, 0, 2, 0, 3, 0, 6, 0 }));
    struct fcnn_tensor gamma = F32(1, SHAPE(2), ((const float[]){ 2, 1 }));
    struct fcnn_tensor beta = F32(1, SHAPE(2), ((const float[]){ 0.5f, -1 }));
    struct fcnn_tensor mm = F32(1, SHAPE(2), ((const float[]){ 1, 1 }));
    struct fcnn_tensor mv = F32(1, SHAPE(2), ((const float[]){ 1, 1 }));
    struct fcnn_tensor y = F32(2, SHAPE(4, 2), NULL), mean = F32(1, SHAPE(2), NULL);
    struct fcnn_tensor inv = F32(1, SHAPE(2), NULL);
    struct fcnn_batchnorm_params p = { .momentum = 0.9f, .epsilon = 1e-3f };
    expect_status("batchnorm training",
                  run((struct fcnn_op_call){ .op = FCNN_OP_BATCHNORM_FWD_TRAIN,
                                             .t = { &x, &gamma, &beta, &mm, &mv, &y, &mean, &inv },
                                             .p.batchnorm = p }), FCNN_OK);
    double s = 2 / sqrt(3.501);
    expect_floats("batchnorm training", &y,
                  (const float[]){ (float)(-2 * s + 0.5), -1, (float)(-s + 0.5), -1, 0.5f, -1,
                                   (float)(3 * s + 0.5), -1 });
    expect_floats("batchnorm moving mean", &mm, (const float[]){ 1.2f, 0.9f });
    expect_floats("batchnorm moving variance", &mv, (const float[]){ 1.25f, 0.9f });
    expect_floats("batchnorm batch statistics", &mean, (const float[]){ 3, 0 });
    expect_floats("batchnorm inverse deviation", &inv,
                  (const float[]){ (float)(1 / sqrt(3.501)), (float)(1 / sqrt(1e-3)) });

    /* Evaluation uses the moving statistics: (x - 1.2) / sqrt(1.251) * 2 + 0.5. */
    expect_status("batchnorm evaluation",
                  run((struct fcnn_op_call){ .op = FCNN_OP_BATCHNORM_FWD_INFER,
                                             .t = { &x, &gamma, &beta, &mm, &mv, &y },
                                             .p.batchnorm = p }), FCNN_OK);
    double e = 2 / sqrt(1.251), f = 1 / sqrt(0.901);
    expect_floats("batchnorm evaluation", &y,
                  (const float[]){ (float)(-0.2 * e + 0.5), (float)(-0.9 * f - 1),
                                   (float)(0.8 * e + 0.5), (float)(-0.9 * f - 1),
                                   (float)(1.8 * e + 0.5), (float)(-0.9 * f - 1),
                                   (float)(4.8 * e + 0.5), (float)(-0.9 * f - 1) });

    /* A constant dy moves every output of a channel alike, which normalisation undoes:
     * dx = 0, dbeta = 4 dy, dgamma = dy sum(xhat) = 0. */
    struct fcnn_tensor dy = F32(2, SHAPE(4, 2), ((const float[]){ 1, 2, 1, 2, 1, 2, 1, 2 }));
    struct fcnn_tensor dx = F32(2, SHAPE(4, 2), NULL), dgamma = F32(1, SHAPE(2), NULL);
    struct fcnn_tensor dbeta = F32(1, SHAPE(2), NULL);
    expect_status("batchnorm backward",
                  run((struct fcnn_op_call){ .op = FCNN_OP_BATCHNORM_BWD,
                                             .t = { &x, &dy, &gamma, &mean, &inv, &dx, &dgamma,
                                                    &dbeta }, .p.batchnorm = p }), FCNN_OK);
    expect_floats("batchnorm backward dx", &dx, (const float[]){ 0, 0, 0, 0, 0, 0, 0, 0 });
    expect_floats("batchnorm backward dgamma", &dgamma, (const float[]){ 0, 0 });
    expect_floats("batchnorm backward dbeta", &dbeta, (const float[]){ 4, 8 });

    /* With the ReLU fused (act relu): the same normalisation clamped at 0, and dy seen
     * through the mask y > 0, y recomputed from x and beta — rows 2 and 3 of channel 0
     * only. There xhat = d / sqrt(3.501)
     * with d = [-2, -1, 0, 3], so dbeta = [2, 0], dgamma = [3 / sqrt(3.501), 0] and
     * dx[r][0] = 2 inv / 4 (4 g_r - 2 - 3 d_r inv^2), g = [0, 0, 1, 1], inv = 1/sqrt(3.501). */
    p.act = FCNN_ACT_RELU;
    expect_status("batchnorm training with relu",
                  run((struct fcnn_op_call){ .op = FCNN_OP_BATCHNORM_FWD_TRAIN,
                                             .t = { &x, &gamma, &beta, &mm, &mv, &y, &mean, &inv },
                                             .p.batchnorm = p }), FCNN_OK);
    expect_floats("batchnorm training with relu", &y,
                  (const float[]){ 0, 0, 0, 0, 0.5f, 0, (float)(3 * s + 0.5), 0 });
    expect_status("batchnorm backward with relu",
                  run((struct fcnn_op_call){ .op = FCNN_OP_BATCHNORM_BWD,
                                             .t = { &x, &dy, &gamma, &mean, &inv, &dx, &dgamma,
                                                    &dbeta, &beta }, .p.batchnorm = p }), FCNN_OK);
    double i1 = 1 / sqrt(3.501), d[4] = { -2, -1, 0, 3 }, g[4] = { 0, 0, 1, 1 };
    float want[8] = { 0 };
    for (int r = 0; r < 4; r++)
        want[2 * r] = (float)(2 * i1 / 4 * (4 * g[r] - 2 - 3 * d[r] * i1 * i1));
    expect_floats("batchnorm backward with relu dx", &dx, want);
    expect_floats("batchnorm backward with relu dgamma", &dgamma,
                  (const float[]){ (float)(3 * i1), 0 });
    expect_floats("batchnorm backward with relu dbeta", &dbeta, (const float[]){ 2, 0 });
    /* 'beta' goes with a fused relu and only with it. */
    p.act = FCNN_ACT_NONE;
    expect_status("batchnorm backward: beta without relu",
                  run((struct fcnn_op_call){ .op = FCNN_OP_BATCHNORM_BWD,
                                             .t = { &x, &dy, &gamma, &mean, &inv, &dx, &dgamma,
                                                    &dbeta, &beta }, .p.batchnorm = p }),
                  FCNN_ERR_INVALID);
}

int main(void)
{
    if (fcnn_backend_open("ref", NULL, &be) != FCNN_OK) {
        printf("cannot open the reference backend: %s\n", fcnn_last_error());
        return 99;
    }
    void (*const tests[])(void) = { test_conv_forward, test_conv_channels, test_conv_backward,
                                    test_bias, test_pool, test_conv_keras_padding,
                                    test_pool_same, test_relu, test_dense, test_softmax,
                                    test_optimizers, test_load_batch, test_activations,
                                    test_dropout, test_batchnorm };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        tests[i]();
        free_buffers();
    }
    fcnn_backend_close(be);
    printf("%s\n", failures ? "FAILED" : "all reference ops match the hand-computed values");
    return failures ? 1 : 0;
}
