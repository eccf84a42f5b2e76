/* Format dispatch, binary PGM, and the pixel work shared by every format: channel
 * conversion and bilinear resizing. */
#include <config.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "core/quote.h"
#include "core/status.h"
#include "data/image.h"

void fcnn_image_free(struct fcnn_image *img)
{
    free(img->pixels);
    memset(img, 0, sizeof *img);
}

int fcnn_image_read(const char *path, struct fcnn_image *out)
{
    memset(out, 0, sizeof *out);
    /* Opened once, here: the decoders read the same stream, so the file that passed the
     * regular-file check is the one decoded. */
    FILE *f;
    int status = fcnn_file_open_read(path, &f);
    if (status != FCNN_OK)
        return status;
    unsigned char magic[8] = { 0 };
    size_t got = fread(magic, 1, sizeof magic, f);
    if (ferror(f) || fseek(f, 0, SEEK_SET) != 0) {
        status = fcnn_error(FCNN_ERR_IO, "%s: cannot read: %s", fcnn_quote(path), strerror(errno));
        fclose(f);
        return status;
    }
    static const unsigned char png[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    if (got == 8 && memcmp(magic, png, 8) == 0)
        status = fcnn_png_read(path, f, out);
    else if (got >= 3 && magic[0] == 0xff && magic[1] == 0xd8 && magic[2] == 0xff)
        status = fcnn_jpeg_read(path, f, out);
    else if (got >= 2 && magic[0] == 'P' && magic[1] == '5')
        status = fcnn_pgm_read(path, f, out);
    else
        status = fcnn_error(FCNN_ERR_INVALID, "%s: not a PNG, JPEG or binary PGM image%s",
                            fcnn_quote(path), got == 0 ? " (empty file)" : "");
    fclose(f);
    return status;
}

/* --- binary PGM (P5), the one format simple enough to need no library --- */

/* The next header number, skipping white space and comments. */
static int pgm_number(FILE *f, long *value)
{
    int c;
    for (;;) {
        c = getc(f);
        if (c == '#')
            while (c != '\n' && c != EOF)
                c = getc(f);
        else if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
    }
    if (c < '0' || c > '9')
        return -1;
    long v = 0;
    while (c >= '0' && c <= '9') {
        v = v * 10 + (c - '0');
        if (v > 1L << 30)
            return -1;
        c = getc(f);
    }
    *value = v;
    /* Exactly one white-space byte ends the header's last number. */
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' ? 0 : -1;
}

int fcnn_pgm_read(const char *path, FILE *f, struct fcnn_image *out)
{
    memset(out, 0, sizeof *out);
    long cols, rows, maxval;
    int status = FCNN_OK;
    if (getc(f) != 'P' || getc(f) != '5' || pgm_number(f, &cols) || pgm_number(f, &rows) ||
        pgm_number(f, &maxval))
        status = fcnn_error(FCNN_ERR_INVALID, "%s: malformed PGM header", fcnn_quote(path));
    else if (cols < 1 || rows < 1 || cols > FCNN_IMAGE_MAX_SIDE || rows > FCNN_IMAGE_MAX_SIDE)
        status = fcnn_error(FCNN_ERR_INVALID, "%s: PGM size %ldx%ld is not 1 to %d per side",
                            fcnn_quote(path), rows, cols, FCNN_IMAGE_MAX_SIDE);
    else if (maxval < 1 || maxval > 255)
        status = fcnn_error(FCNN_ERR_INVALID, "%s: PGM maximum value %ld (only 8-bit PGM, "
                            "1 to 255, is read)", fcnn_quote(path), maxval);
    size_t bytes = (size_t)(status == FCNN_OK ? rows * cols : 0);
    if (status == FCNN_OK && !(out->pixels = malloc(bytes)))
        status = fcnn_error(FCNN_ERR_NOMEM, "%s: out of memory for the image", fcnn_quote(path));
    if (status == FCNN_OK && fread(out->pixels, 1, bytes, f) != bytes)
        status = fcnn_error(FCNN_ERR_INVALID, "%s: PGM data is truncated", fcnn_quote(path));
    if (status != FCNN_OK) {
        fcnn_image_free(out);
        return status;
    }
    if (maxval != 255)
        for (size_t i = 0; i < bytes; i++)
            out->pixels[i] = (uint8_t)((out->pixels[i] * 255 + maxval / 2) / maxval);
    out->rows = (int)rows;
    out->cols = (int)cols;
    out->channels = 1;
    return FCNN_OK;
}

int fcnn_pgm_write(const char *path, const struct fcnn_image *img)
{
    if (img->channels != 1)
        return fcnn_error(FCNN_ERR_INVALID, "%s: PGM holds grayscale images only", fcnn_quote(path));
    FILE *f = fopen(path, "wb");
    if (!f)
        return fcnn_error(FCNN_ERR_IO, "%s: cannot create: %s", fcnn_quote(path), strerror(errno));
    size_t bytes = (size_t)img->rows * (size_t)img->cols;
    fprintf(f, "P5\n%d %d\n255\n", img->cols, img->rows);
    bool ok = fwrite(img->pixels, 1, bytes, f) == bytes;
    if (fclose(f) != 0 || !ok)
        return fcnn_error(FCNN_ERR_IO, "%s: write failed: %s", fcnn_quote(path), strerror(errno));
    return FCNN_OK;
}

/* --- pixels --- */

int fcnn_image_to_channels(struct fcnn_image *img, int channels)
{
    if (img->channels == channels)
        return FCNN_OK;
    size_t n = (size_t)img->rows * (size_t)img->cols;
    uint8_t *to = malloc(n * (size_t)channels);
    if (!to)
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory converting an image");
    const uint8_t *from = img->pixels;
    if (channels == 1 && img->channels == 3) {
        for (size_t i = 0; i < n; i++) {
            double luma = 0.2989 * from[3 * i] + 0.5870 * from[3 * i + 1] +
                          0.1140 * from[3 * i + 2];
            to[i] = (uint8_t)(luma > 255 ? 255 : lrint(luma));
        }
    } else if (channels == 3 && img->channels == 1) {
        for (size_t i = 0; i < n; i++)
            to[3 * i] = to[3 * i + 1] = to[3 * i + 2] = from[i];
    } else {
        free(to);
        return fcnn_error(FCNN_ERR_INVALID, "cannot convert %d-channel pixels to %d channels",
                          img->channels, channels);
    }
    free(img->pixels);
    img->pixels = to;
    img->channels = channels;
    return FCNN_OK;
}

int fcnn_image_resize(struct fcnn_image *img, int rows, int cols)
{
    if (img->rows == rows && img->cols == cols)
        return FCNN_OK;
    int c = img->channels;
    uint8_t *to = malloc((size_t)rows * (size_t)cols * (size_t)c);
    if (!to)
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory resizing an image");
    double sy = (double)img->rows / rows, sx = (double)img->cols / cols;
    for (int y = 0; y < rows; y++) {
        /* The source position of this pixel's centre, clamped to the outer centres. */
        double fy = (y + 0.5) * sy - 0.5;
        fy = fy < 0 ? 0 : fy > img->rows - 1 ? img->rows - 1 : fy;
        int y0 = (int)fy, y1 = y0 + 1 < img->rows ? y0 + 1 : y0;
        double wy = fy - y0;
        for (int x = 0; x < cols; x++) {
            double fx = (x + 0.5) * sx - 0.5;
            fx = fx < 0 ? 0 : fx > img->cols - 1 ? img->cols - 1 : fx;
            int x0 = (int)fx, x1 = x0 + 1 < img->cols ? x0 + 1 : x0;
            double wx = fx - x0;
            for (int k = 0; k < c; k++) {
                const uint8_t *p = img->pixels;
                double top = p[((size_t)y0 * img->cols + x0) * c + k] * (1 - wx) +
                             p[((size_t)y0 * img->cols + x1) * c + k] * wx;
                double bottom = p[((size_t)y1 * img->cols + x0) * c + k] * (1 - wx) +
                                p[((size_t)y1 * img->cols + x1) * c + k] * wx;
                long v = lrint(top * (1 - wy) + bottom * wy);
                to[((size_t)y * cols + x) * c + k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
    }
    free(img->pixels);
    img->pixels = to;
    img->rows = rows;
    img->cols = cols;
    return FCNN_OK;
}

int fcnn_image_prepare(const char *path, int rows, int cols, int channels, bool resize,
                       struct fcnn_image *out)
{
    int status = fcnn_image_read(path, out);
    if (status == FCNN_OK && (out->rows != rows || out->cols != cols) && !resize)
        status = fcnn_error(FCNN_ERR_INVALID, "%s: image is %dx%d, not %dx%d like the others "
                            "(give --image-size HxW to resize)", fcnn_quote(path), out->rows, out->cols,
                            rows, cols);
    if (status == FCNN_OK)
        status = fcnn_image_to_channels(out, channels);
    if (status == FCNN_OK)
        status = fcnn_image_resize(out, rows, cols);
    if (status != FCNN_OK) {
        /* Conversion errors carry no file name; every message here must. */
        if (!strstr(fcnn_last_error(), path)) {
            char message[512];
            snprintf(message, sizeof message, "%s", fcnn_last_error());
            status = fcnn_error(status, "%s: %s", fcnn_quote(path), message);
        }
        fcnn_image_free(out);
    }
    return status;
}
