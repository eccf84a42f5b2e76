/* Register-tiled direct convolution, NHWC activations and HWIO kernels, with no im2col:
 * the column matrix is never built, each work-item reads the input pixels its taps need.
 *
 *   y[n,oh,ow,k] = act(b[k] + sum_{i,j,c} x[n, oh*sh - ph + i, ow*sw - pw + j, c] w[i,j,c,k])
 *
 * Each work-item computes a tile of PIX adjacent output pixels of one row times 16*KV
 * output channels, held in PIX*KV float16 accumulators. For every (tap, input channel)
 * it loads the KV weight vectors once (vload16: a tap's weights are contiguous along k in
 * HWIO) and broadcasts one input scalar per pixel, so the inner loop is KV vector loads,
 * PIX scalar broadcasts and PIX*KV fused multiply-adds.
 *
 * Why this shape, measured on PoCL (CPU, AVX-512, issue 6):
 *  - explicit float16 is what makes PoCL emit 512-bit FMAs; float8 halves the speed, and
 *    PoCL's own work-group vectoriser does far worse than vectors written by hand;
 *  - no local memory and no barrier: a barrier makes PoCL split the kernel into regions
 *    and spill the accumulators to memory (GPU-style tiles ran at a few GFLOPS);
 *  - the zero padding comes from `zeros`, a row of at least C zeros: a tap that falls
 *    outside the image points its pixel there, so the inner loop has no bounds test.
 *
 * conv2d_flip_weights turns an HWIO kernel into the one that computes the input gradient
 * with this same kernel (stride 1): dx = conv(dy, flip(w)) with taps reversed and the
 * channel axes swapped, padded by (KH - 1 - pad, KW - 1 - pad). */

#ifndef PIX
#define PIX 7 /* output pixels per work-item, along a row */
#endif
#ifndef KV
#define KV 2 /* float16 vectors of output channels per work-item */
#endif
#ifndef KW_FIXED
#define KW_FIXED 3 /* conv2d_rows: the kernel width it is compiled for */
#endif
#ifndef WG_SIZE
#define WG_SIZE 4 /* small groups: many of them, so every core gets a share */
#endif

/* One work-item per (sample, output row, PIX-pixel segment, 16*KV-channel block), the block
 * fastest; count = N*HO*segs*kblocks. K must be a multiple of 16*KV (the host checks). */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void conv2d_tiled(__global const float *x, ulong x_offset, __global const float *w,
                  ulong w_offset, __global const float *b, ulong b_offset, int use_bias,
                  __global float *y, ulong y_offset, __global const float *zeros,
                  int H, int W, int C, int KH, int KW, int K, int stride_h, int stride_w,
                  int pad_h, int pad_w, int HO, int WO, int relu, int segs, int kblocks,
                  int count)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    x += x_offset;
    w += w_offset;
    b += b_offset;
    y += y_offset;
    int kb = gid % kblocks, rest = gid / kblocks;
    int seg = rest % segs;
    rest /= segs;
    int oh = rest % HO, n = rest / HO;
    int ow0 = seg * PIX, k0 = kb * 16 * KV;

    float16 acc[PIX][KV];
#pragma unroll
    for (int v = 0; v < KV; v++) {
        float16 start = use_bias ? vload16(0, b + k0 + 16 * v) : (float16)(0.0f);
#pragma unroll
        for (int p = 0; p < PIX; p++)
            acc[p][v] = start;
    }

    for (int i = 0; i < KH; i++) {
        int ih = oh * stride_h - pad_h + i;
        if (ih < 0 || ih >= H)
            continue; /* a whole row of padding adds nothing */
        __global const float *xrow = x + (size_t)(n * H + ih) * W * C;
        for (int j = 0; j < KW; j++) {
            /* Where each pixel of the tile reads this tap: its input pixel, or the zeros
             * for padding (and for pixels past the row's end, which are not stored). */
            __global const float *xp[PIX];
#pragma unroll
            for (int p = 0; p < PIX; p++) {
                int iw = (ow0 + p) * stride_w - pad_w + j;
                xp[p] = iw >= 0 && iw < W && ow0 + p < WO ? xrow + iw * C : zeros;
            }
            __global const float *wp = w + (size_t)((i * KW + j) * C) * K + k0;
            for (int c = 0; c < C; c++, wp += K) {
                float16 wv[KV];
#pragma unroll
                for (int v = 0; v < KV; v++)
                    wv[v] = vload16(0, wp + 16 * v);
#pragma unroll
                for (int p = 0; p < PIX; p++) {
                    float16 a = (float16)(xp[p][c]);
#pragma unroll
                    for (int v = 0; v < KV; v++)
                        acc[p][v] = fma(a, wv[v], acc[p][v]);
                }
            }
        }
    }

    __global float *yp = y + ((size_t)(n * HO + oh) * WO + ow0) * K + k0;
#pragma unroll
    for (int p = 0; p < PIX; p++) {
#pragma unroll
        for (int v = 0; v < KV; v++) {
            float16 r = acc[p][v];
            /* The reference's "v < 0 ? 0 : v": NaN and -0 pass unchanged. */
            if (relu)
                r = select(r, (float16)(0.0f), r < (float16)(0.0f));
            if (ow0 + p < WO) /* a test, not a break: the loop must unroll */
                vstore16(r, 0, yp + p * K + 16 * v);
        }
    }
}

/* The same tile for stride 1 and a kernel width fixed at compile time: for each kernel row
 * and input channel, the PIX + KW_FIXED - 1 input scalars the tile's taps need are loaded
 * once and reused by every tap of the row, instead of once per tap. With C = 1 (the first
 * layer) that removes most of the work that is not a multiply-add, and with larger C it
 * halves the loads. count as for conv2d_tiled. */
#define SPAN (PIX + KW_FIXED - 1)

__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void conv2d_rows(__global const float *x, ulong x_offset, __global const float *w,
                 ulong w_offset, __global const float *b, ulong b_offset, int use_bias,
                 __global float *y, ulong y_offset, __global const float *zeros, int H, int W,
                 int C, int KH, int K, int pad_h, int pad_w, int HO, int WO, int relu,
                 int segs, int kblocks, int count)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    x += x_offset;
    w += w_offset;
    b += b_offset;
    y += y_offset;
    int kb = gid % kblocks, rest = gid / kblocks;
    int seg = rest % segs;
    rest /= segs;
    int oh = rest % HO, n = rest / HO;
    int ow0 = seg * PIX, k0 = kb * 16 * KV;

    float16 acc[PIX][KV];
#pragma unroll
    for (int v = 0; v < KV; v++) {
        float16 start = use_bias ? vload16(0, b + k0 + 16 * v) : (float16)(0.0f);
#pragma unroll
        for (int p = 0; p < PIX; p++)
            acc[p][v] = start;
    }

    for (int i = 0; i < KH; i++) {
        int ih = oh - pad_h + i;
        if (ih < 0 || ih >= H)
            continue;
        __global const float *xrow = x + (size_t)(n * H + ih) * W * C;
        /* The input columns the row's taps read, or the zeros where they are padding. */
        __global const float *xp[SPAN];
#pragma unroll
        for (int q = 0; q < SPAN; q++) {
            int iw = ow0 - pad_w + q;
            xp[q] = iw >= 0 && iw < W ? xrow + iw * C : zeros;
        }
        __global const float *wp = w + (size_t)(i * KW_FIXED * C) * K + k0;
        for (int c = 0; c < C; c++, wp += K) {
            float16 a[SPAN];
#pragma unroll
            for (int q = 0; q < SPAN; q++)
                a[q] = (float16)(xp[q][c]);
#pragma unroll
            for (int j = 0; j < KW_FIXED; j++) {
                float16 wv[KV];
#pragma unroll
                for (int v = 0; v < KV; v++)
                    wv[v] = vload16(0, wp + (size_t)j * C * K + 16 * v);
#pragma unroll
                for (int p = 0; p < PIX; p++)
#pragma unroll
                    for (int v = 0; v < KV; v++)
                        acc[p][v] = fma(a[p + j], wv[v], acc[p][v]);
            }
        }
    }

    __global float *yp = y + ((size_t)(n * HO + oh) * WO + ow0) * K + k0;
#pragma unroll
    for (int p = 0; p < PIX; p++) {
#pragma unroll
        for (int v = 0; v < KV; v++) {
            float16 r = acc[p][v];
            if (relu)
                r = select(r, (float16)(0.0f), r < (float16)(0.0f));
            if (ow0 + p < WO)
                vstore16(r, 0, yp + p * K + 16 * v);
        }
    }
}

/* wt[KH-1-i, KW-1-j, k, c] = w[i, j, c, k]: one work-item per element of w. */
__kernel void conv2d_flip_weights(__global const float *w, ulong w_offset,
                                  __global float *wt, int KH, int KW, int C, int K,
                                  int count)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    int k = gid % K, rest = gid / K;
    int c = rest % C, tap = rest / C;
    int j = tap % KW, i = tap / KW;
    int flipped = (KH - 1 - i) * KW + (KW - 1 - j);
    wt[(flipped * K + k) * C + c] = w[w_offset + gid];
}
