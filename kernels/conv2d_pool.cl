/* A convolution with its max pooling fused, for evaluation passes: y = maxpool(act(conv(x,
 * w) + b)) over 2x2 windows at stride 2, NHWC activations and an HWIO kernel of any
 * size, stride and padding. The convolution's outputs live only in registers: the pass
 * writes the pooled tensor alone, a quarter of the output, and no pooling pass reads it
 * back. This is the form for layers with few input channels (an image's 1 or 3), whose
 * convolution costs less than the memory traffic of its output; deeper layers take the
 * Winograd kernels' pooled form.
 *
 * One work-item per (sample, pooled row, segment of PIX pooled pixels, 16*KV-channel
 * block), the block fastest. For each pooled pixel the four outputs under its window
 * accumulate together, so each kernel vector loaded serves all four, and are then
 * reduced to the window's first maximum, row-major (the reference's rule). The outer
 * loops are rolled: PoCL compiles this at the first evaluation, and the pass's cost is
 * its memory traffic, not its code. conv2d_pool_c1_3x3, at the end, is the unrolled form
 * for one input channel under a 3x3 window. */

#ifndef PIX
#define PIX 4 /* pooled pixels along a row per work-item */
#endif
#ifndef KV
#define KV 2 /* float16 vectors of output channels per work-item */
#endif
#ifndef WG_SIZE
#define WG_SIZE 4
#endif

__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void conv2d_pool_direct(__global const float *x, ulong x_offset, __global const float *w,
                        ulong w_offset, __global const float *b, ulong b_offset, int use_bias,
                        __global float *y, ulong y_offset, int H, int W, int C, int K, int KH,
                        int KW, int SH, int SW, int pad_h, int pad_w, int HP, int WP,
                        int relu, int segs, int kblocks, int count)
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
    int ph = rest % HP, n = rest / HP;
    int k0 = kb * 16 * KV;
    float16 bias[KV];
#pragma unroll
    for (int kv = 0; kv < KV; kv++)
        bias[kv] = use_bias ? vload16(0, b + k0 + 16 * kv) : (float16)(0.0f);

#pragma unroll 1
    for (int q = 0; q < PIX; q++) {
        int pw = seg * PIX + q;
        if (pw >= WP)
            break;
        /* acc[o]: output o of the window, row-major. */
        float16 acc[4][KV];
#pragma unroll
        for (int o = 0; o < 4; o++)
#pragma unroll
            for (int kv = 0; kv < KV; kv++)
                acc[o][kv] = bias[kv];
#pragma unroll 1
        for (int r = 0; r < KH; r++) {
            int ih0 = 2 * ph * SH - pad_h + r, ih1 = ih0 + SH;
            bool in0 = ih0 >= 0 && ih0 < H, in1 = ih1 >= 0 && ih1 < H;
#pragma unroll 1
            for (int s = 0; s < KW; s++) {
                int iw0 = 2 * pw * SW - pad_w + s, iw1 = iw0 + SW;
                bool on0 = iw0 >= 0 && iw0 < W, on1 = iw1 >= 0 && iw1 < W;
                /* The window's four input pixels for this tap; NULL in the padding. */
                __global const float *xp[4] = {
                    in0 && on0 ? x + ((size_t)(n * H + ih0) * W + iw0) * C : 0,
                    in0 && on1 ? x + ((size_t)(n * H + ih0) * W + iw1) * C : 0,
                    in1 && on0 ? x + ((size_t)(n * H + ih1) * W + iw0) * C : 0,
                    in1 && on1 ? x + ((size_t)(n * H + ih1) * W + iw1) * C : 0,
                };
                __global const float *wp = w + (size_t)(r * KW + s) * C * K + k0;
#pragma unroll 1
                for (int c = 0; c < C; c++, wp += K) {
                    float16 uv[KV];
#pragma unroll
                    for (int kv = 0; kv < KV; kv++)
                        uv[kv] = vload16(0, wp + 16 * kv);
#pragma unroll
                    for (int o = 0; o < 4; o++) {
                        float16 xv = (float16)(xp[o] ? xp[o][c] : 0.0f);
#pragma unroll
                        for (int kv = 0; kv < KV; kv++)
                            acc[o][kv] = fma(xv, uv[kv], acc[o][kv]);
                    }
                }
            }
        }
#pragma unroll
        for (int kv = 0; kv < KV; kv++) {
            float16 best = acc[0][kv];
#pragma unroll
            for (int o = 0; o < 4; o++) {
                float16 v = acc[o][kv];
                /* The reference's "v < 0 ? 0 : v": NaN and -0 pass unchanged. */
                if (relu)
                    v = select(v, (float16)(0.0f), v < (float16)(0.0f));
                best = o == 0 ? v : select(best, v, v > best);
            }
            vstore16(best, 0, y + ((size_t)(n * HP + ph) * WP + pw) * K + k0 + 16 * kv);
        }
    }
}

/* A first layer's case: one input channel, a 3x3 window at stride 1, any padding. Where
 * the general kernel above spends a rolled loop, four bounds checks and two vector loads
 * of the kernel on each tap's 8 multiply-adds, this one holds the 9 taps' kernel vectors
 * in registers for the whole work-item and reads each window's 4x4 input patch once (16
 * scalars, zeros in the padding), so a pooled pixel costs 9 x 4 x KV multiply-adds and
 * little else. The same work-items and arguments as above (C, KH, KW, SH and SW are 1, 3,
 * 3, 1 and 1). With `full` (a training pass: the backward reads the convolution's output)
 * each of the four activated outputs is also stored there, at [n, 2ph+oi, 2pw+oj, k] of a
 * [N, 2HP, 2WP, K] tensor, so that the pooling is exactly the maximum of what is stored. */
static inline void pool_c1_3x3(__global const float *x, __global const float *w,
                               __global const float *b, int use_bias, __global float *y,
                               __global float *full, int H, int W, int K, int pad_h,
                               int pad_w, int HP, int WP, int relu, int segs, int kblocks,
                               int gid)
{
    int kb = gid % kblocks, rest = gid / kblocks;
    int seg = rest % segs;
    rest /= segs;
    int ph = rest % HP, n = rest / HP;
    int k0 = kb * 16 * KV;
    float16 bias[KV], u[9][KV];
#pragma unroll
    for (int kv = 0; kv < KV; kv++) {
        bias[kv] = use_bias ? vload16(0, b + k0 + 16 * kv) : (float16)(0.0f);
#pragma unroll
        for (int t = 0; t < 9; t++)
            u[t][kv] = vload16(0, w + (size_t)t * K + k0 + 16 * kv);
    }
    __global const float *image = x + (size_t)n * H * W;
    int ih0 = 2 * ph - pad_h;

#pragma unroll 1
    for (int q = 0; q < PIX; q++) {
        int pw = seg * PIX + q;
        if (pw >= WP)
            break;
        int iw0 = 2 * pw - pad_w;
        /* The window's 4x4 input patch: rows ih0.., columns iw0... */
        float d[4][4];
#pragma unroll
        for (int i = 0; i < 4; i++)
#pragma unroll
            for (int j = 0; j < 4; j++) {
                int ih = ih0 + i, iw = iw0 + j;
                d[i][j] = ih >= 0 && ih < H && iw >= 0 && iw < W ? image[ih * W + iw] : 0.0f;
            }
#pragma unroll
        for (int kv = 0; kv < KV; kv++) {
            float16 best = (float16)(0.0f);
            /* The window's outputs row-major, each the bias plus the taps, r then s. */
#pragma unroll
            for (int o = 0; o < 4; o++) {
                int oi = o / 2, oj = o % 2;
                float16 v = bias[kv];
#pragma unroll
                for (int r = 0; r < 3; r++)
#pragma unroll
                    for (int s = 0; s < 3; s++)
                        v = fma((float16)(d[oi + r][oj + s]), u[r * 3 + s][kv], v);
                /* The reference's "v < 0 ? 0 : v": NaN and -0 pass unchanged. */
                if (relu)
                    v = select(v, (float16)(0.0f), v < (float16)(0.0f));
                if (full)
                    vstore16(v, 0, full + ((size_t)(n * 2 * HP + 2 * ph + oi) * 2 * WP +
                                           2 * pw + oj) * K + k0 + 16 * kv);
                best = o == 0 ? v : select(best, v, v > best);
            }
            vstore16(best, 0, y + ((size_t)(n * HP + ph) * WP + pw) * K + k0 + 16 * kv);
        }
    }
}

__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void conv2d_pool_c1_3x3(__global const float *x, ulong x_offset, __global const float *w,
                        ulong w_offset, __global const float *b, ulong b_offset, int use_bias,
                        __global float *y, ulong y_offset, int H, int W, int C, int K, int KH,
                        int KW, int SH, int SW, int pad_h, int pad_w, int HP, int WP,
                        int relu, int segs, int kblocks, int count)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    pool_c1_3x3(x + x_offset, w + w_offset, b + b_offset, use_bias, y + y_offset, 0, H, W, K,
                pad_h, pad_w, HP, WP, relu, segs, kblocks, gid);
}

/* The same, storing the convolution's output in `full` too: the OpenCL backend's fusion
 * of a training pass's conv2d_fwd with the maxpool_fwd after it (ocl_fuse.c). */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void conv2d_pool_c1_3x3_full(__global const float *x, ulong x_offset, __global const float *w,
                             ulong w_offset, __global const float *b, ulong b_offset,
                             int use_bias, __global float *y, ulong y_offset, int H, int W,
                             int C, int K, int KH, int KW, int SH, int SW, int pad_h, int pad_w,
                             int HP, int WP, int relu, int segs, int kblocks, int count,
                             __global float *full, ulong full_offset)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    pool_c1_3x3(x + x_offset, w + w_offset, b + b_offset, use_bias, y + y_offset,
                full + full_offset, H, W, K, pad_h, pad_w, HP, WP, relu, segs, kblocks, gid);
}
