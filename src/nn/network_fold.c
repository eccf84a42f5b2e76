/* BatchNormalization folded into the Conv2D or Dense layer before it, for evaluation.
 *
 * In evaluation BatchNormalization is an affine map per channel c, with the moving
 * statistics:  y = (z - mean_c) s_c + beta_c,  s_c = gamma_c / sqrt(var_c + epsilon).
 * When z = conv(x, w) + b (or x w + b) with no activation between, scaling the kernel's
 * output channel c by s_c and taking the bias beta_c + (b_c - mean_c) s_c gives the same
 * y from one op, and a ReLU right after the normalisation goes into that op's epilogue:
 * three passes over the activations become one. The result equals the unfolded layers'
 * within float rounding (the folded weights are rounded once; the unfolded path rounds
 * the convolution's output and then each step of the normalisation).
 *
 * The folded weights are computed here, on the host in double precision from the
 * parameter and state arenas, so every backend runs the same folded numbers; they are
 * recomputed at the first evaluation pass after anything that may have changed them. A
 * few hundred thousand multiplications: nothing beside a pass over a test set.
 *
 * The layers the fold stands for do not write their own outputs (the convolution's
 * pre-normalisation values): nothing reads them in evaluation, and a training pass, the
 * only one with a backward, never folds. */
#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "nn/layer.h"
#include "nn/network_fold.h"

/* A Conv2D or Dense layer whose output goes to BatchNormalization unactivated. */
static bool foldable_producer(const struct fcnn_layer *layer)
{
    if (fcnn_layer_is(layer, "Conv2D"))
        return layer->activation == FCNN_ACT_NONE;
    if (fcnn_layer_is(layer, "Dense"))
        return layer->p.dense.act == FCNN_ACT_NONE;
    return false;
}

/* Folded regions start on 64-float (256-byte) boundaries, as the network's others do. */
static size_t align_floats(size_t floats)
{
    return (floats + 63) / 64 * 64;
}

int fcnn_fold_plan(struct fcnn_network *net)
{
    const struct fcnn_model *model = net->model;
    const char *env = getenv("FCNN_FOLD_BN");
    net->fold_enabled = !(env && strcmp(env, "0") == 0);
    net->fold_stale = true;
    net->fold_count = 0;
    size_t floats = 0;
    for (int l = 0; l + 1 < model->layer_count; l++) {
        const struct fcnn_layer *layer = &model->layers[l];
        if (!foldable_producer(layer) ||
            !fcnn_layer_is(&model->layers[l + 1], "BatchNormalization"))
            continue;
        struct fcnn_fold *fold = &net->folds[net->fold_count++];
        fold->layer = l;
        fold->batchnorm = l + 1;
        fold->last = l + 1;
        if (l + 2 < model->layer_count && fcnn_layer_is(&model->layers[l + 2], "Activation") &&
            model->layers[l + 2].p.act == FCNN_ACT_RELU)
            fold->last = l + 2;
        const struct fcnn_param *kernel = &model->params[layer->first_param];
        int channels = kernel->shape[kernel->ndim - 1];
        fold->kernel = fcnn_tensor_make(NULL, floats * sizeof(float), FCNN_F32, kernel->ndim,
                                        kernel->shape);
        floats += align_floats(kernel->count);
        fold->bias = fcnn_tensor_1d(NULL, floats * sizeof(float), FCNN_F32, channels);
        floats += align_floats((size_t)channels);
        l = fold->last; /* the loop's l++ then looks past the fold */
    }
    net->fold_floats = floats;
    if (!net->fold_count)
        return FCNN_OK;
    int status = fcnn_buffer_alloc(net->be, floats * sizeof(float), &net->folded);
    if (status != FCNN_OK)
        return status;
    for (int f = 0; f < net->fold_count; f++) {
        net->folds[f].kernel.buffer = net->folded;
        net->folds[f].bias.buffer = net->folded;
    }
    return FCNN_OK;
}

const struct fcnn_fold *fcnn_fold_at(const struct fcnn_network *net, int l)
{
    if (!net->fold_enabled)
        return NULL;
    for (int f = 0; f < net->fold_count; f++)
        if (net->folds[f].layer == l)
            return &net->folds[f];
    return NULL;
}

/* One fold's kernel and bias into `out` (the fold arena's host copy), from host copies of
 * the parameter and state arenas. Kernels keep their output channel last ([kh,kw,in,out]
 * and [in,units]), so element k belongs to channel k % channels. */
static void fold_weights(const struct fcnn_model *model, const struct fcnn_fold *fold,
                         const float *params, const float *state, float *out)
{
    const struct fcnn_layer *layer = &model->layers[fold->layer];
    const struct fcnn_layer *bn = &model->layers[fold->batchnorm];
    const struct fcnn_param *kernel = &model->params[layer->first_param];
    const float *w = params + kernel->offset;
    const float *b = layer->param_count > 1 ? params + model->params[layer->first_param + 1].offset
                                            : NULL;
    const float *gamma = params + model->params[bn->first_param].offset;
    const float *beta = params + model->params[bn->first_param + 1].offset;
    const float *mean = state + model->states[bn->first_state].offset;
    const float *var = state + model->states[bn->first_state + 1].offset;
    double epsilon = bn->p.batchnorm.epsilon;
    size_t channels = (size_t)fold->bias.shape[0];
    float *w_out = out + fold->kernel.offset / sizeof(float);
    float *b_out = out + fold->bias.offset / sizeof(float);
    for (size_t c = 0; c < channels; c++) {
        /* As ref's normalisation computes it: the inverse deviation in double. */
        double scale = (double)gamma[c] / sqrt((double)var[c] + epsilon);
        double bias = b ? (double)b[c] : 0.0;
        b_out[c] = (float)((double)beta[c] + (bias - (double)mean[c]) * scale);
        for (size_t k = c; k < kernel->count; k += channels)
            w_out[k] = (float)((double)w[k] * scale);
    }
}

static int refresh(struct fcnn_network *net)
{
    const struct fcnn_model *model = net->model;
    size_t arena_floats = net->fold_floats;
    float *params = malloc(model->param_floats * sizeof(float));
    float *state = malloc(model->state_floats * sizeof(float));
    float *folded = calloc(arena_floats, sizeof(float));
    int status = params && state && folded
                     ? FCNN_OK
                     : fcnn_error(FCNN_ERR_NOMEM, "out of memory folding BatchNormalization");
    if (status == FCNN_OK)
        status = fcnn_network_get_params(net, params);
    if (status == FCNN_OK)
        status = fcnn_network_get_state(net, state);
    if (status == FCNN_OK) {
        for (int f = 0; f < net->fold_count; f++)
            fold_weights(model, &net->folds[f], params, state, folded);
        struct fcnn_tensor arena = fcnn_tensor_1d(net->folded, 0, FCNN_F32, (int)arena_floats);
        status = fcnn_upload(net->be, &arena, folded);
    }
    free(params);
    free(state);
    free(folded);
    if (status == FCNN_OK)
        net->fold_stale = false;
    return status;
}

int fcnn_fold_refresh(struct fcnn_network *net)
{
    return net->fold_stale ? refresh(net) : FCNN_OK;
}

int fcnn_fold_forward(struct fcnn_network *net, const struct fcnn_fold *fold, int n)
{
    int status = fcnn_fold_refresh(net);
    if (status != FCNN_OK)
        return status;
    const struct fcnn_layer *layer = &net->model->layers[fold->layer];
    bool relu = fold->last != fold->batchnorm;
    struct fcnn_tensor x = fcnn_network_activation(net, fold->layer, n);
    struct fcnn_tensor y = fcnn_network_activation(net, fold->last + 1, n);
    if (fcnn_layer_is(layer, "Conv2D")) {
        struct fcnn_conv2d_params p = layer->p.conv;
        p.act = relu ? FCNN_ACT_RELU : FCNN_ACT_NONE;
        return fcnn_conv2d_fwd(net->be, &x, &fold->kernel, &fold->bias, &y, &p);
    }
    return fcnn_dense_fwd(net->be, &x, &fold->kernel, &fold->bias, &y,
                          relu ? FCNN_ACT_RELU : FCNN_ACT_NONE);
}

void fcnn_network_set_folding(struct fcnn_network *net, bool on)
{
    net->fold_enabled = on;
}

int fcnn_network_folded(const struct fcnn_network *net)
{
    return net->fold_enabled ? net->fold_count : 0;
}

void fcnn_network_params_changed(struct fcnn_network *net)
{
    net->fold_stale = true;
}
