/* The convolution's weight gradient, register-tiled with im2col folded into the loads
 * (kernels/conv2d_filter.cl): chunks of samples each sum into a partial dw, which a second
 * kernel adds up in chunk order. The variant rows choose the tile, CB input channels times
 * 16*KV output channels per work-item; the c1 variant is the first layer's case (one input
 * channel, 3x3), all nine taps per work-item over chunks of output rows. */
#include <config.h>

#include <limits.h>

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

/* Winograd F(3x3, 2x2) (kernels/conv2d_filter.cl: conv2d_filter_wino_*), for 3x3 windows at
 * stride 1 and any padding: x's transform V into the columns scratch, dy's transform U into
 * the weights scratch (16*T*C and 16*T*K floats, T the 2x2 tiles of dy), their 16 products
 * into partial sums per chunk of tiles, then the sum of the chunks and the output transform
 * straight into dw. */
static bool wino_sizes(const struct conv_shape *s, int *th, int *tw, long long *tiles)
{
    *th = (s->ho + 1) / 2;
    *tw = (s->wo + 1) / 2;
    *tiles = (long long)s->n * *th * *tw;
    return 16 * *tiles * (s->c > s->k ? s->c : s->k) <= INT_MAX;
}

bool ocl_conv2d_bwd_filter_winograd_supports(const struct ocl_context *ctx,
                                             const struct ocl_variant *variant,
                                             const struct fcnn_op_call *call)
{
    (void)ctx;
    struct conv_shape s = conv_call_shape(call);
    int th, tw;
    long long tiles;
    return ocl_call_fits_int32(call) && s.kh == 3 && s.kw == 3 && s.sh == 1 && s.sw == 1 &&
           s.ho > 0 && s.wo > 0 && wino_sizes(&s, &th, &tw, &tiles) &&
           s.c % 16 == 0 && s.c % ocl_tunable(variant, "CB") == 0 &&
           s.k % (16 * ocl_tunable(variant, "KV")) == 0;
}

int ocl_conv2d_bwd_filter_winograd(struct ocl_context *ctx, const struct ocl_variant *variant,
                                   const struct fcnn_op_call *call)
{
    const struct fcnn_tensor *x = call->t[0], *dy = call->t[1], *dw = call->t[2];
    struct conv_shape s = conv_call_shape(call);
    int th, tw;
    long long tiles;
    wino_sizes(&s, &th, &tw, &tiles);
    cl_int T = (cl_int)tiles, TH = th, TW = tw;
    cl_int H = s.h, W = s.w, C = s.c, K = s.k, PT = s.pt, PL = s.pl, HO = s.ho, WO = s.wo;

    struct ocl_kernel *vk, *uk, *gemm, *finish;
    OCL_TRY(ocl_variant_kernel(ctx, variant, "conv2d_filter.cl", "conv2d_filter_wino_x", &vk));
    OCL_TRY(ocl_variant_kernel(ctx, variant, "conv2d_filter.cl", "conv2d_filter_wino_dy", &uk));
    OCL_TRY(ocl_variant_kernel(ctx, variant, "conv2d_filter.cl", "conv2d_filter_wino_gemm", &gemm));
    OCL_TRY(ocl_variant_kernel(ctx, variant, "conv2d_filter.cl", "conv2d_filter_wino_out", &finish));

    cl_int cblocks = C / ocl_tunable(variant, "CB");
    cl_int kblocks = K / (16 * ocl_tunable(variant, "KV"));
    cl_int pairs = 16 * cblocks * kblocks;
    int chunks = (ocl_tunable(variant, "ITEMS") + pairs - 1) / pairs;
    if (chunks > T)
        chunks = T;
    cl_int chunk_tiles = (T + chunks - 1) / chunks;
    chunks = (T + chunk_tiles - 1) / chunk_tiles; /* no empty chunk */
    cl_int chunk_count = chunks, count = pairs * chunks, elems = C * K;

    cl_mem v, u, m;
    OCL_TRY(ocl_scratch_get(ctx, OCL_SCRATCH_COLUMNS, (size_t)16 * T * C * sizeof(float), &v));
    OCL_TRY(ocl_scratch_get(ctx, OCL_SCRATCH_WEIGHTS, (size_t)16 * T * K * sizeof(float), &u));
    OCL_TRY(ocl_scratch_get(ctx, OCL_SCRATCH_PARTIALS,
                            (size_t)chunks * 16 * elems * sizeof(float), &m));
    cl_mem x_mem = ocl_mem(x), dy_mem = ocl_mem(dy), dw_mem = ocl_mem(dw);
    cl_ulong x_offset = ocl_elem_offset(x), dy_offset = ocl_elem_offset(dy);
    cl_ulong dw_offset = ocl_elem_offset(dw);
    cl_int v_count = T * (C / 16), u_count = T * (K / 16);
    OCL_TRY(ocl_launch_1d(ctx, vk, (size_t)v_count, OCL_HELPER_WG_SIZE,
                          OCL_ARGS(OCL_ARG(x_mem), OCL_ARG(x_offset), OCL_ARG(v), OCL_ARG(H),
                                   OCL_ARG(W), OCL_ARG(C), OCL_ARG(PT), OCL_ARG(PL), OCL_ARG(TH),
                                   OCL_ARG(TW), OCL_ARG(T), OCL_ARG(v_count))));
    OCL_TRY(ocl_launch_1d(ctx, uk, (size_t)u_count, OCL_HELPER_WG_SIZE,
                          OCL_ARGS(OCL_ARG(dy_mem), OCL_ARG(dy_offset), OCL_ARG(u), OCL_ARG(K),
                                   OCL_ARG(HO), OCL_ARG(WO), OCL_ARG(TH), OCL_ARG(TW), OCL_ARG(T),
                                   OCL_ARG(u_count))));
    OCL_TRY(ocl_launch_1d(ctx, gemm, (size_t)count, (size_t)ocl_tunable(variant, "WG_SIZE"),
                          OCL_ARGS(OCL_ARG(v), OCL_ARG(u), OCL_ARG(m), OCL_ARG(C), OCL_ARG(K),
                                   OCL_ARG(T), OCL_ARG(cblocks), OCL_ARG(kblocks), OCL_ARG(pairs),
                                   OCL_ARG(chunk_tiles), OCL_ARG(count))));
    return ocl_launch_1d(ctx, finish, (size_t)elems, OCL_HELPER_WG_SIZE,
                         OCL_ARGS(OCL_ARG(m), OCL_ARG(dw_mem), OCL_ARG(dw_offset),
                                  OCL_ARG(chunk_count), OCL_ARG(elems)));
}
