/* A harness that cannot fail is not a harness (issue 4). This test opens copies of the
 * reference backend's op table with one op sabotaged, through fcnn_backend_open_ops, runs
 * the harness on each, and asserts that exactly the sabotaged op's cases are reported as
 * failed (or skipped, for an op the backend refuses) while every other case passes. It
 * also checks the comparison itself on outputs built by hand.
 *
 * Each sabotage is a wrapper around the reference slot that breaks its result in one way a
 * real kernel could: a sign error, one element slightly off, a write past the end, a part of
 * the output never written, an off-by-one integer, a write into an input, a refusal. */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend-impl.h"
#include "harness-impl.h"

static const struct fcnn_backend_ops *const ref = &fcnn_ref_backend_ops;

/* --- sabotaged slots ------------------------------------------------------------------ */

/* The reference slot of the call's op, which each sabotage wraps. */
static int reference(void *ctx, const struct fcnn_op_call *call)
{
    return ref->run[call->op](ctx, call);
}

/* A sign error in the filter gradient: what grad mode exists to catch. */
static int bwd_filter_negated(void *ctx, const struct fcnn_op_call *call)
{
    int status = reference(ctx, call);
    fcnn_tensor_arg dw = call->t[2];
    float *DW = FCNN_HOST_PTR(float, dw);
    for (size_t i = 0; i < fcnn_tensor_count(dw); i++)
        DW[i] = -DW[i];
    return status;
}

/* The largest output 0.1% off and all others right: the NMSE of that is far below 1e-8 for
 * big outputs, so only the per-element bound can see it. */
static int dense_fwd_one_element_off(void *ctx, const struct fcnn_op_call *call)
{
    int status = reference(ctx, call);
    fcnn_tensor_arg y = call->t[3];
    float *Y = FCNN_HOST_PTR(float, y);
    size_t largest = 0;
    for (size_t i = 1; i < fcnn_tensor_count(y); i++)
        if (fabsf(Y[i]) > fabsf(Y[largest]))
            largest = i;
    Y[largest] *= 1.001f;
    return status;
}

/* One element written just past the end of dx: it lands in the harness's guard. */
static int relu_bwd_overrun(void *ctx, const struct fcnn_op_call *call)
{
    int status = reference(ctx, call);
    fcnn_tensor_arg dx = call->t[2];
    FCNN_HOST_PTR(float, dx)[fcnn_tensor_count(dx)] = 0.0f;
    return status;
}

/* The last image of the batch never pooled: its outputs keep the harness's NaN pre-fill. */
static int maxpool_fwd_skips_last_image(void *ctx, const struct fcnn_op_call *call)
{
    fcnn_tensor_arg x = call->t[0], y = call->t[1];
    int n = x->shape[0];
    if (n == 1)
        return FCNN_OK;
    struct fcnn_tensor xs = fcnn_tensor_rows(x, 0, n - 1), ys = fcnn_tensor_rows(y, 0, n - 1);
    struct fcnn_op_call fewer = *call;
    fewer.t[0] = &xs;
    fewer.t[1] = &ys;
    return reference(ctx, &fewer);
}

/* The last prediction off by one: integer outputs must match exactly. */
static int softmax_pred_off_by_one(void *ctx, const struct fcnn_op_call *call)
{
    int status = reference(ctx, call);
    fcnn_tensor_arg pred = call->t[4];
    FCNN_HOST_PTR(int32_t, pred)[pred->shape[0] - 1] += 1;
    return status;
}

/* A right result, but the op scribbles on its input (as an in-place trick gone wrong). */
static int bias_bwd_scribbles_on_dy(void *ctx, const struct fcnn_op_call *call)
{
    int status = reference(ctx, call);
    FCNN_HOST_PTR(float, call->t[0])[0] += 1.0f;
    return status;
}

/* Batch normalization's dx without the term that flows through the variance: right only
 * where dgamma happens to vanish. Grad mode must see it. */
static int batchnorm_bwd_drops_variance_term(void *ctx, const struct fcnn_op_call *call)
{
    int status = reference(ctx, call);
    fcnn_tensor_arg x = call->t[0], mean = call->t[3], inv_std = call->t[4], dx = call->t[5];
    fcnn_tensor_arg dgamma = call->t[6];
    const float *X = FCNN_HOST_PTR(const float, x), *M = FCNN_HOST_PTR(const float, mean);
    const float *S = FCNN_HOST_PTR(const float, inv_std), *G = FCNN_HOST_PTR(const float, call->t[2]);
    const float *DG = FCNN_HOST_PTR(const float, dgamma);
    float *DX = FCNN_HOST_PTR(float, dx);
    int channels = x->shape[x->ndim - 1];
    size_t count = fcnn_tensor_count(x), rows = count / (size_t)channels;
    for (size_t i = 0; i < count; i++) {
        int c = (int)(i % (size_t)channels);
        double xhat = (X[i] - M[c]) * S[c];
        DX[i] += (float)(G[c] * S[c] / (double)rows * xhat * DG[c]);
    }
    return status;
}

/* Dropout with a mask from another seed: as random-looking as the right one, and wrong.
 * Test mode compares dropout exactly, so it must see it. */
static int dropout_fwd_other_seed(void *ctx, const struct fcnn_op_call *call)
{
    struct fcnn_op_call other = *call;
    other.p.dropout.seed += 1;
    return reference(ctx, &other);
}

/* Refusals: one through the supports hook, one from the slot itself. */
static bool supports_all_but_momentum(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    return call->op != FCNN_OP_MOMENTUM_UPDATE;
}

static int adam_refused(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx, (void)call;
    return fcnn_error(FCNN_ERR_UNSUPPORTED, "adam_update: refused by the sabotaged backend");
}

static void sabotage_bwd_filter(struct fcnn_backend_ops *ops)
{
    ops->run[FCNN_OP_CONV2D_BWD_FILTER] = bwd_filter_negated;
}

static void sabotage_dense_fwd(struct fcnn_backend_ops *ops)
{
    ops->run[FCNN_OP_DENSE_FWD] = dense_fwd_one_element_off;
}

static void sabotage_relu_bwd(struct fcnn_backend_ops *ops)
{
    ops->run[FCNN_OP_RELU_BWD] = relu_bwd_overrun;
}

static void sabotage_maxpool_fwd(struct fcnn_backend_ops *ops)
{
    ops->run[FCNN_OP_MAXPOOL_FWD] = maxpool_fwd_skips_last_image;
}

static void sabotage_softmax(struct fcnn_backend_ops *ops)
{
    ops->run[FCNN_OP_SOFTMAX_XENT] = softmax_pred_off_by_one;
}

static void sabotage_bias_bwd(struct fcnn_backend_ops *ops)
{
    ops->run[FCNN_OP_BIAS_BWD] = bias_bwd_scribbles_on_dy;
}


static void sabotage_batchnorm_bwd(struct fcnn_backend_ops *ops)
{
    ops->run[FCNN_OP_BATCHNORM_BWD] = batchnorm_bwd_drops_variance_term;
}

static void sabotage_dropout_fwd(struct fcnn_backend_ops *ops)
{
    ops->run[FCNN_OP_DROPOUT_FWD] = dropout_fwd_other_seed;
}

static void sabotage_optimizers(struct fcnn_backend_ops *ops)
{
    ops->supports = supports_all_but_momentum;
    ops->run[FCNN_OP_ADAM_UPDATE] = adam_refused;
}

/* --- scenarios -------------------------------------------------------------------------- */

struct scenario {
    const char *what;
    enum harness_mode mode;
    void (*sabotage)(struct fcnn_backend_ops *ops);
    const char *ops[4];       /* -o filters; none: every op */
    enum fcnn_op victims[2];  /* the sabotaged ops */
    int victim_count;
    enum harness_verdict victim_verdict;
    int exit_status;          /* what backend-ops would exit with */
    /* Victim cases the bug does not always reach, whose verdict is not asserted; NULL:
     * every case of the sabotaged op must show it. */
    bool (*not_reached)(const char *id);
};

/* Dropout at rate 0 is the identity whatever its mask, and a one-element tensor's mask
 * agrees with another seed's half the time. */
static bool dropout_not_reached(const char *id)
{
    size_t n = strlen(id);
    return strstr(id, "rate=0,") || (n > 3 && strcmp(id + n - 3, ",1)") == 0);
}

/* A bug in dx leaves the dgamma and dbeta cases right. */
static bool batchnorm_dx_only(const char *id)
{
    return strstr(id, ",dgamma)") || strstr(id, ",dbeta)");
}

static const struct scenario scenarios[] = {
    { "conv2d_bwd_filter negated, whole test table", HARNESS_TEST, sabotage_bwd_filter, { 0 },
      { FCNN_OP_CONV2D_BWD_FILTER }, 1, HARNESS_FAILED, 1, NULL },
    { "conv2d_bwd_filter negated, grad mode", HARNESS_GRAD, sabotage_bwd_filter, { 0 },
      { FCNN_OP_CONV2D_BWD_FILTER }, 1, HARNESS_FAILED, 1, NULL },
    { "dense_fwd one element 0.1% off", HARNESS_TEST, sabotage_dense_fwd, { "dense_fwd" },
      { FCNN_OP_DENSE_FWD }, 1, HARNESS_FAILED, 1, NULL },
    { "relu_bwd writes one element past dx", HARNESS_TEST, sabotage_relu_bwd, { "relu_bwd" },
      { FCNN_OP_RELU_BWD }, 1, HARNESS_FAILED, 1, NULL },
    { "relu_bwd writes one element past dx, grad mode", HARNESS_GRAD, sabotage_relu_bwd,
      { "relu_bwd" }, { FCNN_OP_RELU_BWD }, 1, HARNESS_FAILED, 1, NULL },
    { "maxpool_fwd leaves the last image unwritten", HARNESS_TEST, sabotage_maxpool_fwd,
      { "maxpool_fwd" }, { FCNN_OP_MAXPOOL_FWD }, 1, HARNESS_FAILED, 1, NULL },
    { "softmax_xent's last prediction off by one", HARNESS_TEST, sabotage_softmax,
      { "softmax_xent" }, { FCNN_OP_SOFTMAX_XENT }, 1, HARNESS_FAILED, 1, NULL },
    { "bias_bwd writes into its input", HARNESS_TEST, sabotage_bias_bwd, { "bias_bwd" },
      { FCNN_OP_BIAS_BWD }, 1, HARNESS_FAILED, 1, NULL },
    { "bias_bwd writes into its input, grad mode", HARNESS_GRAD, sabotage_bias_bwd,
      { "bias_bwd" }, { FCNN_OP_BIAS_BWD }, 1, HARNESS_FAILED, 1, NULL },
    { "batchnorm_bwd without the variance term, grad mode", HARNESS_GRAD,
      sabotage_batchnorm_bwd, { "batchnorm_bwd" }, { FCNN_OP_BATCHNORM_BWD }, 1, HARNESS_FAILED,
      1, batchnorm_dx_only },
    { "dropout_fwd with another seed's mask", HARNESS_TEST, sabotage_dropout_fwd,
      { "dropout_fwd" }, { FCNN_OP_DROPOUT_FWD }, 1, HARNESS_FAILED, 1, dropout_not_reached },
    /* Refused cases are skipped, never passed; and an op that refuses every case was never
     * shown to work, which fails the run (one "(every case)" failure per op). */
    { "momentum and adam refused", HARNESS_TEST, sabotage_optimizers,
      { "sgd_update", "momentum_update", "adam_update" },
      { FCNN_OP_MOMENTUM_UPDATE, FCNN_OP_ADAM_UPDATE }, 2, HARNESS_SKIPPED, 1, NULL },
    { "only refused ops: nothing compared", HARNESS_TEST, sabotage_optimizers,
      { "momentum_update", "adam_update" },
      { FCNN_OP_MOMENTUM_UPDATE, FCNN_OP_ADAM_UPDATE }, 2, HARNESS_SKIPPED, 1, NULL },
};

static const char *const verdict_names[] = { "OK", "FAILED", "SKIPPED" };

static bool is_victim(const struct scenario *s, enum fcnn_op op)
{
    for (int i = 0; i < s->victim_count; i++)
        if (s->victims[i] == op)
            return true;
    return false;
}

static int run_scenario(const struct scenario *s, struct fcnn_backend *oracle)
{
    printf("=== scenario: %s\n", s->what);
    struct fcnn_backend_ops broken = fcnn_ref_backend_ops;
    s->sabotage(&broken);
    struct fcnn_backend *be;
    if (fcnn_backend_open_ops("ref-broken", &broken, NULL, &be) != FCNN_OK) {
        printf("FAIL: cannot open the sabotaged backend: %s\n", fcnn_last_error());
        return 1;
    }

    struct harness h;
    harness_init(&h, s->mode, stdout);
    for (int i = 0; i < 4 && s->ops[i]; i++)
        harness_select_op(&h, s->ops[i]);
    if (s->mode == HARNESS_TEST)
        harness_run_test(&h, oracle, &be, 1);
    else
        harness_run_grad(&h, be);
    harness_print_totals(&h);

    int problems = 0, victims = 0;
    for (int i = 0; i < h.result_count; i++) {
        const struct harness_result *r = &h.results[i];
        /* The row that says a variant passed no case at all fails whatever the cases did. */
        bool coverage_row = strstr(r->id, "(every case)") != NULL;
        enum harness_verdict want = !is_victim(s, r->op) ? HARNESS_PASSED
                                    : coverage_row       ? HARNESS_FAILED
                                                         : s->victim_verdict;
        victims += is_victim(s, r->op);
        if (is_victim(s, r->op) && s->not_reached && s->not_reached(r->id))
            continue;
        if (r->verdict != want) {
            printf("FAIL: %s %s: %s, should be %s\n", r->id, r->target,
                   verdict_names[r->verdict], verdict_names[want]);
            problems++;
        }
    }
    if (!victims) {
        printf("FAIL: no case of the sabotaged op ran\n");
        problems++;
    }
    if (harness_exit_status(&h) != s->exit_status) {
        printf("FAIL: exit status %d, should be %d\n", harness_exit_status(&h), s->exit_status);
        problems++;
    }
    printf("=== %s: %s (%d cases, %d of the sabotaged op)\n\n", s->what,
           problems ? "NOT CAUGHT" : "caught", h.result_count, victims);
    harness_free(&h);
    fcnn_backend_close(be);
    return problems ? 1 : 0;
}

/* --- the comparison on hand-made outputs -------------------------------------------------- */

static int expect_compare(const char *what, bool want, enum fcnn_dtype dtype, int n,
                          const void *expected, const void *got,
                          const struct harness_tolerance *tol, double *nmse)
{
    struct harness_tensor_spec spec = { .dtype = dtype, .ndim = 1, .shape = { n } };
    char why[1024] = "";
    bool ok = harness_compare(&spec, "y", expected, got, tol, nmse, why, sizeof why);
    printf("compare: %s: %s%s%s\n", what, ok ? "passes" : "fails", why[0] ? ": " : "", why);
    if (ok != want) {
        printf("FAIL: should %s\n", want ? "pass" : "fail");
        return 1;
    }
    return 0;
}

static int check_comparisons(void)
{
    enum { N = 10000 };
    static float a[N], b[N];
    const struct harness_tolerance tol = { 1e-8, 1e-5, 1e-5 }, exact = { 0, 0, 0 };
    int problems = 0;
    double nmse = 0;

    for (int i = 0; i < N; i++)
        a[i] = b[i] = 1.0f + (float)i / N;
    problems += expect_compare("identical", true, FCNN_F32, N, a, b, &tol, NULL);

    /* One element in 10,000 off by 0.1%: NMSE about 1e-10, under its bound; the element
     * check must catch it anyway. */
    b[N / 2] *= 1.001f;
    problems += expect_compare("one element 0.1% off", false, FCNN_F32, N, a, b, &tol, &nmse);
    if (!(nmse < tol.nmse)) {
        printf("FAIL: that NMSE (%.3e) should be under %.0e, or this shows nothing\n", nmse, tol.nmse);
        problems++;
    }
    b[N / 2] = a[N / 2];

    b[7] = NAN;
    problems += expect_compare("a NaN", false, FCNN_F32, N, a, b, &tol, NULL);
    a[7] = b[7] = INFINITY;
    problems += expect_compare("matching +inf", true, FCNN_F32, N, a, b, &tol, NULL);
    b[7] = -INFINITY;
    problems += expect_compare("+inf against -inf", false, FCNN_F32, N, a, b, &tol, NULL);
    b[7] = 3.0f;
    problems += expect_compare("+inf against a number", false, FCNN_F32, N, a, b, &tol, NULL);
    a[7] = b[7] = 1.0f;

    a[3] = 0.0f, b[3] = -0.0f;
    problems += expect_compare("exact, +0 against -0", true, FCNN_F32, N, a, b, &exact, NULL);
    b[3] = nextafterf(0.0f, 1.0f);
    problems += expect_compare("exact, one ulp off", false, FCNN_F32, N, a, b, &exact, NULL);

    const int32_t want[3] = { 1, 2, 3 }, got[3] = { 1, 2, 4 };
    problems += expect_compare("integers, one off", false, FCNN_I32, 3, want, got, &tol, NULL);
    return problems;
}

int main(void)
{
    int failures = check_comparisons();
    struct fcnn_backend *oracle;
    if (fcnn_backend_open("ref", NULL, &oracle) != FCNN_OK) {
        printf("cannot open the reference backend: %s\n", fcnn_last_error());
        return 99;
    }
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
        failures += run_scenario(&scenarios[i], oracle);
    fcnn_backend_close(oracle);
    printf("%s\n", failures ? "the harness missed a planted bug" : "every planted bug was caught");
    return failures ? 1 : 0;
}
