/* See gzip_whole.h. The compressed file is read into memory rather than mapped: a file
 * truncated while mapped would end the process with SIGBUS, and a read costs 13 ms for
 * the 26 MB Fashion-MNIST training images. That memory is mapped anonymously, not
 * malloc'd: glibc's free() of a malloc'd block between 128 KiB and 32 MiB raises its
 * threshold for mapping blocks to that size, and the heap then keeps what a compiler
 * frees in between (12 MB more at the warm-up process's peak on the full data). */
#include <config.h>

#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "data/gzip_whole.h"

#ifdef HAVE_LIBDEFLATE
#include <libdeflate.h>
#endif

static unsigned long inflated_whole;

unsigned long fcnn_gzip_inflated_whole_count(void)
{
    return inflated_whole;
}

#ifdef HAVE_LIBDEFLATE
static bool read_all_at_start(int fd, unsigned char *buf, size_t size)
{
    size_t done = 0;
    while (done < size) {
        ssize_t got = pread(fd, buf + done, size - done, (off_t)done);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return false;
        done += (size_t)got;
    }
    return true;
}
#endif

bool fcnn_gzip_inflate_whole(int fd, off_t file_size, void *out, size_t out_size)
{
#ifdef HAVE_LIBDEFLATE
    /* A gzip member is at least 18 bytes (10 of header, 8 of trailer). */
    if (file_size < 18 || (unsigned long long)file_size > (size_t)-1)
        return false;
    size_t in_size = (size_t)file_size;
    unsigned char *in = mmap(NULL, in_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                             -1, 0);
    if (in == MAP_FAILED)
        return false;
    bool ok = read_all_at_start(fd, in, in_size);
    /* The trailer's last field is the data's length modulo 2^32: a cheap refusal of a file
     * whose data is not the size expected, before any inflating. */
    if (ok) {
        const unsigned char *t = in + in_size - 4;
        uint32_t isize = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 |
                         (uint32_t)t[3] << 24;
        ok = isize == (uint32_t)out_size;
    }
    if (ok) {
        struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
        size_t in_used = 0, out_used = 0;
        ok = d && libdeflate_gzip_decompress_ex(d, in, in_size, out, out_size, &in_used,
                                                &out_used) == LIBDEFLATE_SUCCESS &&
             in_used == in_size && out_used == out_size;
        libdeflate_free_decompressor(d);
    }
    munmap(in, in_size);
    if (ok)
        inflated_whole++;
    return ok;
#else
    (void)fd;
    (void)file_size;
    (void)out;
    (void)out_size;
    return false;
#endif
}
