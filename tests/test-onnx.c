/* The ONNX exporter, read back by a decoder written for the test (onnx-decode.c):
 *  - the protobuf encoder's varints and keys are the wire format's;
 *  - models of every layer kind fcnn has export with ir_version 7 and opset 13, an input
 *    'input' [N,H,W,C] and an output 'output' [N,classes], the expected node types in
 *    order, each node reading the one before it, Conv/MaxPool/Transpose attributes that
 *    say what the layer does, and initializers whose shapes and bytes are the model's
 *    parameters after the documented transposes (Conv HWIO -> OIHW, Dense as is);
 *  - the graph computes what fcnn computes: run by a small interpreter of the test's own
 *    (onnx-run.c, the ONNX operators' definitions in double precision) on raw pixel
 *    values, it gives the reference backend's outputs (after the softmax fcnn fuses with
 *    its loss, when the model ends in one) to within float rounding;
 *  - a layer kind without a mapping is refused with one line and no file is written.
 * With arguments FILE.onnx CHECKPOINT.safetensors it instead checks that every parameter
 * of the checkpoint is in the ONNX file, transposed as documented, byte for byte (the
 * end-to-end test runs it on what `fcnn --export-onnx` wrote). */
#include <config.h>

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/backend.h"
#include "core/rng.h"
#include "core/status.h"
#include "io/onnx.h"
#include "io/onnx_proto.h"
#include "io/protobuf.h"
#include "nn/layer.h"
#include "nn/model.h"
#include "nn/model_desc.h"
#include "nn/network.h"
#ifdef HAVE_JANSSON
#include "io/safetensors.h"
#endif

#include "expect.h"
#include "onnx-decode.h"
#include "onnx-run.h"

static char dir[] = "/tmp/fcnn-test-onnx-XXXXXX";

/* --- the encoder's bytes --- */

static void check_varints(void)
{
    static const struct { uint64_t v; uint8_t bytes[10]; size_t n; } cases[] = {
        { 0, { 0x00 }, 1 },
        { 1, { 0x01 }, 1 },
        { 127, { 0x7f }, 1 },
        { 128, { 0x80, 0x01 }, 2 },
        { 300, { 0xac, 0x02 }, 2 },
        { UINT64_MAX, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 }, 10 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct pb_buf b = { 0 };
        pb_put_varint(&b, cases[i].v);
        EXPECT(b.len == cases[i].n && !memcmp(b.data, cases[i].bytes, cases[i].n),
               "varint %llu: %zu bytes", (unsigned long long)cases[i].v, b.len);
        pb_free(&b);
    }
    /* Field 8, varint 3 (an attribute's ints): key 0x40. Field 9, 2 bytes: 0x4a 0x02. A
     * float 1.0 in field 2: key 0x15 then 00 00 80 3f. An int64 -1: ten bytes. */
    struct pb_buf b = { 0 };
    pb_field_int(&b, 8, 3);
    pb_field_bytes(&b, 9, "ab", 2);
    pb_field_float(&b, 2, 1.0f);
    pb_field_int(&b, 3, -1);
    static const uint8_t want[] = { 0x40, 0x03, 0x4a, 0x02, 'a', 'b', 0x15, 0x00, 0x00, 0x80,
                                    0x3f, 0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                    0xff, 0xff, 0x01 };
    EXPECT(b.len == sizeof want && !memcmp(b.data, want, sizeof want),
           "field encodings differ (%zu bytes)", b.len);
    pb_free(&b);
}

/* --- a model's export, checked against the model --- */

static void random_params(const struct fcnn_model *m, float *params, uint64_t seed)
{
    struct fcnn_rng rng;
    fcnn_rng_seed(&rng, seed);
    for (size_t i = 0; i < m->param_floats; i++)
        params[i] = (float)(fcnn_rng_uniform(&rng) * 2 - 1);
}

/* The raw_data fcnn's parameter must have in ONNX: Conv kernels HWIO -> OIHW, the rest as
 * they are. Written out index by index here, apart from the exporter's own loop. */
static void expected_bytes(const struct fcnn_param *p, const float *data, float *out,
                           int64_t *dims)
{
    if (p->ndim == 4) {
        int kh = p->shape[0], kw = p->shape[1], ci = p->shape[2], co = p->shape[3];
        dims[0] = co, dims[1] = ci, dims[2] = kh, dims[3] = kw;
        size_t n = 0;
        for (int o = 0; o < co; o++)
            for (int i = 0; i < ci; i++)
                for (int y = 0; y < kh; y++)
                    for (int x = 0; x < kw; x++)
                        out[n++] = data[(((size_t)y * kw + x) * ci + i) * co + o];
        return;
    }
    for (int d = 0; d < p->ndim; d++)
        dims[d] = p->shape[d];
    memcpy(out, data, p->count * sizeof(float));
}

static void check_initializer(const struct t_model *onnx, const struct fcnn_param *p,
                              const float *data, const char *what)
{
    const struct t_tensor *t = t_onnx_init(onnx, p->name);
    EXPECT(t, "%s: no initializer %s", what, p->name);
    if (!t)
        return;
    int64_t dims[4];
    float *want = malloc(p->count * sizeof(float));
    expected_bytes(p, data, want, dims);
    EXPECT(t->data_type == ONNX_DTYPE_FLOAT, "%s: %s has data type %lld", what, p->name,
           (long long)t->data_type);
    EXPECT(t->ndim == p->ndim, "%s: %s has %d dims", what, p->name, t->ndim);
    for (int d = 0; d < p->ndim && d < t->ndim; d++)
        EXPECT(t->dims[d] == dims[d], "%s: %s dim %d is %lld, not %lld", what, p->name, d,
               (long long)t->dims[d], (long long)dims[d]);
    /* Little-endian float32, as raw_data must be; this host is little-endian (x86, ARM). */
    EXPECT(t->raw_size == p->count * 4 && !memcmp(t->raw, want, t->raw_size),
           "%s: %s bytes differ from the parameter's", what, p->name);
    free(want);
}

static void check_value(const struct t_value *v, const char *name, struct fcnn_shape shape,
                        const char *what)
{
    EXPECT(!strcmp(v->name, name), "%s: value '%s', not '%s'", what, v->name, name);
    EXPECT(v->elem_type == ONNX_DTYPE_FLOAT, "%s: %s is not float32", what, name);
    EXPECT(v->ndim == shape.ndim + 1, "%s: %s has %d dims", what, name, v->ndim);
    EXPECT(!strcmp(v->params[0], "N") && v->dims[0] == 0, "%s: %s batch is not dynamic 'N'",
           what, name);
    for (int d = 0; d < shape.ndim && d + 1 < v->ndim; d++)
        EXPECT(v->dims[d + 1] == shape.dims[d] && !v->params[d + 1][0],
               "%s: %s dim %d is %lld, not %d", what, name, d + 1, (long long)v->dims[d + 1],
               shape.dims[d]);
}

static int ints_are(const struct t_attr *a, int n, const int64_t *v)
{
    if (!a || a->type != ONNX_ATTR_TYPE_INTS || a->int_count != n)
        return 0;
    for (int i = 0; i < n; i++)
        if (a->ints[i] != v[i])
            return 0;
    return 1;
}

/* The node that computes layer `l`'s main operator ("<layer>/<op>"), or NULL. */
static const struct t_node *node_named(const struct t_model *m, const char *layer, const char *op)
{
    char name[T_NAME];
    snprintf(name, sizeof name, "%s/%s", layer, op);
    for (int i = 0; i < m->node_count; i++)
        if (!strcmp(m->nodes[i].name, name))
            return &m->nodes[i];
    return NULL;
}

/* The decoded graph on a few images of raw pixel values, against fcnn's reference
 * backend on the same images scaled as fcnn scales them. */
static void check_outputs(const char *what, const struct fcnn_model *m, const float *params,
                          const float *state, const struct t_model *onnx, bool probabilities)
{
    enum { N = 3 };
    size_t per = fcnn_shape_count(&m->input), outputs = fcnn_shape_count(&m->layers[m->layer_count - 1].out);
    float *raw = malloc(N * per * sizeof(float)), *scaled = malloc(N * per * sizeof(float));
    float *want = malloc(N * outputs * sizeof(float)), *got = malloc(N * outputs * sizeof(float));
    struct fcnn_rng rng;
    fcnn_rng_seed(&rng, 3);
    for (size_t i = 0; i < N * per; i++) {
        raw[i] = (float)fcnn_rng_below(&rng, 256);
        scaled[i] = raw[i] * (1.0f / 255.0f);
    }
    struct fcnn_backend *be = NULL;
    struct fcnn_network *net = NULL;
    int status = fcnn_backend_open("ref", NULL, &be);
    if (status == FCNN_OK)
        status = fcnn_network_create(be, m, N, 0, &net);
    if (status == FCNN_OK)
        status = fcnn_network_set_params(net, params);
    if (status == FCNN_OK)
        status = fcnn_network_set_state(net, state);
    struct fcnn_tensor input = net ? fcnn_network_input(net, N) : (struct fcnn_tensor){ 0 };
    if (status == FCNN_OK)
        status = fcnn_upload(be, &input, scaled);
    if (status == FCNN_OK)
        status = fcnn_network_forward(net, N, false);
    struct fcnn_tensor y = net ? fcnn_network_activation(net, m->layer_count, N)
                               : (struct fcnn_tensor){ 0 };
    if (status == FCNN_OK)
        status = fcnn_download(be, &y, want);
    EXPECT(status == FCNN_OK, "%s: fcnn's forward pass: %s", what, fcnn_last_error());
    if (status == FCNN_OK && probabilities) /* the softmax fcnn leaves to its loss */
        for (int i = 0; i < N; i++) {
            float *row = want + (size_t)i * outputs;
            double top = row[0], sum = 0;
            for (size_t j = 1; j < outputs; j++)
                top = row[j] > top ? row[j] : top;
            for (size_t j = 0; j < outputs; j++)
                sum += exp(row[j] - top);
            for (size_t j = 0; j < outputs; j++)
                row[j] = (float)(exp(row[j] - top) / sum);
        }
    int ran = t_onnx_run(onnx, raw, N, m->input.dims, m->input.ndim, got, N * outputs);
    EXPECT(ran == 0, "%s: the interpreter could not run the graph", what);
    if (status == FCNN_OK && ran == 0) {
        double worst = 0, scale = 1;
        for (size_t i = 0; i < N * outputs; i++) {
            worst = fmax(worst, fabs((double)got[i] - want[i]));
            scale = fmax(scale, fabs((double)want[i]));
        }
        /* float32 activations against a double interpreter: rounding, nothing more. */
        EXPECT(worst <= 1e-4 * scale, "%s: the graph's outputs differ from fcnn's by %g "
               "(largest output %g)", what, worst, scale);
    }
    fcnn_network_destroy(net);
    if (be)
        fcnn_backend_close(be);
    free(raw);
    free(scaled);
    free(want);
    free(got);
}

/* Exports `m`, reads it back and checks it against the model; `ops` are the node types
 * expected in order ("Mul Transpose Conv ..."). */
static void check_export(const char *what, const struct fcnn_model *m, const char *ops,
                         const char *output_kind)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s.onnx", dir, what);
    float *params = malloc(m->param_floats * sizeof(float) + 1);
    float *state = malloc(m->state_floats * sizeof(float) + 1);
    random_params(m, params, 99);
    /* Moving statistics: any mean, a positive variance. */
    struct fcnn_rng rng;
    fcnn_rng_seed(&rng, 7);
    for (size_t i = 0; i < m->state_floats; i++)
        state[i] = (float)(fcnn_rng_uniform(&rng) + 0.5);
    int status = fcnn_onnx_export(path, m, params, state);
    EXPECT(status == FCNN_OK, "%s: export failed: %s", what, fcnn_last_error());
    static struct t_model onnx;
    if (status != FCNN_OK || t_onnx_read(path, &onnx) != 0) {
        EXPECT(0, "%s: the file does not decode", what);
        free(params);
        free(state);
        return;
    }
    EXPECT(onnx.ir_version == ONNX_IR_VERSION, "%s: ir_version %lld", what,
           (long long)onnx.ir_version);
    EXPECT(onnx.opset_count == 1 && onnx.opset_domain[0] == '\0' && onnx.opset_version == 13,
           "%s: opset %lld in domain '%s'", what, (long long)onnx.opset_version,
           onnx.opset_domain);
    EXPECT(!strcmp(onnx.producer, "fcnn"), "%s: producer '%s'", what, onnx.producer);
    EXPECT(onnx.input_count == 1 && onnx.output_count == 1, "%s: %d inputs, %d outputs", what,
           onnx.input_count, onnx.output_count);
    check_value(&onnx.inputs[0], "input", m->input, what);
    check_value(&onnx.outputs[0], "output", fcnn_model_output(m), what);

    /* Node types in order, and a chain: each node reads the value the one before made. */
    char got[1024] = "";
    for (int i = 0; i < onnx.node_count; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", i ? " " : "",
                 onnx.nodes[i].op_type);
    EXPECT(!strcmp(got, ops), "%s: nodes\n  are      %s\n  expected %s", what, got, ops);
    const char *previous = "input";
    for (int i = 0; i < onnx.node_count; i++) {
        const struct t_node *n = &onnx.nodes[i];
        EXPECT(n->input_count >= 1 && !strcmp(n->inputs[0], previous),
               "%s: node %s reads '%s', not '%s'", what, n->name, n->inputs[0], previous);
        EXPECT(n->output_count == 1, "%s: node %s has %d outputs", what, n->name,
               n->output_count);
        for (int k = 1; k < n->input_count; k++)
            EXPECT(t_onnx_init(&onnx, n->inputs[k]), "%s: node %s input '%s' is no initializer",
                   what, n->name, n->inputs[k]);
        previous = n->outputs[0];
    }
    EXPECT(!strcmp(previous, "output"), "%s: the last node makes '%s'", what, previous);

    /* The scaling: Mul by 1/255 first. */
    const struct t_tensor *scale = t_onnx_init(&onnx, "input_scale");
    float s = 0;
    if (scale && scale->raw_size == 4)
        memcpy(&s, scale->raw, 4);
    EXPECT(scale && scale->ndim == 0 && s == 1.0f / 255.0f, "%s: input_scale is not 1/255", what);
    EXPECT(t_onnx_meta(&onnx, "output") && !strcmp(t_onnx_meta(&onnx, "output"), output_kind),
           "%s: metadata output is not '%s'", what, output_kind);

    /* Every parameter, and what each layer's operator says. */
    for (int i = 0; i < m->param_count; i++)
        check_initializer(&onnx, &m->params[i], params + m->params[i].offset, what);
    for (int i = 0; i < m->state_count; i++)
        check_initializer(&onnx, &m->states[i], state + m->states[i].offset, what);
    EXPECT(onnx.init_count == m->param_count + m->state_count + 1,
           "%s: %d initializers for %d parameter and %d state tensors", what, onnx.init_count,
           m->param_count, m->state_count);
    for (int i = 0; i < m->layer_count; i++) {
        const struct fcnn_layer *l = &m->layers[i];
        const char *cls = l->type->class_name;
        if (!strcmp(cls, "Conv2D")) {
            const struct t_node *n = node_named(&onnx, l->name, "Conv");
            const struct fcnn_param *k = &m->params[l->first_param];
            const struct fcnn_conv2d_params *c = &l->p.conv;
            EXPECT(n && ints_are(t_onnx_attr(n, "kernel_shape"), 2,
                                 (int64_t[]){ k->shape[0], k->shape[1] }) &&
                   ints_are(t_onnx_attr(n, "strides"), 2, (int64_t[]){ c->sh, c->sw }) &&
                   ints_are(t_onnx_attr(n, "pads"), 4, (int64_t[]){ c->pad_top, c->pad_left,
                                                                    c->pad_bottom, c->pad_right }),
                   "%s: %s: Conv attributes", what, l->name);
            EXPECT(n && n->input_count == 1 + l->param_count, "%s: %s: Conv has %d inputs for "
                   "%d parameters", what, l->name, n ? n->input_count : 0, l->param_count);
        } else if (!strcmp(cls, "MaxPooling2D") || !strcmp(cls, "AveragePooling2D")) {
            bool max = !strcmp(cls, "MaxPooling2D");
            const struct t_node *n = node_named(&onnx, l->name, max ? "MaxPool" : "AveragePool");
            const struct fcnn_pool_params *p = &l->p.pool;
            EXPECT(n && ints_are(t_onnx_attr(n, "kernel_shape"), 2, (int64_t[]){ p->ph, p->pw }) &&
                   ints_are(t_onnx_attr(n, "strides"), 2, (int64_t[]){ p->sh, p->sw }) &&
                   ints_are(t_onnx_attr(n, "pads"), 4, (int64_t[]){ p->pad_top, p->pad_left,
                                                                    p->pad_bottom, p->pad_right }),
                   "%s: %s: pooling attributes", what, l->name);
            /* TensorFlow's average leaves padded positions out of the count. */
            const struct t_attr *count = n ? t_onnx_attr(n, "count_include_pad") : NULL;
            EXPECT(max || (count && count->type == ONNX_ATTR_TYPE_INT && count->i == 0),
                   "%s: %s: AveragePool must not count the padding", what, l->name);
        } else if (!strcmp(cls, "BatchNormalization")) {
            /* Inference form: X, scale (gamma), B (beta), mean, var, in that order. */
            const struct t_node *n = node_named(&onnx, l->name, "BatchNormalization");
            const struct t_attr *eps = n ? t_onnx_attr(n, "epsilon") : NULL;
            char want[4][64];
            snprintf(want[0], 64, "%s/gamma", l->name);
            snprintf(want[1], 64, "%s/beta", l->name);
            snprintf(want[2], 64, "%s/moving_mean", l->name);
            snprintf(want[3], 64, "%s/moving_variance", l->name);
            EXPECT(n && n->input_count == 5 && !strcmp(n->inputs[1], want[0]) &&
                   !strcmp(n->inputs[2], want[1]) && !strcmp(n->inputs[3], want[2]) &&
                   !strcmp(n->inputs[4], want[3]), "%s: %s: BatchNormalization inputs", what,
                   l->name);
            EXPECT(eps && eps->type == ONNX_ATTR_TYPE_FLOAT && eps->f == l->p.batchnorm.epsilon,
                   "%s: %s: epsilon", what, l->name);
        }
    }
    for (int i = 0; i < onnx.node_count; i++) {
        const struct t_node *n = &onnx.nodes[i];
        if (!strcmp(n->op_type, "Transpose")) {
            const struct t_attr *perm = t_onnx_attr(n, "perm");
            EXPECT(ints_are(perm, 4, (int64_t[]){ 0, 3, 1, 2 }) ||
                   ints_are(perm, 4, (int64_t[]){ 0, 2, 3, 1 }), "%s: %s: perm", what, n->name);
        }
        if (!strcmp(n->op_type, "Flatten")) {
            const struct t_attr *axis = t_onnx_attr(n, "axis");
            EXPECT(axis && axis->type == ONNX_ATTR_TYPE_INT && axis->i == 1,
                   "%s: Flatten axis", what);
            /* Flatten must see NHWC: the node before it, if a Transpose, goes to NHWC. */
            EXPECT(i == 0 || strcmp(onnx.nodes[i - 1].op_type, "Transpose") ||
                   ints_are(t_onnx_attr(&onnx.nodes[i - 1], "perm"), 4,
                            (int64_t[]){ 0, 2, 3, 1 }), "%s: Flatten after a Transpose to NCHW",
                   what);
        }
    }
    check_outputs(what, m, params, state, &onnx, !strcmp(output_kind, "probabilities"));
    t_onnx_free(&onnx);
    free(params);
    free(state);
    unlink(path);
}

/* A model from a --model spec, on an input of h x w x c. */
static int from_spec(const char *spec, struct fcnn_shape input, int classes,
                     struct fcnn_model *m)
{
    static struct fcnn_model_desc desc;
    int status = fcnn_model_spec_parse(spec, NULL, &desc);
    if (status == FCNN_OK)
        status = fcnn_model_desc_build(&desc, input, classes, m);
    EXPECT(status == FCNN_OK, "model '%s': %s", spec, fcnn_last_error());
    return status;
}

static void check_models(void)
{
    struct fcnn_model m;
    const struct fcnn_shape mnist = { 3, { 28, 28, 1 } }, colour = { 3, { 12, 10, 3 } };
    EXPECT(fcnn_model_reference(&m) == FCNN_OK, "reference model");
    check_export("reference", &m,
                 "Mul Transpose Conv Relu MaxPool Conv Relu MaxPool Transpose Flatten Gemm",
                 "logits");

    /* Every layer kind and argument the model description has, in shapes that exercise
     * the padding rules: even kernels and strides that pad more after than before
     * (Keras's asymmetric "same"), rectangular windows, no bias, valid padding. */
    static const struct {
        const char *what, *spec;
        struct fcnn_shape input;
        int classes;
        const char *ops, *output;
    } cases[] = {
        { "strided", "conv2d(8,4,strides=2,padding=same,use_bias=false) "
                     "avgpool(3,strides=2,padding=same) conv2d(6,2x3,relu) maxpool(2x1,padding=same) "
                     "flatten dense(16,relu) dense(5)", colour, 5,
          "Mul Transpose Conv AveragePool Conv Relu MaxPool Transpose Flatten Gemm Relu Gemm",
          "logits" },
        { "global", "conv2d(4,3,relu) avgpool(2) globalavgpool dense(10)", mnist, 10,
          "Mul Transpose Conv Relu AveragePool GlobalAveragePool Flatten Gemm", "logits" },
        { "softmax", "conv2d(4,3,relu,padding=same) maxpool(2) flatten dense(10,softmax)", mnist,
          10, "Mul Transpose Conv Relu MaxPool Transpose Flatten Gemm Softmax", "probabilities" },
        { "flat", "flatten dense(3)", (struct fcnn_shape){ 3, { 4, 4, 2 } }, 3,
          "Mul Flatten Gemm", "logits" },
        /* Activation layers, Dropout (no node), BatchNormalization on a feature map (NCHW)
         * and on features, activations inside Conv2D and Dense, a softmax Activation. */
        { "layers", "conv2d(8,3,padding=same,use_bias=false) batchnorm activation(relu) "
                    "dropout(0.25) conv2d(4,3,tanh) maxpool(2) flatten dense(12,sigmoid) "
                    "batchnorm(momentum=0.9,epsilon=0.01) activation(tanh) dropout(0.5) dense(10) "
                    "activation(softmax)", mnist, 10,
          "Mul Transpose Conv BatchNormalization Relu Conv Tanh MaxPool Transpose Flatten Gemm "
          "Sigmoid BatchNormalization Tanh Gemm Softmax", "probabilities" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (from_spec(cases[i].spec, cases[i].input, cases[i].classes, &m) == FCNN_OK)
            check_export(cases[i].what, &m, cases[i].ops, cases[i].output);
}

/* A layer kind the exporter does not know: one line naming it, no file. */
static const struct fcnn_layer_type mystery_type = { .class_name = "Mystery",
                                                     .base_name = "mystery" };

static void check_refusal(void)
{
    struct fcnn_model m;
    struct fcnn_layer *layer;
    fcnn_model_reference(&m);
    fcnn_model_add_layer(&m, &mystery_type, fcnn_model_output(&m), &layer);
    float *params = calloc(m.param_floats, sizeof(float));
    char path[256];
    snprintf(path, sizeof path, "%s/refused.onnx", dir);
    int status = fcnn_onnx_export(path, &m, params, NULL);
    EXPECT(status == FCNN_ERR_UNSUPPORTED, "an unmapped layer gave status %d", status);
    EXPECT(strstr(fcnn_last_error(), "mystery") && strstr(fcnn_last_error(), "Mystery") &&
           strstr(fcnn_last_error(), "no ONNX mapping") && !strchr(fcnn_last_error(), '\n'),
           "refusal message: %s", fcnn_last_error());
    EXPECT(access(path, F_OK) != 0, "a refused export left %s", path);
    free(params);
}

/* --- an exported file against the checkpoint it came from --- */

static int check_against_checkpoint(const char *onnx_path, const char *checkpoint)
{
#ifdef HAVE_JANSSON
    static struct t_model onnx;
    struct fcnn_st_file file;
    if (t_onnx_read(onnx_path, &onnx) != 0)
        return 1;
    if (fcnn_st_read(checkpoint, &file) != FCNN_OK) {
        fprintf(stderr, "%s\n", fcnn_last_error());
        return 1;
    }
    int compared = 0;
    for (int i = 0; i < file.count; i++) {
        const struct fcnn_st_tensor *t = &file.tensors[i];
        if (!strncmp(t->name, "optimizer/", 10) || !strncmp(t->name, "best/", 5))
            continue;
        struct fcnn_param p = { .ndim = t->ndim, .count = t->count };
        snprintf(p.name, sizeof p.name, "%s", t->name);
        for (int d = 0; d < t->ndim; d++)
            p.shape[d] = (int)t->shape[d];
        check_initializer(&onnx, &p, t->data, onnx_path);
        compared++;
    }
    EXPECT(compared > 0 && onnx.init_count == compared + 1,
           "%s: %d initializers for %d checkpoint parameters", onnx_path, onnx.init_count,
           compared);
    printf("%d tensors of %s found in %s after the documented transposes\n", compared,
           checkpoint, onnx_path);
    fcnn_st_free(&file);
    t_onnx_free(&onnx);
    return failures ? 1 : 0;
#else
    (void)onnx_path, (void)checkpoint;
    printf("SKIP: this build has no safetensors reader (jansson)\n");
    return 77;
#endif
}

int main(int argc, char **argv)
{
    if (argc == 3)
        return check_against_checkpoint(argv[1], argv[2]);
    if (!mkdtemp(dir)) {
        perror(dir);
        return 99;
    }
    check_varints();
    check_models();
    check_refusal();
    rmdir(dir);
    if (failures)
        fprintf(stderr, "%d checks failed\n", failures);
    else
        printf("test-onnx: all checks passed\n");
    return failures ? 1 : 0;
}
