/* BatchNormalization over the last axis, mirroring backends/ref/ref_batchnorm.c: x is
 * [rows, channels]. Reductions go in two passes without atomics, so results do not depend
 * on scheduling: each work-item of the first sums one channel over one slice of rows
 * (partial[p, c]); the second adds each channel's slices in order. The sums of the forward
 * are taken around a shift (the channel's value in row 0), which keeps the one-pass
 * variance sum((x - shift)^2)/rows - (sum(x - shift)/rows)^2 from cancelling when the mean
 * is large next to the spread. The elementwise passes take four channels per work-item
 * (float4) when the channel count allows, one element otherwise. The kernels at the end
 * (*16) do the same sixteen channels at a time, a slice of rows per work-item.
 *
 * The training forward's y is fma(x - mean, inv_std * gamma, beta) from the rounded mean
 * and inv_std it stores, in every form (backends/ref/ref_batchnorm.c computes the same).
 * A ReLU after the normalisation runs inside it (relu = 1): the forward's elementwise pass
 * writes max(y, 0), and the backward reads dy through the ReLU's mask y > 0 in both of its
 * passes, recomputing y from x with that formula (bit for bit the forward's: the same
 * float operations on the same floats) instead of reading the forward's output, one
 * tensor fewer in each pass; no ReLU pass is needed either way. */

#ifndef WG_SIZE
#define WG_SIZE 64
#endif

#include "dropout_mask.cl"

/* Where a fused ReLU passes dy: where the forward's output, recomputed, is above 0 (for a
 * scalar, or lane by lane for a vector, as select() takes it). */
#define RELU_OPEN(v) ((v) > 0.0f)

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
    float v = fma(x[x_offset + i] - mean[mean_offset + c],
                  inv_std[inv_offset + c] * gamma[gamma_offset + c], beta[beta_offset + c]);
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
    float4 v = fma(vload4(0, x + x_offset + i) - vload4(0, mean + mean_offset + c),
                   vload4(0, inv_std + inv_offset + c) * vload4(0, gamma + gamma_offset + c),
                   vload4(0, beta + beta_offset + c));
    vstore4(relu ? fmax(v, (float4)(0.0f)) : v, 0, y + y_offset + i);
}

/* partial[p, c] = sum of dy, partial[parts + p, c] = sum of dy xhat over a slice of rows;
 * count = parts * channels. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void batchnorm_bwd_partial(__global const float *x, ulong x_offset, __global const float *dy,
                           ulong dy_offset, __global const float *mean, ulong mean_offset,
                           __global const float *inv_std, ulong inv_offset,
                           __global float *partial, int channels, int rows, int rows_per_part,
                           int parts, int count, __global const float *gamma,
                           ulong gamma_offset, __global const float *beta, ulong beta_offset,
                           int relu)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    x += x_offset;
    dy += dy_offset;
    int c = gid % channels, p = gid / channels;
    int first = p * rows_per_part, end = min(rows, first + rows_per_part);
    float m = mean[mean_offset + c], s = inv_std[inv_offset + c], sum = 0.0f, dot = 0.0f;
    float scale = s * gamma[gamma_offset + c], b = beta[beta_offset + c];
    for (int r = first; r < end; r++) {
        float xv = x[r * channels + c];
        float g = relu && !RELU_OPEN(fma(xv - m, scale, b)) ? 0.0f : dy[r * channels + c];
        sum += g;
        dot += g * ((xv - m) * s);
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
                        __global const float *beta, ulong beta_offset, int relu)
{
    int i = get_global_id(0);
    if (i >= count)
        return;
    int c = i % channels;
    float s = inv_std[inv_offset + c], d = x[x_offset + i] - mean[mean_offset + c];
    float xhat = d * s;
    float g = relu && !RELU_OPEN(fma(d, s * gamma[gamma_offset + c], beta[beta_offset + c]))
                  ? 0.0f
                  : dy[dy_offset + i];
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
                             int count, __global const float *beta, ulong beta_offset, int relu)
{
    int i = get_global_id(0) * 4;
    if (i >= count)
        return;
    int c = i % channels;
    float4 s = vload4(0, inv_std + inv_offset + c);
    float4 d = vload4(0, x + x_offset + i) - vload4(0, mean + mean_offset + c);
    float4 xhat = d * s;
    float4 g = vload4(0, dy + dy_offset + i);
    if (relu)
        g = select((float4)(0.0f), g,
                   RELU_OPEN(fma(d, s * vload4(0, gamma + gamma_offset + c),
                                 vload4(0, beta + beta_offset + c))));
    float4 v = vload4(0, gamma + gamma_offset + c) * s / (float)rows *
               ((float)rows * g - vload4(0, dbeta + dbeta_offset + c) -
                xhat * vload4(0, dgamma + dgamma_offset + c));
    vstore4(v, 0, dx + dx_offset + i);
}

/* --- sixteen channels at a time, a slice of rows per work-item (channels % 16 == 0) -----
 * The kernels above take one channel (or one float4) per work-item and leave the work to
 * PoCL's work-group loop. Here a work-item is a loop of its own over a slice of whole rows,
 * [first, end), a float16 of channels per step, so that it reads and writes one contiguous
 * run of memory: a few dozen work-items (the registry makes each a work-group of its own,
 * WG_SIZE 1) keep every core busy, each with one long stream that the hardware prefetches,
 * whether the tensor is still in cache or not. The sums go channel block by block over the
 * slice (the second block's lines are already in cache); the elementwise passes go row by
 * row through all the channels, taking each channel's coefficients from a small array
 * that the finish kernel (one work-item per block) writes:
 *   forward   batchnorm_sums16, batchnorm_finish_train16 (mean, inv_std, the moving
 *             statistics, scale = inv_std gamma), batchnorm_normalize16
 *   inference batchnorm_finish_infer16 (scale from the moving variance), then the same
 *   backward  batchnorm_bwd_sums16, batchnorm_bwd_finish16 (dgamma, dbeta and dx's
 *             coefficients), batchnorm_bwd_data16
 * The sums take two rows per step into two sets of sums: two chains of additions in
 * flight instead of one.
 *
 * A small tensor has a form of its own, one launch instead of three: a work-item per
 * float16 of channels walks every row twice, sums then the elementwise pass, its column
 * still in its core's cache for the second walk (batchnorm_columns16,
 * batchnorm_bwd_columns16). */

#ifdef __clang__
/* clang lets a typedef lower a vector's alignment, so a float16 at any float's address is
 * one unaligned 64-byte load or store; PoCL's vload16 and vstore16 often become eight
 * 8-byte pieces instead, which made these loops several times slower. */
typedef float float16_unaligned __attribute__((ext_vector_type(16), aligned(4)));
#define LOAD16(p) (*(__global const float16_unaligned *)(p))
#define STORE16(v, p) (*(__global float16_unaligned *)(p) = (v))
#else
#define LOAD16(p) vload16(0, (p))
#define STORE16(v, p) vstore16((v), 0, (p))
#endif

/* dy at `at` through a fused ReLU's mask, the forward's output recomputed from x's d =
 * x - mean (see the top), or dy itself. */
static float16 masked_dy16(__global const float *dy, size_t at, float16 d, float16 scale,
                           float16 beta, int relu)
{
    float16 g = LOAD16(dy + at);
    return relu ? select((float16)(0.0f), g, RELU_OPEN(fma(d, scale, beta))) : g;
}

/* The forward's shifted sums over rows [first, end) of one float16 column, row `first` at
 * `at` and the rows `stride` floats apart, two rows per step. */
static void shifted_sums16(__global const float *at, size_t stride, int first, int end,
                           float16 shift, float16 *sums, float16 *squares_out)
{
    float16 sum = 0.0f, squares = 0.0f, sum1 = 0.0f, squares1 = 0.0f;
    int r = first;
    for (; r + 2 <= end; r += 2, at += 2 * stride) {
        float16 d = LOAD16(at) - shift, d1 = LOAD16(at + stride) - shift;
        sum += d;
        squares = fma(d, d, squares);
        sum1 += d1;
        squares1 = fma(d1, d1, squares1);
    }
    if (r < end) {
        float16 d = LOAD16(at) - shift;
        sum += d;
        squares = fma(d, d, squares);
    }
    *sums = sum + sum1;
    *squares_out = squares + squares1;
}

/* The backward's sums of dy and dy xhat over rows [first, end) of one float16 column, row
 * `first` at element `at` and the rows `stride` floats apart, two rows per step. */
static void bwd_column_sums16(__global const float *x, __global const float *dy,
                              float16 scale, float16 beta, int relu, size_t at, size_t stride,
                              int first, int end, float16 m, float16 inv, float16 *sums,
                              float16 *dots)
{
    float16 sum = 0.0f, dot = 0.0f, sum1 = 0.0f, dot1 = 0.0f;
    int r = first;
    for (; r + 2 <= end; r += 2, at += 2 * stride) {
        float16 d = LOAD16(x + at) - m, d1 = LOAD16(x + at + stride) - m;
        float16 g = masked_dy16(dy, at, d, scale, beta, relu);
        float16 g1 = masked_dy16(dy, at + stride, d1, scale, beta, relu);
        sum += g;
        dot = fma(g, d * inv, dot);
        sum1 += g1;
        dot1 = fma(g1, d1 * inv, dot1);
    }
    if (r < end) {
        float16 d = LOAD16(x + at) - m;
        float16 g = masked_dy16(dy, at, d, scale, beta, relu);
        sum += g;
        dot = fma(g, d * inv, dot);
    }
    *sums = sum + sum1;
    *dots = dot + dot1;
}

/* The forward's statistics of channels [c, c + 16) from the shifted sums: returns inv_std,
 * the batch mean in *m; stores mean, inv_std and the moving averages. */
static float16 batch_stats16(float16 shift, float16 sum, float16 squares, int rows,
                             float momentum, float epsilon, float16 *m,
                             __global float *mean, __global float *inv_std,
                             __global float *mm, __global float *mv)
{
    float16 d = sum / (float)rows;
    *m = shift + d;
    float16 var = fmax(squares / (float)rows - d * d, 0.0f);
    float16 inv = 1.0f / sqrt(var + epsilon);
    STORE16(*m, mean);
    STORE16(inv, inv_std);
    STORE16(LOAD16(mm) * momentum + *m * (1.0f - momentum), mm);
    STORE16(LOAD16(mv) * momentum + var * (1.0f - momentum), mv);
    return inv;
}

/* dgamma and dbeta of channels [c, c + 16) from the backward's sums, stored, and the
 * coefficients of
 *   dx = gamma inv_std / rows (rows dy - dbeta - xhat dgamma)
 *      = a dy + b (x - mean) + e,  a = gamma inv_std, b = -a inv_std dgamma / rows,
 *                                  e = -a dbeta / rows */
static void bwd_coefficients16(float16 sum, float16 dot, float16 gamma, float16 inv, int rows,
                               float16 *a, float16 *b, float16 *e,
                               __global float *dgamma, __global float *dbeta)
{
    STORE16(sum, dbeta);
    STORE16(dot, dgamma);
    *a = gamma * inv;
    float16 k = *a / (float)rows;
    *b = -k * inv * dot;
    *e = -k * sum;
}

/* partial[p, c] = sum of x - shift, partial[parts + p, c] = sum of (x - shift)^2 over
 * slice p (work-item p), shift = the channel's value in row 0. count = parts. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void batchnorm_sums16(__global const float *x, ulong x_offset, __global float *partial,
                      int channels, int rows, int rows_per_part, int parts, int count)
{
    int p = get_global_id(0);
    if (p >= count)
        return;
    x += x_offset;
    int first = p * rows_per_part, end = min(rows, first + rows_per_part);
    for (int c = 0; c < channels; c += 16) {
        float16 sum, squares;
        shifted_sums16(x + (size_t)first * channels + c, (size_t)channels, first, end,
                       LOAD16(x + c), &sum, &squares);
        STORE16(sum, partial + (size_t)p * channels + c);
        STORE16(squares, partial + (size_t)(parts + p) * channels + c);
    }
}

/* Channels [16 gid, 16 gid + 16): the batch mean and inv_std = 1 / sqrt(var + epsilon)
 * from the slices, Keras's moving averages, and scale = inv_std gamma for the normalising
 * pass. count = channels / 16. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void batchnorm_finish_train16(__global const float *partial, __global const float *x,
                              ulong x_offset, __global float *moving_mean, ulong mm_offset,
                              __global float *moving_var, ulong mv_offset,
                              __global float *mean, ulong mean_offset, __global float *inv_std,
                              ulong inv_offset, __global const float *gamma,
                              ulong gamma_offset, __global float *scale, ulong scale_offset,
                              int channels, int rows, int parts, int count, float momentum,
                              float epsilon)
{
    if ((int)get_global_id(0) >= count)
        return;
    int c = get_global_id(0) * 16;
    float16 sum = 0.0f, squares = 0.0f, m;
    for (int p = 0; p < parts; p++) {
        sum += LOAD16(partial + (size_t)p * channels + c);
        squares += LOAD16(partial + (size_t)(parts + p) * channels + c);
    }
    float16 inv = batch_stats16(LOAD16(x + x_offset + c), sum, squares, rows, momentum,
                                epsilon, &m, mean + mean_offset + c, inv_std + inv_offset + c,
                                moving_mean + mm_offset + c, moving_var + mv_offset + c);
    STORE16(inv * LOAD16(gamma + gamma_offset + c), scale + scale_offset + c);
}

/* Evaluation: scale = gamma / sqrt(moving var + epsilon). count = channels / 16. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void batchnorm_finish_infer16(__global const float *moving_var, ulong mv_offset,
                              __global const float *gamma, ulong gamma_offset,
                              __global float *scale, ulong scale_offset, int count,
                              float epsilon)
{
    if ((int)get_global_id(0) >= count)
        return;
    int c = get_global_id(0) * 16;
    float16 inv = 1.0f / sqrt(LOAD16(moving_var + mv_offset + c) + epsilon);
    STORE16(inv * LOAD16(gamma + gamma_offset + c), scale + scale_offset + c);
}

/* y = (x - mean) scale + beta over slice gid, max(y, 0) with a fused ReLU. count = parts. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void batchnorm_normalize16(__global const float *x, ulong x_offset, __global float *y,
                           ulong y_offset, __global const float *mean, ulong mean_offset,
                           __global const float *scale, ulong scale_offset,
                           __global const float *beta, ulong beta_offset, int channels,
                           int rows, int rows_per_part, int count, int relu)
{
    int p = get_global_id(0);
    if (p >= count)
        return;
    x += x_offset;
    y += y_offset;
    mean += mean_offset;
    scale += scale_offset;
    beta += beta_offset;
    size_t at = (size_t)p * rows_per_part * channels;
    size_t end = (size_t)min(rows, (p + 1) * rows_per_part) * channels;
    for (; at < end; at += channels)
        for (int c = 0; c < channels; c += 16) {
            float16 v = fma(LOAD16(x + at + c) - LOAD16(mean + c), LOAD16(scale + c),
                            LOAD16(beta + c));
            STORE16(relu ? fmax(v, 0.0f) : v, y + at + c);
        }
}

/* partial[p, c] = sum of dy, partial[parts + p, c] = sum of dy xhat over slice p
 * (work-item p). count = parts. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void batchnorm_bwd_sums16(__global const float *x, ulong x_offset, __global const float *dy,
                          ulong dy_offset, __global const float *mean, ulong mean_offset,
                          __global const float *inv_std, ulong inv_offset,
                          __global float *partial, int channels, int rows, int rows_per_part,
                          int parts, int count, __global const float *gamma,
                          ulong gamma_offset, __global const float *beta, ulong beta_offset,
                          int relu)
{
    int p = get_global_id(0);
    if (p >= count)
        return;
    x += x_offset;
    dy += dy_offset;
    int first = p * rows_per_part, end = min(rows, first + rows_per_part);
    for (int c = 0; c < channels; c += 16) {
        float16 sum, dot, inv = LOAD16(inv_std + inv_offset + c);
        bwd_column_sums16(x, dy, inv * LOAD16(gamma + gamma_offset + c),
                          LOAD16(beta + beta_offset + c), relu, (size_t)first * channels + c,
                          (size_t)channels, first, end, LOAD16(mean + mean_offset + c), inv,
                          &sum, &dot);
        STORE16(sum, partial + (size_t)p * channels + c);
        STORE16(dot, partial + (size_t)(parts + p) * channels + c);
    }
}

/* Channels [16 gid, 16 gid + 16): dbeta and dgamma from the slices, and dx's
 * coefficients (bwd_coefficients16) in coef[0, C), coef[C, 2C) and coef[2C, 3C), the
 * forward's scale inv_std gamma (for a fused ReLU's mask) in coef[3C, 4C).
 * count = channels / 16. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void batchnorm_bwd_finish16(__global const float *partial, __global const float *gamma,
                            ulong gamma_offset, __global const float *inv_std,
                            ulong inv_offset, __global float *dgamma, ulong dgamma_offset,
                            __global float *dbeta, ulong dbeta_offset, __global float *coef,
                            ulong coef_offset, int channels, int rows, int parts, int count)
{
    if ((int)get_global_id(0) >= count)
        return;
    int c = get_global_id(0) * 16;
    float16 sum = 0.0f, dot = 0.0f, a, b, e;
    for (int p = 0; p < parts; p++) {
        sum += LOAD16(partial + (size_t)p * channels + c);
        dot += LOAD16(partial + (size_t)(parts + p) * channels + c);
    }
    bwd_coefficients16(sum, dot, LOAD16(gamma + gamma_offset + c),
                       LOAD16(inv_std + inv_offset + c), rows, &a, &b, &e,
                       dgamma + dgamma_offset + c, dbeta + dbeta_offset + c);
    coef += coef_offset;
    STORE16(a, coef + c);
    STORE16(b, coef + channels + c);
    STORE16(e, coef + 2 * channels + c);
    STORE16(LOAD16(inv_std + inv_offset + c) * LOAD16(gamma + gamma_offset + c),
            coef + 3 * channels + c);
}

/* dx over slice gid from batchnorm_bwd_finish16's coefficients. count = parts. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void batchnorm_bwd_data16(__global const float *x, ulong x_offset, __global const float *dy,
                          ulong dy_offset, __global const float *mean, ulong mean_offset,
                          __global const float *coef, ulong coef_offset, __global float *dx,
                          ulong dx_offset, int channels, int rows, int rows_per_part,
                          int count, __global const float *beta, ulong beta_offset, int relu)
{
    int p = get_global_id(0);
    if (p >= count)
        return;
    x += x_offset;
    dy += dy_offset;
    dx += dx_offset;
    mean += mean_offset;
    beta += beta_offset;
    coef += coef_offset;
    __global const float *b = coef + channels, *e = coef + 2 * channels;
    __global const float *scale = coef + 3 * channels;
    size_t at = (size_t)p * rows_per_part * channels;
    size_t end = (size_t)min(rows, (p + 1) * rows_per_part) * channels;
    for (; at < end; at += channels)
        for (int c = 0; c < channels; c += 16) {
            float16 d = LOAD16(x + at + c) - LOAD16(mean + c);
            float16 g = masked_dy16(dy, at + c, d, LOAD16(scale + c), LOAD16(beta + c), relu);
            STORE16(fma(LOAD16(coef + c), g, fma(LOAD16(b + c), d, LOAD16(e + c))), dx + at + c);
        }
}

/* --- the whole op in one launch, a work-item per float16 of channels (small tensors) --- */

/* The whole training forward of channels [16 gid, 16 gid + 16) in one work-item: the
 * shifted sums over every row, the statistics, then y. count = channels / 16. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void batchnorm_columns16(__global const float *x, ulong x_offset, __global float *y,
                         ulong y_offset, __global const float *gamma, ulong gamma_offset,
                         __global const float *beta, ulong beta_offset,
                         __global float *moving_mean, ulong mm_offset,
                         __global float *moving_var, ulong mv_offset, __global float *mean,
                         ulong mean_offset, __global float *inv_std, ulong inv_offset,
                         int channels, int rows, int count, float momentum, float epsilon,
                         int relu)
{
    if ((int)get_global_id(0) >= count)
        return;
    int c = get_global_id(0) * 16;
    x += x_offset + c;
    y += y_offset + c;
    float16 shift = LOAD16(x), sum, squares, m;
    shifted_sums16(x, (size_t)channels, 0, rows, shift, &sum, &squares);
    float16 inv = batch_stats16(shift, sum, squares, rows, momentum, epsilon, &m,
                                mean + mean_offset + c, inv_std + inv_offset + c,
                                moving_mean + mm_offset + c, moving_var + mv_offset + c);
    float16 scale = inv * LOAD16(gamma + gamma_offset + c), b = LOAD16(beta + beta_offset + c);
    for (size_t at = 0, end = (size_t)rows * channels; at < end; at += channels) {
        float16 v = fma(LOAD16(x + at) - m, scale, b);
        STORE16(relu ? fmax(v, 0.0f) : v, y + at);
    }
}

/* The whole backward of channels [16 gid, 16 gid + 16) in one work-item: the sums over
 * every row, dgamma and dbeta, then dx unless has_dx is 0. count = channels / 16. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void batchnorm_bwd_columns16(__global const float *x, ulong x_offset, __global const float *dy,
                             ulong dy_offset, __global const float *gamma, ulong gamma_offset,
                             __global const float *mean, ulong mean_offset,
                             __global const float *inv_std, ulong inv_offset,
                             __global float *dgamma, ulong dgamma_offset, __global float *dbeta,
                             ulong dbeta_offset, __global float *dx, ulong dx_offset,
                             int has_dx, int channels, int rows, int count,
                             __global const float *beta, ulong beta_offset, int relu)
{
    if ((int)get_global_id(0) >= count)
        return;
    int c = get_global_id(0) * 16;
    x += x_offset + c;
    dy += dy_offset + c;
    dx += dx_offset + c;
    float16 m = LOAD16(mean + mean_offset + c), inv = LOAD16(inv_std + inv_offset + c);
    float16 gm = LOAD16(gamma + gamma_offset + c), bt = LOAD16(beta + beta_offset + c);
    float16 scale = inv * gm, sum, dot, a, b, e;
    bwd_column_sums16(x, dy, scale, bt, relu, 0, (size_t)channels, 0, rows, m, inv, &sum,
                      &dot);
    bwd_coefficients16(sum, dot, gm, inv, rows, &a, &b, &e, dgamma + dgamma_offset + c,
                       dbeta + dbeta_offset + c);
    if (!has_dx)
        return;
    for (size_t at = 0, end = (size_t)rows * channels; at < end; at += channels) {
        float16 d = LOAD16(x + at) - m;
        STORE16(fma(a, masked_dy16(dy, at, d, scale, bt, relu), fma(b, d, e)), dx + at);
    }
}

/* --- a P x P max pooling at stride P fused in after the normalisation (pool P) ---------
 * x is [N, H, W, C] and the pooled y (forward) and dy (backward) [N, H/P, W/P, C]; the
 * normalised tensor between the two is never written. Pooled row q (image n, row oh,
 * q = n H/P + oh) takes its windows from x's rows [P q, P q + P) (rows of W pixels), since
 * n H + oh P = P q. A work-item takes a slice of pooled rows, as the vec16 forms take a
 * slice of rows. The forward's statistics come from batchnorm_sums16 and
 * batchnorm_finish_train16 as without the pooling; the backward's coefficients from
 * batchnorm_bwd_finish16.
 *
 * Each window's gradient goes to its first maximum in row-major order, by the strict
 * comparison of kernels/pool.cl, among the forward's values recomputed from x (after the
 * ReLU when one is fused): only that element's dy is non-zero, so the backward's sums need
 * only the maximum's value and d = x - mean, tracked lane by lane as the window is
 * scanned. */

/* The forward's value of x, after a fused ReLU. */
static float16 forward16(float16 x, float16 m, float16 scale, float16 beta, int relu)
{
    float16 v = fma(x - m, scale, beta);
    return relu ? fmax(v, 0.0f) : v;
}

/* Where a window's pixel (i, j) is, in floats from x's start: pooled row q, column ow,
 * channel c; x's rows `width` pixels of `channels` floats. */
static size_t window_at16(int q, int ow, int i, int j, int pool, int width, int channels, int c)
{
    return ((size_t)(q * pool + i) * width + (size_t)(ow * pool + j)) * channels + c;
}

/* The gradient that reaches a window's first maximum: dy through the ReLU's mask on that
 * maximum (0 where it is not above 0: the ReLU's gradient there). */
static float16 window_gradient16(float16 dy, float16 best, int relu)
{
    return relu ? select((float16)(0.0f), dy, RELU_OPEN(best)) : dy;
}

/* y = each window's maximum of the forward's values, over pooled rows
 * [gid rows_per_part, ...) of pooled_rows; count = parts. With a dropout_fwd(y, dropped)
 * fused in (dropout 1), dropped gets y masked and scaled, and y is written unless the
 * dropout runs in place (write_pooled 0). */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void batchnorm_normalize_pool16(__global const float *x, ulong x_offset, __global float *y,
                                ulong y_offset, __global const float *mean, ulong mean_offset,
                                __global const float *scale, ulong scale_offset,
                                __global const float *beta, ulong beta_offset, int channels,
                                int width, int pool, int pooled_rows, int rows_per_part,
                                int count, int relu, __global float *dropped,
                                ulong dropped_offset, int dropout, uint seed, uint threshold,
                                float drop_scale, int write_pooled)
{
    int p = get_global_id(0);
    if (p >= count)
        return;
    x += x_offset;
    y += y_offset;
    dropped += dropped_offset;
    mean += mean_offset;
    scale += scale_offset;
    beta += beta_offset;
    int first = p * rows_per_part, end = min(pooled_rows, first + rows_per_part);
    int pooled_width = width / pool;
    for (int q = first; q < end; q++)
        for (int ow = 0; ow < pooled_width; ow++)
            for (int c = 0; c < channels; c += 16) {
                float16 m = LOAD16(mean + c), s = LOAD16(scale + c), b = LOAD16(beta + c);
                float16 best = forward16(LOAD16(x + window_at16(q, ow, 0, 0, pool, width,
                                                                channels, c)),
                                         m, s, b, relu);
                for (int i = 0; i < pool; i++)
                    for (int j = 0; j < pool; j++) {
                        float16 v = forward16(LOAD16(x + window_at16(q, ow, i, j, pool, width,
                                                                     channels, c)),
                                              m, s, b, relu);
                        best = select(best, v, v > best);
                    }
                size_t at = ((size_t)q * pooled_width + ow) * channels + c;
                if (write_pooled)
                    STORE16(best, y + at);
                if (dropout)
                    STORE16(dropout16(best, seed, (uint)at, threshold, drop_scale),
                            dropped + at);
            }
}

/* partial[p, c] = sum of dy, partial[parts + p, c] = sum of dy xhat over slice p of pooled
 * rows, dy routed to each window's first maximum; count = parts. With the dropout_bwd(dy,
 * dropped) before it fused in (dropout 1), dy is the dropout's input gradient, masked and
 * scaled as it is read and stored to dropped (which may be dy itself), for the data pass
 * to read. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void batchnorm_bwd_sums_pool16(__global const float *x, ulong x_offset,
                               __global const float *dy, ulong dy_offset,
                               __global const float *mean, ulong mean_offset,
                               __global const float *inv_std, ulong inv_offset,
                               __global float *partial, int channels, int width, int pool,
                               int pooled_rows, int rows_per_part, int parts, int count,
                               __global const float *gamma, ulong gamma_offset,
                               __global const float *beta, ulong beta_offset, int relu,
                               __global float *dropped, ulong dropped_offset, int dropout,
                               uint seed, uint threshold, float drop_scale)
{
    int p = get_global_id(0);
    if (p >= count)
        return;
    x += x_offset;
    dy += dy_offset;
    dropped += dropped_offset;
    int first = p * rows_per_part, end = min(pooled_rows, first + rows_per_part);
    int pooled_width = width / pool;
    for (int c = 0; c < channels; c += 16) {
        float16 m = LOAD16(mean + mean_offset + c), inv = LOAD16(inv_std + inv_offset + c);
        float16 s = inv * LOAD16(gamma + gamma_offset + c), b = LOAD16(beta + beta_offset + c);
        float16 sum = 0.0f, dot = 0.0f;
        for (int q = first; q < end; q++)
            for (int ow = 0; ow < pooled_width; ow++) {
                float16 x0 = LOAD16(x + window_at16(q, ow, 0, 0, pool, width, channels, c));
                float16 best = forward16(x0, m, s, b, relu), best_d = x0 - m;
                for (int i = 0; i < pool; i++)
                    for (int j = 0; j < pool; j++) {
                        float16 xv = LOAD16(x + window_at16(q, ow, i, j, pool, width, channels,
                                                            c));
                        float16 v = forward16(xv, m, s, b, relu);
                        int16 better = v > best;
                        best = select(best, v, better);
                        best_d = select(best_d, xv - m, better);
                    }
                size_t at = ((size_t)q * pooled_width + ow) * channels + c;
                float16 incoming = LOAD16(dy + at);
                if (dropout) {
                    incoming = dropout16(incoming, seed, (uint)at, threshold, drop_scale);
                    STORE16(incoming, dropped + at);
                }
                float16 g = window_gradient16(incoming, best, relu);
                sum += g;
                dot = fma(g, best_d * inv, dot);
            }
        STORE16(sum, partial + (size_t)p * channels + c);
        STORE16(dot, partial + (size_t)(parts + p) * channels + c);
    }
}

/* dx over slice gid of pooled rows from batchnorm_bwd_finish16's coefficients: every
 * element b d + e, and a dy the window's first maximum. count = parts. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void batchnorm_bwd_data_pool16(__global const float *x, ulong x_offset,
                               __global const float *dy, ulong dy_offset,
                               __global const float *mean, ulong mean_offset,
                               __global const float *coef, ulong coef_offset,
                               __global float *dx, ulong dx_offset, int channels, int width,
                               int pool, int pooled_rows, int rows_per_part, int count,
                               __global const float *beta, ulong beta_offset, int relu)
{
    int p = get_global_id(0);
    if (p >= count)
        return;
    x += x_offset;
    dy += dy_offset;
    dx += dx_offset;
    mean += mean_offset;
    beta += beta_offset;
    coef += coef_offset;
    __global const float *bs = coef + channels, *es = coef + 2 * channels;
    __global const float *scales = coef + 3 * channels;
    int first = p * rows_per_part, end = min(pooled_rows, first + rows_per_part);
    int pooled_width = width / pool;
    for (int q = first; q < end; q++)
        for (int ow = 0; ow < pooled_width; ow++)
            for (int c = 0; c < channels; c += 16) {
                float16 m = LOAD16(mean + c), s = LOAD16(scales + c), b = LOAD16(beta + c);
                float16 a = LOAD16(coef + c), bd = LOAD16(bs + c), e = LOAD16(es + c);
                float16 best = forward16(LOAD16(x + window_at16(q, ow, 0, 0, pool, width,
                                                                channels, c)),
                                         m, s, b, relu);
                int16 first_max = 0;
                for (int i = 0; i < pool; i++)
                    for (int j = 0; j < pool; j++) {
                        float16 v = forward16(LOAD16(x + window_at16(q, ow, i, j, pool, width,
                                                                     channels, c)),
                                              m, s, b, relu);
                        int16 better = v > best;
                        best = select(best, v, better);
                        first_max = select(first_max, (int16)(i * pool + j), better);
                    }
                float16 g = window_gradient16(
                    LOAD16(dy + ((size_t)q * pooled_width + ow) * channels + c), best, relu);
                for (int i = 0; i < pool; i++)
                    for (int j = 0; j < pool; j++) {
                        size_t at = window_at16(q, ow, i, j, pool, width, channels, c);
                        float16 d = LOAD16(x + at) - m;
                        float16 gk = select((float16)(0.0f), g, first_max == i * pool + j);
                        STORE16(fma(a, gk, fma(bd, d, e)), dx + at);
                    }
            }
}
