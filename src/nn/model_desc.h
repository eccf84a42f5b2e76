/* A model described from outside: the layers a user asked for, each a kind and its Keras
 * arguments, as both the --model spec parser and the Keras-JSON parser produce it. One
 * validator checks it (kinds, argument ranges, every shape by Keras's formulas, the final
 * classifier) and names the position of the first mistake; then the fcnn_add_* builders
 * turn it into a model. Its normalised spec is what checkpoints store. */
#ifndef FCNN_MODEL_DESC_H
#define FCNN_MODEL_DESC_H

#include <stdbool.h>
#include <stddef.h>

#include "nn/model.h"

enum fcnn_layer_kind {
    FCNN_LAYER_CONV2D,
    FCNN_LAYER_MAXPOOL2D,
    FCNN_LAYER_AVGPOOL2D,
    FCNN_LAYER_GLOBAL_AVGPOOL2D,
    FCNN_LAYER_FLATTEN,
    FCNN_LAYER_DENSE,
    FCNN_LAYER_ACTIVATION,
    FCNN_LAYER_DROPOUT,
    FCNN_LAYER_BATCHNORM,
    FCNN_LAYER_KIND_COUNT
};

/* The arguments a layer can have; each kind uses some (see fcnn_layer_desc). */
enum fcnn_desc_arg {
    FCNN_ARG_LAYER,      /* the layer itself */
    FCNN_ARG_UNITS,      /* Conv2D filters, Dense units */
    FCNN_ARG_SIZE,       /* Conv2D kernel_size, pooling pool_size */
    FCNN_ARG_STRIDES,
    FCNN_ARG_PADDING,
    FCNN_ARG_ACTIVATION,
    FCNN_ARG_USE_BIAS,
    FCNN_ARG_RATE,
    FCNN_ARG_MOMENTUM,
    FCNN_ARG_EPSILON,
    FCNN_ARG_COUNT
};

/* Where a description came from, so an error names the place the user wrote. */
enum fcnn_desc_source { FCNN_DESC_SPEC, FCNN_DESC_JSON };

struct fcnn_layer_desc {
    enum fcnn_layer_kind kind;
    int units;                   /* filters or units */
    int size[2];                 /* kernel or pool window, rows x columns */
    int strides[2];
    enum fcnn_padding padding;
    enum fcnn_activation activation;
    bool use_bias;
    double rate;                 /* Dropout */
    double momentum, epsilon;    /* BatchNormalization */
    /* Where each argument was written: a spec column (1-based; 0: defaulted), or, for
     * JSON, the layer's path ("config.layers[3]") with the argument's Keras key. */
    int column[FCNN_ARG_COUNT];
    char path[48];
    /* JSON: the input shape Keras built the layer for (build_config.input_shape, batch
     * dimension left out), which must be the shape fcnn infers for it. */
    bool has_built_input;
    struct fcnn_shape built_input;
};

struct fcnn_model_desc {
    enum fcnn_desc_source source;
    char origin[256];            /* "--model" or the JSON file's name */
    bool has_input;              /* JSON: the InputLayer's batch_shape */
    struct fcnn_shape input;
    int input_column;            /* ... and where it was written */
    int count;
    struct fcnn_layer_desc layers[FCNN_MAX_LAYERS];
};

/* A layer of `kind` with Keras's defaults; required arguments (filters, units, rate...)
 * are left 0 for the parser to fill. */
void fcnn_layer_desc_defaults(struct fcnn_layer_desc *l, enum fcnn_layer_kind kind);

/* The spec name ("conv2d") and Keras class ("Conv2D") of a kind. */
const char *fcnn_layer_kind_spec_name(enum fcnn_layer_kind kind);
const char *fcnn_layer_kind_class_name(enum fcnn_layer_kind kind);
/* Keras's name of an argument of a kind ("filters", "kernel_size", "pool_size"...). */
const char *fcnn_desc_arg_name(enum fcnn_layer_kind kind, enum fcnn_desc_arg arg);
const char *fcnn_activation_keras_name(enum fcnn_activation act);
/* -1 when `name` is no activation fcnn has. */
int fcnn_activation_from_name(const char *name);

/* Records an error at argument `arg` of layer `l` ("--model column 12: ..." or
 * "model.json: config.layers[3].config.strides: ..."), returning FCNN_ERR_INVALID. */
int fcnn_desc_error(const struct fcnn_model_desc *d, const struct fcnn_layer_desc *l,
                    enum fcnn_desc_arg arg, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Checks every layer on an input of `input` and `classes` classes: arguments in range,
 * each layer fits the shape before it (Keras's output-size formulas), the last Dense has
 * `classes` units and only a softmax or linear activation may follow it, softmax nowhere
 * else. Output shapes go to `shapes` (count entries) when not NULL. */
int fcnn_model_desc_validate(const struct fcnn_model_desc *d, struct fcnn_shape input,
                             int classes, struct fcnn_shape *shapes);

/* Validates, then builds the model with the fcnn_add_* builders. */
int fcnn_model_desc_build(const struct fcnn_model_desc *d, struct fcnn_shape input, int classes,
                          struct fcnn_model *m);

/* The normalised one-line spec: every layer with the arguments that differ from Keras's
 * defaults, in a fixed order ("conv2d(32,3,relu,padding=same) maxpool(2) ...").
 * Two descriptions of the same network give the same text. Returns FCNN_ERR_INVALID if
 * it does not fit in `size`. */
int fcnn_model_desc_spec(const struct fcnn_model_desc *d, char *out, size_t size);

/* The reference model as a spec, the one `fcnn` trains without --model. */
#define FCNN_REFERENCE_SPEC                                                                    \
    "conv2d(32,3,relu,padding=same) maxpool(2) conv2d(64,3,relu,padding=same) maxpool(2) "    \
    "flatten dense(10)"

/* Parses a spec string (model_spec.c); errors name `origin` (NULL: "--model") and the
 * column. */
int fcnn_model_spec_parse(const char *spec, const char *origin, struct fcnn_model_desc *d);
/* Reads Keras 3's model.to_json() of a Sequential model (model_json.c; needs jansson). */
int fcnn_model_json_read(const char *path, struct fcnn_model_desc *d);
/* --model's argument: a file name ending in ".json" is Keras JSON, anything else a spec. */
int fcnn_model_desc_parse(const char *text, struct fcnn_model_desc *d);

#endif
