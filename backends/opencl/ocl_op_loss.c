/* softmax_xent (kernels/loss.cl): one sample per work-item. Per-sample loss and
 * prediction stay on the device; the caller reduces them when it wants to. */
#include <config.h>

#include "ocl_registry.h"

int ocl_softmax_xent_rows(struct ocl_context *ctx, const struct ocl_variant *variant,
                          const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *logits = call->t[0], *labels = call->t[1], *dlogits = call->t[2];
    const struct fcnn_tensor *loss = call->t[3], *pred = call->t[4];
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "loss.cl", "softmax_xent", &kernel));

    cl_mem logits_mem = ocl_mem(logits), labels_mem = ocl_mem(labels);
    cl_mem loss_mem = ocl_mem(loss), pred_mem = ocl_mem(pred);
    /* Without dlogits (evaluation) the kernel gets a NULL buffer, which OpenCL allows, and
     * a flag telling it not to touch it. */
    cl_mem dlogits_mem = dlogits ? ocl_mem(dlogits) : NULL;
    cl_ulong logits_offset = ocl_elem_offset(logits), labels_offset = ocl_elem_offset(labels);
    cl_ulong dlogits_offset = dlogits ? ocl_elem_offset(dlogits) : 0;
    cl_ulong loss_offset = ocl_elem_offset(loss), pred_offset = ocl_elem_offset(pred);
    cl_int write_dlogits = dlogits != NULL, rows = logits->shape[0], classes = logits->shape[1];
    cl_float grad_scale = call->p.grad_scale;
    return ocl_launch_1d(ctx, kernel, (size_t)rows, (size_t)ocl_tunable(variant, "WG_SIZE"),
                         OCL_ARGS(OCL_ARG(logits_mem), OCL_ARG(logits_offset),
                                  OCL_ARG(labels_mem), OCL_ARG(labels_offset),
                                  OCL_ARG(dlogits_mem), OCL_ARG(dlogits_offset),
                                  OCL_ARG(write_dlogits), OCL_ARG(loss_mem), OCL_ARG(loss_offset),
                                  OCL_ARG(pred_mem), OCL_ARG(pred_offset), OCL_ARG(rows),
                                  OCL_ARG(classes), OCL_ARG(grad_scale)));
}
