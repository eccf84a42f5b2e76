/* The interpreter: a table of named values, each node's operator evaluated in turn. */
#include <config.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/onnx_proto.h"
#include "onnx-run.h"

struct value {
    char name[T_NAME];
    int ndim;
    int64_t dims[4];
    double *data;
};

static struct value values[2 * T_MAX];
static int value_count;

static int fail(const char *what, const char *node)
{
    fprintf(stderr, "onnx-run: %s: %s\n", node, what);
    return -1;
}

static size_t count_of(const struct value *v)
{
    size_t n = 1;
    for (int d = 0; d < v->ndim; d++)
        n *= (size_t)v->dims[d];
    return n;
}

static struct value *find(const char *name)
{
    for (int i = 0; i < value_count; i++)
        if (!strcmp(values[i].name, name))
            return &values[i];
    return NULL;
}

static struct value *add(const char *name, int ndim, const int64_t *dims)
{
    if (value_count == 2 * T_MAX)
        return NULL;
    struct value *v = &values[value_count++];
    snprintf(v->name, sizeof v->name, "%s", name);
    v->ndim = ndim;
    for (int d = 0; d < ndim; d++)
        v->dims[d] = dims[d];
    v->data = calloc(count_of(v) ? count_of(v) : 1, sizeof(double));
    return v;
}

static int64_t attr_int(const struct t_node *n, const char *name, int64_t fallback)
{
    const struct t_attr *a = t_onnx_attr(n, name);
    return a ? a->i : fallback;
}

/* kernel_shape, strides, pads of Conv and the pools. */
static void window(const struct t_node *n, int64_t k[2], int64_t s[2], int64_t p[4])
{
    const struct t_attr *ks = t_onnx_attr(n, "kernel_shape"), *st = t_onnx_attr(n, "strides"),
                        *pd = t_onnx_attr(n, "pads");
    for (int i = 0; i < 2; i++) {
        k[i] = ks && ks->int_count == 2 ? ks->ints[i] : 1;
        s[i] = st && st->int_count == 2 ? st->ints[i] : 1;
    }
    for (int i = 0; i < 4; i++)
        p[i] = pd && pd->int_count == 4 ? pd->ints[i] : 0;
}

/* Conv, MaxPool, AveragePool over NCHW x; w is OIHW for Conv, NULL for the pools. */
static int windowed(const struct t_node *n, const struct value *x, const struct value *w,
                    const struct value *b, struct value **out)
{
    if (x->ndim != 4)
        return fail("needs a 4-D input", n->name);
    int64_t k[2], s[2], p[4];
    window(n, k, s, p);
    if (w && (w->ndim != 4 || w->dims[1] != x->dims[1] || w->dims[2] != k[0] || w->dims[3] != k[1]))
        return fail("weight shape", n->name);
    int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
    int64_t O = w ? w->dims[0] : C;
    int64_t OH = (H + p[0] + p[2] - k[0]) / s[0] + 1, OW = (W + p[1] + p[3] - k[1]) / s[1] + 1;
    bool max = !strcmp(n->op_type, "MaxPool");
    bool count_pad = attr_int(n, "count_include_pad", 0) != 0;
    *out = add(n->outputs[0], 4, (int64_t[]){ N, O, OH, OW });
    if (!*out)
        return fail("too many values", n->name);
    for (int64_t i = 0; i < N; i++)
        for (int64_t o = 0; o < O; o++)
            for (int64_t y = 0; y < OH; y++)
                for (int64_t z = 0; z < OW; z++) {
                    double acc = w ? (b ? b->data[o] : 0) : max ? -INFINITY : 0;
                    int64_t real = 0;
                    for (int64_t c = w ? 0 : o; c < (w ? C : o + 1); c++)
                        for (int64_t u = 0; u < k[0]; u++)
                            for (int64_t v = 0; v < k[1]; v++) {
                                int64_t r = y * s[0] - p[0] + u, q = z * s[1] - p[1] + v;
                                if (r < 0 || r >= H || q < 0 || q >= W)
                                    continue; /* padding: zeros for Conv, left out by pools */
                                double xv = x->data[((i * C + c) * H + r) * W + q];
                                real++;
                                if (w)
                                    acc += xv * w->data[((o * C + c) * k[0] + u) * k[1] + v];
                                else if (max)
                                    acc = xv > acc ? xv : acc;
                                else
                                    acc += xv;
                            }
                    if (!w && !max)
                        acc /= (double)(count_pad ? k[0] * k[1] : real);
                    (*out)->data[((i * O + o) * OH + y) * OW + z] = acc;
                }
    return 0;
}

static int run_node(const struct t_node *n)
{
    struct value *in[5] = { 0 }, *out = NULL;
    for (int i = 0; i < n->input_count && i < 5; i++)
        if (!(in[i] = find(n->inputs[i])))
            return fail("an input is not defined", n->name);
    const struct value *x = in[0];
    const char *op = n->op_type;
    size_t count = count_of(x);
    if (!strcmp(op, "Relu") || !strcmp(op, "Sigmoid") || !strcmp(op, "Tanh") ||
        !strcmp(op, "Identity") || !strcmp(op, "Mul")) {
        if (!strcmp(op, "Mul") && (!in[1] || count_of(in[1]) != 1))
            return fail("Mul by anything but a scalar", n->name);
        out = add(n->outputs[0], x->ndim, x->dims);
        for (size_t i = 0; out && i < count; i++) {
            double v = x->data[i];
            out->data[i] = op[0] == 'R' ? (v > 0 ? v : 0) : op[0] == 'S' ? 1 / (1 + exp(-v))
                           : op[0] == 'T' ? tanh(v) : op[0] == 'I' ? v : v * in[1]->data[0];
        }
    } else if (!strcmp(op, "Transpose")) {
        const struct t_attr *perm = t_onnx_attr(n, "perm");
        if (x->ndim != 4 || !perm || perm->int_count != 4)
            return fail("Transpose of a 4-D tensor with perm", n->name);
        int64_t dims[4], stride[4] = { x->dims[1] * x->dims[2] * x->dims[3],
                                       x->dims[2] * x->dims[3], x->dims[3], 1 };
        for (int d = 0; d < 4; d++)
            dims[d] = x->dims[perm->ints[d]];
        out = add(n->outputs[0], 4, dims);
        size_t j = 0;
        for (int64_t a = 0; out && a < dims[0]; a++)
            for (int64_t b = 0; b < dims[1]; b++)
                for (int64_t c = 0; c < dims[2]; c++)
                    for (int64_t d = 0; d < dims[3]; d++) {
                        int64_t idx[4] = { a, b, c, d }, src = 0;
                        for (int e = 0; e < 4; e++)
                            src += idx[e] * stride[perm->ints[e]];
                        out->data[j++] = x->data[src];
                    }
    } else if (!strcmp(op, "Conv")) {
        if (windowed(n, x, in[1], in[2], &out))
            return -1;
    } else if (!strcmp(op, "MaxPool") || !strcmp(op, "AveragePool")) {
        if (windowed(n, x, NULL, NULL, &out))
            return -1;
    } else if (!strcmp(op, "GlobalAveragePool")) {
        if (x->ndim != 4)
            return fail("needs a 4-D input", n->name);
        int64_t plane = x->dims[2] * x->dims[3];
        out = add(n->outputs[0], 4, (int64_t[]){ x->dims[0], x->dims[1], 1, 1 });
        for (int64_t i = 0; out && i < x->dims[0] * x->dims[1]; i++) {
            double sum = 0;
            for (int64_t j = 0; j < plane; j++)
                sum += x->data[i * plane + j];
            out->data[i] = sum / (double)plane;
        }
    } else if (!strcmp(op, "Flatten")) {
        if (attr_int(n, "axis", 1) != 1)
            return fail("Flatten on an axis other than 1", n->name);
        out = add(n->outputs[0], 2, (int64_t[]){ x->dims[0], (int64_t)count / x->dims[0] });
        for (size_t i = 0; out && i < count; i++)
            out->data[i] = x->data[i];
    } else if (!strcmp(op, "Gemm")) {
        const struct value *b = in[1], *c = in[2];
        if (x->ndim != 2 || !b || b->ndim != 2 || b->dims[0] != x->dims[1] ||
            attr_int(n, "transA", 0) || attr_int(n, "transB", 0) ||
            (c && (c->ndim != 1 || c->dims[0] != b->dims[1])))
            return fail("Gemm shapes", n->name);
        int64_t M = x->dims[0], K = x->dims[1], N = b->dims[1];
        out = add(n->outputs[0], 2, (int64_t[]){ M, N });
        for (int64_t i = 0; out && i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                double acc = c ? c->data[j] : 0;
                for (int64_t k = 0; k < K; k++)
                    acc += x->data[i * K + k] * b->data[k * N + j];
                out->data[i * N + j] = acc;
            }
    } else if (!strcmp(op, "Softmax")) {
        int64_t axis = attr_int(n, "axis", -1);
        if (axis < 0)
            axis += x->ndim;
        int64_t inner = 1, len = x->dims[axis];
        for (int d = (int)axis + 1; d < x->ndim; d++)
            inner *= x->dims[d];
        out = add(n->outputs[0], x->ndim, x->dims);
        for (size_t base = 0; out && base < count; base += (size_t)(len * inner))
            for (int64_t j = 0; j < inner; j++) {
                double top = -INFINITY, sum = 0;
                for (int64_t a = 0; a < len; a++)
                    top = fmax(top, x->data[base + (size_t)(a * inner + j)]);
                for (int64_t a = 0; a < len; a++)
                    sum += exp(x->data[base + (size_t)(a * inner + j)] - top);
                for (int64_t a = 0; a < len; a++)
                    out->data[base + (size_t)(a * inner + j)] =
                        exp(x->data[base + (size_t)(a * inner + j)] - top) / sum;
            }
    } else if (!strcmp(op, "BatchNormalization")) {
        const struct t_attr *eps = t_onnx_attr(n, "epsilon");
        if (n->input_count != 5 || (x->ndim != 2 && x->ndim != 4))
            return fail("BatchNormalization inputs", n->name);
        int64_t C = x->dims[1], inner = x->ndim == 4 ? x->dims[2] * x->dims[3] : 1;
        double e = eps ? eps->f : 1e-5;
        out = add(n->outputs[0], x->ndim, x->dims);
        for (size_t i = 0; out && i < count; i++) {
            int64_t c = (int64_t)(i / (size_t)inner) % C;
            out->data[i] = (x->data[i] - in[3]->data[c]) / sqrt(in[4]->data[c] + e) *
                           in[1]->data[c] + in[2]->data[c];
        }
    } else {
        return fail("operator not known to the test's interpreter", op);
    }
    return out ? 0 : fail("too many values", n->name);
}

static void reset(void)
{
    for (int i = 0; i < value_count; i++)
        free(values[i].data);
    value_count = 0;
}

int t_onnx_run(const struct t_model *m, const float *input, int n, const int *dims, int ndim,
               float *output, size_t output_size)
{
    reset();
    int64_t shape[4] = { n };
    for (int d = 0; d < ndim; d++)
        shape[d + 1] = dims[d];
    struct value *x = add("input", ndim + 1, shape);
    for (size_t i = 0; x && i < count_of(x); i++)
        x->data[i] = input[i];
    for (int i = 0; i < m->init_count; i++) {
        const struct t_tensor *t = &m->inits[i];
        struct value *v = add(t->name, t->ndim, t->dims);
        if (!v || t->data_type != ONNX_DTYPE_FLOAT || t->raw_size != count_of(v) * 4)
            return fail("initializer", t->name);
        for (size_t j = 0; j < count_of(v); j++) {
            float f;
            memcpy(&f, t->raw + 4 * j, 4);
            v->data[j] = f;
        }
    }
    for (int i = 0; i < m->node_count; i++)
        if (run_node(&m->nodes[i]))
            return -1;
    const struct value *y = find("output");
    if (!y || count_of(y) != output_size)
        return fail("no output of the expected size", "output");
    for (size_t i = 0; i < output_size; i++)
        output[i] = (float)y->data[i];
    reset();
    return 0;
}
