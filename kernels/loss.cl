/* Softmax cross-entropy, one sample (row of logits) per work-item, mirroring
 * backends/ref/ref_loss.c:
 *
 *   loss[n]  = log(sum_k exp(l[n,k] - max)) - (l[n,label] - max)
 *   pred[n]  = the first k with the largest logit
 *   dlogits  = (softmax(l[n]) - onehot(label)) * grad_scale      (when write_dlogits)
 *
 * The reference works in double; here the largest term, exp(0) = 1, is kept out of the
 * running sum (others = sum over k != best), so that log(1 + others) is log1p(others) and
 * the best class's 1/(1 + others) - 1 is -others/(1 + others): a confident prediction's
 * tiny loss and gradient keep their relative precision in float.
 * A label outside [0, classes) cannot be reported without a host round trip; it makes
 * that sample's loss (and dlogits row) NaN, which training's divergence check catches. */

#ifndef WG_SIZE
#define WG_SIZE 64
#endif

__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void softmax_xent(__global const float *logits, ulong logits_offset,
                  __global const int *labels, ulong labels_offset,
                  __global float *dlogits, ulong dlogits_offset, int write_dlogits,
                  __global float *loss, ulong loss_offset, __global int *pred, ulong pred_offset,
                  int rows, int classes, float grad_scale)
{
    int n = get_global_id(0);
    if (n >= rows)
        return;
    __global const float *row = logits + logits_offset + n * classes;
    labels += labels_offset;
    loss += loss_offset;
    pred += pred_offset;

    int best = 0;
    for (int k = 1; k < classes; k++)
        if (row[k] > row[best])
            best = k;
    float max = row[best], others = 0.0f;
    for (int k = 0; k < classes; k++)
        if (k != best)
            others += exp(row[k] - max);
    float sum = 1.0f + others;

    int label = labels[n];
    bool valid = label >= 0 && label < classes;
    pred[n] = best;
    loss[n] = valid ? log1p(others) - (row[label] - max) : NAN;
    if (!write_dlogits)
        return;
    __global float *d = dlogits + dlogits_offset + n * classes;
    for (int k = 0; k < classes; k++) {
        float g;
        if (!valid)
            g = NAN;
        else if (k == best)
            g = k == label ? -others / sum : 1.0f / sum;
        else
            g = exp(row[k] - max) / sum - (k == label ? 1.0f : 0.0f);
        d[k] = g * grad_scale;
    }
}
