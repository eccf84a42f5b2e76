/* Programs: one per (kernel file, build options), built once per context and kept, with
 * their kernels, in memory. A build first tries the on-disk cache (ocl_cache.c) and falls
 * back to compiling the source; a source that does not compile is an FCNN_ERR_DEVICE
 * naming the file, the error and the options, followed by the compiler's build log. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

static int build(struct ocl_context *ctx, const char *file, const char *options,
                 cl_program *out)
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
        store_binary(ctx, program, file, key);
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
    return FCNN_OK;
}

int ocl_program_get(struct ocl_context *ctx, const char *file, const char *options,
                    struct ocl_program **out)
{
    for (int i = 0; i < ctx->program_count; i++) {
        struct ocl_program *p = ctx->programs[i];
        if (strcmp(p->file, file) == 0 && strcmp(p->options, options) == 0) {
            *out = p;
            return FCNN_OK;
        }
    }
    struct ocl_program **grown = realloc(ctx->programs, (ctx->program_count + 1) * sizeof *grown);
    if (!grown)
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory keeping programs");
    ctx->programs = grown;
    struct ocl_program *p = calloc(1, sizeof *p);
    char *options_copy = strdup(options);
    if (!p || !options_copy) {
        free(p);
        free(options_copy);
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory keeping programs");
    }
    snprintf(p->file, sizeof p->file, "%s", file);
    p->options = options_copy;
    int status = build(ctx, file, options, &p->program);
    if (status != FCNN_OK) {
        free(p->options);
        free(p);
        return status;
    }
    ctx->programs[ctx->program_count++] = p;
    *out = p;
    return FCNN_OK;
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

void ocl_programs_release(struct ocl_context *ctx)
{
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
