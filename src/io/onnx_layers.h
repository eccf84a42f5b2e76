/* How each fcnn layer kind becomes ONNX operators: one mapping per Keras layer class,
 * all of them in onnx_layers.c. A layer kind without a row cannot be exported. */
#ifndef FCNN_ONNX_LAYERS_H
#define FCNN_ONNX_LAYERS_H

#include "io/onnx_graph.h"
#include "nn/model.h"

/* The trained tensors, in the model's arena layouts: parameters, and non-trainable state
 * (BatchNormalization's moving statistics; NULL for a model without state). */
struct onnx_weights {
    const struct fcnn_model *model;
    const float *params;
    const float *state;
};

struct onnx_mapping {
    const char *class_name; /* the layer type's Keras class, "Conv2D" */
    /* Appends the layer's nodes and initializers to `g`; a layer whose settings have no
     * ONNX equivalent returns an error with one line naming it. */
    int (*map)(struct onnx_graph *g, const struct fcnn_layer *layer,
               const struct onnx_weights *w);
};

/* The mapping of a Keras layer class, or NULL. */
const struct onnx_mapping *onnx_mapping_find(const char *class_name);

#endif
