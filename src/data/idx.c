/* IDX reader on zlib's gz* interface, which reads gzip and plain files alike; a whole
 * gzip image file is inflated in one call where libdeflate is built in (gzip_whole.h),
 * with zlib reading it instead whenever that call does not succeed. Checked:
 * the magic number (unsigned bytes only), the dimensions, the header's size against the
 * file's before anything large is allocated, the bytes that follow (neither fewer nor
 * more, when the whole file is read), the gzip checksum, and label values. */
#include <config.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "data/gzip_whole.h"
#include "data/idx.h"
#include "core/file.h"
#include "core/quote.h"
#include "core/status.h"

/* The most items an IDX header may declare, and the largest image side and channel count
 * we accept: far beyond any real dataset, small enough that no product overflows. */
#define IDX_MAX_ITEMS 100000000
#define IDX_MAX_SIDE 65536
#define IDX_MAX_CHANNELS 4

/* Deflate cannot compress by more than about 1032:1, so a gzip file of S bytes holds at
 * most this many times S bytes of data: a bound checked without decompressing. */
#define DEFLATE_MAX_RATIO 1032

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

static int ends_early(const char *path, size_t done, size_t size, const char *what)
{
    return fcnn_error(FCNN_ERR_INVALID,
                      "%s: file ends after %zu of the %zu bytes of %s its header declares", path,
                      done, size, what);
}

/* Reads exactly `size` bytes, or explains why not. */
static int read_exact(gzFile gz, const char *path, void *buf, size_t size, const char *what)
{
    size_t done = 0;
    while (done < size) {
        size_t want = size - done > (1u << 30) ? (1u << 30) : size - done;
        int got = gzread(gz, (char *)buf + done, (unsigned)want);
        if (got <= 0) {
            int status = stream_error(gz, path, what);
            return status != FCNN_OK ? status : ends_early(path, done, size, what);
        }
        done += (size_t)got;
    }
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
    int status = stream_error(gz, path, what);
    if (status != FCNN_OK)
        return status;
    if (trailing)
        return fcnn_error(FCNN_ERR_INVALID, "%s: %ld bytes follow the %s its header declares",
                          path, trailing, what);
    return FCNN_OK;
}

/* Through fcnn_file_open_read_fd, so a FIFO or device named as a data file is refused at
 * once instead of blocking the run. */
static int open_idx(const char *path, gzFile *out, int *out_fd, off_t *file_size)
{
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0 && errno == ENOENT)
        return fcnn_error(FCNN_ERR_IO, "%s: no such file", fcnn_quote(path));
    int fd;
    int status = fcnn_file_open_read_fd(path, &fd);
    if (status != FCNN_OK)
        return status;
    if (fstat(fd, &st) != 0) {
        int error = errno;
        close(fd);
        return fcnn_error(FCNN_ERR_IO, "%s: cannot open: %s", fcnn_quote(path), strerror(error));
    }
    *file_size = st.st_size;
    *out_fd = fd; /* owned by the gzFile, which closes it */
    *out = gzdopen(fd, "rb");
    if (!*out) {
        close(fd);
        return fcnn_error(FCNN_ERR_NOMEM, "%s: cannot open: out of memory", fcnn_quote(path));
    }
    /* A large buffer reads the 47 MB training set faster; a file under 128 KiB gets one
     * of its own size (at least zlib's default 8 KiB), not 384 KiB it cannot fill. */
    if (st.st_size > 8192)
        gzbuffer(*out, st.st_size < (1 << 17) ? (unsigned)st.st_size : 1u << 17);
    return FCNN_OK;
}

/* Reads the magic number and the dimensions that follow it. `magics` lists the accepted
 * magic numbers, whose low byte is the dimension count. */
static int read_header(gzFile gz, const char *path, const char *kind, const uint32_t *magics,
                       int magic_count, int *dims, uint32_t *dim)
{
    unsigned char header[4 + 4 * 4];
    int got = gzread(gz, header, 4);
    if (got < 4) {
        int status = stream_error(gz, path, "the header");
        return status != FCNN_OK ? status
                                 : fcnn_error(FCNN_ERR_INVALID, "%s: too short for an IDX %s "
                                              "header", path, kind);
    }
    uint32_t found = big_endian_u32(header);
    int ok = 0;
    for (int i = 0; i < magic_count; i++)
        ok |= found == magics[i];
    if (!ok) {
        if (found >> 16 == 0 && (found >> 8 & 0xff) != 0x08 && (found >> 8 & 0xff) >= 0x09)
            return fcnn_error(FCNN_ERR_INVALID, "%s: IDX element type 0x%02x is not unsigned "
                              "bytes (the only type fcnn reads)", path, found >> 8 & 0xff);
        return fcnn_error(FCNN_ERR_INVALID, "%s: bad magic number %u (an IDX %s file has %u%s)",
                          path, found, kind, magics[0],
                          magic_count > 1 ? " or 2052, with channels" : "");
    }
    *dims = (int)(found & 0xff);
    got = gzread(gz, header + 4, (unsigned)(4 * *dims));
    if (got < 4 * *dims) {
        int status = stream_error(gz, path, "the header");
        return status != FCNN_OK ? status
                                 : fcnn_error(FCNN_ERR_INVALID, "%s: too short for an IDX %s "
                                              "header (%d bytes)", path, kind, 4 + 4 * *dims);
    }
    for (int i = 0; i < *dims; i++)
        dim[i] = big_endian_u32(header + 4 + 4 * i);
    if (dim[0] == 0 || dim[0] > IDX_MAX_ITEMS)
        return fcnn_error(FCNN_ERR_INVALID, "%s: header declares %u items (expected 1 to %d)", path,
                          dim[0], IDX_MAX_ITEMS);
    return FCNN_OK;
}

/* Refuses a header whose data cannot fit in the file, before the data is allocated: a
 * plain file must hold exactly the declared bytes after its header; a gzip file at most
 * DEFLATE_MAX_RATIO times its size (the exact check comes while reading). */
static int check_size(gzFile gz, const char *path, off_t file_size, size_t header_bytes,
                      size_t data_bytes, const char *what)
{
    size_t held = file_size > (off_t)header_bytes ? (size_t)file_size - header_bytes : 0;
    if (gzdirect(gz)) {
        if (held < data_bytes)
            return ends_early(path, held, data_bytes, what);
        if (held > data_bytes)
            return fcnn_error(FCNN_ERR_INVALID, "%s: %zu bytes follow the %s its header declares",
                              path, held - data_bytes, what);
        return FCNN_OK;
    }
    if ((double)data_bytes > (double)file_size * DEFLATE_MAX_RATIO)
        return fcnn_error(FCNN_ERR_INVALID, "%s: header declares %zu bytes of %s, more than a "
                          "gzip file of %lld bytes can hold", path, data_bytes, what,
                          (long long)file_size);
    return FCNN_OK;
}

/* Whether `data` starts with the header read before: the file did not change between
 * zlib's read of its header and the whole file's. */
static bool same_header(const uint8_t *data, int dims, const uint32_t *dim)
{
    if (big_endian_u32(data) != (0x0800u | (uint32_t)dims))
        return false;
    for (int i = 0; i < dims; i++)
        if (big_endian_u32(data + 4 + 4 * i) != dim[i])
            return false;
    return true;
}

int fcnn_idx_read_images(const char *path, int limit, struct fcnn_dataset *out, int *total)
{
    static const uint32_t magics[] = { FCNN_IDX_IMAGES_MAGIC, FCNN_IDX_IMAGES4_MAGIC };
    gzFile gz;
    int fd = -1;
    off_t file_size;
    uint32_t dim[4] = { 0, 0, 0, 1 };
    int dims = 0;
    uint8_t *data = NULL;
    out->count = 0;
    out->images = NULL;
    *total = 0;
    int status = open_idx(path, &gz, &fd, &file_size);
    if (status != FCNN_OK)
        return status;
    status = read_header(gz, path, "image", magics, 2, &dims, dim);
    if (status == FCNN_OK && (dim[1] == 0 || dim[2] == 0 || dim[1] > IDX_MAX_SIDE ||
                              dim[2] > IDX_MAX_SIDE))
        status = fcnn_error(FCNN_ERR_INVALID, "%s: images are %ux%u (each side must be 1 to %d)",
                            path, dim[1], dim[2], IDX_MAX_SIDE);
    if (status == FCNN_OK && dims == 4 && (dim[3] == 0 || dim[3] > IDX_MAX_CHANNELS))
        status = fcnn_error(FCNN_ERR_INVALID, "%s: images have %u channels (expected 1 to %d)",
                            path, dim[3], IDX_MAX_CHANNELS);
    size_t sample = (size_t)dim[1] * dim[2] * dim[3];
    size_t header_bytes = 4 + 4 * (size_t)dims;
    if (status == FCNN_OK)
        status = check_size(gz, path, file_size, header_bytes, dim[0] * sample, "images");
    int keep = limit > 0 && (uint32_t)limit < dim[0] ? limit : (int)dim[0];
    size_t bytes = (size_t)keep * sample;
    /* The whole file at once, header included, when all of it is wanted; the block has
     * room for the header, which is then moved out from under the images. */
    bool whole = status == FCNN_OK && keep == (int)dim[0] && !gzdirect(gz);
    if (status == FCNN_OK &&
        !(data = fcnn_dataset_alloc_images(bytes + (whole ? header_bytes : 0))))
        status = fcnn_error(FCNN_ERR_NOMEM, "%s: out of memory for %d images", path, keep);
    if (whole && status == FCNN_OK &&
        fcnn_gzip_inflate_whole(fd, file_size, data, header_bytes + bytes) &&
        same_header(data, dims, dim))
        memmove(data, data + header_bytes, bytes);
    else if (status == FCNN_OK) {
        status = read_exact(gz, path, data, bytes, "images");
        /* Read only the first `keep` images when limited: the declared size has been
         * checked against the file's. */
        if (status == FCNN_OK && keep == (int)dim[0])
            status = expect_end(gz, path, "images");
        /* A short read is reported against the whole declaration, not the kept part. */
    }
    gzclose(gz);
    if (status != FCNN_OK) {
        free(data);
        return status;
    }
    out->count = keep;
    *total = (int)dim[0];
    out->rows = (int)dim[1];
    out->cols = (int)dim[2];
    out->channels = (int)dim[3];
    out->images = data;
    return FCNN_OK;
}

int fcnn_idx_read_labels(const char *path, int classes, int limit, int *count, int *total,
                         int *max_label, uint8_t **labels)
{
    static const uint32_t magics[] = { FCNN_IDX_LABELS_MAGIC };
    gzFile gz;
    off_t file_size;
    uint32_t dim[4];
    int dims = 0;
    uint8_t *data = NULL;
    *count = *total = *max_label = 0;
    *labels = NULL;
    if (classes <= 0)
        classes = FCNN_MAX_CLASSES;
    int fd;
    int status = open_idx(path, &gz, &fd, &file_size);
    if (status != FCNN_OK)
        return status;
    status = read_header(gz, path, "label", magics, 1, &dims, dim);
    if (status == FCNN_OK)
        status = check_size(gz, path, file_size, 8, dim[0], "labels");
    if (status == FCNN_OK && !(data = malloc(dim[0])))
        status = fcnn_error(FCNN_ERR_NOMEM, "%s: out of memory for %u labels", path, dim[0]);
    if (status == FCNN_OK)
        status = read_exact(gz, path, data, dim[0], "labels");
    if (status == FCNN_OK)
        status = expect_end(gz, path, "labels");
    for (uint32_t i = 0; status == FCNN_OK && i < dim[0]; i++) {
        if (data[i] >= classes)
            status = fcnn_error(FCNN_ERR_INVALID, "%s: label %u at index %u is not a class 0..%d",
                                path, data[i], i, classes - 1);
        else if (data[i] > *max_label)
            *max_label = data[i];
    }
    gzclose(gz);
    if (status != FCNN_OK) {
        free(data);
        *max_label = 0;
        return status;
    }
    *total = (int)dim[0];
    *count = limit > 0 && limit < *total ? limit : *total;
    *labels = data;
    return FCNN_OK;
}
