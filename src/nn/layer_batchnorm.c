/* BatchNormalization over the last axis (Keras's axis=-1): per channel over N, H, W after
 * a convolution, per feature over the batch after a dense layer.
 *   training:    batch mean and biased variance normalise x; y = xhat gamma + beta; the
 *                moving statistics move towards the batch's by 1 - momentum; the batch mean
 *                and 1 / sqrt(var + epsilon) stay in the layer's scratch for the backward
 *   evaluation:  the moving statistics normalise x
 *   backward:    dgamma = sum dy xhat;  dbeta = sum dy;
 *                dx = gamma inv_std / rows (rows dy - dbeta - xhat dgamma)
 * An Activation(relu) right after it may be fused in by the network (io->relu): the ops
 * then clamp y and mask dy themselves, one pass over the activations fewer each way. In
 * training, the MaxPooling2D after that may be too (io->pool): the forward writes only the
 * pooled maxima, and the backward takes the pooled gradient, recomputing the maxima.
 * gamma and beta are trainable; moving_mean and moving_variance are state, which no
 * optimizer sees. */
#include <config.h>

#include <stdio.h>

#include "nn/layer.h"
#include "core/status.h"

/* The scratch holds mean [C], then inv_std [C]. */
static void batch_stats(const struct fcnn_layer *layer, const struct fcnn_layer_io *io,
                        struct fcnn_tensor *mean, struct fcnn_tensor *inv_std)
{
    int channels = (int)(layer->scratch_floats / 2);
    *mean = fcnn_tensor_1d(io->scratch->buffer, io->scratch->offset, FCNN_F32, channels);
    *inv_std = fcnn_tensor_1d(io->scratch->buffer, io->scratch->offset +
                              (size_t)channels * sizeof(float), FCNN_F32, channels);
}

/* The op's parameters: the layer's, with what the network fused in. */
static struct fcnn_batchnorm_params params(const struct fcnn_layer *layer,
                                           const struct fcnn_layer_io *io)
{
    struct fcnn_batchnorm_params p = layer->p.batchnorm;
    p.act = io->relu ? FCNN_ACT_RELU : FCNN_ACT_NONE;
    p.pool = io->pool;
    return p;
}

/* The training forward's call; mean and inv_std are the scratch's. */
static struct fcnn_op_call train_call(const struct fcnn_layer *layer,
                                      const struct fcnn_layer_io *io,
                                      const struct fcnn_tensor *mean,
                                      const struct fcnn_tensor *inv_std)
{
    return (struct fcnn_op_call){
        .op = FCNN_OP_BATCHNORM_FWD_TRAIN,
        .t = { io->x, io->param[0], io->param[1], io->state[0], io->state[1], io->y, mean,
               inv_std },
        .p.batchnorm = params(layer, io),
    };
}

/* The backward's call; beta is given for recomputing the forward's values, which a fused
 * ReLU's mask and a fused pooling's maxima need. */
static struct fcnn_op_call backward_call(const struct fcnn_layer *layer,
                                         const struct fcnn_layer_io *io,
                                         const struct fcnn_tensor *mean,
                                         const struct fcnn_tensor *inv_std)
{
    return (struct fcnn_op_call){
        .op = FCNN_OP_BATCHNORM_BWD,
        .t = { io->x, io->dy, io->param[0], mean, inv_std, io->dx, io->grad[0], io->grad[1],
               io->relu || io->pool ? io->param[1] : NULL },
        .p.batchnorm = params(layer, io),
    };
}

bool fcnn_batchnorm_pool_supported(const struct fcnn_layer *layer, struct fcnn_backend *be,
                                   const struct fcnn_layer_io *io)
{
    struct fcnn_tensor mean, inv_std;
    batch_stats(layer, io, &mean, &inv_std);
    /* The backward's gradients have the shapes of the activations: x's for dx (the first
     * layer has none), y's for dy, the parameters' for dgamma and dbeta. */
    struct fcnn_layer_io shapes = *io;
    shapes.dy = io->y;
    shapes.dx = io->dx ? io->x : NULL;
    shapes.grad = io->param;
    struct fcnn_op_call forward = train_call(layer, io, &mean, &inv_std);
    struct fcnn_op_call backward = backward_call(layer, &shapes, &mean, &inv_std);
    return fcnn_op_validate(&forward) == FCNN_OK && fcnn_backend_supports(be, &forward) &&
           fcnn_op_validate(&backward) == FCNN_OK && fcnn_backend_supports(be, &backward);
}

static int batchnorm_forward(const struct fcnn_layer *layer, struct fcnn_backend *be,
                             const struct fcnn_layer_io *io)
{
    if (io->training) {
        struct fcnn_tensor mean, inv_std;
        batch_stats(layer, io, &mean, &inv_std);
        struct fcnn_op_call call = train_call(layer, io, &mean, &inv_std);
        return fcnn_op_run(be, &call);
    }
    struct fcnn_op_call call = { .op = FCNN_OP_BATCHNORM_FWD_INFER,
                                 .p.batchnorm = params(layer, io) };
    const struct fcnn_tensor *t[6] = { io->x, io->param[0], io->param[1],
                                       io->state[0], io->state[1], io->y };
    for (int i = 0; i < 6; i++)
        call.t[i] = t[i];
    return fcnn_op_run(be, &call);
}

static int batchnorm_backward(const struct fcnn_layer *layer, struct fcnn_backend *be,
                              const struct fcnn_layer_io *io)
{
    struct fcnn_tensor mean, inv_std;
    batch_stats(layer, io, &mean, &inv_std);
    struct fcnn_op_call call = backward_call(layer, io, &mean, &inv_std);
    return fcnn_op_run(be, &call);
}

static void batchnorm_describe(const struct fcnn_layer *layer, const struct fcnn_model *model,
                               char *out, size_t size)
{
    (void)model;
    snprintf(out, size, "BatchNormalization(momentum=%g,epsilon=%g)",
             (double)layer->p.batchnorm.momentum, (double)layer->p.batchnorm.epsilon);
}

static const struct fcnn_layer_type batchnorm_type = {
    .class_name = "BatchNormalization",
    .base_name = "batch_normalization",
    .describe = batchnorm_describe,
    .forward = batchnorm_forward,
    .backward = batchnorm_backward,
};

int fcnn_add_batchnorm(struct fcnn_model *m, float momentum, float epsilon)
{
    if (!(momentum >= 0.0f && momentum <= 1.0f) || !(epsilon > 0.0f))
        return fcnn_error(FCNN_ERR_INVALID, "BatchNormalization: momentum must be in [0, 1] "
                          "and epsilon above 0 (got %g and %g)", (double)momentum,
                          (double)epsilon);
    struct fcnn_shape in = fcnn_model_output(m);
    int channels = in.dims[in.ndim - 1];
    struct fcnn_layer *layer;
    int status = fcnn_model_add_layer(m, &batchnorm_type, in, &layer);
    if (status != FCNN_OK)
        return status;
    layer->p.batchnorm = (struct fcnn_batchnorm_params){ .momentum = momentum,
                                                         .epsilon = epsilon };
    layer->scratch_floats = 2 * (size_t)channels;
    const int shape[1] = { channels };
    if ((status = fcnn_model_add_param_filled(m, layer, "gamma", 1, shape, 1.0f)) != FCNN_OK ||
        (status = fcnn_model_add_param_filled(m, layer, "beta", 1, shape, 0.0f)) != FCNN_OK ||
        (status = fcnn_model_add_state(m, layer, "moving_mean", 1, shape, 0.0f)) != FCNN_OK)
        return status;
    return fcnn_model_add_state(m, layer, "moving_variance", 1, shape, 1.0f);
}
