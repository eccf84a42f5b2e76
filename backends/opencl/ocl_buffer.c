/* Device buffers (a cl_mem per fcnn buffer), transfers, and the scratch buffers the ops
 * reuse across steps. The queue is in order, so a transfer or kernel sees everything
 * enqueued before it; uploads are blocking because the caller may reuse its memory as
 * soon as the call returns, and downloads block because the caller reads the bytes. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "ocl.h"

/* Transparent huge pages. A training step sweeps tens of megabytes of activations,
 * gradients, weights and scratch, several times; in 4 KiB pages that is thousands of pages
 * a pass, more than the TLB holds, and the passes limited by memory traffic pay a page walk
 * every few cache lines. On a CPU device the buffers of at least HUGE_PAGE bytes are
 * therefore memory we map ourselves, aligned to and rounded up to 2 MiB and advised
 * MADV_HUGEPAGE (the kernel then backs them with huge pages where it can, which Debian's
 * default "madvise" mode of transparent huge pages leaves to each program), handed to
 * OpenCL with CL_MEM_USE_HOST_PTR, which PoCL uses as the buffer itself. Smaller buffers,
 * and GPUs, go to clCreateBuffer as before. FCNN_HUGE_PAGES=0 turns it off. */
#define HUGE_PAGE ((size_t)2 << 20)

void ocl_buffer_open(struct ocl_context *ctx)
{
    const char *env = getenv("FCNN_HUGE_PAGES");
    ctx->huge_pages =
        (ctx->identity.type & CL_DEVICE_TYPE_CPU) && !(env && strcmp(env, "0") == 0);
}

struct huge_mapping {
    void *start;
    size_t size;
};

static void CL_CALLBACK unmap_huge(cl_mem mem, void *user)
{
    (void)mem;
    struct huge_mapping *m = user;
    munmap(m->start, m->size);
    free(m);
}

/* A buffer of `bytes` over huge pages, or NULL in *out where the host gives no such
 * mapping (the caller then creates an ordinary buffer). */
static int huge_buffer(struct ocl_context *ctx, size_t bytes, cl_mem *out)
{
    *out = NULL;
    size_t size = (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE, span = size + HUGE_PAGE;
    struct huge_mapping *m = malloc(sizeof *m);
    char *raw = m ? mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                  : MAP_FAILED;
    if (raw == MAP_FAILED) {
        free(m);
        return FCNN_OK;
    }
    /* Keep the aligned middle; nothing is touched yet, so unmapping the ends costs nothing. */
    char *start = (char *)(((uintptr_t)raw + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    if (start > raw)
        munmap(raw, (size_t)(start - raw));
    if (raw + span > start + size)
        munmap(start + size, (size_t)(raw + span - (start + size)));
    (void)madvise(start, size, MADV_HUGEPAGE); /* best effort: 4 KiB pages otherwise */
    *m = (struct huge_mapping){ start, size };
    cl_int status;
    cl_mem mem = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR, bytes,
                                start, &status);
    if (status == CL_SUCCESS)
        status = clSetMemObjectDestructorCallback(mem, unmap_huge, m);
    else
        mem = NULL;
    if (status != CL_SUCCESS) {
        if (mem)
            clReleaseMemObject(mem); /* runs no callback: none was set */
        munmap(start, size);
        free(m);
        OCL_CHECK(clCreateBuffer, status);
    }
    *out = mem;
    return FCNN_OK;
}

/* A read-write buffer of `bytes`: over huge pages where they apply, else clCreateBuffer's. */
static int create_buffer(struct ocl_context *ctx, size_t bytes, cl_mem *out)
{
    OCL_CHECK(clCreateBuffer, ocl_fault(OCL_FAULT_ALLOC));
    if (ctx->huge_pages && bytes >= HUGE_PAGE) {
        OCL_TRY(huge_buffer(ctx, bytes, out));
        if (*out)
            return FCNN_OK;
    }
    cl_int status;
    *out = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, bytes, NULL, &status);
    OCL_CHECK(clCreateBuffer, status);
    return FCNN_OK;
}

int ocl_buffer_alloc(void *opaque, size_t bytes, void **impl)
{
    cl_mem mem;
    OCL_TRY(create_buffer(opaque, bytes, &mem));
    *impl = mem;
    return FCNN_OK;
}

static void CL_CALLBACK free_adopted(cl_mem mem, void *host)
{
    (void)mem;
    free(host);
}

/* On a device that shares the host's memory (a CPU, an integrated GPU), a buffer made with
 * CL_MEM_USE_HOST_PTR over memory aligned as the device asks is that memory: PoCL then
 * neither allocates nor copies (47 MB and about 30 ms for the training images). A discrete
 * GPU would read such a buffer across the bus at every use: it gets a copy in its own. The
 * memory is freed when OpenCL destroys the buffer, after the last command using it. */
int ocl_buffer_adopt(void *opaque, void *host, size_t bytes, void **impl)
{
    struct ocl_context *ctx = opaque;
    cl_bool unified = CL_FALSE;
    cl_uint align_bits = 0;
    if (clGetDeviceInfo(ctx->device, CL_DEVICE_HOST_UNIFIED_MEMORY, sizeof unified, &unified,
                        NULL) != CL_SUCCESS ||
        clGetDeviceInfo(ctx->device, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof align_bits,
                        &align_bits, NULL) != CL_SUCCESS ||
        !unified || align_bits < 8 || (uintptr_t)host % (align_bits / 8) != 0)
        return FCNN_ERR_UNSUPPORTED;
    cl_int status;
    OCL_CHECK(clCreateBuffer, ocl_fault(OCL_FAULT_ALLOC));
    cl_mem mem = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR, bytes,
                                host, &status);
    OCL_CHECK(clCreateBuffer, status);
    status = clSetMemObjectDestructorCallback(mem, free_adopted, host);
    if (status != CL_SUCCESS) {
        clReleaseMemObject(mem);
        OCL_CHECK(clSetMemObjectDestructorCallback, status);
    }
    *impl = mem;
    return FCNN_OK;
}

void ocl_buffer_free(void *opaque, void *impl)
{
    struct ocl_context *ctx = opaque;
    /* A deferred op may use the buffer: enqueue it first. The slot has no status to return
     * a failure with, so it is kept for the next flush (every op, transfer and sync). */
    if (ocl_fusion_flush(ctx) != FCNN_OK)
        ocl_fusion_keep_failure(ctx);
    /* Deferred by OpenCL until the commands already queued on it have finished. */
    clReleaseMemObject((cl_mem)impl);
    ctx->buffer_generation++;
}

int ocl_upload(void *opaque, void *impl, size_t offset, const void *src, size_t bytes)
{
    struct ocl_context *ctx = opaque;
    if (bytes == 0)
        return FCNN_OK;
    OCL_TRY(ocl_fusion_flush(ctx)); /* deferred ops come before this transfer */
    OCL_CHECK(clEnqueueWriteBuffer, clEnqueueWriteBuffer(ctx->queue, (cl_mem)impl, CL_TRUE,
                                                         offset, bytes, src, 0, NULL, NULL));
    return FCNN_OK;
}

int ocl_download(void *opaque, void *impl, size_t offset, void *dst, size_t bytes)
{
    struct ocl_context *ctx = opaque;
    if (bytes == 0)
        return FCNN_OK;
    OCL_TRY(ocl_fusion_flush(ctx)); /* deferred ops come before this transfer */
    OCL_CHECK(clEnqueueReadBuffer, clEnqueueReadBuffer(ctx->queue, (cl_mem)impl, CL_TRUE,
                                                       offset, bytes, dst, 0, NULL, NULL));
    /* Everything before the read has finished: a good time to read profiling events. */
    return ocl_profile_collect(ctx, false);
}

int ocl_sync(void *opaque)
{
    struct ocl_context *ctx = opaque;
    OCL_TRY(ocl_fusion_flush(ctx));
    OCL_CHECK(clFinish, clFinish(ctx->queue));
    return ocl_profile_collect(ctx, false);
}

int ocl_scratch_get(struct ocl_context *ctx, enum ocl_scratch_slot slot, size_t bytes,
                    cl_mem *out)
{
    struct ocl_scratch *s = &ctx->scratch[slot];
    if (!s->mem || s->size < bytes) {
        /* Grow to the new need; the old buffer stays alive until queued kernels that use
         * it have run (OpenCL defers the release). */
        cl_mem mem;
        OCL_TRY(create_buffer(ctx, bytes, &mem));
        if (s->mem) {
            clReleaseMemObject(s->mem);
            ctx->buffer_generation++;
        }
        s->mem = mem;
        s->size = bytes;
    }
    *out = s->mem;
    return FCNN_OK;
}

int ocl_zeros(struct ocl_context *ctx, size_t floats, cl_mem *out)
{
    size_t bytes = (floats ? floats : 1) * sizeof(float);
    bool grows = ctx->scratch[OCL_SCRATCH_ZEROS].size < bytes;
    OCL_TRY(ocl_scratch_get(ctx, OCL_SCRATCH_ZEROS, bytes, out));
    if (grows) {
        float zero = 0.0f;
        OCL_CHECK(clEnqueueFillBuffer, clEnqueueFillBuffer(ctx->queue, *out, &zero, sizeof zero,
                                                           0, bytes, 0, NULL, NULL));
    }
    return FCNN_OK;
}

void ocl_scratch_drop(struct ocl_context *ctx, enum ocl_scratch_slot slot)
{
    struct ocl_scratch *s = &ctx->scratch[slot];
    if (s->mem) {
        clReleaseMemObject(s->mem);
        ctx->buffer_generation++;
    }
    s->mem = NULL;
    s->size = 0;
}

void ocl_scratch_release(struct ocl_context *ctx)
{
    for (int i = 0; i < OCL_SCRATCH_COUNT; i++) {
        if (ctx->scratch[i].mem)
            clReleaseMemObject(ctx->scratch[i].mem);
        ctx->scratch[i].mem = NULL;
        ctx->scratch[i].size = 0;
    }
}
