/* Local-memory tiled matrix product, the form GPUs need: the same contract as gemm_tiled
 * in gemm.cl,
 *
 *   C[m, n] = act(sum_k A[m, k] B[k, n] + bias[n] (+ the old C[m, n] when accumulating)),
 *
 * with A addressed by a row and a column stride, B by rows of ldb floats and C by two
 * strides, so it serves the same NN, NT and TN products.
 *
 * A work-group computes a TS x TS tile of C. Each round it stages a TK-deep slice of A and
 * of B in local memory (each element read from global memory once per work-group, by
 * neighbouring work-items at neighbouring addresses), then every work-item multiplies out
 * its WPT x WPT outputs from registers. A work-item's rows and columns lie RTS apart
 * rather than side by side, so the work-items of a warp read consecutive local-memory
 * words (no bank conflicts) and write consecutive columns of C. Work-groups are RTS x RTS
 * (256 or 64 work-items: whole warps and wavefronts).
 *
 * On a CPU, PoCL runs the barriers as loops over the work-group and the register-tiled
 * gemm_tiled is faster; tuning on a CPU device leaves this kernel out (the harness still
 * checks it there). */

#ifndef TS
#define TS 64 /* the tile of C per work-group: TS x TS */
#endif
#ifndef WPT
#define WPT 4 /* outputs per work-item along each axis */
#endif
#ifndef TK
#define TK 16 /* the depth of the slice staged per round */
#endif
#define RTS (TS / WPT) /* work-items per work-group along each axis */

/* Launched as a 2-D grid of (ceil(N / TS) * RTS, ceil(M / TS) * RTS) work-items. */
__kernel __attribute__((reqd_work_group_size(RTS, RTS, 1)))
void gemm_local(__global const float *a, ulong a_offset, int a_row_stride, int a_col_stride,
                __global const float *b, ulong b_offset, int ldb, __global float *c,
                ulong c_offset, int c_row_stride, int c_col_stride,
                __global const float *bias, ulong bias_offset, int use_bias, int relu,
                int accumulate, int M, int N, int K)
{
    __local float a_tile[TK][TS]; /* a_tile[k][m] */
    __local float b_tile[TK][TS]; /* b_tile[k][n] */
    a += a_offset;
    b += b_offset;
    c += c_offset;
    bias += bias_offset;
    const int col = get_local_id(0), row = get_local_id(1);
    const int n0 = get_group_id(0) * TS, m0 = get_group_id(1) * TS;
    const int lid = row * RTS + col;

    float acc[WPT][WPT];
#pragma unroll
    for (int i = 0; i < WPT; i++)
#pragma unroll
        for (int j = 0; j < WPT; j++)
            acc[i][j] = 0.0f;

    for (int k0 = 0; k0 < K; k0 += TK) {
        /* A's slice: consecutive work-items take consecutive k, which are adjacent in a
         * row-major A. Elements outside the matrix are zeros, so they add nothing. */
        for (int e = lid; e < TK * TS; e += RTS * RTS) {
            int kk = e % TK, mm = e / TK, m = m0 + mm, k = k0 + kk;
            a_tile[kk][mm] = m < M && k < K
                ? a[(size_t)m * a_row_stride + (size_t)k * a_col_stride] : 0.0f;
        }
        /* B's slice: consecutive work-items take consecutive n along one row of B. */
        for (int e = lid; e < TK * TS; e += RTS * RTS) {
            int kk = e / TS, nn = e % TS, n = n0 + nn, k = k0 + kk;
            b_tile[kk][nn] = n < N && k < K ? b[(size_t)k * ldb + n] : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
#pragma unroll
        for (int kk = 0; kk < TK; kk++) {
            float b_reg[WPT];
#pragma unroll
            for (int j = 0; j < WPT; j++)
                b_reg[j] = b_tile[kk][col + j * RTS];
#pragma unroll
            for (int i = 0; i < WPT; i++) {
                float a_value = a_tile[kk][row + i * RTS];
#pragma unroll
                for (int j = 0; j < WPT; j++)
                    acc[i][j] = fma(a_value, b_reg[j], acc[i][j]);
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    /* The epilogue in gemm_tiled's order: bias, then the old C, then the activation (the
     * reference's "v < 0 ? 0 : v", so NaN and -0 pass unchanged). */
#pragma unroll
    for (int i = 0; i < WPT; i++) {
        int m = m0 + row + i * RTS;
#pragma unroll
        for (int j = 0; j < WPT; j++) {
            int n = n0 + col + j * RTS;
            if (m >= M || n >= N) /* a test, not a break: the loops must unroll */
                continue;
            __global float *to = c + (size_t)m * c_row_stride + (size_t)n * c_col_stride;
            float value = acc[i][j] + (use_bias ? bias[n] : 0.0f);
            if (accumulate)
                value += *to;
            *to = relu && value < 0.0f ? 0.0f : value;
        }
    }
}
