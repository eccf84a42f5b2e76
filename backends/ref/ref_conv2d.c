/* Reference 2-D convolution, NHWC activations and HWIO kernels, by direct loops.
 *   forward:     y[n,oh,ow,k] = act(b[k] + sum_{i,j,c} x[n, oh*sh-pt+i, ow*sw-pl+j, c] w[i,j,c,k])
 *   and pooled:  the maximum of y over each P x P window at stride P
 *   bwd data:    dx[n,ih,iw,c] = sum over every (oh,ow,i,j) that read x[n,ih,iw,c] of dy w
 *   bwd filter:  dw[i,j,c,k] = sum_{n,oh,ow} x[n, oh*sh-pt+i, ow*sw-pl+j, c] dy[n,oh,ow,k]
 * with strides sh, sw and the padding before, pt (top) and pl (left); the padding after
 * shows only in the output size. Out-of-range input positions are the zero padding, and
 * an omitted bias is zero. Sums are kept in double, in per-pixel accumulators of one row
 * of channels: one heap block per thread, since a stack array sized by the layer's
 * channel count has no bound a caller could check. */
#include <config.h>

#include <stdbool.h>
#include <stdlib.h>

#include "ref.h"

static int no_accumulators(size_t count)
{
    return fcnn_error(FCNN_ERR_NOMEM, "ref conv2d: out of memory for %zu accumulators", count);
}

struct conv_dims {
    int n, h, w, c;     /* input */
    int kh, kw, k;      /* kernel window and output channels */
    int ho, wo;         /* output */
    int sh, sw, pt, pl; /* strides, padding at the top and left */
};

static struct conv_dims conv_dims(fcnn_tensor_arg x, fcnn_tensor_arg w, fcnn_tensor_arg y,
                                  const struct fcnn_conv2d_params *p)
{
    return (struct conv_dims){
        .n = x->shape[0], .h = x->shape[1], .w = x->shape[2], .c = x->shape[3],
        .kh = w->shape[0], .kw = w->shape[1], .k = w->shape[3],
        .ho = y->shape[1], .wo = y->shape[2],
        .sh = p->sh, .sw = p->sw, .pt = p->pad_top, .pl = p->pad_left,
    };
}

/* acc[k] = b[k] + the window sum of output pixel (n, oh, ow), for every output channel. */
REF_VECTOR_LOOPS
static void output_pixel(const struct conv_dims *d, const float *X, const float *W,
                         const float *B, int n, int oh, int ow, double *acc)
{
    for (int k = 0; k < d->k; k++)
        acc[k] = B ? B[k] : 0;
    for (int i = 0; i < d->kh; i++) {
        int ih = oh * d->sh - d->pt + i;
        if (ih < 0 || ih >= d->h)
            continue;
        for (int j = 0; j < d->kw; j++) {
            int iw = ow * d->sw - d->pl + j;
            if (iw < 0 || iw >= d->w)
                continue;
            const float *xp = X + (((size_t)n * d->h + ih) * d->w + iw) * d->c;
            const float *wp = W + ((size_t)i * d->kw + j) * d->c * d->k;
            for (int c = 0; c < d->c; c++)
#pragma omp simd
                for (int k = 0; k < d->k; k++)
                    acc[k] += (double)xp[c] * wp[(size_t)c * d->k + k];
        }
    }
}

/* The output element as conv2d_fwd stores it: rounded to float, then the activation. */
static float activated(double sum, enum fcnn_activation act)
{
    return (float)(act == FCNN_ACT_RELU && sum < 0 ? 0 : sum);
}

int ref_conv2d_fwd(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg x = call->t[0], w = call->t[1], b = call->t[2], y = call->t[3];
    const struct fcnn_conv2d_params *p = &call->p.conv;
    const struct conv_dims d = conv_dims(x, w, y, p);
    const float *X = REF_PTR(const float, x), *W = REF_PTR(const float, w);
    const float *B = b ? REF_PTR(const float, b) : NULL;
    float *Y = REF_PTR(float, y);

    bool failed = false;
#pragma omp parallel
    {
    double *acc = malloc(sizeof(double) * (size_t)d.k);
    if (!acc) {
#pragma omp atomic write
        failed = true;
    }
#pragma omp for collapse(2) schedule(static)
    for (int n = 0; n < d.n; n++) {
        for (int oh = 0; oh < d.ho; oh++) {
            for (int ow = 0; ow < d.wo && acc; ow++) {
                output_pixel(&d, X, W, B, n, oh, ow, acc);
                float *yp = Y + (((size_t)n * d.ho + oh) * d.wo + ow) * d.k;
                for (int k = 0; k < d.k; k++)
                    yp[k] = activated(acc[k], p->act);
            }
        }
    }
    free(acc);
    }
    return failed ? no_accumulators((size_t)d.k) : FCNN_OK;
}

/* conv2d_fwd's outputs, each pooled window's first maximum taken (row-major, the rule of
 * ref_pool.c): what conv2d_fwd then maxpool_fwd give, bit for bit. */
int ref_conv2d_pool_fwd(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg x = call->t[0], w = call->t[1], b = call->t[2], y = call->t[3];
    const struct fcnn_conv2d_params *p = &call->p.conv;
    struct conv_dims d = conv_dims(x, w, y, p);
    d.ho = fcnn_window_out(d.h, p->pad_top, p->pad_bottom, d.kh, d.sh);
    d.wo = fcnn_window_out(d.w, p->pad_left, p->pad_right, d.kw, d.sw);
    int P = p->pool, hp = y->shape[1], wp = y->shape[2];
    const float *X = REF_PTR(const float, x), *W = REF_PTR(const float, w);
    const float *B = b ? REF_PTR(const float, b) : NULL;
    float *Y = REF_PTR(float, y);

    bool failed = false;
#pragma omp parallel
    {
    double *acc = malloc(sizeof(double) * (size_t)d.k);
    if (!acc) {
#pragma omp atomic write
        failed = true;
    }
#pragma omp for collapse(2) schedule(static)
    for (int n = 0; n < d.n; n++) {
        for (int ph = 0; ph < hp; ph++) {
            for (int pw = 0; pw < wp && acc; pw++) {
                float *yp = Y + (((size_t)n * hp + ph) * wp + pw) * d.k;
                for (int i = 0; i < P; i++)
                    for (int j = 0; j < P; j++) {
                        output_pixel(&d, X, W, B, n, ph * P + i, pw * P + j, acc);
                        for (int k = 0; k < d.k; k++) {
                            float v = activated(acc[k], p->act);
                            if ((i == 0 && j == 0) || v > yp[k])
                                yp[k] = v;
                        }
                    }
            }
        }
    }
    free(acc);
    }
    return failed ? no_accumulators((size_t)d.k) : FCNN_OK;
}

/* acc[c] = the gradient of input pixel (n, ih, iw), for every input channel, from the
 * kernel transposed to [kh][kw][k][c] (WT): each acc[c] sums over taps and then k in
 * ascending order, as with the kernel's own layout, but the loop over c reads WT in order. */
REF_VECTOR_LOOPS
static void input_gradient_pixel(const struct conv_dims *d, const float *DY, const float *WT,
                                 int n, int ih, int iw, double *acc)
{
    for (int c = 0; c < d->c; c++)
        acc[c] = 0;
    /* Output (oh, ow) read this input through tap (i, j) when oh * sh - pad_top + i == ih,
     * and likewise along the width. */
    for (int i = 0; i < d->kh; i++) {
        int num_h = ih + d->pt - i;
        if (num_h < 0 || num_h % d->sh || num_h / d->sh >= d->ho)
            continue;
        int oh = num_h / d->sh;
        for (int j = 0; j < d->kw; j++) {
            int num_w = iw + d->pl - j;
            if (num_w < 0 || num_w % d->sw || num_w / d->sw >= d->wo)
                continue;
            int ow = num_w / d->sw;
            const float *dyp = DY + (((size_t)n * d->ho + oh) * d->wo + ow) * d->k;
            const float *wtp = WT + ((size_t)i * d->kw + j) * d->k * d->c;
            for (int k = 0; k < d->k; k++)
#pragma omp simd
                for (int c = 0; c < d->c; c++)
                    acc[c] += (double)dyp[k] * wtp[(size_t)k * d->c + c];
        }
    }
}

int ref_conv2d_bwd_data(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg dy = call->t[0], w = call->t[1], dx = call->t[2];
    const struct fcnn_conv2d_params *p = &call->p.conv;
    const struct conv_dims d = conv_dims(dx, w, dy, p);
    const float *DY = REF_PTR(const float, dy), *W = REF_PTR(const float, w);
    float *DX = REF_PTR(float, dx);

    size_t taps = (size_t)d.kh * d.kw, kernel_size = taps * d.c * d.k;
    float *WT = malloc(sizeof(float) * kernel_size);
    if (!WT)
        return fcnn_error(FCNN_ERR_NOMEM, "ref conv2d: out of memory for a %zu-float kernel",
                          kernel_size);
    for (size_t t = 0; t < taps; t++)
        for (int c = 0; c < d.c; c++)
            for (int k = 0; k < d.k; k++)
                WT[(t * d.k + k) * d.c + c] = W[(t * d.c + c) * d.k + k];

    bool failed = false;
#pragma omp parallel
    {
    double *acc = malloc(sizeof(double) * (size_t)d.c);
    if (!acc) {
#pragma omp atomic write
        failed = true;
    }
#pragma omp for collapse(2) schedule(static)
    for (int n = 0; n < d.n; n++) {
        for (int ih = 0; ih < d.h; ih++) {
            for (int iw = 0; iw < d.w && acc; iw++) {
                input_gradient_pixel(&d, DY, WT, n, ih, iw, acc);
                float *dxp = DX + (((size_t)n * d.h + ih) * d.w + iw) * d.c;
                for (int c = 0; c < d.c; c++)
                    dxp[c] = (float)acc[c];
            }
        }
    }
    free(acc);
    }
    free(WT);
    return failed ? no_accumulators((size_t)d.c) : FCNN_OK;
}

/* acc[k] = the gradient of kernel row (i, j, c), for every output channel, summed over
 * the batch and the output pixels in row-major order. */
REF_VECTOR_LOOPS
static void filter_gradient_row(const struct conv_dims *d, const float *X, const float *DY,
                                int i, int j, int c, double *acc)
{
    for (int k = 0; k < d->k; k++)
        acc[k] = 0;
    for (int n = 0; n < d->n; n++) {
        for (int oh = 0; oh < d->ho; oh++) {
            int ih = oh * d->sh - d->pt + i;
            if (ih < 0 || ih >= d->h)
                continue;
            for (int ow = 0; ow < d->wo; ow++) {
                int iw = ow * d->sw - d->pl + j;
                if (iw < 0 || iw >= d->w)
                    continue;
                double xv = X[(((size_t)n * d->h + ih) * d->w + iw) * d->c + c];
                const float *dyp = DY + (((size_t)n * d->ho + oh) * d->wo + ow) * d->k;
#pragma omp simd
                for (int k = 0; k < d->k; k++)
                    acc[k] += xv * dyp[k];
            }
        }
    }
}

int ref_conv2d_bwd_filter(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg x = call->t[0], dy = call->t[1], dw = call->t[2];
    const struct fcnn_conv2d_params *p = &call->p.conv;
    const struct conv_dims d = conv_dims(x, dw, dy, p);
    const float *X = REF_PTR(const float, x), *DY = REF_PTR(const float, dy);
    float *DW = REF_PTR(float, dw);

    /* One (i, j, c) row of dw per iteration: each weight is summed by one thread over the
     * whole batch, in the same order whatever the number of threads. */
    bool failed = false;
#pragma omp parallel
    {
    double *acc = malloc(sizeof(double) * (size_t)d.k);
    if (!acc) {
#pragma omp atomic write
        failed = true;
    }
#pragma omp for collapse(3) schedule(static)
    for (int i = 0; i < d.kh; i++) {
        for (int j = 0; j < d.kw; j++) {
            for (int c = 0; c < d.c; c++) {
                if (!acc)
                    continue;
                filter_gradient_row(&d, X, DY, i, j, c, acc);
                float *dwp = DW + (((size_t)i * d.kw + j) * d.c + c) * d.k;
                for (int k = 0; k < d.k; k++)
                    dwp[k] = (float)acc[k];
            }
        }
    }
    free(acc);
    }
    return failed ? no_accumulators((size_t)d.k) : FCNN_OK;
}

int ref_bias_bwd(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg dy = call->t[0], db = call->t[1];
    const float *DY = REF_PTR(const float, dy);
    float *DB = REF_PTR(float, db);
    int channels = db->shape[0];
    size_t rows = fcnn_tensor_count(dy) / (size_t)channels;

#pragma omp parallel for schedule(static)
    for (int k = 0; k < channels; k++) {
        double s = 0;
        for (size_t r = 0; r < rows; r++)
            s += DY[r * (size_t)channels + (size_t)k];
        DB[k] = (float)s;
    }
    return FCNN_OK;
}
