/* The dense layer, x [N,D], w [D,K] (row-major, Keras's layout), y [N,K], as SGEMMs:
 *   forward      y  = x w            (NN), then bias + activation
 *   bwd data     dx = dy w^T         (NT)
 *   bwd weights  dw = x^T dy         (TN)
 * Offsets reach CLBlast in floats. */
#include <config.h>

#include "ocl_registry.h"

static size_t floats(const struct fcnn_tensor *t)
{
    return (size_t)ocl_elem_offset(t);
}

int ocl_dense_fwd_gemm(struct ocl_context *ctx, const struct ocl_variant *variant,
                       const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0], *w = call->t[1], *b = call->t[2], *y = call->t[3];
    size_t n = (size_t)x->shape[0], d = (size_t)x->shape[1], k = (size_t)w->shape[1];
    OCL_TRY(ocl_sgemm(ctx, false, false, n, k, d, 1.0f, ocl_mem(x), floats(x), d, ocl_mem(w),
                      floats(w), k, 0.0f, ocl_mem(y), floats(y), k));
    return ocl_bias_activation(ctx, variant, y, b, call->p.act);
}

int ocl_dense_bwd_data_gemm(struct ocl_context *ctx, const struct ocl_variant *variant,
                            const struct fcnn_op_call *call)
{
    (void)variant;
    const struct fcnn_tensor *dy = call->t[0], *w = call->t[1], *dx = call->t[2];
    size_t n = (size_t)dy->shape[0], k = (size_t)dy->shape[1], d = (size_t)w->shape[0];
    return ocl_sgemm(ctx, false, true, n, d, k, 1.0f, ocl_mem(dy), floats(dy), k, ocl_mem(w),
                     floats(w), k, 0.0f, ocl_mem(dx), floats(dx), d);
}

int ocl_dense_bwd_weights_gemm(struct ocl_context *ctx, const struct ocl_variant *variant,
                               const struct fcnn_op_call *call)
{
    (void)variant;
    const struct fcnn_tensor *x = call->t[0], *dy = call->t[1], *dw = call->t[2];
    size_t n = (size_t)x->shape[0], d = (size_t)x->shape[1], k = (size_t)dy->shape[1];
    return ocl_sgemm(ctx, true, false, d, k, n, 1.0f, ocl_mem(x), floats(x), d, ocl_mem(dy),
                     floats(dy), k, 0.0f, ocl_mem(dw), floats(dw), k);
}
