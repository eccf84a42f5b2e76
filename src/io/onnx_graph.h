/* An ONNX graph under construction: nodes, initializers, and the one running value that
 * fcnn's sequential models thread through them. The layer mappings (onnx_layers.c) append
 * nodes here; onnx_graph_encode turns the result into a ModelProto.
 *
 * Layout: fcnn is NHWC throughout, ONNX's Conv and pooling operators are NCHW. The graph
 * remembers how the running 4-D value is laid out and onnx_graph_layout inserts a
 * Transpose only where an operator needs the other one. */
#ifndef FCNN_ONNX_GRAPH_H
#define FCNN_ONNX_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "io/onnx_proto.h"
#include "io/protobuf.h"
#include "nn/model.h"

#define ONNX_NAME_SIZE 96
#define ONNX_MAX_NODE_INPUTS 5
#define ONNX_MAX_NODE_ATTRS 6
#define ONNX_MAX_ATTR_INTS 8

enum onnx_layout { ONNX_NHWC, ONNX_NCHW };

struct onnx_attr {
    char name[32];
    enum onnx_attribute_type type; /* INT, FLOAT or INTS */
    int64_t i;
    float f;
    int64_t ints[ONNX_MAX_ATTR_INTS];
    int int_count;
};

struct onnx_node {
    char op_type[32];
    char name[ONNX_NAME_SIZE];
    char inputs[ONNX_MAX_NODE_INPUTS][ONNX_NAME_SIZE];
    int input_count;
    char output[ONNX_NAME_SIZE];
    struct onnx_attr attrs[ONNX_MAX_NODE_ATTRS];
    int attr_count;
};

struct onnx_initializer {
    char name[ONNX_NAME_SIZE];
    int ndim;
    int64_t dims[4];
    float *data; /* owned copy, already in ONNX's layout */
    size_t count;
};

struct onnx_graph {
    struct onnx_node *nodes;
    int node_count, node_cap;
    struct onnx_initializer *inits;
    int init_count, init_cap;
    char value[ONNX_NAME_SIZE]; /* the tensor the next node reads */
    enum onnx_layout layout;    /* of `value`, when it is 4-D */
    struct fcnn_shape shape;    /* of `value` per sample, in Keras's (NHWC) terms */
    int failed;                 /* a status: the first error, kept */
};

/* An empty graph whose running value is the graph input `input`. */
void onnx_graph_init(struct onnx_graph *g, const char *input, struct fcnn_shape shape);
void onnx_graph_free(struct onnx_graph *g);

/* Appends a node reading the running value; its output, named `name` (unique in the
 * graph: a layer name and the op), becomes the running value with shape `out`. Returns
 * NULL (and records an error) when out of memory. */
struct onnx_node *onnx_graph_node(struct onnx_graph *g, const char *op_type, const char *name,
                                  struct fcnn_shape out);
/* More inputs (initializers, by name) and attributes of a node. */
void onnx_node_input(struct onnx_graph *g, struct onnx_node *n, const char *input);
void onnx_node_int(struct onnx_graph *g, struct onnx_node *n, const char *name, int64_t v);
void onnx_node_float(struct onnx_graph *g, struct onnx_node *n, const char *name, float v);
void onnx_node_ints(struct onnx_graph *g, struct onnx_node *n, const char *name, int count,
                    const int64_t *v);

/* Makes the running 4-D value NCHW or NHWC, with a Transpose named after `layer` when it
 * is not already. Values of other ranks have no layout and pass unchanged. */
void onnx_graph_layout(struct onnx_graph *g, enum onnx_layout want, const char *layer);

/* A float initializer, copied as given (row-major `dims`). */
void onnx_graph_initializer(struct onnx_graph *g, const char *name, int ndim,
                            const int64_t *dims, const float *data);
/* A Conv weight from fcnn's HWIO kernel [kh,kw,in,out]: stored OIHW [out,in,kh,kw]. */
void onnx_graph_initializer_oihw(struct onnx_graph *g, const char *name, const int shape[4],
                                 const float *hwio);

/* Records an error (the first wins) and returns it; for mappings that refuse a layer. */
int onnx_graph_fail(struct onnx_graph *g, int status);

/* The ModelProto: opset, producer, the graph with its input [N,H,W,C] (N dynamic) and the
 * running value renamed `output`, and `meta_count` metadata_props key/value pairs. */
int onnx_graph_encode(struct onnx_graph *g, const char *const (*meta)[2], int meta_count,
                      struct fcnn_shape input_shape, struct pb_buf *out);

#endif
