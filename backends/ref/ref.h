/* The reference backend's ops, one family per file. Plain C11 loops written for clarity:
 * direct convolution, sums accumulated in double. It is the oracle every other backend is
 * held to, so it must be obviously right before it is fast. Each output element is
 * computed by one thread in a fixed order, so results do not depend on the thread count. */
#ifndef FCNN_REF_H
#define FCNN_REF_H

#include "backend/backend-impl.h"

#define REF_PTR(type, t) FCNN_HOST_PTR(type, t)

int ref_load_batch(void *ctx, fcnn_tensor_arg images, fcnn_tensor_arg labels,
                   fcnn_tensor_arg order, int start, fcnn_tensor_arg x, fcnn_tensor_arg y);

int ref_conv2d_fwd(void *ctx, fcnn_tensor_arg x, fcnn_tensor_arg w, fcnn_tensor_arg b,
                   fcnn_tensor_arg y, const struct fcnn_conv2d_params *p);
int ref_conv2d_bwd_data(void *ctx, fcnn_tensor_arg dy, fcnn_tensor_arg w, fcnn_tensor_arg dx,
                        const struct fcnn_conv2d_params *p);
int ref_conv2d_bwd_filter(void *ctx, fcnn_tensor_arg x, fcnn_tensor_arg dy, fcnn_tensor_arg dw,
                          const struct fcnn_conv2d_params *p);
int ref_bias_bwd(void *ctx, fcnn_tensor_arg dy, fcnn_tensor_arg db);

int ref_maxpool_fwd(void *ctx, fcnn_tensor_arg x, fcnn_tensor_arg y,
                    const struct fcnn_pool_params *p);
int ref_maxpool_bwd(void *ctx, fcnn_tensor_arg x, fcnn_tensor_arg dy, fcnn_tensor_arg dx,
                    const struct fcnn_pool_params *p);
int ref_avgpool_fwd(void *ctx, fcnn_tensor_arg x, fcnn_tensor_arg y,
                    const struct fcnn_pool_params *p);
int ref_avgpool_bwd(void *ctx, fcnn_tensor_arg dy, fcnn_tensor_arg dx,
                    const struct fcnn_pool_params *p);
int ref_global_avgpool_fwd(void *ctx, fcnn_tensor_arg x, fcnn_tensor_arg y);
int ref_global_avgpool_bwd(void *ctx, fcnn_tensor_arg dy, fcnn_tensor_arg dx);

int ref_relu_bwd(void *ctx, fcnn_tensor_arg y, fcnn_tensor_arg dy, fcnn_tensor_arg dx);

int ref_dense_fwd(void *ctx, fcnn_tensor_arg x, fcnn_tensor_arg w, fcnn_tensor_arg b,
                  fcnn_tensor_arg y, enum fcnn_activation act);
int ref_dense_bwd_data(void *ctx, fcnn_tensor_arg dy, fcnn_tensor_arg w, fcnn_tensor_arg dx);
int ref_dense_bwd_weights(void *ctx, fcnn_tensor_arg x, fcnn_tensor_arg dy, fcnn_tensor_arg dw);

int ref_softmax_xent(void *ctx, fcnn_tensor_arg logits, fcnn_tensor_arg labels,
                     fcnn_tensor_arg dlogits, fcnn_tensor_arg loss, fcnn_tensor_arg pred,
                     float grad_scale);

int ref_sgd_update(void *ctx, fcnn_tensor_arg param, fcnn_tensor_arg grad,
                   const struct fcnn_sgd_params *p);
int ref_momentum_update(void *ctx, fcnn_tensor_arg param, fcnn_tensor_arg grad,
                        fcnn_tensor_arg velocity, const struct fcnn_momentum_params *p);
int ref_adam_update(void *ctx, fcnn_tensor_arg param, fcnn_tensor_arg grad, fcnn_tensor_arg m,
                    fcnn_tensor_arg v, const struct fcnn_adam_params *p);

#endif
