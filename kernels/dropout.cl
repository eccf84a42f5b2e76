/* Inverted dropout, mirroring backends/ref/ref_activation.c, with the mask of
 * kernels/dropout_mask.cl. The forward and backward are one kernel: out = in * mask *
 * scale. */

#include "dropout_mask.cl"

#ifndef WG_SIZE
#define WG_SIZE 64
#endif

/* Four elements per work-item (the last finishes the tail one at a time); count =
 * elements. out may be in itself. */
__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void dropout_vec4(__global const float *in, ulong in_offset, __global float *out,
                  ulong out_offset, uint seed, uint threshold, float scale, int count)
{
    int i = get_global_id(0) * 4;
    if (i >= count)
        return;
    in += in_offset;
    out += out_offset;
    if (i + 4 <= count) {
        float4 v = vload4(0, in + i);
        float4 r = (float4)(dropout_one(v.s0, seed, (uint)i, threshold, scale),
                            dropout_one(v.s1, seed, (uint)i + 1, threshold, scale),
                            dropout_one(v.s2, seed, (uint)i + 2, threshold, scale),
                            dropout_one(v.s3, seed, (uint)i + 3, threshold, scale));
        vstore4(r, 0, out + i);
        return;
    }
    for (; i < count; i++)
        out[i] = dropout_one(in[i], seed, (uint)i, threshold, scale);
}

/* --- sixteen elements at a time, a contiguous slice per work-item ----------------------
 * dropout_vec4 leaves the loop to PoCL's work-groups: a work-item per four elements, the
 * hash one lane at a time. Here a few dozen work-items (each a work-group of its own,
 * WG_SIZE 1) each walk one run of memory, [gid per_item, (gid + 1) per_item) of count,
 * sixteen elements and sixteen hashes a step (per_item a multiple of 16; the last slice's
 * tail one element at a time). */

#ifdef __clang__
/* A float16 at any float's address: one unaligned 64-byte access (see batchnorm.cl). */
typedef float dropout_float16 __attribute__((ext_vector_type(16), aligned(4)));
#define DROPOUT_LOAD16(p) (*(__global const dropout_float16 *)(p))
#define DROPOUT_STORE16(v, p) (*(__global dropout_float16 *)(p) = (v))
#else
#define DROPOUT_LOAD16(p) vload16(0, (p))
#define DROPOUT_STORE16(v, p) vstore16((v), 0, (p))
#endif

__kernel __attribute__((reqd_work_group_size(WG_SIZE, 1, 1)))
void dropout_slices16(__global const float *in, ulong in_offset, __global float *out,
                      ulong out_offset, uint seed, uint threshold, float scale, int count,
                      int per_item)
{
    int first = get_global_id(0) * per_item;
    if (first >= count)
        return;
    int end = min(count, first + per_item), i = first;
    in += in_offset;
    out += out_offset;
    for (; i + 16 <= end; i += 16)
        DROPOUT_STORE16(dropout16(DROPOUT_LOAD16(in + i), seed, (uint)i, threshold, scale),
                        out + i);
    for (; i < end; i++)
        out[i] = dropout_one(in[i], seed, (uint)i, threshold, scale);
}
