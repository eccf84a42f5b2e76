/* Model assembly: shapes, Keras-style names, and the parameter arena layout. */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "nn/layer.h"
#include "nn/model.h"
#include "nn/model_desc.h"
#include "core/status.h"

size_t fcnn_shape_count(const struct fcnn_shape *s)
{
    size_t n = 1;
    for (int i = 0; i < s->ndim; i++)
        n *= (size_t)s->dims[i];
    return n;
}

void fcnn_model_init(struct fcnn_model *m, struct fcnn_shape input, int classes)
{
    memset(m, 0, sizeof *m);
    m->input = input;
    m->classes = classes;
}

struct fcnn_shape fcnn_model_output(const struct fcnn_model *m)
{
    return m->layer_count ? m->layers[m->layer_count - 1].out : m->input;
}

void fcnn_model_next_name(const struct fcnn_model *m, const struct fcnn_layer_type *type,
                          char *out, size_t size)
{
    int same_type = 0; /* Keras numbers layers per class name */
    for (int i = 0; i < m->layer_count; i++)
        same_type += strcmp(m->layers[i].type->base_name, type->base_name) == 0;
    if (same_type)
        snprintf(out, size, "%s_%d", type->base_name, same_type);
    else
        snprintf(out, size, "%s", type->base_name);
}

int fcnn_model_add_layer(struct fcnn_model *m, const struct fcnn_layer_type *type,
                         struct fcnn_shape out, struct fcnn_layer **layer)
{
    if (m->layer_count == FCNN_MAX_LAYERS)
        return fcnn_error(FCNN_ERR_INVALID, "a model has at most %d layers", FCNN_MAX_LAYERS);
    struct fcnn_layer *l = &m->layers[m->layer_count];
    memset(l, 0, sizeof *l);
    l->type = type;
    l->in = fcnn_model_output(m);
    l->out = out;
    l->first_param = m->param_count;
    fcnn_model_next_name(m, type, l->name, sizeof l->name);
    l->first_state = m->state_count;
    m->layer_count++;
    *layer = l;
    return FCNN_OK;
}

/* Appends a tensor to an arena's list: named after the layer, each starting on a 64-byte
 * boundary so that device kernels may use wide loads. */
static struct fcnn_param *append(struct fcnn_param *list, int *count, size_t *floats,
                                 const struct fcnn_layer *layer, const char *suffix, int ndim,
                                 const int *shape)
{
    struct fcnn_param *p = &list[(*count)++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s/%s", layer->name, suffix);
    p->ndim = ndim;
    p->count = 1;
    for (int i = 0; i < ndim; i++) {
        p->shape[i] = shape[i];
        p->count *= (size_t)shape[i];
    }
    p->offset = (*floats + 15) / 16 * 16;
    *floats = p->offset + p->count;
    return p;
}

int fcnn_model_add_param(struct fcnn_model *m, struct fcnn_layer *layer, const char *suffix,
                         int ndim, const int *shape, int fan_in, int fan_out)
{
    if (m->param_count == FCNN_MAX_PARAMS)
        return fcnn_error(FCNN_ERR_INVALID, "a model has at most %d parameter tensors",
                          FCNN_MAX_PARAMS);
    struct fcnn_param *p = append(m->params, &m->param_count, &m->param_floats, layer, suffix,
                                  ndim, shape);
    p->fan_in = fan_in;
    p->fan_out = fan_out;
    layer->param_count++;
    return FCNN_OK;
}

int fcnn_model_add_param_filled(struct fcnn_model *m, struct fcnn_layer *layer,
                                const char *suffix, int ndim, const int *shape, float value)
{
    int status = fcnn_model_add_param(m, layer, suffix, ndim, shape, 0, 0);
    if (status == FCNN_OK)
        m->params[m->param_count - 1].init = value;
    return status;
}

int fcnn_model_add_state(struct fcnn_model *m, struct fcnn_layer *layer, const char *suffix,
                         int ndim, const int *shape, float value)
{
    if (m->state_count == FCNN_MAX_STATES)
        return fcnn_error(FCNN_ERR_INVALID, "a model has at most %d state tensors",
                          FCNN_MAX_STATES);
    struct fcnn_param *p = append(m->states, &m->state_count, &m->state_floats, layer, suffix,
                                  ndim, shape);
    p->init = value;
    layer->state_count++;
    return FCNN_OK;
}

bool fcnn_model_is_random(const struct fcnn_model *m)
{
    for (int i = 0; i < m->layer_count; i++)
        if (m->layers[i].type->is_random)
            return true;
    return false;
}

int fcnn_model_reference(struct fcnn_model *m)
{
    fcnn_model_init(m, (struct fcnn_shape){ 3, { 28, 28, 1 } }, 10);
    const struct fcnn_conv2d_args conv1 = { .filters = 32, .kh = 3, .kw = 3, .sh = 1, .sw = 1,
                                            .padding = FCNN_PADDING_SAME, .use_bias = true,
                                            .act = FCNN_ACT_RELU };
    struct fcnn_conv2d_args conv2 = conv1;
    conv2.filters = 64;
    int status;
    if ((status = fcnn_add_conv2d(m, &conv1)) != FCNN_OK ||
        (status = fcnn_add_maxpool2d(m, 2, 2, 2, 2, FCNN_PADDING_VALID)) != FCNN_OK ||
        (status = fcnn_add_conv2d(m, &conv2)) != FCNN_OK ||
        (status = fcnn_add_maxpool2d(m, 2, 2, 2, 2, FCNN_PADDING_VALID)) != FCNN_OK ||
        (status = fcnn_add_flatten(m)) != FCNN_OK ||
        (status = fcnn_add_dense(m, 10, true, FCNN_ACT_NONE)) != FCNN_OK)
        return status;
    snprintf(m->spec, sizeof m->spec, "%s", FCNN_REFERENCE_SPEC);
    return FCNN_OK;
}

void fcnn_model_describe(const struct fcnn_model *m, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < m->layer_count && used + 1 < size; i++) {
        if (i)
            used += (size_t)snprintf(out + used, size - used, " -> ");
        if (used + 1 < size)
            m->layers[i].type->describe(&m->layers[i], m, out + used, size - used);
        used += strlen(out + used);
    }
}
