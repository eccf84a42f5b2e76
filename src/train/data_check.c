/* Model against data. */
#include <config.h>

#include "core/status.h"
#include "train/data_check.h"

int fcnn_model_check_data(const struct fcnn_model *m, int rows, int cols, int channels,
                          int classes, const char *where)
{
    const struct fcnn_shape *in = &m->input;
    if (in->ndim != 3 || in->dims[0] != rows || in->dims[1] != cols || in->dims[2] != channels)
        return fcnn_error(FCNN_ERR_INVALID, "the model takes %dx%dx%d inputs but %s has %dx%dx%d "
                          "images", in->ndim == 3 ? in->dims[0] : 0,
                          in->ndim == 3 ? in->dims[1] : 0, in->ndim == 3 ? in->dims[2] : 0,
                          where, rows, cols, channels);
    struct fcnn_shape out = fcnn_model_output(m);
    if (out.ndim != 1 || out.dims[0] != classes) {
        const char *last = m->layer_count ? m->layers[m->layer_count - 1].name : "input";
        return fcnn_error(FCNN_ERR_INVALID, "the model's last layer (%s) has %d outputs but %s "
                          "has %d classes (its last Dense must have %d units)", last,
                          out.ndim == 1 ? out.dims[0] : (int)fcnn_shape_count(&out), where,
                          classes, classes);
    }
    return FCNN_OK;
}
