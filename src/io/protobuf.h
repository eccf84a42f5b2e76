/* A minimal protobuf encoder: varints, fixed32 floats and length-delimited fields, into a
 * growable byte buffer. Embedded messages are encoded into their own buffer first and then
 * appended as one length-delimited field, so no length has to be known in advance. Enough
 * for the ONNX writer; not a general protobuf library (no reading, no schemas).
 *
 * Errors are sticky: after an allocation failure every call is a no-op and `failed` stays
 * set, so a writer checks once at the end. */
#ifndef FCNN_PROTOBUF_H
#define FCNN_PROTOBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pb_buf {
    uint8_t *data;
    size_t len, cap;
    bool failed; /* out of memory at some point */
};

void pb_free(struct pb_buf *b);

/* Raw encodings. */
void pb_put_varint(struct pb_buf *b, uint64_t v);
void pb_put_bytes(struct pb_buf *b, const void *data, size_t size);

/* Fields: a key (field number << 3 | wire type) then the value. */
void pb_field_int(struct pb_buf *b, int field, int64_t v);   /* int32/int64/enum, varint */
void pb_field_float(struct pb_buf *b, int field, float v);   /* fixed32, little-endian */
void pb_field_bytes(struct pb_buf *b, int field, const void *data, size_t size);
void pb_field_string(struct pb_buf *b, int field, const char *s);
/* An embedded message: `msg`'s bytes as one length-delimited field; `msg` is freed. A
 * failure inside `msg` makes `b` fail too. */
void pb_field_message(struct pb_buf *b, int field, struct pb_buf *msg);
/* Floats as raw little-endian bytes in one length-delimited field (TensorProto.raw_data). */
void pb_field_floats_raw(struct pb_buf *b, int field, const float *v, size_t count);

#endif
