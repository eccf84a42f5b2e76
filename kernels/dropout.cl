/* Inverted dropout, mirroring backends/ref/ref_activation.c: element i is kept when the
 * top 24 bits of a hash of (seed, i) reach `threshold` (the rate scaled to 2^24) and is
 * then multiplied by `scale` = 1 / (1 - rate); dropped elements are 0. The hash is
 * src/backend/backend.h's fcnn_dropout_hash, in 32-bit unsigned arithmetic that wraps the
 * same way in C and OpenCL C, so the mask is identical on every backend and is recomputed
 * for the backward pass instead of being stored. The forward and backward are one kernel:
 * out = in * mask * scale. */

#ifndef WG_SIZE
#define WG_SIZE 64
#endif

uint dropout_hash(uint seed, uint i)
{
    uint h = i * 0x9E3779B1u ^ seed;
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    h ^= h >> 16;
    return h;
}

float dropout_one(float v, uint seed, uint i, uint threshold, float scale)
{
    return (dropout_hash(seed, i) >> 8) >= threshold ? v * scale : 0.0f;
}

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

/* dropout_hash, lane by lane. */
static uint16 dropout_hash16(uint seed, uint16 i)
{
    uint16 h = i * 0x9E3779B1u ^ seed;
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    h ^= h >> 16;
    return h;
}

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
    const uint16 lanes = (uint16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (; i + 16 <= end; i += 16) {
        uint16 kept = dropout_hash16(seed, (uint)i + lanes) >> 8;
        float16 v = DROPOUT_LOAD16(in + i) * scale;
        DROPOUT_STORE16(select((float16)(0.0f), v, kept >= threshold), out + i);
    }
    for (; i < end; i++)
        out[i] = dropout_one(in[i], seed, (uint)i, threshold, scale);
}
