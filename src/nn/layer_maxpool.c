/* MaxPooling2D: square windows with stride equal to their size, no padding. */
#include <config.h>

#include <stdio.h>

#include "nn/layer.h"
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
    snprintf(out, size, "MaxPooling2D(%d)", layer->p.pool.size);
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
    struct fcnn_shape in = fcnn_model_output(m);
    int size = ph;
    if (pw != ph || sh != ph || sw != ph || padding != FCNN_PADDING_VALID)
        return fcnn_error(FCNN_ERR_INVALID, "MaxPooling2D here needs a square pool, strides "
                          "equal to it and padding valid");
    if (in.ndim != 3 || size < 1 || in.dims[0] < size || in.dims[1] < size)
        return fcnn_error(FCNN_ERR_INVALID, "MaxPooling2D(%d) needs an HWC input at least that large",
                          size);
    struct fcnn_layer *layer;
    struct fcnn_shape out = { 3, { in.dims[0] / size, in.dims[1] / size, in.dims[2] } };
    int status = fcnn_model_add_layer(m, &maxpool_type, out, &layer);
    if (status == FCNN_OK)
        layer->p.pool = (struct fcnn_pool_params){ .size = size, .stride = size };
    return status;
}
