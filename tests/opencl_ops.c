/* Every op of the OpenCL backend, and every kernel variant of it, against the reference
 * backend on the same seeded inputs: the model's shapes (batch 32, 28x28x1 -> 32 conv,
 * 14x14x32 -> 64 conv, pool 2, dense 3136 -> 10) and odd ones (batch 7, 13x13, stride 2,
 * overlapping pools, channel counts that are not multiples of 4).
 *
 * Each tensor sits at an unaligned offset inside its buffer, between canary bytes that
 * must survive. Outputs start as NaN (integers as a sentinel), so an element a kernel
 * forgets to write fails. Float outputs must pass a NaN/Inf check, then NMSE (in double)
 * <= 1e-8 and a per-element |got - want| <= atol + rtol |want| check; ops that do no
 * arithmetic beyond what the reference does in the same order must match bit for bit;
 * integer outputs always do. In-place state (optimizers) is compared by its change, so a
 * wrong small update cannot hide under the size of the parameters.
 * The convolutions run twice: once as they come, and once with the im2col column budget
 * cut so that a batch takes several passes (the path an evaluation batch takes). */
#include <config.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend-impl.h"
#include "ocl.h"
#include "opencl_test.h"

#define NMSE_LIMIT 1e-8
#define RTOL 1e-4
#define ATOL_OF_RMS 1e-4 /* atol as a fraction of the reference output's RMS */
#define PAD_BYTES 12     /* before each tensor: an offset no kernel may assume away */
#define TAIL_BYTES 20    /* canary after it */
#define CANARY 0x5a

enum fill {
    FILL_OUTPUT,   /* NaN, or a sentinel for integers */
    FILL_UNIFORM,  /* [-1, 1) */
    FILL_LOGITS,   /* [-4, 4) */
    FILL_POSITIVE, /* [0.01, 1): Adam's second moment */
    FILL_TIES,     /* a few values, many equal: pooling's tie rule */
    FILL_RELU,     /* max(0, uniform): half exact zeros */
    FILL_INDEX,    /* integers in [0, range) */
    FILL_BYTES,    /* 0..255 */
};

struct spec {
    enum fcnn_dtype dtype;
    enum fill fill;
    int ndim;
    int shape[FCNN_MAX_DIMS];
    int range; /* FILL_INDEX */
    int alias; /* 1 + index of an earlier tensor this one is (in place), or 0 */
};

struct test_case {
    enum fcnn_op op;
    struct spec t[FCNN_OP_MAX_TENSORS];
    struct fcnn_op_call params; /* only .p is used */
    bool exact;                 /* float outputs must match bit for bit */
};

#define NARGS(...) NARGS_(__VA_ARGS__, 4, 3, 2, 1, 0)
#define NARGS_(a, b, c, d, n, ...) n
#define F32(fill_, ...) { FCNN_F32, fill_, NARGS(__VA_ARGS__), { __VA_ARGS__ }, 0, 0 }
#define I32(fill_, range_, ...) { FCNN_I32, fill_, NARGS(__VA_ARGS__), { __VA_ARGS__ }, range_, 0 }
#define U8(...) { FCNN_U8, FILL_BYTES, NARGS(__VA_ARGS__), { __VA_ARGS__ }, 0, 0 }
#define OUT(...) F32(FILL_OUTPUT, __VA_ARGS__)
#define IN(...) F32(FILL_UNIFORM, __VA_ARGS__)
#define SAME_AS(i) { .alias = (i) + 1 }
#define NONE { .ndim = 0 }
#define CONV(s, pd, a)                                                                      \
    { .p.conv = { .sh = s, .sw = s, .pad_top = pd, .pad_bottom = pd, .pad_left = pd,          \
                  .pad_right = pd, .act = a } }
#define POOL(sz, s) { .p.pool = { .ph = sz, .pw = sz, .sh = s, .sw = s } }
/* Keras's "same" where it pads one after and none before (even input, stride 2). */
#define CONV_SAME_AFTER(s, a)                                                              \
    { .p.conv = { .sh = s, .sw = s, .pad_bottom = 1, .pad_right = 1, .act = a } }
#define POOL_PADDED(sz, s, before, after)                                                  \
    { .p.pool = { .ph = sz, .pw = sz, .sh = s, .sw = s, .pad_top = before,                \
                  .pad_bottom = after, .pad_left = before, .pad_right = after } }
#define RELU FCNN_ACT_RELU
#define LINEAR FCNN_ACT_NONE

static const struct test_case cases[] = {
    /* load_batch: images, labels, order, x, y */
    { FCNN_OP_LOAD_BATCH, { U8(100, 28, 28, 1), U8(100), I32(FILL_INDEX, 100, 200),
                            OUT(32, 28, 28, 1), I32(FILL_OUTPUT, 0, 32) },
      { .p.start = 37 }, true },
    { FCNN_OP_LOAD_BATCH, { U8(13, 13, 13, 3), U8(13), I32(FILL_INDEX, 13, 9),
                            OUT(7, 13, 13, 3), I32(FILL_OUTPUT, 0, 7) },
      { .p.start = 2 }, true },

    /* conv2d_fwd: x, w, b, y */
    { FCNN_OP_CONV2D_FWD, { IN(32, 28, 28, 1), IN(3, 3, 1, 32), IN(32), OUT(32, 28, 28, 32) },
      CONV(1, 1, RELU), false },
    { FCNN_OP_CONV2D_FWD, { IN(32, 14, 14, 32), IN(3, 3, 32, 64), IN(64), OUT(32, 14, 14, 64) },
      CONV(1, 1, RELU), false },
    { FCNN_OP_CONV2D_FWD, { IN(7, 13, 13, 3), IN(3, 3, 3, 5), IN(5), OUT(7, 7, 7, 5) },
      CONV(2, 1, LINEAR), false },
    { FCNN_OP_CONV2D_FWD, { IN(7, 13, 13, 3), IN(5, 5, 3, 8), IN(8), OUT(7, 13, 13, 8) },
      CONV(1, 2, RELU), false },
    { FCNN_OP_CONV2D_FWD, { IN(7, 13, 13, 6), IN(2, 2, 6, 4), IN(4), OUT(7, 6, 6, 4) },
      CONV(2, 0, LINEAR), false },
    { FCNN_OP_CONV2D_FWD, { IN(7, 14, 14, 32), IN(3, 3, 32, 64), NONE, OUT(7, 7, 7, 64) },
      CONV_SAME_AFTER(2, RELU), false },

    /* conv2d_bwd_data: dy, w, dx */
    { FCNN_OP_CONV2D_BWD_DATA, { IN(32, 28, 28, 32), IN(3, 3, 1, 32), OUT(32, 28, 28, 1) },
      CONV(1, 1, LINEAR), false },
    { FCNN_OP_CONV2D_BWD_DATA, { IN(32, 14, 14, 64), IN(3, 3, 32, 64), OUT(32, 14, 14, 32) },
      CONV(1, 1, LINEAR), false },
    { FCNN_OP_CONV2D_BWD_DATA, { IN(7, 7, 7, 5), IN(3, 3, 3, 5), OUT(7, 13, 13, 3) },
      CONV(2, 1, LINEAR), false },
    { FCNN_OP_CONV2D_BWD_DATA, { IN(7, 6, 6, 4), IN(2, 2, 6, 4), OUT(7, 13, 13, 6) },
      CONV(2, 0, LINEAR), false },
    { FCNN_OP_CONV2D_BWD_DATA, { IN(7, 7, 7, 64), IN(3, 3, 32, 64), OUT(7, 14, 14, 32) },
      CONV_SAME_AFTER(2, LINEAR), false },

    /* conv2d_bwd_filter: x, dy, dw */
    { FCNN_OP_CONV2D_BWD_FILTER, { IN(32, 28, 28, 1), IN(32, 28, 28, 32), OUT(3, 3, 1, 32) },
      CONV(1, 1, LINEAR), false },
    { FCNN_OP_CONV2D_BWD_FILTER, { IN(32, 14, 14, 32), IN(32, 14, 14, 64), OUT(3, 3, 32, 64) },
      CONV(1, 1, LINEAR), false },
    { FCNN_OP_CONV2D_BWD_FILTER, { IN(7, 13, 13, 3), IN(7, 7, 7, 5), OUT(3, 3, 3, 5) },
      CONV(2, 1, LINEAR), false },
    { FCNN_OP_CONV2D_BWD_FILTER, { IN(7, 14, 14, 32), IN(7, 7, 7, 64), OUT(3, 3, 32, 64) },
      CONV_SAME_AFTER(2, LINEAR), false },

    /* bias_bwd: dy, db */
    { FCNN_OP_BIAS_BWD, { IN(32, 28, 28, 32), OUT(32) }, { 0 }, false },
    { FCNN_OP_BIAS_BWD, { IN(32, 14, 14, 64), OUT(64) }, { 0 }, false },
    { FCNN_OP_BIAS_BWD, { IN(32, 10), OUT(10) }, { 0 }, false },
    { FCNN_OP_BIAS_BWD, { IN(7, 13, 13, 5), OUT(5) }, { 0 }, false },

    /* maxpool_fwd: x, y; maxpool_bwd: x, dy, dx */
    { FCNN_OP_MAXPOOL_FWD, { F32(FILL_TIES, 32, 28, 28, 32), OUT(32, 14, 14, 32) }, POOL(2, 2),
      true },
    { FCNN_OP_MAXPOOL_FWD, { F32(FILL_TIES, 32, 14, 14, 64), OUT(32, 7, 7, 64) }, POOL(2, 2),
      true },
    { FCNN_OP_MAXPOOL_FWD, { F32(FILL_TIES, 7, 13, 13, 5), OUT(7, 6, 6, 5) }, POOL(3, 2), true },
    { FCNN_OP_MAXPOOL_BWD,
      { F32(FILL_TIES, 32, 28, 28, 32), IN(32, 14, 14, 32), OUT(32, 28, 28, 32) }, POOL(2, 2),
      true },
    { FCNN_OP_MAXPOOL_BWD,
      { F32(FILL_TIES, 32, 14, 14, 64), IN(32, 7, 7, 64), OUT(32, 14, 14, 64) }, POOL(2, 2),
      true },
    { FCNN_OP_MAXPOOL_BWD, { F32(FILL_TIES, 7, 13, 13, 5), IN(7, 6, 6, 5), OUT(7, 13, 13, 5) },
      POOL(2, 2), true },
    { FCNN_OP_MAXPOOL_BWD, { F32(FILL_TIES, 7, 13, 13, 5), IN(7, 6, 6, 5), OUT(7, 13, 13, 5) },
      POOL(3, 2), true },
    { FCNN_OP_MAXPOOL_FWD, { F32(FILL_TIES, 7, 13, 13, 32), OUT(7, 7, 7, 32) },
      POOL_PADDED(3, 2, 1, 1), true },
    { FCNN_OP_MAXPOOL_BWD, { F32(FILL_TIES, 7, 13, 13, 5), IN(7, 7, 7, 5), OUT(7, 13, 13, 5) },
      POOL_PADDED(3, 2, 1, 1), true },

    /* avgpool_fwd: x, y; avgpool_bwd: dy, dx */
    { FCNN_OP_AVGPOOL_FWD, { IN(32, 14, 14, 64), OUT(32, 7, 7, 64) }, POOL(2, 2), false },
    { FCNN_OP_AVGPOOL_FWD, { IN(7, 13, 13, 5), OUT(7, 7, 7, 5) }, POOL_PADDED(3, 2, 1, 1), false },
    { FCNN_OP_AVGPOOL_BWD, { IN(32, 7, 7, 64), OUT(32, 14, 14, 64) }, POOL(2, 2), false },
    { FCNN_OP_AVGPOOL_BWD, { IN(7, 7, 7, 5), OUT(7, 13, 13, 5) }, POOL_PADDED(3, 2, 1, 1), false },

    /* global_avgpool_fwd: x [n,h,w,c], y [n,c]; global_avgpool_bwd: dy, dx */
    { FCNN_OP_GLOBAL_AVGPOOL_FWD, { IN(32, 7, 7, 64), OUT(32, 64) }, { 0 }, false },
    { FCNN_OP_GLOBAL_AVGPOOL_FWD, { IN(7, 5, 3, 5), OUT(7, 5) }, { 0 }, false },
    { FCNN_OP_GLOBAL_AVGPOOL_BWD, { IN(32, 64), OUT(32, 7, 7, 64) }, { 0 }, true },
    { FCNN_OP_GLOBAL_AVGPOOL_BWD, { IN(7, 5), OUT(7, 5, 3, 5) }, { 0 }, true },

    /* relu_bwd: y, dy, dx (also in place: dx is dy) */
    { FCNN_OP_RELU_BWD, { F32(FILL_RELU, 32, 28, 28, 32), IN(32, 28, 28, 32), OUT(32, 28, 28, 32) },
      { 0 }, true },
    { FCNN_OP_RELU_BWD, { F32(FILL_RELU, 7, 13, 13, 5), IN(7, 13, 13, 5), SAME_AS(1) }, { 0 },
      true },

    /* dense_fwd: x, w, b, y; dense_bwd_data: dy, w, dx; dense_bwd_weights: x, dy, dw */
    { FCNN_OP_DENSE_FWD, { IN(32, 3136), IN(3136, 10), IN(10), OUT(32, 10) },
      { .p.act = LINEAR }, false },
    { FCNN_OP_DENSE_FWD, { IN(7, 13), IN(13, 5), IN(5), OUT(7, 5) }, { .p.act = RELU }, false },
    { FCNN_OP_DENSE_BWD_DATA, { IN(32, 10), IN(3136, 10), OUT(32, 3136) }, { 0 }, false },
    { FCNN_OP_DENSE_BWD_DATA, { IN(7, 5), IN(13, 5), OUT(7, 13) }, { 0 }, false },
    { FCNN_OP_DENSE_BWD_WEIGHTS, { IN(32, 3136), IN(32, 10), OUT(3136, 10) }, { 0 }, false },
    { FCNN_OP_DENSE_BWD_WEIGHTS, { IN(7, 13), IN(7, 5), OUT(13, 5) }, { 0 }, false },

    /* softmax_xent: logits, labels, dlogits?, loss, pred (ties: the first maximum wins) */
    { FCNN_OP_SOFTMAX_XENT, { F32(FILL_TIES, 32, 10), I32(FILL_INDEX, 10, 32), OUT(32, 10),
                              OUT(32), I32(FILL_OUTPUT, 0, 32) },
      { .p.grad_scale = 1.0f / 32 }, false },
    { FCNN_OP_SOFTMAX_XENT, { F32(FILL_LOGITS, 32, 10), I32(FILL_INDEX, 10, 32), OUT(32, 10),
                              OUT(32), I32(FILL_OUTPUT, 0, 32) },
      { .p.grad_scale = 1.0f / 32 }, false },
    { FCNN_OP_SOFTMAX_XENT, { F32(FILL_LOGITS, 7, 5), I32(FILL_INDEX, 5, 7), NONE, OUT(7),
                              I32(FILL_OUTPUT, 0, 7) },
      { .p.grad_scale = 1.0f }, false },

    /* optimizers: param, grad, state... (updated in place) */
    { FCNN_OP_SGD_UPDATE, { IN(18496), IN(18496) }, { .p.sgd = { .lr = 0.05f } }, false },
    { FCNN_OP_MOMENTUM_UPDATE, { IN(31360), IN(31360), IN(31360) },
      { .p.momentum = { .lr = 0.05f, .momentum = 0.9f } }, false },
    { FCNN_OP_ADAM_UPDATE, { IN(18496), IN(18496), IN(18496), F32(FILL_POSITIVE, 18496) },
      { .p.adam = { .alpha = 0.01f, .beta1 = 0.9f, .beta2 = 0.999f, .epsilon = 1e-7f } },
      false },
    { FCNN_OP_ADAM_UPDATE, { IN(7), IN(7), IN(7), F32(FILL_POSITIVE, 7) },
      { .p.adam = { .alpha = 0.01f, .beta1 = 0.9f, .beta2 = 0.999f, .epsilon = 1e-7f } },
      false },
};

/* One tensor of a case on both backends, and its initial bytes (canaries included). */
struct pair {
    bool present;
    struct fcnn_buffer *ref_buffer, *ocl_buffer;
    struct fcnn_tensor ref, ocl;
    unsigned char *initial;
    size_t total; /* buffer bytes */
};

static void fill(const struct spec *s, struct test_rng *rng, void *data, size_t count)
{
    float *f = data;
    int32_t *i32 = data;
    uint8_t *u8 = data;
    static const float ties[] = { -1.0f, 0.0f, 0.0f, 0.5f, 1.0f, 1.0f };
    for (size_t i = 0; i < count; i++) {
        switch (s->fill) {
        case FILL_OUTPUT:
            if (s->dtype == FCNN_F32)
                f[i] = NAN;
            else
                i32[i] = INT32_MIN + 12345;
            break;
        case FILL_UNIFORM: f[i] = test_rng_uniform(rng, -1, 1); break;
        case FILL_LOGITS: f[i] = test_rng_uniform(rng, -4, 4); break;
        case FILL_POSITIVE: f[i] = test_rng_uniform(rng, 0.01f, 1); break;
        case FILL_TIES: f[i] = ties[test_rng_int(rng, 6)]; break;
        case FILL_RELU: f[i] = fmaxf(0.0f, test_rng_uniform(rng, -1, 1)); break;
        case FILL_INDEX: i32[i] = test_rng_int(rng, s->range); break;
        case FILL_BYTES: u8[i] = (uint8_t)test_rng_int(rng, 256); break;
        }
    }
}

static int make_pair(struct fcnn_backend *ref, struct fcnn_backend *ocl, const struct spec *s,
                     struct test_rng *rng, struct pair *p)
{
    memset(p, 0, sizeof *p);
    p->present = true;
    p->ref = fcnn_tensor_make(NULL, PAD_BYTES, s->dtype, s->ndim, s->shape);
    /* An offset aligned to the element but not to 16 bytes (the u8 tensors get 3). */
    p->ref.offset = s->dtype == FCNN_U8 ? 3 : PAD_BYTES;
    size_t bytes = fcnn_tensor_bytes(&p->ref);
    p->total = p->ref.offset + bytes + TAIL_BYTES;
    p->initial = malloc(p->total);
    if (!p->initial)
        return FCNN_ERR_NOMEM;
    memset(p->initial, CANARY, p->total);
    fill(s, rng, p->initial + p->ref.offset, fcnn_tensor_count(&p->ref));
    int status = fcnn_buffer_alloc(ref, p->total, &p->ref_buffer);
    if (status == FCNN_OK)
        status = fcnn_buffer_alloc(ocl, p->total, &p->ocl_buffer);
    if (status != FCNN_OK)
        return status;
    p->ocl = p->ref;
    p->ref.buffer = p->ref_buffer;
    p->ocl.buffer = p->ocl_buffer;
    return FCNN_OK;
}

static int upload_initial(struct fcnn_backend *be, struct fcnn_buffer *buffer, struct pair *p)
{
    struct fcnn_tensor whole = fcnn_tensor_1d(buffer, 0, FCNN_U8, (int)p->total);
    return fcnn_upload(be, &whole, p->initial);
}

static unsigned char *download_whole(struct fcnn_backend *be, struct fcnn_buffer *buffer,
                                     size_t total)
{
    unsigned char *bytes = malloc(total);
    struct fcnn_tensor whole = fcnn_tensor_1d(buffer, 0, FCNN_U8, (int)total);
    if (bytes && fcnn_download(be, &whole, bytes) != FCNN_OK) {
        free(bytes);
        return NULL;
    }
    return bytes;
}

static bool canaries_intact(const unsigned char *bytes, const struct pair *p)
{
    size_t end = p->ref.offset + fcnn_tensor_bytes(&p->ref);
    for (size_t i = 0; i < p->ref.offset; i++)
        if (bytes[i] != CANARY)
            return false;
    for (size_t i = end; i < p->total; i++)
        if (bytes[i] != CANARY)
            return false;
    return true;
}

/* Compares one output; in-place tensors by their change from `initial`. */
static bool compare(const char *id, const char *name, const struct pair *p,
                    const unsigned char *want_bytes, const unsigned char *got_bytes, bool inout,
                    bool exact, double *nmse_out)
{
    size_t count = fcnn_tensor_count(&p->ref), offset = p->ref.offset;
    if (p->ref.dtype != FCNN_F32) {
        bool same = memcmp(want_bytes + offset, got_bytes + offset,
                           count * fcnn_dtype_size(p->ref.dtype)) == 0;
        return test_check(same, "%s: integer output '%s' differs from the reference", id, name);
    }
    const float *want = (const float *)(want_bytes + offset), *got = (const float *)(got_bytes + offset);
    const float *before = (const float *)(p->initial + offset);
    if (exact) {
        *nmse_out = 0;
        for (size_t i = 0; i < count; i++)
            if (memcmp(&want[i], &got[i], sizeof(float)) != 0 && !(isnan(want[i]) && isnan(got[i])))
                return test_check(false, "%s: '%s'[%zu] = %.9g, the reference has %.9g (bitwise "
                                  "equality expected)", id, name, i, got[i], want[i]);
        return true;
    }
    double err2 = 0, ref2 = 0;
    for (size_t i = 0; i < count; i++) {
        if (!isfinite(got[i]) && isfinite(want[i]))
            return test_check(false, "%s: '%s'[%zu] is %g (not written, or overflowed); the "
                              "reference has %.9g", id, name, i, got[i], want[i]);
        double w = inout ? (double)want[i] - before[i] : want[i];
        double g = inout ? (double)got[i] - before[i] : got[i];
        err2 += (g - w) * (g - w);
        ref2 += w * w;
    }
    double nmse = ref2 > 0 ? err2 / ref2 : err2;
    *nmse_out = nmse;
    if (!test_check(nmse <= NMSE_LIMIT, "%s: '%s' NMSE %.3g > %g", id, name, nmse, NMSE_LIMIT))
        return false;
    double atol = ATOL_OF_RMS * sqrt(ref2 / (double)count);
    for (size_t i = 0; i < count; i++) {
        double w = inout ? (double)want[i] - before[i] : want[i];
        double g = inout ? (double)got[i] - before[i] : got[i];
        /* In place, both sides also rounded the updated value to float. */
        double slack = inout ? 4 * FLT_EPSILON * fabs((double)want[i]) : 0;
        if (fabs(g - w) > atol + slack + RTOL * fabs(w))
            return test_check(false, "%s: '%s'[%zu] = %.9g, the reference has %.9g (atol %.3g, "
                              "rtol %g)", id, name, i, got[i], want[i], atol + slack, RTOL);
    }
    return true;
}

/* Said after the variant's name while the column budget is cut. */
static const char *pass_note = "";

static void describe_case(const struct test_case *c, const struct pair *pairs, const char *variant,
                          char *out, size_t size)
{
    int used = snprintf(out, size, "%s[%s%s]", fcnn_op_name(c->op), variant, pass_note);
    for (int i = 0; i < fcnn_op_tensor_count(c->op) && used > 0 && (size_t)used < size; i++) {
        char shape[64] = "-";
        if (pairs[i].present)
            fcnn_tensor_describe(&pairs[i].ref, shape, sizeof shape);
        used += snprintf(out + used, size - (size_t)used, " %s=%s", fcnn_op_tensor_name(c->op, i),
                         shape);
    }
}

struct tally {
    int passed, failed, unsupported;
};

/* Runs the case on the reference once, then on the opencl backend with each variant
 * forced in turn and with the automatic choice. */
static void run_case(struct fcnn_backend *ref, struct fcnn_backend *ocl, int index,
                     struct tally *tally)
{
    const struct test_case *c = &cases[index];
    int n = fcnn_op_tensor_count(c->op);
    struct pair pairs[FCNN_OP_MAX_TENSORS] = { 0 };
    struct test_rng rng = { (uint64_t)index * 7919 + 1 };
    struct fcnn_op_call ref_call = c->params, ocl_call = c->params;
    ref_call.op = ocl_call.op = c->op;
    for (int i = 0; i < n; i++) {
        const struct spec *s = &c->t[i];
        if (s->alias) {
            ref_call.t[i] = ref_call.t[s->alias - 1];
            ocl_call.t[i] = ocl_call.t[s->alias - 1];
            continue;
        }
        if (s->ndim == 0)
            continue;
        if (make_pair(ref, ocl, s, &rng, &pairs[i]) != FCNN_OK) {
            test_check(false, "case %d: could not allocate tensor %d: %s", index, i, fcnn_last_error());
            tally->failed++;
            return;
        }
        ref_call.t[i] = &pairs[i].ref;
        ocl_call.t[i] = &pairs[i].ocl;
    }

    unsigned char *want[FCNN_OP_MAX_TENSORS] = { 0 };
    int status = FCNN_OK;
    for (int i = 0; i < n && status == FCNN_OK; i++)
        if (pairs[i].present)
            status = upload_initial(ref, pairs[i].ref_buffer, &pairs[i]);
    if (status == FCNN_OK)
        status = fcnn_op_run(ref, &ref_call);
    for (int i = 0; i < n && status == FCNN_OK; i++)
        if (pairs[i].present && !(want[i] = download_whole(ref, pairs[i].ref_buffer, pairs[i].total)))
            status = FCNN_ERR_DEVICE;
    if (!test_check(status == FCNN_OK, "case %d: the reference failed: %s", index, fcnn_last_error()))
        tally->failed++;

    int variants = fcnn_backend_variant_count(ocl, c->op);
    for (int v = 0; v <= variants && status == FCNN_OK; v++) {
        const char *name = v < variants ? fcnn_backend_variant_name(ocl, c->op, v) : NULL;
        char id[512];
        describe_case(c, pairs, name ? name : "auto", id, sizeof id);
        if (fcnn_backend_force_variant(ocl, c->op, name) != FCNN_OK) {
            test_check(false, "%s: forcing the variant failed: %s", id, fcnn_last_error());
            tally->failed++;
            continue;
        }
        if (!fcnn_backend_supports(ocl, &ocl_call)) {
            printf("skip %s: the variant does not support this call\n", id);
            tally->unsupported++;
            test_check(name != NULL, "%s: no variant supports this call", id);
            continue;
        }
        bool ok = true;
        for (int i = 0; i < n && ok; i++)
            if (pairs[i].present)
                ok = upload_initial(ocl, pairs[i].ocl_buffer, &pairs[i]) == FCNN_OK;
        ok = ok && test_check(fcnn_op_run(ocl, &ocl_call) == FCNN_OK, "%s: %s", id, fcnn_last_error());
        double worst = 0;
        for (int i = 0; i < n && ok; i++) {
            enum fcnn_tensor_role role = fcnn_op_tensor_role(c->op, i);
            if (!pairs[i].present || role == FCNN_IN)
                continue;
            unsigned char *got = download_whole(ocl, pairs[i].ocl_buffer, pairs[i].total);
            const char *tensor = fcnn_op_tensor_name(c->op, i);
            double nmse = 0;
            ok = test_check(got != NULL, "%s: download failed: %s", id, fcnn_last_error()) &&
                 test_check(canaries_intact(got, &pairs[i]), "%s: bytes around '%s' were overwritten",
                            id, tensor) &&
                 compare(id, tensor, &pairs[i], want[i], got, role == FCNN_INOUT, c->exact, &nmse);
            worst = nmse > worst ? nmse : worst;
            free(got);
        }
        /* In place (relu_bwd with dx = dy): the aliased output is checked through dy. */
        for (int i = 0; i < n && ok; i++) {
            if (!c->t[i].alias)
                continue;
            int a = c->t[i].alias - 1;
            unsigned char *got = download_whole(ocl, pairs[a].ocl_buffer, pairs[a].total);
            double nmse = 0;
            ok = test_check(got != NULL, "%s: download failed", id) &&
                 compare(id, fcnn_op_tensor_name(c->op, i), &pairs[a], want[a], got, false, c->exact,
                         &nmse);
            free(got);
        }
        if (ok) {
            printf("ok   %s  nmse %.2g\n", id, worst);
            tally->passed++;
        } else {
            tally->failed++;
        }
    }
    fcnn_backend_force_variant(ocl, c->op, NULL);

    for (int i = 0; i < n; i++) {
        free(want[i]);
        if (!pairs[i].present)
            continue;
        fcnn_buffer_free(ref, pairs[i].ref_buffer);
        fcnn_buffer_free(ocl, pairs[i].ocl_buffer);
        free(pairs[i].initial);
    }
}

int main(void)
{
    test_skip_without_opencl("opencl-ops");
    struct fcnn_backend *ref = NULL;
    if (fcnn_backend_open("ref", NULL, &ref) != FCNN_OK) {
        printf("FAIL: opening ref: %s\n", fcnn_last_error());
        return 1;
    }
    struct fcnn_backend *ocl = test_open_opencl(NULL);
    printf("device: %s\n", fcnn_backend_device(ocl));

    struct tally tally = { 0 };
    bool covered[FCNN_OP_COUNT] = { false };
    for (int i = 0; i < (int)(sizeof cases / sizeof cases[0]); i++) {
        run_case(ref, ocl, i, &tally);
        covered[cases[i].op] = true;
    }
    for (int op = 0; op < FCNN_OP_COUNT; op++)
        test_check(covered[op], "no case tests %s", fcnn_op_name(op));

    /* 12 KB of columns: passes of 2 samples and a last of 1 for the stride-2 3x3 case
     * (5.3 KB a sample), 3 + 3 + 1 for the 2x2 one (3.5 KB); one sample a pass for the
     * model's shapes, whose samples exceed the budget alone. */
    struct ocl_context *ctx = fcnn_backend_ctx_of(ocl);
    ctx->column_budget = 12000;
    pass_note = ", several passes";
    for (int i = 0; i < (int)(sizeof cases / sizeof cases[0]); i++)
        if (cases[i].op == FCNN_OP_CONV2D_FWD || cases[i].op == FCNN_OP_CONV2D_BWD_DATA ||
            cases[i].op == FCNN_OP_CONV2D_BWD_FILTER)
            run_case(ref, ocl, i, &tally);

    fcnn_backend_close(ocl);
    fcnn_backend_close(ref);
    printf("%d passed, %d failed, %d variant(s) not supporting a case\n", tally.passed,
           tally.failed, tally.unsupported);
    return test_failures() || tally.failed ? 1 : 0;
}
