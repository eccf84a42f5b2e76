/* Keras 3's model.to_json() of a Sequential model, read with jansson into a model
 * description. Every key of every config is either understood (filters, strides, rate...)
 * or accepted only at the value Keras writes by default (dilation_rate [1, 1], groups 1,
 * channels_last, no regularizers, trainable, the default initializers...); anything else
 * is refused with its JSON path, so nothing in the file is silently ignored. Layer names
 * are not kept: fcnn names layers Keras's default way. */
#include <config.h>

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/file.h"
#include "core/quote.h"
#include "core/status.h"
#include "nn/model_desc.h"

struct reader {
    struct fcnn_model_desc *d;
};

__attribute__((format(printf, 3, 4)))
static int refuse(const struct reader *r, const char *path, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    /* The path holds the file's own keys, escaped so that one with a line break in it
     * cannot break the message over lines. */
    return fcnn_error(FCNN_ERR_INVALID, "%s: %s: %s", r->d->origin, fcnn_escape(path), what);
}

/* --- values Keras writes by default --- */

static bool is_int(const json_t *v, long long want)
{
    return json_is_integer(v) && json_integer_value(v) == want;
}

static bool is_string(const json_t *v, const char *want)
{
    return json_is_string(v) && strcmp(json_string_value(v), want) == 0;
}

/* [a, a] or a */
static bool is_pair_of(const json_t *v, long long want)
{
    if (json_is_integer(v))
        return json_integer_value(v) == want;
    return json_is_array(v) && json_array_size(v) == 2 && is_int(json_array_get(v, 0), want) &&
           is_int(json_array_get(v, 1), want);
}

/* Keras's float32 dtype policy, as an object or a plain name. */
static bool is_float32_policy(const json_t *v)
{
    if (json_is_null(v) || is_string(v, "float32"))
        return true;
    const json_t *config = json_object_get(v, "config");
    return json_is_object(v) && is_string(json_object_get(v, "class_name"), "DTypePolicy") &&
           is_string(json_object_get(config, "name"), "float32");
}

/* An initializer of class `keras_class` (or its snake_case name) with an empty config, or
 * one whose entries are all null (GlorotUniform's seed: fcnn draws from its own seeded
 * generator). */
static bool is_initializer(const json_t *v, const char *keras_class, const char *snake)
{
    if (is_string(v, snake))
        return true;
    if (!json_is_object(v) || !is_string(json_object_get(v, "class_name"), keras_class))
        return false;
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)v, key, value) {
        if (strcmp(key, "class_name") == 0)
            continue;
        if (strcmp(key, "module") == 0 && !is_string(value, "keras.initializers"))
            return false;
        if (strcmp(key, "registered_name") == 0 && !json_is_null(value))
            return false;
        if (strcmp(key, "config") == 0) {
            if (!json_is_object(value))
                return false;
            const char *k;
            json_t *c;
            json_object_foreach(value, k, c)
                if (!json_is_null(c))
                    return false;
        } else if (strcmp(key, "module") != 0 && strcmp(key, "registered_name") != 0) {
            return false;
        }
    }
    return true;
}

/* A config key fcnn does not act on, accepted at its Keras default. Returns -1 when the
 * key is not one of these, 1 when it holds the default, 0 when it holds anything else. */
static int default_only(const char *key, const json_t *v, const char **want)
{
    static const char *const null_keys[] = {
        "kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
        "bias_constraint", "beta_regularizer", "gamma_regularizer", "beta_constraint",
        "gamma_constraint", "quantization_config", "renorm_clipping", "noise_shape", "seed",
        "lora_rank", "lora_alpha",
    };
    static const struct {
        const char *key, *keras_class, *snake;
    } initializers[] = {
        { "kernel_initializer", "GlorotUniform", "glorot_uniform" },
        { "bias_initializer", "Zeros", "zeros" },
        { "beta_initializer", "Zeros", "zeros" },
        { "gamma_initializer", "Ones", "ones" },
        { "moving_mean_initializer", "Zeros", "zeros" },
        { "moving_variance_initializer", "Ones", "ones" },
    };
    for (size_t i = 0; i < sizeof null_keys / sizeof null_keys[0]; i++)
        if (strcmp(key, null_keys[i]) == 0) {
            *want = "null";
            return json_is_null(v);
        }
    for (size_t i = 0; i < sizeof initializers / sizeof initializers[0]; i++)
        if (strcmp(key, initializers[i].key) == 0) {
            *want = initializers[i].keras_class;
            return is_initializer(v, initializers[i].keras_class, initializers[i].snake);
        }
    if (strcmp(key, "trainable") == 0) {
        *want = "true (fcnn trains every layer)";
        return json_is_true(v);
    }
    if (strcmp(key, "dtype") == 0) {
        *want = "float32";
        return is_float32_policy(v);
    }
    if (strcmp(key, "data_format") == 0) {
        *want = "channels_last";
        return is_string(v, "channels_last");
    }
    if (strcmp(key, "dilation_rate") == 0) {
        *want = "[1, 1]";
        return is_pair_of(v, 1);
    }
    if (strcmp(key, "groups") == 0) {
        *want = "1";
        return is_int(v, 1);
    }
    if (strcmp(key, "keepdims") == 0 || strcmp(key, "synchronized") == 0 ||
        strcmp(key, "renorm") == 0) {
        *want = "false";
        return json_is_false(v);
    }
    if (strcmp(key, "center") == 0 || strcmp(key, "scale") == 0) {
        *want = "true";
        return json_is_true(v);
    }
    if (strcmp(key, "axis") == 0) {
        *want = "-1 (the channels)";
        return is_int(v, -1);
    }
    if (strcmp(key, "renorm_momentum") == 0) { /* unused while renorm is false */
        *want = "a number";
        return json_is_number(v);
    }
    if (strcmp(key, "name") == 0) { /* fcnn names layers Keras's default way */
        *want = "a string";
        return json_is_string(v);
    }
    return -1;
}

/* --- understood values --- */

/* Every integer a layer takes is a count or a size: a sign is refused here, as the spec
 * grammar refuses it (0 and sizes too large are the validator's to name). */
static int read_int(const struct reader *r, const char *path, const json_t *v, int *out)
{
    if (json_is_integer(v) && json_integer_value(v) < 0)
        return refuse(r, path, "expected a positive integer, not %lld",
                      (long long)json_integer_value(v));
    if (!json_is_integer(v) || json_integer_value(v) > 1000000000)
        return refuse(r, path, "expected an integer");
    *out = (int)json_integer_value(v);
    return FCNN_OK;
}

/* [rows, columns] or one integer for both. */
static int read_pair(const struct reader *r, const char *path, const json_t *v, int *out)
{
    if (json_is_integer(v)) {
        int status = read_int(r, path, v, &out[0]);
        out[1] = out[0];
        return status;
    }
    if (!json_is_array(v) || json_array_size(v) != 2)
        return refuse(r, path, "expected [rows, columns]");
    int status = read_int(r, path, json_array_get(v, 0), &out[0]);
    if (status == FCNN_OK)
        status = read_int(r, path, json_array_get(v, 1), &out[1]);
    return status;
}

static int read_real(const struct reader *r, const char *path, const json_t *v, double *out)
{
    if (!json_is_number(v))
        return refuse(r, path, "expected a number");
    *out = json_number_value(v);
    return FCNN_OK;
}

static int read_activation(const struct reader *r, const char *path, const json_t *v,
                           enum fcnn_activation *out)
{
    int act = json_is_string(v) ? fcnn_activation_from_name(json_string_value(v)) : -1;
    if (act < 0)
        return refuse(r, path, "unsupported activation %s%s%s (fcnn has linear, relu, "
                      "sigmoid, tanh, softmax)", json_is_string(v) ? "'" : "",
                      json_is_string(v) ? fcnn_escape(json_string_value(v)) : "of this form",
                      json_is_string(v) ? "'" : "");
    *out = (enum fcnn_activation)act;
    return FCNN_OK;
}

static int read_padding(const struct reader *r, const char *path, const json_t *v,
                        enum fcnn_padding *out)
{
    if (is_string(v, "valid"))
        *out = FCNN_PADDING_VALID;
    else if (is_string(v, "same"))
        *out = FCNN_PADDING_SAME;
    else
        return refuse(r, path, "padding must be \"valid\" or \"same\"");
    return FCNN_OK;
}

/* The keys each class understands (beside the default-only ones). */
static const struct {
    const char *class_name;
    enum fcnn_layer_kind kind;
    enum fcnn_desc_arg args[6];
} classes[] = {
    { "Conv2D", FCNN_LAYER_CONV2D, { FCNN_ARG_UNITS, FCNN_ARG_SIZE, FCNN_ARG_STRIDES,
                                     FCNN_ARG_PADDING, FCNN_ARG_ACTIVATION, FCNN_ARG_USE_BIAS } },
    { "MaxPooling2D", FCNN_LAYER_MAXPOOL2D, { FCNN_ARG_SIZE, FCNN_ARG_STRIDES, FCNN_ARG_PADDING } },
    { "AveragePooling2D", FCNN_LAYER_AVGPOOL2D,
      { FCNN_ARG_SIZE, FCNN_ARG_STRIDES, FCNN_ARG_PADDING } },
    { "GlobalAveragePooling2D", FCNN_LAYER_GLOBAL_AVGPOOL2D, { FCNN_ARG_LAYER } },
    { "Flatten", FCNN_LAYER_FLATTEN, { FCNN_ARG_LAYER } },
    { "Dense", FCNN_LAYER_DENSE, { FCNN_ARG_UNITS, FCNN_ARG_ACTIVATION, FCNN_ARG_USE_BIAS } },
    { "Activation", FCNN_LAYER_ACTIVATION, { FCNN_ARG_ACTIVATION } },
    { "Dropout", FCNN_LAYER_DROPOUT, { FCNN_ARG_RATE } },
    { "BatchNormalization", FCNN_LAYER_BATCHNORM, { FCNN_ARG_MOMENTUM, FCNN_ARG_EPSILON } },
};

static int understood_arg(size_t cls, const char *key)
{
    for (int i = 0; i < 6; i++) {
        enum fcnn_desc_arg a = classes[cls].args[i];
        if (a != FCNN_ARG_LAYER && strcmp(fcnn_desc_arg_name(classes[cls].kind, a), key) == 0)
            return a;
    }
    return -1;
}

static int read_arg(const struct reader *r, struct fcnn_layer_desc *l, enum fcnn_desc_arg a,
                    const char *path, const json_t *v)
{
    switch (a) {
    case FCNN_ARG_UNITS: return read_int(r, path, v, &l->units);
    case FCNN_ARG_SIZE: return read_pair(r, path, v, l->size);
    case FCNN_ARG_STRIDES:
        if (json_is_null(v)) /* pooling's strides=None: the pool size */
            return FCNN_OK;
        l->column[FCNN_ARG_STRIDES] = 1; /* given (JSON has no columns; pooling's default) */
        return read_pair(r, path, v, l->strides);
    case FCNN_ARG_PADDING: return read_padding(r, path, v, &l->padding);
    case FCNN_ARG_ACTIVATION: return read_activation(r, path, v, &l->activation);
    case FCNN_ARG_USE_BIAS:
        if (!json_is_boolean(v))
            return refuse(r, path, "expected true or false");
        l->use_bias = json_is_true(v);
        return FCNN_OK;
    case FCNN_ARG_RATE: return read_real(r, path, v, &l->rate);
    case FCNN_ARG_MOMENTUM: return read_real(r, path, v, &l->momentum);
    case FCNN_ARG_EPSILON: return read_real(r, path, v, &l->epsilon);
    case FCNN_ARG_LAYER:
    case FCNN_ARG_COUNT: break;
    }
    return refuse(r, path, "not understood");
}

/* The keys beside "config" that every serialized Keras object may carry. */
static int check_envelope(const struct reader *r, const char *path, const json_t *object,
                          const char *module, bool layer)
{
    const char *key;
    json_t *v;
    char at[160];
    json_object_foreach((json_t *)object, key, v) {
        snprintf(at, sizeof at, "%s%s%s", path, *path ? "." : "", key);
        if (strcmp(key, "class_name") == 0 || strcmp(key, "config") == 0)
            continue;
        if (strcmp(key, "module") == 0) {
            if (!is_string(v, module))
                return refuse(r, at, "expected \"%s\"", module);
        } else if (strcmp(key, "registered_name") == 0) {
            if (!json_is_null(v))
                return refuse(r, at, "custom objects are not supported");
        } else if (layer && strcmp(key, "build_config") == 0) {
            /* The shape Keras built the layer for (read_built_input keeps it). */
            if (!json_is_object(v) || json_object_size(v) != 1 ||
                !json_is_array(json_object_get(v, "input_shape")))
                return refuse(r, at, "expected {\"input_shape\": [...]}");
        } else if (!layer && (strcmp(key, "build_config") == 0 ||
                              strcmp(key, "compile_config") == 0)) {
            if (!json_is_null(v) && !(json_is_object(v) && (strcmp(key, "build_config") == 0 ||
                                                            json_object_size(v) == 0)))
                return refuse(r, at, "a compiled model is not supported: fcnn takes the "
                              "optimizer and loss from its options (save the model before "
                              "compile())");
        } else {
            return refuse(r, at, "unsupported key");
        }
    }
    return FCNN_OK;
}

/* A Keras shape with its batch dimension: [null, d1, ...], min_dims to 3 sizes of 1..limit. */
static bool read_shape(const json_t *v, int min_dims, json_int_t limit, struct fcnn_shape *out)
{
    size_t n = json_array_size(v);
    if (!json_is_array(v) || n < (size_t)min_dims + 1 || n > 4 ||
        !json_is_null(json_array_get(v, 0)))
        return false;
    out->ndim = (int)n - 1;
    for (size_t i = 1; i < n; i++) {
        const json_t *dim = json_array_get(v, i);
        if (!json_is_integer(dim) || json_integer_value(dim) < 1 ||
            json_integer_value(dim) > limit)
            return false;
        out->dims[i - 1] = (int)json_integer_value(dim);
    }
    return true;
}

/* [null, rows, columns, channels] */
static int read_batch_shape(const struct reader *r, const char *path, const json_t *v,
                            struct fcnn_shape *out)
{
    if (!read_shape(v, 3, 65536, out))
        return refuse(r, path, "expected [null, rows, columns, channels]");
    return FCNN_OK;
}

/* build_config.input_shape: one to three dimensions; compared with the inferred shape when
 * the model is validated. */
static int read_built_input(const struct reader *r, const char *path, const json_t *v,
                            struct fcnn_layer_desc *l)
{
    char at[160];
    snprintf(at, sizeof at, "%s.build_config.input_shape", path);
    if (!read_shape(v, 1, 1 << 24, &l->built_input))
        return refuse(r, at, "expected [null, dimensions...] of positive sizes");
    l->has_built_input = true;
    return FCNN_OK;
}

static int read_input_layer(struct reader *r, const char *path, const json_t *config)
{
    const char *key;
    json_t *v;
    char at[160];
    json_object_foreach((json_t *)config, key, v) {
        snprintf(at, sizeof at, "%s.config.%s", path, key);
        if (strcmp(key, "batch_shape") == 0) {
            int status = read_batch_shape(r, at, v, &r->d->input);
            if (status != FCNN_OK)
                return status;
            r->d->has_input = true;
        } else if (strcmp(key, "dtype") == 0) {
            if (!is_float32_policy(v))
                return refuse(r, at, "only float32 inputs are supported");
        } else if (strcmp(key, "sparse") == 0 || strcmp(key, "ragged") == 0 ||
                   strcmp(key, "optional") == 0) {
            if (!json_is_false(v))
                return refuse(r, at, "only false is supported");
        } else if (strcmp(key, "name") == 0) {
            if (!json_is_string(v))
                return refuse(r, at, "expected a string");
        } else {
            return refuse(r, at, "unsupported key");
        }
    }
    if (!r->d->has_input)
        return refuse(r, path, "InputLayer without batch_shape");
    return FCNN_OK;
}

static int read_layer(struct reader *r, size_t index, const json_t *layer)
{
    char path[48], at[160];
    snprintf(path, sizeof path, "config.layers[%zu]", index);
    if (!json_is_object(layer))
        return refuse(r, path, "expected a layer object");
    const json_t *class_name = json_object_get(layer, "class_name");
    const json_t *config = json_object_get(layer, "config");
    snprintf(at, sizeof at, "%s.class_name", path);
    if (!json_is_string(class_name))
        return refuse(r, at, "missing");
    snprintf(at, sizeof at, "%s.config", path);
    if (!json_is_object(config))
        return refuse(r, at, "missing");
    int status = check_envelope(r, path, layer, "keras.layers", true);
    if (status != FCNN_OK)
        return status;
    const char *name = json_string_value(class_name);
    if (strcmp(name, "InputLayer") == 0) {
        if (index != 0)
            return refuse(r, path, "InputLayer must be the first layer");
        return read_input_layer(r, path, config);
    }
    size_t cls = 0;
    while (cls < sizeof classes / sizeof classes[0] && strcmp(classes[cls].class_name, name) != 0)
        cls++;
    snprintf(at, sizeof at, "%s.class_name", path);
    if (cls == sizeof classes / sizeof classes[0])
        return refuse(r, at, "unsupported layer '%s' (fcnn has Conv2D, MaxPooling2D, "
                      "AveragePooling2D, GlobalAveragePooling2D, Flatten, Dense, Activation, "
                      "Dropout, BatchNormalization)", fcnn_escape(name));
    if (r->d->count == FCNN_MAX_LAYERS)
        return refuse(r, path, "a model has at most %d layers", FCNN_MAX_LAYERS);

    struct fcnn_layer_desc *l = &r->d->layers[r->d->count++];
    fcnn_layer_desc_defaults(l, classes[cls].kind);
    snprintf(l->path, sizeof l->path, "%s", path);
    const json_t *build = json_object_get(layer, "build_config");
    if (build && (status = read_built_input(r, path, json_object_get(build, "input_shape"),
                                            l)) != FCNN_OK)
        return status;
    bool seen[FCNN_ARG_COUNT] = { false };
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)config, key, v) {
        snprintf(at, sizeof at, "%s.config.%s", path, key);
        int a = understood_arg(cls, key);
        if (a >= 0) {
            seen[a] = true;
            if ((status = read_arg(r, l, (enum fcnn_desc_arg)a, at, v)) != FCNN_OK)
                return status;
            continue;
        }
        const char *want = "";
        int fixed = default_only(key, v, &want);
        if (fixed < 0)
            return refuse(r, at, "unsupported key for %s", name);
        if (fixed == 0)
            return refuse(r, at, "only %s is supported", want);
    }
    /* What Keras always writes, and fcnn cannot guess. */
    static const enum fcnn_desc_arg required[] = { FCNN_ARG_UNITS, FCNN_ARG_SIZE,
                                                   FCNN_ARG_RATE, FCNN_ARG_ACTIVATION };
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        enum fcnn_desc_arg a = required[i];
        bool needed = understood_arg(cls, fcnn_desc_arg_name(l->kind, a)) >= 0 &&
                      (a != FCNN_ARG_ACTIVATION || l->kind == FCNN_LAYER_ACTIVATION) &&
                      (a != FCNN_ARG_SIZE || l->kind == FCNN_LAYER_CONV2D);
        snprintf(at, sizeof at, "%s.config", path);
        if (needed && !seen[a])
            return refuse(r, at, "%s is missing", fcnn_desc_arg_name(l->kind, a));
    }
    if ((l->kind == FCNN_LAYER_MAXPOOL2D || l->kind == FCNN_LAYER_AVGPOOL2D) &&
        !l->column[FCNN_ARG_STRIDES]) {
        l->strides[0] = l->size[0];
        l->strides[1] = l->size[1];
    }
    return FCNN_OK;
}

static int read_model(struct reader *r, const json_t *root)
{
    if (!json_is_object(root))
        return refuse(r, "(top)", "expected a JSON object (Keras's model.to_json())");
    const json_t *class_name = json_object_get(root, "class_name");
    if (!is_string(class_name, "Sequential"))
        return refuse(r, "class_name", "only Sequential models are supported, not %s",
                      json_is_string(class_name) ? fcnn_quote(json_string_value(class_name))
                                                 : "this");
    int status = check_envelope(r, "", root, "keras", false);
    if (status != FCNN_OK)
        return status;
    const json_t *config = json_object_get(root, "config");
    if (!json_is_object(config))
        return refuse(r, "config", "missing");
    const json_t *layers = json_object_get(config, "layers");
    if (!json_is_array(layers))
        return refuse(r, "config.layers", "missing");
    const char *key;
    json_t *v;
    char at[160];
    json_object_foreach((json_t *)config, key, v) {
        snprintf(at, sizeof at, "config.%s", key);
        if (strcmp(key, "layers") == 0 || strcmp(key, "build_input_shape") == 0)
            continue;
        const char *want = "";
        int fixed = strcmp(key, "name") == 0 || strcmp(key, "trainable") == 0 ||
                    strcmp(key, "dtype") == 0 ? default_only(key, v, &want) : -1;
        if (fixed < 0)
            return refuse(r, at, "unsupported key");
        if (fixed == 0)
            return refuse(r, at, "only %s is supported", want);
    }
    for (size_t i = 0; i < json_array_size(layers); i++)
        if ((status = read_layer(r, i, json_array_get(layers, i))) != FCNN_OK)
            return status;
    /* The model's input shape, when its layers carry none. */
    const json_t *build = json_object_get(config, "build_input_shape");
    if (build && !json_is_null(build)) {
        struct fcnn_shape shape;
        if ((status = read_batch_shape(r, "config.build_input_shape", build, &shape)) != FCNN_OK)
            return status;
        if (r->d->has_input && memcmp(&shape, &r->d->input, sizeof shape) != 0)
            return refuse(r, "config.build_input_shape", "differs from the InputLayer's "
                          "batch_shape");
        r->d->input = shape;
        r->d->has_input = true;
    }
    return FCNN_OK;
}

int fcnn_model_json_read(const char *path, struct fcnn_model_desc *d)
{
    memset(d, 0, sizeof *d);
    d->source = FCNN_DESC_JSON;
    /* Quoted once here: every message about the file starts with it. */
    snprintf(d->origin, sizeof d->origin, "%s", fcnn_quote(path));
    /* Opened by us, so a FIFO or device named by mistake is refused instead of read. */
    FILE *f;
    int status = fcnn_file_open_read(path, &f);
    if (status != FCNN_OK)
        return status;
    json_error_t error;
    json_t *root = json_loadf(f, JSON_REJECT_DUPLICATES, &error);
    fclose(f);
    /* jansson's excerpt ("near '...'") is the file's own bytes: escaped to stay one line. */
    if (!root)
        return fcnn_error_one_line(fcnn_error(FCNN_ERR_INVALID, "%s: line %d column %d: %s",
                                              fcnn_quote(path), error.line, error.column,
                                              error.text));
    struct reader r = { d };
    status = read_model(&r, root);
    json_decref(root);
    /* Refused here as the spec parser refuses an empty spec, not first when it is built:
     * every description that reads can be said as a spec. */
    if (status == FCNN_OK && d->count == 0)
        status = fcnn_desc_error(d, NULL, FCNN_ARG_LAYER, "the model has no layers");
    return status;
}
