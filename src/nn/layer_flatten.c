/* Flatten: NHWC activations are already laid out as [N, H*W*C] rows, so Flatten is a view
 * with no pass of its own, and the dense kernel that follows indexes features in NHWC
 * order exactly as Keras's does. */
#include <config.h>

#include <stdio.h>

#include "nn/layer.h"

static void flatten_describe(const struct fcnn_layer *layer, const struct fcnn_model *model,
                             char *out, size_t size)
{
    (void)layer;
    (void)model;
    snprintf(out, size, "Flatten");
}

static const struct fcnn_layer_type flatten_type = {
    .class_name = "Flatten",
    .base_name = "flatten",
    .is_view = true,
    .describe = flatten_describe,
};

int fcnn_add_flatten(struct fcnn_model *m)
{
    struct fcnn_shape in = fcnn_model_output(m);
    struct fcnn_layer *layer;
    return fcnn_model_add_layer(m, &flatten_type,
                                (struct fcnn_shape){ 1, { (int)fcnn_shape_count(&in) } }, &layer);
}
