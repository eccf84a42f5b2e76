/* Model-level agreement of the newer layers between backends: a small model with
 * BatchNormalization after a convolution and after a dense layer, a Dense hidden layer
 * with an activation and one without a bias, Dropout, sigmoid and tanh (an Activation
 * layer and Dense's own), and softmax as the last activation, merged with the loss. From
 * one seed, ref and every other backend train it with Adam; their batch losses must stay
 * together over the first steps, and the same weights and moving statistics must give the
 * same test predictions in evaluation mode. Also: the same seed on the same backend
 * repeats a run exactly (Dropout's masks come from the run's generator), the moving
 * statistics move in training and are used in evaluation, and a softmax before the last
 * layer is refused.
 *
 * Tolerances were measured on PoCL against ref (the test prints the figures) and set
 * about ten times above; a wrong op (a sign, an index, a mask that differs) moves the first
 * batch losses by 1e-2 or more. */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"

#include "agree-lib.h"

#define STEPS 20
#define BATCH 33 /* odd, so no kernel's vector width divides the rows */
#define TEST_IMAGES 2000

#define MAX_LOSS_DIFF 1e-6           /* per batch loss, first STEPS steps (measured 6.9e-8) */
/* ||moving statistics ref - other|| / ||ref||: measured 3.7e-5, nearly all of it in the
 * first layer's moving means, which are means of conv outputs that largely cancel (so
 * their relative error is large while their absolute error is ~1e-7 of the outputs). */
#define MAX_STATE_REL_DIFF 4e-4
#define MIN_PREDICTION_AGREEMENT 0.998 /* same weights and state, test set (measured 100%) */
#define MAX_EVAL_LOSS_DIFF 1e-5      /* mean test loss, same weights and state (equal to 6
                                        digits when measured) */

static int build(struct fcnn_model *m)
{
    fcnn_model_init(m, (struct fcnn_shape){ 3, { 28, 28, 1 } }, 10);
    int status;
    const struct fcnn_conv2d_args conv = { .filters = 8, .kh = 3, .kw = 3, .sh = 1, .sw = 1,
                                           .padding = FCNN_PADDING_SAME, .use_bias = true,
                                           .act = FCNN_ACT_NONE };
    if ((status = fcnn_add_conv2d(m, &conv)) != FCNN_OK ||
        (status = fcnn_add_batchnorm(m, 0.99f, 1e-3f)) != FCNN_OK ||
        (status = fcnn_add_activation(m, FCNN_ACT_RELU)) != FCNN_OK ||
        (status = fcnn_add_maxpool2d(m, 2, 2, 2, 2, FCNN_PADDING_VALID)) != FCNN_OK ||
        (status = fcnn_add_flatten(m)) != FCNN_OK ||
        (status = fcnn_add_dense(m, 48, true, FCNN_ACT_RELU)) != FCNN_OK ||
        (status = fcnn_add_dropout(m, 0.3f)) != FCNN_OK ||
        (status = fcnn_add_dense(m, 32, false, FCNN_ACT_NONE)) != FCNN_OK ||
        (status = fcnn_add_batchnorm(m, 0.99f, 1e-3f)) != FCNN_OK ||
        (status = fcnn_add_activation(m, FCNN_ACT_SIGMOID)) != FCNN_OK ||
        (status = fcnn_add_dense(m, 24, true, FCNN_ACT_TANH)) != FCNN_OK ||
        (status = fcnn_add_dense(m, 10, true, FCNN_ACT_SOFTMAX)) != FCNN_OK)
        return status;
    return FCNN_OK;
}

static const struct agree_setup setup = { build, FCNN_OPT_ADAM, 0.005, BATCH, 500, STEPS };

static int check_backend(struct agree_run *ref, const char *name,
                         const struct fcnn_dataset *train, const struct fcnn_dataset *test)
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
    printf("%s: batch losses over %d steps: first %.6f vs %.6f, last %.6f vs %.6f, |diff| at "
           "most %.2e (step %d)\n", name, STEPS, ref->step_loss[0], other.step_loss[0],
           ref->step_loss[STEPS - 1], other.step_loss[STEPS - 1], worst, worst_step);
    if (!(worst <= MAX_LOSS_DIFF)) {
        printf("FAIL %s: batch losses differ (allowed %g)\n", name, MAX_LOSS_DIFF);
        failures++;
    }
    double state = agree_rel_diff(ref->state, other.state, ref->model.state_floats);
    printf("%s: moving statistics, ||ref - %s|| / ||ref|| = %.2e\n", name, name, state);
    for (int i = 0; i < ref->model.state_count; i++) {
        const struct fcnn_param *p = &ref->model.states[i];
        printf("  %s: %.2e\n", p->name, agree_rel_diff(ref->state + p->offset,
                                                      other.state + p->offset, p->count));
    }
    if (!(state <= MAX_STATE_REL_DIFF)) {
        printf("FAIL %s: moving statistics differ (allowed %g)\n", name, MAX_STATE_REL_DIFF);
        failures++;
    }

    /* Evaluation from ref's weights and moving statistics on both. */
    struct fcnn_pass_stats ref_stats, other_stats;
    int same;
    if (agree_evaluate_alike(ref, &other, true, &ref_stats, &other_stats, &same) != FCNN_OK) {
        printf("FAIL %s: evaluation: %s\n", name, fcnn_last_error());
        agree_close(&other);
        return failures + 1;
    }
    double agreement = (double)same / test->count;
    printf("%s: same weights and state: test predictions agree on %d of %d (%.2f%%), mean "
           "loss %.6f vs %.6f, accuracy %.4f vs %.4f\n", name, same, test->count,
           100 * agreement, ref_stats.loss, other_stats.loss, ref_stats.accuracy,
           other_stats.accuracy);
    if (agreement < MIN_PREDICTION_AGREEMENT ||
        !(fabs(ref_stats.loss - other_stats.loss) <= MAX_EVAL_LOSS_DIFF)) {
        printf("FAIL %s: evaluation differs (agreement at least %.1f%%, loss within %g)\n",
               name, 100 * MIN_PREDICTION_AGREEMENT, MAX_EVAL_LOSS_DIFF);
        failures++;
    }
    agree_close(&other);
    return failures;
}

/* What ref's run itself must show: it learns, it repeats, its state moved, and evaluation
 * (moving statistics, no dropout) is not training. */
static int check_ref(struct agree_run *ref, const struct fcnn_dataset *train,
                     const struct fcnn_dataset *test)
{
    int failures = 0;
    if (!(ref->step_loss[STEPS - 1] < 0.8 * ref->step_loss[0])) {
        printf("FAIL: ref's loss did not fall (%.4f -> %.4f)\n", ref->step_loss[0],
               ref->step_loss[STEPS - 1]);
        failures++;
    }
    struct agree_run again;
    if (agree_open_train(&again, &setup, "ref", STEPS, train, test) != FCNN_OK) {
        printf("FAIL: ref's second run: %s\n", fcnn_last_error());
        failures++;
    } else if (memcmp(again.step_loss, ref->step_loss, STEPS * sizeof *ref->step_loss) != 0 ||
               memcmp(again.params, ref->params, ref->model.param_floats * sizeof(float)) != 0) {
        printf("FAIL: the same seed on ref did not repeat the run\n");
        failures++;
    } else {
        printf("ref: the same seed repeats the run bit for bit\n");
    }
    agree_close(&again);

    size_t n = ref->model.state_floats;
    float *initial = malloc(n * sizeof(float));
    fcnn_model_init_state(&ref->model, initial);
    double moved = agree_rel_diff(initial, ref->state, n);
    free(initial);
    printf("ref: moving statistics moved by %.3f (relative) in %d steps\n", moved, STEPS);
    if (!(moved > 1e-3)) {
        printf("FAIL: the moving statistics did not move\n");
        failures++;
    }

    /* Dropout acts in training only: two seeds give two outputs in training mode and one
     * in evaluation mode. */
    float *logits[4];
    size_t count = (size_t)BATCH * 10;
    int status = FCNN_OK;
    for (int k = 0; k < 4; k++) {
        logits[k] = malloc(count * sizeof(float));
        struct fcnn_tensor images = fcnn_split_images(ref->train);
        struct fcnn_tensor labels = fcnn_split_labels(ref->train);
        struct fcnn_tensor order = fcnn_split_order(ref->train);
        struct fcnn_tensor x = fcnn_network_input(ref->net, BATCH);
        struct fcnn_tensor y = fcnn_network_labels(ref->net, BATCH);
        struct fcnn_tensor out = fcnn_network_activation(ref->net, ref->model.layer_count, BATCH);
        fcnn_network_set_seed(ref->net, 1000 + (uint64_t)(k % 2));
        if (status == FCNN_OK)
            status = fcnn_load_batch(ref->be, &images, &labels, &order, 0, &x, &y);
        if (status == FCNN_OK)
            status = fcnn_network_forward(ref->net, BATCH, k < 2);
        if (status == FCNN_OK)
            status = fcnn_download(ref->be, &out, logits[k]);
    }
    /* Those training passes moved the moving statistics: put back the run's. */
    if (status == FCNN_OK)
        status = fcnn_network_set_state(ref->net, ref->state);
    if (status != FCNN_OK) {
        printf("FAIL: forward passes: %s\n", fcnn_last_error());
        failures++;
    } else if (memcmp(logits[0], logits[1], count * sizeof(float)) == 0 ||
               memcmp(logits[2], logits[3], count * sizeof(float)) != 0) {
        printf("FAIL: dropout is not active in training only\n");
        failures++;
    } else {
        printf("ref: two seeds give two outputs in training, one in evaluation\n");
    }
    for (int k = 0; k < 4; k++)
        free(logits[k]);

    /* A softmax anywhere but last is refused, naming the layer. */
    struct fcnn_model bad;
    struct fcnn_network *net = NULL;
    fcnn_model_init(&bad, (struct fcnn_shape){ 1, { 8 } }, 3);
    if (fcnn_add_dense(&bad, 4, true, FCNN_ACT_SOFTMAX) != FCNN_OK ||
        fcnn_add_dense(&bad, 3, true, FCNN_ACT_NONE) != FCNN_OK) {
        printf("FAIL: building the softmax model: %s\n", fcnn_last_error());
        failures++;
    } else if (fcnn_network_create(ref->be, &bad, 4, 4, &net) == FCNN_OK) {
        printf("FAIL: a softmax before the last layer was accepted\n");
        fcnn_network_destroy(net);
        failures++;
    } else if (!strstr(fcnn_last_error(), "'dense'")) {
        printf("FAIL: the error does not name the layer: %s\n", fcnn_last_error());
        failures++;
    } else {
        printf("ref: %s\n", fcnn_last_error());
    }
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
    struct agree_run ref;
    if (agree_open_train(&ref, &setup, "ref", STEPS, &train, &test) != FCNN_OK) {
        fprintf(stderr, "ref: %s\n", fcnn_last_error());
        return 99;
    }
    int failures = check_ref(&ref, &train, &test);
    for (int b = 0; b < count; b++)
        failures += check_backend(&ref, others[b], &train, &test);
    agree_close(&ref);
    fcnn_dataset_free(&train);
    fcnn_dataset_free(&test);
    if (!count && !failures) {
        printf("SKIP: no backend besides ref can run here (ref's own checks passed)\n");
        return 77;
    }
    printf(failures ? "%d failure(s)\n" : "layers agree\n", failures);
    return failures ? 1 : 0;
}
