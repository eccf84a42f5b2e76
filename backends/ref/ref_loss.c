/* Reference softmax cross-entropy, one sample per row of logits:
 *   loss[n]    = log(sum_k exp(l[n,k])) - l[n,label]     (computed with the row max removed)
 *   pred[n]    = the first k with the largest logit
 *   dlogits    = (softmax(l[n]) - onehot(label)) * grad_scale     (when dlogits is given)
 * Per-sample losses and predictions let the caller form any mean or count it wants in
 * double on the host, with no reduction on the device and no accumulation error. */
#include <config.h>

#include <math.h>

#include "ref.h"

int ref_softmax_xent(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    fcnn_tensor_arg logits = call->t[0], labels = call->t[1], dlogits = call->t[2],
                    loss = call->t[3], pred = call->t[4];
    float grad_scale = call->p.grad_scale;
    const float *L = REF_PTR(const float, logits);
    const int32_t *LABEL = REF_PTR(const int32_t, labels);
    float *DL = dlogits ? REF_PTR(float, dlogits) : NULL;
    float *LOSS = REF_PTR(float, loss);
    int32_t *PRED = REF_PTR(int32_t, pred);
    int n_count = logits->shape[0], k_count = logits->shape[1];

    for (int n = 0; n < n_count; n++)
        if (LABEL[n] < 0 || LABEL[n] >= k_count)
            return fcnn_error(FCNN_ERR_INVALID, "softmax_xent: label %d of sample %d is not in 0..%d",
                              (int)LABEL[n], n, k_count - 1);

#pragma omp parallel for schedule(static)
    for (int n = 0; n < n_count; n++) {
        const float *row = L + (size_t)n * k_count;
        int best = 0;
        for (int k = 1; k < k_count; k++)
            if (row[k] > row[best])
                best = k;
        double max = row[best], sum = 0;
        for (int k = 0; k < k_count; k++)
            sum += exp((double)row[k] - max);
        LOSS[n] = (float)(log(sum) - ((double)row[LABEL[n]] - max));
        PRED[n] = best;
        if (DL) {
            for (int k = 0; k < k_count; k++) {
                double prob = exp((double)row[k] - max) / sum;
                DL[(size_t)n * k_count + k] = (float)((prob - (k == LABEL[n])) * grad_scale);
            }
        }
    }
    return FCNN_OK;
}
