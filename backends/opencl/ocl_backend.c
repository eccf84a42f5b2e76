/* The OpenCL backend: opening a device, the op table the core calls, and each op slot's
 * hand-off to the kernel registry, which picks the variant that runs it.
 *
 * Open reads the stored tuning choices and builds nothing but what a forced variant uses.
 * What is slow happens at the first call of each shape, in the core's warm-up pass before
 * any timed step: building the programs of the variants that run or are timed (from the
 * disk cache when it can; a kernel that does not compile fails that call, with its build
 * log), timing the candidates of a new shape, and CLBlast's compilation if a variant that
 * uses it runs. */
#include <config.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocl_registry.h"

/* The command queues of the backends open in this process, for ocl_finish_open_queues. */
static pthread_mutex_t open_queues_lock = PTHREAD_MUTEX_INITIALIZER;
static cl_command_queue *open_queues;
static int open_queue_count;

static int remember_queue(cl_command_queue queue)
{
    pthread_mutex_lock(&open_queues_lock);
    cl_command_queue *grown = realloc(open_queues, (open_queue_count + 1) * sizeof *grown);
    if (grown) {
        open_queues = grown;
        open_queues[open_queue_count++] = queue;
    }
    pthread_mutex_unlock(&open_queues_lock);
    return grown ? FCNN_OK : fcnn_error(FCNN_ERR_NOMEM, "out of memory opening backend 'opencl'");
}

static void forget_queue(cl_command_queue queue)
{
    pthread_mutex_lock(&open_queues_lock);
    for (int i = 0; i < open_queue_count; i++) {
        if (open_queues[i] == queue) {
            open_queues[i] = open_queues[--open_queue_count];
            break;
        }
    }
    if (open_queue_count == 0) {
        free(open_queues);
        open_queues = NULL;
    }
    pthread_mutex_unlock(&open_queues_lock);
}

void ocl_finish_open_queues(void)
{
    pthread_mutex_lock(&open_queues_lock);
    for (int i = 0; i < open_queue_count; i++)
        clFinish(open_queues[i]); /* best effort: a broken queue fails its own backend */
    pthread_mutex_unlock(&open_queues_lock);
}

static void ocl_close(void *opaque)
{
    struct ocl_context *ctx = opaque;
    if (!ctx)
        return;
    if (ctx->queue) {
        forget_queue(ctx->queue);
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

static int create_context(struct ocl_context *ctx, const char *selector, int slot, bool profile)
{
    OCL_TRY(ocl_device_select(selector, slot, &ctx->platform, &ctx->device, ctx->index,
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
    return remember_queue(ctx->queue);
}

/* A failure caused by a setting the user made names that setting, so "no device matches"
 * or "unknown variant" is never mistaken for a missing driver. A command-line option's bad
 * value is a usage mistake (FCNN_ERR_OPTION). */
static int blame(int status, const char *setting, bool on_command_line)
{
    if (status == FCNN_OK)
        return status;
    if (on_command_line && status == FCNN_ERR_INVALID) /* not a build or device failure */
        status = FCNN_ERR_OPTION;
    return fcnn_error(status, "%s: %s", setting, fcnn_last_error());
}

static int prepare(struct ocl_context *ctx, const struct fcnn_backend_options *options)
{
    const char *env_device = getenv("FCNN_DEVICE"), *env_kernels = getenv("FCNN_KERNELS");
    const char *selector = options->device ? options->device : env_device;
    const char *kernels = options->kernels ? options->kernels : env_kernels;
    int status = create_context(ctx, selector, options->device_slot, options->profile);
    if (status != FCNN_OK && selector && *selector && status != FCNN_ERR_NO_DEVICE)
        /* a device that matches nothing depends on the machine: a runtime failure */
        return blame(status, options->device ? "--device" : "FCNN_DEVICE", false);
    OCL_TRY(status);
    OCL_TRY(ocl_profile_open(ctx, options->profile));
    ocl_cache_open(&ctx->cache, &ctx->identity);
    ocl_tuning_open(ctx, options->retune, options->defer_tuning && !options->retune,
                    options->retune ? NULL : options->kernel_choices);
    ocl_fusion_open(ctx);
    ocl_buffer_open(ctx);
    if (kernels && *kernels)
        OCL_TRY(blame(ocl_force_variants(ctx, kernels), options->kernels ? "--kernel" : "FCNN_KERNELS",
                      options->kernels != NULL));

    /* Programs are built when a variant first runs or is timed (or is forced, above):
     * a model builds what its shapes use, not all of the registry. */
    OCL_TRY(ocl_build_overrides(ctx));
    if (ctx->verbose)
        fprintf(stderr, "opencl: %s; programs are built at first use (cache %s); "
                "%d stored tuning choices%s\n", ctx->description,
                ctx->cache.enabled ? ctx->cache.dir : "off", ctx->tuning.count,
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

static bool ocl_on_host_cpu(void *opaque)
{
    return (((struct ocl_context *)opaque)->identity.type & CL_DEVICE_TYPE_CPU) != 0;
}

static int ocl_untuned_shapes(void *opaque)
{
    return ((struct ocl_context *)opaque)->tuning.untuned;
}

static char *ocl_kernel_choices(void *opaque)
{
    return ocl_tuning_choices(opaque);
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

/* --- ops: every slot is the registry's dispatch, which finds the op's variants by
 * call->op; an op with no registry row is refused by ocl_supports. --- */

static int ocl_run(void *ctx, const struct fcnn_op_call *call)
{
    return ocl_dispatch(ctx, call);
}

const struct fcnn_backend_ops fcnn_opencl_backend_ops = {
    .open = ocl_open,
    .before_load = ocl_prepare_environment,
    .load = ocl_load_driver,
    .close = ocl_close,
    .device_name = ocl_device_name,
    .on_host_cpu = ocl_on_host_cpu,
    .untuned_shapes = ocl_untuned_shapes,
    .kernel_choices = ocl_kernel_choices,
    .list_devices = ocl_list_devices,
    .report = ocl_report,

    .buffer_alloc = ocl_buffer_alloc,
    .buffer_free = ocl_buffer_free,
    .buffer_adopt = ocl_buffer_adopt,
    .upload = ocl_upload,
    .download = ocl_download,
    .sync = ocl_sync,

    .supports = ocl_supports,
    .variant_count = ocl_variant_count_slot,
    .variant_name = ocl_variant_name,
    .force_variant = ocl_force_variant_slot,

#define OCL_RUN_SLOT(id, name) [FCNN_OP_##id] = ocl_run,
    .run = { FCNN_OP_LIST(OCL_RUN_SLOT) },
#undef OCL_RUN_SLOT
};
