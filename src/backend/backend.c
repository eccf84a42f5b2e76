/* The backend registry and the buffer calls. Adding a backend: a folder under backends/,
 * one row in `registry` below, and a configure conditional. */
#include <config.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend-impl.h"

struct fcnn_backend {
    struct fcnn_backend_entry entry_storage; /* for backends opened from a bare ops table */
    const struct fcnn_backend_entry *entry;
    void *ctx;
    struct fcnn_trace *trace; /* where op calls are being recorded, if anywhere */
    /* The core's own profile, for --profile on backends without one: wall time per op,
     * each op waited for (free on a synchronous backend such as ref). */
    bool core_profile;
    double op_seconds[FCNN_OP_COUNT];
    long long op_calls[FCNN_OP_COUNT];
};

static const struct fcnn_backend_entry registry[] = {
    { "ref", &fcnn_ref_backend_ops },
#ifdef HAVE_OPENCL
    { "opencl", &fcnn_opencl_backend_ops },
#endif
};

#define REGISTRY_SIZE ((int)(sizeof registry / sizeof registry[0]))

int fcnn_backend_count(void)
{
    return REGISTRY_SIZE;
}

const char *fcnn_backend_name_at(int i)
{
    return i >= 0 && i < REGISTRY_SIZE ? registry[i].name : NULL;
}

const char *fcnn_backend_names(void)
{
    static char names[128];
    if (!names[0]) {
        for (int i = 0; i < REGISTRY_SIZE; i++) {
            if (i)
                strncat(names, ", ", sizeof names - strlen(names) - 1);
            strncat(names, registry[i].name, sizeof names - strlen(names) - 1);
        }
    }
    return names;
}

static const struct fcnn_backend_entry *find_entry(const char *name)
{
    for (int i = 0; i < REGISTRY_SIZE; i++)
        if (strcmp(registry[i].name, name) == 0)
            return &registry[i];
    return NULL;
}

bool fcnn_backend_exists(const char *name)
{
    return find_entry(name) != NULL;
}

static pthread_t preload_thread;
static bool preloading;

static void *run_load(void *ops)
{
    ((const struct fcnn_backend_ops *)ops)->load();
    return NULL;
}

void fcnn_backend_preload(const char *name)
{
    const struct fcnn_backend_entry *entry = find_entry(name);
    if (preloading || !entry || !entry->ops->load)
        return;
    if (entry->ops->before_load)
        entry->ops->before_load();
    /* Without a thread the open loads the driver itself, as it always can. */
    preloading = pthread_create(&preload_thread, NULL, run_load,
                                (void *)entry->ops) == 0;
}

void fcnn_backend_preload_wait(void)
{
    if (preloading)
        pthread_join(preload_thread, NULL);
    preloading = false;
}

static int open_entry(const struct fcnn_backend_entry *entry,
                      const struct fcnn_backend_options *options, struct fcnn_backend **out)
{
    static const struct fcnn_backend_options defaults;
    fcnn_backend_preload_wait();
    struct fcnn_backend *be = calloc(1, sizeof *be);
    if (!be)
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory opening backend '%s'", entry->name);
    be->entry_storage = *entry;
    be->entry = &be->entry_storage;
    be->core_profile = options && options->profile && !entry->ops->report;
    int status = entry->ops->open(options ? options : &defaults, &be->ctx);
    if (status != FCNN_OK) {
        free(be);
        return status;
    }
    *out = be;
    return FCNN_OK;
}

int fcnn_backend_open(const char *name, const struct fcnn_backend_options *options,
                      struct fcnn_backend **out)
{
    const struct fcnn_backend_entry *entry = find_entry(name);
    *out = NULL;
    if (!entry)
        return fcnn_error(FCNN_ERR_INVALID, "unknown backend '%s' (this build has: %s)", name,
                          fcnn_backend_names());
    return open_entry(entry, options, out);
}

int fcnn_backend_open_ops(const char *name, const struct fcnn_backend_ops *ops,
                          const struct fcnn_backend_options *options, struct fcnn_backend **out)
{
    *out = NULL;
    return open_entry(&(struct fcnn_backend_entry){ name, ops }, options, out);
}

void fcnn_backend_close(struct fcnn_backend *be)
{
    if (!be)
        return;
    be->entry->ops->close(be->ctx);
    free(be);
}

const char *fcnn_backend_name(const struct fcnn_backend *be)
{
    return be->entry->name;
}

const char *fcnn_backend_device(const struct fcnn_backend *be)
{
    return be->entry->ops->device_name(be->ctx);
}

bool fcnn_backend_on_host_cpu(const struct fcnn_backend *be)
{
    const struct fcnn_backend_ops *ops = be->entry->ops;
    return !ops->on_host_cpu || ops->on_host_cpu(be->ctx);
}

int fcnn_backend_untuned_shapes(struct fcnn_backend *be)
{
    const struct fcnn_backend_ops *ops = be->entry->ops;
    return ops->untuned_shapes ? ops->untuned_shapes(be->ctx) : 0;
}

int fcnn_backend_kernel_choices(struct fcnn_backend *be, char **out)
{
    const struct fcnn_backend_ops *ops = be->entry->ops;
    *out = NULL;
    if (!ops->kernel_choices)
        return FCNN_OK;
    *out = ops->kernel_choices(be->ctx);
    return *out ? FCNN_OK : fcnn_error(FCNN_ERR_NOMEM, "out of memory listing kernel choices");
}

int fcnn_backend_list_devices(const char *name, FILE *out)
{
    fcnn_backend_preload_wait();
    const struct fcnn_backend_entry *entry = find_entry(name);
    if (!entry)
        return fcnn_error(FCNN_ERR_INVALID, "unknown backend '%s' (this build has: %s)", name,
                          fcnn_backend_names());
    if (!entry->ops->list_devices) {
        fprintf(out, "%s: one device, the host CPU\n", name);
        return FCNN_OK;
    }
    return entry->ops->list_devices(out);
}

static int core_profile_report(const struct fcnn_backend *be, FILE *out)
{
    double total = 0;
    for (int op = 0; op < FCNN_OP_COUNT; op++)
        total += be->op_seconds[op];
    fprintf(out, "%-20s %8s %12s %10s %7s\n", "op", "calls", "total s", "ms/call", "share");
    for (int op = 0; op < FCNN_OP_COUNT; op++)
        if (be->op_calls[op])
            fprintf(out, "%-20s %8lld %12.3f %10.3f %6.1f%%\n", fcnn_op_name(op), be->op_calls[op],
                    be->op_seconds[op], 1e3 * be->op_seconds[op] / be->op_calls[op],
                    total > 0 ? 100 * be->op_seconds[op] / total : 0);
    fprintf(out, "%-20s %8s %12.3f\n", "all ops", "", total);
    return FCNN_OK;
}

bool fcnn_backend_core_profiling(const struct fcnn_backend *be)
{
    return be->core_profile;
}

void fcnn_backend_core_profile_add(struct fcnn_backend *be, enum fcnn_op op, double seconds)
{
    be->op_seconds[op] += seconds;
    be->op_calls[op]++;
}

int fcnn_backend_report(struct fcnn_backend *be, enum fcnn_backend_report what, FILE *out)
{
    const struct fcnn_backend_ops *ops = be->entry->ops;
    if (what == FCNN_REPORT_PROFILE && be->core_profile)
        return core_profile_report(be, out);
    if (!ops->report)
        return fcnn_error(FCNN_ERR_UNSUPPORTED, "backend '%s' has no %s report", be->entry->name,
                          what == FCNN_REPORT_TUNING ? "tuning" : "profile");
    return ops->report(be->ctx, what, out);
}

void fcnn_backend_trace(struct fcnn_backend *be, struct fcnn_trace *trace)
{
    be->trace = trace;
}

struct fcnn_trace *fcnn_backend_trace_of(const struct fcnn_backend *be)
{
    return be->trace;
}

void fcnn_trace_free(struct fcnn_trace *trace)
{
    free(trace->calls);
    *trace = (struct fcnn_trace){ 0 };
}

int fcnn_backend_variant_count(struct fcnn_backend *be, enum fcnn_op op)
{
    const struct fcnn_backend_ops *ops = be->entry->ops;
    return ops->variant_count ? ops->variant_count(be->ctx, op) : 1;
}

const char *fcnn_backend_variant_name(struct fcnn_backend *be, enum fcnn_op op, int i)
{
    const struct fcnn_backend_ops *ops = be->entry->ops;
    if (ops->variant_name)
        return ops->variant_name(be->ctx, op, i);
    return i == 0 ? be->entry->name : NULL;
}

int fcnn_backend_force_variant(struct fcnn_backend *be, enum fcnn_op op, const char *name)
{
    const struct fcnn_backend_ops *ops = be->entry->ops;
    if (ops->force_variant)
        return ops->force_variant(be->ctx, op, name);
    if (name && strcmp(name, be->entry->name) != 0)
        return fcnn_error(FCNN_ERR_INVALID, "backend '%s' has no variant '%s' of %s",
                          be->entry->name, name, fcnn_op_name(op));
    return FCNN_OK;
}

const struct fcnn_backend_ops *fcnn_backend_ops_of(const struct fcnn_backend *be)
{
    return be->entry->ops;
}

void *fcnn_backend_ctx_of(const struct fcnn_backend *be)
{
    return be->ctx;
}

/* --- buffers --- */

int fcnn_buffer_alloc(struct fcnn_backend *be, size_t bytes, struct fcnn_buffer **out)
{
    *out = NULL;
    struct fcnn_buffer *buffer = calloc(1, sizeof *buffer);
    if (!buffer)
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory allocating a buffer header");
    /* A zero-byte request still gets a real allocation, so every buffer has an impl. */
    int status = be->entry->ops->buffer_alloc(be->ctx, bytes ? bytes : 4, &buffer->impl);
    if (status != FCNN_OK) {
        free(buffer);
        return status;
    }
    buffer->size = bytes;
    *out = buffer;
    return FCNN_OK;
}

void fcnn_buffer_free(struct fcnn_backend *be, struct fcnn_buffer *buffer)
{
    if (!buffer)
        return;
    be->entry->ops->buffer_free(be->ctx, buffer->impl);
    free(buffer);
}

int fcnn_buffer_adopt(struct fcnn_backend *be, void *host, size_t bytes,
                      struct fcnn_buffer **out)
{
    *out = NULL;
    const struct fcnn_backend_ops *ops = be->entry->ops;
    if (ops->buffer_adopt && bytes > 0) {
        struct fcnn_buffer *buffer = calloc(1, sizeof *buffer);
        int status = buffer ? ops->buffer_adopt(be->ctx, host, bytes, &buffer->impl)
                            : fcnn_error(FCNN_ERR_NOMEM, "out of memory allocating a buffer header");
        if (status == FCNN_OK) {
            buffer->size = bytes;
            *out = buffer;
            return FCNN_OK;
        }
        free(buffer);
        if (status != FCNN_ERR_UNSUPPORTED) {
            free(host);
            return status;
        }
    }
    int status = fcnn_buffer_alloc(be, bytes, out);
    if (status == FCNN_OK && bytes > 0)
        status = ops->upload(be->ctx, (*out)->impl, 0, host, bytes);
    free(host);
    if (status != FCNN_OK) {
        fcnn_buffer_free(be, *out);
        *out = NULL;
    }
    return status;
}

size_t fcnn_buffer_size(const struct fcnn_buffer *buffer)
{
    return buffer->size;
}

static int check_transfer(const struct fcnn_tensor *t, const char *what)
{
    size_t bytes = fcnn_tensor_bytes(t);
    if (!t->buffer || t->offset > t->buffer->size || bytes > t->buffer->size - t->offset)
        return fcnn_error(FCNN_ERR_INVALID, "%s of %zu bytes at offset %zu is outside its buffer",
                          what, bytes, t->offset);
    return FCNN_OK;
}

int fcnn_upload(struct fcnn_backend *be, const struct fcnn_tensor *dst, const void *src)
{
    int status = check_transfer(dst, "upload");
    if (status != FCNN_OK)
        return status;
    return be->entry->ops->upload(be->ctx, dst->buffer->impl, dst->offset, src,
                                  fcnn_tensor_bytes(dst));
}

int fcnn_download(struct fcnn_backend *be, const struct fcnn_tensor *src, void *dst)
{
    int status = check_transfer(src, "download");
    if (status != FCNN_OK)
        return status;
    return be->entry->ops->download(be->ctx, src->buffer->impl, src->offset, dst,
                                    fcnn_tensor_bytes(src));
}

int fcnn_sync(struct fcnn_backend *be)
{
    return be->entry->ops->sync(be->ctx);
}
