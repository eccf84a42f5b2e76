/* The OpenCL backend: opening a device, the op table the core calls, and each op slot's
 * hand-off to the kernel registry, which picks the variant that runs it.
 *
 * Open builds every variant's programs (from the disk cache when it can), so a kernel that
 * does not compile fails the open, with its build log, and reads the stored tuning
 * choices. What remains slow happens at the first call of each shape, in the core's
 * warm-up pass before any timed step: timing the variants of a new shape, and CLBlast's
 * compilation if a variant that uses it runs. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ocl_registry.h"

static double seconds_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void ocl_close(void *opaque)
{
    struct ocl_context *ctx = opaque;
    if (!ctx)
        return;
    if (ctx->queue) {
        ocl_fusion_flush(ctx);
        clFinish(ctx->queue);
    }
    ocl_profile_close(ctx);
    ocl_tuning_close(ctx);
    ocl_programs_release(ctx);
    ocl_scratch_release(ctx);
    if (ctx->queue)
        clReleaseCommandQueue(ctx->queue);
    if (ctx->context)
        clReleaseContext(ctx->context);
    free(ctx);
}

static void describe(struct ocl_context *ctx)
{
    const struct ocl_device_identity *id = &ctx->identity;
    snprintf(ctx->description, sizeof ctx->description,
             "%s (OpenCL %s, %s, %s, %u compute units, %s, driver %s)", id->name, ctx->index,
             id->platform_name, ocl_device_type_name(id->type), id->compute_units,
             id->opencl_c_version, id->driver_version);
}

static int create_context(struct ocl_context *ctx, const char *selector, bool profile)
{
    OCL_TRY(ocl_device_select(selector, &ctx->platform, &ctx->device, ctx->index,
                              sizeof ctx->index));
    OCL_TRY(ocl_device_identify(ctx->platform, ctx->device, &ctx->identity));
    describe(ctx);
    cl_int status;
    cl_context_properties properties[] = { CL_CONTEXT_PLATFORM,
                                           (cl_context_properties)ctx->platform, 0 };
    ctx->context = clCreateContext(properties, 1, &ctx->device, NULL, NULL, &status);
    OCL_CHECK(clCreateContext, status);
    /* In order: ops are enqueued in the order the core issues them. Profiling only when
     * asked for, since it costs every command an event. */
    ctx->queue = clCreateCommandQueue(ctx->context, ctx->device,
                                      profile ? CL_QUEUE_PROFILING_ENABLE : 0, &status);
    OCL_CHECK(clCreateCommandQueue, status);
    return FCNN_OK;
}

/* A failure caused by a setting the user made names that setting, so "no device matches"
 * or "unknown variant" is never mistaken for a missing driver. A command-line option's bad
 * value is a usage mistake (FCNN_ERR_OPTION). */
static int blame(int status, const char *setting, bool on_command_line)
{
    if (status == FCNN_OK)
        return status;
    if (on_command_line && status != FCNN_ERR_NOMEM && status != FCNN_ERR_NO_DEVICE)
        status = FCNN_ERR_OPTION;
    return fcnn_error(status, "%s: %s", setting, fcnn_last_error());
}

static int prepare(struct ocl_context *ctx, const struct fcnn_backend_options *options)
{
    const char *env_device = getenv("FCNN_DEVICE"), *env_kernels = getenv("FCNN_KERNELS");
    const char *selector = options->device ? options->device : env_device;
    const char *kernels = options->kernels ? options->kernels : env_kernels;
    int status = create_context(ctx, selector, options->profile);
    if (status != FCNN_OK && selector && *selector && status != FCNN_ERR_NO_DEVICE)
        /* a device that matches nothing depends on the machine: a runtime failure */
        return blame(status, options->device ? "--device" : "FCNN_DEVICE", false);
    OCL_TRY(status);
    OCL_TRY(ocl_profile_open(ctx, options->profile));
    ocl_cache_open(&ctx->cache);
    ocl_tuning_open(ctx, options->retune);
    ocl_fusion_open(ctx);
    if (kernels && *kernels)
        OCL_TRY(blame(ocl_force_variants(ctx, kernels), options->kernels ? "--kernel" : "FCNN_KERNELS",
                      options->kernels != NULL));

    double start = seconds_now();
    OCL_TRY(ocl_build_all_variants(ctx));
    if (ctx->verbose)
        fprintf(stderr, "opencl: %s; programs ready in %.3f s (cache %s: %d loaded, %d compiled); "
                "%d stored tuning choices%s\n", ctx->description, seconds_now() - start,
                ctx->cache.enabled ? ctx->cache.dir : "off", ctx->cache.stats.hits,
                ctx->source_builds, ctx->tuning.count,
                !ctx->tuning.enabled ? " (tuning off: FCNN_TUNE=0)"
                : options->retune ? " (retuning every shape)" : "");
    return FCNN_OK;
}

static int ocl_open(const struct fcnn_backend_options *options, void **out)
{
    *out = NULL;
    ocl_prepare_environment();
    struct ocl_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory opening backend 'opencl'");
    ctx->verbose = options->verbose;
    ctx->column_budget = OCL_DEFAULT_COLUMN_BUDGET;
    int status = prepare(ctx, options);
    if (status != FCNN_OK) {
        ocl_close(ctx);
        return status;
    }
    *out = ctx;
    return FCNN_OK;
}

static const char *ocl_device_name(void *opaque)
{
    return ((struct ocl_context *)opaque)->description;
}

/* --- variants --- */

static bool ocl_supports(void *opaque, const struct fcnn_op_call *call)
{
    return ocl_choose_variant(opaque, call) != NULL;
}

static int ocl_variant_count_slot(void *opaque, enum fcnn_op op)
{
    (void)opaque;
    return ocl_variant_count(op);
}

static const char *ocl_variant_name(void *opaque, enum fcnn_op op, int index)
{
    (void)opaque;
    const struct ocl_variant *v = ocl_variant_at(op, index);
    return v ? v->name : NULL;
}

static int ocl_force_variant_slot(void *opaque, enum fcnn_op op, const char *name)
{
    return ocl_force_variant(opaque, op, name);
}

/* --- ops: each slot packs its arguments into a call for the registry --- */

#define DISPATCH(ctx, ...)                                                                 \
    do {                                                                                   \
        struct fcnn_op_call call_ = __VA_ARGS__;                                           \
        return ocl_dispatch(ctx, &call_);                                                  \
    } while (0)

static int ocl_load_batch(void *ctx, fcnn_tensor_arg images, fcnn_tensor_arg labels,
                          fcnn_tensor_arg order, int start, fcnn_tensor_arg x, fcnn_tensor_arg y)
{
    DISPATCH(ctx, { .op = FCNN_OP_LOAD_BATCH, .t = { images, labels, order, x, y },
                    .p.start = start });
}

static int ocl_conv2d_fwd(void *ctx, fcnn_tensor_arg x, fcnn_tensor_arg w, fcnn_tensor_arg b,
                          fcnn_tensor_arg y, const struct fcnn_conv2d_params *p)
{
    DISPATCH(ctx, { .op = FCNN_OP_CONV2D_FWD, .t = { x, w, b, y }, .p.conv = *p });
}

static int ocl_conv2d_bwd_data(void *ctx, fcnn_tensor_arg dy, fcnn_tensor_arg w,
                               fcnn_tensor_arg dx, const struct fcnn_conv2d_params *p)
{
    DISPATCH(ctx, { .op = FCNN_OP_CONV2D_BWD_DATA, .t = { dy, w, dx }, .p.conv = *p });
}

static int ocl_conv2d_bwd_filter(void *ctx, fcnn_tensor_arg x, fcnn_tensor_arg dy,
                                 fcnn_tensor_arg dw, const struct fcnn_conv2d_params *p)
{
    DISPATCH(ctx, { .op = FCNN_OP_CONV2D_BWD_FILTER, .t = { x, dy, dw }, .p.conv = *p });
}

static int ocl_bias_bwd(void *ctx, fcnn_tensor_arg dy, fcnn_tensor_arg db)
{
    DISPATCH(ctx, { .op = FCNN_OP_BIAS_BWD, .t = { dy, db } });
}

static int ocl_maxpool_fwd(void *ctx, fcnn_tensor_arg x, fcnn_tensor_arg y,
                           const struct fcnn_pool_params *p)
{
    DISPATCH(ctx, { .op = FCNN_OP_MAXPOOL_FWD, .t = { x, y }, .p.pool = *p });
}

static int ocl_maxpool_bwd(void *ctx, fcnn_tensor_arg x, fcnn_tensor_arg dy, fcnn_tensor_arg dx,
                           const struct fcnn_pool_params *p)
{
    DISPATCH(ctx, { .op = FCNN_OP_MAXPOOL_BWD, .t = { x, dy, dx }, .p.pool = *p });
}

static int ocl_relu_bwd(void *ctx, fcnn_tensor_arg y, fcnn_tensor_arg dy, fcnn_tensor_arg dx)
{
    DISPATCH(ctx, { .op = FCNN_OP_RELU_BWD, .t = { y, dy, dx } });
}

static int ocl_dense_fwd(void *ctx, fcnn_tensor_arg x, fcnn_tensor_arg w, fcnn_tensor_arg b,
                         fcnn_tensor_arg y, enum fcnn_activation act)
{
    DISPATCH(ctx, { .op = FCNN_OP_DENSE_FWD, .t = { x, w, b, y }, .p.act = act });
}

static int ocl_dense_bwd_data(void *ctx, fcnn_tensor_arg dy, fcnn_tensor_arg w,
                              fcnn_tensor_arg dx)
{
    DISPATCH(ctx, { .op = FCNN_OP_DENSE_BWD_DATA, .t = { dy, w, dx } });
}

static int ocl_dense_bwd_weights(void *ctx, fcnn_tensor_arg x, fcnn_tensor_arg dy,
                                 fcnn_tensor_arg dw)
{
    DISPATCH(ctx, { .op = FCNN_OP_DENSE_BWD_WEIGHTS, .t = { x, dy, dw } });
}

static int ocl_softmax_xent(void *ctx, fcnn_tensor_arg logits, fcnn_tensor_arg labels,
                            fcnn_tensor_arg dlogits, fcnn_tensor_arg loss, fcnn_tensor_arg pred,
                            float grad_scale)
{
    DISPATCH(ctx, { .op = FCNN_OP_SOFTMAX_XENT, .t = { logits, labels, dlogits, loss, pred },
                    .p.grad_scale = grad_scale });
}

static int ocl_sgd_update(void *ctx, fcnn_tensor_arg param, fcnn_tensor_arg grad,
                          const struct fcnn_sgd_params *p)
{
    DISPATCH(ctx, { .op = FCNN_OP_SGD_UPDATE, .t = { param, grad }, .p.sgd = *p });
}

static int ocl_momentum_update(void *ctx, fcnn_tensor_arg param, fcnn_tensor_arg grad,
                               fcnn_tensor_arg velocity, const struct fcnn_momentum_params *p)
{
    DISPATCH(ctx, { .op = FCNN_OP_MOMENTUM_UPDATE, .t = { param, grad, velocity },
                    .p.momentum = *p });
}

static int ocl_adam_update(void *ctx, fcnn_tensor_arg param, fcnn_tensor_arg grad,
                           fcnn_tensor_arg m, fcnn_tensor_arg v, const struct fcnn_adam_params *p)
{
    DISPATCH(ctx, { .op = FCNN_OP_ADAM_UPDATE, .t = { param, grad, m, v }, .p.adam = *p });
}

const struct fcnn_backend_ops fcnn_opencl_backend_ops = {
    .open = ocl_open,
    .close = ocl_close,
    .device_name = ocl_device_name,
    .list_devices = ocl_list_devices,
    .report = ocl_report,

    .buffer_alloc = ocl_buffer_alloc,
    .buffer_free = ocl_buffer_free,
    .upload = ocl_upload,
    .download = ocl_download,
    .sync = ocl_sync,

    .supports = ocl_supports,
    .variant_count = ocl_variant_count_slot,
    .variant_name = ocl_variant_name,
    .force_variant = ocl_force_variant_slot,

    .load_batch = ocl_load_batch,
    .conv2d_fwd = ocl_conv2d_fwd,
    .conv2d_bwd_data = ocl_conv2d_bwd_data,
    .conv2d_bwd_filter = ocl_conv2d_bwd_filter,
    .bias_bwd = ocl_bias_bwd,
    .maxpool_fwd = ocl_maxpool_fwd,
    .maxpool_bwd = ocl_maxpool_bwd,
    .relu_bwd = ocl_relu_bwd,
    .dense_fwd = ocl_dense_fwd,
    .dense_bwd_data = ocl_dense_bwd_data,
    .dense_bwd_weights = ocl_dense_bwd_weights,
    .softmax_xent = ocl_softmax_xent,
    .sgd_update = ocl_sgd_update,
    .momentum_update = ocl_momentum_update,
    .adam_update = ocl_adam_update,
};
