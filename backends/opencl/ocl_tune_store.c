/* The tuning choices on disk: one text file per (device, driver, platform version, fcnn
 * version, kernel sources) in the program cache's directory, so a later run on the same
 * machine skips the timing. A line per choice:
 *
 *   op <TAB> key <TAB> variant <TAB> milliseconds <TAB> FLOPs of one call
 *
 * The file is rewritten through a temporary file and rename(), merging what is on disk
 * (another process may have added shapes) with this run's choices, so a reader never sees
 * half a file. A line that does not parse, or names a variant this build does not have, is
 * ignored: that shape is simply timed again. Like the program cache, the store only saves
 * time, so any trouble with it is silent, and FCNN_NO_CACHE=1 turns it off. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "core/file.h"
#include "ocl_registry.h"

/* Bump when the line format or the meaning of a key changes. */
#define STORE_FORMAT 1

/* Everything that decides which variant wins: the device and its compiler, and the
 * kernels themselves (as this process loads them, so $FCNN_KERNEL_DIR counts). */
static uint64_t store_key(const struct ocl_context *ctx)
{
    char identity[2048];
    snprintf(identity, sizeof identity, "tuning %d|%s|%s|%s|fcnn %s", STORE_FORMAT,
             ctx->identity.name, ctx->identity.driver_version, ctx->identity.platform_version,
             PACKAGE_VERSION);
    uint64_t key = ocl_cache_key(&ctx->identity, identity, strlen(identity), "");
    for (int i = 0; i < ocl_source_count(); i++) {
        struct ocl_source source;
        if (ocl_source_load(ocl_source_file(i), &source) != FCNN_OK)
            continue;
        key ^= ocl_cache_key(&ctx->identity, source.text, source.size, ocl_source_file(i)) +
               (uint64_t)i;
        ocl_source_release(&source);
    }
    return key;
}

static void store_path(struct ocl_context *ctx)
{
    ctx->tuning.path[0] = '\0';
    if (ctx->cache.enabled &&
        (size_t)snprintf(ctx->tuning.path, sizeof ctx->tuning.path, "%s/tuning-%016llx.txt",
                         ctx->cache.dir, (unsigned long long)store_key(ctx)) >=
            sizeof ctx->tuning.path)
        ctx->tuning.path[0] = '\0'; /* cut: another file's name; keep the choices in memory */
}

/* One line of the file, split in place; false if it is not a choice line. */
struct line {
    char *op, *key, *variant;
    double ms, flops;
};

static bool parse(char *text, struct line *l)
{
    if (text[0] == '#' || text[0] == '\n')
        return false;
    char *save = NULL;
    l->op = strtok_r(text, "\t\n", &save);
    l->key = strtok_r(NULL, "\t\n", &save);
    l->variant = strtok_r(NULL, "\t\n", &save);
    char *ms = strtok_r(NULL, "\t\n", &save), *flops = strtok_r(NULL, "\t\n", &save);
    if (!l->op || !l->key || !l->variant || !ms || !flops ||
        strlen(l->key) >= OCL_TUNING_KEY_SIZE)
        return false;
    l->ms = strtod(ms, NULL);
    l->flops = strtod(flops, NULL);
    return fcnn_op_from_name(l->op) >= 0;
}

void ocl_tune_store_load(struct ocl_context *ctx)
{
    store_path(ctx);
    FILE *f = NULL;
    struct stat st;
    if (!ctx->tuning.path[0] || stat(ctx->tuning.path, &st) != 0 ||
        fcnn_file_open_read(ctx->tuning.path, &f) != FCNN_OK)
        return;
    char text[512];
    while (fgets(text, sizeof text, f)) {
        struct line l;
        if (!parse(text, &l))
            continue;
        enum fcnn_op op = (enum fcnn_op)fcnn_op_from_name(l.op);
        const struct ocl_variant *variant = ocl_variant_find(op, l.variant);
        if (!variant)
            continue;
        struct ocl_tuning_entry *e = ocl_tuning_add(&ctx->tuning, op, l.key);
        if (!e)
            break;
        if (e->pinned)
            continue; /* the run this one continues chose otherwise */
        e->variant = variant;
        e->seconds = l.ms * 1e-3;
        e->flops = l.flops;
    }
    fclose(f);
}

static void write_entry(FILE *f, const struct ocl_tuning_entry *e)
{
    fprintf(f, "%s\t%s\t%s\t%.6f\t%.0f\n", fcnn_op_name(e->op), e->key, e->variant->name,
            1e3 * e->seconds, e->flops);
}

static bool ours(const struct ocl_context *ctx, const char *op, const char *key)
{
    for (int i = 0; i < ctx->tuning.count; i++) {
        const struct ocl_tuning_entry *e = &ctx->tuning.entries[i];
        if (e->variant && !e->pinned && strcmp(fcnn_op_name(e->op), op) == 0 &&
            strcmp(e->key, key) == 0)
            return true;
    }
    return false;
}

void ocl_tune_store_save(struct ocl_context *ctx)
{
    if (!ctx->tuning.path[0])
        store_path(ctx);
    if (!ctx->tuning.path[0])
        return;
    struct fcnn_file_writer w;
    if (fcnn_file_write_begin(&w, ctx->tuning.path, "tuning file") != FCNN_OK)
        return; /* best effort: the choices are timed again next time */
    FILE *out = w.f;
    fprintf(out, "# fcnn %s kernel tuning for %s (driver %s; %s)\n"
            "# op\tshape key\tvariant\tms per call\tFLOPs per call\n",
            PACKAGE_VERSION, ctx->identity.name, ctx->identity.driver_version,
            ctx->identity.platform_version);
    /* What is on disk and not ours, kept as it is; then ours. */
    FILE *in = NULL;
    struct stat st;
    if (stat(ctx->tuning.path, &st) == 0 && fcnn_file_open_read(ctx->tuning.path, &in) == FCNN_OK) {
        char text[512], copy[512];
        while (fgets(text, sizeof text, in)) {
            struct line l;
            snprintf(copy, sizeof copy, "%s", text);
            if (parse(text, &l) && !ours(ctx, l.op, l.key))
                fputs(copy, out);
        }
        fclose(in);
    }
    for (int i = 0; i < ctx->tuning.count; i++)
        if (ctx->tuning.entries[i].variant && !ctx->tuning.entries[i].pinned)
            write_entry(out, &ctx->tuning.entries[i]);
    fcnn_file_write_commit(&w);
}
