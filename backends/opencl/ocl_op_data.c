/* load_batch: kernels/data.cl gathers and scales a batch on the device, so a training step
 * uploads nothing: the dataset and the epoch's order live on the device. */
#include <config.h>

#include "ocl_registry.h"

int ocl_load_batch_gather(struct ocl_context *ctx, const struct ocl_variant *variant,
                          const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *images = call->t[0], *labels = call->t[1], *order = call->t[2];
    const struct fcnn_tensor *x = call->t[3], *y = call->t[4];
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "data.cl", "load_batch", &kernel));

    cl_mem images_mem = ocl_mem(images), labels_mem = ocl_mem(labels), order_mem = ocl_mem(order);
    cl_mem x_mem = ocl_mem(x), y_mem = ocl_mem(y);
    cl_ulong images_offset = ocl_elem_offset(images), labels_offset = ocl_elem_offset(labels);
    cl_ulong order_offset = ocl_elem_offset(order), x_offset = ocl_elem_offset(x);
    cl_ulong y_offset = ocl_elem_offset(y);
    cl_int start = call->p.start, dataset = images->shape[0];
    cl_int sample = (cl_int)(fcnn_tensor_count(images) / (size_t)dataset);
    cl_float scale = 1.0f / 255.0f; /* the reference's constant, rounded once by C */

    size_t global[2] = { (size_t)sample, (size_t)x->shape[0] };
    size_t local[2] = { (size_t)ocl_tunable(variant, "WG_SIZE"), 1 };
    return ocl_launch(ctx, kernel, 2, global, local,
                      OCL_ARGS(OCL_ARG(images_mem), OCL_ARG(images_offset), OCL_ARG(labels_mem),
                               OCL_ARG(labels_offset), OCL_ARG(order_mem), OCL_ARG(order_offset),
                               OCL_ARG(start), OCL_ARG(dataset), OCL_ARG(sample), OCL_ARG(scale),
                               OCL_ARG(x_mem), OCL_ARG(x_offset), OCL_ARG(y_mem),
                               OCL_ARG(y_offset)));
}

int ocl_augment_bilinear(struct ocl_context *ctx, const struct ocl_variant *variant,
                         const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0], *params = call->t[1], *y = call->t[2];
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "data.cl", "augment", &kernel));
    cl_mem x_mem = ocl_mem(x), params_mem = ocl_mem(params), y_mem = ocl_mem(y);
    cl_ulong x_offset = ocl_elem_offset(x), params_offset = ocl_elem_offset(params);
    cl_ulong y_offset = ocl_elem_offset(y);
    cl_int rows = x->shape[1], cols = x->shape[2], channels = x->shape[3];
    size_t wg = (size_t)ocl_tunable(variant, "WG_SIZE");
    size_t global[3] = { ((size_t)cols + wg - 1) / wg * wg, (size_t)rows, (size_t)x->shape[0] };
    size_t local[3] = { wg, 1, 1 };
    return ocl_launch(ctx, kernel, 3, global, local,
                      OCL_ARGS(OCL_ARG(x_mem), OCL_ARG(x_offset), OCL_ARG(params_mem),
                               OCL_ARG(params_offset), OCL_ARG(rows), OCL_ARG(cols),
                               OCL_ARG(channels), OCL_ARG(y_mem), OCL_ARG(y_offset)));
}
