/* The protobuf wire format, decoder side, for the tests. Every length is checked against
 * the bytes that remain, every field's wire type against what the ONNX schema says. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/onnx_proto.h"
#include "onnx-decode.h"

struct span {
    const uint8_t *p, *end;
};

struct field {
    int number, wire;
    uint64_t value;     /* varint, or fixed32 bits */
    struct span bytes;  /* length-delimited */
};

static int bad(const char *what)
{
    fprintf(stderr, "onnx-decode: %s\n", what);
    return -1;
}

static int varint(struct span *s, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (s->p >= s->end)
            return bad("truncated varint");
        uint8_t byte = *s->p++;
        v |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return bad("varint longer than 10 bytes");
}

/* 1: a field read; 0: the end of the message; -1: malformed. */
static int next(struct span *s, struct field *f)
{
    if (s->p == s->end)
        return 0;
    uint64_t key;
    if (varint(s, &key))
        return -1;
    memset(f, 0, sizeof *f);
    f->number = (int)(key >> 3);
    f->wire = (int)(key & 7);
    if (f->number == 0)
        return bad("field number 0");
    switch (f->wire) {
    case PB_WIRE_VARINT:
        return varint(s, &f->value) ? -1 : 1;
    case PB_WIRE_FIXED32:
        if (s->end - s->p < 4)
            return bad("truncated fixed32");
        for (int i = 0; i < 4; i++)
            f->value |= (uint64_t)s->p[i] << (8 * i);
        s->p += 4;
        return 1;
    case PB_WIRE_FIXED64:
        if (s->end - s->p < 8)
            return bad("truncated fixed64");
        for (int i = 0; i < 8; i++)
            f->value |= (uint64_t)s->p[i] << (8 * i);
        s->p += 8;
        return 1;
    case PB_WIRE_LEN: {
        uint64_t len;
        if (varint(s, &len))
            return -1;
        if (len > (uint64_t)(s->end - s->p))
            return bad("length past the end of the message");
        f->bytes = (struct span){ s->p, s->p + len };
        s->p += len;
        return 1;
    }
    default:
        return bad("unknown wire type");
    }
}

static int want(const struct field *f, int wire, const char *what)
{
    if (f->wire != wire) {
        fprintf(stderr, "onnx-decode: %s has wire type %d, not %d\n", what, f->wire, wire);
        return -1;
    }
    return 0;
}

static int string(const struct field *f, char *out, size_t size, const char *what)
{
    if (want(f, PB_WIRE_LEN, what))
        return -1;
    size_t n = (size_t)(f->bytes.end - f->bytes.p);
    if (n >= size)
        return bad("string too long for the test's buffers");
    memcpy(out, f->bytes.p, n);
    out[n] = '\0';
    return 0;
}

static int int_field(const struct field *f, int64_t *out, const char *what)
{
    if (want(f, PB_WIRE_VARINT, what))
        return -1;
    *out = (int64_t)f->value;
    return 0;
}

/* Repeated int64: one varint per field, or packed in one length-delimited field. */
static int ints_field(const struct field *f, int64_t *out, int *count, int max, const char *what)
{
    if (f->wire == PB_WIRE_VARINT) {
        if (*count == max)
            return bad("too many values");
        out[(*count)++] = (int64_t)f->value;
        return 0;
    }
    if (want(f, PB_WIRE_LEN, what))
        return -1;
    struct span s = f->bytes;
    while (s.p < s.end) {
        uint64_t v;
        if (varint(&s, &v))
            return -1;
        if (*count == max)
            return bad("too many values");
        out[(*count)++] = (int64_t)v;
    }
    return 0;
}

static int decode_attr(struct span s, struct t_attr *a)
{
    struct field f;
    int r;
    while ((r = next(&s, &f)) == 1) {
        int bad_field = 0;
        switch (f.number) {
        case ONNX_ATTR_NAME: bad_field = string(&f, a->name, sizeof a->name, "attribute name"); break;
        case ONNX_ATTR_TYPE: bad_field = int_field(&f, &a->type, "attribute type"); break;
        case ONNX_ATTR_I: bad_field = int_field(&f, &a->i, "attribute i"); break;
        case ONNX_ATTR_F: {
            bad_field = want(&f, PB_WIRE_FIXED32, "attribute f");
            uint32_t bits = (uint32_t)f.value;
            memcpy(&a->f, &bits, sizeof a->f);
            break;
        }
        case ONNX_ATTR_INTS:
            bad_field = ints_field(&f, a->ints, &a->int_count, 16, "attribute ints");
            break;
        default: break;
        }
        if (bad_field)
            return -1;
    }
    return r;
}

static int decode_node(struct span s, struct t_node *n)
{
    struct field f;
    int r;
    while ((r = next(&s, &f)) == 1) {
        int bad_field = 0;
        switch (f.number) {
        case ONNX_NODE_INPUT:
            if (n->input_count == 8)
                return bad("too many node inputs");
            bad_field = string(&f, n->inputs[n->input_count++], T_NAME, "node input");
            break;
        case ONNX_NODE_OUTPUT:
            if (n->output_count == 4)
                return bad("too many node outputs");
            bad_field = string(&f, n->outputs[n->output_count++], T_NAME, "node output");
            break;
        case ONNX_NODE_NAME: bad_field = string(&f, n->name, T_NAME, "node name"); break;
        case ONNX_NODE_OP_TYPE: bad_field = string(&f, n->op_type, T_NAME, "op_type"); break;
        case ONNX_NODE_ATTRIBUTE:
            if (n->attr_count == 8)
                return bad("too many attributes");
            bad_field = want(&f, PB_WIRE_LEN, "attribute") ||
                        decode_attr(f.bytes, &n->attrs[n->attr_count++]);
            break;
        default: break;
        }
        if (bad_field)
            return -1;
    }
    return r;
}

static int decode_tensor(struct span s, struct t_tensor *t)
{
    struct field f;
    int r;
    while ((r = next(&s, &f)) == 1) {
        int bad_field = 0;
        switch (f.number) {
        case ONNX_TENSOR_DIMS: bad_field = ints_field(&f, t->dims, &t->ndim, 8, "dims"); break;
        case ONNX_TENSOR_DATA_TYPE: bad_field = int_field(&f, &t->data_type, "data_type"); break;
        case ONNX_TENSOR_NAME: bad_field = string(&f, t->name, T_NAME, "tensor name"); break;
        case ONNX_TENSOR_RAW_DATA:
            bad_field = want(&f, PB_WIRE_LEN, "raw_data");
            t->raw = f.bytes.p;
            t->raw_size = (size_t)(f.bytes.end - f.bytes.p);
            break;
        case ONNX_TENSOR_FLOAT_DATA:
            return bad("float_data: the writer stores raw_data");
        default: break;
        }
        if (bad_field)
            return -1;
    }
    return r;
}

/* ValueInfoProto { name, type: TypeProto { tensor_type { elem_type, shape { dim* } } } } */
static int decode_dim(struct span s, struct t_value *v)
{
    struct field f;
    int r;
    if (v->ndim == 8)
        return bad("too many dimensions");
    int d = v->ndim++;
    while ((r = next(&s, &f)) == 1) {
        if (f.number == ONNX_DIM_VALUE && int_field(&f, &v->dims[d], "dim_value"))
            return -1;
        if (f.number == ONNX_DIM_PARAM && string(&f, v->params[d], T_NAME, "dim_param"))
            return -1;
    }
    return r;
}

static int decode_value(struct span s, struct t_value *v)
{
    struct field f, g, h, k;
    int r;
    while ((r = next(&s, &f)) == 1) {
        if (f.number == ONNX_VALUE_NAME && string(&f, v->name, T_NAME, "value name"))
            return -1;
        if (f.number != ONNX_VALUE_TYPE)
            continue;
        if (want(&f, PB_WIRE_LEN, "value type"))
            return -1;
        struct span type = f.bytes;
        while ((r = next(&type, &g)) == 1) {
            if (g.number != ONNX_TYPE_TENSOR_TYPE)
                continue;
            if (want(&g, PB_WIRE_LEN, "tensor_type"))
                return -1;
            struct span tensor = g.bytes;
            while ((r = next(&tensor, &h)) == 1) {
                if (h.number == ONNX_TYPE_TENSOR_ELEM_TYPE &&
                    int_field(&h, &v->elem_type, "elem_type"))
                    return -1;
                if (h.number != ONNX_TYPE_TENSOR_SHAPE)
                    continue;
                if (want(&h, PB_WIRE_LEN, "shape"))
                    return -1;
                struct span shape = h.bytes;
                while ((r = next(&shape, &k)) == 1)
                    if (k.number == ONNX_SHAPE_DIM &&
                        (want(&k, PB_WIRE_LEN, "dim") || decode_dim(k.bytes, v)))
                        return -1;
                if (r < 0)
                    return -1;
            }
            if (r < 0)
                return -1;
        }
        if (r < 0)
            return -1;
    }
    return r;
}

static int decode_graph(struct span s, struct t_model *m)
{
    struct field f;
    int r;
    while ((r = next(&s, &f)) == 1) {
        if (f.number != ONNX_GRAPH_NAME && f.number != ONNX_GRAPH_DOC_STRING &&
            want(&f, PB_WIRE_LEN, "graph field"))
            return -1;
        switch (f.number) {
        case ONNX_GRAPH_NAME:
            if (string(&f, m->graph_name, T_NAME, "graph name"))
                return -1;
            break;
        case ONNX_GRAPH_NODE:
            if (m->node_count == T_MAX || decode_node(f.bytes, &m->nodes[m->node_count++]))
                return -1;
            break;
        case ONNX_GRAPH_INITIALIZER:
            if (m->init_count == T_MAX || decode_tensor(f.bytes, &m->inits[m->init_count++]))
                return -1;
            break;
        case ONNX_GRAPH_INPUT:
            if (m->input_count == 4 || decode_value(f.bytes, &m->inputs[m->input_count++]))
                return -1;
            break;
        case ONNX_GRAPH_OUTPUT:
            if (m->output_count == 4 || decode_value(f.bytes, &m->outputs[m->output_count++]))
                return -1;
            break;
        default: break;
        }
    }
    return r;
}

static int decode_model(struct span s, struct t_model *m)
{
    struct field f, g;
    int r;
    while ((r = next(&s, &f)) == 1) {
        switch (f.number) {
        case ONNX_MODEL_IR_VERSION:
            if (int_field(&f, &m->ir_version, "ir_version"))
                return -1;
            break;
        case ONNX_MODEL_PRODUCER_NAME:
            if (string(&f, m->producer, T_NAME, "producer_name"))
                return -1;
            break;
        case ONNX_MODEL_GRAPH:
            if (want(&f, PB_WIRE_LEN, "graph") || decode_graph(f.bytes, m))
                return -1;
            break;
        case ONNX_MODEL_OPSET_IMPORT: {
            if (want(&f, PB_WIRE_LEN, "opset_import"))
                return -1;
            m->opset_count++;
            struct span o = f.bytes;
            while ((r = next(&o, &g)) == 1) {
                if (g.number == ONNX_OPSETID_DOMAIN &&
                    string(&g, m->opset_domain, T_NAME, "opset domain"))
                    return -1;
                if (g.number == ONNX_OPSETID_VERSION &&
                    int_field(&g, &m->opset_version, "opset version"))
                    return -1;
            }
            if (r < 0)
                return -1;
            break;
        }
        case ONNX_MODEL_METADATA_PROPS: {
            if (want(&f, PB_WIRE_LEN, "metadata_props") || m->meta_count == 16)
                return -1;
            int i = m->meta_count++;
            struct span e = f.bytes;
            while ((r = next(&e, &g)) == 1) {
                if (g.number == ONNX_ENTRY_KEY && string(&g, m->meta[i][0], 512, "key"))
                    return -1;
                if (g.number == ONNX_ENTRY_VALUE && string(&g, m->meta[i][1], 512, "value"))
                    return -1;
            }
            if (r < 0)
                return -1;
            break;
        }
        default: break;
        }
    }
    return r;
}

int t_onnx_read(const char *path, struct t_model *m)
{
    memset(m, 0, sizeof *m);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "onnx-decode: cannot open %s\n", path);
        return -1;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    m->bytes = malloc(size > 0 ? (size_t)size : 1);
    m->size = size > 0 ? (size_t)size : 0;
    int ok = m->bytes && fread(m->bytes, 1, m->size, f) == m->size;
    fclose(f);
    if (!ok)
        return bad("cannot read the file");
    return decode_model((struct span){ m->bytes, m->bytes + m->size }, m) < 0 ? -1 : 0;
}

void t_onnx_free(struct t_model *m)
{
    free(m->bytes);
    m->bytes = NULL;
}

const struct t_tensor *t_onnx_init(const struct t_model *m, const char *name)
{
    for (int i = 0; i < m->init_count; i++)
        if (!strcmp(m->inits[i].name, name))
            return &m->inits[i];
    return NULL;
}

const struct t_attr *t_onnx_attr(const struct t_node *n, const char *name)
{
    for (int i = 0; i < n->attr_count; i++)
        if (!strcmp(n->attrs[i].name, name))
            return &n->attrs[i];
    return NULL;
}

const char *t_onnx_meta(const struct t_model *m, const char *key)
{
    for (int i = 0; i < m->meta_count; i++)
        if (!strcmp(m->meta[i][0], key))
            return m->meta[i][1];
    return NULL;
}
