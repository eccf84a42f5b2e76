/* The ONNX exporter: input scaling, each layer through its mapping, the model's metadata,
 * and an atomic write of the encoded ModelProto (core/file.c: a fresh temporary file,
 * never over a device, FIFO, directory or symbolic link). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "core/status.h"
#include "io/onnx.h"
#include "io/onnx_graph.h"
#include "io/onnx_layers.h"
#include "io/output_kind.h"
#include "nn/layer.h"

/* The scaling fcnn applies to uint8 pixels, as the graph's first node. */
static void scale_input(struct onnx_graph *g)
{
    const float scale = FCNN_ONNX_INPUT_SCALE;
    onnx_graph_initializer(g, "input_scale", 0, NULL, &scale);
    struct onnx_node *n = onnx_graph_node(g, "Mul", "input_scaled", g->shape);
    onnx_node_input(g, n, "input_scale");
}

static int build(struct onnx_graph *g, const struct fcnn_model *model, const float *params,
                 const float *state)
{
    const struct onnx_weights w = { model, params, state };
    onnx_graph_init(g, "input", model->input);
    scale_input(g);
    for (int i = 0; i < model->layer_count && !g->failed; i++) {
        const struct fcnn_layer *layer = &model->layers[i];
        const struct onnx_mapping *m = onnx_mapping_find(layer->type->class_name);
        if (!m)
            return onnx_graph_fail(g, fcnn_error(FCNN_ERR_UNSUPPORTED, "ONNX export: layer %s "
                                                 "(%s) has no ONNX mapping", layer->name,
                                                 layer->type->class_name));
        m->map(g, layer, &w);
    }
    /* The softmax fcnn fuses with its loss: the description says the model ends in it,
     * and no layer computed it (unless a layer kind does so itself). */
    if (!g->failed && fcnn_model_ends_in_softmax(model) &&
        (!g->node_count || strcmp(g->nodes[g->node_count - 1].op_type, "Softmax") != 0)) {
        char name[ONNX_NAME_SIZE];
        snprintf(name, sizeof name, "%s/Softmax", model->layers[model->layer_count - 1].name);
        struct onnx_node *n = onnx_graph_node(g, "Softmax", name, g->shape);
        onnx_node_int(g, n, "axis", g->shape.ndim == 3 && g->layout == ONNX_NCHW ? 1 : -1);
    }
    /* A model that ends on a feature map hands it back in its own NHWC layout. */
    onnx_graph_layout(g, ONNX_NHWC, "output");
    return g->failed;
}

int fcnn_onnx_export(const char *path, const struct fcnn_model *model, const float *params,
                     const float *state)
{
    struct onnx_graph g;
    struct pb_buf encoded = { 0 };
    int status = build(&g, model, params, state);
    if (status == FCNN_OK) {
        char description[1024];
        fcnn_model_describe(model, description, sizeof description);
        const char *const meta[][2] = {
            { "model", description },
            { "input_layout", "NHWC" },
            { "input_scaling", "x * (1/255) inside the graph: feed raw pixel values 0..255" },
            { "output", fcnn_model_output_kind(model) },
        };
        status = onnx_graph_encode(&g, meta, (int)(sizeof meta / sizeof meta[0]),
                                   model->input, &encoded);
    }
    if (status == FCNN_OK)
        status = fcnn_file_write_all(path, "--export-onnx", encoded.data, encoded.len);
    pb_free(&encoded);
    onnx_graph_free(&g);
    return status;
}
