/* Device buffers (a cl_mem per fcnn buffer), transfers, and the scratch buffers the ops
 * reuse across steps. The queue is in order, so a transfer or kernel sees everything
 * enqueued before it; uploads are blocking because the caller may reuse its memory as
 * soon as the call returns, and downloads block because the caller reads the bytes. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>

#include "ocl.h"

int ocl_buffer_alloc(void *opaque, size_t bytes, void **impl)
{
    struct ocl_context *ctx = opaque;
    cl_int status;
    OCL_CHECK(clCreateBuffer, ocl_fault(OCL_FAULT_ALLOC));
    cl_mem mem = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, bytes, NULL, &status);
    OCL_CHECK(clCreateBuffer, status);
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
        cl_int status;
        OCL_CHECK(clCreateBuffer, ocl_fault(OCL_FAULT_ALLOC));
        cl_mem mem = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, bytes, NULL, &status);
        OCL_CHECK(clCreateBuffer, status);
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
