/* PNG through libpng's simplified API, which handles every colour type, bit depth,
 * palette and interlacing; only the result's channel count is ours to choose. */
#include <config.h>

#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/quote.h"
#include "core/status.h"
#include "data/image.h"

bool fcnn_png_available(void) { return true; }

int fcnn_png_read(const char *path, FILE *f, struct fcnn_image *out)
{
    memset(out, 0, sizeof *out);
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_stdio(&image, f))
        return fcnn_error(FCNN_ERR_INVALID, "%s: not a readable PNG (%s)", fcnn_quote(path), image.message);
    if (image.width > FCNN_IMAGE_MAX_SIDE || image.height > FCNN_IMAGE_MAX_SIDE) {
        png_image_free(&image);
        return fcnn_error(FCNN_ERR_INVALID, "%s: PNG is %ux%u, larger than %d per side", fcnn_quote(path),
                          image.height, image.width, FCNN_IMAGE_MAX_SIDE);
    }
    /* Alpha is composited onto black by the library when the format drops it. */
    bool color = (image.format & PNG_FORMAT_FLAG_COLOR) != 0;
    image.format = color ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    size_t bytes = PNG_IMAGE_SIZE(image);
    out->pixels = malloc(bytes);
    if (!out->pixels) {
        png_image_free(&image);
        return fcnn_error(FCNN_ERR_NOMEM, "%s: out of memory for the image", fcnn_quote(path));
    }
    if (!png_image_finish_read(&image, NULL, out->pixels, 0, NULL)) {
        fcnn_image_free(out);
        return fcnn_error(FCNN_ERR_INVALID, "%s: cannot decode the PNG (%s)", fcnn_quote(path),
                          image.message);
    }
    out->rows = (int)image.height;
    out->cols = (int)image.width;
    out->channels = color ? 3 : 1;
    return FCNN_OK;
}

int fcnn_png_write(const char *path, const struct fcnn_image *img)
{
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    image.width = (png_uint_32)img->cols;
    image.height = (png_uint_32)img->rows;
    image.format = img->channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    if (!png_image_write_to_file(&image, path, 0, img->pixels, 0, NULL))
        return fcnn_error(FCNN_ERR_IO, "%s: cannot write the PNG (%s)", fcnn_quote(path), image.message);
    return FCNN_OK;
}
