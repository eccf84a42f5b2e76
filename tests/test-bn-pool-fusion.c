/* BatchNormalization (with or without the ReLU after it) and the MaxPooling2D after that
 * run as one op each way in training (batchnorm_* with pool P; nn/network.c fuses them
 * where the backend can), against the layers apart. A model with the pattern after a
 * convolution of 16 channels with the ReLU, of 16 channels without it, and of 5 channels
 * (which the OpenCL backend has no fused form for: it runs that one apart) trains from one
 * seed with the fusion on and with it off (FCNN_FUSE_BN_POOL=0), on ref and on every other
 * backend here:
 *
 *   - on ref the two runs are the same bit for bit: batch losses, parameters, moving
 *     statistics, and the evaluation of the same weights (the fused ops route and sum the
 *     same floats in the same order as maxpool_bwd and batchnorm_bwd apart);
 *   - on other backends they agree within the tolerances below: the fused kernels sum the
 *     gradient's statistics window by window, in another order than the plain ones;
 *   - a fused training step enqueues no maxpool_fwd or maxpool_bwd for the pairs the
 *     backend fuses (all three on ref, the two of 16 channels elsewhere), and the same
 *     batchnorm calls.
 *
 * Plain SGD, so that a parameter moves by its gradient: Adam's first steps move each
 * parameter by about the learning rate whatever its gradient's size, and a gradient that
 * float rounding can flip the sign of would then differ by twice that.
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
#define PAIRS 3

/* Other backends, fused against apart: what float rounding of the batch statistics, summed
 * in other orders, makes of STEPS steps. Measured on PoCL with two tunings: batch losses
 * 2.7e-07 and 3.5e-07 (one or two float steps of a loss between 2 and 2.8, 2.4e-07 each),
 * parameters 8.1e-08 and 9.4e-08, moving statistics 1.5e-07 and 2.8e-07. The loss may
 * differ by eight float steps. */
#define MAX_LOSS_DIFF 2e-6
#define MAX_PARAM_REL_DIFF 1e-6
#define MAX_STATE_REL_DIFF 1e-5
#define MIN_PREDICTION_AGREEMENT 0.998

static int build(struct fcnn_model *m)
{
    fcnn_model_init(m, (struct fcnn_shape){ 3, { 28, 28, 1 } }, 10);
    const struct fcnn_conv2d_args wide = { .filters = 16, .kh = 3, .kw = 3, .sh = 1, .sw = 1,
                                           .padding = FCNN_PADDING_SAME, .use_bias = false,
                                           .act = FCNN_ACT_NONE };
    struct fcnn_conv2d_args narrow = wide;
    narrow.filters = 5;
    int status;
    if ((status = fcnn_add_conv2d(m, &wide)) != FCNN_OK ||
        (status = fcnn_add_batchnorm(m, 0.9f, 1e-3f)) != FCNN_OK ||
        (status = fcnn_add_activation(m, FCNN_ACT_RELU)) != FCNN_OK ||
        (status = fcnn_add_maxpool2d(m, 2, 2, 2, 2, FCNN_PADDING_VALID)) != FCNN_OK ||
        (status = fcnn_add_conv2d(m, &wide)) != FCNN_OK ||
        (status = fcnn_add_batchnorm(m, 0.9f, 1e-3f)) != FCNN_OK ||
        (status = fcnn_add_maxpool2d(m, 2, 2, 2, 2, FCNN_PADDING_VALID)) != FCNN_OK ||
        (status = fcnn_add_conv2d(m, &narrow)) != FCNN_OK ||
        (status = fcnn_add_batchnorm(m, 0.9f, 1e-3f)) != FCNN_OK ||
        (status = fcnn_add_activation(m, FCNN_ACT_RELU)) != FCNN_OK ||
        (status = fcnn_add_maxpool2d(m, 7, 7, 7, 7, FCNN_PADDING_VALID)) != FCNN_OK ||
        (status = fcnn_add_flatten(m)) != FCNN_OK ||
        (status = fcnn_add_dense(m, 10, true, FCNN_ACT_SOFTMAX)) != FCNN_OK)
        return status;
    return FCNN_OK;
}

static const struct agree_fusion_limits limits = { MAX_LOSS_DIFF, MAX_PARAM_REL_DIFF,
                                                   MAX_STATE_REL_DIFF, MIN_PREDICTION_AGREEMENT };

static const struct agree_setup setup = { build, FCNN_OPT_SGD, 0.05, BATCH, 500, STEPS };

static int check_calls(const char *backend, int fusable, struct agree_run *apart,
                       struct agree_run *fused)
{
    struct fcnn_trace a, f;
    int status = agree_traced_step(apart, &a);
    if (status == FCNN_OK)
        status = agree_traced_step(fused, &f);
    if (status != FCNN_OK) {
        printf("FAIL %s: traced step: %s\n", backend, fcnn_last_error());
        return 1;
    }
    enum fcnn_op ops[] = { FCNN_OP_MAXPOOL_FWD, FCNN_OP_MAXPOOL_BWD,
                           FCNN_OP_BATCHNORM_FWD_TRAIN, FCNN_OP_BATCHNORM_BWD };
    int expected_apart[] = { PAIRS, PAIRS, PAIRS, PAIRS };
    int expected_fused[] = { PAIRS - fusable, PAIRS - fusable, PAIRS, PAIRS };
    int failures = 0;
    printf("%s: one training step: %d calls apart, %d fused;", backend, a.count, f.count);
    for (int i = 0; i < 4; i++) {
        int na = agree_count_op(&a, ops[i]), nf = agree_count_op(&f, ops[i]);
        printf(" %s %d -> %d", fcnn_op_name(ops[i]), na, nf);
        failures += na != expected_apart[i] || nf != expected_fused[i];
    }
    printf("\n");
    if (failures || f.count != a.count - 2 * fusable) {
        printf("FAIL %s: expected %d maxpool_fwd and maxpool_bwd calls apart, %d fused, the "
               "same batchnorm calls\n", backend, PAIRS, PAIRS - fusable);
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
    int failures = agree_fused_against_apart(backend, &setup, "FCNN_FUSE_BN_POOL", &limits, train,
                                             test, &apart, &fused, &opened);
    if (!opened)
        return failures;
    /* ref fuses every pair; the OpenCL backend the two of 16 channels. */
    failures += check_calls(backend, strcmp(backend, "ref") == 0 ? PAIRS : PAIRS - 1, &apart,
                            &fused);
    agree_close(&apart);
    agree_close(&fused);
    return failures;
}

int main(void)
{
    struct fcnn_dataset train, test;
    const char *others[8];
    int count;
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
