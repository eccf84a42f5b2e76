/* Keras JSON models in a build without jansson: the one call says what to install. */
#include <config.h>

#include <string.h>

#include "core/status.h"
#include "nn/model_desc.h"

int fcnn_model_json_read(const char *path, struct fcnn_model_desc *d)
{
    memset(d, 0, sizeof *d);
    return fcnn_error(FCNN_ERR_UNSUPPORTED, "%s: this fcnn was built without jansson, so it "
                      "cannot read Keras JSON models (install libjansson-dev and rebuild)", path);
}
