/* Pooling (kernels/pool.cl). Max and average pooling: forward one output pixel per
 * work-item, backward one input pixel per work-item gathering from the windows that hold
 * it; each work-item covers all channels of its pixel, for any window, stride and padding.
 * The vec16 forms take channels 16 at a time as float16 (max pooling: 16 per work-item;
 * average pooling: a whole pixel per work-item, see kernels/pool.cl), and the scatter
 * forms, for windows that tile the input without padding (max pooling's square, as in
 * the reference model), write each window once from one work-item instead of searching
 * every window that holds each input pixel. Global average pooling: one work-item per
 * (sample, channel) forward and per input pixel backward. */
#include <config.h>

#include "ocl_registry.h"

/* One work-item per pixel of `per_pixel` (y forward, dx backward) over the pooling
 * geometry of x [N,H,W,C] and y [N,HO,WO,C]; `tensors` in the kernel's argument order. */
static int run_pool(struct ocl_context *ctx, const struct ocl_variant *variant,
                    const char *kernel_name, const struct fcnn_tensor *const tensors[],
                    int tensor_count, const struct fcnn_tensor *x, const struct fcnn_tensor *y,
                    const struct fcnn_pool_params *p, size_t pixels)
{
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "pool.cl", kernel_name, &kernel));
    cl_mem mem[3];
    cl_ulong offset[3];
    for (int i = 0; i < tensor_count; i++) {
        mem[i] = ocl_mem(tensors[i]);
        offset[i] = ocl_elem_offset(tensors[i]);
    }
    cl_int H = x->shape[1], W = x->shape[2], C = x->shape[3], HO = y->shape[1], WO = y->shape[2];
    cl_int PH = p->ph, PW = p->pw, SH = p->sh, SW = p->sw, PT = p->pad_top, PL = p->pad_left;
    cl_int n = (cl_int)pixels;
    size_t local = (size_t)ocl_tunable(variant, "WG_SIZE");
    if (tensor_count == 2)
        return ocl_launch_1d(ctx, kernel, pixels, local,
                             OCL_ARGS(OCL_ARG(mem[0]), OCL_ARG(offset[0]), OCL_ARG(mem[1]),
                                      OCL_ARG(offset[1]), OCL_ARG(H), OCL_ARG(W), OCL_ARG(C),
                                      OCL_ARG(HO), OCL_ARG(WO), OCL_ARG(PH), OCL_ARG(PW),
                                      OCL_ARG(SH), OCL_ARG(SW), OCL_ARG(PT), OCL_ARG(PL),
                                      OCL_ARG(n)));
    return ocl_launch_1d(ctx, kernel, pixels, local,
                         OCL_ARGS(OCL_ARG(mem[0]), OCL_ARG(offset[0]), OCL_ARG(mem[1]),
                                  OCL_ARG(offset[1]), OCL_ARG(mem[2]), OCL_ARG(offset[2]),
                                  OCL_ARG(H), OCL_ARG(W), OCL_ARG(C), OCL_ARG(HO), OCL_ARG(WO),
                                  OCL_ARG(PH), OCL_ARG(PW), OCL_ARG(SH), OCL_ARG(SW),
                                  OCL_ARG(PT), OCL_ARG(PL), OCL_ARG(n)));
}

/* Pixels of an NHWC tensor: its elements over its channels. */
static size_t pixels_of(const struct fcnn_tensor *t)
{
    return fcnn_tensor_count(t) / (size_t)t->shape[3];
}

int ocl_maxpool_fwd_window(struct ocl_context *ctx, const struct ocl_variant *variant,
                           const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0], *y = call->t[1];
    const struct fcnn_tensor *tensors[] = { x, y };
    return run_pool(ctx, variant, "maxpool_fwd", tensors, 2, x, y, &call->p.pool, pixels_of(y));
}

int ocl_maxpool_bwd_gather(struct ocl_context *ctx, const struct ocl_variant *variant,
                           const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0], *dy = call->t[1], *dx = call->t[2];
    const struct fcnn_tensor *tensors[] = { x, dy, dx };
    return run_pool(ctx, variant, "maxpool_bwd", tensors, 3, x, dy, &call->p.pool,
                    pixels_of(dx));
}

int ocl_avgpool_fwd_window(struct ocl_context *ctx, const struct ocl_variant *variant,
                           const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0], *y = call->t[1];
    const struct fcnn_tensor *tensors[] = { x, y };
    return run_pool(ctx, variant, "avgpool_fwd", tensors, 2, x, y, &call->p.pool, pixels_of(y));
}

int ocl_avgpool_bwd_gather(struct ocl_context *ctx, const struct ocl_variant *variant,
                           const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *dy = call->t[0], *dx = call->t[1];
    const struct fcnn_tensor *tensors[] = { dy, dx };
    return run_pool(ctx, variant, "avgpool_bwd", tensors, 2, dx, dy, &call->p.pool,
                    pixels_of(dx));
}

/* Average pooling's float16 forms (C % 16 == 0, ocl_pool_vec16_supports): the same
 * argument list and grid as the scalar kernels: one work-item per pixel. */
int ocl_avgpool_fwd_vec16(struct ocl_context *ctx, const struct ocl_variant *variant,
                          const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0], *y = call->t[1];
    const struct fcnn_tensor *tensors[] = { x, y };
    return run_pool(ctx, variant, "avgpool_fwd_vec16", tensors, 2, x, y, &call->p.pool,
                    pixels_of(y));
}

/* The scatter writes each window once: windows that neither overlap nor leave gaps
 * (stride == pool, rectangular allowed) and no padding, so every window divides by PH*PW. */
bool ocl_avgpool_bwd_scatter16_supports(const struct ocl_context *ctx,
                                        const struct ocl_variant *variant,
                                        const struct fcnn_op_call *call)
{
    const struct fcnn_pool_params *p = &call->p.pool;
    return ocl_pool_vec16_supports(ctx, variant, call) && p->sh == p->ph && p->sw == p->pw &&
           !p->pad_top && !p->pad_bottom && !p->pad_left && !p->pad_right;
}

int ocl_avgpool_bwd_scatter16(struct ocl_context *ctx, const struct ocl_variant *variant,
                              const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *dy = call->t[0], *dx = call->t[1];
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "pool.cl", "avgpool_bwd_scatter16", &kernel));
    cl_mem dy_mem = ocl_mem(dy), dx_mem = ocl_mem(dx);
    cl_ulong dy_offset = ocl_elem_offset(dy), dx_offset = ocl_elem_offset(dx);
    cl_int H = dx->shape[1], W = dx->shape[2], C = dx->shape[3];
    cl_int HO = dy->shape[1], WO = dy->shape[2], PH = call->p.pool.ph, PW = call->p.pool.pw;
    cl_int count = (cl_int)(fcnn_tensor_count(dy) / 16);
    return ocl_launch_1d(ctx, kernel, (size_t)count, (size_t)ocl_tunable(variant, "WG_SIZE"),
                         OCL_ARGS(OCL_ARG(dy_mem), OCL_ARG(dy_offset), OCL_ARG(dx_mem),
                                  OCL_ARG(dx_offset), OCL_ARG(H), OCL_ARG(W), OCL_ARG(C),
                                  OCL_ARG(HO), OCL_ARG(WO), OCL_ARG(PH), OCL_ARG(PW),
                                  OCL_ARG(count)));
}

/* x [N,H,W,C] and y [N,C], forward (x, y) or backward (dy, dx): `first` and `second` in
 * the kernel's argument order, `count` work-items. */
static int run_global(struct ocl_context *ctx, const struct ocl_variant *variant,
                      const char *kernel_name, const struct fcnn_tensor *first,
                      const struct fcnn_tensor *second, const struct fcnn_tensor *image,
                      size_t count)
{
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "pool.cl", kernel_name, &kernel));
    cl_mem a = ocl_mem(first), b = ocl_mem(second);
    cl_ulong a_offset = ocl_elem_offset(first), b_offset = ocl_elem_offset(second);
    cl_int pixels = image->shape[1] * image->shape[2], C = image->shape[3], n = (cl_int)count;
    return ocl_launch_1d(ctx, kernel, count, (size_t)ocl_tunable(variant, "WG_SIZE"),
                         OCL_ARGS(OCL_ARG(a), OCL_ARG(a_offset), OCL_ARG(b), OCL_ARG(b_offset),
                                  OCL_ARG(pixels), OCL_ARG(C), OCL_ARG(n)));
}

int ocl_global_avgpool_fwd_channels(struct ocl_context *ctx, const struct ocl_variant *variant,
                                    const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0], *y = call->t[1];
    return run_global(ctx, variant, "global_avgpool_fwd", x, y, x, fcnn_tensor_count(y));
}

int ocl_global_avgpool_bwd_pixels(struct ocl_context *ctx, const struct ocl_variant *variant,
                                  const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *dy = call->t[0], *dx = call->t[1];
    return run_global(ctx, variant, "global_avgpool_bwd", dy, dx, dx, pixels_of(dx));
}

/* The float16 forms (kernels/pool.cl): 16 channels per work-item. */
bool ocl_pool_vec16_supports(const struct ocl_context *ctx, const struct ocl_variant *variant,
                             const struct fcnn_op_call *call)
{
    (void)ctx;
    (void)variant;
    return ocl_call_fits_int32(call) && call->t[0]->shape[3] % 16 == 0;
}

int ocl_maxpool_fwd_vec16(struct ocl_context *ctx, const struct ocl_variant *variant,
                          const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0], *y = call->t[1];
    const struct fcnn_pool_params *p = &call->p.pool;
    /* Without padding no window is clipped ("valid" never clips: the last window ends
     * inside the input), and the kernel without clipping is the faster one. */
    bool clipped = p->pad_top || p->pad_bottom || p->pad_left || p->pad_right;
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "pool.cl",
                               clipped ? "maxpool_fwd_vec16_clipped" : "maxpool_fwd_vec16",
                               &kernel));
    cl_mem x_mem = ocl_mem(x), y_mem = ocl_mem(y);
    cl_ulong x_offset = ocl_elem_offset(x), y_offset = ocl_elem_offset(y);
    cl_int H = x->shape[1], W = x->shape[2], C = x->shape[3], HO = y->shape[1], WO = y->shape[2];
    cl_int PH = p->ph, PW = p->pw, SH = p->sh, SW = p->sw, PT = p->pad_top, PL = p->pad_left;
    cl_int count = (cl_int)(fcnn_tensor_count(y) / 16);
    if (!clipped)
        return ocl_launch_1d(ctx, kernel, (size_t)count, (size_t)ocl_tunable(variant, "WG_SIZE"),
                             OCL_ARGS(OCL_ARG(x_mem), OCL_ARG(x_offset), OCL_ARG(y_mem),
                                      OCL_ARG(y_offset), OCL_ARG(H), OCL_ARG(W), OCL_ARG(C),
                                      OCL_ARG(HO), OCL_ARG(WO), OCL_ARG(PH), OCL_ARG(PW),
                                      OCL_ARG(SH), OCL_ARG(SW), OCL_ARG(count)));
    return ocl_launch_1d(ctx, kernel, (size_t)count, (size_t)ocl_tunable(variant, "WG_SIZE"),
                         OCL_ARGS(OCL_ARG(x_mem), OCL_ARG(x_offset), OCL_ARG(y_mem),
                                  OCL_ARG(y_offset), OCL_ARG(H), OCL_ARG(W), OCL_ARG(C),
                                  OCL_ARG(HO), OCL_ARG(WO), OCL_ARG(PH), OCL_ARG(PW),
                                  OCL_ARG(SH), OCL_ARG(SW), OCL_ARG(PT), OCL_ARG(PL),
                                  OCL_ARG(count)));
}

/* The scatter writes each window once, which needs square windows that neither overlap nor
 * leave gaps (stride == size) and no padding: what the kernel (and its fused form,
 * ocl_fuse.c) is written for. */
bool ocl_maxpool_bwd_scatter16_supports(const struct ocl_context *ctx,
                                        const struct ocl_variant *variant,
                                        const struct fcnn_op_call *call)
{
    const struct fcnn_pool_params *p = &call->p.pool;
    return ocl_pool_vec16_supports(ctx, variant, call) && p->ph == p->pw && p->sh == p->ph &&
           p->sw == p->pw && !p->pad_top && !p->pad_bottom && !p->pad_left && !p->pad_right;
}

int ocl_maxpool_bwd_scatter16(struct ocl_context *ctx, const struct ocl_variant *variant,
                              const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0], *dy = call->t[1], *dx = call->t[2];
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "pool.cl", "maxpool_bwd_scatter16", &kernel));
    cl_mem x_mem = ocl_mem(x), dy_mem = ocl_mem(dy), dx_mem = ocl_mem(dx);
    cl_ulong x_offset = ocl_elem_offset(x), dy_offset = ocl_elem_offset(dy);
    cl_ulong dx_offset = ocl_elem_offset(dx);
    cl_int H = x->shape[1], W = x->shape[2], C = x->shape[3];
    cl_int HO = dy->shape[1], WO = dy->shape[2], size = call->p.pool.ph;
    cl_int count = (cl_int)(fcnn_tensor_count(dy) / 16);
    return ocl_launch_1d(ctx, kernel, (size_t)count, (size_t)ocl_tunable(variant, "WG_SIZE"),
                         OCL_ARGS(OCL_ARG(x_mem), OCL_ARG(x_offset), OCL_ARG(dy_mem),
                                  OCL_ARG(dy_offset), OCL_ARG(dx_mem), OCL_ARG(dx_offset),
                                  OCL_ARG(H), OCL_ARG(W), OCL_ARG(C), OCL_ARG(HO), OCL_ARG(WO),
                                  OCL_ARG(size), OCL_ARG(count)));
}

