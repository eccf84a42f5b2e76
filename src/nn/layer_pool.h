/* The shape rule the windowed pooling layers share (MaxPooling2D, AveragePooling2D). */
#ifndef FCNN_LAYER_POOL_H
#define FCNN_LAYER_POOL_H

#include "nn/model.h"

/* Checks a ph x pw pool with strides sh x sw and `padding` against the model's current
 * output (one error line naming the layer `name`, of Keras class `class_name`) and gives
 * the op's parameters and the layer's output shape. */
int fcnn_pool_layer_geometry(const struct fcnn_model *m, const char *name,
                             const char *class_name, int ph, int pw, int sh, int sw,
                             enum fcnn_padding padding, struct fcnn_pool_params *params,
                             struct fcnn_shape *out);
/* "MaxPooling2D(2)" for Keras's defaults (square, strides = pool, valid), else
 * "MaxPooling2D(3x3,strides=2x2,same)". */
void fcnn_pool_layer_describe(const struct fcnn_layer *layer, const char *class_name,
                              char *out, size_t size);

#endif
