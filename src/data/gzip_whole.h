/* A whole gzip file inflated in one call (libdeflate), about twice as fast as zlib's
 * streaming reader on a large file: the IDX reader's fast path for the common case, a
 * well-formed file read to its end. It says only yes or no; on no, the caller reads the
 * file with zlib as it would have anyway, which names what is wrong precisely. */
#ifndef FCNN_GZIP_WHOLE_H
#define FCNN_GZIP_WHOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Whether `fd` (a regular file of `file_size` bytes, read with pread: the file offset is
 * left alone) is exactly one gzip member whose data is exactly `out_size` bytes, with a
 * good checksum; if so they are in `out`. Always false in a build without libdeflate,
 * and when the compressed file cannot be held in memory. */
bool fcnn_gzip_inflate_whole(int fd, off_t file_size, void *out, size_t out_size);

/* How many files fcnn_gzip_inflate_whole has inflated in this process (for the tests). */
unsigned long fcnn_gzip_inflated_whole_count(void);

#endif
