/* SGEMM through CLBlast's C API, on the context's in-order queue, with buffer offsets (in
 * floats) instead of sub-buffers, which have alignment rules.
 *
 * CLBlast compiles its kernels from source the first time each routine runs in a process,
 * for each context. Measured on PoCL (2-core Xeon, PoCL 3.1): about 9.4 s for the first
 * SGEMM and 1.1-1.3 s for each further transpose form when PoCL's own kernel cache is
 * cold, about 35 ms in all once PoCL has cached them. ocl_clblast_warmup() pays that
 * before the first call of a variant that uses CLBlast (ocl_run_variant), which the warm-up
 * pass makes, so that it never lands in a timed step; a run whose chosen variants do not
 * use CLBlast never pays it at all. */
#include <config.h>

#include "ocl.h" /* first: it sets the OpenCL version the headers target */

#include <clblast_c.h>

int ocl_sgemm(struct ocl_context *ctx, bool trans_a, bool trans_b, size_t m, size_t n,
              size_t k, float alpha, cl_mem a, size_t a_offset, size_t lda, cl_mem b,
              size_t b_offset, size_t ldb, float beta, cl_mem c, size_t c_offset, size_t ldc)
{
    cl_event event, *slot = ocl_profile_event_slot(ctx, &event);
    OCL_CHECK(CLBlastSgemm,
              CLBlastSgemm(CLBlastLayoutRowMajor, trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
                           trans_b ? CLBlastTransposeYes : CLBlastTransposeNo, m, n, k, alpha, a,
                           a_offset, lda, b, b_offset, ldb, beta, c, c_offset, ldc, &ctx->queue,
                           slot));
    if (slot)
        ocl_profile_record(ctx, event);
    return FCNN_OK;
}

int ocl_clblast_warmup(struct ocl_context *ctx)
{
    /* A, B and C of a 1x1x1 product side by side in one small scratch buffer. */
    cl_mem operands;
    OCL_TRY(ocl_scratch_get(ctx, OCL_SCRATCH_WARMUP, 3 * 16 * sizeof(float), &operands));
    float zero = 0;
    OCL_CHECK(clEnqueueFillBuffer, clEnqueueFillBuffer(ctx->queue, operands, &zero, sizeof zero,
                                                       0, 3 * 16 * sizeof(float), 0, NULL, NULL));
    static const bool forms[][2] = { { false, false }, { false, true }, { true, false } };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
        OCL_TRY(ocl_sgemm(ctx, forms[i][0], forms[i][1], 1, 1, 1, 1.0f, operands, 0, 1, operands,
                          16, 1, 0.0f, operands, 32, 1));
    OCL_CHECK(clFinish, clFinish(ctx->queue));
    return FCNN_OK;
}
