/* Batch loading, mirroring backends/ref/ref_data.c: gather uint8 samples of the dataset
 * by index and scale them to [0, 1].
 *
 *   x[n, i] = images[order[start + n], i] * scale      (scale = 1.0f / 255.0f, from the host)
 *   y[n]    = labels[order[start + n]]
 *
 * The scale is a multiplication by the float nearest 1/255, computed on the host: OpenCL
 * may divide with 2.5 ulp of error, a product is exact to the last bit everywhere.
 * An index outside the dataset cannot be reported without a host round trip, so it
 * poisons its sample instead: x = NaN and y = -1, which the loss turns into a NaN. */

#ifndef WG_SIZE
#define WG_SIZE 64 /* work-group size along dimension 0 (the sample's elements) */
#endif

/* Launched over (sample rounded up to WG_SIZE, batch). */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void load_batch(__global const uchar *images, ulong images_offset,
                __global const uchar *labels, ulong labels_offset,
                __global const int *order, ulong order_offset, int start,
                int dataset, int sample, float scale,
                __global float *x, ulong x_offset, __global int *y, ulong y_offset)
{
    int i = get_global_id(0), n = get_global_id(1);
    if (i >= sample)
        return;
    images += images_offset;
    labels += labels_offset;
    order += order_offset;
    x += x_offset;
    y += y_offset;

    int index = order[start + n];
    bool valid = index >= 0 && index < dataset;
    x[n * sample + i] = valid ? (float)images[index * sample + i] * scale : NAN;
    if (i == 0)
        y[n] = valid ? (int)labels[index] : -1;
}

/* Augmentation of a loaded batch, mirroring backends/ref/ref_augment.c: output pixel
 * (i, j) of sample n samples x bilinearly at the inverse of (flip, rotation about the
 * centre, shift) given by params[n] = { flip, shift_rows, shift_cols, angle }; zeros
 * outside the image. A flip alone maps pixels onto pixels exactly (weights 0 and 1). */

/* The input value at integer (r, c), 0 outside. */
float augment_tap(__global const float *img, int rows, int cols, int channels, int r, int c,
                  int k)
{
    return r < 0 || r >= rows || c < 0 || c >= cols ? 0.0f
                                                    : img[(r * cols + c) * channels + k];
}

/* Launched over (cols rounded up to WG_SIZE, rows, batch). */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void augment(__global const float *x, ulong x_offset, __global const float *params,
             ulong params_offset, int rows, int cols, int channels,
             __global float *y, ulong y_offset)
{
    int j = get_global_id(0), i = get_global_id(1), n = get_global_id(2);
    if (j >= cols)
        return;
    int sample = rows * cols * channels;
    __global const float *img = x + x_offset + (size_t)n * sample;
    __global const float *p = params + params_offset + 4 * n;
    y += y_offset + (size_t)n * sample;

    float cy = (rows - 1) * 0.5f, cx = (cols - 1) * 0.5f;
    float c = cos(p[3]), s = sin(p[3]);
    float v = i - cy - p[1], u = j - cx - p[2];
    float sx = c * u + s * v + cx, sy = -s * u + c * v + cy;
    if (p[0] > 0.5f)
        sx = (cols - 1) - sx;
    float fy = floor(sy), fx = floor(sx), wy = sy - fy, wx = sx - fx;
    int r0 = (int)fy, c0 = (int)fx;
    for (int k = 0; k < channels; k++) {
        float top = augment_tap(img, rows, cols, channels, r0, c0, k) * (1 - wx) +
                    augment_tap(img, rows, cols, channels, r0, c0 + 1, k) * wx;
        float bottom = augment_tap(img, rows, cols, channels, r0 + 1, c0, k) * (1 - wx) +
                       augment_tap(img, rows, cols, channels, r0 + 1, c0 + 1, k) * wx;
        y[(i * cols + j) * channels + k] = top * (1 - wy) + bottom * wy;
    }
}
