/* Reference batch loading: gather samples of the uint8 dataset by index and scale them to
 * [0, 1]. The scale is a multiplication by the float nearest 1/255, which every backend
 * can reproduce exactly (a division would be allowed 2.5 ulp on OpenCL). */
#include <config.h>

#include <string.h>

#include "ref.h"

int ref_load_batch(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg images = call->t[0], labels = call->t[1], order = call->t[2],
                    x = call->t[3], y = call->t[4];
    int start = call->p.start;
    const uint8_t *IMG = REF_PTR(const uint8_t, images), *LAB = REF_PTR(const uint8_t, labels);
    const int32_t *ORDER = REF_PTR(const int32_t, order);
    float *X = REF_PTR(float, x);
    int32_t *Y = REF_PTR(int32_t, y);
    int n_count = x->shape[0], dataset = images->shape[0];
    size_t sample = fcnn_tensor_count(images) / (size_t)dataset;

    for (int n = 0; n < n_count; n++) {
        int32_t index = ORDER[start + n];
        if (index < 0 || index >= dataset)
            return fcnn_error(FCNN_ERR_INVALID, "load_batch: sample index %d is not in 0..%d",
                              (int)index, dataset - 1);
        const uint8_t *src = IMG + (size_t)index * sample;
        float *dst = X + (size_t)n * sample;
        for (size_t i = 0; i < sample; i++)
            dst[i] = (float)src[i] * (1.0f / 255.0f);
        Y[n] = LAB[index];
    }
    return FCNN_OK;
}
