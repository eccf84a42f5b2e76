/* The Winograd convolutions F(2x2, 3x3) (kernels/conv2d_winograd.cl) and F(4x4, 3x3)
 * (kernels/conv2d_winograd4.cl) for 3x3 windows at stride 1: the forward with bias and
 * ReLU fused into its output transform (and for evaluation a 2x2 max pooling after
 * them, conv2d_pool_fwd), and the input gradient as the same kernel run on
 * dy with the flipped kernel (dx = conv(dy, flip(w)), padded by 2 - pad), whose flip the
 * weight transform folds in.
 *
 * Each call first transforms the kernel into U = G g G^T, 16 or 36 values per (input
 * channel, output channel), in the weights scratch buffer: small next to the
 * convolution. The variant rows choose TW output tiles along a row times 16*KV output
 * channels per work-item, so the output channel count must be a multiple of 16*KV; the
 * input transform works on 16 input channels at once, so their count must be a multiple
 * of 16. */
#include <config.h>

#include <stdint.h>
#include <string.h>

#include "ocl_conv.h"

/* The two forms differ in their kernels and the size of an output tile (m x m outputs
 * from an (m + 2) x (m + 2) patch); the host side is the same. */
struct winograd_form {
    const char *file, *weights_kernel, *kernel;
    int m;
};

static const struct winograd_form f2x2 = { "conv2d_winograd.cl", "conv2d_winograd_weights",
                                           "conv2d_winograd", 2 };
static const struct winograd_form f4x4 = { "conv2d_winograd4.cl", "conv2d_winograd4_weights",
                                           "conv2d_winograd4", 4 };

static const struct winograd_form *form_of(const struct ocl_variant *variant)
{
    return strcmp(variant->files[0], f4x4.file) == 0 ? &f4x4 : &f2x2;
}

/* Transformed kernel values per (input channel, output channel). */
static size_t points(const struct winograd_form *form)
{
    return (size_t)(form->m + 2) * (size_t)(form->m + 2);
}

static int channels_per_item(const struct ocl_variant *variant)
{
    return 16 * ocl_tunable(variant, "KV");
}

/* A 3x3 window at stride 1 with `inputs` channels in whole blocks of 16 (the kernel's
 * input transform) and `outputs` in whole blocks of 16*KV. */
static bool geometry_fits(const struct ocl_variant *variant, const struct conv_shape *s,
                          int inputs, int outputs)
{
    return s->kh == 3 && s->kw == 3 && s->sh == 1 && s->sw == 1 && inputs > 0 &&
           inputs % 16 == 0 && outputs % channels_per_item(variant) == 0;
}

/* Output tiles along an extent of `outputs` rows or columns, the last one overhanging
 * where m does not divide it. */
static int tiles_over(const struct winograd_form *form, int outputs)
{
    return (outputs + form->m - 1) / form->m;
}

/* F(4x4)'s strips of more than four tiles (7x32) are for long rows: the kernel computes
 * every tile of a strip, and where the row has fewer the rest are thrown away (at 14x14,
 * 64 to 64 channels, 7x32's input gradient took 1.5 ms against 4x32's 0.87-1.0). The
 * 4-tile forms take any row, and so do F(2x2)'s 7-tile ones (a 14-wide row is 7 tiles).
 * `columns` is the width of the output the kernel writes. */
static bool strip_fits(const struct ocl_variant *variant, int columns)
{
    const struct winograd_form *form = form_of(variant);
    int tiles_per_item = ocl_tunable(variant, "TW");
    return form != &f4x4 || tiles_per_item <= 4 || tiles_over(form, columns) >= tiles_per_item;
}

/* U into the weights scratch: for the forward (flip false) from w as it is, for the input
 * gradient from w flipped, the channel axes swapped. */
static int transform_weights(struct ocl_context *ctx, const struct ocl_variant *variant,
                             const struct conv_shape *s, const struct fcnn_tensor *w, bool flip,
                             cl_mem *u)
{
    const struct winograd_form *form = form_of(variant);
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, form->file, form->weights_kernel, &kernel));
    size_t pairs = (size_t)s->c * (size_t)s->k;
    OCL_TRY(ocl_scratch_get(ctx, OCL_SCRATCH_WEIGHTS, points(form) * pairs * sizeof(float), u));
    cl_mem w_mem = ocl_mem(w);
    cl_ulong w_offset = ocl_elem_offset(w);
    /* A work-item per input channel and 16 output channels: geometry_fits keeps both
     * channel counts multiples of 16. */
    cl_int C = s->c, K = s->k, flipped = flip, count = (cl_int)(pairs / 16);
    return ocl_launch_1d(ctx, kernel, pairs / 16, OCL_HELPER_WG_SIZE,
                         OCL_ARGS(OCL_ARG(w_mem), OCL_ARG(w_offset), OCL_ARG(*u), OCL_ARG(C),
                                  OCL_ARG(K), OCL_ARG(flipped), OCL_ARG(count)));
}

/* y = act(conv(x, w) + b) for `s`'s geometry (C input, K output channels), padded by
 * (pad_h, pad_w), with U the transformed kernel in [points][C][K]; pooled: y is its 2x2
 * max pooling instead, and only the tiles under whole windows run. */
static int launch_winograd(struct ocl_context *ctx, const struct ocl_variant *variant,
                           const struct conv_shape *s, const struct fcnn_tensor *x, cl_mem u,
                           const struct fcnn_tensor *b, const struct fcnn_tensor *y, int pad_h,
                           int pad_w, bool relu, bool pooled)
{
    const struct winograd_form *form = form_of(variant);
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, form->file, form->kernel, &kernel));
    cl_mem zeros;
    OCL_TRY(ocl_zeros(ctx, (size_t)s->c, &zeros));
    int tiles_per_item = ocl_tunable(variant, "TW");
    cl_mem x_mem = ocl_mem(x), y_mem = ocl_mem(y), b_mem = b ? ocl_mem(b) : zeros;
    cl_ulong x_offset = ocl_elem_offset(x), y_offset = ocl_elem_offset(y);
    cl_ulong b_offset = b ? ocl_elem_offset(b) : 0;
    cl_int use_bias = b != NULL, H = s->h, W = s->w, C = s->c, K = s->k;
    cl_int ph = pad_h, pw = pad_w, HO = s->ho, WO = s->wo, act = relu, pool = pooled;
    int rows = pooled ? s->ho / 2 * 2 : s->ho, columns = pooled ? s->wo / 2 * 2 : s->wo;
    cl_int tiles_h = tiles_over(form, rows), tiles_w = tiles_over(form, columns);
    cl_int segs = (tiles_w + tiles_per_item - 1) / tiles_per_item;
    cl_int kblocks = s->k / channels_per_item(variant);
    cl_int count = s->n * tiles_h * segs * kblocks;
    size_t local = (size_t)ocl_tunable(variant, "WG_SIZE");
    return ocl_launch_1d(ctx, kernel, (size_t)count, local,
                         OCL_ARGS(OCL_ARG(x_mem), OCL_ARG(x_offset), OCL_ARG(u),
                                  OCL_ARG(b_mem), OCL_ARG(b_offset), OCL_ARG(use_bias),
                                  OCL_ARG(y_mem), OCL_ARG(y_offset), OCL_ARG(zeros), OCL_ARG(H),
                                  OCL_ARG(W), OCL_ARG(C), OCL_ARG(K), OCL_ARG(ph), OCL_ARG(pw),
                                  OCL_ARG(HO), OCL_ARG(WO), OCL_ARG(act), OCL_ARG(pool),
                                  OCL_ARG(tiles_h),
                                  OCL_ARG(segs), OCL_ARG(kblocks), OCL_ARG(count)));
}

bool ocl_conv2d_fwd_winograd_supports(const struct ocl_context *ctx,
                                      const struct ocl_variant *variant,
                                      const struct fcnn_op_call *call)
{
    (void)ctx;
    struct conv_shape s = conv_call_shape(call);
    return ocl_call_fits_int32(call) && points(form_of(variant)) * s.c * s.k <= INT32_MAX &&
           geometry_fits(variant, &s, s.c, s.k) && strip_fits(variant, s.wo);
}

/* conv2d_fwd, or conv2d_pool_fwd when pooled: the same call's tensors and geometry. */
static int forward(struct ocl_context *ctx, const struct ocl_variant *variant,
                   const struct fcnn_op_call *call, bool pooled)
{
    const struct fcnn_tensor *x = call->t[0], *w = call->t[1], *b = call->t[2], *y = call->t[3];
    struct conv_shape s = conv_call_shape(call);
    cl_mem u;
    OCL_TRY(transform_weights(ctx, variant, &s, w, false, &u));
    return launch_winograd(ctx, variant, &s, x, u, b, y, s.pt, s.pl,
                           call->p.conv.act == FCNN_ACT_RELU, pooled);
}

int ocl_conv2d_fwd_winograd(struct ocl_context *ctx, const struct ocl_variant *variant,
                            const struct fcnn_op_call *call)
{
    return forward(ctx, variant, call, false);
}

/* The forward with a 2x2 max pooling at stride 2 after it: each F(2x2) tile, or each
 * quarter of an F(4x4) one, is a pooling window, reduced before it is stored. */
bool ocl_conv2d_pool_fwd_winograd_supports(const struct ocl_context *ctx,
                                           const struct ocl_variant *variant,
                                           const struct fcnn_op_call *call)
{
    return call->p.conv.pool == 2 && ocl_conv2d_fwd_winograd_supports(ctx, variant, call);
}

int ocl_conv2d_pool_fwd_winograd(struct ocl_context *ctx, const struct ocl_variant *variant,
                                 const struct fcnn_op_call *call)
{
    return forward(ctx, variant, call, true);
}

/* The flipped padding 2 - pad_top, 2 - pad_left must not be negative; the input channels
 * become the output channels, in whole blocks. */
bool ocl_conv2d_bwd_data_winograd_supports(const struct ocl_context *ctx,
                                           const struct ocl_variant *variant,
                                           const struct fcnn_op_call *call)
{
    (void)ctx;
    struct conv_shape s = conv_call_shape(call);
    return ocl_call_fits_int32(call) && points(form_of(variant)) * s.c * s.k <= INT32_MAX &&
           s.pt <= 2 && s.pl <= 2 && geometry_fits(variant, &s, s.k, s.c) &&
           strip_fits(variant, s.w);
}

int ocl_conv2d_bwd_data_winograd(struct ocl_context *ctx, const struct ocl_variant *variant,
                                 const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *dy = call->t[0], *w = call->t[1], *dx = call->t[2];
    struct conv_shape s = conv_call_shape(call);
    cl_mem u;
    OCL_TRY(transform_weights(ctx, variant, &s, w, true, &u));
    struct conv_shape t = conv_shape_seen_from_dy(&s);
    return launch_winograd(ctx, variant, &t, dy, u, NULL, dx, 2 - s.pt, 2 - s.pl, false, false);
}
