/* The geometry of a convolution call, shared by the convolution variants (ocl_op_conv2d*.c):
 * every conv op names its tensors in a different order, this puts them back in one. */
#ifndef FCNN_OCL_CONV_H
#define FCNN_OCL_CONV_H

#include "ocl_registry.h"

struct conv_shape {
    int n, h, w, c;   /* input */
    int kh, kw, k;    /* kernel window, output channels */
    int ho, wo;       /* output */
    int sh, sw;       /* strides */
    int pt, pl;       /* padding before: top, left (the padding after shows in ho, wo) */
    size_t patch;     /* columns: KH*KW*C */
    size_t pixels;    /* rows per sample: HO*WO */
};

static inline struct conv_shape conv_shape_of(const struct fcnn_tensor *x,
                                              const struct fcnn_tensor *w,
                                              const struct fcnn_tensor *y,
                                              const struct fcnn_conv2d_params *p)
{
    struct conv_shape s = {
        .n = x->shape[0], .h = x->shape[1], .w = x->shape[2], .c = x->shape[3],
        .kh = w->shape[0], .kw = w->shape[1], .k = w->shape[3],
        .ho = y->shape[1], .wo = y->shape[2], .sh = p->sh, .sw = p->sw, .pt = p->pad_top,
        .pl = p->pad_left,
    };
    s.patch = (size_t)s.kh * s.kw * s.c;
    s.pixels = (size_t)s.ho * s.wo;
    return s;
}

/* The (x, w, y) roles of each conv op's tensors: bwd_data's dx plays x and its dy plays y;
 * bwd_filter's dw plays w. */
static inline struct conv_shape conv_call_shape(const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *const *t = call->t;
    switch (call->op) {
    case FCNN_OP_CONV2D_BWD_DATA: return conv_shape_of(t[2], t[1], t[0], &call->p.conv);
    case FCNN_OP_CONV2D_BWD_FILTER: return conv_shape_of(t[0], t[2], t[1], &call->p.conv);
    case FCNN_OP_CONV2D_POOL_FWD: {
        /* y holds the pooled output: the convolution's own size comes from the padding. */
        const struct fcnn_conv2d_params *p = &call->p.conv;
        struct conv_shape s = conv_shape_of(t[0], t[1], t[3], p);
        s.ho = fcnn_window_out(s.h, p->pad_top, p->pad_bottom, s.kh, s.sh);
        s.wo = fcnn_window_out(s.w, p->pad_left, p->pad_right, s.kw, s.sw);
        s.pixels = (size_t)s.ho * s.wo;
        return s;
    }
    default: return conv_shape_of(t[0], t[1], t[3], &call->p.conv);
    }
}

/* The input gradient as a forward convolution, dx = conv(dy, flip(w)) at stride 1: the
 * same window seen from dy, its input HO x WO x K and its output H x W x C. The padding of
 * that convolution depends on the form (KH - 1 - pad for a plain flip), so the caller
 * passes it. */
static inline struct conv_shape conv_shape_seen_from_dy(const struct conv_shape *s)
{
    struct conv_shape t = *s;
    t.h = s->ho, t.w = s->wo, t.c = s->k;
    t.ho = s->h, t.wo = s->w, t.k = s->c;
    t.patch = (size_t)t.kh * t.kw * t.c;
    t.pixels = (size_t)t.ho * t.wo;
    return t;
}

#endif
