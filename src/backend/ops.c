/* The op dispatcher: one place that checks every call's descriptors, whatever the
 * backend, then asks the backend and runs its slot. Backends may trust what passes. */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend-impl.h"
#include "core/clock.h"

static const char *const op_names[FCNN_OP_COUNT] = {
#define FCNN_OP_NAME(id, name) [FCNN_OP_##id] = name,
    FCNN_OP_LIST(FCNN_OP_NAME)
#undef FCNN_OP_NAME
};

const char *fcnn_op_name(enum fcnn_op op)
{
    return (unsigned)op < FCNN_OP_COUNT ? op_names[op] : "?";
}

int fcnn_op_from_name(const char *name)
{
    for (int op = 0; op < FCNN_OP_COUNT; op++)
        if (strcmp(op_names[op], name) == 0)
            return op;
    return -1;
}

/* Each op's tensors: names, how they are used, which may be NULL. */
struct op_signature {
    int count;
    const char *names[FCNN_OP_MAX_TENSORS];
    enum fcnn_tensor_role roles[FCNN_OP_MAX_TENSORS];
    unsigned optional; /* bit i: tensor i may be NULL */
};

#define I FCNN_IN
#define O FCNN_OUT
#define U FCNN_INOUT
static const struct op_signature signatures[FCNN_OP_COUNT] = {
    [FCNN_OP_LOAD_BATCH] = { 5, { "images", "labels", "order", "x", "y" }, { I, I, I, O, O } },
    [FCNN_OP_CONV2D_FWD] = { 4, { "x", "w", "b", "y" }, { I, I, I, O }, 1u << 2 },
    [FCNN_OP_CONV2D_BWD_DATA] = { 3, { "dy", "w", "dx" }, { I, I, O } },
    [FCNN_OP_CONV2D_BWD_FILTER] = { 3, { "x", "dy", "dw" }, { I, I, O } },
    [FCNN_OP_BIAS_BWD] = { 2, { "dy", "db" }, { I, O } },
    [FCNN_OP_MAXPOOL_FWD] = { 2, { "x", "y" }, { I, O } },
    [FCNN_OP_MAXPOOL_BWD] = { 3, { "x", "dy", "dx" }, { I, I, O } },
    [FCNN_OP_RELU_BWD] = { 3, { "y", "dy", "dx" }, { I, I, O } },
    [FCNN_OP_DENSE_FWD] = { 4, { "x", "w", "b", "y" }, { I, I, I, O } },
    [FCNN_OP_DENSE_BWD_DATA] = { 3, { "dy", "w", "dx" }, { I, I, O } },
    [FCNN_OP_DENSE_BWD_WEIGHTS] = { 3, { "x", "dy", "dw" }, { I, I, O } },
    [FCNN_OP_SOFTMAX_XENT] = { 5, { "logits", "labels", "dlogits", "loss", "pred" },
                               { I, I, O, O, O }, 1u << 2 },
    [FCNN_OP_SGD_UPDATE] = { 2, { "param", "grad" }, { U, I } },
    [FCNN_OP_MOMENTUM_UPDATE] = { 3, { "param", "grad", "velocity" }, { U, I, U } },
    [FCNN_OP_ADAM_UPDATE] = { 4, { "param", "grad", "m", "v" }, { U, I, U, U } },
};
#undef I
#undef O
#undef U

int fcnn_op_tensor_count(enum fcnn_op op)
{
    return (unsigned)op < FCNN_OP_COUNT ? signatures[op].count : 0;
}

const char *fcnn_op_tensor_name(enum fcnn_op op, int i)
{
    return i >= 0 && i < fcnn_op_tensor_count(op) ? signatures[op].names[i] : "?";
}

enum fcnn_tensor_role fcnn_op_tensor_role(enum fcnn_op op, int i)
{
    return signatures[op].roles[i];
}

bool fcnn_op_tensor_optional(enum fcnn_op op, int i)
{
    return (signatures[op].optional >> i) & 1u;
}

/* --- validation --- */

#define CHECK(status)                                                                      \
    do {                                                                                   \
        int check_status_ = (status);                                                      \
        if (check_status_ != FCNN_OK)                                                      \
            return check_status_;                                                          \
    } while (0)

__attribute__((format(printf, 2, 3)))
static int invalid(const struct fcnn_op_call *call, const char *fmt, ...)
{
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return fcnn_error(FCNN_ERR_INVALID, "%s: %s", fcnn_op_name(call->op), what);
}

/* Tensor i has the dtype and rank the op needs, positive dimensions, an aligned offset,
 * and lies inside its buffer. */
static int check_tensor(const struct fcnn_op_call *call, int i, enum fcnn_dtype dtype, int ndim)
{
    const struct fcnn_tensor *t = call->t[i];
    const char *name = fcnn_op_tensor_name(call->op, i);
    if (!t)
        return fcnn_error(FCNN_ERR_INVALID, "%s: tensor '%s' is missing", fcnn_op_name(call->op),
                          name);
    if (t->dtype != dtype || t->ndim != ndim)
        return fcnn_error(FCNN_ERR_INVALID, "%s: tensor '%s' must be %s of rank %d, not %s of rank %d",
                          fcnn_op_name(call->op), name, fcnn_dtype_name(dtype), ndim,
                          fcnn_dtype_name(t->dtype), t->ndim);
    for (int d = 0; d < ndim; d++)
        if (t->shape[d] <= 0)
            return fcnn_error(FCNN_ERR_INVALID, "%s: tensor '%s' has dimension %d of size %d",
                              fcnn_op_name(call->op), name, d, t->shape[d]);
    if (!t->buffer)
        return fcnn_error(FCNN_ERR_INVALID, "%s: tensor '%s' has no buffer", fcnn_op_name(call->op),
                          name);
    if (t->offset % fcnn_dtype_size(dtype) != 0)
        return fcnn_error(FCNN_ERR_INVALID, "%s: tensor '%s' offset %zu is not aligned to its elements",
                          fcnn_op_name(call->op), name, t->offset);
    size_t bytes = fcnn_tensor_bytes(t);
    if (t->offset > t->buffer->size || bytes > t->buffer->size - t->offset)
        return fcnn_error(FCNN_ERR_INVALID,
                          "%s: tensor '%s' (%zu bytes at offset %zu) overruns its %zu-byte buffer",
                          fcnn_op_name(call->op), name, bytes, t->offset, t->buffer->size);
    return FCNN_OK;
}

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
        return fcnn_error(FCNN_ERR_INVALID, "%s: tensors '%s' and '%s' must have the same shape",
                          fcnn_op_name(call->op), fcnn_op_tensor_name(call->op, i),
                          fcnn_op_tensor_name(call->op, j));
    return FCNN_OK;
}

/* x [N,H,W,C], w [KH,KW,C,K], y [N,HO,WO,K] with HO, WO given by strides and padding. */
static int check_conv(const struct fcnn_op_call *call, const struct fcnn_tensor *x,
                      const struct fcnn_tensor *w, const struct fcnn_tensor *y)
{
    const struct fcnn_conv2d_params *p = &call->p.conv;
    if (p->sh < 1 || p->sw < 1)
        return invalid(call, "strides %dx%d must be >= 1", p->sh, p->sw);
    if (p->pad_top < 0 || p->pad_bottom < 0 || p->pad_left < 0 || p->pad_right < 0)
        return invalid(call, "padding %d,%d,%d,%d (top, bottom, left, right) must be >= 0",
                       p->pad_top, p->pad_bottom, p->pad_left, p->pad_right);
    if (p->act != FCNN_ACT_NONE && p->act != FCNN_ACT_RELU)
        return invalid(call, "unknown activation %d", (int)p->act);
    if (x->shape[3] != w->shape[2])
        return invalid(call, "input has %d channels but the kernel expects %d", x->shape[3],
                       w->shape[2]);
    if (y->shape[0] != x->shape[0])
        return invalid(call, "batch sizes differ: %d and %d", x->shape[0], y->shape[0]);
    if (y->shape[3] != w->shape[3])
        return invalid(call, "output has %d channels but the kernel makes %d", y->shape[3],
                       w->shape[3]);
    int ho = fcnn_window_out(x->shape[1], p->pad_top, p->pad_bottom, w->shape[0], p->sh);
    int wo = fcnn_window_out(x->shape[2], p->pad_left, p->pad_right, w->shape[1], p->sw);
    if (ho < 1 || wo < 1)
        return invalid(call, "a %dx%d kernel does not fit a padded %dx%d input", w->shape[0],
                       w->shape[1], x->shape[1], x->shape[2]);
    if (y->shape[1] != ho || y->shape[2] != wo)
        return invalid(call, "output must be %dx%d for this input, kernel, stride and padding",
                       ho, wo);
    return FCNN_OK;
}

/* x [N,H,W,C] and y [N,HO,WO,C] (or [N,C] for the global pools, which have no window). */
static int check_pool(const struct fcnn_op_call *call, const struct fcnn_tensor *x,
                      const struct fcnn_tensor *y)
{
    const struct fcnn_pool_params *p = &call->p.pool;
    if (p->ph < 1 || p->pw < 1 || p->sh < 1 || p->sw < 1)
        return invalid(call, "window %dx%d and strides %dx%d must be >= 1", p->ph, p->pw, p->sh,
                       p->sw);
    if (p->pad_top < 0 || p->pad_bottom < 0 || p->pad_left < 0 || p->pad_right < 0 ||
        p->pad_top >= p->ph || p->pad_bottom >= p->ph || p->pad_left >= p->pw ||
        p->pad_right >= p->pw)
        return invalid(call, "padding %d,%d,%d,%d (top, bottom, left, right) must be >= 0 and "
                       "smaller than the %dx%d window", p->pad_top, p->pad_bottom, p->pad_left,
                       p->pad_right, p->ph, p->pw);
    if (x->shape[0] != y->shape[0] || x->shape[3] != y->shape[3])
        return invalid(call, "input [%d,..,%d] and output [%d,..,%d] differ in batch or channels",
                       x->shape[0], x->shape[3], y->shape[0], y->shape[3]);
    int ho = fcnn_window_out(x->shape[1], p->pad_top, p->pad_bottom, p->ph, p->sh);
    int wo = fcnn_window_out(x->shape[2], p->pad_left, p->pad_right, p->pw, p->sw);
    if (ho < 1 || wo < 1)
        return invalid(call, "a %dx%d window does not fit a padded %dx%d input", p->ph, p->pw,
                       x->shape[1], x->shape[2]);
    if (y->shape[1] != ho || y->shape[2] != wo)
        return invalid(call, "output must be %dx%d for this input, window, stride and padding",
                       ho, wo);
    return FCNN_OK;
}

/* x [N,D], w [D,K], y [N,K]. */
static int check_dense(const struct fcnn_op_call *call, const struct fcnn_tensor *x,
                       const struct fcnn_tensor *w, const struct fcnn_tensor *y)
{
    if (x->shape[1] != w->shape[0])
        return invalid(call, "input has %d features but the kernel expects %d", x->shape[1],
                       w->shape[0]);
    if (y->shape[0] != x->shape[0] || y->shape[1] != w->shape[1])
        return invalid(call, "output must be [batch, %d], got second dim %d", w->shape[1],
                       y->shape[1]);
    return FCNN_OK;
}

static int check_bias(const struct fcnn_op_call *call, const struct fcnn_tensor *b, int channels)
{
    if (b->shape[0] != channels)
        return invalid(call, "bias has %d entries for %d channels", b->shape[0], channels);
    return FCNN_OK;
}

int fcnn_op_validate(const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *const *t = call->t;
    if ((unsigned)call->op >= FCNN_OP_COUNT)
        return fcnn_error(FCNN_ERR_INVALID, "unknown op %d", (int)call->op);

    switch (call->op) {
    case FCNN_OP_LOAD_BATCH:
        CHECK(check_tensor(call, 0, FCNN_U8, 4));
        CHECK(check_tensor(call, 1, FCNN_U8, 1));
        CHECK(check_tensor(call, 2, FCNN_I32, 1));
        CHECK(check_tensor(call, 3, FCNN_F32, 4));
        CHECK(check_tensor(call, 4, FCNN_I32, 1));
        if (t[1]->shape[0] != t[0]->shape[0])
            return invalid(call, "%d images but %d labels", t[0]->shape[0], t[1]->shape[0]);
        for (int d = 1; d < 4; d++)
            if (t[3]->shape[d] != t[0]->shape[d])
                return invalid(call, "batch sample dimension %d differs from the dataset's (%d)",
                               d, t[0]->shape[d]);
        if (t[4]->shape[0] != t[3]->shape[0])
            return invalid(call, "batch has %d samples but %d label slots", t[3]->shape[0],
                           t[4]->shape[0]);
        if (call->p.start < 0 || call->p.start > t[2]->shape[0] - t[3]->shape[0])
            return invalid(call, "samples from %d on overrun an order of %d", call->p.start,
                           t[2]->shape[0]);
        return FCNN_OK;

    case FCNN_OP_CONV2D_FWD:
        CHECK(check_tensor(call, 0, FCNN_F32, 4));
        CHECK(check_tensor(call, 1, FCNN_F32, 4));
        CHECK(check_tensor(call, 3, FCNN_F32, 4));
        CHECK(check_conv(call, t[0], t[1], t[3]));
        if (!t[2]) /* use_bias=False */
            return FCNN_OK;
        CHECK(check_tensor(call, 2, FCNN_F32, 1));
        return check_bias(call, t[2], t[1]->shape[3]);

    case FCNN_OP_CONV2D_BWD_DATA: /* dy, w, dx: dx plays x, dy plays y */
        CHECK(check_tensor(call, 0, FCNN_F32, 4));
        CHECK(check_tensor(call, 1, FCNN_F32, 4));
        CHECK(check_tensor(call, 2, FCNN_F32, 4));
        return check_conv(call, t[2], t[1], t[0]);

    case FCNN_OP_CONV2D_BWD_FILTER: /* x, dy, dw */
        CHECK(check_tensor(call, 0, FCNN_F32, 4));
        CHECK(check_tensor(call, 1, FCNN_F32, 4));
        CHECK(check_tensor(call, 2, FCNN_F32, 4));
        return check_conv(call, t[0], t[2], t[1]);

    case FCNN_OP_BIAS_BWD: {
        const struct fcnn_tensor *dy = t[0];
        if (!dy || dy->ndim < 1 || dy->ndim > FCNN_MAX_DIMS)
            return invalid(call, "dy must have rank 1 to 4 (rank %d)", dy ? dy->ndim : 0);
        CHECK(check_tensor(call, 0, FCNN_F32, dy->ndim));
        CHECK(check_tensor(call, 1, FCNN_F32, 1));
        return check_bias(call, t[1], dy->shape[dy->ndim - 1]);
    }

    case FCNN_OP_MAXPOOL_FWD:
        CHECK(check_tensor(call, 0, FCNN_F32, 4));
        CHECK(check_tensor(call, 1, FCNN_F32, 4));
        return check_pool(call, t[0], t[1]);

    case FCNN_OP_MAXPOOL_BWD: /* x, dy, dx */
        CHECK(check_tensor(call, 0, FCNN_F32, 4));
        CHECK(check_tensor(call, 1, FCNN_F32, 4));
        CHECK(check_tensor(call, 2, FCNN_F32, 4));
        CHECK(check_same_shape(call, 0, 2));
        return check_pool(call, t[0], t[1]);

    case FCNN_OP_RELU_BWD: {
        int rank = t[0] ? t[0]->ndim : 0;
        if (rank < 1 || rank > FCNN_MAX_DIMS)
            return invalid(call, "y must have rank 1 to 4 (rank %d)", rank);
        for (int i = 0; i < 3; i++)
            CHECK(check_tensor(call, i, FCNN_F32, rank));
        CHECK(check_same_shape(call, 0, 1));
        return check_same_shape(call, 0, 2);
    }

    case FCNN_OP_DENSE_FWD:
        CHECK(check_tensor(call, 0, FCNN_F32, 2));
        CHECK(check_tensor(call, 1, FCNN_F32, 2));
        CHECK(check_tensor(call, 2, FCNN_F32, 1));
        CHECK(check_tensor(call, 3, FCNN_F32, 2));
        if (call->p.act != FCNN_ACT_NONE && call->p.act != FCNN_ACT_RELU)
            return invalid(call, "unknown activation %d", (int)call->p.act);
        CHECK(check_dense(call, t[0], t[1], t[3]));
        return check_bias(call, t[2], t[1]->shape[1]);

    case FCNN_OP_DENSE_BWD_DATA: /* dy, w, dx */
        CHECK(check_tensor(call, 0, FCNN_F32, 2));
        CHECK(check_tensor(call, 1, FCNN_F32, 2));
        CHECK(check_tensor(call, 2, FCNN_F32, 2));
        return check_dense(call, t[2], t[1], t[0]);

    case FCNN_OP_DENSE_BWD_WEIGHTS: /* x, dy, dw */
        CHECK(check_tensor(call, 0, FCNN_F32, 2));
        CHECK(check_tensor(call, 1, FCNN_F32, 2));
        CHECK(check_tensor(call, 2, FCNN_F32, 2));
        return check_dense(call, t[0], t[2], t[1]);

    case FCNN_OP_SOFTMAX_XENT: /* logits, labels, dlogits?, loss, pred */
        CHECK(check_tensor(call, 0, FCNN_F32, 2));
        CHECK(check_tensor(call, 1, FCNN_I32, 1));
        if (t[2]) {
            CHECK(check_tensor(call, 2, FCNN_F32, 2));
            CHECK(check_same_shape(call, 0, 2));
        }
        CHECK(check_tensor(call, 3, FCNN_F32, 1));
        CHECK(check_tensor(call, 4, FCNN_I32, 1));
        for (int i = 1; i < 5; i++)
            if (t[i] && t[i]->shape[0] != t[0]->shape[0])
                return invalid(call, "logits have %d rows but another tensor has %d",
                               t[0]->shape[0], t[i]->shape[0]);
        return FCNN_OK;

    case FCNN_OP_SGD_UPDATE:
    case FCNN_OP_MOMENTUM_UPDATE:
    case FCNN_OP_ADAM_UPDATE:
        for (int i = 0; i < fcnn_op_tensor_count(call->op); i++) {
            CHECK(check_tensor(call, i, FCNN_F32, 1));
            CHECK(check_same_shape(call, 0, i));
        }
        return FCNN_OK;

    case FCNN_OP_COUNT:
        break;
    }
    return fcnn_error(FCNN_ERR_INVALID, "unknown op %d", (int)call->op);
}

/* --- dispatch --- */

static bool slot_present(const struct fcnn_backend_ops *ops, enum fcnn_op op)
{
    switch (op) {
    case FCNN_OP_LOAD_BATCH: return ops->load_batch;
    case FCNN_OP_CONV2D_FWD: return ops->conv2d_fwd;
    case FCNN_OP_CONV2D_BWD_DATA: return ops->conv2d_bwd_data;
    case FCNN_OP_CONV2D_BWD_FILTER: return ops->conv2d_bwd_filter;
    case FCNN_OP_BIAS_BWD: return ops->bias_bwd;
    case FCNN_OP_MAXPOOL_FWD: return ops->maxpool_fwd;
    case FCNN_OP_MAXPOOL_BWD: return ops->maxpool_bwd;
    case FCNN_OP_RELU_BWD: return ops->relu_bwd;
    case FCNN_OP_DENSE_FWD: return ops->dense_fwd;
    case FCNN_OP_DENSE_BWD_DATA: return ops->dense_bwd_data;
    case FCNN_OP_DENSE_BWD_WEIGHTS: return ops->dense_bwd_weights;
    case FCNN_OP_SOFTMAX_XENT: return ops->softmax_xent;
    case FCNN_OP_SGD_UPDATE: return ops->sgd_update;
    case FCNN_OP_MOMENTUM_UPDATE: return ops->momentum_update;
    case FCNN_OP_ADAM_UPDATE: return ops->adam_update;
    case FCNN_OP_COUNT: break;
    }
    return false;
}

bool fcnn_backend_supports(struct fcnn_backend *be, const struct fcnn_op_call *call)
{
    const struct fcnn_backend_ops *ops = fcnn_backend_ops_of(be);
    if (!slot_present(ops, call->op))
        return false;
    return !ops->supports || ops->supports(fcnn_backend_ctx_of(be), call);
}

static int dispatch(struct fcnn_backend *be, const struct fcnn_op_call *call);

/* Appends a deep copy of the call to the backend's trace, if one is attached. */
static int record(struct fcnn_backend *be, const struct fcnn_op_call *call)
{
    struct fcnn_trace *trace = fcnn_backend_trace_of(be);
    if (!trace)
        return FCNN_OK;
    if (trace->count == trace->capacity) {
        int capacity = trace->capacity ? 2 * trace->capacity : 64;
        void *grown = realloc(trace->calls, (size_t)capacity * sizeof *trace->calls);
        if (!grown)
            return fcnn_error(FCNN_ERR_NOMEM, "out of memory recording a trace");
        trace->calls = grown;
        trace->capacity = capacity;
    }
    struct fcnn_traced_call *copy = &trace->calls[trace->count++];
    copy->call = *call;
    for (int i = 0; i < FCNN_OP_MAX_TENSORS; i++) {
        if (call->t[i]) {
            copy->tensors[i] = *call->t[i];
            copy->call.t[i] = &copy->tensors[i];
        }
    }
    return FCNN_OK;
}

/* Every output-shaped element is a dot product over one kernel window: KH*KW*C products. */
static double conv_flops(const struct fcnn_tensor *output_shaped, const struct fcnn_tensor *kernel)
{
    return 2.0 * (double)fcnn_tensor_count(output_shaped) * kernel->shape[0] * kernel->shape[1] *
           kernel->shape[2];
}

double fcnn_op_flops(const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *const *t = call->t;
    switch (call->op) {
    case FCNN_OP_CONV2D_FWD: return conv_flops(t[3], t[1]);        /* y, w */
    case FCNN_OP_CONV2D_BWD_DATA: return conv_flops(t[0], t[1]);   /* dy, w */
    case FCNN_OP_CONV2D_BWD_FILTER: return conv_flops(t[1], t[2]); /* dy, dw */
    case FCNN_OP_DENSE_FWD:         /* x [N,D], w [D,K] */
    case FCNN_OP_DENSE_BWD_DATA:    /* dy [N,K], w [D,K] */
        return 2.0 * t[0]->shape[0] * (double)fcnn_tensor_count(t[1]);
    case FCNN_OP_DENSE_BWD_WEIGHTS: /* x [N,D], dw [D,K] */
        return 2.0 * t[0]->shape[0] * (double)fcnn_tensor_count(t[2]);
    default:
        return 0;
    }
}

double fcnn_op_bytes(const struct fcnn_op_call *call)
{
    double bytes = 0;
    for (int i = 0; i < fcnn_op_tensor_count(call->op); i++) {
        if (!call->t[i])
            continue;
        double b = (double)fcnn_tensor_bytes(call->t[i]);
        bytes += fcnn_op_tensor_role(call->op, i) == FCNN_INOUT ? 2 * b : b;
    }
    return bytes;
}

int fcnn_op_run(struct fcnn_backend *be, const struct fcnn_op_call *call)
{
    CHECK(fcnn_op_validate(call));
    CHECK(record(be, call));
    if (!fcnn_backend_supports(be, call))
        return fcnn_error(FCNN_ERR_UNSUPPORTED, "backend '%s' does not support this %s call",
                          fcnn_backend_name(be), fcnn_op_name(call->op));

    if (fcnn_backend_core_profiling(be)) {
        double start = fcnn_now();
        int status = dispatch(be, call);
        if (status == FCNN_OK)
            status = fcnn_sync(be);
        fcnn_backend_core_profile_add(be, call->op, fcnn_now() - start);
        return status;
    }
    return dispatch(be, call);
}

/* Calls the backend's slot for the op. */
static int dispatch(struct fcnn_backend *be, const struct fcnn_op_call *call)
{
    const struct fcnn_backend_ops *ops = fcnn_backend_ops_of(be);
    void *ctx = fcnn_backend_ctx_of(be);
    const struct fcnn_tensor *const *t = call->t;
    switch (call->op) {
    case FCNN_OP_LOAD_BATCH:
        return ops->load_batch(ctx, t[0], t[1], t[2], call->p.start, t[3], t[4]);
    case FCNN_OP_CONV2D_FWD: return ops->conv2d_fwd(ctx, t[0], t[1], t[2], t[3], &call->p.conv);
    case FCNN_OP_CONV2D_BWD_DATA: return ops->conv2d_bwd_data(ctx, t[0], t[1], t[2], &call->p.conv);
    case FCNN_OP_CONV2D_BWD_FILTER:
        return ops->conv2d_bwd_filter(ctx, t[0], t[1], t[2], &call->p.conv);
    case FCNN_OP_BIAS_BWD: return ops->bias_bwd(ctx, t[0], t[1]);
    case FCNN_OP_MAXPOOL_FWD: return ops->maxpool_fwd(ctx, t[0], t[1], &call->p.pool);
    case FCNN_OP_MAXPOOL_BWD: return ops->maxpool_bwd(ctx, t[0], t[1], t[2], &call->p.pool);
    case FCNN_OP_RELU_BWD: return ops->relu_bwd(ctx, t[0], t[1], t[2]);
    case FCNN_OP_DENSE_FWD: return ops->dense_fwd(ctx, t[0], t[1], t[2], t[3], call->p.act);
    case FCNN_OP_DENSE_BWD_DATA: return ops->dense_bwd_data(ctx, t[0], t[1], t[2]);
    case FCNN_OP_DENSE_BWD_WEIGHTS: return ops->dense_bwd_weights(ctx, t[0], t[1], t[2]);
    case FCNN_OP_SOFTMAX_XENT:
        return ops->softmax_xent(ctx, t[0], t[1], t[2], t[3], t[4], call->p.grad_scale);
    case FCNN_OP_SGD_UPDATE: return ops->sgd_update(ctx, t[0], t[1], &call->p.sgd);
    case FCNN_OP_MOMENTUM_UPDATE:
        return ops->momentum_update(ctx, t[0], t[1], t[2], &call->p.momentum);
    case FCNN_OP_ADAM_UPDATE: return ops->adam_update(ctx, t[0], t[1], t[2], t[3], &call->p.adam);
    case FCNN_OP_COUNT: break;
    }
    return fcnn_error(FCNN_ERR_INVALID, "unknown op %d", (int)call->op);
}

/* --- typed helpers --- */

int fcnn_load_batch(struct fcnn_backend *be, const struct fcnn_tensor *images,
                    const struct fcnn_tensor *labels, const struct fcnn_tensor *order, int start,
                    const struct fcnn_tensor *x, const struct fcnn_tensor *y)
{
    struct fcnn_op_call call = { .op = FCNN_OP_LOAD_BATCH, .t = { images, labels, order, x, y },
                                 .p.start = start };
    return fcnn_op_run(be, &call);
}

int fcnn_conv2d_fwd(struct fcnn_backend *be, const struct fcnn_tensor *x,
                    const struct fcnn_tensor *w, const struct fcnn_tensor *b,
                    const struct fcnn_tensor *y, const struct fcnn_conv2d_params *p)
{
    struct fcnn_op_call call = { .op = FCNN_OP_CONV2D_FWD, .t = { x, w, b, y }, .p.conv = *p };
    return fcnn_op_run(be, &call);
}

int fcnn_conv2d_bwd_data(struct fcnn_backend *be, const struct fcnn_tensor *dy,
                         const struct fcnn_tensor *w, const struct fcnn_tensor *dx,
                         const struct fcnn_conv2d_params *p)
{
    struct fcnn_op_call call = { .op = FCNN_OP_CONV2D_BWD_DATA, .t = { dy, w, dx }, .p.conv = *p };
    return fcnn_op_run(be, &call);
}

int fcnn_conv2d_bwd_filter(struct fcnn_backend *be, const struct fcnn_tensor *x,
                           const struct fcnn_tensor *dy, const struct fcnn_tensor *dw,
                           const struct fcnn_conv2d_params *p)
{
    struct fcnn_op_call call = { .op = FCNN_OP_CONV2D_BWD_FILTER, .t = { x, dy, dw }, .p.conv = *p };
    return fcnn_op_run(be, &call);
}

int fcnn_bias_bwd(struct fcnn_backend *be, const struct fcnn_tensor *dy,
                  const struct fcnn_tensor *db)
{
    struct fcnn_op_call call = { .op = FCNN_OP_BIAS_BWD, .t = { dy, db } };
    return fcnn_op_run(be, &call);
}

int fcnn_maxpool_fwd(struct fcnn_backend *be, const struct fcnn_tensor *x,
                     const struct fcnn_tensor *y, const struct fcnn_pool_params *p)
{
    struct fcnn_op_call call = { .op = FCNN_OP_MAXPOOL_FWD, .t = { x, y }, .p.pool = *p };
    return fcnn_op_run(be, &call);
}

int fcnn_maxpool_bwd(struct fcnn_backend *be, const struct fcnn_tensor *x,
                     const struct fcnn_tensor *dy, const struct fcnn_tensor *dx,
                     const struct fcnn_pool_params *p)
{
    struct fcnn_op_call call = { .op = FCNN_OP_MAXPOOL_BWD, .t = { x, dy, dx }, .p.pool = *p };
    return fcnn_op_run(be, &call);
}

int fcnn_relu_bwd(struct fcnn_backend *be, const struct fcnn_tensor *y,
                  const struct fcnn_tensor *dy, const struct fcnn_tensor *dx)
{
    struct fcnn_op_call call = { .op = FCNN_OP_RELU_BWD, .t = { y, dy, dx } };
    return fcnn_op_run(be, &call);
}

int fcnn_dense_fwd(struct fcnn_backend *be, const struct fcnn_tensor *x,
                   const struct fcnn_tensor *w, const struct fcnn_tensor *b,
                   const struct fcnn_tensor *y, enum fcnn_activation act)
{
    struct fcnn_op_call call = { .op = FCNN_OP_DENSE_FWD, .t = { x, w, b, y }, .p.act = act };
    return fcnn_op_run(be, &call);
}

int fcnn_dense_bwd_data(struct fcnn_backend *be, const struct fcnn_tensor *dy,
                        const struct fcnn_tensor *w, const struct fcnn_tensor *dx)
{
    struct fcnn_op_call call = { .op = FCNN_OP_DENSE_BWD_DATA, .t = { dy, w, dx } };
    return fcnn_op_run(be, &call);
}

int fcnn_dense_bwd_weights(struct fcnn_backend *be, const struct fcnn_tensor *x,
                           const struct fcnn_tensor *dy, const struct fcnn_tensor *dw)
{
    struct fcnn_op_call call = { .op = FCNN_OP_DENSE_BWD_WEIGHTS, .t = { x, dy, dw } };
    return fcnn_op_run(be, &call);
}

int fcnn_softmax_xent(struct fcnn_backend *be, const struct fcnn_tensor *logits,
                      const struct fcnn_tensor *labels, const struct fcnn_tensor *dlogits,
                      const struct fcnn_tensor *loss, const struct fcnn_tensor *pred,
                      float grad_scale)
{
    struct fcnn_op_call call = { .op = FCNN_OP_SOFTMAX_XENT, .t = { logits, labels, dlogits, loss, pred },
                                 .p.grad_scale = grad_scale };
    return fcnn_op_run(be, &call);
}

int fcnn_sgd_update(struct fcnn_backend *be, const struct fcnn_tensor *param,
                    const struct fcnn_tensor *grad, const struct fcnn_sgd_params *p)
{
    struct fcnn_op_call call = { .op = FCNN_OP_SGD_UPDATE, .t = { param, grad }, .p.sgd = *p };
    return fcnn_op_run(be, &call);
}

int fcnn_momentum_update(struct fcnn_backend *be, const struct fcnn_tensor *param,
                         const struct fcnn_tensor *grad, const struct fcnn_tensor *velocity,
                         const struct fcnn_momentum_params *p)
{
    struct fcnn_op_call call = { .op = FCNN_OP_MOMENTUM_UPDATE, .t = { param, grad, velocity },
                                 .p.momentum = *p };
    return fcnn_op_run(be, &call);
}

int fcnn_adam_update(struct fcnn_backend *be, const struct fcnn_tensor *param,
                     const struct fcnn_tensor *grad, const struct fcnn_tensor *m,
                     const struct fcnn_tensor *v, const struct fcnn_adam_params *p)
{
    struct fcnn_op_call call = { .op = FCNN_OP_ADAM_UPDATE, .t = { param, grad, m, v }, .p.adam = *p };
    return fcnn_op_run(be, &call);
}
