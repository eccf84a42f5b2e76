/* A convolution and the max pooling after it as one op in evaluation passes
 * (nn/network_pool.c, conv2d_pool_fwd), against the layers apart. A model with each case —
 * a first layer of one input channel with its own ReLU and 2x2 pooling; a convolution with
 * BatchNormalization + ReLU folded into it and 3x3 pooling; a tanh convolution (the
 * activation runs apart: not fused) and a pooling at stride 1 (not plain: not fused); a
 * folded 3x3 convolution of 32 channels with 2x2 pooling — gets random weights, and then on
 * ref and on every other backend here:
 *
 *   - an evaluation pass with the fusion on gives the logits of the pass with it off: bit
 *     for bit on ref (the op rounds each output as conv2d_fwd does and takes the same first
 *     maximum), within float rounding elsewhere (tolerance below);
 *   - the fused pass enqueues a conv2d_pool_fwd for each fusable pair and that many
 *     maxpool_fwd calls fewer: 3 on ref, 2 on OpenCL (its kernels pool 2x2 windows only);
 *   - a training pass enqueues no conv2d_pool_fwd (its backward needs the convolution's
 *     output), and after it, with the moving statistics moved, fused and apart still agree.
 *
 * Tolerance on other backends: the fused op may run another kernel variant than the plain
 * forward (on PoCL the Winograd F(4x4) form, whose float32 transforms round more than the
 * direct or F(2x2) ones), so the outputs differ by a few units of float32 rounding of each
 * layer's sums, compounded over four layers to the logits. Measured: 6e-7 of the largest
 * logit on PoCL; allowed 1e-5. A wrong window, a missed activation or a lost bias moves
 * the logits by a good fraction of their size. */
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

#define BATCH 5
#define CLASSES 10
#define MAX_REL_DIFF 1e-5 /* max |fused - apart| / max |apart| over the logits */

static int build(struct fcnn_model *m)
{
    fcnn_model_init(m, (struct fcnn_shape){ 3, { 18, 18, 1 } }, CLASSES);
    const struct fcnn_conv2d_args first = { .filters = 32, .kh = 3, .kw = 3, .sh = 1, .sw = 1,
                                            .padding = FCNN_PADDING_SAME, .use_bias = true,
                                            .act = FCNN_ACT_RELU };
    const struct fcnn_conv2d_args plain = { .filters = 32, .kh = 3, .kw = 3, .sh = 1, .sw = 1,
                                            .padding = FCNN_PADDING_SAME, .use_bias = false,
                                            .act = FCNN_ACT_NONE };
    const struct fcnn_conv2d_args tanh_conv = { .filters = 32, .kh = 3, .kw = 3, .sh = 1,
                                                .sw = 1, .padding = FCNN_PADDING_SAME,
                                                .use_bias = true, .act = FCNN_ACT_TANH };
    int status;
    if ((status = fcnn_add_conv2d(m, &first)) != FCNN_OK ||                /* 18x18x32 */
        (status = fcnn_add_maxpool2d(m, 2, 2, 2, 2, FCNN_PADDING_VALID)) != FCNN_OK ||
        (status = fcnn_add_conv2d(m, &plain)) != FCNN_OK ||                /* 9x9x32 */
        (status = fcnn_add_batchnorm(m, 0.9f, 1e-3f)) != FCNN_OK ||
        (status = fcnn_add_activation(m, FCNN_ACT_RELU)) != FCNN_OK ||
        (status = fcnn_add_maxpool2d(m, 3, 3, 3, 3, FCNN_PADDING_VALID)) != FCNN_OK ||
        (status = fcnn_add_conv2d(m, &tanh_conv)) != FCNN_OK ||            /* 3x3x32 */
        (status = fcnn_add_maxpool2d(m, 2, 2, 1, 1, FCNN_PADDING_VALID)) != FCNN_OK ||
        (status = fcnn_add_conv2d(m, &plain)) != FCNN_OK ||                /* 2x2x32 */
        (status = fcnn_add_batchnorm(m, 0.9f, 1e-3f)) != FCNN_OK ||
        (status = fcnn_add_activation(m, FCNN_ACT_RELU)) != FCNN_OK ||
        (status = fcnn_add_maxpool2d(m, 2, 2, 2, 2, FCNN_PADDING_VALID)) != FCNN_OK ||
        (status = fcnn_add_flatten(m)) != FCNN_OK ||
        (status = fcnn_add_dense(m, CLASSES, true, FCNN_ACT_NONE)) != FCNN_OK)
        return status;
    return FCNN_OK;
}

static float uniform(struct fcnn_rng *rng, double lo, double hi)
{
    return (float)(lo + (hi - lo) * fcnn_rng_uniform(rng));
}

/* Glorot kernels and random biases, gamma, beta and moving statistics. */
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
        for (size_t k = 0; k < p->count; k++)
            params[p->offset + k] = gamma ? uniform(&rng, 0.5, 1.5) : uniform(&rng, -0.5, 0.5);
    }
    fcnn_model_init_state(m, state);
    for (int i = 0; i < m->state_count; i++) {
        const struct fcnn_param *p = &m->states[i];
        bool var = strstr(p->name, "variance") != NULL;
        for (size_t k = 0; k < p->count; k++)
            state[p->offset + k] = var ? uniform(&rng, 0.5, 2.0) : uniform(&rng, -0.3, 0.3);
    }
}

/* A forward pass with the fusion on or off, its op calls traced; the logits of an
 * evaluation pass into `logits`. */
static int forward(struct fcnn_backend *be, struct fcnn_network *net,
                   const struct fcnn_model *model, bool fuse, bool training, float *logits,
                   struct fcnn_trace *trace)
{
    fcnn_network_set_pool_fusion(net, fuse);
    *trace = (struct fcnn_trace){ 0 };
    fcnn_backend_trace(be, trace);
    int status = fcnn_network_forward(net, BATCH, training);
    fcnn_backend_trace(be, NULL);
    if (status != FCNN_OK || training)
        return status;
    struct fcnn_tensor out = fcnn_network_activation(net, model->layer_count, BATCH);
    return fcnn_download(be, &out, logits);
}

/* Fused against apart on the network as it is now; `when` names the moment. */
static int compare(struct fcnn_backend *be, struct fcnn_network *net,
                   const struct fcnn_model *model, const char *backend, const char *when,
                   int expected)
{
    size_t count = (size_t)BATCH * CLASSES;
    float fused[BATCH * CLASSES], apart[BATCH * CLASSES];
    struct fcnn_trace on, off;
    int status = forward(be, net, model, false, false, apart, &off);
    if (status == FCNN_OK)
        status = forward(be, net, model, true, false, fused, &on);
    int failures = 0;
    if (status != FCNN_OK) {
        printf("FAIL %s, %s: evaluation: %s\n", backend, when, fcnn_last_error());
        failures++;
    } else {
        bool exact = strcmp(backend, "ref") == 0;
        double d = agree_max_rel_diff(fused, apart, count);
        int pairs = agree_count_op(&on, FCNN_OP_CONV2D_POOL_FWD);
        int pools_off = agree_count_op(&off, FCNN_OP_MAXPOOL_FWD);
        int pools_on = agree_count_op(&on, FCNN_OP_MAXPOOL_FWD);
        printf("%s, %s: %d conv2d_pool_fwd, maxpool_fwd %d -> %d; logits max |fused - apart| "
               "/ max |apart| = %.2e\n", backend, when, pairs, pools_off, pools_on, d);
        if (exact ? memcmp(fused, apart, sizeof fused) != 0 : !(d <= MAX_REL_DIFF)) {
            printf("FAIL %s, %s: fused logits differ (allowed %s)\n", backend, when,
                   exact ? "nothing" : "1e-5");
            failures++;
        }
        if (pairs != expected || pools_on != pools_off - expected ||
            agree_count_op(&off, FCNN_OP_CONV2D_POOL_FWD) != 0) {
            printf("FAIL %s, %s: expected %d pairs fused, as many pooling calls fewer, and none "
                   "with the fusion off\n", backend, when, expected);
            failures++;
        }
    }
    fcnn_trace_free(&on);
    fcnn_trace_free(&off);
    return failures;
}

static int check_backend(const char *backend)
{
    struct fcnn_backend *be = NULL;
    struct fcnn_model model;
    struct fcnn_network *net = NULL;
    float *params = NULL, *state = NULL;
    int expected = strcmp(backend, "ref") == 0 ? 3 : 2, failures = 0;
    int status = fcnn_backend_open(backend, NULL, &be);
    if (status == FCNN_OK)
        status = build(&model);
    if (status == FCNN_OK)
        status = fcnn_network_create(be, &model, BATCH, BATCH, &net);
    if (status == FCNN_OK) {
        params = malloc(model.param_floats * sizeof(float));
        state = malloc(model.state_floats * sizeof(float));
        status = params && state ? FCNN_OK : fcnn_error(FCNN_ERR_NOMEM, "out of memory");
    }
    if (status == FCNN_OK) {
        random_weights(&model, 3, params, state);
        status = fcnn_network_set_params(net, params);
    }
    if (status == FCNN_OK)
        status = fcnn_network_set_state(net, state);
    if (status == FCNN_OK)
        status = agree_upload_input(be, net, BATCH, 9);
    if (status != FCNN_OK) {
        printf("FAIL %s: setting up: %s\n", backend, fcnn_last_error());
        failures++;
        goto done;
    }
    failures += compare(be, net, &model, backend, "random weights", expected);

    /* A training pass: nothing fused, and the moving statistics move (momentum 0.9). */
    struct fcnn_trace trace;
    fcnn_network_set_seed(net, 5);
    status = forward(be, net, &model, true, true, NULL, &trace);
    int trained_pairs = agree_count_op(&trace, FCNN_OP_CONV2D_POOL_FWD);
    fcnn_trace_free(&trace);
    if (status != FCNN_OK || trained_pairs != 0) {
        printf("FAIL %s: training pass: %s\n", backend,
               status != FCNN_OK ? fcnn_last_error() : "it ran conv2d_pool_fwd");
        failures++;
        goto done;
    }
    failures += compare(be, net, &model, backend, "after a training pass", expected);
done:
    fcnn_network_destroy(net);
    fcnn_backend_close(be);
    free(params);
    free(state);
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
    printf(failures ? "%d failure(s)\n" : "fused and unfused evaluation agree\n", failures);
    return failures ? 1 : 0;
}
