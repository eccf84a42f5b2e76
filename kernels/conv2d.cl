/* Direct 2-D convolution forward, NHWC activations and HWIO kernels, mirroring
 * backends/ref/ref_conv2d.c with no im2col and no GEMM:
 *
 *   y[n,oh,ow,k] = act(b[k] + sum_{i,j,c} x[n, oh*SH-PT+i, ow*SW-PL+j, c] w[i,j,c,k])
 *
 * Each work-item computes four adjacent output channels of one pixel as a float4, so the
 * output channel count must be a multiple of 4 (the host's supports() says so). Weights of
 * one tap are contiguous along k (HWIO), so each tap is one vload4. */

#ifndef WG_SIZE
#define WG_SIZE 64
#endif

/* count = N*HO*WO * K/4; relu != 0 applies ReLU; use_bias == 0: no bias (b is not read). */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void conv2d_fwd_direct(__global const float *x, ulong x_offset, __global const float *w,
                       ulong w_offset, __global const float *b, ulong b_offset, int use_bias,
                       __global float *y, ulong y_offset, int H, int W, int C, int KH, int KW,
                       int K, int SH, int SW, int PT, int PL, int HO, int WO, int relu,
                       int count)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    x += x_offset;
    w += w_offset;
    b += b_offset;
    y += y_offset;

    int quads = K / 4;
    int kq = gid % quads, pixel = gid / quads;
    int ow = pixel % WO, rest = pixel / WO;
    int oh = rest % HO, n = rest / HO;
    float4 acc = use_bias ? vload4(kq, b) : (float4)(0.0f);
    for (int i = 0; i < KH; i++) {
        int ih = oh * SH - PT + i;
        if (ih < 0 || ih >= H)
            continue;
        for (int j = 0; j < KW; j++) {
            int iw = ow * SW - PL + j;
            if (iw < 0 || iw >= W)
                continue;
            __global const float *xp = x + ((n * H + ih) * W + iw) * C;
            __global const float *wp = w + (i * KW + j) * C * K + 4 * kq;
            for (int c = 0; c < C; c++)
                acc += xp[c] * vload4(0, wp + c * K);
        }
    }
    if (relu)
        acc = select(acc, (float4)(0.0f), acc < (float4)(0.0f));
    vstore4(acc, kq, y + pixel * K);
}
