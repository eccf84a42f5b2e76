/* Fuzz target: the model spec parser (--model "conv2d(32,3,relu) maxpool(2) ..."), the
 * validation of what it describes, and the builder. A spec that parses must normalise to a
 * spec that parses again to the same normalised text; a description that validates on an
 * input must build on it. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "fuzz-input.h"
#include "nn/model.h"
#include "nn/model_desc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    struct fcnn_model_desc desc;
    int status = fcnn_model_spec_parse(text, "the fuzz input", &desc);
    fuzz_check_error(status);
    free(text);
    if (status != FCNN_OK)
        return 0;

    static char spec[FCNN_SPEC_SIZE], again[FCNN_SPEC_SIZE];
    if (fcnn_model_desc_spec(&desc, spec, sizeof spec) == FCNN_OK) {
        static struct fcnn_model_desc reparsed;
        if (fcnn_model_spec_parse(spec, "a normalised spec", &reparsed) != FCNN_OK ||
            fcnn_model_desc_spec(&reparsed, again, sizeof again) != FCNN_OK ||
            strcmp(spec, again) != 0)
            abort(); /* normalising is not idempotent, or its output does not parse */
    }
    static struct fcnn_model model;
    status = fcnn_model_desc_build(&desc, (struct fcnn_shape){ 3, { 28, 28, 1 } }, 10, &model);
    fuzz_check_error(status);
    if (status == FCNN_OK && model.layer_count < 1)
        abort();
    return 0;
}
