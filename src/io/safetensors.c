/* The safetensors reader and writer. The JSON header goes through jansson; the data is
 * converted to and from little-endian byte by byte, so the code is right on any host. */
#include <config.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "io/safetensors.h"
#include "core/fault.h"
#include "core/file.h"
#include "core/quote.h"
#include "core/status.h"

#define METADATA_KEY "__metadata__"
#define F32_BYTES 4u

/* ---- little-endian conversion ------------------------------------------------------ */

static uint64_t load_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void store_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static float load_le_f32(const unsigned char *p)
{
    uint32_t bits = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                    (uint32_t)p[3] << 24;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static void store_le_f32(unsigned char *p, float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(bits >> (8 * i));
}

_Static_assert(sizeof(float) == F32_BYTES, "safetensors F32 needs a 4-byte float");

/* The element count of a shape, or false when it does not fit in 64 bits of bytes. */
static bool shape_count(int ndim, const int64_t *shape, uint64_t *count)
{
    uint64_t n = 1, bytes;
    for (int i = 0; i < ndim; i++)
        if (shape[i] < 0 || __builtin_mul_overflow(n, (uint64_t)shape[i], &n))
            return false;
    if (__builtin_mul_overflow(n, (uint64_t)F32_BYTES, &bytes) || n > SIZE_MAX)
        return false;
    *count = n;
    return true;
}

/* ---- writer ------------------------------------------------------------------------ */

/* jansson refuses strings that are not UTF-8; find out here, with a clear message,
 * rather than as a failed header build. */
static bool is_json_string(const char *s)
{
    json_t *probe = json_string(s);
    json_decref(probe);
    return probe != NULL;
}

static int check_write_args(const char *path, const struct fcnn_st_tensor *tensors, int count,
                            const struct fcnn_st_meta *meta, int meta_count)
{
    if (!path || count < 0 || meta_count < 0 || (count > 0 && !tensors) ||
        (meta_count > 0 && !meta))
        return fcnn_error(FCNN_ERR_INVALID, "%s: safetensors write: bad arguments",
                          path ? path : "(null)");
    for (int i = 0; i < count; i++) {
        const struct fcnn_st_tensor *t = &tensors[i];
        uint64_t n;
        if (!t->name || !strcmp(t->name, METADATA_KEY) || !is_json_string(t->name))
            return fcnn_error(FCNN_ERR_INVALID, "%s: tensor %d has no usable name (missing, "
                              "reserved or not UTF-8)", fcnn_quote(path), i);
        for (int j = 0; j < i; j++)
            if (!strcmp(tensors[j].name, t->name))
                return fcnn_error(FCNN_ERR_INVALID, "%s: duplicate tensor name '%s'", fcnn_quote(path),
                                  fcnn_escape(t->name));
        if (t->ndim < 0 || t->ndim > FCNN_ST_MAX_DIMS)
            return fcnn_error(FCNN_ERR_INVALID, "%s: tensor '%s' has %d dimensions", fcnn_quote(path),
                              fcnn_escape(t->name), t->ndim);
        if (!shape_count(t->ndim, t->shape, &n) || n != t->count)
            return fcnn_error(FCNN_ERR_INVALID,
                              "%s: tensor '%s': count %zu does not match its shape", fcnn_quote(path),
                              fcnn_escape(t->name), t->count);
        if (t->count > 0 && !t->data)
            return fcnn_error(FCNN_ERR_INVALID, "%s: tensor '%s' has no data", fcnn_quote(path), fcnn_escape(t->name));
    }
    for (int i = 0; i < meta_count; i++) {
        if (!meta[i].key || !meta[i].value || !is_json_string(meta[i].key) ||
            !is_json_string(meta[i].value))
            return fcnn_error(FCNN_ERR_INVALID, "%s: metadata entry %d is missing or not "
                              "UTF-8", fcnn_quote(path), i);
        for (int j = 0; j < i; j++)
            if (!strcmp(meta[j].key, meta[i].key))
                return fcnn_error(FCNN_ERR_INVALID, "%s: duplicate metadata key '%s'", fcnn_quote(path),
                                  fcnn_escape(meta[i].key));
    }
    return FCNN_OK;
}

/* json_*_set_new() take ownership of the value even when they fail, so a chain of them
 * only needs its result checked. */
static json_t *tensor_entry(const struct fcnn_st_tensor *t, uint64_t begin)
{
    json_t *entry = json_object(), *shape = json_array(), *offsets = json_array();
    bool ok = entry && shape && offsets;
    for (int i = 0; ok && i < t->ndim; i++)
        ok = !json_array_append_new(shape, json_integer(t->shape[i]));
    ok = ok && !json_array_append_new(offsets, json_integer((json_int_t)begin)) &&
         !json_array_append_new(offsets,
                                json_integer((json_int_t)(begin + t->count * F32_BYTES)));
    ok = ok && !json_object_set_new(entry, "dtype", json_string("F32"));
    ok = ok && !json_object_set(entry, "shape", shape);
    ok = ok && !json_object_set(entry, "data_offsets", offsets);
    json_decref(shape);
    json_decref(offsets);
    if (!ok) {
        json_decref(entry);
        return NULL;
    }
    return entry;
}

/* The header as compact JSON padded with spaces to a multiple of 8 bytes, as the
 * reference implementation writes it (so the data section starts aligned). */
static char *build_header(const struct fcnn_st_tensor *tensors, int count,
                          const struct fcnn_st_meta *meta, int meta_count, size_t *length)
{
    json_t *root = json_object();
    bool ok = root != NULL;
    if (ok && meta_count > 0) {
        json_t *md = json_object();
        ok = !json_object_set_new(root, METADATA_KEY, md);
        for (int i = 0; ok && i < meta_count; i++)
            ok = !json_object_set_new(md, meta[i].key, json_string(meta[i].value));
    }
    uint64_t offset = 0;
    for (int i = 0; ok && i < count; i++) {
        ok = !json_object_set_new(root, tensors[i].name, tensor_entry(&tensors[i], offset));
        offset += tensors[i].count * F32_BYTES;
    }
    /* json_dumpb sizes first, so the padded header is one buffer of our own. */
    size_t n = ok ? json_dumpb(root, NULL, 0, JSON_COMPACT) : 0;
    size_t padded = (n + 7) / 8 * 8;
    char *header = n ? malloc(padded) : NULL;
    if (header && json_dumpb(root, header, n, JSON_COMPACT) != n) {
        free(header);
        header = NULL;
    }
    json_decref(root);
    if (!header)
        return NULL;
    memset(header + n, ' ', padded - n);
    *length = padded;
    return header;
}

static bool write_data(FILE *f, const struct fcnn_st_tensor *tensors, int count)
{
    enum { CHUNK = 4096 };
    unsigned char buf[CHUNK * F32_BYTES];
    for (int i = 0; i < count; i++) {
        for (size_t done = 0; done < tensors[i].count;) {
            size_t n = tensors[i].count - done < CHUNK ? tensors[i].count - done : CHUNK;
            for (size_t k = 0; k < n; k++)
                store_le_f32(buf + k * F32_BYTES, tensors[i].data[done + k]);
            if (fwrite(buf, F32_BYTES, n, f) != n)
                return false;
            done += n;
        }
    }
    return true;
}

int fcnn_st_write(const char *path, const struct fcnn_st_tensor *tensors, int count,
                  const struct fcnn_st_meta *meta, int meta_count)
{
    int rc = check_write_args(path, tensors, count, meta, meta_count);
    if (rc != FCNN_OK)
        return rc;

    size_t header_len = 0;
    char *header = build_header(tensors, count, meta, meta_count, &header_len);
    if (!header)
        return fcnn_error(FCNN_ERR_NOMEM, "%s: out of memory building the header",
                          fcnn_quote(path));

    struct fcnn_file_writer w;
    rc = fcnn_file_write_begin(&w, path, "checkpoint");
    if (rc == FCNN_OK) {
        unsigned char len_bytes[8];
        store_le64(len_bytes, header_len);
        bool ok = fwrite(len_bytes, 1, 8, w.f) == 8 && fwrite(header, 1, header_len, w.f) == header_len;
        /* The tests' hooks (core/fault.h): a pause to be killed in with half a file written,
         * and a disk that fills up here. fcnn writes no safetensors file but checkpoints. */
        if (ok) {
            fcnn_fault_slow_write("checkpoint");
            int injected = fcnn_fault_write("checkpoint");
            if (injected) {
                errno = injected;
                ok = false;
            }
        }
        if (!ok || !write_data(w.f, tensors, count)) {
            rc = fcnn_error(FCNN_ERR_IO, "%s: cannot write: %s", fcnn_quote(path),
                            strerror(errno));
            fcnn_file_write_abort(&w);
        } else {
            rc = fcnn_file_write_commit(&w);
        }
    }
    free(header);
    return rc;
}

/* ---- reader ------------------------------------------------------------------------ */

/* A tensor entry between parsing and loading: where its bytes lie in the data section. */
struct entry {
    const char *name; /* points into the parsed JSON */
    int ndim;
    int64_t shape[FCNN_ST_MAX_DIMS];
    uint64_t count, begin, end;
};

static int invalid(const char *path, const char *what, const char *name, const char *detail)
{
    if (name)
        return fcnn_error(FCNN_ERR_INVALID, "%s: tensor '%s': %s%s", fcnn_quote(path), fcnn_escape(name), what, detail);
    return fcnn_error(FCNN_ERR_INVALID, "%s: %s%s", fcnn_quote(path), what, detail);
}

static int parse_shape(const char *path, const char *name, json_t *shape, struct entry *e)
{
    if (!json_is_array(shape))
        return invalid(path, "\"shape\" is missing or not an array", name, "");
    size_t ndim = json_array_size(shape);
    if (ndim > FCNN_ST_MAX_DIMS)
        return fcnn_error(FCNN_ERR_INVALID, "%s: tensor '%s': shape has %zu dimensions, "
                          "more than %d", fcnn_quote(path), fcnn_escape(name), ndim, FCNN_ST_MAX_DIMS);
    e->ndim = (int)ndim;
    for (size_t i = 0; i < ndim; i++) {
        json_t *dim = json_array_get(shape, i);
        if (!json_is_integer(dim))
            return fcnn_error(FCNN_ERR_INVALID, "%s: tensor '%s': shape dimension %zu is "
                              "not an integer", fcnn_quote(path), fcnn_escape(name), i);
        e->shape[i] = json_integer_value(dim);
        if (e->shape[i] < 0)
            return fcnn_error(FCNN_ERR_INVALID, "%s: tensor '%s': shape dimension %zu is "
                              "negative (%lld)", fcnn_quote(path), fcnn_escape(name), i, (long long)e->shape[i]);
    }
    if (!shape_count(e->ndim, e->shape, &e->count))
        return invalid(path, "the shape's element count overflows", name, "");
    return FCNN_OK;
}

static int parse_offsets(const char *path, const char *name, json_t *offsets,
                         uint64_t data_len, struct entry *e)
{
    json_t *begin = json_array_get(offsets, 0), *end = json_array_get(offsets, 1);
    if (!json_is_array(offsets) || json_array_size(offsets) != 2 || !json_is_integer(begin) ||
        !json_is_integer(end) || json_integer_value(begin) < 0 || json_integer_value(end) < 0)
        return invalid(path, "\"data_offsets\" is missing or not [begin, end] with "
                       "non-negative integers", name, "");
    e->begin = (uint64_t)json_integer_value(begin);
    e->end = (uint64_t)json_integer_value(end);
    if (e->begin > e->end)
        return fcnn_error(FCNN_ERR_INVALID, "%s: tensor '%s': data_offsets begin %llu is "
                          "after end %llu", fcnn_quote(path), fcnn_escape(name), (unsigned long long)e->begin,
                          (unsigned long long)e->end);
    if (e->end > data_len)
        return fcnn_error(FCNN_ERR_INVALID, "%s: tensor '%s': data_offsets [%llu, %llu] lie "
                          "outside the data section of %llu bytes", fcnn_quote(path), fcnn_escape(name),
                          (unsigned long long)e->begin, (unsigned long long)e->end,
                          (unsigned long long)data_len);
    if (e->end - e->begin != e->count * F32_BYTES)
        return fcnn_error(FCNN_ERR_INVALID, "%s: tensor '%s': data size %llu bytes does not "
                          "match its shape (%llu elements x 4 bytes)", fcnn_quote(path), fcnn_escape(name),
                          (unsigned long long)(e->end - e->begin),
                          (unsigned long long)e->count);
    return FCNN_OK;
}

static int parse_entry(const char *path, const char *name, json_t *obj, uint64_t data_len,
                       struct entry *e)
{
    if (!json_is_object(obj))
        return invalid(path, "entry is not a JSON object", name, "");
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value) {
        if (strcmp(key, "dtype") && strcmp(key, "shape") && strcmp(key, "data_offsets"))
            return fcnn_error(FCNN_ERR_INVALID, "%s: tensor '%s': unexpected field \"%s\"",
                              fcnn_quote(path), fcnn_escape(name), fcnn_escape(key));
    }
    json_t *dtype = json_object_get(obj, "dtype");
    if (!json_is_string(dtype))
        return invalid(path, "\"dtype\" is missing or not a string", name, "");
    if (strcmp(json_string_value(dtype), "F32"))
        return fcnn_error(FCNN_ERR_INVALID, "%s: tensor '%s': dtype %s is not supported "
                          "(only F32)", fcnn_quote(path), fcnn_escape(name), fcnn_escape(json_string_value(dtype)));
    e->name = name;
    int rc = parse_shape(path, name, json_object_get(obj, "shape"), e);
    if (rc == FCNN_OK)
        rc = parse_offsets(path, name, json_object_get(obj, "data_offsets"), data_len, e);
    return rc;
}

static int by_offsets(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return (x->end > y->end) - (x->end < y->end);
}

/* The tensors must tile the data section exactly: no overlaps, no gaps, nothing unused
 * at the end. Sorted by offset, each tensor must begin where the previous one ended. */
static int check_layout(const char *path, struct entry *entries, size_t n, uint64_t data_len)
{
    qsort(entries, n, sizeof *entries, by_offsets);
    uint64_t expected = 0;
    for (size_t i = 0; i < n; i++) {
        if (entries[i].begin < expected)
            return fcnn_error(FCNN_ERR_INVALID, "%s: tensors '%s' and '%s' overlap in the "
                              "data section", fcnn_quote(path), fcnn_escape(entries[i - 1].name), fcnn_escape(entries[i].name));
        if (entries[i].begin > expected)
            return fcnn_error(FCNN_ERR_INVALID, "%s: gap of %llu unused bytes before tensor "
                              "'%s' in the data section", fcnn_quote(path),
                              (unsigned long long)(entries[i].begin - expected),
                              fcnn_escape(entries[i].name));
        expected = entries[i].end;
    }
    if (n == 0 && data_len > 0)
        return fcnn_error(FCNN_ERR_INVALID, "%s: %llu bytes of unused data but no tensors",
                          fcnn_quote(path), (unsigned long long)data_len);
    if (expected != data_len)
        return fcnn_error(FCNN_ERR_INVALID, "%s: %llu bytes of unused data after the last "
                          "tensor", fcnn_quote(path), (unsigned long long)(data_len - expected));
    return FCNN_OK;
}

static int parse_metadata(const char *path, json_t *md, struct fcnn_st_file *out)
{
    if (!json_is_object(md))
        return invalid(path, "__metadata__ is not a JSON object of strings", NULL, "");
    const char *key;
    json_t *value;
    json_object_foreach(md, key, value) {
        if (!json_is_string(value))
            return fcnn_error(FCNN_ERR_INVALID, "%s: __metadata__ value of \"%s\" is not a "
                              "string", fcnn_quote(path), fcnn_escape(key));
    }
    size_t n = json_object_size(md);
    out->meta = calloc(n ? n : 1, sizeof *out->meta);
    if (!out->meta)
        return fcnn_error(FCNN_ERR_NOMEM, "%s: out of memory", fcnn_quote(path));
    json_object_foreach(md, key, value) {
        struct fcnn_st_meta *m = &out->meta[out->meta_count];
        m->key = strdup(key);
        m->value = strdup(json_string_value(value));
        out->meta_count++;
        if (!m->key || !m->value)
            return fcnn_error(FCNN_ERR_NOMEM, "%s: out of memory", fcnn_quote(path));
    }
    return FCNN_OK;
}

/* Reads the data section into one float block and points each tensor into it. */
static int load_data(const char *path, FILE *f, const struct entry *entries, size_t n,
                     uint64_t data_len, struct fcnn_st_file *out)
{
    if (data_len > SIZE_MAX)
        return fcnn_error(FCNN_ERR_NOMEM, "%s: data section too large for memory", fcnn_quote(path));
    out->storage = malloc(data_len ? (size_t)data_len : 1);
    out->tensors = calloc(n ? n : 1, sizeof *out->tensors);
    if (!out->storage || !out->tensors)
        return fcnn_error(FCNN_ERR_NOMEM, "%s: out of memory for %llu bytes of data", fcnn_quote(path),
                          (unsigned long long)data_len);
    unsigned char *bytes = (unsigned char *)out->storage;
    if (fread(bytes, 1, (size_t)data_len, f) != data_len)
        return fcnn_error(FCNN_ERR_IO, "%s: cannot read the data section: %s", fcnn_quote(path),
                          ferror(f) ? strerror(errno) : "file shrank while reading");
    /* In place: element i's bytes are exactly where float i lives. */
    for (uint64_t i = 0; i < data_len / F32_BYTES; i++)
        out->storage[i] = load_le_f32(bytes + i * F32_BYTES);

    for (size_t i = 0; i < n; i++) {
        struct fcnn_st_tensor *t = &out->tensors[i];
        t->name = strdup(entries[i].name);
        if (!t->name)
            return fcnn_error(FCNN_ERR_NOMEM, "%s: out of memory", fcnn_quote(path));
        out->count++;
        t->ndim = entries[i].ndim;
        memcpy(t->shape, entries[i].shape, sizeof t->shape);
        t->count = (size_t)entries[i].count;
        t->data = out->storage + entries[i].begin / F32_BYTES;
    }
    return FCNN_OK;
}

/* Parses and checks the header, then loads the data; `f` is positioned after the header. */
static int read_body(const char *path, FILE *f, const char *header, size_t header_len,
                     uint64_t data_len, struct fcnn_st_file *out)
{
    json_error_t err;
    json_t *root = json_loadb(header, header_len, JSON_REJECT_DUPLICATES, &err);
    if (!root)
        return fcnn_error(FCNN_ERR_INVALID, "%s: header is not valid JSON: %s (line %d, "
                          "column %d)", fcnn_quote(path), err.text, err.line, err.column);

    int rc = FCNN_OK;
    struct entry *entries = NULL;
    size_t n = 0;
    if (!json_is_object(root)) {
        rc = invalid(path, "header is not a JSON object", NULL, "");
        goto done;
    }
    entries = calloc(json_object_size(root) + 1, sizeof *entries);
    if (!entries) {
        rc = fcnn_error(FCNN_ERR_NOMEM, "%s: out of memory", fcnn_quote(path));
        goto done;
    }
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value) {
        if (!strcmp(key, METADATA_KEY))
            rc = parse_metadata(path, value, out);
        else
            rc = parse_entry(path, key, value, data_len, &entries[n++]);
        if (rc != FCNN_OK)
            goto done;
    }
    rc = check_layout(path, entries, n, data_len);
    if (rc == FCNN_OK)
        rc = load_data(path, f, entries, n, data_len, out);
done:
    free(entries);
    json_decref(root); /* last: entries' names point into it */
    return rc;
}

int fcnn_st_read(const char *path, struct fcnn_st_file *out)
{
    memset(out, 0, sizeof *out);
    FILE *f;
    int status = fcnn_file_open_read(path, &f);
    if (status != FCNN_OK)
        return status;

    int rc;
    char *header = NULL;
    struct stat st;
    unsigned char len_bytes[8];
    if (fstat(fileno(f), &st) != 0) {
        rc = fcnn_error(FCNN_ERR_IO, "%s: %s", fcnn_quote(path), strerror(errno));
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = invalid(path, "not a regular file", NULL, "");
        goto done;
    }
    uint64_t file_len = (uint64_t)st.st_size;
    if (file_len < 8) {
        rc = fcnn_error(FCNN_ERR_INVALID, "%s: file is %llu bytes, shorter than the 8-byte "
                        "header length", fcnn_quote(path), (unsigned long long)file_len);
        goto done;
    }
    if (fread(len_bytes, 1, 8, f) != 8) {
        rc = fcnn_error(FCNN_ERR_IO, "%s: cannot read the header length", fcnn_quote(path));
        goto done;
    }
    uint64_t header_len = load_le64(len_bytes);
    if (header_len > FCNN_ST_MAX_HEADER_BYTES) {
        rc = fcnn_error(FCNN_ERR_INVALID, "%s: header length %llu is above the limit of %u "
                        "bytes", fcnn_quote(path), (unsigned long long)header_len,
                        FCNN_ST_MAX_HEADER_BYTES);
        goto done;
    }
    if (header_len > file_len - 8) {
        rc = fcnn_error(FCNN_ERR_INVALID, "%s: header length %llu runs past the end of the "
                        "file (%llu bytes)", fcnn_quote(path), (unsigned long long)header_len,
                        (unsigned long long)file_len);
        goto done;
    }
    header = malloc(header_len ? (size_t)header_len : 1);
    if (!header) {
        rc = fcnn_error(FCNN_ERR_NOMEM, "%s: out of memory for the header", fcnn_quote(path));
        goto done;
    }
    if (fread(header, 1, (size_t)header_len, f) != header_len) {
        rc = fcnn_error(FCNN_ERR_IO, "%s: cannot read the header", fcnn_quote(path));
        goto done;
    }
    rc = read_body(path, f, header, (size_t)header_len, file_len - 8 - header_len, out);
done:
    free(header);
    fclose(f);
    if (rc != FCNN_OK) {
        fcnn_st_free(out);
        rc = fcnn_error_one_line(rc); /* tensor names and JSON excerpts come from the file */
    }
    return rc;
}

void fcnn_st_free(struct fcnn_st_file *file)
{
    if (!file)
        return;
    /* The names and strings were allocated by the reader; const only protects callers. */
    for (int i = 0; i < file->count; i++)
        free((char *)file->tensors[i].name);
    for (int i = 0; i < file->meta_count; i++) {
        free((char *)file->meta[i].key);
        free((char *)file->meta[i].value);
    }
    free(file->tensors);
    free(file->meta);
    free(file->storage);
    memset(file, 0, sizeof *file);
}

const struct fcnn_st_tensor *fcnn_st_find(const struct fcnn_st_file *file, const char *name)
{
    for (int i = 0; i < file->count; i++)
        if (!strcmp(file->tensors[i].name, name))
            return &file->tensors[i];
    return NULL;
}

const char *fcnn_st_meta_get(const struct fcnn_st_file *file, const char *key)
{
    for (int i = 0; i < file->meta_count; i++)
        if (!strcmp(file->meta[i].key, key))
            return file->meta[i].value;
    return NULL;
}
