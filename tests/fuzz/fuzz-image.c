/* Fuzz target: the image decoders (PNG through libpng, JPEG through libjpeg, binary PGM),
 * as a folder data set or --predict reads a file, then the channel conversion and the
 * bilinear resize every decoded image goes through. In a build without libpng or libjpeg
 * those formats are refused with a message, which is checked too. */
#include <config.h>

#include <stdlib.h>

#include "core/status.h"
#include "data/image.h"
#include "fuzz-input.h"

/* What a decoded image promises: a size within the limit, 1 or 3 channels, and every
 * pixel readable (the last one is read, so ASan sees a short buffer). */
static void check_image(const struct fcnn_image *img)
{
    if (img->rows < 1 || img->cols < 1 || img->rows > FCNN_IMAGE_MAX_SIDE ||
        img->cols > FCNN_IMAGE_MAX_SIDE || (img->channels != 1 && img->channels != 3) ||
        !img->pixels)
        abort();
    volatile uint8_t last =
        img->pixels[(size_t)img->rows * (size_t)img->cols * (size_t)img->channels - 1];
    (void)last;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_input_file(data, size);
    struct fcnn_image img = { .rows = -1, .pixels = (uint8_t *)1 };
    int status = fcnn_image_read(path, &img);
    fuzz_check_error(status);
    if (status != FCNN_OK) {
        if (img.pixels != NULL || img.rows != 0)
            abort(); /* a failure hands back nothing */
        return 0;
    }
    check_image(&img);
    /* As a model with the other channel count and an odd, small input size would take
     * it: both conversions and both directions of the resize are reached. */
    status = fcnn_image_to_channels(&img, img.channels == 1 ? 3 : 1);
    fuzz_check_error(status);
    if (status == FCNN_OK) {
        status = fcnn_image_resize(&img, 7, 5);
        fuzz_check_error(status);
    }
    if (status == FCNN_OK) {
        if (img.rows != 7 || img.cols != 5)
            abort();
        check_image(&img);
    }
    fcnn_image_free(&img);
    return 0;
}
