/* The op table: one descriptor per op (its tensors with their roles, dtypes and ranks,
 * the parameter member it reads, the check that relates shapes and parameters, its work
 * estimate). The dispatcher, the harness, traces, benchmarks and profiles read only this,
 * so adding an op is its FCNN_OP_LIST line, its descriptor here, its parameter struct in
 * fcnn_op_call (if any), and then its backend functions. */
#include <config.h>

#include "backend/backend.h"
#include "core/status.h"

/* --- shape rules shared by several ops --- */

static bool same_shape(const struct fcnn_tensor *a, const struct fcnn_tensor *b)
{
    if (a->ndim != b->ndim)
        return false;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != b->shape[d])
            return false;
    return true;
}

static int check_same_shape(const struct fcnn_op_call *call, int i, int j)
{
    if (!same_shape(call->t[i], call->t[j]))
        return fcnn_op_invalid(call, "tensors '%s' and '%s' must have the same shape",
                               fcnn_op_tensor_name(call->op, i), fcnn_op_tensor_name(call->op, j));
    return FCNN_OK;
}

/* Every present tensor has the shape of tensor 0 (elementwise ops, optimizer updates). */
static int check_all_same_shape(const struct fcnn_op_call *call)
{
    for (int i = 1; i < fcnn_op_tensor_count(call->op); i++)
        if (call->t[i]) {
            int status = check_same_shape(call, 0, i);
            if (status != FCNN_OK)
                return status;
        }
    return FCNN_OK;
}

static bool activation_known(enum fcnn_activation act)
{
    return act == FCNN_ACT_NONE || act == FCNN_ACT_RELU;
}

/* x [N,H,W,C], w [KH,KW,C,K], y [N,HO,WO,K] with HO, WO given by strides and padding,
 * and divided by `pool` (rounding down) when a pooling follows. */
static int conv_pooled_shapes(const struct fcnn_op_call *call, const struct fcnn_tensor *x,
                              const struct fcnn_tensor *w, const struct fcnn_tensor *y, int pool)
{
    const struct fcnn_conv2d_params *p = &call->p.conv;
    if (p->sh < 1 || p->sw < 1)
        return fcnn_op_invalid(call, "strides %dx%d must be >= 1", p->sh, p->sw);
    if (p->pad_top < 0 || p->pad_bottom < 0 || p->pad_left < 0 || p->pad_right < 0)
        return fcnn_op_invalid(call, "padding %d,%d,%d,%d (top, bottom, left, right) must be "
                               ">= 0", p->pad_top, p->pad_bottom, p->pad_left, p->pad_right);
    if (!activation_known(p->act))
        return fcnn_op_invalid(call, "unknown activation %d", (int)p->act);
    if (x->shape[3] != w->shape[2])
        return fcnn_op_invalid(call, "input has %d channels but the kernel expects %d",
                               x->shape[3], w->shape[2]);
    if (y->shape[0] != x->shape[0])
        return fcnn_op_invalid(call, "batch sizes differ: %d and %d", x->shape[0], y->shape[0]);
    if (y->shape[3] != w->shape[3])
        return fcnn_op_invalid(call, "output has %d channels but the kernel makes %d",
                               y->shape[3], w->shape[3]);
    int ho = fcnn_window_out(x->shape[1], p->pad_top, p->pad_bottom, w->shape[0], p->sh);
    int wo = fcnn_window_out(x->shape[2], p->pad_left, p->pad_right, w->shape[1], p->sw);
    if (ho < 1 || wo < 1)
        return fcnn_op_invalid(call, "a %dx%d kernel does not fit a padded %dx%d input",
                               w->shape[0], w->shape[1], x->shape[1], x->shape[2]);
    if (pool > 1) {
        if (ho < pool || wo < pool)
            return fcnn_op_invalid(call, "a %dx%d pooling window does not fit the %dx%d "
                                   "convolution output", pool, pool, ho, wo);
        ho /= pool;
        wo /= pool;
    }
    if (y->shape[1] != ho || y->shape[2] != wo)
        return fcnn_op_invalid(call, "output must be %dx%d for this input, kernel, strides%s "
                               "and padding", ho, wo, pool > 1 ? ", pooling" : "");
    return FCNN_OK;
}

static int conv_shapes(const struct fcnn_op_call *call, const struct fcnn_tensor *x,
                       const struct fcnn_tensor *w, const struct fcnn_tensor *y)
{
    return conv_pooled_shapes(call, x, w, y, 1);
}

/* x [N,H,W,C] and y [N,HO,WO,C]: a window that fits, padding smaller than the window (so
 * that every window holds a real position), and the output size it gives. */
static int pool_shapes(const struct fcnn_op_call *call, const struct fcnn_tensor *x,
                       const struct fcnn_tensor *y)
{
    const struct fcnn_pool_params *p = &call->p.pool;
    if (p->ph < 1 || p->pw < 1 || p->sh < 1 || p->sw < 1)
        return fcnn_op_invalid(call, "window %dx%d and strides %dx%d must be >= 1", p->ph, p->pw,
                               p->sh, p->sw);
    if (p->pad_top < 0 || p->pad_bottom < 0 || p->pad_left < 0 || p->pad_right < 0 ||
        p->pad_top >= p->ph || p->pad_bottom >= p->ph || p->pad_left >= p->pw ||
        p->pad_right >= p->pw)
        return fcnn_op_invalid(call, "padding %d,%d,%d,%d (top, bottom, left, right) must be "
                               ">= 0 and smaller than the %dx%d window", p->pad_top,
                               p->pad_bottom, p->pad_left, p->pad_right, p->ph, p->pw);
    if (x->shape[0] != y->shape[0] || x->shape[3] != y->shape[3])
        return fcnn_op_invalid(call, "input [%d,..,%d] and output [%d,..,%d] differ in batch or "
                               "channels", x->shape[0], x->shape[3], y->shape[0], y->shape[3]);
    int ho = fcnn_window_out(x->shape[1], p->pad_top, p->pad_bottom, p->ph, p->sh);
    int wo = fcnn_window_out(x->shape[2], p->pad_left, p->pad_right, p->pw, p->sw);
    if (ho < 1 || wo < 1)
        return fcnn_op_invalid(call, "a %dx%d window does not fit a padded %dx%d input", p->ph,
                               p->pw, x->shape[1], x->shape[2]);
    if (y->shape[1] != ho || y->shape[2] != wo)
        return fcnn_op_invalid(call, "output must be %dx%d for this input, window, strides and "
                               "padding", ho, wo);
    return FCNN_OK;
}

/* x [N,H,W,C] and y [N,C]. */
static int global_pool_shapes(const struct fcnn_op_call *call, const struct fcnn_tensor *x,
                              const struct fcnn_tensor *y)
{
    if (x->shape[0] != y->shape[0] || x->shape[3] != y->shape[1])
        return fcnn_op_invalid(call, "input [%d,..,%d] and output [%d,%d] differ in batch or "
                               "channels", x->shape[0], x->shape[3], y->shape[0], y->shape[1]);
    return FCNN_OK;
}

/* x [N,D], w [D,K], y [N,K]. */
static int dense_shapes(const struct fcnn_op_call *call, const struct fcnn_tensor *x,
                        const struct fcnn_tensor *w, const struct fcnn_tensor *y)
{
    if (x->shape[1] != w->shape[0])
        return fcnn_op_invalid(call, "input has %d features but the kernel expects %d",
                               x->shape[1], w->shape[0]);
    if (y->shape[0] != x->shape[0] || y->shape[1] != w->shape[1])
        return fcnn_op_invalid(call, "output must be [batch, %d], got second dim %d",
                               w->shape[1], y->shape[1]);
    return FCNN_OK;
}

static int bias_entries(const struct fcnn_op_call *call, const struct fcnn_tensor *b,
                        int channels)
{
    if (b->shape[0] != channels)
        return fcnn_op_invalid(call, "bias has %d entries for %d channels", b->shape[0],
                               channels);
    return FCNN_OK;
}

#define TRY(status)                                                                        \
    do {                                                                                   \
        int try_status_ = (status);                                                        \
        if (try_status_ != FCNN_OK)                                                        \
            return try_status_;                                                            \
    } while (0)

/* Every output-shaped element is a dot product over one kernel window: KH*KW*C products. */
static double conv_flops(const struct fcnn_tensor *output_shaped, const struct fcnn_tensor *kernel)
{
    return 2.0 * (double)fcnn_tensor_count(output_shaped) * kernel->shape[0] * kernel->shape[1] *
           kernel->shape[2];
}

/* --- per-op checks and work, in the order of the table --- */

static int load_batch_check(const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *const *t = call->t; /* images, labels, order, x, y */
    if (t[1]->shape[0] != t[0]->shape[0])
        return fcnn_op_invalid(call, "%d images but %d labels", t[0]->shape[0], t[1]->shape[0]);
    for (int d = 1; d < 4; d++)
        if (t[3]->shape[d] != t[0]->shape[d])
            return fcnn_op_invalid(call, "batch sample dimension %d differs from the dataset's "
                                   "(%d)", d, t[0]->shape[d]);
    if (t[4]->shape[0] != t[3]->shape[0])
        return fcnn_op_invalid(call, "batch has %d samples but %d label slots", t[3]->shape[0],
                               t[4]->shape[0]);
    if (call->p.start < 0 || call->p.start > t[2]->shape[0] - t[3]->shape[0])
        return fcnn_op_invalid(call, "samples from %d on overrun an order of %d", call->p.start,
                               t[2]->shape[0]);
    return FCNN_OK;
}

static int augment_check(const struct fcnn_op_call *call) /* x, params, y */
{
    TRY(check_same_shape(call, 0, 2));
    /* Each output element gathers from around its source position: in place, it would
     * read elements already written. */
    const struct fcnn_tensor *x = call->t[0], *y = call->t[2];
    size_t bytes = fcnn_tensor_count(x) * sizeof(float);
    if (x->buffer == y->buffer && x->offset < y->offset + bytes && y->offset < x->offset + bytes)
        return fcnn_op_invalid(call, "x and y overlap: the op cannot run in place");
    const struct fcnn_tensor *params = call->t[1];
    if (params->shape[0] != call->t[0]->shape[0] || params->shape[1] != 4)
        return fcnn_op_invalid(call, "params must be [%d, 4] (flip, shift_rows, shift_cols, "
                               "angle per sample), not [%d, %d]", call->t[0]->shape[0],
                               params->shape[0], params->shape[1]);
    return FCNN_OK;
}
/* Per output element: the source position (a 2x2 rotation and a shift) and a bilinear
 * blend of four taps. */
static double augment_flops(const struct fcnn_op_call *call)
{
    return 20.0 * (double)fcnn_tensor_count(call->t[2]);
}

static int conv2d_fwd_check(const struct fcnn_op_call *call) /* x, w, b, y */
{
    TRY(conv_shapes(call, call->t[0], call->t[1], call->t[3]));
    if (!call->t[2]) /* use_bias=False */
        return FCNN_OK;
    return bias_entries(call, call->t[2], call->t[1]->shape[3]);
}
static double conv2d_fwd_flops(const struct fcnn_op_call *call)
{
    return conv_flops(call->t[3], call->t[1]);
}

static int conv2d_pool_fwd_check(const struct fcnn_op_call *call) /* x, w, b, y */
{
    if (call->p.conv.pool < 2)
        return fcnn_op_invalid(call, "pooling window %d must be >= 2", call->p.conv.pool);
    TRY(conv_pooled_shapes(call, call->t[0], call->t[1], call->t[3], call->p.conv.pool));
    if (!call->t[2])
        return FCNN_OK;
    return bias_entries(call, call->t[2], call->t[1]->shape[3]);
}
/* The convolution's multiply-adds over its whole output: every output is computed, then
 * pooled. */
static double conv2d_pool_fwd_flops(const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0], *w = call->t[1];
    const struct fcnn_conv2d_params *p = &call->p.conv;
    double ho = fcnn_window_out(x->shape[1], p->pad_top, p->pad_bottom, w->shape[0], p->sh);
    double wo = fcnn_window_out(x->shape[2], p->pad_left, p->pad_right, w->shape[1], p->sw);
    return 2.0 * x->shape[0] * ho * wo * w->shape[3] * w->shape[0] * w->shape[1] * w->shape[2];
}

static int conv2d_bwd_data_check(const struct fcnn_op_call *call) /* dy, w, dx */
{
    return conv_shapes(call, call->t[2], call->t[1], call->t[0]);
}
static double conv2d_bwd_data_flops(const struct fcnn_op_call *call)
{
    return conv_flops(call->t[0], call->t[1]);
}

static int conv2d_bwd_filter_check(const struct fcnn_op_call *call) /* x, dy, dw */
{
    return conv_shapes(call, call->t[0], call->t[2], call->t[1]);
}
static double conv2d_bwd_filter_flops(const struct fcnn_op_call *call)
{
    return conv_flops(call->t[1], call->t[2]);
}

static int bias_bwd_check(const struct fcnn_op_call *call) /* dy, db */
{
    const struct fcnn_tensor *dy = call->t[0];
    return bias_entries(call, call->t[1], dy->shape[dy->ndim - 1]);
}

static int maxpool_fwd_check(const struct fcnn_op_call *call) /* x, y */
{
    return pool_shapes(call, call->t[0], call->t[1]);
}

static int maxpool_bwd_check(const struct fcnn_op_call *call) /* x, dy, dx */
{
    TRY(check_same_shape(call, 0, 2));
    return pool_shapes(call, call->t[0], call->t[1]);
}

static int avgpool_fwd_check(const struct fcnn_op_call *call) /* x, y */
{
    return pool_shapes(call, call->t[0], call->t[1]);
}

static int avgpool_bwd_check(const struct fcnn_op_call *call) /* dy, dx: dx plays x */
{
    return pool_shapes(call, call->t[1], call->t[0]);
}

static int global_avgpool_fwd_check(const struct fcnn_op_call *call) /* x, y */
{
    return global_pool_shapes(call, call->t[0], call->t[1]);
}

static int global_avgpool_bwd_check(const struct fcnn_op_call *call) /* dy, dx */
{
    return global_pool_shapes(call, call->t[1], call->t[0]);
}

static int dense_fwd_check(const struct fcnn_op_call *call) /* x, w, b, y */
{
    if (!activation_known(call->p.act))
        return fcnn_op_invalid(call, "unknown activation %d", (int)call->p.act);
    TRY(dense_shapes(call, call->t[0], call->t[1], call->t[3]));
    return call->t[2] ? bias_entries(call, call->t[2], call->t[1]->shape[1]) : FCNN_OK;
}
static double dense_fwd_flops(const struct fcnn_op_call *call) /* x [N,D], w [D,K] */
{
    return 2.0 * call->t[0]->shape[0] * (double)fcnn_tensor_count(call->t[1]);
}

static int dense_bwd_data_check(const struct fcnn_op_call *call) /* dy, w, dx */
{
    return dense_shapes(call, call->t[2], call->t[1], call->t[0]);
}
static double dense_bwd_data_flops(const struct fcnn_op_call *call) /* dy [N,K], w [D,K] */
{
    return 2.0 * call->t[0]->shape[0] * (double)fcnn_tensor_count(call->t[1]);
}

static int dense_bwd_weights_check(const struct fcnn_op_call *call) /* x, dy, dw */
{
    return dense_shapes(call, call->t[0], call->t[2], call->t[1]);
}
static double dense_bwd_weights_flops(const struct fcnn_op_call *call) /* x [N,D], dw [D,K] */
{
    return 2.0 * call->t[0]->shape[0] * (double)fcnn_tensor_count(call->t[2]);
}

/* logits, labels, dlogits (optional), loss, pred */
static int softmax_xent_check(const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *const *t = call->t;
    if (t[2])
        TRY(check_same_shape(call, 0, 2));
    for (int i = 1; i < 5; i++)
        if (t[i] && t[i]->shape[0] != t[0]->shape[0])
            return fcnn_op_invalid(call, "logits have %d rows but another tensor has %d",
                                   t[0]->shape[0], t[i]->shape[0]);
    return FCNN_OK;
}

/* x and y, or y, dy and dx: one shape; an activation with a derivative from its output. */
static int activation_check(const struct fcnn_op_call *call)
{
    enum fcnn_activation act = call->p.act;
    if (act != FCNN_ACT_RELU && act != FCNN_ACT_SIGMOID && act != FCNN_ACT_TANH)
        return fcnn_op_invalid(call, "activation must be relu, sigmoid or tanh, not %s",
                               fcnn_activation_name(act));
    return check_all_same_shape(call);
}

static int dropout_check(const struct fcnn_op_call *call)
{
    float rate = call->p.dropout.rate;
    if (!(rate >= 0.0f && rate < 1.0f))
        return fcnn_op_invalid(call, "rate %g is not in [0, 1)", (double)rate);
    return check_all_same_shape(call);
}

/* With a fused pooling (pool P): x [N, H, W, C] with H and W multiples of P, and the
 * pooled tensor `pooled` [N, H/P, W/P, C]. */
static int batchnorm_pooled_shapes(const struct fcnn_op_call *call, int x, int pooled)
{
    const struct fcnn_tensor *in = call->t[x], *out = call->t[pooled];
    int pool = call->p.batchnorm.pool;
    if (pool < 2)
        return fcnn_op_invalid(call, "pool %d must be 0 (none) or at least 2", pool);
    if (in->ndim != 4 || in->shape[1] % pool || in->shape[2] % pool)
        return fcnn_op_invalid(call, "a fused %dx%d pooling needs '%s' of [N, H, W, C] with H "
                               "and W multiples of %d", pool, pool,
                               fcnn_op_tensor_name(call->op, x), pool);
    int want[4] = { in->shape[0], in->shape[1] / pool, in->shape[2] / pool, in->shape[3] };
    bool fits = out->ndim == 4;
    for (int i = 0; fits && i < 4; i++)
        fits = out->shape[i] == want[i];
    if (!fits)
        return fcnn_op_invalid(call, "'%s' must be [%d, %d, %d, %d], '%s' pooled %dx%d",
                               fcnn_op_tensor_name(call->op, pooled), want[0], want[1], want[2],
                               want[3], fcnn_op_tensor_name(call->op, x), pool, pool);
    return FCNN_OK;
}

/* x and y [..., C] (y pooled with a fused pooling; y < 0: checked already); every
 * per-channel tensor [C]. */
static int batchnorm_shapes(const struct fcnn_op_call *call, int x, int y, int first_channel,
                            int last_channel)
{
    const struct fcnn_batchnorm_params *p = &call->p.batchnorm;
    if (!(p->epsilon > 0.0f) || !(p->momentum >= 0.0f && p->momentum <= 1.0f))
        return fcnn_op_invalid(call, "epsilon %g must be > 0 and momentum %g in [0, 1]",
                               (double)p->epsilon, (double)p->momentum);
    if (p->act != FCNN_ACT_NONE && p->act != FCNN_ACT_RELU)
        return fcnn_op_invalid(call, "the fused activation must be linear or relu, not %s",
                               fcnn_activation_name(p->act));
    if (y >= 0 && p->pool)
        TRY(batchnorm_pooled_shapes(call, x, y));
    else if (y >= 0)
        TRY(check_same_shape(call, x, y));
    int channels = call->t[x]->shape[call->t[x]->ndim - 1];
    for (int i = first_channel; i <= last_channel; i++)
        if (call->t[i]->shape[0] != channels)
            return fcnn_op_invalid(call, "'%s' has %d entries for %d channels",
                                   fcnn_op_tensor_name(call->op, i), call->t[i]->shape[0],
                                   channels);
    return FCNN_OK;
}

/* x, gamma, beta, moving_mean, moving_variance, y, mean, inv_std */
static int batchnorm_fwd_train_check(const struct fcnn_op_call *call)
{
    TRY(batchnorm_shapes(call, 0, 5, 1, 4));
    TRY(check_same_shape(call, 1, 6));
    return check_same_shape(call, 1, 7);
}

/* x, gamma, beta, moving_mean, moving_variance, y */
static int batchnorm_fwd_infer_check(const struct fcnn_op_call *call)
{
    if (call->p.batchnorm.pool)
        return fcnn_op_invalid(call, "evaluation takes no fused pooling");
    return batchnorm_shapes(call, 0, 5, 1, 4);
}

/* x, dy, gamma, mean, inv_std, dx (optional: the first layer has none), dgamma, dbeta, beta
 * (given exactly when the forward's values are recomputed: a fused ReLU or pooling) */
static int batchnorm_bwd_check(const struct fcnn_op_call *call)
{
    const struct fcnn_batchnorm_params *p = &call->p.batchnorm;
    bool recomputed = p->act == FCNN_ACT_RELU || p->pool;
    if (recomputed != (call->t[8] != NULL))
        return fcnn_op_invalid(call, recomputed ? "a fused relu or pooling needs 'beta'"
                                                : "'beta' is given only with a fused relu "
                                                  "or pooling");
    if (recomputed)
        TRY(check_same_shape(call, 2, 8));
    if (p->pool) {
        TRY(batchnorm_pooled_shapes(call, 0, 1));
        if (call->t[5])
            TRY(check_same_shape(call, 0, 5));
    } else {
        TRY(check_same_shape(call, 0, 1));
    }
    TRY(batchnorm_shapes(call, 0, p->pool ? -1 : call->t[5] ? 5 : 1, 2, 4));
    TRY(check_same_shape(call, 2, 6));
    return check_same_shape(call, 2, 7);
}

/* --- the table --- */

#define F32 FCNN_F32
#define I32 FCNN_I32
#define U8 FCNN_U8
#define ANY FCNN_ANY_RANK
#define IN(name, dtype, rank) { name, FCNN_IN, dtype, rank, false }
#define OPT_IN(name, dtype, rank) { name, FCNN_IN, dtype, rank, true }
#define OUT(name, dtype, rank) { name, FCNN_OUT, dtype, rank, false }
#define OPT_IN(name, dtype, rank) { name, FCNN_IN, dtype, rank, true }
#define OPT_OUT(name, dtype, rank) { name, FCNN_OUT, dtype, rank, true }
#define INOUT(name, dtype, rank) { name, FCNN_INOUT, dtype, rank, false }

static const struct fcnn_op_desc table[FCNN_OP_COUNT] = {
    [FCNN_OP_LOAD_BATCH] = {
        .param = "start", .tensor_count = 5,
        .t = { IN("images", U8, 4), IN("labels", U8, 1), IN("order", I32, 1),
               OUT("x", F32, 4), OUT("y", I32, 1) },
        .check = load_batch_check },
    [FCNN_OP_AUGMENT] = {
        .tensor_count = 3,
        .t = { IN("x", F32, 4), IN("params", F32, 2), OUT("y", F32, 4) },
        .check = augment_check, .flops = augment_flops },
    [FCNN_OP_CONV2D_FWD] = {
        .param = "conv", .tensor_count = 4,
        .t = { IN("x", F32, 4), IN("w", F32, 4), OPT_IN("b", F32, 1), OUT("y", F32, 4) },
        .check = conv2d_fwd_check, .flops = conv2d_fwd_flops },
    [FCNN_OP_CONV2D_POOL_FWD] = {
        .param = "conv", .tensor_count = 4,
        .t = { IN("x", F32, 4), IN("w", F32, 4), OPT_IN("b", F32, 1), OUT("y", F32, 4) },
        .check = conv2d_pool_fwd_check, .flops = conv2d_pool_fwd_flops },
    [FCNN_OP_CONV2D_BWD_DATA] = {
        .param = "conv", .tensor_count = 3,
        .t = { IN("dy", F32, 4), IN("w", F32, 4), OUT("dx", F32, 4) },
        .check = conv2d_bwd_data_check, .flops = conv2d_bwd_data_flops },
    [FCNN_OP_CONV2D_BWD_FILTER] = {
        .param = "conv", .tensor_count = 3,
        .t = { IN("x", F32, 4), IN("dy", F32, 4), OUT("dw", F32, 4) },
        .check = conv2d_bwd_filter_check, .flops = conv2d_bwd_filter_flops },
    [FCNN_OP_BIAS_BWD] = {
        .tensor_count = 2,
        .t = { IN("dy", F32, ANY), OUT("db", F32, 1) },
        .check = bias_bwd_check },
    [FCNN_OP_MAXPOOL_FWD] = {
        .param = "pool", .tensor_count = 2,
        .t = { IN("x", F32, 4), OUT("y", F32, 4) },
        .check = maxpool_fwd_check },
    [FCNN_OP_MAXPOOL_BWD] = {
        .param = "pool", .tensor_count = 3,
        .t = { IN("x", F32, 4), IN("dy", F32, 4), OUT("dx", F32, 4) },
        .check = maxpool_bwd_check },
    [FCNN_OP_AVGPOOL_FWD] = {
        .param = "pool", .tensor_count = 2,
        .t = { IN("x", F32, 4), OUT("y", F32, 4) },
        .check = avgpool_fwd_check },
    [FCNN_OP_AVGPOOL_BWD] = {
        .param = "pool", .tensor_count = 2,
        .t = { IN("dy", F32, 4), OUT("dx", F32, 4) },
        .check = avgpool_bwd_check },
    [FCNN_OP_GLOBAL_AVGPOOL_FWD] = {
        .tensor_count = 2,
        .t = { IN("x", F32, 4), OUT("y", F32, 2) },
        .check = global_avgpool_fwd_check },
    [FCNN_OP_GLOBAL_AVGPOOL_BWD] = {
        .tensor_count = 2,
        .t = { IN("dy", F32, 2), OUT("dx", F32, 4) },
        .check = global_avgpool_bwd_check },
    [FCNN_OP_RELU_BWD] = {
        .tensor_count = 3,
        .t = { IN("y", F32, ANY), IN("dy", F32, ANY), OUT("dx", F32, ANY) },
        .check = check_all_same_shape },
    [FCNN_OP_DENSE_FWD] = {
        .param = "act", .tensor_count = 4,
        .t = { IN("x", F32, 2), IN("w", F32, 2), OPT_IN("b", F32, 1), OUT("y", F32, 2) },
        .check = dense_fwd_check, .flops = dense_fwd_flops },
    [FCNN_OP_DENSE_BWD_DATA] = {
        .tensor_count = 3,
        .t = { IN("dy", F32, 2), IN("w", F32, 2), OUT("dx", F32, 2) },
        .check = dense_bwd_data_check, .flops = dense_bwd_data_flops },
    [FCNN_OP_DENSE_BWD_WEIGHTS] = {
        .tensor_count = 3,
        .t = { IN("x", F32, 2), IN("dy", F32, 2), OUT("dw", F32, 2) },
        .check = dense_bwd_weights_check, .flops = dense_bwd_weights_flops },
    [FCNN_OP_SOFTMAX_XENT] = {
        .param = "grad_scale", .tensor_count = 5,
        .t = { IN("logits", F32, 2), IN("labels", I32, 1), OPT_OUT("dlogits", F32, 2),
               OUT("loss", F32, 1), OUT("pred", I32, 1) },
        .check = softmax_xent_check },
    [FCNN_OP_SGD_UPDATE] = {
        .param = "sgd", .tensor_count = 2,
        .t = { INOUT("param", F32, 1), IN("grad", F32, 1) },
        .check = check_all_same_shape },
    [FCNN_OP_MOMENTUM_UPDATE] = {
        .param = "momentum", .tensor_count = 3,
        .t = { INOUT("param", F32, 1), IN("grad", F32, 1), INOUT("velocity", F32, 1) },
        .check = check_all_same_shape },
    [FCNN_OP_ADAM_UPDATE] = {
        .param = "adam", .tensor_count = 4,
        .t = { INOUT("param", F32, 1), IN("grad", F32, 1), INOUT("m", F32, 1),
               INOUT("v", F32, 1) },
        .check = check_all_same_shape },
    [FCNN_OP_RMSPROP_UPDATE] = {
        .param = "rmsprop", .tensor_count = 3,
        .t = { INOUT("param", F32, 1), IN("grad", F32, 1), INOUT("velocity", F32, 1) },
        .check = check_all_same_shape },
    [FCNN_OP_ADAMW_UPDATE] = {
        .param = "adamw", .tensor_count = 4,
        .t = { INOUT("param", F32, 1), IN("grad", F32, 1), INOUT("m", F32, 1),
               INOUT("v", F32, 1) },
        .check = check_all_same_shape },
    [FCNN_OP_ACTIVATION_FWD] = {
        .param = "act", .tensor_count = 2,
        .t = { IN("x", F32, ANY), OUT("y", F32, ANY) },
        .check = activation_check },
    [FCNN_OP_ACTIVATION_BWD] = {
        .param = "act", .tensor_count = 3,
        .t = { IN("y", F32, ANY), IN("dy", F32, ANY), OUT("dx", F32, ANY) },
        .check = activation_check },
    [FCNN_OP_DROPOUT_FWD] = {
        .param = "dropout", .tensor_count = 2,
        .t = { IN("x", F32, ANY), OUT("y", F32, ANY) },
        .check = dropout_check },
    [FCNN_OP_DROPOUT_BWD] = {
        .param = "dropout", .tensor_count = 2,
        .t = { IN("dy", F32, ANY), OUT("dx", F32, ANY) },
        .check = dropout_check },
    [FCNN_OP_BATCHNORM_FWD_TRAIN] = {
        .param = "batchnorm", .tensor_count = 8,
        .t = { IN("x", F32, ANY), IN("gamma", F32, 1), IN("beta", F32, 1),
               INOUT("moving_mean", F32, 1), INOUT("moving_variance", F32, 1),
               OUT("y", F32, ANY), OUT("mean", F32, 1), OUT("inv_std", F32, 1) },
        .check = batchnorm_fwd_train_check },
    [FCNN_OP_BATCHNORM_FWD_INFER] = {
        .param = "batchnorm", .tensor_count = 6,
        .t = { IN("x", F32, ANY), IN("gamma", F32, 1), IN("beta", F32, 1),
               IN("moving_mean", F32, 1), IN("moving_variance", F32, 1), OUT("y", F32, ANY) },
        .check = batchnorm_fwd_infer_check },
    [FCNN_OP_BATCHNORM_BWD] = {
        .param = "batchnorm", .tensor_count = 9,
        .t = { IN("x", F32, ANY), IN("dy", F32, ANY), IN("gamma", F32, 1), IN("mean", F32, 1),
               IN("inv_std", F32, 1), OPT_OUT("dx", F32, ANY), OUT("dgamma", F32, 1),
               OUT("dbeta", F32, 1), OPT_IN("beta", F32, 1) },
        .check = batchnorm_bwd_check },
};

const char *fcnn_activation_name(enum fcnn_activation act)
{
    switch (act) {
    case FCNN_ACT_NONE: return "linear";
    case FCNN_ACT_RELU: return "relu";
    case FCNN_ACT_SIGMOID: return "sigmoid";
    case FCNN_ACT_TANH: return "tanh";
    case FCNN_ACT_SOFTMAX: return "softmax";
    }
    return "?";
}

const struct fcnn_op_desc *fcnn_op_desc(enum fcnn_op op)
{
    return (unsigned)op < FCNN_OP_COUNT ? &table[op] : NULL;
}
