/* Dense: y = act(x kernel + bias) with the kernel [in, units] as Keras stores it, the bias
 * only with use_bias. ReLU is fused into the matrix product; sigmoid and tanh run after it
 * in place; softmax (the model's last layer only) is merged with the loss, so the layer
 * then emits logits.
 *   backward:  dz = act'(y) dy (in place);  dbias = sum dz;  dkernel = x^T dz;  dx = dz kernel^T */
#include <config.h>

#include <stdio.h>

#include "nn/layer.h"
#include "core/status.h"

/* What the forward's matrix product fuses, and what runs after it. */
static enum fcnn_activation fused(enum fcnn_activation act)
{
    return act == FCNN_ACT_RELU ? FCNN_ACT_RELU : FCNN_ACT_NONE;
}

static bool separate(enum fcnn_activation act)
{
    return act == FCNN_ACT_SIGMOID || act == FCNN_ACT_TANH;
}

static int dense_forward(const struct fcnn_layer *layer, struct fcnn_backend *be,
                         const struct fcnn_layer_io *io)
{
    const struct fcnn_dense_layer_params *p = &layer->p.dense;
    int status = fcnn_dense_fwd(be, io->x, io->param[0], p->use_bias ? io->param[1] : NULL,
                                io->y, fused(p->act));
    if (status == FCNN_OK && separate(p->act)) {
        struct fcnn_op_call call = { .op = FCNN_OP_ACTIVATION_FWD, .t = { io->y, io->y },
                                     .p.act = p->act };
        status = fcnn_op_run(be, &call);
    }
    return status;
}

static int dense_backward(const struct fcnn_layer *layer, struct fcnn_backend *be,
                          const struct fcnn_layer_io *io)
{
    const struct fcnn_dense_layer_params *p = &layer->p.dense;
    int status = FCNN_OK;
    if (p->act == FCNN_ACT_RELU) {
        status = fcnn_relu_bwd(be, io->y, io->dy, io->dy);
    } else if (separate(p->act)) {
        struct fcnn_op_call call = { .op = FCNN_OP_ACTIVATION_BWD, .t = { io->y, io->dy, io->dy },
                                     .p.act = p->act };
        status = fcnn_op_run(be, &call);
    }
    if (status == FCNN_OK && p->use_bias)
        status = fcnn_bias_bwd(be, io->dy, io->grad[1]);
    if (status == FCNN_OK)
        status = fcnn_dense_bwd_weights(be, io->x, io->dy, io->grad[0]);
    if (status == FCNN_OK && io->dx)
        status = fcnn_dense_bwd_data(be, io->dy, io->param[0], io->dx);
    return status;
}

static void dense_describe(const struct fcnn_layer *layer, const struct fcnn_model *model,
                           char *out, size_t size)
{
    (void)model;
    const struct fcnn_dense_layer_params *p = &layer->p.dense;
    snprintf(out, size, "Dense(%d%s%s%s)", layer->out.dims[0], p->act ? "," : "",
             p->act ? fcnn_activation_name(p->act) : "", p->use_bias ? "" : ",no_bias");
}

static const struct fcnn_layer_type dense_type = {
    .class_name = "Dense",
    .base_name = "dense",
    .describe = dense_describe,
    .forward = dense_forward,
    .backward = dense_backward,
};

int fcnn_add_dense(struct fcnn_model *m, int units, bool use_bias, enum fcnn_activation act)
{
    struct fcnn_shape in = fcnn_model_output(m);
    if (in.ndim != 1)
        return fcnn_error(FCNN_ERR_INVALID, "Dense needs a flat input (add Flatten first)");
    if (units < 1)
        return fcnn_error(FCNN_ERR_INVALID, "Dense: units must be at least 1, not %d", units);
    if ((unsigned)act > FCNN_ACT_SOFTMAX)
        return fcnn_error(FCNN_ERR_INVALID, "Dense: unknown activation %d", (int)act);
    struct fcnn_layer *layer;
    int status = fcnn_model_add_layer(m, &dense_type, (struct fcnn_shape){ 1, { units } }, &layer);
    if (status != FCNN_OK)
        return status;
    layer->p.dense = (struct fcnn_dense_layer_params){ .act = act, .use_bias = use_bias };
    int features = in.dims[0];
    status = fcnn_model_add_param(m, layer, "kernel", 2, (int[]){ features, units }, features, units);
    if (status == FCNN_OK && use_bias)
        status = fcnn_model_add_param(m, layer, "bias", 1, (int[]){ units }, 0, 0);
    return status;
}
