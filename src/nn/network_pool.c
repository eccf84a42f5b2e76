/* A convolution and the max pooling after it as one op, in evaluation passes.
 *
 * Conv2D -> MaxPooling2D(P) is the pattern of most image models. Apart, the convolution
 * writes its whole output and the pooling reads it back to keep a P*P-th of it: on a CPU
 * both passes are bound by that memory traffic, which at inference batch sizes is larger
 * than the caches (a 28x28x32 output is 100 MB for 1000 images). conv2d_pool_fwd keeps
 * the convolution's outputs in registers and writes only the pooled ones.
 *
 * Only evaluation passes fuse: a training pass's backward needs the convolution's output
 * (the ReLU's mask and each window's maximum), which the fused op never writes, and
 * nothing else reads it in evaluation. The pooling must be P x P windows at stride P
 * that touch no padding ("valid", or "same" where the size divides evenly), which is what
 * conv2d_pool_fwd computes; the convolution's activation must be one the op fuses (none or
 * ReLU; sigmoid and tanh run as separate ops). A BatchNormalization folded into the
 * convolution (network_fold.c) folds first: its ReLU is then the op's activation.
 *
 * The op's result is the layers' apart, bit for bit on ref (the same rounding, then the
 * same first maximum); other backends round the convolution their own way, as their plain
 * forward does. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "nn/layer.h"
#include "nn/network_fold.h"
#include "nn/network_pool.h"

int fcnn_plain_pool_size(const struct fcnn_layer *layer)
{
    if (!fcnn_layer_is(layer, "MaxPooling2D"))
        return 0;
    const struct fcnn_pool_params *p = &layer->p.pool;
    bool square = p->ph == p->pw && p->sh == p->ph && p->sw == p->pw;
    bool unpadded = !p->pad_top && !p->pad_bottom && !p->pad_left && !p->pad_right;
    return square && unpadded && p->ph >= 2 ? p->ph : 0;
}

int fcnn_pool_forward(struct fcnn_network *net, int l, int n, int *last)
{
    *last = -1;
    const struct fcnn_model *model = net->model;
    const struct fcnn_layer *conv = &model->layers[l];
    if (!net->fuse_pool || !fcnn_layer_is(conv, "Conv2D"))
        return FCNN_OK;
    const struct fcnn_fold *fold = fcnn_fold_at(net, l);
    int end = fold ? fold->last : l;
    if (end + 1 >= model->layer_count)
        return FCNN_OK;
    int pool = fcnn_plain_pool_size(&model->layers[end + 1]);
    /* Sigmoid and tanh run as an op of their own, between the two. */
    if (!pool || (conv->activation != FCNN_ACT_NONE && conv->activation != FCNN_ACT_RELU))
        return FCNN_OK;

    struct fcnn_conv2d_params p = conv->p.conv;
    p.pool = pool;
    const struct fcnn_tensor *kernel, *bias;
    if (fold) {
        int status = fcnn_fold_refresh(net);
        if (status != FCNN_OK)
            return status;
        kernel = &fold->kernel;
        bias = &fold->bias;
        p.act = fold->last != fold->batchnorm ? FCNN_ACT_RELU : FCNN_ACT_NONE;
    } else {
        kernel = net->param_p[conv->first_param];
        bias = conv->param_count > 1 ? net->param_p[conv->first_param + 1] : NULL;
    }
    struct fcnn_tensor x = fcnn_network_activation(net, l, n);
    struct fcnn_tensor y = fcnn_network_activation(net, end + 2, n);
    struct fcnn_op_call call = { .op = FCNN_OP_CONV2D_POOL_FWD, .t = { &x, kernel, bias, &y },
                                 .p.conv = p };
    if (!fcnn_backend_supports(net->be, &call))
        return FCNN_OK;
    *last = end + 1;
    return fcnn_op_run(net->be, &call);
}

void fcnn_network_set_pool_fusion(struct fcnn_network *net, bool on)
{
    net->fuse_pool = on;
}
