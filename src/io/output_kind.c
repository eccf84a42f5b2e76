/* The model's final activation, read from its normalised description. */
#include <config.h>

#include "core/status.h"
#include "io/output_kind.h"
#include "nn/model_desc.h"

bool fcnn_model_ends_in_softmax(const struct fcnn_model *m)
{
    static struct fcnn_model_desc desc;
    if (!m->spec[0] || fcnn_model_spec_parse(m->spec, "the model's spec", &desc) != FCNN_OK)
        return false;
    /* Dropout is the identity at inference; softmax can only be the last operation. */
    for (int i = desc.count - 1; i >= 0; i--) {
        const struct fcnn_layer_desc *l = &desc.layers[i];
        if (l->kind == FCNN_LAYER_DROPOUT)
            continue;
        return (l->kind == FCNN_LAYER_DENSE || l->kind == FCNN_LAYER_CONV2D ||
                l->kind == FCNN_LAYER_ACTIVATION) && l->activation == FCNN_ACT_SOFTMAX;
    }
    return false;
}

const char *fcnn_model_output_kind(const struct fcnn_model *m)
{
    return fcnn_model_ends_in_softmax(m) ? "probabilities" : "logits";
}
