/* The network executor: buffer layout, and passes that call each layer's table. */
#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/layer.h"
#include "nn/network.h"
#include "nn/network_fold.h"
#include "nn/network_pool.h"
#include "core/status.h"

/* Regions inside an arena start on 256-byte boundaries: friendly to any device's vector
 * loads and to OpenCL buffer-offset alignment rules. */
static size_t align_up(size_t bytes)
{
    return (bytes + 255) / 256 * 256;
}

static struct fcnn_tensor param_in(struct fcnn_buffer *arena, const struct fcnn_param *p);

/* Lays out activations 0..L for `samples` samples; a view layer's output shares its
 * input's region. Returns the arena size in bytes. */
static size_t layout(const struct fcnn_model *model, int samples, size_t *offset)
{
    size_t size = 0;
    struct fcnn_shape shape = model->input;
    for (int i = 0; i <= model->layer_count; i++) {
        if (i > 0) {
            shape = model->layers[i - 1].out;
            if (model->layers[i - 1].type->is_view) {
                offset[i] = offset[i - 1];
                continue;
            }
        }
        offset[i] = size;
        size += align_up(fcnn_shape_count(&shape) * sizeof(float) * (size_t)samples);
    }
    return size;
}

int fcnn_network_create(struct fcnn_backend *be, const struct fcnn_model *model, int capacity,
                        int train_capacity, struct fcnn_network **out)
{
    *out = NULL;
    struct fcnn_network *net = calloc(1, sizeof *net);
    if (!net)
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory creating the network");
    net->be = be;
    net->model = model;
    net->capacity = capacity > train_capacity ? capacity : train_capacity;
    net->train_capacity = train_capacity;
    const char *fuse = getenv("FCNN_FUSE_BN_RELU");
    net->fuse_bn_relu = !(fuse && strcmp(fuse, "0") == 0);
    const char *fuse_pool = getenv("FCNN_FUSE_POOL");
    net->fuse_pool = !(fuse_pool && strcmp(fuse_pool, "0") == 0);
    const char *fuse_bn_pool = getenv("FCNN_FUSE_BN_POOL");
    net->fuse_bn_pool = !(fuse_bn_pool && strcmp(fuse_bn_pool, "0") == 0);

    /* Softmax is merged with the loss, so it can only be the last thing the model does. */
    for (int l = 0; l + 1 < model->layer_count; l++) {
        const struct fcnn_layer *layer = &model->layers[l];
        if ((strcmp(layer->type->class_name, "Dense") == 0 &&
             layer->p.dense.act == FCNN_ACT_SOFTMAX) ||
            (strcmp(layer->type->class_name, "Activation") == 0 &&
             layer->p.act == FCNN_ACT_SOFTMAX)) {
            free(net);
            return fcnn_error(FCNN_ERR_INVALID, "layer '%s': softmax is supported only as the "
                              "model's last activation (it is merged with the loss)",
                              layer->name);
        }
    }

    size_t param_bytes = model->param_floats * sizeof(float);
    size_t act_bytes = layout(model, net->capacity, net->act_offset);
    size_t scratch_floats = 0;
    for (int l = 0; l < model->layer_count; l++) {
        net->scratch_offset[l] = scratch_floats;
        scratch_floats += (model->layers[l].scratch_floats + 63) / 64 * 64;
    }
    int status = fcnn_buffer_alloc(be, param_bytes, &net->params);
    if (status == FCNN_OK)
        status = fcnn_buffer_alloc(be, model->state_floats * sizeof(float), &net->state);
    if (status == FCNN_OK)
        status = fcnn_buffer_alloc(be, scratch_floats * sizeof(float), &net->scratch);
    if (status == FCNN_OK)
        status = fcnn_buffer_alloc(be, act_bytes, &net->acts);
    if (status == FCNN_OK)
        status = fcnn_buffer_alloc(be, (size_t)net->capacity * sizeof(int32_t), &net->labels);
    if (status == FCNN_OK)
        status = fcnn_fold_plan(net);
    if (status == FCNN_OK && train_capacity > 0) {
        size_t dact_bytes = layout(model, train_capacity, net->dact_offset);
        status = fcnn_buffer_alloc(be, param_bytes, &net->grads);
        if (status == FCNN_OK)
            status = fcnn_buffer_alloc(be, dact_bytes, &net->dacts);
    }
    if (status != FCNN_OK) {
        fcnn_network_destroy(net);
        return status;
    }
    for (int i = 0; i < model->param_count; i++) {
        net->param_t[i] = param_in(net->params, &model->params[i]);
        net->param_p[i] = &net->param_t[i];
        if (net->grads) {
            net->grad_t[i] = param_in(net->grads, &model->params[i]);
            net->grad_p[i] = &net->grad_t[i];
        }
    }
    for (int i = 0; i < model->state_count; i++) {
        net->state_t[i] = param_in(net->state, &model->states[i]);
        net->state_p[i] = &net->state_t[i];
    }
    /* The alignment gaps between parameter tensors are never written by an op; give them
     * defined contents once, so whole-arena updates and checkpoints see zeros there. The
     * state starts at its initial values. */
    size_t most = model->param_floats > model->state_floats ? model->param_floats
                                                           : model->state_floats;
    float *zeros = calloc(most ? most : 1, sizeof(float));
    if (!zeros) {
        fcnn_network_destroy(net);
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory initialising the network");
    }
    status = fcnn_network_set_params(net, zeros);
    if (status == FCNN_OK && net->grads) {
        struct fcnn_tensor grads = fcnn_network_grad_arena(net);
        status = fcnn_upload(be, &grads, zeros);
    }
    if (status == FCNN_OK) {
        fcnn_model_init_state(model, zeros);
        status = fcnn_network_set_state(net, zeros);
    }
    free(zeros);
    if (status != FCNN_OK) {
        fcnn_network_destroy(net);
        return status;
    }
    *out = net;
    return FCNN_OK;
}

void fcnn_network_destroy(struct fcnn_network *net)
{
    if (!net)
        return;
    fcnn_buffer_free(net->be, net->params);
    fcnn_buffer_free(net->be, net->state);
    fcnn_buffer_free(net->be, net->scratch);
    fcnn_buffer_free(net->be, net->grads);
    fcnn_buffer_free(net->be, net->acts);
    fcnn_buffer_free(net->be, net->dacts);
    fcnn_buffer_free(net->be, net->labels);
    fcnn_buffer_free(net->be, net->folded);
    free(net);
}

static struct fcnn_shape activation_shape(const struct fcnn_model *model, int i)
{
    return i == 0 ? model->input : model->layers[i - 1].out;
}

static struct fcnn_tensor batch_tensor(struct fcnn_buffer *buffer, size_t offset,
                                       struct fcnn_shape shape, int n)
{
    int dims[4] = { n, shape.dims[0], shape.dims[1], shape.dims[2] };
    return fcnn_tensor_make(buffer, offset, FCNN_F32, shape.ndim + 1, dims);
}

struct fcnn_tensor fcnn_network_activation(const struct fcnn_network *net, int i, int n)
{
    return batch_tensor(net->acts, net->act_offset[i], activation_shape(net->model, i), n);
}

static struct fcnn_tensor activation_grad(const struct fcnn_network *net, int i, int n)
{
    return batch_tensor(net->dacts, net->dact_offset[i], activation_shape(net->model, i), n);
}

struct fcnn_tensor fcnn_network_input(const struct fcnn_network *net, int n)
{
    return fcnn_network_activation(net, 0, n);
}

struct fcnn_tensor fcnn_network_labels(const struct fcnn_network *net, int n)
{
    return fcnn_tensor_1d(net->labels, 0, FCNN_I32, n);
}

struct fcnn_tensor fcnn_network_param_arena(const struct fcnn_network *net)
{
    return fcnn_tensor_1d(net->params, 0, FCNN_F32, (int)net->model->param_floats);
}

struct fcnn_tensor fcnn_network_grad_arena(const struct fcnn_network *net)
{
    return fcnn_tensor_1d(net->grads, 0, FCNN_F32, (int)net->model->param_floats);
}

static struct fcnn_tensor param_in(struct fcnn_buffer *arena, const struct fcnn_param *p)
{
    return fcnn_tensor_make(arena, p->offset * sizeof(float), FCNN_F32, p->ndim, p->shape);
}

struct fcnn_tensor fcnn_network_param(const struct fcnn_network *net, int i)
{
    return param_in(net->params, &net->model->params[i]);
}

struct fcnn_tensor fcnn_network_state_arena(const struct fcnn_network *net)
{
    return fcnn_tensor_1d(net->state, 0, FCNN_F32, (int)net->model->state_floats);
}

struct fcnn_tensor fcnn_network_state(const struct fcnn_network *net, int i)
{
    return param_in(net->state, &net->model->states[i]);
}

void fcnn_network_set_seed(struct fcnn_network *net, uint64_t seed)
{
    net->seed = seed;
}

/* Layer l's seed for this step: splitmix64's finaliser over the step's seed and l, so
 * that two Dropout layers draw unrelated masks. */
static uint32_t layer_seed(uint64_t seed, int l)
{
    uint64_t z = seed + 0x9E3779B97F4A7C15ull * (uint64_t)(l + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (uint32_t)(z ^ (z >> 31));
}

/* The tensors layer l works on; gradients only in the backward pass. */
static void layer_io(const struct fcnn_network *net, int l, int n, bool backward,
                     bool training, struct fcnn_tensor t[5], struct fcnn_layer_io *io)
{
    const struct fcnn_layer *layer = &net->model->layers[l];
    memset(io, 0, sizeof *io);
    t[0] = fcnn_network_activation(net, l, n);
    t[1] = fcnn_network_activation(net, l + 1, n);
    io->x = &t[0];
    io->y = &t[1];
    io->param = &net->param_p[layer->first_param];
    io->state = &net->state_p[layer->first_state];
    io->training = training;
    io->seed = layer_seed(net->seed, l);
    if (layer->scratch_floats) {
        t[4] = fcnn_tensor_1d(net->scratch, net->scratch_offset[l] * sizeof(float), FCNN_F32,
                              (int)layer->scratch_floats);
        io->scratch = &t[4];
    }
    if (backward) {
        io->grad = &net->grad_p[layer->first_param];
        t[2] = activation_grad(net, l + 1, n);
        io->dy = &t[2];
        if (l > 0) { /* nothing before the first layer needs its gradient */
            t[3] = activation_grad(net, l, n);
            io->dx = &t[3];
        }
    }
}

/* Whether layer l is a BatchNormalization whose following Activation(relu) runs inside
 * it: layer l then writes the ReLU's output, and its backward takes the ReLU's gradient. */
static bool bn_relu_fused(const struct fcnn_network *net, int l)
{
    const struct fcnn_model *model = net->model;
    if (!net->fuse_bn_relu || l + 1 >= model->layer_count)
        return false;
    const struct fcnn_layer *bn = &model->layers[l], *act = &model->layers[l + 1];
    return fcnn_layer_is(bn, "BatchNormalization") && fcnn_layer_is(act, "Activation") &&
           act->p.act == FCNN_ACT_RELU;
}

/* Layer l's tensors when it stands for itself and the ReLU after it. */
static void fuse_relu(const struct fcnn_network *net, int l, int n, bool backward,
                      struct fcnn_tensor t[5], struct fcnn_layer_io *io)
{
    t[1] = fcnn_network_activation(net, l + 2, n);
    if (backward)
        t[2] = activation_grad(net, l + 2, n);
    io->relu = true;
}

/* In a training pass, layer l's tensors when it is a BatchNormalization (with its ReLU
 * fused in when `relu`) and a plain max pooling follows that the backend can run inside its
 * op: io->pool is then the pooling's size, y the pooling's output, and the return value
 * the pooling layer's index. Otherwise 0, and nothing changed. */
static int fuse_pool_into_bn(const struct fcnn_network *net, int l, int n, bool relu,
                             struct fcnn_tensor t[5], struct fcnn_layer_io *io)
{
    const struct fcnn_model *model = net->model;
    int pool_layer = l + 1 + relu;
    if (!net->fuse_bn_pool || !fcnn_layer_is(&model->layers[l], "BatchNormalization") ||
        pool_layer >= model->layer_count)
        return 0;
    int pool = fcnn_plain_pool_size(&model->layers[pool_layer]);
    const struct fcnn_tensor *x = io->x;
    if (!pool || x->ndim != 4 || x->shape[1] % pool || x->shape[2] % pool)
        return 0;
    struct fcnn_tensor unpooled = t[1];
    t[1] = fcnn_network_activation(net, pool_layer + 1, n);
    io->pool = pool;
    if (!fcnn_batchnorm_pool_supported(&model->layers[l], net->be, io)) {
        t[1] = unpooled;
        io->pool = 0;
        return 0;
    }
    return pool_layer;
}

/* Whether layer l ran inside a BatchNormalization's pooled op in the last training forward
 * pass (the ReLU between, or the pooling). */
static bool inside_bn_pool(const struct fcnn_network *net, int l)
{
    for (int bn = l - 1; bn >= 0 && bn >= l - 2; bn--)
        if (net->bn_pool_layer[bn] >= l)
            return true;
    return false;
}

int fcnn_network_forward(struct fcnn_network *net, int n, bool training)
{
    if (n < 1 || n > net->capacity)
        return fcnn_error(FCNN_ERR_INVALID, "forward pass of %d samples (capacity %d)", n,
                          net->capacity);
    if (training)
        net->fold_stale = true; /* the moving statistics move */
    for (int l = 0; l < net->model->layer_count; l++) {
        const struct fcnn_layer *layer = &net->model->layers[l];
        if (layer->type->is_view)
            continue;
        if (!training) {
            int last;
            int status = fcnn_pool_forward(net, l, n, &last);
            if (status != FCNN_OK)
                return status;
            if (last >= 0) {
                l = last;
                continue;
            }
        }
        const struct fcnn_fold *fold = training ? NULL : fcnn_fold_at(net, l);
        if (fold) {
            int status = fcnn_fold_forward(net, fold, n);
            if (status != FCNN_OK)
                return status;
            l = fold->last;
            continue;
        }
        if (training && n > net->train_capacity)
            return fcnn_error(FCNN_ERR_INVALID, "training forward pass of %d samples "
                              "(training capacity %d)", n, net->train_capacity);
        struct fcnn_tensor t[5];
        struct fcnn_layer_io io;
        layer_io(net, l, n, false, training, t, &io);
        bool relu = bn_relu_fused(net, l);
        if (relu)
            fuse_relu(net, l, n, false, t, &io);
        int pool_layer = training ? fuse_pool_into_bn(net, l, n, relu, t, &io) : 0;
        if (training)
            net->bn_pool_layer[l] = pool_layer;
        int status = layer->type->forward(layer, net->be, &io);
        if (status != FCNN_OK)
            return status;
        if (pool_layer)
            l = pool_layer; /* the ReLU and the pooling ran inside */
        else if (relu)
            l++; /* the ReLU ran inside */
    }
    return FCNN_OK;
}

static int loss_weighted(struct fcnn_network *net, int n, const struct fcnn_tensor *loss,
                         const struct fcnn_tensor *pred, bool train, float weight)
{
    if (train && n > net->train_capacity)
        return fcnn_error(FCNN_ERR_INVALID, "training batch of %d samples (capacity %d)", n,
                          net->train_capacity);
    int last = net->model->layer_count;
    struct fcnn_tensor logits = fcnn_network_activation(net, last, n);
    struct fcnn_tensor labels = fcnn_network_labels(net, n);
    struct fcnn_tensor dlogits;
    if (train)
        dlogits = activation_grad(net, last, n);
    return fcnn_softmax_xent(net->be, &logits, &labels, train ? &dlogits : NULL, loss, pred,
                             weight);
}

int fcnn_network_loss(struct fcnn_network *net, int n, const struct fcnn_tensor *loss,
                      const struct fcnn_tensor *pred, bool train)
{
    /* The gradient of the batch's mean loss: each sample weighs 1/n, as in Keras. */
    return loss_weighted(net, n, loss, pred, train, 1.0f / (float)n);
}

int fcnn_network_loss_part(struct fcnn_network *net, int n, int total,
                           const struct fcnn_tensor *loss, const struct fcnn_tensor *pred)
{
    return loss_weighted(net, n, loss, pred, true, 1.0f / (float)total);
}

int fcnn_network_backward_each(struct fcnn_network *net, int n,
                               int (*done)(void *user, int layer), void *user)
{
    if (n < 1 || n > net->train_capacity)
        return fcnn_error(FCNN_ERR_INVALID, "backward pass of %d samples (capacity %d)", n,
                          net->train_capacity);
    net->fold_stale = true; /* an optimizer step follows */
    for (int l = net->model->layer_count - 1; l >= 0; l--) {
        const struct fcnn_layer *layer = &net->model->layers[l];
        if (layer->type->is_view) /* its gradient regions alias as its activations do */
            continue;
        if (inside_bn_pool(net, l)) /* layers whose gradient the BN's pooled op takes */
            continue;
        if (l > 0 && bn_relu_fused(net, l - 1)) /* a ReLU whose gradient the BN takes */
            continue;
        struct fcnn_tensor t[5];
        struct fcnn_layer_io io;
        layer_io(net, l, n, true, true, t, &io);
        int pool_layer = net->bn_pool_layer[l];
        if (pool_layer) { /* as the forward ran it, whatever the switches say now */
            io.relu = pool_layer == l + 2;
            io.pool = fcnn_plain_pool_size(&net->model->layers[pool_layer]);
            t[2] = activation_grad(net, pool_layer + 1, n);
        } else if (bn_relu_fused(net, l)) {
            fuse_relu(net, l, n, true, t, &io);
        }
        int status = layer->type->backward(layer, net->be, &io);
        if (status == FCNN_OK && done && layer->param_count > 0)
            status = done(user, l);
        if (status != FCNN_OK)
            return status;
    }
    return FCNN_OK;
}

int fcnn_network_backward(struct fcnn_network *net, int n)
{
    return fcnn_network_backward_each(net, n, NULL, NULL);
}

void fcnn_network_set_bn_relu_fusion(struct fcnn_network *net, bool on)
{
    net->fuse_bn_relu = on;
}

void fcnn_network_set_bn_pool_fusion(struct fcnn_network *net, bool on)
{
    net->fuse_bn_pool = on;
}

int fcnn_network_set_params(struct fcnn_network *net, const float *host)
{
    net->fold_stale = true;
    struct fcnn_tensor arena = fcnn_network_param_arena(net);
    return fcnn_upload(net->be, &arena, host);
}

int fcnn_network_get_params(struct fcnn_network *net, float *host)
{
    struct fcnn_tensor arena = fcnn_network_param_arena(net);
    return fcnn_download(net->be, &arena, host);
}

int fcnn_network_set_state(struct fcnn_network *net, const float *host)
{
    net->fold_stale = true;
    if (!net->model->state_floats)
        return FCNN_OK;
    struct fcnn_tensor arena = fcnn_network_state_arena(net);
    return fcnn_upload(net->be, &arena, host);
}

int fcnn_network_get_state(struct fcnn_network *net, float *host)
{
    if (!net->model->state_floats)
        return FCNN_OK;
    struct fcnn_tensor arena = fcnn_network_state_arena(net);
    return fcnn_download(net->be, &arena, host);
}

/* Constant tensors: every element `init`; the gaps between tensors 0. */
static void fill_constants(const struct fcnn_param *list, int count, size_t floats, float *host)
{
    memset(host, 0, floats * sizeof(float));
    for (int i = 0; i < count; i++)
        if (!list[i].fan_in && !list[i].fan_out)
            for (size_t k = 0; k < list[i].count; k++)
                host[list[i].offset + k] = list[i].init;
}

void fcnn_model_init_state(const struct fcnn_model *model, float *host)
{
    fill_constants(model->states, model->state_count, model->state_floats, host);
}

void fcnn_model_init_params(const struct fcnn_model *model, struct fcnn_rng *rng, float *host)
{
    fill_constants(model->params, model->param_count, model->param_floats, host);
    for (int i = 0; i < model->param_count; i++) {
        const struct fcnn_param *p = &model->params[i];
        if (!p->fan_in && !p->fan_out)
            continue; /* constants: biases, beta, gamma */
        double limit = sqrt(6.0 / ((double)p->fan_in + p->fan_out));
        for (size_t k = 0; k < p->count; k++)
            host[p->offset + k] = (float)((2.0 * fcnn_rng_uniform(rng) - 1.0) * limit);
    }
}
