/* Activations (kernels/activation.cl): the bias + ReLU epilogue shared by the GEMM-based
 * conv and dense forwards, relu_bwd, activation_fwd and activation_bwd; and dropout
 * (kernels/dropout.cl), whose forward and backward are one kernel. */
#include <config.h>

#include "ocl_registry.h"

/* y = act(x), four elements per work-item; the variant must build activation.cl. */
static int activation_fwd(struct ocl_context *ctx, const struct ocl_variant *variant,
                          const struct fcnn_tensor *x, const struct fcnn_tensor *y,
                          enum fcnn_activation act)
{
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "activation.cl", "activation_fwd_vec4", &kernel));
    cl_mem x_mem = ocl_mem(x), y_mem = ocl_mem(y);
    cl_ulong x_offset = ocl_elem_offset(x), y_offset = ocl_elem_offset(y);
    cl_int count = (cl_int)fcnn_tensor_count(x), code = (cl_int)act;
    return ocl_launch_1d(ctx, kernel, ((size_t)count + 3) / 4,
                         (size_t)ocl_tunable(variant, "WG_SIZE"),
                         OCL_ARGS(OCL_ARG(x_mem), OCL_ARG(x_offset), OCL_ARG(y_mem),
                                  OCL_ARG(y_offset), OCL_ARG(code), OCL_ARG(count)));
}

int ocl_activation_in_place(struct ocl_context *ctx, const struct ocl_variant *variant,
                            const struct fcnn_tensor *y, enum fcnn_activation act)
{
    return activation_fwd(ctx, variant, y, y, act);
}

int ocl_activation_fwd_vec4(struct ocl_context *ctx, const struct ocl_variant *variant,
                            const struct fcnn_op_call *call)
{
    return activation_fwd(ctx, variant, call->t[0], call->t[1], call->p.act);
}

int ocl_activation_bwd_vec4(struct ocl_context *ctx, const struct ocl_variant *variant,
                            const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *y = call->t[0], *dy = call->t[1], *dx = call->t[2];
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "activation.cl", "activation_bwd_vec4", &kernel));
    cl_mem y_mem = ocl_mem(y), dy_mem = ocl_mem(dy), dx_mem = ocl_mem(dx);
    cl_ulong y_offset = ocl_elem_offset(y), dy_offset = ocl_elem_offset(dy);
    cl_ulong dx_offset = ocl_elem_offset(dx);
    cl_int count = (cl_int)fcnn_tensor_count(y), code = (cl_int)call->p.act;
    return ocl_launch_1d(ctx, kernel, ((size_t)count + 3) / 4,
                         (size_t)ocl_tunable(variant, "WG_SIZE"),
                         OCL_ARGS(OCL_ARG(y_mem), OCL_ARG(y_offset), OCL_ARG(dy_mem),
                                  OCL_ARG(dy_offset), OCL_ARG(dx_mem), OCL_ARG(dx_offset),
                                  OCL_ARG(code), OCL_ARG(count)));
}

/* Dropout forward (x -> y) and backward (dy -> dx) are the same masked scaling: its
 * kernels' arguments, from in to count, in this order. */
struct dropout_args {
    cl_mem in, out;
    cl_ulong in_offset, out_offset;
    cl_uint seed, threshold;
    cl_float scale;
    cl_int count;
};

static struct dropout_args dropout_args(const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *in = call->t[0], *out = call->t[1];
    return (struct dropout_args){
        .in = ocl_mem(in), .out = ocl_mem(out), .in_offset = ocl_elem_offset(in),
        .out_offset = ocl_elem_offset(out), .seed = call->p.dropout.seed,
        .threshold = fcnn_dropout_threshold(call->p.dropout.rate),
        .scale = fcnn_dropout_scale(call->p.dropout.rate),
        .count = (cl_int)fcnn_tensor_count(in),
    };
}

#define DROPOUT_ARGS(a)                                                                     \
    OCL_ARG((a).in), OCL_ARG((a).in_offset), OCL_ARG((a).out), OCL_ARG((a).out_offset),     \
        OCL_ARG((a).seed), OCL_ARG((a).threshold), OCL_ARG((a).scale), OCL_ARG((a).count)

/* Four elements per work-item. */
int ocl_dropout_vec4(struct ocl_context *ctx, const struct ocl_variant *variant,
                     const struct fcnn_op_call *call)
{
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "dropout.cl", "dropout_vec4", &kernel));
    struct dropout_args a = dropout_args(call);
    return ocl_launch_1d(ctx, kernel, ((size_t)a.count + 3) / 4,
                         (size_t)ocl_tunable(variant, "WG_SIZE"), OCL_ARGS(DROPOUT_ARGS(a)));
}

/* A few dozen work-items each over one contiguous slice, sixteen elements a step
 * (kernels/dropout.cl: dropout_slices16). */
#define DROPOUT_SLICES 64

int ocl_dropout_slices16(struct ocl_context *ctx, const struct ocl_variant *variant,
                         const struct fcnn_op_call *call)
{
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "dropout.cl", "dropout_slices16", &kernel));
    struct dropout_args a = dropout_args(call);
    cl_int vectors = (a.count + 15) / 16;
    cl_int slices = vectors < DROPOUT_SLICES ? vectors : DROPOUT_SLICES;
    cl_int per_item = (vectors + slices - 1) / slices * 16;
    slices = (a.count + per_item - 1) / per_item;
    return ocl_launch_1d(ctx, kernel, (size_t)slices, (size_t)ocl_tunable(variant, "WG_SIZE"),
                         OCL_ARGS(DROPOUT_ARGS(a), OCL_ARG(per_item)));
}

int ocl_bias_activation(struct ocl_context *ctx, const struct ocl_variant *variant,
                        const struct fcnn_tensor *y, const struct fcnn_tensor *b,
                        enum fcnn_activation act)
{
    if (!b) /* use_bias=False: the activation alone, in place */
        return act == FCNN_ACT_NONE ? FCNN_OK : ocl_activation_in_place(ctx, variant, y, act);
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
