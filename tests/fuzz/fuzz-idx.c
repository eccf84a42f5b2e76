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

/* Images of any shape the header declares, all of them or only the first (the loader
 * then stops reading early), so short inputs reach the pixel data and the checks after
 * it too. */
static void images(const char *path, int limit)
{
    struct fcnn_dataset d = { .count = -1, .images = (uint8_t *)1 };
    int total = -1;
    int status = fcnn_idx_read_images(path, limit, &d, &total);
    fuzz_check_error(status);
    if (status != FCNN_OK) {
        if (d.count != 0 || d.images != NULL)
            abort(); /* a failure hands back nothing */
        return;
    }
    if (d.count < 1 || !d.images || d.count > total || (limit > 0 && d.count > limit) ||
        d.rows < 1 || d.cols < 1 || d.channels < 1)
        abort();
    volatile uint8_t last =
        d.images[(size_t)d.count * (size_t)d.rows * (size_t)d.cols * (size_t)d.channels - 1];
    (void)last;
    free(d.images);
}

static void labels(const char *path, int limit)
{
    int count = -1, total = -1, max_label = -1;
    uint8_t *labels = (uint8_t *)1;
    int status = fcnn_idx_read_labels(path, 10, limit, &count, &total, &max_label, &labels);
    fuzz_check_error(status);
    if (status != FCNN_OK) {
        if (count != 0 || labels != NULL)
            abort();
        return;
    }
    if (count > total || max_label >= 10)
        abort();
    for (int i = 0; i < count; i++)
        if (labels[i] >= 10)
            abort(); /* the loader promises classes 0..9 */
    free(labels);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_input_file(data, size);
    images(path, 0);
    images(path, 1);
    labels(path, 0);
    labels(path, 1);
    return 0;
}
