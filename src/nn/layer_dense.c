/* Dense: y = act(x kernel + bias) with the kernel [in, units] as Keras stores it. The
 * model's last Dense has no activation here: its softmax is fused into the loss.
 *   backward:  dz = relu'(y) dy (if ReLU);  dbias = sum dz;  dkernel = x^T dz;  dx = dz kernel^T */
#include <config.h>

#include <stdio.h>

#include "nn/layer.h"
#include "core/status.h"

static int dense_forward(const struct fcnn_layer *layer, struct fcnn_backend *be,
                         const struct fcnn_layer_io *io)
{
    return fcnn_dense_fwd(be, io->x, io->param[0], io->param[1], io->y, layer->p.act);
}

static int dense_backward(const struct fcnn_layer *layer, struct fcnn_backend *be,
                          const struct fcnn_layer_io *io)
{
    int status = FCNN_OK;
    if (layer->p.act == FCNN_ACT_RELU)
        status = fcnn_relu_bwd(be, io->y, io->dy, io->dy);
    if (status == FCNN_OK)
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
    snprintf(out, size, "Dense(%d%s)", layer->out.dims[0],
             layer->p.act == FCNN_ACT_RELU ? ",relu" : "");
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
    if (in.ndim != 1 || units < 1)
        return fcnn_error(FCNN_ERR_INVALID, "Dense needs a flat input (add Flatten first)");
    if (!use_bias || (act != FCNN_ACT_NONE && act != FCNN_ACT_RELU && act != FCNN_ACT_SOFTMAX))
        return fcnn_error(FCNN_ERR_INVALID, "Dense here needs a bias and relu, softmax or no "
                          "activation");
    if (act == FCNN_ACT_SOFTMAX) /* fused with the loss */
        act = FCNN_ACT_NONE;
    struct fcnn_layer *layer;
    int status = fcnn_model_add_layer(m, &dense_type, (struct fcnn_shape){ 1, { units } }, &layer);
    if (status != FCNN_OK)
        return status;
    layer->p.act = act;
    int features = in.dims[0];
    status = fcnn_model_add_param(m, layer, "kernel", 2, (int[]){ features, units }, features, units);
    if (status == FCNN_OK)
        status = fcnn_model_add_param(m, layer, "bias", 1, (int[]){ units }, 0, 0);
    return status;
}
