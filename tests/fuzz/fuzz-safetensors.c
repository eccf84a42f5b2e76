/* Fuzz target: the safetensors reader, fcnn's checkpoint container. On success every
 * tensor it describes must lie in memory it owns and have the element count its shape
 * says; every metadata entry must be a string. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "fuzz-input.h"

#if HAVE_JANSSON
#include "io/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_input_file(data, size);
    struct fcnn_st_file file;
    int status = fcnn_st_read(path, &file);
    fuzz_check_error(status);
    if (status == FCNN_OK) {
        volatile float sink = 0;
        for (int i = 0; i < file.count; i++) {
            const struct fcnn_st_tensor *t = &file.tensors[i];
            size_t count = 1;
            if (t->ndim < 0 || t->ndim > FCNN_ST_MAX_DIMS)
                abort();
            for (int d = 0; d < t->ndim; d++) {
                if (t->shape[d] < 0)
                    abort();
                count *= (size_t)t->shape[d];
            }
            if (count != t->count || fcnn_st_find(&file, t->name) == NULL)
                abort();
            if (t->count) /* both ends of the data, so ASan sees any overreach */
                sink += t->data[0] + t->data[t->count - 1];
        }
        for (int i = 0; i < file.meta_count; i++)
            if (strlen(file.meta[i].key) + strlen(file.meta[i].value) > size)
                abort(); /* nothing in the header can be longer than the file */
        (void)sink;
    }
    fcnn_st_free(&file);
    return 0;
}
#else
const char *fuzz_target_unavailable = "safetensors needs jansson, which this build lacks";
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)data;
    (void)size;
    return 0;
}
#endif
