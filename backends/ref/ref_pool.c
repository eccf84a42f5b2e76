/* Reference pooling, NHWC: windows of ph x pw moving by sh, sw, with padding that is not
 * part of any window (TensorFlow's rule): max pooling ignores padded positions and average
 * pooling divides by the number of real positions in each window. Window (oh, ow) covers
 * input rows oh*sh - pad_top + [0, ph) and columns ow*sw - pad_left + [0, pw), clipped to
 * the image; the validator keeps every pad smaller than the window, so no window is empty.
 *
 * Max pooling's backward routes each window's gradient to the first real position holding
 * its maximum (row-major within the window), the rule every backend must follow so that
 * ties, which ReLU makes common, resolve the same way everywhere. */
#include <config.h>

#include <string.h>

#include "ref.h"

/* The real rows [i0, i1) and columns [j0, j1) of window (oh, ow). */
struct window {
    int i0, i1, j0, j1;
};

static struct window window_at(int h, int w, int oh, int ow, const struct fcnn_pool_params *p)
{
    int top = oh * p->sh - p->pad_top, left = ow * p->sw - p->pad_left;
    struct window win = { top, top + p->ph, left, left + p->pw };
    if (win.i0 < 0)
        win.i0 = 0;
    if (win.i1 > h)
        win.i1 = h;
    if (win.j0 < 0)
        win.j0 = 0;
    if (win.j1 > w)
        win.j1 = w;
    return win;
}

/* Flat index into x of the first maximum of window (n, oh, ow) in channel c. */
static size_t window_argmax(const float *X, int h, int w, int c_count, int n, int oh, int ow,
                            int c, const struct fcnn_pool_params *p)
{
    struct window win = window_at(h, w, oh, ow, p);
    size_t best = 0;
    float best_value = 0;
    bool first = true;
    for (int ih = win.i0; ih < win.i1; ih++) {
        for (int iw = win.j0; iw < win.j1; iw++) {
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

int ref_avgpool_fwd(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg x = call->t[0], y = call->t[1];
    const struct fcnn_pool_params *p = &call->p.pool;
    const float *X = REF_PTR(const float, x);
    float *Y = REF_PTR(float, y);
    int n_count = x->shape[0], h = x->shape[1], w = x->shape[2], c_count = x->shape[3];
    int ho = y->shape[1], wo = y->shape[2];

#pragma omp parallel for collapse(2) schedule(static)
    for (int n = 0; n < n_count; n++) {
        for (int oh = 0; oh < ho; oh++) {
            double acc[c_count];
            for (int ow = 0; ow < wo; ow++) {
                struct window win = window_at(h, w, oh, ow, p);
                for (int c = 0; c < c_count; c++)
                    acc[c] = 0;
                for (int ih = win.i0; ih < win.i1; ih++)
                    for (int iw = win.j0; iw < win.j1; iw++) {
                        const float *xp = X + (((size_t)n * h + ih) * w + iw) * c_count;
                        for (int c = 0; c < c_count; c++)
                            acc[c] += xp[c];
                    }
                int real = (win.i1 - win.i0) * (win.j1 - win.j0);
                float *yp = Y + (((size_t)n * ho + oh) * wo + ow) * c_count;
                for (int c = 0; c < c_count; c++)
                    yp[c] = (float)(acc[c] / real);
            }
        }
    }
    return FCNN_OK;
}

/* dx[n,ih,iw,c] = sum over the windows (oh, ow) holding (ih, iw) of dy[n,oh,ow,c] / real
 * positions of that window: a gather per input pixel, windows in (oh, ow) order. */
int ref_avgpool_bwd(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg dy = call->t[0], dx = call->t[1];
    const struct fcnn_pool_params *p = &call->p.pool;
    const float *DY = REF_PTR(const float, dy);
    float *DX = REF_PTR(float, dx);
    int n_count = dx->shape[0], h = dx->shape[1], w = dx->shape[2], c_count = dx->shape[3];
    int ho = dy->shape[1], wo = dy->shape[2];

#pragma omp parallel for collapse(2) schedule(static)
    for (int n = 0; n < n_count; n++) {
        for (int ih = 0; ih < h; ih++) {
            double acc[c_count];
            for (int iw = 0; iw < w; iw++) {
                for (int c = 0; c < c_count; c++)
                    acc[c] = 0;
                for (int oh = 0; oh < ho; oh++) {
                    int top = oh * p->sh - p->pad_top;
                    if (ih < top || ih >= top + p->ph)
                        continue;
                    for (int ow = 0; ow < wo; ow++) {
                        int left = ow * p->sw - p->pad_left;
                        if (iw < left || iw >= left + p->pw)
                            continue;
                        struct window win = window_at(h, w, oh, ow, p);
                        double real = (win.i1 - win.i0) * (win.j1 - win.j0);
                        const float *dyp = DY + (((size_t)n * ho + oh) * wo + ow) * c_count;
                        for (int c = 0; c < c_count; c++)
                            acc[c] += dyp[c] / real;
                    }
                }
                float *dxp = DX + (((size_t)n * h + ih) * w + iw) * c_count;
                for (int c = 0; c < c_count; c++)
                    dxp[c] = (float)acc[c];
            }
        }
    }
    return FCNN_OK;
}

/* x [N,H,W,C] -> y [N,C]: the mean of each channel over the image. */
int ref_global_avgpool_fwd(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg x = call->t[0], y = call->t[1];
    const float *X = REF_PTR(const float, x);
    float *Y = REF_PTR(float, y);
    int n_count = x->shape[0], c_count = x->shape[3];
    size_t pixels = (size_t)x->shape[1] * x->shape[2];

#pragma omp parallel for schedule(static)
    for (int n = 0; n < n_count; n++) {
        double acc[c_count];
        for (int c = 0; c < c_count; c++)
            acc[c] = 0;
        for (size_t q = 0; q < pixels; q++) {
            const float *xp = X + ((size_t)n * pixels + q) * c_count;
            for (int c = 0; c < c_count; c++)
                acc[c] += xp[c];
        }
        for (int c = 0; c < c_count; c++)
            Y[(size_t)n * c_count + c] = (float)(acc[c] / (double)pixels);
    }
    return FCNN_OK;
}

/* dx[n,h,w,c] = dy[n,c] / (H*W). */
int ref_global_avgpool_bwd(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg dy = call->t[0], dx = call->t[1];
    const float *DY = REF_PTR(const float, dy);
    float *DX = REF_PTR(float, dx);
    int n_count = dx->shape[0], c_count = dx->shape[3];
    size_t pixels = (size_t)dx->shape[1] * dx->shape[2];

#pragma omp parallel for schedule(static)
    for (int n = 0; n < n_count; n++)
        for (size_t q = 0; q < pixels; q++)
            for (int c = 0; c < c_count; c++)
                DX[((size_t)n * pixels + q) * c_count + c] =
                    (float)(DY[(size_t)n * c_count + c] / (double)pixels);
    return FCNN_OK;
}
