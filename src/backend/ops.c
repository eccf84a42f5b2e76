/* The op dispatcher: one place that checks every call's descriptors against the op's row
 * of the op table (op-table.c), whatever the backend, then asks the backend and runs its
 * slot. Backends may trust what passes. Nothing here names an op. */
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

int fcnn_op_tensor_count(enum fcnn_op op)
{
    return (unsigned)op < FCNN_OP_COUNT ? fcnn_op_desc(op)->tensor_count : 0;
}

const char *fcnn_op_tensor_name(enum fcnn_op op, int i)
{
    return i >= 0 && i < fcnn_op_tensor_count(op) ? fcnn_op_desc(op)->t[i].name : "?";
}

enum fcnn_tensor_role fcnn_op_tensor_role(enum fcnn_op op, int i)
{
    return fcnn_op_desc(op)->t[i].role;
}

bool fcnn_op_tensor_optional(enum fcnn_op op, int i)
{
    return fcnn_op_desc(op)->t[i].optional;
}

/* --- validation --- */

#define CHECK(status)                                                                      \
    do {                                                                                   \
        int check_status_ = (status);                                                      \
        if (check_status_ != FCNN_OK)                                                      \
            return check_status_;                                                          \
    } while (0)

int fcnn_op_invalid(const struct fcnn_op_call *call, const char *fmt, ...)
{
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return fcnn_error(FCNN_ERR_INVALID, "%s: %s", fcnn_op_name(call->op), what);
}

/* Tensor i has the dtype and rank its descriptor gives, positive dimensions, an aligned
 * offset, and lies inside its buffer. */
static int check_tensor(const struct fcnn_op_call *call, int i)
{
    const struct fcnn_op_tensor_desc *d = &fcnn_op_desc(call->op)->t[i];
    const struct fcnn_tensor *t = call->t[i];
    const char *op = fcnn_op_name(call->op);
    if (!t)
        return fcnn_error(FCNN_ERR_INVALID, "%s: tensor '%s' is missing", op, d->name);
    if (d->rank == FCNN_ANY_RANK ? t->ndim < 1 || t->ndim > FCNN_MAX_DIMS : t->ndim != d->rank) {
        char rank[32];
        if (d->rank == FCNN_ANY_RANK)
            snprintf(rank, sizeof rank, "1 to %d", FCNN_MAX_DIMS);
        else
            snprintf(rank, sizeof rank, "%d", d->rank);
        return fcnn_error(FCNN_ERR_INVALID, "%s: tensor '%s' must have rank %s, not %d", op,
                          d->name, rank, t->ndim);
    }
    if (t->dtype != d->dtype)
        return fcnn_error(FCNN_ERR_INVALID, "%s: tensor '%s' must be %s, not %s", op, d->name,
                          fcnn_dtype_name(d->dtype), fcnn_dtype_name(t->dtype));
    for (int k = 0; k < t->ndim; k++)
        if (t->shape[k] <= 0)
            return fcnn_error(FCNN_ERR_INVALID, "%s: tensor '%s' has dimension %d of size %d",
                              op, d->name, k, t->shape[k]);
    if (!t->buffer)
        return fcnn_error(FCNN_ERR_INVALID, "%s: tensor '%s' has no buffer", op, d->name);
    if (t->offset % fcnn_dtype_size(d->dtype) != 0)
        return fcnn_error(FCNN_ERR_INVALID, "%s: tensor '%s' offset %zu is not aligned to its "
                          "elements", op, d->name, t->offset);
    size_t bytes = fcnn_tensor_bytes(t);
    if (t->offset > t->buffer->size || bytes > t->buffer->size - t->offset)
        return fcnn_error(FCNN_ERR_INVALID,
                          "%s: tensor '%s' (%zu bytes at offset %zu) overruns its %zu-byte buffer",
                          op, d->name, bytes, t->offset, t->buffer->size);
    return FCNN_OK;
}

int fcnn_op_validate(const struct fcnn_op_call *call)
{
    if ((unsigned)call->op >= FCNN_OP_COUNT)
        return fcnn_error(FCNN_ERR_INVALID, "unknown op %d", (int)call->op);
    const struct fcnn_op_desc *desc = fcnn_op_desc(call->op);
    if (desc->tensor_count <= 0)
        return fcnn_error(FCNN_ERR_INVALID, "%s: the op table has no descriptor for it",
                          fcnn_op_name(call->op));
    for (int i = 0; i < desc->tensor_count; i++)
        if (call->t[i] || !desc->t[i].optional)
            CHECK(check_tensor(call, i));
    for (int i = desc->tensor_count; i < FCNN_OP_MAX_TENSORS; i++)
        if (call->t[i])
            return fcnn_error(FCNN_ERR_INVALID, "%s: takes %d tensors, but tensor %d is given",
                              fcnn_op_name(call->op), desc->tensor_count, i);
    return desc->check ? desc->check(call) : FCNN_OK;
}

/* --- dispatch --- */

bool fcnn_backend_supports(struct fcnn_backend *be, const struct fcnn_op_call *call)
{
    const struct fcnn_backend_ops *ops = fcnn_backend_ops_of(be);
    if ((unsigned)call->op >= FCNN_OP_COUNT || !ops->run[call->op])
        return false;
    return !ops->supports || ops->supports(fcnn_backend_ctx_of(be), call);
}

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

double fcnn_op_flops(const struct fcnn_op_call *call)
{
    const struct fcnn_op_desc *desc = fcnn_op_desc(call->op);
    return desc && desc->flops ? desc->flops(call) : 0;
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

static int dispatch(struct fcnn_backend *be, const struct fcnn_op_call *call)
{
    return fcnn_backend_ops_of(be)->run[call->op](fcnn_backend_ctx_of(be), call);
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

/* --- typed helpers --- */

int fcnn_load_batch(struct fcnn_backend *be, const struct fcnn_tensor *images,
                    const struct fcnn_tensor *labels, const struct fcnn_tensor *order, int start,
                    const struct fcnn_tensor *x, const struct fcnn_tensor *y)
{
    struct fcnn_op_call call = { .op = FCNN_OP_LOAD_BATCH, .t = { images, labels, order, x, y },
                                 .p.start = start };
    return fcnn_op_run(be, &call);
}

int fcnn_augment_batch(struct fcnn_backend *be, const struct fcnn_tensor *x,
                       const struct fcnn_tensor *params, const struct fcnn_tensor *y)
{
    struct fcnn_op_call call = { .op = FCNN_OP_AUGMENT, .t = { x, params, y } };
    return fcnn_op_run(be, &call);
}

int fcnn_conv2d_fwd(struct fcnn_backend *be, const struct fcnn_tensor *x,
                    const struct fcnn_tensor *w, const struct fcnn_tensor *b,
                    const struct fcnn_tensor *y, const struct fcnn_conv2d_params *p)
{
    struct fcnn_op_call call = { .op = FCNN_OP_CONV2D_FWD, .t = { x, w, b, y }, .p.conv = *p };
    return fcnn_op_run(be, &call);
}

int fcnn_conv2d_pool_fwd(struct fcnn_backend *be, const struct fcnn_tensor *x,
                         const struct fcnn_tensor *w, const struct fcnn_tensor *b,
                         const struct fcnn_tensor *y, const struct fcnn_conv2d_params *p)
{
    struct fcnn_op_call call = { .op = FCNN_OP_CONV2D_POOL_FWD, .t = { x, w, b, y },
                                 .p.conv = *p };
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

int fcnn_avgpool_fwd(struct fcnn_backend *be, const struct fcnn_tensor *x,
                     const struct fcnn_tensor *y, const struct fcnn_pool_params *p)
{
    struct fcnn_op_call call = { .op = FCNN_OP_AVGPOOL_FWD, .t = { x, y }, .p.pool = *p };
    return fcnn_op_run(be, &call);
}

int fcnn_avgpool_bwd(struct fcnn_backend *be, const struct fcnn_tensor *dy,
                     const struct fcnn_tensor *dx, const struct fcnn_pool_params *p)
{
    struct fcnn_op_call call = { .op = FCNN_OP_AVGPOOL_BWD, .t = { dy, dx }, .p.pool = *p };
    return fcnn_op_run(be, &call);
}

int fcnn_global_avgpool_fwd(struct fcnn_backend *be, const struct fcnn_tensor *x,
                            const struct fcnn_tensor *y)
{
    struct fcnn_op_call call = { .op = FCNN_OP_GLOBAL_AVGPOOL_FWD, .t = { x, y } };
    return fcnn_op_run(be, &call);
}

int fcnn_global_avgpool_bwd(struct fcnn_backend *be, const struct fcnn_tensor *dy,
                            const struct fcnn_tensor *dx)
{
    struct fcnn_op_call call = { .op = FCNN_OP_GLOBAL_AVGPOOL_BWD, .t = { dy, dx } };
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

int fcnn_rmsprop_update(struct fcnn_backend *be, const struct fcnn_tensor *param,
                        const struct fcnn_tensor *grad, const struct fcnn_tensor *velocity,
                        const struct fcnn_rmsprop_params *p)
{
    struct fcnn_op_call call = { .op = FCNN_OP_RMSPROP_UPDATE, .t = { param, grad, velocity },
                                 .p.rmsprop = *p };
    return fcnn_op_run(be, &call);
}

int fcnn_adamw_update(struct fcnn_backend *be, const struct fcnn_tensor *param,
                      const struct fcnn_tensor *grad, const struct fcnn_tensor *m,
                      const struct fcnn_tensor *v, const struct fcnn_adamw_params *p)
{
    struct fcnn_op_call call = { .op = FCNN_OP_ADAMW_UPDATE, .t = { param, grad, m, v },
                                 .p.adamw = *p };
    return fcnn_op_run(be, &call);
}
