/* BatchNormalization (kernels/batchnorm.cl) over the last axis of x, seen as [rows, C]:
 *   training    per-channel slices of shifted sums, then per channel the mean, inv_std and
 *               the moving statistics, then y elementwise
 *   evaluation  inv_std from the moving variance, then y elementwise
 *   backward    per-channel slices of sum dy and sum dy xhat, then dgamma and dbeta, then
 *               dx elementwise
 * Two forms of each: one channel per work-item in the sums (float4 in the elementwise
 * passes when C % 4 == 0), which takes any C; and, when C % 16 == 0, sixteen channels per
 * work-item throughout (the *16 kernels), which reads whole runs of a row. Every kernel
 * takes a fused ReLU (call->p.batchnorm.act) as a flag: one pass fewer each way. */
#include <config.h>

#include "ocl_registry.h"

/* Slices of rows for the per-channel sums of the one-channel form: enough work-items for
 * every core, short sums. */
#define BATCHNORM_PARTS 64
/* The sixteen-channel form: about this many work-items over all channel blocks, since each
 * block of sixteen channels is already sixteen of the form above. */
#define BATCHNORM_TARGET_ITEMS16 256

/* The form a variant runs: 1 (one channel per work-item) or 16 (a float16 of channels). */
struct form {
    int width;
    const char *partial, *bwd_partial; /* the kernels of the sums */
    size_t parts_wg;                   /* their work-group size */
};

static struct form form_of(const struct ocl_variant *variant, int width)
{
    if (width == 16)
        return (struct form){ 16, "batchnorm_partial16", "batchnorm_bwd_partial16",
                              (size_t)ocl_tunable(variant, "PARTS_WG") };
    return (struct form){ 1, "batchnorm_partial", "batchnorm_bwd_partial",
                          (size_t)ocl_tunable(variant, "WG_SIZE") };
}

struct slices {
    cl_int channels, rows, parts, rows_per_part, count;
};

/* Slices of rows for the per-channel sums; count = work-items of the sums kernel. */
static struct slices slice(const struct fcnn_tensor *x, int width)
{
    struct slices s;
    s.channels = x->shape[x->ndim - 1];
    s.rows = (cl_int)(fcnn_tensor_count(x) / (size_t)s.channels);
    cl_int blocks = s.channels / width;
    cl_int wanted = width == 1 ? BATCHNORM_PARTS
                               : (BATCHNORM_TARGET_ITEMS16 + blocks - 1) / blocks;
    s.parts = s.rows < wanted ? s.rows : wanted;
    s.rows_per_part = (s.rows + s.parts - 1) / s.parts;
    s.parts = (s.rows + s.rows_per_part - 1) / s.rows_per_part; /* no empty slice */
    s.count = s.parts * blocks;
    return s;
}

/* The elementwise passes. */
enum pass { PASS_APPLY, PASS_BWD_DATA };

/* The kernel of an elementwise pass and the elements per work-item it takes. */
static const char *elementwise(enum pass pass, int width, cl_int channels, int *per_item)
{
    static const char *const names[][3] = {
        { "batchnorm_apply", "batchnorm_apply_vec4", "batchnorm_apply16" },
        { "batchnorm_bwd_data", "batchnorm_bwd_data_vec4", "batchnorm_bwd_data16" },
    };
    if (width == 16) {
        *per_item = 16;
        return names[pass][2];
    }
    *per_item = channels % 4 == 0 ? 4 : 1;
    return names[pass][*per_item == 4];
}

/* y = (x - mean) inv_std gamma + beta, mean and inv_std given as buffer + float offset;
 * max(y, 0) with a fused ReLU. */
static int apply(struct ocl_context *ctx, const struct ocl_variant *variant, int width,
                 const struct fcnn_op_call *call, cl_mem mean, cl_ulong mean_offset,
                 cl_mem inv_std, cl_ulong inv_offset)
{
    const struct fcnn_tensor *x = call->t[0], *gamma = call->t[1], *beta = call->t[2];
    const struct fcnn_tensor *y = call->t[5];
    cl_int channels = x->shape[x->ndim - 1], count = (cl_int)fcnn_tensor_count(x);
    cl_int relu = call->p.batchnorm.act == FCNN_ACT_RELU;
    int per_item;
    const char *name = elementwise(PASS_APPLY, width, channels, &per_item);
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "batchnorm.cl", name, &kernel));
    cl_mem x_mem = ocl_mem(x), y_mem = ocl_mem(y), g_mem = ocl_mem(gamma), b_mem = ocl_mem(beta);
    cl_ulong x_offset = ocl_elem_offset(x), y_offset = ocl_elem_offset(y);
    cl_ulong g_offset = ocl_elem_offset(gamma), b_offset = ocl_elem_offset(beta);
    return ocl_launch_1d(ctx, kernel, (size_t)count / (size_t)per_item,
                         (size_t)ocl_tunable(variant, "WG_SIZE"),
                         OCL_ARGS(OCL_ARG(x_mem), OCL_ARG(x_offset), OCL_ARG(y_mem),
                                  OCL_ARG(y_offset), OCL_ARG(g_mem), OCL_ARG(g_offset),
                                  OCL_ARG(b_mem), OCL_ARG(b_offset), OCL_ARG(mean),
                                  OCL_ARG(mean_offset), OCL_ARG(inv_std), OCL_ARG(inv_offset),
                                  OCL_ARG(channels), OCL_ARG(count), OCL_ARG(relu)));
}

/* x, gamma, beta, moving_mean, moving_variance, y, mean, inv_std */
static int fwd_train(struct ocl_context *ctx, const struct ocl_variant *variant,
                     const struct fcnn_op_call *call, struct form f)
{
    const struct fcnn_tensor *x = call->t[0], *mm = call->t[3], *mv = call->t[4];
    const struct fcnn_tensor *mean = call->t[6], *inv_std = call->t[7];
    struct slices s = slice(x, f.width);
    size_t local = (size_t)ocl_tunable(variant, "WG_SIZE");
    struct ocl_kernel *partial_kernel, *finish_kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "batchnorm.cl", f.partial, &partial_kernel));
    OCL_TRY(ocl_variant_kernel(ctx, variant, "batchnorm.cl", "batchnorm_finish_train",
                               &finish_kernel));
    cl_mem partial;
    OCL_TRY(ocl_scratch_get(ctx, OCL_SCRATCH_PARTIALS,
                            2 * (size_t)s.parts * (size_t)s.channels * sizeof(float), &partial));

    cl_mem x_mem = ocl_mem(x), mm_mem = ocl_mem(mm), mv_mem = ocl_mem(mv);
    cl_mem mean_mem = ocl_mem(mean), inv_mem = ocl_mem(inv_std);
    cl_ulong x_offset = ocl_elem_offset(x), mm_offset = ocl_elem_offset(mm);
    cl_ulong mv_offset = ocl_elem_offset(mv), mean_offset = ocl_elem_offset(mean);
    cl_ulong inv_offset = ocl_elem_offset(inv_std);
    cl_float momentum = call->p.batchnorm.momentum, epsilon = call->p.batchnorm.epsilon;
    OCL_TRY(ocl_launch_1d(ctx, partial_kernel, (size_t)s.count, f.parts_wg,
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
    return apply(ctx, variant, f.width, call, mean_mem, mean_offset, inv_mem, inv_offset);
}

int ocl_batchnorm_fwd_train_partial_sums(struct ocl_context *ctx,
                                         const struct ocl_variant *variant,
                                         const struct fcnn_op_call *call)
{
    return fwd_train(ctx, variant, call, form_of(variant, 1));
}

int ocl_batchnorm_fwd_train_vec16(struct ocl_context *ctx, const struct ocl_variant *variant,
                                  const struct fcnn_op_call *call)
{
    return fwd_train(ctx, variant, call, form_of(variant, 16));
}

/* x, gamma, beta, moving_mean, moving_variance, y */
static int fwd_infer(struct ocl_context *ctx, const struct ocl_variant *variant,
                     const struct fcnn_op_call *call, int width)
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
    return apply(ctx, variant, width, call, stats, 0, stats, (cl_ulong)channels);
}

int ocl_batchnorm_fwd_infer_apply(struct ocl_context *ctx, const struct ocl_variant *variant,
                                  const struct fcnn_op_call *call)
{
    return fwd_infer(ctx, variant, call, 1);
}

int ocl_batchnorm_fwd_infer_vec16(struct ocl_context *ctx, const struct ocl_variant *variant,
                                  const struct fcnn_op_call *call)
{
    return fwd_infer(ctx, variant, call, 16);
}

/* x, dy, gamma, mean, inv_std, dx (may be NULL), dgamma, dbeta, y (a fused ReLU's output,
 * or NULL: dy then stands in for it, unread) */
static int bwd(struct ocl_context *ctx, const struct ocl_variant *variant,
               const struct fcnn_op_call *call, struct form f)
{
    const struct fcnn_tensor *x = call->t[0], *dy = call->t[1], *gamma = call->t[2];
    const struct fcnn_tensor *mean = call->t[3], *inv_std = call->t[4], *dx = call->t[5];
    const struct fcnn_tensor *dgamma = call->t[6], *dbeta = call->t[7];
    const struct fcnn_tensor *y = call->t[8] ? call->t[8] : dy;
    cl_int relu = call->t[8] != NULL;
    struct slices s = slice(x, f.width);
    size_t local = (size_t)ocl_tunable(variant, "WG_SIZE");
    int per_item;
    const char *data_name = elementwise(PASS_BWD_DATA, f.width, s.channels, &per_item);
    struct ocl_kernel *partial_kernel, *finish_kernel, *data_kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "batchnorm.cl", f.bwd_partial, &partial_kernel));
    OCL_TRY(ocl_variant_kernel(ctx, variant, "batchnorm.cl", "batchnorm_bwd_finish",
                               &finish_kernel));
    OCL_TRY(ocl_variant_kernel(ctx, variant, "batchnorm.cl", data_name, &data_kernel));
    cl_mem partial;
    OCL_TRY(ocl_scratch_get(ctx, OCL_SCRATCH_PARTIALS,
                            2 * (size_t)s.parts * (size_t)s.channels * sizeof(float), &partial));

    cl_mem x_mem = ocl_mem(x), dy_mem = ocl_mem(dy), g_mem = ocl_mem(gamma);
    cl_mem mean_mem = ocl_mem(mean), inv_mem = ocl_mem(inv_std);
    cl_mem dg_mem = ocl_mem(dgamma), db_mem = ocl_mem(dbeta);
    cl_ulong x_offset = ocl_elem_offset(x), dy_offset = ocl_elem_offset(dy);
    cl_ulong g_offset = ocl_elem_offset(gamma), mean_offset = ocl_elem_offset(mean);
    cl_ulong inv_offset = ocl_elem_offset(inv_std);
    cl_ulong dg_offset = ocl_elem_offset(dgamma), db_offset = ocl_elem_offset(dbeta);
    cl_mem y_mem = ocl_mem(y);
    cl_ulong y_offset = ocl_elem_offset(y);
    cl_int count = (cl_int)fcnn_tensor_count(x);
    OCL_TRY(ocl_launch_1d(ctx, partial_kernel, (size_t)s.count, f.parts_wg,
                          OCL_ARGS(OCL_ARG(x_mem), OCL_ARG(x_offset), OCL_ARG(dy_mem),
                                   OCL_ARG(dy_offset), OCL_ARG(mean_mem), OCL_ARG(mean_offset),
                                   OCL_ARG(inv_mem), OCL_ARG(inv_offset), OCL_ARG(partial),
                                   OCL_ARG(s.channels), OCL_ARG(s.rows),
                                   OCL_ARG(s.rows_per_part), OCL_ARG(s.parts),
                                   OCL_ARG(s.count), OCL_ARG(y_mem), OCL_ARG(y_offset),
                                   OCL_ARG(relu))));
    OCL_TRY(ocl_launch_1d(ctx, finish_kernel, (size_t)s.channels, local,
                          OCL_ARGS(OCL_ARG(partial), OCL_ARG(dg_mem), OCL_ARG(dg_offset),
                                   OCL_ARG(db_mem), OCL_ARG(db_offset), OCL_ARG(s.channels),
                                   OCL_ARG(s.parts))));
    if (!dx) /* the first layer's: nobody needs it */
        return FCNN_OK;
    cl_mem dx_mem = ocl_mem(dx);
    cl_ulong dx_offset = ocl_elem_offset(dx);
    return ocl_launch_1d(ctx, data_kernel, (size_t)count / (size_t)per_item, local,
                         OCL_ARGS(OCL_ARG(x_mem), OCL_ARG(x_offset), OCL_ARG(dy_mem),
                                  OCL_ARG(dy_offset), OCL_ARG(g_mem), OCL_ARG(g_offset),
                                  OCL_ARG(mean_mem), OCL_ARG(mean_offset), OCL_ARG(inv_mem),
                                  OCL_ARG(inv_offset), OCL_ARG(dg_mem), OCL_ARG(dg_offset),
                                  OCL_ARG(db_mem), OCL_ARG(db_offset), OCL_ARG(dx_mem),
                                  OCL_ARG(dx_offset), OCL_ARG(s.channels), OCL_ARG(s.rows),
                                  OCL_ARG(count), OCL_ARG(y_mem), OCL_ARG(y_offset),
                                  OCL_ARG(relu)));
}

int ocl_batchnorm_bwd_partial_sums(struct ocl_context *ctx, const struct ocl_variant *variant,
                                   const struct fcnn_op_call *call)
{
    return bwd(ctx, variant, call, form_of(variant, 1));
}

int ocl_batchnorm_bwd_vec16(struct ocl_context *ctx, const struct ocl_variant *variant,
                            const struct fcnn_op_call *call)
{
    return bwd(ctx, variant, call, form_of(variant, 16));
}

/* The sixteen-channel form: channels in whole float16 vectors, element counts in an int. */
bool ocl_batchnorm_vec16_supports(const struct ocl_context *ctx,
                                  const struct ocl_variant *variant,
                                  const struct fcnn_op_call *call)
{
    (void)ctx;
    (void)variant;
    const struct fcnn_tensor *x = call->t[0];
    return ocl_call_fits_int32(call) && x->shape[x->ndim - 1] % 16 == 0;
}
