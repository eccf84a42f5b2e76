/* bias_bwd (kernels/bias.cl): db[k] = sum of dy over every row, in two passes over a
 * scratch buffer of partial sums, so there are enough work-items to fill the device even
 * with few channels, and no atomics. The vec16 variant sums 16 channels at a time; the
 * columns variant, for few rows, sums each channel in one work-item and one launch. */
#include <config.h>

#include "ocl_registry.h"

/* Row slices per channel in the first pass: at 32 channels, 64 slices give 2048
 * work-items, enough for any CPU and a small GPU. */
#define BIAS_PARTS 64

/* The columns variant sums whole columns in one work-item each: only for short ones. */
#define BIAS_COLUMN_ROWS 4096

/* Both variants: partial sums over slices of rows (by `partial_name`, whose work-items
 * each cover `lanes` channels of one slice), then one sum over the slices per channel. */
static int partial_sums(struct ocl_context *ctx, const struct ocl_variant *variant,
                        const struct fcnn_op_call *call, const char *partial_name, int lanes)
{
    const struct fcnn_tensor *dy = call->t[0], *db = call->t[1];
    cl_int channels = db->shape[0];
    cl_int rows = (cl_int)(fcnn_tensor_count(dy) / (size_t)channels);
    cl_int parts = rows < BIAS_PARTS ? rows : BIAS_PARTS;
    cl_int rows_per_part = (rows + parts - 1) / parts;
    parts = (rows + rows_per_part - 1) / rows_per_part; /* no empty slice */
    cl_int count = parts * (channels / lanes);

    struct ocl_kernel *partial_kernel, *finish_kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "bias.cl", partial_name, &partial_kernel));
    OCL_TRY(ocl_variant_kernel(ctx, variant, "bias.cl", "bias_bwd_finish", &finish_kernel));
    cl_mem partial;
    OCL_TRY(ocl_scratch_get(ctx, OCL_SCRATCH_PARTIALS,
                            (size_t)parts * channels * sizeof(float), &partial));

    size_t local = (size_t)ocl_tunable(variant, "WG_SIZE");
    cl_mem dy_mem = ocl_mem(dy), db_mem = ocl_mem(db);
    cl_ulong dy_offset = ocl_elem_offset(dy), db_offset = ocl_elem_offset(db);
    OCL_TRY(ocl_launch_1d(ctx, partial_kernel, (size_t)count, local,
                          OCL_ARGS(OCL_ARG(dy_mem), OCL_ARG(dy_offset), OCL_ARG(partial),
                                   OCL_ARG(channels), OCL_ARG(rows), OCL_ARG(rows_per_part),
                                   OCL_ARG(count))));
    return ocl_launch_1d(ctx, finish_kernel, (size_t)channels, local,
                         OCL_ARGS(OCL_ARG(partial), OCL_ARG(db_mem), OCL_ARG(db_offset),
                                  OCL_ARG(channels), OCL_ARG(parts)));
}

int ocl_bias_bwd_partial_sums(struct ocl_context *ctx, const struct ocl_variant *variant,
                              const struct fcnn_op_call *call)
{
    return partial_sums(ctx, variant, call, "bias_bwd_partial", 1);
}

bool ocl_bias_bwd_vec16_supports(const struct ocl_context *ctx,
                                 const struct ocl_variant *variant,
                                 const struct fcnn_op_call *call)
{
    (void)ctx;
    (void)variant;
    return ocl_call_fits_int32(call) && call->t[1]->shape[0] % 16 == 0;
}

int ocl_bias_bwd_vec16(struct ocl_context *ctx, const struct ocl_variant *variant,
                       const struct fcnn_op_call *call)
{
    return partial_sums(ctx, variant, call, "bias_bwd_partial_vec16", 16);
}

/* Few rows: one launch, one work-item per channel (kernels/bias.cl: bias_bwd_columns). */
bool ocl_bias_bwd_columns_supports(const struct ocl_context *ctx,
                                   const struct ocl_variant *variant,
                                   const struct fcnn_op_call *call)
{
    (void)ctx;
    (void)variant;
    size_t channels = (size_t)call->t[1]->shape[0];
    return ocl_call_fits_int32(call) && fcnn_tensor_count(call->t[0]) / channels <= BIAS_COLUMN_ROWS;
}

int ocl_bias_bwd_columns(struct ocl_context *ctx, const struct ocl_variant *variant,
                         const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *dy = call->t[0], *db = call->t[1];
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "bias.cl", "bias_bwd_columns", &kernel));
    cl_mem dy_mem = ocl_mem(dy), db_mem = ocl_mem(db);
    cl_ulong dy_offset = ocl_elem_offset(dy), db_offset = ocl_elem_offset(db);
    cl_int channels = db->shape[0], rows = (cl_int)(fcnn_tensor_count(dy) / (size_t)channels);
    return ocl_launch_1d(ctx, kernel, (size_t)channels, (size_t)ocl_tunable(variant, "WG_SIZE"),
                         OCL_ARGS(OCL_ARG(dy_mem), OCL_ARG(dy_offset), OCL_ARG(db_mem),
                                  OCL_ARG(db_offset), OCL_ARG(channels), OCL_ARG(rows)));
}
