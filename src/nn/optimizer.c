/* Optimizer state and steps; the arithmetic itself is a backend op. */
#include <config.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/optimizer.h"
#include "core/status.h"

static const char *const names[] = { [FCNN_OPT_SGD] = "sgd", [FCNN_OPT_MOMENTUM] = "momentum",
                                     [FCNN_OPT_ADAM] = "adam", [FCNN_OPT_RMSPROP] = "rmsprop",
                                     [FCNN_OPT_ADAMW] = "adamw" };

const char *fcnn_optimizer_name(enum fcnn_optimizer_kind kind)
{
    return names[kind];
}

int fcnn_optimizer_parse(const char *name)
{
    for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

int fcnn_optimizer_create(struct fcnn_backend *be, enum fcnn_optimizer_kind kind, double lr,
                          int size, struct fcnn_optimizer **out)
{
    *out = NULL;
    struct fcnn_optimizer *opt = calloc(1, sizeof *opt);
    float *zeros = calloc((size_t)size, sizeof(float));
    if (!opt || !zeros) {
        free(opt);
        free(zeros);
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory creating the optimizer");
    }
    *opt = (struct fcnn_optimizer){ .kind = kind, .lr = lr, .momentum = 0.9, .beta1 = 0.9,
                                    .beta2 = 0.999, .epsilon = 1e-7, .rho = 0.9,
                                    .weight_decay = FCNN_DEFAULT_WEIGHT_DECAY, .size = size };
    opt->slot_count = fcnn_optimizer_slots_of(kind);
    int status = FCNN_OK;
    for (int i = 0; i < opt->slot_count && status == FCNN_OK; i++) {
        status = fcnn_buffer_alloc(be, (size_t)size * sizeof(float), &opt->slots[i]);
        if (status == FCNN_OK) {
            struct fcnn_tensor slot = fcnn_optimizer_slot(opt, i);
            status = fcnn_upload(be, &slot, zeros);
        }
    }
    free(zeros);
    if (status != FCNN_OK) {
        fcnn_optimizer_destroy(be, opt);
        return status;
    }
    *out = opt;
    return FCNN_OK;
}

void fcnn_optimizer_destroy(struct fcnn_backend *be, struct fcnn_optimizer *opt)
{
    if (!opt)
        return;
    for (int i = 0; i < opt->slot_count; i++)
        fcnn_buffer_free(be, opt->slots[i]);
    free(opt);
}

struct fcnn_tensor fcnn_optimizer_slot(const struct fcnn_optimizer *opt, int i)
{
    return fcnn_tensor_1d(opt->slots[i], 0, FCNN_F32, opt->size);
}

int fcnn_optimizer_slots_of(enum fcnn_optimizer_kind kind)
{
    switch (kind) {
    case FCNN_OPT_SGD: return 0;
    case FCNN_OPT_MOMENTUM:
    case FCNN_OPT_RMSPROP: return 1;
    case FCNN_OPT_ADAM:
    case FCNN_OPT_ADAMW: return 2;
    }
    return 0;
}

const char *fcnn_optimizer_slot_name_of(enum fcnn_optimizer_kind kind, int i)
{
    if (kind == FCNN_OPT_ADAM || kind == FCNN_OPT_ADAMW)
        return i == 0 ? "m" : "v";
    return "velocity";
}

const char *fcnn_optimizer_slot_name(const struct fcnn_optimizer *opt, int i)
{
    return fcnn_optimizer_slot_name_of(opt->kind, i);
}

/* Keras folds both of Adam's bias corrections into the step size, computed in double. */
static double adam_alpha(const struct fcnn_optimizer *opt)
{
    double t = (double)opt->iterations;
    return opt->lr * sqrt(1.0 - pow(opt->beta2, t)) / (1.0 - pow(opt->beta1, t));
}

int fcnn_optimizer_step(struct fcnn_backend *be, struct fcnn_optimizer *opt,
                        const struct fcnn_tensor *params, const struct fcnn_tensor *grads)
{
    int status = FCNN_ERR_INVALID;
    opt->iterations++;
    switch (opt->kind) {
    case FCNN_OPT_SGD:
        status = fcnn_sgd_update(be, params, grads, &(struct fcnn_sgd_params){ (float)opt->lr });
        break;
    case FCNN_OPT_MOMENTUM: {
        struct fcnn_tensor velocity = fcnn_optimizer_slot(opt, 0);
        status = fcnn_momentum_update(be, params, grads, &velocity,
                                      &(struct fcnn_momentum_params){ (float)opt->lr,
                                                                      (float)opt->momentum });
        break;
    }
    case FCNN_OPT_ADAM: {
        struct fcnn_tensor m = fcnn_optimizer_slot(opt, 0), v = fcnn_optimizer_slot(opt, 1);
        status = fcnn_adam_update(be, params, grads, &m, &v,
                                  &(struct fcnn_adam_params){ (float)adam_alpha(opt),
                                                              (float)opt->beta1,
                                                              (float)opt->beta2,
                                                              (float)opt->epsilon });
        break;
    }
    case FCNN_OPT_RMSPROP: {
        struct fcnn_tensor velocity = fcnn_optimizer_slot(opt, 0);
        status = fcnn_rmsprop_update(be, params, grads, &velocity,
                                     &(struct fcnn_rmsprop_params){ (float)opt->lr,
                                                                    (float)opt->rho,
                                                                    (float)opt->epsilon });
        break;
    }
    case FCNN_OPT_ADAMW: {
        /* Keras decays by the current learning rate times weight_decay, before the step. */
        struct fcnn_tensor m = fcnn_optimizer_slot(opt, 0), v = fcnn_optimizer_slot(opt, 1);
        status = fcnn_adamw_update(be, params, grads, &m, &v,
                                   &(struct fcnn_adamw_params){
                                       (float)adam_alpha(opt), (float)opt->beta1,
                                       (float)opt->beta2, (float)opt->epsilon,
                                       (float)(opt->lr * opt->weight_decay) });
        break;
    }
    }
    return status;
}

int fcnn_optimizer_warm_up(struct fcnn_backend *be, const struct fcnn_optimizer *opt)
{
    struct fcnn_optimizer *scratch = NULL;
    struct fcnn_buffer *buffer = NULL;
    size_t bytes = (size_t)opt->size * sizeof(float);
    float *zeros = calloc((size_t)opt->size, sizeof(float));
    int status = zeros ? FCNN_OK : fcnn_error(FCNN_ERR_NOMEM, "out of memory warming up");
    if (status == FCNN_OK)
        status = fcnn_optimizer_create(be, opt->kind, opt->lr, opt->size, &scratch);
    if (status == FCNN_OK)
        scratch->weight_decay = opt->weight_decay;
    if (status == FCNN_OK) /* parameters, then gradients */
        status = fcnn_buffer_alloc(be, 2 * bytes, &buffer);
    struct fcnn_tensor params = { 0 }, grads = { 0 };
    if (status == FCNN_OK) {
        params = fcnn_tensor_1d(buffer, 0, FCNN_F32, opt->size);
        grads = fcnn_tensor_1d(buffer, bytes, FCNN_F32, opt->size);
        status = fcnn_upload(be, &params, zeros);
    }
    if (status == FCNN_OK)
        status = fcnn_upload(be, &grads, zeros);
    if (status == FCNN_OK)
        status = fcnn_optimizer_step(be, scratch, &params, &grads);
    if (status == FCNN_OK)
        status = fcnn_sync(be);
    fcnn_buffer_free(be, buffer);
    fcnn_optimizer_destroy(be, scratch);
    free(zeros);
    return status;
}

int fcnn_lr_schedule_parse(const char *text, struct fcnn_lr_schedule *out)
{
    *out = (struct fcnn_lr_schedule){ FCNN_LR_CONSTANT, 0, 1.0 };
    if (strcmp(text, "constant") == 0)
        return FCNN_OK;
    if (strcmp(text, "cosine") == 0) {
        out->kind = FCNN_LR_COSINE;
        return FCNN_OK;
    }
    if (strncmp(text, "step:", 5) == 0) {
        char *end;
        errno = 0;
        long epochs = strtol(text + 5, &end, 10);
        if (!errno && end != text + 5 && *end == ':' && epochs >= 1 && epochs <= 1000000) {
            const char *f = end + 1;
            double factor = strtod(f, &end);
            if (!errno && end != f && !*end && factor > 0 && factor <= 1) {
                *out = (struct fcnn_lr_schedule){ FCNN_LR_STEP, (int)epochs, factor };
                return FCNN_OK;
            }
        }
    }
    return fcnn_error(FCNN_ERR_INVALID, "the learning-rate schedule must be constant, cosine "
                      "or step:EPOCHS:FACTOR (EPOCHS >= 1, 0 < FACTOR <= 1), not '%s'", text);
}

void fcnn_lr_schedule_text(const struct fcnn_lr_schedule *s, char *out, size_t size)
{
    switch (s->kind) {
    case FCNN_LR_CONSTANT: snprintf(out, size, "constant"); break;
    case FCNN_LR_COSINE: snprintf(out, size, "cosine"); break;
    case FCNN_LR_STEP: snprintf(out, size, "step:%d:%.17g", s->step_epochs, s->factor); break;
    }
}

double fcnn_lr_schedule_at(const struct fcnn_lr_schedule *s, double base_lr, int epoch,
                           int epochs)
{
    switch (s->kind) {
    case FCNN_LR_CONSTANT: break;
    case FCNN_LR_STEP: return base_lr * pow(s->factor, (epoch - 1) / s->step_epochs);
    case FCNN_LR_COSINE: {
        /* CosineDecay with alpha 0: step = epochs completed, decay_steps = epochs. */
        double progress = epochs > 0 ? (double)(epoch - 1) / epochs : 0;
        if (progress > 1)
            progress = 1;
        return base_lr * 0.5 * (1.0 + cos(M_PI * progress));
    }
    }
    return base_lr;
}
