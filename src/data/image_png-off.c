/* PNG in a build without libpng: every call says what to install. */
#include <config.h>

#include <string.h>

#include "core/status.h"
#include "data/image.h"

bool fcnn_png_available(void) { return false; }

int fcnn_png_read(const char *path, FILE *f, struct fcnn_image *out)
{
    (void)f;
    memset(out, 0, sizeof *out);
    return fcnn_error(FCNN_ERR_UNSUPPORTED, "%s: this fcnn was built without libpng (install "
                      "libpng-dev and rebuild)", path);
}

int fcnn_png_write(const char *path, const struct fcnn_image *img)
{
    (void)img;
    return fcnn_error(FCNN_ERR_UNSUPPORTED, "%s: this fcnn was built without libpng (install "
                      "libpng-dev and rebuild)", path);
}
