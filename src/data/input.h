/* What a trained model needs to know about its inputs to read new images exactly as in
 * training: the sample shape, the scaling of the bytes, and the class names. Checkpoints
 * record it; --predict reads it back. */
#ifndef FCNN_INPUT_H
#define FCNN_INPUT_H

#include "data/classes.h"

/* The one input scaling fcnn applies (load_batch multiplies by the float nearest 1/255);
 * recorded by name so that a reader can refuse another. */
#define FCNN_INPUT_SCALE "1/255"

struct fcnn_input_info {
    int rows, cols, channels;
    struct fcnn_class_names names; /* names.count is the class count */
};

void fcnn_input_info_free(struct fcnn_input_info *info);

#endif
