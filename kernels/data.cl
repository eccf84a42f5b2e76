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
