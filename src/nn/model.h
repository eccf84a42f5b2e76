/* A model's architecture: its layers, the shape each one produces, and where each
 * parameter lives in the flat parameter arena. Host-side description only; the device
 * side (buffers, forward, backward) is network.h. */
#ifndef FCNN_MODEL_H
#define FCNN_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "backend/backend.h"

#define FCNN_MAX_LAYERS 32
#define FCNN_MAX_PARAMS (2 * FCNN_MAX_LAYERS)

/* The shape of one sample (the batch dimension is left out, as Keras's "None"). */
struct fcnn_shape {
    int ndim;
    int dims[3]; /* [h, w, c] or [features] */
};

size_t fcnn_shape_count(const struct fcnn_shape *s);

/* One trainable tensor, named as Keras names it ("conv2d/kernel"). */
struct fcnn_param {
    char name[64];
    int ndim;
    int shape[4];
    size_t count;
    size_t offset;       /* in floats, into the parameter arena */
    int fan_in, fan_out; /* Glorot-uniform limits; both 0: initialised to zero (biases) */
};

struct fcnn_layer_type;

struct fcnn_layer {
    const struct fcnn_layer_type *type;
    char name[32]; /* "conv2d_1" */
    struct fcnn_shape in, out;
    union {
        struct fcnn_conv2d_params conv;
        struct fcnn_pool_params pool;
        enum fcnn_activation act;
    } p;
    enum fcnn_padding padding; /* Conv2D and the pools: Keras's padding argument */
    int first_param, param_count; /* its parameters in model->params */
};

/* The longest normalised model spec (see model_desc.h). */
#define FCNN_SPEC_SIZE 1024

struct fcnn_model {
    /* The normalised spec this model was built from, which checkpoints store; "" for a
     * model assembled by hand with the builders. */
    char spec[FCNN_SPEC_SIZE];
    struct fcnn_shape input;
    int classes;
    int layer_count;
    struct fcnn_layer layers[FCNN_MAX_LAYERS];
    int param_count;
    struct fcnn_param params[FCNN_MAX_PARAMS];
    size_t param_floats; /* every trainable parameter */
};

/* The model fcnn trains: Conv2D(32,3x3,same,ReLU) -> MaxPool 2 -> Conv2D(64,3x3,same,ReLU)
 * -> MaxPool 2 -> Flatten -> Dense(10), on 28x28x1 inputs. */
int fcnn_model_reference(struct fcnn_model *m);
/* One line: "conv2d(32,3x3,same,relu) maxpool(2) ... dense(10)". */
void fcnn_model_describe(const struct fcnn_model *m, char *out, size_t size);

/* Building blocks used by the layer files. */
void fcnn_model_init(struct fcnn_model *m, struct fcnn_shape input, int classes);
/* The name the next layer of `type` gets: "conv2d", then "conv2d_1", ... */
void fcnn_model_next_name(const struct fcnn_model *m, const struct fcnn_layer_type *type,
                          char *out, size_t size);
/* Appends a layer of `type` taking the current output shape; names it Keras's way. */
int fcnn_model_add_layer(struct fcnn_model *m, const struct fcnn_layer_type *type,
                         struct fcnn_shape out, struct fcnn_layer **layer);
int fcnn_model_add_param(struct fcnn_model *m, struct fcnn_layer *layer, const char *suffix,
                         int ndim, const int *shape, int fan_in, int fan_out);
/* The shape the next layer receives. */
struct fcnn_shape fcnn_model_output(const struct fcnn_model *m);

/* Layer constructors, one per layer file. */
/* Conv2D as Keras's: filters, kernel kh x kw, strides sh x sw, padding "valid" or "same"
 * (enum fcnn_padding), use_bias, and a fused activation. */
struct fcnn_conv2d_args {
    int filters, kh, kw, sh, sw;
    enum fcnn_padding padding;
    bool use_bias;
    enum fcnn_activation act;
};
int fcnn_add_conv2d(struct fcnn_model *m, const struct fcnn_conv2d_args *a);
/* MaxPooling2D and AveragePooling2D: pool ph x pw, strides sh x sw (Keras's default is
 * the pool size), padding. */
int fcnn_add_maxpool2d(struct fcnn_model *m, int ph, int pw, int sh, int sw,
                       enum fcnn_padding padding);
int fcnn_add_avgpool2d(struct fcnn_model *m, int ph, int pw, int sh, int sw,
                       enum fcnn_padding padding);
/* GlobalAveragePooling2D: [h, w, c] to [c]. */
int fcnn_add_global_avgpool2d(struct fcnn_model *m);
int fcnn_add_flatten(struct fcnn_model *m);
int fcnn_add_dense(struct fcnn_model *m, int units, bool use_bias, enum fcnn_activation act);
int fcnn_add_activation(struct fcnn_model *m, enum fcnn_activation act);
int fcnn_add_dropout(struct fcnn_model *m, float rate);
int fcnn_add_batchnorm(struct fcnn_model *m, float momentum, float epsilon);

#endif
