/* Every layer kind's ONNX mapping, in one table. fcnn's tensors are NHWC and its
 * convolution kernels HWIO; ONNX's Conv and pooling want NCHW activations and OIHW
 * weights. So: 4-D activations are transposed to NCHW before the first operator that
 * needs it (and back to NHWC before Flatten, so the features reach Dense in the order its
 * kernel rows were trained in, H then W then C); Conv kernels are stored transposed to
 * OIHW; Dense kernels [in, units] are used as they are by Gemm. */
#include <config.h>

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

/* The layer's parameter "<layer>/<suffix>" and its data; NULL (and an error recorded)
 * when the layer has no such parameter. */
static const float *weight(struct onnx_graph *g, const struct onnx_weights *w,
                           const struct fcnn_layer *layer, const char *suffix,
                           const struct fcnn_param **param)
{
    char name[ONNX_NAME_SIZE];
    named(name, layer, suffix);
    for (int i = layer->first_param; i < layer->first_param + layer->param_count; i++) {
        const struct fcnn_param *p = &w->model->params[i];
        if (strcmp(p->name, name) == 0) {
            *param = p;
            return w->params + p->offset;
        }
    }
    onnx_graph_fail(g, fcnn_error(FCNN_ERR_INVALID, "ONNX export: layer %s has no parameter %s",
                                  layer->name, name));
    return NULL;
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

/* The activation that follows a layer's main operator, on the running value. */
static int activation(struct onnx_graph *g, const struct fcnn_layer *layer,
                      enum fcnn_activation act)
{
    char name[ONNX_NAME_SIZE];
    switch (act) {
    case FCNN_ACT_NONE:
        return FCNN_OK;
    case FCNN_ACT_RELU:
        onnx_graph_node(g, "Relu", named(name, layer, "Relu"), g->shape);
        return FCNN_OK;
    }
    return onnx_graph_fail(g, fcnn_error(FCNN_ERR_UNSUPPORTED, "ONNX export: layer %s: "
                                         "activation %d has no ONNX mapping", layer->name, act));
}

/* --- the mappings --- */

/* Conv(x, W[out,in,kh,kw], B) with explicit pads [top, left, bottom, right], then its
 * activation. */
static int map_conv2d(struct onnx_graph *g, const struct fcnn_layer *layer,
                      const struct onnx_weights *w)
{
    const struct fcnn_param *kernel, *bias;
    const float *k = weight(g, w, layer, "kernel", &kernel);
    const float *b = weight(g, w, layer, "bias", &bias);
    if (!k || !b)
        return g->failed;
    const struct fcnn_conv2d_params *c = &layer->p.conv;
    char name[ONNX_NAME_SIZE];
    onnx_graph_layout(g, ONNX_NCHW, layer->name);
    onnx_graph_initializer_oihw(g, kernel->name, kernel->shape, k);
    initializer_as_is(g, bias, b);
    struct onnx_node *n = onnx_graph_node(g, "Conv", named(name, layer, "Conv"), layer->out);
    onnx_node_input(g, n, kernel->name);
    onnx_node_input(g, n, bias->name);
    onnx_node_ints(g, n, "kernel_shape", 2, (const int64_t[]){ kernel->shape[0], kernel->shape[1] });
    onnx_node_ints(g, n, "strides", 2, (const int64_t[]){ c->stride, c->stride });
    onnx_node_ints(g, n, "pads", 4, (const int64_t[]){ c->pad, c->pad, c->pad, c->pad });
    return activation(g, layer, c->act);
}

static int map_maxpool2d(struct onnx_graph *g, const struct fcnn_layer *layer,
                         const struct onnx_weights *w)
{
    (void)w;
    const struct fcnn_pool_params *p = &layer->p.pool;
    char name[ONNX_NAME_SIZE];
    onnx_graph_layout(g, ONNX_NCHW, layer->name);
    struct onnx_node *n = onnx_graph_node(g, "MaxPool", named(name, layer, "MaxPool"),
                                          layer->out);
    onnx_node_ints(g, n, "kernel_shape", 2, (const int64_t[]){ p->size, p->size });
    onnx_node_ints(g, n, "strides", 2, (const int64_t[]){ p->stride, p->stride });
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
    const float *k = weight(g, w, layer, "kernel", &kernel);
    const float *b = weight(g, w, layer, "bias", &bias);
    if (!k || !b)
        return g->failed;
    if (g->shape.ndim != 1)
        return onnx_graph_fail(g, fcnn_error(FCNN_ERR_UNSUPPORTED, "ONNX export: Dense layer %s "
                                             "on a %d-D input has no Gemm mapping", layer->name,
                                             g->shape.ndim));
    char name[ONNX_NAME_SIZE];
    initializer_as_is(g, kernel, k);
    initializer_as_is(g, bias, b);
    struct onnx_node *n = onnx_graph_node(g, "Gemm", named(name, layer, "Gemm"), layer->out);
    onnx_node_input(g, n, kernel->name);
    onnx_node_input(g, n, bias->name);
    return activation(g, layer, layer->p.act);
}

static const struct onnx_mapping mappings[] = {
    { "Conv2D", map_conv2d },
    { "MaxPooling2D", map_maxpool2d },
    { "Flatten", map_flatten },
    { "Dense", map_dense },
};

const struct onnx_mapping *onnx_mapping_find(const char *class_name)
{
    for (size_t i = 0; i < sizeof mappings / sizeof mappings[0]; i++)
        if (strcmp(mappings[i].class_name, class_name) == 0)
            return &mappings[i];
    return NULL;
}
