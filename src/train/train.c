/* The training loop: shuffle, then per batch load -> forward -> loss -> backward -> update,
 * all queued on the backend; metrics come back in bulk. */
#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "train/train.h"

/* How many steps the host may queue ahead of the device before it waits. Queuing a step
 * on an asynchronous backend takes far less time than running it: unbounded, the host
 * would queue a whole epoch at once, the progress bar would stand still until its end,
 * and a diverged loss would be noticed only then. Waiting for the older half of the
 * queued steps keeps the device busy with the other half while the host reads. */
#define MAX_STEPS_AHEAD 32

/* Running sums over the samples of a pass read back so far. */
struct pass_sums {
    int fetched;     /* samples [0, fetched) are on the host and counted */
    double loss;
    int correct;
};

/* Reads samples [sums->fetched, upto) back and adds them in. A non-finite loss is an error
 * naming the epoch (0: an evaluation pass) and the step of the first bad sample. */
static int fetch_and_sum(struct fcnn_backend *be, struct fcnn_split *split, int upto,
                         struct pass_sums *sums, int epoch, int batch_size)
{
    int first = sums->fetched;
    int status = fcnn_split_fetch(be, split, first, upto - first);
    if (status != FCNN_OK)
        return status;
    for (int i = first; i < upto; i++) {
        float loss = split->host_loss[i];
        if (!isfinite(loss)) {
            if (epoch > 0)
                return fcnn_error(FCNN_ERR_NUMERIC, "loss is %s at epoch %d, step %d: training "
                                  "diverged (try a lower --lr)", isnan(loss) ? "NaN" : "infinite",
                                  epoch, i / batch_size + 1);
            return fcnn_error(FCNN_ERR_NUMERIC, "loss is %s for sample %d",
                              isnan(loss) ? "NaN" : "infinite", i);
        }
        sums->loss += loss;
        sums->correct += split->host_pred[i] == fcnn_split_label_at(split, i);
    }
    sums->fetched = upto;
    return FCNN_OK;
}

static bool stop_requested(const volatile sig_atomic_t *stop)
{
    return stop && *stop;
}

/* An evaluation pass; when *stop is set between batches it ends early with *stopped set
 * and no stats. */
static int evaluate(struct fcnn_network *net, struct fcnn_split *split, int batch_size,
                    struct fcnn_pass_stats *stats, const volatile sig_atomic_t *stop,
                    bool *stopped)
{
    struct fcnn_backend *be = net->be;
    struct fcnn_tensor images = fcnn_split_images(split), labels = fcnn_split_labels(split);
    struct fcnn_tensor order = fcnn_split_order(split);
    int status = FCNN_OK;
    *stopped = false;
    for (int first = 0; first < split->count && status == FCNN_OK; first += batch_size) {
        if (stop_requested(stop)) {
            *stopped = true;
            return fcnn_sync(be);
        }
        int n = split->count - first < batch_size ? split->count - first : batch_size;
        struct fcnn_tensor x = fcnn_network_input(net, n), y = fcnn_network_labels(net, n);
        struct fcnn_tensor loss = fcnn_split_loss(split, first, n);
        struct fcnn_tensor pred = fcnn_split_pred(split, first, n);
        status = fcnn_load_batch(be, &images, &labels, &order, first, &x, &y);
        if (status == FCNN_OK)
            status = fcnn_network_forward(net, n, false);
        if (status == FCNN_OK)
            status = fcnn_network_loss(net, n, &loss, &pred, false);
    }
    struct pass_sums sums = { 0 };
    if (status == FCNN_OK)
        status = fetch_and_sum(be, split, split->count, &sums, 0, batch_size);
    if (status == FCNN_OK)
        *stats = (struct fcnn_pass_stats){ split->count, sums.loss / split->count,
                                           (double)sums.correct / split->count };
    return status;
}

int fcnn_evaluate(struct fcnn_network *net, struct fcnn_split *split, int batch_size,
                  struct fcnn_pass_stats *stats)
{
    bool stopped;
    return evaluate(net, split, batch_size, stats, NULL, &stopped);
}

int fcnn_trainer_init(struct fcnn_trainer *t)
{
    t->history = calloc((size_t)(t->epochs > 0 ? t->epochs : 1), sizeof *t->history);
    if (!t->history)
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory for the training history");
    t->best_val_loss = INFINITY;
    if (t->base_lr <= 0 && t->opt) /* no schedule given: the optimizer's rate throughout */
        t->base_lr = t->opt->lr;
    if (t->patience > 0) {
        const struct fcnn_model *model = t->net->model;
        t->best_params = malloc(model->param_floats * sizeof(float));
        t->best_state = malloc((model->state_floats ? model->state_floats : 1) * sizeof(float));
        if (!t->best_params || !t->best_state)
            return fcnn_error(FCNN_ERR_NOMEM, "out of memory for early stopping's best weights");
    }
    return FCNN_OK;
}

void fcnn_trainer_release(struct fcnn_trainer *t)
{
    free(t->history);
    free(t->best_params);
    free(t->best_state);
    t->best_state = NULL;
    t->history = NULL;
    t->best_params = NULL;
}

int fcnn_train_step(struct fcnn_trainer *t, int first, int n)
{
    struct fcnn_backend *be = t->be;
    struct fcnn_split *split = t->train;
    struct fcnn_tensor images = fcnn_split_images(split), labels = fcnn_split_labels(split);
    struct fcnn_tensor order = fcnn_split_order(split);
    struct fcnn_tensor params = fcnn_network_param_arena(t->net);
    struct fcnn_tensor grads = fcnn_network_grad_arena(t->net);
    struct fcnn_tensor x = fcnn_network_input(t->net, n), y = fcnn_network_labels(t->net, n);
    struct fcnn_tensor loss = fcnn_split_loss(split, first, n);
    struct fcnn_tensor pred = fcnn_split_pred(split, first, n);
    /* Dropout's masks: a seed per step from the run's one generator, drawn only by models
     * that use it, so that other models' runs draw exactly what they always did. */
    if (fcnn_model_is_random(t->net->model))
        fcnn_network_set_seed(t->net, fcnn_rng_next(t->rng));
    int status = fcnn_load_batch(be, &images, &labels, &order, first, &x, &y);
    if (status == FCNN_OK)
        status = fcnn_network_forward(t->net, n, true);
    if (status == FCNN_OK)
        status = fcnn_network_loss(t->net, n, &loss, &pred, true);
    if (status == FCNN_OK)
        status = fcnn_network_backward(t->net, n);
    if (status == FCNN_OK)
        status = fcnn_optimizer_step(be, t->opt, &params, &grads);
    return status;
}

/* One epoch of training over t->train in a fresh random order. */
static int train_epoch(struct fcnn_trainer *t, int epoch, struct fcnn_pass_stats *stats)
{
    struct fcnn_backend *be = t->be;
    struct fcnn_split *split = t->train;
    int count = split->count, batch = t->batch_size;
    int steps = (count + batch - 1) / batch;

    fcnn_rng_permutation(t->rng, split->host_order, count);
    int status = fcnn_split_set_order(be, split, NULL);
    struct pass_sums sums = { 0 };
    double start = fcnn_now(), last_report = start;

    for (int step = 0; step < steps && status == FCNN_OK; step++) {
        if (stop_requested(t->stop)) {
            /* Let what is queued finish, so the backend is idle when the caller goes on. */
            t->interrupted = true;
            return fcnn_sync(be);
        }
        int first = step * batch;
        int n = count - first < batch ? count - first : batch; /* the last batch may be short */
        status = fcnn_train_step(t, first, n);

        /* Read back what the device has done: everything, for progress at most every
         * interval; or, when the host has queued MAX_STEPS_AHEAD steps past the last read,
         * the older half of them, so the device still has the rest to run meanwhile. */
        int done = first + n;
        bool report = t->hooks.progress && t->progress_interval > 0 &&
                      fcnn_now() - last_report >= t->progress_interval;
        bool too_far = done - sums.fetched >= MAX_STEPS_AHEAD * batch;
        if (status == FCNN_OK && (report || too_far) && step + 1 < steps) {
            int upto = report ? done : done - MAX_STEPS_AHEAD / 2 * batch;
            status = fetch_and_sum(be, split, upto, &sums, epoch, batch);
            if (status == FCNN_OK && report) {
                t->hooks.progress(t->hooks.user, step + 1, steps, sums.loss / sums.fetched,
                                  (double)sums.correct / sums.fetched, fcnn_now() - start);
                last_report = fcnn_now();
            }
        }
    }
    if (status == FCNN_OK)
        status = fetch_and_sum(be, split, count, &sums, epoch, batch);
    if (status == FCNN_OK && t->hooks.progress)
        t->hooks.progress(t->hooks.user, steps, steps, sums.loss / count,
                          (double)sums.correct / count, fcnn_now() - start);
    if (status == FCNN_OK)
        *stats = (struct fcnn_pass_stats){ count, sums.loss / count, (double)sums.correct / count };
    return status;
}

/* Keras's EarlyStopping(patience, restore_best_weights=True) on val_loss. */
static int early_stopping(struct fcnn_trainer *t, const struct fcnn_epoch_stats *s)
{
    if (t->patience <= 0)
        return FCNN_OK;
    if (s->val_loss < t->best_val_loss) {
        t->best_val_loss = s->val_loss;
        t->wait = 0;
        int status = fcnn_network_get_params(t->net, t->best_params);
        return status == FCNN_OK ? fcnn_network_get_state(t->net, t->best_state) : status;
    }
    if (++t->wait >= t->patience) {
        t->stopped_early = true;
        int status = fcnn_network_set_params(t->net, t->best_params);
        return status == FCNN_OK ? fcnn_network_set_state(t->net, t->best_state) : status;
    }
    return FCNN_OK;
}

/* One forward and loss at `n` samples of `split`, and the backward pass when training. */
static int warm_pass(struct fcnn_trainer *t, struct fcnn_split *split, int n, bool train)
{
    struct fcnn_tensor images = fcnn_split_images(split), labels = fcnn_split_labels(split);
    struct fcnn_tensor order = fcnn_split_order(split);
    struct fcnn_tensor x = fcnn_network_input(t->net, n), y = fcnn_network_labels(t->net, n);
    struct fcnn_tensor loss = fcnn_split_loss(split, 0, n), pred = fcnn_split_pred(split, 0, n);
    int status = fcnn_load_batch(t->be, &images, &labels, &order, 0, &x, &y);
    if (status == FCNN_OK)
        status = fcnn_network_forward(t->net, n, train);
    if (status == FCNN_OK)
        status = fcnn_network_loss(t->net, n, &loss, &pred, train);
    if (status == FCNN_OK && train)
        status = fcnn_network_backward(t->net, n);
    return status;
}

int fcnn_warm_up(struct fcnn_trainer *t)
{
    if (t->warmed_up)
        return FCNN_OK;
    /* Training passes move BatchNormalization's moving statistics: keep them as they were,
     * so that a warmed-up run trains exactly as a cold one. */
    const struct fcnn_model *model = t->net->model;
    float *state = malloc((model->state_floats ? model->state_floats : 1) * sizeof(float));
    if (!state)
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory for the warm-up");
    int status = fcnn_network_get_state(t->net, state);
    if (status == FCNN_OK && t->train) {
        int count = t->train->count, batch = t->batch_size;
        status = warm_pass(t, t->train, count < batch ? count : batch, true);
        if (status == FCNN_OK && count > batch && count % batch) /* the short last batch */
            status = warm_pass(t, t->train, count % batch, true);
    }
    if (status == FCNN_OK && t->train && t->opt)
        status = fcnn_optimizer_warm_up(t->be, t->opt);
    if (status == FCNN_OK && t->val) {
        int count = t->val->count, batch = t->eval_batch_size;
        status = warm_pass(t, t->val, count < batch ? count : batch, false);
        if (status == FCNN_OK && count > batch && count % batch)
            status = warm_pass(t, t->val, count % batch, false);
    }
    if (status == FCNN_OK)
        status = fcnn_network_set_state(t->net, state);
    free(state);
    if (status == FCNN_OK)
        status = fcnn_sync(t->be);
    t->warmed_up = status == FCNN_OK;
    return status;
}

int fcnn_train(struct fcnn_trainer *t)
{
    int status = fcnn_warm_up(t);
    while (t->epoch < t->epochs && !t->stopped_early && status == FCNN_OK) {
        int epoch = t->epoch + 1;
        struct fcnn_pass_stats train = { 0 }, val = { 0 };
        t->opt->lr = fcnn_lr_schedule_at(&t->schedule, t->base_lr, epoch, t->epochs);
        if (t->hooks.epoch_begin)
            t->hooks.epoch_begin(t->hooks.user, epoch, t->epochs);
        double start = fcnn_now();
        status = train_epoch(t, epoch, &train);
        bool stopped = t->interrupted;
        if (status == FCNN_OK && !stopped)
            status = evaluate(t->net, t->val, t->eval_batch_size, &val, t->stop, &stopped);
        if (status != FCNN_OK || stopped) {
            t->interrupted = stopped;
            break; /* an epoch cut short is dropped whole: it was never saved */
        }
        struct fcnn_epoch_stats *s = &t->history[t->epoch];
        *s = (struct fcnn_epoch_stats){
            .epoch = epoch,
            .steps = (t->train->count + t->batch_size - 1) / t->batch_size,
            .loss = train.loss, .accuracy = train.accuracy,
            .val_loss = val.loss, .val_accuracy = val.accuracy,
            .seconds = fcnn_now() - start, .lr = t->opt->lr,
        };
        t->epoch = epoch;
        status = early_stopping(t, s);
        if (status == FCNN_OK && t->hooks.epoch_end)
            status = t->hooks.epoch_end(t->hooks.user, s);
    }
    return status;
}
