/* Max pooling over square windows, NHWC, no padding ("valid"), mirroring
 * backends/ref/ref_pool.c. The backward routes each window's gradient to the FIRST
 * position holding its maximum in row-major window order, found with the same strict
 * comparison as the reference, so ties (which ReLU makes common) resolve the same way. */

#ifndef WG_SIZE
#define WG_SIZE 64
#endif

/* Each work-item handles one pixel and loops over its C contiguous channels, so the
 * integer divisions that locate the pixel are paid once per pixel, not per element. */

/* The first maximum of the size x size window at `corner` (the window's top-left element
 * of channel c), as its row-major position in the window; *value gets the maximum. */
static int window_argmax(__global const float *corner, int W, int C, int size, float *value)
{
    int best = 0;
    float best_value = corner[0];
    for (int i = 0; i < size; i++) {
        for (int j = 0; j < size; j++) {
            float v = corner[(i * W + j) * C];
            if (v > best_value) {
                best = i * size + j;
                best_value = v;
            }
        }
    }
    *value = best_value;
    return best;
}

/* One output pixel (all channels) per work-item; pixels = N*HO*WO. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void maxpool_fwd(__global const float *x, ulong x_offset, __global float *y, ulong y_offset,
                 int H, int W, int C, int HO, int WO, int size, int stride, int pixels)
{
    int pixel = get_global_id(0);
    if (pixel >= pixels)
        return;
    int ow = pixel % WO, rest = pixel / WO;
    int oh = rest % HO, n = rest / HO;
    __global const float *corner = x + x_offset + ((n * H + oh * stride) * W + ow * stride) * C;
    __global float *out = y + y_offset + pixel * C;
    for (int c = 0; c < C; c++) {
        float max;
        window_argmax(corner + c, W, C, size, &max);
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
                 int HO, int WO, int size, int stride, int pixels)
{
    int pixel = get_global_id(0);
    if (pixel >= pixels)
        return;
    int iw = pixel % W, rest = pixel / W;
    int ih = rest % H, n = rest / H;
    x += x_offset;
    dy += dy_offset;
    __global float *out = dx + dx_offset + pixel * C;

    /* Windows oh with oh*stride <= ih < oh*stride + size, likewise along the width. */
    int oh_first = ih - size + 1 <= 0 ? 0 : (ih - size + stride) / stride;
    int oh_last = min(HO - 1, ih / stride);
    int ow_first = iw - size + 1 <= 0 ? 0 : (iw - size + stride) / stride;
    int ow_last = min(WO - 1, iw / stride);
    for (int c = 0; c < C; c++) {
        float sum = 0.0f;
        for (int oh = oh_first; oh <= oh_last; oh++) {
            for (int ow = ow_first; ow <= ow_last; ow++) {
                __global const float *corner =
                    x + ((n * H + oh * stride) * W + ow * stride) * C + c;
                /* This pixel's position inside window (oh, ow). */
                int here = (ih - oh * stride) * size + (iw - ow * stride);
                float max;
                if (window_argmax(corner, W, C, size, &max) == here)
                    sum += dy[((n * HO + oh) * WO + ow) * C + c];
            }
        }
        out[c] = sum;
    }
}

/* The vector forms, for channel counts that are a multiple of 16: each work-item takes one
 * window and 16 channels as a float16, so every load and store is a whole vector. The
 * first maximum is kept with the same strict comparison, lane by lane. */

/* One (output pixel, 16 channels) per work-item; count = N*HO*WO * C/16. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void maxpool_fwd_vec16(__global const float *x, ulong x_offset, __global float *y,
                       ulong y_offset, int H, int W, int C, int HO, int WO, int size,
                       int stride, int count)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    int vectors = C / 16;
    int cv = gid % vectors, pixel = gid / vectors;
    int ow = pixel % WO, rest = pixel / WO;
    int oh = rest % HO, n = rest / HO;
    __global const float *corner =
        x + x_offset + ((size_t)(n * H + oh * stride) * W + ow * stride) * C + 16 * cv;
    float16 best = vload16(0, corner);
    for (int i = 0; i < size; i++)
        for (int j = 0; j < size; j++) {
            float16 v = vload16(0, corner + (i * W + j) * C);
            best = select(best, v, v > best);
        }
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

/* maxpool_bwd_scatter16 fused with what follows it in a convolution layer's backward pass
 * (the backend fuses ops enqueued back to back): the ReLU's mask, when the pooled input is
 * the ReLU's output (relu: dy reaches a position only where x > 0, and the routed position
 * holds the window's maximum), and the bias gradient's first pass (bias: each work-item
 * also sums what it writes, per channel, into partial[n * HO + oh]: dx is never read back
 * for it). One work-item per (sample, window row, 16 channels) walking the row's windows;
 * the last row and column of windows also zero what floor division left uncovered.
 * count = N*HO * C/16. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void maxpool_bwd_fused16(__global const float *x, ulong x_offset, __global const float *dy,
                         ulong dy_offset, __global float *dx, ulong dx_offset,
                         __global float *partial, int H, int W, int C, int HO, int WO, int size,
                         int relu, int bias, int count)
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
        float16 g = 0.0f + vload16(0, dy + dy_offset + ((size_t)(n * HO + oh) * WO + ow) * C +
                                          16 * cv);
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
