/* A generic reader and writer of the safetensors format, F32 tensors only.
 *
 * Layout: an 8-byte little-endian header length N, N bytes of JSON mapping each tensor
 * name to {"dtype":"F32","shape":[...],"data_offsets":[begin,end]} (offsets relative to
 * the data section) plus an optional "__metadata__" object of string -> string, then the
 * raw little-endian data. Files written here open in Python's `safetensors` package.
 *
 * This module knows nothing about fcnn's model: which tensors a checkpoint must hold is
 * checked by the caller. Built only when configure found jansson (HAVE_JANSSON). */
#ifndef FCNN_SAFETENSORS_H
#define FCNN_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

/* The most dimensions a tensor may have (the format itself has no limit). */
#define FCNN_ST_MAX_DIMS 8

/* Headers above this size are rejected before they are read, as the reference
 * implementation does: a corrupt length must not make us allocate gigabytes. */
#define FCNN_ST_MAX_HEADER_BYTES (100u * 1000u * 1000u)

/* One tensor, as a view: the writer reads these fields; the reader fills them with
 * pointers into memory owned by its struct fcnn_st_file. */
struct fcnn_st_tensor {
    const char *name;
    int ndim;                          /* 0 (a scalar) .. FCNN_ST_MAX_DIMS */
    int64_t shape[FCNN_ST_MAX_DIMS];   /* only the first ndim entries are used */
    const float *data;                 /* count floats, host byte order */
    size_t count;                      /* the product of the shape */
};

/* One "__metadata__" entry. */
struct fcnn_st_meta {
    const char *key;
    const char *value;
};

/* A file read into memory. Tensors are listed in the order of their data in the file
 * (for files written by fcnn_st_write: the order they were given in); metadata in the
 * header's order. Everything is released by fcnn_st_free. */
struct fcnn_st_file {
    struct fcnn_st_tensor *tensors;
    int count;
    struct fcnn_st_meta *meta;
    int meta_count;
    float *storage; /* owned: every tensor's data points into this one block */
};

/* Writes `count` tensors (data laid out contiguously in the given order) and
 * `meta_count` metadata entries to `path`, atomically: the data goes to a temporary file
 * in the same directory, which is flushed, fsync'ed and renamed over `path`, and the
 * directory is fsync'ed. On failure the temporary file is removed and an existing file
 * at `path` is left as it was. Returns FCNN_OK, FCNN_ERR_INVALID (bad arguments),
 * FCNN_ERR_NOMEM or FCNN_ERR_IO, with one line in fcnn_last_error(). */
int fcnn_st_write(const char *path, const struct fcnn_st_tensor *tensors, int count,
                  const struct fcnn_st_meta *meta, int meta_count);

/* Reads and validates `path` strictly into `*out` (zeroed first, so fcnn_st_free is safe
 * after any result). Returns FCNN_OK, FCNN_ERR_INVALID (a malformed file: the message
 * names the file and the problem), FCNN_ERR_NOMEM or FCNN_ERR_IO. */
int fcnn_st_read(const char *path, struct fcnn_st_file *out);

/* Releases what fcnn_st_read allocated and zeroes `*file`. */
void fcnn_st_free(struct fcnn_st_file *file);

/* The tensor called `name`, or NULL. */
const struct fcnn_st_tensor *fcnn_st_find(const struct fcnn_st_file *file, const char *name);

/* The metadata value stored under `key`, or NULL. */
const char *fcnn_st_meta_get(const struct fcnn_st_file *file, const char *key);

#endif
