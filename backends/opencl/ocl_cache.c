/* The on-disk program cache: built program binaries in $XDG_CACHE_HOME/fcnn (else
 * ~/.cache/fcnn), so a later run skips the OpenCL compiler.
 *
 * An entry is <stem>-<key>.bin, the key a hash of everything that decides what the build
 * produces: the format number below, the kernel source, the build options, and the
 * device name, driver version and platform version. The file holds a header (magic,
 * format, key, payload size, payload checksum) and the binary. An entry is used only when
 * every header field checks out, so a truncated or corrupted file is rebuilt, never
 * trusted; the driver may still refuse a binary, which ocl_program.c also treats as a
 * miss. Entries are written to a temporary file and renamed into place, so a reader never
 * sees half an entry. Any trouble with the directory turns the cache off, silently: it
 * only saves time. FCNN_NO_CACHE=1 turns it off too. On PoCL a program's binary is
 * stored when the backend closes rather than when it is built (ocl_cache_defers_binaries):
 * fetching it is a compilation of its own. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file.h"
#include "ocl.h"

/* Bump when the entry layout or what goes into the key changes. */
#define CACHE_FORMAT 1u

static const char magic[8] = { 'f', 'c', 'n', 'n', 'c', 'l', 'b', 'n' };

struct entry_header {
    char magic[8];
    uint32_t format;
    uint32_t reserved;
    uint64_t key;
    uint64_t payload_size;
    uint64_t payload_checksum;
};

/* 64-bit FNV-1a: enough to tell builds apart and to catch damaged bytes; this is not a
 * defence against someone who can write the cache directory. */
static uint64_t hash_bytes(uint64_t h, const void *data, size_t size)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < size; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

#define HASH_SEED 0xcbf29ce484222325ull

/* Length first, so that ("ab", "c") and ("a", "bc") hash differently. */
static uint64_t hash_field(uint64_t h, const void *data, size_t size)
{
    uint64_t length = size;
    h = hash_bytes(h, &length, sizeof length);
    return hash_bytes(h, data, size);
}

uint64_t ocl_cache_key(const struct ocl_device_identity *id, const char *source, size_t size,
                       const char *options)
{
    uint32_t format = CACHE_FORMAT;
    uint64_t h = hash_field(HASH_SEED, &format, sizeof format);
    h = hash_field(h, source, size);
    h = hash_field(h, options, strlen(options));
    h = hash_field(h, id->name, strlen(id->name));
    h = hash_field(h, id->driver_version, strlen(id->driver_version));
    h = hash_field(h, id->platform_version, strlen(id->platform_version));
    return h;
}

static bool make_dir(const char *path)
{
    return mkdir(path, 0700) == 0 || errno == EEXIST;
}

bool ocl_cache_defers_binaries(const struct ocl_device_identity *id)
{
    /* Fetching a program's binary from PoCL compiles every kernel of the program once
     * more, for a generic work-group size that no launch uses: on a cold start that was
     * half of the time to the first step. The run itself never needs those binaries, and
     * PoCL's own cache (under $POCL_CACHE_DIR or $XDG_CACHE_HOME/pocl) keeps each program
     * and each kernel compiled for its launch size as they are built, so a run that ends
     * before the store still leaves the next one little to compile. With PoCL's cache off
     * nothing would, and binaries are stored as they are built. */
    if (strcmp(id->platform_name, "Portable Computing Language") != 0)
        return false;
    const char *cache = getenv("POCL_KERNEL_CACHE");
    return !(cache && strcmp(cache, "0") == 0);
}

void ocl_cache_open(struct ocl_disk_cache *cache, const struct ocl_device_identity *id)
{
    memset(cache, 0, sizeof *cache);
    const char *off = getenv("FCNN_NO_CACHE");
    if (off && *off && strcmp(off, "0") != 0)
        return;

    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char base[sizeof cache->dir - 8];
    int n;
    if (xdg && *xdg)
        n = snprintf(base, sizeof base, "%s", xdg);
    else if (home && *home)
        n = snprintf(base, sizeof base, "%s/.cache", home);
    else
        return;
    /* A cut name would be another directory: no cache rather than the wrong one. The +128
     * leaves room for every entry name inside it. */
    if (n < 0 || (size_t)n >= sizeof base ||
        (size_t)snprintf(cache->dir, sizeof cache->dir, "%s/fcnn", base) + 128 >= sizeof cache->dir)
        return;
    struct stat st;
    cache->enabled = make_dir(base) && make_dir(cache->dir) && stat(cache->dir, &st) == 0 &&
                     S_ISDIR(st.st_mode) && access(cache->dir, R_OK | W_OK | X_OK) == 0;
    cache->defer = cache->enabled && ocl_cache_defers_binaries(id);
}

/* <dir>/<file without .cl>-<key>.bin */
static void entry_path(const struct ocl_disk_cache *cache, const char *file, uint64_t key,
                       char *out, size_t size)
{
    int stem = (int)strcspn(file, ".");
    snprintf(out, size, "%s/%.*s-%016llx.bin", cache->dir, stem, file, (unsigned long long)key);
}

unsigned char *ocl_cache_load(struct ocl_disk_cache *cache, const char *file, uint64_t key,
                              size_t *size)
{
    if (!cache->enabled)
        return NULL;
    char path[sizeof cache->dir + 128];
    entry_path(cache, file, key, path, sizeof path);
    struct stat st;
    if (stat(path, &st) != 0)
        return NULL; /* no entry: an ordinary miss */
    FILE *f;
    if (fcnn_file_open_read(path, &f) != FCNN_OK) {
        cache->stats.rejected++; /* not a regular file: never read (a FIFO would block) */
        return NULL;
    }

    struct entry_header h;
    unsigned char *payload = NULL;
    bool valid = fstat(fileno(f), &st) == 0 && fread(&h, sizeof h, 1, f) == 1 &&
                 memcmp(h.magic, magic, sizeof magic) == 0 && h.format == CACHE_FORMAT &&
                 h.key == key && h.payload_size > 0 &&
                 (uint64_t)st.st_size == sizeof h + h.payload_size;
    if (valid) {
        payload = malloc(h.payload_size);
        valid = payload && fread(payload, 1, h.payload_size, f) == h.payload_size &&
                hash_bytes(HASH_SEED, payload, h.payload_size) == h.payload_checksum;
    }
    fclose(f);
    if (!valid) {
        free(payload);
        cache->stats.rejected++;
        return NULL;
    }
    *size = h.payload_size;
    return payload;
}

void ocl_cache_store(struct ocl_disk_cache *cache, const char *file, uint64_t key,
                     const unsigned char *binary, size_t size)
{
    if (!cache->enabled || size == 0)
        return;
    char path[sizeof cache->dir + 128];
    entry_path(cache, file, key, path, sizeof path);

    struct entry_header h = { .format = CACHE_FORMAT, .key = key, .payload_size = size,
                              .payload_checksum = hash_bytes(HASH_SEED, binary, size) };
    memcpy(h.magic, magic, sizeof magic);
    /* A fresh temporary file and rename(): readers see the old entry or the new, and a
     * link planted in the cache directory is never written through. The cache is best
     * effort, so a failure only costs the next run a compile. */
    struct fcnn_file_writer w;
    if (fcnn_file_write_begin(&w, path, "kernel cache entry") != FCNN_OK)
        return;
    if (fwrite(&h, sizeof h, 1, w.f) == 1 && fwrite(binary, 1, size, w.f) == size) {
        if (fcnn_file_write_commit(&w) == FCNN_OK)
            cache->stats.stores++;
    } else {
        fcnn_file_write_abort(&w);
    }
}
