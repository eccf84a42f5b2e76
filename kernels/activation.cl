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
