/* MaxPooling2D: the maximum of each ph x pw window moving by sh x sw, padding "valid" or
 * "same" (padded positions are never the maximum). The backward routes each window's
 * gradient to its first maximum. */
#include <config.h>

#include "nn/layer.h"
#include "nn/layer_pool.h"
#include "core/status.h"

static int maxpool_forward(const struct fcnn_layer *layer, struct fcnn_backend *be,
                           const struct fcnn_layer_io *io)
{
    return fcnn_maxpool_fwd(be, io->x, io->y, &layer->p.pool);
}

static int maxpool_backward(const struct fcnn_layer *layer, struct fcnn_backend *be,
                            const struct fcnn_layer_io *io)
{
    if (!io->dx) /* nothing before this layer learns */
        return FCNN_OK;
    return fcnn_maxpool_bwd(be, io->x, io->dy, io->dx, &layer->p.pool);
}

static void maxpool_describe(const struct fcnn_layer *layer, const struct fcnn_model *model,
                             char *out, size_t size)
{
    (void)model;
    fcnn_pool_layer_describe(layer, "MaxPooling2D", out, size);
}

static const struct fcnn_layer_type maxpool_type = {
    .class_name = "MaxPooling2D",
    .base_name = "max_pooling2d",
    .describe = maxpool_describe,
    .forward = maxpool_forward,
    .backward = maxpool_backward,
};

int fcnn_add_maxpool2d(struct fcnn_model *m, int ph, int pw, int sh, int sw,
                       enum fcnn_padding padding)
{
    char name[32];
    fcnn_model_next_name(m, &maxpool_type, name, sizeof name);
    struct fcnn_pool_params params;
    struct fcnn_shape out;
    int status = fcnn_pool_layer_geometry(m, name, maxpool_type.class_name, ph, pw, sh, sw,
                                          padding, &params, &out);
    struct fcnn_layer *layer;
    if (status == FCNN_OK)
        status = fcnn_model_add_layer(m, &maxpool_type, out, &layer);
    if (status != FCNN_OK)
        return status;
    layer->p.pool = params;
    layer->padding = padding;
    return FCNN_OK;
}
