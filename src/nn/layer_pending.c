/* Builders whose layers land from a parallel branch (ops: activation, dropout,
 * batchnorm; layers' average and global pooling are merged). Until it merges, each refuses with
 * one line; this file goes away with the merge. */
#include <config.h>

#include "core/status.h"
#include "nn/model.h"

static int pending(const char *layer)
{
    return fcnn_error(FCNN_ERR_UNSUPPORTED, "%s is not in this build yet", layer);
}

int fcnn_add_activation(struct fcnn_model *m, enum fcnn_activation act)
{
    (void)m, (void)act;
    return pending("Activation");
}

int fcnn_add_dropout(struct fcnn_model *m, float rate)
{
    (void)m, (void)rate;
    return pending("Dropout");
}

int fcnn_add_batchnorm(struct fcnn_model *m, float momentum, float epsilon)
{
    (void)m, (void)momentum, (void)epsilon;
    return pending("BatchNormalization");
}
