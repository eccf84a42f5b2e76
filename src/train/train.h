/* Training and evaluation loops. The whole step runs as queued backend ops; the host reads
 * per-sample losses and predictions back only for progress (a few times a second) and at
 * the end of each pass. */
#ifndef FCNN_TRAIN_H
#define FCNN_TRAIN_H

#include <signal.h>
#include <stdbool.h>

#include "core/clock.h"
#include "nn/network.h"
#include "nn/optimizer.h"
#include "core/rng.h"
#include "data/augment.h"
#include "data/split.h"
#include "train/dist.h"

/* Mean loss and accuracy of a pass. */
struct fcnn_pass_stats {
    int samples;
    double loss, accuracy;
};

/* One epoch as Keras reports it; also a row of history.csv. */
struct fcnn_epoch_stats {
    int epoch;            /* 1-based */
    int steps;
    double loss, accuracy;         /* running means over the epoch's training batches */
    double val_loss, val_accuracy; /* on the validation split after the epoch */
    double seconds;                /* the whole epoch, validation included */
    double lr;
};

/* Called by the trainer; any may be NULL. A non-zero status from epoch_end stops
 * training with that status (say, a checkpoint that could not be written). */
struct fcnn_train_hooks {
    void *user;
    void (*epoch_begin)(void *user, int epoch, int epochs);
    void (*progress)(void *user, int step, int steps, double loss, double accuracy,
                     double seconds);
    int (*epoch_end)(void *user, const struct fcnn_epoch_stats *stats);
};

struct fcnn_trainer {
    struct fcnn_backend *be;
    struct fcnn_network *net;
    struct fcnn_optimizer *opt;
    struct fcnn_rng *rng;
    struct fcnn_split *train, *val;
    struct fcnn_dist *dist; /* the processes sharing each batch; NULL: this one alone */
    int epochs;            /* train until this epoch */
    int batch_size;
    int eval_batch_size;
    double base_lr;                   /* the schedule's starting rate (0: opt->lr) */
    struct fcnn_lr_schedule schedule; /* sets opt->lr at each epoch's start */
    double progress_interval; /* seconds between progress reads; 0: never */
    struct fcnn_train_hooks hooks;
    const struct fcnn_augment *augment; /* training batches only; NULL: none */
    /* When this is set (a signal handler's flag; NULL: never), training stops at the next
     * step boundary: the epoch under way is dropped, what was saved after the last
     * complete epoch stands, and fcnn_train returns FCNN_OK with `interrupted` set. */
    volatile sig_atomic_t *stop;

    /* State carried across epochs (and through checkpoints). */
    int epoch;                        /* epochs completed */
    struct fcnn_epoch_stats *history; /* one row per completed epoch; `epochs` rows allocated */
    int patience;                     /* early stopping: epochs without improvement; 0: off */
    int wait;                         /* epochs since val_loss last improved */
    double best_val_loss;
    float *best_params;               /* the parameters of that epoch (host copy) */
    float *best_state;  /* and the non-trainable state with them (moving statistics) */
    bool stopped_early;
    bool interrupted;                 /* *stop was seen: training ended before t->epochs */
    bool warmed_up;
    /* What fcnn_warm_up runs: both passes, or one part alone (each in a process of its own
     * after a cold run: see cli/warm_up_child.h): the training step's forward and loss, the
     * whole training step, or the evaluation's pass. */
    enum fcnn_warm_part {
        FCNN_WARM_ALL,
        FCNN_WARM_TRAINING_FORWARD,
        FCNN_WARM_TRAINING,
        FCNN_WARM_EVALUATION
    } warm_part;
    /* Augmentation: the loaded batch before the augment op, and every sample's draws of
     * the epoch (uploaded once per epoch, as the order is). */
    struct fcnn_buffer *augment_batch, *augment_params;
    float *host_augment_params;
};

/* Prepares the trainer's history and early-stopping state; fields above the state must be
 * set first. */
int fcnn_trainer_init(struct fcnn_trainer *t);
void fcnn_trainer_release(struct fcnn_trainer *t);

/* Trains from epoch t->epoch + 1 to t->epochs (or until early stopping). A non-finite
 * loss stops with FCNN_ERR_NUMERIC and a message naming the epoch and step. */
int fcnn_train(struct fcnn_trainer *t);

/* One training step on samples [first, first + n) of the training split's current order:
 * load, forward, loss, backward, update, all queued on the backend. With several
 * processes, this one runs its slice of the n samples, and the gradients are summed over
 * all of them before the update. */
int fcnn_train_step(struct fcnn_trainer *t, int first, int n);

/* Runs every op of a training step and of an evaluation pass once (or of one of them, as
 * t->warm_part says), with the shapes the run will use, without changing any state: what
 * it writes is scratch the real steps overwrite, and the optimizer update runs on scratch
 * copies. Backends compile and tune kernels at first use, so this keeps that cost out of
 * the timed epochs. */
int fcnn_warm_up(struct fcnn_trainer *t);

/* Runs the network over a whole split in its stored order, in batches of `batch_size`;
 * leaves each sample's loss and prediction in split->host_loss / host_pred. */
int fcnn_evaluate(struct fcnn_network *net, struct fcnn_split *split, int batch_size,
                  struct fcnn_pass_stats *stats);
/* The same split over the processes of `dist` (NULL: alone): each evaluates its part, and
 * every process ends with every sample's loss and prediction and the same stats. */
int fcnn_evaluate_shared(struct fcnn_dist *dist, struct fcnn_network *net,
                         struct fcnn_split *split, int batch_size, struct fcnn_pass_stats *stats);

/* Rank 0's trainer state to every process: parameters, optimizer state, the generator,
 * completed epochs and history, early stopping. After setting up or resuming, so that all
 * processes start the same run whatever each read or drew. */
int fcnn_trainer_share(struct fcnn_trainer *t);

#endif
