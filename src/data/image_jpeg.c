/* JPEG through libjpeg. Its errors longjmp back here; its warnings (a truncated or
 * damaged file, which it would quietly fill with gray) are errors too: a training set
 * must not hold half-decoded images. */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "core/quote.h"
#include "core/status.h"
#include "data/image.h"

bool fcnn_jpeg_available(void) { return true; }

struct jpeg_failure {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

static void on_error(j_common_ptr cinfo)
{
    struct jpeg_failure *f = (struct jpeg_failure *)cinfo->err;
    cinfo->err->format_message(cinfo, f->message);
    longjmp(f->jump, 1);
}

static void on_message(j_common_ptr cinfo, int level)
{
    if (level < 0) /* a warning: corrupt data */
        on_error(cinfo);
}

int fcnn_jpeg_read(const char *path, FILE *f, struct fcnn_image *out)
{
    memset(out, 0, sizeof *out);
    struct jpeg_decompress_struct cinfo;
    struct jpeg_failure failure;
    cinfo.err = jpeg_std_error(&failure.mgr);
    failure.mgr.error_exit = on_error;
    failure.mgr.emit_message = on_message;
    /* Volatile: read after a longjmp. */
    uint8_t *volatile pixels = NULL;
    if (setjmp(failure.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        return fcnn_error(FCNN_ERR_INVALID, "%s: cannot decode the JPEG (%s)", fcnn_quote(path),
                          failure.message);
    }
    jpeg_create_decompress(&cinfo);
    jpeg_stdio_src(&cinfo, f);
    jpeg_read_header(&cinfo, TRUE);
    if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
        jpeg_destroy_decompress(&cinfo);
        return fcnn_error(FCNN_ERR_INVALID, "%s: CMYK JPEG is not supported (convert it to RGB)",
                          fcnn_quote(path));
    }
    if (cinfo.image_width > FCNN_IMAGE_MAX_SIDE || cinfo.image_height > FCNN_IMAGE_MAX_SIDE) {
        jpeg_destroy_decompress(&cinfo);
        return fcnn_error(FCNN_ERR_INVALID, "%s: JPEG is %ux%u, larger than %d per side", fcnn_quote(path),
                          cinfo.image_height, cinfo.image_width, FCNN_IMAGE_MAX_SIDE);
    }
    int channels = cinfo.num_components == 1 ? 1 : 3;
    cinfo.out_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    size_t stride = (size_t)cinfo.output_width * (size_t)channels;
    pixels = malloc(stride * cinfo.output_height);
    if (!pixels) {
        jpeg_destroy_decompress(&cinfo);
        return fcnn_error(FCNN_ERR_NOMEM, "%s: out of memory for the image", fcnn_quote(path));
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = pixels + stride * cinfo.output_scanline;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    out->rows = (int)cinfo.output_height;
    out->cols = (int)cinfo.output_width;
    out->channels = channels;
    out->pixels = pixels;
    jpeg_destroy_decompress(&cinfo);
    return FCNN_OK;
}

int fcnn_jpeg_write(const char *path, const struct fcnn_image *img, int quality)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return fcnn_error(FCNN_ERR_IO, "%s: cannot create: %s", fcnn_quote(path), strerror(errno));
    struct jpeg_compress_struct cinfo;
    struct jpeg_failure failure;
    cinfo.err = jpeg_std_error(&failure.mgr);
    failure.mgr.error_exit = on_error;
    if (setjmp(failure.jump)) {
        jpeg_destroy_compress(&cinfo);
        fclose(f);
        return fcnn_error(FCNN_ERR_IO, "%s: cannot write the JPEG (%s)", fcnn_quote(path), failure.message);
    }
    jpeg_create_compress(&cinfo);
    jpeg_stdio_dest(&cinfo, f);
    cinfo.image_width = (JDIMENSION)img->cols;
    cinfo.image_height = (JDIMENSION)img->rows;
    cinfo.input_components = img->channels;
    cinfo.in_color_space = img->channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    size_t stride = (size_t)img->cols * (size_t)img->channels;
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = img->pixels + stride * cinfo.next_scanline;
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    if (fclose(f) != 0)
        return fcnn_error(FCNN_ERR_IO, "%s: write failed: %s", fcnn_quote(path), strerror(errno));
    return FCNN_OK;
}
