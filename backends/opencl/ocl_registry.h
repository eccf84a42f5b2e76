/* The kernel registry: each op of the interface maps to one or more variants, each with a
 * name, a priority, the kernel files it uses with their tunables, a predicate saying which
 * calls it can run, and the function that enqueues it.
 *
 * Tunables are preprocessor defines. Every kernel file gives each of its tunables a
 * default under #ifndef, so the file compiles alone; the variant's table row is the only
 * place a value is chosen, and it reaches the kernel one way only, as -DNAME=VALUE build
 * options (and so is part of the program-cache key). The host reads the same row when it
 * needs the value, e.g. to launch with the work-group size a kernel was compiled for. */
#ifndef FCNN_OCL_REGISTRY_H
#define FCNN_OCL_REGISTRY_H

#include "ocl.h"

#define OCL_MAX_TUNABLES 4
#define OCL_MAX_VARIANT_FILES 3

/* The local size of the small helper kernels (weight flips, transposes, reductions), which
 * carry no reqd_work_group_size: they are cheap next to the op they serve. */
#define OCL_HELPER_WG_SIZE 64

struct ocl_tunable {
    const char *name;
    int value;
};

enum ocl_variant_flags {
    OCL_USES_CLBLAST = 1, /* runs SGEMM through CLBlast, which compiles at first use */
    OCL_GPU_SHAPED = 2,   /* local memory and barriers: tuning times it on GPUs only */
};

struct ocl_variant {
    enum fcnn_op op;
    const char *name;
    int priority; /* the choice without tuning: the highest that supports the call */
    const char *files[OCL_MAX_VARIANT_FILES];       /* kernel files used, NULL-terminated */
    struct ocl_tunable tunables[OCL_MAX_TUNABLES];  /* NULL name ends the list */
    unsigned flags;                                 /* enum ocl_variant_flags */
    bool (*supports)(const struct ocl_context *ctx, const struct ocl_variant *variant,
                     const struct fcnn_op_call *call);
    int (*run)(struct ocl_context *ctx, const struct ocl_variant *variant,
               const struct fcnn_op_call *call);
};

/* The variants of op, in registry order; count, and lookup by index or name. */
int ocl_variant_count(enum fcnn_op op);
const struct ocl_variant *ocl_variant_at(enum fcnn_op op, int index);
const struct ocl_variant *ocl_variant_find(enum fcnn_op op, const char *name);

/* "OP=VARIANT[,OP=VARIANT...]" into ctx->forced; an unknown op or variant is an error
 * that lists what exists. */
int ocl_force_variants(struct ocl_context *ctx, const char *spec);
/* name NULL: back to automatic choice. Builds the variant's programs at once, so a kernel
 * that does not compile is reported here rather than in the middle of training. */
int ocl_force_variant(struct ocl_context *ctx, enum fcnn_op op, const char *name);

/* The variant that would run this call without tuning: the forced one if it supports it,
 * else the highest-priority variant that does; NULL when none can. */
const struct ocl_variant *ocl_choose_variant(const struct ocl_context *ctx,
                                             const struct fcnn_op_call *call);
/* How many variants of the call's op support it (what tuning would time: on a CPU device,
 * not the GPU-shaped ones). */
int ocl_supporting_variants(const struct ocl_context *ctx, const struct fcnn_op_call *call,
                            const struct ocl_variant **out, int capacity);
/* Runs the call: the forced variant, else the tuned choice for its shape (timing the
 * variants first if this shape is new and tuning is on), else the priority choice; unless
 * ocl_fuse.c defers it to fuse it with the calls that follow. */
int ocl_dispatch(struct ocl_context *ctx, const struct fcnn_op_call *call);
/* The same without fusion: the call is enqueued now. */
int ocl_dispatch_now(struct ocl_context *ctx, const struct fcnn_op_call *call);
/* Runs one variant, preparing what it needs first (CLBlast's first-use compilation). */
int ocl_run_variant(struct ocl_context *ctx, const struct ocl_variant *variant,
                    const struct fcnn_op_call *call);

/* Builds the programs these variants use, several at a time (before they are timed). */
/* Builds the variant's programs if need be; one that does not build (and is not forced) is
 * disabled with a warning: *usable false, FCNN_OK. */
int ocl_variant_ready(struct ocl_context *ctx, const struct ocl_variant *variant, bool *usable);
bool ocl_variant_broken(const struct ocl_context *ctx, const struct ocl_variant *variant);
int ocl_prebuild_variants(struct ocl_context *ctx, const struct ocl_variant *const list[],
                          int count);

/* A variant's build options: "-cl-std=CL1.2 -DNAME=VALUE ...". */
void ocl_variant_options(const struct ocl_variant *variant, char *out, size_t size);
/* The value of one of its tunables; the caller names only tunables the row defines. */
int ocl_tunable(const struct ocl_variant *variant, const char *name);
/* The same for a tunable only some rows define: `fallback` where the row has none. */
int ocl_tunable_or(const struct ocl_variant *variant, const char *name, int fallback);
/* The kernel `name` of kernels/<file> built with the variant's options. */
int ocl_variant_kernel(struct ocl_context *ctx, const struct ocl_variant *variant,
                       const char *file, const char *name, struct ocl_kernel **out);

/* Whether every tensor of the call can be indexed with 32-bit ints, as the kernels do. */
bool ocl_call_fits_int32(const struct fcnn_op_call *call);
/* For variants with no constraint beyond 32-bit indexing. */
bool ocl_supports_any(const struct ocl_context *ctx, const struct ocl_variant *variant,
                      const struct fcnn_op_call *call);

/* --- our tiled matrix product (ocl_gemm.c, kernels/gemm.cl) --- */

/* C[m, n] = act(sum_k A[m, k] B[k, n] + bias[n] (+ C[m, n] when accumulate)); A addressed
 * by two strides (so a transposed A costs nothing), B by rows of ldb contiguous floats
 * (b_count floats readable from b_offset), C by two strides. Offsets in floats. */
struct ocl_gemm_args {
    cl_mem a, b, c;
    cl_ulong a_offset, b_offset, c_offset;
    int a_row_stride, a_col_stride, ldb, b_count, c_row_stride, c_col_stride;
    int m, n, k;
    const struct fcnn_tensor *bias; /* NULL: none */
    bool relu, accumulate;
};
int ocl_gemm(struct ocl_context *ctx, const struct ocl_variant *variant,
             const struct ocl_gemm_args *g);
/* dst[j][i] = src[i][j] for a rows x cols matrix, dst at offset 0. */
int ocl_transpose(struct ocl_context *ctx, const struct ocl_variant *variant, cl_mem src,
                  cl_ulong src_offset, int rows, int cols, cl_mem dst);

/* --- the ops' variants, defined in ocl_op_*.c --- */
typedef bool ocl_supports_fn(const struct ocl_context *, const struct ocl_variant *,
                             const struct fcnn_op_call *);
typedef int ocl_run_fn(struct ocl_context *, const struct ocl_variant *,
                       const struct fcnn_op_call *);

ocl_run_fn ocl_load_batch_gather;
ocl_run_fn ocl_augment_bilinear;
/* ocl_op_conv2d.c: im2col (or col2im) around a matrix product, and the float4 direct form */
ocl_supports_fn ocl_conv2d_supports, ocl_conv2d_fwd_clblast_supports,
    ocl_conv2d_fwd_direct_supports;
ocl_run_fn ocl_conv2d_fwd_im2col_gemm, ocl_conv2d_bwd_data_gemm_col2im,
    ocl_conv2d_bwd_filter_im2col_gemm, ocl_conv2d_fwd_im2col_tiled,
    ocl_conv2d_bwd_data_tiled_col2im, ocl_conv2d_bwd_filter_im2col_tiled,
    ocl_conv2d_fwd_direct;
/* ocl_op_conv2d_tiled.c, ocl_op_conv2d_filter.c: the register-tiled direct kernels */
ocl_supports_fn ocl_conv2d_fwd_tiled_supports, ocl_conv2d_bwd_data_tiled_supports,
    ocl_conv2d_bwd_filter_tiled_supports, ocl_conv2d_bwd_filter_c1_supports,
    ocl_conv2d_bwd_filter_winograd_supports, ocl_conv2d_bwd_filter_wino4_fused_supports;
ocl_run_fn ocl_conv2d_fwd_tiled, ocl_conv2d_bwd_data_tiled, ocl_conv2d_bwd_filter_tiled,
    ocl_conv2d_bwd_filter_c1, ocl_conv2d_bwd_filter_winograd, ocl_conv2d_bwd_filter_wino4_fused;
/* ocl_op_conv2d_winograd.c: Winograd F(2x2, 3x3) and F(4x4, 3x3), 3x3 windows at stride 1 */
ocl_supports_fn ocl_conv2d_fwd_winograd_supports, ocl_conv2d_bwd_data_winograd_supports,
    ocl_conv2d_pool_fwd_winograd_supports;
ocl_run_fn ocl_conv2d_fwd_winograd, ocl_conv2d_bwd_data_winograd, ocl_conv2d_pool_fwd_winograd;
/* ocl_op_conv2d_pool.c: the convolution with its max pooling, by direct loops */
ocl_supports_fn ocl_conv2d_pool_fwd_direct_supports;
ocl_run_fn ocl_conv2d_pool_fwd_direct;
ocl_supports_fn ocl_conv2d_pool_fwd_c1_supports;
ocl_run_fn ocl_conv2d_pool_fwd_c1;
/* The c1 form also storing the convolution's output in `full`, [N, 2HP, 2WP, K]: a
 * training pass's conv2d_fwd and maxpool_fwd fused (ocl_fuse.c). */
int ocl_conv2d_pool_fwd_c1_full(struct ocl_context *ctx, const struct ocl_variant *variant,
                                const struct fcnn_op_call *call, const struct fcnn_tensor *full);
/* ocl_op_conv2d_phases.c: the input gradient of strided convolutions, by phases of dx */
ocl_supports_fn ocl_conv2d_bwd_data_phases_supports;
ocl_run_fn ocl_conv2d_bwd_data_phases;
/* ocl_op_pool.c: average pooling over 16 channels per work-item */
ocl_supports_fn ocl_avgpool_bwd_scatter16_supports;
ocl_run_fn ocl_avgpool_fwd_vec16, ocl_avgpool_bwd_scatter16;
/* ocl_op_bias.c, ocl_op_pool.c, ocl_op_activation.c */
ocl_supports_fn ocl_bias_bwd_vec16_supports, ocl_bias_bwd_columns_supports,
    ocl_pool_vec16_supports,
    ocl_maxpool_bwd_scatter16_supports;
ocl_run_fn ocl_bias_bwd_partial_sums, ocl_bias_bwd_vec16, ocl_bias_bwd_columns,
    ocl_maxpool_fwd_window,
    ocl_maxpool_fwd_vec16, ocl_maxpool_bwd_gather, ocl_maxpool_bwd_scatter16,
    ocl_avgpool_fwd_window, ocl_avgpool_bwd_gather, ocl_global_avgpool_fwd_channels,
    ocl_global_avgpool_bwd_pixels,
    ocl_relu_bwd_mask, ocl_relu_bwd_vec16;
/* ocl_op_dense.c */
ocl_supports_fn ocl_dense_bwd_data_nt_supports, ocl_dense_bwd_data_turned_supports,
    ocl_dense_bwd_weights_outer_supports, ocl_dense_fwd_rows_supports,
    ocl_dense_bwd_data_rows_supports, ocl_dense_fwd_slabs_supports;
ocl_run_fn ocl_dense_bwd_data_nt, ocl_dense_fwd_gemm, ocl_dense_bwd_data_gemm, ocl_dense_bwd_weights_gemm,
    ocl_dense_fwd_tiled, ocl_dense_bwd_data_tiled, ocl_dense_bwd_data_turned,
    ocl_dense_bwd_weights_tiled, ocl_dense_bwd_weights_outer, ocl_dense_fwd_rows,
    ocl_dense_bwd_data_rows, ocl_dense_fwd_slabs;
/* ocl_op_loss.c, ocl_op_optim.c */
ocl_run_fn ocl_softmax_xent_rows, ocl_sgd_update_elementwise, ocl_momentum_update_elementwise,
    ocl_adam_update_elementwise, ocl_rmsprop_update_elementwise, ocl_adamw_update_elementwise;

/* ocl_op_activation.c (activation.cl, dropout.cl), ocl_op_batchnorm.c (batchnorm.cl) */
ocl_run_fn ocl_activation_fwd_vec4, ocl_activation_bwd_vec4, ocl_dropout_vec4,
    ocl_dropout_slices16,
    ocl_batchnorm_fwd_train_partial_sums, ocl_batchnorm_fwd_infer_apply,
    ocl_batchnorm_bwd_partial_sums, ocl_batchnorm_fwd_train_vec16, ocl_batchnorm_fwd_infer_vec16,
    ocl_batchnorm_bwd_vec16, ocl_batchnorm_fwd_train_columns, ocl_batchnorm_bwd_columns,
    ocl_batchnorm_fwd_train_pooled16, ocl_batchnorm_bwd_pooled16;
ocl_supports_fn ocl_batchnorm_vec16_supports, ocl_batchnorm_columns_supports,
    ocl_batchnorm_unpooled_supports, ocl_batchnorm_pooled16_supports;
/* The pooled16 form's passes with the dropout_fwd after the forward, or the dropout_bwd
 * before the backward, fused in (ocl_fuse.c); dropout NULL: the op alone. */
int ocl_batchnorm_pooled16_forward(struct ocl_context *ctx, const struct ocl_variant *variant,
                                   const struct fcnn_op_call *call,
                                   const struct fcnn_op_call *dropout);
int ocl_batchnorm_pooled16_backward(struct ocl_context *ctx, const struct ocl_variant *variant,
                                    const struct fcnn_op_call *call,
                                    const struct fcnn_op_call *dropout);

/* Shared by the conv and dense variants: y = act(y + b) in place over rows of channels
 * (b NULL: act(y)); the variant must build activation.cl. */
int ocl_bias_activation(struct ocl_context *ctx, const struct ocl_variant *variant,
                        const struct fcnn_tensor *y, const struct fcnn_tensor *b,
                        enum fcnn_activation act);
/* y = act(y) in place. */
int ocl_activation_in_place(struct ocl_context *ctx, const struct ocl_variant *variant,
                            const struct fcnn_tensor *y, enum fcnn_activation act);

#endif
