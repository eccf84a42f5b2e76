/* The dense layer's input gradient for few units, kept apart from gemm.cl so that neither
 * program compiles the other's unrolled loops. */

#ifndef WG_SIZE
#define WG_SIZE 4
#endif

#ifndef KMAX
#define KMAX 16 /* gemm_nt_small_k: the most columns of A (and B) it holds in registers */
#endif

/* C[m, n] = sum_k A[m, k] B[n, k] for a short K (K <= KMAX), A [M, K], B [N, K] and C
 * [M, N] all row-major: the dense layer's input gradient dx = dy w^T, where K is the
 * number of units. Each work-item takes 16 columns of C: it reads their 16 rows of B once,
 * turned into KMAX float16 vectors (lane l of vector k is B[n0 + l, k]), then every row of
 * C is K broadcasts of A and K multiply-adds. No transposed copy of B, one launch.
 * count = ceil(N / 16). */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void gemm_nt_small_k(__global const float *a, ulong a_offset, __global const float *b,
                     ulong b_offset, __global float *c, ulong c_offset, int M, int N, int K,
                     int count)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    a += a_offset;
    b += b_offset;
    c += c_offset;
    int n0 = gid * 16, valid = min(16, N - n0);

    /* B's 16 rows, turned, through private memory in rolled loops: unrolled, the 16 x
     * KMAX guarded loads took PoCL 0.5 s to compile at the kernel's first launch, for a
     * gather each work-item does once. */
    float turned[KMAX * 16];
#pragma unroll 1
    for (int k = 0; k < KMAX; k++)
#pragma unroll 1
        for (int l = 0; l < 16; l++)
            turned[k * 16 + l] = k < K && l < valid ? b[(size_t)(n0 + l) * K + k] : 0.0f;
    float16 bt[KMAX];
#pragma unroll
    for (int k = 0; k < KMAX; k++)
        bt[k] = vload16(k, turned);
    for (int m = 0; m < M; m++) {
        __global const float *row = a + (size_t)m * K;
        float16 acc = (float16)(0.0f);
#pragma unroll
        for (int k = 0; k < KMAX; k++)
            if (k < K)
                acc = fma((float16)(row[k]), bt[k], acc);
        __global float *out = c + (size_t)m * N + n0;
        if (valid == 16) {
            vstore16(acc, 0, out);
        } else {
            float lanes[16];
            vstore16(acc, 0, lanes);
            for (int l = 0; l < valid; l++)
                out[l] = lanes[l];
        }
    }
}
