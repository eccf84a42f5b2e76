/* --export-onnx and --export-weights: writing a trained model for use outside fcnn. */
#ifndef FCNN_CLI_EXPORT_H
#define FCNN_CLI_EXPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "cli/cli.h"
#include "io/checkpoint.h"
#include "nn/model.h"

/* Whether the options ask for an export at all. */
bool fcnn_export_requested(const struct fcnn_options *o);

/* Writes the files the options ask for from `params` and `state` (the model's arena
 * layouts), and one line each on `out` (NULL: silent). `epoch`: epochs trained. */
int fcnn_export_params(const struct fcnn_options *o, const struct fcnn_model *model,
                       const float *params, const float *state, int epoch, FILE *out);

/* The same, from a checkpoint opened for `model` (--load FILE with an export: no backend,
 * no data, no training). */
int fcnn_export_checkpoint(const struct fcnn_options *o, const struct fcnn_model *model,
                           const struct fcnn_checkpoint *ck, FILE *out);

#endif
