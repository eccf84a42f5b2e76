/* Folding BatchNormalization into the Conv2D or Dense layer before it, for evaluation
 * passes (network_fold.c). Private to the network executor. */
#ifndef FCNN_NETWORK_FOLD_H
#define FCNN_NETWORK_FOLD_H

#include "nn/network.h"

/* Finds the layer runs an evaluation pass can fold and allocates their folded kernels
 * and biases; reads FCNN_FOLD_BN (0: never fold). */
int fcnn_fold_plan(struct fcnn_network *net);
/* The fold starting at layer l, or NULL: where an evaluation pass runs one op instead of
 * layers l .. fold->last. */
const struct fcnn_fold *fcnn_fold_at(const struct fcnn_network *net, int l);
/* Recomputes every folded weight when the parameters or moving statistics may have
 * changed since they were last computed. */
int fcnn_fold_refresh(struct fcnn_network *net);
/* Runs a fold's one op over n samples, recomputing every folded weight first when the
 * parameters or moving statistics may have changed since they were last computed. */
int fcnn_fold_forward(struct fcnn_network *net, const struct fcnn_fold *fold, int n);

#endif
