/* BatchNormalization (kernels/batchnorm.cl) over the last axis of x, seen as [rows, C]:
 *   training    per-channel slices of shifted sums, then per channel the mean, inv_std and
 *               the moving statistics, then y elementwise
 *   evaluation  inv_std from the moving variance, then y elementwise
 *   backward    per-channel slices of sum dy and sum dy xhat, then dgamma and dbeta, then
 *               dx elementwise
 * The elementwise passes take four channels at a time when C % 4 == 0. */
#include <config.h>

#include "ocl_registry.h"

/* Slices of rows for the per-channel sums: enough work-items for every core, short sums. */
#define BATCHNORM_PARTS 64

struct slices {
    cl_int channels, rows, parts, rows_per_part, count;
};

static struct slices slice(const struct fcnn_tensor *x)
{
    struct slices s;
    s.channels = x->shape[x->ndim - 1];
    s.rows = (cl_int)(fcnn_tensor_count(x) / (size_t)s.channels);
    s.parts = s.rows < BATCHNORM_PARTS ? s.rows : BATCHNORM_PARTS;
    s.rows_per_part = (s.rows + s.parts - 1) / s.parts;
    s.parts = (s.rows + s.rows_per_part - 1) / s.rows_per_part; /* no empty slice */
    s.count = s.parts * s.channels;
    return s;
}

/* y = (x - mean) inv_std gamma + beta, mean and inv_std given as buffer + float offset. */
static int apply(struct ocl_context *ctx, const struct ocl_variant *variant,
                 const struct fcnn_tensor *x, const struct fcnn_tensor *y,
                 const struct fcnn_tensor *gamma, const struct fcnn_tensor *beta, cl_mem mean,
                 cl_ulong mean_offset, cl_mem inv_std, cl_ulong inv_offset)
{
    cl_int channels = x->shape[x->ndim - 1], count = (cl_int)fcnn_tensor_count(x);
    bool vec4 = channels % 4 == 0;
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "batchnorm.cl",
                               vec4 ? "batchnorm_apply_vec4" : "batchnorm_apply", &kernel));
    cl_mem x_mem = ocl_mem(x), y_mem = ocl_mem(y), g_mem = ocl_mem(gamma), b_mem = ocl_mem(beta);
    cl_ulong x_offset = ocl_elem_offset(x), y_offset = ocl_elem_offset(y);
    cl_ulong g_offset = ocl_elem_offset(gamma), b_offset = ocl_elem_offset(beta);
    return ocl_launch_1d(ctx, kernel, vec4 ? (size_t)count / 4 : (size_t)count,
                         (size_t)ocl_tunable(variant, "WG_SIZE"),
                         OCL_ARGS(OCL_ARG(x_mem), OCL_ARG(x_offset), OCL_ARG(y_mem),
                                  OCL_ARG(y_offset), OCL_ARG(g_mem), OCL_ARG(g_offset),
                                  OCL_ARG(b_mem), OCL_ARG(b_offset), OCL_ARG(mean),
                                  OCL_ARG(mean_offset), OCL_ARG(inv_std), OCL_ARG(inv_offset),
                                  OCL_ARG(channels), OCL_ARG(count)));
}

/* x, gamma, beta, moving_mean, moving_variance, y, mean, inv_std */
int ocl_batchnorm_fwd_train_partial_sums(struct ocl_context *ctx,
                                         const struct ocl_variant *variant,
                                         const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0], *mm = call->t[3], *mv = call->t[4];
    const struct fcnn_tensor *mean = call->t[6], *inv_std = call->t[7];
    struct slices s = slice(x);
    size_t local = (size_t)ocl_tunable(variant, "WG_SIZE");
    struct ocl_kernel *partial_kernel, *finish_kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "batchnorm.cl", "batchnorm_partial",
                               &partial_kernel));
    OCL_TRY(ocl_variant_kernel(ctx, variant, "batchnorm.cl", "batchnorm_finish_train",
                               &finish_kernel));
    cl_mem partial;
    OCL_TRY(ocl_scratch_get(ctx, OCL_SCRATCH_PARTIALS, 2 * (size_t)s.count * sizeof(float),
                            &partial));

    cl_mem x_mem = ocl_mem(x), mm_mem = ocl_mem(mm), mv_mem = ocl_mem(mv);
    cl_mem mean_mem = ocl_mem(mean), inv_mem = ocl_mem(inv_std);
    cl_ulong x_offset = ocl_elem_offset(x), mm_offset = ocl_elem_offset(mm);
    cl_ulong mv_offset = ocl_elem_offset(mv), mean_offset = ocl_elem_offset(mean);
    cl_ulong inv_offset = ocl_elem_offset(inv_std);
    cl_float momentum = call->p.batchnorm.momentum, epsilon = call->p.batchnorm.epsilon;
    OCL_TRY(ocl_launch_1d(ctx, partial_kernel, (size_t)s.count, local,
                          OCL_ARGS(OCL_ARG(x_mem), OCL_ARG(x_offset), OCL_ARG(partial),
                                   OCL_ARG(s.channels), OCL_ARG(s.rows),
                                   OCL_ARG(s.rows_per_part), OCL_ARG(s.parts),
                                   OCL_ARG(s.count))));
    OCL_TRY(ocl_launch_1d(ctx, finish_kernel, (size_t)s.channels, local,
                          OCL_ARGS(OCL_ARG(partial), OCL_ARG(x_mem), OCL_ARG(x_offset),
                                   OCL_ARG(mm_mem), OCL_ARG(mm_offset), OCL_ARG(mv_mem),
                                   OCL_ARG(mv_offset), OCL_ARG(mean_mem), OCL_ARG(mean_offset),
                                   OCL_ARG(inv_mem), OCL_ARG(inv_offset), OCL_ARG(s.channels),
                                   OCL_ARG(s.rows), OCL_ARG(s.parts), OCL_ARG(momentum),
                                   OCL_ARG(epsilon))));
    return apply(ctx, variant, x, call->t[5], call->t[1], call->t[2], mean_mem, mean_offset,
                 inv_mem, inv_offset);
}

/* x, gamma, beta, moving_mean, moving_variance, y */
int ocl_batchnorm_fwd_infer_apply(struct ocl_context *ctx, const struct ocl_variant *variant,
                                  const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0], *mm = call->t[3], *mv = call->t[4];
    cl_int channels = x->shape[x->ndim - 1];
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "batchnorm.cl", "batchnorm_finish_infer", &kernel));
    cl_mem stats;
    OCL_TRY(ocl_scratch_get(ctx, OCL_SCRATCH_PARTIALS, 2 * (size_t)channels * sizeof(float),
                            &stats));
    cl_mem mm_mem = ocl_mem(mm), mv_mem = ocl_mem(mv);
    cl_ulong mm_offset = ocl_elem_offset(mm), mv_offset = ocl_elem_offset(mv);
    cl_float epsilon = call->p.batchnorm.epsilon;
    OCL_TRY(ocl_launch_1d(ctx, kernel, (size_t)channels, (size_t)ocl_tunable(variant, "WG_SIZE"),
                          OCL_ARGS(OCL_ARG(mm_mem), OCL_ARG(mm_offset), OCL_ARG(mv_mem),
                                   OCL_ARG(mv_offset), OCL_ARG(stats), OCL_ARG(channels),
                                   OCL_ARG(epsilon))));
    return apply(ctx, variant, x, call->t[5], call->t[1], call->t[2], stats, 0, stats,
                 (cl_ulong)channels);
}

/* x, dy, gamma, mean, inv_std, dx (may be NULL), dgamma, dbeta */
int ocl_batchnorm_bwd_partial_sums(struct ocl_context *ctx, const struct ocl_variant *variant,
                                   const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0], *dy = call->t[1], *gamma = call->t[2];
    const struct fcnn_tensor *mean = call->t[3], *inv_std = call->t[4], *dx = call->t[5];
    const struct fcnn_tensor *dgamma = call->t[6], *dbeta = call->t[7];
    struct slices s = slice(x);
    size_t local = (size_t)ocl_tunable(variant, "WG_SIZE");
    bool vec4 = s.channels % 4 == 0;
    struct ocl_kernel *partial_kernel, *finish_kernel, *data_kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "batchnorm.cl", "batchnorm_bwd_partial",
                               &partial_kernel));
    OCL_TRY(ocl_variant_kernel(ctx, variant, "batchnorm.cl", "batchnorm_bwd_finish",
                               &finish_kernel));
    OCL_TRY(ocl_variant_kernel(ctx, variant, "batchnorm.cl",
                               vec4 ? "batchnorm_bwd_data_vec4" : "batchnorm_bwd_data",
                               &data_kernel));
    cl_mem partial;
    OCL_TRY(ocl_scratch_get(ctx, OCL_SCRATCH_PARTIALS, 2 * (size_t)s.count * sizeof(float),
                            &partial));

    cl_mem x_mem = ocl_mem(x), dy_mem = ocl_mem(dy), g_mem = ocl_mem(gamma);
    cl_mem mean_mem = ocl_mem(mean), inv_mem = ocl_mem(inv_std);
    cl_mem dg_mem = ocl_mem(dgamma), db_mem = ocl_mem(dbeta);
    cl_ulong x_offset = ocl_elem_offset(x), dy_offset = ocl_elem_offset(dy);
    cl_ulong g_offset = ocl_elem_offset(gamma), mean_offset = ocl_elem_offset(mean);
    cl_ulong inv_offset = ocl_elem_offset(inv_std);
    cl_ulong dg_offset = ocl_elem_offset(dgamma), db_offset = ocl_elem_offset(dbeta);
    cl_int count = (cl_int)fcnn_tensor_count(x);
    OCL_TRY(ocl_launch_1d(ctx, partial_kernel, (size_t)s.count, local,
                          OCL_ARGS(OCL_ARG(x_mem), OCL_ARG(x_offset), OCL_ARG(dy_mem),
                                   OCL_ARG(dy_offset), OCL_ARG(mean_mem), OCL_ARG(mean_offset),
                                   OCL_ARG(inv_mem), OCL_ARG(inv_offset), OCL_ARG(partial),
                                   OCL_ARG(s.channels), OCL_ARG(s.rows),
                                   OCL_ARG(s.rows_per_part), OCL_ARG(s.parts),
                                   OCL_ARG(s.count))));
    OCL_TRY(ocl_launch_1d(ctx, finish_kernel, (size_t)s.channels, local,
                          OCL_ARGS(OCL_ARG(partial), OCL_ARG(dg_mem), OCL_ARG(dg_offset),
                                   OCL_ARG(db_mem), OCL_ARG(db_offset), OCL_ARG(s.channels),
                                   OCL_ARG(s.parts))));
    if (!dx) /* the first layer's: nobody needs it */
        return FCNN_OK;
    cl_mem dx_mem = ocl_mem(dx);
    cl_ulong dx_offset = ocl_elem_offset(dx);
    return ocl_launch_1d(ctx, data_kernel, vec4 ? (size_t)count / 4 : (size_t)count, local,
                         OCL_ARGS(OCL_ARG(x_mem), OCL_ARG(x_offset), OCL_ARG(dy_mem),
                                  OCL_ARG(dy_offset), OCL_ARG(g_mem), OCL_ARG(g_offset),
                                  OCL_ARG(mean_mem), OCL_ARG(mean_offset), OCL_ARG(inv_mem),
                                  OCL_ARG(inv_offset), OCL_ARG(dg_mem), OCL_ARG(dg_offset),
                                  OCL_ARG(db_mem), OCL_ARG(db_offset), OCL_ARG(dx_mem),
                                  OCL_ARG(dx_offset), OCL_ARG(s.channels), OCL_ARG(s.rows),
                                  OCL_ARG(count)));
}
