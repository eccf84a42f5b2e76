/* The bias gradient, mirroring backends/ref/ref_conv2d.c's ref_bias_bwd: db[k] is the sum
 * of dy over every row (all dimensions but the last). Two passes, no atomics, so the
 * result does not depend on scheduling: each work-item of the first sums one channel over
 * one slice of rows; the second adds each channel's slices in order. Short sums of floats
 * also keep the rounding error small next to one long running sum. */

#ifndef WG_SIZE
#define WG_SIZE 64
#endif

/* partial[p, k] = sum of dy[r, k] for r in [p * rows_per_part, (p + 1) * rows_per_part);
 * count = parts * channels. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void bias_bwd_partial(__global const float *dy, ulong dy_offset, __global float *partial,
                      int channels, int rows, int rows_per_part, int count)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    dy += dy_offset;
    int k = gid % channels, p = gid / channels;
    int first = p * rows_per_part, end = min(rows, first + rows_per_part);
    float sum = 0.0f;
    for (int r = first; r < end; r++)
        sum += dy[r * channels + k];
    partial[gid] = sum;
}

/* db[k] = sum over p of partial[p, k]; count = channels. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void bias_bwd_finish(__global const float *partial, __global float *db, ulong db_offset,
                     int channels, int parts)
{
    int k = get_global_id(0);
    if (k >= channels)
        return;
    db += db_offset;
    float sum = 0.0f;
    for (int p = 0; p < parts; p++)
        sum += partial[p * channels + k];
    db[k] = sum;
}

/* The first pass as float16 over channels, for channel counts that are a multiple of 16:
 * partial[p, k..k+15] sums its slice of rows 16 channels at a time; bias_bwd_finish then
 * adds the slices as before. count = parts * channels / 16. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void bias_bwd_partial_vec16(__global const float *dy, ulong dy_offset, __global float *partial,
                            int channels, int rows, int rows_per_part, int count)
{
    int gid = get_global_id(0);
    if (gid >= count)
        return;
    int vectors = channels / 16;
    int cv = gid % vectors, p = gid / vectors;
    int first = p * rows_per_part, end = min(rows, first + rows_per_part);
    __global const float *row = dy + dy_offset + (size_t)first * channels + 16 * cv;
    float16 sum = (float16)(0.0f);
    for (int r = first; r < end; r++, row += channels)
        sum += vload16(0, row);
    vstore16(sum, 0, partial + (size_t)p * channels + 16 * cv);
}

/* One pass for few rows (the dense layer's [batch, units]): one work-item per channel sums
 * every row in order, so a small bias gradient takes one launch instead of two.
 * count = channels. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void bias_bwd_columns(__global const float *dy, ulong dy_offset, __global float *db,
                      ulong db_offset, int channels, int rows)
{
    int k = get_global_id(0);
    if (k >= channels)
        return;
    __global const float *column = dy + dy_offset + k;
    float sum = 0.0f;
    for (int r = 0; r < rows; r++)
        sum += column[(size_t)r * channels];
    db[db_offset + k] = sum;
}
