/* AveragePooling2D: the mean of each ph x pw window moving by sh x sw, padding "valid" or
 * "same"; a window clipped by the padding averages its real positions only (TensorFlow's
 * rule). The backward spreads each window's gradient evenly over those positions. */
#include <config.h>

#include "nn/layer.h"
#include "nn/layer_pool.h"
#include "core/status.h"

static int avgpool_forward(const struct fcnn_layer *layer, struct fcnn_backend *be,
                           const struct fcnn_layer_io *io)
{
    return fcnn_avgpool_fwd(be, io->x, io->y, &layer->p.pool);
}

static int avgpool_backward(const struct fcnn_layer *layer, struct fcnn_backend *be,
                            const struct fcnn_layer_io *io)
{
    if (!io->dx) /* nothing before this layer learns */
        return FCNN_OK;
    return fcnn_avgpool_bwd(be, io->dy, io->dx, &layer->p.pool);
}

static void avgpool_describe(const struct fcnn_layer *layer, const struct fcnn_model *model,
                             char *out, size_t size)
{
    (void)model;
    fcnn_pool_layer_describe(layer, "AveragePooling2D", out, size);
}

static const struct fcnn_layer_type avgpool_type = {
    .class_name = "AveragePooling2D",
    .base_name = "average_pooling2d",
    .describe = avgpool_describe,
    .forward = avgpool_forward,
    .backward = avgpool_backward,
};

int fcnn_add_avgpool2d(struct fcnn_model *m, int ph, int pw, int sh, int sw,
                       enum fcnn_padding padding)
{
    char name[32];
    fcnn_model_next_name(m, &avgpool_type, name, sizeof name);
    struct fcnn_pool_params params;
    struct fcnn_shape out;
    int status = fcnn_pool_layer_geometry(m, name, avgpool_type.class_name, ph, pw, sh, sw,
                                          padding, &params, &out);
    struct fcnn_layer *layer;
    if (status == FCNN_OK)
        status = fcnn_model_add_layer(m, &avgpool_type, out, &layer);
    if (status != FCNN_OK)
        return status;
    layer->p.pool = params;
    layer->padding = padding;
    return FCNN_OK;
}
