/* Building an ONNX graph in memory, then encoding it as a ModelProto. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "io/onnx_graph.h"

void onnx_graph_init(struct onnx_graph *g, const char *input, struct fcnn_shape shape)
{
    memset(g, 0, sizeof *g);
    snprintf(g->value, sizeof g->value, "%s", input);
    g->layout = ONNX_NHWC;
    g->shape = shape;
}

void onnx_graph_free(struct onnx_graph *g)
{
    for (int i = 0; i < g->init_count; i++)
        free(g->inits[i].data);
    free(g->inits);
    free(g->nodes);
    memset(g, 0, sizeof *g);
}

int onnx_graph_fail(struct onnx_graph *g, int status)
{
    if (!g->failed)
        g->failed = status;
    return status;
}

/* Room for one more element of a growable array. */
static void *grow(struct onnx_graph *g, void *array, int count, int *cap, size_t size)
{
    if (count < *cap)
        return array;
    int new_cap = *cap ? 2 * *cap : 16;
    void *bigger = realloc(array, (size_t)new_cap * size);
    if (!bigger) {
        onnx_graph_fail(g, fcnn_error(FCNN_ERR_NOMEM, "out of memory building the ONNX graph"));
        return NULL;
    }
    *cap = new_cap;
    return bigger;
}

static void copy_name(struct onnx_graph *g, char *dst, const char *src)
{
    if (snprintf(dst, ONNX_NAME_SIZE, "%s", src) >= ONNX_NAME_SIZE)
        onnx_graph_fail(g, fcnn_error(FCNN_ERR_INVALID, "ONNX name too long: '%s'", src));
}

struct onnx_node *onnx_graph_node(struct onnx_graph *g, const char *op_type, const char *name,
                                  struct fcnn_shape out)
{
    struct onnx_node *nodes = grow(g, g->nodes, g->node_count, &g->node_cap, sizeof *nodes);
    if (!nodes)
        return NULL;
    g->nodes = nodes;
    struct onnx_node *n = &nodes[g->node_count++];
    memset(n, 0, sizeof *n);
    snprintf(n->op_type, sizeof n->op_type, "%s", op_type);
    copy_name(g, n->name, name);
    copy_name(g, n->output, name);
    copy_name(g, n->inputs[0], g->value);
    n->input_count = 1;
    copy_name(g, g->value, name);
    g->shape = out;
    return n;
}

void onnx_node_input(struct onnx_graph *g, struct onnx_node *n, const char *input)
{
    if (!n)
        return;
    if (n->input_count == ONNX_MAX_NODE_INPUTS) {
        onnx_graph_fail(g, fcnn_error(FCNN_ERR_INVALID, "ONNX node %s: too many inputs", n->name));
        return;
    }
    copy_name(g, n->inputs[n->input_count++], input);
}

static struct onnx_attr *add_attr(struct onnx_graph *g, struct onnx_node *n, const char *name,
                                  enum onnx_attribute_type type)
{
    if (!n)
        return NULL;
    if (n->attr_count == ONNX_MAX_NODE_ATTRS) {
        onnx_graph_fail(g, fcnn_error(FCNN_ERR_INVALID, "ONNX node %s: too many attributes",
                                      n->name));
        return NULL;
    }
    struct onnx_attr *a = &n->attrs[n->attr_count++];
    memset(a, 0, sizeof *a);
    snprintf(a->name, sizeof a->name, "%s", name);
    a->type = type;
    return a;
}

void onnx_node_int(struct onnx_graph *g, struct onnx_node *n, const char *name, int64_t v)
{
    struct onnx_attr *a = add_attr(g, n, name, ONNX_ATTR_TYPE_INT);
    if (a)
        a->i = v;
}

void onnx_node_float(struct onnx_graph *g, struct onnx_node *n, const char *name, float v)
{
    struct onnx_attr *a = add_attr(g, n, name, ONNX_ATTR_TYPE_FLOAT);
    if (a)
        a->f = v;
}

void onnx_node_ints(struct onnx_graph *g, struct onnx_node *n, const char *name, int count,
                    const int64_t *v)
{
    if (count > ONNX_MAX_ATTR_INTS) {
        onnx_graph_fail(g, fcnn_error(FCNN_ERR_INVALID, "ONNX attribute %s: too many values",
                                      name));
        return;
    }
    struct onnx_attr *a = add_attr(g, n, name, ONNX_ATTR_TYPE_INTS);
    if (a) {
        memcpy(a->ints, v, sizeof(int64_t) * (size_t)count);
        a->int_count = count;
    }
}

void onnx_graph_layout(struct onnx_graph *g, enum onnx_layout want, const char *layer)
{
    if (g->shape.ndim != 3 || g->layout == want)
        return;
    static const int64_t to_nchw[4] = { 0, 3, 1, 2 }, to_nhwc[4] = { 0, 2, 3, 1 };
    char name[ONNX_NAME_SIZE];
    snprintf(name, sizeof name, "%s/to_%s", layer, want == ONNX_NCHW ? "nchw" : "nhwc");
    struct onnx_node *n = onnx_graph_node(g, "Transpose", name, g->shape);
    onnx_node_ints(g, n, "perm", 4, want == ONNX_NCHW ? to_nchw : to_nhwc);
    g->layout = want;
}

static struct onnx_initializer *add_init(struct onnx_graph *g, const char *name, int ndim,
                                         const int64_t *dims)
{
    struct onnx_initializer *inits = grow(g, g->inits, g->init_count, &g->init_cap,
                                          sizeof *inits);
    if (!inits)
        return NULL;
    g->inits = inits;
    struct onnx_initializer *t = &inits[g->init_count];
    memset(t, 0, sizeof *t);
    copy_name(g, t->name, name);
    t->ndim = ndim;
    t->count = 1;
    for (int d = 0; d < ndim; d++) {
        t->dims[d] = dims[d];
        t->count *= (size_t)dims[d];
    }
    t->data = malloc(sizeof(float) * (t->count ? t->count : 1));
    if (!t->data) {
        onnx_graph_fail(g, fcnn_error(FCNN_ERR_NOMEM, "out of memory for ONNX tensor %s", name));
        return NULL;
    }
    g->init_count++;
    return t;
}

void onnx_graph_initializer(struct onnx_graph *g, const char *name, int ndim,
                            const int64_t *dims, const float *data)
{
    struct onnx_initializer *t = add_init(g, name, ndim, dims);
    if (t)
        memcpy(t->data, data, sizeof(float) * t->count);
}

void onnx_graph_initializer_oihw(struct onnx_graph *g, const char *name, const int shape[4],
                                 const float *hwio)
{
    int kh = shape[0], kw = shape[1], ci = shape[2], co = shape[3];
    struct onnx_initializer *t = add_init(g, name, 4, (const int64_t[]){ co, ci, kh, kw });
    if (!t)
        return;
    for (int y = 0; y < kh; y++)
        for (int x = 0; x < kw; x++)
            for (int i = 0; i < ci; i++)
                for (int o = 0; o < co; o++)
                    t->data[((size_t)(o * ci + i) * kh + y) * kw + x] =
                        hwio[((size_t)(y * kw + x) * ci + i) * co + o];
}

/* --- encoding --- */

static void encode_attr(struct pb_buf *node, const struct onnx_attr *a)
{
    struct pb_buf m = { 0 };
    pb_field_string(&m, ONNX_ATTR_NAME, a->name);
    switch (a->type) {
    case ONNX_ATTR_TYPE_INT: pb_field_int(&m, ONNX_ATTR_I, a->i); break;
    case ONNX_ATTR_TYPE_FLOAT: pb_field_float(&m, ONNX_ATTR_F, a->f); break;
    default: /* INTS: repeated int64, one field per value as proto2 writes it */
        for (int i = 0; i < a->int_count; i++)
            pb_field_int(&m, ONNX_ATTR_INTS, a->ints[i]);
        break;
    }
    pb_field_int(&m, ONNX_ATTR_TYPE, a->type);
    pb_field_message(node, ONNX_NODE_ATTRIBUTE, &m);
}

static void encode_node(struct pb_buf *graph, const struct onnx_node *n)
{
    struct pb_buf m = { 0 };
    for (int i = 0; i < n->input_count; i++)
        pb_field_string(&m, ONNX_NODE_INPUT, n->inputs[i]);
    pb_field_string(&m, ONNX_NODE_OUTPUT, n->output);
    pb_field_string(&m, ONNX_NODE_NAME, n->name);
    pb_field_string(&m, ONNX_NODE_OP_TYPE, n->op_type);
    for (int i = 0; i < n->attr_count; i++)
        encode_attr(&m, &n->attrs[i]);
    pb_field_message(graph, ONNX_GRAPH_NODE, &m);
}

static void encode_initializer(struct pb_buf *graph, const struct onnx_initializer *t)
{
    struct pb_buf m = { 0 };
    for (int d = 0; d < t->ndim; d++)
        pb_field_int(&m, ONNX_TENSOR_DIMS, t->dims[d]);
    pb_field_int(&m, ONNX_TENSOR_DATA_TYPE, ONNX_DTYPE_FLOAT);
    pb_field_string(&m, ONNX_TENSOR_NAME, t->name);
    pb_field_floats_raw(&m, ONNX_TENSOR_RAW_DATA, t->data, t->count);
    pb_field_message(graph, ONNX_GRAPH_INITIALIZER, &m);
}

/* A float tensor value [N, dims...] with N dynamic. */
static void encode_value_info(struct pb_buf *graph, int field, const char *name,
                              struct fcnn_shape shape)
{
    struct pb_buf dims = { 0 }, tensor = { 0 }, type = { 0 }, value = { 0 }, dim = { 0 };
    pb_field_string(&dim, ONNX_DIM_PARAM, "N");
    pb_field_message(&dims, ONNX_SHAPE_DIM, &dim);
    for (int d = 0; d < shape.ndim; d++) {
        pb_field_int(&dim, ONNX_DIM_VALUE, shape.dims[d]);
        pb_field_message(&dims, ONNX_SHAPE_DIM, &dim);
    }
    pb_field_int(&tensor, ONNX_TYPE_TENSOR_ELEM_TYPE, ONNX_DTYPE_FLOAT);
    pb_field_message(&tensor, ONNX_TYPE_TENSOR_SHAPE, &dims);
    pb_field_message(&type, ONNX_TYPE_TENSOR_TYPE, &tensor);
    pb_field_string(&value, ONNX_VALUE_NAME, name);
    pb_field_message(&value, ONNX_VALUE_TYPE, &type);
    pb_field_message(graph, field, &value);
}

int onnx_graph_encode(struct onnx_graph *g, const char *const (*meta)[2], int meta_count,
                      struct fcnn_shape input_shape, struct pb_buf *out)
{
    /* The graph's output is the running value: rename the node that makes it, or pass the
     * input through when no layer produced a node (a model of Dropouts alone). */
    if (!g->node_count || strcmp(g->nodes[g->node_count - 1].output, g->value) != 0)
        onnx_graph_node(g, "Identity", g->value, g->shape);
    if (g->failed)
        return g->failed;
    struct onnx_node *last = &g->nodes[g->node_count - 1];
    snprintf(last->output, sizeof last->output, "output");
    snprintf(g->value, sizeof g->value, "output");

    struct pb_buf graph = { 0 }, opset = { 0 };
    for (int i = 0; i < g->node_count; i++)
        encode_node(&graph, &g->nodes[i]);
    pb_field_string(&graph, ONNX_GRAPH_NAME, "fcnn");
    for (int i = 0; i < g->init_count; i++)
        encode_initializer(&graph, &g->inits[i]);
    encode_value_info(&graph, ONNX_GRAPH_INPUT, "input", input_shape);
    encode_value_info(&graph, ONNX_GRAPH_OUTPUT, "output", g->shape);

    *out = (struct pb_buf){ 0 };
    pb_field_int(out, ONNX_MODEL_IR_VERSION, ONNX_IR_VERSION);
    pb_field_string(out, ONNX_MODEL_PRODUCER_NAME, "fcnn");
    pb_field_string(out, ONNX_MODEL_PRODUCER_VERSION, PACKAGE_VERSION);
    pb_field_message(out, ONNX_MODEL_GRAPH, &graph);
    pb_field_string(&opset, ONNX_OPSETID_DOMAIN, "");
    pb_field_int(&opset, ONNX_OPSETID_VERSION, ONNX_OPSET_VERSION);
    pb_field_message(out, ONNX_MODEL_OPSET_IMPORT, &opset);
    for (int i = 0; i < meta_count; i++) {
        struct pb_buf entry = { 0 };
        pb_field_string(&entry, ONNX_ENTRY_KEY, meta[i][0]);
        pb_field_string(&entry, ONNX_ENTRY_VALUE, meta[i][1]);
        pb_field_message(out, ONNX_MODEL_METADATA_PROPS, &entry);
    }
    if (out->failed) {
        pb_free(out);
        return onnx_graph_fail(g, fcnn_error(FCNN_ERR_NOMEM, "out of memory encoding ONNX"));
    }
    return FCNN_OK;
}
