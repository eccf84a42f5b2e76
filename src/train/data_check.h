/* The one place that decides whether a model fits its data: the input shape it was built
 * for and the width of its classifier against the data's sample shape and class count.
 * Every way of making a model (the reference model, a spec, a checkpoint) goes through
 * it before a network is built. */
#ifndef FCNN_DATA_CHECK_H
#define FCNN_DATA_CHECK_H

#include "nn/model.h"

/* FCNN_ERR_INVALID with one line naming `where` (the data) and what differs. */
int fcnn_model_check_data(const struct fcnn_model *m, int rows, int cols, int channels,
                          int classes, const char *where);

#endif
