/* The converse of the planted-bug tests: the harness must pass a correct backend that
 * rounds differently from the reference. Its tolerances are derived, not fitted to ref
 * against itself; this test measures them against the worst arithmetic a correct device
 * kernel is likely to use: one float32 accumulator per output, summed in a naive order
 * unlike the reference's, with float32 exp and log. Every op that accumulates is
 * reimplemented that way here (the selections and copies stay the reference's); the whole
 * test table must pass on it, and the largest NMSE per op is printed for the record. */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "backend/backend-impl.h"
#include "harness-impl.h"

#define PTR(type, t) FCNN_HOST_PTR(type, t)

/* Output-stationary, taps outermost and input channels innermost, one float sum: the
 * shape of a simple direct-convolution kernel. */
static int f32_conv2d_fwd(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg x = call->t[0], w = call->t[1], b = call->t[2], y = call->t[3];
    const struct fcnn_conv2d_params *p = &call->p.conv;
    const float *X = PTR(const float, x), *W = PTR(const float, w);
    const float *B = b ? PTR(const float, b) : NULL;
    float *Y = PTR(float, y);
    int N = x->shape[0], H = x->shape[1], Wd = x->shape[2], C = x->shape[3];
    int KH = w->shape[0], KW = w->shape[1], K = w->shape[3], HO = y->shape[1], WO = y->shape[2];
    for (int n = 0; n < N; n++)
        for (int oh = 0; oh < HO; oh++)
            for (int ow = 0; ow < WO; ow++)
                for (int k = 0; k < K; k++) {
                    float acc = 0;
                    for (int i = 0; i < KH; i++)
                        for (int j = 0; j < KW; j++) {
                            int ih = oh * p->sh - p->pad_top + i, iw = ow * p->sw - p->pad_left + j;
                            if (ih < 0 || ih >= H || iw < 0 || iw >= Wd)
                                continue;
                            for (int c = 0; c < C; c++)
                                acc += X[((n * H + ih) * Wd + iw) * C + c] *
                                       W[((i * KW + j) * C + c) * K + k];
                        }
                    if (B)
                        acc += B[k];
                    Y[((n * HO + oh) * WO + ow) * K + k] =
                        p->act == FCNN_ACT_RELU && acc < 0 ? 0 : acc;
                }
    return FCNN_OK;
}

static int f32_conv2d_bwd_data(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg dy = call->t[0], w = call->t[1], dx = call->t[2];
    const struct fcnn_conv2d_params *p = &call->p.conv;
    const float *DY = PTR(const float, dy), *W = PTR(const float, w);
    float *DX = PTR(float, dx);
    int N = dx->shape[0], H = dx->shape[1], Wd = dx->shape[2], C = dx->shape[3];
    int KH = w->shape[0], KW = w->shape[1], K = w->shape[3], HO = dy->shape[1], WO = dy->shape[2];
    for (int n = 0; n < N; n++)
        for (int ih = 0; ih < H; ih++)
            for (int iw = 0; iw < Wd; iw++)
                for (int c = 0; c < C; c++) {
                    float acc = 0;
                    for (int k = 0; k < K; k++)
                        for (int i = 0; i < KH; i++)
                            for (int j = 0; j < KW; j++) {
                                int th = ih + p->pad_top - i, tw = iw + p->pad_left - j;
                                if (th < 0 || tw < 0 || th % p->sh || tw % p->sw ||
                                    th / p->sh >= HO || tw / p->sw >= WO)
                                    continue;
                                acc += DY[((n * HO + th / p->sh) * WO + tw / p->sw) * K + k] *
                                       W[((i * KW + j) * C + c) * K + k];
                            }
                    DX[((n * H + ih) * Wd + iw) * C + c] = acc;
                }
    return FCNN_OK;
}

/* One float sum per weight over the whole batch: tens of thousands of terms. */
static int f32_conv2d_bwd_filter(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg x = call->t[0], dy = call->t[1], dw = call->t[2];
    const struct fcnn_conv2d_params *p = &call->p.conv;
    const float *X = PTR(const float, x), *DY = PTR(const float, dy);
    float *DW = PTR(float, dw);
    int N = x->shape[0], H = x->shape[1], Wd = x->shape[2], C = x->shape[3];
    int KH = dw->shape[0], KW = dw->shape[1], K = dw->shape[3], HO = dy->shape[1], WO = dy->shape[2];
    for (int i = 0; i < KH; i++)
        for (int j = 0; j < KW; j++)
            for (int c = 0; c < C; c++)
                for (int k = 0; k < K; k++) {
                    float acc = 0;
                    for (int n = 0; n < N; n++)
                        for (int oh = 0; oh < HO; oh++)
                            for (int ow = 0; ow < WO; ow++) {
                                int ih = oh * p->sh - p->pad_top + i;
                                int iw = ow * p->sw - p->pad_left + j;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= Wd)
                                    continue;
                                acc += X[((n * H + ih) * Wd + iw) * C + c] *
                                       DY[((n * HO + oh) * WO + ow) * K + k];
                            }
                    DW[((i * KW + j) * C + c) * K + k] = acc;
                }
    return FCNN_OK;
}

static int f32_bias_bwd(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg dy = call->t[0], db = call->t[1];
    const float *DY = PTR(const float, dy);
    float *DB = PTR(float, db);
    size_t K = (size_t)db->shape[0], rows = fcnn_tensor_count(dy) / K;
    for (size_t k = 0; k < K; k++) {
        float s = 0;
        for (size_t r = 0; r < rows; r++)
            s += DY[r * K + k];
        DB[k] = s;
    }
    return FCNN_OK;
}

static int f32_dense_fwd(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg x = call->t[0], w = call->t[1], b = call->t[2], y = call->t[3];
    enum fcnn_activation act = call->p.act;
    const float *X = PTR(const float, x), *W = PTR(const float, w);
    const float *B = b ? PTR(const float, b) : NULL; /* use_bias=False */
    float *Y = PTR(float, y);
    int N = x->shape[0], D = x->shape[1], K = w->shape[1];
    for (int n = 0; n < N; n++)
        for (int k = 0; k < K; k++) {
            float acc = B ? B[k] : 0;
            for (int d = 0; d < D; d++)
                acc += X[n * D + d] * W[d * K + k];
            Y[n * K + k] = act == FCNN_ACT_RELU && acc < 0 ? 0 : acc;
        }
    return FCNN_OK;
}

static int f32_dense_bwd_data(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg dy = call->t[0], w = call->t[1], dx = call->t[2];
    const float *DY = PTR(const float, dy), *W = PTR(const float, w);
    float *DX = PTR(float, dx);
    int N = dy->shape[0], K = dy->shape[1], D = w->shape[0];
    for (int n = 0; n < N; n++)
        for (int d = 0; d < D; d++) {
            float acc = 0;
            for (int k = K - 1; k >= 0; k--) /* backwards, unlike the reference */
                acc += DY[n * K + k] * W[d * K + k];
            DX[n * D + d] = acc;
        }
    return FCNN_OK;
}

static int f32_dense_bwd_weights(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg x = call->t[0], dy = call->t[1], dw = call->t[2];
    const float *X = PTR(const float, x), *DY = PTR(const float, dy);
    float *DW = PTR(float, dw);
    int N = x->shape[0], D = x->shape[1], K = dy->shape[1];
    for (int d = 0; d < D; d++)
        for (int k = 0; k < K; k++) {
            float acc = 0;
            for (int n = 0; n < N; n++)
                acc += X[n * D + d] * DY[n * K + k];
            DW[d * K + k] = acc;
        }
    return FCNN_OK;
}

static int f32_softmax_xent(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg logits = call->t[0], labels = call->t[1], dlogits = call->t[2],
                    loss = call->t[3], pred = call->t[4];
    float grad_scale = call->p.grad_scale;
    const float *L = PTR(const float, logits);
    const int32_t *LABEL = PTR(const int32_t, labels);
    float *DL = dlogits ? PTR(float, dlogits) : NULL, *LOSS = PTR(float, loss);
    int32_t *PRED = PTR(int32_t, pred);
    int N = logits->shape[0], K = logits->shape[1];
    for (int n = 0; n < N; n++) {
        const float *row = L + n * K;
        int best = 0;
        for (int k = 1; k < K; k++)
            if (row[k] > row[best])
                best = k;
        float max = row[best], sum = 0;
        for (int k = 0; k < K; k++)
            sum += expf(row[k] - max);
        LOSS[n] = logf(sum) - (row[LABEL[n]] - max);
        PRED[n] = best;
        if (DL)
            for (int k = 0; k < K; k++)
                DL[n * K + k] = (expf(row[k] - max) / sum - (k == LABEL[n])) * grad_scale;
    }
    return FCNN_OK;
}

static int f32_sgd_update(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg param = call->t[0], grad = call->t[1];
    const struct fcnn_sgd_params *p = &call->p.sgd;
    float *P = PTR(float, param);
    const float *G = PTR(const float, grad);
    for (size_t i = 0; i < fcnn_tensor_count(param); i++)
        P[i] -= p->lr * G[i];
    return FCNN_OK;
}

static int f32_momentum_update(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg param = call->t[0], grad = call->t[1], velocity = call->t[2];
    const struct fcnn_momentum_params *p = &call->p.momentum;
    float *P = PTR(float, param), *V = PTR(float, velocity);
    const float *G = PTR(const float, grad);
    for (size_t i = 0; i < fcnn_tensor_count(param); i++) {
        V[i] = p->momentum * V[i] - p->lr * G[i];
        P[i] += V[i];
    }
    return FCNN_OK;
}

static int f32_adam_update(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg param = call->t[0], grad = call->t[1], m = call->t[2], v = call->t[3];
    const struct fcnn_adam_params *p = &call->p.adam;
    float *P = PTR(float, param), *M = PTR(float, m), *V = PTR(float, v);
    const float *G = PTR(const float, grad);
    for (size_t i = 0; i < fcnn_tensor_count(param); i++) {
        M[i] = p->beta1 * M[i] + (1 - p->beta1) * G[i];
        V[i] = p->beta2 * V[i] + (1 - p->beta2) * G[i] * G[i];
        P[i] -= p->alpha * M[i] / (sqrtf(V[i]) + p->epsilon);
    }
    return FCNN_OK;
}

int main(void)
{
    struct fcnn_backend_ops ops = fcnn_ref_backend_ops;
    ops.run[FCNN_OP_CONV2D_FWD] = f32_conv2d_fwd;
    ops.run[FCNN_OP_CONV2D_BWD_DATA] = f32_conv2d_bwd_data;
    ops.run[FCNN_OP_CONV2D_BWD_FILTER] = f32_conv2d_bwd_filter;
    ops.run[FCNN_OP_BIAS_BWD] = f32_bias_bwd;
    ops.run[FCNN_OP_DENSE_FWD] = f32_dense_fwd;
    ops.run[FCNN_OP_DENSE_BWD_DATA] = f32_dense_bwd_data;
    ops.run[FCNN_OP_DENSE_BWD_WEIGHTS] = f32_dense_bwd_weights;
    ops.run[FCNN_OP_SOFTMAX_XENT] = f32_softmax_xent;
    ops.run[FCNN_OP_SGD_UPDATE] = f32_sgd_update;
    ops.run[FCNN_OP_MOMENTUM_UPDATE] = f32_momentum_update;
    ops.run[FCNN_OP_ADAM_UPDATE] = f32_adam_update;

    struct fcnn_backend *ref, *f32;
    if (fcnn_backend_open("ref", NULL, &ref) != FCNN_OK ||
        fcnn_backend_open_ops("float32", &ops, NULL, &f32) != FCNN_OK) {
        printf("cannot open the backends: %s\n", fcnn_last_error());
        return 99;
    }

    struct harness h;
    harness_init(&h, HARNESS_TEST, stdout);
    h.verbose = true; /* the NMSE of every output, for the record */
    harness_run_test(&h, ref, &f32, 1);
    harness_print_totals(&h);
    int failed = h.failed;
    harness_free(&h);

    /* And grad mode, whose rounding bound assumes exactly this kind of forward. */
    harness_init(&h, HARNESS_GRAD, stdout);
    harness_run_grad(&h, f32);
    harness_print_totals(&h);
    failed += h.failed;
    harness_free(&h);

    fcnn_backend_close(f32);
    fcnn_backend_close(ref);
    printf("%s\n", failed ? "FAIL: the harness rejects a correct float32 backend"
                          : "the harness accepts a correct float32 backend");
    return failed ? 1 : 0;
}
