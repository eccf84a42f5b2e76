/* Fuzz target: the reader of Keras 3's model.to_json() (--model FILE.json), and the
 * validation and building of what it describes. A description that reads must normalise
 * to a spec that parses; one that validates on an input must build on it. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "fuzz-input.h"
#include "nn/model.h"
#include "nn/model_desc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fcnn_model_desc desc, reparsed;
    int status = fcnn_model_json_read(fuzz_input_file(data, size), &desc);
    fuzz_check_error(status);
    if (status != FCNN_OK)
        return 0;
    static char spec[FCNN_SPEC_SIZE];
    if (fcnn_model_desc_spec(&desc, spec, sizeof spec) == FCNN_OK &&
        fcnn_model_spec_parse(spec, "a normalised spec", &reparsed) != FCNN_OK)
        abort(); /* what the JSON described cannot be said as a spec */
    static struct fcnn_model model;
    status = fcnn_model_desc_build(&desc, (struct fcnn_shape){ 3, { 28, 28, 1 } }, 10, &model);
    fuzz_check_error(status);
    return 0;
}
