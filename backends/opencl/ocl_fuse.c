/* Fusing ops that the core enqueues back to back. A convolution layer's backward pass
 * begins with
 *
 *   maxpool_bwd(x, dy, dx)     the pooled layer's gradient, routed to each window's max
 *   relu_bwd(x, dx, dx)        in place: the convolution's ReLU, x being its output
 *   bias_bwd(dx, db)           the sum of dx per channel
 *
 * three passes over dx, which on a CPU are limited by memory traffic, not arithmetic. The
 * backend defers a maxpool_bwd that could start this chain instead of enqueueing it, and
 * when the next calls continue the chain on the same tensors, runs one kernel that writes
 * the masked gradient and the bias's partial sums (kernels/pool.cl: maxpool_bwd_fused16).
 * The intermediate dx that relu_bwd overwrites in place is never observable, so the
 * result is the same as the three ops' (the bias sum in another order, within float
 * rounding).
 *
 * Anything else — another op, a transfer, a sync, freeing a buffer, a report, forcing a
 * variant — first flushes what is deferred: enqueued as far as the chain got. Nothing is
 * deferred for an op whose variant is forced, or when FCNN_FUSE=0. */
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

/* maxpool_bwd with the ReLU's mask, and the first pass of bias_bwd when `bias` is given. */
static int run_fused(struct ocl_context *ctx, const struct fcnn_tensor *bias)
{
    const struct fcnn_op_call *pool = &ctx->fusion.pool.call;
    const struct fcnn_tensor *x = pool->t[0], *dy = pool->t[1], *dx = pool->t[2];
    const struct ocl_variant *pool_variant = ocl_variant_find(FCNN_OP_MAXPOOL_BWD, "scatter16");
    const struct ocl_variant *bias_variant = ocl_variant_find(FCNN_OP_BIAS_BWD, "partial_sums");
    struct ocl_kernel *kernel, *finish;
    OCL_TRY(ocl_variant_kernel(ctx, pool_variant, "pool.cl", "maxpool_bwd_fused16", &kernel));
    OCL_TRY(ocl_variant_kernel(ctx, bias_variant, "bias.cl", "bias_bwd_finish", &finish));

    cl_int H = x->shape[1], W = x->shape[2], C = x->shape[3], HO = dy->shape[1];
    cl_int WO = dy->shape[2], size = pool->p.pool.ph, relu = 1, with_bias = bias != NULL;
    cl_int parts = x->shape[0] * HO, count = parts * (C / 16);
    cl_mem partial;
    OCL_TRY(ocl_scratch_get(ctx, OCL_SCRATCH_PARTIALS, (size_t)parts * C * sizeof(float),
                            &partial));
    cl_mem x_mem = ocl_mem(x), dy_mem = ocl_mem(dy), dx_mem = ocl_mem(dx);
    cl_ulong x_offset = ocl_elem_offset(x), dy_offset = ocl_elem_offset(dy);
    cl_ulong dx_offset = ocl_elem_offset(dx);
    if (ctx->profile.enabled)
        ctx->profile.calls[FCNN_OP_MAXPOOL_BWD]++;
    ctx->profile.current = FCNN_OP_MAXPOOL_BWD;
    OCL_TRY(ocl_launch_1d(ctx, kernel, (size_t)count, (size_t)ocl_tunable(pool_variant, "WG_SIZE"),
                          OCL_ARGS(OCL_ARG(x_mem), OCL_ARG(x_offset), OCL_ARG(dy_mem),
                                   OCL_ARG(dy_offset), OCL_ARG(dx_mem), OCL_ARG(dx_offset),
                                   OCL_ARG(partial), OCL_ARG(H), OCL_ARG(W), OCL_ARG(C),
                                   OCL_ARG(HO), OCL_ARG(WO), OCL_ARG(size), OCL_ARG(relu),
                                   OCL_ARG(with_bias), OCL_ARG(count))));
    if (!bias)
        return FCNN_OK;
    ctx->profile.current = FCNN_OP_BIAS_BWD;
    cl_mem db_mem = ocl_mem(bias);
    cl_ulong db_offset = ocl_elem_offset(bias);
    return ocl_launch_1d(ctx, finish, (size_t)C, (size_t)ocl_tunable(bias_variant, "WG_SIZE"),
                         OCL_ARGS(OCL_ARG(partial), OCL_ARG(db_mem), OCL_ARG(db_offset),
                                  OCL_ARG(C), OCL_ARG(parts)));
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

void ocl_fusion_keep_failure(struct ocl_context *ctx)
{
    struct ocl_fusion *f = &ctx->fusion;
    if (f->kept_status)
        return; /* the first failure is the one to report */
    f->kept_status = FCNN_ERR_DEVICE;
    snprintf(f->kept_message, sizeof f->kept_message, "%s", fcnn_last_error());
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
    int status = FCNN_OK;
    switch (stage) {
    case OCL_FUSION_NONE:
        return FCNN_OK;
    case OCL_FUSION_POOL: /* the chain went no further: the op as it came */
        status = ocl_dispatch_now(ctx, &f->pool.call);
        return status == FCNN_OK ? FCNN_OK
                                 : deferred_failure(status, "maxpool_bwd (deferred for fusion)");
    case OCL_FUSION_POOL_RELU:
        status = run_fused(ctx, NULL);
        return status == FCNN_OK ? FCNN_OK
                                 : deferred_failure(status, "maxpool_bwd with relu_bwd (deferred "
                                                            "and fused)");
    }
    return FCNN_OK;
}

int ocl_fusion_offer(struct ocl_context *ctx, const struct fcnn_op_call *call, bool *taken)
{
    struct ocl_fusion *f = &ctx->fusion;
    *taken = false;
    if (f->stage == OCL_FUSION_POOL && continues_with_relu(ctx, call)) {
        f->stage = OCL_FUSION_POOL_RELU;
        absorbed(ctx, FCNN_OP_RELU_BWD);
        *taken = true;
        return FCNN_OK;
    }
    if (f->stage == OCL_FUSION_POOL_RELU && continues_with_bias(ctx, call)) {
        f->stage = OCL_FUSION_NONE;
        absorbed(ctx, FCNN_OP_BIAS_BWD);
        *taken = true;
        int status = run_fused(ctx, call->t[1]);
        return status == FCNN_OK ? FCNN_OK
                                 : deferred_failure(status, "maxpool_bwd with relu_bwd and "
                                                            "bias_bwd (fused)");
    }
    OCL_TRY(ocl_fusion_flush(ctx));
    if (can_start(ctx, call)) {
        keep(&f->pool, call);
        f->stage = OCL_FUSION_POOL;
        *taken = true;
    }
    return FCNN_OK;
}
