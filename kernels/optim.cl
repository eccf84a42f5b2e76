/* Optimizer updates over flat parameter tensors, one element per work-item, mirroring
 * backends/ref/ref_optim.c (which keeps each step in double and rounds once; these work
 * in float, within a few ulp of it):
 *   SGD:       p -= lr g
 *   momentum:  v = mu v - lr g;  p += v
 *   Adam:      m += (g - m)(1 - b1);  v += (g^2 - v)(1 - b2);  p -= alpha m / (sqrt(v) + eps)
 * with alpha = lr sqrt(1 - b2^t) / (1 - b1^t) and 1 - b1, 1 - b2 given by the host;
 *   RMSprop:   v = rho v + (1 - rho) g^2;  p -= lr g / sqrt(v + eps)
 *   AdamW:     p -= p decay (decay = lr weight_decay), then Adam's step. */

#ifndef WG_SIZE
#define WG_SIZE 64
#endif

__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void sgd_update(__global float *p, ulong p_offset, __global const float *g, ulong g_offset,
                float lr, int count)
{
    int i = get_global_id(0);
    if (i >= count)
        return;
    p += p_offset;
    g += g_offset;
    p[i] = p[i] - lr * g[i];
}

__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void momentum_update(__global float *p, ulong p_offset, __global const float *g, ulong g_offset,
                     __global float *v, ulong v_offset, float lr, float momentum, int count)
{
    int i = get_global_id(0);
    if (i >= count)
        return;
    p += p_offset;
    g += g_offset;
    v += v_offset;
    float velocity = momentum * v[i] - lr * g[i];
    v[i] = velocity;
    p[i] = p[i] + velocity;
}

__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void adam_update(__global float *p, ulong p_offset, __global const float *g, ulong g_offset,
                 __global float *m, ulong m_offset, __global float *v, ulong v_offset,
                 float alpha, float one_minus_beta1, float one_minus_beta2, float epsilon,
                 int count)
{
    int i = get_global_id(0);
    if (i >= count)
        return;
    p += p_offset;
    g += g_offset;
    m += m_offset;
    v += v_offset;
    float grad = g[i];
    float mi = m[i] + (grad - m[i]) * one_minus_beta1;
    float vi = v[i] + (grad * grad - v[i]) * one_minus_beta2;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] - alpha * mi / (sqrt(vi) + epsilon);
}

__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void rmsprop_update(__global float *p, ulong p_offset, __global const float *g, ulong g_offset,
                    __global float *v, ulong v_offset, float lr, float rho, float one_minus_rho,
                    float epsilon, int count)
{
    int i = get_global_id(0);
    if (i >= count)
        return;
    p += p_offset;
    g += g_offset;
    v += v_offset;
    float grad = g[i];
    float vi = rho * v[i] + one_minus_rho * grad * grad;
    v[i] = vi;
    p[i] = p[i] - lr * grad / sqrt(vi + epsilon);
}

__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void adamw_update(__global float *p, ulong p_offset, __global const float *g, ulong g_offset,
                  __global float *m, ulong m_offset, __global float *v, ulong v_offset,
                  float alpha, float one_minus_beta1, float one_minus_beta2, float epsilon,
                  float decay, int count)
{
    int i = get_global_id(0);
    if (i >= count)
        return;
    p += p_offset;
    g += g_offset;
    m += m_offset;
    v += v_offset;
    float grad = g[i];
    float mi = m[i] + (grad - m[i]) * one_minus_beta1;
    float vi = v[i] + (grad * grad - v[i]) * one_minus_beta2;
    m[i] = mi;
    v[i] = vi;
    float param = p[i];
    p[i] = (param - param * decay) - alpha * mi / (sqrt(vi) + epsilon);
}
