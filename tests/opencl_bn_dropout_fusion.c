/* The OpenCL backend's fusion of dropout into a batch normalization with a max pooling
 * fused in (ocl_fuse.c; the network fuses the normalisation, its ReLU and the pooling in
 * training):
 *
 *   forward   batchnorm_fwd_train(x, ..., p) pooled;  dropout_fwd(p, q)
 *   backward  dropout_bwd(g, d);  batchnorm_bwd(x, d, ..., dx, dgamma, dbeta) pooled
 *
 * enqueued back to back must leave every tensor as the same backend leaves it with fusion
 * off (FCNN_FUSE=0): bit for bit, since the fused kernels compute the same floats (the mask
 * is the same integer hash, the scaling the same float product, the dropout's output read
 * back where the op apart reads it), including the dropout's own output, which the fused
 * kernels still write. The chains run whole, in place and broken (the dropout on another
 * tensor, the normalisation reading another tensor), with and without the ReLU, on the
 * better model's shapes and odd ones (3x3 windows, 48 channels), counting the calls the
 * fused kernels absorbed. The run with fusion off is held to ref within float rounding
 * (ref sums the statistics in double, in its own order): a bug planted in a kernel both
 * runs share (tests/fusion-catches-broken-kernel.sh) shows there. */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend-impl.h"
#include "ocl.h"
#include "opencl_test.h"

/* OpenCL with fusion off against ref: float rounding of sums over a few thousand rows. */
#define NMSE_LIMIT 1e-8

struct shape {
    int n, h, w, c, pool;
    bool relu;
    float rate;
};

enum chain {
    FWD_DROPOUT,           /* batchnorm_fwd_train, dropout_fwd(p, q): fused */
    FWD_IN_PLACE,          /* batchnorm_fwd_train, dropout_fwd(p, p): fused */
    FWD_DROPOUT_ELSEWHERE, /* batchnorm_fwd_train, dropout_fwd(g, q): not fused */
    BWD_DROPOUT,           /* dropout_bwd(g, d), batchnorm_bwd reading d: fused */
    BWD_IN_PLACE,          /* dropout_bwd(g, g), batchnorm_bwd reading g: fused */
    BWD_ELSEWHERE,         /* dropout_bwd(g, d), batchnorm_bwd reading g: not fused */
    CHAIN_COUNT
};

static const char *const chain_names[] = {
    "batchnorm_fwd_train+dropout_fwd", "batchnorm_fwd_train+dropout_fwd in place",
    "batchnorm_fwd_train, dropout_fwd elsewhere", "dropout_bwd+batchnorm_bwd",
    "dropout_bwd in place+batchnorm_bwd", "dropout_bwd, batchnorm_bwd elsewhere",
};

/* dropout_fwd and dropout_bwd calls absorbed, per chain, with fusion on. */
static const int absorbed_fwd[] = { 1, 1, 0, 0, 0, 0 };
static const int absorbed_bwd[] = { 0, 0, 0, 1, 1, 0 };

/* Every tensor of a chain, in one buffer, each at a 4-byte offset off 16-byte alignment:
 * x, dx [N,H,W,C]; g, d, p, q [N,H/P,W/P,C]; the per-channel ones [C]. */
enum { X, DX, G, D, P, Q, GAMMA, BETA, MOVING_MEAN, MOVING_VAR, MEAN, INV_STD, DGAMMA,
       DBETA, TENSOR_COUNT };
static const char *const tensor_names[] = { "x", "dx", "g", "d", "p", "q", "gamma", "beta",
                                            "moving_mean", "moving_variance", "mean",
                                            "inv_std", "dgamma", "dbeta" };

struct run {
    struct fcnn_backend *be;
    struct fcnn_buffer *buffer;
    struct fcnn_tensor t[TENSOR_COUNT];
};

static void place(struct run *r, const struct shape *s)
{
    int ho = s->h / s->pool, wo = s->w / s->pool;
    size_t big = (size_t)s->n * s->h * s->w * s->c, small = (size_t)s->n * ho * wo * s->c;
    size_t floats = 2 * big + 4 * small + 8 * (size_t)s->c + 64;
    int status = fcnn_buffer_alloc(r->be, floats * sizeof(float), &r->buffer);
    if (!test_check(status == FCNN_OK, "allocating: %s", fcnn_last_error()))
        exit(1);
    size_t at = 4; /* bytes */
    for (int i = 0; i < TENSOR_COUNT; i++) {
        if (i <= DX)
            r->t[i] = fcnn_tensor_4d(r->buffer, at, FCNN_F32, s->n, s->h, s->w, s->c);
        else if (i <= Q)
            r->t[i] = fcnn_tensor_4d(r->buffer, at, FCNN_F32, s->n, ho, wo, s->c);
        else
            r->t[i] = fcnn_tensor_1d(r->buffer, at, FCNN_F32, s->c);
        at += fcnn_tensor_bytes(&r->t[i]) + 16;
    }
}

/* The inputs: x about a ReLU'd convolution's output, g a gradient, gamma and beta as
 * trained ones, the moving statistics and (for the backward) the batch's mean and
 * inv_std; every output NaN, so that a stray or missing write shows. */
static void upload(struct run *r, const struct shape *s, uint64_t seed)
{
    struct test_rng rng = { seed };
    size_t most = fcnn_tensor_count(&r->t[X]);
    float *v = malloc(most * sizeof *v);
    int status = FCNN_OK;
    for (int i = 0; status == FCNN_OK && i < TENSOR_COUNT; i++) {
        size_t count = fcnn_tensor_count(&r->t[i]);
        for (size_t k = 0; k < count; k++) {
            switch (i) {
            case X: v[k] = test_rng_uniform(&rng, -1, 3); break;
            case G: v[k] = test_rng_uniform(&rng, -1, 1); break;
            case GAMMA: v[k] = test_rng_uniform(&rng, 0.5f, 1.5f); break;
            case BETA: v[k] = test_rng_uniform(&rng, -0.5f, 0.5f); break;
            case MOVING_MEAN: v[k] = test_rng_uniform(&rng, -1, 1); break;
            case MOVING_VAR: v[k] = test_rng_uniform(&rng, 0.5f, 2); break;
            case MEAN: v[k] = test_rng_uniform(&rng, 0.5f, 1.5f); break;
            case INV_STD: v[k] = test_rng_uniform(&rng, 0.5f, 1); break;
            default: v[k] = NAN; break;
            }
        }
        status = fcnn_upload(r->be, &r->t[i], v);
    }
    test_check(status == FCNN_OK, "uploading (%d channels): %s", s->c, fcnn_last_error());
    free(v);
}

static int dropout(struct run *r, enum fcnn_op op, int in, int out, const struct shape *s,
                   uint32_t seed)
{
    struct fcnn_op_call call = { .op = op, .t = { &r->t[in], &r->t[out] },
                                 .p.dropout = { .rate = s->rate, .seed = seed } };
    return fcnn_op_run(r->be, &call);
}

static struct fcnn_batchnorm_params params(const struct shape *s)
{
    return (struct fcnn_batchnorm_params){ .momentum = 0.99f, .epsilon = 1e-3f,
                                           .act = s->relu ? FCNN_ACT_RELU : FCNN_ACT_NONE,
                                           .pool = s->pool };
}

static int batchnorm_forward(struct run *r, const struct shape *s)
{
    const struct fcnn_tensor *t = r->t;
    struct fcnn_op_call call = {
        .op = FCNN_OP_BATCHNORM_FWD_TRAIN,
        .t = { &t[X], &t[GAMMA], &t[BETA], &t[MOVING_MEAN], &t[MOVING_VAR], &t[P], &t[MEAN],
               &t[INV_STD] },
        .p.batchnorm = params(s),
    };
    return fcnn_op_run(r->be, &call);
}

/* batchnorm_bwd with the pooled gradient `dy`. */
static int batchnorm_backward(struct run *r, const struct shape *s, int dy)
{
    const struct fcnn_tensor *t = r->t;
    struct fcnn_op_call call = {
        .op = FCNN_OP_BATCHNORM_BWD,
        .t = { &t[X], &t[dy], &t[GAMMA], &t[MEAN], &t[INV_STD], &t[DX], &t[DGAMMA],
               &t[DBETA], &t[BETA] },
        .p.batchnorm = params(s),
    };
    return fcnn_op_run(r->be, &call);
}

/* The chain on one backend, then every tensor downloaded into out[i]. */
static void run_chain(struct run *r, const struct shape *s, enum chain chain, uint32_t seed,
                      float *const out[])
{
    int status = FCNN_OK;
    switch (chain) {
    case FWD_DROPOUT:
    case FWD_IN_PLACE:
    case FWD_DROPOUT_ELSEWHERE:
        status = batchnorm_forward(r, s);
        if (status == FCNN_OK)
            status = chain == FWD_DROPOUT ? dropout(r, FCNN_OP_DROPOUT_FWD, P, Q, s, seed)
                   : chain == FWD_IN_PLACE ? dropout(r, FCNN_OP_DROPOUT_FWD, P, P, s, seed)
                                           : dropout(r, FCNN_OP_DROPOUT_FWD, G, Q, s, seed);
        break;
    case BWD_DROPOUT:
    case BWD_IN_PLACE:
    case BWD_ELSEWHERE:
        status = dropout(r, FCNN_OP_DROPOUT_BWD, G, chain == BWD_IN_PLACE ? G : D, s, seed);
        if (status == FCNN_OK)
            status = batchnorm_backward(r, s, chain == BWD_DROPOUT ? D : G);
        break;
    case CHAIN_COUNT:
        break;
    }
    for (int i = 0; status == FCNN_OK && i < TENSOR_COUNT; i++)
        status = fcnn_download(r->be, &r->t[i], out[i]);
    test_check(status == FCNN_OK, "running %s: %s", chain_names[chain], fcnn_last_error());
}

static long long absorbed(struct fcnn_backend *be, enum fcnn_op op)
{
    const struct ocl_context *ctx = fcnn_backend_ctx_of(be);
    return ctx->fusion.fused[op];
}

/* The same bits, NaN where neither wrote included. */
static size_t differing(const float *a, const float *b, size_t count, size_t *first)
{
    size_t wrong = 0;
    for (size_t k = 0; k < count; k++)
        if (memcmp(&a[k], &b[k], sizeof(float)) != 0 && !wrong++)
            *first = k;
    return wrong;
}

static void check_shape(struct fcnn_backend *const be[3], const struct shape *s,
                        struct test_rng *rng)
{
    struct run runs[3]; /* ref, OpenCL with fusion off, OpenCL fusing */
    for (int b = 0; b < 3; b++) {
        runs[b] = (struct run){ .be = be[b] };
        place(&runs[b], s);
    }
    size_t big = fcnn_tensor_count(&runs[0].t[X]);
    float *out[3][TENSOR_COUNT];
    for (int b = 0; b < 3; b++)
        for (int i = 0; i < TENSOR_COUNT; i++)
            out[b][i] = malloc(big * sizeof(float));

    for (int chain = 0; chain < CHAIN_COUNT; chain++) {
        int failures = test_failures();
        uint32_t seed = (uint32_t)test_rng_next(rng);
        uint64_t data = test_rng_next(rng);
        long long fwd_before = absorbed(be[2], FCNN_OP_DROPOUT_FWD);
        long long bwd_before = absorbed(be[2], FCNN_OP_DROPOUT_BWD);
        for (int b = 0; b < 3; b++) {
            upload(&runs[b], s, data);
            run_chain(&runs[b], s, chain, seed, out[b]);
        }
        char id[200];
        snprintf(id, sizeof id, "%s n=%d h=%d w=%d c=%d pool=%d%s rate=%g", chain_names[chain],
                 s->n, s->h, s->w, s->c, s->pool, s->relu ? " relu" : "", (double)s->rate);
        for (int i = 0; i < TENSOR_COUNT; i++) {
            size_t count = fcnn_tensor_count(&runs[0].t[i]), first = 0;
            size_t wrong = differing(out[1][i], out[2][i], count, &first);
            test_check(!wrong, "%s: %s fused differs from apart in %zu of %zu elements, first "
                       "at %zu: %g, not %g", id, tensor_names[i], wrong, count, first,
                       (double)out[2][i][first], (double)out[1][i][first]);
            bool written = !isnan(out[0][i][0]);
            if (written) {
                double e = test_nmse(out[0][i], out[1][i], count);
                test_check(e <= NMSE_LIMIT, "%s: %s apart against ref: NMSE %.3g", id,
                           tensor_names[i], e);
            } else {
                wrong = differing(out[0][i], out[1][i], count, &first);
                test_check(!wrong, "%s: %s, which ref leaves unwritten, written apart", id,
                           tensor_names[i]);
            }
        }
        long long fwd = absorbed(be[2], FCNN_OP_DROPOUT_FWD) - fwd_before;
        long long bwd = absorbed(be[2], FCNN_OP_DROPOUT_BWD) - bwd_before;
        test_check(fwd == absorbed_fwd[chain] && bwd == absorbed_bwd[chain],
                   "%s: absorbed dropout_fwd %lld, dropout_bwd %lld; expected %d, %d", id, fwd,
                   bwd, absorbed_fwd[chain], absorbed_bwd[chain]);
        test_check(absorbed(be[1], FCNN_OP_DROPOUT_FWD) + absorbed(be[1], FCNN_OP_DROPOUT_BWD) ==
                       0,
                   "%s: fused with FCNN_FUSE=0", id);
        if (test_failures() == failures)
            printf("ok   %s\n", id);
    }
    for (int b = 0; b < 3; b++) {
        fcnn_buffer_free(be[b], runs[b].buffer);
        for (int i = 0; i < TENSOR_COUNT; i++)
            free(out[b][i]);
    }
}

int main(void)
{
    test_skip_without_opencl("opencl-bn-dropout-fusion");
    static const struct shape shapes[] = {
        { 32, 28, 28, 32, 2, true, 0.25f }, /* the README's better model: two pools */
        { 32, 14, 14, 64, 2, true, 0.25f },
        { 3, 6, 9, 48, 3, false, 0.5f },    /* 3x3 windows, three float16 blocks, no ReLU */
        { 4, 8, 8, 16, 2, true, 0.0f },     /* rate 0: a copy */
    };
    struct fcnn_backend *be[3] = { NULL, NULL, NULL };
    if (fcnn_backend_open("ref", NULL, &be[0]) != FCNN_OK) {
        printf("FAIL: opening ref: %s\n", fcnn_last_error());
        return 1;
    }
    setenv("FCNN_FUSE", "0", 1);
    be[1] = test_open_opencl(NULL);
    unsetenv("FCNN_FUSE");
    be[2] = test_open_opencl(NULL);
    struct test_rng rng = { 4343 };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        check_shape(be, &shapes[i], &rng);
    for (int b = 0; b < 3; b++)
        fcnn_backend_close(be[b]);
    printf(test_failures() ? "%d check(s) failed\n" : "all passed\n", test_failures());
    return test_failures() ? 1 : 0;
}
