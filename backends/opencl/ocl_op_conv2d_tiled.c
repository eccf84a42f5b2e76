/* The register-tiled direct convolution (kernels/conv2d_tiled.cl): the forward with bias
 * and ReLU fused into its epilogue, and the input gradient as the same kernel run on dy
 * with flipped weights (stride 1 only: a strided input gradient is not a convolution of
 * this form).
 *
 * The variant rows choose the tile: PIX output pixels along a row times 16*KV output
 * channels per work-item, so the output channel count must be a multiple of 16*KV. The
 * "rows" variants (a KW_FIXED tunable) run conv2d_rows, compiled for one kernel width and
 * stride 1, which loads each input scalar once per kernel row instead of once per tap. */
#include <config.h>

#include "ocl_conv.h"

static int channels_per_item(const struct ocl_variant *variant)
{
    return 16 * ocl_tunable(variant, "KV");
}

/* The kernel width a rows variant is compiled for; 0 for the general tiled kernel. */
static int fixed_width(const struct ocl_variant *variant)
{
    return ocl_tunable_or(variant, "KW_FIXED", 0);
}

/* Whether the variant's kernel can run a convolution of this geometry (stride 1 and the
 * compiled width for the rows kernel) with `outputs` output channels. */
static bool geometry_fits(const struct ocl_variant *variant, const struct conv_shape *s,
                          int outputs)
{
    if (outputs % channels_per_item(variant) != 0)
        return false;
    return !fixed_width(variant) ||
           (s->kw == fixed_width(variant) && s->sh == 1 && s->sw == 1);
}

/* The launch shared by the forward and the input gradient: y = act(conv(x, w) + b) with w
 * an HWIO kernel at (w_mem, w_offset) of `s`'s geometry, padded by (pad_h, pad_w). */
static int launch_tiled(struct ocl_context *ctx, const struct ocl_variant *variant,
                        const struct conv_shape *s, const struct fcnn_tensor *x, cl_mem w_mem,
                        cl_ulong w_offset, const struct fcnn_tensor *b,
                        const struct fcnn_tensor *y, int pad_h, int pad_w, bool relu)
{
    bool rows = fixed_width(variant) != 0;
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "conv2d_tiled.cl",
                               rows ? "conv2d_rows" : "conv2d_tiled", &kernel));
    cl_mem zeros;
    OCL_TRY(ocl_zeros(ctx, (size_t)s->c, &zeros));
    int pix = ocl_tunable(variant, "PIX");
    cl_mem x_mem = ocl_mem(x), y_mem = ocl_mem(y), b_mem = b ? ocl_mem(b) : zeros;
    cl_ulong x_offset = ocl_elem_offset(x), y_offset = ocl_elem_offset(y);
    cl_ulong b_offset = b ? ocl_elem_offset(b) : 0;
    cl_int use_bias = b != NULL, H = s->h, W = s->w, C = s->c, KH = s->kh, KW = s->kw;
    cl_int K = s->k, SH = s->sh, SW = s->sw, ph = pad_h, pw = pad_w, HO = s->ho, WO = s->wo;
    cl_int act = relu, segs = (s->wo + pix - 1) / pix;
    cl_int kblocks = s->k / channels_per_item(variant);
    cl_int count = s->n * s->ho * segs * kblocks;
    size_t local = (size_t)ocl_tunable(variant, "WG_SIZE");
    if (rows) /* no width or stride arguments: both are fixed */
        return ocl_launch_1d(ctx, kernel, (size_t)count, local,
                             OCL_ARGS(OCL_ARG(x_mem), OCL_ARG(x_offset), OCL_ARG(w_mem),
                                      OCL_ARG(w_offset), OCL_ARG(b_mem), OCL_ARG(b_offset),
                                      OCL_ARG(use_bias), OCL_ARG(y_mem), OCL_ARG(y_offset),
                                      OCL_ARG(zeros), OCL_ARG(H), OCL_ARG(W), OCL_ARG(C),
                                      OCL_ARG(KH), OCL_ARG(K), OCL_ARG(ph), OCL_ARG(pw),
                                      OCL_ARG(HO), OCL_ARG(WO), OCL_ARG(act), OCL_ARG(segs),
                                      OCL_ARG(kblocks), OCL_ARG(count)));
    return ocl_launch_1d(ctx, kernel, (size_t)count, local,
                         OCL_ARGS(OCL_ARG(x_mem), OCL_ARG(x_offset), OCL_ARG(w_mem),
                                  OCL_ARG(w_offset), OCL_ARG(b_mem), OCL_ARG(b_offset),
                                  OCL_ARG(use_bias), OCL_ARG(y_mem), OCL_ARG(y_offset),
                                  OCL_ARG(zeros), OCL_ARG(H), OCL_ARG(W), OCL_ARG(C),
                                  OCL_ARG(KH), OCL_ARG(KW), OCL_ARG(K), OCL_ARG(SH), OCL_ARG(SW),
                                  OCL_ARG(ph), OCL_ARG(pw), OCL_ARG(HO), OCL_ARG(WO),
                                  OCL_ARG(act), OCL_ARG(segs), OCL_ARG(kblocks),
                                  OCL_ARG(count)));
}

bool ocl_conv2d_fwd_tiled_supports(const struct ocl_context *ctx,
                                   const struct ocl_variant *variant,
                                   const struct fcnn_op_call *call)
{
    (void)ctx;
    struct conv_shape s = conv_call_shape(call);
    return ocl_call_fits_int32(call) && geometry_fits(variant, &s, s.k);
}

int ocl_conv2d_fwd_tiled(struct ocl_context *ctx, const struct ocl_variant *variant,
                         const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0], *w = call->t[1], *b = call->t[2], *y = call->t[3];
    struct conv_shape s = conv_call_shape(call);
    return launch_tiled(ctx, variant, &s, x, ocl_mem(w), ocl_elem_offset(w), b, y, s.pt, s.pl,
                        call->p.conv.act == FCNN_ACT_RELU);
}

/* dx = conv(dy, flip(w)) needs stride 1, padding before no larger than the window (so that
 * the flipped padding KH - 1 - pad_top, KW - 1 - pad_left is not negative), and the input
 * channels, which become
 * the output channels, in whole tiles. */
bool ocl_conv2d_bwd_data_tiled_supports(const struct ocl_context *ctx,
                                        const struct ocl_variant *variant,
                                        const struct fcnn_op_call *call)
{
    (void)ctx;
    struct conv_shape s = conv_call_shape(call);
    return ocl_call_fits_int32(call) && s.sh == 1 && s.sw == 1 && s.pt <= s.kh - 1 &&
           s.pl <= s.kw - 1 && geometry_fits(variant, &s, s.c);
}

int ocl_conv2d_bwd_data_tiled(struct ocl_context *ctx, const struct ocl_variant *variant,
                              const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *dy = call->t[0], *w = call->t[1], *dx = call->t[2];
    struct conv_shape s = conv_call_shape(call);

    /* The flipped kernel [KH][KW][K][C], in scratch: small next to the convolution. */
    struct ocl_kernel *flip;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "conv2d_tiled.cl", "conv2d_flip_weights", &flip));
    cl_mem flipped;
    size_t weights = fcnn_tensor_count(w);
    OCL_TRY(ocl_scratch_get(ctx, OCL_SCRATCH_WEIGHTS, weights * sizeof(float), &flipped));
    cl_mem w_mem = ocl_mem(w);
    cl_ulong w_offset = ocl_elem_offset(w);
    cl_int KH = s.kh, KW = s.kw, C = s.c, K = s.k, count = (cl_int)weights;
    OCL_TRY(ocl_launch_1d(ctx, flip, weights, OCL_HELPER_WG_SIZE,
                          OCL_ARGS(OCL_ARG(w_mem), OCL_ARG(w_offset), OCL_ARG(flipped),
                                   OCL_ARG(KH), OCL_ARG(KW), OCL_ARG(C), OCL_ARG(K),
                                   OCL_ARG(count))));

    struct conv_shape t = conv_shape_seen_from_dy(&s);
    return launch_tiled(ctx, variant, &t, dy, flipped, 0, NULL, dx, s.kh - 1 - s.pt,
                        s.kw - 1 - s.pl, false);
}
