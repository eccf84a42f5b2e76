/* Reference augmentation: for every output pixel, the source position under the inverse
 * of (flip, rotate about the centre, shift), and a bilinear blend of the four pixels
 * around it, zeros outside the image. Positions are computed in double. */
#include <config.h>

#include <math.h>

#include "ref.h"

/* The input value at integer (row, col), 0 outside. */
static double tap(const float *img, int rows, int cols, int channels, int r, int c, int k)
{
    if (r < 0 || r >= rows || c < 0 || c >= cols)
        return 0.0;
    return img[((size_t)r * cols + c) * channels + k];
}

int ref_augment(void *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    const struct fcnn_tensor *x = call->t[0], *params = call->t[1], *y = call->t[2];
    const float *X = REF_PTR(const float, x), *P = REF_PTR(const float, params);
    float *Y = REF_PTR(float, y);
    int n_count = x->shape[0], rows = x->shape[1], cols = x->shape[2], channels = x->shape[3];
    size_t sample = (size_t)rows * cols * channels;
    double cy = (rows - 1) / 2.0, cx = (cols - 1) / 2.0;

    #pragma omp parallel for schedule(static)
    for (int n = 0; n < n_count; n++) {
        const float *p = P + (size_t)n * 4;
        bool flip = p[0] > 0.5f;
        double dy = p[1], dx = p[2], c = cos((double)p[3]), s = sin((double)p[3]);
        const float *img = X + sample * (size_t)n;
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) {
                /* Undo the shift, then the rotation (R(-angle)), then the flip. */
                double v = i - cy - dy, u = j - cx - dx;
                double sx = c * u + s * v + cx, sy = -s * u + c * v + cy;
                if (flip)
                    sx = (cols - 1) - sx;
                double fy = floor(sy), fx = floor(sx), wy = sy - fy, wx = sx - fx;
                int r0 = (int)fy, c0 = (int)fx;
                for (int k = 0; k < channels; k++) {
                    double top = tap(img, rows, cols, channels, r0, c0, k) * (1 - wx) +
                                 tap(img, rows, cols, channels, r0, c0 + 1, k) * wx;
                    double bottom = tap(img, rows, cols, channels, r0 + 1, c0, k) * (1 - wx) +
                                    tap(img, rows, cols, channels, r0 + 1, c0 + 1, k) * wx;
                    Y[sample * (size_t)n + ((size_t)i * cols + j) * channels + k] =
                        (float)(top * (1 - wy) + bottom * wy);
                }
            }
    }
    return FCNN_OK;
}
