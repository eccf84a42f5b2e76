/* What each layer type provides: its Keras names, and forward and backward passes written
 * entirely in backend ops. One file per layer type implements one of these tables. */
#ifndef FCNN_LAYER_H
#define FCNN_LAYER_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "backend/backend.h"
#include "nn/model.h"

/* The tensors one pass of a layer works on, for n samples. */
struct fcnn_layer_io {
    const struct fcnn_tensor *x, *y;     /* input and output activations */
    const struct fcnn_tensor *dy;        /* gradient of the loss w.r.t. y; may be overwritten */
    const struct fcnn_tensor *dx;        /* gradient w.r.t. x; NULL for the first layer */
    const struct fcnn_tensor *const *param; /* layer->param_count parameters, model order */
    const struct fcnn_tensor *const *grad;  /* and their gradients (backward only) */
    const struct fcnn_tensor *const *state; /* layer->state_count non-trainable tensors */
    const struct fcnn_tensor *scratch;   /* layer->scratch_floats f32, or NULL */
    bool training; /* forward: training (batch statistics, dropout) or evaluation */
    /* BatchNormalization with the Activation(relu) after it fused in: y is the ReLU's
     * output and dy the gradient with respect to it. */
    bool relu;
    /* BatchNormalization in a training pass with the MaxPooling2D of P x P windows at
     * stride P after it (and after its ReLU) fused in: P, else 0. y (forward) and dy
     * (backward) are then the pooling's. */
    int pool;
    uint32_t seed; /* training: this layer's seed for this step (Dropout's mask) */
};

struct fcnn_layer_type {
    const char *class_name; /* Keras's class: "Conv2D" */
    const char *base_name;  /* Keras's default name: "conv2d", then "conv2d_1", ... */
    /* A view layer's output is its input seen with another shape (Flatten): it has no
     * passes, and the network gives y the same bytes as x. */
    bool is_view;
    /* Draws random numbers in training (io->seed). */
    bool is_random;
    /* A short spec for logs and checkpoint metadata: "Conv2D(32,3x3,same,relu)". */
    void (*describe)(const struct fcnn_layer *layer, const struct fcnn_model *model, char *out,
                     size_t size);
    int (*forward)(const struct fcnn_layer *layer, struct fcnn_backend *be,
                   const struct fcnn_layer_io *io);
    int (*backward)(const struct fcnn_layer *layer, struct fcnn_backend *be,
                    const struct fcnn_layer_io *io);
};

/* Whether the backend runs BatchNormalization `layer`'s training ops with io->pool fused
 * in, for io's tensors (io->y the pooled output). */
bool fcnn_batchnorm_pool_supported(const struct fcnn_layer *layer, struct fcnn_backend *be,
                                   const struct fcnn_layer_io *io);

/* Whether `layer` is a real layer (not a view such as Flatten) of the Keras class named. */
static inline bool fcnn_layer_is(const struct fcnn_layer *layer, const char *class_name)
{
    return !layer->type->is_view && strcmp(layer->type->class_name, class_name) == 0;
}

#endif
