/* The training loop: shuffle, then per batch load -> forward -> loss -> backward -> update,
 * all queued on the backend; metrics come back in bulk. */
#include <config.h>

#include <math.h>
#include <stdio.h>
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

/* Which process ran each sample of a pass: with several processes, every batch of
 * `batch` samples (training) or the whole pass (evaluation, batch = count) is split into
 * consecutive slices, one per process, as fcnn_dist_slice does. */
struct owners {
    struct fcnn_dist *dist;
    int count, batch;
};

static int owner_of(const struct owners *o, int i)
{
    int first = i / o->batch * o->batch;
    int n = o->count - first < o->batch ? o->count - first : o->batch;
    /* fcnn_dist_slice's rule inverted: rank r starts at first + n*r/size. */
    int rank = (int)(((long long)(i - first + 1) * o->dist->size - 1) / n);
    while (rank > 0 && first + (long long)n * rank / o->dist->size > i)
        rank--;
    while (rank + 1 < o->dist->size && first + (long long)n * (rank + 1) / o->dist->size <= i)
        rank++;
    return rank;
}

/* Copies losses and predictions of samples [first, upto) to the host. With several
 * processes each ran only its own samples: each keeps those, zeroes the rest, and a sum
 * over the processes gives every process every sample, exactly (x + 0 is x, NaN stays
 * NaN), so everything computed from them below matches a one-process run. */
static int fetch(struct fcnn_backend *be, struct fcnn_split *split, int first, int upto,
                 const struct owners *o)
{
    int status = fcnn_split_fetch(be, split, first, upto - first);
    if (status != FCNN_OK || !fcnn_dist_active(o->dist))
        return status;
    for (int i = first; i < upto; i++)
        if (owner_of(o, i) != o->dist->rank) {
            split->host_loss[i] = 0;
            split->host_pred[i] = 0;
        }
    status = fcnn_dist_sum_f32(o->dist, split->host_loss + first, (size_t)(upto - first));
    if (status == FCNN_OK)
        status = fcnn_dist_sum_i32(o->dist, split->host_pred + first, (size_t)(upto - first));
    return status;
}

/* Reads samples [sums->fetched, upto) back and adds them in. A non-finite loss is an error
 * naming the epoch (0: an evaluation pass) and the step of the first bad sample. */
static int fetch_and_sum(struct fcnn_backend *be, struct fcnn_split *split, int upto,
                         struct pass_sums *sums, int epoch, int batch_size,
                         const struct owners *o)
{
    int first = sums->fetched;
    int status = fetch(be, split, first, upto, o);
    if (status != FCNN_OK)
        return status;
    for (int i = first; i < upto; i++) {
        float loss = split->host_loss[i];
        if (!isfinite(loss)) {
            /* Every process sees the same samples, so all stop here alike. */
            char rank[32] = "";
            if (fcnn_dist_active(o->dist)) {
                snprintf(rank, sizeof rank, " (on rank %d)", owner_of(o, i));
                o->dist->shared_failure = true;
            }
            if (epoch > 0)
                return fcnn_error(FCNN_ERR_NUMERIC, "loss is %s at epoch %d, step %d%s: "
                                  "training diverged (try a lower --lr)",
                                  isnan(loss) ? "NaN" : "infinite", epoch, i / batch_size + 1,
                                  rank);
            return fcnn_error(FCNN_ERR_NUMERIC, "loss is %s for sample %d%s",
                              isnan(loss) ? "NaN" : "infinite", i, rank);
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

int fcnn_evaluate_shared(struct fcnn_dist *dist, struct fcnn_network *net,
                         struct fcnn_split *split, int batch_size, struct fcnn_pass_stats *stats)
{
    struct fcnn_backend *be = net->be;
    struct fcnn_tensor images = fcnn_split_images(split), labels = fcnn_split_labels(split);
    struct fcnn_tensor order = fcnn_split_order(split);
    int status = FCNN_OK, lo, count;
    fcnn_dist_slice(dist, 0, split->count, &lo, &count); /* this process's part */
    for (int first = lo; first < lo + count && status == FCNN_OK; first += batch_size) {
        int n = lo + count - first < batch_size ? lo + count - first : batch_size;
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
    struct owners owners = { dist, split->count, split->count };
    if (status == FCNN_OK)
        status = fetch_and_sum(be, split, split->count, &sums, 0, batch_size, &owners);
    if (status == FCNN_OK)
        *stats = (struct fcnn_pass_stats){ split->count, sums.loss / split->count,
                                           (double)sums.correct / split->count };
    return status;
}

/* The augment op's buffers: a batch before augmentation, and one epoch's draws (zeros
 * until the first epoch draws them, so the warm-up reads defined values). */
static int augment_init(struct fcnn_trainer *t)
{
    if (!t->augment || !fcnn_augment_any(t->augment) || !t->train)
        return FCNN_OK;
    const struct fcnn_dataset *d = t->train->data;
    size_t sample = (size_t)d->rows * (size_t)d->cols * (size_t)d->channels;
    size_t draws = (size_t)t->train->count * 4;
    t->host_augment_params = calloc(draws, sizeof(float));
    if (!t->host_augment_params)
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory for augmentation");
    int status = fcnn_buffer_alloc(t->be, (size_t)t->batch_size * sample * sizeof(float),
                                   &t->augment_batch);
    if (status == FCNN_OK)
        status = fcnn_buffer_alloc(t->be, draws * sizeof(float), &t->augment_params);
    if (status == FCNN_OK) {
        struct fcnn_tensor params = fcnn_tensor_2d(t->augment_params, 0, FCNN_F32,
                                                   t->train->count, 4);
        status = fcnn_upload(t->be, &params, t->host_augment_params);
    }
    return status;
}

/* Load, then augment into the network's input: the training form of load_batch. */
static int load_augmented(struct fcnn_trainer *t, int first, int n, const struct fcnn_tensor *x,
                          const struct fcnn_tensor *y)
{
    struct fcnn_split *split = t->train;
    struct fcnn_tensor images = fcnn_split_images(split), labels = fcnn_split_labels(split);
    struct fcnn_tensor order = fcnn_split_order(split);
    struct fcnn_tensor raw = fcnn_tensor_4d(t->augment_batch, 0, FCNN_F32, n, x->shape[1],
                                            x->shape[2], x->shape[3]);
    struct fcnn_tensor params = fcnn_tensor_2d(t->augment_params,
                                               (size_t)first * 4 * sizeof(float), FCNN_F32, n, 4);
    int status = fcnn_load_batch(t->be, &images, &labels, &order, first, &raw, y);
    if (status == FCNN_OK)
        status = fcnn_augment_batch(t->be, &raw, &params, x);
    return status;
}

int fcnn_evaluate(struct fcnn_network *net, struct fcnn_split *split, int batch_size,
                  struct fcnn_pass_stats *stats)
{
    return fcnn_evaluate_shared(NULL, net, split, batch_size, stats);
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
    return augment_init(t);
}

void fcnn_trainer_release(struct fcnn_trainer *t)
{
    free(t->history);
    free(t->best_params);
    free(t->best_state);
    t->best_state = NULL;
    t->history = NULL;
    t->best_params = NULL;
    if (t->be) {
        fcnn_buffer_free(t->be, t->augment_batch);
        fcnn_buffer_free(t->be, t->augment_params);
    }
    free(t->host_augment_params);
    t->augment_batch = t->augment_params = NULL;
    t->host_augment_params = NULL;
}

int fcnn_train_step(struct fcnn_trainer *t, int first, int n)
{
    struct fcnn_backend *be = t->be;
    struct fcnn_split *split = t->train;
    struct fcnn_tensor images = fcnn_split_images(split), labels = fcnn_split_labels(split);
    struct fcnn_tensor order = fcnn_split_order(split);
    struct fcnn_tensor params = fcnn_network_param_arena(t->net);
    struct fcnn_tensor grads = fcnn_network_grad_arena(t->net);
    int lo, count; /* this process's slice of the batch; all of it when alone */
    fcnn_dist_slice(t->dist, first, n, &lo, &count);
    /* Dropout's masks: a seed per step from the run's one generator, drawn only by models
     * that use it, so that other models' runs draw exactly what they always did. A mask
     * hashes the seed with the element's place in this process's slice, so each process
     * mixes in its rank: the same seed would give every process the same masks. */
    if (fcnn_model_is_random(t->net->model)) {
        uint64_t seed = fcnn_rng_next(t->rng);
        if (fcnn_dist_active(t->dist))
            seed ^= 0x9E3779B97F4A7C15ull * (uint64_t)(t->dist->rank + 1);
        fcnn_network_set_seed(t->net, seed);
    }
    int status = FCNN_OK;
    if (count > 0) {
        struct fcnn_tensor x = fcnn_network_input(t->net, count);
        struct fcnn_tensor y = fcnn_network_labels(t->net, count);
        struct fcnn_tensor loss = fcnn_split_loss(split, lo, count);
        struct fcnn_tensor pred = fcnn_split_pred(split, lo, count);
        status = t->augment_batch ? load_augmented(t, lo, count, &x, &y)
                                  : fcnn_load_batch(be, &images, &labels, &order, lo, &x, &y);
        if (status == FCNN_OK)
            status = fcnn_network_forward(t->net, count, true);
        if (status == FCNN_OK)
            status = fcnn_network_loss_part(t->net, count, n, &loss, &pred);
    }
    if (status == FCNN_OK)
        status = fcnn_dist_backward(t->dist, t->net, count);
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
    if (status == FCNN_OK && t->augment_batch) { /* draws by position in the epoch's order */
        fcnn_augment_draw(t->augment, t->rng, count, t->host_augment_params);
        struct fcnn_tensor params = fcnn_tensor_2d(t->augment_params, 0, FCNN_F32, count, 4);
        status = fcnn_upload(be, &params, t->host_augment_params);
    }
    struct pass_sums sums = { 0 };
    struct owners owners = { t->dist, count, batch };
    bool shared = fcnn_dist_active(t->dist);
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
        /* In long long: 32 steps of a large batch overflow an int. */
        bool too_far = (long long)done - sums.fetched >= (long long)MAX_STEPS_AHEAD * batch;
        /* Every process must read back at the same steps (the read is a collective sum),
         * so with several the clock cannot decide: progress shows at the queue's reads. */
        bool report = t->hooks.progress && t->progress_interval > 0 &&
                      (shared ? too_far : fcnn_now() - last_report >= t->progress_interval);
        if (status == FCNN_OK && (report || too_far) && step + 1 < steps) {
            int behind = (int)(done - (long long)MAX_STEPS_AHEAD / 2 * batch);
            int upto = report ? done : behind;
            status = fetch_and_sum(be, split, shared ? behind : upto, &sums, epoch, batch,
                                   &owners);
            if (status == FCNN_OK && report) {
                t->hooks.progress(t->hooks.user, step + 1, steps, sums.loss / sums.fetched,
                                  (double)sums.correct / sums.fetched, fcnn_now() - start);
                last_report = fcnn_now();
            }
        }
    }
    if (status == FCNN_OK)
        status = fetch_and_sum(be, split, count, &sums, epoch, batch, &owners);
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

/* One forward and loss at `n` samples of `split`, and the backward pass when training
 * (unless the trainer warms up the training step's forward alone). */
static int warm_pass(struct fcnn_trainer *t, struct fcnn_split *split, int n, bool train)
{
    struct fcnn_tensor images = fcnn_split_images(split), labels = fcnn_split_labels(split);
    struct fcnn_tensor order = fcnn_split_order(split);
    struct fcnn_tensor x = fcnn_network_input(t->net, n), y = fcnn_network_labels(t->net, n);
    struct fcnn_tensor loss = fcnn_split_loss(split, 0, n), pred = fcnn_split_pred(split, 0, n);
    int status = train && t->augment_batch
                     ? load_augmented(t, 0, n, &x, &y)
                     : fcnn_load_batch(t->be, &images, &labels, &order, 0, &x, &y);
    if (status == FCNN_OK)
        status = fcnn_network_forward(t->net, n, train);
    if (status == FCNN_OK)
        status = fcnn_network_loss(t->net, n, &loss, &pred, train);
    if (status == FCNN_OK && train && t->warm_part != FCNN_WARM_TRAINING_FORWARD)
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
    int status = fcnn_network_get_state(t->net, state), lo, n;
    bool training = t->warm_part != FCNN_WARM_EVALUATION;
    bool evaluation = t->warm_part == FCNN_WARM_ALL || t->warm_part == FCNN_WARM_EVALUATION;
    /* With several processes, the shapes this one will see: its slices of a full and of
     * the short last batch, and its part of the validation split. */
    if (status == FCNN_OK && training && t->train) {
        int count = t->train->count, batch = t->batch_size;
        fcnn_dist_slice(t->dist, 0, count < batch ? count : batch, &lo, &n);
        if (n > 0)
            status = warm_pass(t, t->train, n, true);
        fcnn_dist_slice(t->dist, 0, count % batch, &lo, &n);
        if (status == FCNN_OK && count > batch && n > 0) /* the short last batch */
            status = warm_pass(t, t->train, n, true);
    }
    if (status == FCNN_OK && training && t->train && t->opt &&
        t->warm_part != FCNN_WARM_TRAINING_FORWARD)
        status = fcnn_optimizer_warm_up(t->be, t->opt);
    if (status == FCNN_OK && evaluation && t->val) {
        int count, batch = t->eval_batch_size;
        fcnn_dist_slice(t->dist, 0, t->val->count, &lo, &count);
        if (count > 0)
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

int fcnn_trainer_share(struct fcnn_trainer *t)
{
    struct fcnn_dist *d = t->dist;
    if (!fcnn_dist_active(d))
        return FCNN_OK;
    int status = fcnn_dist_share_params(d, t->net);
    /* The layers' state (moving statistics) and the optimizer's state tensors travel
     * through a host copy, one at a time. */
    size_t floats = t->net->model->param_floats, states = t->net->model->state_floats;
    float *host = malloc(((floats > states ? floats : states) + 1) * sizeof *host);
    if (!host)
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory sharing the optimizer state");
    if (status == FCNN_OK && states > 0) {
        if (d->rank == 0)
            status = fcnn_network_get_state(t->net, host);
        if (status == FCNN_OK)
            status = fcnn_dist_broadcast(d, host, states * sizeof *host);
        if (status == FCNN_OK && d->rank != 0)
            status = fcnn_network_set_state(t->net, host);
    }
    for (int i = 0; t->opt && i < t->opt->slot_count && status == FCNN_OK; i++) {
        struct fcnn_tensor slot = fcnn_optimizer_slot(t->opt, i);
        size_t bytes = (size_t)t->opt->size * sizeof(float);
        if (d->rank == 0)
            status = fcnn_download(t->be, &slot, host);
        if (status == FCNN_OK)
            status = fcnn_dist_broadcast(d, host, bytes);
        if (status == FCNN_OK && d->rank != 0)
            status = fcnn_upload(t->be, &slot, host);
    }
    free(host);
    if (status == FCNN_OK && t->opt)
        status = fcnn_dist_broadcast(d, &t->opt->iterations, sizeof t->opt->iterations);
    if (status == FCNN_OK)
        status = fcnn_dist_broadcast(d, t->rng, sizeof *t->rng);
    int scalars[3] = { t->epoch, t->epochs, t->wait };
    if (status == FCNN_OK)
        status = fcnn_dist_broadcast(d, scalars, sizeof scalars);
    if (status == FCNN_OK && scalars[1] != t->epochs)
        return fcnn_error(FCNN_ERR_INVALID, "rank %d trains %d epochs, rank 0 %d", d->rank,
                          t->epochs, scalars[1]);
    t->epoch = scalars[0];
    t->wait = scalars[2];
    if (status == FCNN_OK)
        status = fcnn_dist_broadcast(d, &t->best_val_loss, sizeof t->best_val_loss);
    if (status == FCNN_OK && t->epoch > 0)
        status = fcnn_dist_broadcast(d, t->history, (size_t)t->epoch * sizeof *t->history);
    if (status == FCNN_OK && t->best_params)
        status = fcnn_dist_broadcast(d, t->best_params, floats * sizeof *t->best_params);
    return status;
}

/* With several processes, each BatchNormalization layer has moved its moving statistics
 * by its own slices' batch statistics (they are not synchronised per step, as DDP's plain
 * BatchNorm is not): after each epoch every process takes their mean, so all evaluate,
 * and rank 0 saves, the same state. */
static int average_state(struct fcnn_trainer *t)
{
    size_t floats = t->net->model->state_floats;
    if (!fcnn_dist_active(t->dist) || floats == 0)
        return FCNN_OK;
    float *host = malloc(floats * sizeof *host);
    if (!host)
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory averaging the layers' state");
    int status = fcnn_network_get_state(t->net, host);
    if (status == FCNN_OK)
        status = fcnn_dist_sum_f32(t->dist, host, floats);
    for (size_t i = 0; status == FCNN_OK && i < floats; i++)
        host[i] /= (float)t->dist->size;
    if (status == FCNN_OK)
        status = fcnn_network_set_state(t->net, host);
    free(host);
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
        if (status == FCNN_OK && t->interrupted)
            break; /* an epoch cut short is dropped whole: it was never saved */
        if (status == FCNN_OK)
            status = average_state(t);
        if (status == FCNN_OK)
            status = fcnn_evaluate_shared(t->dist, t->net, t->val, t->eval_batch_size, &val);
        if (status != FCNN_OK)
            break;
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
