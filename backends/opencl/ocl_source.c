/* Kernel sources. Each kernels/<name>.cl is embedded at build time as a byte array
 * (kernels/local.mk turns it into kernels/<name>.cl.inc: a C string literal could hold
 * only 4095 characters portably), so fcnn needs no source tree at run time. While
 * developing kernels, $FCNN_KERNEL_DIR/<name>.cl, when it exists, replaces the built-in
 * copy; the program cache is keyed by the source itself, so an edited file rebuilds. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/file.h"
#include "core/quote.h"
#include "ocl.h"

static const unsigned char activation_cl[] = {
#include "kernels/activation.cl.inc"
};
static const unsigned char bias_cl[] = {
#include "kernels/bias.cl.inc"
};
static const unsigned char conv2d_cl[] = {
#include "kernels/conv2d.cl.inc"
};
static const unsigned char conv2d_filter_cl[] = {
#include "kernels/conv2d_filter.cl.inc"
};
static const unsigned char conv2d_filter_winograd4_cl[] = {
#include "kernels/conv2d_filter_winograd4.cl.inc"
};
static const unsigned char conv2d_tiled_cl[] = {
#include "kernels/conv2d_tiled.cl.inc"
};
static const unsigned char conv2d_winograd_cl[] = {
#include "kernels/conv2d_winograd.cl.inc"
};
static const unsigned char conv2d_winograd4_cl[] = {
#include "kernels/conv2d_winograd4.cl.inc"
};
static const unsigned char conv2d_phases_cl[] = {
#include "kernels/conv2d_phases.cl.inc"
};
static const unsigned char conv2d_pool_cl[] = {
#include "kernels/conv2d_pool.cl.inc"
};
static const unsigned char data_cl[] = {
#include "kernels/data.cl.inc"
};
static const unsigned char gemm_cl[] = {
#include "kernels/gemm.cl.inc"
};
static const unsigned char gemm_local_cl[] = {
#include "kernels/gemm_local.cl.inc"
};
static const unsigned char gemm_small_k_cl[] = {
#include "kernels/gemm_small_k.cl.inc"
};
static const unsigned char dense_skinny_cl[] = {
#include "kernels/dense_skinny.cl.inc"
};
static const unsigned char im2col_cl[] = {
#include "kernels/im2col.cl.inc"
};
static const unsigned char loss_cl[] = {
#include "kernels/loss.cl.inc"
};
static const unsigned char optim_cl[] = {
#include "kernels/optim.cl.inc"
};
static const unsigned char pool_cl[] = {
#include "kernels/pool.cl.inc"
};
static const unsigned char dropout_cl[] = {
#include "kernels/dropout.cl.inc"
};
static const unsigned char batchnorm_cl[] = {
#include "kernels/batchnorm.cl.inc"
};

static const struct embedded {
    const char *file;
    const unsigned char *bytes;
    size_t size;
} embedded[] = {
#define EMBEDDED(name) { #name ".cl", name##_cl, sizeof name##_cl }
    EMBEDDED(activation),    EMBEDDED(bias), EMBEDDED(conv2d), EMBEDDED(conv2d_filter),
    EMBEDDED(conv2d_tiled),  EMBEDDED(data), EMBEDDED(gemm),   EMBEDDED(im2col),
    EMBEDDED(gemm_local),    EMBEDDED(gemm_small_k), EMBEDDED(loss), EMBEDDED(optim),
    EMBEDDED(pool),          EMBEDDED(dropout), EMBEDDED(batchnorm),
    EMBEDDED(conv2d_winograd), EMBEDDED(conv2d_winograd4), EMBEDDED(conv2d_phases),
    EMBEDDED(conv2d_pool),   EMBEDDED(conv2d_filter_winograd4), EMBEDDED(dense_skinny),
#undef EMBEDDED
};

#define EMBEDDED_COUNT ((int)(sizeof embedded / sizeof embedded[0]))

int ocl_source_count(void)
{
    return EMBEDDED_COUNT;
}

const char *ocl_source_file(int i)
{
    return i >= 0 && i < EMBEDDED_COUNT ? embedded[i].file : NULL;
}

/* Reads the whole file; FCNN_OK with source->owned NULL when it does not exist. */
static int read_override(const char *path, struct ocl_source *source)
{
    struct stat st;
    if (stat(path, &st) != 0 && errno == ENOENT)
        return FCNN_OK;
    FILE *f;
    if (fcnn_file_open_read(path, &f) != FCNN_OK)
        return fcnn_error(FCNN_ERR_IO, "FCNN_KERNEL_DIR: %s", fcnn_last_error());
    size_t capacity = 1 << 14, size = 0;
    char *text = malloc(capacity);
    while (text) {
        size += fread(text + size, 1, capacity - size, f);
        if (size < capacity)
            break;
        char *bigger = realloc(text, capacity * 2);
        if (!bigger)
            free(text);
        text = bigger;
        capacity *= 2;
    }
    bool read_error = ferror(f);
    fclose(f);
    if (!text)
        return fcnn_error(FCNN_ERR_NOMEM, "%s: out of memory reading it", fcnn_quote(path));
    if (read_error) {
        free(text);
        return fcnn_error(FCNN_ERR_IO, "FCNN_KERNEL_DIR: %s: could not read it",
                          fcnn_quote(path));
    }
    source->owned = text;
    source->text = text;
    source->size = size;
    snprintf(source->origin, sizeof source->origin, "%s (from FCNN_KERNEL_DIR)", fcnn_quote(path));
    return FCNN_OK;
}

int ocl_source_load(const char *file, struct ocl_source *source)
{
    memset(source, 0, sizeof *source);
    const char *dir = getenv("FCNN_KERNEL_DIR");
    if (dir && *dir) {
        /* A directory the user named must exist: a typo would otherwise run the built-in
         * kernels while the user believes theirs are tested. */
        struct stat st;
        if (stat(dir, &st) != 0)
            return fcnn_error(FCNN_ERR_INVALID, "FCNN_KERNEL_DIR %s: %s", fcnn_quote(dir),
                              strerror(errno));
        if (!S_ISDIR(st.st_mode))
            return fcnn_error(FCNN_ERR_INVALID, "FCNN_KERNEL_DIR %s: not a directory",
                              fcnn_quote(dir));
        char path[4096];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, file) >= sizeof path)
            return fcnn_error(FCNN_ERR_INVALID, "FCNN_KERNEL_DIR %s: name too long",
                              fcnn_quote(dir));
        OCL_TRY(read_override(path, source));
        if (source->owned)
            return FCNN_OK;
    }
    for (int i = 0; i < EMBEDDED_COUNT; i++) {
        if (strcmp(embedded[i].file, file) == 0) {
            source->text = (const char *)embedded[i].bytes;
            source->size = embedded[i].size;
            snprintf(source->origin, sizeof source->origin, "kernels/%s (built in)", file);
            return FCNN_OK;
        }
    }
    return fcnn_error(FCNN_ERR_INVALID, "no kernel file named '%s'", file);
}

void ocl_source_release(struct ocl_source *source)
{
    free(source->owned);
    source->owned = NULL;
}
