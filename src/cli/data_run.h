/* The data side of a run, between the options and the library: the input description
 * a checkpoint records, loading the data it or the options name, the model that fits
 * them, and --predict on image files. */
#ifndef FCNN_DATA_RUN_H
#define FCNN_DATA_RUN_H

#include <stdio.h>

#include "backend/backend.h"
#include "cli/cli.h"
#include "data/input.h"
#include "data/source.h"
#include "io/checkpoint.h"
#include "nn/model.h"

/* The input description of checkpoint `path` (NULL: none, *input left empty). A
 * checkpoint from before it was recorded is 28x28x1 Fashion-MNIST. */
int fcnn_run_read_input(const char *path, struct fcnn_input_info *input);

/* Loads the data the options name; `input` (may be empty) holds the classes of a loaded
 * model. */
int fcnn_run_load_data(const struct fcnn_options *opt, const struct fcnn_input_info *input,
                       FILE *progress, struct fcnn_data *data);

/* The reference model for the checkpoint's input, or else the data's (which then fills
 * `input`, for the checkpoints this run writes). */
int fcnn_run_choose_model(const struct fcnn_options *opt, const struct fcnn_data *data,
                          struct fcnn_input_info *input, struct fcnn_model *model);

/* --predict: prepares each file as training did, runs the model with the checkpoint's
 * weights, prints the top classes per file. */
int fcnn_run_predict(struct fcnn_backend *be, const struct fcnn_model *model,
                     const struct fcnn_checkpoint *ck, const struct fcnn_input_info *input,
                     const struct fcnn_options *opt, FILE *out);

#endif
