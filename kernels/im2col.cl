/* NHWC im2col and col2im: the data movement around the SGEMMs of the convolution, for a
 * run of samples (the host may process a batch in several runs to bound the columns).
 *
 * The column matrix has one row per output pixel r = (n * HO + oh) * WO + ow and one
 * column per kernel tap q = (i * KW + j) * C + c: the row order of an HWIO kernel viewed
 * as a [KH*KW*C, K] matrix, so forward is cols x w with no transpose. Out-of-range input
 * positions are the zero padding. (CLBlast's own im2col assumes CHW.) */

#ifndef WG_SIZE
#define WG_SIZE 64
#endif

/* Integer division is slow on CPUs (and not vectorised), so each work-item decodes its
 * position once and then moves a whole run of C contiguous channels. */

/* cols[r, (i*KW + j)*C + c] = x[n, oh*SH - PT + i, ow*SW - PL + j, c]: one
 * work-item per (output pixel r, tap i*KW + j), launched over (rows, KH*KW). */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void im2col_nhwc(__global const float *x, ulong x_offset, __global float *cols, ulong cols_offset,
                 int H, int W, int C, int KW, int SH, int SW, int PT, int PL, int HO, int WO,
                 int rows)
{
    int r = get_global_id(0), tap = get_global_id(1), taps = get_global_size(1);
    if (r >= rows)
        return;
    int j = tap % KW, i = tap / KW;
    int ow = r % WO, rest = r / WO;
    int oh = rest % HO, n = rest / HO;
    int ih = oh * SH - PT + i, iw = ow * SW - PL + j;
    __global float *out = cols + cols_offset + (r * taps + tap) * C;
    if (ih >= 0 && ih < H && iw >= 0 && iw < W) {
        __global const float *in = x + x_offset + ((n * H + ih) * W + iw) * C;
        for (int c = 0; c < C; c++)
            out[c] = in[c];
    } else {
        for (int c = 0; c < C; c++)
            out[c] = 0.0f;
    }
}

/* dx[n, ih, iw, c] = sum of the column entries that im2col copied from that position:
 * the taps (i, j) whose output pixel (oh, ow) read it, in (i, j) order. One input pixel
 * (all C channels) per work-item, a gather with no atomics, so every element is written
 * exactly once (zero if no tap read it). pixels = samples * H*W. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void col2im_nhwc(__global const float *cols, ulong cols_offset, __global float *dx, ulong dx_offset,
                 int H, int W, int C, int KH, int KW, int SH, int SW, int PT, int PL, int HO,
                 int WO, int pixels)
{
    int pixel = get_global_id(0);
    if (pixel >= pixels)
        return;
    int iw = pixel % W, rest = pixel / W;
    int ih = rest % H, n = rest / H;
    int patch = KH * KW * C;
    __global float *out = dx + dx_offset + pixel * C;
    cols += cols_offset;
    for (int c = 0; c < C; c++)
        out[c] = 0.0f;
    for (int i = 0; i < KH; i++) {
        int span_h = ih + PT - i; /* = oh * SH when tap i of row oh read row ih */
        if (span_h < 0 || span_h % SH != 0 || span_h / SH >= HO)
            continue;
        int oh = span_h / SH;
        for (int j = 0; j < KW; j++) {
            int span_w = iw + PL - j;
            if (span_w < 0 || span_w % SW != 0 || span_w / SW >= WO)
                continue;
            int ow = span_w / SW;
            __global const float *in = cols + ((n * HO + oh) * WO + ow) * patch + (i * KW + j) * C;
            for (int c = 0; c < C; c++)
                out[c] += in[c];
        }
    }
}
