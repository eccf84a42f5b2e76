/* Weights-only files in a build without jansson (safetensors needs it): refused with a
 * line that says how to get the feature. */
#include <config.h>

#include "core/status.h"
#include "io/weights.h"

int fcnn_weights_save(const char *path, const struct fcnn_model *model, const float *params,
                      const float *state, int epoch)
{
    (void)model, (void)params, (void)state, (void)epoch;
    return fcnn_error(FCNN_ERR_UNSUPPORTED, "this fcnn was built without safetensors support "
                      "(install libjansson-dev and rebuild) and cannot write %s", path);
}
