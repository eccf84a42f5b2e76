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

/* The data's input description, unless a checkpoint's is already in `input`: the shape
 * and classes every model of the run (reference, --model, checkpoint) is built for, and
 * what the checkpoints this run writes record. */
int fcnn_run_fill_input(const struct fcnn_data *data, struct fcnn_input_info *input);

/* --predict: prepares each file as training did, runs the model with the checkpoint's
 * weights, prints the top classes per file. */
int fcnn_run_predict(struct fcnn_backend *be, const struct fcnn_model *model,
                     const struct fcnn_checkpoint *ck, const struct fcnn_input_info *input,
                     const struct fcnn_options *opt, FILE *out);

#endif
