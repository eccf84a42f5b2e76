/* Reference BatchNormalization over the last axis: x is [rows, C] whatever its rank (all
 * dimensions but the last are rows: N, or N*H*W after a convolution), statistics per
 * channel, in double. As Keras 3 (keras/src/layers/normalization/batch_normalization.py):
 *   training     mean, var = the batch's mean and biased variance
 *                y = (x - mean) / sqrt(var + eps) * gamma + beta
 *                moving = moving * momentum + batch * (1 - momentum), for mean and variance
 *   evaluation   the same y with the moving statistics
 *   backward     xhat = (x - mean) inv_std;  dbeta = sum dy;  dgamma = sum dy xhat;
 *                dx = gamma inv_std / rows * (rows dy - dbeta - xhat dgamma)
 * mean and inv_std = 1 / sqrt(var + eps) are kept from the forward for the backward.
 * The statistics are summed in double; the training forward's y is then
 * fma(x - mean, inv_std * gamma, beta) in float from the rounded mean and inv_std it
 * outputs, the formula every backend uses, so that a backward can recompute it bit for bit.
 * With a fused ReLU (act relu) the forwards write max(y, 0) and the backward, given beta,
 * reads dy as relu_bwd would leave it: 0 where that recomputed y is not above 0.
 * With a fused max pooling (pool P) the training forward writes each P x P window's maximum
 * of those values, and the backward takes the pooled dy through maxpool_bwd's rule (to the
 * window's first maximum in row-major order, by strict comparison), then the ReLU's mask:
 * the values the separate ops would see, summed in the same row order. */
#include <config.h>

#include <math.h>

#include "ref.h"

static int channels_of(fcnn_tensor_arg x)
{
    return x->shape[x->ndim - 1];
}

/* Evaluation's y = (x - mean) * inv_std * gamma + beta for channel c, in double from the
 * moving statistics; then max(y, 0) with a fused ReLU, on the rounded float as the
 * separate activation would. */
static void normalize(const float *X, float *Y, long rows, int channels, int c, double mean,
                      double inv_std, double gamma, double beta, bool relu)
{
    for (long r = 0; r < rows; r++) {
        size_t i = (size_t)r * channels + c;
        float y = (float)((X[i] - mean) * inv_std * gamma + beta);
        Y[i] = relu && !(y > 0.0f) ? 0.0f : y;
    }
}

/* The training forward's y, before a fused ReLU: see the top of the file. */
static float normalized(float x, float mean, float inv_std, float gamma, float beta)
{
    return fmaf(x - mean, inv_std * gamma, beta);
}

/* One channel of the training forward, for recomputing its values. */
struct channel {
    float mean, inv_std, gamma, beta;
    bool relu;
};

/* The forward's value at x, after a fused ReLU. */
static float forward_value(const struct channel *ch, float x)
{
    float v = normalized(x, ch->mean, ch->inv_std, ch->gamma, ch->beta);
    return ch->relu && !(v > 0.0f) ? 0.0f : v;
}

/* x [N, H, W, C] seen through a fused P x P pooling. */
struct pooling {
    int pool, h, w, channels;
};

static struct pooling pooling_of(fcnn_tensor_arg x, int pool)
{
    return (struct pooling){ pool, x->shape[1], x->shape[2], x->shape[3] };
}

/* The row (n H + h) W + w of x holding the first maximum of channel c's values over the
 * window that holds row r; *max gets that maximum. */
static long window_first_max(const struct pooling *g, const float *X, const struct channel *ch,
                             int c, long r, float *max)
{
    long w = r % g->w, h = r / g->w % g->h, n = r / g->w / g->h;
    long top = h - h % g->pool, left = w - w % g->pool;
    long best = (n * g->h + top) * g->w + left;
    float best_value = forward_value(ch, X[(size_t)best * g->channels + c]);
    for (long i = top; i < top + g->pool; i++)
        for (long j = left; j < left + g->pool; j++) {
            long at = (n * g->h + i) * g->w + j;
            float v = forward_value(ch, X[(size_t)at * g->channels + c]);
            if (v > best_value) {
                best = at;
                best_value = v;
            }
        }
    *max = best_value;
    return best;
}

/* Row r's index into the pooled tensor, channel c. */
static size_t pooled_index(const struct pooling *g, long r, int c)
{
    long w = r % g->w, h = r / g->w % g->h, n = r / g->w / g->h;
    long ho = g->h / g->pool, wo = g->w / g->pool;
    return (size_t)((n * ho + h / g->pool) * wo + w / g->pool) * g->channels + (size_t)c;
}

/* Channel c's pooled output: each window's maximum, the windows in Y's order. */
static void pool_channel(const struct pooling *g, const float *X, float *Y,
                         const struct channel *ch, int c, long rows)
{
    for (long r = 0; r < rows; r++) {
        long w = r % g->w, h = r / g->w % g->h;
        if (h % g->pool || w % g->pool)
            continue; /* not a window's first row */
        float max;
        window_first_max(g, X, ch, c, r, &max);
        Y[pooled_index(g, r, c)] = max;
    }
}

int ref_batchnorm_fwd_train(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg x = call->t[0], gamma = call->t[1], beta = call->t[2];
    fcnn_tensor_arg moving_mean = call->t[3], moving_var = call->t[4], y = call->t[5];
    fcnn_tensor_arg mean_out = call->t[6], inv_std_out = call->t[7];
    const struct fcnn_batchnorm_params *p = &call->p.batchnorm;
    const float *X = REF_PTR(const float, x), *G = REF_PTR(const float, gamma);
    const float *B = REF_PTR(const float, beta);
    float *MM = REF_PTR(float, moving_mean), *MV = REF_PTR(float, moving_var);
    float *Y = REF_PTR(float, y), *MEAN = REF_PTR(float, mean_out);
    float *INV = REF_PTR(float, inv_std_out);
    int channels = channels_of(x);
    long rows = (long)(fcnn_tensor_count(x) / (size_t)channels);

#pragma omp parallel for schedule(static)
    for (int c = 0; c < channels; c++) {
        double sum = 0, squares = 0;
        for (long r = 0; r < rows; r++)
            sum += X[(size_t)r * channels + c];
        double mean = sum / (double)rows;
        for (long r = 0; r < rows; r++) {
            double d = X[(size_t)r * channels + c] - mean;
            squares += d * d;
        }
        double var = squares / (double)rows;
        MEAN[c] = (float)mean;
        INV[c] = (float)(1.0 / sqrt(var + (double)p->epsilon));
        struct channel ch = { MEAN[c], INV[c], G[c], B[c], p->act == FCNN_ACT_RELU };
        if (p->pool) {
            struct pooling g = pooling_of(x, p->pool);
            pool_channel(&g, X, Y, &ch, c, rows);
        }
        for (long r = 0; !p->pool && r < rows; r++) {
            size_t i = (size_t)r * channels + c;
            float v = normalized(X[i], MEAN[c], INV[c], G[c], B[c]);
            Y[i] = p->act == FCNN_ACT_RELU && !(v > 0.0f) ? 0.0f : v;
        }
        MM[c] = (float)(MM[c] * (double)p->momentum + mean * (1.0 - (double)p->momentum));
        MV[c] = (float)(MV[c] * (double)p->momentum + var * (1.0 - (double)p->momentum));
    }
    return FCNN_OK;
}

int ref_batchnorm_fwd_infer(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg x = call->t[0], gamma = call->t[1], beta = call->t[2];
    fcnn_tensor_arg moving_mean = call->t[3], moving_var = call->t[4], y = call->t[5];
    const float *X = REF_PTR(const float, x), *G = REF_PTR(const float, gamma);
    const float *B = REF_PTR(const float, beta), *MM = REF_PTR(const float, moving_mean);
    const float *MV = REF_PTR(const float, moving_var);
    float *Y = REF_PTR(float, y);
    int channels = channels_of(x);
    long rows = (long)(fcnn_tensor_count(x) / (size_t)channels);

#pragma omp parallel for schedule(static)
    for (int c = 0; c < channels; c++)
        normalize(X, Y, rows, channels, c, MM[c],
                  1.0 / sqrt((double)MV[c] + (double)call->p.batchnorm.epsilon), G[c], B[c],
                  call->p.batchnorm.act == FCNN_ACT_RELU);
    return FCNN_OK;
}

/* Row r's dy of channel c as the separate ops would leave it: with a fused pooling (g->pool)
 * the pooled dy routed as maxpool_bwd routes it, to its window's first maximum; then
 * through a fused ReLU's mask, relu_bwd's [y > 0] on the forward's y recomputed from x. */
static float incoming(const struct pooling *g, const float *DY, const float *X,
                      const struct channel *ch, int channels, int c, long r)
{
    if (g->pool) {
        float max;
        if (window_first_max(g, X, ch, c, r, &max) != r)
            return 0.0f;
        return ch->relu && !(max > 0.0f) ? 0.0f : DY[pooled_index(g, r, c)];
    }
    size_t i = (size_t)r * channels + c;
    return ch->relu && !(forward_value(ch, X[i]) > 0.0f) ? 0.0f : DY[i];
}

int ref_batchnorm_bwd(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg x = call->t[0], dy = call->t[1], gamma = call->t[2], mean = call->t[3];
    fcnn_tensor_arg inv_std = call->t[4], dx = call->t[5], dgamma = call->t[6];
    fcnn_tensor_arg dbeta = call->t[7], beta = call->t[8];
    const float *X = REF_PTR(const float, x), *DY = REF_PTR(const float, dy);
    const float *B = beta ? REF_PTR(const float, beta) : NULL; /* with a fused ReLU, pooling */
    const float *G = REF_PTR(const float, gamma), *MEAN = REF_PTR(const float, mean);
    const float *INV = REF_PTR(const float, inv_std);
    float *DX = dx ? REF_PTR(float, dx) : NULL; /* none before the first layer */
    float *DG = REF_PTR(float, dgamma), *DB = REF_PTR(float, dbeta);
    int channels = channels_of(x), pool = call->p.batchnorm.pool;
    long rows = (long)(fcnn_tensor_count(x) / (size_t)channels);
    struct pooling pooled = pool ? pooling_of(x, pool) : (struct pooling){ 0 }; /* pool 0: none */
    bool relu = call->p.batchnorm.act == FCNN_ACT_RELU;

#pragma omp parallel for schedule(static)
    for (int c = 0; c < channels; c++) {
        double sum_dy = 0, sum_dy_xhat = 0;
        struct channel ch = { MEAN[c], INV[c], G[c], B ? B[c] : 0.0f, relu };
        for (long r = 0; r < rows; r++) {
            size_t i = (size_t)r * channels + c;
            float g = incoming(&pooled, DY, X, &ch, channels, c, r);
            sum_dy += g;
            sum_dy_xhat += g * ((X[i] - (double)MEAN[c]) * INV[c]);
        }
        double k = (double)G[c] * INV[c] / (double)rows;
        for (long r = 0; DX && r < rows; r++) {
            size_t i = (size_t)r * channels + c;
            double xhat = (X[i] - (double)MEAN[c]) * INV[c];
            DX[i] = (float)(k * ((double)rows * incoming(&pooled, DY, X, &ch, channels, c, r) -
                                 sum_dy - xhat * sum_dy_xhat));
        }
        DG[c] = (float)sum_dy_xhat;
        DB[c] = (float)sum_dy;
    }
    return FCNN_OK;
}
