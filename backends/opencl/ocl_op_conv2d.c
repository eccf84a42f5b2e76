/* 2-D convolution, NHWC activations and HWIO kernels.
 *
 * The GEMM variants view the kernel as a [KH*KW*C, K] matrix and the input as a column
 * matrix with one row per output pixel (kernels/im2col.cl):
 *   forward      y  = cols(x) w             (NN), then bias + activation
 *   bwd data     dx = col2im(dy w^T)        (NT), col2im gathering into every dx element
 *   bwd filter   dw = cols(x)^T dy          (TN), summed over passes with beta = 1
 * The column matrix lives in a scratch buffer that is allocated once and grows only for a
 * larger shape. To bound it (an evaluation batch of 1000 would need 225 MB for this
 * model's second layer), a batch is processed in passes of as many samples as fit
 * ctx->column_budget (OCL_DEFAULT_COLUMN_BUDGET, 8 MiB).
 *
 * Each product runs through CLBlast (the *_clblast variants) or our tiled kernel (the
 * *_tiled ones, ocl_gemm.c). The direct variant (kernels/conv2d.cl) computes the forward
 * without columns; ocl_op_conv2d_tiled.c and ocl_op_conv2d_filter.c have the register-tiled
 * direct kernels. */
#include <config.h>

#include <limits.h>
#include <stdlib.h>

#include "ocl_conv.h"

static size_t sample_column_bytes(const struct conv_shape *s)
{
    return s->pixels * s->patch * sizeof(float);
}

/* The budget, unless $FCNN_OPENCL_COLUMN_BUDGET (bytes) cuts it: the tests set it so that
 * their small batches take several passes, the path a large evaluation batch takes. */
static size_t column_budget(const struct ocl_context *ctx)
{
    static long long forced = -1;
    if (forced < 0) {
        const char *text = getenv("FCNN_OPENCL_COLUMN_BUDGET");
        char *end;
        long long value = text && *text ? strtoll(text, &end, 10) : 0;
        forced = text && *text && !*end && value > 0 ? value : 0;
    }
    return forced > 0 ? (size_t)forced : ctx->column_budget;
}

/* As many samples as the budget holds, at least one. */
static int samples_per_pass(const struct ocl_context *ctx, const struct conv_shape *s)
{
    size_t fit = column_budget(ctx) / sample_column_bytes(s);
    if (fit < 1)
        fit = 1;
    return fit < (size_t)s->n ? (int)fit : s->n;
}

bool ocl_conv2d_supports(const struct ocl_context *ctx, const struct ocl_variant *variant,
                         const struct fcnn_op_call *call)
{
    (void)variant;
    if (!ocl_call_fits_int32(call))
        return false;
    struct conv_shape s = conv_call_shape(call);
    /* One pass holds at least one sample's columns, within 32-bit indexing and within
     * the largest buffer the device allocates. */
    size_t pass_bytes = (size_t)samples_per_pass(ctx, &s) * sample_column_bytes(&s);
    return pass_bytes / sizeof(float) <= (size_t)INT_MAX &&
           pass_bytes <= ctx->identity.max_alloc;
}

/* The CLBlast forward adds bias and activation in a separate pass that needs a bias. */
bool ocl_conv2d_fwd_clblast_supports(const struct ocl_context *ctx,
                                     const struct ocl_variant *variant,
                                     const struct fcnn_op_call *call)
{
    return (call->t[2] || call->p.conv.act == FCNN_ACT_NONE) &&
           ocl_conv2d_supports(ctx, variant, call);
}

static int get_columns(struct ocl_context *ctx, const struct conv_shape *s, cl_mem *cols)
{
    return ocl_scratch_get(ctx, OCL_SCRATCH_COLUMNS,
                           (size_t)samples_per_pass(ctx, s) * sample_column_bytes(s), cols);
}

/* Columns of samples [first, first + samples) of x. */
static int im2col(struct ocl_context *ctx, const struct ocl_variant *variant,
                  const struct conv_shape *s, const struct fcnn_tensor *x, int first,
                  int samples, cl_mem cols)
{
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "im2col.cl", "im2col_nhwc", &kernel));
    cl_mem x_mem = ocl_mem(x);
    cl_ulong x_offset = ocl_elem_offset(x) + (cl_ulong)first * s->h * s->w * s->c;
    cl_ulong cols_offset = 0;
    cl_int H = s->h, W = s->w, C = s->c, KW = s->kw, SH = s->sh, SW = s->sw, PT = s->pt;
    cl_int PL = s->pl;
    cl_int HO = s->ho, WO = s->wo, rows = (cl_int)((size_t)samples * s->pixels);
    /* One work-item per (output pixel, tap): each copies the tap's C channels. */
    size_t global[2] = { (size_t)rows, (size_t)s->kh * (size_t)s->kw };
    size_t local[2] = { (size_t)ocl_tunable(variant, "WG_SIZE"), 1 };
    return ocl_launch(ctx, kernel, 2, global, local,
                      OCL_ARGS(OCL_ARG(x_mem), OCL_ARG(x_offset), OCL_ARG(cols),
                               OCL_ARG(cols_offset), OCL_ARG(H), OCL_ARG(W), OCL_ARG(C),
                               OCL_ARG(KW), OCL_ARG(SH), OCL_ARG(SW), OCL_ARG(PT), OCL_ARG(PL),
                               OCL_ARG(HO), OCL_ARG(WO), OCL_ARG(rows)));
}

/* dx of samples [first, first + samples) from their columns. */
static int col2im(struct ocl_context *ctx, const struct ocl_variant *variant,
                  const struct conv_shape *s, cl_mem cols, const struct fcnn_tensor *dx,
                  int first, int samples)
{
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "im2col.cl", "col2im_nhwc", &kernel));
    cl_mem dx_mem = ocl_mem(dx);
    cl_ulong dx_offset = ocl_elem_offset(dx) + (cl_ulong)first * s->h * s->w * s->c;
    cl_ulong cols_offset = 0;
    cl_int H = s->h, W = s->w, C = s->c, KH = s->kh, KW = s->kw, SH = s->sh, SW = s->sw;
    cl_int PT = s->pt, PL = s->pl, HO = s->ho, WO = s->wo;
    cl_int pixels = samples * H * W; /* one work-item each, for all C channels */
    return ocl_launch_1d(ctx, kernel, (size_t)pixels, (size_t)ocl_tunable(variant, "WG_SIZE"),
                         OCL_ARGS(OCL_ARG(cols), OCL_ARG(cols_offset), OCL_ARG(dx_mem),
                                  OCL_ARG(dx_offset), OCL_ARG(H), OCL_ARG(W), OCL_ARG(C),
                                  OCL_ARG(KH), OCL_ARG(KW), OCL_ARG(SH), OCL_ARG(SW), OCL_ARG(PT),
                                  OCL_ARG(PL), OCL_ARG(HO), OCL_ARG(WO), OCL_ARG(pixels)));
}

int ocl_conv2d_fwd_im2col_gemm(struct ocl_context *ctx, const struct ocl_variant *variant,
                               const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0], *w = call->t[1], *b = call->t[2], *y = call->t[3];
    struct conv_shape s = conv_call_shape(call);
    int per_pass = samples_per_pass(ctx, &s);
    cl_mem cols;
    OCL_TRY(get_columns(ctx, &s, &cols));
    size_t K = (size_t)s.k;
    for (int first = 0; first < s.n; first += per_pass) {
        int samples = s.n - first < per_pass ? s.n - first : per_pass;
        size_t rows = (size_t)samples * s.pixels;
        OCL_TRY(im2col(ctx, variant, &s, x, first, samples, cols));
        OCL_TRY(ocl_sgemm(ctx, false, false, rows, K, s.patch, 1.0f, cols, 0, s.patch,
                          ocl_mem(w), ocl_elem_offset(w), K, 0.0f, ocl_mem(y),
                          ocl_elem_offset(y) + (size_t)first * s.pixels * K, K));
    }
    if (!b) /* use_bias=False: supports() allowed this only without an activation */
        return FCNN_OK;
    return ocl_bias_activation(ctx, variant, y, b, call->p.conv.act);
}

int ocl_conv2d_bwd_data_gemm_col2im(struct ocl_context *ctx, const struct ocl_variant *variant,
                                    const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *dy = call->t[0], *w = call->t[1], *dx = call->t[2];
    struct conv_shape s = conv_call_shape(call);
    int per_pass = samples_per_pass(ctx, &s);
    cl_mem cols;
    OCL_TRY(get_columns(ctx, &s, &cols));
    size_t K = (size_t)s.k;
    for (int first = 0; first < s.n; first += per_pass) {
        int samples = s.n - first < per_pass ? s.n - first : per_pass;
        size_t rows = (size_t)samples * s.pixels;
        OCL_TRY(ocl_sgemm(ctx, false, true, rows, s.patch, K, 1.0f, ocl_mem(dy),
                          ocl_elem_offset(dy) + (size_t)first * s.pixels * K, K, ocl_mem(w),
                          ocl_elem_offset(w), K, 0.0f, cols, 0, s.patch));
        OCL_TRY(col2im(ctx, variant, &s, cols, dx, first, samples));
    }
    return FCNN_OK;
}

int ocl_conv2d_bwd_filter_im2col_gemm(struct ocl_context *ctx,
                                      const struct ocl_variant *variant,
                                      const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0], *dy = call->t[1], *dw = call->t[2];
    struct conv_shape s = conv_call_shape(call);
    int per_pass = samples_per_pass(ctx, &s);
    cl_mem cols;
    OCL_TRY(get_columns(ctx, &s, &cols));
    size_t K = (size_t)s.k;
    for (int first = 0; first < s.n; first += per_pass) {
        int samples = s.n - first < per_pass ? s.n - first : per_pass;
        size_t rows = (size_t)samples * s.pixels;
        OCL_TRY(im2col(ctx, variant, &s, x, first, samples, cols));
        /* The first pass overwrites dw (beta 0: its old contents are never read), later
         * passes add to it. */
        OCL_TRY(ocl_sgemm(ctx, true, false, s.patch, K, rows, 1.0f, cols, 0, s.patch,
                          ocl_mem(dy), ocl_elem_offset(dy) + (size_t)first * s.pixels * K, K,
                          first ? 1.0f : 0.0f, ocl_mem(dw), ocl_elem_offset(dw), K));
    }
    return FCNN_OK;
}

/* The same three products with our tiled kernel (ocl_gemm.c) instead of CLBlast; the
 * forward fuses bias and activation into the product's epilogue. */

int ocl_conv2d_fwd_im2col_tiled(struct ocl_context *ctx, const struct ocl_variant *variant,
                                const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0], *w = call->t[1], *b = call->t[2], *y = call->t[3];
    struct conv_shape s = conv_call_shape(call);
    int per_pass = samples_per_pass(ctx, &s);
    cl_mem cols;
    OCL_TRY(get_columns(ctx, &s, &cols));
    for (int first = 0; first < s.n; first += per_pass) {
        int samples = s.n - first < per_pass ? s.n - first : per_pass;
        int rows = (int)((size_t)samples * s.pixels), patch = (int)s.patch;
        OCL_TRY(im2col(ctx, variant, &s, x, first, samples, cols));
        struct ocl_gemm_args g = {
            .a = cols, .a_row_stride = patch, .a_col_stride = 1,
            .b = ocl_mem(w), .b_offset = ocl_elem_offset(w), .ldb = s.k, .b_count = patch * s.k,
            .c = ocl_mem(y), .c_offset = ocl_elem_offset(y) + (size_t)first * s.pixels * s.k,
            .c_row_stride = s.k, .c_col_stride = 1, .m = rows, .n = s.k, .k = patch,
            .bias = b, .relu = call->p.conv.act == FCNN_ACT_RELU,
        };
        OCL_TRY(ocl_gemm(ctx, variant, &g));
    }
    return FCNN_OK;
}

int ocl_conv2d_bwd_data_tiled_col2im(struct ocl_context *ctx, const struct ocl_variant *variant,
                                     const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *dy = call->t[0], *w = call->t[1], *dx = call->t[2];
    struct conv_shape s = conv_call_shape(call);
    int per_pass = samples_per_pass(ctx, &s), patch = (int)s.patch;
    cl_mem cols, wt;
    OCL_TRY(get_columns(ctx, &s, &cols));
    /* w^T [K][patch]: the product's B needs contiguous rows. */
    OCL_TRY(ocl_scratch_get(ctx, OCL_SCRATCH_WEIGHTS, fcnn_tensor_bytes(w), &wt));
    OCL_TRY(ocl_transpose(ctx, variant, ocl_mem(w), ocl_elem_offset(w), patch, s.k, wt));
    for (int first = 0; first < s.n; first += per_pass) {
        int samples = s.n - first < per_pass ? s.n - first : per_pass;
        int rows = (int)((size_t)samples * s.pixels);
        struct ocl_gemm_args g = {
            .a = ocl_mem(dy), .a_offset = ocl_elem_offset(dy) + (size_t)first * s.pixels * s.k,
            .a_row_stride = s.k, .a_col_stride = 1,
            .b = wt, .ldb = patch, .b_count = s.k * patch,
            .c = cols, .c_row_stride = patch, .c_col_stride = 1,
            .m = rows, .n = patch, .k = s.k,
        };
        OCL_TRY(ocl_gemm(ctx, variant, &g));
        OCL_TRY(col2im(ctx, variant, &s, cols, dx, first, samples));
    }
    return FCNN_OK;
}

int ocl_conv2d_bwd_filter_im2col_tiled(struct ocl_context *ctx,
                                       const struct ocl_variant *variant,
                                       const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0], *dy = call->t[1], *dw = call->t[2];
    struct conv_shape s = conv_call_shape(call);
    int per_pass = samples_per_pass(ctx, &s), patch = (int)s.patch;
    cl_mem cols;
    OCL_TRY(get_columns(ctx, &s, &cols));
    for (int first = 0; first < s.n; first += per_pass) {
        int samples = s.n - first < per_pass ? s.n - first : per_pass;
        int rows = (int)((size_t)samples * s.pixels);
        OCL_TRY(im2col(ctx, variant, &s, x, first, samples, cols));
        /* A = cols^T through swapped strides; later passes add to dw. */
        struct ocl_gemm_args g = {
            .a = cols, .a_row_stride = 1, .a_col_stride = patch,
            .b = ocl_mem(dy), .b_offset = ocl_elem_offset(dy) + (size_t)first * s.pixels * s.k,
            .ldb = s.k, .b_count = rows * s.k,
            .c = ocl_mem(dw), .c_offset = ocl_elem_offset(dw), .c_row_stride = s.k,
            .c_col_stride = 1, .m = patch, .n = s.k, .k = rows, .accumulate = first > 0,
        };
        OCL_TRY(ocl_gemm(ctx, variant, &g));
    }
    return FCNN_OK;
}

bool ocl_conv2d_fwd_direct_supports(const struct ocl_context *ctx,
                                    const struct ocl_variant *variant,
                                    const struct fcnn_op_call *call)
{
    (void)ctx;
    (void)variant;
    /* Four output channels per work-item, as one float4. */
    return ocl_call_fits_int32(call) && call->t[1]->shape[3] % 4 == 0;
}

int ocl_conv2d_fwd_direct(struct ocl_context *ctx, const struct ocl_variant *variant,
                          const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0], *w = call->t[1], *b = call->t[2], *y = call->t[3];
    struct conv_shape s = conv_call_shape(call);
    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "conv2d.cl", "conv2d_fwd_direct", &kernel));
    cl_mem x_mem = ocl_mem(x), w_mem = ocl_mem(w), y_mem = ocl_mem(y);
    cl_mem b_mem = b ? ocl_mem(b) : x_mem; /* never read without a bias */
    cl_ulong x_offset = ocl_elem_offset(x), w_offset = ocl_elem_offset(w);
    cl_ulong b_offset = b ? ocl_elem_offset(b) : 0, y_offset = ocl_elem_offset(y);
    cl_int H = s.h, W = s.w, C = s.c, KH = s.kh, KW = s.kw, K = s.k, SH = s.sh, SW = s.sw;
    cl_int PT = s.pt, PL = s.pl, HO = s.ho, WO = s.wo, use_bias = b != NULL;
    cl_int relu = call->p.conv.act == FCNN_ACT_RELU;
    cl_int count = (cl_int)((size_t)s.n * s.pixels * (size_t)(s.k / 4));
    return ocl_launch_1d(ctx, kernel, (size_t)count, (size_t)ocl_tunable(variant, "WG_SIZE"),
                         OCL_ARGS(OCL_ARG(x_mem), OCL_ARG(x_offset), OCL_ARG(w_mem),
                                  OCL_ARG(w_offset), OCL_ARG(b_mem), OCL_ARG(b_offset),
                                  OCL_ARG(use_bias), OCL_ARG(y_mem), OCL_ARG(y_offset),
                                  OCL_ARG(H), OCL_ARG(W), OCL_ARG(C), OCL_ARG(KH), OCL_ARG(KW),
                                  OCL_ARG(K), OCL_ARG(SH), OCL_ARG(SW), OCL_ARG(PT), OCL_ARG(PL),
                                  OCL_ARG(HO), OCL_ARG(WO),
                                  OCL_ARG(relu), OCL_ARG(count)));
}
