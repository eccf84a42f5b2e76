/* The protobuf wire format, encoder side: https://protobuf.dev/programming-guides/encoding/ */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "io/onnx_proto.h"
#include "io/protobuf.h"

void pb_free(struct pb_buf *b)
{
    free(b->data);
    *b = (struct pb_buf){ 0 };
}

static bool reserve(struct pb_buf *b, size_t more)
{
    if (b->failed)
        return false;
    if (b->len + more <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more)
        cap *= 2;
    uint8_t *data = realloc(b->data, cap);
    if (!data) {
        b->failed = true;
        return false;
    }
    b->data = data;
    b->cap = cap;
    return true;
}

void pb_put_bytes(struct pb_buf *b, const void *data, size_t size)
{
    if (size && reserve(b, size)) {
        memcpy(b->data + b->len, data, size);
        b->len += size;
    }
}

/* Seven bits a byte, least significant group first, the top bit set on all but the last.
 * Negative int64 values take ten bytes, as protobuf's int64 (not zigzag sint64) does. */
void pb_put_varint(struct pb_buf *b, uint64_t v)
{
    uint8_t bytes[10];
    size_t n = 0;
    do {
        bytes[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            bytes[n] |= 0x80;
        n++;
    } while (v);
    pb_put_bytes(b, bytes, n);
}

static void put_key(struct pb_buf *b, int field, enum pb_wire_type wire)
{
    pb_put_varint(b, (uint64_t)field << 3 | (uint64_t)wire);
}

void pb_field_int(struct pb_buf *b, int field, int64_t v)
{
    put_key(b, field, PB_WIRE_VARINT);
    pb_put_varint(b, (uint64_t)v);
}

static void put_float_le(uint8_t out[4], float v)
{
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    for (int i = 0; i < 4; i++)
        out[i] = (uint8_t)(bits >> (8 * i));
}

void pb_field_float(struct pb_buf *b, int field, float v)
{
    uint8_t bytes[4];
    put_float_le(bytes, v);
    put_key(b, field, PB_WIRE_FIXED32);
    pb_put_bytes(b, bytes, sizeof bytes);
}

void pb_field_bytes(struct pb_buf *b, int field, const void *data, size_t size)
{
    put_key(b, field, PB_WIRE_LEN);
    pb_put_varint(b, size);
    pb_put_bytes(b, data, size);
}

void pb_field_string(struct pb_buf *b, int field, const char *s)
{
    pb_field_bytes(b, field, s, strlen(s));
}

void pb_field_message(struct pb_buf *b, int field, struct pb_buf *msg)
{
    if (msg->failed)
        b->failed = true;
    else
        pb_field_bytes(b, field, msg->data, msg->len);
    pb_free(msg);
}

void pb_field_floats_raw(struct pb_buf *b, int field, const float *v, size_t count)
{
    put_key(b, field, PB_WIRE_LEN);
    pb_put_varint(b, count * 4);
    if (!reserve(b, count * 4))
        return;
    for (size_t i = 0; i < count; i++)
        put_float_le(b->data + b->len + 4 * i, v[i]);
    b->len += count * 4;
}
