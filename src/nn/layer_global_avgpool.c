/* GlobalAveragePooling2D: each channel's mean over the whole image, [h, w, c] to [c], so a
 * Dense layer can follow without Flatten. The backward spreads dy[c] / (h*w) over the
 * image. */
#include <config.h>

#include <stdio.h>

#include "nn/layer.h"
#include "core/status.h"

static int global_avgpool_forward(const struct fcnn_layer *layer, struct fcnn_backend *be,
                                  const struct fcnn_layer_io *io)
{
    (void)layer;
    return fcnn_global_avgpool_fwd(be, io->x, io->y);
}

static int global_avgpool_backward(const struct fcnn_layer *layer, struct fcnn_backend *be,
                                   const struct fcnn_layer_io *io)
{
    (void)layer;
    if (!io->dx) /* nothing before this layer learns */
        return FCNN_OK;
    return fcnn_global_avgpool_bwd(be, io->dy, io->dx);
}

static void global_avgpool_describe(const struct fcnn_layer *layer,
                                    const struct fcnn_model *model, char *out, size_t size)
{
    (void)layer;
    (void)model;
    snprintf(out, size, "GlobalAveragePooling2D");
}

static const struct fcnn_layer_type global_avgpool_type = {
    .class_name = "GlobalAveragePooling2D",
    .base_name = "global_average_pooling2d",
    .describe = global_avgpool_describe,
    .forward = global_avgpool_forward,
    .backward = global_avgpool_backward,
};

int fcnn_add_global_avgpool2d(struct fcnn_model *m)
{
    char name[32];
    fcnn_model_next_name(m, &global_avgpool_type, name, sizeof name);
    struct fcnn_shape in = fcnn_model_output(m);
    if (in.ndim != 3)
        return fcnn_error(FCNN_ERR_INVALID, "%s: GlobalAveragePooling2D needs an input of "
                          "height, width and channels, not a flat one", name);
    struct fcnn_layer *layer;
    return fcnn_model_add_layer(m, &global_avgpool_type, (struct fcnn_shape){ 1, { in.dims[2] } },
                                &layer);
}
