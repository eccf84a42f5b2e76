/* IDX reader on zlib's gz* interface, which reads gzip and plain files alike. The whole
 * file is validated: magic number, dimensions, the header's count against the bytes that
 * follow (neither fewer nor more), the gzip checksum, and label values. */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "data/idx.h"
#include "core/status.h"

/* The most items an IDX header may declare before we refuse to allocate for it. */
#define IDX_MAX_ITEMS 100000000

static uint32_t big_endian_u32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Why a gz stream stopped: a zlib error, or simply the end of the data. */
static int stream_error(gzFile gz, const char *path, const char *what)
{
    int errnum = Z_OK;
    const char *message = gzerror(gz, &errnum);
    if (errnum == Z_ERRNO)
        return fcnn_error(FCNN_ERR_IO, "%s: read error while reading %s: %s", path, what,
                          strerror(errno));
    if (errnum == Z_BUF_ERROR)
        return fcnn_error(FCNN_ERR_INVALID, "%s: gzip stream is truncated (in %s)", path, what);
    if (errnum != Z_OK)
        return fcnn_error(FCNN_ERR_INVALID, "%s: corrupt gzip data in %s (%s)", path, what,
                          message);
    return FCNN_OK;
}

/* Reads exactly `size` bytes, the part of the `total` declared bytes that follows the first
 * `before`, or explains why not. */
static int read_exact(gzFile gz, const char *path, void *buf, size_t size, const char *what,
                      size_t before, size_t total)
{
    size_t done = 0;
    while (done < size) {
        size_t want = size - done > (1u << 30) ? (1u << 30) : size - done;
        int got = gzread(gz, (char *)buf + done, (unsigned)want);
        if (got <= 0) {
            int status = stream_error(gz, path, what);
            if (status != FCNN_OK)
                return status;
            return fcnn_error(FCNN_ERR_INVALID,
                              "%s: file ends after %zu of the %zu bytes of %s its header declares",
                              path, before + done, total, what);
        }
        done += (size_t)got;
    }
    return FCNN_OK;
}

/* Reads the `size` bytes of data a header declares into a buffer that grows as the bytes
 * arrive, so that a header declaring far more than the file holds (a few corrupted bytes)
 * costs a short read, not an allocation of gigabytes. *out is malloc'ed on success. */
static int read_declared(gzFile gz, const char *path, size_t size, const char *what,
                         uint8_t **out)
{
    size_t capacity = size < (1u << 16) ? size : (1u << 16), done = 0;
    uint8_t *data = malloc(capacity ? capacity : 1);
    if (!data)
        return fcnn_error(FCNN_ERR_NOMEM, "%s: out of memory for %s", path, what);
    while (done < size) {
        if (done == capacity) {
            size_t grown = capacity > size / 2 ? size : 2 * capacity;
            uint8_t *bigger = realloc(data, grown);
            if (!bigger) {
                free(data);
                return fcnn_error(FCNN_ERR_NOMEM, "%s: out of memory for %s (%zu bytes)", path,
                                  what, size);
            }
            data = bigger;
            capacity = grown;
        }
        int status = read_exact(gz, path, data + done, capacity - done, what, done, size);
        if (status != FCNN_OK) {
            free(data);
            return status;
        }
        done = capacity;
    }
    *out = data;
    return FCNN_OK;
}

/* After the declared data the file must end: trailing bytes mean the header lies, and
 * reading on is also what makes zlib verify the gzip checksum and length. */
static int expect_end(gzFile gz, const char *path, const char *what)
{
    char extra[256];
    long trailing = 0;
    int got;
    while ((got = gzread(gz, extra, sizeof extra)) > 0)
        trailing += got;
    if (got < 0)
        return stream_error(gz, path, what);
    int status = stream_error(gz, path, what);
    if (status != FCNN_OK)
        return status;
    if (trailing)
        return fcnn_error(FCNN_ERR_INVALID, "%s: %ld bytes follow the %s its header declares",
                          path, trailing, what);
    return FCNN_OK;
}

static int open_idx(const char *path, gzFile *out)
{
    *out = gzopen(path, "rb");
    if (!*out) {
        if (errno == ENOENT)
            return fcnn_error(FCNN_ERR_IO, "%s: no such file", path);
        return fcnn_error(FCNN_ERR_IO, "%s: cannot open: %s", path,
                          errno ? strerror(errno) : "out of memory");
    }
    gzbuffer(*out, 1u << 17);
    return FCNN_OK;
}

/* Reads the magic number and `dims` dimensions that start every IDX file. */
static int read_header(gzFile gz, const char *path, uint32_t magic, const char *kind, int dims,
                       uint32_t *dim)
{
    unsigned char header[16];
    int size = 4 + 4 * dims;
    int got = gzread(gz, header, (unsigned)size); /* gzread stops short only at the end */
    if (got < size) {
        int status = stream_error(gz, path, "the header");
        if (status != FCNN_OK)
            return status;
        return fcnn_error(FCNN_ERR_INVALID, "%s: too short for an IDX %s header (%d bytes)", path,
                          kind, size);
    }
    uint32_t found = big_endian_u32(header);
    if (found != magic)
        return fcnn_error(FCNN_ERR_INVALID, "%s: bad magic number %u (an IDX %s file has %u)",
                          path, found, kind, magic);
    for (int i = 0; i < dims; i++)
        dim[i] = big_endian_u32(header + 4 + 4 * i);
    if (dim[0] == 0 || dim[0] > IDX_MAX_ITEMS)
        return fcnn_error(FCNN_ERR_INVALID, "%s: header declares %u items (expected 1 to %d)", path,
                          dim[0], IDX_MAX_ITEMS);
    return FCNN_OK;
}

int fcnn_idx_read_images(const char *path, int expect_rows, int expect_cols, int *count,
                         uint8_t **pixels)
{
    gzFile gz;
    uint32_t dim[3];
    uint8_t *data = NULL;
    *count = 0;
    *pixels = NULL;
    int status = open_idx(path, &gz);
    if (status != FCNN_OK)
        return status;
    status = read_header(gz, path, FCNN_IDX_IMAGES_MAGIC, "image", 3, dim);
    if (status == FCNN_OK && (dim[1] != (uint32_t)expect_rows || dim[2] != (uint32_t)expect_cols))
        status = fcnn_error(FCNN_ERR_INVALID, "%s: images are %ux%u, expected %dx%d", path, dim[1],
                            dim[2], expect_rows, expect_cols);
    size_t bytes = (size_t)dim[0] * (size_t)expect_rows * (size_t)expect_cols;
    if (status == FCNN_OK)
        status = read_declared(gz, path, bytes, "images", &data);
    if (status == FCNN_OK)
        status = expect_end(gz, path, "images");
    gzclose(gz);
    if (status != FCNN_OK) {
        free(data);
        return status;
    }
    *count = (int)dim[0];
    *pixels = data;
    return FCNN_OK;
}

int fcnn_idx_read_labels(const char *path, int classes, int *count, uint8_t **labels)
{
    gzFile gz;
    uint32_t dim[1];
    uint8_t *data = NULL;
    *count = 0;
    *labels = NULL;
    int status = open_idx(path, &gz);
    if (status != FCNN_OK)
        return status;
    status = read_header(gz, path, FCNN_IDX_LABELS_MAGIC, "label", 1, dim);
    if (status == FCNN_OK)
        status = read_declared(gz, path, dim[0], "labels", &data);
    if (status == FCNN_OK)
        status = expect_end(gz, path, "labels");
    for (uint32_t i = 0; status == FCNN_OK && i < dim[0]; i++)
        if (data[i] >= classes)
            status = fcnn_error(FCNN_ERR_INVALID, "%s: label %u at index %u is not a class 0..%d",
                                path, data[i], i, classes - 1);
    gzclose(gz);
    if (status != FCNN_OK) {
        free(data);
        return status;
    }
    *count = (int)dim[0];
    *labels = data;
    return FCNN_OK;
}
