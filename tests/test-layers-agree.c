/* Model-level agreement for the layers beyond the reference model: a network with strided,
 * "valid", even, rectangular and bias-free convolutions, average and max pooling with
 * "same" and "valid" padding and global average pooling, trained from one seed on a small
 * real subset on ref and on every other backend, must give the same loss curve and nearly
 * the same parameters, and the same weights must give the same test predictions. The
 * harness checks each op alone; this checks that they compose into the same training,
 * through the layers' forward and backward passes, at an odd batch size.
 *
 * The tolerances follow tests/test-backends-agree.c, measured here on PoCL (see the
 * figures this test prints): over 20 SGD steps float32 kernels and ref's double sums stay
 * within 1e-7 per batch loss; the limits leave a hundredfold margin for other devices and
 * variants and are still far below the 1e-2 a wrong index or padding rule moves them. */
#include <config.h>

#include <math.h>
#include <stdio.h>

#include "core/status.h"

#include "agree-lib.h"

#define STEPS 20
#define BATCH 33
#define TEST_IMAGES 999
#define EVAL_BATCH 111

#define MAX_STEP_LOSS_DIFF 1e-5  /* per batch loss over the steps (measured 6e-8) */
#define MAX_PARAM_REL_DIFF 1e-5  /* ||a - b|| / ||a|| after the steps (2.4e-8) */
#define MIN_PREDICTION_AGREEMENT 0.995 /* ref's final weights on both backends */

/* 28x28x1 -> conv 3x3 s2 same relu 14x14x16 -> conv 4x4 valid relu, no bias 11x11x32
 * -> avg 3x3 s2 same 6x6x32 -> conv 2x3 strides 1x2 same relu 6x3x32 -> max 2x2 s1 valid
 * 5x2x32 -> conv 3x3 s3 same tanh 2x1x32 -> global average 32 -> dense 10. */
static int build_model(struct fcnn_model *m)
{
    fcnn_model_init(m, (struct fcnn_shape){ 3, { 28, 28, 1 } }, 10);
    const struct fcnn_conv2d_args c1 = { 16, 3, 3, 2, 2, FCNN_PADDING_SAME, true, FCNN_ACT_RELU };
    const struct fcnn_conv2d_args c2 = { 32, 4, 4, 1, 1, FCNN_PADDING_VALID, false, FCNN_ACT_RELU };
    const struct fcnn_conv2d_args c3 = { 32, 2, 3, 1, 2, FCNN_PADDING_SAME, true, FCNN_ACT_RELU };
    const struct fcnn_conv2d_args c4 = { 32, 3, 3, 3, 3, FCNN_PADDING_SAME, true, FCNN_ACT_TANH };
    int status;
    if ((status = fcnn_add_conv2d(m, &c1)) != FCNN_OK ||
        (status = fcnn_add_conv2d(m, &c2)) != FCNN_OK ||
        (status = fcnn_add_avgpool2d(m, 3, 3, 2, 2, FCNN_PADDING_SAME)) != FCNN_OK ||
        (status = fcnn_add_conv2d(m, &c3)) != FCNN_OK ||
        (status = fcnn_add_maxpool2d(m, 2, 2, 1, 1, FCNN_PADDING_VALID)) != FCNN_OK ||
        (status = fcnn_add_conv2d(m, &c4)) != FCNN_OK ||
        (status = fcnn_add_global_avgpool2d(m)) != FCNN_OK ||
        (status = fcnn_add_dense(m, 10, true, FCNN_ACT_NONE)) != FCNN_OK)
        return status;
    return FCNN_OK;
}

static const struct agree_setup setup = { build_model, FCNN_OPT_SGD, 0.1, BATCH, EVAL_BATCH,
                                          STEPS };

static int compare(struct agree_run *ref, const char *name, const struct fcnn_dataset *train,
                   const struct fcnn_dataset *test)
{
    struct agree_run other;
    int failures = 0;
    if (agree_open_train(&other, &setup, name, STEPS, train, test) != FCNN_OK) {
        printf("FAIL %s: %s\n", name, fcnn_last_error());
        return 1;
    }
    double worst, mean;
    int worst_step;
    agree_loss_difference(ref, &other, STEPS, &worst, &worst_step, &mean);
    printf("%s: batch loss first %.6f vs %.6f, last %.6f vs %.6f; |diff| max %.2e (step %d)\n",
           name, ref->step_loss[0], other.step_loss[0], ref->step_loss[STEPS - 1],
           other.step_loss[STEPS - 1], worst, worst_step);
    if (!(worst <= MAX_STEP_LOSS_DIFF)) {
        printf("FAIL %s: loss curves differ (allowed %g)\n", name, MAX_STEP_LOSS_DIFF);
        failures++;
    }

    double rel = agree_rel_diff(ref->params, other.params, ref->model.param_floats);
    printf("%s: final parameters, ||ref - %s|| / ||ref|| = %.2e\n", name, name, rel);
    if (!(rel <= MAX_PARAM_REL_DIFF)) {
        printf("FAIL %s: parameters differ (allowed %g)\n", name, MAX_PARAM_REL_DIFF);
        failures++;
    }

    struct fcnn_pass_stats ref_stats, other_stats;
    int same;
    if (agree_evaluate_alike(ref, &other, false, &ref_stats, &other_stats, &same) != FCNN_OK) {
        printf("FAIL %s: evaluation: %s\n", name, fcnn_last_error());
        failures++;
    } else {
        double agreement = (double)same / test->count;
        printf("%s: ref's weights give the same test prediction on %d of %d images; loss "
               "%.6f vs %.6f\n", name, same, test->count, ref_stats.loss, other_stats.loss);
        if (agreement < MIN_PREDICTION_AGREEMENT ||
            !(fabs(ref_stats.loss - other_stats.loss) <= MAX_STEP_LOSS_DIFF)) {
            printf("FAIL %s: evaluation differs\n", name);
            failures++;
        }
    }
    agree_close(&other);
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
    if (!count) {
        printf("SKIP: no backend besides ref can run here\n");
        return 77;
    }

    struct agree_run ref;
    if (agree_open_train(&ref, &setup, "ref", STEPS, &train, &test) != FCNN_OK) {
        fprintf(stderr, "ref: %s\n", fcnn_last_error());
        return 99;
    }
    int failures = 0;
    /* The curve must fall, or agreement would mean nothing: the mean of the last five
     * batch losses below that of the first five. */
    double first = 0, last = 0;
    for (int s = 0; s < 5; s++) {
        first += ref.step_loss[s] / 5;
        last += ref.step_loss[STEPS - 5 + s] / 5;
    }
    printf("ref: mean batch loss %.4f over the first five steps, %.4f over the last five\n",
           first, last);
    if (!(last < first)) {
        printf("FAIL: ref's loss did not fall\n");
        failures++;
    }
    for (int b = 0; b < count; b++)
        failures += compare(&ref, others[b], &train, &test);
    agree_close(&ref);
    fcnn_dataset_free(&train);
    fcnn_dataset_free(&test);
    printf(failures ? "%d failure(s)\n" : "backends agree on the new layers\n", failures);
    return failures ? 1 : 0;
}
