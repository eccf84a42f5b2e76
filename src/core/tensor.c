/* Tensor descriptor helpers: sizes, construction and views. */
#include <stdio.h>
#include <string.h>

#include <stdint.h>

#include "core/tensor.h"

size_t fcnn_dtype_size(enum fcnn_dtype dtype)
{
    switch (dtype) {
    case FCNN_F32: return 4;
    case FCNN_I32: return 4;
    case FCNN_U8: return 1;
    }
    return 0;
}

const char *fcnn_dtype_name(enum fcnn_dtype dtype)
{
    switch (dtype) {
    case FCNN_F32: return "f32";
    case FCNN_I32: return "i32";
    case FCNN_U8: return "u8";
    }
    return "?";
}

/* SIZE_MAX stands for a shape whose size does not fit (or a negative dimension): no
 * allocation can satisfy it, so an overflow fails loudly instead of wrapping to a small
 * buffer that later writes would overrun. */
size_t fcnn_tensor_count(const struct fcnn_tensor *t)
{
    size_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        if (t->shape[i] < 0 || __builtin_mul_overflow(n, (size_t)t->shape[i], &n))
            return SIZE_MAX;
    return n;
}

size_t fcnn_tensor_bytes(const struct fcnn_tensor *t)
{
    size_t bytes;
    if (__builtin_mul_overflow(fcnn_tensor_count(t), fcnn_dtype_size(t->dtype), &bytes))
        return SIZE_MAX;
    return bytes;
}

struct fcnn_tensor fcnn_tensor_make(struct fcnn_buffer *buffer, size_t offset,
                                    enum fcnn_dtype dtype, int ndim, const int *shape)
{
    struct fcnn_tensor t = { .buffer = buffer, .offset = offset, .dtype = dtype, .ndim = ndim };
    for (int i = 0; i < ndim && i < FCNN_MAX_DIMS; i++)
        t.shape[i] = shape[i];
    return t;
}

struct fcnn_tensor fcnn_tensor_1d(struct fcnn_buffer *buffer, size_t offset,
                                  enum fcnn_dtype dtype, int n)
{
    return fcnn_tensor_make(buffer, offset, dtype, 1, (int[]){ n });
}

struct fcnn_tensor fcnn_tensor_2d(struct fcnn_buffer *buffer, size_t offset,
                                  enum fcnn_dtype dtype, int rows, int cols)
{
    return fcnn_tensor_make(buffer, offset, dtype, 2, (int[]){ rows, cols });
}

struct fcnn_tensor fcnn_tensor_4d(struct fcnn_buffer *buffer, size_t offset,
                                  enum fcnn_dtype dtype, int n, int h, int w, int c)
{
    return fcnn_tensor_make(buffer, offset, dtype, 4, (int[]){ n, h, w, c });
}

struct fcnn_tensor fcnn_tensor_reshape_2d(const struct fcnn_tensor *t, int rows, int cols)
{
    return fcnn_tensor_2d(t->buffer, t->offset, t->dtype, rows, cols);
}

struct fcnn_tensor fcnn_tensor_rows(const struct fcnn_tensor *t, int first, int count)
{
    struct fcnn_tensor v = *t;
    size_t row_bytes = fcnn_tensor_bytes(t) / (t->shape[0] > 0 ? (size_t)t->shape[0] : 1);
    v.offset += (size_t)first * row_bytes;
    v.shape[0] = count;
    return v;
}

void fcnn_tensor_describe(const struct fcnn_tensor *t, char *out, size_t size)
{
    size_t used = 0;
    int n = snprintf(out, size, "[");
    for (int i = 0; i < t->ndim && n >= 0 && (size_t)n < size; i++) {
        used = (size_t)n;
        n += snprintf(out + used, size - used, i ? ",%d" : "%d", t->shape[i]);
    }
    if (n >= 0 && (size_t)n < size)
        snprintf(out + n, size - (size_t)n, "] %s", fcnn_dtype_name(t->dtype));
}
