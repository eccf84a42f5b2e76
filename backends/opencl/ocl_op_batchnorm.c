/* BatchNormalization (kernels/batchnorm.cl) over the last axis of x, seen as [rows, C].
 * The forms of the ops (the training forward and the backward have all three):
 *   one channel per work-item (any C; float4 in the elementwise passes when C % 4 == 0):
 *     training    per-channel slices of shifted sums, then per channel the mean, inv_std
 *                 and the moving statistics, then y elementwise
 *     evaluation  inv_std from the moving variance, then y elementwise
 *     backward    per-channel slices of sum dy and sum dy xhat, then dgamma and dbeta,
 *                 then dx elementwise
 *   vec16 (C % 16 == 0): the same three passes, each work-item a loop over a slice of
 *     whole rows, a float16 of channels at a time, and a finish kernel per float16 of
 *     channels between them that also gives the elementwise pass its per-channel
 *     coefficients (scratch after the slices' sums).
 *   columns (C % 16 == 0, BATCHNORM_COLUMN_ROWS rows at most): the whole op in one launch, a
 *     work-item per float16 of channels walking all the rows twice, sums then the
 *     elementwise pass, its column still in its core's L1 for the second walk.
 *   pooled16 (a fused pooling, C % 16 == 0): the vec16 form's sums and finish kernels, and
 *     elementwise passes over slices of pooled rows, a window at a time: the forward
 *     writes only each window's maximum, and the backward reads the pooled dy. The
 *     Dropout beside it may join its passes (ocl_fuse.c).
 * Every kernel takes a fused ReLU (call->p.batchnorm.act) as a flag: one pass fewer each
 * way. The backward's kernels recompute the ReLU's mask from x, the statistics, gamma and
 * beta (the call's tensor 8) rather than read the forward's output. Only pooled16 takes a
 * fused pooling (call->p.batchnorm.pool). */
#include <config.h>

#include "ocl_registry.h"

/* Slices of rows for the per-channel sums of the one-channel form: enough work-items for
 * every core, short sums. */
#define BATCHNORM_PARTS 64
/* The vec16 form: slices of rows, one per work-item and work-group. A few dozen keep two
 * cores busy even when one of them is shared, and each work-item's run of memory long. */
#define BATCHNORM_SLICES16 64
/* The columns form: at most this many rows, so that a work-item's columns, 64 bytes a row
 * of x (and of dy and y backward: 24 KB), stay in a core's 32 KB L1 data cache between its
 * two walks. It leaves big tensors to the slices: a work-item per 16 channels would give two
 * cores too few of them, each reading the tensor cold from memory with a stride. */
#define BATCHNORM_COLUMN_ROWS 128

struct slices {
    cl_int channels, rows, parts, rows_per_part, count;
};

/* About `wanted` slices of x's rows, none empty. count = the sums kernel's work-items:
 * one per channel and slice in the one-channel form (items_per_slice = C), one per slice
 * in the vec16 form (1). */
static struct slices slice(const struct fcnn_tensor *x, cl_int wanted, int items_per_slice)
{
    struct slices s;
    s.channels = x->shape[x->ndim - 1];
    s.rows = (cl_int)(fcnn_tensor_count(x) / (size_t)s.channels);
    s.parts = s.rows < wanted ? s.rows : wanted;
    s.rows_per_part = (s.rows + s.parts - 1) / s.parts;
    s.parts = (s.rows + s.rows_per_part - 1) / s.rows_per_part;
    s.count = s.parts * items_per_slice;
    return s;
}

/* About `wanted` slices of a fused pooling's pooled rows (N H/P of them), none empty:
 * count = the work-items of the elementwise passes, one per slice. */
static struct slices slice_pooled(const struct fcnn_tensor *x, int pool, cl_int wanted)
{
    struct slices s;
    s.channels = x->shape[3];
    s.rows = x->shape[0] * (x->shape[1] / pool);
    s.parts = s.rows < wanted ? s.rows : wanted;
    s.rows_per_part = (s.rows + s.parts - 1) / s.parts;
    s.parts = (s.rows + s.rows_per_part - 1) / s.rows_per_part;
    s.count = s.parts;
    return s;
}

/* The vec16 form's scratch: the slices' two sums per channel, then `coefficients` floats
 * per channel from coef_offset on. */
static int scratch16(struct ocl_context *ctx, const struct slices *s, int coefficients,
                     cl_mem *out, cl_ulong *coef_offset)
{
    *coef_offset = 2 * (cl_ulong)s->parts * (cl_ulong)s->channels;
    return ocl_scratch_get(ctx, OCL_SCRATCH_PARTIALS,
                           (2 * (size_t)s->parts + (size_t)coefficients) * (size_t)s->channels *
                               sizeof(float),
                           out);
}

/* The vec16 form's normalising pass: y = (x - mean) scale + beta over slices of rows. */
static int normalize16(struct ocl_context *ctx, const struct ocl_variant *variant,
                       const struct fcnn_op_call *call, const struct slices *s, cl_mem mean,
                       cl_ulong mean_offset, cl_mem scale, cl_ulong scale_offset)
{
    const struct fcnn_tensor *x = call->t[0], *beta = call->t[2], *y = call->t[5];
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "batchnorm.cl", "batchnorm_normalize16", &kernel));
    cl_mem x_mem = ocl_mem(x), y_mem = ocl_mem(y), b_mem = ocl_mem(beta);
    cl_ulong x_offset = ocl_elem_offset(x), y_offset = ocl_elem_offset(y);
    cl_ulong b_offset = ocl_elem_offset(beta);
    cl_int relu = call->p.batchnorm.act == FCNN_ACT_RELU;
    return ocl_launch_1d(ctx, kernel, (size_t)s->count, (size_t)ocl_tunable(variant, "WG_SIZE"),
                         OCL_ARGS(OCL_ARG(x_mem), OCL_ARG(x_offset), OCL_ARG(y_mem),
                                  OCL_ARG(y_offset), OCL_ARG(mean), OCL_ARG(mean_offset),
                                  OCL_ARG(scale), OCL_ARG(scale_offset), OCL_ARG(b_mem),
                                  OCL_ARG(b_offset), OCL_ARG(s->channels), OCL_ARG(s->rows),
                                  OCL_ARG(s->rows_per_part), OCL_ARG(s->count),
                                  OCL_ARG(relu)));
}

/* y = (x - mean) inv_std gamma + beta elementwise, mean and inv_std given as buffer +
 * float offset, float4 when C % 4 == 0; max(y, 0) with a fused ReLU. */
static int apply(struct ocl_context *ctx, const struct ocl_variant *variant,
                 const struct fcnn_op_call *call, cl_mem mean, cl_ulong mean_offset,
                 cl_mem inv_std, cl_ulong inv_offset)
{
    const struct fcnn_tensor *x = call->t[0], *gamma = call->t[1], *beta = call->t[2];
    const struct fcnn_tensor *y = call->t[5];
    cl_int channels = x->shape[x->ndim - 1], count = (cl_int)fcnn_tensor_count(x);
    cl_int relu = call->p.batchnorm.act == FCNN_ACT_RELU;
    int per_item = channels % 4 == 0 ? 4 : 1;
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "batchnorm.cl",
                               per_item == 4 ? "batchnorm_apply_vec4" : "batchnorm_apply",
                               &kernel));
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
int ocl_batchnorm_fwd_train_partial_sums(struct ocl_context *ctx,
                                         const struct ocl_variant *variant,
                                         const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0], *mm = call->t[3], *mv = call->t[4];
    const struct fcnn_tensor *mean = call->t[6], *inv_std = call->t[7];
    struct slices s = slice(x, BATCHNORM_PARTS, x->shape[x->ndim - 1]);
    size_t local = (size_t)ocl_tunable(variant, "WG_SIZE");
    struct ocl_kernel *partial_kernel, *finish_kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "batchnorm.cl", "batchnorm_partial",
                               &partial_kernel));
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
    return apply(ctx, variant, call, mean_mem, mean_offset, inv_mem, inv_offset);
}

/* The vec16 form's training statistics: the slices' shifted sums of x, then per float16 of
 * channels the mean, inv_std, the moving statistics and scale = inv_std gamma, which the
 * scratch (*partial) holds from *scale_offset on for the normalising pass.
 * x, gamma, beta, moving_mean, moving_variance, y, mean, inv_std */
static int train_statistics16(struct ocl_context *ctx, const struct ocl_variant *variant,
                              const struct fcnn_op_call *call, cl_mem *partial,
                              cl_ulong *scale_offset)
{
    const struct fcnn_tensor *x = call->t[0], *gamma = call->t[1];
    const struct fcnn_tensor *mm = call->t[3], *mv = call->t[4];
    const struct fcnn_tensor *mean = call->t[6], *inv_std = call->t[7];
    struct slices s = slice(x, BATCHNORM_SLICES16, 1);
    size_t local = (size_t)ocl_tunable(variant, "WG_SIZE");
    struct ocl_kernel *sums_kernel, *finish_kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "batchnorm.cl", "batchnorm_sums16", &sums_kernel));
    OCL_TRY(ocl_variant_kernel(ctx, variant, "batchnorm.cl", "batchnorm_finish_train16",
                               &finish_kernel));
    OCL_TRY(scratch16(ctx, &s, 1, partial, scale_offset));

    cl_mem x_mem = ocl_mem(x), g_mem = ocl_mem(gamma), mm_mem = ocl_mem(mm), mv_mem = ocl_mem(mv);
    cl_mem mean_mem = ocl_mem(mean), inv_mem = ocl_mem(inv_std);
    cl_ulong x_offset = ocl_elem_offset(x), g_offset = ocl_elem_offset(gamma);
    cl_ulong mm_offset = ocl_elem_offset(mm), mv_offset = ocl_elem_offset(mv);
    cl_ulong mean_offset = ocl_elem_offset(mean), inv_offset = ocl_elem_offset(inv_std);
    cl_int blocks = s.channels / 16;
    cl_float momentum = call->p.batchnorm.momentum, epsilon = call->p.batchnorm.epsilon;
    OCL_TRY(ocl_launch_1d(ctx, sums_kernel, (size_t)s.count, local,
                          OCL_ARGS(OCL_ARG(x_mem), OCL_ARG(x_offset), OCL_ARG(*partial),
                                   OCL_ARG(s.channels), OCL_ARG(s.rows),
                                   OCL_ARG(s.rows_per_part), OCL_ARG(s.parts),
                                   OCL_ARG(s.count))));
    return ocl_launch_1d(ctx, finish_kernel, (size_t)blocks, local,
                         OCL_ARGS(OCL_ARG(*partial), OCL_ARG(x_mem), OCL_ARG(x_offset),
                                  OCL_ARG(mm_mem), OCL_ARG(mm_offset), OCL_ARG(mv_mem),
                                  OCL_ARG(mv_offset), OCL_ARG(mean_mem), OCL_ARG(mean_offset),
                                  OCL_ARG(inv_mem), OCL_ARG(inv_offset), OCL_ARG(g_mem),
                                  OCL_ARG(g_offset), OCL_ARG(*partial), OCL_ARG(*scale_offset),
                                  OCL_ARG(s.channels), OCL_ARG(s.rows), OCL_ARG(s.parts),
                                  OCL_ARG(blocks), OCL_ARG(momentum), OCL_ARG(epsilon)));
}

/* x, gamma, beta, moving_mean, moving_variance, y, mean, inv_std */
int ocl_batchnorm_fwd_train_vec16(struct ocl_context *ctx, const struct ocl_variant *variant,
                                  const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *mean = call->t[6];
    struct slices s = slice(call->t[0], BATCHNORM_SLICES16, 1);
    cl_mem partial;
    cl_ulong scale_offset;
    OCL_TRY(train_statistics16(ctx, variant, call, &partial, &scale_offset));
    return normalize16(ctx, variant, call, &s, ocl_mem(mean), ocl_elem_offset(mean), partial,
                       scale_offset);
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
    return apply(ctx, variant, call, stats, 0, stats, (cl_ulong)channels);
}

/* x, gamma, beta, moving_mean, moving_variance, y */
int ocl_batchnorm_fwd_infer_vec16(struct ocl_context *ctx, const struct ocl_variant *variant,
                                  const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0], *gamma = call->t[1];
    const struct fcnn_tensor *mm = call->t[3], *mv = call->t[4];
    struct slices s = slice(x, BATCHNORM_SLICES16, 1);
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "batchnorm.cl", "batchnorm_finish_infer16",
                               &kernel));
    cl_mem scale;
    cl_ulong scale_offset;
    OCL_TRY(scratch16(ctx, &s, 1, &scale, &scale_offset));
    cl_mem g_mem = ocl_mem(gamma), mm_mem = ocl_mem(mm), mv_mem = ocl_mem(mv);
    cl_ulong g_offset = ocl_elem_offset(gamma), mm_offset = ocl_elem_offset(mm);
    cl_ulong mv_offset = ocl_elem_offset(mv);
    cl_int blocks = s.channels / 16;
    cl_float epsilon = call->p.batchnorm.epsilon;
    OCL_TRY(ocl_launch_1d(ctx, kernel, (size_t)blocks, (size_t)ocl_tunable(variant, "WG_SIZE"),
                          OCL_ARGS(OCL_ARG(mv_mem), OCL_ARG(mv_offset), OCL_ARG(g_mem),
                                   OCL_ARG(g_offset), OCL_ARG(scale), OCL_ARG(scale_offset),
                                   OCL_ARG(blocks), OCL_ARG(epsilon))));
    return normalize16(ctx, variant, call, &s, mm_mem, mm_offset, scale, scale_offset);
}

/* The tensors of a backward call: x, dy, gamma, mean, inv_std, dx (may be NULL), dgamma,
 * dbeta, beta (with a fused ReLU, for its mask; or NULL: gamma then stands in for it,
 * unread). */
struct bwd_args {
    cl_mem x, dy, gamma, mean, inv_std, dgamma, dbeta, beta;
    cl_ulong x_offset, dy_offset, gamma_offset, mean_offset, inv_offset, dgamma_offset,
        dbeta_offset, beta_offset;
    cl_int relu;
};

static struct bwd_args bwd_args(const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *beta = call->t[8] ? call->t[8] : call->t[2];
    return (struct bwd_args){
        .x = ocl_mem(call->t[0]), .dy = ocl_mem(call->t[1]), .gamma = ocl_mem(call->t[2]),
        .mean = ocl_mem(call->t[3]), .inv_std = ocl_mem(call->t[4]),
        .dgamma = ocl_mem(call->t[6]), .dbeta = ocl_mem(call->t[7]),
        .beta = ocl_mem(beta),
        .x_offset = ocl_elem_offset(call->t[0]), .dy_offset = ocl_elem_offset(call->t[1]),
        .gamma_offset = ocl_elem_offset(call->t[2]), .mean_offset = ocl_elem_offset(call->t[3]),
        .inv_offset = ocl_elem_offset(call->t[4]), .dgamma_offset = ocl_elem_offset(call->t[6]),
        .dbeta_offset = ocl_elem_offset(call->t[7]),
        .beta_offset = ocl_elem_offset(beta),
        .relu = call->t[8] != NULL,
    };
}

/* The slices' sums of dy and dy xhat with `kernel` (batchnorm_bwd_partial or
 * batchnorm_bwd_sums16, which take the same arguments) into `partial`. */
static int bwd_sums(struct ocl_context *ctx, struct ocl_kernel *kernel, size_t local,
                    const struct bwd_args *a, const struct slices *s, cl_mem partial)
{
    return ocl_launch_1d(ctx, kernel, (size_t)s->count, local,
                         OCL_ARGS(OCL_ARG(a->x), OCL_ARG(a->x_offset), OCL_ARG(a->dy),
                                  OCL_ARG(a->dy_offset), OCL_ARG(a->mean),
                                  OCL_ARG(a->mean_offset), OCL_ARG(a->inv_std),
                                  OCL_ARG(a->inv_offset), OCL_ARG(partial),
                                  OCL_ARG(s->channels), OCL_ARG(s->rows),
                                  OCL_ARG(s->rows_per_part), OCL_ARG(s->parts),
                                  OCL_ARG(s->count), OCL_ARG(a->gamma),
                                  OCL_ARG(a->gamma_offset), OCL_ARG(a->beta),
                                  OCL_ARG(a->beta_offset), OCL_ARG(a->relu)));
}

/* dgamma and dbeta from the slices' sums, with nothing else to do. */
static int bwd_finish(struct ocl_context *ctx, const struct ocl_variant *variant,
                      const struct bwd_args *a, const struct slices *s, cl_mem partial)
{
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "batchnorm.cl", "batchnorm_bwd_finish", &kernel));
    return ocl_launch_1d(ctx, kernel, (size_t)s->channels,
                         (size_t)ocl_tunable(variant, "WG_SIZE"),
                         OCL_ARGS(OCL_ARG(partial), OCL_ARG(a->dgamma),
                                  OCL_ARG(a->dgamma_offset), OCL_ARG(a->dbeta),
                                  OCL_ARG(a->dbeta_offset), OCL_ARG(s->channels),
                                  OCL_ARG(s->parts)));
}

/* The vec16 and pooled16 forms' finish: dgamma and dbeta from the slices' sums over
 * `rows` rows of x, and dx's coefficients in the scratch from coef_offset on. */
static int bwd_finish16(struct ocl_context *ctx, const struct ocl_variant *variant,
                        const struct bwd_args *a, cl_int channels, cl_int rows, cl_int parts,
                        cl_mem partial, cl_ulong coef_offset)
{
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "batchnorm.cl", "batchnorm_bwd_finish16", &kernel));
    cl_int blocks = channels / 16;
    return ocl_launch_1d(ctx, kernel, (size_t)blocks, (size_t)ocl_tunable(variant, "WG_SIZE"),
                         OCL_ARGS(OCL_ARG(partial), OCL_ARG(a->gamma), OCL_ARG(a->gamma_offset),
                                  OCL_ARG(a->inv_std), OCL_ARG(a->inv_offset),
                                  OCL_ARG(a->dgamma), OCL_ARG(a->dgamma_offset),
                                  OCL_ARG(a->dbeta), OCL_ARG(a->dbeta_offset), OCL_ARG(partial),
                                  OCL_ARG(coef_offset), OCL_ARG(channels), OCL_ARG(rows),
                                  OCL_ARG(parts), OCL_ARG(blocks)));
}

int ocl_batchnorm_bwd_partial_sums(struct ocl_context *ctx, const struct ocl_variant *variant,
                                   const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0], *dx = call->t[5];
    struct bwd_args a = bwd_args(call);
    struct slices s = slice(x, BATCHNORM_PARTS, x->shape[x->ndim - 1]);
    size_t local = (size_t)ocl_tunable(variant, "WG_SIZE");
    struct ocl_kernel *sums_kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "batchnorm.cl", "batchnorm_bwd_partial",
                               &sums_kernel));
    cl_mem partial;
    OCL_TRY(ocl_scratch_get(ctx, OCL_SCRATCH_PARTIALS,
                            2 * (size_t)s.parts * (size_t)s.channels * sizeof(float), &partial));
    OCL_TRY(bwd_sums(ctx, sums_kernel, local, &a, &s, partial));
    OCL_TRY(bwd_finish(ctx, variant, &a, &s, partial));
    if (!dx) /* the first layer's: nobody needs it */
        return FCNN_OK;

    cl_int count = (cl_int)fcnn_tensor_count(x);
    int per_item = s.channels % 4 == 0 ? 4 : 1;
    struct ocl_kernel *data_kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "batchnorm.cl",
                               per_item == 4 ? "batchnorm_bwd_data_vec4" : "batchnorm_bwd_data",
                               &data_kernel));
    cl_mem dx_mem = ocl_mem(dx);
    cl_ulong dx_offset = ocl_elem_offset(dx);
    return ocl_launch_1d(ctx, data_kernel, (size_t)count / (size_t)per_item, local,
                         OCL_ARGS(OCL_ARG(a.x), OCL_ARG(a.x_offset), OCL_ARG(a.dy),
                                  OCL_ARG(a.dy_offset), OCL_ARG(a.gamma),
                                  OCL_ARG(a.gamma_offset), OCL_ARG(a.mean),
                                  OCL_ARG(a.mean_offset), OCL_ARG(a.inv_std),
                                  OCL_ARG(a.inv_offset), OCL_ARG(a.dgamma),
                                  OCL_ARG(a.dgamma_offset), OCL_ARG(a.dbeta),
                                  OCL_ARG(a.dbeta_offset), OCL_ARG(dx_mem), OCL_ARG(dx_offset),
                                  OCL_ARG(s.channels), OCL_ARG(s.rows), OCL_ARG(count),
                                  OCL_ARG(a.beta), OCL_ARG(a.beta_offset), OCL_ARG(a.relu)));
}

int ocl_batchnorm_bwd_vec16(struct ocl_context *ctx, const struct ocl_variant *variant,
                            const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0], *dx = call->t[5];
    struct bwd_args a = bwd_args(call);
    struct slices s = slice(x, BATCHNORM_SLICES16, 1);
    size_t local = (size_t)ocl_tunable(variant, "WG_SIZE");
    struct ocl_kernel *sums_kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "batchnorm.cl", "batchnorm_bwd_sums16",
                               &sums_kernel));
    cl_mem partial;
    cl_ulong coef_offset;
    OCL_TRY(scratch16(ctx, &s, 4, &partial, &coef_offset));
    OCL_TRY(bwd_sums(ctx, sums_kernel, local, &a, &s, partial));
    OCL_TRY(bwd_finish16(ctx, variant, &a, s.channels, s.rows, s.parts, partial, coef_offset));
    if (!dx) /* the first layer's: only dgamma and dbeta */
        return FCNN_OK;

    struct ocl_kernel *data_kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "batchnorm.cl", "batchnorm_bwd_data16",
                               &data_kernel));
    cl_mem dx_mem = ocl_mem(dx);
    cl_ulong dx_offset = ocl_elem_offset(dx);
    return ocl_launch_1d(ctx, data_kernel, (size_t)s.count, local,
                         OCL_ARGS(OCL_ARG(a.x), OCL_ARG(a.x_offset), OCL_ARG(a.dy),
                                  OCL_ARG(a.dy_offset), OCL_ARG(a.mean), OCL_ARG(a.mean_offset),
                                  OCL_ARG(partial), OCL_ARG(coef_offset), OCL_ARG(dx_mem),
                                  OCL_ARG(dx_offset), OCL_ARG(s.channels), OCL_ARG(s.rows),
                                  OCL_ARG(s.rows_per_part), OCL_ARG(s.count),
                                  OCL_ARG(a.beta), OCL_ARG(a.beta_offset), OCL_ARG(a.relu)));
}

/* The sixteen-channel form: channels in whole float16 vectors, element counts in an int. */
bool ocl_batchnorm_vec16_supports(const struct ocl_context *ctx,
                                  const struct ocl_variant *variant,
                                  const struct fcnn_op_call *call)
{
    (void)ctx;
    (void)variant;
    const struct fcnn_tensor *x = call->t[0];
    return ocl_call_fits_int32(call) && x->shape[x->ndim - 1] % 16 == 0 &&
           !call->p.batchnorm.pool;
}

/* The one-channel forms: no fused pooling, counts in an int. */
bool ocl_batchnorm_unpooled_supports(const struct ocl_context *ctx,
                                     const struct ocl_variant *variant,
                                     const struct fcnn_op_call *call)
{
    return ocl_supports_any(ctx, variant, call) && !call->p.batchnorm.pool;
}

/* The pooled form: a fused pooling, channels in whole float16 vectors, counts in an int. */
bool ocl_batchnorm_pooled16_supports(const struct ocl_context *ctx,
                                     const struct ocl_variant *variant,
                                     const struct fcnn_op_call *call)
{
    (void)ctx;
    (void)variant;
    const struct fcnn_tensor *x = call->t[0];
    return call->p.batchnorm.pool && ocl_call_fits_int32(call) && x->shape[3] % 16 == 0;
}

/* The columns form's training forward: one launch, a work-item per float16 of channels.
 * x, gamma, beta, moving_mean, moving_variance, y, mean, inv_std */
int ocl_batchnorm_fwd_train_columns(struct ocl_context *ctx, const struct ocl_variant *variant,
                                    const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0], *gamma = call->t[1], *beta = call->t[2];
    const struct fcnn_tensor *mm = call->t[3], *mv = call->t[4], *y = call->t[5];
    const struct fcnn_tensor *mean = call->t[6], *inv_std = call->t[7];
    struct slices s = slice(x, 1, 1);
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "batchnorm.cl", "batchnorm_columns16", &kernel));
    cl_mem x_mem = ocl_mem(x), y_mem = ocl_mem(y), g_mem = ocl_mem(gamma), b_mem = ocl_mem(beta);
    cl_mem mm_mem = ocl_mem(mm), mv_mem = ocl_mem(mv);
    cl_mem mean_mem = ocl_mem(mean), inv_mem = ocl_mem(inv_std);
    cl_ulong x_offset = ocl_elem_offset(x), y_offset = ocl_elem_offset(y);
    cl_ulong g_offset = ocl_elem_offset(gamma), b_offset = ocl_elem_offset(beta);
    cl_ulong mm_offset = ocl_elem_offset(mm), mv_offset = ocl_elem_offset(mv);
    cl_ulong mean_offset = ocl_elem_offset(mean), inv_offset = ocl_elem_offset(inv_std);
    cl_float momentum = call->p.batchnorm.momentum, epsilon = call->p.batchnorm.epsilon;
    cl_int relu = call->p.batchnorm.act == FCNN_ACT_RELU, blocks = s.channels / 16;
    return ocl_launch_1d(ctx, kernel, (size_t)blocks, (size_t)ocl_tunable(variant, "WG_SIZE"),
                         OCL_ARGS(OCL_ARG(x_mem), OCL_ARG(x_offset), OCL_ARG(y_mem),
                                  OCL_ARG(y_offset), OCL_ARG(g_mem), OCL_ARG(g_offset),
                                  OCL_ARG(b_mem), OCL_ARG(b_offset), OCL_ARG(mm_mem),
                                  OCL_ARG(mm_offset), OCL_ARG(mv_mem), OCL_ARG(mv_offset),
                                  OCL_ARG(mean_mem), OCL_ARG(mean_offset), OCL_ARG(inv_mem),
                                  OCL_ARG(inv_offset), OCL_ARG(s.channels), OCL_ARG(s.rows),
                                  OCL_ARG(blocks), OCL_ARG(momentum), OCL_ARG(epsilon),
                                  OCL_ARG(relu)));
}

/* The columns form's backward: one launch, a work-item per float16 of channels. */
int ocl_batchnorm_bwd_columns(struct ocl_context *ctx, const struct ocl_variant *variant,
                              const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0], *dx = call->t[5];
    struct bwd_args a = bwd_args(call);
    struct slices s = slice(x, 1, 1);
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "batchnorm.cl", "batchnorm_bwd_columns16",
                               &kernel));
    /* Without dx (the first layer) x stands in for it, unwritten. */
    cl_mem dx_mem = dx ? ocl_mem(dx) : a.x;
    cl_ulong dx_offset = dx ? ocl_elem_offset(dx) : a.x_offset;
    cl_int has_dx = dx != NULL, blocks = s.channels / 16;
    return ocl_launch_1d(ctx, kernel, (size_t)blocks, (size_t)ocl_tunable(variant, "WG_SIZE"),
                         OCL_ARGS(OCL_ARG(a.x), OCL_ARG(a.x_offset), OCL_ARG(a.dy),
                                  OCL_ARG(a.dy_offset), OCL_ARG(a.gamma),
                                  OCL_ARG(a.gamma_offset), OCL_ARG(a.mean),
                                  OCL_ARG(a.mean_offset), OCL_ARG(a.inv_std),
                                  OCL_ARG(a.inv_offset), OCL_ARG(a.dgamma),
                                  OCL_ARG(a.dgamma_offset), OCL_ARG(a.dbeta),
                                  OCL_ARG(a.dbeta_offset), OCL_ARG(dx_mem), OCL_ARG(dx_offset),
                                  OCL_ARG(has_dx), OCL_ARG(s.channels), OCL_ARG(s.rows),
                                  OCL_ARG(blocks), OCL_ARG(a.beta), OCL_ARG(a.beta_offset),
                                  OCL_ARG(a.relu)));
}

/* The columns form: the vec16 form's channels, and few enough rows. */
bool ocl_batchnorm_columns_supports(const struct ocl_context *ctx,
                                    const struct ocl_variant *variant,
                                    const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0];
    return ocl_batchnorm_vec16_supports(ctx, variant, call) &&
           fcnn_tensor_count(x) / (size_t)x->shape[x->ndim - 1] <= BATCHNORM_COLUMN_ROWS;
}

/* A dropout fused into the pooled form's passes (ocl_fuse.c): the kernels' arguments for
 * dropout_*(in, out), or for none (drop NULL: `unused` stands in for out, unwritten). */
struct fused_dropout {
    cl_mem out;
    cl_ulong out_offset;
    cl_int on;
    cl_uint seed, threshold;
    cl_float scale;
};

static struct fused_dropout dropout_args(const struct fcnn_op_call *drop,
                                         const struct fcnn_tensor *unused)
{
    if (!drop)
        return (struct fused_dropout){ .out = ocl_mem(unused),
                                       .out_offset = ocl_elem_offset(unused), .scale = 1.0f };
    return (struct fused_dropout){
        .out = ocl_mem(drop->t[1]), .out_offset = ocl_elem_offset(drop->t[1]), .on = 1,
        .seed = drop->p.dropout.seed,
        .threshold = fcnn_dropout_threshold(drop->p.dropout.rate),
        .scale = fcnn_dropout_scale(drop->p.dropout.rate),
    };
}

int ocl_batchnorm_fwd_train_pooled16(struct ocl_context *ctx, const struct ocl_variant *variant,
                                     const struct fcnn_op_call *call)
{
    return ocl_batchnorm_pooled16_forward(ctx, variant, call, NULL);
}

int ocl_batchnorm_bwd_pooled16(struct ocl_context *ctx, const struct ocl_variant *variant,
                               const struct fcnn_op_call *call)
{
    return ocl_batchnorm_pooled16_backward(ctx, variant, call, NULL);
}

/* The pooled form's training forward: the vec16 form's sums and statistics over all of x,
 * then each window's maximum of the normalised values, and the dropout after it if given.
 * x, gamma, beta, moving_mean, moving_variance, y (pooled), mean, inv_std */
int ocl_batchnorm_pooled16_forward(struct ocl_context *ctx, const struct ocl_variant *variant,
                                   const struct fcnn_op_call *call,
                                   const struct fcnn_op_call *dropout)
{
    const struct fcnn_tensor *x = call->t[0], *beta = call->t[2], *y = call->t[5];
    const struct fcnn_tensor *mean = call->t[6];
    cl_int pool = call->p.batchnorm.pool, width = x->shape[2], channels = x->shape[3];
    struct slices pooled = slice_pooled(x, pool, BATCHNORM_SLICES16);
    struct ocl_kernel *pool_kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "batchnorm.cl", "batchnorm_normalize_pool16",
                               &pool_kernel));
    cl_mem partial;
    cl_ulong scale_offset;
    OCL_TRY(train_statistics16(ctx, variant, call, &partial, &scale_offset));

    cl_mem x_mem = ocl_mem(x), y_mem = ocl_mem(y), b_mem = ocl_mem(beta);
    cl_mem mean_mem = ocl_mem(mean);
    cl_ulong x_offset = ocl_elem_offset(x), y_offset = ocl_elem_offset(y);
    cl_ulong b_offset = ocl_elem_offset(beta), mean_offset = ocl_elem_offset(mean);
    cl_int relu = call->p.batchnorm.act == FCNN_ACT_RELU;
    struct fused_dropout drop = dropout_args(dropout, y);
    /* A dropout in place overwrites y with its own output. */
    cl_int write_pooled = !dropout || ocl_mem(dropout->t[1]) != y_mem ||
                          drop.out_offset != y_offset;
    return ocl_launch_1d(ctx, pool_kernel, (size_t)pooled.count,
                         (size_t)ocl_tunable(variant, "WG_SIZE"),
                         OCL_ARGS(OCL_ARG(x_mem), OCL_ARG(x_offset), OCL_ARG(y_mem),
                                  OCL_ARG(y_offset), OCL_ARG(mean_mem), OCL_ARG(mean_offset),
                                  OCL_ARG(partial), OCL_ARG(scale_offset), OCL_ARG(b_mem),
                                  OCL_ARG(b_offset), OCL_ARG(channels), OCL_ARG(width),
                                  OCL_ARG(pool), OCL_ARG(pooled.rows),
                                  OCL_ARG(pooled.rows_per_part), OCL_ARG(pooled.count),
                                  OCL_ARG(relu), OCL_ARG(drop.out), OCL_ARG(drop.out_offset),
                                  OCL_ARG(drop.on), OCL_ARG(drop.seed),
                                  OCL_ARG(drop.threshold), OCL_ARG(drop.scale),
                                  OCL_ARG(write_pooled)));
}

/* The pooled form's backward: sums and dx over slices of pooled rows, a window at a time,
 * the pooled dy routed to each window's first maximum. With the dropout before it, the
 * sums pass reads the dropout's input gradient and writes its output, call's dy, which the
 * data pass then reads. */
int ocl_batchnorm_pooled16_backward(struct ocl_context *ctx, const struct ocl_variant *variant,
                                    const struct fcnn_op_call *call,
                                    const struct fcnn_op_call *dropout)
{
    const struct fcnn_tensor *x = call->t[0], *dx = call->t[5];
    struct bwd_args a = bwd_args(call);
    struct fused_dropout drop = dropout_args(dropout, call->t[1]);
    cl_mem incoming = dropout ? ocl_mem(dropout->t[0]) : a.dy;
    cl_ulong incoming_offset = dropout ? ocl_elem_offset(dropout->t[0]) : a.dy_offset;
    cl_int pool = call->p.batchnorm.pool, width = x->shape[2];
    cl_int relu = call->p.batchnorm.act == FCNN_ACT_RELU;
    struct slices s = slice_pooled(x, pool, BATCHNORM_SLICES16);
    cl_int rows = (cl_int)(fcnn_tensor_count(x) / (size_t)s.channels);
    size_t local = (size_t)ocl_tunable(variant, "WG_SIZE");
    struct ocl_kernel *sums_kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "batchnorm.cl", "batchnorm_bwd_sums_pool16",
                               &sums_kernel));
    cl_mem partial;
    cl_ulong coef_offset;
    OCL_TRY(scratch16(ctx, &s, 4, &partial, &coef_offset));
    OCL_TRY(ocl_launch_1d(ctx, sums_kernel, (size_t)s.count, local,
                          OCL_ARGS(OCL_ARG(a.x), OCL_ARG(a.x_offset), OCL_ARG(incoming),
                                   OCL_ARG(incoming_offset), OCL_ARG(a.mean),
                                   OCL_ARG(a.mean_offset), OCL_ARG(a.inv_std),
                                   OCL_ARG(a.inv_offset), OCL_ARG(partial),
                                   OCL_ARG(s.channels), OCL_ARG(width), OCL_ARG(pool),
                                   OCL_ARG(s.rows), OCL_ARG(s.rows_per_part), OCL_ARG(s.parts),
                                   OCL_ARG(s.count), OCL_ARG(a.gamma), OCL_ARG(a.gamma_offset),
                                   OCL_ARG(a.beta), OCL_ARG(a.beta_offset), OCL_ARG(relu),
                                   OCL_ARG(drop.out), OCL_ARG(drop.out_offset),
                                   OCL_ARG(drop.on), OCL_ARG(drop.seed),
                                   OCL_ARG(drop.threshold), OCL_ARG(drop.scale))));
    OCL_TRY(bwd_finish16(ctx, variant, &a, s.channels, rows, s.parts, partial, coef_offset));
    if (!dx) /* the first layer's: only dgamma and dbeta */
        return FCNN_OK;

    struct ocl_kernel *data_kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "batchnorm.cl", "batchnorm_bwd_data_pool16",
                               &data_kernel));
    cl_mem dx_mem = ocl_mem(dx);
    cl_ulong dx_offset = ocl_elem_offset(dx);
    return ocl_launch_1d(ctx, data_kernel, (size_t)s.count, local,
                         OCL_ARGS(OCL_ARG(a.x), OCL_ARG(a.x_offset), OCL_ARG(a.dy),
                                  OCL_ARG(a.dy_offset), OCL_ARG(a.mean), OCL_ARG(a.mean_offset),
                                  OCL_ARG(partial), OCL_ARG(coef_offset), OCL_ARG(dx_mem),
                                  OCL_ARG(dx_offset), OCL_ARG(s.channels), OCL_ARG(width),
                                  OCL_ARG(pool), OCL_ARG(s.rows), OCL_ARG(s.rows_per_part),
                                  OCL_ARG(s.count), OCL_ARG(a.beta), OCL_ARG(a.beta_offset),
                                  OCL_ARG(relu)));
}
