/* Weights-only files: a trained model for use elsewhere, as a standard safetensors file
 * holding the model's parameters under Keras's names and shapes and nothing of the run
 * that trained it (no optimizer state, no history, no generator). Its __metadata__ says
 * what a user needs to rebuild the network: the architecture, the input shape, layout
 * and scaling, and what the output means. fcnn --load reads these files for --eval and
 * --predict; --resume refuses them (there is no run to continue). */
#ifndef FCNN_WEIGHTS_H
#define FCNN_WEIGHTS_H

#include "nn/model.h"

/* The "format" metadata value of a weights-only file (a full checkpoint says "fcnn"). */
#define FCNN_WEIGHTS_FORMAT "fcnn-weights"
#define FCNN_WEIGHTS_FORMAT_VERSION 1

/* Writes the parameters in `params` and the non-trainable state in `state` (the model's
 * arena layouts; `state` may be NULL for a model without state) to `path`, atomically.
 * `epoch` is how many epochs they were trained for, recorded for information. */
int fcnn_weights_save(const char *path, const struct fcnn_model *model, const float *params,
                      const float *state, int epoch);

#endif
