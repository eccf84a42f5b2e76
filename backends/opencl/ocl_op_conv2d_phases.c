/* The input gradient of strided convolutions, register-tiled by phases of dx
 * (kernels/conv2d_phases.cl, whose header says why this form). The variant rows choose the
 * tile: PIX pixels of one phase along a row times 16*KV input channels per work-item, so
 * the input channel count must be a multiple of 16*KV. */
#include <config.h>

#include <limits.h>

#include "ocl_conv.h"

/* The launch grid: one work-item per (sample, dx row, column phase, segment of PIX pixels
 * of the widest phase, channel block). Only min(SW, W) column phases hold a pixel: a
 * stride wider than the image leaves the others empty. */
struct phases_grid {
    int phases, segs, cblocks;
    size_t items;
};

static struct phases_grid grid_of(const struct ocl_variant *variant, const struct conv_shape *s)
{
    struct phases_grid g;
    int pix = ocl_tunable(variant, "PIX");
    int widest = (s->w + s->sw - 1) / s->sw; /* the columns of phase 0, the widest */
    g.phases = s->sw < s->w ? s->sw : s->w;
    g.segs = (widest + pix - 1) / pix;
    g.cblocks = s->c / (16 * ocl_tunable(variant, "KV"));
    g.items = (size_t)s->n * s->h * g.phases * g.segs * g.cblocks;
    return g;
}

/* The kernel runs any stride, kernel size and padding. It is offered only where the
 * stride-1 forms (the flipped kernel through conv2d_tiled.cl and Winograd) cannot run:
 * a stride above 1, or padding before larger than the window less one. At stride 1 it
 * would do the very same multiply-adds as the flipped form, so timing it there would only
 * lengthen a cold start. */
bool ocl_conv2d_bwd_data_phases_supports(const struct ocl_context *ctx,
                                         const struct ocl_variant *variant,
                                         const struct fcnn_op_call *call)
{
    (void)ctx;
    struct conv_shape s = conv_call_shape(call);
    bool flip_runs_it = s.sh == 1 && s.sw == 1 && s.pt <= s.kh - 1 && s.pl <= s.kw - 1;
    return ocl_call_fits_int32(call) && !flip_runs_it &&
           s.c % (16 * ocl_tunable(variant, "KV")) == 0 && grid_of(variant, &s).items <= INT_MAX;
}

int ocl_conv2d_bwd_data_phases(struct ocl_context *ctx, const struct ocl_variant *variant,
                               const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *dy = call->t[0], *w = call->t[1], *dx = call->t[2];
    struct conv_shape s = conv_call_shape(call);

    /* wt[i][j][k][c], in scratch: small next to the convolution. */
    struct ocl_kernel *transpose, *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "conv2d_phases.cl", "conv2d_phases_weights",
                               &transpose));
    OCL_TRY(ocl_variant_kernel(ctx, variant, "conv2d_phases.cl", "conv2d_bwd_data_phases",
                               &kernel));
    cl_mem wt;
    size_t weights = fcnn_tensor_count(w);
    OCL_TRY(ocl_scratch_get(ctx, OCL_SCRATCH_WEIGHTS, weights * sizeof(float), &wt));
    cl_mem w_mem = ocl_mem(w);
    cl_ulong w_offset = ocl_elem_offset(w);
    cl_int C = s.c, K = s.k, elems = (cl_int)weights;
    OCL_TRY(ocl_launch_1d(ctx, transpose, weights, OCL_HELPER_WG_SIZE,
                          OCL_ARGS(OCL_ARG(w_mem), OCL_ARG(w_offset), OCL_ARG(wt), OCL_ARG(C),
                                   OCL_ARG(K), OCL_ARG(elems))));

    cl_mem zeros;
    OCL_TRY(ocl_zeros(ctx, (size_t)s.k, &zeros));
    struct phases_grid g = grid_of(variant, &s);
    cl_int phases = g.phases, segs = g.segs, cblocks = g.cblocks, count = (cl_int)g.items;
    cl_mem dy_mem = ocl_mem(dy), dx_mem = ocl_mem(dx);
    cl_ulong dy_offset = ocl_elem_offset(dy), dx_offset = ocl_elem_offset(dx);
    cl_int H = s.h, W = s.w, KH = s.kh, KW = s.kw, SH = s.sh, SW = s.sw, PT = s.pt, PL = s.pl;
    cl_int HO = s.ho, WO = s.wo;
    return ocl_launch_1d(ctx, kernel, (size_t)count, (size_t)ocl_tunable(variant, "WG_SIZE"),
                         OCL_ARGS(OCL_ARG(dy_mem), OCL_ARG(dy_offset), OCL_ARG(wt),
                                  OCL_ARG(dx_mem), OCL_ARG(dx_offset), OCL_ARG(zeros),
                                  OCL_ARG(H), OCL_ARG(W), OCL_ARG(C), OCL_ARG(KH), OCL_ARG(KW),
                                  OCL_ARG(K), OCL_ARG(SH), OCL_ARG(SW), OCL_ARG(PT), OCL_ARG(PL),
                                  OCL_ARG(HO), OCL_ARG(WO), OCL_ARG(phases), OCL_ARG(segs),
                                  OCL_ARG(cblocks), OCL_ARG(count)));
}
