/* The OpenCL backend's fusion of dropout into the max pooling beside it (ocl_fuse.c):
 *
 *   forward   maxpool_fwd(x, p);  dropout_fwd(p, q)
 *   backward  dropout_bwd(g, d);  maxpool_bwd(x, d, dx)  [relu_bwd(x, dx, dx);  bias_bwd(dx, db)]
 *
 * enqueued back to back must leave every tensor as the reference leaves it op by op: bit
 * for bit (the mask is the same integer hash, the scaling the same float product, the
 * pooling routes values without arithmetic), db within float rounding (a sum in another
 * order), including the dropout's own output, which the fused kernels still write. The
 * harness runs ops one at a time, which never fuses; this runs the chains, whole and
 * broken (a dropout in place, an op on another tensor, a download after the first op), on
 * the model's shapes and odd ones (uncovered rows and columns, 3x3 windows, "same"
 * padding, channels the fused kernels do not take), with fusion on, off (FCNN_FUSE=0) and
 * with the pooling's variant forced, and counts the calls each fused kernel absorbed, so
 * that a pass is not a vacuous one. Then it makes the deferred kernel's launch fail
 * (FCNN_OPENCL_FAULT) wherever a deferred dropout chain can finally run: the failure must
 * come back, named after the deferred ops. */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agree-lib.h"
#include "backend/backend-impl.h"
#include "ocl.h"
#include "opencl_test.h"

#define NMSE_LIMIT 1e-8

struct shape {
    int n, h, w, c, size;
    bool same; /* "same" padding: windows clipped at the bottom and right */
    float rate;
};

enum chain {
    BWD_DROPOUT_POOL,           /* dropout_bwd, maxpool_bwd on its output: fused */
    BWD_DROPOUT_POOL_RELU_BIAS, /* ... and the ReLU in place and the bias: all fused */
    BWD_DROPOUT_POOL_RELU,      /* ... the ReLU, then a download */
    BWD_IN_PLACE,               /* dropout_bwd(g, g), maxpool_bwd on g: fused */
    BWD_POOL_ELSEWHERE,         /* dropout_bwd(g, d), maxpool_bwd reading g: not fused */
    BWD_DROPOUT,                /* dropout_bwd, then a download */
    FWD_POOL_DROPOUT,           /* maxpool_fwd(x, p), dropout_fwd(p, q): fused */
    FWD_IN_PLACE,               /* maxpool_fwd(x, p), dropout_fwd(p, p): fused */
    FWD_DROPOUT_ELSEWHERE,      /* maxpool_fwd(x, p), dropout_fwd(g, q): not fused */
    FWD_POOL,                   /* maxpool_fwd, then a download */
    CHAIN_COUNT
};

static const char *const chain_names[] = {
    "dropout_bwd+pool", "dropout_bwd+pool+relu+bias", "dropout_bwd+pool+relu",
    "dropout_bwd in place+pool", "dropout_bwd, pool elsewhere", "dropout_bwd alone",
    "pool+dropout_fwd", "pool+dropout_fwd in place", "pool, dropout_fwd elsewhere",
    "pool alone",
};

/* The ops absorbed into another op's kernel, per chain, where fusion can happen. */
struct absorbed {
    int dropout_fwd, dropout_bwd, relu_bwd, bias_bwd;
};
static const struct absorbed fusable[] = {
    [BWD_DROPOUT_POOL] = { 0, 1, 0, 0 },      [BWD_DROPOUT_POOL_RELU_BIAS] = { 0, 1, 1, 1 },
    [BWD_DROPOUT_POOL_RELU] = { 0, 1, 1, 0 }, [BWD_IN_PLACE] = { 0, 1, 0, 0 },
    [BWD_POOL_ELSEWHERE] = { 0, 0, 0, 0 },    [BWD_DROPOUT] = { 0, 0, 0, 0 },
    [FWD_POOL_DROPOUT] = { 1, 0, 0, 0 },      [FWD_IN_PLACE] = { 1, 0, 0, 0 },
    [FWD_DROPOUT_ELSEWHERE] = { 0, 0, 0, 0 }, [FWD_POOL] = { 0, 0, 0, 0 },
};

enum mode { FUSING, FUSE_OFF, FORCED, MODE_COUNT };
static const char *const mode_names[] = { "", " (FCNN_FUSE=0)", " (pool variants forced)" };

struct run {
    struct fcnn_backend *be;
    struct fcnn_buffer *buffer;
    /* x, dx [N,H,W,C]; g, d, p, q [N,HO,WO,C]; db [C] */
    struct fcnn_tensor x, dx, g, d, p, q, db;
};

static struct fcnn_pool_params pool_params(const struct shape *s)
{
    struct fcnn_pool_params pool = { .ph = s->size, .pw = s->size, .sh = s->size,
                                     .sw = s->size };
    if (s->same) { /* TensorFlow's: the odd pad at the bottom and right */
        int ho = (s->h + s->size - 1) / s->size, wo = (s->w + s->size - 1) / s->size;
        int rows = (ho - 1) * s->size + s->size - s->h, cols = (wo - 1) * s->size + s->size - s->w;
        pool.pad_top = rows / 2;
        pool.pad_bottom = rows - rows / 2;
        pool.pad_left = cols / 2;
        pool.pad_right = cols - cols / 2;
    }
    return pool;
}

static void pooled_size(const struct shape *s, int *ho, int *wo)
{
    struct fcnn_pool_params p = pool_params(s);
    *ho = (s->h + p.pad_top + p.pad_bottom - s->size) / s->size + 1;
    *wo = (s->w + p.pad_left + p.pad_right - s->size) / s->size + 1;
}

/* Every tensor in one buffer, each at a 4-byte offset off 16-byte alignment. */
static void place(struct run *r, const struct shape *s)
{
    int ho, wo;
    pooled_size(s, &ho, &wo);
    size_t big = (size_t)s->n * s->h * s->w * s->c, small = (size_t)s->n * ho * wo * s->c;
    size_t floats = 2 * big + 4 * small + s->c + 64;
    int status = fcnn_buffer_alloc(r->be, floats * sizeof(float), &r->buffer);
    if (!test_check(status == FCNN_OK, "allocating: %s", fcnn_last_error()))
        exit(1);
    size_t at = 4; /* bytes */
    struct fcnn_tensor *smalls[] = { &r->g, &r->d, &r->p, &r->q };
    r->x = fcnn_tensor_4d(r->buffer, at, FCNN_F32, s->n, s->h, s->w, s->c);
    at += big * sizeof(float) + 16;
    r->dx = fcnn_tensor_4d(r->buffer, at, FCNN_F32, s->n, s->h, s->w, s->c);
    at += big * sizeof(float) + 16;
    for (int i = 0; i < 4; i++) {
        *smalls[i] = fcnn_tensor_4d(r->buffer, at, FCNN_F32, s->n, ho, wo, s->c);
        at += small * sizeof(float) + 16;
    }
    r->db = fcnn_tensor_1d(r->buffer, at, FCNN_F32, s->c);
}

/* The tensors every chain may write, in the order they are compared. */
static const struct fcnn_tensor *outputs(const struct run *r, int i)
{
    const struct fcnn_tensor *list[] = { &r->g, &r->d, &r->p, &r->q, &r->dx, &r->db };
    return i < 6 ? list[i] : NULL;
}
static const char *const output_names[] = { "g", "d", "p", "q", "dx", "db" };

/* x, g from the caller; every output NaN, so that a stray or missing write shows. */
static void upload(struct run *r, const float *x, const float *g)
{
    size_t most = fcnn_tensor_count(&r->dx);
    float *nan_fill = malloc(most * sizeof *nan_fill);
    for (size_t i = 0; i < most; i++)
        nan_fill[i] = NAN;
    int status = fcnn_upload(r->be, &r->x, x);
    if (status == FCNN_OK)
        status = fcnn_upload(r->be, &r->g, g);
    for (int i = 1; status == FCNN_OK && outputs(r, i); i++)
        status = fcnn_upload(r->be, outputs(r, i), nan_fill);
    test_check(status == FCNN_OK, "uploading: %s", fcnn_last_error());
    free(nan_fill);
}

static int dropout(struct fcnn_backend *be, enum fcnn_op op, const struct fcnn_tensor *in,
                   const struct fcnn_tensor *out, float rate, uint32_t seed)
{
    struct fcnn_op_call call = { .op = op, .t = { in, out },
                                 .p.dropout = { .rate = rate, .seed = seed } };
    return fcnn_op_run(be, &call);
}

/* The chain on one backend, then every output downloaded into out[i] (6 arrays). */
static void run_chain(struct run *r, const struct shape *s, enum chain chain, uint32_t seed,
                      float *const out[])
{
    struct fcnn_pool_params pool = pool_params(s);
    struct fcnn_backend *be = r->be;
    int status = FCNN_OK;
    switch (chain) {
    case BWD_DROPOUT_POOL:
    case BWD_DROPOUT_POOL_RELU_BIAS:
    case BWD_DROPOUT_POOL_RELU:
        status = dropout(be, FCNN_OP_DROPOUT_BWD, &r->g, &r->d, s->rate, seed);
        if (status == FCNN_OK)
            status = fcnn_maxpool_bwd(be, &r->x, &r->d, &r->dx, &pool);
        if (status == FCNN_OK && chain != BWD_DROPOUT_POOL)
            status = fcnn_relu_bwd(be, &r->x, &r->dx, &r->dx);
        if (status == FCNN_OK && chain == BWD_DROPOUT_POOL_RELU_BIAS)
            status = fcnn_bias_bwd(be, &r->dx, &r->db);
        break;
    case BWD_IN_PLACE:
        status = dropout(be, FCNN_OP_DROPOUT_BWD, &r->g, &r->g, s->rate, seed);
        if (status == FCNN_OK)
            status = fcnn_maxpool_bwd(be, &r->x, &r->g, &r->dx, &pool);
        break;
    case BWD_POOL_ELSEWHERE:
        status = dropout(be, FCNN_OP_DROPOUT_BWD, &r->g, &r->d, s->rate, seed);
        if (status == FCNN_OK)
            status = fcnn_maxpool_bwd(be, &r->x, &r->g, &r->dx, &pool);
        break;
    case BWD_DROPOUT:
        status = dropout(be, FCNN_OP_DROPOUT_BWD, &r->g, &r->d, s->rate, seed);
        break;
    case FWD_POOL_DROPOUT:
    case FWD_IN_PLACE:
    case FWD_DROPOUT_ELSEWHERE:
    case FWD_POOL:
        status = fcnn_maxpool_fwd(be, &r->x, &r->p, &pool);
        if (status == FCNN_OK && chain == FWD_POOL_DROPOUT)
            status = dropout(be, FCNN_OP_DROPOUT_FWD, &r->p, &r->q, s->rate, seed);
        if (status == FCNN_OK && chain == FWD_IN_PLACE)
            status = dropout(be, FCNN_OP_DROPOUT_FWD, &r->p, &r->p, s->rate, seed);
        if (status == FCNN_OK && chain == FWD_DROPOUT_ELSEWHERE)
            status = dropout(be, FCNN_OP_DROPOUT_FWD, &r->g, &r->q, s->rate, seed);
        break;
    case CHAIN_COUNT:
        break;
    }
    for (int i = 0; status == FCNN_OK && outputs(r, i); i++)
        status = fcnn_download(be, outputs(r, i), out[i]);
    test_check(status == FCNN_OK, "running %s: %s", chain_names[chain], fcnn_last_error());
}

static struct absorbed absorbed_now(struct fcnn_backend *be)
{
    const struct ocl_context *ctx = fcnn_backend_ctx_of(be);
    return (struct absorbed){ (int)ctx->fusion.fused[FCNN_OP_DROPOUT_FWD],
                              (int)ctx->fusion.fused[FCNN_OP_DROPOUT_BWD],
                              (int)ctx->fusion.fused[FCNN_OP_RELU_BWD],
                              (int)ctx->fusion.fused[FCNN_OP_BIAS_BWD] };
}

/* Whether the fused kernels take this shape: 16 channels at a time, and backward the
 * scatter's windows (no padding). */
static bool fusable_shape(const struct shape *s, enum chain chain)
{
    return s->c % 16 == 0 && (chain >= FWD_POOL_DROPOUT || !s->same);
}

static void check_shape(struct fcnn_backend *ref, struct fcnn_backend *ocl, enum mode mode,
                        const struct shape *s, struct test_rng *rng)
{
    struct run a = { .be = ref }, b = { .be = ocl };
    place(&a, s);
    place(&b, s);
    size_t big = fcnn_tensor_count(&a.x), small = fcnn_tensor_count(&a.g);
    float *x = malloc(big * sizeof *x), *g = malloc(small * sizeof *g);
    /* A ReLU's output: half exact zeros, so windows of zeros and ties are common. */
    for (size_t i = 0; i < big; i++)
        x[i] = fmaxf(0.0f, test_rng_uniform(rng, -1, 1));
    for (size_t i = 0; i < small; i++)
        g[i] = test_rng_uniform(rng, -1, 1);
    float *want[6], *got[6];
    for (int i = 0; i < 6; i++) {
        want[i] = malloc(big * sizeof(float));
        got[i] = malloc(big * sizeof(float));
    }

    for (int chain = 0; chain < CHAIN_COUNT; chain++) {
        int failures = test_failures();
        uint32_t seed = (uint32_t)test_rng_next(rng);
        upload(&a, x, g);
        upload(&b, x, g);
        struct absorbed before = absorbed_now(ocl);
        run_chain(&a, s, chain, seed, want);
        run_chain(&b, s, chain, seed, got);
        char id[200];
        snprintf(id, sizeof id, "%s n=%d h=%d w=%d c=%d size=%d%s rate=%g%s", chain_names[chain],
                 s->n, s->h, s->w, s->c, s->size, s->same ? " same" : "", (double)s->rate,
                 mode_names[mode]);
        for (int i = 0; outputs(&a, i); i++) {
            size_t count = fcnn_tensor_count(outputs(&a, i)), wrong = 0, first = 0;
            if (i == 5 && chain == BWD_DROPOUT_POOL_RELU_BIAS) {
                double e = test_nmse(want[i], got[i], count);
                test_check(e <= NMSE_LIMIT, "%s: db NMSE %.3g", id, e);
                continue;
            }
            for (size_t k = 0; k < count; k++) /* NaN where neither wrote: the same bits */
                if (memcmp(&want[i][k], &got[i][k], sizeof(float)) != 0 && !wrong++)
                    first = k;
            test_check(!wrong, "%s: %s differs in %zu of %zu elements, first at %zu: %g, not %g",
                       id, output_names[i], wrong, count, first, (double)got[i][first],
                       (double)want[i][first]);
        }
        /* Fusion must have happened exactly where the chain allows it, and nowhere else. */
        struct absorbed after = absorbed_now(ocl), expected = { 0, 0, 0, 0 };
        if (mode == FUSING && fusable_shape(s, chain))
            expected = fusable[chain];
        struct absorbed seen = { after.dropout_fwd - before.dropout_fwd,
                                 after.dropout_bwd - before.dropout_bwd,
                                 after.relu_bwd - before.relu_bwd,
                                 after.bias_bwd - before.bias_bwd };
        test_check(memcmp(&seen, &expected, sizeof seen) == 0,
                   "%s: absorbed dropout_fwd %d, dropout_bwd %d, relu_bwd %d, bias_bwd %d; "
                   "expected %d, %d, %d, %d", id, seen.dropout_fwd, seen.dropout_bwd,
                   seen.relu_bwd, seen.bias_bwd, expected.dropout_fwd, expected.dropout_bwd,
                   expected.relu_bwd, expected.bias_bwd);
        if (test_failures() == failures)
            printf("ok   %s\n", id);
    }
    fcnn_buffer_free(ref, a.buffer);
    fcnn_buffer_free(ocl, b.buffer);
    for (int i = 0; i < 6; i++) {
        free(want[i]);
        free(got[i]);
    }
    free(x);
    free(g);
}

/* The launch of a deferred dropout chain fails where it finally runs: a sync after the
 * dropout_bwd alone, after the maxpool_bwd joined it, at the bias_bwd that completes it;
 * a sync after a maxpool_fwd alone, and at the dropout_fwd that completes that. */
static void check_deferred_failures(struct fcnn_backend *ocl, const struct shape *s)
{
    struct run r = { .be = ocl };
    place(&r, s);
    struct fcnn_pool_params pool = pool_params(s);
    static const char *const expected[] = {
        "dropout_bwd (deferred for fusion): clEnqueueNDRangeKernel",
        "maxpool_bwd with dropout_bwd (deferred and fused): clEnqueueNDRangeKernel",
        "maxpool_bwd with dropout_bwd, relu_bwd and bias_bwd (fused): clEnqueueNDRangeKernel",
        "maxpool_fwd (deferred for fusion): clEnqueueNDRangeKernel",
        "maxpool_fwd with dropout_fwd (fused): clEnqueueNDRangeKernel",
    };
    for (int scenario = 0; scenario < 5; scenario++) {
        test_check(fcnn_sync(ocl) == FCNN_OK, "sync before scenario %d", scenario);
        ocl_fault_reset();
        setenv("FCNN_OPENCL_FAULT", "enqueue:1", 1);
        int status = FCNN_OK;
        if (scenario < 3) {
            status = dropout(ocl, FCNN_OP_DROPOUT_BWD, &r.g, &r.d, s->rate, 7);
            test_check(status == FCNN_OK, "scenario %d: dropout_bwd was not deferred: %s",
                       scenario, fcnn_last_error());
            if (scenario > 0)
                test_check(fcnn_maxpool_bwd(ocl, &r.x, &r.d, &r.dx, &pool) == FCNN_OK,
                           "scenario %d: maxpool_bwd was not absorbed", scenario);
            if (scenario == 2) {
                test_check(fcnn_relu_bwd(ocl, &r.x, &r.dx, &r.dx) == FCNN_OK,
                           "scenario %d: relu_bwd was not absorbed", scenario);
                status = fcnn_bias_bwd(ocl, &r.dx, &r.db);
            } else {
                status = fcnn_sync(ocl);
            }
        } else {
            status = fcnn_maxpool_fwd(ocl, &r.x, &r.p, &pool);
            test_check(status == FCNN_OK, "scenario %d: maxpool_fwd was not deferred: %s",
                       scenario, fcnn_last_error());
            status = scenario == 4 ? dropout(ocl, FCNN_OP_DROPOUT_FWD, &r.p, &r.q, s->rate, 7)
                                   : fcnn_sync(ocl);
        }
        unsetenv("FCNN_OPENCL_FAULT");
        test_check(status == FCNN_ERR_DEVICE && strstr(fcnn_last_error(), expected[scenario]) &&
                       strstr(fcnn_last_error(), "CL_OUT_OF_RESOURCES"),
                   "scenario %d: the failed launch came back as status %d, '%s'; expected "
                   "'%s...: CL_OUT_OF_RESOURCES'", scenario, status, fcnn_last_error(),
                   expected[scenario]);
        if (test_check(fcnn_sync(ocl) == FCNN_OK, "scenario %d: the failure came back twice",
                       scenario))
            printf("ok   a failed deferred launch is reported: %s\n", expected[scenario]);
    }
    fcnn_buffer_free(ocl, r.buffer);
}


/* --- The fusion in a real training run --------------------------------------------------
 * The chains above are the ops one at a time; here the network enqueues them, so the
 * fusion must find its chains among a training step's tensors: conv2d(relu, bias) maxpool
 * dropout (backward: dropout_bwd, maxpool_bwd, relu_bwd, bias_bwd, all in one kernel) and
 * conv2d batchnorm relu maxpool dropout (the network runs the normalisation, its ReLU
 * and the pooling as one op, which the dropout joins both ways: tests/opencl-bn-dropout-
 * fusion), trained from the same seed with fusion and with FCNN_FUSE=0: the first batch
 * loss bit for bit, the later ones within float rounding (the bias sum in another order is
 * all that differs: measured 3e-7 to 6e-7, 1-3 float steps of a loss near 3), and every
 * dropout of every step absorbed. */

#define MODEL_STEPS 8
#define MODEL_BATCH 32
#define MAX_MODEL_LOSS_DIFF 1e-6

static int build_model(struct fcnn_model *m)
{
    fcnn_model_init(m, (struct fcnn_shape){ 3, { 28, 28, 1 } }, 10);
    const struct fcnn_conv2d_args first = { .filters = 16, .kh = 3, .kw = 3, .sh = 1, .sw = 1,
                                            .padding = FCNN_PADDING_SAME, .use_bias = true,
                                            .act = FCNN_ACT_RELU };
    const struct fcnn_conv2d_args second = { .filters = 32, .kh = 3, .kw = 3, .sh = 1,
                                             .sw = 1, .padding = FCNN_PADDING_SAME,
                                             .use_bias = false, .act = FCNN_ACT_NONE };
    int status;
    if ((status = fcnn_add_conv2d(m, &first)) != FCNN_OK ||
        (status = fcnn_add_maxpool2d(m, 2, 2, 2, 2, FCNN_PADDING_VALID)) != FCNN_OK ||
        (status = fcnn_add_dropout(m, 0.25f)) != FCNN_OK ||
        (status = fcnn_add_conv2d(m, &second)) != FCNN_OK ||
        (status = fcnn_add_batchnorm(m, 0.99f, 1e-3f)) != FCNN_OK ||
        (status = fcnn_add_activation(m, FCNN_ACT_RELU)) != FCNN_OK ||
        (status = fcnn_add_maxpool2d(m, 2, 2, 2, 2, FCNN_PADDING_VALID)) != FCNN_OK ||
        (status = fcnn_add_dropout(m, 0.25f)) != FCNN_OK ||
        (status = fcnn_add_flatten(m)) != FCNN_OK ||
        (status = fcnn_add_dense(m, 10, true, FCNN_ACT_SOFTMAX)) != FCNN_OK)
        return status;
    return FCNN_OK;
}

static const struct agree_setup model_setup = { build_model, FCNN_OPT_ADAM, 0.005, MODEL_BATCH,
                                                500, MODEL_STEPS };

/* A run's training from the seed; absorbed counts the calls fusion took in it. */
static bool train_model(struct agree_run *r, bool fusing, const struct fcnn_dataset *train,
                        const struct fcnn_dataset *test, struct absorbed *absorbed)
{
    if (!fusing)
        setenv("FCNN_FUSE", "0", 1);
    /* The variants by priority: the same on both sides whatever a tuning cache holds, and
     * no time spent tuning this model's shapes. */
    setenv("FCNN_TUNE", "0", 1);
    int status = agree_open(r, &model_setup, "opencl", train, test);
    unsetenv("FCNN_FUSE");
    unsetenv("FCNN_TUNE");
    struct absorbed before = { 0, 0, 0, 0 };
    if (status == FCNN_OK)
        before = absorbed_now(r->be);
    if (status == FCNN_OK)
        status = agree_train(r, MODEL_STEPS);
    if (!test_check(status == FCNN_OK, "training the model%s: %s",
                    fusing ? "" : " (FCNN_FUSE=0)", fcnn_last_error()))
        return false;
    struct absorbed after = absorbed_now(r->be);
    *absorbed = (struct absorbed){ after.dropout_fwd - before.dropout_fwd,
                                   after.dropout_bwd - before.dropout_bwd,
                                   after.relu_bwd - before.relu_bwd,
                                   after.bias_bwd - before.bias_bwd };
    return true;
}

static void check_model(void)
{
    struct fcnn_dataset train, test;
    int loaded = agree_load_data(MODEL_STEPS * MODEL_BATCH, 500, &train, &test);
    if (loaded == TEST_SKIP) {
        printf("skip the training run: Fashion-MNIST is not installed (the chains above ran)\n");
        return;
    }
    if (!test_check(loaded == 0, "loading Fashion-MNIST for the training run"))
        return;
    struct agree_run fused, apart;
    struct absorbed by_fused, by_apart;
    bool ok = train_model(&fused, true, &train, &test, &by_fused);
    ok = train_model(&apart, false, &train, &test, &by_apart) && ok;
    if (ok) {
        double worst, mean;
        int worst_step;
        agree_loss_difference(&apart, &fused, MODEL_STEPS, &worst, &worst_step, &mean);
        int failures = test_failures();
        /* The first step's forward pass, from the same weights, is bit for bit alike. */
        test_check(fused.step_loss[0] == apart.step_loss[0], "training run: the first batch "
                   "loss differs fused and apart: %.9g vs %.9g", fused.step_loss[0],
                   apart.step_loss[0]);
        test_check(worst <= MAX_MODEL_LOSS_DIFF, "training run: batch losses fused and apart "
                   "differ by %.3g at step %d (allowed %g)", worst, worst_step,
                   MAX_MODEL_LOSS_DIFF);
        /* Per step: both dropouts forward (at least: an evaluation pass fuses too) and
         * backward, and the first convolution's ReLU and bias gradients with its pool's. */
        test_check(by_fused.dropout_fwd >= 2 * MODEL_STEPS &&
                       by_fused.dropout_bwd == 2 * MODEL_STEPS &&
                       by_fused.relu_bwd == MODEL_STEPS && by_fused.bias_bwd == MODEL_STEPS,
                   "training run: absorbed dropout_fwd %d, dropout_bwd %d, relu_bwd %d, "
                   "bias_bwd %d in %d steps; expected at least %d, then %d, %d, %d",
                   by_fused.dropout_fwd, by_fused.dropout_bwd, by_fused.relu_bwd,
                   by_fused.bias_bwd, MODEL_STEPS, 2 * MODEL_STEPS, 2 * MODEL_STEPS,
                   MODEL_STEPS, MODEL_STEPS);
        struct absorbed none = { 0, 0, 0, 0 };
        test_check(memcmp(&by_apart, &none, sizeof none) == 0,
                   "training run with FCNN_FUSE=0: some calls were fused");
        if (test_failures() == failures)
            printf("ok   training run, %d steps: batch losses fused and apart within %.2g "
                   "(first %.6f, last %.6f); absorbed per step: dropout_fwd %d, dropout_bwd "
                   "%d, relu_bwd %d, bias_bwd %d\n", MODEL_STEPS, worst, fused.step_loss[0],
                   fused.step_loss[MODEL_STEPS - 1], by_fused.dropout_fwd / MODEL_STEPS,
                   by_fused.dropout_bwd / MODEL_STEPS, by_fused.relu_bwd / MODEL_STEPS,
                   by_fused.bias_bwd / MODEL_STEPS);
    }
    agree_close(&fused);
    agree_close(&apart);
    fcnn_dataset_free(&train);
    fcnn_dataset_free(&test);
}

/* tests/opencl-dropout-fusion [chains]: "chains" leaves the training run out (the planted-bug
 * control, fusion-catches-broken-kernel.sh, runs the chains under each plant). */
int main(int argc, char **argv)
{
    test_skip_without_opencl("opencl-dropout-fusion");
    bool chains_only = argc > 1 && strcmp(argv[1], "chains") == 0;
    if (argc > 1 && !chains_only) {
        fprintf(stderr, "opencl-dropout-fusion: unknown argument '%s' (only 'chains')\n",
                argv[1]);
        return 2;
    }
    static const struct shape shapes[] = {
        { 32, 28, 28, 32, 2, false, 0.25f }, /* the README's better model: two pools */
        { 32, 14, 14, 64, 2, false, 0.25f },
        { 7, 7, 7, 16, 2, false, 0.5f },     /* odd: the last row and column uncovered */
        { 2, 10, 11, 16, 3, false, 0.25f },  /* 3x3 windows, a remainder of 1 and 2 */
        { 3, 7, 9, 32, 2, true, 0.25f },     /* "same": clipped windows (fused forward only) */
        { 4, 8, 8, 16, 2, false, 0.0f },     /* rate 0, an evaluation pass: a copy */
        { 3, 6, 6, 3, 2, false, 0.25f },     /* channels the fused kernels do not take */
    };
    struct fcnn_backend *ref = NULL;
    if (fcnn_backend_open("ref", NULL, &ref) != FCNN_OK) {
        printf("FAIL: opening ref: %s\n", fcnn_last_error());
        return 1;
    }
    for (int mode = 0; mode < MODE_COUNT; mode++) {
        if (mode == FUSE_OFF)
            setenv("FCNN_FUSE", "0", 1);
        else
            unsetenv("FCNN_FUSE");
        /* Forcing the pooling's variants (those the fused kernels stand in for) turns the
         * fusion off: the forced kernels must be the ones that run. */
        struct fcnn_backend_options options = { .kernels = "maxpool_fwd=vec16,"
                                                           "maxpool_bwd=scatter16" };
        struct fcnn_backend *ocl = test_open_opencl(mode == FORCED ? &options : NULL);
        struct test_rng rng = { 4242 };
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
            const struct shape *s = &shapes[i];
            /* The forced variants take 16 channels at a time, and scatter16 no padding. */
            if (mode == FORCED && (s->c % 16 || s->same))
                continue;
            check_shape(ref, ocl, (enum mode)mode, s, &rng);
        }
        if (mode == FUSING)
            check_deferred_failures(ocl, &shapes[2]);
        fcnn_backend_close(ocl);
    }
    unsetenv("FCNN_FUSE");
    if (!chains_only)
        check_model();
    fcnn_backend_close(ref);
    printf(test_failures() ? "%d check(s) failed\n" : "all passed\n", test_failures());
    return test_failures() ? 1 : 0;
}
