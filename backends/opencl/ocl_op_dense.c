/* The dense layer, x [N,D], w [D,K] (row-major, Keras's layout), y [N,K], as matrix
 * products, through CLBlast or through our tiled kernel (ocl_gemm.c):
 *   forward      y  = x w            (NN), then bias + activation (fused in ours)
 *   bwd data     dx = dy w^T         (NT; ours multiplies by a transposed copy of w, since
 *                                     its B must have contiguous rows, or, for few units,
 *                                     holds w's rows in registers: gemm_nt_small_k)
 *   bwd weights  dw = x^T dy         (TN; ours reads x^T through swapped strides)
 * and, for the skinny shapes of a training batch, through kernels/dense_skinny.cl: the
 * weight gradient as a sum of the batch's outer products, the forward and the turned
 * input gradient with their row tiles fastest (the *_outer and *_rows functions below).
 * Offsets reach the kernels in floats. */
#include <config.h>

#include <limits.h>

#include "ocl_registry.h"

static size_t floats(const struct fcnn_tensor *t)
{
    return (size_t)ocl_elem_offset(t);
}

int ocl_dense_fwd_gemm(struct ocl_context *ctx, const struct ocl_variant *variant,
                       const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0], *w = call->t[1], *b = call->t[2], *y = call->t[3];
    size_t n = (size_t)x->shape[0], d = (size_t)x->shape[1], k = (size_t)w->shape[1];
    OCL_TRY(ocl_sgemm(ctx, false, false, n, k, d, 1.0f, ocl_mem(x), floats(x), d, ocl_mem(w),
                      floats(w), k, 0.0f, ocl_mem(y), floats(y), k));
    return ocl_bias_activation(ctx, variant, y, b, call->p.act);
}

int ocl_dense_bwd_data_gemm(struct ocl_context *ctx, const struct ocl_variant *variant,
                            const struct fcnn_op_call *call)
{
    (void)variant;
    const struct fcnn_tensor *dy = call->t[0], *w = call->t[1], *dx = call->t[2];
    size_t n = (size_t)dy->shape[0], k = (size_t)dy->shape[1], d = (size_t)w->shape[0];
    return ocl_sgemm(ctx, false, true, n, d, k, 1.0f, ocl_mem(dy), floats(dy), k, ocl_mem(w),
                     floats(w), k, 0.0f, ocl_mem(dx), floats(dx), d);
}

int ocl_dense_bwd_weights_gemm(struct ocl_context *ctx, const struct ocl_variant *variant,
                               const struct fcnn_op_call *call)
{
    (void)variant;
    const struct fcnn_tensor *x = call->t[0], *dy = call->t[1], *dw = call->t[2];
    size_t n = (size_t)x->shape[0], d = (size_t)x->shape[1], k = (size_t)dy->shape[1];
    return ocl_sgemm(ctx, true, false, d, k, n, 1.0f, ocl_mem(x), floats(x), d, ocl_mem(dy),
                     floats(dy), k, 0.0f, ocl_mem(dw), floats(dw), k);
}

int ocl_dense_fwd_tiled(struct ocl_context *ctx, const struct ocl_variant *variant,
                        const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0], *w = call->t[1], *b = call->t[2], *y = call->t[3];
    int n = x->shape[0], d = x->shape[1], k = w->shape[1];
    struct ocl_gemm_args g = {
        .a = ocl_mem(x), .a_offset = floats(x), .a_row_stride = d, .a_col_stride = 1,
        .b = ocl_mem(w), .b_offset = floats(w), .ldb = k, .b_count = d * k,
        .c = ocl_mem(y), .c_offset = floats(y), .c_row_stride = k, .c_col_stride = 1,
        .m = n, .n = k, .k = d, .bias = b, .relu = call->p.act == FCNN_ACT_RELU,
    };
    return ocl_gemm(ctx, variant, &g);
}

int ocl_dense_bwd_data_tiled(struct ocl_context *ctx, const struct ocl_variant *variant,
                             const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *dy = call->t[0], *w = call->t[1], *dx = call->t[2];
    int n = dy->shape[0], k = dy->shape[1], d = w->shape[0];
    cl_mem wt;
    OCL_TRY(ocl_scratch_get(ctx, OCL_SCRATCH_WEIGHTS, fcnn_tensor_bytes(w), &wt));
    OCL_TRY(ocl_transpose(ctx, variant, ocl_mem(w), floats(w), d, k, wt)); /* [K][D] */
    struct ocl_gemm_args g = {
        .a = ocl_mem(dy), .a_offset = floats(dy), .a_row_stride = k, .a_col_stride = 1,
        .b = wt, .b_offset = 0, .ldb = d, .b_count = k * d,
        .c = ocl_mem(dx), .c_offset = floats(dx), .c_row_stride = d, .c_col_stride = 1,
        .m = n, .n = d, .k = k,
    };
    return ocl_gemm(ctx, variant, &g);
}

/* Layers of more than 16 units: fewer are nt_small_k's, and timing these forms there too
 * cost a cold start their compilation for nothing. */
bool ocl_dense_bwd_data_turned_supports(const struct ocl_context *ctx,
                                        const struct ocl_variant *variant,
                                        const struct fcnn_op_call *call)
{
    (void)ctx;
    (void)variant;
    return ocl_call_fits_int32(call) && call->t[0]->shape[1] > 16;
}

/* The same product turned over, dx^T = w dy^T: the transposed copy is of dy (batch x
 * units, a few thousand floats) instead of w (inputs x units: 800,000 floats for a
 * [3136,256] layer, whose transpose cost more than the product), and dx is stored
 * through its strides. */
int ocl_dense_bwd_data_turned(struct ocl_context *ctx, const struct ocl_variant *variant,
                              const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *dy = call->t[0], *w = call->t[1], *dx = call->t[2];
    int n = dy->shape[0], k = dy->shape[1], d = w->shape[0];
    cl_mem dyt;
    OCL_TRY(ocl_scratch_get(ctx, OCL_SCRATCH_WEIGHTS, fcnn_tensor_bytes(dy), &dyt));
    OCL_TRY(ocl_transpose(ctx, variant, ocl_mem(dy), floats(dy), n, k, dyt)); /* [K][N] */
    struct ocl_gemm_args g = {
        .a = ocl_mem(w), .a_offset = floats(w), .a_row_stride = k, .a_col_stride = 1,
        .b = dyt, .b_offset = 0, .ldb = n, .b_count = k * n,
        .c = ocl_mem(dx), .c_offset = floats(dx), .c_row_stride = 1, .c_col_stride = d,
        .m = d, .n = n, .k = k,
    };
    return ocl_gemm(ctx, variant, &g);
}

int ocl_dense_bwd_weights_tiled(struct ocl_context *ctx, const struct ocl_variant *variant,
                                const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0], *dy = call->t[1], *dw = call->t[2];
    int n = x->shape[0], d = x->shape[1], k = dy->shape[1];
    /* A = x^T: element [d][n] of A is x[n][d], one row stride and one column stride away. */
    struct ocl_gemm_args g = {
        .a = ocl_mem(x), .a_offset = floats(x), .a_row_stride = 1, .a_col_stride = d,
        .b = ocl_mem(dy), .b_offset = floats(dy), .ldb = k, .b_count = n * k,
        .c = ocl_mem(dw), .c_offset = floats(dw), .c_row_stride = k, .c_col_stride = 1,
        .m = d, .n = k, .k = n,
    };
    return ocl_gemm(ctx, variant, &g);
}

/* dx = dy w^T with w's rows held in registers (kernels/gemm_small_k.cl): for a
 * layer of at most KMAX units, one launch and no transposed copy of w. */
bool ocl_dense_bwd_data_nt_supports(const struct ocl_context *ctx,
                                    const struct ocl_variant *variant,
                                    const struct fcnn_op_call *call)
{
    (void)ctx;
    return ocl_call_fits_int32(call) && call->t[0]->shape[1] <= ocl_tunable(variant, "KMAX");
}

int ocl_dense_bwd_data_nt(struct ocl_context *ctx, const struct ocl_variant *variant,
                          const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *dy = call->t[0], *w = call->t[1], *dx = call->t[2];
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "gemm_small_k.cl", "gemm_nt_small_k", &kernel));
    cl_mem a = ocl_mem(dy), b = ocl_mem(w), c = ocl_mem(dx);
    cl_ulong a_offset = floats(dy), b_offset = floats(w), c_offset = floats(dx);
    cl_int M = dy->shape[0], N = w->shape[0], K = dy->shape[1], count = (N + 15) / 16;
    return ocl_launch_1d(ctx, kernel, (size_t)count, (size_t)ocl_tunable(variant, "WG_SIZE"),
                         OCL_ARGS(OCL_ARG(a), OCL_ARG(a_offset), OCL_ARG(b), OCL_ARG(b_offset),
                                  OCL_ARG(c), OCL_ARG(c_offset), OCL_ARG(M), OCL_ARG(N),
                                  OCL_ARG(K), OCL_ARG(count)));
}

/* dw = x^T dy as a sum of the batch's outer products (kernels/dense_skinny.cl): x and dy
 * are read along their rows, dw written once in whole vectors. */
int ocl_dense_bwd_weights_outer(struct ocl_context *ctx, const struct ocl_variant *variant,
                                const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0], *dy = call->t[1], *dw = call->t[2];
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "dense_skinny.cl", "dense_outer", &kernel));
    cl_mem xm = ocl_mem(x), dym = ocl_mem(dy), dwm = ocl_mem(dw);
    cl_ulong x_offset = floats(x), dy_offset = floats(dy), dw_offset = floats(dw);
    int rows = ocl_tunable(variant, "TD"), width = 16 * ocl_tunable(variant, "KV");
    cl_int N = x->shape[0], D = x->shape[1], K = dy->shape[1];
    cl_int ktiles = (K + width - 1) / width, count = (D + rows - 1) / rows * ktiles;
    return ocl_launch_1d(ctx, kernel, (size_t)count, (size_t)ocl_tunable(variant, "WG_SIZE"),
                         OCL_ARGS(OCL_ARG(xm), OCL_ARG(x_offset), OCL_ARG(dym),
                                  OCL_ARG(dy_offset), OCL_ARG(dwm), OCL_ARG(dw_offset),
                                  OCL_ARG(N), OCL_ARG(D), OCL_ARG(K), OCL_ARG(ktiles),
                                  OCL_ARG(count)));
}

/* The outer-product form slides its edge block back inside x: it needs D >= its TD. Its
 * wider tiles take layers at least as wide as they are: narrower ones would go lane by
 * lane through the edge path (a 10-unit classifier ran 2-6 times slower than on 16x16). */
bool ocl_dense_bwd_weights_outer_supports(const struct ocl_context *ctx,
                                          const struct ocl_variant *variant,
                                          const struct fcnn_op_call *call)
{
    (void)ctx;
    /* At least one whole block of columns: a layer narrower than 16 units (a classifier's
     * Dense(10)) gains a hundredth of a millisecond here, less than building this program
     * costs a cold start. */
    return ocl_call_fits_int32(call) && call->t[0]->shape[1] >= ocl_tunable(variant, "TD") &&
           call->t[1]->shape[1] >= 16 * ocl_tunable(variant, "KV");
}

/* kernels/dense_skinny.cl's dense_rows: C = act(A B + bias) with C through two strides. */
static int dense_rows(struct ocl_context *ctx, const struct ocl_variant *variant, cl_mem a,
                      cl_ulong a_offset, cl_mem b, cl_ulong b_offset, cl_mem c, cl_ulong c_offset,
                      cl_int c_row_stride, cl_int c_col_stride, const struct fcnn_tensor *bias,
                      cl_int relu, cl_int M, cl_int N, cl_int K)
{
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "dense_skinny.cl", "dense_rows", &kernel));
    int rows = ocl_tunable(variant, "TD"), width = 16 * ocl_tunable(variant, "KV");
    cl_int mtiles = (M + rows - 1) / rows, count = mtiles * ((N + width - 1) / width);
    cl_mem bias_mem = bias ? ocl_mem(bias) : c; /* any buffer: not read */
    cl_ulong bias_offset = bias ? floats(bias) : 0;
    cl_int use_bias = bias != NULL;
    return ocl_launch_1d(ctx, kernel, (size_t)count, (size_t)ocl_tunable(variant, "WG_SIZE"),
                         OCL_ARGS(OCL_ARG(a), OCL_ARG(a_offset), OCL_ARG(b), OCL_ARG(b_offset),
                                  OCL_ARG(c), OCL_ARG(c_offset), OCL_ARG(c_row_stride),
                                  OCL_ARG(c_col_stride), OCL_ARG(bias_mem),
                                  OCL_ARG(bias_offset), OCL_ARG(use_bias), OCL_ARG(relu),
                                  OCL_ARG(M), OCL_ARG(N), OCL_ARG(K), OCL_ARG(mtiles),
                                  OCL_ARG(count)));
}

/* The rows form slides its bottom block back inside A: it needs a batch of at least TD;
 * and a layer at least as wide as its tile (a 10-unit classifier ran slower there than on
 * gemm_tiled). */
bool ocl_dense_fwd_rows_supports(const struct ocl_context *ctx,
                                 const struct ocl_variant *variant,
                                 const struct fcnn_op_call *call)
{
    (void)ctx;
    return ocl_call_fits_int32(call) && call->t[0]->shape[0] >= ocl_tunable(variant, "TD") &&
           call->t[1]->shape[1] >= 16 * ocl_tunable(variant, "KV");
}

int ocl_dense_fwd_rows(struct ocl_context *ctx, const struct ocl_variant *variant,
                       const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0], *w = call->t[1], *b = call->t[2], *y = call->t[3];
    cl_int n = x->shape[0], d = x->shape[1], k = w->shape[1];
    return dense_rows(ctx, variant, ocl_mem(x), floats(x), ocl_mem(w), floats(w), ocl_mem(y),
                      floats(y), k, 1, b, call->p.act == FCNN_ACT_RELU, n, k, d);
}

/* The slab form (dense_skinny.cl's dense_slabs, then dense_slabs_sum): SLABS_PER_CU slabs
 * of w's rows per compute unit, none empty, each summed into its own partial of y. */
static cl_int dense_slab_rows(const struct ocl_context *ctx, const struct ocl_variant *variant,
                              cl_int K, cl_int *slabs)
{
    long long wanted = (long long)ocl_tunable(variant, "SLABS_PER_CU") *
                       (ctx->identity.compute_units ? ctx->identity.compute_units : 1);
    cl_int rows = (cl_int)((K + wanted - 1) / wanted);
    *slabs = (K + rows - 1) / rows;
    return rows;
}

/* A batch of at least TD rows and a layer at least as wide as a tile, as the rows form;
 * the partials (slabs x the output's elements, floats) counted in an int. */
bool ocl_dense_fwd_slabs_supports(const struct ocl_context *ctx,
                                  const struct ocl_variant *variant,
                                  const struct fcnn_op_call *call)
{
    if (!ocl_dense_fwd_rows_supports(ctx, variant, call))
        return false;
    cl_int slabs;
    dense_slab_rows(ctx, variant, call->t[0]->shape[1], &slabs);
    return (long long)slabs * fcnn_tensor_count(call->t[3]) <= INT_MAX;
}

int ocl_dense_fwd_slabs(struct ocl_context *ctx, const struct ocl_variant *variant,
                        const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0], *w = call->t[1], *b = call->t[2], *y = call->t[3];
    cl_int M = x->shape[0], K = x->shape[1], N = w->shape[1], slabs;
    cl_int slab_rows = dense_slab_rows(ctx, variant, K, &slabs), count = M * N;
    struct ocl_kernel *slab_kernel, *sum_kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "dense_skinny.cl", "dense_slabs", &slab_kernel));
    OCL_TRY(ocl_variant_kernel(ctx, variant, "dense_skinny.cl", "dense_slabs_sum", &sum_kernel));
    cl_mem partial;
    OCL_TRY(ocl_scratch_get(ctx, OCL_SCRATCH_PARTIALS,
                            (size_t)slabs * (size_t)count * sizeof(float), &partial));
    cl_mem xm = ocl_mem(x), wm = ocl_mem(w), ym = ocl_mem(y);
    cl_ulong x_offset = floats(x), w_offset = floats(w), y_offset = floats(y);
    OCL_TRY(ocl_launch_1d(ctx, slab_kernel, (size_t)slabs, 1,
                          OCL_ARGS(OCL_ARG(xm), OCL_ARG(x_offset), OCL_ARG(wm),
                                   OCL_ARG(w_offset), OCL_ARG(partial), OCL_ARG(M), OCL_ARG(N),
                                   OCL_ARG(K), OCL_ARG(slab_rows), OCL_ARG(slabs))));
    cl_mem bias_mem = b ? ocl_mem(b) : ym; /* any buffer: not read */
    cl_ulong bias_offset = b ? floats(b) : 0;
    cl_int use_bias = b != NULL, relu = call->p.act == FCNN_ACT_RELU;
    return ocl_launch_1d(ctx, sum_kernel, (size_t)count, (size_t)ocl_tunable(variant, "WG_SIZE"),
                         OCL_ARGS(OCL_ARG(partial), OCL_ARG(slabs), OCL_ARG(ym),
                                  OCL_ARG(y_offset), OCL_ARG(bias_mem), OCL_ARG(bias_offset),
                                  OCL_ARG(use_bias), OCL_ARG(relu), OCL_ARG(N),
                                  OCL_ARG(count)));
}

/* Turned over, A is w: its inputs must number at least TD. Layers of more than 16 units,
 * as the turned forms: fewer are nt_small_k's. */
bool ocl_dense_bwd_data_rows_supports(const struct ocl_context *ctx,
                                      const struct ocl_variant *variant,
                                      const struct fcnn_op_call *call)
{
    (void)ctx;
    return ocl_call_fits_int32(call) && call->t[1]->shape[0] >= ocl_tunable(variant, "TD") &&
           call->t[0]->shape[1] > 16;
}

/* dx^T = w dy^T through dense_rows, stored into dx through its strides; the transposed
 * copy is of dy, a few thousand floats. */
int ocl_dense_bwd_data_rows(struct ocl_context *ctx, const struct ocl_variant *variant,
                            const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *dy = call->t[0], *w = call->t[1], *dx = call->t[2];
    cl_int n = dy->shape[0], k = dy->shape[1], d = w->shape[0];
    cl_mem dyt;
    OCL_TRY(ocl_scratch_get(ctx, OCL_SCRATCH_WEIGHTS, fcnn_tensor_bytes(dy), &dyt));
    OCL_TRY(ocl_transpose(ctx, variant, ocl_mem(dy), floats(dy), n, k, dyt)); /* [K][N] */
    return dense_rows(ctx, variant, ocl_mem(w), floats(w), dyt, 0, ocl_mem(dx), floats(dx), 1,
                      d, NULL, 0, d, n, k);
}
