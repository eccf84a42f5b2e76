/* What a backend implements. Private to src/backend*.c and backends/: the rest of fcnn
 * sees only backend.h.
 *
 * A backend is one static const table of function pointers. The core has already checked
 * every call against fcnn_op_validate() (dtypes, shapes, 4-byte alignment of offsets,
 * buffer bounds) before a slot runs, so slots may trust their descriptors. Slots run in
 * submission order; a backend may queue work and finish it later, as long as download
 * and sync wait for it. A NULL op slot means "not implemented": the core answers
 * FCNN_ERR_UNSUPPORTED and the harness reports the case as skipped. */
#ifndef FCNN_BACKEND_IMPL_H
#define FCNN_BACKEND_IMPL_H

#include "backend/backend.h"
#include "core/status.h"

/* The core owns this header; the backend owns `impl` (host memory, a cl_mem, ...). */
struct fcnn_buffer {
    size_t size;
    void *impl;
};

typedef const struct fcnn_tensor *fcnn_tensor_arg;

/* Every op slot has this one signature: the call has passed fcnn_op_validate(), its
 * tensors are in the order of the op's descriptor, its parameters in the member of
 * call->p that the descriptor names. */
typedef int fcnn_op_fn(void *ctx, const struct fcnn_op_call *call);

struct fcnn_backend_ops {
    /* --- life cycle --- */
    int (*open)(const struct fcnn_backend_options *options, void **ctx);
    /* Loading the driver ahead of open (fcnn_backend_preload): `before_load` on the
     * caller's thread (environment settings the driver reads as it loads), then `load` on
     * a thread of its own, which touches nothing of fcnn's. NULL: nothing to load. */
    void (*before_load)(void);
    void (*load)(void);
    void (*close)(void *ctx);
    const char *(*device_name)(void *ctx);   /* one line: what runs the ops */
    int (*list_devices)(FILE *out);          /* NULL: one implicit device */
    bool (*on_host_cpu)(void *ctx);          /* NULL: the ops run on the host's CPU */
    int (*untuned_shapes)(void *ctx);        /* NULL: nothing to tune */
    char *(*kernel_choices)(void *ctx);      /* NULL: no variants to choose among */
    /* Prints a report (tuning table, profile); NULL or FCNN_ERR_UNSUPPORTED: none. */
    int (*report)(void *ctx, enum fcnn_backend_report what, FILE *out);

    /* --- buffers --- */
    int (*buffer_alloc)(void *ctx, size_t bytes, void **impl);
    void (*buffer_free)(void *ctx, void *impl);
    /* A buffer whose storage is `host` itself, which the backend then frees (free()) once
     * the buffer is freed and no queued work uses it. FCNN_ERR_UNSUPPORTED, with no
     * message, where this device or this address cannot (the core then copies); on any
     * failure `host` stays the caller's. NULL: never. */
    int (*buffer_adopt)(void *ctx, void *host, size_t bytes, void **impl);
    int (*upload)(void *ctx, void *impl, size_t offset, const void *src, size_t bytes);
    int (*download)(void *ctx, void *impl, size_t offset, void *dst, size_t bytes);
    int (*sync)(void *ctx);

    /* --- dispatch --- */
    /* Whether the call can run with the current variant choice. NULL: every non-NULL
     * op slot accepts every valid call. */
    bool (*supports)(void *ctx, const struct fcnn_op_call *call);
    /* Kernel variants; all NULL: one variant per op, named after the backend. */
    int (*variant_count)(void *ctx, enum fcnn_op op);
    const char *(*variant_name)(void *ctx, enum fcnn_op op, int index);
    int (*force_variant)(void *ctx, enum fcnn_op op, const char *name); /* NULL: auto */

    /* --- ops: one slot per op, indexed by enum fcnn_op (NULL: not implemented) --- */
    fcnn_op_fn *run[FCNN_OP_COUNT];
};

/* One row of the registry in src/backend.c. */
struct fcnn_backend_entry {
    const char *name;
    const struct fcnn_backend_ops *ops;
};

/* The backends this build can have; each is defined in its own folder under backends/. */
extern const struct fcnn_backend_ops fcnn_ref_backend_ops;
#ifdef HAVE_OPENCL
extern const struct fcnn_backend_ops fcnn_opencl_backend_ops;
#endif

/* Opens a backend from an ops table that is not in the registry: tests use it to run a
 * deliberately broken copy of a backend and check that the harness catches it. */
int fcnn_backend_open_ops(const char *name, const struct fcnn_backend_ops *ops,
                          const struct fcnn_backend_options *options, struct fcnn_backend **out);

/* For the core's dispatcher (src/ops.c). */
const struct fcnn_backend_ops *fcnn_backend_ops_of(const struct fcnn_backend *be);
void *fcnn_backend_ctx_of(const struct fcnn_backend *be);
struct fcnn_trace *fcnn_backend_trace_of(const struct fcnn_backend *be);
bool fcnn_backend_core_profiling(const struct fcnn_backend *be);
void fcnn_backend_core_profile_add(struct fcnn_backend *be, enum fcnn_op op, double seconds);

/* Element pointer helpers for host-memory backends: base + byte offset. */
#define FCNN_HOST_PTR(type, t) ((type *)((char *)(t)->buffer->impl + (t)->offset))

#endif
