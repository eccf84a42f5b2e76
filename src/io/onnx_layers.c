/* Every layer kind's ONNX mapping, in one table. fcnn's tensors are NHWC and its
 * convolution kernels HWIO; ONNX's Conv and pooling want NCHW activations and OIHW
 * weights. So: 4-D activations are transposed to NCHW before the first operator that
 * needs it (and back to NHWC before Flatten, so the features reach Dense in the order its
 * kernel rows were trained in, H then W then C); Conv kernels are stored transposed to
 * OIHW; Dense kernels [in, units] are used as they are by Gemm. */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/status.h"
#include "io/onnx_layers.h"
#include "nn/layer.h"

/* "<layer>/<suffix>": names of nodes and initializers follow Keras's tensor names. */
static const char *named(char buf[ONNX_NAME_SIZE], const struct fcnn_layer *layer,
                         const char *suffix)
{
    snprintf(buf, ONNX_NAME_SIZE, "%s/%s", layer->name, suffix);
    return buf;
}

/* The layer's tensor "<layer>/<suffix>" among `list` (the model's parameters or its
 * state) and its data in `arena`; NULL when the layer has none (an error is recorded
 * unless the tensor is optional: a bias with use_bias=False). */
static const float *find(struct onnx_graph *g, const struct fcnn_layer *layer, const char *suffix,
                         const struct fcnn_param *list, int first, int count, const float *arena,
                         bool optional, const struct fcnn_param **param)
{
    char name[ONNX_NAME_SIZE];
    named(name, layer, suffix);
    *param = NULL;
    for (int i = first; i < first + count && arena; i++) {
        if (strcmp(list[i].name, name) == 0) {
            *param = &list[i];
            return arena + list[i].offset;
        }
    }
    if (!optional)
        onnx_graph_fail(g, fcnn_error(FCNN_ERR_INVALID, "ONNX export: layer %s has no "
                                      "tensor %s", layer->name, name));
    return NULL;
}

static const float *weight(struct onnx_graph *g, const struct onnx_weights *w,
                           const struct fcnn_layer *layer, const char *suffix, bool optional,
                           const struct fcnn_param **param)
{
    return find(g, layer, suffix, w->model->params, layer->first_param, layer->param_count,
                w->params, optional, param);
}

static const float *state(struct onnx_graph *g, const struct onnx_weights *w,
                          const struct fcnn_layer *layer, const char *suffix,
                          const struct fcnn_param **param)
{
    return find(g, layer, suffix, w->model->states, layer->first_state, layer->state_count,
                w->state, false, param);
}

/* A parameter stored as it is, under its Keras name. */
static void initializer_as_is(struct onnx_graph *g, const struct fcnn_param *p,
                              const float *data)
{
    int64_t dims[4];
    for (int d = 0; d < p->ndim; d++)
        dims[d] = p->shape[d];
    onnx_graph_initializer(g, p->name, p->ndim, dims, data);
}

/* An activation on the running value, named "<layer>/<Op>". Softmax normalises the
 * channels: the last axis of NHWC or of features, axis 1 of NCHW. */
static int activation(struct onnx_graph *g, const struct fcnn_layer *layer,
                      enum fcnn_activation act)
{
    static const char *const ops[] = {
        [FCNN_ACT_RELU] = "Relu", [FCNN_ACT_SIGMOID] = "Sigmoid", [FCNN_ACT_TANH] = "Tanh",
        [FCNN_ACT_SOFTMAX] = "Softmax",
    };
    if (act == FCNN_ACT_NONE)
        return FCNN_OK;
    if ((int)act < 0 || (size_t)act >= sizeof ops / sizeof ops[0] || !ops[act])
        return onnx_graph_fail(g, fcnn_error(FCNN_ERR_UNSUPPORTED, "ONNX export: layer %s: "
                                             "activation %d has no ONNX mapping", layer->name,
                                             (int)act));
    char name[ONNX_NAME_SIZE];
    struct onnx_node *n = onnx_graph_node(g, ops[act], named(name, layer, ops[act]), g->shape);
    if (act == FCNN_ACT_SOFTMAX)
        onnx_node_int(g, n, "axis", g->shape.ndim == 3 && g->layout == ONNX_NCHW ? 1 : -1);
    return FCNN_OK;
}

/* Window attributes shared by Conv and the pools. ONNX's pads are [top, left, bottom,
 * right]: Keras's "same" may pad one more after than before, which ONNX says exactly
 * (no auto_pad, whose SAME_UPPER rounding would have to match TensorFlow's). */
static void window(struct onnx_graph *g, struct onnx_node *n, int kh, int kw, int sh, int sw,
                   int top, int left, int bottom, int right)
{
    onnx_node_ints(g, n, "kernel_shape", 2, (const int64_t[]){ kh, kw });
    onnx_node_ints(g, n, "strides", 2, (const int64_t[]){ sh, sw });
    onnx_node_ints(g, n, "pads", 4, (const int64_t[]){ top, left, bottom, right });
}

/* --- the mappings --- */

/* Conv(x, W[out,in,kh,kw], B) then its activation. */
static int map_conv2d(struct onnx_graph *g, const struct fcnn_layer *layer,
                      const struct onnx_weights *w)
{
    const struct fcnn_param *kernel, *bias;
    const float *k = weight(g, w, layer, "kernel", false, &kernel);
    const float *b = weight(g, w, layer, "bias", true, &bias);
    if (!k)
        return g->failed;
    const struct fcnn_conv2d_params *c = &layer->p.conv;
    char name[ONNX_NAME_SIZE];
    onnx_graph_layout(g, ONNX_NCHW, layer->name);
    onnx_graph_initializer_oihw(g, kernel->name, kernel->shape, k);
    if (b)
        initializer_as_is(g, bias, b);
    struct onnx_node *n = onnx_graph_node(g, "Conv", named(name, layer, "Conv"), layer->out);
    onnx_node_input(g, n, kernel->name);
    if (b)
        onnx_node_input(g, n, bias->name);
    window(g, n, kernel->shape[0], kernel->shape[1], c->sh, c->sw, c->pad_top, c->pad_left,
           c->pad_bottom, c->pad_right);
    return activation(g, layer, layer->activation);
}

/* MaxPool ignores padded positions and AveragePool with count_include_pad=0 divides by
 * the real ones: TensorFlow's rules, which fcnn follows. */
static int pool(struct onnx_graph *g, const struct fcnn_layer *layer, const char *op)
{
    const struct fcnn_pool_params *p = &layer->p.pool;
    char name[ONNX_NAME_SIZE];
    onnx_graph_layout(g, ONNX_NCHW, layer->name);
    struct onnx_node *n = onnx_graph_node(g, op, named(name, layer, op), layer->out);
    window(g, n, p->ph, p->pw, p->sh, p->sw, p->pad_top, p->pad_left, p->pad_bottom,
           p->pad_right);
    if (!strcmp(op, "AveragePool"))
        onnx_node_int(g, n, "count_include_pad", 0);
    return FCNN_OK;
}

static int map_maxpool2d(struct onnx_graph *g, const struct fcnn_layer *layer,
                         const struct onnx_weights *w)
{
    (void)w;
    return pool(g, layer, "MaxPool");
}

static int map_avgpool2d(struct onnx_graph *g, const struct fcnn_layer *layer,
                         const struct onnx_weights *w)
{
    (void)w;
    return pool(g, layer, "AveragePool");
}

/* GlobalAveragePool gives [N,C,1,1]; Flatten makes it Keras's [N,C]. */
static int map_global_avgpool2d(struct onnx_graph *g, const struct fcnn_layer *layer,
                                const struct onnx_weights *w)
{
    (void)w;
    char name[ONNX_NAME_SIZE];
    onnx_graph_layout(g, ONNX_NCHW, layer->name);
    onnx_graph_node(g, "GlobalAveragePool", named(name, layer, "GlobalAveragePool"),
                    (struct fcnn_shape){ 3, { 1, 1, layer->out.dims[0] } });
    struct onnx_node *n = onnx_graph_node(g, "Flatten", named(name, layer, "Flatten"),
                                          layer->out);
    onnx_node_int(g, n, "axis", 1);
    return FCNN_OK;
}

/* Flatten in NHWC order, as Keras flattens: the Dense kernel's rows are (h, w, c). */
static int map_flatten(struct onnx_graph *g, const struct fcnn_layer *layer,
                       const struct onnx_weights *w)
{
    (void)w;
    char name[ONNX_NAME_SIZE];
    onnx_graph_layout(g, ONNX_NHWC, layer->name);
    struct onnx_node *n = onnx_graph_node(g, "Flatten", named(name, layer, "Flatten"),
                                          layer->out);
    onnx_node_int(g, n, "axis", 1);
    return FCNN_OK;
}

/* Gemm(x[N,in], kernel[in,units], bias[units]): Keras's kernel needs no transpose. */
static int map_dense(struct onnx_graph *g, const struct fcnn_layer *layer,
                     const struct onnx_weights *w)
{
    const struct fcnn_param *kernel, *bias;
    const float *k = weight(g, w, layer, "kernel", false, &kernel);
    const float *b = weight(g, w, layer, "bias", true, &bias);
    if (!k)
        return g->failed;
    if (g->shape.ndim != 1)
        return onnx_graph_fail(g, fcnn_error(FCNN_ERR_UNSUPPORTED, "ONNX export: Dense layer %s "
                                             "on a %d-D input has no Gemm mapping", layer->name,
                                             g->shape.ndim));
    char name[ONNX_NAME_SIZE];
    initializer_as_is(g, kernel, k);
    if (b)
        initializer_as_is(g, bias, b);
    struct onnx_node *n = onnx_graph_node(g, "Gemm", named(name, layer, "Gemm"), layer->out);
    onnx_node_input(g, n, kernel->name);
    if (b)
        onnx_node_input(g, n, bias->name);
    return activation(g, layer, layer->p.dense.act);
}

/* Activation(relu|sigmoid|tanh|softmax); linear adds nothing. */
static int map_activation(struct onnx_graph *g, const struct fcnn_layer *layer,
                          const struct onnx_weights *w)
{
    (void)w;
    return activation(g, layer, layer->p.act);
}

/* BatchNormalization in inference form: (x - moving_mean) / sqrt(moving_variance +
 * epsilon) * gamma + beta over the channels, which ONNX expects on axis 1: NCHW for a
 * feature map, [N, C] as it is for features. */
static int map_batchnorm(struct onnx_graph *g, const struct fcnn_layer *layer,
                         const struct onnx_weights *w)
{
    const struct fcnn_param *gamma, *beta, *mean, *variance;
    const float *gd = weight(g, w, layer, "gamma", false, &gamma);
    const float *bd = weight(g, w, layer, "beta", false, &beta);
    const float *md = state(g, w, layer, "moving_mean", &mean);
    const float *vd = state(g, w, layer, "moving_variance", &variance);
    if (!gd || !bd || !md || !vd)
        return g->failed;
    char name[ONNX_NAME_SIZE];
    onnx_graph_layout(g, ONNX_NCHW, layer->name);
    initializer_as_is(g, gamma, gd);
    initializer_as_is(g, beta, bd);
    initializer_as_is(g, mean, md);
    initializer_as_is(g, variance, vd);
    struct onnx_node *n = onnx_graph_node(g, "BatchNormalization",
                                          named(name, layer, "BatchNormalization"), layer->out);
    onnx_node_input(g, n, gamma->name);
    onnx_node_input(g, n, beta->name);
    onnx_node_input(g, n, mean->name);
    onnx_node_input(g, n, variance->name);
    onnx_node_float(g, n, "epsilon", layer->p.batchnorm.epsilon);
    return FCNN_OK;
}

/* Dropout is the identity at inference: no node at all. */
static int map_dropout(struct onnx_graph *g, const struct fcnn_layer *layer,
                       const struct onnx_weights *w)
{
    (void)g, (void)layer, (void)w;
    return FCNN_OK;
}

static const struct onnx_mapping mappings[] = {
    { "Conv2D", map_conv2d },
    { "MaxPooling2D", map_maxpool2d },
    { "AveragePooling2D", map_avgpool2d },
    { "GlobalAveragePooling2D", map_global_avgpool2d },
    { "Flatten", map_flatten },
    { "Dense", map_dense },
    { "Activation", map_activation },
    { "Dropout", map_dropout },
    { "BatchNormalization", map_batchnorm },
};

const struct onnx_mapping *onnx_mapping_find(const char *class_name)
{
    for (size_t i = 0; i < sizeof mappings / sizeof mappings[0]; i++)
        if (strcmp(mappings[i].class_name, class_name) == 0)
            return &mappings[i];
    return NULL;
}
