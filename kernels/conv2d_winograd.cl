/* Winograd F(2x2, 3x3) convolution, NHWC activations and HWIO kernels, for 3x3 windows at
 * stride 1: each 2x2 tile of outputs costs 16 multiplications per (input channel, output
 * channel) instead of the direct form's 36.
 *
 *   Y = A^T [ sum_c (G g_c G^T) .* (B^T d_c B) ] A
 *
 * with d_c the 4x4 input patch under the tile, g_c the 3x3 kernel of input channel c (for
 * 16 output channels at once) and .* the elementwise product:
 *
 *   G = | 1    0    0  |   B^T = | 1  0 -1  0 |   A^T = | 1  1  1  0 |
 *       | 1/2  1/2  1/2|         | 0  1  1  0 |         | 0  1 -1 -1 |
 *       | 1/2 -1/2  1/2|         | 0 -1  1  0 |
 *       | 0    0    1  |         | 0  1  0 -1 |
 *
 * conv2d_winograd_weights computes U = G g G^T once per call into a scratch buffer laid
 * out [16][C][K] (K fastest), so that the main kernel reads a float16 of output channels
 * per (point, input channel) with vload16. The input transform B^T d B takes additions
 * only; the halves in G are exact in binary, so the rounding differs from the direct sum
 * only by the order of the additions.
 *
 * The main kernel follows conv2d_tiled.cl's recipe for PoCL on a CPU: explicit float16
 * accumulators over output channels (the 512-bit FMAs), no local memory and no barrier,
 * groups of WG_SIZE work-items, and `zeros`, a row of at least C zeros, read wherever a
 * patch pixel falls in the padding or past the image (the tiles of an odd-sized output
 * overhang it by one row or column, whose outputs are not stored).
 *
 * Why blocks of 16 input channels (measured on PoCL, one AMD EPYC core): a first form
 * that transformed each channel's 4x4 patch with scalar loads and additions and kept
 * all 16 points' accumulators in registers ran at half the direct kernels' speed: 16
 * scalar loads, 32 additions and 16 broadcasts for every 16 multiply-adds, each U vector
 * used once. Transforming 16 channels at once in float16 makes the input transform 16
 * times cheaper per channel, and taking the points one at a time leaves registers for a
 * TW x KV tile of accumulators, so that each U vector serves TW tiles.
 *
 * Only the innermost loops are unrolled (the 4x4 transforms, the loads of one patch
 * column and the TW x KV accumulator tile). Unrolling the loops over tiles, over the
 * block's channels and of the output transform as well made PoCL spend 2.4 s compiling
 * the kernel at its first launch, a quarter of a cold start's tuning of the reference
 * model, for no speed measured on an EPYC core; rolled, it compiles in 0.6 s. */

#ifndef TW
#define TW 7 /* 2x2 tiles per work-item, along a row */
#endif
#ifndef KV
#define KV 2 /* float16 vectors of output channels per work-item */
#endif
#ifndef WG_SIZE
#define WG_SIZE 4
#endif

/* U[p][ci][co] = (G g G^T)[p] for the 3x3 kernel g of input channel ci and output channel
 * co, read from an HWIO kernel w[3][3][C][K]. For the input gradient (flip != 0) the
 * kernel is the one conv2d_flip_weights makes, without making it: taps reversed and the
 * channel axes swapped, so ci runs over w's K and co over its C. One work-item per (ci, 16
 * consecutive co), co fastest, in float16 (both channel counts are multiples of 16 here):
 * one work-item per scalar pair gathered and scattered lane by lane and took longer than
 * the convolution's own transforms. count = CI*CO/16. */
__kernel void conv2d_winograd_weights(__global const float *w, ulong w_offset,
                                      __global float *u, int C, int K, int flip, int count)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    w += w_offset;
    int CO = flip ? C : K, CI = flip ? K : C;
    int co0 = gid % (CO / 16) * 16, ci = gid / (CO / 16);
    float16 g[3][3];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            if (!flip) {
                g[i][j] = vload16(0, w + ((size_t)(i * 3 + j) * C + ci) * K + co0);
                continue;
            }
            /* flipped: w[2-i][2-j][co][ci], 16 values K apart */
            __global const float *from = w + ((size_t)((2 - i) * 3 + (2 - j)) * C + co0) * K + ci;
            float lanes[16];
            for (int l = 0; l < 16; l++)
                lanes[l] = from[(size_t)l * K];
            g[i][j] = vload16(0, lanes);
        }
    /* G g: four rows of three. */
    float16 t[4][3];
    for (int j = 0; j < 3; j++) {
        t[0][j] = g[0][j];
        t[1][j] = 0.5f * (g[0][j] + g[1][j] + g[2][j]);
        t[2][j] = 0.5f * (g[0][j] - g[1][j] + g[2][j]);
        t[3][j] = g[2][j];
    }
    /* (G g) G^T: four columns per row. */
    for (int r = 0; r < 4; r++) {
        float16 v[4] = { t[r][0], 0.5f * (t[r][0] + t[r][1] + t[r][2]),
                         0.5f * (t[r][0] - t[r][1] + t[r][2]), t[r][2] };
        for (int q = 0; q < 4; q++)
            vstore16(v[q], 0, u + ((size_t)(r * 4 + q) * CI + ci) * CO + co0);
    }
}

/* One work-item per (sample, tile row, TW-tile segment, 16*KV-channel block), the block
 * fastest; count = N*tiles_h*segs*kblocks. y = act(conv(x, w) + b) with the HO x WO output
 * in tiles of 2x2 and U = conv2d_winograd_weights(w). C must be a multiple of 16 and K of
 * 16*KV (the host checks). With pool set, y is instead the (HO/2) x (WO/2) max pooling of
 * that output, each tile one 2x2 window, and tiles_h covers only the rows it keeps.
 *
 * Two phases per block of 16 input channels: the input transform runs on float16 vectors
 * across the block's channels (one vload16 per patch pixel), into V[TW][16][16] in private
 * memory; then, for each of the 16 points, a small matrix product
 * M[p][tiles][k] += V[p][tiles][c] U[p][c][k] whose accumulators (TW x KV float16) stay in
 * registers over the block's 16 channels, so each U vector serves TW tiles and each
 * broadcast input value KV vectors. M lives in private memory between blocks. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void conv2d_winograd(__global const float *x, ulong x_offset, __global const float *u,
                     __global const float *b, ulong b_offset, int use_bias,
                     __global float *y, ulong y_offset, __global const float *zeros,
                     int H, int W, int C, int K, int pad_h, int pad_w, int HO, int WO,
                     int relu, int pool, int tiles_h, int segs, int kblocks, int count)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    x += x_offset;
    b += b_offset;
    y += y_offset;
    int kb = gid % kblocks, rest = gid / kblocks;
    int seg = rest % segs;
    rest /= segs;
    int th = rest % tiles_h, n = rest / tiles_h;
    int oh0 = 2 * th, ow0 = 2 * TW * seg, k0 = kb * 16 * KV;

    /* The 4 x (2*TW + 2) input pixels the tiles read, or the zeros. */
#define SPAN (2 * TW + 2)
    __global const float *xp[4][SPAN];
#pragma unroll
    for (int r = 0; r < 4; r++) {
        int ih = oh0 - pad_h + r;
        bool row_in = ih >= 0 && ih < H;
        __global const float *xrow = x + (size_t)(n * H + (row_in ? ih : 0)) * W * C;
#pragma unroll
        for (int q = 0; q < SPAN; q++) {
            int iw = ow0 - pad_w + q;
            xp[r][q] = row_in && iw >= 0 && iw < W ? xrow + iw * C : zeros;
        }
    }

    float16 m[16][TW][KV];
    float v[TW][16][16]; /* [tile][point][channel of the block] */
    for (int c0 = 0; c0 < C; c0 += 16) {
#pragma unroll 1
        for (int t = 0; t < TW; t++) {
            float16 s[4][4];
#pragma unroll
            for (int q = 0; q < 4; q++) {
                float16 d0 = vload16(0, xp[0][2 * t + q] + c0);
                float16 d1 = vload16(0, xp[1][2 * t + q] + c0);
                float16 d2 = vload16(0, xp[2][2 * t + q] + c0);
                float16 d3 = vload16(0, xp[3][2 * t + q] + c0);
                s[0][q] = d0 - d2;
                s[1][q] = d1 + d2;
                s[2][q] = d2 - d1;
                s[3][q] = d1 - d3;
            }
#pragma unroll
            for (int r = 0; r < 4; r++) {
                vstore16(s[r][0] - s[r][2], 0, v[t][4 * r + 0]);
                vstore16(s[r][1] + s[r][2], 0, v[t][4 * r + 1]);
                vstore16(s[r][2] - s[r][1], 0, v[t][4 * r + 2]);
                vstore16(s[r][1] - s[r][3], 0, v[t][4 * r + 3]);
            }
        }
        for (int p = 0; p < 16; p++) {
            float16 a[TW][KV];
#pragma unroll
            for (int t = 0; t < TW; t++)
#pragma unroll
                for (int kv = 0; kv < KV; kv++)
                    a[t][kv] = c0 ? m[p][t][kv] : (float16)(0.0f);
            __global const float *up = u + ((size_t)p * C + c0) * K + k0;
#pragma unroll 1
            for (int c = 0; c < 16; c++, up += K) {
                float16 uv[KV];
#pragma unroll
                for (int kv = 0; kv < KV; kv++)
                    uv[kv] = vload16(0, up + 16 * kv);
#pragma unroll
                for (int t = 0; t < TW; t++) {
                    float16 bc = (float16)(v[t][p][c]);
#pragma unroll
                    for (int kv = 0; kv < KV; kv++)
                        a[t][kv] = fma(bc, uv[kv], a[t][kv]);
                }
            }
#pragma unroll
            for (int t = 0; t < TW; t++)
#pragma unroll
                for (int kv = 0; kv < KV; kv++)
                    m[p][t][kv] = a[t][kv];
        }
    }

    /* Y = A^T M A, then bias and the activation; outputs past HO or WO are not stored. */
#pragma unroll 1
    for (int t = 0; t < TW; t++) {
#pragma unroll 1
        for (int kv = 0; kv < KV; kv++) {
            float16 r0[4], r1[4];
#pragma unroll
            for (int q = 0; q < 4; q++) {
                r0[q] = m[q][t][kv] + m[4 + q][t][kv] + m[8 + q][t][kv];
                r1[q] = m[4 + q][t][kv] - m[8 + q][t][kv] - m[12 + q][t][kv];
            }
            float16 out[2][2] = {
                { r0[0] + r0[1] + r0[2], r0[1] - r0[2] - r0[3] },
                { r1[0] + r1[1] + r1[2], r1[1] - r1[2] - r1[3] },
            };
            float16 bias = use_bias ? vload16(0, b + k0 + 16 * kv) : (float16)(0.0f);
            float16 best = (float16)(0.0f);
#pragma unroll
            for (int i = 0; i < 2; i++)
#pragma unroll
                for (int j = 0; j < 2; j++) {
                    int oh = oh0 + i, ow = ow0 + 2 * t + j;
                    float16 o = out[i][j] + bias;
                    /* The reference's "v < 0 ? 0 : v": NaN and -0 pass unchanged. */
                    if (relu)
                        o = select(o, (float16)(0.0f), o < (float16)(0.0f));
                    /* Pooled, the tile is the window: its first maximum, row-major. */
                    best = i + j == 0 ? o : select(best, o, o > best);
                    if (!pool && oh < HO && ow < WO)
                        vstore16(o, 0, y + ((size_t)(n * HO + oh) * WO + ow) * K + k0 + 16 * kv);
                }
            int pw = ow0 / 2 + t;
            if (pool && pw < WO / 2)
                vstore16(best, 0, y + ((size_t)(n * (HO / 2) + th) * (WO / 2) + pw) * K + k0 +
                                      16 * kv);
        }
    }
}
