/* The input gradient of a strided convolution, register-tiled, by phases of dx:
 *
 *   dx[n,ih,iw,c] = sum over taps (i,j) and dy pixels (oh,ow) with oh*SH - PT + i = ih and
 *                   ow*SW - PL + j = iw of dy[n,oh,ow,k] w[i,j,c,k]
 *
 * At stride 1 this is a convolution of dy with the flipped kernel (conv2d_tiled.cl runs it
 * so). At stride s it is not: which taps reach a pixel of dx depends on its row and
 * column modulo s, its phase. Row ih takes only the taps i = (ih + PT) mod SH + SH*t, each
 * from dy row (ih + PT - i) / SH, and column iw likewise. Pixels of one phase, SW apart
 * along a row, share their taps: so a work-item owns PIX pixels of one row and one column
 * phase (iw = rw + SW*b for PIX consecutive b) times 16*KV input channels, and runs the
 * tile of conv2d_tiled.cl over the taps of its phase only.
 *
 * Why gather by phase, and not:
 *  - s*s stride-1 sub-convolutions launched one per phase (the same arithmetic): one
 *    launch here covers every phase, so the cores share one grid instead of s*s small
 *    ones, and the phases whose window has no tap at all (kernel smaller than the stride)
 *    are zeroed by the same work-items, with no separate fill;
 *  - a transposed (scatter) form over dy: it writes each dx pixel from several work-items
 *    and needs atomics or a second pass;
 *  - col2im after a GEMM (gemm_col2im, what ran before): it multiplies the whole window
 *    for every dy pixel and writes a KH*KW times larger column matrix; here each work-item
 *    does only the multiply-adds that reach its pixels, about (KH/SH)*(KW/SW) taps each.
 *
 * The weights are read as wt[i][j][k][c] (conv2d_phases_weights transposes w once per
 * call), so a tap's weights for 16*KV input channels are contiguous. Zero padding and dy
 * pixels outside the image read `zeros`, a row of at least K zeros, as in conv2d_tiled.cl;
 * no local memory and no barrier, for the reasons given there. */

#ifndef PIX
#define PIX 7 /* dx pixels of one phase per work-item, along a row */
#endif
#ifndef KV
#define KV 2 /* float16 vectors of dx channels per work-item */
#endif
#ifndef WG_SIZE
#define WG_SIZE 4
#endif

/* One work-item per (sample, dx row, column phase, PIX-pixel segment of that phase,
 * 16*KV-channel block), the block fastest; count = N*H*phases*segs*cblocks with phases =
 * min(SW, W), the column phases that hold a pixel, and segs the segments of the widest,
 * ceil(ceil(W/SW) / PIX). C must be a multiple of 16*KV. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void conv2d_bwd_data_phases(__global const float *dy, ulong dy_offset, __global const float *wt,
                            __global float *dx, ulong dx_offset, __global const float *zeros,
                            int H, int W, int C, int KH, int KW, int K, int SH, int SW, int PT,
                            int PL, int HO, int WO, int phases, int segs, int cblocks,
                            int count)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    dy += dy_offset;
    dx += dx_offset;
    int cb = gid % cblocks, rest = gid / cblocks;
    int seg = rest % segs;
    rest /= segs;
    int rw = rest % phases;
    rest /= phases;
    int ih = rest % H, n = rest / H;
    int wr = (W - rw + SW - 1) / SW; /* this phase's columns: iw = rw + SW*b, b < wr */
    int b0 = seg * PIX, c0 = cb * 16 * KV;
    if (b0 >= wr)
        return; /* a narrower phase than the widest: nothing of it here */

    float16 acc[PIX][KV];
#pragma unroll
    for (int p = 0; p < PIX; p++)
#pragma unroll
        for (int v = 0; v < KV; v++)
            acc[p][v] = (float16)(0.0f);

    /* The first tap of each axis that reaches this phase; the others are SH (SW) apart.
     * ih + PT - i and rw + PL - j are then multiples of the stride: exact divisions. */
    int qh = (ih + PT) % SH, qw = (rw + PL) % SW;
    for (int i = qh; i < KH; i += SH) {
        int oh = (ih + PT - i) / SH;
        if (oh < 0 || oh >= HO)
            continue; /* a row of padding, or past dy's last row */
        __global const float *dyrow = dy + (size_t)(n * HO + oh) * WO * K;
        for (int j = qw; j < KW; j += SW) {
            int ow0 = b0 + (rw + PL - j) / SW; /* the dy column of the tile's first pixel */
            __global const float *gp[PIX];
#pragma unroll
            for (int p = 0; p < PIX; p++) {
                int ow = ow0 + p;
                gp[p] = ow >= 0 && ow < WO && b0 + p < wr ? dyrow + ow * K : zeros;
            }
            __global const float *wp = wt + (size_t)((i * KW + j) * K) * C + c0;
            for (int k = 0; k < K; k++, wp += C) {
                float16 wv[KV];
#pragma unroll
                for (int v = 0; v < KV; v++)
                    wv[v] = vload16(0, wp + 16 * v);
#pragma unroll
                for (int p = 0; p < PIX; p++) {
                    float16 g = (float16)(gp[p][k]);
#pragma unroll
                    for (int v = 0; v < KV; v++)
                        acc[p][v] = fma(g, wv[v], acc[p][v]);
                }
            }
        }
    }

    /* Every pixel of the phase is written, zero where no tap reaches it. */
    __global float *out = dx + ((size_t)(n * H + ih) * W + rw + SW * b0) * C + c0;
#pragma unroll
    for (int p = 0; p < PIX; p++)
#pragma unroll
        for (int v = 0; v < KV; v++)
            if (b0 + p < wr) /* a test, not a break: the loop must unroll */
                vstore16(acc[p][v], 0, out + (size_t)p * SW * C + 16 * v);
}

/* wt[i, j, k, c] = w[i, j, c, k]: one work-item per element of w. */
__kernel void conv2d_phases_weights(__global const float *w, ulong w_offset, __global float *wt,
                                    int C, int K, int count)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    int k = gid % K, rest = gid / K;
    int c = rest % C, tap = rest / C;
    wt[((size_t)tap * K + k) * C + c] = w[w_offset + gid];
}
