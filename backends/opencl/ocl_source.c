/* Kernel sources. Each kernels/<name>.cl is embedded at build time as a byte array
 * (kernels/local.mk turns it into kernels/<name>.cl.inc: a C string literal could hold
 * only 4095 characters portably), so fcnn needs no source tree at run time. While
 * developing kernels, $FCNN_KERNEL_DIR/<name>.cl, when it exists, replaces the built-in
 * copy; the program cache is keyed by the source itself, so an edited file rebuilds.
 *
 * A program's file may name a part on a line `#include "part.cl"` of its own: the part's
 * text is pasted in there (an embedded program has no directory for the compiler to look
 * in), so code that several programs need, such as dropout's mask, has one copy. */
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
static const unsigned char dropout_mask_cl[] = {
#include "kernels/dropout_mask.cl.inc"
};

struct embedded {
    const char *file;
    const unsigned char *bytes;
    size_t size;
};
#define EMBEDDED(name) { #name ".cl", name##_cl, sizeof name##_cl }

/* The files built as programs. */
static const struct embedded programs[] = {
    EMBEDDED(activation),    EMBEDDED(bias), EMBEDDED(conv2d), EMBEDDED(conv2d_filter),
    EMBEDDED(conv2d_tiled),  EMBEDDED(data), EMBEDDED(gemm),   EMBEDDED(im2col),
    EMBEDDED(gemm_local),    EMBEDDED(gemm_small_k), EMBEDDED(loss), EMBEDDED(optim),
    EMBEDDED(pool),          EMBEDDED(dropout), EMBEDDED(batchnorm),
    EMBEDDED(conv2d_winograd), EMBEDDED(conv2d_winograd4), EMBEDDED(conv2d_phases),
    EMBEDDED(conv2d_pool),   EMBEDDED(conv2d_filter_winograd4), EMBEDDED(dense_skinny),
};

/* The parts programs include, never built alone. */
static const struct embedded parts[] = {
    EMBEDDED(dropout_mask),
};
#undef EMBEDDED

#define PROGRAM_COUNT ((int)(sizeof programs / sizeof programs[0]))
#define PART_COUNT ((int)(sizeof parts / sizeof parts[0]))

int ocl_source_count(void)
{
    return PROGRAM_COUNT;
}

const char *ocl_source_file(int i)
{
    return i >= 0 && i < PROGRAM_COUNT ? programs[i].file : NULL;
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
    source->overridden = true;
    snprintf(source->origin, sizeof source->origin, "%s (from FCNN_KERNEL_DIR)", fcnn_quote(path));
    return FCNN_OK;
}

/* $FCNN_KERNEL_DIR, or NULL when it is unset. A directory the user named must exist: a
 * typo would otherwise run the built-in kernels while the user believes theirs are
 * tested. */
static int override_dir(const char **dir_out)
{
    const char *dir = getenv("FCNN_KERNEL_DIR");
    *dir_out = NULL;
    if (!dir || !*dir)
        return FCNN_OK;
    struct stat st;
    if (stat(dir, &st) != 0)
        return fcnn_error(FCNN_ERR_INVALID, "FCNN_KERNEL_DIR %s: %s", fcnn_quote(dir),
                          strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return fcnn_error(FCNN_ERR_INVALID, "FCNN_KERNEL_DIR %s: not a directory",
                          fcnn_quote(dir));
    *dir_out = dir;
    return FCNN_OK;
}

/* One file's own text: dir/<file> when dir has it, else the copy in `table`. */
static int load_file(const char *dir, const char *file, const struct embedded *table,
                     int count, struct ocl_source *source)
{
    if (dir) {
        char path[4096];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, file) >= sizeof path)
            return fcnn_error(FCNN_ERR_INVALID, "FCNN_KERNEL_DIR %s: name too long",
                              fcnn_quote(dir));
        OCL_TRY(read_override(path, source));
        if (source->owned)
            return FCNN_OK;
    }
    for (int i = 0; i < count; i++) {
        if (strcmp(table[i].file, file) == 0) {
            source->text = (const char *)table[i].bytes;
            source->size = table[i].size;
            snprintf(source->origin, sizeof source->origin, "kernels/%s (built in)", file);
            return FCNN_OK;
        }
    }
    return fcnn_error(FCNN_ERR_INVALID, "no kernel %s named %s",
                      table == parts ? "part" : "file", fcnn_quote(file));
}

static const char include_prefix[] = "#include \"";
#define INCLUDE_PREFIX_LENGTH (sizeof include_prefix - 1)

/* The part that line `number` of file, `#include "part.cl"`, names, written in its place
 * between #line directives, so that the compiler's messages still name the file and line
 * they are about. */
static int paste_part(const char *dir, const char *line, size_t length, const char *file,
                      int number, struct ocl_source *program, FILE *out)
{
    const char *name = line + INCLUDE_PREFIX_LENGTH;
    const char *close = memchr(name, '"', length - INCLUDE_PREFIX_LENGTH);
    char part_file[256];
    if (!close || (size_t)(close - name) >= sizeof part_file)
        return fcnn_error(FCNN_ERR_INVALID, "%s, line %d: an #include line with no part name",
                          program->origin, number);
    memcpy(part_file, name, (size_t)(close - name));
    part_file[close - name] = '\0';
    struct ocl_source part = { 0 };
    if (load_file(dir, part_file, parts, PART_COUNT, &part) != FCNN_OK)
        return fcnn_error(FCNN_ERR_INVALID, "%s, line %d: %s", program->origin, number,
                          fcnn_last_error());
    fprintf(out, "#line 1 \"%s\"\n", part_file);
    fwrite(part.text, 1, part.size, out);
    fprintf(out, "\n#line %d \"%s\"\n", number + 1, file);
    if (part.overridden && !program->overridden) {
        size_t used = strlen(program->origin);
        snprintf(program->origin + used, sizeof program->origin - used, ", including %s",
                 part.origin);
    }
    program->overridden |= part.overridden;
    ocl_source_release(&part);
    return FCNN_OK;
}

static bool is_include(const char *line, size_t length)
{
    return length > INCLUDE_PREFIX_LENGTH &&
           memcmp(line, include_prefix, INCLUDE_PREFIX_LENGTH) == 0;
}

/* Replaces source's text by one with every part it includes pasted in (a part's own
 * #include lines are left to the compiler, which finds nothing: parts include nothing). */
static int paste_parts(const char *dir, const char *file, struct ocl_source *source)
{
    char *pasted = NULL;
    size_t pasted_size = 0;
    FILE *out = open_memstream(&pasted, &pasted_size);
    if (!out)
        return fcnn_error(FCNN_ERR_NOMEM, "%s: out of memory", source->origin);
    const char *end = source->text + source->size;
    int status = FCNN_OK, number = 1;
    for (const char *line = source->text; line < end && status == FCNN_OK; number++) {
        const char *newline = memchr(line, '\n', (size_t)(end - line));
        const char *next = newline ? newline + 1 : end;
        size_t length = (size_t)(next - line);
        if (is_include(line, length))
            status = paste_part(dir, line, length, file, number, source, out);
        else
            fwrite(line, 1, length, out);
        line = next;
    }
    bool written = !ferror(out);
    written = fclose(out) == 0 && written;
    if (status == FCNN_OK && !written)
        status = fcnn_error(FCNN_ERR_NOMEM, "%s: out of memory", source->origin);
    if (status != FCNN_OK) {
        free(pasted);
        return status;
    }
    free(source->owned);
    source->owned = pasted;
    source->text = pasted;
    source->size = pasted_size;
    return FCNN_OK;
}

int ocl_source_load(const char *file, struct ocl_source *source)
{
    memset(source, 0, sizeof *source);
    const char *dir;
    OCL_TRY(override_dir(&dir));
    OCL_TRY(load_file(dir, file, programs, PROGRAM_COUNT, source));
    int status = paste_parts(dir, file, source);
    if (status != FCNN_OK)
        ocl_source_release(source);
    return status;
}

void ocl_source_release(struct ocl_source *source)
{
    free(source->owned);
    source->owned = NULL;
}
