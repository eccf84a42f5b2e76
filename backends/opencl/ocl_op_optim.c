/* Optimizer updates (kernels/optim.cl): elementwise over a flat parameter tensor and its
 * state, in place. */
#include <config.h>

#include "ocl_registry.h"

struct flat {
    cl_mem mem;
    cl_ulong offset;
};

static struct flat flat(const struct fcnn_tensor *t)
{
    return (struct flat){ ocl_mem(t), ocl_elem_offset(t) };
}

int ocl_sgd_update_elementwise(struct ocl_context *ctx, const struct ocl_variant *variant,
                               const struct fcnn_op_call *call)
{
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "optim.cl", "sgd_update", &kernel));
    struct flat p = flat(call->t[0]), g = flat(call->t[1]);
    cl_float lr = call->p.sgd.lr;
    cl_int count = (cl_int)fcnn_tensor_count(call->t[0]);
    return ocl_launch_1d(ctx, kernel, (size_t)count, (size_t)ocl_tunable(variant, "WG_SIZE"),
                         OCL_ARGS(OCL_ARG(p.mem), OCL_ARG(p.offset), OCL_ARG(g.mem),
                                  OCL_ARG(g.offset), OCL_ARG(lr), OCL_ARG(count)));
}

int ocl_momentum_update_elementwise(struct ocl_context *ctx, const struct ocl_variant *variant,
                                    const struct fcnn_op_call *call)
{
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "optim.cl", "momentum_update", &kernel));
    struct flat p = flat(call->t[0]), g = flat(call->t[1]), v = flat(call->t[2]);
    cl_float lr = call->p.momentum.lr, momentum = call->p.momentum.momentum;
    cl_int count = (cl_int)fcnn_tensor_count(call->t[0]);
    return ocl_launch_1d(ctx, kernel, (size_t)count, (size_t)ocl_tunable(variant, "WG_SIZE"),
                         OCL_ARGS(OCL_ARG(p.mem), OCL_ARG(p.offset), OCL_ARG(g.mem),
                                  OCL_ARG(g.offset), OCL_ARG(v.mem), OCL_ARG(v.offset),
                                  OCL_ARG(lr), OCL_ARG(momentum), OCL_ARG(count)));
}

int ocl_adam_update_elementwise(struct ocl_context *ctx, const struct ocl_variant *variant,
                                const struct fcnn_op_call *call)
{
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "optim.cl", "adam_update", &kernel));
    const struct fcnn_adam_params *a = &call->p.adam;
    struct flat p = flat(call->t[0]), g = flat(call->t[1]), m = flat(call->t[2]);
    struct flat v = flat(call->t[3]);
    /* 1 - beta as the reference forms it (in double), rounded once. */
    cl_float alpha = a->alpha, one_minus_beta1 = (float)(1.0 - (double)a->beta1);
    cl_float one_minus_beta2 = (float)(1.0 - (double)a->beta2), epsilon = a->epsilon;
    cl_int count = (cl_int)fcnn_tensor_count(call->t[0]);
    return ocl_launch_1d(ctx, kernel, (size_t)count, (size_t)ocl_tunable(variant, "WG_SIZE"),
                         OCL_ARGS(OCL_ARG(p.mem), OCL_ARG(p.offset), OCL_ARG(g.mem),
                                  OCL_ARG(g.offset), OCL_ARG(m.mem), OCL_ARG(m.offset),
                                  OCL_ARG(v.mem), OCL_ARG(v.offset), OCL_ARG(alpha),
                                  OCL_ARG(one_minus_beta1), OCL_ARG(one_minus_beta2),
                                  OCL_ARG(epsilon), OCL_ARG(count)));
}

int ocl_rmsprop_update_elementwise(struct ocl_context *ctx, const struct ocl_variant *variant,
                                   const struct fcnn_op_call *call)
{
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "optim.cl", "rmsprop_update", &kernel));
    const struct fcnn_rmsprop_params *r = &call->p.rmsprop;
    struct flat p = flat(call->t[0]), g = flat(call->t[1]), v = flat(call->t[2]);
    cl_float lr = r->lr, rho = r->rho, one_minus_rho = (float)(1.0 - (double)r->rho);
    cl_float epsilon = r->epsilon;
    cl_int count = (cl_int)fcnn_tensor_count(call->t[0]);
    return ocl_launch_1d(ctx, kernel, (size_t)count, (size_t)ocl_tunable(variant, "WG_SIZE"),
                         OCL_ARGS(OCL_ARG(p.mem), OCL_ARG(p.offset), OCL_ARG(g.mem),
                                  OCL_ARG(g.offset), OCL_ARG(v.mem), OCL_ARG(v.offset),
                                  OCL_ARG(lr), OCL_ARG(rho), OCL_ARG(one_minus_rho),
                                  OCL_ARG(epsilon), OCL_ARG(count)));
}

int ocl_adamw_update_elementwise(struct ocl_context *ctx, const struct ocl_variant *variant,
                                 const struct fcnn_op_call *call)
{
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "optim.cl", "adamw_update", &kernel));
    const struct fcnn_adamw_params *a = &call->p.adamw;
    struct flat p = flat(call->t[0]), g = flat(call->t[1]), m = flat(call->t[2]);
    struct flat v = flat(call->t[3]);
    cl_float alpha = a->alpha, one_minus_beta1 = (float)(1.0 - (double)a->beta1);
    cl_float one_minus_beta2 = (float)(1.0 - (double)a->beta2), epsilon = a->epsilon;
    cl_float decay = a->decay;
    cl_int count = (cl_int)fcnn_tensor_count(call->t[0]);
    return ocl_launch_1d(ctx, kernel, (size_t)count, (size_t)ocl_tunable(variant, "WG_SIZE"),
                         OCL_ARGS(OCL_ARG(p.mem), OCL_ARG(p.offset), OCL_ARG(g.mem),
                                  OCL_ARG(g.offset), OCL_ARG(m.mem), OCL_ARG(m.offset),
                                  OCL_ARG(v.mem), OCL_ARG(v.offset), OCL_ARG(alpha),
                                  OCL_ARG(one_minus_beta1), OCL_ARG(one_minus_beta2),
                                  OCL_ARG(epsilon), OCL_ARG(decay), OCL_ARG(count)));
}
