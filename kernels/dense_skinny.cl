/* The dense layer's products at training batches (a few dozen rows against thousands of
 * inputs and hundreds of units), where gemm.cl's general tile spends time outside its
 * multiply-adds:
 *
 *   dense_outer   dw = x^T dy: the batch is the short sum, so each work-item owns a TD x
 *                 16*KV block of dw and adds N outer products into it, reading a row of x
 *                 (TD neighbouring floats, each broadcast straight into a multiply-add,
 *                 at constant offsets from one pointer) and a row of dy (KV vectors) per
 *                 sample. dw is written once, in whole vectors, with no read-back.
 *   dense_rows    C = act(A B + bias) for the forward y = x w and, turned over, the input
 *                 gradient dx^T = w dy^T: gemm.cl's product with A's rows at fixed
 *                 offsets, the row tiles fastest (ROWS_FASTEST) so the work-items sharing
 *                 a strip of B run together, and a turned C stored a sample at a time.
 *
 * Register-tiled like gemm.cl, no local memory and no barrier; accumulators are indexed by
 * constants only. A block at the bottom edge slides up to end at the edge (so the host
 * launches these kernels only where that dimension is at least TD) and stores only its own
 * rows; columns past the right edge are loaded as zeros and not stored. */

#ifndef TD
#define TD 8 /* rows of dw (dense_outer) or of C (dense_rows) per work-item */
#endif
#ifndef KV
#define KV 2 /* float16 vectors of columns per work-item */
#endif
#ifndef WG_SIZE
#define WG_SIZE 4
#endif
#ifndef ROWS_FASTEST
#define ROWS_FASTEST 1 /* dense_rows: row tiles fastest (else column tiles) */
#endif

/* KV vectors of a row from column c0, lanes at or past `width` read as zeros. */
#define LOAD_ROW(dst, row, c0, width, whole)                                   \
    do {                                                                       \
        if (whole) {                                                           \
            _Pragma("unroll") for (int v = 0; v < KV; v++)                     \
                dst[v] = vload16(v, (row) + (c0));                             \
        } else {                                                               \
            float lanes_[16 * KV];                                             \
            for (int l = 0; l < 16 * KV; l++)                                  \
                lanes_[l] = (c0) + l < (width) ? (row)[(c0) + l] : 0.0f;       \
            _Pragma("unroll") for (int v = 0; v < KV; v++)                     \
                dst[v] = vload16(v, lanes_);                                   \
        }                                                                      \
    } while (0)

/* acc = A[rows first.., k_begin:k_end] B[k_begin:k_end, n0:n0 + 16*KV]: a TD x 16*KV tile
 * from zero, A's TD rows (K apart, from `ap`) read one float at a time and broadcast,
 * B's rows from `bp` (row k_begin) N apart, KV vectors each. */
#define TILE_PRODUCT(acc, ap, K, bp, N, n0, whole_n, k_begin, k_end)                   \
    do {                                                                               \
        _Pragma("unroll") for (int r = 0; r < TD; r++)                                 \
            _Pragma("unroll") for (int v = 0; v < KV; v++)                             \
                acc[r][v] = (float16)(0.0f);                                           \
        __global const float *b_ = (bp);                                               \
        for (int k_ = (k_begin); k_ < (k_end); k_++, b_ += (N)) {                      \
            float16 g_[KV];                                                            \
            LOAD_ROW(g_, b_, n0, N, whole_n);                                          \
            _Pragma("unroll") for (int r = 0; r < TD; r++) {                           \
                float16 s_ = (float16)((ap)[(size_t)r * (K) + k_]);                    \
                _Pragma("unroll") for (int v = 0; v < KV; v++)                         \
                    acc[r][v] = fma(s_, g_[v], acc[r][v]);                             \
            }                                                                          \
        }                                                                              \
    } while (0)

/* dw[D, K] = x[N, D]^T dy[N, K], all row-major. One work-item per TD x 16*KV block of dw,
 * the column blocks fastest; count = ceil(D / TD) * ktiles. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void dense_outer(__global const float *x, ulong x_offset, __global const float *dy,
                 ulong dy_offset, __global float *dw, ulong dw_offset, int N, int D, int K,
                 int ktiles, int count)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    x += x_offset;
    dy += dy_offset;
    dw += dw_offset;
    int d0 = gid / ktiles * TD, k0 = gid % ktiles * (16 * KV);
    bool whole_k = k0 + 16 * KV <= K, whole_d = d0 + TD <= D;
    /* At the bottom edge the block slides up to end at D (the host launches this kernel
     * for D >= TD only) and stores only its own rows: every row it reads is in x, at a
     * constant offset from one pointer. */
    int first = whole_d ? d0 : D - TD;

    float16 acc[TD][KV];
#pragma unroll
    for (int r = 0; r < TD; r++)
#pragma unroll
        for (int v = 0; v < KV; v++)
            acc[r][v] = (float16)(0.0f);

    __global const float *xp = x + first, *dp = dy;
    for (int n = 0; n < N; n++, xp += D, dp += K) {
        float16 g[KV];
        LOAD_ROW(g, dp, k0, K, whole_k);
#pragma unroll
        for (int r = 0; r < TD; r++) {
            float16 s = (float16)(xp[r]);
#pragma unroll
            for (int v = 0; v < KV; v++)
                acc[r][v] = fma(s, g[v], acc[r][v]);
        }
    }

    if (whole_k && whole_d) {
#pragma unroll
        for (int r = 0; r < TD; r++)
#pragma unroll
            for (int v = 0; v < KV; v++)
                vstore16(acc[r][v], 0, dw + (size_t)(d0 + r) * K + k0 + 16 * v);
        return;
    }
    /* The edges, rolled, from a copy (see gemm.cl on compile time). */
    float tile[TD][16 * KV];
#pragma unroll
    for (int r = 0; r < TD; r++)
#pragma unroll
        for (int v = 0; v < KV; v++)
            vstore16(acc[r][v], v, tile[r]);
#pragma unroll 1
    for (int r = d0 - first; r < TD && first + r < D; r++)
#pragma unroll 1
        for (int l = 0; l < 16 * KV && k0 + l < K; l++)
            dw[(size_t)(first + r) * K + k0 + l] = tile[r][l];
}

/* C = A B with A [M, K] and B [K, N] row-major and contiguous: C[m, n] = act(sum_k
 * A[m, k] B[k, n] + bias[n]) stored at m * c_row_stride + n * c_col_stride, so that the
 * same kernel writes y = x w (c_col_stride 1) and, turned over, dx^T = w dy^T straight into
 * dx (c_row_stride 1). Each work-item owns TD rows x 16*KV columns; the row tiles come
 * fastest, so the work-items that share a strip of B run together and read it from cache.
 * A's rows are read one float at a time and broadcast, from TD row pointers that advance
 * together; B a row of KV vectors per k. Needs M >= TD: the bottom block slides up to end
 * at M and stores only its own rows. count = ceil(M / TD) * ceil(N / (16 * KV)). */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void dense_rows(__global const float *a, ulong a_offset, __global const float *b,
                ulong b_offset, __global float *c, ulong c_offset, int c_row_stride,
                int c_col_stride, __global const float *bias, ulong bias_offset, int use_bias,
                int relu, int M, int N, int K, int mtiles, int count)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    a += a_offset;
    b += b_offset;
    c += c_offset;
    bias += bias_offset;
#if ROWS_FASTEST
    int m0 = gid % mtiles * TD, n0 = gid / mtiles * (16 * KV);
#else
    int ntiles = count / mtiles;
    int m0 = gid / ntiles * TD, n0 = gid % ntiles * (16 * KV);
#endif
    bool whole_m = m0 + TD <= M, whole_n = n0 + 16 * KV <= N;
    int first = whole_m ? m0 : M - TD;

    float16 acc[TD][KV];
    TILE_PRODUCT(acc, a + (size_t)first * K, K, b, N, n0, whole_n, 0, K);

    float16 bias_v[KV];
    if (use_bias)
        LOAD_ROW(bias_v, bias, n0, N, whole_n);
    else
#pragma unroll
        for (int v = 0; v < KV; v++)
            bias_v[v] = (float16)(0.0f);
    if (whole_m && whole_n && c_col_stride == 1) {
#pragma unroll
        for (int r = 0; r < TD; r++)
#pragma unroll
            for (int v = 0; v < KV; v++) {
                float16 out = acc[r][v] + bias_v[v];
                /* The reference's "v < 0 ? 0 : v": NaN and -0 pass unchanged. */
                if (relu)
                    out = select(out, (float16)(0.0f), out < (float16)(0.0f));
                vstore16(out, 0, c + (size_t)(m0 + r) * c_row_stride + n0 + 16 * v);
            }
        return;
    }
    /* Turned over or at an edge: element by element, rolled, from a copy. */
    float tile[TD][16 * KV];
#pragma unroll
    for (int r = 0; r < TD; r++)
#pragma unroll
        for (int v = 0; v < KV; v++)
            vstore16(acc[r][v] + bias_v[v], v, tile[r]);
    if (c_row_stride == 1 && whole_m) {
        /* Turned over: column l of the tile is TD neighbouring floats of C, stored from
         * one pointer at constant offsets. */
#pragma unroll 1
        for (int l = 0; l < 16 * KV && n0 + l < N; l++) {
            __global float *cp = c + (size_t)(n0 + l) * c_col_stride + m0;
#pragma unroll
            for (int r = 0; r < TD; r++) {
                float value = tile[r][l];
                cp[r] = relu && value < 0.0f ? 0.0f : value;
            }
        }
        return;
    }
#pragma unroll 1
    for (int l = 0; l < 16 * KV && n0 + l < N; l++)
#pragma unroll 1
        for (int r = m0 - first; r < TD; r++) {
            float value = tile[r][l];
            c[(size_t)(first + r) * c_row_stride + (size_t)(n0 + l) * c_col_stride] =
                relu && value < 0.0f ? 0.0f : value;
        }
}

/* --- the forward with w streamed once, in order (dense_slabs, dense_slabs_sum) ---------
 * At a training batch the forward is a few dozen rows of x against a w of megabytes that
 * the convolutions have pushed out of cache since the last step. dense_rows reads w in
 * strips of 16*KV columns, a short piece of every row, which the hardware prefetchers
 * follow poorly: the forward took twice as long in training as replayed alone. Here each
 * work-item (a work-group of its own, a few per core) owns a slab of w's rows, whole rows,
 * and walks it KC rows at a time: it first asks for the next KC rows in address order
 * (prefetched into L2), then computes the chunk's products for every tile of C, TD rows x
 * 16*KV columns, adding them into its own partial C in scratch (M x N floats, in L1 or L2).
 * dense_slabs_sum adds the slabs' partials in slab order, the bias and the ReLU. Needs
 * M >= TD: the bottom tile slides up and adds only its own rows. */
#ifndef KC
#define KC 64 /* rows of w per chunk */
#endif

#if defined(__clang__) && defined(__x86_64__)
/* prefetcht1: into L2, where the chunk's columns are read from again and again (PoCL on
 * the host CPU; elsewhere, GPUs included, no hint). */
#define PREFETCH_L2(p) __builtin_prefetch((p), 0, 2)
#else
#define PREFETCH_L2(p) ((void)(p))
#endif

/* partial[slab, m, n] = sum over k in slab of x[m, k] w[k, n], slab = work-item `gid`
 * of rows [gid * slab_rows, ...) of w. count = slabs. */
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void dense_slabs(__global const float *x, ulong x_offset, __global const float *w,
                 ulong w_offset, __global float *partial, int M, int N, int K, int slab_rows,
                 int count)
{
    int slab = get_global_id(0);
    if (slab >= count)
        return;
    x += x_offset;
    w += w_offset;
    partial += (size_t)slab * M * N;
    int k_first = slab * slab_rows, k_end = min(K, k_first + slab_rows);
    for (int k0 = k_first; k0 < k_end; k0 += KC) {
        int k1 = min(k_end, k0 + KC);
        /* The next chunk, one request per cache line, in address order. */
        __global const float *next = w + (size_t)k1 * N;
        size_t ahead = (size_t)(min(k_end, k1 + KC) - k1) * N;
        for (size_t i = 0; i < ahead; i += 16)
            PREFETCH_L2(next + i);
        for (int n0 = 0; n0 < N; n0 += 16 * KV) {
            bool whole_n = n0 + 16 * KV <= N;
            for (int m0 = 0; m0 < M; m0 += TD) {
                int first = min(m0, M - TD);
                float16 acc[TD][KV];
                TILE_PRODUCT(acc, x + (size_t)first * K, K, w + (size_t)k0 * N, N, n0, whole_n,
                             k0, k1);
                /* Into the partial: the first chunk stores, the others add; a slid-up
                 * tile only its own rows, and columns past N not at all. */
                bool first_chunk = k0 == k_first;
#pragma unroll 1
                for (int r = m0 - first; r < TD; r++) {
                    __global float *pp = partial + (size_t)(first + r) * N + n0;
                    if (whole_n) {
#pragma unroll
                        for (int v = 0; v < KV; v++) {
                            float16 sum = first_chunk ? acc[r][v] : acc[r][v] + vload16(v, pp);
                            vstore16(sum, v, pp);
                        }
                    } else {
                        float lanes[16 * KV];
#pragma unroll
                        for (int v = 0; v < KV; v++)
                            vstore16(acc[r][v], v, lanes);
                        for (int l = 0; l < 16 * KV && n0 + l < N; l++)
                            pp[l] = first_chunk ? lanes[l] : pp[l] + lanes[l];
                    }
                }
            }
        }
    }
}

/* y[m, n] = act(sum over slabs, in order, of partial[slab, m, n] + bias[n]); one element
 * per work-item, count = M * N. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void dense_slabs_sum(__global const float *partial, int slabs, __global float *y,
                     ulong y_offset, __global const float *bias, ulong bias_offset,
                     int use_bias, int relu, int N, int count)
{
    int i = get_global_id(0);
    if (i >= count)
        return;
    float sum = partial[i];
    for (int s = 1; s < slabs; s++)
        sum += partial[(size_t)s * count + i];
    if (use_bias)
        sum += bias[bias_offset + i % N];
    y[y_offset + i] = relu && sum < 0.0f ? 0.0f : sum;
}
