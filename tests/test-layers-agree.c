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
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "core/status.h"
#include "data/dataset.h"
#include "train/train.h"

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

struct run {
    struct fcnn_backend *be;
    struct fcnn_model model;
    struct fcnn_network *net;
    struct fcnn_optimizer *opt;
    struct fcnn_split *train, *test;
    struct fcnn_rng rng;
    struct fcnn_trainer t;
    double step_loss[STEPS];
    float *params;
};

static int open_run(struct run *r, const char *backend, const struct fcnn_dataset *train,
                    const struct fcnn_dataset *test)
{
    memset(r, 0, sizeof *r);
    int status = fcnn_backend_open(backend, NULL, &r->be);
    if (status == FCNN_OK)
        status = build_model(&r->model);
    if (status == FCNN_OK)
        status = fcnn_network_create(r->be, &r->model, EVAL_BATCH, BATCH, &r->net);
    if (status == FCNN_OK)
        status = fcnn_optimizer_create(r->be, FCNN_OPT_SGD, 0.1, (int)r->model.param_floats,
                                       &r->opt);
    if (status == FCNN_OK)
        status = fcnn_split_create(r->be, train, &r->train);
    if (status == FCNN_OK)
        status = fcnn_split_create(r->be, test, &r->test);
    if (status != FCNN_OK)
        return status;
    r->params = malloc(r->model.param_floats * sizeof(float));
    if (!r->params)
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory");
    fcnn_rng_seed(&r->rng, 42);
    fcnn_model_init_params(&r->model, &r->rng, r->params);
    r->t = (struct fcnn_trainer){ .be = r->be, .net = r->net, .opt = r->opt, .rng = &r->rng,
                                  .train = r->train, .val = r->test, .epochs = 1,
                                  .batch_size = BATCH, .eval_batch_size = EVAL_BATCH };
    return fcnn_network_set_params(r->net, r->params);
}

static void close_run(struct run *r)
{
    fcnn_split_destroy(r->be, r->train);
    fcnn_split_destroy(r->be, r->test);
    fcnn_optimizer_destroy(r->be, r->opt);
    fcnn_network_destroy(r->net);
    fcnn_backend_close(r->be);
    free(r->params);
}

/* STEPS steps over the training subset in file order; the batch losses, then the final
 * parameters, come back to the host. */
static int train_steps(struct run *r)
{
    int status = FCNN_OK;
    for (int s = 0; s < STEPS && status == FCNN_OK; s++)
        status = fcnn_train_step(&r->t, s * BATCH, BATCH);
    if (status == FCNN_OK)
        status = fcnn_split_fetch(r->be, r->train, 0, STEPS * BATCH);
    for (int s = 0; s < STEPS && status == FCNN_OK; s++) {
        double sum = 0;
        for (int i = 0; i < BATCH; i++)
            sum += r->train->host_loss[s * BATCH + i];
        r->step_loss[s] = sum / BATCH;
    }
    if (status == FCNN_OK)
        status = fcnn_network_get_params(r->net, r->params);
    return status;
}

static int compare(struct run *ref, const char *name, const struct fcnn_dataset *train,
                   const struct fcnn_dataset *test)
{
    struct run other;
    int failures = 0;
    if (open_run(&other, name, train, test) != FCNN_OK || train_steps(&other) != FCNN_OK) {
        printf("FAIL %s: %s\n", name, fcnn_last_error());
        close_run(&other);
        return 1;
    }
    double worst = 0;
    int worst_step = 0;
    for (int s = 0; s < STEPS; s++) {
        double d = fabs(ref->step_loss[s] - other.step_loss[s]);
        if (d > worst || isnan(d)) {
            worst = d;
            worst_step = s + 1;
        }
    }
    printf("%s: batch loss first %.6f vs %.6f, last %.6f vs %.6f; |diff| max %.2e (step %d)\n",
           name, ref->step_loss[0], other.step_loss[0], ref->step_loss[STEPS - 1],
           other.step_loss[STEPS - 1], worst, worst_step);
    if (!(worst <= MAX_STEP_LOSS_DIFF)) {
        printf("FAIL %s: loss curves differ (allowed %g)\n", name, MAX_STEP_LOSS_DIFF);
        failures++;
    }

    double diff = 0, norm = 0;
    for (size_t i = 0; i < ref->model.param_floats; i++) {
        double d = (double)ref->params[i] - other.params[i];
        diff += d * d;
        norm += (double)ref->params[i] * ref->params[i];
    }
    double rel = sqrt(diff / norm);
    printf("%s: final parameters, ||ref - %s|| / ||ref|| = %.2e\n", name, name, rel);
    if (!(rel <= MAX_PARAM_REL_DIFF)) {
        printf("FAIL %s: parameters differ (allowed %g)\n", name, MAX_PARAM_REL_DIFF);
        failures++;
    }

    struct fcnn_pass_stats ref_stats, other_stats;
    int status = fcnn_network_set_params(other.net, ref->params);
    if (status == FCNN_OK)
        status = fcnn_evaluate(ref->net, ref->test, EVAL_BATCH, &ref_stats);
    if (status == FCNN_OK)
        status = fcnn_evaluate(other.net, other.test, EVAL_BATCH, &other_stats);
    if (status != FCNN_OK) {
        printf("FAIL %s: evaluation: %s\n", name, fcnn_last_error());
        failures++;
    } else {
        int same = 0;
        for (int i = 0; i < test->count; i++)
            same += ref->test->host_pred[i] == other.test->host_pred[i];
        double agreement = (double)same / test->count;
        printf("%s: ref's weights give the same test prediction on %d of %d images; loss "
               "%.6f vs %.6f\n", name, same, test->count, ref_stats.loss, other_stats.loss);
        if (agreement < MIN_PREDICTION_AGREEMENT ||
            !(fabs(ref_stats.loss - other_stats.loss) <= MAX_STEP_LOSS_DIFF)) {
            printf("FAIL %s: evaluation differs\n", name);
            failures++;
        }
    }
    close_run(&other);
    return failures;
}

int main(void)
{
    const char *dir = fcnn_data_dir(NULL);
    struct fcnn_dataset train, test;
    if (fcnn_dataset_load(dir, FCNN_TRAINING_SET, STEPS * BATCH, &train) != FCNN_OK ||
        fcnn_dataset_load(dir, FCNN_TEST_SET, TEST_IMAGES, &test) != FCNN_OK) {
        printf("SKIP: no Fashion-MNIST (%s)\n", fcnn_last_error());
        return 77;
    }
    const char *others[8];
    int count = 0;
    for (int b = 0; b < fcnn_backend_count() && count < 8; b++) {
        const char *name = fcnn_backend_name_at(b);
        struct fcnn_backend *be;
        if (strcmp(name, "ref") == 0)
            continue;
        if (fcnn_backend_open(name, NULL, &be) != FCNN_OK) {
            printf("%s: cannot open (%s): not compared\n", name, fcnn_last_error());
            continue;
        }
        fcnn_backend_close(be);
        others[count++] = name;
    }
    if (!count) {
        printf("SKIP: no backend besides ref can run here\n");
        return 77;
    }

    struct run ref;
    if (open_run(&ref, "ref", &train, &test) != FCNN_OK || train_steps(&ref) != FCNN_OK) {
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
    close_run(&ref);
    fcnn_dataset_free(&train);
    fcnn_dataset_free(&test);
    printf(failures ? "%d failure(s)\n" : "backends agree on the new layers\n", failures);
    return failures ? 1 : 0;
}
