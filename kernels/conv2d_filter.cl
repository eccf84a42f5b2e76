/* The convolution's weight gradient, register-tiled, with im2col folded into the loads:
 *
 *   dw[i,j,c,k] = sum over (n, oh, ow) of x[n, oh*s - p + i, ow*s - p + j, c] dy[n,oh,ow,k]
 *
 * A work-item owns one tap (i, j), CB input channels and 16*KV output channels: CB*KV
 * float16 accumulators. For each output pixel it loads the KV vectors of dy (contiguous
 * along k in NHWC) and broadcasts its CB input scalars: KV vector loads and CB broadcasts
 * for CB*KV fused multiply-adds. The columns of an im2col are never built: for a tap, the
 * output columns whose input column is inside the image form one range per row, so the
 * innermost loop walks x and dy with fixed strides and no bounds test.
 *
 * The sum over pixels is split into chunks of whole samples, so that there are work-items
 * for every core, and so that the work-items of a chunk — consecutive in the grid, the tap
 * and channel blocks fastest — reuse its x and dy from cache. Each chunk writes its own
 * partial dw; conv2d_filter_reduce adds the chunks in order (no atomics: the result does
 * not depend on scheduling). With one chunk the partial is dw itself.
 *
 * No local memory and no barrier, for the reasons given in conv2d_tiled.cl. */

#ifndef CB
#define CB 4 /* input channels per work-item */
#endif
#ifndef KV
#define KV 4 /* float16 vectors of output channels per work-item */
#endif
#ifndef WG_SIZE
#define WG_SIZE 4
#endif

/* out[chunk][i][j][c][k]; one work-item per (chunk, tap, channel block, k block), the k
 * block fastest; count = chunks * pairs, pairs = KH*KW * C/CB * K/(16*KV); elems = KH*KW*C*K,
 * the size of one chunk's partial. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void conv2d_filter_tiled(__global const float *x, ulong x_offset, __global const float *dy,
                         ulong dy_offset, __global float *out, ulong out_offset, int N, int H,
                         int W, int C, int KW, int K, int stride_h, int stride_w, int pad_h,
                         int pad_w, int HO, int WO, int cblocks, int kblocks, int pairs,
                         int chunk_samples, int elems, int count)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    x += x_offset;
    dy += dy_offset;
    int pair = gid % pairs, chunk = gid / pairs;
    int kb = pair % kblocks, rest = pair / kblocks;
    int cb = rest % cblocks, tap = rest / cblocks;
    int j = tap % KW, i = tap / KW;
    int c0 = cb * CB, k0 = kb * 16 * KV;

    /* The output columns ow with 0 <= ow*stride_w - pad_w + j < W: [ow_lo, ow_hi). */
    int ow_lo = pad_w - j > 0 ? (pad_w - j + stride_w - 1) / stride_w : 0;
    int last = W - 1 + pad_w - j; /* ow*stride_w <= last */
    int ow_hi = last < 0 ? 0 : min(WO, last / stride_w + 1);

    float16 acc[CB][KV];
#pragma unroll
    for (int cc = 0; cc < CB; cc++)
#pragma unroll
        for (int v = 0; v < KV; v++)
            acc[cc][v] = (float16)(0.0f);

    int n_end = min(N, (chunk + 1) * chunk_samples);
    for (int n = chunk * chunk_samples; n < n_end; n++) {
        for (int oh = 0; oh < HO; oh++) {
            int ih = oh * stride_h - pad_h + i;
            if (ih < 0 || ih >= H)
                continue;
            __global const float *xp =
                x + ((size_t)(n * H + ih) * W + ow_lo * stride_w - pad_w + j) * C + c0;
            __global const float *dp = dy + ((size_t)(n * HO + oh) * WO + ow_lo) * K + k0;
            for (int ow = ow_lo; ow < ow_hi; ow++, xp += stride_w * C, dp += K) {
                float16 d[KV];
#pragma unroll
                for (int v = 0; v < KV; v++)
                    d[v] = vload16(0, dp + 16 * v);
#pragma unroll
                for (int cc = 0; cc < CB; cc++) {
                    float16 a = (float16)(xp[cc]);
#pragma unroll
                    for (int v = 0; v < KV; v++)
                        acc[cc][v] = fma(a, d[v], acc[cc][v]);
                }
            }
        }
    }

    __global float *op = out + out_offset + (size_t)chunk * elems + (size_t)(tap * C + c0) * K + k0;
#pragma unroll
    for (int cc = 0; cc < CB; cc++)
#pragma unroll
        for (int v = 0; v < KV; v++)
            vstore16(acc[cc][v], 0, op + cc * K + 16 * v);
}

/* The first layer's case: one input channel, a 3x3 kernel, stride 1. With C = 1 a tap
 * owns too little work for the kernel above (one broadcast and KV loads per KV
 * multiply-adds), so here one work-item keeps all nine taps of 16*KV output channels in
 * 9*KV float16 accumulators and walks a run of output rows: per output pixel it loads dy's
 * KV vectors once and the three input columns that enter the 3x3 window (the other six
 * slide over from the previous pixel), for 9*KV multiply-adds.
 * partial[item][tap][k] for rows [item * rows_per_item, ...) of the rows = N*HO output
 * rows; count = items * kblocks. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void conv2d_filter_c1_3x3(__global const float *x, ulong x_offset, __global const float *dy,
                          ulong dy_offset, __global float *out, ulong out_offset, int H, int W,
                          int K, int pad_h, int pad_w, int HO, int WO, int rows,
                          int rows_per_item, int kblocks, int count)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    x += x_offset;
    dy += dy_offset;
    int kb = gid % kblocks, item = gid / kblocks, k0 = kb * 16 * KV;
    int first = item * rows_per_item, end = min(rows, first + rows_per_item);

    float16 acc[9][KV];
#pragma unroll
    for (int t = 0; t < 9; t++)
#pragma unroll
        for (int v = 0; v < KV; v++)
            acc[t][v] = (float16)(0.0f);

    for (int r = first; r < end; r++) {
        int n = r / HO, oh = r % HO;
        /* The three input rows of the window; a row of padding reads as zeros. */
        bool row_ok[3];
        __global const float *xr[3];
#pragma unroll
        for (int i = 0; i < 3; i++) {
            int ih = oh - pad_h + i;
            row_ok[i] = ih >= 0 && ih < H;
            xr[i] = x + (size_t)(n * H + (row_ok[i] ? ih : 0)) * W;
        }
        /* win[i][j] = x[ih_i][ow - pad_w + j], zero outside the image. */
        float win[3][3];
#pragma unroll
        for (int i = 0; i < 3; i++)
#pragma unroll
            for (int j = 1; j < 3; j++) {
                int iw = -pad_w + j - 1;
                win[i][j] = row_ok[i] && iw >= 0 && iw < W ? xr[i][iw] : 0.0f;
            }
        __global const float *dp = dy + (size_t)r * WO * K + k0;
        for (int ow = 0; ow < WO; ow++, dp += K) {
            int iw = ow - pad_w + 2; /* the column entering the window */
#pragma unroll
            for (int i = 0; i < 3; i++) {
                win[i][0] = win[i][1];
                win[i][1] = win[i][2];
                win[i][2] = row_ok[i] && iw >= 0 && iw < W ? xr[i][iw] : 0.0f;
            }
            float16 d[KV];
#pragma unroll
            for (int v = 0; v < KV; v++)
                d[v] = vload16(0, dp + 16 * v);
#pragma unroll
            for (int i = 0; i < 3; i++)
#pragma unroll
                for (int j = 0; j < 3; j++)
#pragma unroll
                    for (int v = 0; v < KV; v++)
                        acc[i * 3 + j][v] = fma((float16)(win[i][j]), d[v], acc[i * 3 + j][v]);
        }
    }
    __global float *op = out + out_offset + (size_t)item * 9 * K + k0;
#pragma unroll
    for (int t = 0; t < 9; t++)
#pragma unroll
        for (int v = 0; v < KV; v++)
            vstore16(acc[t][v], 0, op + t * K + 16 * v);
}

/* dw[e] = sum over chunks of partial[chunk][e], in chunk order; count = elements of dw. */
__kernel void conv2d_filter_reduce(__global const float *partial, __global float *dw,
                                   ulong dw_offset, int chunks, int count)
{
    int e = get_global_id(0);
    if (e >= count)
        return;
    float sum = partial[e];
    for (int chunk = 1; chunk < chunks; chunk++)
        sum += partial[(size_t)chunk * count + e];
    dw[dw_offset + e] = sum;
}

/* Winograd F(3x3, 2x2) for 3x3 windows at stride 1: each 2x2 tile of dy (the "kernel")
 * against the 4x4 patch of x under it yields that tile's 3x3 contribution to dw with 16
 * multiplications per (input channel, output channel) instead of 36:
 *
 *   dw = sum over tiles of G^T [ (A g A^T) .* (B^T d B) ] G
 *
 * with g the dy tile, d the x patch, and G, B^T those of conv2d_winograd.cl, A the
 * transpose of its A^T (the filter gradient is F(2x2, 3x3) with the roles of kernel and
 * output exchanged). The sum over tiles moves inside, point by point:
 *
 *   M[p][c][k] = sum over tiles t of V[p][t][c] U[p][t][k],  dw = G^T M G per (c, k)
 *
 * so the work is 16 products of a C x T by a T x K matrix (T tiles), which
 * conv2d_filter_wino_gemm runs with conv2d_filter_tiled's register tile: CB broadcasts of
 * V and KV vector loads of U for CB*KV multiply-adds. The transforms of x (V, additions
 * only) and of dy (U, additions and negations) are written by a kernel of their own for
 * a group of samples at a time, few enough to stay in cache for the GEMM (the host loops
 * over the groups, each GEMM adding into M). The halves in G are exact, so the rounding
 * differs from the direct sum only in the order of additions. Tiles past the edge of dy
 * (odd HO or WO) read dy as zeros, and patch pixels outside x (the padding) read as zeros.
 * Tiles t = (n, ty, tx), tx fastest, TH x TW per sample; V[16][T][C], U[16][T][K]. */

/* V[p][t][c] = (B^T d B)[p] for the 4x4 patch at rows 2ty - pad_h ..., columns 2tx - pad_w
 * ..., sixteen channels at once in float16 (a scalar form that PoCL vectorised across
 * work-items ran 15 times slower: gathers and per-lane bounds tests). One work-item per
 * (t, block of 16 channels), the block fastest: gid < T*C/16. */
static void wino_transform_x(__global const float *x, __global float *v, int H, int W, int C,
                             int pad_h, int pad_w, int TH, int TW, int T, int gid)
{
    int blocks = C / 16, c = gid % blocks * 16, t = gid / blocks;
    int tx = t % TW, rest = t / TW, ty = rest % TH, n = rest / TH;
    int ih0 = 2 * ty - pad_h, iw0 = 2 * tx - pad_w;
    float16 d[4][4];
#pragma unroll
    for (int a = 0; a < 4; a++)
#pragma unroll
        for (int b = 0; b < 4; b++) {
            int ih = ih0 + a, iw = iw0 + b;
            d[a][b] = ih >= 0 && ih < H && iw >= 0 && iw < W
                          ? vload16(0, x + ((size_t)(n * H + ih) * W + iw) * C + c)
                          : (float16)(0.0f);
        }
    float16 r[4][4]; /* B^T d */
#pragma unroll
    for (int b = 0; b < 4; b++) {
        r[0][b] = d[0][b] - d[2][b];
        r[1][b] = d[1][b] + d[2][b];
        r[2][b] = d[2][b] - d[1][b];
        r[3][b] = d[1][b] - d[3][b];
    }
    __global float *out = v + (size_t)t * C + c;
    size_t point = (size_t)T * C;
#pragma unroll
    for (int p = 0; p < 4; p++) { /* (B^T d) B */
        vstore16(r[p][0] - r[p][2], 0, out + (4 * p + 0) * point);
        vstore16(r[p][1] + r[p][2], 0, out + (4 * p + 1) * point);
        vstore16(r[p][2] - r[p][1], 0, out + (4 * p + 2) * point);
        vstore16(r[p][1] - r[p][3], 0, out + (4 * p + 3) * point);
    }
}

/* U[p][t][k] = (A g A^T)[p] for the 2x2 tile of dy at rows 2ty, columns 2tx, sixteen
 * channels at once; A = | 1 0 |  one work-item per (t, block of 16 channels), the block
 *                       | 1 1 |  fastest: gid < T*K/16.
 *                       | 1 -1|
 *                       | 0 -1| */
static void wino_transform_dy(__global const float *dy, __global float *u, int K, int HO,
                              int WO, int TH, int TW, int T, int gid)
{
    int blocks = K / 16, k = gid % blocks * 16, t = gid / blocks;
    int tx = t % TW, rest = t / TW, ty = rest % TH, n = rest / TH;
    float16 g[2][2];
#pragma unroll
    for (int a = 0; a < 2; a++)
#pragma unroll
        for (int b = 0; b < 2; b++) {
            int oh = 2 * ty + a, ow = 2 * tx + b;
            g[a][b] = oh < HO && ow < WO
                          ? vload16(0, dy + ((size_t)(n * HO + oh) * WO + ow) * K + k)
                          : (float16)(0.0f);
        }
    float16 r[4][2]; /* A g */
#pragma unroll
    for (int b = 0; b < 2; b++) {
        r[0][b] = g[0][b];
        r[1][b] = g[0][b] + g[1][b];
        r[2][b] = g[0][b] - g[1][b];
        r[3][b] = -g[1][b];
    }
    __global float *out = u + (size_t)t * K + k;
    size_t point = (size_t)T * K;
#pragma unroll
    for (int p = 0; p < 4; p++) { /* (A g) A^T */
        vstore16(r[p][0], 0, out + (4 * p + 0) * point);
        vstore16(r[p][0] + r[p][1], 0, out + (4 * p + 1) * point);
        vstore16(r[p][0] - r[p][1], 0, out + (4 * p + 2) * point);
        vstore16(-r[p][1], 0, out + (4 * p + 3) * point);
    }
}

/* Both transforms in one launch (a launch is a barrier for every core): work-items
 * [0, x_items) transform x, the next T*K/16 dy; count = x_items + T*K/16. */
__kernel void conv2d_filter_wino_transform(__global const float *x, ulong x_offset,
                                           __global const float *dy, ulong dy_offset,
                                           __global float *v, __global float *u, int H, int W,
                                           int C, int K, int pad_h, int pad_w, int HO, int WO,
                                           int TH, int TW, int T, int x_items, int count)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    if (gid < x_items)
        wino_transform_x(x + x_offset, v, H, W, C, pad_h, pad_w, TH, TW, T, gid);
    else
        wino_transform_dy(dy + dy_offset, u, K, HO, WO, TH, TW, T, gid - x_items);
}

/* M[p][c][k] (+)= sum over the group's tiles of V[p][t][c] U[p][t][k]: one work-item per
 * (point, channel block, k block), the k block fastest, so that the work-items of a point
 * share its U and V from cache; count = pairs = points * C/CB * K/(16*KV), with 16 points
 * here and 36 for the F(3x3, 4x4) of conv2d_filter_winograd4.cl, which shares this kernel.
 * The first group starts from zero, each later one from M as the previous launch left it:
 * the groups add up in order, whatever the scheduling. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void conv2d_filter_wino_gemm(__global const float *v, __global const float *u,
                             __global float *m, int C, int K, int T, int cblocks, int kblocks,
                             int accumulate, int count)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    int kb = gid % kblocks, rest = gid / kblocks;
    int cb = rest % cblocks, p = rest / cblocks;
    int c0 = cb * CB, k0 = kb * 16 * KV;
    __global float *mp = m + ((size_t)p * C + c0) * K + k0;

    float16 acc[CB][KV];
#pragma unroll
    for (int cc = 0; cc < CB; cc++)
#pragma unroll
        for (int kv = 0; kv < KV; kv++)
            acc[cc][kv] = accumulate ? vload16(0, mp + cc * K + 16 * kv) : (float16)(0.0f);

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

/* dw[i][j][c][k] = (G^T M G)[i][j]; one work-item per (c, k); count = C*K. */
__kernel void conv2d_filter_wino_out(__global const float *m, __global float *dw,
                                     ulong dw_offset, int count)
{
    int e = get_global_id(0);
    if (e >= count)
        return;
    float s[16];
    for (int p = 0; p < 16; p++)
        s[p] = m[(size_t)p * count + e];
    float r[3][4]; /* G^T M */
    for (int q = 0; q < 4; q++) {
        r[0][q] = s[q] + 0.5f * (s[4 + q] + s[8 + q]);
        r[1][q] = 0.5f * (s[4 + q] - s[8 + q]);
        r[2][q] = 0.5f * (s[4 + q] + s[8 + q]) + s[12 + q];
    }
    __global float *out = dw + dw_offset + e;
    for (int i = 0; i < 3; i++) { /* (G^T M) G */
        out[(size_t)(3 * i + 0) * count] = r[i][0] + 0.5f * (r[i][1] + r[i][2]);
        out[(size_t)(3 * i + 1) * count] = 0.5f * (r[i][1] - r[i][2]);
        out[(size_t)(3 * i + 2) * count] = 0.5f * (r[i][1] + r[i][2]) + r[i][3];
    }
}
