/* BatchNormalization with the Activation(relu) after it run as one op each way
 * (batchnorm_* with act relu; nn/network.c fuses the pair), against the two layers apart.
 * A model with the pair in every position — the first layer (no dx to write), after a
 * convolution of 16 channels (the float16 kernels) and of 5 (one channel per work-item),
 * after a dense layer followed by Dropout — trains from one seed with the fusion on and
 * with it off (FCNN_FUSE_BN_RELU=0), on ref and on every other backend here:
 *
 *   - on ref the two runs are the same bit for bit: batch losses, parameters, moving
 *     statistics, and the evaluation of the same weights (the fused ops compute the same
 *     floats in the same order, with the clamp and the mask where the ReLU put them);
 *   - on other backends they agree within the tolerances below (the fused and the plain
 *     call may be tuned to different kernel variants, which sum in other orders);
 *   - a fused training step enqueues no activation_fwd and no activation_bwd (4 and 4
 *     apart) and the same 4 batchnorm_fwd_train and 4 batchnorm_bwd calls.
 *
 * The max pooling after the second pair, which training fuses into the pair's ops too
 * (tests/test-bn-pool-fusion), stays apart here (FCNN_FUSE_BN_POOL=0 in both runs): this
 * test is about the ReLU.
 *
 * The harness (tests/backend-ops) checks each fused op of each backend against ref's. */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"

#include "agree-lib.h"

#define STEPS 12
#define BATCH 33
#define TEST_IMAGES 1000
#define PAIRS 4

/* Other backends, fused against apart: measured 0 on PoCL (the fused and plain
 * kernels sum alike); allowed what float rounding of the batch statistics could make of
 * different summation orders over STEPS steps, as test-bn-dropout-agree allows between
 * backends. */
#define MAX_LOSS_DIFF 1e-6
#define MAX_PARAM_REL_DIFF 1e-5
#define MAX_STATE_REL_DIFF 4e-4
#define MIN_PREDICTION_AGREEMENT 0.998

static int build(struct fcnn_model *m)
{
    fcnn_model_init(m, (struct fcnn_shape){ 3, { 28, 28, 1 } }, 10);
    const struct fcnn_conv2d_args wide = { .filters = 16, .kh = 3, .kw = 3, .sh = 1, .sw = 1,
                                           .padding = FCNN_PADDING_SAME, .use_bias = false,
                                           .act = FCNN_ACT_NONE };
    const struct fcnn_conv2d_args narrow = { .filters = 5, .kh = 3, .kw = 3, .sh = 2, .sw = 2,
                                             .padding = FCNN_PADDING_VALID, .use_bias = true,
                                             .act = FCNN_ACT_NONE };
    int status;
    if ((status = fcnn_add_batchnorm(m, 0.9f, 1e-3f)) != FCNN_OK ||
        (status = fcnn_add_activation(m, FCNN_ACT_RELU)) != FCNN_OK ||
        (status = fcnn_add_conv2d(m, &wide)) != FCNN_OK ||
        (status = fcnn_add_batchnorm(m, 0.9f, 1e-3f)) != FCNN_OK ||
        (status = fcnn_add_activation(m, FCNN_ACT_RELU)) != FCNN_OK ||
        (status = fcnn_add_maxpool2d(m, 2, 2, 2, 2, FCNN_PADDING_VALID)) != FCNN_OK ||
        (status = fcnn_add_conv2d(m, &narrow)) != FCNN_OK ||
        (status = fcnn_add_batchnorm(m, 0.9f, 1e-3f)) != FCNN_OK ||
        (status = fcnn_add_activation(m, FCNN_ACT_RELU)) != FCNN_OK ||
        (status = fcnn_add_flatten(m)) != FCNN_OK ||
        (status = fcnn_add_dense(m, 24, false, FCNN_ACT_NONE)) != FCNN_OK ||
        (status = fcnn_add_batchnorm(m, 0.9f, 1e-3f)) != FCNN_OK ||
        (status = fcnn_add_activation(m, FCNN_ACT_RELU)) != FCNN_OK ||
        (status = fcnn_add_dropout(m, 0.3f)) != FCNN_OK ||
        (status = fcnn_add_dense(m, 10, true, FCNN_ACT_SOFTMAX)) != FCNN_OK)
        return status;
    return FCNN_OK;
}

static const struct agree_fusion_limits limits = { MAX_LOSS_DIFF, MAX_PARAM_REL_DIFF,
                                                   MAX_STATE_REL_DIFF, MIN_PREDICTION_AGREEMENT };

static const struct agree_setup setup = { build, FCNN_OPT_ADAM, 0.005, BATCH, 500, STEPS };

static int check_calls(const char *backend, struct agree_run *apart, struct agree_run *fused)
{
    struct fcnn_trace a, f;
    int status = agree_traced_step(apart, &a);
    if (status == FCNN_OK)
        status = agree_traced_step(fused, &f);
    if (status != FCNN_OK) {
        printf("FAIL %s: traced step: %s\n", backend, fcnn_last_error());
        return 1;
    }
    enum fcnn_op ops[] = { FCNN_OP_ACTIVATION_FWD, FCNN_OP_ACTIVATION_BWD,
                           FCNN_OP_BATCHNORM_FWD_TRAIN, FCNN_OP_BATCHNORM_BWD };
    int expected_apart[] = { PAIRS, PAIRS, PAIRS, PAIRS };
    int expected_fused[] = { 0, 0, PAIRS, PAIRS };
    int failures = 0;
    printf("%s: one training step: %d calls apart, %d fused;", backend, a.count, f.count);
    for (int i = 0; i < 4; i++) {
        int na = agree_count_op(&a, ops[i]), nf = agree_count_op(&f, ops[i]);
        printf(" %s %d -> %d", fcnn_op_name(ops[i]), na, nf);
        failures += na != expected_apart[i] || nf != expected_fused[i];
    }
    printf("\n");
    if (failures || f.count != a.count - 2 * PAIRS) {
        printf("FAIL %s: expected %d activation_fwd and activation_bwd calls apart, none "
               "fused, the same batchnorm calls\n", backend, PAIRS);
        failures = 1;
    }
    fcnn_trace_free(&a);
    fcnn_trace_free(&f);
    return failures;
}

static int check_backend(const char *backend, const struct fcnn_dataset *train,
                         const struct fcnn_dataset *test)
{
    struct agree_run apart, fused;
    bool opened;
    int failures = agree_fused_against_apart(backend, &setup, "FCNN_FUSE_BN_RELU", &limits, train,
                                             test, &apart, &fused, &opened);
    if (!opened)
        return failures;
    failures += check_calls(backend, &apart, &fused);
    agree_close(&apart);
    agree_close(&fused);
    return failures;
}

int main(void)
{
    struct fcnn_dataset train, test;
    const char *others[8];
    int count;
    setenv("FCNN_FUSE_BN_POOL", "0", 1);
    int prepared = agree_prepare(STEPS * BATCH, TEST_IMAGES, &train, &test, others, 8, &count);
    if (prepared)
        return prepared;
    int failures = check_backend("ref", &train, &test);
    for (int b = 0; b < count; b++)
        failures += check_backend(others[b], &train, &test);
    fcnn_dataset_free(&train);
    fcnn_dataset_free(&test);
    printf(failures ? "%d failure(s)\n" : "fused and apart agree\n", failures);
    return failures ? 1 : 0;
}
