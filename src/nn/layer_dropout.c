/* Dropout: in training, y = x mask / (1 - rate) with each element kept with probability
 * 1 - rate (Keras's inverted dropout); in evaluation, y = x. The mask comes from the
 * layer's seed for the step (drawn from the run's one generator), so a run with the same
 * seed on the same backend draws the same masks, and the backward recomputes it.
 *   backward:  dx = dy mask / (1 - rate) */
#include <config.h>

#include <stdio.h>

#include "nn/layer.h"
#include "core/status.h"

static int dropout_forward(const struct fcnn_layer *layer, struct fcnn_backend *be,
                           const struct fcnn_layer_io *io)
{
    /* Evaluation copies x: rate 0 keeps every element and scales by exactly 1. */
    struct fcnn_op_call call = {
        .op = FCNN_OP_DROPOUT_FWD, .t = { io->x, io->y },
        .p.dropout = { .rate = io->training ? layer->p.dropout_rate : 0.0f, .seed = io->seed },
    };
    return fcnn_op_run(be, &call);
}

static int dropout_backward(const struct fcnn_layer *layer, struct fcnn_backend *be,
                            const struct fcnn_layer_io *io)
{
    if (!io->dx)
        return FCNN_OK;
    struct fcnn_op_call call = {
        .op = FCNN_OP_DROPOUT_BWD, .t = { io->dy, io->dx },
        .p.dropout = { .rate = layer->p.dropout_rate, .seed = io->seed },
    };
    return fcnn_op_run(be, &call);
}

static void dropout_describe(const struct fcnn_layer *layer, const struct fcnn_model *model,
                             char *out, size_t size)
{
    (void)model;
    snprintf(out, size, "Dropout(%g)", (double)layer->p.dropout_rate);
}

static const struct fcnn_layer_type dropout_type = {
    .class_name = "Dropout",
    .base_name = "dropout",
    .is_random = true,
    .describe = dropout_describe,
    .forward = dropout_forward,
    .backward = dropout_backward,
};

int fcnn_add_dropout(struct fcnn_model *m, float rate)
{
    if (!(rate >= 0.0f && rate < 1.0f))
        return fcnn_error(FCNN_ERR_INVALID, "Dropout: rate must be in [0, 1), not %g",
                          (double)rate);
    struct fcnn_layer *layer;
    int status = fcnn_model_add_layer(m, &dropout_type, fcnn_model_output(m), &layer);
    if (status == FCNN_OK)
        layer->p.dropout_rate = rate;
    return status;
}
