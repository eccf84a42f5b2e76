/* What MaxPooling2D and AveragePooling2D share: Keras's output size and padding split
 * (fcnn_window_axis), the checks that the window fits, and the description. */
#include <config.h>

#include <stdio.h>

#include "nn/layer.h"
#include "nn/layer_pool.h"
#include "core/status.h"

int fcnn_pool_layer_geometry(const struct fcnn_model *m, const char *name,
                             const char *class_name, int ph, int pw, int sh, int sw,
                             enum fcnn_padding padding, struct fcnn_pool_params *params,
                             struct fcnn_shape *out)
{
    struct fcnn_shape in = fcnn_model_output(m);
    if (in.ndim != 3)
        return fcnn_error(FCNN_ERR_INVALID, "%s: %s needs an input of height, width and "
                          "channels, not a flat one", name, class_name);
    if (ph < 1 || pw < 1 || sh < 1 || sw < 1)
        return fcnn_error(FCNN_ERR_INVALID, "%s: pool size (%dx%d) and strides (%dx%d) must be "
                          "at least 1", name, ph, pw, sh, sw);
    struct fcnn_window_axis rows = fcnn_window_axis(in.dims[0], ph, sh, padding);
    struct fcnn_window_axis cols = fcnn_window_axis(in.dims[1], pw, sw, padding);
    if (rows.out < 1 || cols.out < 1)
        return fcnn_error(FCNN_ERR_INVALID, "%s: a %dx%d pool does not fit its %dx%d input "
                          "with padding \"valid\"", name, ph, pw, in.dims[0], in.dims[1]);
    *params = (struct fcnn_pool_params){
        .ph = ph, .pw = pw, .sh = sh, .sw = sw,
        .pad_top = rows.before, .pad_bottom = rows.after,
        .pad_left = cols.before, .pad_right = cols.after,
    };
    *out = (struct fcnn_shape){ 3, { rows.out, cols.out, in.dims[2] } };
    return FCNN_OK;
}

void fcnn_pool_layer_describe(const struct fcnn_layer *layer, const char *class_name,
                              char *out, size_t size)
{
    const struct fcnn_pool_params *p = &layer->p.pool;
    if (p->ph == p->pw && p->sh == p->ph && p->sw == p->pw &&
        layer->padding == FCNN_PADDING_VALID)
        snprintf(out, size, "%s(%d)", class_name, p->ph);
    else
        snprintf(out, size, "%s(%dx%d,strides=%dx%d,%s)", class_name, p->ph, p->pw, p->sh, p->sw,
                 layer->padding == FCNN_PADDING_SAME ? "same" : "valid");
}
