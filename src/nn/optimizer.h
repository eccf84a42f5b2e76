/* Optimizers as Keras defines them, stepping the whole parameter arena with one backend op.
 * Their state (velocity, or Adam's two moments) lives on the device beside the parameters. */
#ifndef FCNN_OPTIMIZER_H
#define FCNN_OPTIMIZER_H

#include <stddef.h>

#include "backend/backend.h"

enum fcnn_optimizer_kind { FCNN_OPT_SGD, FCNN_OPT_MOMENTUM, FCNN_OPT_ADAM, FCNN_OPT_RMSPROP,
                           FCNN_OPT_ADAMW };

/* Keras's AdamW default. */
#define FCNN_DEFAULT_WEIGHT_DECAY 0.004

/* The learning rate per epoch: constant, multiplied by `factor` every `step_epochs`
 * epochs, or Keras's CosineDecay(lr, decay_steps = the run's epochs) stepped per epoch,
 * which falls towards 0 at the end of the run. */
enum fcnn_lr_schedule_kind { FCNN_LR_CONSTANT, FCNN_LR_STEP, FCNN_LR_COSINE };

struct fcnn_lr_schedule {
    enum fcnn_lr_schedule_kind kind;
    int step_epochs;
    double factor;
};

/* Parses "constant", "step:EPOCHS:FACTOR" (EPOCHS >= 1, 0 < FACTOR <= 1) or "cosine". */
int fcnn_lr_schedule_parse(const char *text, struct fcnn_lr_schedule *out);
/* The normalised text of a schedule, which fcnn_lr_schedule_parse reads back. */
void fcnn_lr_schedule_text(const struct fcnn_lr_schedule *s, char *out, size_t size);
/* The learning rate of epoch `epoch` (1-based) of `epochs`, from the base rate. */
double fcnn_lr_schedule_at(const struct fcnn_lr_schedule *s, double base_lr, int epoch,
                           int epochs);

struct fcnn_optimizer {
    enum fcnn_optimizer_kind kind;
    double lr;                       /* this epoch's learning rate */
    double momentum;                 /* momentum: 0.9 */
    double beta1, beta2, epsilon;    /* Adam, AdamW: Keras's 0.9, 0.999, 1e-7 (RMSprop's epsilon
                                        too) */
    double rho;                      /* RMSprop: 0.9 */
    double weight_decay;             /* AdamW: 0.004, decoupled, scaled by lr */
    long long iterations;            /* updates applied so far (Keras's `iterations`) */
    int slot_count;                  /* state tensors: 0, 1 (velocity) or 2 (m, v) */
    struct fcnn_buffer *slots[2];
    int size;                        /* floats per tensor: the parameter arena's */
};

const char *fcnn_optimizer_name(enum fcnn_optimizer_kind kind);
/* -1 for an unknown name. */
int fcnn_optimizer_parse(const char *name);

/* Creates the optimizer with zeroed state for `size` parameters. */
int fcnn_optimizer_create(struct fcnn_backend *be, enum fcnn_optimizer_kind kind, double lr,
                          int size, struct fcnn_optimizer **out);
void fcnn_optimizer_destroy(struct fcnn_backend *be, struct fcnn_optimizer *opt);

/* One update of params from grads (both flat f32 tensors of `size` elements). */
int fcnn_optimizer_step(struct fcnn_backend *be, struct fcnn_optimizer *opt,
                        const struct fcnn_tensor *params, const struct fcnn_tensor *grads);

/* One update with an optimizer of the same kind and size on scratch buffers (zeros), so a
 * backend compiles and tunes its update kernel before the first timed step, without
 * touching `opt`'s state or any parameter. */
int fcnn_optimizer_warm_up(struct fcnn_backend *be, const struct fcnn_optimizer *opt);

/* State tensors an optimizer of `kind` keeps per parameter, and the name of slot i in
 * checkpoints ("velocity", "m", "v"). */
int fcnn_optimizer_slots_of(enum fcnn_optimizer_kind kind);
const char *fcnn_optimizer_slot_name_of(enum fcnn_optimizer_kind kind, int i);

/* State slot i as a flat tensor, and its name in checkpoints ("velocity", "m", "v"). */
struct fcnn_tensor fcnn_optimizer_slot(const struct fcnn_optimizer *opt, int i);
const char *fcnn_optimizer_slot_name(const struct fcnn_optimizer *opt, int i);

#endif
