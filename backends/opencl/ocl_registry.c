/* The kernel registry: the table of every op's variants, the automatic choice among
 * them, and forcing one by name (options->kernels, $FCNN_KERNELS, force_variant). */
#include <config.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "ocl_registry.h"

/* Every kernel is launched in 1-D work-groups of WG_SIZE (its reqd_work_group_size):
 * 64 keeps enough groups for every core of a CPU and is a whole number of warps or
 * wavefronts on GPUs. */
#define WG(n) { { "WG_SIZE", n } }

/* Per op, the variants in the order listings show them. The priorities only matter
 * between variants of one op. */
static const struct ocl_variant variants[] = {
    { FCNN_OP_LOAD_BATCH, "gather", 0, { "data.cl" }, WG(64), ocl_supports_any,
      ocl_load_batch_gather },

    /* im2col (NHWC, our kernel) into a column matrix, then one CLBlast SGEMM. */
    { FCNN_OP_CONV2D_FWD, "im2col_clblast", 10, { "im2col.cl", "activation.cl" }, WG(64),
      ocl_conv2d_supports, ocl_conv2d_fwd_im2col_gemm },
    /* Direct loops, four output channels per work-item: a check on the GEMM path that
     * shares none of its code, and the seed of the direct kernels to come (issue 6). */
    { FCNN_OP_CONV2D_FWD, "direct", 0, { "conv2d.cl" }, WG(64),
      ocl_conv2d_fwd_direct_supports, ocl_conv2d_fwd_direct },

    /* dy w^T into a column matrix by SGEMM, then our col2im gathers it into dx. */
    { FCNN_OP_CONV2D_BWD_DATA, "clblast_col2im", 0, { "im2col.cl" }, WG(64),
      ocl_conv2d_supports, ocl_conv2d_bwd_data_gemm_col2im },
    { FCNN_OP_CONV2D_BWD_FILTER, "im2col_clblast", 0, { "im2col.cl" }, WG(64),
      ocl_conv2d_supports, ocl_conv2d_bwd_filter_im2col_gemm },

    { FCNN_OP_BIAS_BWD, "partial_sums", 0, { "bias.cl" }, WG(64), ocl_supports_any,
      ocl_bias_bwd_partial_sums },
    { FCNN_OP_MAXPOOL_FWD, "window", 0, { "pool.cl" }, WG(64), ocl_supports_any,
      ocl_maxpool_fwd_window },
    { FCNN_OP_MAXPOOL_BWD, "gather", 0, { "pool.cl" }, WG(64), ocl_supports_any,
      ocl_maxpool_bwd_gather },
    { FCNN_OP_RELU_BWD, "mask", 0, { "activation.cl" }, WG(64), ocl_supports_any,
      ocl_relu_bwd_mask },

    { FCNN_OP_DENSE_FWD, "clblast", 0, { "activation.cl" }, WG(64), ocl_supports_any,
      ocl_dense_fwd_gemm },
    { FCNN_OP_DENSE_BWD_DATA, "clblast", 0, { NULL }, { { NULL, 0 } }, ocl_supports_any,
      ocl_dense_bwd_data_gemm },
    { FCNN_OP_DENSE_BWD_WEIGHTS, "clblast", 0, { NULL }, { { NULL, 0 } }, ocl_supports_any,
      ocl_dense_bwd_weights_gemm },

    { FCNN_OP_SOFTMAX_XENT, "rows", 0, { "loss.cl" }, WG(64), ocl_supports_any,
      ocl_softmax_xent_rows },
    { FCNN_OP_SGD_UPDATE, "elementwise", 0, { "optim.cl" }, WG(64), ocl_supports_any,
      ocl_sgd_update_elementwise },
    { FCNN_OP_MOMENTUM_UPDATE, "elementwise", 0, { "optim.cl" }, WG(64), ocl_supports_any,
      ocl_momentum_update_elementwise },
    { FCNN_OP_ADAM_UPDATE, "elementwise", 0, { "optim.cl" }, WG(64), ocl_supports_any,
      ocl_adam_update_elementwise },
};

#define VARIANT_COUNT ((int)(sizeof variants / sizeof variants[0]))

int ocl_variant_count(enum fcnn_op op)
{
    int n = 0;
    for (int i = 0; i < VARIANT_COUNT; i++)
        n += variants[i].op == op;
    return n;
}

const struct ocl_variant *ocl_variant_at(enum fcnn_op op, int index)
{
    for (int i = 0; i < VARIANT_COUNT; i++)
        if (variants[i].op == op && index-- == 0)
            return &variants[i];
    return NULL;
}

const struct ocl_variant *ocl_variant_find(enum fcnn_op op, const char *name)
{
    for (int i = 0; i < VARIANT_COUNT; i++)
        if (variants[i].op == op && strcmp(variants[i].name, name) == 0)
            return &variants[i];
    return NULL;
}

void ocl_variant_options(const struct ocl_variant *variant, char *out, size_t size)
{
    /* OpenCL C 1.2, and no fast-math: the results must match the reference backend. */
    int used = snprintf(out, size, "-cl-std=CL1.2");
    for (int i = 0; i < OCL_MAX_TUNABLES && variant->tunables[i].name; i++)
        if (used >= 0 && (size_t)used < size)
            used += snprintf(out + used, size - (size_t)used, " -D%s=%d",
                             variant->tunables[i].name, variant->tunables[i].value);
}

int ocl_tunable(const struct ocl_variant *variant, const char *name)
{
    for (int i = 0; i < OCL_MAX_TUNABLES && variant->tunables[i].name; i++)
        if (strcmp(variant->tunables[i].name, name) == 0)
            return variant->tunables[i].value;
    return 0; /* a programming error: the row lacks a tunable its launch reads */
}

int ocl_variant_kernel(struct ocl_context *ctx, const struct ocl_variant *variant,
                       const char *file, const char *name, struct ocl_kernel **out)
{
    char options[256];
    ocl_variant_options(variant, options, sizeof options);
    return ocl_kernel_get(ctx, file, options, name, out);
}

static int build_variant(struct ocl_context *ctx, const struct ocl_variant *variant)
{
    char options[256];
    ocl_variant_options(variant, options, sizeof options);
    for (int f = 0; f < OCL_MAX_VARIANT_FILES && variant->files[f]; f++) {
        struct ocl_program *program;
        OCL_TRY(ocl_program_get(ctx, variant->files[f], options, &program));
    }
    return FCNN_OK;
}

int ocl_build_all_variants(struct ocl_context *ctx)
{
    for (int i = 0; i < VARIANT_COUNT; i++)
        OCL_TRY(build_variant(ctx, &variants[i]));
    return FCNN_OK;
}

static void list_variants(enum fcnn_op op, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < ocl_variant_count(op) && used < size; i++) {
        int n = snprintf(out + used, size - used, "%s%s", i ? ", " : "",
                         ocl_variant_at(op, i)->name);
        used += n > 0 ? (size_t)n : 0;
    }
}

int ocl_force_variant(struct ocl_context *ctx, enum fcnn_op op, const char *name)
{
    if ((unsigned)op >= FCNN_OP_COUNT)
        return fcnn_error(FCNN_ERR_INVALID, "unknown op %d", (int)op);
    if (!name) {
        ctx->forced[op] = NULL;
        return FCNN_OK;
    }
    const struct ocl_variant *variant = ocl_variant_find(op, name);
    if (!variant) {
        char names[256];
        list_variants(op, names, sizeof names);
        return fcnn_error(FCNN_ERR_INVALID, "%s has no kernel variant '%s' (variants: %s)",
                          fcnn_op_name(op), name, names);
    }
    OCL_TRY(build_variant(ctx, variant));
    ctx->forced[op] = variant;
    return FCNN_OK;
}

int ocl_force_variants(struct ocl_context *ctx, const char *spec)
{
    char copy[1024];
    if (snprintf(copy, sizeof copy, "%s", spec) >= (int)sizeof copy)
        return fcnn_error(FCNN_ERR_INVALID, "kernel variant list is too long");
    char *save = NULL;
    for (char *item = strtok_r(copy, ", ", &save); item; item = strtok_r(NULL, ", ", &save)) {
        char *eq = strchr(item, '=');
        if (!eq || eq == item || !eq[1])
            return fcnn_error(FCNN_ERR_INVALID,
                              "kernel variant '%s' is not of the form OP=VARIANT", item);
        *eq = '\0';
        int op = fcnn_op_from_name(item);
        if (op < 0) {
            char ops[512] = "";
            for (int o = 0; o < FCNN_OP_COUNT; o++)
                snprintf(ops + strlen(ops), sizeof ops - strlen(ops), "%s%s", o ? ", " : "",
                         fcnn_op_name(o));
            return fcnn_error(FCNN_ERR_INVALID, "kernel variant for unknown op '%s' (ops: %s)",
                              item, ops);
        }
        OCL_TRY(ocl_force_variant(ctx, op, eq + 1));
    }
    return FCNN_OK;
}

const struct ocl_variant *ocl_choose_variant(const struct ocl_context *ctx,
                                             const struct fcnn_op_call *call)
{
    const struct ocl_variant *forced = ctx->forced[call->op];
    if (forced)
        return forced->supports(ctx, call) ? forced : NULL;
    const struct ocl_variant *best = NULL;
    for (int i = 0; i < VARIANT_COUNT; i++) {
        const struct ocl_variant *v = &variants[i];
        if (v->op == call->op && (!best || v->priority > best->priority) && v->supports(ctx, call))
            best = v;
    }
    return best;
}

int ocl_dispatch(struct ocl_context *ctx, const struct fcnn_op_call *call)
{
    const struct ocl_variant *variant = ocl_choose_variant(ctx, call);
    const struct ocl_variant *forced = ctx->forced[call->op];
    if (!variant && forced)
        return fcnn_error(FCNN_ERR_UNSUPPORTED, "opencl: the forced %s variant '%s' does not "
                          "support this call", fcnn_op_name(call->op), forced->name);
    if (!variant)
        return fcnn_error(FCNN_ERR_UNSUPPORTED, "opencl: no %s variant supports this call",
                          fcnn_op_name(call->op));
    return variant->run(ctx, variant, call);
}

bool ocl_call_fits_int32(const struct fcnn_op_call *call)
{
    for (int i = 0; i < FCNN_OP_MAX_TENSORS; i++)
        if (call->t[i] && fcnn_tensor_count(call->t[i]) > (size_t)INT_MAX)
            return false;
    return true;
}

bool ocl_supports_any(const struct ocl_context *ctx, const struct fcnn_op_call *call)
{
    (void)ctx;
    return ocl_call_fits_int32(call);
}
