/* Reference max pooling over square windows, NHWC, no padding ("valid").
 * Backward routes each window's gradient to the first position holding its maximum
 * (row-major within the window), the rule every backend must follow so that ties, which
 * ReLU makes common, resolve the same way everywhere. */
#include <config.h>

#include <string.h>

#include "ref.h"

/* Flat index into x of the first maximum of window (n, oh, ow) in channel c. */
static size_t window_argmax(const float *X, int h, int w, int c_count, int n, int oh, int ow,
                            int c, const struct fcnn_pool_params *p)
{
    size_t best = 0;
    float best_value = 0;
    bool first = true;
    for (int i = 0; i < p->size; i++) {
        for (int j = 0; j < p->size; j++) {
            int ih = oh * p->stride + i, iw = ow * p->stride + j;
            size_t at = (((size_t)n * h + ih) * w + iw) * c_count + c;
            if (first || X[at] > best_value) {
                best = at;
                best_value = X[at];
                first = false;
            }
        }
    }
    return best;
}

int ref_maxpool_fwd(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg x = call->t[0], y = call->t[1];
    const struct fcnn_pool_params *p = &call->p.pool;
    const float *X = REF_PTR(const float, x);
    float *Y = REF_PTR(float, y);
    int n_count = x->shape[0], h = x->shape[1], w = x->shape[2], c_count = x->shape[3];
    int ho = y->shape[1], wo = y->shape[2];

#pragma omp parallel for collapse(2) schedule(static)
    for (int n = 0; n < n_count; n++)
        for (int oh = 0; oh < ho; oh++)
            for (int ow = 0; ow < wo; ow++)
                for (int c = 0; c < c_count; c++)
                    Y[(((size_t)n * ho + oh) * wo + ow) * c_count + c] =
                        X[window_argmax(X, h, w, c_count, n, oh, ow, c, p)];
    return FCNN_OK;
}

int ref_maxpool_bwd(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg x = call->t[0], dy = call->t[1], dx = call->t[2];
    const struct fcnn_pool_params *p = &call->p.pool;
    const float *X = REF_PTR(const float, x), *DY = REF_PTR(const float, dy);
    float *DX = REF_PTR(float, dx);
    int n_count = x->shape[0], h = x->shape[1], w = x->shape[2], c_count = x->shape[3];
    int ho = dy->shape[1], wo = dy->shape[2];
    size_t image = (size_t)h * w * c_count;

    /* One image per iteration: overlapping windows (stride < size) add into the same dx
     * element, and only within one image. */
#pragma omp parallel for schedule(static)
    for (int n = 0; n < n_count; n++) {
        memset(DX + (size_t)n * image, 0, image * sizeof(float));
        for (int oh = 0; oh < ho; oh++)
            for (int ow = 0; ow < wo; ow++)
                for (int c = 0; c < c_count; c++)
                    DX[window_argmax(X, h, w, c_count, n, oh, ow, c, p)] +=
                        DY[(((size_t)n * ho + oh) * wo + ow) * c_count + c];
    }
    return FCNN_OK;
}
