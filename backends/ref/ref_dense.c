/* Reference dense layer: x [N,D], w [D,K] (Keras's layout), b [K], y [N,K].
 *   forward:       y = act(x w + b)
 *   bwd data:      dx = dy w^T
 *   bwd weights:   dw = x^T dy          (the bias gradient is bias_bwd)
 * and ReLU's backward, which any layer with a fused ReLU uses. */
#include <config.h>

#include "ref.h"

int ref_dense_fwd(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg x = call->t[0], w = call->t[1], b = call->t[2], y = call->t[3];
    enum fcnn_activation act = call->p.act;
    const float *X = REF_PTR(const float, x), *W = REF_PTR(const float, w);
    const float *B = b ? REF_PTR(const float, b) : NULL;
    float *Y = REF_PTR(float, y);
    int n_count = x->shape[0], d_count = x->shape[1], k_count = w->shape[1];

#pragma omp parallel for schedule(static)
    for (int n = 0; n < n_count; n++) {
        double acc[k_count];
        for (int k = 0; k < k_count; k++)
            acc[k] = B ? B[k] : 0.0; /* no bias: use_bias=False */
        for (int d = 0; d < d_count; d++) {
            double xv = X[(size_t)n * d_count + d];
            for (int k = 0; k < k_count; k++)
                acc[k] += xv * W[(size_t)d * k_count + k];
        }
        for (int k = 0; k < k_count; k++)
            Y[(size_t)n * k_count + k] = (float)(act == FCNN_ACT_RELU && acc[k] < 0 ? 0 : acc[k]);
    }
    return FCNN_OK;
}

int ref_dense_bwd_data(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg dy = call->t[0], w = call->t[1], dx = call->t[2];
    const float *DY = REF_PTR(const float, dy), *W = REF_PTR(const float, w);
    float *DX = REF_PTR(float, dx);
    int n_count = dy->shape[0], k_count = dy->shape[1], d_count = w->shape[0];

#pragma omp parallel for collapse(2) schedule(static)
    for (int n = 0; n < n_count; n++) {
        for (int d = 0; d < d_count; d++) {
            double s = 0;
            for (int k = 0; k < k_count; k++)
                s += (double)DY[(size_t)n * k_count + k] * W[(size_t)d * k_count + k];
            DX[(size_t)n * d_count + d] = (float)s;
        }
    }
    return FCNN_OK;
}

int ref_dense_bwd_weights(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg x = call->t[0], dy = call->t[1], dw = call->t[2];
    const float *X = REF_PTR(const float, x), *DY = REF_PTR(const float, dy);
    float *DW = REF_PTR(float, dw);
    int n_count = x->shape[0], d_count = x->shape[1], k_count = dy->shape[1];

#pragma omp parallel for schedule(static)
    for (int d = 0; d < d_count; d++) {
        double acc[k_count];
        for (int k = 0; k < k_count; k++)
            acc[k] = 0;
        for (int n = 0; n < n_count; n++) {
            double xv = X[(size_t)n * d_count + d];
            for (int k = 0; k < k_count; k++)
                acc[k] += xv * DY[(size_t)n * k_count + k];
        }
        for (int k = 0; k < k_count; k++)
            DW[(size_t)d * k_count + k] = (float)acc[k];
    }
    return FCNN_OK;
}

int ref_relu_bwd(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg y = call->t[0], dy = call->t[1], dx = call->t[2];
    const float *Y = REF_PTR(const float, y), *DY = REF_PTR(const float, dy);
    float *DX = REF_PTR(float, dx); /* may be dy itself */
    size_t count = fcnn_tensor_count(y);

#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < count; i++)
        DX[i] = Y[i] > 0 ? DY[i] : 0.0f;
    return FCNN_OK;
}
