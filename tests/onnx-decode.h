/* A protobuf decoder written for the tests, independent of the writer in src/io: it walks
 * the wire format itself and fills plain structs with the parts of an ONNX ModelProto the
 * tests check. It shares only onnx_proto.h's field numbers with the writer (those numbers
 * are the ONNX format itself, and protoc --decode_raw checks the bytes a second way). */
#ifndef FCNN_TESTS_ONNX_DECODE_H
#define FCNN_TESTS_ONNX_DECODE_H

#include <stddef.h>
#include <stdint.h>

#define T_NAME 128
#define T_MAX 128

struct t_attr {
    char name[T_NAME];
    int64_t type;
    int64_t i;
    float f;
    int64_t ints[16];
    int int_count;
};

struct t_node {
    char op_type[T_NAME], name[T_NAME];
    char inputs[8][T_NAME];
    int input_count;
    char outputs[4][T_NAME];
    int output_count;
    struct t_attr attrs[8];
    int attr_count;
};

struct t_tensor {
    char name[T_NAME];
    int64_t dims[8];
    int ndim;
    int64_t data_type;
    const uint8_t *raw; /* into the file buffer */
    size_t raw_size;
};

struct t_value {
    char name[T_NAME];
    int64_t elem_type;
    int ndim;
    int64_t dims[8];       /* 0 where the dimension is symbolic */
    char params[8][T_NAME]; /* the symbol, "" where the dimension is fixed */
};

struct t_model {
    int64_t ir_version;
    char producer[T_NAME];
    char opset_domain[T_NAME];
    int64_t opset_version;
    int opset_count;
    char graph_name[T_NAME];
    struct t_node nodes[T_MAX];
    int node_count;
    struct t_tensor inits[T_MAX];
    int init_count;
    struct t_value inputs[4], outputs[4];
    int input_count, output_count;
    char meta[16][2][512];
    int meta_count;
    uint8_t *bytes; /* the whole file */
    size_t size;
};

/* Reads and decodes `path`; returns 0, or -1 with a line on stderr saying what is wrong
 * (truncated varint, a length past the end, a wire type a field must not have, ...). */
int t_onnx_read(const char *path, struct t_model *m);
void t_onnx_free(struct t_model *m);

/* The node, initializer or metadata value with this name, or NULL. */
const struct t_tensor *t_onnx_init(const struct t_model *m, const char *name);
const struct t_attr *t_onnx_attr(const struct t_node *n, const char *name);
const char *t_onnx_meta(const struct t_model *m, const char *key);

#endif
