/* Reference optimizer updates over flat parameter tensors, as Keras defines them:
 *   SGD:       p -= lr g
 *   momentum:  v = mu v - lr g;  p += v
 *   Adam:      m += (g - m)(1 - b1);  v += (g^2 - v)(1 - b2);  p -= alpha m / (sqrt(v) + eps)
 *              with alpha = lr sqrt(1 - b2^t) / (1 - b1^t) given by the caller.
 *   RMSprop:   v = rho v + (1 - rho) g^2;  p -= lr g / sqrt(v + eps)
 *   AdamW:     p -= p decay (decay = lr weight_decay), then Adam's step
 * Each step is computed in double from the float state and rounded once when stored. */
#include <config.h>

#include <math.h>

#include "ref.h"

int ref_sgd_update(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg param = call->t[0], grad = call->t[1];
    const struct fcnn_sgd_params *p = &call->p.sgd;
    float *P = REF_PTR(float, param);
    const float *G = REF_PTR(const float, grad);
    size_t count = fcnn_tensor_count(param);
    for (size_t i = 0; i < count; i++)
        P[i] = (float)(P[i] - (double)p->lr * G[i]);
    return FCNN_OK;
}

int ref_momentum_update(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg param = call->t[0], grad = call->t[1], velocity = call->t[2];
    const struct fcnn_momentum_params *p = &call->p.momentum;
    float *P = REF_PTR(float, param), *V = REF_PTR(float, velocity);
    const float *G = REF_PTR(const float, grad);
    size_t count = fcnn_tensor_count(param);
    for (size_t i = 0; i < count; i++) {
        double v = (double)p->momentum * V[i] - (double)p->lr * G[i];
        V[i] = (float)v;
        P[i] = (float)(P[i] + v);
    }
    return FCNN_OK;
}

int ref_adam_update(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg param = call->t[0], grad = call->t[1], m = call->t[2], v = call->t[3];
    const struct fcnn_adam_params *p = &call->p.adam;
    float *P = REF_PTR(float, param), *M = REF_PTR(float, m), *V = REF_PTR(float, v);
    const float *G = REF_PTR(const float, grad);
    size_t count = fcnn_tensor_count(param);
    for (size_t i = 0; i < count; i++) {
        double g = G[i];
        double mi = M[i] + (g - M[i]) * (1.0 - p->beta1);
        double vi = V[i] + (g * g - V[i]) * (1.0 - p->beta2);
        M[i] = (float)mi;
        V[i] = (float)vi;
        P[i] = (float)(P[i] - (double)p->alpha * mi / (sqrt(vi) + p->epsilon));
    }
    return FCNN_OK;
}

int ref_rmsprop_update(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg param = call->t[0], grad = call->t[1], velocity = call->t[2];
    const struct fcnn_rmsprop_params *p = &call->p.rmsprop;
    float *P = REF_PTR(float, param), *V = REF_PTR(float, velocity);
    const float *G = REF_PTR(const float, grad);
    size_t count = fcnn_tensor_count(param);
    for (size_t i = 0; i < count; i++) {
        double g = G[i];
        double v = (double)p->rho * V[i] + (1.0 - (double)p->rho) * g * g;
        V[i] = (float)v;
        P[i] = (float)(P[i] - (double)p->lr * g / sqrt(v + (double)p->epsilon));
    }
    return FCNN_OK;
}

int ref_adamw_update(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg param = call->t[0], grad = call->t[1], m = call->t[2], v = call->t[3];
    const struct fcnn_adamw_params *p = &call->p.adamw;
    float *P = REF_PTR(float, param), *M = REF_PTR(float, m), *V = REF_PTR(float, v);
    const float *G = REF_PTR(const float, grad);
    size_t count = fcnn_tensor_count(param);
    for (size_t i = 0; i < count; i++) {
        double g = G[i];
        double decayed = P[i] - (double)P[i] * p->decay;
        double mi = M[i] + (g - M[i]) * (1.0 - p->beta1);
        double vi = V[i] + (g * g - V[i]) * (1.0 - p->beta2);
        M[i] = (float)mi;
        V[i] = (float)vi;
        P[i] = (float)(decayed - (double)p->alpha * mi / (sqrt(vi) + p->epsilon));
    }
    return FCNN_OK;
}
