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

struct ocl_tunable {
    const char *name;
    int value;
};

struct ocl_variant {
    enum fcnn_op op;
    const char *name;
    int priority; /* the automatic choice: the highest that supports the call */
    const char *files[OCL_MAX_VARIANT_FILES];       /* kernel files used, NULL-terminated */
    struct ocl_tunable tunables[OCL_MAX_TUNABLES];  /* NULL name ends the list */
    bool (*supports)(const struct ocl_context *ctx, const struct fcnn_op_call *call);
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

/* The variant that would run this call: the forced one if it supports it, else the
 * highest-priority variant that does; NULL when none can. */
const struct ocl_variant *ocl_choose_variant(const struct ocl_context *ctx,
                                             const struct fcnn_op_call *call);
int ocl_dispatch(struct ocl_context *ctx, const struct fcnn_op_call *call);

/* Builds every program every variant uses (at open). */
int ocl_build_all_variants(struct ocl_context *ctx);

/* A variant's build options: "-cl-std=CL1.2 -DNAME=VALUE ...". */
void ocl_variant_options(const struct ocl_variant *variant, char *out, size_t size);
/* The value of one of its tunables; the caller names only tunables the row defines. */
int ocl_tunable(const struct ocl_variant *variant, const char *name);
/* The kernel `name` of kernels/<file> built with the variant's options. */
int ocl_variant_kernel(struct ocl_context *ctx, const struct ocl_variant *variant,
                       const char *file, const char *name, struct ocl_kernel **out);

/* Whether every tensor of the call can be indexed with 32-bit ints, as the kernels do. */
bool ocl_call_fits_int32(const struct fcnn_op_call *call);
/* For variants with no constraint beyond 32-bit indexing. */
bool ocl_supports_any(const struct ocl_context *ctx, const struct fcnn_op_call *call);

/* --- the ops' variants, defined in ocl_op_*.c --- */
int ocl_load_batch_gather(struct ocl_context *, const struct ocl_variant *,
                          const struct fcnn_op_call *);
int ocl_conv2d_fwd_im2col_gemm(struct ocl_context *, const struct ocl_variant *,
                               const struct fcnn_op_call *);
bool ocl_conv2d_fwd_direct_supports(const struct ocl_context *, const struct fcnn_op_call *);
int ocl_conv2d_fwd_direct(struct ocl_context *, const struct ocl_variant *,
                          const struct fcnn_op_call *);
int ocl_conv2d_bwd_data_gemm_col2im(struct ocl_context *, const struct ocl_variant *,
                                    const struct fcnn_op_call *);
int ocl_conv2d_bwd_filter_im2col_gemm(struct ocl_context *, const struct ocl_variant *,
                                      const struct fcnn_op_call *);
bool ocl_conv2d_supports(const struct ocl_context *, const struct fcnn_op_call *);
int ocl_bias_bwd_partial_sums(struct ocl_context *, const struct ocl_variant *,
                              const struct fcnn_op_call *);
int ocl_maxpool_fwd_window(struct ocl_context *, const struct ocl_variant *,
                           const struct fcnn_op_call *);
int ocl_maxpool_bwd_gather(struct ocl_context *, const struct ocl_variant *,
                           const struct fcnn_op_call *);
int ocl_relu_bwd_mask(struct ocl_context *, const struct ocl_variant *,
                      const struct fcnn_op_call *);
int ocl_dense_fwd_gemm(struct ocl_context *, const struct ocl_variant *,
                       const struct fcnn_op_call *);
int ocl_dense_bwd_data_gemm(struct ocl_context *, const struct ocl_variant *,
                            const struct fcnn_op_call *);
int ocl_dense_bwd_weights_gemm(struct ocl_context *, const struct ocl_variant *,
                               const struct fcnn_op_call *);
int ocl_softmax_xent_rows(struct ocl_context *, const struct ocl_variant *,
                          const struct fcnn_op_call *);
int ocl_sgd_update_elementwise(struct ocl_context *, const struct ocl_variant *,
                               const struct fcnn_op_call *);
int ocl_momentum_update_elementwise(struct ocl_context *, const struct ocl_variant *,
                                    const struct fcnn_op_call *);
int ocl_adam_update_elementwise(struct ocl_context *, const struct ocl_variant *,
                                const struct fcnn_op_call *);

/* Shared by the conv and dense variants: y = act(y + b) in place over rows of channels. */
int ocl_bias_activation(struct ocl_context *ctx, const struct ocl_variant *variant,
                        const struct fcnn_tensor *y, const struct fcnn_tensor *b,
                        enum fcnn_activation act);

#endif
