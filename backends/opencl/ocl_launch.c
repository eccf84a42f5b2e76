/* Kernel launches: set the arguments, round the global size up to whole work-groups and
 * enqueue with an explicit local size. Kernels compare their global id with the real
 * count and return early in the rounded-up tail.
 *
 * The local size is never left to the driver: given NULL, PoCL can make the whole grid a
 * single work-group, which runs on one core. Failures name the kernel as well as the call.
 * Arguments that hold the value they were last set to are not set again (a training step
 * repeats the last step's launches), and with --profile each launch leaves an event. */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "ocl.h"

static size_t round_up(size_t n, size_t multiple)
{
    return (n + multiple - 1) / multiple * multiple;
}

/* Sets argument i unless the kernel already holds that very value. */
static int set_arg(struct ocl_context *ctx, struct ocl_kernel *kernel, int i,
                   const struct ocl_arg *arg)
{
    bool cacheable = i < OCL_MAX_KERNEL_ARGS && arg->size <= sizeof kernel->arg_value[0];
    if (cacheable && kernel->arg_size[i] == arg->size &&
        memcmp(kernel->arg_value[i], arg->value, arg->size) == 0)
        return FCNN_OK;
    cl_int status = clSetKernelArg(kernel->kernel, (cl_uint)i, arg->size, arg->value);
    if (status != CL_SUCCESS) {
        char call[128];
        snprintf(call, sizeof call, "clSetKernelArg(%s, argument %d)", kernel->name, i);
        if (i < OCL_MAX_KERNEL_ARGS)
            kernel->arg_size[i] = 0;
        return ocl_failure(call, status);
    }
    if (cacheable) {
        kernel->arg_size[i] = (unsigned char)arg->size;
        memcpy(kernel->arg_value[i], arg->value, arg->size);
    } else if (i < OCL_MAX_KERNEL_ARGS) {
        kernel->arg_size[i] = 0;
    }
    (void)ctx;
    return FCNN_OK;
}

int ocl_launch(struct ocl_context *ctx, struct ocl_kernel *kernel, int dims,
               const size_t global[], const size_t local[], const struct ocl_arg args[],
               int arg_count)
{
    /* A buffer was released since these values were remembered: a new buffer may have
     * the same handle value, so set everything again. */
    if (kernel->args_generation != ctx->buffer_generation) {
        memset(kernel->arg_size, 0, sizeof kernel->arg_size);
        kernel->args_generation = ctx->buffer_generation;
    }
    for (int i = 0; i < arg_count; i++)
        OCL_TRY(set_arg(ctx, kernel, i, &args[i]));
    size_t rounded[3], group = 1;
    bool empty = false;
    for (int d = 0; d < dims; d++) {
        rounded[d] = round_up(global[d], local[d]);
        group *= local[d];
        empty |= global[d] == 0;
    }
    if (empty)
        return FCNN_OK;
    if (group > kernel->max_local)
        return fcnn_error(FCNN_ERR_UNSUPPORTED,
                          "kernel %s: work-groups of %zu exceed this device's limit of %zu "
                          "for it (lower its WG_SIZE tunable)",
                          kernel->name, group, kernel->max_local);
    cl_event event, *slot = ocl_profile_event_slot(ctx, &event);
    cl_int status = ocl_fault(OCL_FAULT_ENQUEUE);
    if (status == CL_SUCCESS)
        status = clEnqueueNDRangeKernel(ctx->queue, kernel->kernel, (cl_uint)dims, NULL,
                                        rounded, local, 0, NULL, slot);
    if (status != CL_SUCCESS) {
        char call[128];
        snprintf(call, sizeof call, "clEnqueueNDRangeKernel(%s)", kernel->name);
        return ocl_failure(call, status);
    }
    if (slot)
        ocl_profile_record(ctx, event);
    return FCNN_OK;
}

int ocl_launch_1d(struct ocl_context *ctx, struct ocl_kernel *kernel, size_t count,
                  size_t local, const struct ocl_arg args[], int arg_count)
{
    return ocl_launch(ctx, kernel, 1, &count, &local, args, arg_count);
}
