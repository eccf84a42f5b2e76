/* Activations (kernels/activation.cl): the bias + ReLU epilogue shared by the GEMM-based
 * conv and dense forwards, and relu_bwd. */
#include <config.h>

#include "ocl_registry.h"

int ocl_bias_activation(struct ocl_context *ctx, const struct ocl_variant *variant,
                        const struct fcnn_tensor *y, const struct fcnn_tensor *b,
                        enum fcnn_activation act)
{
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "activation.cl", "bias_activation", &kernel));
    cl_mem y_mem = ocl_mem(y), b_mem = ocl_mem(b);
    cl_ulong y_offset = ocl_elem_offset(y), b_offset = ocl_elem_offset(b);
    cl_int channels = b->shape[0], relu = act == FCNN_ACT_RELU;
    cl_int rows = (cl_int)(fcnn_tensor_count(y) / (size_t)channels); /* one work-item each */
    return ocl_launch_1d(ctx, kernel, (size_t)rows, (size_t)ocl_tunable(variant, "WG_SIZE"),
                         OCL_ARGS(OCL_ARG(y_mem), OCL_ARG(y_offset), OCL_ARG(b_mem),
                                  OCL_ARG(b_offset), OCL_ARG(channels), OCL_ARG(relu),
                                  OCL_ARG(rows)));
}

int ocl_relu_bwd_mask(struct ocl_context *ctx, const struct ocl_variant *variant,
                      const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *y = call->t[0], *dy = call->t[1], *dx = call->t[2];
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "activation.cl", "relu_bwd", &kernel));
    cl_mem y_mem = ocl_mem(y), dy_mem = ocl_mem(dy), dx_mem = ocl_mem(dx);
    cl_ulong y_offset = ocl_elem_offset(y), dy_offset = ocl_elem_offset(dy);
    cl_ulong dx_offset = ocl_elem_offset(dx);
    cl_int count = (cl_int)fcnn_tensor_count(y);
    return ocl_launch_1d(ctx, kernel, (size_t)count, (size_t)ocl_tunable(variant, "WG_SIZE"),
                         OCL_ARGS(OCL_ARG(y_mem), OCL_ARG(y_offset), OCL_ARG(dy_mem),
                                  OCL_ARG(dy_offset), OCL_ARG(dx_mem), OCL_ARG(dx_offset),
                                  OCL_ARG(count)));
}

int ocl_relu_bwd_vec16(struct ocl_context *ctx, const struct ocl_variant *variant,
                       const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *y = call->t[0], *dy = call->t[1], *dx = call->t[2];
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "activation.cl", "relu_bwd_vec16", &kernel));
    cl_mem y_mem = ocl_mem(y), dy_mem = ocl_mem(dy), dx_mem = ocl_mem(dx);
    cl_ulong y_offset = ocl_elem_offset(y), dy_offset = ocl_elem_offset(dy);
    cl_ulong dx_offset = ocl_elem_offset(dx);
    cl_int count = (cl_int)fcnn_tensor_count(y);
    size_t items = ((size_t)count + 15) / 16; /* 16 elements each */
    return ocl_launch_1d(ctx, kernel, items, (size_t)ocl_tunable(variant, "WG_SIZE"),
                         OCL_ARGS(OCL_ARG(y_mem), OCL_ARG(y_offset), OCL_ARG(dy_mem),
                                  OCL_ARG(dy_offset), OCL_ARG(dx_mem), OCL_ARG(dx_offset),
                                  OCL_ARG(count)));
}
