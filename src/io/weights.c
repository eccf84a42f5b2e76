/* Writing weights-only safetensors files (reading them is the checkpoint reader's job:
 * the tensors are the same, only the metadata differs). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>

#include "core/status.h"
#include "io/output_kind.h"
#include "io/safetensors.h"
#include "io/weights.h"

/* One tensor of `list` (parameters or state) as the writer wants it. */
static struct fcnn_st_tensor tensor_of(const struct fcnn_param *p, const float *arena)
{
    struct fcnn_st_tensor t = { .name = p->name, .ndim = p->ndim, .data = arena + p->offset,
                                .count = p->count };
    for (int d = 0; d < p->ndim; d++)
        t.shape[d] = p->shape[d];
    return t;
}

int fcnn_weights_save(const char *path, const struct fcnn_model *model, const float *params,
                      const float *state, int epoch)
{
    if (model->state_count && !state)
        return fcnn_error(FCNN_ERR_INVALID, "%s: the model's state is missing", path);
    int count = model->param_count + model->state_count;
    struct fcnn_st_tensor *tensors = calloc((size_t)count + 1, sizeof *tensors);
    if (!tensors)
        return fcnn_error(FCNN_ERR_NOMEM, "%s: out of memory writing the weights", path);
    for (int i = 0; i < model->param_count; i++)
        tensors[i] = tensor_of(&model->params[i], params);
    for (int i = 0; i < model->state_count; i++)
        tensors[model->param_count + i] = tensor_of(&model->states[i], state);
    char version[16], epochs[16], description[1024], input_shape[64], classes[16];
    snprintf(version, sizeof version, "%d", FCNN_WEIGHTS_FORMAT_VERSION);
    snprintf(epochs, sizeof epochs, "%d", epoch);
    snprintf(classes, sizeof classes, "%d", model->classes);
    fcnn_model_describe(model, description, sizeof description);
    /* input_shape, classes and architecture as a full checkpoint writes them, so one
     * reader rebuilds the model from either. */
    snprintf(input_shape, sizeof input_shape, "%d,%d,%d", model->input.dims[0],
             model->input.dims[1], model->input.dims[2]);
    if (!model->spec[0]) {
        free(tensors);
        return fcnn_error(FCNN_ERR_INVALID, "%s: the model has no spec to store", path);
    }
    const struct fcnn_st_meta meta[] = {
        { "format", FCNN_WEIGHTS_FORMAT },
        { "format_version", version },
        { "fcnn_version", PACKAGE_VERSION },
        { "model", description },
        { "architecture", model->spec },
        { "input_shape", input_shape },
        { "input_layout", "NHWC" },
        { "input_scaling", "x * (1/255): uint8 pixels scaled to [0, 1] before the first layer" },
        { "kernel_layout", "Conv2D kernels HWIO [kh,kw,in,out]; Dense kernels [in,units], "
                           "rows of a Dense after Flatten in (h,w,c) order" },
        { "output", fcnn_model_output_kind(model) },
        { "classes", classes },
        { "epoch", epochs },
    };
    int status = fcnn_st_write(path, tensors, count, meta,
                               (int)(sizeof meta / sizeof meta[0]));
    free(tensors);
    return status;
}
