/* The --model spec: a one-line model in Keras's layer and argument names.
 *
 *   spec   = layer { whitespace layer }
 *   layer  = name [ "(" [ arg { "," arg } ] ")" ]
 *   arg    = [ key "=" ] value            value: 32 | 3x5 | 0.25 | relu | same | false
 *
 * Positional values are recognised by what they are: numbers fill the layer's numeric
 * arguments in Keras's order (conv2d: filters, kernel_size, strides), an activation name
 * is the activation and valid/same the padding; anything else goes by keyword. Errors
 * name the column. */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/status.h"
#include "nn/model_desc.h"

/* Layer names: the short spec name, then Keras's snake_case and class names (compared
 * without case). */
static const struct {
    const char *name;
    enum fcnn_layer_kind kind;
} layer_names[] = {
    { "conv2d", FCNN_LAYER_CONV2D },
    { "maxpool", FCNN_LAYER_MAXPOOL2D },
    { "max_pooling2d", FCNN_LAYER_MAXPOOL2D },
    { "maxpooling2d", FCNN_LAYER_MAXPOOL2D },
    { "avgpool", FCNN_LAYER_AVGPOOL2D },
    { "average_pooling2d", FCNN_LAYER_AVGPOOL2D },
    { "averagepooling2d", FCNN_LAYER_AVGPOOL2D },
    { "globalavgpool", FCNN_LAYER_GLOBAL_AVGPOOL2D },
    { "global_average_pooling2d", FCNN_LAYER_GLOBAL_AVGPOOL2D },
    { "globalaveragepooling2d", FCNN_LAYER_GLOBAL_AVGPOOL2D },
    { "flatten", FCNN_LAYER_FLATTEN },
    { "dense", FCNN_LAYER_DENSE },
    { "activation", FCNN_LAYER_ACTIVATION },
    { "dropout", FCNN_LAYER_DROPOUT },
    { "batchnorm", FCNN_LAYER_BATCHNORM },
    { "batch_normalization", FCNN_LAYER_BATCHNORM },
    { "batchnormalization", FCNN_LAYER_BATCHNORM },
};

/* The arguments each kind takes, numeric positional ones first in Keras's order. */
static const struct {
    enum fcnn_desc_arg args[6];
    int positional_numbers;
    const char *usage;
} kind_args[FCNN_LAYER_KIND_COUNT] = {
    [FCNN_LAYER_CONV2D] = { { FCNN_ARG_UNITS, FCNN_ARG_SIZE, FCNN_ARG_STRIDES, FCNN_ARG_PADDING,
                              FCNN_ARG_ACTIVATION, FCNN_ARG_USE_BIAS }, 3,
                            "conv2d(FILTERS,KERNEL[,STRIDES][,ACTIVATION][,padding=valid|same]"
                            "[,use_bias=true|false])" },
    [FCNN_LAYER_MAXPOOL2D] = { { FCNN_ARG_SIZE, FCNN_ARG_STRIDES, FCNN_ARG_PADDING }, 2,
                               "maxpool([POOL[,STRIDES]][,padding=valid|same])" },
    [FCNN_LAYER_AVGPOOL2D] = { { FCNN_ARG_SIZE, FCNN_ARG_STRIDES, FCNN_ARG_PADDING }, 2,
                               "avgpool([POOL[,STRIDES]][,padding=valid|same])" },
    [FCNN_LAYER_GLOBAL_AVGPOOL2D] = { { FCNN_ARG_LAYER }, 0, "globalavgpool" },
    [FCNN_LAYER_FLATTEN] = { { FCNN_ARG_LAYER }, 0, "flatten" },
    [FCNN_LAYER_DENSE] = { { FCNN_ARG_UNITS, FCNN_ARG_ACTIVATION, FCNN_ARG_USE_BIAS }, 1,
                           "dense(UNITS[,ACTIVATION][,use_bias=true|false])" },
    [FCNN_LAYER_ACTIVATION] = { { FCNN_ARG_ACTIVATION }, 0,
                                "activation(linear|relu|sigmoid|tanh|softmax)" },
    [FCNN_LAYER_DROPOUT] = { { FCNN_ARG_RATE }, 1, "dropout(RATE)" },
    [FCNN_LAYER_BATCHNORM] = { { FCNN_ARG_MOMENTUM, FCNN_ARG_EPSILON }, 0,
                               "batchnorm[(momentum=0.99,epsilon=0.001)]" },
};

struct parser {
    const char *text;
    size_t at;
    struct fcnn_model_desc *d;
};

static int column(const struct parser *p, size_t at)
{
    (void)p; /* columns count from the start of the spec, 1-based */
    return (int)at + 1;
}

static void skip_space(struct parser *p)
{
    while (isspace((unsigned char)p->text[p->at]))
        p->at++;
}

static bool takes(enum fcnn_layer_kind kind, enum fcnn_desc_arg arg)
{
    for (int i = 0; i < 6; i++)
        if (kind_args[kind].args[i] == arg && arg != FCNN_ARG_LAYER)
            return true;
    return false;
}

/* An error at a column, before or outside any layer. */
static int error_at(const struct parser *p, size_t at, const char *what, const char *detail)
{
    return fcnn_error(FCNN_ERR_INVALID, "%s column %d: %s%s", p->d->origin, column(p, at), what,
                      detail);
}

static bool parse_int(const char *text, int *out)
{
    if (!isdigit((unsigned char)text[0]))
        return false;
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end || v > 1000000000)
        return false;
    *out = (int)v;
    return true;
}

/* "3" (both axes) or "3x5" (rows x columns). */
static bool parse_pair(const char *text, int *out)
{
    char first[32];
    const char *x = strchr(text, 'x');
    if (!x)
        return parse_int(text, &out[0]) && parse_int(text, &out[1]);
    if ((size_t)(x - text) >= sizeof first)
        return false;
    memcpy(first, text, (size_t)(x - text));
    first[x - text] = '\0';
    return parse_int(first, &out[0]) && parse_int(x + 1, &out[1]);
}

static bool parse_real(const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

static bool is_number(const char *text)
{
    if (text[0] == '-' || text[0] == '+') /* a sign: out of range, said by the validator */
        text++;
    return isdigit((unsigned char)text[0]) || (text[0] == '.' && isdigit((unsigned char)text[1]));
}

/* Sets one argument from its text; `at` is where the value starts, for errors. */
static int set_arg(struct parser *p, struct fcnn_layer_desc *l, enum fcnn_desc_arg arg,
                   const char *value, size_t at)
{
    const char *name = fcnn_desc_arg_name(l->kind, arg);
    const char *layer = fcnn_layer_kind_spec_name(l->kind);
    bool ok = true;
    int act;
    switch (arg) {
    case FCNN_ARG_UNITS: ok = parse_int(value, &l->units); break;
    case FCNN_ARG_SIZE: ok = parse_pair(value, l->size); break;
    case FCNN_ARG_STRIDES: ok = parse_pair(value, l->strides); break;
    case FCNN_ARG_RATE: ok = parse_real(value, &l->rate); break;
    case FCNN_ARG_MOMENTUM: ok = parse_real(value, &l->momentum); break;
    case FCNN_ARG_EPSILON: ok = parse_real(value, &l->epsilon); break;
    case FCNN_ARG_PADDING:
        if (strcmp(value, "valid") == 0)
            l->padding = FCNN_PADDING_VALID;
        else if (strcmp(value, "same") == 0)
            l->padding = FCNN_PADDING_SAME;
        else
            return fcnn_error(FCNN_ERR_INVALID, "%s column %d: %s: padding must be valid or "
                              "same, not '%s'", p->d->origin, column(p, at), layer, value);
        break;
    case FCNN_ARG_ACTIVATION:
        act = fcnn_activation_from_name(value);
        if (act < 0)
            return fcnn_error(FCNN_ERR_INVALID, "%s column %d: %s: unknown activation '%s' "
                              "(fcnn has linear, relu, sigmoid, tanh, softmax)", p->d->origin,
                              column(p, at), layer, value);
        l->activation = (enum fcnn_activation)act;
        break;
    case FCNN_ARG_USE_BIAS:
        if (strcasecmp(value, "true") == 0)
            l->use_bias = true;
        else if (strcasecmp(value, "false") == 0)
            l->use_bias = false;
        else
            ok = false;
        break;
    case FCNN_ARG_LAYER:
    case FCNN_ARG_COUNT:
        ok = false;
        break;
    }
    if (!ok) {
        const char *want = arg == FCNN_ARG_SIZE || arg == FCNN_ARG_STRIDES
                               ? "a positive integer or ROWSxCOLS"
                           : arg == FCNN_ARG_UNITS    ? "a positive integer"
                           : arg == FCNN_ARG_USE_BIAS ? "true or false"
                                                      : "a number";
        return fcnn_error(FCNN_ERR_INVALID, "%s column %d: %s: %s must be %s, not '%s'",
                          p->d->origin, column(p, at), layer, name, want, value);
    }
    return FCNN_OK;
}

/* The argument a key names for this kind, or -1. */
static int arg_of_key(enum fcnn_layer_kind kind, const char *key)
{
    for (int a = FCNN_ARG_UNITS; a < FCNN_ARG_COUNT; a++)
        if (takes(kind, (enum fcnn_desc_arg)a) &&
            strcmp(fcnn_desc_arg_name(kind, (enum fcnn_desc_arg)a), key) == 0)
            return a;
    return -1;
}

/* The argument a positional value fills: the next numeric one, or the one a word names. */
static int arg_of_value(const struct fcnn_layer_desc *l, const char *value, int *numbers)
{
    enum fcnn_layer_kind kind = l->kind;
    if (is_number(value)) {
        if (*numbers >= kind_args[kind].positional_numbers)
            return -1;
        return kind_args[kind].args[(*numbers)++];
    }
    if (takes(kind, FCNN_ARG_ACTIVATION) && fcnn_activation_from_name(value) >= 0)
        return FCNN_ARG_ACTIVATION;
    if (takes(kind, FCNN_ARG_PADDING) && (strcmp(value, "valid") == 0 || strcmp(value, "same") == 0))
        return FCNN_ARG_PADDING;
    return -1;
}

/* "(arg, arg, ...)" after a layer's name. */
static int parse_args(struct parser *p, struct fcnn_layer_desc *l)
{
    const char *layer = fcnn_layer_kind_spec_name(l->kind);
    size_t open = p->at++;
    int numbers = 0;
    skip_space(p);
    if (p->text[p->at] == ')') {
        p->at++;
        return FCNN_OK;
    }
    for (;;) {
        skip_space(p);
        size_t start = p->at;
        size_t end = start + strcspn(p->text + start, ",)= \t\n");
        char key[48] = "", value[48];
        size_t value_at = start;
        if (end == start)
            return p->text[start] ? error_at(p, start, "expected an argument", "")
                                  : error_at(p, open, "this '(' is never closed", "");
        if (end - start >= sizeof value)
            return error_at(p, start, "argument too long", "");
        memcpy(value, p->text + start, end - start);
        value[end - start] = '\0';
        p->at = end;
        skip_space(p);
        if (p->text[p->at] == '=') { /* key=value */
            snprintf(key, sizeof key, "%s", value);
            p->at++;
            skip_space(p);
            value_at = p->at;
            end = value_at + strcspn(p->text + value_at, ",)= \t\n");
            if (end == value_at || end - value_at >= sizeof value)
                return error_at(p, value_at, "expected a value after '='", "");
            memcpy(value, p->text + value_at, end - value_at);
            value[end - value_at] = '\0';
            p->at = end;
            skip_space(p);
        }
        int a = key[0] ? arg_of_key(l->kind, key) : arg_of_value(l, value, &numbers);
        if (a < 0) {
            if (key[0])
                return fcnn_error(FCNN_ERR_INVALID, "%s column %d: %s: unknown argument '%s' "
                                  "(usage: %s)", p->d->origin, column(p, start), layer, key,
                                  kind_args[l->kind].usage);
            return fcnn_error(FCNN_ERR_INVALID, "%s column %d: %s: unexpected value '%s' "
                              "(usage: %s)", p->d->origin, column(p, start), layer, value,
                              kind_args[l->kind].usage);
        }
        if (l->column[a])
            return fcnn_error(FCNN_ERR_INVALID, "%s column %d: %s: %s is given twice",
                              p->d->origin, column(p, start), layer,
                              fcnn_desc_arg_name(l->kind, (enum fcnn_desc_arg)a));
        l->column[a] = column(p, start);
        int status = set_arg(p, l, (enum fcnn_desc_arg)a, value, value_at);
        if (status != FCNN_OK)
            return status;
        if (p->text[p->at] == ',') {
            p->at++;
            continue;
        }
        if (p->text[p->at] == ')') {
            p->at++;
            return FCNN_OK;
        }
        if (!p->text[p->at])
            return error_at(p, open, "this '(' is never closed", "");
        return error_at(p, p->at, "expected ',' or ')'", "");
    }
}

/* The arguments a kind cannot do without. */
static int check_required(const struct parser *p, const struct fcnn_layer_desc *l)
{
    bool missing = false;
    switch (l->kind) {
    case FCNN_LAYER_CONV2D:
        missing = !l->column[FCNN_ARG_UNITS] || !l->column[FCNN_ARG_SIZE];
        break;
    case FCNN_LAYER_DENSE: missing = !l->column[FCNN_ARG_UNITS]; break;
    case FCNN_LAYER_DROPOUT: missing = !l->column[FCNN_ARG_RATE]; break;
    case FCNN_LAYER_ACTIVATION: missing = !l->column[FCNN_ARG_ACTIVATION]; break;
    default: break;
    }
    if (missing)
        return fcnn_error(FCNN_ERR_INVALID, "%s column %d: %s is missing arguments (usage: %s)",
                          p->d->origin, l->column[FCNN_ARG_LAYER],
                          fcnn_layer_kind_spec_name(l->kind), kind_args[l->kind].usage);
    return FCNN_OK;
}

static int parse_spec(const char *spec, const char *origin, struct fcnn_model_desc *d)
{
    memset(d, 0, sizeof *d);
    d->source = FCNN_DESC_SPEC;
    snprintf(d->origin, sizeof d->origin, "%s", origin ? origin : "--model");
    struct parser p = { spec, 0, d };
    skip_space(&p);
    if (!spec[p.at])
        return fcnn_error(FCNN_ERR_INVALID, "%s: the spec is empty (for example: %s)",
                          d->origin, FCNN_REFERENCE_SPEC);
    while (spec[p.at]) {
        size_t start = p.at;
        while (isalnum((unsigned char)spec[p.at]) || spec[p.at] == '_')
            p.at++;
        if (p.at == start)
            return error_at(&p, start, "expected a layer name", "");
        char name[48];
        size_t len = p.at - start;
        snprintf(name, sizeof name, "%.*s", (int)len, spec + start);
        int kind = -1;
        for (size_t i = 0; i < sizeof layer_names / sizeof layer_names[0] && kind < 0; i++)
            if (len < sizeof name && strcasecmp(name, layer_names[i].name) == 0)
                kind = (int)layer_names[i].kind;
        if (kind < 0)
            return fcnn_error(FCNN_ERR_INVALID, "%s column %d: unknown layer '%s' (fcnn has "
                              "conv2d, maxpool, avgpool, globalavgpool, flatten, dense, "
                              "activation, dropout, batchnorm)", d->origin, column(&p, start),
                              name);
        if (d->count == FCNN_MAX_LAYERS)
            return fcnn_error(FCNN_ERR_INVALID, "%s column %d: a model has at most %d layers",
                              d->origin, column(&p, start), FCNN_MAX_LAYERS);
        struct fcnn_layer_desc *l = &d->layers[d->count++];
        fcnn_layer_desc_defaults(l, (enum fcnn_layer_kind)kind);
        l->column[FCNN_ARG_LAYER] = column(&p, start);
        size_t name_end = p.at;
        skip_space(&p);
        int status = FCNN_OK;
        if (spec[p.at] == '(')
            status = parse_args(&p, l);
        else
            p.at = name_end;
        if (status == FCNN_OK)
            status = check_required(&p, l);
        if (status != FCNN_OK)
            return status;
        /* Keras's pooling strides default to the pool size. */
        if ((l->kind == FCNN_LAYER_MAXPOOL2D || l->kind == FCNN_LAYER_AVGPOOL2D) &&
            !l->column[FCNN_ARG_STRIDES]) {
            l->strides[0] = l->size[0];
            l->strides[1] = l->size[1];
        }
        size_t after = p.at;
        skip_space(&p);
        if (spec[p.at] && p.at == after)
            return error_at(&p, p.at, "expected a space before the next layer", "");
    }
    return FCNN_OK;
}

int fcnn_model_spec_parse(const char *spec, const char *origin, struct fcnn_model_desc *d)
{
    int status = parse_spec(spec, origin, d);
    /* Messages quote the spec's own words, which may hold any byte (a spec read from a
     * checkpoint, or typed): control characters are escaped so the message stays a line. */
    return status == FCNN_OK ? status : fcnn_error_one_line(status);
}
