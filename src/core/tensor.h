/* Tensor descriptors: where a tensor lives (a backend buffer and a byte offset), its
 * element type and its shape. Descriptors are small values built wherever they are
 * needed; they own nothing. Layout is always dense and row-major: NHWC activations,
 * HWIO convolution kernels, [in, out] dense kernels, as Keras stores them. */
#ifndef FCNN_TENSOR_H
#define FCNN_TENSOR_H

#include <stddef.h>
#include <stdint.h>

struct fcnn_buffer; /* opaque: each backend defines its own */

enum fcnn_dtype {
    FCNN_F32, /* activations, parameters, gradients */
    FCNN_I32, /* labels, predictions, sample order */
    FCNN_U8,  /* the dataset's pixels and labels, as the IDX files store them */
};

#define FCNN_MAX_DIMS 4

struct fcnn_tensor {
    struct fcnn_buffer *buffer;
    size_t offset; /* in bytes, from the start of buffer */
    enum fcnn_dtype dtype;
    int ndim;
    int shape[FCNN_MAX_DIMS];
};

size_t fcnn_dtype_size(enum fcnn_dtype dtype);
const char *fcnn_dtype_name(enum fcnn_dtype dtype);

/* Number of elements and of bytes. */
size_t fcnn_tensor_count(const struct fcnn_tensor *t);
size_t fcnn_tensor_bytes(const struct fcnn_tensor *t);

/* Builds a descriptor; unused trailing dimensions are left 0. */
struct fcnn_tensor fcnn_tensor_make(struct fcnn_buffer *buffer, size_t offset,
                                    enum fcnn_dtype dtype, int ndim, const int *shape);
struct fcnn_tensor fcnn_tensor_1d(struct fcnn_buffer *buffer, size_t offset,
                                  enum fcnn_dtype dtype, int n);
struct fcnn_tensor fcnn_tensor_2d(struct fcnn_buffer *buffer, size_t offset,
                                  enum fcnn_dtype dtype, int rows, int cols);
struct fcnn_tensor fcnn_tensor_4d(struct fcnn_buffer *buffer, size_t offset,
                                  enum fcnn_dtype dtype, int n, int h, int w, int c);

/* The same bytes seen with another shape of the same element count (Flatten). */
struct fcnn_tensor fcnn_tensor_reshape_2d(const struct fcnn_tensor *t, int rows, int cols);

/* Rows [first, first + count) of a tensor, as a tensor of `count` rows along dim 0. */
struct fcnn_tensor fcnn_tensor_rows(const struct fcnn_tensor *t, int first, int count);

/* "[32,28,28,1] f32", for messages and test ids. */
void fcnn_tensor_describe(const struct fcnn_tensor *t, char *out, size_t size);

#endif
