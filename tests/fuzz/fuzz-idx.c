/* Fuzz target: the IDX loader (gzip-compressed or plain), as images and as labels.
 *
 * Copy this file to add a target: LLVMFuzzerTestOneInput gets arbitrary bytes, hands them
 * to the code under test (through fuzz_input_file when it reads files), checks what the
 * code promises on success, and fuzz_check_error on failure. List the target in
 * tests/fuzz.mk and give it a directory of seeds, tests/fuzz/<name>/. */
#include <config.h>

#include <stdlib.h>

#include "core/status.h"
#include "data/idx.h"
#include "fuzz-input.h"

/* Images of two sizes: the real 28x28, and 2x2 so that short inputs reach the pixel data
 * and the checks after it too. */
static void images(const char *path, int rows, int cols)
{
    int count = -1;
    uint8_t *pixels = (uint8_t *)1;
    int status = fcnn_idx_read_images(path, rows, cols, &count, &pixels);
    fuzz_check_error(status);
    if (status != FCNN_OK) {
        if (count != 0 || pixels != NULL)
            abort(); /* a failure hands back nothing */
        return;
    }
    if (count < 1 || !pixels)
        abort();
    volatile uint8_t last = pixels[(size_t)count * (size_t)rows * (size_t)cols - 1];
    (void)last;
    free(pixels);
}

static void labels(const char *path)
{
    int count = -1;
    uint8_t *labels = (uint8_t *)1;
    int status = fcnn_idx_read_labels(path, 10, &count, &labels);
    fuzz_check_error(status);
    if (status != FCNN_OK) {
        if (count != 0 || labels != NULL)
            abort();
        return;
    }
    for (int i = 0; i < count; i++)
        if (labels[i] >= 10)
            abort(); /* the loader promises classes 0..9 */
    free(labels);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_input_file(data, size);
    images(path, 28, 28);
    images(path, 2, 2);
    labels(path);
    return 0;
}
