/* JPEG in a build without libjpeg: every call says what to install. */
#include <config.h>

#include <string.h>

#include "core/status.h"
#include "data/image.h"

bool fcnn_jpeg_available(void) { return false; }

int fcnn_jpeg_read(const char *path, FILE *f, struct fcnn_image *out)
{
    (void)f;
    memset(out, 0, sizeof *out);
    return fcnn_error(FCNN_ERR_UNSUPPORTED, "%s: this fcnn was built without libjpeg (install "
                      "libjpeg-dev and rebuild)", path);
}

int fcnn_jpeg_write(const char *path, const struct fcnn_image *img, int quality)
{
    (void)img;
    (void)quality;
    return fcnn_error(FCNN_ERR_UNSUPPORTED, "%s: this fcnn was built without libjpeg (install "
                      "libjpeg-dev and rebuild)", path);
}
