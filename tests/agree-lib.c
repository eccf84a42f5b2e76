/* The agreement tests' shared machinery (see agree-lib.h). */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/status.h"

#include "agree-lib.h"
#include "test-data.h"

int agree_load_data(int train_images, int test_images, struct fcnn_dataset *train,
                    struct fcnn_dataset *test)
{
    const char *dir = fcnn_data_dir(NULL);
    if (!test_data_installed(dir)) {
        printf("SKIP: no Fashion-MNIST in %s (install dataset-fashion-mnist)\n", dir);
        return 77;
    }
    if (fcnn_dataset_load(dir, FCNN_TRAINING_SET, train_images, train) != FCNN_OK) {
        printf("FAIL: the installed Fashion-MNIST does not load: %s\n", fcnn_last_error());
        return 1;
    }
    if (fcnn_dataset_load(dir, FCNN_TEST_SET, test_images, test) != FCNN_OK) {
        printf("FAIL: the installed Fashion-MNIST does not load: %s\n", fcnn_last_error());
        fcnn_dataset_free(train);
        return 1;
    }
    return 0;
}

int agree_other_backends(const char **names, int max, int *count)
{
    int broken = 0;
    *count = 0;
    for (int b = 0; b < fcnn_backend_count() && *count < max; b++) {
        const char *name = fcnn_backend_name_at(b);
        struct fcnn_backend *be;
        if (strcmp(name, "ref") == 0)
            continue;
        int status = fcnn_backend_open(name, NULL, &be);
        if (status == FCNN_ERR_NO_DEVICE) {
            printf("%s: no device here (%s): not compared\n", name, fcnn_last_error());
            continue;
        }
        if (status != FCNN_OK) {
            printf("FAIL %s: is here but failed to open: %s\n", name, fcnn_last_error());
            broken++;
            continue;
        }
        fcnn_backend_close(be);
        names[(*count)++] = name;
    }
    return broken;
}

int agree_open(struct agree_run *r, const struct agree_setup *s, const char *backend,
               const struct fcnn_dataset *train, const struct fcnn_dataset *test)
{
    memset(r, 0, sizeof *r);
    r->setup = s;
    r->test_count = test->count;
    int status = fcnn_backend_open(backend, NULL, &r->be);
    if (status == FCNN_OK)
        status = s->build(&r->model);
    if (status == FCNN_OK)
        status = fcnn_network_create(r->be, &r->model, s->eval_batch, s->batch, &r->net);
    if (status == FCNN_OK)
        status = fcnn_optimizer_create(r->be, s->optimizer, s->lr, (int)r->model.param_floats,
                                       &r->opt);
    if (status == FCNN_OK)
        status = fcnn_split_create(r->be, train, &r->train);
    if (status == FCNN_OK)
        status = fcnn_split_create(r->be, test, &r->test);
    if (status != FCNN_OK)
        return status;
    r->step_loss = calloc((size_t)s->max_steps, sizeof *r->step_loss);
    r->params = malloc(r->model.param_floats * sizeof(float));
    r->state = malloc((r->model.state_floats ? r->model.state_floats : 1) * sizeof(float));
    if (!r->step_loss || !r->params || !r->state)
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory");
    fcnn_rng_seed(&r->rng, AGREE_SEED);
    fcnn_model_init_params(&r->model, &r->rng, r->params);
    r->t = (struct fcnn_trainer){ .be = r->be, .net = r->net, .opt = r->opt, .rng = &r->rng,
                                  .train = r->train, .val = r->test, .epochs = 1,
                                  .batch_size = s->batch, .eval_batch_size = s->eval_batch };
    return fcnn_network_set_params(r->net, r->params);
}

void agree_close(struct agree_run *r)
{
    fcnn_split_destroy(r->be, r->train);
    fcnn_split_destroy(r->be, r->test);
    fcnn_optimizer_destroy(r->be, r->opt);
    fcnn_network_destroy(r->net);
    fcnn_backend_close(r->be);
    free(r->step_loss);
    free(r->params);
    free(r->state);
    memset(r, 0, sizeof *r);
}

int agree_train(struct agree_run *r, int steps)
{
    const int batch = r->setup->batch;
    if (steps > r->setup->max_steps)
        return fcnn_error(FCNN_ERR_INVALID, "%d steps, but the setup records at most %d", steps,
                          r->setup->max_steps);
    int status = FCNN_OK;
    for (int s = 0; s < steps && status == FCNN_OK; s++)
        status = fcnn_train_step(&r->t, s * batch, batch);
    if (status == FCNN_OK)
        status = fcnn_split_fetch(r->be, r->train, 0, steps * batch);
    for (int s = 0; s < steps && status == FCNN_OK; s++) {
        double sum = 0;
        for (int i = 0; i < batch; i++)
            sum += r->train->host_loss[s * batch + i];
        r->step_loss[s] = sum / batch;
    }
    if (status == FCNN_OK)
        status = fcnn_network_get_params(r->net, r->params);
    if (status == FCNN_OK && r->model.state_floats)
        status = fcnn_network_get_state(r->net, r->state);
    return status;
}

void agree_loss_difference(const struct agree_run *a, const struct agree_run *b, int steps,
                           double *worst, int *worst_step, double *mean)
{
    *worst = 0;
    *mean = 0;
    *worst_step = 0;
    for (int s = 0; s < steps; s++) {
        double d = fabs(a->step_loss[s] - b->step_loss[s]);
        *mean += d / steps;
        if (d > *worst || isnan(d)) {
            *worst = d;
            *worst_step = s + 1;
        }
    }
}

double agree_rel_diff(const float *a, const float *b, size_t n)
{
    double diff = 0, norm = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - b[i];
        diff += d * d;
        norm += (double)a[i] * a[i];
    }
    return sqrt(diff / norm);
}

double agree_max_rel_diff(const float *a, const float *b, size_t n)
{
    double d = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - (double)b[i]);
        d = e > d || isnan(e) ? e : d;
        scale = fabs(b[i]) > scale ? fabs(b[i]) : scale;
    }
    return d / scale;
}

int agree_upload_input(struct fcnn_backend *be, struct fcnn_network *net, int n,
                       uint64_t seed)
{
    struct fcnn_tensor x = fcnn_network_input(net, n);
    size_t count = fcnn_tensor_count(&x);
    float *host = malloc(count * sizeof(float));
    if (!host)
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory for the input");
    struct fcnn_rng rng;
    fcnn_rng_seed(&rng, seed);
    for (size_t i = 0; i < count; i++)
        host[i] = (float)fcnn_rng_uniform(&rng);
    int status = fcnn_upload(be, &x, host);
    free(host);
    return status;
}

int agree_count_op(const struct fcnn_trace *trace, enum fcnn_op op)
{
    int n = 0;
    for (int c = 0; c < trace->count; c++)
        n += trace->calls[c].call.op == op;
    return n;
}

int agree_evaluate_alike(struct agree_run *ref, struct agree_run *other, bool state,
                         struct fcnn_pass_stats *ref_stats, struct fcnn_pass_stats *other_stats,
                         int *same)
{
    *same = 0;
    int status = fcnn_network_set_params(other->net, ref->params);
    if (status == FCNN_OK && state)
        status = fcnn_network_set_state(other->net, ref->state);
    if (status == FCNN_OK)
        status = fcnn_evaluate(ref->net, ref->test, ref->setup->eval_batch, ref_stats);
    if (status == FCNN_OK)
        status = fcnn_evaluate(other->net, other->test, other->setup->eval_batch, other_stats);
    for (int i = 0; i < ref->test_count && status == FCNN_OK; i++)
        *same += ref->test->host_pred[i] == other->test->host_pred[i];
    return status;
}

int agree_open_train(struct agree_run *r, const struct agree_setup *s, const char *backend,
                     int steps, const struct fcnn_dataset *train, const struct fcnn_dataset *test)
{
    int status = agree_open(r, s, backend, train, test);
    if (status == FCNN_OK)
        status = agree_train(r, steps);
    if (status != FCNN_OK)
        agree_close(r);
    return status;
}

int agree_prepare(int train_images, int test_images, struct fcnn_dataset *train,
                  struct fcnn_dataset *test, const char **names, int max, int *count)
{
    *count = 0;
    int loaded = agree_load_data(train_images, test_images, train, test);
    if (loaded)
        return loaded;
    if (agree_other_backends(names, max, count)) {
        fcnn_dataset_free(train);
        fcnn_dataset_free(test);
        return 1;
    }
    return 0;
}

int agree_fused_against_apart(const char *backend, const struct agree_setup *setup,
                              const char *switch_off, const struct agree_fusion_limits *limits,
                              const struct fcnn_dataset *train, const struct fcnn_dataset *test,
                              struct agree_run *apart, struct agree_run *fused, bool *opened)
{
    int steps = setup->max_steps;
    *opened = false;
    setenv(switch_off, "0", 1);
    int status = agree_open_train(apart, setup, backend, steps, train, test);
    unsetenv(switch_off);
    if (status != FCNN_OK) {
        printf("FAIL %s: training apart: %s\n", backend, fcnn_last_error());
        return 1;
    }
    if (agree_open_train(fused, setup, backend, steps, train, test) != FCNN_OK) {
        printf("FAIL %s: training fused: %s\n", backend, fcnn_last_error());
        agree_close(apart);
        return 1;
    }
    *opened = true;
    bool exact = strcmp(backend, "ref") == 0;
    int failures = 0;
    double worst, mean;
    int worst_step;
    agree_loss_difference(apart, fused, steps, &worst, &worst_step, &mean);
    double params = agree_rel_diff(apart->params, fused->params, apart->model.param_floats);
    double state = agree_rel_diff(apart->state, fused->state, apart->model.state_floats);
    printf("%s: %d steps, fused against apart: batch losses %.6f -> %.6f, |diff| at most "
           "%.2e; parameters %.2e, moving statistics %.2e (relative)\n", backend, steps,
           apart->step_loss[0], apart->step_loss[steps - 1], worst, params, state);
    if (exact) {
        if (memcmp(apart->step_loss, fused->step_loss, steps * sizeof *apart->step_loss) != 0 ||
            memcmp(apart->params, fused->params, apart->model.param_floats * sizeof(float)) !=
                0 ||
            memcmp(apart->state, fused->state, apart->model.state_floats * sizeof(float)) != 0) {
            printf("FAIL %s: the fused run is not the same bit for bit\n", backend);
            failures++;
        }
    } else if (!(worst <= limits->loss) || !(params <= limits->params) ||
               !(state <= limits->state)) {
        printf("FAIL %s: fused and apart differ (allowed %g, %g, %g)\n", backend, limits->loss,
               limits->params, limits->state);
        failures++;
    }
    if (!(apart->step_loss[steps - 1] < apart->step_loss[0])) {
        printf("FAIL %s: the loss did not fall (%.4f -> %.4f)\n", backend, apart->step_loss[0],
               apart->step_loss[steps - 1]);
        failures++;
    }

    struct fcnn_pass_stats sa, sf;
    int same;
    if (agree_evaluate_alike(apart, fused, true, &sa, &sf, &same) != FCNN_OK) {
        printf("FAIL %s: evaluation: %s\n", backend, fcnn_last_error());
        return failures + 1;
    }
    printf("%s: evaluation: predictions agree on %d of %d, mean loss %.8f apart, %.8f "
           "fused\n", backend, same, test->count, sa.loss, sf.loss);
    bool alike = exact ? same == test->count && sa.loss == sf.loss
                       : same >= limits->predictions * test->count &&
                             fabs(sa.loss - sf.loss) <= limits->loss;
    if (!alike) {
        printf("FAIL %s: evaluation differs\n", backend);
        failures++;
    }
    return failures;
}

int agree_traced_step(struct agree_run *r, struct fcnn_trace *trace)
{
    *trace = (struct fcnn_trace){ 0 };
    fcnn_backend_trace(r->be, trace);
    int status = fcnn_train_step(&r->t, 0, r->setup->batch);
    fcnn_backend_trace(r->be, NULL);
    return status;
}
