/* Our matrix products and the transpose that feeds them, launched for the dense layer and
 * the GEMM forms of the convolution. The variant row says which kernel and tile: TM rows
 * times 16*KV columns per work-item of the register-tiled kernel (kernels/gemm.cl), or TS
 * for the local-memory tiled kernel GPUs need (kernels/gemm_local.cl). */
#include <config.h>

#include "ocl_registry.h"

/* A work-group per TS x TS tile of C, in a 2-D grid of (TS / WPT)-square work-groups. */
static int gemm_local(struct ocl_context *ctx, const struct ocl_variant *variant,
                      const struct ocl_gemm_args *g)
{
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "gemm_local.cl", "gemm_local", &kernel));
    size_t ts = (size_t)ocl_tunable(variant, "TS"), rts = ts / (size_t)ocl_tunable(variant, "WPT");
    size_t global[2] = { ((size_t)g->n + ts - 1) / ts * rts, ((size_t)g->m + ts - 1) / ts * rts };
    size_t local[2] = { rts, rts };
    cl_int M = g->m, N = g->n, K = g->k;
    cl_int a_rs = g->a_row_stride, a_cs = g->a_col_stride, ldb = g->ldb;
    cl_int c_rs = g->c_row_stride, c_cs = g->c_col_stride;
    cl_int use_bias = g->bias != NULL, relu = g->relu, accumulate = g->accumulate;
    cl_mem a = g->a, b = g->b, c = g->c;
    cl_ulong a_offset = g->a_offset, b_offset = g->b_offset, c_offset = g->c_offset;
    cl_mem bias = g->bias ? ocl_mem(g->bias) : g->c; /* any buffer: not read */
    cl_ulong bias_offset = g->bias ? ocl_elem_offset(g->bias) : 0;
    return ocl_launch(ctx, kernel, 2, global, local,
                      OCL_ARGS(OCL_ARG(a), OCL_ARG(a_offset), OCL_ARG(a_rs), OCL_ARG(a_cs),
                               OCL_ARG(b), OCL_ARG(b_offset), OCL_ARG(ldb), OCL_ARG(c),
                               OCL_ARG(c_offset), OCL_ARG(c_rs), OCL_ARG(c_cs), OCL_ARG(bias),
                               OCL_ARG(bias_offset), OCL_ARG(use_bias), OCL_ARG(relu),
                               OCL_ARG(accumulate), OCL_ARG(M), OCL_ARG(N), OCL_ARG(K)));
}

int ocl_gemm(struct ocl_context *ctx, const struct ocl_variant *variant,
             const struct ocl_gemm_args *g)
{
    if (ocl_tunable_or(variant, "TS", 0) > 0)
        return gemm_local(ctx, variant, g);
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "gemm.cl", "gemm_tiled", &kernel));
    int tm = ocl_tunable(variant, "TM"), width = 16 * ocl_tunable(variant, "KV");
    cl_int M = g->m, N = g->n, K = g->k;
    cl_int ntiles = (g->n + width - 1) / width, mtiles = (g->m + tm - 1) / tm;
    cl_int count = mtiles * ntiles;
    cl_int a_rs = g->a_row_stride, a_cs = g->a_col_stride, ldb = g->ldb, b_count = g->b_count;
    cl_int c_rs = g->c_row_stride, c_cs = g->c_col_stride;
    cl_int use_bias = g->bias != NULL, relu = g->relu, accumulate = g->accumulate;
    cl_mem a = g->a, b = g->b, c = g->c;
    cl_ulong a_offset = g->a_offset, b_offset = g->b_offset, c_offset = g->c_offset;
    cl_mem bias = g->bias ? ocl_mem(g->bias) : g->c; /* any buffer: not read */
    cl_ulong bias_offset = g->bias ? ocl_elem_offset(g->bias) : 0;
    return ocl_launch_1d(ctx, kernel, (size_t)count, (size_t)ocl_tunable(variant, "WG_SIZE"),
                         OCL_ARGS(OCL_ARG(a), OCL_ARG(a_offset), OCL_ARG(a_rs), OCL_ARG(a_cs),
                                  OCL_ARG(b), OCL_ARG(b_offset), OCL_ARG(ldb), OCL_ARG(b_count),
                                  OCL_ARG(c), OCL_ARG(c_offset), OCL_ARG(c_rs), OCL_ARG(c_cs),
                                  OCL_ARG(bias), OCL_ARG(bias_offset), OCL_ARG(use_bias),
                                  OCL_ARG(relu), OCL_ARG(accumulate), OCL_ARG(M), OCL_ARG(N),
                                  OCL_ARG(K), OCL_ARG(ntiles), OCL_ARG(count)));
}

int ocl_transpose(struct ocl_context *ctx, const struct ocl_variant *variant, cl_mem src,
                  cl_ulong src_offset, int rows, int cols, cl_mem dst)
{
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "gemm.cl", "transpose", &kernel));
    cl_int r = rows, c = cols, count = rows * cols;
    return ocl_launch_1d(ctx, kernel, (size_t)count, OCL_HELPER_WG_SIZE,
                         OCL_ARGS(OCL_ARG(src), OCL_ARG(src_offset), OCL_ARG(dst), OCL_ARG(r),
                                  OCL_ARG(c), OCL_ARG(count)));
}
