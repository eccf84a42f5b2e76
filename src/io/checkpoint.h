/* fcnn checkpoints: the model's tensors under Keras's names, the optimizer's state as
 * extra tensors, and everything else a resumed run needs (epoch, hyperparameters, the
 * generator's state, the history, early stopping) as safetensors metadata. Files are
 * written atomically; reading checks that the file fits the model exactly. */
#ifndef FCNN_CHECKPOINT_H
#define FCNN_CHECKPOINT_H

#include <stdbool.h>
#include <stdint.h>

#include "data/input.h"
#include "train/train.h"

/* Whether this build has checkpoints (configure found jansson). Without them every call
 * below fails with FCNN_ERR_UNSUPPORTED and a line saying what to install. */
bool fcnn_checkpoints_available(void);

/* The checkpoint format this build writes. Version 2 adds the model's architecture (its
 * normalised spec); version 1 files hold the reference model and still load. */
#define FCNN_CHECKPOINT_FORMAT_VERSION 2

/* The run settings a checkpoint records, and a resumed run reuses. */
struct fcnn_run_settings {
    uint64_t seed;
    int epochs;
    int batch_size;
    enum fcnn_optimizer_kind optimizer;
    double lr;                           /* the base rate the schedule starts from */
    struct fcnn_lr_schedule lr_schedule;
    double weight_decay;                 /* AdamW's */
    int train_limit, test_limit;         /* 0: all the images */
    int patience;                        /* early stopping; 0: off */
    struct fcnn_augment augment;         /* training-time augmentation; all off: none */
    double validation_split;             /* the fraction held out; 0: none */
    const struct fcnn_input_info *input; /* recorded as metadata "input"; NULL: not saved */
    const char *kernel_choices;          /* fcnn_backend_kernel_choices: the kernel variant
                                          * each op shape ran, so that a resumed run runs
                                          * the same ones; NULL: none recorded */
};

/* Writes the trainer's model, optimizer, generator, history and early-stopping state. */
int fcnn_checkpoint_save(const char *path, const struct fcnn_trainer *t,
                         const struct fcnn_run_settings *settings);

/* A checkpoint read and checked against a model, ready to restore from. */
struct fcnn_checkpoint;

/* Reads the file and its metadata, and when `model` is not NULL checks its tensors
 * against it. With NULL, call fcnn_checkpoint_bind once the model is built from
 * fcnn_checkpoint_architecture. */
int fcnn_checkpoint_open(const char *path, const struct fcnn_model *model,
                         struct fcnn_checkpoint **out);
int fcnn_checkpoint_bind(struct fcnn_checkpoint *ck, const struct fcnn_model *model);
/* The normalised spec of the checkpoint's model (the reference model's for version 1). */
const char *fcnn_checkpoint_architecture(const struct fcnn_checkpoint *ck);
void fcnn_checkpoint_close(struct fcnn_checkpoint *ck);
const struct fcnn_run_settings *fcnn_checkpoint_settings(const struct fcnn_checkpoint *ck);
/* Epochs the checkpointed run had completed. */
int fcnn_checkpoint_epoch(const struct fcnn_checkpoint *ck);

/* Whether the file is weights-only (written by --export-weights): it serves --load
 * (--eval, --predict, a new run from its weights) but not --resume. */
bool fcnn_checkpoint_weights_only(const struct fcnn_checkpoint *ck);
/* FCNN_OK, or FCNN_ERR_INVALID with one line saying why the file cannot be resumed. */
int fcnn_checkpoint_check_resumable(const struct fcnn_checkpoint *ck);
/* The checkpoint's weights, host-side, in the model's arena layout (gaps zero). */
int fcnn_checkpoint_get_params(const struct fcnn_checkpoint *ck, float *arena);
/* Its non-trainable state (BatchNormalization's moving statistics) likewise. */
int fcnn_checkpoint_get_state(const struct fcnn_checkpoint *ck, float *arena);

/* Puts the checkpoint's weights into the network (--load). */
int fcnn_checkpoint_load_weights(const struct fcnn_checkpoint *ck, struct fcnn_network *net);
/* Restores everything into a trainer set up with the checkpoint's settings (--resume):
 * weights, optimizer state, generator, completed epochs, history, early stopping. */
int fcnn_checkpoint_restore(const struct fcnn_checkpoint *ck, struct fcnn_trainer *t);

/* The input description a checkpoint records (shape, scaling, class names), read before
 * any model is built; *found is false for a checkpoint without one (fcnn before image
 * data: 28x28x1 Fashion-MNIST). */
int fcnn_checkpoint_read_input(const char *path, struct fcnn_input_info *out, bool *found);
/* The JSON text of that entry (malloc'ed; NULL when out of memory). */
char *fcnn_checkpoint_input_json(const struct fcnn_input_info *info);

#endif
