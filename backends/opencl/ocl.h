/* The OpenCL backend's private header: the context every file shares, the one macro that
 * checks OpenCL calls, and the functions the backend's files offer one another.
 *
 * Files, one job each:
 *   ocl_backend.c    open/close, the op table, per-op dispatch through the registry
 *   ocl_device.c     platforms and devices: selection, description, --list-devices
 *   ocl_buffer.c     device buffers, transfers, reusable scratch buffers
 *   ocl_error.c      CL_* and CLBlast status names; the failure path of OCL_CHECK
 *   ocl_source.c     kernel sources: embedded at build time, or from $FCNN_KERNEL_DIR
 *   ocl_cache.c      the on-disk program cache
 *   ocl_program.c    program builds, the in-memory program and kernel cache
 *   ocl_launch.c     kernel arguments and launches with an explicit local size
 *   ocl_registry.c   ops -> kernel variants, automatic choice, forcing and dispatch
 *   ocl_tune.c       per-device autotuning: timing the variants on each new shape
 *   ocl_tune_store.c the tuning choices on disk, next to the program cache
 *   ocl_fuse.c       deferring ops to fuse them with the calls that follow
 *   ocl_profile.c    --profile: each op's device time from OpenCL profiling events
 *   ocl_report.c     the backend's reports (tuning table, profile)
 *   ocl_clblast.c    SGEMM through CLBlast, and its warm-up
 *   ocl_gemm.c       our register-tiled matrix product and transpose
 *   ocl_op_*.c       the ops themselves, one family per file, as backends/ref/ */
#ifndef FCNN_OCL_H
#define FCNN_OCL_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#include <CL/cl_ext.h> /* CL_PLATFORM_NOT_FOUND_KHR */

#include <stdbool.h>
#include <stdint.h>

#include "backend/backend-impl.h"

/* --- checking OpenCL calls ---------------------------------------------------------- */

/* The name of a CL_* error code, or of a CLBlast status code ("CL_OUT_OF_RESOURCES",
 * "CLBlastInsufficientMemoryA"); "CL error -9999" style for unknown codes. */
const char *ocl_error_name(cl_int status);

/* Records "call: CL_ERROR_NAME" and returns the fcnn status it maps to. */
int ocl_failure(const char *call, cl_int status);

/* Every OpenCL (and CLBlast) call's status goes through this one macro: on failure the
 * calling function returns FCNN_ERR_DEVICE (or FCNN_ERR_NOMEM) with a message naming the
 * call and the error, e.g. "clEnqueueNDRangeKernel: CL_OUT_OF_RESOURCES".
 *   OCL_CHECK(clFinish, clFinish(queue));
 *   cl_mem m = clCreateBuffer(..., &err); OCL_CHECK(clCreateBuffer, err); */
#define OCL_CHECK(call_name, status_expr)                                                  \
    do {                                                                                   \
        cl_int ocl_check_status_ = (cl_int)(status_expr);                                  \
        if (ocl_check_status_ != CL_SUCCESS)                                               \
            return ocl_failure(#call_name, ocl_check_status_);                             \
    } while (0)

/* Test-only: the Nth call of a kind fails when $FCNN_OPENCL_FAULT asks (ocl_fault.c);
 * CL_SUCCESS otherwise. Called just before the real call it stands in for. */
enum ocl_fault_kind { OCL_FAULT_ALLOC, OCL_FAULT_ENQUEUE, OCL_FAULT_BUILD, OCL_FAULT_KIND_COUNT };
cl_int ocl_fault(enum ocl_fault_kind kind);
/* Counts from zero again (for tests that aim at one call). */
void ocl_fault_reset(void);

/* Returns from the calling function when an fcnn status is not FCNN_OK. */
#define OCL_TRY(expr)                                                                      \
    do {                                                                                   \
        int ocl_try_status_ = (expr);                                                      \
        if (ocl_try_status_ != FCNN_OK)                                                    \
            return ocl_try_status_;                                                        \
    } while (0)

/* --- the device --------------------------------------------------------------------- */

/* What identifies a device's compiler for the program cache, and describes it to users. */
struct ocl_device_identity {
    char name[256];
    char vendor[256];
    char driver_version[128];
    char platform_name[256];
    char platform_version[256];
    char opencl_c_version[128];
    cl_device_type type;
    cl_uint compute_units;
    cl_ulong global_memory;
    cl_ulong max_alloc; /* the largest single buffer */
};

/* Chooses the device `selector` names ("P:D", or a case-insensitive substring of a
 * device or platform name; NULL or "": the first GPU of any platform, else the first CPU
 * device, else the first device; with slot s > 0, the s-th of that kind, wrapping). */
int ocl_device_select(const char *selector, int slot, cl_platform_id *platform,
                      cl_device_id *device, char *index, size_t index_size);
int ocl_device_identify(cl_platform_id platform, cl_device_id device,
                        struct ocl_device_identity *id);
const char *ocl_device_type_name(cl_device_type type);
int ocl_list_devices(FILE *out);

/* PoCL runs at half speed on this class of machine unless its worker threads are pinned;
 * call before the first OpenCL call (PoCL reads its environment once). */
void ocl_prepare_environment(void);
/* The ICD loader's and vendors' first calls, for fcnn_backend_preload's thread. */
void ocl_load_driver(void);

/* --- program cache on disk ---------------------------------------------------------- */

struct ocl_cache_stats {
    int hits;     /* programs created from a cached binary */
    int stores;   /* programs built from source and written to the cache */
    int rejected; /* entries found but not used: corrupt, truncated or refused by the driver */
};

struct ocl_disk_cache {
    bool enabled;  /* false: FCNN_NO_CACHE=1, or no usable directory */
    bool defer;    /* binaries are stored when the backend closes, not when built */
    char dir[4096];
    struct ocl_cache_stats stats;
};

/* Finds and creates the cache directory; leaves the cache disabled, silently, when it
 * cannot be used or FCNN_NO_CACHE is set.  Binaries are stored at close on drivers
 * for which fetching them is slow (see ocl_cache_defers_binaries). */
void ocl_cache_open(struct ocl_disk_cache *cache, const struct ocl_device_identity *id);
/* Whether binaries are better stored when the backend closes than when each program is
 * built: on PoCL with its own kernel cache on (its default). */
bool ocl_cache_defers_binaries(const struct ocl_device_identity *id);
/* A hash of everything that decides what a build produces. */
uint64_t ocl_cache_key(const struct ocl_device_identity *id, const char *source, size_t size,
                       const char *options);
/* A verified entry's bytes (caller frees), or NULL when there is none usable. */
unsigned char *ocl_cache_load(struct ocl_disk_cache *cache, const char *file, uint64_t key,
                              size_t *size);
void ocl_cache_store(struct ocl_disk_cache *cache, const char *file, uint64_t key,
                     const unsigned char *binary, size_t size);

/* --- kernel sources ----------------------------------------------------------------- */

struct ocl_source {
    const char *text;    /* not NUL-terminated */
    size_t size;
    char origin[4200];   /* "kernels/pool.cl (built in)" or the path it was read from */
    char *owned;         /* non-NULL when the text is this process's own, to be freed */
    bool overridden;     /* the file, or a part it includes, read from $FCNN_KERNEL_DIR */
};

/* The source of kernels/<file>, with the parts it includes pasted in: each file
 * $FCNN_KERNEL_DIR/<file> when that exists, else the copy embedded at build time. */
int ocl_source_load(const char *file, struct ocl_source *source);
void ocl_source_release(struct ocl_source *source);
/* The embedded programs' files (not the parts they include), for building every program
 * at open. */
int ocl_source_count(void);
const char *ocl_source_file(int i);

/* --- programs and kernels ----------------------------------------------------------- */

/* Kernel arguments are remembered after they are set, so that a launch whose arguments
 * did not change since the last one skips clSetKernelArg (most launches of a training step
 * repeat the previous step's). Values of up to 8 bytes are remembered. */
#define OCL_MAX_KERNEL_ARGS 32

struct ocl_kernel {
    cl_kernel kernel;
    char name[64];
    size_t max_local; /* CL_KERNEL_WORK_GROUP_SIZE on this device */
    unsigned args_generation; /* ctx->buffer_generation when `args` was last valid */
    unsigned char arg_size[OCL_MAX_KERNEL_ARGS]; /* 0: not known to be set */
    unsigned char arg_value[OCL_MAX_KERNEL_ARGS][8];
};

#define OCL_MAX_KERNELS_PER_PROGRAM 12

struct ocl_program {
    char file[64];
    char *options;
    cl_program program;
    int kernel_count;
    struct ocl_kernel kernels[OCL_MAX_KERNELS_PER_PROGRAM];
    bool unstored;      /* built from source, its binary not yet in the disk cache */
    uint64_t cache_key; /* its disk-cache key, for that store */
};

/* --- the context -------------------------------------------------------------------- */

/* Scratch buffers, each used within one op at a time (the queue is in order, so the next
 * op's use comes after the last one's). */
enum ocl_scratch_slot {
    OCL_SCRATCH_COLUMNS,  /* im2col column matrices */
    OCL_SCRATCH_PARTIALS, /* partial sums of reductions */
    OCL_SCRATCH_WEIGHTS,  /* flipped or transposed weights */
    OCL_SCRATCH_ZEROS,    /* a row of zeros, the padding the tiled convolutions read */
    OCL_SCRATCH_WARMUP,   /* CLBlast's warm-up operands */
    OCL_SCRATCH_TUNING,   /* copies of in-place operands while tuning times variants */
    OCL_SCRATCH_COUNT
};

struct ocl_scratch {
    cl_mem mem;
    size_t size;
};

struct ocl_variant;

/* One tuning choice: for an op and a shape (the key), the variant that ran fastest. */
#define OCL_TUNING_KEY_SIZE 192
#define OCL_TUNING_MAX_CANDIDATES 12

struct ocl_tuning_entry {
    enum fcnn_op op;
    char key[OCL_TUNING_KEY_SIZE];
    const struct ocl_variant *variant;
    double seconds;  /* per call, as timed */
    double flops;    /* of one call (0 for ops without a FLOP count) */
    bool timed;      /* timed in this process (else read from the store) */
    bool used;       /* dispatched in this process */
    bool pinned;     /* from options->kernel_choices: neither timed nor stored */
    int candidates;  /* what was timed, for the report */
    double build_seconds, first_run_seconds; /* where its tuning went, for --verbose */
    const struct ocl_variant *candidate[OCL_TUNING_MAX_CANDIDATES];
    double candidate_seconds[OCL_TUNING_MAX_CANDIDATES];
};

struct ocl_tuning {
    bool enabled;       /* false: FCNN_TUNE=0, choices by priority */
    bool retune;        /* options->retune: stored choices are ignored (and replaced) */
    bool deferred;      /* options->defer_tuning: nothing is timed in this process */
    int untuned;        /* shapes met without a stored choice while deferred */
    char path[4200];    /* the store's file; "" when the cache directory is off */
    struct ocl_tuning_entry *entries;
    int count, capacity;
    double seconds;     /* spent timing variants in this process */
    bool announced;     /* the progress header has been printed */
};

/* --profile: device time per op from profiling events, collected as commands finish. */
struct ocl_profile {
    bool enabled;
    bool paused;              /* while tuning: its trial runs are not the run's work */
    enum fcnn_op current;     /* the op whose commands are being enqueued */
    cl_event *pending;
    enum fcnn_op *pending_op;
    int pending_count, pending_capacity;
    double device_seconds[FCNN_OP_COUNT];
    long long calls[FCNN_OP_COUNT], commands[FCNN_OP_COUNT];
    double flops[FCNN_OP_COUNT];
};

/* Ops deferred in the hope of fusing them with the next (ocl_fuse.c). */
enum ocl_fusion_stage {
    OCL_FUSION_NONE,
    OCL_FUSION_POOL,              /* a maxpool_bwd is deferred */
    OCL_FUSION_POOL_RELU,         /* ... and the relu_bwd after it absorbed */
    OCL_FUSION_DROPOUT,           /* a dropout_bwd is deferred */
    OCL_FUSION_DROPOUT_POOL,      /* ... and the maxpool_bwd reading its output absorbed */
    OCL_FUSION_DROPOUT_POOL_RELU, /* ... and the relu_bwd after that */
    OCL_FUSION_POOL_FWD,          /* a maxpool_fwd is deferred, for the dropout_fwd after it */
    OCL_FUSION_CONV_FWD,          /* a first layer's conv2d_fwd, for the maxpool_fwd after it */
    OCL_FUSION_BN_POOL_FWD,       /* a pooled batchnorm_fwd_train, for the dropout_fwd after it */
};

struct ocl_kept_call {
    struct fcnn_op_call call; /* its t[] point into tensors */
    struct fcnn_tensor tensors[FCNN_OP_MAX_TENSORS];
};

struct ocl_fusion {
    bool enabled; /* false: FCNN_FUSE=0 */
    enum ocl_fusion_stage stage;
    struct ocl_kept_call pool;    /* the deferred maxpool_bwd or maxpool_fwd */
    struct ocl_kept_call dropout; /* the deferred dropout_bwd */
    struct ocl_kept_call conv;    /* the deferred conv2d_fwd */
    struct ocl_kept_call batchnorm; /* the deferred pooled batchnorm_fwd_train */
    long long fused[FCNN_OP_COUNT]; /* calls absorbed into another op's kernel */
    /* A deferred op's failure met where nothing could report it (freeing a buffer): the
     * next flush returns it, so it is never dropped. 0: none. */
    int kept_status;
    char kept_message[1024];
};

struct ocl_context {
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;
    struct ocl_device_identity identity;
    char index[16];          /* "P:D" */
    char description[768];   /* device_name(): one line */
    bool verbose;

    struct ocl_disk_cache cache;
    struct ocl_program **programs;
    int program_count;
    int source_builds; /* programs compiled from source (not from the cache) */

    /* Per op: the variant forced by options/$FCNN_KERNELS/force_variant, or NULL. */
    const struct ocl_variant *forced[FCNN_OP_COUNT];
    /* Variants whose programs failed to build at open: left out of every automatic choice
     * (and tuning) with a warning, instead of failing the whole backend. */
    const struct ocl_variant *broken[64];
    int broken_count;
    /* Variants the run has dispatched (not only timed): on PoCL, whose binaries are stored
     * at close, only their programs are, since a later run with the same tuning choices
     * builds no other. */
    const struct ocl_variant *dispatched[96];
    int dispatched_count;
    struct ocl_tuning tuning;
    struct ocl_profile profile;
    struct ocl_fusion fusion;
    bool clblast_ready; /* CLBlast has compiled its kernels (only if a variant used it) */
    /* Bumped whenever a buffer is released: a new buffer may reuse a released handle's
     * value, so remembered kernel arguments are forgotten. */
    unsigned buffer_generation;
    struct ocl_scratch scratch[OCL_SCRATCH_COUNT];
    /* The most bytes of im2col columns one pass builds (ocl_op_conv2d.c). */
    size_t column_budget;
    /* Large buffers in host memory of our own, backed by transparent huge pages
     * (ocl_buffer.c): on a CPU device, unless FCNN_HUGE_PAGES=0. */
    bool huge_pages;
};

#define OCL_DEFAULT_COLUMN_BUDGET ((size_t)8 << 20)

/* Builds (or finds) the program of kernels/<file> with these build options. */
int ocl_program_get(struct ocl_context *ctx, const char *file, const char *options,
                    struct ocl_program **out);
/* A kernel of that program, created on first use. */
int ocl_kernel_get(struct ocl_context *ctx, const char *file, const char *options,
                   const char *name, struct ocl_kernel **out);
void ocl_programs_release(struct ocl_context *ctx);
/* Waits for the queue of every OpenCL backend open in this process (ocl_backend.c). */
void ocl_finish_open_queues(void);
/* Whether a variant the run dispatched uses kernels/<file> built with these options
 * (ocl_registry.c). */
bool ocl_program_dispatched(const struct ocl_context *ctx, const char *file,
                            const char *options);
/* Counts a variant as dispatched when a fused kernel runs its programs without going
 * through ocl_dispatch_now (ocl_fuse.c), so that they are stored all the same. */
void ocl_variant_dispatched(struct ocl_context *ctx, const struct ocl_variant *variant);
/* Builds the programs (files[i] with options[i]) not built yet, several at a time: those
 * in the disk cache are loaded, the rest compiled on one thread per core. A program that
 * fails to compile here is left to its first use, which builds it again and reports the
 * failure with its log. */
int ocl_programs_prebuild(struct ocl_context *ctx, const char *const files[],
                          const char *const options[], int count);
/* Programs are built when first used; a file replaced from $FCNN_KERNEL_DIR is built at
 * open too (with its own defaults), so a replacement that does not compile is reported
 * at once, whether or not the run would use it. */
int ocl_build_overrides(struct ocl_context *ctx);

/* --- buffers ------------------------------------------------------------------------ */

/* The buffer slots of the op table (ctx is the struct ocl_context). */
int ocl_buffer_alloc(void *ctx, size_t bytes, void **impl);
int ocl_buffer_adopt(void *ctx, void *host, size_t bytes, void **impl);
void ocl_buffer_free(void *ctx, void *impl);
int ocl_upload(void *ctx, void *impl, size_t offset, const void *src, size_t bytes);
int ocl_download(void *ctx, void *impl, size_t offset, void *dst, size_t bytes);
int ocl_sync(void *ctx);

/* Whether large buffers go to huge pages on this device (sets ctx->huge_pages). */
void ocl_buffer_open(struct ocl_context *ctx);
/* A scratch buffer of at least `bytes`, kept for the life of the context and grown (never
 * shrunk) when a larger shape arrives, so no step allocates device memory. */
int ocl_scratch_get(struct ocl_context *ctx, enum ocl_scratch_slot slot, size_t bytes,
                    cl_mem *out);
/* Releases one scratch buffer (it is allocated again if used again). */
void ocl_scratch_drop(struct ocl_context *ctx, enum ocl_scratch_slot slot);
/* At least `floats` zeros (OCL_SCRATCH_ZEROS, filled when it grows). */
int ocl_zeros(struct ocl_context *ctx, size_t floats, cl_mem *out);
void ocl_scratch_release(struct ocl_context *ctx);

static inline cl_mem ocl_mem(const struct fcnn_tensor *t)
{
    return (cl_mem)t->buffer->impl;
}

/* A tensor's offset in elements of its dtype: kernels index from buffer + offset. */
static inline cl_ulong ocl_elem_offset(const struct fcnn_tensor *t)
{
    return (cl_ulong)(t->offset / fcnn_dtype_size(t->dtype));
}

/* --- kernel launches ---------------------------------------------------------------- */

/* One kernel argument: its size and a pointer to its value (cl_mem, cl_int, cl_float,
 * cl_ulong). OCL_ARGS(a, b, ...) expands to an array of them and its length. */
struct ocl_arg {
    size_t size;
    const void *value;
};
#define OCL_ARG(v) ((struct ocl_arg){ sizeof(v), &(v) })
#define OCL_ARGS(...)                                                                      \
    (const struct ocl_arg[]){ __VA_ARGS__ },                                               \
        (int)(sizeof((const struct ocl_arg[]){ __VA_ARGS__ }) / sizeof(struct ocl_arg))

/* Sets the arguments and enqueues `kernel` over global[0..dims) work-items rounded up to
 * whole work-groups of local[] (kernels guard their tail). Never a NULL local size: on
 * PoCL that can run the whole grid as one work-group on one core. */
int ocl_launch(struct ocl_context *ctx, struct ocl_kernel *kernel, int dims,
               const size_t global[], const size_t local[], const struct ocl_arg args[],
               int arg_count);
/* The common case: `count` work-items in work-groups of `local`. */
int ocl_launch_1d(struct ocl_context *ctx, struct ocl_kernel *kernel, size_t count,
                  size_t local, const struct ocl_arg args[], int arg_count);

/* --- CLBlast ------------------------------------------------------------------------ */

/* Row-major C = alpha op(A) op(B) + beta C on the context's queue; offsets and leading
 * dimensions in floats. */
int ocl_sgemm(struct ocl_context *ctx, bool trans_a, bool trans_b, size_t m, size_t n,
              size_t k, float alpha, cl_mem a, size_t a_offset, size_t lda, cl_mem b,
              size_t b_offset, size_t ldb, float beta, cl_mem c, size_t c_offset, size_t ldc);
/* Makes CLBlast compile its GEMM kernels now (once per process and device), outside any
 * timed work, by running each form the ops use (NN, NT, TN) on a 1x1x1 problem. */
int ocl_clblast_warmup(struct ocl_context *ctx);

/* --- tuning (ocl_tune.c, ocl_tune_store.c) ------------------------------------------- */

/* Reads the stored choices for this device (unless retune or tuning is off). Deferred,
 * stored choices are taken but nothing is timed. */
/* choices: options->kernel_choices (NULL: none), taken before the store's. */
void ocl_tuning_open(struct ocl_context *ctx, bool retune, bool deferred, const char *choices);
/* The choice each (op, shape) of this process ran, as options->kernel_choices takes them
 * (malloc'ed; NULL when out of memory). */
char *ocl_tuning_choices(const struct ocl_context *ctx);
void ocl_tuning_close(struct ocl_context *ctx);
/* The entry for (op, key), added empty if there is none; NULL when out of memory. */
struct ocl_tuning_entry *ocl_tuning_add(struct ocl_tuning *t, enum fcnn_op op, const char *key);
/* The store's entries into ctx->tuning; writing merges ours into what is on disk. */
void ocl_tune_store_load(struct ocl_context *ctx);
void ocl_tune_store_save(struct ocl_context *ctx);
/* The tuned variant for this call (timing the candidates first if the shape is new), or
 * NULL when fewer than two variants support it or tuning is off. */
int ocl_tuned_variant(struct ocl_context *ctx, const struct fcnn_op_call *call,
                      const struct ocl_variant **out);
/* "32x28x28x1,3x3x1x32,32,32x28x28x32,s1p1,relu": what a tuning choice is keyed by. */
void ocl_tuning_key(const struct fcnn_op_call *call, char *out, size_t size);

/* --- fusion (ocl_fuse.c) ------------------------------------------------------------- */

void ocl_fusion_open(struct ocl_context *ctx);
/* Takes the call (deferring it, or fusing it with what is deferred) or, when it cannot,
 * flushes what is deferred and leaves the call to the caller (*taken false). */
int ocl_fusion_offer(struct ocl_context *ctx, const struct fcnn_op_call *call, bool *taken);
/* Enqueues whatever is deferred: before anything that could observe its results. */
int ocl_fusion_flush(struct ocl_context *ctx);
/* Keeps the failure fcnn_last_error() describes for the next flush to return (for callers
 * that cannot return a status). */
void ocl_fusion_keep_failure(struct ocl_context *ctx);

/* --- profiling (ocl_profile.c) -------------------------------------------------------- */

int ocl_profile_open(struct ocl_context *ctx, bool enabled);
void ocl_profile_close(struct ocl_context *ctx);
/* The event of a command just enqueued for the current op (NULL-safe when off). */
void ocl_profile_record(struct ocl_context *ctx, cl_event event);
/* Where a launch should put its event: NULL unless profiling (and not paused). */
cl_event *ocl_profile_event_slot(struct ocl_context *ctx, cl_event *slot);
/* Adds up every recorded command that has finished (all of them when `wait`). */
int ocl_profile_collect(struct ocl_context *ctx, bool wait);

/* --- reports (ocl_report.c) ----------------------------------------------------------- */

int ocl_report(void *ctx, enum fcnn_backend_report what, FILE *out);

#endif
