/* A convolution and the max pooling right after it as one op in evaluation passes
 * (network_pool.c). Private to the network executor. */
#ifndef FCNN_NETWORK_POOL_H
#define FCNN_NETWORK_POOL_H

#include <stdbool.h>

#include "nn/network.h"

/* Runs the evaluation forward of layer l and the MaxPooling2D after it as one
 * conv2d_pool_fwd when l is a Conv2D (alone or with the BatchNormalization and ReLU folded
 * into it) that such a pooling follows and the backend can run the call: *last is then
 * the pooling's index, the last layer the op stood for. Otherwise *last is -1, nothing
 * ran, and the caller runs the layers one by one. */
int fcnn_pool_forward(struct fcnn_network *net, int l, int n, int *last);

/* P when `layer` is a MaxPooling2D of P x P windows at stride P without padding, else 0. */
int fcnn_plain_pool_size(const struct fcnn_layer *layer);

#endif
