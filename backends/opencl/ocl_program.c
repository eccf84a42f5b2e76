/* Programs: one per (kernel file, build options), built once per context and kept, with
 * their kernels, in memory. A build first tries the on-disk cache (ocl_cache.c) and falls
 * back to compiling the source; a source that does not compile is an FCNN_ERR_DEVICE
 * naming the file, the error and the options, followed by the compiler's build log.
 * Programs known to be needed together (the candidates of a shape about to be timed) can
 * be compiled several at a time, one thread each: compilation is most of a cold start,
 * and PoCL compiles independent programs in parallel. */
#include <config.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "ocl.h"

static double seconds_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The build failure message, with as much of the build log as the message holds. */
static int build_failure(struct ocl_context *ctx, cl_program program, cl_int status,
                         const struct ocl_source *source, const char *options)
{
    size_t log_size = 0;
    char *log = NULL;
    if (clGetProgramBuildInfo(program, ctx->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &log_size) ==
            CL_SUCCESS &&
        log_size > 0 && (log = malloc(log_size + 1)) != NULL) {
        if (clGetProgramBuildInfo(program, ctx->device, CL_PROGRAM_BUILD_LOG, log_size, log,
                                  NULL) != CL_SUCCESS)
            log[0] = '\0';
        log[log_size] = '\0';
    }
    int result = fcnn_error(FCNN_ERR_DEVICE, "%s: clBuildProgram: %s (options \"%s\"); build log:\n%s",
                            source->origin, ocl_error_name(status), options,
                            log && *log ? log : "(empty)");
    free(log);
    return result;
}

/* A program from a cached binary, or NULL (the entry was missing, damaged or refused). */
static cl_program from_cache(struct ocl_context *ctx, const char *file, uint64_t key,
                             const char *options)
{
    size_t size = 0;
    unsigned char *binary = ocl_cache_load(&ctx->cache, file, key, &size);
    if (!binary)
        return NULL;
    const unsigned char *binaries[1] = { binary };
    cl_int binary_status = CL_SUCCESS, status;
    cl_program program = clCreateProgramWithBinary(ctx->context, 1, &ctx->device, &size,
                                                   binaries, &binary_status, &status);
    free(binary);
    if (status == CL_SUCCESS && binary_status == CL_SUCCESS &&
        clBuildProgram(program, 1, &ctx->device, options, NULL, NULL) == CL_SUCCESS) {
        ctx->cache.stats.hits++;
        return program;
    }
    if (program)
        clReleaseProgram(program);
    ctx->cache.stats.rejected++;
    return NULL;
}

/* Best effort, like the whole cache: a binary that cannot be fetched is not stored. */
static void store_binary(struct ocl_context *ctx, cl_program program, const char *file,
                         uint64_t key)
{
    size_t size = 0;
    if (!ctx->cache.enabled ||
        clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, NULL) != CL_SUCCESS ||
        size == 0)
        return;
    unsigned char *binary = malloc(size);
    unsigned char *binaries[1] = { binary };
    if (binary && clGetProgramInfo(program, CL_PROGRAM_BINARIES, sizeof binaries, binaries,
                                   NULL) == CL_SUCCESS)
        ocl_cache_store(&ctx->cache, file, key, binary, size);
    free(binary);
}

/* Stores the binary now, or marks the program for the store at close. */
static void store_or_defer(struct ocl_context *ctx, struct ocl_program *p, uint64_t key)
{
    if (ctx->cache.defer) {
        p->unstored = true;
        p->cache_key = key;
    } else {
        store_binary(ctx, p->program, p->file, key);
    }
}

/* `*key` is the program's disk-cache key; `*compiled` whether it came from source. */
static int build(struct ocl_context *ctx, const char *file, const char *options,
                 cl_program *out, uint64_t *key_out, bool *compiled)
{
    struct ocl_source source;
    OCL_TRY(ocl_source_load(file, &source));
    cl_int injected = ocl_fault(OCL_FAULT_BUILD);
    if (injected != CL_SUCCESS) {
        int result = fcnn_error(FCNN_ERR_DEVICE, "%s: clBuildProgram: %s (FCNN_OPENCL_FAULT)",
                                source.origin, ocl_error_name(injected));
        ocl_source_release(&source);
        return result;
    }
    double start = seconds_now();
    uint64_t key = ocl_cache_key(&ctx->identity, source.text, source.size, options);
    cl_program program = from_cache(ctx, file, key, options);
    bool cached = program != NULL;
    if (!program) {
        cl_int status;
        program = clCreateProgramWithSource(ctx->context, 1, &source.text, &source.size, &status);
        if (status != CL_SUCCESS) {
            ocl_source_release(&source);
            return ocl_failure("clCreateProgramWithSource", status);
        }
        status = clBuildProgram(program, 1, &ctx->device, options, NULL, NULL);
        if (status != CL_SUCCESS) {
            int result = build_failure(ctx, program, status, &source, options);
            clReleaseProgram(program);
            ocl_source_release(&source);
            return result;
        }
        ctx->source_builds++;
#ifdef __GLIBC__
        /* The compiler's working memory, freed but kept by malloc: on a CPU device the
         * process's memory is also the device's, and a cold start compiles 20-odd
         * programs. */
        malloc_trim(0);
#endif
    }
    if (ctx->verbose)
        fprintf(stderr, "opencl: %s %s in %.3f s (%s)\n", cached ? "loaded" : "built",
                source.origin, seconds_now() - start, options);
    ocl_source_release(&source);
    *out = program;
    *key_out = key;
    *compiled = !cached;
    return FCNN_OK;
}

static struct ocl_program *find_program(struct ocl_context *ctx, const char *file,
                                        const char *options)
{
    for (int i = 0; i < ctx->program_count; i++) {
        struct ocl_program *p = ctx->programs[i];
        if (strcmp(p->file, file) == 0 && strcmp(p->options, options) == 0)
            return p;
    }
    return NULL;
}

/* Takes ownership of `program` (released on failure). */
static int keep(struct ocl_context *ctx, const char *file, const char *options,
                cl_program program, struct ocl_program **out)
{
    struct ocl_program **grown = realloc(ctx->programs, (ctx->program_count + 1) * sizeof *grown);
    struct ocl_program *p = grown ? calloc(1, sizeof *p) : NULL;
    char *options_copy = p ? strdup(options) : NULL;
    if (grown)
        ctx->programs = grown;
    if (!options_copy) {
        free(p);
        clReleaseProgram(program);
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory keeping programs");
    }
    snprintf(p->file, sizeof p->file, "%s", file);
    p->options = options_copy;
    p->program = program;
    ctx->programs[ctx->program_count++] = p;
    if (out)
        *out = p;
    return FCNN_OK;
}

int ocl_program_get(struct ocl_context *ctx, const char *file, const char *options,
                    struct ocl_program **out)
{
    if ((*out = find_program(ctx, file, options)) != NULL)
        return FCNN_OK;
    cl_program program;
    uint64_t key;
    bool compiled;
    OCL_TRY(build(ctx, file, options, &program, &key, &compiled));
    OCL_TRY(keep(ctx, file, options, program, out));
    if (compiled)
        store_or_defer(ctx, *out, key);
    return FCNN_OK;
}

/* --- several at a time --- */

struct compile_job {
    const char *file, *options;
    struct ocl_source source;
    uint64_t key;
    cl_program program;
    cl_int status;
    double seconds;
};

struct compile_pool {
    struct ocl_context *ctx;
    struct compile_job *jobs;
    int count, next;
    pthread_mutex_t lock;
};

/* Each thread takes the next job until none is left. Only OpenCL is called here: errors
 * are reported later, one at a time, by the ordinary build. */
static void *compile_worker(void *arg)
{
    struct compile_pool *pool = arg;
    for (;;) {
        pthread_mutex_lock(&pool->lock);
        int i = pool->next < pool->count ? pool->next++ : -1;
        pthread_mutex_unlock(&pool->lock);
        if (i < 0)
            return NULL;
        struct compile_job *job = &pool->jobs[i];
        double start = seconds_now();
        job->program = clCreateProgramWithSource(pool->ctx->context, 1, &job->source.text,
                                                 &job->source.size, &job->status);
        if (job->status == CL_SUCCESS)
            job->status = clBuildProgram(job->program, 1, &pool->ctx->device, job->options,
                                         NULL, NULL);
        job->seconds = seconds_now() - start;
    }
}

static int compile_threads(int jobs)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = cores < 1 ? 1 : cores > 8 ? 8 : (int)cores;
    return threads < jobs ? threads : jobs;
}

int ocl_programs_prebuild(struct ocl_context *ctx, const char *const files[],
                          const char *const options[], int count)
{
    struct compile_job *jobs = calloc((size_t)(count > 0 ? count : 1), sizeof *jobs);
    if (!jobs)
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory planning program builds");
    int pending = 0, status = FCNN_OK;
    for (int i = 0; i < count && status == FCNN_OK; i++) {
        bool listed = find_program(ctx, files[i], options[i]) != NULL;
        for (int j = 0; j < pending && !listed; j++)
            listed = strcmp(jobs[j].file, files[i]) == 0 && strcmp(jobs[j].options, options[i]) == 0;
        if (listed)
            continue;
        struct compile_job *job = &jobs[pending];
        *job = (struct compile_job){ .file = files[i], .options = options[i] };
        status = ocl_source_load(files[i], &job->source);
        if (status != FCNN_OK)
            break;
        job->key = ocl_cache_key(&ctx->identity, job->source.text, job->source.size, options[i]);
        cl_program cached = from_cache(ctx, files[i], job->key, options[i]);
        if (cached) {
            ocl_source_release(&job->source);
            status = keep(ctx, files[i], options[i], cached, NULL);
        } else {
            pending++;
        }
    }

    /* One program alone gains nothing from a thread: the ordinary build takes it. */
    int threads = pending > 1 && status == FCNN_OK ? compile_threads(pending) : 0;
    if (threads > 1) {
        struct compile_pool pool = { .ctx = ctx, .jobs = jobs, .count = pending };
        pthread_t thread[8];
        int started = 0;
        pthread_mutex_init(&pool.lock, NULL);
        while (started < threads && pthread_create(&thread[started], NULL, compile_worker, &pool) == 0)
            started++;
        if (started == 0)
            compile_worker(&pool);
        for (int t = 0; t < started; t++)
            pthread_join(thread[t], NULL);
        pthread_mutex_destroy(&pool.lock);
        for (int i = 0; i < pending; i++) {
            struct compile_job *job = &jobs[i];
            if (job->status != CL_SUCCESS) { /* built again, and reported, at first use */
                if (job->program)
                    clReleaseProgram(job->program);
                continue;
            }
            ctx->source_builds++;
            if (ctx->verbose)
                fprintf(stderr, "opencl: built %s in %.3f s, %d at a time (%s)\n",
                        job->source.origin, job->seconds, threads, job->options);
            struct ocl_program *kept;
            if (status == FCNN_OK)
                status = keep(ctx, job->file, job->options, job->program, &kept);
            else
                clReleaseProgram(job->program);
            if (status == FCNN_OK)
                store_or_defer(ctx, kept, job->key);
        }
#ifdef __GLIBC__
        malloc_trim(0);
#endif
    }
    for (int i = 0; i < pending; i++)
        ocl_source_release(&jobs[i].source);
    free(jobs);
    return status;
}

int ocl_kernel_get(struct ocl_context *ctx, const char *file, const char *options,
                   const char *name, struct ocl_kernel **out)
{
    struct ocl_program *p;
    OCL_TRY(ocl_program_get(ctx, file, options, &p));
    for (int i = 0; i < p->kernel_count; i++) {
        if (strcmp(p->kernels[i].name, name) == 0) {
            *out = &p->kernels[i];
            return FCNN_OK;
        }
    }
    if (p->kernel_count == OCL_MAX_KERNELS_PER_PROGRAM)
        return fcnn_error(FCNN_ERR_INVALID, "kernels/%s: more than %d kernels are used", file,
                          OCL_MAX_KERNELS_PER_PROGRAM);
    struct ocl_kernel *k = &p->kernels[p->kernel_count];
    cl_int status;
    k->kernel = clCreateKernel(p->program, name, &status);
    if (status != CL_SUCCESS)
        return fcnn_error(FCNN_ERR_DEVICE, "kernels/%s: clCreateKernel '%s': %s", file, name,
                          ocl_error_name(status));
    snprintf(k->name, sizeof k->name, "%s", name);
    p->kernel_count++; /* kept (and released at close) whatever follows */
    OCL_CHECK(clGetKernelWorkGroupInfo,
              clGetKernelWorkGroupInfo(k->kernel, ctx->device, CL_KERNEL_WORK_GROUP_SIZE,
                                       sizeof k->max_local, &k->max_local, NULL));
    *out = k;
    return FCNN_OK;
}

int ocl_build_overrides(struct ocl_context *ctx)
{
    const char *dir = getenv("FCNN_KERNEL_DIR");
    if (!dir || !*dir)
        return FCNN_OK;
    for (int i = 0; i < ocl_source_count(); i++) {
        struct ocl_source source;
        OCL_TRY(ocl_source_load(ocl_source_file(i), &source));
        bool overridden = source.overridden;
        ocl_source_release(&source);
        struct ocl_program *program;
        /* The file's own defaults for every tunable: each kernel file compiles alone. */
        if (overridden)
            OCL_TRY(ocl_program_get(ctx, ocl_source_file(i), "-cl-std=CL1.2", &program));
    }
    return FCNN_OK;
}

/* The binaries whose store was deferred (ocl_cache_defers_binaries), for later runs: those
 * of the programs the run used, not of those that only lost a tuning, which a later run
 * with the same choices never builds (fetching each binary is a compilation of its own).
 *
 * Fetching a binary from PoCL 3.1 registers an idle work-group function for each of the
 * program's kernels in a cache the whole process shares, and a launch of the same kernel
 * still running then, on another backend open in this process (identical programs share
 * entries), can release that entry instead of its own and abort in PoCL
 * (pocl_release_dlhandle_cache: `found->ref_count > 0'). So every open backend's queue is
 * waited for first. Commands another thread enqueues meanwhile are not covered: one
 * process trains on one thread. */
static void store_deferred(struct ocl_context *ctx)
{
    double start = seconds_now();
    int stored = 0;
    for (int i = 0; i < ctx->program_count; i++) {
        struct ocl_program *p = ctx->programs[i];
        if (!p->unstored || !ocl_program_dispatched(ctx, p->file, p->options))
            continue;
        if (stored == 0)
            ocl_finish_open_queues();
        store_binary(ctx, p->program, p->file, p->cache_key);
        p->unstored = false;
        stored++;
    }
    if (ctx->verbose && stored)
        fprintf(stderr, "opencl: stored %d program binar%s for later runs in %.3f s\n", stored,
                stored == 1 ? "y" : "ies", seconds_now() - start);
}

void ocl_programs_release(struct ocl_context *ctx)
{
    store_deferred(ctx);
    for (int i = 0; i < ctx->program_count; i++) {
        struct ocl_program *p = ctx->programs[i];
        for (int k = 0; k < p->kernel_count; k++)
            clReleaseKernel(p->kernels[k].kernel);
        clReleaseProgram(p->program);
        free(p->options);
        free(p);
    }
    free(ctx->programs);
    ctx->programs = NULL;
    ctx->program_count = 0;
}
