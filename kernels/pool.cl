/* Pooling, NHWC, mirroring backends/ref/ref_pool.c: windows of PH x PW moving by SH, SW,
 * window (oh, ow) covering input rows oh*SH - PT + [0, PH) and columns ow*SW - PL + [0, PW)
 * clipped to the image. Padded positions belong to no window (TensorFlow's rule): max
 * pooling ignores them, average pooling divides by the number of real positions. The
 * dispatcher keeps every pad smaller than the window, so no window is empty.
 *
 * Max pooling's backward routes each window's gradient to the FIRST real position holding
 * its maximum in row-major window order, found with the same strict comparison as the
 * reference, so ties (which ReLU makes common) resolve the same way. */

#ifndef WG_SIZE
#define WG_SIZE 64
#endif

#include "dropout_mask.cl"

/* Each work-item handles one pixel and loops over its C contiguous channels, so the
 * integer divisions that locate the pixel are paid once per pixel, not per element. */

/* The real rows [i0, i1) and columns [j0, j1) of window (oh, ow). */
static int4 window_at(int H, int W, int oh, int ow, int PH, int PW, int SH, int SW, int PT,
                      int PL)
{
    int top = oh * SH - PT, left = ow * SW - PL;
    return (int4)(max(top, 0), min(top + PH, H), max(left, 0), min(left + PW, W));
}

/* The first maximum of window `win` of channel c of one image (`image` points at its first
 * element), as the flat pixel index ih * W + iw; *value gets the maximum. */
static int window_argmax(__global const float *image, int W, int C, int4 win, int c,
                         float *value)
{
    int best = win.s0 * W + win.s2;
    float best_value = image[best * C + c];
    for (int ih = win.s0; ih < win.s1; ih++) {
        for (int iw = win.s2; iw < win.s3; iw++) {
            float v = image[(ih * W + iw) * C + c];
            if (v > best_value) {
                best = ih * W + iw;
                best_value = v;
            }
        }
    }
    *value = best_value;
    return best;
}

/* The windows that hold input position `in` along one axis: [first, last] (empty when
 * first > last). Window o starts at o*S - P and holds `in` when o*S - P <= in < o*S - P + K. */
static int2 windows_holding(int in, int K, int S, int P, int outs)
{
    int lo = in + P - K + 1; /* o*S >= lo */
    int first = lo <= 0 ? 0 : (lo + S - 1) / S;
    int last = min(outs - 1, (in + P) / S);
    return (int2)(first, last);
}

/* One output pixel (all channels) per work-item; pixels = N*HO*WO. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void maxpool_fwd(__global const float *x, ulong x_offset, __global float *y, ulong y_offset,
                 int H, int W, int C, int HO, int WO, int PH, int PW, int SH, int SW, int PT,
                 int PL, int pixels)
{
    int pixel = get_global_id(0);
    if (pixel >= pixels)
        return;
    int ow = pixel % WO, rest = pixel / WO;
    int oh = rest % HO, n = rest / HO;
    int4 win = window_at(H, W, oh, ow, PH, PW, SH, SW, PT, PL);
    __global const float *image = x + x_offset + (size_t)n * H * W * C;
    __global float *out = y + y_offset + (size_t)pixel * C;
    for (int c = 0; c < C; c++) {
        float max;
        window_argmax(image, W, C, win, c, &max);
        out[c] = max;
    }
}

/* One input pixel (all channels) per work-item, a gather: each element gets the sum of dy
 * over the windows that contain it and whose first maximum it is, taken in the
 * reference's (oh, ow) order, or 0. Every element is written, none twice, with no atomics
 * even when windows overlap. pixels = N*H*W. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void maxpool_bwd(__global const float *x, ulong x_offset, __global const float *dy,
                 ulong dy_offset, __global float *dx, ulong dx_offset, int H, int W, int C,
                 int HO, int WO, int PH, int PW, int SH, int SW, int PT, int PL, int pixels)
{
    int pixel = get_global_id(0);
    if (pixel >= pixels)
        return;
    int iw = pixel % W, rest = pixel / W;
    int ih = rest % H, n = rest / H;
    __global const float *image = x + x_offset + (size_t)n * H * W * C;
    dy += dy_offset;
    __global float *out = dx + dx_offset + (size_t)pixel * C;
    int2 rows = windows_holding(ih, PH, SH, PT, HO), cols = windows_holding(iw, PW, SW, PL, WO);
    int here = ih * W + iw;
    for (int c = 0; c < C; c++) {
        float sum = 0.0f;
        for (int oh = rows.s0; oh <= rows.s1; oh++) {
            for (int ow = cols.s0; ow <= cols.s1; ow++) {
                int4 win = window_at(H, W, oh, ow, PH, PW, SH, SW, PT, PL);
                float max;
                if (window_argmax(image, W, C, win, c, &max) == here)
                    sum += dy[((size_t)(n * HO + oh) * WO + ow) * C + c];
            }
        }
        out[c] = sum;
    }
}

/* Average pooling: one output pixel (all channels) per work-item, the sum of the window's
 * real positions divided by their number; pixels = N*HO*WO. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void avgpool_fwd(__global const float *x, ulong x_offset, __global float *y, ulong y_offset,
                 int H, int W, int C, int HO, int WO, int PH, int PW, int SH, int SW, int PT,
                 int PL, int pixels)
{
    int pixel = get_global_id(0);
    if (pixel >= pixels)
        return;
    int ow = pixel % WO, rest = pixel / WO;
    int oh = rest % HO, n = rest / HO;
    int4 win = window_at(H, W, oh, ow, PH, PW, SH, SW, PT, PL);
    float real = (float)((win.s1 - win.s0) * (win.s3 - win.s2));
    __global const float *image = x + x_offset + (size_t)n * H * W * C;
    __global float *out = y + y_offset + (size_t)pixel * C;
    for (int c = 0; c < C; c++)
        out[c] = 0.0f;
    for (int ih = win.s0; ih < win.s1; ih++)
        for (int iw = win.s2; iw < win.s3; iw++) {
            __global const float *in = image + (ih * W + iw) * C;
            for (int c = 0; c < C; c++)
                out[c] += in[c];
        }
    for (int c = 0; c < C; c++)
        out[c] /= real;
}

/* Average pooling's backward, a gather per input pixel (all channels): the sum over the
 * windows holding it of dy divided by that window's real positions, in (oh, ow) order.
 * pixels = N*H*W. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void avgpool_bwd(__global const float *dy, ulong dy_offset, __global float *dx, ulong dx_offset,
                 int H, int W, int C, int HO, int WO, int PH, int PW, int SH, int SW, int PT,
                 int PL, int pixels)
{
    int pixel = get_global_id(0);
    if (pixel >= pixels)
        return;
    int iw = pixel % W, rest = pixel / W;
    int ih = rest % H, n = rest / H;
    dy += dy_offset;
    __global float *out = dx + dx_offset + (size_t)pixel * C;
    int2 rows = windows_holding(ih, PH, SH, PT, HO), cols = windows_holding(iw, PW, SW, PL, WO);
    for (int c = 0; c < C; c++)
        out[c] = 0.0f;
    for (int oh = rows.s0; oh <= rows.s1; oh++)
        for (int ow = cols.s0; ow <= cols.s1; ow++) {
            int4 win = window_at(H, W, oh, ow, PH, PW, SH, SW, PT, PL);
            float real = (float)((win.s1 - win.s0) * (win.s3 - win.s2));
            __global const float *g = dy + ((size_t)(n * HO + oh) * WO + ow) * C;
            for (int c = 0; c < C; c++)
                out[c] += g[c] / real;
        }
}

/* Average pooling's vector forms, for channel counts that are a multiple of 16.
 *
 * The forward: a work-item takes one output pixel and walks its channels 16 at a time as
 * float16, summing in registers and storing each vector once (avgpool_fwd above adds into
 * y itself, a load and a store per term). One pixel per work-item, not one vector: the
 * integer divisions that place a pixel and its window cost more than the sums, and paying
 * them once per 16 channels measured 1.5-3x slower than avgpool_fwd.
 *
 * The backward of pools that tile the input: a scatter, below. For overlapping windows
 * the gather above stays: its channel loop is innermost and contiguous, which the
 * compiler vectorises, and it already moves dx and dy at about the rate the maxpool
 * scatter reaches; float16 gathers (per vector, per pixel, two vectors at a time)
 * measured the same or slower. */

/* One output pixel per work-item, any window, stride and padding; count = N*HO*WO. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void avgpool_fwd_vec16(__global const float *x, ulong x_offset, __global float *y,
                       ulong y_offset, int H, int W, int C, int HO, int WO, int PH, int PW,
                       int SH, int SW, int PT, int PL, int count)
{
    int pixel = get_global_id(0);
    if (pixel >= count)
        return;
    int ow = pixel % WO, rest = pixel / WO;
    int oh = rest % HO, n = rest / HO;
    int4 win = window_at(H, W, oh, ow, PH, PW, SH, SW, PT, PL);
    float real = (float)((win.s1 - win.s0) * (win.s3 - win.s2));
    __global const float *image = x + x_offset + (size_t)n * H * W * C;
    __global float *out = y + y_offset + (size_t)pixel * C;
    for (int c = 0; c < C; c += 16) {
        float16 sum = (float16)(0.0f);
        for (int ih = win.s0; ih < win.s1; ih++)
            for (int iw = win.s2; iw < win.s3; iw++)
                sum += vload16(0, image + (ih * W + iw) * C + c);
        vstore16(sum / real, 0, out + c);
    }
}

/* Windows that tile the input (stride == pool, no padding: Keras's AveragePooling2D(2)),
 * a scatter: each work-item reads its window's dy once and writes dy / (PH*PW) to every
 * position of the window. Rows and columns past the last window (floor division drops
 * them) are zeroed by the last window of their row or column, so every element of dx is
 * written exactly once. count = N*HO*WO * C/16. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void avgpool_bwd_scatter16(__global const float *dy, ulong dy_offset, __global float *dx,
                           ulong dx_offset, int H, int W, int C, int HO, int WO, int PH, int PW,
                           int count)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    int vectors = C / 16;
    int cv = gid % vectors, pixel = gid / vectors;
    int ow = pixel % WO, rest = pixel / WO;
    int oh = rest % HO, n = rest / HO;
    float16 g = vload16(0, dy + dy_offset + (size_t)pixel * C + 16 * cv) / (float)(PH * PW);
    __global float *out = dx + dx_offset + ((size_t)(n * H + oh * PH) * W + ow * PW) * C + 16 * cv;
    int rows = oh == HO - 1 ? H - oh * PH : PH;
    int cols = ow == WO - 1 ? W - ow * PW : PW;
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++)
            vstore16(i < PH && j < PW ? g : (float16)(0.0f), 0, out + (i * W + j) * C);
}

/* Global average pooling: y[n, c] = the mean of x[n, :, :, c]; one work-item per (n, c),
 * so neighbouring work-items read neighbouring channels. count = N*C. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void global_avgpool_fwd(__global const float *x, ulong x_offset, __global float *y,
                        ulong y_offset, int pixels, int C, int count)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    int c = gid % C, n = gid / C;
    __global const float *in = x + x_offset + (size_t)n * pixels * C + c;
    float sum = 0.0f;
    for (int q = 0; q < pixels; q++)
        sum += in[(size_t)q * C];
    y[y_offset + gid] = sum / (float)pixels;
}

/* dx[n, h, w, c] = dy[n, c] / (H*W): one input pixel (all channels) per work-item;
 * count = N*H*W. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void global_avgpool_bwd(__global const float *dy, ulong dy_offset, __global float *dx,
                        ulong dx_offset, int pixels, int C, int count)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    int n = gid / pixels;
    __global const float *g = dy + dy_offset + (size_t)n * C;
    __global float *out = dx + dx_offset + (size_t)gid * C;
    for (int c = 0; c < C; c++)
        out[c] = g[c] / (float)pixels;
}

/* The vector forms, for channel counts that are a multiple of 16: each work-item takes one
 * window and 16 channels as a float16, so every load and store is a whole vector. The
 * first maximum is kept with the same strict comparison, lane by lane. */

/* Windows that padding does not clip (every window of a "valid" pool): the window's corner
 * and fixed loop bounds, the reference model's fast path. One (output pixel, 16 channels)
 * per work-item; count = N*HO*WO * C/16. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void maxpool_fwd_vec16(__global const float *x, ulong x_offset, __global float *y,
                       ulong y_offset, int H, int W, int C, int HO, int WO, int PH, int PW,
                       int SH, int SW, int count)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    int vectors = C / 16;
    int cv = gid % vectors, pixel = gid / vectors;
    int ow = pixel % WO, rest = pixel / WO;
    int oh = rest % HO, n = rest / HO;
    __global const float *corner =
        x + x_offset + ((size_t)(n * H + oh * SH) * W + ow * SW) * C + 16 * cv;
    float16 best = vload16(0, corner);
    for (int i = 0; i < PH; i++)
        for (int j = 0; j < PW; j++) {
            float16 v = vload16(0, corner + (i * W + j) * C);
            best = select(best, v, v > best);
        }
    vstore16(best, 0, y + y_offset + (size_t)pixel * C + 16 * cv);
}

/* The maximum of a window clipped to the image (win as window_at gives it), 16 channels
 * at once from image, the sample's first pixel at its channel block. */
static float16 window_max16(__global const float *image, int W, int C, int4 win)
{
    float16 best = vload16(0, image + (win.s0 * W + win.s2) * C);
    for (int ih = win.s0; ih < win.s1; ih++)
        for (int iw = win.s2; iw < win.s3; iw++) {
            float16 v = vload16(0, image + (ih * W + iw) * C);
            best = select(best, v, v > best);
        }
    return best;
}

/* Any padding: each window clipped to the image first. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void maxpool_fwd_vec16_clipped(__global const float *x, ulong x_offset, __global float *y,
                       ulong y_offset, int H, int W, int C, int HO, int WO, int PH, int PW,
                       int SH, int SW, int PT, int PL, int count)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    int vectors = C / 16;
    int cv = gid % vectors, pixel = gid / vectors;
    int ow = pixel % WO, rest = pixel / WO;
    int oh = rest % HO, n = rest / HO;
    int4 win = window_at(H, W, oh, ow, PH, PW, SH, SW, PT, PL);
    __global const float *image = x + x_offset + (size_t)n * H * W * C + 16 * cv;
    float16 best = window_max16(image, W, C, win);
    vstore16(best, 0, y + y_offset + (size_t)pixel * C + 16 * cv);
}

/* Non-overlapping windows (stride == size), a scatter: each work-item finds its window's
 * first maximum in each of 16 channels and writes the whole window, dy at the maximum and
 * zero elsewhere. Input rows and columns past the last window (floor division drops them)
 * belong to the last window of their row or column, which zeroes them, so every element of
 * dx is written exactly once. "0.0f + dy" is the reference's sum: it turns -0 into +0.
 * count = N*HO*WO * C/16. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void maxpool_bwd_scatter16(__global const float *x, ulong x_offset, __global const float *dy,
                           ulong dy_offset, __global float *dx, ulong dx_offset, int H, int W,
                           int C, int HO, int WO, int size, int count)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    int vectors = C / 16;
    int cv = gid % vectors, pixel = gid / vectors;
    int ow = pixel % WO, rest = pixel / WO;
    int oh = rest % HO, n = rest / HO;
    size_t corner = ((size_t)(n * H + oh * size) * W + ow * size) * C + 16 * cv;
    x += x_offset + corner;
    dx += dx_offset + corner;

    float16 best = vload16(0, x);
    int16 best_at = (int16)(0);
    for (int i = 0; i < size; i++)
        for (int j = 0; j < size; j++) {
            float16 v = vload16(0, x + (i * W + j) * C);
            int16 greater = v > best;
            best = select(best, v, greater);
            best_at = select(best_at, (int16)(i * size + j), greater);
        }
    float16 g = 0.0f + vload16(0, dy + dy_offset + (size_t)pixel * C + 16 * cv);

    int rows = oh == HO - 1 ? H - oh * size : size;
    int cols = ow == WO - 1 ? W - ow * size : size;
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            int16 here = (int16)(i < size && j < size ? i * size + j : -1);
            vstore16(select((float16)(0.0f), g, best_at == here), 0, dx + (i * W + j) * C);
        }
}

/* --- Dropout fused into the pooling beside it (the backend fuses ops enqueued back to
 * back, backends/opencl/ocl_fuse.c) --- */

/* maxpool_fwd followed by dropout_fwd reading its output: each window's maximum is
 * written to y (the pooled output, still there for whoever reads it, unless the dropout
 * runs in place: write_pooled 0) and, masked and scaled, to dropped. Windows clipped to the
 * image as in maxpool_fwd_vec16_clipped (with no padding none is). One (output pixel, 16
 * channels) per work-item; count = N*HO*WO * C/16. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void maxpool_fwd_dropout16(__global const float *x, ulong x_offset, __global float *y,
                           ulong y_offset, __global float *dropped, ulong dropped_offset,
                           int H, int W, int C, int HO, int WO, int PH, int PW, int SH, int SW,
                           int PT, int PL, uint seed, uint threshold, float scale,
                           int write_pooled, int count)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    int vectors = C / 16;
    int cv = gid % vectors, pixel = gid / vectors;
    int ow = pixel % WO, rest = pixel / WO;
    int oh = rest % HO, n = rest / HO;
    int4 win = window_at(H, W, oh, ow, PH, PW, SH, SW, PT, PL);
    __global const float *image = x + x_offset + (size_t)n * H * W * C + 16 * cv;
    float16 best = window_max16(image, W, C, win);
    size_t at = (size_t)pixel * C + 16 * cv;
    if (write_pooled)
        vstore16(best, 0, y + y_offset + at);
    vstore16(dropout16(best, seed, (uint)at, threshold, scale), 0, dropped + dropped_offset + at);
}

/* maxpool_bwd_scatter16 fused with what comes beside it in a convolution layer's backward
 * pass: the dropout before it (dropout: dy is the dropout's input gradient, masked and
 * scaled here as it is read, the result also stored to `dropped`, the dropout's output,
 * which stays observable), the ReLU's mask, when the pooled input is the ReLU's output
 * (relu: dy reaches a position only where x > 0, and the routed position holds the window's
 * maximum), and the bias gradient's first pass (bias: each work-item also sums what it
 * writes, per channel, into partial[n * HO + oh]: dx is never read back for it). One
 * work-item per (sample, window row, 16 channels) walking the row's windows; the last row
 * and column of windows also zero what floor division left uncovered.
 * count = N*HO * C/16. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void maxpool_bwd_fused16(__global const float *x, ulong x_offset, __global const float *dy,
                         ulong dy_offset, __global float *dx, ulong dx_offset,
                         __global float *partial, __global float *dropped,
                         ulong dropped_offset, int H, int W, int C, int HO, int WO, int size,
                         int dropout, uint seed, uint threshold, float scale, int relu,
                         int bias, int count)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    int vectors = C / 16;
    int cv = gid % vectors, row = gid / vectors;
    int oh = row % HO, n = row / HO;
    int rows = oh == HO - 1 ? H - oh * size : size;
    float16 sum = (float16)(0.0f);
    for (int ow = 0; ow < WO; ow++) {
        size_t corner = ((size_t)(n * H + oh * size) * W + ow * size) * C + 16 * cv;
        __global const float *xw = x + x_offset + corner;
        __global float *dxw = dx + dx_offset + corner;
        float16 best = vload16(0, xw);
        int16 best_at = (int16)(0);
        for (int i = 0; i < size; i++)
            for (int j = 0; j < size; j++) {
                float16 v = vload16(0, xw + (i * W + j) * C);
                int16 greater = v > best;
                best = select(best, v, greater);
                best_at = select(best_at, (int16)(i * size + j), greater);
            }
        size_t at = ((size_t)(n * HO + oh) * WO + ow) * C + 16 * cv;
        float16 g = vload16(0, dy + dy_offset + at);
        if (dropout) {
            g = dropout16(g, seed, (uint)at, threshold, scale);
            vstore16(g, 0, dropped + dropped_offset + at);
        }
        g = 0.0f + g;
        if (relu)
            g = select((float16)(0.0f), g, best > (float16)(0.0f));
        sum += g;
        int cols = ow == WO - 1 ? W - ow * size : size;
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) {
                int16 here = (int16)(i < size && j < size ? i * size + j : -1);
                vstore16(select((float16)(0.0f), g, best_at == here), 0, dxw + (i * W + j) * C);
            }
    }
    if (bias)
        vstore16(sum, 0, partial + (size_t)row * C + 16 * cv);
}
