/* Fusing ops that the core enqueues back to back. A convolution layer's backward pass
 * begins with
 *
 *   dropout_bwd(dy, d)         when a Dropout follows the pooling: dy masked and scaled
 *   maxpool_bwd(x, d, dx)      the pooled layer's gradient, routed to each window's max
 *   relu_bwd(x, dx, dx)        in place: the convolution's ReLU, x being its output
 *   bias_bwd(dx, db)           the sum of dx per channel
 *
 * passes over memory that on a CPU are limited by memory traffic, not arithmetic. The
 * backend defers a dropout_bwd or maxpool_bwd that could start this chain instead of
 * enqueueing it, and when the next calls continue the chain on the same tensors, runs one
 * kernel that applies the dropout's mask as it reads dy, writes the masked gradient and
 * the bias's partial sums (kernels/pool.cl: maxpool_bwd_fused16). The intermediate dx that
 * relu_bwd overwrites in place is never observable, so the result is the same as the ops'
 * (the bias sum in another order, within float rounding).
 *
 * Where the dropout's mask goes. Forward, a Dropout after a pooling reads the pooled
 * output p and writes q = p mask scale; backward, the pooling's gradient reads the
 * dropout's d = dy mask scale. Either way the op beside the dropout has the values in
 * registers, so the mask (a hash of the element's index, recomputed, never stored) is
 * applied there:
 *   forward   maxpool_fwd(x, p); dropout_fwd(p, q)  ->  one kernel writing p and q
 *             (kernels/pool.cl: maxpool_fwd_dropout16)
 *   backward  dropout_bwd(dy, d); maxpool_bwd(x, d, dx)  ->  maxpool_bwd_fused16 reading dy
 * Both still write the tensor between the two ops (p forward, d backward) unless the
 * dropout runs in place: the network keeps every activation and gradient in a region of its own,
 * and from tensor identities alone the backend cannot tell that nobody reads p or d later
 * (in the trainer nobody does, but a test, a replay or a later op may), so what the fused
 * kernel saves is the dropout's read of p or d and its launch, not the write. Measured by
 * CPU time on the better model's first pool (tests/opencl-dropout-timing, PoCL, one
 * thread): forward 0.24 ms apart, 0.17 fused; backward 0.43 apart, 0.22-0.26 fused; with
 * the writes left out, under 0.01 ms less, so keeping them costs next to nothing. Nothing
 * the pooling's backward reads depends on this: maxpool_bwd recomputes each window's
 * maximum from x, never from p. The dropout's mask is not moved into a dense op or a batch
 * normalization without a pooling next to it: the Dropout layers there act on
 * [batch, 256]-sized tensors whose passes cost a launch, not memory traffic.
 *
 * A batch normalization with a max pooling fused in (the network runs BatchNormalization,
 * its ReLU and the pooling after them as one op in training: nn/network.c) writes only the
 * pooled tensor p, so the Dropout after it meets the same chain there:
 *   forward   batchnorm_fwd_train(x, ..., p) pooled; dropout_fwd(p, q)  ->  its last
 *             pass writes p and q (kernels/batchnorm.cl: batchnorm_normalize_pool16)
 *   backward  dropout_bwd(dy, d); batchnorm_bwd(x, d, ...) pooled  ->  its sums pass reads
 *             dy, masks it and writes d, which its data pass reads
 * with the same rules: p and d still written, the dropout in place or apart.
 *
 * An image's first layer. Its convolution has one input channel (a 3x3 window at stride
 * 1 here), so it computes little and moves much: 32 output channels per pixel written and
 * read back by the pooling. So
 *   forward   conv2d_fwd(x, w, b, y); maxpool_fwd(y, p) of 2x2 windows  ->  the pooled
 *             forward's c1 kernel (kernels/conv2d_pool.cl: conv2d_pool_c1_3x3_full),
 *             storing y as it goes and p as the maximum of exactly what it stored
 * Measured with the reference model's first layer on PoCL (a throwaway loop of 40 calls,
 * medians of 15 blocks, FCNN_TUNE=0): 0.28-0.33 ms apart, 0.13-0.17 fused. The backward
 * counterpart (the chain above carried into the layer's weight gradient) saved about
 * 0.05 ms more but summed that gradient in another order, and a batch split over two
 * processes then drifted further from the one-process run (tests/mpi-opencl.sh): dropped.
 *
 * Anything else — another op, a transfer, a sync, freeing a buffer, a report, forcing a
 * variant — first flushes what is deferred: enqueued as far as the chain got. Nothing is
 * deferred for an op whose variant is forced (or whose partner's is), or when
 * FCNN_FUSE=0. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocl_registry.h"

void ocl_fusion_open(struct ocl_context *ctx)
{
    const char *env = getenv("FCNN_FUSE");
    memset(&ctx->fusion, 0, sizeof ctx->fusion);
    ctx->fusion.enabled = !(env && strcmp(env, "0") == 0);
}

/* A copy of the call that outlives the caller's descriptors. */
static void keep(struct ocl_kept_call *kept, const struct fcnn_op_call *call)
{
    kept->call = *call;
    for (int i = 0; i < FCNN_OP_MAX_TENSORS; i++) {
        if (!call->t[i])
            continue;
        kept->tensors[i] = *call->t[i];
        kept->call.t[i] = &kept->tensors[i];
    }
}

/* The same memory: buffer, offset and element count. */
static bool same(const struct fcnn_tensor *a, const struct fcnn_tensor *b)
{
    return a && b && a->buffer == b->buffer && a->offset == b->offset &&
           fcnn_tensor_count(a) == fcnn_tensor_count(b);
}

/* No byte in common. A fused kernel reads one op's input while it writes another's output,
 * where the ops one after the other would have finished the first before the second. */
static bool disjoint(const struct fcnn_tensor *a, const struct fcnn_tensor *b)
{
    return a->buffer != b->buffer || a->offset + fcnn_tensor_bytes(a) <= b->offset ||
           b->offset + fcnn_tensor_bytes(b) <= a->offset;
}

static bool forced(const struct ocl_context *ctx, enum fcnn_op op)
{
    return ctx->forced[op] != NULL;
}

/* The fused kernel's own constraints: those of the scatter form, 16 channels at a time. */
static bool can_start(const struct ocl_context *ctx, const struct fcnn_op_call *call)
{
    if (!ctx->fusion.enabled || call->op != FCNN_OP_MAXPOOL_BWD ||
        forced(ctx, FCNN_OP_MAXPOOL_BWD) || forced(ctx, FCNN_OP_RELU_BWD))
        return false;
    const struct ocl_variant *scatter = ocl_variant_find(FCNN_OP_MAXPOOL_BWD, "scatter16");
    return scatter && scatter->supports(ctx, scatter, call);
}

/* A dropout_bwd whose output a maxpool_bwd may read next. */
static bool can_start_dropout(const struct ocl_context *ctx, const struct fcnn_op_call *call)
{
    return ctx->fusion.enabled && call->op == FCNN_OP_DROPOUT_BWD &&
           !forced(ctx, FCNN_OP_DROPOUT_BWD) && !forced(ctx, FCNN_OP_MAXPOOL_BWD) &&
           ocl_call_fits_int32(call);
}

/* maxpool_bwd(x, d, dx) reading the deferred dropout_bwd(dy, d)'s output, which is dy
 * itself (in place) or apart from it, and neither dy nor d overlaps x or dx. */
static bool continues_with_pool(const struct ocl_context *ctx, const struct fcnn_op_call *call)
{
    const struct fcnn_op_call *drop = &ctx->fusion.dropout.call;
    const struct fcnn_tensor *dy = drop->t[0], *d = drop->t[1];
    if (!can_start(ctx, call) || !same(call->t[1], d))
        return false;
    const struct fcnn_tensor *x = call->t[0], *dx = call->t[2];
    return (same(dy, d) || disjoint(dy, d)) && disjoint(dy, x) && disjoint(dy, dx) &&
           disjoint(d, x) && disjoint(d, dx);
}

/* relu_bwd(x, dx, dx) in place on the deferred maxpool_bwd's dx, x its pooled input. */
static bool continues_with_relu(const struct ocl_context *ctx, const struct fcnn_op_call *call)
{
    const struct fcnn_op_call *pool = &ctx->fusion.pool.call;
    return call->op == FCNN_OP_RELU_BWD && same(call->t[0], pool->t[0]) &&
           same(call->t[1], pool->t[2]) && same(call->t[2], pool->t[2]);
}

/* bias_bwd(dx, db) over the channels of that same dx. */
static bool continues_with_bias(const struct ocl_context *ctx, const struct fcnn_op_call *call)
{
    const struct fcnn_op_call *pool = &ctx->fusion.pool.call;
    return call->op == FCNN_OP_BIAS_BWD && !forced(ctx, FCNN_OP_BIAS_BWD) &&
           same(call->t[0], pool->t[2]) && call->t[1]->shape[0] == pool->t[2]->shape[3];
}

/* A maxpool_fwd whose output a dropout_fwd may read next: the float16 form's shapes. */
static bool can_start_pool_fwd(const struct ocl_context *ctx, const struct fcnn_op_call *call)
{
    if (!ctx->fusion.enabled || call->op != FCNN_OP_MAXPOOL_FWD ||
        forced(ctx, FCNN_OP_MAXPOOL_FWD) || forced(ctx, FCNN_OP_DROPOUT_FWD))
        return false;
    const struct ocl_variant *vec16 = ocl_variant_find(FCNN_OP_MAXPOOL_FWD, "vec16");
    return vec16 && vec16->supports(ctx, vec16, call);
}

/* dropout_fwd(p, q) on the deferred maxpool_fwd(x, p)'s output, in place (q is p) or into
 * a q apart from both x and p. */
static bool continues_with_dropout_fwd(const struct ocl_context *ctx,
                                       const struct fcnn_op_call *call)
{
    const struct fcnn_op_call *pool = &ctx->fusion.pool.call;
    const struct fcnn_tensor *x = pool->t[0], *p = pool->t[1];
    if (call->op != FCNN_OP_DROPOUT_FWD || !same(call->t[0], p))
        return false;
    const struct fcnn_tensor *q = call->t[1];
    return same(q, p) || (disjoint(q, p) && disjoint(q, x));
}

/* The batch normalization's form that takes a fused pooling, and a dropout beside it. */
static const struct ocl_variant *pooled_batchnorm_form(enum fcnn_op op)
{
    return ocl_variant_find(op, "pooled16");
}

/* A pooled batchnorm_fwd_train whose output a dropout_fwd may read next. */
static bool can_start_batchnorm_fwd(const struct ocl_context *ctx,
                                    const struct fcnn_op_call *call)
{
    if (!ctx->fusion.enabled || call->op != FCNN_OP_BATCHNORM_FWD_TRAIN ||
        !call->p.batchnorm.pool || forced(ctx, FCNN_OP_BATCHNORM_FWD_TRAIN) ||
        forced(ctx, FCNN_OP_DROPOUT_FWD))
        return false;
    const struct ocl_variant *pooled = pooled_batchnorm_form(call->op);
    return pooled && pooled->supports(ctx, pooled, call);
}

/* dropout_fwd(p, q) on the deferred batch normalization's pooled output p, in place or
 * into a q apart from every tensor of the batch normalization. */
static bool continues_with_dropout_after_batchnorm(const struct ocl_context *ctx,
                                                   const struct fcnn_op_call *call)
{
    const struct fcnn_op_call *bn = &ctx->fusion.batchnorm.call;
    const struct fcnn_tensor *p = bn->t[5], *q = call->t[1];
    if (call->op != FCNN_OP_DROPOUT_FWD || !same(call->t[0], p))
        return false;
    if (same(q, p))
        return true;
    for (int i = 0; i < 8; i++)
        if (!disjoint(q, bn->t[i]))
            return false;
    return true;
}

/* A pooled batchnorm_bwd reading the deferred dropout_bwd(dy, d)'s output d as its dy, in
 * place or apart, neither dy nor d overlapping its other tensors. */
static bool continues_with_pooled_batchnorm(const struct ocl_context *ctx,
                                            const struct fcnn_op_call *call)
{
    const struct fcnn_op_call *drop = &ctx->fusion.dropout.call;
    const struct fcnn_tensor *dy = drop->t[0], *d = drop->t[1];
    if (call->op != FCNN_OP_BATCHNORM_BWD || !call->p.batchnorm.pool ||
        forced(ctx, FCNN_OP_BATCHNORM_BWD) || !same(call->t[1], d) ||
        !(same(dy, d) || disjoint(dy, d)))
        return false;
    const struct ocl_variant *pooled = pooled_batchnorm_form(call->op);
    if (!pooled || !pooled->supports(ctx, pooled, call))
        return false;
    for (int i = 0; i < 9; i++)
        if (i != 1 && call->t[i] && (!disjoint(dy, call->t[i]) || !disjoint(d, call->t[i])))
            return false;
    return true;
}

/* The pooled forward's form that runs a first layer's convolution and pooling together. */
static const struct ocl_variant *first_layer_form(void)
{
    return ocl_variant_find(FCNN_OP_CONV2D_POOL_FWD, "c1_3x3_7x32");
}

/* A conv2d_fwd the c1 pooled kernel could run with the maxpool_fwd after it: one input
 * channel, a 3x3 window at stride 1, ReLU or no activation, an output of even height and
 * width (every output under a 2x2 window, so storing the windows' outputs stores all). */
static bool can_start_conv(const struct ocl_context *ctx, const struct fcnn_op_call *call)
{
    if (!ctx->fusion.enabled || call->op != FCNN_OP_CONV2D_FWD ||
        forced(ctx, FCNN_OP_CONV2D_FWD) || forced(ctx, FCNN_OP_MAXPOOL_FWD) ||
        (call->p.conv.act != FCNN_ACT_NONE && call->p.conv.act != FCNN_ACT_RELU))
        return false;
    const struct fcnn_tensor *y = call->t[3];
    const struct ocl_variant *c1 = first_layer_form();
    struct fcnn_op_call pooled = *call;
    pooled.p.conv.pool = 2;
    return c1 && y->shape[1] % 2 == 0 && y->shape[2] % 2 == 0 &&
           c1->supports(ctx, c1, &pooled);
}

/* maxpool_fwd(y, p) of 2x2 windows at stride 2, unpadded, over the deferred conv2d_fwd's
 * output y, into a p apart from every tensor of the convolution. */
static bool continues_with_pool_fwd(const struct ocl_context *ctx,
                                    const struct fcnn_op_call *call)
{
    const struct fcnn_op_call *conv = &ctx->fusion.conv.call;
    const struct fcnn_pool_params *pp = &call->p.pool;
    if (call->op != FCNN_OP_MAXPOOL_FWD || !same(call->t[0], conv->t[3]) || pp->ph != 2 ||
        pp->pw != 2 || pp->sh != 2 || pp->sw != 2 || pp->pad_top || pp->pad_bottom ||
        pp->pad_left || pp->pad_right)
        return false;
    const struct fcnn_tensor *y = conv->t[3], *p = call->t[1];
    if (p->shape[1] * 2 != y->shape[1] || p->shape[2] * 2 != y->shape[2])
        return false;
    for (int i = 0; i < 4; i++)
        if (conv->t[i] && !disjoint(p, conv->t[i]))
            return false;
    return true;
}


/* The profile's accounting of a fused kernel: its device time goes to the op whose kernel
 * it is. */
static void profile_as(struct ocl_context *ctx, enum fcnn_op op)
{
    if (ctx->profile.enabled)
        ctx->profile.calls[op]++;
    ctx->profile.current = op;
}

/* maxpool_bwd with, as the stage says, the dropout's mask on dy and the ReLU's mask, and
 * the first pass of bias_bwd when `bias` is given. */
static int run_fused(struct ocl_context *ctx, bool dropout, bool relu,
                     const struct fcnn_tensor *bias)
{
    const struct fcnn_op_call *pool = &ctx->fusion.pool.call;
    const struct fcnn_op_call *drop = &ctx->fusion.dropout.call;
    const struct fcnn_tensor *x = pool->t[0], *dx = pool->t[2];
    /* With the dropout, the kernel reads the dropout's dy and writes its d on the way. */
    const struct fcnn_tensor *dy = dropout ? drop->t[0] : pool->t[1];
    const struct fcnn_tensor *dropped = dropout ? drop->t[1] : dx;
    const struct ocl_variant *pool_variant = ocl_variant_find(FCNN_OP_MAXPOOL_BWD, "scatter16");
    const struct ocl_variant *bias_variant = ocl_variant_find(FCNN_OP_BIAS_BWD, "partial_sums");
    struct ocl_kernel *kernel, *finish;
    OCL_TRY(ocl_variant_kernel(ctx, pool_variant, "pool.cl", "maxpool_bwd_fused16", &kernel));
    OCL_TRY(ocl_variant_kernel(ctx, bias_variant, "bias.cl", "bias_bwd_finish", &finish));
    ocl_variant_dispatched(ctx, pool_variant);
    ocl_variant_dispatched(ctx, bias_variant);

    cl_int H = x->shape[1], W = x->shape[2], C = x->shape[3], HO = pool->t[1]->shape[1];
    cl_int WO = pool->t[1]->shape[2], size = pool->p.pool.ph;
    cl_int with_dropout = dropout, with_relu = relu, with_bias = bias != NULL;
    cl_uint seed = dropout ? drop->p.dropout.seed : 0;
    cl_uint threshold = dropout ? fcnn_dropout_threshold(drop->p.dropout.rate) : 0;
    cl_float scale = dropout ? fcnn_dropout_scale(drop->p.dropout.rate) : 1.0f;
    cl_int parts = x->shape[0] * HO, count = parts * (C / 16);
    cl_mem partial;
    OCL_TRY(ocl_scratch_get(ctx, OCL_SCRATCH_PARTIALS, (size_t)parts * C * sizeof(float),
                            &partial));
    cl_mem x_mem = ocl_mem(x), dy_mem = ocl_mem(dy), dx_mem = ocl_mem(dx);
    cl_mem dropped_mem = ocl_mem(dropped);
    cl_ulong x_offset = ocl_elem_offset(x), dy_offset = ocl_elem_offset(dy);
    cl_ulong dx_offset = ocl_elem_offset(dx), dropped_offset = ocl_elem_offset(dropped);
    profile_as(ctx, FCNN_OP_MAXPOOL_BWD);
    OCL_TRY(ocl_launch_1d(ctx, kernel, (size_t)count, (size_t)ocl_tunable(pool_variant, "WG_SIZE"),
                          OCL_ARGS(OCL_ARG(x_mem), OCL_ARG(x_offset), OCL_ARG(dy_mem),
                                   OCL_ARG(dy_offset), OCL_ARG(dx_mem), OCL_ARG(dx_offset),
                                   OCL_ARG(partial), OCL_ARG(dropped_mem),
                                   OCL_ARG(dropped_offset), OCL_ARG(H), OCL_ARG(W), OCL_ARG(C),
                                   OCL_ARG(HO), OCL_ARG(WO), OCL_ARG(size),
                                   OCL_ARG(with_dropout), OCL_ARG(seed), OCL_ARG(threshold),
                                   OCL_ARG(scale), OCL_ARG(with_relu), OCL_ARG(with_bias),
                                   OCL_ARG(count))));
    if (!bias)
        return FCNN_OK;
    ctx->profile.current = FCNN_OP_BIAS_BWD;
    cl_mem db_mem = ocl_mem(bias);
    cl_ulong db_offset = ocl_elem_offset(bias);
    return ocl_launch_1d(ctx, finish, (size_t)C, (size_t)ocl_tunable(bias_variant, "WG_SIZE"),
                         OCL_ARGS(OCL_ARG(partial), OCL_ARG(db_mem), OCL_ARG(db_offset),
                                  OCL_ARG(C), OCL_ARG(parts)));
}

/* The deferred maxpool_fwd(x, p) with dropout_fwd(p, q): one kernel writing p (unless q is
 * p) and q. */
static int run_fused_forward(struct ocl_context *ctx, const struct fcnn_op_call *drop)
{
    const struct fcnn_op_call *pool = &ctx->fusion.pool.call;
    const struct fcnn_tensor *x = pool->t[0], *p = pool->t[1], *q = drop->t[1];
    const struct fcnn_pool_params *pp = &pool->p.pool;
    const struct ocl_variant *variant = ocl_variant_find(FCNN_OP_MAXPOOL_FWD, "vec16");
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "pool.cl", "maxpool_fwd_dropout16", &kernel));
    ocl_variant_dispatched(ctx, variant);
    cl_mem x_mem = ocl_mem(x), p_mem = ocl_mem(p), q_mem = ocl_mem(q);
    cl_ulong x_offset = ocl_elem_offset(x), p_offset = ocl_elem_offset(p);
    cl_ulong q_offset = ocl_elem_offset(q);
    cl_int H = x->shape[1], W = x->shape[2], C = x->shape[3], HO = p->shape[1], WO = p->shape[2];
    cl_int PH = pp->ph, PW = pp->pw, SH = pp->sh, SW = pp->sw, PT = pp->pad_top;
    cl_int PL = pp->pad_left, write_pooled = !same(p, q);
    cl_uint seed = drop->p.dropout.seed, threshold = fcnn_dropout_threshold(drop->p.dropout.rate);
    cl_float scale = fcnn_dropout_scale(drop->p.dropout.rate);
    cl_int count = (cl_int)(fcnn_tensor_count(p) / 16);
    profile_as(ctx, FCNN_OP_MAXPOOL_FWD);
    return ocl_launch_1d(ctx, kernel, (size_t)count, (size_t)ocl_tunable(variant, "WG_SIZE"),
                         OCL_ARGS(OCL_ARG(x_mem), OCL_ARG(x_offset), OCL_ARG(p_mem),
                                  OCL_ARG(p_offset), OCL_ARG(q_mem), OCL_ARG(q_offset),
                                  OCL_ARG(H), OCL_ARG(W), OCL_ARG(C), OCL_ARG(HO), OCL_ARG(WO),
                                  OCL_ARG(PH), OCL_ARG(PW), OCL_ARG(SH), OCL_ARG(SW),
                                  OCL_ARG(PT), OCL_ARG(PL), OCL_ARG(seed), OCL_ARG(threshold),
                                  OCL_ARG(scale), OCL_ARG(write_pooled), OCL_ARG(count)));
}

/* The deferred conv2d_fwd(x, w, b, y) with maxpool_fwd(y, p): the c1 pooled kernel
 * writing p and, on the way, y. */
static int run_conv_pool_forward(struct ocl_context *ctx, const struct fcnn_op_call *pool)
{
    const struct fcnn_op_call *conv = &ctx->fusion.conv.call;
    const struct ocl_variant *variant = first_layer_form();
    struct fcnn_op_call pooled = *conv;
    pooled.op = FCNN_OP_CONV2D_POOL_FWD;
    pooled.t[3] = pool->t[1];
    pooled.p.conv.pool = 2;
    ocl_variant_dispatched(ctx, variant);
    profile_as(ctx, FCNN_OP_CONV2D_FWD);
    return ocl_conv2d_pool_fwd_c1_full(ctx, variant, &pooled, conv->t[3]);
}

/* The deferred pooled batchnorm_fwd_train with dropout_fwd(p, q) after it. */
static int run_batchnorm_dropout_forward(struct ocl_context *ctx,
                                         const struct fcnn_op_call *drop)
{
    const struct fcnn_op_call *bn = &ctx->fusion.batchnorm.call;
    const struct ocl_variant *variant = pooled_batchnorm_form(bn->op);
    ocl_variant_dispatched(ctx, variant);
    profile_as(ctx, FCNN_OP_BATCHNORM_FWD_TRAIN);
    return ocl_batchnorm_pooled16_forward(ctx, variant, bn, drop);
}

/* The deferred dropout_bwd with the pooled batchnorm_bwd reading its output. */
static int run_dropout_batchnorm_backward(struct ocl_context *ctx,
                                          const struct fcnn_op_call *bn)
{
    const struct ocl_variant *variant = pooled_batchnorm_form(bn->op);
    ocl_variant_dispatched(ctx, variant);
    profile_as(ctx, FCNN_OP_BATCHNORM_BWD);
    return ocl_batchnorm_pooled16_backward(ctx, variant, bn, &ctx->fusion.dropout.call);
}

static void absorbed(struct ocl_context *ctx, enum fcnn_op op)
{
    ctx->fusion.fused[op]++;
    if (ctx->profile.enabled)
        ctx->profile.calls[op]++;
}

/* A deferred op fails when it finally runs, in the middle of another call: the message
 * names the op that failed, not the call that happened to flush it. */
static int deferred_failure(int status, const char *what)
{
    char cause[1024];
    snprintf(cause, sizeof cause, "%s", fcnn_last_error());
    return fcnn_error(status, "%s: %s", what, cause);
}

/* A fused backward chain ran (or failed): its status, named after what it held. */
static int fused_backward(struct ocl_context *ctx, bool dropout, bool relu,
                          const struct fcnn_tensor *bias)
{
    int status = run_fused(ctx, dropout, relu, bias);
    if (status == FCNN_OK)
        return FCNN_OK;
    char what[128];
    snprintf(what, sizeof what, "maxpool_bwd with %s%s%s%s (%s)",
             dropout ? "dropout_bwd" : "",
             dropout && relu ? (bias ? ", " : " and ") : "", relu ? "relu_bwd" : "",
             bias ? " and bias_bwd" : "", bias ? "fused" : "deferred and fused");
    return deferred_failure(status, what);
}

void ocl_fusion_keep_failure(struct ocl_context *ctx)
{
    struct ocl_fusion *f = &ctx->fusion;
    if (f->kept_status)
        return; /* the first failure is the one to report */
    f->kept_status = FCNN_ERR_DEVICE;
    snprintf(f->kept_message, sizeof f->kept_message, "%s", fcnn_last_error());
}

/* A deferred op the chain went no further than: run as it came. */
static int run_alone(struct ocl_context *ctx, const struct fcnn_op_call *call)
{
    int status = ocl_dispatch_now(ctx, call);
    if (status == FCNN_OK)
        return FCNN_OK;
    char what[96];
    snprintf(what, sizeof what, "%s (deferred for fusion)", fcnn_op_name(call->op));
    return deferred_failure(status, what);
}

int ocl_fusion_flush(struct ocl_context *ctx)
{
    struct ocl_fusion *f = &ctx->fusion;
    if (f->kept_status) {
        int status = f->kept_status;
        f->kept_status = 0;
        return fcnn_error(status, "%s", f->kept_message);
    }
    enum ocl_fusion_stage stage = f->stage;
    f->stage = OCL_FUSION_NONE; /* first: the dispatch below must not defer it again */
    switch (stage) {
    case OCL_FUSION_NONE:
        return FCNN_OK;
    case OCL_FUSION_POOL:
    case OCL_FUSION_POOL_FWD:
        return run_alone(ctx, &f->pool.call);
    case OCL_FUSION_CONV_FWD:
        return run_alone(ctx, &f->conv.call);
    case OCL_FUSION_BN_POOL_FWD:
        return run_alone(ctx, &f->batchnorm.call);
    case OCL_FUSION_DROPOUT:
        return run_alone(ctx, &f->dropout.call);
    case OCL_FUSION_POOL_RELU:
        return fused_backward(ctx, false, true, NULL);
    case OCL_FUSION_DROPOUT_POOL:
        return fused_backward(ctx, true, false, NULL);
    case OCL_FUSION_DROPOUT_POOL_RELU:
        return fused_backward(ctx, true, true, NULL);
    }
    return FCNN_OK;
}

int ocl_fusion_offer(struct ocl_context *ctx, const struct fcnn_op_call *call, bool *taken)
{
    struct ocl_fusion *f = &ctx->fusion;
    *taken = true;
    switch (f->stage) {
    case OCL_FUSION_DROPOUT:
        if (continues_with_pool(ctx, call)) {
            keep(&f->pool, call);
            f->stage = OCL_FUSION_DROPOUT_POOL;
            absorbed(ctx, FCNN_OP_DROPOUT_BWD);
            return FCNN_OK;
        }
        if (continues_with_pooled_batchnorm(ctx, call)) {
            f->stage = OCL_FUSION_NONE;
            absorbed(ctx, FCNN_OP_DROPOUT_BWD);
            int status = run_dropout_batchnorm_backward(ctx, call);
            return status == FCNN_OK ? FCNN_OK
                                     : deferred_failure(status, "dropout_bwd with "
                                                                "batchnorm_bwd (fused)");
        }
        break;
    case OCL_FUSION_POOL:
    case OCL_FUSION_DROPOUT_POOL:
        if (continues_with_relu(ctx, call)) {
            f->stage = f->stage == OCL_FUSION_POOL ? OCL_FUSION_POOL_RELU
                                                   : OCL_FUSION_DROPOUT_POOL_RELU;
            absorbed(ctx, FCNN_OP_RELU_BWD);
            return FCNN_OK;
        }
        break;
    case OCL_FUSION_POOL_RELU:
    case OCL_FUSION_DROPOUT_POOL_RELU:
        if (continues_with_bias(ctx, call)) {
            bool dropout = f->stage == OCL_FUSION_DROPOUT_POOL_RELU;
            f->stage = OCL_FUSION_NONE;
            absorbed(ctx, FCNN_OP_BIAS_BWD);
            return fused_backward(ctx, dropout, true, call->t[1]);
        }
        break;
    case OCL_FUSION_CONV_FWD:
        if (continues_with_pool_fwd(ctx, call)) {
            f->stage = OCL_FUSION_NONE;
            absorbed(ctx, FCNN_OP_MAXPOOL_FWD);
            int status = run_conv_pool_forward(ctx, call);
            return status == FCNN_OK ? FCNN_OK
                                     : deferred_failure(status, "conv2d_fwd with maxpool_fwd "
                                                                "(fused)");
        }
        break;
    case OCL_FUSION_POOL_FWD:
        if (continues_with_dropout_fwd(ctx, call)) {
            f->stage = OCL_FUSION_NONE;
            absorbed(ctx, FCNN_OP_DROPOUT_FWD);
            int status = run_fused_forward(ctx, call);
            return status == FCNN_OK ? FCNN_OK
                                     : deferred_failure(status, "maxpool_fwd with dropout_fwd "
                                                                "(fused)");
        }
        break;
    case OCL_FUSION_BN_POOL_FWD:
        if (continues_with_dropout_after_batchnorm(ctx, call)) {
            f->stage = OCL_FUSION_NONE;
            absorbed(ctx, FCNN_OP_DROPOUT_FWD);
            int status = run_batchnorm_dropout_forward(ctx, call);
            return status == FCNN_OK ? FCNN_OK
                                     : deferred_failure(status, "batchnorm_fwd_train with "
                                                                "dropout_fwd (fused)");
        }
        break;
    case OCL_FUSION_NONE:
        break;
    }
    OCL_TRY(ocl_fusion_flush(ctx));
    if (can_start_dropout(ctx, call)) {
        keep(&f->dropout, call);
        f->stage = OCL_FUSION_DROPOUT;
    } else if (can_start(ctx, call)) {
        keep(&f->pool, call);
        f->stage = OCL_FUSION_POOL;
    } else if (can_start_pool_fwd(ctx, call)) {
        keep(&f->pool, call);
        f->stage = OCL_FUSION_POOL_FWD;
    } else if (can_start_batchnorm_fwd(ctx, call)) {
        keep(&f->batchnorm, call);
        f->stage = OCL_FUSION_BN_POOL_FWD;
    } else {
        /* Its program built first: one that does not build is disabled with a warning
         * (ocl_variant_ready), and the two ops run apart on variants that do. */
        bool ok = false;
        if (can_start_conv(ctx, call))
            OCL_TRY(ocl_variant_ready(ctx, first_layer_form(), &ok));
        if (ok) {
            keep(&f->conv, call);
            f->stage = OCL_FUSION_CONV_FWD;
        } else {
            *taken = false;
        }
    }
    return FCNN_OK;
}
