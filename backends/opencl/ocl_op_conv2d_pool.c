/* The convolution with its max pooling fused, by direct loops (kernels/conv2d_pool.cl):
 * conv2d_pool_fwd for any window, stride and padding with 2x2 pooling, and its form for
 * one input channel and a 3x3 window at stride 1; the output channels in whole blocks of
 * 16*KV. The variant rows choose PIX pooled pixels along a row times 16*KV output channels
 * per work-item. */
#include <config.h>

#include "ocl_conv.h"

static int channels_per_item(const struct ocl_variant *variant)
{
    return 16 * ocl_tunable(variant, "KV");
}

bool ocl_conv2d_pool_fwd_direct_supports(const struct ocl_context *ctx,
                                         const struct ocl_variant *variant,
                                         const struct fcnn_op_call *call)
{
    (void)ctx;
    struct conv_shape s = conv_call_shape(call);
    return call->p.conv.pool == 2 && ocl_call_fits_int32(call) &&
           s.k % channels_per_item(variant) == 0;
}

/* The kernels take the same arguments; the _full form stores the convolution's output
 * in `full` too. */
static int launch(struct ocl_context *ctx, const struct ocl_variant *variant,
                  const struct fcnn_op_call *call, const char *kernel_name,
                  const struct fcnn_tensor *full)
{
    const struct fcnn_tensor *x = call->t[0], *w = call->t[1], *b = call->t[2], *y = call->t[3];
    struct conv_shape s = conv_call_shape(call);
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "conv2d_pool.cl", kernel_name, &kernel));
    cl_mem zeros;
    OCL_TRY(ocl_zeros(ctx, 16, &zeros)); /* stands for an omitted bias, never read */
    int pix = ocl_tunable(variant, "PIX");
    cl_mem x_mem = ocl_mem(x), w_mem = ocl_mem(w), y_mem = ocl_mem(y);
    cl_mem b_mem = b ? ocl_mem(b) : zeros;
    cl_ulong x_offset = ocl_elem_offset(x), w_offset = ocl_elem_offset(w);
    cl_ulong y_offset = ocl_elem_offset(y), b_offset = b ? ocl_elem_offset(b) : 0;
    cl_int use_bias = b != NULL, H = s.h, W = s.w, C = s.c, K = s.k, KH = s.kh, KW = s.kw;
    cl_int SH = s.sh, SW = s.sw, ph = s.pt, pw = s.pl;
    cl_int HP = y->shape[1], WP = y->shape[2], act = call->p.conv.act == FCNN_ACT_RELU;
    cl_int segs = (WP + pix - 1) / pix, kblocks = s.k / channels_per_item(variant);
    cl_int count = s.n * HP * segs * kblocks;
    size_t local = (size_t)ocl_tunable(variant, "WG_SIZE");
    /* The _full form takes the last two arguments too. */
    cl_mem full_mem = full ? ocl_mem(full) : y_mem;
    cl_ulong full_offset = full ? ocl_elem_offset(full) : 0;
    const struct ocl_arg args[] = {
        OCL_ARG(x_mem), OCL_ARG(x_offset), OCL_ARG(w_mem), OCL_ARG(w_offset), OCL_ARG(b_mem),
        OCL_ARG(b_offset), OCL_ARG(use_bias), OCL_ARG(y_mem), OCL_ARG(y_offset), OCL_ARG(H),
        OCL_ARG(W), OCL_ARG(C), OCL_ARG(K), OCL_ARG(KH), OCL_ARG(KW), OCL_ARG(SH), OCL_ARG(SW),
        OCL_ARG(ph), OCL_ARG(pw), OCL_ARG(HP), OCL_ARG(WP), OCL_ARG(act), OCL_ARG(segs),
        OCL_ARG(kblocks), OCL_ARG(count), OCL_ARG(full_mem), OCL_ARG(full_offset),
    };
    int arg_count = (int)(sizeof args / sizeof args[0]) - (full ? 0 : 2);
    return ocl_launch_1d(ctx, kernel, (size_t)count, local, args, arg_count);
}

int ocl_conv2d_pool_fwd_direct(struct ocl_context *ctx, const struct ocl_variant *variant,
                               const struct fcnn_op_call *call)
{
    return launch(ctx, variant, call, "conv2d_pool_direct", NULL);
}

bool ocl_conv2d_pool_fwd_c1_supports(const struct ocl_context *ctx,
                                     const struct ocl_variant *variant,
                                     const struct fcnn_op_call *call)
{
    struct conv_shape s = conv_call_shape(call);
    return s.c == 1 && s.kh == 3 && s.kw == 3 && s.sh == 1 && s.sw == 1 &&
           ocl_conv2d_pool_fwd_direct_supports(ctx, variant, call);
}

int ocl_conv2d_pool_fwd_c1(struct ocl_context *ctx, const struct ocl_variant *variant,
                           const struct fcnn_op_call *call)
{
    return launch(ctx, variant, call, "conv2d_pool_c1_3x3", NULL);
}

int ocl_conv2d_pool_fwd_c1_full(struct ocl_context *ctx, const struct ocl_variant *variant,
                                const struct fcnn_op_call *call, const struct fcnn_tensor *full)
{
    return launch(ctx, variant, call, "conv2d_pool_c1_3x3_full", full);
}
