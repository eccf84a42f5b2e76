/* BatchNormalization over the last axis, mirroring backends/ref/ref_batchnorm.c: x is
 * [rows, channels]. Reductions go in two passes without atomics, so results do not depend
 * on scheduling: each work-item of the first sums one channel over one slice of rows
 * (partial[p, c]); the second adds each channel's slices in order. The sums of the forward
 * are taken around a shift (the channel's value in row 0), which keeps the one-pass
 * variance sum((x - shift)^2)/rows - (sum(x - shift)/rows)^2 from cancelling when the mean
 * is large next to the spread. The elementwise passes take four channels per work-item
 * (float4) when the channel count allows, one element otherwise.
 *
 * A ReLU after the normalisation runs inside it (relu = 1): the forward's elementwise pass
 * writes max(y, 0), and the backward reads dy through the ReLU's mask y > 0 (y its
 * output, as relu_bwd reads it) in both of its passes, so neither ReLU pass is needed. */

#ifndef WG_SIZE
#define WG_SIZE 64
#endif

/* partial[p, c] = sum of x - shift, partial[parts + p, c] = sum of (x - shift)^2 over the
 * rows [p * rows_per_part, (p + 1) * rows_per_part). count = parts * channels. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void batchnorm_partial(__global const float *x, ulong x_offset, __global float *partial,
                       int channels, int rows, int rows_per_part, int parts, int count)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    x += x_offset;
    int c = gid % channels, p = gid / channels;
    int first = p * rows_per_part, end = min(rows, first + rows_per_part);
    float shift = x[c], sum = 0.0f, squares = 0.0f;
    for (int r = first; r < end; r++) {
        float d = x[r * channels + c] - shift;
        sum += d;
        squares += d * d;
    }
    partial[gid] = sum;
    partial[parts * channels + gid] = squares;
}

/* Per channel: the batch mean and inv_std = 1 / sqrt(var + epsilon) from the slices, and
 * Keras's moving averages. count = channels. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void batchnorm_finish_train(__global const float *partial, __global const float *x,
                            ulong x_offset, __global float *moving_mean, ulong mm_offset,
                            __global float *moving_var, ulong mv_offset, __global float *mean,
                            ulong mean_offset, __global float *inv_std, ulong inv_offset,
                            int channels, int rows, int parts, float momentum, float epsilon)
{
    int c = get_global_id(0);
    if (c >= channels)
        return;
    float sum = 0.0f, squares = 0.0f;
    for (int p = 0; p < parts; p++) {
        sum += partial[p * channels + c];
        squares += partial[(parts + p) * channels + c];
    }
    float d = sum / rows, m = x[x_offset + c] + d;
    float var = fmax(squares / rows - d * d, 0.0f);
    mean[mean_offset + c] = m;
    inv_std[inv_offset + c] = 1.0f / sqrt(var + epsilon);
    moving_mean[mm_offset + c] = moving_mean[mm_offset + c] * momentum + m * (1.0f - momentum);
    moving_var[mv_offset + c] = moving_var[mv_offset + c] * momentum + var * (1.0f - momentum);
}

/* Evaluation: stats[c] = moving mean, stats[channels + c] = 1 / sqrt(moving var + eps). */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void batchnorm_finish_infer(__global const float *moving_mean, ulong mm_offset,
                            __global const float *moving_var, ulong mv_offset,
                            __global float *stats, int channels, float epsilon)
{
    int c = get_global_id(0);
    if (c >= channels)
        return;
    stats[c] = moving_mean[mm_offset + c];
    stats[channels + c] = 1.0f / sqrt(moving_var[mv_offset + c] + epsilon);
}

/* y = (x - mean) inv_std gamma + beta; one element per work-item. count = elements. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void batchnorm_apply(__global const float *x, ulong x_offset, __global float *y,
                     ulong y_offset, __global const float *gamma, ulong gamma_offset,
                     __global const float *beta, ulong beta_offset, __global const float *mean,
                     ulong mean_offset, __global const float *inv_std, ulong inv_offset,
                     int channels, int count, int relu)
{
    int i = get_global_id(0);
    if (i >= count)
        return;
    int c = i % channels;
    float v = (x[x_offset + i] - mean[mean_offset + c]) * inv_std[inv_offset + c] *
              gamma[gamma_offset + c] + beta[beta_offset + c];
    y[y_offset + i] = relu ? fmax(v, 0.0f) : v;
}

/* The same, four channels of one row per work-item; channels % 4 == 0, count = elements. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void batchnorm_apply_vec4(__global const float *x, ulong x_offset, __global float *y,
                          ulong y_offset, __global const float *gamma, ulong gamma_offset,
                          __global const float *beta, ulong beta_offset,
                          __global const float *mean, ulong mean_offset,
                          __global const float *inv_std, ulong inv_offset, int channels,
                          int count, int relu)
{
    int i = get_global_id(0) * 4;
    if (i >= count)
        return;
    int c = i % channels;
    float4 v = (vload4(0, x + x_offset + i) - vload4(0, mean + mean_offset + c)) *
               vload4(0, inv_std + inv_offset + c) * vload4(0, gamma + gamma_offset + c) +
               vload4(0, beta + beta_offset + c);
    vstore4(relu ? fmax(v, (float4)(0.0f)) : v, 0, y + y_offset + i);
}

/* partial[p, c] = sum of dy, partial[parts + p, c] = sum of dy xhat over a slice of rows;
 * count = parts * channels. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void batchnorm_bwd_partial(__global const float *x, ulong x_offset, __global const float *dy,
                           ulong dy_offset, __global const float *mean, ulong mean_offset,
                           __global const float *inv_std, ulong inv_offset,
                           __global float *partial, int channels, int rows, int rows_per_part,
                           int parts, int count, __global const float *y, ulong y_offset,
                           int relu)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    x += x_offset;
    dy += dy_offset;
    y += y_offset;
    int c = gid % channels, p = gid / channels;
    int first = p * rows_per_part, end = min(rows, first + rows_per_part);
    float m = mean[mean_offset + c], s = inv_std[inv_offset + c], sum = 0.0f, dot = 0.0f;
    for (int r = first; r < end; r++) {
        float g = relu && !(y[r * channels + c] > 0.0f) ? 0.0f : dy[r * channels + c];
        sum += g;
        dot += g * ((x[r * channels + c] - m) * s);
    }
    partial[gid] = sum;
    partial[parts * channels + gid] = dot;
}

/* dbeta[c] and dgamma[c] from the slices; count = channels. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void batchnorm_bwd_finish(__global const float *partial, __global float *dgamma,
                          ulong dgamma_offset, __global float *dbeta, ulong dbeta_offset,
                          int channels, int parts)
{
    int c = get_global_id(0);
    if (c >= channels)
        return;
    float sum = 0.0f, dot = 0.0f;
    for (int p = 0; p < parts; p++) {
        sum += partial[p * channels + c];
        dot += partial[(parts + p) * channels + c];
    }
    dbeta[dbeta_offset + c] = sum;
    dgamma[dgamma_offset + c] = dot;
}

/* dx = gamma inv_std / rows (rows dy - dbeta - xhat dgamma); one element per work-item. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void batchnorm_bwd_data(__global const float *x, ulong x_offset, __global const float *dy,
                        ulong dy_offset, __global const float *gamma, ulong gamma_offset,
                        __global const float *mean, ulong mean_offset,
                        __global const float *inv_std, ulong inv_offset,
                        __global const float *dgamma, ulong dgamma_offset,
                        __global const float *dbeta, ulong dbeta_offset, __global float *dx,
                        ulong dx_offset, int channels, int rows, int count,
                        __global const float *y, ulong y_offset, int relu)
{
    int i = get_global_id(0);
    if (i >= count)
        return;
    int c = i % channels;
    float s = inv_std[inv_offset + c];
    float xhat = (x[x_offset + i] - mean[mean_offset + c]) * s;
    float g = relu && !(y[y_offset + i] > 0.0f) ? 0.0f : dy[dy_offset + i];
    dx[dx_offset + i] = gamma[gamma_offset + c] * s / rows *
                        (rows * g - dbeta[dbeta_offset + c] - xhat * dgamma[dgamma_offset + c]);
}

/* The same, four channels of one row per work-item; channels % 4 == 0. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void batchnorm_bwd_data_vec4(__global const float *x, ulong x_offset, __global const float *dy,
                             ulong dy_offset, __global const float *gamma, ulong gamma_offset,
                             __global const float *mean, ulong mean_offset,
                             __global const float *inv_std, ulong inv_offset,
                             __global const float *dgamma, ulong dgamma_offset,
                             __global const float *dbeta, ulong dbeta_offset,
                             __global float *dx, ulong dx_offset, int channels, int rows,
                             int count, __global const float *y, ulong y_offset, int relu)
{
    int i = get_global_id(0) * 4;
    if (i >= count)
        return;
    int c = i % channels;
    float4 s = vload4(0, inv_std + inv_offset + c);
    float4 xhat = (vload4(0, x + x_offset + i) - vload4(0, mean + mean_offset + c)) * s;
    float4 g = vload4(0, dy + dy_offset + i);
    if (relu)
        g = select((float4)(0.0f), g, isgreater(vload4(0, y + y_offset + i), (float4)(0.0f)));
    float4 v = vload4(0, gamma + gamma_offset + c) * s / (float)rows *
               ((float)rows * g - vload4(0, dbeta + dbeta_offset + c) -
                xhat * vload4(0, dgamma + dgamma_offset + c));
    vstore4(v, 0, dx + dx_offset + i);
}

/* --- sixteen channels per work-item (channels % 16 == 0) -------------------------------
 * The kernels above walk one channel per work-item down a column of x, a chain of scalar
 * additions each waiting for the last, with a stride of one row between loads. With the
 * channels in blocks of sixteen a work-item reads whole 64-byte runs of a row and keeps
 * float16 sums: the same sums, lane by lane, in the same order, sixteen at a time. The
 * partial sums are laid out as above, so the same finish kernels complete them. The sums
 * run in groups of PARTS_WG work-items (each already a long loop), the elementwise passes
 * in groups of WG_SIZE. */

#ifndef PARTS_WG
#define PARTS_WG 4
#endif

/* As batchnorm_partial for channels [16 cb, 16 cb + 16); count = parts * channels / 16. */
__kernel __attribute__((reqd_work_group_size(PARTS_WG, 1, 1)))
void batchnorm_partial16(__global const float *x, ulong x_offset, __global float *partial,
                         int channels, int rows, int rows_per_part, int parts, int count)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    x += x_offset;
    int cblocks = channels / 16, c = (gid % cblocks) * 16, p = gid / cblocks;
    int first = p * rows_per_part, end = min(rows, first + rows_per_part);
    float16 shift = vload16(0, x + c), sum = (float16)(0.0f), squares = (float16)(0.0f);
    for (int r = first; r < end; r++) {
        float16 d = vload16(0, x + (size_t)r * channels + c) - shift;
        sum += d;
        squares += d * d;
    }
    vstore16(sum, 0, partial + (size_t)p * channels + c);
    vstore16(squares, 0, partial + (size_t)(parts + p) * channels + c);
}

/* As batchnorm_apply, sixteen channels of one row per work-item; count = elements. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void batchnorm_apply16(__global const float *x, ulong x_offset, __global float *y,
                       ulong y_offset, __global const float *gamma, ulong gamma_offset,
                       __global const float *beta, ulong beta_offset, __global const float *mean,
                       ulong mean_offset, __global const float *inv_std, ulong inv_offset,
                       int channels, int count, int relu)
{
    int i = get_global_id(0) * 16;
    if (i >= count)
        return;
    int c = i % channels;
    float16 v = (vload16(0, x + x_offset + i) - vload16(0, mean + mean_offset + c)) *
                vload16(0, inv_std + inv_offset + c) * vload16(0, gamma + gamma_offset + c) +
                vload16(0, beta + beta_offset + c);
    vstore16(relu ? fmax(v, (float16)(0.0f)) : v, 0, y + y_offset + i);
}

/* As batchnorm_bwd_partial for channels [16 cb, 16 cb + 16); count = parts * channels / 16. */
__kernel __attribute__((reqd_work_group_size(PARTS_WG, 1, 1)))
void batchnorm_bwd_partial16(__global const float *x, ulong x_offset, __global const float *dy,
                             ulong dy_offset, __global const float *mean, ulong mean_offset,
                             __global const float *inv_std, ulong inv_offset,
                             __global float *partial, int channels, int rows, int rows_per_part,
                             int parts, int count, __global const float *y, ulong y_offset,
                             int relu)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    x += x_offset;
    dy += dy_offset;
    y += y_offset;
    int cblocks = channels / 16, c = (gid % cblocks) * 16, p = gid / cblocks;
    int first = p * rows_per_part, end = min(rows, first + rows_per_part);
    float16 m = vload16(0, mean + mean_offset + c), s = vload16(0, inv_std + inv_offset + c);
    float16 sum = (float16)(0.0f), dot = (float16)(0.0f);
    for (int r = first; r < end; r++) {
        size_t at = (size_t)r * channels + c;
        float16 g = vload16(0, dy + at);
        if (relu)
            g = select((float16)(0.0f), g, isgreater(vload16(0, y + at), (float16)(0.0f)));
        sum += g;
        dot += g * ((vload16(0, x + at) - m) * s);
    }
    vstore16(sum, 0, partial + (size_t)p * channels + c);
    vstore16(dot, 0, partial + (size_t)(parts + p) * channels + c);
}

/* As batchnorm_bwd_data, sixteen channels of one row per work-item; count = elements. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void batchnorm_bwd_data16(__global const float *x, ulong x_offset, __global const float *dy,
                          ulong dy_offset, __global const float *gamma, ulong gamma_offset,
                          __global const float *mean, ulong mean_offset,
                          __global const float *inv_std, ulong inv_offset,
                          __global const float *dgamma, ulong dgamma_offset,
                          __global const float *dbeta, ulong dbeta_offset, __global float *dx,
                          ulong dx_offset, int channels, int rows, int count,
                          __global const float *y, ulong y_offset, int relu)
{
    int i = get_global_id(0) * 16;
    if (i >= count)
        return;
    int c = i % channels;
    float16 s = vload16(0, inv_std + inv_offset + c);
    float16 xhat = (vload16(0, x + x_offset + i) - vload16(0, mean + mean_offset + c)) * s;
    float16 g = vload16(0, dy + dy_offset + i);
    if (relu)
        g = select((float16)(0.0f), g, isgreater(vload16(0, y + y_offset + i), (float16)(0.0f)));
    float16 v = vload16(0, gamma + gamma_offset + c) * s / (float)rows *
                ((float)rows * g -
                 vload16(0, dbeta + dbeta_offset + c) -
                 xhat * vload16(0, dgamma + dgamma_offset + c));
    vstore16(v, 0, dx + dx_offset + i);
}
