/* The model description: Keras's defaults and names, the one validator (shapes by Keras's
 * formulas), the builder calls, and the normalised spec. */
#include <config.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "nn/model_desc.h"

/* Per-sample tensors larger than this are refused before any size arithmetic can
 * overflow an int; 64 Mi floats is far beyond what fcnn trains. */
#define MAX_SAMPLE_ELEMENTS (1 << 26)

/* Models with more parameters than this are refused: all of them are one tensor of an int's
 * length, and every layer's fan-in plus fan-out must fit an int too. 1 Gi floats (4 GiB,
 * and three times that again for the gradient and Adam's moments) is far beyond what fcnn
 * trains. */
#define MAX_MODEL_PARAMETERS (1 << 30)

static const struct {
    const char *spec, *keras;
} kind_names[FCNN_LAYER_KIND_COUNT] = {
    [FCNN_LAYER_CONV2D] = { "conv2d", "Conv2D" },
    [FCNN_LAYER_MAXPOOL2D] = { "maxpool", "MaxPooling2D" },
    [FCNN_LAYER_AVGPOOL2D] = { "avgpool", "AveragePooling2D" },
    [FCNN_LAYER_GLOBAL_AVGPOOL2D] = { "globalavgpool", "GlobalAveragePooling2D" },
    [FCNN_LAYER_FLATTEN] = { "flatten", "Flatten" },
    [FCNN_LAYER_DENSE] = { "dense", "Dense" },
    [FCNN_LAYER_ACTIVATION] = { "activation", "Activation" },
    [FCNN_LAYER_DROPOUT] = { "dropout", "Dropout" },
    [FCNN_LAYER_BATCHNORM] = { "batchnorm", "BatchNormalization" },
};

static const char *const activation_names[] = {
    [FCNN_ACT_NONE] = "linear", [FCNN_ACT_RELU] = "relu", [FCNN_ACT_SIGMOID] = "sigmoid",
    [FCNN_ACT_TANH] = "tanh",   [FCNN_ACT_SOFTMAX] = "softmax",
};

const char *fcnn_layer_kind_spec_name(enum fcnn_layer_kind kind)
{
    return kind_names[kind].spec;
}

const char *fcnn_layer_kind_class_name(enum fcnn_layer_kind kind)
{
    return kind_names[kind].keras;
}

const char *fcnn_activation_keras_name(enum fcnn_activation act)
{
    return activation_names[act];
}

int fcnn_activation_from_name(const char *name)
{
    for (int i = 0; i < (int)(sizeof activation_names / sizeof activation_names[0]); i++)
        if (activation_names[i] && strcmp(activation_names[i], name) == 0)
            return i;
    return -1;
}

const char *fcnn_desc_arg_name(enum fcnn_layer_kind kind, enum fcnn_desc_arg arg)
{
    bool conv = kind == FCNN_LAYER_CONV2D;
    switch (arg) {
    case FCNN_ARG_LAYER: return kind_names[kind].spec;
    case FCNN_ARG_UNITS: return conv ? "filters" : "units";
    case FCNN_ARG_SIZE: return conv ? "kernel_size" : "pool_size";
    case FCNN_ARG_STRIDES: return "strides";
    case FCNN_ARG_PADDING: return "padding";
    case FCNN_ARG_ACTIVATION: return "activation";
    case FCNN_ARG_USE_BIAS: return "use_bias";
    case FCNN_ARG_RATE: return "rate";
    case FCNN_ARG_MOMENTUM: return "momentum";
    case FCNN_ARG_EPSILON: return "epsilon";
    case FCNN_ARG_COUNT: break;
    }
    return "?";
}

void fcnn_layer_desc_defaults(struct fcnn_layer_desc *l, enum fcnn_layer_kind kind)
{
    memset(l, 0, sizeof *l);
    l->kind = kind;
    l->strides[0] = l->strides[1] = 1;
    l->padding = FCNN_PADDING_VALID;
    l->activation = FCNN_ACT_NONE;
    l->use_bias = true;
    l->momentum = 0.99;
    l->epsilon = 1e-3;
    if (kind == FCNN_LAYER_MAXPOOL2D || kind == FCNN_LAYER_AVGPOOL2D) {
        /* Keras: pool_size (2, 2), strides None meaning pool_size (set by the parsers). */
        l->size[0] = l->size[1] = 2;
        l->strides[0] = l->strides[1] = 2;
    }
}

int fcnn_desc_error(const struct fcnn_model_desc *d, const struct fcnn_layer_desc *l,
                    enum fcnn_desc_arg arg, const char *fmt, ...)
{
    char where[400], what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (d->source == FCNN_DESC_SPEC) {
        int column = l ? (l->column[arg] ? l->column[arg] : l->column[FCNN_ARG_LAYER]) : 0;
        if (column)
            snprintf(where, sizeof where, "%s column %d", d->origin, column);
        else
            snprintf(where, sizeof where, "%s", d->origin);
    } else if (!l) {
        snprintf(where, sizeof where, "%s", d->origin);
    } else if (arg == FCNN_ARG_LAYER) {
        snprintf(where, sizeof where, "%s: %s", d->origin, l->path);
    } else {
        snprintf(where, sizeof where, "%s: %s.config.%s", d->origin, l->path,
                 fcnn_desc_arg_name(l->kind, arg));
    }
    return fcnn_error(FCNN_ERR_INVALID, "%s: %s", where, what);
}

static bool same_shape(struct fcnn_shape a, struct fcnn_shape b)
{
    bool same = a.ndim == b.ndim;
    for (int i = 0; same && i < a.ndim; i++)
        same = a.dims[i] == b.dims[i];
    return same;
}

/* "(None, 7, 7, 64)" */
static void shape_text(struct fcnn_shape s, char *out, size_t size)
{
    size_t used = (size_t)snprintf(out, size, "(None");
    for (int i = 0; i < s.ndim && used < size; i++)
        used += (size_t)snprintf(out + used, size - used, ", %d", s.dims[i]);
    if (used < size)
        snprintf(out + used, size - used, ")");
}

/* Keras's output length along one axis (the rule the layers use, in backend.h). */
static int output_length(int in, int window, int stride, enum fcnn_padding padding)
{
    return fcnn_window_axis(in, window, stride, padding).out;
}

/* A window (kernel or pool) sliding over an image: sizes and strides in range, and for
 * "valid" padding a window no larger than the input. */
static int check_window(const struct fcnn_model_desc *d, const struct fcnn_layer_desc *l,
                        struct fcnn_shape in, struct fcnn_shape *out, int channels)
{
    const char *what = l->kind == FCNN_LAYER_CONV2D ? "kernel" : "pool window";
    for (int a = 0; a < 2; a++) {
        if (l->size[a] < 1 || l->size[a] > 1024)
            return fcnn_desc_error(d, l, FCNN_ARG_SIZE, "%s must be 1..1024, not %d",
                                   fcnn_desc_arg_name(l->kind, FCNN_ARG_SIZE), l->size[a]);
        if (l->strides[a] < 1 || l->strides[a] > 1024)
            return fcnn_desc_error(d, l, FCNN_ARG_STRIDES, "strides must be 1..1024, not %d",
                                   l->strides[a]);
    }
    if (l->padding == FCNN_PADDING_VALID && (in.dims[0] < l->size[0] || in.dims[1] < l->size[1]))
        return fcnn_desc_error(d, l, FCNN_ARG_SIZE,
                               "a %dx%d %s with padding=valid does not fit its %dx%d input "
                               "(use padding=same or a smaller window)",
                               l->size[0], l->size[1], what, in.dims[0], in.dims[1]);
    *out = (struct fcnn_shape){ 3, { output_length(in.dims[0], l->size[0], l->strides[0], l->padding),
                                     output_length(in.dims[1], l->size[1], l->strides[1], l->padding),
                                     channels } };
    return FCNN_OK;
}

static int need_image(const struct fcnn_model_desc *d, const struct fcnn_layer_desc *l,
                      struct fcnn_shape in)
{
    if (in.ndim == 3)
        return FCNN_OK;
    char text[64];
    shape_text(in, text, sizeof text);
    return fcnn_desc_error(d, l, FCNN_ARG_LAYER,
                           "%s needs an image input (height, width, channels), not %s",
                           kind_names[l->kind].spec, text);
}

/* One layer's arguments and output shape. */
static int check_layer(const struct fcnn_model_desc *d, const struct fcnn_layer_desc *l,
                       struct fcnn_shape in, struct fcnn_shape *out)
{
    int status = FCNN_OK;
    char text[64];
    *out = in;
    switch (l->kind) {
    case FCNN_LAYER_CONV2D:
        if ((status = need_image(d, l, in)) != FCNN_OK)
            return status;
        if (l->units < 1 || l->units > 65536)
            return fcnn_desc_error(d, l, FCNN_ARG_UNITS, "filters must be 1..65536, not %d",
                                   l->units);
        return check_window(d, l, in, out, l->units);
    case FCNN_LAYER_MAXPOOL2D:
    case FCNN_LAYER_AVGPOOL2D:
        if ((status = need_image(d, l, in)) != FCNN_OK)
            return status;
        return check_window(d, l, in, out, in.dims[2]);
    case FCNN_LAYER_GLOBAL_AVGPOOL2D:
        if ((status = need_image(d, l, in)) != FCNN_OK)
            return status;
        *out = (struct fcnn_shape){ 1, { in.dims[2] } };
        return FCNN_OK;
    case FCNN_LAYER_FLATTEN:
        *out = (struct fcnn_shape){ 1, { (int)fcnn_shape_count(&in) } };
        return FCNN_OK;
    case FCNN_LAYER_DENSE:
        if (in.ndim != 1) {
            shape_text(in, text, sizeof text);
            return fcnn_desc_error(d, l, FCNN_ARG_LAYER,
                                   "dense needs a flat input, not %s: add flatten (or "
                                   "globalavgpool) before it", text);
        }
        if (l->units < 1 || l->units > 1 << 20)
            return fcnn_desc_error(d, l, FCNN_ARG_UNITS, "units must be 1..%d, not %d", 1 << 20,
                                   l->units);
        *out = (struct fcnn_shape){ 1, { l->units } };
        return FCNN_OK;
    case FCNN_LAYER_ACTIVATION:
        return FCNN_OK;
    case FCNN_LAYER_DROPOUT:
        if (!(l->rate >= 0 && l->rate < 1))
            return fcnn_desc_error(d, l, FCNN_ARG_RATE, "rate must be in [0, 1), not %g",
                                   l->rate);
        return FCNN_OK;
    case FCNN_LAYER_BATCHNORM:
        if (!(l->momentum >= 0 && l->momentum <= 1))
            return fcnn_desc_error(d, l, FCNN_ARG_MOMENTUM, "momentum must be in [0, 1], not %g",
                                   l->momentum);
        if (!(l->epsilon > 0 && l->epsilon < 1))
            return fcnn_desc_error(d, l, FCNN_ARG_EPSILON, "epsilon must be in (0, 1), not %g",
                                   l->epsilon);
        return FCNN_OK;
    case FCNN_LAYER_KIND_COUNT:
        break;
    }
    return fcnn_desc_error(d, l, FCNN_ARG_LAYER, "unknown layer kind");
}

/* The values a layer adds to the model's parameters and state (BatchNormalization's moving
 * statistics with its scale and offset), in 64 bits: a kernel of 1024x1024 windows over
 * 65536 channels and filters does not fit in fewer. */
static uint64_t layer_parameters(const struct fcnn_layer_desc *l, struct fcnn_shape in)
{
    uint64_t bias = l->use_bias ? (uint64_t)l->units : 0;
    switch (l->kind) {
    case FCNN_LAYER_CONV2D:
        return (uint64_t)l->size[0] * (uint64_t)l->size[1] * (uint64_t)in.dims[2] *
                   (uint64_t)l->units + bias;
    case FCNN_LAYER_DENSE:
        return (uint64_t)in.dims[0] * (uint64_t)l->units + bias;
    case FCNN_LAYER_BATCHNORM:
        return 4 * (uint64_t)in.dims[in.ndim - 1];
    default:
        return 0;
    }
}

static bool has_activation(enum fcnn_layer_kind kind)
{
    return kind == FCNN_LAYER_CONV2D || kind == FCNN_LAYER_DENSE || kind == FCNN_LAYER_ACTIVATION;
}

int fcnn_model_desc_validate(const struct fcnn_model_desc *d, struct fcnn_shape input,
                             int classes, struct fcnn_shape *shapes)
{
    if (d->has_input) {
        if (!same_shape(d->input, input)) {
            char want[64], got[64];
            shape_text(input, want, sizeof want);
            shape_text(d->input, got, sizeof got);
            return fcnn_error(FCNN_ERR_INVALID, "%s: config.layers[0].config.batch_shape: the "
                              "model takes %s, the data are %s", d->origin, got, want);
        }
    }
    if (d->count == 0)
        return fcnn_desc_error(d, NULL, FCNN_ARG_LAYER, "the model has no layers");
    struct fcnn_shape shape = input;
    int last_dense = -1;
    uint64_t parameters = 0;
    for (int i = 0; i < d->count; i++) {
        const struct fcnn_layer_desc *l = &d->layers[i];
        if (l->has_built_input && !same_shape(l->built_input, shape)) {
            char built[64], inferred[64];
            shape_text(l->built_input, built, sizeof built);
            shape_text(shape, inferred, sizeof inferred);
            return fcnn_desc_error(d, l, FCNN_ARG_LAYER, "build_config.input_shape is %s, but "
                                   "the layer's input is %s", built, inferred);
        }
        struct fcnn_shape out;
        int status = check_layer(d, l, shape, &out);
        if (status != FCNN_OK)
            return status;
        for (int k = 0; k < out.ndim; k++)
            if (out.dims[k] < 1)
                return fcnn_desc_error(d, l, FCNN_ARG_LAYER, "its output would be empty");
        if (fcnn_shape_count(&out) > MAX_SAMPLE_ELEMENTS)
            return fcnn_desc_error(d, l, FCNN_ARG_LAYER,
                                   "its output has more than %d values per sample",
                                   MAX_SAMPLE_ELEMENTS);
        uint64_t own = layer_parameters(l, shape);
        parameters += own;
        if (parameters > MAX_MODEL_PARAMETERS)
            return fcnn_desc_error(d, l, FCNN_ARG_LAYER,
                                   "with its %llu parameters the model would have more than "
                                   "2^30 (%d)", (unsigned long long)own, MAX_MODEL_PARAMETERS);
        /* Softmax is fused with the loss, so it can only be the model's very last op. */
        if (has_activation(l->kind) && l->activation == FCNN_ACT_SOFTMAX && i + 1 < d->count)
            return fcnn_desc_error(d, l, FCNN_ARG_ACTIVATION,
                                   "softmax is only supported as the model's last operation "
                                   "(it is fused with the cross-entropy loss)");
        if (l->kind == FCNN_LAYER_DENSE)
            last_dense = i;
        if (shapes)
            shapes[i] = out;
        shape = out;
    }
    const struct fcnn_layer_desc *last = &d->layers[d->count - 1];
    if (last_dense < 0)
        return fcnn_desc_error(d, last, FCNN_ARG_LAYER,
                               "the model needs a final classifier: end it with dense(%d)",
                               classes);
    for (int i = last_dense + 1; i < d->count; i++) {
        const struct fcnn_layer_desc *l = &d->layers[i];
        if (l->kind != FCNN_LAYER_ACTIVATION ||
            (l->activation != FCNN_ACT_SOFTMAX && l->activation != FCNN_ACT_NONE))
            return fcnn_desc_error(d, l, FCNN_ARG_LAYER,
                                   "only activation(softmax) may follow the final classifier "
                                   "dense(%d)", classes);
    }
    const struct fcnn_layer_desc *classifier = &d->layers[last_dense];
    if (classifier->units != classes)
        return fcnn_desc_error(d, classifier, FCNN_ARG_UNITS,
                               "the final dense is the classifier: it needs %d units, one per "
                               "class, not %d", classes, classifier->units);
    if (classifier->activation != FCNN_ACT_NONE && classifier->activation != FCNN_ACT_SOFTMAX)
        return fcnn_desc_error(d, classifier, FCNN_ARG_ACTIVATION,
                               "the final classifier's activation must be softmax or linear "
                               "(the loss is softmax cross-entropy), not %s",
                               activation_names[classifier->activation]);
    return FCNN_OK;
}

/* A builder's failure, re-said at the layer's position. */
static int builder_failed(const struct fcnn_model_desc *d, const struct fcnn_layer_desc *l,
                          int status)
{
    char what[512];
    snprintf(what, sizeof what, "%s", fcnn_last_error());
    fcnn_desc_error(d, l, FCNN_ARG_LAYER, "%s", what);
    return status;
}

int fcnn_model_desc_build(const struct fcnn_model_desc *d, struct fcnn_shape input, int classes,
                          struct fcnn_model *m)
{
    int status = fcnn_model_desc_validate(d, input, classes, NULL);
    if (status != FCNN_OK)
        return status;
    fcnn_model_init(m, input, classes);
    for (int i = 0; i < d->count && status == FCNN_OK; i++) {
        const struct fcnn_layer_desc *l = &d->layers[i];
        switch (l->kind) {
        case FCNN_LAYER_CONV2D:
            status = fcnn_add_conv2d(m, &(struct fcnn_conv2d_args){
                                            .filters = l->units, .kh = l->size[0],
                                            .kw = l->size[1], .sh = l->strides[0],
                                            .sw = l->strides[1], .padding = l->padding,
                                            .use_bias = l->use_bias, .act = l->activation });
            break;
        case FCNN_LAYER_MAXPOOL2D:
            status = fcnn_add_maxpool2d(m, l->size[0], l->size[1], l->strides[0], l->strides[1],
                                        l->padding);
            break;
        case FCNN_LAYER_AVGPOOL2D:
            status = fcnn_add_avgpool2d(m, l->size[0], l->size[1], l->strides[0], l->strides[1],
                                        l->padding);
            break;
        case FCNN_LAYER_GLOBAL_AVGPOOL2D: status = fcnn_add_global_avgpool2d(m); break;
        case FCNN_LAYER_FLATTEN: status = fcnn_add_flatten(m); break;
        case FCNN_LAYER_DENSE:
            status = fcnn_add_dense(m, l->units, l->use_bias, l->activation);
            break;
        case FCNN_LAYER_ACTIVATION: status = fcnn_add_activation(m, l->activation); break;
        case FCNN_LAYER_DROPOUT: status = fcnn_add_dropout(m, (float)l->rate); break;
        case FCNN_LAYER_BATCHNORM:
            status = fcnn_add_batchnorm(m, (float)l->momentum, (float)l->epsilon);
            break;
        case FCNN_LAYER_KIND_COUNT: status = FCNN_ERR_INVALID; break;
        }
        if (status != FCNN_OK)
            return builder_failed(d, l, status);
    }
    return fcnn_model_desc_spec(d, m->spec, sizeof m->spec);
}

/* --- the normalised spec --- */

/* The shortest decimal text that reads back as exactly `v`. */
static void number_text(double v, char *out, size_t size)
{
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(out, size, "%.*g", precision, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

static void pair_text(const int *v, char *out, size_t size)
{
    if (v[0] == v[1])
        snprintf(out, size, "%d", v[0]);
    else
        snprintf(out, size, "%dx%d", v[0], v[1]);
}

struct text {
    char *out;
    size_t size, used;
    bool overflow;
};

__attribute__((format(printf, 2, 3)))
static void put(struct text *t, const char *fmt, ...)
{
    if (t->overflow)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->out + t->used, t->size - t->used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= t->size - t->used)
        t->overflow = true;
    else
        t->used += (size_t)n;
}

/* Appends ",ARG" or "(ARG" for the layer's next argument. */
static void arg(struct text *t, int *args, const char *fmt, const char *value)
{
    put(t, *args ? "," : "(");
    put(t, fmt, value);
    (*args)++;
}

static void layer_spec(struct text *t, const struct fcnn_layer_desc *l)
{
    char a[64], b[64];
    int args = 0;
    put(t, "%s", kind_names[l->kind].spec);
    switch (l->kind) {
    case FCNN_LAYER_CONV2D:
        snprintf(a, sizeof a, "%d", l->units);
        arg(t, &args, "%s", a);
        pair_text(l->size, a, sizeof a);
        arg(t, &args, "%s", a);
        if (l->activation != FCNN_ACT_NONE)
            arg(t, &args, "%s", activation_names[l->activation]);
        if (l->strides[0] != 1 || l->strides[1] != 1) {
            pair_text(l->strides, b, sizeof b);
            arg(t, &args, "strides=%s", b);
        }
        if (l->padding == FCNN_PADDING_SAME)
            arg(t, &args, "%s", "padding=same");
        if (!l->use_bias)
            arg(t, &args, "%s", "use_bias=false");
        break;
    case FCNN_LAYER_MAXPOOL2D:
    case FCNN_LAYER_AVGPOOL2D:
        pair_text(l->size, a, sizeof a);
        arg(t, &args, "%s", a);
        if (l->strides[0] != l->size[0] || l->strides[1] != l->size[1]) {
            pair_text(l->strides, b, sizeof b);
            arg(t, &args, "strides=%s", b);
        }
        if (l->padding == FCNN_PADDING_SAME)
            arg(t, &args, "%s", "padding=same");
        break;
    case FCNN_LAYER_DENSE:
        snprintf(a, sizeof a, "%d", l->units);
        arg(t, &args, "%s", a);
        if (l->activation != FCNN_ACT_NONE)
            arg(t, &args, "%s", activation_names[l->activation]);
        if (!l->use_bias)
            arg(t, &args, "%s", "use_bias=false");
        break;
    case FCNN_LAYER_ACTIVATION:
        arg(t, &args, "%s", activation_names[l->activation]);
        break;
    case FCNN_LAYER_DROPOUT:
        number_text(l->rate, a, sizeof a);
        arg(t, &args, "%s", a);
        break;
    case FCNN_LAYER_BATCHNORM:
        if (l->momentum != 0.99) {
            number_text(l->momentum, a, sizeof a);
            arg(t, &args, "momentum=%s", a);
        }
        if (l->epsilon != 1e-3) {
            number_text(l->epsilon, a, sizeof a);
            arg(t, &args, "epsilon=%s", a);
        }
        break;
    case FCNN_LAYER_GLOBAL_AVGPOOL2D:
    case FCNN_LAYER_FLATTEN:
    case FCNN_LAYER_KIND_COUNT:
        break;
    }
    if (args)
        put(t, ")");
}

int fcnn_model_desc_spec(const struct fcnn_model_desc *d, char *out, size_t size)
{
    struct text t = { out, size, 0, size == 0 };
    if (size)
        out[0] = '\0';
    for (int i = 0; i < d->count; i++) {
        if (i)
            put(&t, " ");
        layer_spec(&t, &d->layers[i]);
    }
    if (t.overflow)
        return fcnn_error(FCNN_ERR_INVALID, "the model's spec is longer than %zu characters",
                          size);
    return FCNN_OK;
}

int fcnn_model_desc_parse(const char *text, struct fcnn_model_desc *d)
{
    size_t n = strlen(text);
    if (n > 5 && strcmp(text + n - 5, ".json") == 0)
        return fcnn_model_json_read(text, d);
    return fcnn_model_spec_parse(text, NULL, d);
}
