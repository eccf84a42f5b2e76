/* Winograd F(3x3, 4x4) weight gradient for 3x3 windows at stride 1: each 4x4 tile of dy
 * against the 6x6 patch of x under it yields that tile's 3x3 contribution to dw with 36
 * multiplications per (input channel, output channel), where conv2d_filter.cl's F(3x3, 2x2)
 * takes 64 for the same 16 pixels of dy and the direct form 144:
 *
 *   dw = sum over tiles of G^T [ (A g A^T) .* (B^T d B) ] G
 *
 * with g the 4x4 tile of dy, d the 6x6 patch of x, and B^T, G, A^T those of
 * conv2d_winograd4.cl's forward F(4x4, 3x3) (the points 0, 1, -1, 2, -1/2 and infinity,
 * chosen there for their float32 rounding): the weight gradient is the same trilinear sum
 * with the roles of kernel and output exchanged, so A, the transpose of A^T, takes dy's tile
 * to six points per axis, and G^T brings the six points back to three taps. The sum over
 * tiles moves inside, point by point:
 *
 *   M[p][c][k] = sum over tiles t of V[p][t][c] U[p][t][k],  dw = G^T M G per (c, k)
 *
 * so the work is 36 products of a C x T by a T x K matrix, which conv2d_filter.cl's
 * conv2d_filter_wino_gemm runs (it takes any number of points). This file holds the two
 * transforms (one launch, per group of samples, as in conv2d_filter.cl) and the output
 * transform. Tiles t = (n, ty, tx), tx fastest, TH x TW per sample; V[36][T][C],
 * U[36][T][K]; tiles past the edge of dy (HO or WO not a multiple of 4) read dy as zeros,
 * patch pixels outside x (the padding) read as zeros. Only the innermost loops are
 * unrolled, for PoCL's compile time. */

/* B^T applied to a column (or B to a row) of six: conv2d_winograd4.cl's input transform. */
#define WINO4_BT(d0, d1, d2, d3, d4, d5, o)                                                 \
    do {                                                                                     \
        o[0] = 2.0f * (d0 + d4 - 2.0f * d2) + 3.0f * (d1 - d3);                              \
        o[1] = 2.0f * (d1 - d4) + 5.0f * d2 + d3;                                            \
        o[2] = 2.0f * (d1 + d4) + d2 - 5.0f * d3;                                            \
        o[3] = 2.0f * (d4 - d2) + d3 - d1;                                                   \
        o[4] = 2.0f * (d3 - d1) + d2 - d4;                                                   \
        o[5] = 2.0f * (d1 + d5 - 2.0f * d3) + 3.0f * (d2 - d4);                              \
    } while (0)

/* A applied to a column (or A^T to a row) of four: six values, u[p] = sum_a A^T[a][p] g[a]
 * (the scales are powers of two, exact). */
#define WINO4_A(g0, g1, g2, g3, o)                                                          \
    do {                                                                                     \
        o[0] = g0;                                                                           \
        o[1] = (g0 + g2) + (g1 + g3);                                                        \
        o[2] = (g0 + g2) - (g1 + g3);                                                        \
        o[3] = g0 + 2.0f * g1 + 4.0f * g2 + 8.0f * g3;                                       \
        o[4] = g0 - 0.5f * g1 + 0.25f * g2 - 0.125f * g3;                                    \
        o[5] = g3;                                                                           \
    } while (0)

/* G^T applied to a column (or G to a row) of six: three taps, w[i] = sum_p G[p][i] m[p],
 * divided rather than multiplied by inexact reciprocals. */
#define WINO4_GT(m0, m1, m2, m3, m4, m5, o)                                                 \
    do {                                                                                     \
        o[0] = m0 / 2.0f + (m1 + m2) / 6.0f + m3 / 30.0f + 16.0f * m4 / 15.0f;               \
        o[1] = (m1 - m2) / 6.0f + (m3 - 8.0f * m4) / 15.0f;                                  \
        o[2] = (m1 + m2) / 6.0f + (2.0f * m3 + 4.0f * m4) / 15.0f + m5 / 2.0f;               \
    } while (0)

/* V[p][t][c] = (B^T d B)[p] for the 6x6 patch at rows 4ty - pad_h ..., columns 4tx - pad_w
 * ..., sixteen channels at once. One work-item per (t, block of 16 channels), the block
 * fastest: gid < T*C/16. */
static void wino4_transform_x(__global const float *x, __global float *v, int H, int W, int C,
                              int pad_h, int pad_w, int TH, int TW, int T, int gid)
{
    int blocks = C / 16, c = gid % blocks * 16, t = gid / blocks;
    int tx = t % TW, rest = t / TW, ty = rest % TH, n = rest / TH;
    int ih0 = 4 * ty - pad_h, iw0 = 4 * tx - pad_w;
    float16 s[6][6]; /* B^T d, column by column */
#pragma unroll
    for (int q = 0; q < 6; q++) {
        int iw = iw0 + q;
        bool col_in = iw >= 0 && iw < W;
        float16 d[6];
#pragma unroll
        for (int r = 0; r < 6; r++) {
            int ih = ih0 + r;
            d[r] = col_in && ih >= 0 && ih < H
                       ? vload16(0, x + ((size_t)(n * H + ih) * W + iw) * C + c)
                       : (float16)(0.0f);
        }
        float16 o[6];
        WINO4_BT(d[0], d[1], d[2], d[3], d[4], d[5], o);
#pragma unroll
        for (int r = 0; r < 6; r++)
            s[r][q] = o[r];
    }
    __global float *out = v + (size_t)t * C + c;
    size_t point = (size_t)T * C;
#pragma unroll
    for (int r = 0; r < 6; r++) { /* (B^T d) B */
        float16 o[6];
        WINO4_BT(s[r][0], s[r][1], s[r][2], s[r][3], s[r][4], s[r][5], o);
#pragma unroll
        for (int q = 0; q < 6; q++)
            vstore16(o[q], 0, out + (6 * r + q) * point);
    }
}

/* U[p][t][k] = (A g A^T)[p] for the 4x4 tile of dy at rows 4ty, columns 4tx, sixteen
 * channels at once. One work-item per (t, block of 16 channels), the block fastest:
 * gid < T*K/16. */
static void wino4_transform_dy(__global const float *dy, __global float *u, int K, int HO,
                               int WO, int TH, int TW, int T, int gid)
{
    int blocks = K / 16, k = gid % blocks * 16, t = gid / blocks;
    int tx = t % TW, rest = t / TW, ty = rest % TH, n = rest / TH;
    float16 s[6][4]; /* A g, column by column */
#pragma unroll
    for (int b = 0; b < 4; b++) {
        int ow = 4 * tx + b;
        float16 g[4];
#pragma unroll
        for (int a = 0; a < 4; a++) {
            int oh = 4 * ty + a;
            g[a] = oh < HO && ow < WO
                       ? vload16(0, dy + ((size_t)(n * HO + oh) * WO + ow) * K + k)
                       : (float16)(0.0f);
        }
        float16 o[6];
        WINO4_A(g[0], g[1], g[2], g[3], o);
#pragma unroll
        for (int r = 0; r < 6; r++)
            s[r][b] = o[r];
    }
    __global float *out = u + (size_t)t * K + k;
    size_t point = (size_t)T * K;
#pragma unroll
    for (int r = 0; r < 6; r++) { /* (A g) A^T */
        float16 o[6];
        WINO4_A(s[r][0], s[r][1], s[r][2], s[r][3], o);
#pragma unroll
        for (int q = 0; q < 6; q++)
            vstore16(o[q], 0, out + (6 * r + q) * point);
    }
}

/* Both transforms in one launch (a launch is a barrier for every core): work-items
 * [0, x_items) transform x, the next T*K/16 dy; count = x_items + T*K/16. */
__kernel void conv2d_filter_wino4_transform(__global const float *x, ulong x_offset,
                                            __global const float *dy, ulong dy_offset,
                                            __global float *v, __global float *u, int H, int W,
                                            int C, int K, int pad_h, int pad_w, int HO, int WO,
                                            int TH, int TW, int T, int x_items, int count)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    if (gid < x_items)
        wino4_transform_x(x + x_offset, v, H, W, C, pad_h, pad_w, TH, TW, T, gid);
    else
        wino4_transform_dy(dy + dy_offset, u, K, HO, WO, TH, TW, T, gid - x_items);
}

#ifndef CB
#define CB 8 /* input channels per work-item of the products */
#endif
#ifndef KV
#define KV 2 /* float16 vectors of output channels per work-item of the products */
#endif
#ifndef CHUNK
#define CHUNK 2 /* samples a fused work-group transforms at once */
#endif

/* The transforms and the products in one kernel, each work-group on its own share of the
 * batch, so that what a core's transforms write its own products read back from its L2
 * (the separate launches above leave V and U to whichever core comes next: a group's 4 MB
 * of them, more than a core's L2, read back through L3). Work-group g of `groups` (one
 * work-item each) takes samples [N g / groups, N (g+1) / groups), CHUNK at a time:
 * transforms them into its scratch (V then U, 36 * CHUNK*TH*TW * (C + K) floats at
 * g's offset), then adds the chunk's 36 products into its partial M (m + g 36 C K),
 * CB x 16*KV (c, k) at a time, as conv2d_filter.cl's conv2d_filter_wino_gemm does. The
 * partials are added in group order by conv2d_filter_wino4_out. groups <= N. */
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void conv2d_filter_wino4_fused(__global const float *x, ulong x_offset,
                               __global const float *dy, ulong dy_offset,
                               __global float *scratch, __global float *m, int N, int H,
                               int W, int C, int K, int pad_h, int pad_w, int HO, int WO,
                               int TH, int TW, int groups)
{
    int g = get_global_id(0);
    if (g >= groups)
        return;
    int n0 = (int)((long)N * g / groups), n1 = (int)((long)N * (g + 1) / groups);
    __global float *v = scratch + (size_t)g * 36 * CHUNK * TH * TW * (C + K);
    __global float *u = v + (size_t)36 * CHUNK * TH * TW * C;
    __global float *mg = m + (size_t)g * 36 * C * K;
    int cblocks = C / CB, kblocks = K / (16 * KV);
    for (int n = n0; n < n1; n += CHUNK) {
        int T = min(CHUNK, n1 - n) * TH * TW;
        __global const float *xn = x + x_offset + (size_t)n * H * W * C;
        __global const float *dyn = dy + dy_offset + (size_t)n * HO * WO * K;
#pragma unroll 1
        for (int i = 0; i < T * (C / 16); i++)
            wino4_transform_x(xn, v, H, W, C, pad_h, pad_w, TH, TW, T, i);
#pragma unroll 1
        for (int i = 0; i < T * (K / 16); i++)
            wino4_transform_dy(dyn, u, K, HO, WO, TH, TW, T, i);
#pragma unroll 1
        for (int pair = 0; pair < 36 * cblocks * kblocks; pair++) {
            int kb = pair % kblocks, rest = pair / kblocks;
            int cb = rest % cblocks, p = rest / cblocks;
            int c0 = cb * CB, k0 = kb * 16 * KV;
            __global float *mp = mg + ((size_t)p * C + c0) * K + k0;
            float16 acc[CB][KV];
#pragma unroll
            for (int cc = 0; cc < CB; cc++)
#pragma unroll
                for (int kv = 0; kv < KV; kv++)
                    acc[cc][kv] = n > n0 ? vload16(0, mp + cc * K + 16 * kv) : (float16)(0.0f);
            __global const float *vp = v + (size_t)p * T * C + c0;
            __global const float *up = u + (size_t)p * T * K + k0;
            for (int t = 0; t < T; t++, vp += C, up += K) {
                float16 d[KV];
#pragma unroll
                for (int kv = 0; kv < KV; kv++)
                    d[kv] = vload16(0, up + 16 * kv);
#pragma unroll
                for (int cc = 0; cc < CB; cc++) {
                    float16 a = (float16)(vp[cc]);
#pragma unroll
                    for (int kv = 0; kv < KV; kv++)
                        acc[cc][kv] = fma(a, d[kv], acc[cc][kv]);
                }
            }
#pragma unroll
            for (int cc = 0; cc < CB; cc++)
#pragma unroll
                for (int kv = 0; kv < KV; kv++)
                    vstore16(acc[cc][kv], 0, mp + cc * K + 16 * kv);
        }
    }
}

/* dw[i][j][c][k] = (G^T M G)[i][j] for sixteen consecutive k at once, M the sum of `parts`
 * partials of [36][C][K] each, added in order; one work-item per (c, block of 16 k);
 * count = C*K/16, elems = C*K. */
__kernel void conv2d_filter_wino4_out(__global const float *m, __global float *dw,
                                      ulong dw_offset, int elems, int count, int parts)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    size_t e = (size_t)gid * 16, part = (size_t)36 * elems;
    float16 r[3][6]; /* G^T M, column by column */
#pragma unroll 1
    for (int q = 0; q < 6; q++) {
        float16 s[6];
#pragma unroll
        for (int p = 0; p < 6; p++) {
            s[p] = vload16(0, m + (size_t)(6 * p + q) * elems + e);
            for (int i = 1; i < parts; i++)
                s[p] += vload16(0, m + i * part + (size_t)(6 * p + q) * elems + e);
        }
        float16 o[3];
        WINO4_GT(s[0], s[1], s[2], s[3], s[4], s[5], o);
#pragma unroll
        for (int i = 0; i < 3; i++)
            r[i][q] = o[i];
    }
    __global float *out = dw + dw_offset + e;
#pragma unroll 1
    for (int i = 0; i < 3; i++) { /* (G^T M) G */
        float16 o[3];
        WINO4_GT(r[i][0], r[i][1], r[i][2], r[i][3], r[i][4], r[i][5], o);
#pragma unroll
        for (int j = 0; j < 3; j++)
            vstore16(o[j], 0, out + (size_t)(3 * i + j) * elems);
    }
}
