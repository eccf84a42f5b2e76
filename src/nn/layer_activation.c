/* Activation: y = act(x) for relu, sigmoid and tanh, elementwise over any shape.
 *   backward:  dx = act'(x) dy, computed from y (relu: y > 0; sigmoid: y (1 - y); tanh:
 *              1 - y^2), so nothing but the output is kept.
 * "linear" is the identity and softmax (the model's last layer only) is merged with the
 * loss: both are views, with no pass, whose output is their input. */
#include <config.h>

#include <stdio.h>

#include "nn/layer.h"
#include "core/status.h"

static int activation_forward(const struct fcnn_layer *layer, struct fcnn_backend *be,
                              const struct fcnn_layer_io *io)
{
    struct fcnn_op_call call = { .op = FCNN_OP_ACTIVATION_FWD, .t = { io->x, io->y },
                                 .p.act = layer->p.act };
    return fcnn_op_run(be, &call);
}

static int activation_backward(const struct fcnn_layer *layer, struct fcnn_backend *be,
                               const struct fcnn_layer_io *io)
{
    if (!io->dx)
        return FCNN_OK;
    struct fcnn_op_call call = { .op = FCNN_OP_ACTIVATION_BWD, .t = { io->y, io->dy, io->dx },
                                 .p.act = layer->p.act };
    return fcnn_op_run(be, &call);
}

static void activation_describe(const struct fcnn_layer *layer, const struct fcnn_model *model,
                                char *out, size_t size)
{
    (void)model;
    snprintf(out, size, "Activation(%s)", fcnn_activation_name(layer->p.act));
}

static const struct fcnn_layer_type activation_type = {
    .class_name = "Activation",
    .base_name = "activation",
    .describe = activation_describe,
    .forward = activation_forward,
    .backward = activation_backward,
};

static const struct fcnn_layer_type identity_type = {
    .class_name = "Activation",
    .base_name = "activation",
    .is_view = true,
    .describe = activation_describe,
};

int fcnn_add_activation(struct fcnn_model *m, enum fcnn_activation act)
{
    if ((unsigned)act > FCNN_ACT_SOFTMAX)
        return fcnn_error(FCNN_ERR_INVALID, "Activation: unknown activation %d", (int)act);
    bool view = act == FCNN_ACT_NONE || act == FCNN_ACT_SOFTMAX;
    struct fcnn_layer *layer;
    int status = fcnn_model_add_layer(m, view ? &identity_type : &activation_type,
                                      fcnn_model_output(m), &layer);
    if (status == FCNN_OK)
        layer->p.act = act;
    return status;
}
