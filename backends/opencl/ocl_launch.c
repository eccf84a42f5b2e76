/* Kernel launches: set the arguments, round the global size up to whole work-groups and
 * enqueue with an explicit local size. Kernels compare their global id with the real
 * count and return early in the rounded-up tail.
 *
 * The local size is never left to the driver: given NULL, PoCL can make the whole grid a
 * single work-group, which runs on one core. Failures name the kernel as well as the call. */
#include <config.h>

#include <stdio.h>

#include "ocl.h"

static size_t round_up(size_t n, size_t multiple)
{
    return (n + multiple - 1) / multiple * multiple;
}

int ocl_launch(struct ocl_context *ctx, const struct ocl_kernel *kernel, int dims,
               const size_t global[], const size_t local[], const struct ocl_arg args[],
               int arg_count)
{
    char call[128];
    for (int i = 0; i < arg_count; i++) {
        cl_int status = clSetKernelArg(kernel->kernel, (cl_uint)i, args[i].size, args[i].value);
        if (status != CL_SUCCESS) {
            snprintf(call, sizeof call, "clSetKernelArg(%s, argument %d)", kernel->name, i);
            return ocl_failure(call, status);
        }
    }
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
    cl_int status = clEnqueueNDRangeKernel(ctx->queue, kernel->kernel, (cl_uint)dims, NULL,
                                           rounded, local, 0, NULL, NULL);
    if (status != CL_SUCCESS) {
        snprintf(call, sizeof call, "clEnqueueNDRangeKernel(%s)", kernel->name);
        return ocl_failure(call, status);
    }
    return FCNN_OK;
}

int ocl_launch_1d(struct ocl_context *ctx, const struct ocl_kernel *kernel, size_t count,
                  size_t local, const struct ocl_arg args[], int arg_count)
{
    return ocl_launch(ctx, kernel, 1, &count, &local, args, arg_count);
}
