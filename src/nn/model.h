/* A model's architecture: its layers, the shape each one produces, and where each
 * parameter lives in the flat parameter arena. Host-side description only; the device
 * side (buffers, forward, backward) is network.h. */
#ifndef FCNN_MODEL_H
#define FCNN_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "backend/backend.h"

#define FCNN_MAX_LAYERS 64
/* Parameter and state tensors of the whole model; a layer has any number of them. */
#define FCNN_MAX_PARAMS (4 * FCNN_MAX_LAYERS)
#define FCNN_MAX_STATES (2 * FCNN_MAX_LAYERS)

/* The shape of one sample (the batch dimension is left out, as Keras's "None"). */
struct fcnn_shape {
    int ndim;
    int dims[3]; /* [h, w, c] or [features] */
};

size_t fcnn_shape_count(const struct fcnn_shape *s);

/* One trainable parameter tensor, or one non-trainable state tensor (BatchNormalization's
 * moving statistics), named as Keras names it ("conv2d/kernel"). */
struct fcnn_param {
    char name[64];
    int ndim;
    int shape[4];
    size_t count;
    size_t offset;       /* in floats, into the parameter (or state) arena */
    int fan_in, fan_out; /* Glorot-uniform limits; both 0: every element is `init` */
    float init;          /* 0 for biases and beta, 1 for gamma and moving_variance */
};

/* Dense's settings: Keras's units come from the layer's output shape. */
struct fcnn_dense_layer_params {
    enum fcnn_activation act; /* FCNN_ACT_SOFTMAX only in the model's last layer */
    bool use_bias;
};

struct fcnn_layer_type;

struct fcnn_layer {
    const struct fcnn_layer_type *type;
    char name[32]; /* "conv2d_1" */
    struct fcnn_shape in, out;
    union {
        struct fcnn_conv2d_params conv;
        struct fcnn_pool_params pool;
        enum fcnn_activation act;                /* Activation */
        struct fcnn_dense_layer_params dense;
        float dropout_rate;
        struct fcnn_batchnorm_params batchnorm;
    } p;
    enum fcnn_padding padding; /* Conv2D and the pools: Keras's padding argument */
    /* Conv2D's Keras activation: the convolution op fuses ReLU; sigmoid and tanh run
     * after it, in place, as Dense's do. */
    enum fcnn_activation activation;
    int first_param, param_count; /* its trainable tensors in model->params */
    int first_state, state_count; /* its non-trainable tensors in model->states */
    /* Floats the layer keeps from a training forward to its backward (BatchNormalization's
     * batch mean and inverse deviation), in the network's scratch arena. */
    size_t scratch_floats;
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
    /* Non-trainable state, in an arena of its own that no optimizer sees; checkpoints
     * save and load it beside the parameters. */
    int state_count;
    struct fcnn_param states[FCNN_MAX_STATES];
    size_t state_floats;
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
/* A parameter whose every element starts at `value` (gamma: 1). */
int fcnn_model_add_param_filled(struct fcnn_model *m, struct fcnn_layer *layer,
                                const char *suffix, int ndim, const int *shape, float value);
/* A non-trainable state tensor of the layer, every element starting at `value`. */
int fcnn_model_add_state(struct fcnn_model *m, struct fcnn_layer *layer, const char *suffix,
                         int ndim, const int *shape, float value);
/* Whether a training pass of the model draws random numbers (Dropout): the training loop
 * then gives the network a seed for each step from the run's one generator. */
bool fcnn_model_is_random(const struct fcnn_model *m);
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
/* Keras's Dense(units, activation, use_bias). A softmax activation is accepted on the
 * model's last layer only and is merged with the cross-entropy loss: the model's outputs
 * stay logits (pre-softmax), exactly what Keras's softmax + from_logits=False computes. */
int fcnn_add_dense(struct fcnn_model *m, int units, bool use_bias, enum fcnn_activation act);
/* Activation(act): relu, sigmoid, tanh; linear is a view (no pass), softmax as Dense's. */
int fcnn_add_activation(struct fcnn_model *m, enum fcnn_activation act);
/* Dropout(rate), 0 <= rate < 1: inverted dropout in training, the identity in evaluation. */
int fcnn_add_dropout(struct fcnn_model *m, float rate);
/* BatchNormalization(momentum, epsilon) over the last axis (Keras: 0.99, 1e-3): gamma and
 * beta trainable, moving_mean and moving_variance non-trainable state. */
int fcnn_add_batchnorm(struct fcnn_model *m, float momentum, float epsilon);

#endif
