/* Conv2D: a kh x kw kernel moving by sh x sw, padding "valid" or "same" by Keras's rules
 * (fcnn_window_axis: "same" pads more after than before for even kernels and strides that
 * do not divide the input), an optional bias, an activation (ReLU fused into the
 * convolution, sigmoid and tanh after it in place). HWIO kernel [kh,kw,in,filters] and a
 * bias per filter, initialised Glorot-uniform and zero as Keras does.
 *   forward:   y = act(conv(x, kernel) + bias)                 (one backend op, two for
 *                                                               sigmoid and tanh)
 *   backward:  dz = act'(y) dy;  dbias = sum dz;  dkernel = x (*) dz;  dx = dz (*) kernel^T */
#include <config.h>

#include <stdio.h>

#include "nn/layer.h"
#include "core/status.h"

static bool has_bias(const struct fcnn_layer *layer)
{
    return layer->param_count > 1;
}

/* Activations the convolution op does not fuse. */
static bool separate(enum fcnn_activation act)
{
    return act == FCNN_ACT_SIGMOID || act == FCNN_ACT_TANH;
}

static int conv2d_forward(const struct fcnn_layer *layer, struct fcnn_backend *be,
                          const struct fcnn_layer_io *io)
{
    int status = fcnn_conv2d_fwd(be, io->x, io->param[0], has_bias(layer) ? io->param[1] : NULL,
                                 io->y, &layer->p.conv);
    if (status == FCNN_OK && separate(layer->activation)) {
        struct fcnn_op_call call = { .op = FCNN_OP_ACTIVATION_FWD, .t = { io->y, io->y },
                                     .p.act = layer->activation };
        status = fcnn_op_run(be, &call);
    }
    return status;
}

static int conv2d_backward(const struct fcnn_layer *layer, struct fcnn_backend *be,
                           const struct fcnn_layer_io *io)
{
    int status = FCNN_OK;
    /* The ReLU's gradient, in place: dy becomes the gradient before the activation. */
    if (layer->p.conv.act == FCNN_ACT_RELU) {
        status = fcnn_relu_bwd(be, io->y, io->dy, io->dy);
    } else if (separate(layer->activation)) {
        struct fcnn_op_call call = { .op = FCNN_OP_ACTIVATION_BWD, .t = { io->y, io->dy, io->dy },
                                     .p.act = layer->activation };
        status = fcnn_op_run(be, &call);
    }
    if (status == FCNN_OK && has_bias(layer))
        status = fcnn_bias_bwd(be, io->dy, io->grad[1]);
    if (status == FCNN_OK)
        status = fcnn_conv2d_bwd_filter(be, io->x, io->dy, io->grad[0], &layer->p.conv);
    if (status == FCNN_OK && io->dx)
        status = fcnn_conv2d_bwd_data(be, io->dy, io->param[0], io->dx, &layer->p.conv);
    return status;
}

/* "Conv2D(32,3x3,same,relu)"; strides and a missing bias only where they differ from
 * Keras's defaults, so the reference model's description is what it always was. */
static void conv2d_describe(const struct fcnn_layer *layer, const struct fcnn_model *model,
                            char *out, size_t size)
{
    const struct fcnn_param *kernel = &model->params[layer->first_param];
    const struct fcnn_conv2d_params *p = &layer->p.conv;
    char strides[32] = "";
    if (p->sh != 1 || p->sw != 1)
        snprintf(strides, sizeof strides, ",strides=%dx%d", p->sh, p->sw);
    snprintf(out, size, "Conv2D(%d,%dx%d%s,%s%s%s%s)", kernel->shape[3], kernel->shape[0],
             kernel->shape[1], strides, layer->padding == FCNN_PADDING_SAME ? "same" : "valid",
             layer->activation ? "," : "",
             layer->activation ? fcnn_activation_name(layer->activation) : "",
             has_bias(layer) ? "" : ",use_bias=false");
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
    char name[32];
    fcnn_model_next_name(m, &conv2d_type, name, sizeof name);
    struct fcnn_shape in = fcnn_model_output(m);
    if (in.ndim != 3)
        return fcnn_error(FCNN_ERR_INVALID, "%s: Conv2D needs an input of height, width and "
                          "channels, not a flat one", name);
    if (a->filters < 1 || a->kh < 1 || a->kw < 1 || a->sh < 1 || a->sw < 1)
        return fcnn_error(FCNN_ERR_INVALID, "%s: filters (%d), kernel size (%dx%d) and strides "
                          "(%dx%d) must be at least 1", name, a->filters, a->kh, a->kw, a->sh,
                          a->sw);
    if (a->act != FCNN_ACT_NONE && a->act != FCNN_ACT_RELU && !separate(a->act))
        return fcnn_error(FCNN_ERR_INVALID, "%s: Conv2D takes linear, relu, sigmoid or tanh, "
                          "not %s", name, fcnn_activation_name(a->act));
    struct fcnn_window_axis rows = fcnn_window_axis(in.dims[0], a->kh, a->sh, a->padding);
    struct fcnn_window_axis cols = fcnn_window_axis(in.dims[1], a->kw, a->sw, a->padding);
    if (rows.out < 1 || cols.out < 1)
        return fcnn_error(FCNN_ERR_INVALID, "%s: a %dx%d kernel does not fit its %dx%d input "
                          "with padding \"valid\"", name, a->kh, a->kw, in.dims[0], in.dims[1]);

    struct fcnn_layer *layer;
    int status = fcnn_model_add_layer(
        m, &conv2d_type, (struct fcnn_shape){ 3, { rows.out, cols.out, a->filters } }, &layer);
    if (status != FCNN_OK)
        return status;
    layer->padding = a->padding;
    layer->activation = a->act;
    layer->p.conv = (struct fcnn_conv2d_params){
        .sh = a->sh, .sw = a->sw,
        .pad_top = rows.before, .pad_bottom = rows.after,
        .pad_left = cols.before, .pad_right = cols.after,
        .act = a->act == FCNN_ACT_RELU ? FCNN_ACT_RELU : FCNN_ACT_NONE,
    };
    int channels = in.dims[2], window = a->kh * a->kw;
    status = fcnn_model_add_param(m, layer, "kernel", 4,
                                  (int[]){ a->kh, a->kw, channels, a->filters },
                                  window * channels, window * a->filters);
    if (status == FCNN_OK && a->use_bias)
        status = fcnn_model_add_param(m, layer, "bias", 1, (int[]){ a->filters }, 0, 0);
    return status;
}
