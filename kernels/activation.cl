/* Activations, mirroring backends/ref: the bias-and-ReLU epilogue of the GEMM-based conv
 * and dense forwards, and ReLU's backward. One element per work-item.
 * ReLU is written as "v < 0 ? 0 : v" exactly as the reference, so NaN and -0 pass the
 * same way. */

#ifndef WG_SIZE
#define WG_SIZE 64
#endif

/* y[r, k] = act(y[r, k] + b[k]) in place: one row of channels per work-item, so no
 * work-item divides to find its channel. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void bias_activation(__global float *y, ulong y_offset, __global const float *b, ulong b_offset,
                     int channels, int relu, int rows)
{
    int r = get_global_id(0);
    if (r >= rows)
        return;
    __global float *row = y + y_offset + r * channels;
    b += b_offset;
    for (int k = 0; k < channels; k++) {
        float v = row[k] + b[k];
        row[k] = relu && v < 0.0f ? 0.0f : v;
    }
}

/* dx = dy where y > 0, else 0. dx may be dy itself: each element is read, then written,
 * by the same work-item. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void relu_bwd(__global const float *y, ulong y_offset, __global const float *dy, ulong dy_offset,
              __global float *dx, ulong dx_offset, int count)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    y += y_offset;
    dy += dy_offset;
    dx += dx_offset;
    dx[gid] = y[gid] > 0.0f ? dy[gid] : 0.0f;
}

/* relu_bwd over 16 elements per work-item, as float16 (the last work-item finishes the
 * tail one element at a time). dx may be dy itself, as above. count = elements. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void relu_bwd_vec16(__global const float *y, ulong y_offset, __global const float *dy,
                    ulong dy_offset, __global float *dx, ulong dx_offset, int count)
{
    int i = get_global_id(0) * 16;
    if (i >= count)
        return;
    y += y_offset;
    dy += dy_offset;
    dx += dx_offset;
    if (i + 16 <= count) {
        float16 v = vload16(0, y + i), g = vload16(0, dy + i);
        vstore16(select((float16)(0.0f), g, v > (float16)(0.0f)), 0, dx + i);
        return;
    }
    for (; i < count; i++)
        dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

/* The activations of activation_fwd and activation_bwd, numbered as enum fcnn_activation. */
#define ACT_RELU 1
#define ACT_SIGMOID 2
#define ACT_TANH 3

float4 activate4(float4 v, int act)
{
    if (act == ACT_RELU)
        return select(v, (float4)(0.0f), v < (float4)(0.0f));
    if (act == ACT_SIGMOID)
        return 1.0f / (1.0f + exp(-v));
    return tanh(v);
}

/* dy act'(x) from y = act(x): relu selects (a NaN in dy where y <= 0 stays out). */
float4 activate_bwd4(float4 y, float4 dy, int act)
{
    if (act == ACT_RELU)
        return select((float4)(0.0f), dy, y > (float4)(0.0f));
    if (act == ACT_SIGMOID)
        return dy * (y * (1.0f - y));
    return dy * (1.0f - y * y);
}

/* y = act(x), four elements per work-item (the last finishes the tail one at a time). y
 * may be x itself. count = elements. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void activation_fwd_vec4(__global const float *x, ulong x_offset, __global float *y,
                         ulong y_offset, int act, int count)
{
    int i = get_global_id(0) * 4;
    if (i >= count)
        return;
    x += x_offset;
    y += y_offset;
    if (i + 4 <= count) {
        vstore4(activate4(vload4(0, x + i), act), 0, y + i);
        return;
    }
    for (; i < count; i++)
        y[i] = activate4((float4)(x[i]), act).s0;
}

/* dx = dy act'(x) from y, as above; dx may be dy itself. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void activation_bwd_vec4(__global const float *y, ulong y_offset, __global const float *dy,
                         ulong dy_offset, __global float *dx, ulong dx_offset, int act, int count)
{
    int i = get_global_id(0) * 4;
    if (i >= count)
        return;
    y += y_offset;
    dy += dy_offset;
    dx += dx_offset;
    if (i + 4 <= count) {
        vstore4(activate_bwd4(vload4(0, y + i), vload4(0, dy + i), act), 0, dx + i);
        return;
    }
    for (; i < count; i++)
        dx[i] = activate_bwd4((float4)(y[i]), (float4)(dy[i]), act).s0;
}
