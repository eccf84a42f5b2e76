/* Image files as fcnn reads them: PNG (libpng), JPEG (libjpeg) and binary PGM, decoded to
 * uint8 rows x cols x channels (1 gray, 3 RGB), converted between grayscale and RGB and
 * resized bilinearly. Every failure is one line naming the file. */
#ifndef FCNN_IMAGE_H
#define FCNN_IMAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct fcnn_image {
    int rows, cols, channels;
    uint8_t *pixels; /* row-major, channels last */
};

/* The largest side fcnn decodes: refuses decompression bombs before allocating. */
#define FCNN_IMAGE_MAX_SIDE 16384

/* Whether this build decodes PNG / JPEG (configure found libpng / libjpeg). */
bool fcnn_png_available(void);
bool fcnn_jpeg_available(void);

/* Decodes `path`, whichever of the formats its first bytes say it is; anything but a
 * regular file (a FIFO, a device, a directory) is refused with one line naming it.
 * Grayscale files give 1 channel, colour ones 3; alpha is dropped, 16-bit samples reduced
 * to 8. */
int fcnn_image_read(const char *path, struct fcnn_image *out);
void fcnn_image_free(struct fcnn_image *img);

/* Format decoders, one file each (an "off" version when the library is absent). Each
 * decodes the stream `f`, positioned at the file's first byte, and names `path` in its
 * messages; the caller opened `f` (through fcnn_file_open_read, which refuses FIFOs and
 * devices) and closes it. */
int fcnn_png_read(const char *path, FILE *f, struct fcnn_image *out);
int fcnn_jpeg_read(const char *path, FILE *f, struct fcnn_image *out);
int fcnn_pgm_read(const char *path, FILE *f, struct fcnn_image *out);

/* Converts in place to 1 channel (luma, ITU-R 601 weights as Keras's rgb_to_grayscale)
 * or to 3 (gray replicated). */
int fcnn_image_to_channels(struct fcnn_image *img, int channels);

/* Resizes in place to rows x cols with bilinear interpolation on pixel centres (as
 * tf.image.resize's default), rounding to the nearest byte. */
int fcnn_image_resize(struct fcnn_image *img, int rows, int cols);

/* The whole preparation of a file for a model: decode, convert to `channels`, and resize
 * to rows x cols when `resize`, else refuse a different size naming the file. */
int fcnn_image_prepare(const char *path, int rows, int cols, int channels, bool resize,
                       struct fcnn_image *out);

/* Writers, for tests and tools: PGM always, PNG and JPEG with their libraries. */
int fcnn_png_write(const char *path, const struct fcnn_image *img);
int fcnn_jpeg_write(const char *path, const struct fcnn_image *img, int quality);
int fcnn_pgm_write(const char *path, const struct fcnn_image *img);

#endif
