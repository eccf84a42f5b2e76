/* BatchNormalization folded into the layer before it in evaluation passes
 * (nn/network_fold.c), on ref and on every other backend that can run here. A model with
 * every case — Conv2D without a bias + BN + ReLU, Conv2D with a bias + BN followed by
 * tanh (folded without the ReLU), Conv2D with its own ReLU + BN (not foldable: the
 * normalisation comes after the activation), Dense without a bias + BN + ReLU + Dropout —
 * gets random weights, gamma of both signs, and moving variances near epsilon (where
 * forgetting epsilon, or the square root, would show), and then on each backend:
 *
 *   - an evaluation pass with folding on gives the logits of the pass with folding off,
 *     within float rounding (tolerance below);
 *   - with folding on, the pass enqueues 3 BATCHNORM_FWD_INFER and 2 ACTIVATION_FWD
 *     calls fewer (the fold happened: three folds, two of them with their ReLU), and
 *     fcnn_network_folded says 3 (0 when off);
 *   - after a training forward pass (which moves the moving statistics) and after new
 *     parameters are set, the folded weights are recomputed: the logits changed, and
 *     folded and unfolded passes still agree.
 *
 * Tolerance: the folded path rounds each weight once more (w * s) and the bias once; the
 * unfolded path rounds the layer's output and then each of the normalisation's four steps.
 * Both are float32 sums of at most 64 products, so each result differs by a few times
 * 2^-24 (6e-8) relative to the sum of its terms' magnitudes, compounded over the four
 * layers to the logits, where the small variances make large activations that partly
 * cancel. Measured: up to 4e-7 of the largest logit on ref and 1e-6 on PoCL; allowed 1e-5
 * (ten times that). A wrong fold is far outside it: epsilon is 5% to 100% of these
 * variances (leaving it out measured 0.4), and a mean or beta left out moves logits by
 * their own size. */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/status.h"
#include "nn/model.h"
#include "nn/network.h"

#include "agree-lib.h"

#define BATCH 7
#define CLASSES 10
#define MAX_REL_DIFF 1e-5 /* max |folded - unfolded| / max |unfolded| over the logits */
#define FOLDS 3

static int build(struct fcnn_model *m)
{
    fcnn_model_init(m, (struct fcnn_shape){ 3, { 12, 12, 2 } }, CLASSES);
    const struct fcnn_conv2d_args plain = { .filters = 6, .kh = 3, .kw = 3, .sh = 1, .sw = 1,
                                            .padding = FCNN_PADDING_SAME, .use_bias = false,
                                            .act = FCNN_ACT_NONE };
    const struct fcnn_conv2d_args biased = { .filters = 5, .kh = 3, .kw = 3, .sh = 1, .sw = 1,
                                             .padding = FCNN_PADDING_VALID, .use_bias = true,
                                             .act = FCNN_ACT_NONE };
    const struct fcnn_conv2d_args relu = { .filters = 4, .kh = 1, .kw = 1, .sh = 1, .sw = 1,
                                           .padding = FCNN_PADDING_VALID, .use_bias = true,
                                           .act = FCNN_ACT_RELU };
    int status;
    if ((status = fcnn_add_conv2d(m, &plain)) != FCNN_OK ||
        (status = fcnn_add_batchnorm(m, 0.9f, 1e-3f)) != FCNN_OK ||
        (status = fcnn_add_activation(m, FCNN_ACT_RELU)) != FCNN_OK ||
        (status = fcnn_add_maxpool2d(m, 2, 2, 2, 2, FCNN_PADDING_VALID)) != FCNN_OK ||
        (status = fcnn_add_conv2d(m, &biased)) != FCNN_OK ||
        (status = fcnn_add_batchnorm(m, 0.9f, 1e-3f)) != FCNN_OK ||
        (status = fcnn_add_activation(m, FCNN_ACT_TANH)) != FCNN_OK ||
        (status = fcnn_add_conv2d(m, &relu)) != FCNN_OK ||
        (status = fcnn_add_batchnorm(m, 0.9f, 1e-3f)) != FCNN_OK ||
        (status = fcnn_add_flatten(m)) != FCNN_OK ||
        (status = fcnn_add_dense(m, 12, false, FCNN_ACT_NONE)) != FCNN_OK ||
        (status = fcnn_add_batchnorm(m, 0.9f, 1e-3f)) != FCNN_OK ||
        (status = fcnn_add_activation(m, FCNN_ACT_RELU)) != FCNN_OK ||
        (status = fcnn_add_dropout(m, 0.5f)) != FCNN_OK ||
        (status = fcnn_add_dense(m, CLASSES, true, FCNN_ACT_NONE)) != FCNN_OK)
        return status;
    return FCNN_OK;
}

static float uniform(struct fcnn_rng *rng, double lo, double hi)
{
    return (float)(lo + (hi - lo) * fcnn_rng_uniform(rng));
}

/* Glorot kernels, then every constant made random: biases, beta and gamma (either sign),
 * moving means, and moving variances from 0.001 to 0.02 (epsilon is 0.001). */
static void random_weights(const struct fcnn_model *m, uint64_t seed, float *params,
                           float *state)
{
    struct fcnn_rng rng;
    fcnn_rng_seed(&rng, seed);
    fcnn_model_init_params(m, &rng, params);
    for (int i = 0; i < m->param_count; i++) {
        const struct fcnn_param *p = &m->params[i];
        if (p->fan_in || p->fan_out)
            continue;
        bool gamma = strstr(p->name, "gamma") != NULL;
        for (size_t k = 0; k < p->count; k++) {
            float v = gamma ? uniform(&rng, 0.5, 1.5) : uniform(&rng, -0.5, 0.5);
            params[p->offset + k] = gamma && fcnn_rng_below(&rng, 4) == 0 ? -v : v;
        }
    }
    fcnn_model_init_state(m, state);
    for (int i = 0; i < m->state_count; i++) {
        const struct fcnn_param *p = &m->states[i];
        bool var = strstr(p->name, "variance") != NULL;
        for (size_t k = 0; k < p->count; k++)
            state[p->offset + k] = var ? uniform(&rng, 0.001, 0.02) : uniform(&rng, -0.3, 0.3);
    }
}

/* One backend's network, its input, and host room for the logits. */
struct run {
    const char *backend;
    struct fcnn_backend *be;
    struct fcnn_model model;
    struct fcnn_network *net;
    float *params, *state;
};

/* An evaluation pass with folding on or off: its logits, and its op calls traced. */
static int evaluate(struct run *r, bool fold, float *logits, struct fcnn_trace *trace)
{
    fcnn_network_set_folding(r->net, fold);
    *trace = (struct fcnn_trace){ 0 };
    fcnn_backend_trace(r->be, trace);
    int status = fcnn_network_forward(r->net, BATCH, false);
    fcnn_backend_trace(r->be, NULL);
    struct fcnn_tensor out = fcnn_network_activation(r->net, r->model.layer_count, BATCH);
    if (status == FCNN_OK)
        status = fcnn_download(r->be, &out, logits);
    return status;
}

static double max_abs(const float *a, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fabs(a[i]) > m ? fabs(a[i]) : m;
    return m;
}

/* Folded against unfolded on the network as it is now; `when` names the moment. Counts
 * the ops each pass enqueued and checks the difference. Returns the failures. */
static int compare(struct run *r, const char *when, float *folded)
{
    size_t count = (size_t)BATCH * CLASSES;
    float *plain = malloc(count * sizeof(float));
    struct fcnn_trace on, off;
    int status = evaluate(r, false, plain, &off);
    if (status == FCNN_OK)
        status = evaluate(r, true, folded, &on);
    int failures = 0;
    if (status != FCNN_OK) {
        printf("FAIL %s, %s: evaluation: %s\n", r->backend, when, fcnn_last_error());
        failures++;
    } else {
        double d = agree_max_rel_diff(folded, plain, count);
        int bn_off = agree_count_op(&off, FCNN_OP_BATCHNORM_FWD_INFER);
        int bn_on = agree_count_op(&on, FCNN_OP_BATCHNORM_FWD_INFER);
        int act_off = agree_count_op(&off, FCNN_OP_ACTIVATION_FWD);
        int act_on = agree_count_op(&on, FCNN_OP_ACTIVATION_FWD);
        printf("%s, %s: ops %d unfolded, %d folded (batchnorm %d -> %d, activation %d -> %d); "
               "logits max |folded - unfolded| / max |unfolded| = %.2e (max |logit| %.3f)\n",
               r->backend, when, off.count, on.count, bn_off, bn_on, act_off, act_on, d,
               max_abs(plain, count));
        if (!(d <= MAX_REL_DIFF)) {
            printf("FAIL %s, %s: folded logits differ (allowed %g)\n", r->backend, when,
                   MAX_REL_DIFF);
            failures++;
        }
        if (bn_off != 4 || bn_on != 1 || act_off != 3 || act_on != 1 ||
            on.count != off.count - 5) {
            printf("FAIL %s, %s: expected 4 -> 1 batchnorm and 3 -> 1 activation calls, 5 "
                   "calls fewer in all\n", r->backend, when);
            failures++;
        }
    }
    fcnn_trace_free(&on);
    fcnn_trace_free(&off);
    free(plain);
    return failures;
}

static bool differs(const float *a, const float *b, size_t n)
{
    return memcmp(a, b, n * sizeof(float)) != 0;
}

static int check_backend(const char *backend)
{
    struct run r = { .backend = backend };
    size_t count = (size_t)BATCH * CLASSES;
    float *first = malloc(count * sizeof(float)), *after = malloc(count * sizeof(float));
    int failures = 0;
    int status = fcnn_backend_open(backend, NULL, &r.be);
    if (status == FCNN_OK)
        status = build(&r.model);
    if (status == FCNN_OK)
        status = fcnn_network_create(r.be, &r.model, BATCH, BATCH, &r.net);
    if (status == FCNN_OK) {
        /* Unfolded means the layers apart, each op of its own (test-bn-relu-fusion checks
         * the ReLU fused into BatchNormalization, test-conv-pool-fusion the pooling fused
         * into a folded convolution). */
        fcnn_network_set_bn_relu_fusion(r.net, false);
        fcnn_network_set_pool_fusion(r.net, false);
        r.params = malloc(r.model.param_floats * sizeof(float));
        r.state = malloc(r.model.state_floats * sizeof(float));
        random_weights(&r.model, 7, r.params, r.state);
        status = fcnn_network_set_params(r.net, r.params);
    }
    if (status == FCNN_OK)
        status = fcnn_network_set_state(r.net, r.state);
    if (status == FCNN_OK)
        status = agree_upload_input(r.be, r.net, BATCH, 11);
    if (status != FCNN_OK) {
        printf("FAIL %s: setting up: %s\n", backend, fcnn_last_error());
        failures++;
        goto done;
    }
    fcnn_network_set_folding(r.net, false);
    int off = fcnn_network_folded(r.net);
    fcnn_network_set_folding(r.net, true);
    if (fcnn_network_folded(r.net) != FOLDS || off != 0) {
        printf("FAIL %s: %d folds planned with folding on (expected %d), %d off\n", backend,
               fcnn_network_folded(r.net), FOLDS, off);
        failures++;
    }
    failures += compare(&r, "random weights", first);

    /* A training pass moves the moving statistics (momentum 0.9). */
    fcnn_network_set_seed(r.net, 5);
    status = fcnn_network_forward(r.net, BATCH, true);
    if (status != FCNN_OK) {
        printf("FAIL %s: training pass: %s\n", backend, fcnn_last_error());
        failures++;
        goto done;
    }
    failures += compare(&r, "after a training pass", after);
    if (!differs(first, after, count)) {
        printf("FAIL %s: the training pass did not change the evaluation\n", backend);
        failures++;
    }

    /* New parameters, set through the network. */
    random_weights(&r.model, 8, r.params, r.state);
    status = fcnn_network_set_params(r.net, r.params);
    if (status != FCNN_OK) {
        printf("FAIL %s: setting parameters: %s\n", backend, fcnn_last_error());
        failures++;
        goto done;
    }
    memcpy(first, after, count * sizeof(float));
    failures += compare(&r, "after new parameters", after);
    if (!differs(first, after, count)) {
        printf("FAIL %s: new parameters did not change the evaluation\n", backend);
        failures++;
    }
done:
    fcnn_network_destroy(r.net);
    fcnn_backend_close(r.be);
    free(r.params);
    free(r.state);
    free(first);
    free(after);
    return failures;
}

int main(void)
{
    const char *others[8];
    int count;
    int failures = agree_other_backends(others, 8, &count);
    failures += check_backend("ref");
    for (int b = 0; b < count; b++)
        failures += check_backend(others[b]);
    printf(failures ? "%d failure(s)\n" : "folded and unfolded evaluation agree\n", failures);
    return failures ? 1 : 0;
}
