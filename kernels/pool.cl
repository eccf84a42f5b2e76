/* Max pooling over square windows, NHWC, no padding ("valid"), mirroring
 * backends/ref/ref_pool.c. The backward routes each window's gradient to the FIRST
 * position holding its maximum in row-major window order, found with the same strict
 * comparison as the reference, so ties (which ReLU makes common) resolve the same way. */

#ifndef WG_SIZE
#define WG_SIZE 64
#endif

/* Flat index into x of the first maximum of window (n, oh, ow) in channel c. */
static int window_argmax(__global const float *x, int H, int W, int C, int n, int oh, int ow,
                         int c, int size, int stride)
{
    int best = -1;
    float best_value = 0.0f;
    for (int i = 0; i < size; i++) {
        for (int j = 0; j < size; j++) {
            int at = ((n * H + oh * stride + i) * W + ow * stride + j) * C + c;
            float v = x[at];
            if (best < 0 || v > best_value) {
                best = at;
                best_value = v;
            }
        }
    }
    return best;
}

/* One output element per work-item; count = N*HO*WO*C. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void maxpool_fwd(__global const float *x, ulong x_offset, __global float *y, ulong y_offset,
                 int H, int W, int C, int HO, int WO, int size, int stride, int count)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    x += x_offset;
    y += y_offset;
    int c = gid % C, rest = gid / C;
    int ow = rest % WO;
    rest /= WO;
    int oh = rest % HO, n = rest / HO;
    y[gid] = x[window_argmax(x, H, W, C, n, oh, ow, c, size, stride)];
}

/* One dx element per work-item, a gather: the sum of dy over the windows that contain
 * this position and whose first maximum it is, taken in the reference's (oh, ow) order,
 * or 0. Every element is written, none twice, with no atomics even when windows overlap.
 * count = N*H*W*C. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void maxpool_bwd(__global const float *x, ulong x_offset, __global const float *dy,
                 ulong dy_offset, __global float *dx, ulong dx_offset, int H, int W, int C,
                 int HO, int WO, int size, int stride, int count)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    x += x_offset;
    dy += dy_offset;
    dx += dx_offset;
    int c = gid % C, rest = gid / C;
    int iw = rest % W;
    rest /= W;
    int ih = rest % H, n = rest / H;

    /* Windows oh with oh*stride <= ih < oh*stride + size, likewise along the width. */
    int oh_first = ih - size + 1 <= 0 ? 0 : (ih - size + stride) / stride;
    int oh_last = min(HO - 1, ih / stride);
    int ow_first = iw - size + 1 <= 0 ? 0 : (iw - size + stride) / stride;
    int ow_last = min(WO - 1, iw / stride);
    float sum = 0.0f;
    for (int oh = oh_first; oh <= oh_last; oh++)
        for (int ow = ow_first; ow <= ow_last; ow++)
            if (window_argmax(x, H, W, C, n, oh, ow, c, size, stride) == gid)
                sum += dy[((n * HO + oh) * WO + ow) * C + c];
    dx[gid] = sum;
}
