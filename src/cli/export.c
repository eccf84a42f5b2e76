/* The exports behind --export-onnx and --export-weights, for the command line: what to
 * write and the line that says it was written. The formats are io/onnx and io/weights. */
#include <config.h>

#include <stdlib.h>

#include "cli/export.h"
#include "core/status.h"
#include "io/onnx.h"
#include "io/weights.h"

bool fcnn_export_requested(const struct fcnn_options *o)
{
    return o->export_onnx || o->export_weights;
}

static void shape_text(char *out, size_t size, const struct fcnn_shape *s)
{
    int used = snprintf(out, size, "[N");
    for (int d = 0; d < s->ndim && used > 0 && (size_t)used < size; d++)
        used += snprintf(out + used, size - (size_t)used, ",%d", s->dims[d]);
    if (used > 0 && (size_t)used < size)
        snprintf(out + used, size - (size_t)used, "]");
}

int fcnn_export_params(const struct fcnn_options *o, const struct fcnn_model *model,
                       const float *params, const float *state, int epoch, FILE *out)
{
    int status = FCNN_OK;
    if (o->export_onnx) {
        status = fcnn_onnx_export(o->export_onnx, model, params, state);
        if (status == FCNN_OK && out) {
            char in[64], res[64];
            shape_text(in, sizeof in, &model->input);
            struct fcnn_shape output = fcnn_model_output(model);
            shape_text(res, sizeof res, &output);
            fprintf(out, "ONNX model written to %s (opset 13; input 'input' %s float32 pixel "
                    "values 0..255, NHWC; output 'output' %s)\n", o->export_onnx, in, res);
        }
    }
    if (status == FCNN_OK && o->export_weights) {
        status = fcnn_weights_save(o->export_weights, model, params, state, epoch);
        if (status == FCNN_OK && out)
            fprintf(out, "Weights written to %s (weights only: no optimizer state or history)\n",
                    o->export_weights);
    }
    return status;
}

int fcnn_export_checkpoint(const struct fcnn_options *o, const struct fcnn_model *model,
                           const struct fcnn_checkpoint *ck, FILE *out)
{
    float *params = malloc(model->param_floats * sizeof(float));
    float *state = malloc((model->state_floats ? model->state_floats : 1) * sizeof(float));
    int status = FCNN_OK;
    if (!params || !state)
        status = fcnn_error(FCNN_ERR_NOMEM, "out of memory for the parameters");
    if (status == FCNN_OK)
        status = fcnn_checkpoint_get_params(ck, params);
    if (status == FCNN_OK)
        status = fcnn_checkpoint_get_state(ck, state);
    if (status == FCNN_OK)
        status = fcnn_export_params(o, model, params, state, fcnn_checkpoint_epoch(ck), out);
    free(params);
    free(state);
    return status;
}
