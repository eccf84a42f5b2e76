/* Dropout's mask, for every program that applies one: kernels/dropout.cl, and the pooling
 * (kernels/pool.cl) and batch normalization (kernels/batchnorm.cl) that a Dropout is fused
 * into. Those files include this one (backends/opencl/ocl_source.c pastes it in), so the
 * hash has one OpenCL copy.
 *
 * Element i is kept when the top 24 bits of a hash of (seed, i) reach `threshold` (the
 * rate scaled to 2^24) and is then multiplied by `scale` = 1 / (1 - rate); dropped
 * elements are 0. The hash is src/backend/backend.h's fcnn_dropout_hash, in 32-bit
 * unsigned arithmetic that wraps the same way in C and OpenCL C, so the mask is identical
 * on every backend and is recomputed for the backward pass instead of being stored. */

/* dropout_hash(seed, i) on a uint, and dropout_hash16 lane by lane on a uint16: one copy of
 * the steps for both. */
#define DEFINE_DROPOUT_HASH(name, type)                                                     \
    type name(uint seed, type i)                                                            \
    {                                                                                       \
        type h = i * 0x9E3779B1u ^ seed;                                                    \
        h ^= h >> 16;                                                                       \
        h *= 0x85EBCA6Bu;                                                                   \
        h ^= h >> 13;                                                                       \
        h *= 0xC2B2AE35u;                                                                   \
        h ^= h >> 16;                                                                       \
        return h;                                                                           \
    }
DEFINE_DROPOUT_HASH(dropout_hash, uint)
DEFINE_DROPOUT_HASH(dropout_hash16, uint16)
#undef DEFINE_DROPOUT_HASH

/* Element i of the dropout's tensor, holding v, masked and scaled. */
float dropout_one(float v, uint seed, uint i, uint threshold, float scale)
{
    return (dropout_hash(seed, i) >> 8) >= threshold ? v * scale : 0.0f;
}

/* The same for 16 consecutive elements, the first being element `first`: the same float
 * product, so a kept element is dropout_one's bit for bit. */
float16 dropout16(float16 v, uint seed, uint first, uint threshold, float scale)
{
    const uint16 lanes = (uint16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    uint16 kept = dropout_hash16(seed, first + lanes) >> 8;
    return select((float16)(0.0f), v * scale, kept >= threshold);
}
