/* Conv2D: a square kernel, stride 1, "same" padding, fused ReLU or none. HWIO kernel
 * [k,k,in,filters] and a bias per filter, initialised Glorot-uniform and zero as Keras does.
 *   forward:   y = act(conv(x, kernel) + bias)                          (one backend op)
 *   backward:  dz = relu'(y) dy;  dbias = sum dz;  dkernel = x (*) dz;  dx = dz (*) kernel^T */
#include <config.h>

#include <stdio.h>

#include "nn/layer.h"
#include "core/status.h"

static int conv2d_forward(const struct fcnn_layer *layer, struct fcnn_backend *be,
                          const struct fcnn_layer_io *io)
{
    return fcnn_conv2d_fwd(be, io->x, io->param[0], io->param[1], io->y, &layer->p.conv);
}

static int conv2d_backward(const struct fcnn_layer *layer, struct fcnn_backend *be,
                           const struct fcnn_layer_io *io)
{
    int status = FCNN_OK;
    /* The ReLU's gradient, in place: dy becomes the gradient before the activation. */
    if (layer->p.conv.act == FCNN_ACT_RELU)
        status = fcnn_relu_bwd(be, io->y, io->dy, io->dy);
    if (status == FCNN_OK)
        status = fcnn_bias_bwd(be, io->dy, io->grad[1]);
    if (status == FCNN_OK)
        status = fcnn_conv2d_bwd_filter(be, io->x, io->dy, io->grad[0], &layer->p.conv);
    if (status == FCNN_OK && io->dx)
        status = fcnn_conv2d_bwd_data(be, io->dy, io->param[0], io->dx, &layer->p.conv);
    return status;
}

static void conv2d_describe(const struct fcnn_layer *layer, const struct fcnn_model *model,
                            char *out, size_t size)
{
    const struct fcnn_param *kernel = &model->params[layer->first_param];
    snprintf(out, size, "Conv2D(%d,%dx%d,%s%s)", kernel->shape[3], kernel->shape[0],
             kernel->shape[1], layer->p.conv.pad ? "same" : "valid",
             layer->p.conv.act == FCNN_ACT_RELU ? ",relu" : "");
}

static const struct fcnn_layer_type conv2d_type = {
    .class_name = "Conv2D",
    .base_name = "conv2d",
    .describe = conv2d_describe,
    .forward = conv2d_forward,
    .backward = conv2d_backward,
};

int fcnn_add_conv2d(struct fcnn_model *m, const struct fcnn_conv2d_args *a)
{
    struct fcnn_shape in = fcnn_model_output(m);
    int filters = a->filters, kernel = a->kh;
    enum fcnn_activation act = a->act;
    if (in.ndim != 3 || kernel < 1 || kernel % 2 == 0 || filters < 1 || a->kw != a->kh ||
        a->sh != 1 || a->sw != 1 || a->padding != FCNN_PADDING_SAME || !a->use_bias ||
        (act != FCNN_ACT_NONE && act != FCNN_ACT_RELU))
        return fcnn_error(FCNN_ERR_INVALID, "Conv2D here needs an HWC input, an odd square "
                          "kernel, stride 1, padding same, a bias and relu or no activation");
    struct fcnn_layer *layer;
    int status = fcnn_model_add_layer(
        m, &conv2d_type, (struct fcnn_shape){ 3, { in.dims[0], in.dims[1], filters } }, &layer);
    if (status != FCNN_OK)
        return status;
    layer->p.conv = (struct fcnn_conv2d_params){ .stride = 1, .pad = (kernel - 1) / 2, .act = act };
    int channels = in.dims[2], window = kernel * kernel;
    status = fcnn_model_add_param(m, layer, "kernel", 4, (int[]){ kernel, kernel, channels, filters },
                                  window * channels, window * filters);
    if (status == FCNN_OK)
        status = fcnn_model_add_param(m, layer, "bias", 1, (int[]){ filters }, 0, 0);
    return status;
}
