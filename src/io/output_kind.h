/* What a model's output means outside fcnn: logits, or probabilities when the model ends
 * in softmax. Inside fcnn that softmax is fused with the cross-entropy loss, so no layer
 * may compute it; the model's description (its normalised spec) still says it is there,
 * and exports must apply it. */
#ifndef FCNN_OUTPUT_KIND_H
#define FCNN_OUTPUT_KIND_H

#include <stdbool.h>

#include "nn/model.h"

/* Whether the model's last operation is a softmax; false for a model without a spec. */
bool fcnn_model_ends_in_softmax(const struct fcnn_model *m);

/* "probabilities" or "logits". */
const char *fcnn_model_output_kind(const struct fcnn_model *m);

#endif
