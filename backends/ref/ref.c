/* The reference backend: host memory buffers and the op table. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "ref.h"

struct ref_context {
    char device[96];
};

static int ref_open(const struct fcnn_backend_options *options, void **ctx)
{
    if (options->device && *options->device)
        return fcnn_error(FCNN_ERR_INVALID, "backend 'ref' runs on the host CPU only; "
                          "--device '%s' applies to the opencl backend", options->device);
    if (options->kernels && *options->kernels)
        return fcnn_error(FCNN_ERR_INVALID, "backend 'ref' has no kernel variants to choose "
                          "(--kernel '%s')", options->kernels);
    struct ref_context *ref = calloc(1, sizeof *ref);
    if (!ref)
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory opening backend 'ref'");
#ifdef _OPENMP
    snprintf(ref->device, sizeof ref->device, "host CPU, plain C, %d OpenMP threads",
             omp_get_max_threads());
#else
    snprintf(ref->device, sizeof ref->device, "host CPU, plain C, 1 thread");
#endif
    *ctx = ref;
    return FCNN_OK;
}

static void ref_close(void *ctx)
{
    free(ctx);
}

static const char *ref_device_name(void *ctx)
{
    return ((struct ref_context *)ctx)->device;
}

static int ref_buffer_alloc(void *ctx, size_t bytes, void **impl)
{
    (void)ctx;
    /* 64-byte alignment keeps the compiler's vector loads on whole cache lines. */
    size_t rounded = (bytes + 63) / 64 * 64;
    *impl = aligned_alloc(64, rounded);
    if (!*impl)
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory allocating %zu bytes", bytes);
    return FCNN_OK;
}

static void ref_buffer_free(void *ctx, void *impl)
{
    (void)ctx;
    free(impl);
}

/* Host memory is the reference backend's own: the caller's block becomes the buffer when
 * it is aligned as ref_buffer_alloc's are. */
static int ref_buffer_adopt(void *ctx, void *host, size_t bytes, void **impl)
{
    (void)ctx, (void)bytes;
    if ((uintptr_t)host % 64 != 0)
        return FCNN_ERR_UNSUPPORTED;
    *impl = host;
    return FCNN_OK;
}

static int ref_upload(void *ctx, void *impl, size_t offset, const void *src, size_t bytes)
{
    (void)ctx;
    memcpy((char *)impl + offset, src, bytes);
    return FCNN_OK;
}

static int ref_download(void *ctx, void *impl, size_t offset, void *dst, size_t bytes)
{
    (void)ctx;
    memcpy(dst, (const char *)impl + offset, bytes);
    return FCNN_OK;
}

static int ref_sync(void *ctx)
{
    (void)ctx; /* every op has finished when it returns */
    return FCNN_OK;
}

const struct fcnn_backend_ops fcnn_ref_backend_ops = {
    .open = ref_open,
    .close = ref_close,
    .device_name = ref_device_name,
    .list_devices = NULL,            /* one implicit device: the host */

    .buffer_alloc = ref_buffer_alloc,
    .buffer_free = ref_buffer_free,
    .buffer_adopt = ref_buffer_adopt,
    .upload = ref_upload,
    .download = ref_download,
    .sync = ref_sync,

    .supports = NULL,                /* every valid call */
    .variant_count = NULL,           /* one variant per op, named "ref" */
    .variant_name = NULL,
    .force_variant = NULL,

    .run = {
        [FCNN_OP_LOAD_BATCH] = ref_load_batch,
        [FCNN_OP_AUGMENT] = ref_augment,
        [FCNN_OP_CONV2D_FWD] = ref_conv2d_fwd,
        [FCNN_OP_CONV2D_POOL_FWD] = ref_conv2d_pool_fwd,
        [FCNN_OP_CONV2D_BWD_DATA] = ref_conv2d_bwd_data,
        [FCNN_OP_CONV2D_BWD_FILTER] = ref_conv2d_bwd_filter,
        [FCNN_OP_BIAS_BWD] = ref_bias_bwd,
        [FCNN_OP_MAXPOOL_FWD] = ref_maxpool_fwd,
        [FCNN_OP_MAXPOOL_BWD] = ref_maxpool_bwd,
        [FCNN_OP_AVGPOOL_FWD] = ref_avgpool_fwd,
        [FCNN_OP_AVGPOOL_BWD] = ref_avgpool_bwd,
        [FCNN_OP_GLOBAL_AVGPOOL_FWD] = ref_global_avgpool_fwd,
        [FCNN_OP_GLOBAL_AVGPOOL_BWD] = ref_global_avgpool_bwd,
        [FCNN_OP_RELU_BWD] = ref_relu_bwd,
        [FCNN_OP_DENSE_FWD] = ref_dense_fwd,
        [FCNN_OP_DENSE_BWD_DATA] = ref_dense_bwd_data,
        [FCNN_OP_DENSE_BWD_WEIGHTS] = ref_dense_bwd_weights,
        [FCNN_OP_SOFTMAX_XENT] = ref_softmax_xent,
        [FCNN_OP_SGD_UPDATE] = ref_sgd_update,
        [FCNN_OP_MOMENTUM_UPDATE] = ref_momentum_update,
        [FCNN_OP_ADAM_UPDATE] = ref_adam_update,
        [FCNN_OP_RMSPROP_UPDATE] = ref_rmsprop_update,
        [FCNN_OP_ADAMW_UPDATE] = ref_adamw_update,
        [FCNN_OP_ACTIVATION_FWD] = ref_activation_fwd,
        [FCNN_OP_ACTIVATION_BWD] = ref_activation_bwd,
        [FCNN_OP_DROPOUT_FWD] = ref_dropout_fwd,
        [FCNN_OP_DROPOUT_BWD] = ref_dropout_bwd,
        [FCNN_OP_BATCHNORM_FWD_TRAIN] = ref_batchnorm_fwd_train,
        [FCNN_OP_BATCHNORM_FWD_INFER] = ref_batchnorm_fwd_infer,
        [FCNN_OP_BATCHNORM_BWD] = ref_batchnorm_bwd,
    },
};
