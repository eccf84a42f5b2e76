/* Register-tiled matrix product for the dense layer and the GEMM forms of the convolution:
 *
 *   C[m, n] = act(sum_k A[m, k] B[k, n] + bias[n] (+ the old C[m, n] when accumulating))
 *
 * A is read one scalar at a time and broadcast, so it may lie in memory any way at all: it
 * is addressed by a row stride and a column stride, which is how one kernel serves the NN,
 * NT and TN products (a transposed A is just swapped strides). B is read along its rows
 * with vload16, so its rows must be contiguous; C is addressed by two strides too, stored
 * a vector at a time when its rows are contiguous.
 *
 * Each work-item computes a TM x 16*KV tile in TM*KV float16 accumulators: per k, KV vector
 * loads of B and TM broadcasts of A for TM*KV fused multiply-adds (issue 6: 8x32 and 4x64
 * tiles reached 300-340 GFLOPS on PoCL). No local memory and no barrier, for the reasons
 * in conv2d_tiled.cl. Rows past M repeat the last row and are not stored; columns past N
 * are computed from whatever B holds there and not stored (see k_fast below). */

#ifndef TM
#define TM 8 /* rows of C per work-item */
#endif
#ifndef KV
#define KV 2 /* float16 vectors of columns per work-item */
#endif
#ifndef WG_SIZE
#define WG_SIZE 4
#endif

/* One work-item per tile, the column tiles fastest; count = mtiles * ntiles. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void gemm_tiled(__global const float *a, ulong a_offset, int a_row_stride, int a_col_stride,
                __global const float *b, ulong b_offset, int ldb, int b_count, __global float *c,
                ulong c_offset, int c_row_stride, int c_col_stride,
                __global const float *bias, ulong bias_offset, int use_bias, int relu,
                int accumulate, int M, int N, int K, int ntiles, int count)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    a += a_offset;
    b += b_offset;
    c += c_offset;
    bias += bias_offset;
    int m0 = gid / ntiles * TM, n0 = gid % ntiles * (16 * KV);

    /* Row r of the tile reads A row min(m0 + r, M - 1): in bounds, and never stored. */
    __global const float *ap[TM];
#pragma unroll
    for (int r = 0; r < TM; r++)
        ap[r] = a + (size_t)min(m0 + r, M - 1) * a_row_stride;

    float16 acc[TM][KV];
#pragma unroll
    for (int r = 0; r < TM; r++)
#pragma unroll
        for (int v = 0; v < KV; v++)
            acc[r][v] = (float16)(0.0f);

    /* Full vectors of B for every k whose row, read 16*KV wide from n0, stays inside B
     * (b_count floats): at the right edge that reads into the next row, lanes past N
     * whose sums are never stored. Only the last rows at the edge go lane by lane, in the
     * same loop: a second copy of the loop body was a third of the compile time. */
    int k_fast = K;
    if (n0 + 16 * KV > N) {
        long spare = (long)b_count - n0 - 16 * KV; /* k * ldb <= spare */
        k_fast = spare < 0 ? 0 : (int)min((long)K, spare / ldb + 1);
    }
    __global const float *bp = b + n0;
    for (int k = 0; k < K; k++, bp += ldb) {
        float16 bv[KV];
        if (k < k_fast) {
#pragma unroll
            for (int v = 0; v < KV; v++)
                bv[v] = vload16(0, bp + 16 * v);
        } else {
            float lanes[16 * KV];
            for (int l = 0; l < 16 * KV; l++)
                lanes[l] = n0 + l < N ? bp[l] : 0.0f;
#pragma unroll
            for (int v = 0; v < KV; v++)
                bv[v] = vload16(v, lanes);
        }
#pragma unroll
        for (int r = 0; r < TM; r++) {
            float16 s = (float16)(ap[r][(size_t)k * a_col_stride]);
#pragma unroll
            for (int v = 0; v < KV; v++)
                acc[r][v] = fma(s, bv[v], acc[r][v]);
        }
    }

    bool full = n0 + 16 * KV <= N && c_col_stride == 1;
    float16 bias_v[KV];
#pragma unroll
    for (int v = 0; v < KV; v++) {
        bias_v[v] = (float16)(0.0f);
        if (use_bias) {
            float lanes[16];
            for (int l = 0; l < 16; l++)
                lanes[l] = n0 + 16 * v + l < N ? bias[n0 + 16 * v + l] : 0.0f;
            bias_v[v] = vload16(0, lanes);
        }
    }
    /* The stores run rolled, from a copy of the tile (the accumulators themselves must
     * only ever be indexed by constants, or they leave the registers). Unrolled TM x KV
     * times with their edge cases, and with the edge columns' k loop a second copy of
     * the main one, they made PoCL take 0.4-0.8 s to compile each tile size at its first
     * launch; now about 0.25 s, at the same speed. */
    float16 tile[TM][KV];
#pragma unroll
    for (int r = 0; r < TM; r++)
#pragma unroll
        for (int v = 0; v < KV; v++)
            tile[r][v] = acc[r][v] + bias_v[v];
#pragma unroll 1
    for (int r = 0; r < TM && m0 + r < M; r++) {
        __global float *cp = c + (size_t)(m0 + r) * c_row_stride;
#pragma unroll 1
        for (int v = 0; v < KV; v++) {
            int col = n0 + 16 * v;
            float16 out = tile[r][v];
            if (full) {
                if (accumulate)
                    out += vload16(0, cp + col);
                /* The reference's "v < 0 ? 0 : v": NaN and -0 pass unchanged. */
                if (relu)
                    out = select(out, (float16)(0.0f), out < (float16)(0.0f));
                vstore16(out, 0, cp + col);
            } else {
                float lanes[16];
                vstore16(out, 0, lanes);
                for (int l = 0; l < 16 && col + l < N; l++) {
                    __global float *to = cp + (size_t)(col + l) * c_col_stride;
                    float value = accumulate ? *to + lanes[l] : lanes[l];
                    *to = relu && value < 0.0f ? 0.0f : value;
                }
            }
        }
    }
}

/* dst[j, i] = src[i, j] for a rows x cols matrix; one work-item per element of src. */
__kernel void transpose(__global const float *src, ulong src_offset, __global float *dst,
                        int rows, int cols, int count)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    int i = gid / cols, j = gid % cols;
    dst[(size_t)j * rows + i] = src[src_offset + gid];
}
