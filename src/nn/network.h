/* A model placed on a backend: every buffer a run needs, allocated once, and the forward,
 * loss and backward passes over n samples (n up to the capacity given at creation). */
#ifndef FCNN_NETWORK_H
#define FCNN_NETWORK_H

#include <stdbool.h>

#include "backend/backend.h"
#include "nn/model.h"
#include "core/rng.h"

/* A Conv2D or Dense layer with no activation of its own, followed by BatchNormalization
 * and optionally by Activation(relu): in evaluation the normalisation is an affine map per
 * output channel, so one convolution or matrix product with scaled weights and a bias
 * (and ReLU in its epilogue) computes all of them (nn/network_fold.c). */
struct fcnn_fold {
    int layer;        /* the Conv2D or Dense */
    int batchnorm;    /* the BatchNormalization right after it */
    int last;         /* the last layer the fold stands for: batchnorm, or its ReLU */
    struct fcnn_tensor kernel, bias; /* folded, in the network's fold arena */
};

struct fcnn_network {
    struct fcnn_backend *be;
    const struct fcnn_model *model;
    int capacity;       /* samples per forward pass */
    int train_capacity; /* samples per backward pass; 0: inference only */
    struct fcnn_buffer *params, *grads; /* flat arenas laid out as model->params says */
    struct fcnn_buffer *state;          /* non-trainable arena, as model->states says */
    struct fcnn_buffer *scratch;        /* what layers keep from forward to backward */
    struct fcnn_buffer *acts;           /* activation i: the input of layer i (i = 0..L) */
    struct fcnn_buffer *dacts;          /* and the loss gradient with respect to it */
    struct fcnn_buffer *labels;         /* i32 [capacity] */
    size_t act_offset[FCNN_MAX_LAYERS + 1], dact_offset[FCNN_MAX_LAYERS + 1];
    size_t scratch_offset[FCNN_MAX_LAYERS];
    /* Every parameter, gradient and state tensor with its shape, and pointers to them that
     * the layers receive as arrays (built once). */
    struct fcnn_tensor param_t[FCNN_MAX_PARAMS], grad_t[FCNN_MAX_PARAMS];
    struct fcnn_tensor state_t[FCNN_MAX_STATES];
    const struct fcnn_tensor *param_p[FCNN_MAX_PARAMS], *grad_p[FCNN_MAX_PARAMS];
    const struct fcnn_tensor *state_p[FCNN_MAX_STATES];
    uint64_t seed; /* this training step's: each random layer mixes in its index */
    /* Evaluation passes fold BatchNormalization into the layer before it (FCNN_FOLD_BN=0 or
     * fcnn_network_set_folding turn it off). The folded weights are recomputed before the
     * first evaluation pass after anything that may change parameters or moving
     * statistics: a training forward or backward pass, or setting either arena. */
    struct fcnn_buffer *folded;
    struct fcnn_fold folds[FCNN_MAX_LAYERS / 2];
    int fold_count;
    size_t fold_floats; /* the fold arena's size */
    bool fold_enabled, fold_stale;
    /* BatchNormalization runs the Activation(relu) right after it inside its own ops, in
     * every pass (FCNN_FUSE_BN_RELU=0 or fcnn_network_set_bn_relu_fusion turn it off). */
    bool fuse_bn_relu;
    /* Evaluation passes run a Conv2D (folded or not) and the MaxPooling2D after it as one
     * op where the backend can (FCNN_FUSE_POOL=0 or fcnn_network_set_pool_fusion turn it
     * off; nn/network_pool.c). */
    bool fuse_pool;
    /* Training passes run a BatchNormalization (with its fused ReLU) and the MaxPooling2D
     * after it as one op each way where the backend can (FCNN_FUSE_BN_POOL=0 or
     * fcnn_network_set_bn_pool_fusion turn it off): the pooling's input, the normalised
     * activations, is then never written. bn_pool_layer[l] is the pooling layer that
     * BatchNormalization l took in during the last training forward pass, or 0; the
     * backward pass follows it. */
    bool fuse_bn_pool;
    int bn_pool_layer[FCNN_MAX_LAYERS];
};

int fcnn_network_create(struct fcnn_backend *be, const struct fcnn_model *model, int capacity,
                        int train_capacity, struct fcnn_network **out);
void fcnn_network_destroy(struct fcnn_network *net);

/* Activation i for n samples ([n,h,w,c] or [n,features]); i = layer_count is the logits. */
struct fcnn_tensor fcnn_network_activation(const struct fcnn_network *net, int i, int n);
struct fcnn_tensor fcnn_network_input(const struct fcnn_network *net, int n);
struct fcnn_tensor fcnn_network_labels(const struct fcnn_network *net, int n);
/* The whole parameter or gradient arena as one flat f32 tensor (the optimizer's view). */
struct fcnn_tensor fcnn_network_param_arena(const struct fcnn_network *net);
struct fcnn_tensor fcnn_network_grad_arena(const struct fcnn_network *net);
/* Parameter tensor i of the model, with its own shape. */
struct fcnn_tensor fcnn_network_param(const struct fcnn_network *net, int i);

/* Forward pass over the n samples in the input tensor, in training mode (batch statistics,
 * moving statistics updated, dropout) or evaluation mode. */
int fcnn_network_forward(struct fcnn_network *net, int n, bool training);
/* The seed of the next training forward and backward (fcnn_model_is_random models). */
void fcnn_network_set_seed(struct fcnn_network *net, uint64_t seed);
/* Softmax cross-entropy of the logits against the labels: per-sample loss and prediction
 * into the given tensors, and (when `train`) the gradient of the batch's mean loss. */
int fcnn_network_loss(struct fcnn_network *net, int n, const struct fcnn_tensor *loss,
                      const struct fcnn_tensor *pred, bool train);
/* The same for n samples that are part of a batch of `total` split over processes: each
 * sample's gradient weighs 1/total, so the processes' gradients sum to the whole batch's. */
int fcnn_network_loss_part(struct fcnn_network *net, int n, int total,
                           const struct fcnn_tensor *loss, const struct fcnn_tensor *pred);
/* Backward pass after a training loss: fills the gradient arena. */
int fcnn_network_backward(struct fcnn_network *net, int n);
/* The same, calling `done(user, l)` as soon as layer l's parameter gradients are queued
 * (last layer first), so they can be sent on while earlier layers still run. */
int fcnn_network_backward_each(struct fcnn_network *net, int n,
                               int (*done)(void *user, int layer), void *user);

/* Folding BatchNormalization in evaluation passes (on unless FCNN_FOLD_BN=0): turns it on
 * or off for this network, and says how many layer runs an evaluation pass folds (0 when
 * off). Whoever writes the parameter or state arena other than through this interface or
 * an optimizer step after a backward pass calls fcnn_network_params_changed. */
void fcnn_network_set_folding(struct fcnn_network *net, bool on);
int fcnn_network_folded(const struct fcnn_network *net);
void fcnn_network_params_changed(struct fcnn_network *net);
/* BatchNormalization + ReLU as one op each way (on unless FCNN_FUSE_BN_RELU=0). The results
 * are those of the two layers apart, bit for bit on ref; a switch between a forward and
 * its backward pass is harmless (either backward reads only what both forwards write). */
void fcnn_network_set_bn_relu_fusion(struct fcnn_network *net, bool on);
void fcnn_network_set_bn_pool_fusion(struct fcnn_network *net, bool on);
/* A convolution and the max pooling after it as one op in evaluation passes (on unless
 * FCNN_FUSE_POOL=0, and where the backend runs conv2d_pool_fwd for the layers' shapes).
 * Bit for bit the layers' result on ref; within float rounding on other backends. */
void fcnn_network_set_pool_fusion(struct fcnn_network *net, bool on);

/* Host copies of the parameter arena (model->param_floats floats). */
int fcnn_network_set_params(struct fcnn_network *net, const float *host);
int fcnn_network_get_params(struct fcnn_network *net, float *host);

/* The non-trainable state arena (model->state_floats floats; BatchNormalization's moving
 * statistics), exposed as the parameter arena is, for checkpoints: the whole arena as one
 * flat f32 tensor, state tensor i with its shape (model->states[i] names it), and host
 * copies. A model without state has an empty arena: set and get do nothing. */
struct fcnn_tensor fcnn_network_state_arena(const struct fcnn_network *net);
struct fcnn_tensor fcnn_network_state(const struct fcnn_network *net, int i);
int fcnn_network_set_state(struct fcnn_network *net, const float *host);
int fcnn_network_get_state(struct fcnn_network *net, float *host);

/* Keras's initialisation into a host arena: Glorot-uniform kernels, drawn from rng in
 * parameter order; the others constant (biases and beta 0, gamma 1). */
void fcnn_model_init_params(const struct fcnn_model *model, struct fcnn_rng *rng, float *host);
/* The state arena's initial values (moving mean 0, moving variance 1). No randomness. */
void fcnn_model_init_state(const struct fcnn_model *model, float *host);

#endif
