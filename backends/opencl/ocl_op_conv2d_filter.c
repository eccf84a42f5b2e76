/* The convolution's weight gradient, register-tiled with im2col folded into the loads
 * (kernels/conv2d_filter.cl): chunks of samples each sum into a partial dw, which a second
 * kernel adds up in chunk order. The variant rows choose the tile, CB input channels times
 * 16*KV output channels per work-item; the c1 variant is the first layer's case (one input
 * channel, 3x3), all nine taps per work-item over chunks of output rows; the Winograd
 * forms are described below. */
#include <config.h>

#include <limits.h>
#include <string.h>

#include "ocl_conv.h"

/* Work-items wanted in flight: a few per core of a CPU, and few enough chunks that the
 * partial sums stay small next to dw. */
#define FILTER_TARGET_ITEMS 256

bool ocl_conv2d_bwd_filter_tiled_supports(const struct ocl_context *ctx,
                                          const struct ocl_variant *variant,
                                          const struct fcnn_op_call *call)
{
    (void)ctx;
    struct conv_shape s = conv_call_shape(call);
    return ocl_call_fits_int32(call) && s.c % ocl_tunable(variant, "CB") == 0 &&
           s.k % (16 * ocl_tunable(variant, "KV")) == 0;
}

int ocl_conv2d_bwd_filter_tiled(struct ocl_context *ctx, const struct ocl_variant *variant,
                                const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0], *dy = call->t[1], *dw = call->t[2];
    struct conv_shape s = conv_call_shape(call);
    cl_int cblocks = s.c / ocl_tunable(variant, "CB");
    cl_int kblocks = s.k / (16 * ocl_tunable(variant, "KV"));
    cl_int pairs = s.kh * s.kw * cblocks * kblocks;
    int chunks = (FILTER_TARGET_ITEMS + pairs - 1) / pairs;
    if (chunks > s.n)
        chunks = s.n;
    cl_int chunk_samples = (s.n + chunks - 1) / chunks;
    chunks = (s.n + chunk_samples - 1) / chunk_samples; /* no empty chunk */
    cl_int elems = (cl_int)fcnn_tensor_count(dw), count = pairs * chunks;

    struct ocl_kernel *kernel;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "conv2d_filter.cl", "conv2d_filter_tiled", &kernel));
    cl_mem x_mem = ocl_mem(x), dy_mem = ocl_mem(dy), out = ocl_mem(dw);
    cl_ulong x_offset = ocl_elem_offset(x), dy_offset = ocl_elem_offset(dy);
    cl_ulong out_offset = ocl_elem_offset(dw);
    if (chunks > 1) { /* partial sums first */
        OCL_TRY(ocl_scratch_get(ctx, OCL_SCRATCH_PARTIALS, (size_t)chunks * elems * sizeof(float),
                                &out));
        out_offset = 0;
    }
    cl_int N = s.n, H = s.h, W = s.w, C = s.c, KW = s.kw, K = s.k, SH = s.sh, SW = s.sw;
    cl_int PT = s.pt, PL = s.pl, HO = s.ho, WO = s.wo;
    OCL_TRY(ocl_launch_1d(ctx, kernel, (size_t)count, (size_t)ocl_tunable(variant, "WG_SIZE"),
                          OCL_ARGS(OCL_ARG(x_mem), OCL_ARG(x_offset), OCL_ARG(dy_mem),
                                   OCL_ARG(dy_offset), OCL_ARG(out), OCL_ARG(out_offset),
                                   OCL_ARG(N), OCL_ARG(H), OCL_ARG(W), OCL_ARG(C), OCL_ARG(KW),
                                   OCL_ARG(K), OCL_ARG(SH), OCL_ARG(SW), OCL_ARG(PT), OCL_ARG(PL),
                                   OCL_ARG(HO), OCL_ARG(WO), OCL_ARG(cblocks), OCL_ARG(kblocks),
                                   OCL_ARG(pairs), OCL_ARG(chunk_samples), OCL_ARG(elems),
                                   OCL_ARG(count))));
    if (chunks == 1)
        return FCNN_OK;

    struct ocl_kernel *reduce;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "conv2d_filter.cl", "conv2d_filter_reduce", &reduce));
    cl_mem dw_mem = ocl_mem(dw);
    cl_ulong dw_offset = ocl_elem_offset(dw);
    cl_int chunk_count = chunks;
    return ocl_launch_1d(ctx, reduce, (size_t)elems, OCL_HELPER_WG_SIZE,
                         OCL_ARGS(OCL_ARG(out), OCL_ARG(dw_mem), OCL_ARG(dw_offset),
                                  OCL_ARG(chunk_count), OCL_ARG(elems)));
}

/* The first layer's case (kernels/conv2d_filter.cl: conv2d_filter_c1_3x3). */
bool ocl_conv2d_bwd_filter_c1_supports(const struct ocl_context *ctx,
                                       const struct ocl_variant *variant,
                                       const struct fcnn_op_call *call)
{
    (void)ctx;
    struct conv_shape s = conv_call_shape(call);
    return ocl_call_fits_int32(call) && s.c == 1 && s.kh == 3 && s.kw == 3 && s.sh == 1 &&
           s.sw == 1 && s.k % (16 * ocl_tunable(variant, "KV")) == 0;
}

int ocl_conv2d_bwd_filter_c1(struct ocl_context *ctx, const struct ocl_variant *variant,
                             const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0], *dy = call->t[1], *dw = call->t[2];
    struct conv_shape s = conv_call_shape(call);
    cl_int kblocks = s.k / (16 * ocl_tunable(variant, "KV"));
    cl_int rows = s.n * s.ho;
    int items = (FILTER_TARGET_ITEMS / 2 + kblocks - 1) / kblocks;
    if (items > rows)
        items = rows;
    cl_int rows_per_item = (rows + items - 1) / items;
    items = (rows + rows_per_item - 1) / rows_per_item;
    cl_int count = items * kblocks, elems = (cl_int)fcnn_tensor_count(dw);

    struct ocl_kernel *kernel, *reduce;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "conv2d_filter.cl", "conv2d_filter_c1_3x3", &kernel));
    OCL_TRY(ocl_variant_kernel(ctx, variant, "conv2d_filter.cl", "conv2d_filter_reduce", &reduce));
    cl_mem partial;
    OCL_TRY(ocl_scratch_get(ctx, OCL_SCRATCH_PARTIALS, (size_t)items * elems * sizeof(float),
                            &partial));
    cl_mem x_mem = ocl_mem(x), dy_mem = ocl_mem(dy), dw_mem = ocl_mem(dw);
    cl_ulong x_offset = ocl_elem_offset(x), dy_offset = ocl_elem_offset(dy), zero = 0;
    cl_ulong dw_offset = ocl_elem_offset(dw);
    cl_int H = s.h, W = s.w, K = s.k, PT = s.pt, PL = s.pl, HO = s.ho, WO = s.wo;
    cl_int chunks = items;
    OCL_TRY(ocl_launch_1d(ctx, kernel, (size_t)count, (size_t)ocl_tunable(variant, "WG_SIZE"),
                          OCL_ARGS(OCL_ARG(x_mem), OCL_ARG(x_offset), OCL_ARG(dy_mem),
                                   OCL_ARG(dy_offset), OCL_ARG(partial), OCL_ARG(zero),
                                   OCL_ARG(H), OCL_ARG(W), OCL_ARG(K), OCL_ARG(PT), OCL_ARG(PL),
                                   OCL_ARG(HO), OCL_ARG(WO), OCL_ARG(rows), OCL_ARG(rows_per_item),
                                   OCL_ARG(kblocks), OCL_ARG(count))));
    return ocl_launch_1d(ctx, reduce, (size_t)elems, OCL_HELPER_WG_SIZE,
                         OCL_ARGS(OCL_ARG(partial), OCL_ARG(dw_mem), OCL_ARG(dw_offset),
                                  OCL_ARG(chunks), OCL_ARG(elems)));
}

/* Winograd weight gradients for 3x3 windows at stride 1 and any padding, in two forms that
 * the row's files choose: F(3x3, 2x2) (kernels/conv2d_filter.cl: conv2d_filter_wino_*) and
 * F(3x3, 4x4) (kernels/conv2d_filter_winograd4.cl, named after conv2d_filter.cl), 16 or 36
 * points per tile of dy. The samples go in groups whose transforms, V of x into the columns
 * scratch and U of dy into the weights scratch (points floats per tile and channel: four
 * times x and dy for F(2x2), 2.25 times for F(4x4)), fit in about GROUP_KB kilobytes, so
 * that the GEMM stage (conv2d_filter.cl's, for both forms) reads them from cache rather than
 * memory; each group's GEMM adds its products into M (the partials scratch, points*C*K
 * floats), and the output transform turns M into dw. */
struct wino_form {
    int tile, points;           /* the tile of dy, and alpha^2 */
    const char *file;           /* the transforms' kernels */
    const char *transform, *out;
    int out_lanes;              /* (c, k) pairs per work-item of the output transform */
    int min_tiles;              /* the fewest tiles of dy in a call (see wino_f4) */
};

static const struct wino_form wino_f2 = { 2, 16, "conv2d_filter.cl",
                                          "conv2d_filter_wino_transform",
                                          "conv2d_filter_wino_out", 1, 1 };
/* F(3x3, 4x4) rounds each tile's share several times worse than F(3x3, 2x2) (its transforms
 * scale by up to 15 and its output transform cancels them); over a sum of few tiles that
 * came to 0.98 of the harness's float32 bound (a 1x5x5 input, 4 tiles, some seeds). The
 * error of a sum of T tiles grows as sqrt(T) and the bound as T, so it takes calls of at
 * least 16 tiles, where it stays far under the bound (README); smaller calls are too small
 * to gain from it. */
static const struct wino_form wino_f4 = { 4, 36, "conv2d_filter_winograd4.cl",
                                          "conv2d_filter_wino4_transform",
                                          "conv2d_filter_wino4_out", 16, 16 };

/* The form is the transforms' file the row names after conv2d_filter.cl (the GEMM's). */
static const struct wino_form *wino_form_of(const struct ocl_variant *variant)
{
    const char *file = variant->files[1];
    return file && strcmp(file, wino_f4.file) == 0 ? &wino_f4 : &wino_f2;
}

struct wino_plan {
    int th, tw;         /* tiles of dy per column and row */
    int group;          /* samples per group */
    long long tiles;    /* tiles of one group */
};

static bool wino_plan(const struct ocl_variant *variant, const struct wino_form *form,
                      const struct conv_shape *s, struct wino_plan *plan)
{
    plan->th = (s->ho + form->tile - 1) / form->tile;
    plan->tw = (s->wo + form->tile - 1) / form->tile;
    long long sample_tiles = (long long)plan->th * plan->tw;
    long long sample_bytes =
        form->points * sample_tiles * (s->c + s->k) * (long long)sizeof(float);
    long long group = 1024LL * ocl_tunable(variant, "GROUP_KB") / sample_bytes;
    plan->group = group < 1 ? 1 : group > s->n ? s->n : (int)group;
    plan->tiles = plan->group * sample_tiles;
    return sample_tiles * s->n >= form->min_tiles &&
           form->points * plan->tiles * (s->c > s->k ? s->c : s->k) <= INT_MAX &&
           (long long)form->points * s->c * s->k <= INT_MAX;
}

/* What every Winograd weight gradient needs of a call: 3x3 windows at stride 1, a nonempty
 * output, channels in sixteens and in the variant's CB x 16*KV register tile. */
static bool wino_call_fits(const struct ocl_variant *variant, const struct fcnn_op_call *call,
                           const struct conv_shape *s)
{
    return ocl_call_fits_int32(call) && s->kh == 3 && s->kw == 3 && s->sh == 1 &&
           s->sw == 1 && s->ho > 0 && s->wo > 0 && s->c % 16 == 0 && s->k % 16 == 0 &&
           s->c % ocl_tunable(variant, "CB") == 0 && s->k % (16 * ocl_tunable(variant, "KV")) == 0;
}

bool ocl_conv2d_bwd_filter_winograd_supports(const struct ocl_context *ctx,
                                             const struct ocl_variant *variant,
                                             const struct fcnn_op_call *call)
{
    (void)ctx;
    struct conv_shape s = conv_call_shape(call);
    struct wino_plan plan;
    return wino_call_fits(variant, call, &s) &&
           wino_plan(variant, wino_form_of(variant), &s, &plan);
}

int ocl_conv2d_bwd_filter_winograd(struct ocl_context *ctx, const struct ocl_variant *variant,
                                   const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0], *dy = call->t[1], *dw = call->t[2];
    struct conv_shape s = conv_call_shape(call);
    const struct wino_form *form = wino_form_of(variant);
    struct wino_plan plan;
    wino_plan(variant, form, &s, &plan);
    cl_int TH = plan.th, TW = plan.tw;
    cl_int H = s.h, W = s.w, C = s.c, K = s.k, PT = s.pt, PL = s.pl, HO = s.ho, WO = s.wo;

    struct ocl_kernel *transform, *gemm, *finish;
    OCL_TRY(ocl_variant_kernel(ctx, variant, form->file, form->transform, &transform));
    OCL_TRY(ocl_variant_kernel(ctx, variant, "conv2d_filter.cl", "conv2d_filter_wino_gemm", &gemm));
    OCL_TRY(ocl_variant_kernel(ctx, variant, form->file, form->out, &finish));

    cl_int cblocks = C / ocl_tunable(variant, "CB");
    cl_int kblocks = K / (16 * ocl_tunable(variant, "KV"));
    cl_int pairs = form->points * cblocks * kblocks, elems = C * K;
    size_t points = (size_t)form->points;
    cl_mem v, u, m;
    OCL_TRY(ocl_scratch_get(ctx, OCL_SCRATCH_COLUMNS, points * plan.tiles * C * sizeof(float),
                            &v));
    OCL_TRY(ocl_scratch_get(ctx, OCL_SCRATCH_WEIGHTS, points * plan.tiles * K * sizeof(float),
                            &u));
    OCL_TRY(ocl_scratch_get(ctx, OCL_SCRATCH_PARTIALS, points * elems * sizeof(float), &m));
    cl_mem x_mem = ocl_mem(x), dy_mem = ocl_mem(dy), dw_mem = ocl_mem(dw);
    for (int n0 = 0; n0 < s.n; n0 += plan.group) {
        int samples = s.n - n0 < plan.group ? s.n - n0 : plan.group;
        cl_int T = samples * TH * TW, x_items = T * (C / 16), count = x_items + T * (K / 16);
        cl_int accumulate = n0 > 0;
        cl_ulong x_offset = ocl_elem_offset(x) + (cl_ulong)n0 * H * W * C;
        cl_ulong dy_offset = ocl_elem_offset(dy) + (cl_ulong)n0 * HO * WO * K;
        OCL_TRY(ocl_launch_1d(ctx, transform, (size_t)count, OCL_HELPER_WG_SIZE,
                              OCL_ARGS(OCL_ARG(x_mem), OCL_ARG(x_offset), OCL_ARG(dy_mem),
                                       OCL_ARG(dy_offset), OCL_ARG(v), OCL_ARG(u), OCL_ARG(H),
                                       OCL_ARG(W), OCL_ARG(C), OCL_ARG(K), OCL_ARG(PT),
                                       OCL_ARG(PL), OCL_ARG(HO), OCL_ARG(WO), OCL_ARG(TH),
                                       OCL_ARG(TW), OCL_ARG(T), OCL_ARG(x_items), OCL_ARG(count))));
        OCL_TRY(ocl_launch_1d(ctx, gemm, (size_t)pairs, (size_t)ocl_tunable(variant, "WG_SIZE"),
                              OCL_ARGS(OCL_ARG(v), OCL_ARG(u), OCL_ARG(m), OCL_ARG(C),
                                       OCL_ARG(K), OCL_ARG(T), OCL_ARG(cblocks),
                                       OCL_ARG(kblocks), OCL_ARG(accumulate), OCL_ARG(pairs))));
    }
    cl_ulong dw_offset = ocl_elem_offset(dw);
    if (form->out_lanes == 1)
        return ocl_launch_1d(ctx, finish, (size_t)elems, OCL_HELPER_WG_SIZE,
                             OCL_ARGS(OCL_ARG(m), OCL_ARG(dw_mem), OCL_ARG(dw_offset),
                                      OCL_ARG(elems)));
    cl_int out_items = elems / form->out_lanes, parts = 1;
    return ocl_launch_1d(ctx, finish, (size_t)out_items, OCL_HELPER_WG_SIZE,
                         OCL_ARGS(OCL_ARG(m), OCL_ARG(dw_mem), OCL_ARG(dw_offset),
                                  OCL_ARG(elems), OCL_ARG(out_items), OCL_ARG(parts)));
}

/* F(3x3, 4x4) with the transforms and products in one kernel (conv2d_filter_wino4_fused):
 * GROUPS_PER_CU work-groups of one work-item per compute unit (no more than samples), each
 * over its share of the samples, CHUNK samples at a time, into a partial M of its own;
 * then the output transform adds the partials in order. The same shapes as the two-stage
 * form, with at least wino_f4's 16 tiles in all. */
static int fused_groups(const struct ocl_context *ctx, const struct ocl_variant *variant,
                        const struct conv_shape *s)
{
    long long groups = (long long)ocl_tunable(variant, "GROUPS_PER_CU") *
                       (ctx->identity.compute_units ? ctx->identity.compute_units : 1);
    return groups < s->n ? (int)groups : s->n;
}

bool ocl_conv2d_bwd_filter_wino4_fused_supports(const struct ocl_context *ctx,
                                                const struct ocl_variant *variant,
                                                const struct fcnn_op_call *call)
{
    struct conv_shape s = conv_call_shape(call);
    if (!wino_call_fits(variant, call, &s))
        return false;
    int tile = wino_f4.tile;
    long long sample_tiles = (long long)((s.ho + tile - 1) / tile) * ((s.wo + tile - 1) / tile);
    long long groups = fused_groups(ctx, variant, &s), points = wino_f4.points;
    long long scratch =
        groups * points * ocl_tunable(variant, "CHUNK") * sample_tiles * (s.c + s.k);
    return sample_tiles * s.n >= wino_f4.min_tiles && scratch <= INT_MAX &&
           groups * points * s.c * s.k <= INT_MAX;
}

int ocl_conv2d_bwd_filter_wino4_fused(struct ocl_context *ctx, const struct ocl_variant *variant,
                                      const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0], *dy = call->t[1], *dw = call->t[2];
    struct conv_shape s = conv_call_shape(call);
    int tile = wino_f4.tile;
    cl_int TH = (s.ho + tile - 1) / tile, TW = (s.wo + tile - 1) / tile;
    cl_int groups = fused_groups(ctx, variant, &s);
    cl_int N = s.n, H = s.h, W = s.w, C = s.c, K = s.k, PT = s.pt, PL = s.pl;
    cl_int HO = s.ho, WO = s.wo, elems = C * K, out_items = elems / 16;
    size_t chunk_tiles = (size_t)ocl_tunable(variant, "CHUNK") * TH * TW;

    struct ocl_kernel *fused, *finish;
    OCL_TRY(ocl_variant_kernel(ctx, variant, wino_f4.file, "conv2d_filter_wino4_fused", &fused));
    OCL_TRY(ocl_variant_kernel(ctx, variant, wino_f4.file, wino_f4.out, &finish));
    cl_mem scratch, m;
    OCL_TRY(ocl_scratch_get(ctx, OCL_SCRATCH_COLUMNS,
                            (size_t)groups * wino_f4.points * chunk_tiles * (C + K) *
                                sizeof(float),
                            &scratch));
    OCL_TRY(ocl_scratch_get(ctx, OCL_SCRATCH_PARTIALS,
                            (size_t)groups * wino_f4.points * elems * sizeof(float), &m));
    cl_mem x_mem = ocl_mem(x), dy_mem = ocl_mem(dy), dw_mem = ocl_mem(dw);
    cl_ulong x_offset = ocl_elem_offset(x), dy_offset = ocl_elem_offset(dy);
    cl_ulong dw_offset = ocl_elem_offset(dw);
    OCL_TRY(ocl_launch_1d(ctx, fused, (size_t)groups, 1,
                          OCL_ARGS(OCL_ARG(x_mem), OCL_ARG(x_offset), OCL_ARG(dy_mem),
                                   OCL_ARG(dy_offset), OCL_ARG(scratch), OCL_ARG(m),
                                   OCL_ARG(N), OCL_ARG(H), OCL_ARG(W), OCL_ARG(C), OCL_ARG(K),
                                   OCL_ARG(PT), OCL_ARG(PL), OCL_ARG(HO), OCL_ARG(WO),
                                   OCL_ARG(TH), OCL_ARG(TW), OCL_ARG(groups))));
    return ocl_launch_1d(ctx, finish, (size_t)out_items, OCL_HELPER_WG_SIZE,
                         OCL_ARGS(OCL_ARG(m), OCL_ARG(dw_mem), OCL_ARG(dw_offset),
                                  OCL_ARG(elems), OCL_ARG(out_items), OCL_ARG(groups)));
}
