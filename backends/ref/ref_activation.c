/* Reference activations and dropout, elementwise over tensors of any shape:
 *   activation_fwd   y = act(x)                  relu, sigmoid, tanh
 *   activation_bwd   dx = dy act'(x), written through y: relu' = [y > 0], sigmoid' = y (1 - y),
 *                    tanh' = 1 - y^2, so the layer keeps only its output
 *   dropout_fwd      y = x / (1 - rate) where fcnn_dropout_keep says so, else 0
 *   dropout_bwd      dx = dy / (1 - rate) on the same mask (recomputed from the seed) */
#include <config.h>

#include <math.h>

#include "ref.h"

static double activate(enum fcnn_activation act, double v)
{
    switch (act) {
    case FCNN_ACT_RELU: return v < 0 ? 0 : v;
    case FCNN_ACT_SIGMOID: return 1.0 / (1.0 + exp(-v));
    case FCNN_ACT_TANH: return tanh(v);
    default: return v;
    }
}

static double derivative_from_output(enum fcnn_activation act, double y)
{
    switch (act) {
    case FCNN_ACT_RELU: return y > 0 ? 1 : 0;
    case FCNN_ACT_SIGMOID: return y * (1 - y);
    case FCNN_ACT_TANH: return 1 - y * y;
    default: return 1;
    }
}

int ref_activation_fwd(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg x = call->t[0], y = call->t[1];
    const float *X = REF_PTR(const float, x);
    float *Y = REF_PTR(float, y);
    long count = (long)fcnn_tensor_count(x);
#pragma omp parallel for schedule(static)
    for (long i = 0; i < count; i++)
        Y[i] = (float)activate(call->p.act, X[i]);
    return FCNN_OK;
}

int ref_activation_bwd(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg y = call->t[0], dy = call->t[1], dx = call->t[2];
    const float *Y = REF_PTR(const float, y), *DY = REF_PTR(const float, dy);
    float *DX = REF_PTR(float, dx);
    long count = (long)fcnn_tensor_count(y);
#pragma omp parallel for schedule(static)
    for (long i = 0; i < count; i++) {
        /* ReLU selects rather than multiplies, so a NaN in dy where y <= 0 stays out. */
        if (call->p.act == FCNN_ACT_RELU)
            DX[i] = Y[i] > 0.0f ? DY[i] : 0.0f;
        else
            DX[i] = (float)(DY[i] * derivative_from_output(call->p.act, Y[i]));
    }
    return FCNN_OK;
}

/* y = x * scale where the mask keeps, else 0: one float product, as every backend does. */
static int dropout(const struct fcnn_op_call *call)
{
    fcnn_tensor_arg in = call->t[0], out = call->t[1];
    const float *IN = REF_PTR(const float, in);
    float *OUT = REF_PTR(float, out);
    uint32_t seed = call->p.dropout.seed;
    uint32_t threshold = fcnn_dropout_threshold(call->p.dropout.rate);
    float scale = fcnn_dropout_scale(call->p.dropout.rate);
    long count = (long)fcnn_tensor_count(in);
#pragma omp parallel for schedule(static)
    for (long i = 0; i < count; i++)
        OUT[i] = fcnn_dropout_keep(seed, (uint32_t)i, threshold) ? IN[i] * scale : 0.0f;
    return FCNN_OK;
}

int ref_dropout_fwd(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    return dropout(call);
}

int ref_dropout_bwd(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    return dropout(call);
}
