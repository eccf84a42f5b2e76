/* The kernel registry: the table of every op's variants, the choice among them (forced,
 * tuned by ocl_tune.c, or by priority), forcing one by name (options->kernels,
 * $FCNN_KERNELS, force_variant), and the dispatch of a call to its variant. */
#include <config.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "ocl_registry.h"

/* Elementwise and gather kernels run in 1-D work-groups of WG_SIZE (their
 * reqd_work_group_size): 64 keeps enough groups for every core of a CPU and is a whole
 * number of warps or wavefronts on GPUs. */
#define WG(n) { { "WG_SIZE", n } }

/* The register-tiled kernels run in groups of 4 work-items: each work-item is already a
 * large tile, and small groups give PoCL's scheduler about a hundred groups or more to
 * spread over the cores (issue 6). Their tiles: */
#define CONV_TILE(pix, kv) { { "PIX", pix }, { "KV", kv }, { "WG_SIZE", 4 } }
#define ROWS_TILE(pix, kv) { { "PIX", pix }, { "KV", kv }, { "KW_FIXED", 3 }, { "WG_SIZE", 4 } }
#define FILTER_TILE(cb, kv) { { "CB", cb }, { "KV", kv }, { "WG_SIZE", 4 } }
/* The Winograd weight gradient: its GEMM stage tiled like FILTER_TILE, over groups of
 * samples whose transforms take about GROUP_KB kilobytes. */
#define FILTER_WINO(cb, kv, group_kb) \
    { { "CB", cb }, { "KV", kv }, { "GROUP_KB", group_kb }, { "WG_SIZE", 4 } }
#define FILTER_WINO_FUSED(cb, kv, chunk, groups_per_cu) \
    { { "CB", cb }, { "KV", kv }, { "CHUNK", chunk }, { "GROUPS_PER_CU", groups_per_cu } }
/* Winograd: TW output tiles along a row x 16*KV channels per work-item. */
#define WINOGRAD_TILE(tw, kv) { { "TW", tw }, { "KV", kv }, { "WG_SIZE", 4 } }
/* F(4x4, 3x3)'s forward: outputs over windows of zeros exact (conv2d_winograd4.cl). */
#define WINOGRAD4_FORWARD_TILE(tw, kv) \
    { { "TW", tw }, { "KV", kv }, { "EXACT_ZEROS", 1 }, { "WG_SIZE", 4 } }
#define GEMM_TILE(tm, kv) { { "TM", tm }, { "KV", kv }, { "WG_SIZE", 4 } }
/* The dense layer's skinny forms (kernels/dense_skinny.cl): TD rows x 16*KV columns. */
#define SKINNY_TILE(td, kv) { { "TD", td }, { "KV", kv }, { "WG_SIZE", 4 } }
/* The slab form: that tile, SLABS_PER_CU slabs of w's rows per compute unit; WG_SIZE is
 * the partials' sum's. */
#define SLAB_TILE(td, kv, slabs_per_cu) \
    { { "TD", td }, { "KV", kv }, { "SLABS_PER_CU", slabs_per_cu }, { "WG_SIZE", 64 } }
#define SKINNY_TILE_BY_COLUMNS(td, kv) \
    { { "TD", td }, { "KV", kv }, { "ROWS_FASTEST", 0 }, { "WG_SIZE", 4 } }
/* The local-memory tiled GEMM for GPUs: a TS x TS tile of C per work-group of
 * (TS/WPT)^2 work-items, WPT x WPT outputs each, staged TK deep; WG_SIZE is im2col's. */
#define LOCAL_TILE(ts, wpt) { { "TS", ts }, { "WPT", wpt }, { "TK", 16 }, { "WG_SIZE", 64 } }

/* Per op, the variants in the order listings show them. Priorities decide only between
 * variants of one op, and only where tuning does not (FCNN_TUNE=0, or a shape no variant
 * was timed on): the tiled kernels first, then our GEMM, then CLBlast, whose SGEMM reaches
 * 10-44 GFLOPS on PoCL against 300 for the tiled kernels (issue 6) but may win on a GPU. */
static const struct ocl_variant variants[] = {
    { .op = FCNN_OP_LOAD_BATCH, .name = "gather", .files = { "data.cl" }, .tunables = WG(64),
      .supports = ocl_supports_any, .run = ocl_load_batch_gather },
    { .op = FCNN_OP_AUGMENT, .name = "bilinear", .files = { "data.cl" }, .tunables = WG(16),
      .supports = ocl_supports_any, .run = ocl_augment_bilinear },

    /* --- conv2d_fwd --- */
    /* Direct, register-tiled: PIX pixels x 16*KV channels per work-item, bias and ReLU in
     * the epilogue, no column matrix. The rows_ forms are compiled for 3-wide kernels at
     * stride 1 and reuse each input scalar across a kernel row's taps. */
    { .op = FCNN_OP_CONV2D_FWD, .name = "rows_7x32", .priority = 32,
      .files = { "conv2d_tiled.cl" }, .tunables = ROWS_TILE(7, 2),
      .supports = ocl_conv2d_fwd_tiled_supports, .run = ocl_conv2d_fwd_tiled },
    { .op = FCNN_OP_CONV2D_FWD, .name = "rows_4x32", .priority = 31,
      .files = { "conv2d_tiled.cl" }, .tunables = ROWS_TILE(4, 2),
      .supports = ocl_conv2d_fwd_tiled_supports, .run = ocl_conv2d_fwd_tiled },
    { .op = FCNN_OP_CONV2D_FWD, .name = "tiled_7x32", .priority = 30,
      .files = { "conv2d_tiled.cl" }, .tunables = CONV_TILE(7, 2),
      .supports = ocl_conv2d_fwd_tiled_supports, .run = ocl_conv2d_fwd_tiled },
    { .op = FCNN_OP_CONV2D_FWD, .name = "tiled_4x64", .priority = 29,
      .files = { "conv2d_tiled.cl" }, .tunables = CONV_TILE(4, 4),
      .supports = ocl_conv2d_fwd_tiled_supports, .run = ocl_conv2d_fwd_tiled },
    { .op = FCNN_OP_CONV2D_FWD, .name = "tiled_14x16", .priority = 28,
      .files = { "conv2d_tiled.cl" }, .tunables = CONV_TILE(14, 1),
      .supports = ocl_conv2d_fwd_tiled_supports, .run = ocl_conv2d_fwd_tiled },
    /* Winograd F(2x2, 3x3), 3x3 windows at stride 1 and input channels in blocks of 16: 16
     * multiplications per 2x2 tile and channel pair instead of 36, the kernel transformed
     * once per call. TW tiles along a row x 16*KV channels per work-item. Priorities below
     * the direct forms (which FCNN_TUNE=0 keeps); only 7x32, the fastest on PoCL, within
     * the band a CPU tunes at first: PoCL's compilation of each for its first launch costs
     * about 2 s of a cold start. The others are timed by fcnn --tune and on GPUs. */
    { .op = FCNN_OP_CONV2D_FWD, .name = "winograd_7x32", .priority = 28,
      .files = { "conv2d_winograd.cl" }, .tunables = WINOGRAD_TILE(7, 2),
      .supports = ocl_conv2d_fwd_winograd_supports, .run = ocl_conv2d_fwd_winograd },
    { .op = FCNN_OP_CONV2D_FWD, .name = "winograd_7x16", .priority = 25,
      .files = { "conv2d_winograd.cl" }, .tunables = WINOGRAD_TILE(7, 1),
      .supports = ocl_conv2d_fwd_winograd_supports, .run = ocl_conv2d_fwd_winograd },
    { .op = FCNN_OP_CONV2D_FWD, .name = "winograd_4x64", .priority = 25,
      .files = { "conv2d_winograd.cl" }, .tunables = WINOGRAD_TILE(4, 4),
      .supports = ocl_conv2d_fwd_winograd_supports, .run = ocl_conv2d_fwd_winograd },
    /* Winograd F(4x4, 3x3): TW 4x4 tiles along a row x 16*KV channels per work-item. */
    { .op = FCNN_OP_CONV2D_FWD, .name = "winograd4_4x32", .priority = 27,
      .files = { "conv2d_winograd4.cl" }, .tunables = WINOGRAD4_FORWARD_TILE(4, 2),
      .supports = ocl_conv2d_fwd_winograd_supports, .run = ocl_conv2d_fwd_winograd },
    { .op = FCNN_OP_CONV2D_FWD, .name = "winograd4_4x64", .priority = 27,
      .files = { "conv2d_winograd4.cl" }, .tunables = WINOGRAD4_FORWARD_TILE(4, 4),
      .supports = ocl_conv2d_fwd_winograd_supports, .run = ocl_conv2d_fwd_winograd },
    /* Seven tiles along a row: at 28x28, 32 to 32 channels, 0.79 ms against 4x32's 0.91
     * (tests/backend-ops perf, PoCL, 2 cores), so within a CPU's first tuning too. */
    { .op = FCNN_OP_CONV2D_FWD, .name = "winograd4_7x32", .priority = 27,
      .files = { "conv2d_winograd4.cl" }, .tunables = WINOGRAD4_FORWARD_TILE(7, 2),
      .supports = ocl_conv2d_fwd_winograd_supports, .run = ocl_conv2d_fwd_winograd },
    /* im2col (NHWC, our kernel) into a column matrix, then our tiled GEMM with bias and
     * activation fused: any shape. */
    { .op = FCNN_OP_CONV2D_FWD, .name = "im2col_gemm", .priority = 20,
      .files = { "im2col.cl", "gemm.cl" }, .tunables = GEMM_TILE(8, 2),
      .supports = ocl_conv2d_supports, .run = ocl_conv2d_fwd_im2col_tiled },
    /* The same product in local-memory tiles, for GPUs. */
    { .op = FCNN_OP_CONV2D_FWD, .name = "im2col_local", .priority = 5,
      .files = { "im2col.cl", "gemm_local.cl" }, .tunables = LOCAL_TILE(64, 4),
      .flags = OCL_GPU_SHAPED, .supports = ocl_conv2d_supports,
      .run = ocl_conv2d_fwd_im2col_tiled },
    /* The same with one CLBlast SGEMM and a separate bias + activation pass. */
    { .op = FCNN_OP_CONV2D_FWD, .name = "im2col_clblast", .priority = 10,
      .files = { "im2col.cl", "activation.cl" }, .tunables = WG(64), .flags = OCL_USES_CLBLAST,
      .supports = ocl_conv2d_fwd_clblast_supports, .run = ocl_conv2d_fwd_im2col_gemm },
    /* Direct loops, four output channels per work-item as a float4: a check on the other
     * paths that shares none of their code. */
    { .op = FCNN_OP_CONV2D_FWD, .name = "direct", .files = { "conv2d.cl" }, .tunables = WG(64),
      .supports = ocl_conv2d_fwd_direct_supports, .run = ocl_conv2d_fwd_direct },

    /* --- conv2d_pool_fwd: evaluation's convolution + 2x2 max pooling --- */
    /* The Winograd forwards reduce each window in their output transform. F(4x4) here
     * leaves out the training forward's exact outputs over windows of zeros (EXACT_ZEROS):
     * with no backward, its rounding there steers no mask. Untimed, 4x32 runs: the input
     * gradient's form, whose program training has built, so a cold start's warm-up (which
     * runs an evaluation pass) compiles nothing more for it. 4x64, 5-15% faster at the reference model's
     * layer, is timed beside it by a CPU's first tuning, which a cold training run does
     * after its end (cli/warm_up_child.h); F(2x2) and the 16-wide direct form won no shape. */
    { .op = FCNN_OP_CONV2D_POOL_FWD, .name = "winograd4_4x64", .priority = 28,
      .files = { "conv2d_winograd4.cl" }, .tunables = WINOGRAD_TILE(4, 4),
      .supports = ocl_conv2d_pool_fwd_winograd_supports, .run = ocl_conv2d_pool_fwd_winograd },
    { .op = FCNN_OP_CONV2D_POOL_FWD, .name = "winograd4_4x32", .priority = 31,
      .files = { "conv2d_winograd4.cl" }, .tunables = WINOGRAD_TILE(4, 2),
      .supports = ocl_conv2d_pool_fwd_winograd_supports, .run = ocl_conv2d_pool_fwd_winograd },
    { .op = FCNN_OP_CONV2D_POOL_FWD, .name = "winograd_7x32", .priority = 23,
      .files = { "conv2d_winograd.cl" }, .tunables = WINOGRAD_TILE(7, 2),
      .supports = ocl_conv2d_pool_fwd_winograd_supports, .run = ocl_conv2d_pool_fwd_winograd },
    /* Direct loops for any geometry: the form for few input channels; and for one input
     * channel and a 3x3 window at stride 1 (an image's first layer), the taps' kernel
     * vectors held in registers, about four times as fast there. */
    { .op = FCNN_OP_CONV2D_POOL_FWD, .name = "c1_3x3_7x32", .priority = 32,
      .files = { "conv2d_pool.cl" }, .tunables = CONV_TILE(7, 2),
      .supports = ocl_conv2d_pool_fwd_c1_supports, .run = ocl_conv2d_pool_fwd_c1 },
    { .op = FCNN_OP_CONV2D_POOL_FWD, .name = "direct_4x32", .priority = 20,
      .files = { "conv2d_pool.cl" }, .tunables = CONV_TILE(4, 2),
      .supports = ocl_conv2d_pool_fwd_direct_supports, .run = ocl_conv2d_pool_fwd_direct },
    { .op = FCNN_OP_CONV2D_POOL_FWD, .name = "direct_4x16", .priority = 14,
      .files = { "conv2d_pool.cl" }, .tunables = CONV_TILE(4, 1),
      .supports = ocl_conv2d_pool_fwd_direct_supports, .run = ocl_conv2d_pool_fwd_direct },

    /* --- conv2d_bwd_data --- */
    /* The tiled forward kernels on dy with flipped weights (stride 1). */
    { .op = FCNN_OP_CONV2D_BWD_DATA, .name = "rows_7x32", .priority = 32,
      .files = { "conv2d_tiled.cl" }, .tunables = ROWS_TILE(7, 2),
      .supports = ocl_conv2d_bwd_data_tiled_supports, .run = ocl_conv2d_bwd_data_tiled },
    { .op = FCNN_OP_CONV2D_BWD_DATA, .name = "tiled_7x32", .priority = 30,
      .files = { "conv2d_tiled.cl" }, .tunables = CONV_TILE(7, 2),
      .supports = ocl_conv2d_bwd_data_tiled_supports, .run = ocl_conv2d_bwd_data_tiled },
    { .op = FCNN_OP_CONV2D_BWD_DATA, .name = "tiled_14x16", .priority = 29,
      .files = { "conv2d_tiled.cl" }, .tunables = CONV_TILE(14, 1),
      .supports = ocl_conv2d_bwd_data_tiled_supports, .run = ocl_conv2d_bwd_data_tiled },
    /* Winograd F(2x2, 3x3) on dy with the flipped kernel, folded into its transform:
     * 0.67 ms against the direct forms' 1.05 at the reference model's shape. */
    { .op = FCNN_OP_CONV2D_BWD_DATA, .name = "winograd_7x32", .priority = 28,
      .files = { "conv2d_winograd.cl" }, .tunables = WINOGRAD_TILE(7, 2),
      .supports = ocl_conv2d_bwd_data_winograd_supports, .run = ocl_conv2d_bwd_data_winograd },
    { .op = FCNN_OP_CONV2D_BWD_DATA, .name = "winograd_7x16", .priority = 25,
      .files = { "conv2d_winograd.cl" }, .tunables = WINOGRAD_TILE(7, 1),
      .supports = ocl_conv2d_bwd_data_winograd_supports, .run = ocl_conv2d_bwd_data_winograd },
    { .op = FCNN_OP_CONV2D_BWD_DATA, .name = "winograd4_4x32", .priority = 29,
      .files = { "conv2d_winograd4.cl" }, .tunables = WINOGRAD_TILE(4, 2),
      .supports = ocl_conv2d_bwd_data_winograd_supports, .run = ocl_conv2d_bwd_data_winograd },
    /* 64 input channels per work-item where the layer has them: the F(4x4) forward's
     * widest tile (and evaluation's pooled form's program), 0.87-0.89 ms against 4x32's
     * 0.99-1.04 at 14x14, 64 to 64 channels (tests/backend-ops perf, PoCL, 2 cores). */
    { .op = FCNN_OP_CONV2D_BWD_DATA, .name = "winograd4_4x64", .priority = 29,
      .files = { "conv2d_winograd4.cl" }, .tunables = WINOGRAD_TILE(4, 4),
      .supports = ocl_conv2d_bwd_data_winograd_supports, .run = ocl_conv2d_bwd_data_winograd },
    /* At 28x28, 32 to 32 channels: 0.76-0.77 ms against 4x32's 0.91-0.93. */
    { .op = FCNN_OP_CONV2D_BWD_DATA, .name = "winograd4_7x32", .priority = 27,
      .files = { "conv2d_winograd4.cl" }, .tunables = WINOGRAD_TILE(7, 2),
      .supports = ocl_conv2d_bwd_data_winograd_supports, .run = ocl_conv2d_bwd_data_winograd },
    /* Strided convolutions (and padding the flip cannot take), register-tiled by phases of
     * dx: PIX pixels of one phase x 16*KV input channels per work-item, each running only
     * the taps that reach its phase. The shapes they take had only the forms below, so
     * their first tuning times these two instead of gemm_col2im (now below the CPU band). */
    { .op = FCNN_OP_CONV2D_BWD_DATA, .name = "phases_7x32", .priority = 30,
      .files = { "conv2d_phases.cl" }, .tunables = CONV_TILE(7, 2),
      .supports = ocl_conv2d_bwd_data_phases_supports, .run = ocl_conv2d_bwd_data_phases },
    { .op = FCNN_OP_CONV2D_BWD_DATA, .name = "phases_14x16", .priority = 29,
      .files = { "conv2d_phases.cl" }, .tunables = CONV_TILE(14, 1),
      .supports = ocl_conv2d_bwd_data_phases_supports, .run = ocl_conv2d_bwd_data_phases },
    /* dy w^T into a column matrix, then our col2im gathers it into dx. */
    { .op = FCNN_OP_CONV2D_BWD_DATA, .name = "gemm_col2im", .priority = 20,
      .files = { "im2col.cl", "gemm.cl" }, .tunables = GEMM_TILE(8, 2),
      .supports = ocl_conv2d_supports, .run = ocl_conv2d_bwd_data_tiled_col2im },
    { .op = FCNN_OP_CONV2D_BWD_DATA, .name = "local_col2im", .priority = 5,
      .files = { "im2col.cl", "gemm.cl", "gemm_local.cl" }, .tunables = LOCAL_TILE(64, 4),
      .flags = OCL_GPU_SHAPED, .supports = ocl_conv2d_supports,
      .run = ocl_conv2d_bwd_data_tiled_col2im },
    { .op = FCNN_OP_CONV2D_BWD_DATA, .name = "clblast_col2im", .priority = 10,
      .files = { "im2col.cl" }, .tunables = WG(64), .flags = OCL_USES_CLBLAST,
      .supports = ocl_conv2d_supports, .run = ocl_conv2d_bwd_data_gemm_col2im },

    /* --- conv2d_bwd_filter --- */
    /* Register-tiled, im2col folded into the loads: CB input x 16*KV output channels. */
    { .op = FCNN_OP_CONV2D_BWD_FILTER, .name = "tiled_4x64", .priority = 30,
      .files = { "conv2d_filter.cl" }, .tunables = FILTER_TILE(4, 4),
      .supports = ocl_conv2d_bwd_filter_tiled_supports, .run = ocl_conv2d_bwd_filter_tiled },
    { .op = FCNN_OP_CONV2D_BWD_FILTER, .name = "tiled_8x32", .priority = 29,
      .files = { "conv2d_filter.cl" }, .tunables = FILTER_TILE(8, 2),
      .supports = ocl_conv2d_bwd_filter_tiled_supports, .run = ocl_conv2d_bwd_filter_tiled },
    { .op = FCNN_OP_CONV2D_BWD_FILTER, .name = "tiled_1x32", .priority = 28,
      .files = { "conv2d_filter.cl" }, .tunables = FILTER_TILE(1, 2),
      .supports = ocl_conv2d_bwd_filter_tiled_supports, .run = ocl_conv2d_bwd_filter_tiled },
    /* Winograd F(3x3, 4x4): 36 products per 4x4 tile of dy instead of the direct form's
     * 144. The fused form runs the transforms and the products in one kernel, each core's
     * work-groups (GROUPS_PER_CU) over their own samples, CHUNK at a time, so that a core
     * reads back from its L2 what it transformed; on the reference model's second layer
     * (PoCL, 2 cores, tests/backend-ops perf) 0.50-0.55 ms against tiled_8x32's 0.63-0.74
     * and the two-stage form's 0.73-0.80. In the CPU's tuning band, one per shape: the
     * 64-wide form where tiled_4x64 leads (the band reaches 25), the 32-wide one, at 24,
     * only where tiled_8x32 does. */
    { .op = FCNN_OP_CONV2D_BWD_FILTER, .name = "winograd4_fused_4x64", .priority = 27,
      .files = { "conv2d_filter_winograd4.cl" }, .tunables = FILTER_WINO_FUSED(4, 4, 2, 1),
      .supports = ocl_conv2d_bwd_filter_wino4_fused_supports,
      .run = ocl_conv2d_bwd_filter_wino4_fused },
    { .op = FCNN_OP_CONV2D_BWD_FILTER, .name = "winograd4_fused_8x32", .priority = 24,
      .files = { "conv2d_filter_winograd4.cl" }, .tunables = FILTER_WINO_FUSED(8, 2, 2, 1),
      .supports = ocl_conv2d_bwd_filter_wino4_fused_supports,
      .run = ocl_conv2d_bwd_filter_wino4_fused },
    /* The two-stage form: samples grouped so that their transforms stay in cache
     * (GROUP_KB), the transforms in a file of their own, the GEMM stage conv2d_filter.cl's
     * (built with the same options as the F(3x3, 2x2) rows below, so a program of theirs
     * is shared), a launch each, whose V and U the next launch reads through whichever
     * core's cache. CPU time against F(3x3, 2x2) (README): 1.8-2.1 ms against 3.0-3.2 at
     * 28x28, 32 to 32 channels, 2.0-2.1 against 2.5 at 14x14, 64 to 64, 1.1-1.25 against
     * 1.35-1.4 at 14x14, 32 to 64. Below the band since the fused form. */
    { .op = FCNN_OP_CONV2D_BWD_FILTER, .name = "winograd4_4x64", .priority = 23,
      .files = { "conv2d_filter.cl", "conv2d_filter_winograd4.cl" },
      .tunables = FILTER_WINO(4, 4, 4096),
      .supports = ocl_conv2d_bwd_filter_winograd_supports, .run = ocl_conv2d_bwd_filter_winograd },
    { .op = FCNN_OP_CONV2D_BWD_FILTER, .name = "winograd4_8x32", .priority = 22,
      .files = { "conv2d_filter.cl", "conv2d_filter_winograd4.cl" },
      .tunables = FILTER_WINO(8, 2, 4096),
      .supports = ocl_conv2d_bwd_filter_winograd_supports, .run = ocl_conv2d_bwd_filter_winograd },
    /* Winograd F(3x3, 2x2): 16 products per 2x2 tile of dy. It takes the same shapes as
     * F(3x3, 4x4) and lost every one of the model's to it, so it sits below every band
     * (a CPU's first tuning does not time it; --tune does). */
    { .op = FCNN_OP_CONV2D_BWD_FILTER, .name = "winograd_4x64", .priority = 21,
      .files = { "conv2d_filter.cl" }, .tunables = FILTER_WINO(4, 4, 4096),
      .supports = ocl_conv2d_bwd_filter_winograd_supports, .run = ocl_conv2d_bwd_filter_winograd },
    { .op = FCNN_OP_CONV2D_BWD_FILTER, .name = "winograd_8x32", .priority = 19,
      .files = { "conv2d_filter.cl" }, .tunables = FILTER_WINO(8, 2, 4096),
      .supports = ocl_conv2d_bwd_filter_winograd_supports, .run = ocl_conv2d_bwd_filter_winograd },
    /* One input channel, 3x3, stride 1 (the first layer): all nine taps per work-item. */
    { .op = FCNN_OP_CONV2D_BWD_FILTER, .name = "c1_3x3", .priority = 31,
      .files = { "conv2d_filter.cl" }, .tunables = FILTER_TILE(1, 2),
      .supports = ocl_conv2d_bwd_filter_c1_supports, .run = ocl_conv2d_bwd_filter_c1 },
    /* Sixteen output channels per work-item, for layers of 16, 48, 80... channels, which the
     * forms above do not take (they fell to im2col_gemm, 5-10x slower). Priorities below
     * those forms' band, so a CPU tunes no more candidates for the shapes they take. (At 23,
     * tiled_4x16 leaves tiled_8x32's band, where it lost every shape: 9.1 ms against 4.4 at
     * 28x28, 32 to 32, to make room for the 32-wide Winograd form.) */
    { .op = FCNN_OP_CONV2D_BWD_FILTER, .name = "c1_3x3_16", .priority = 25,
      .files = { "conv2d_filter.cl" }, .tunables = FILTER_TILE(1, 1),
      .supports = ocl_conv2d_bwd_filter_c1_supports, .run = ocl_conv2d_bwd_filter_c1 },
    { .op = FCNN_OP_CONV2D_BWD_FILTER, .name = "tiled_4x16", .priority = 23,
      .files = { "conv2d_filter.cl" }, .tunables = FILTER_TILE(4, 1),
      .supports = ocl_conv2d_bwd_filter_tiled_supports, .run = ocl_conv2d_bwd_filter_tiled },
    { .op = FCNN_OP_CONV2D_BWD_FILTER, .name = "tiled_1x16", .priority = 22,
      .files = { "conv2d_filter.cl" }, .tunables = FILTER_TILE(1, 1),
      .supports = ocl_conv2d_bwd_filter_tiled_supports, .run = ocl_conv2d_bwd_filter_tiled },
    { .op = FCNN_OP_CONV2D_BWD_FILTER, .name = "im2col_gemm", .priority = 20,
      .files = { "im2col.cl", "gemm.cl" }, .tunables = GEMM_TILE(8, 2),
      .supports = ocl_conv2d_supports, .run = ocl_conv2d_bwd_filter_im2col_tiled },
    { .op = FCNN_OP_CONV2D_BWD_FILTER, .name = "im2col_local", .priority = 5,
      .files = { "im2col.cl", "gemm_local.cl" }, .tunables = LOCAL_TILE(64, 4),
      .flags = OCL_GPU_SHAPED, .supports = ocl_conv2d_supports,
      .run = ocl_conv2d_bwd_filter_im2col_tiled },
    { .op = FCNN_OP_CONV2D_BWD_FILTER, .name = "im2col_clblast", .priority = 10,
      .files = { "im2col.cl" }, .tunables = WG(64), .flags = OCL_USES_CLBLAST,
      .supports = ocl_conv2d_supports, .run = ocl_conv2d_bwd_filter_im2col_gemm },

    /* --- elementwise, reductions, pooling --- */
    { .op = FCNN_OP_BIAS_BWD, .name = "vec16", .priority = 10, .files = { "bias.cl" },
      .tunables = WG(64), .supports = ocl_bias_bwd_vec16_supports, .run = ocl_bias_bwd_vec16 },
    { .op = FCNN_OP_BIAS_BWD, .name = "partial_sums", .files = { "bias.cl" },
      .tunables = WG(64), .supports = ocl_supports_any, .run = ocl_bias_bwd_partial_sums },
    /* Ahead of partial_sums where both run (few rows): one launch instead of two. */
    { .op = FCNN_OP_BIAS_BWD, .name = "columns", .priority = 1, .files = { "bias.cl" },
      .tunables = WG(64), .supports = ocl_bias_bwd_columns_supports, .run = ocl_bias_bwd_columns },
    { .op = FCNN_OP_MAXPOOL_FWD, .name = "vec16", .priority = 10, .files = { "pool.cl" },
      .tunables = WG(64), .supports = ocl_pool_vec16_supports, .run = ocl_maxpool_fwd_vec16 },
    { .op = FCNN_OP_MAXPOOL_FWD, .name = "window", .files = { "pool.cl" }, .tunables = WG(64),
      .supports = ocl_supports_any, .run = ocl_maxpool_fwd_window },
    /* Non-overlapping windows: each window writes its own dx, dy at its first maximum. */
    { .op = FCNN_OP_MAXPOOL_BWD, .name = "scatter16", .priority = 10, .files = { "pool.cl" },
      .tunables = WG(64), .supports = ocl_maxpool_bwd_scatter16_supports,
      .run = ocl_maxpool_bwd_scatter16 },
    { .op = FCNN_OP_MAXPOOL_BWD, .name = "gather", .files = { "pool.cl" }, .tunables = WG(64),
      .supports = ocl_supports_any, .run = ocl_maxpool_bwd_gather },
    /* Average pooling: a window per work-item forward, a gather per input pixel backward;
     * the vec16 forms take 16 channels per work-item (C % 16 == 0), and the scatter writes
     * each window of pools that tile the input (stride == pool, no padding) once. */
    { .op = FCNN_OP_AVGPOOL_FWD, .name = "vec16", .priority = 10, .files = { "pool.cl" },
      .tunables = WG(64), .supports = ocl_pool_vec16_supports, .run = ocl_avgpool_fwd_vec16 },
    { .op = FCNN_OP_AVGPOOL_BWD, .name = "scatter16", .priority = 10, .files = { "pool.cl" },
      .tunables = WG(64), .supports = ocl_avgpool_bwd_scatter16_supports,
      .run = ocl_avgpool_bwd_scatter16 },
    { .op = FCNN_OP_AVGPOOL_FWD, .name = "window", .files = { "pool.cl" }, .tunables = WG(64),
      .supports = ocl_supports_any, .run = ocl_avgpool_fwd_window },
    { .op = FCNN_OP_AVGPOOL_BWD, .name = "gather", .files = { "pool.cl" }, .tunables = WG(64),
      .supports = ocl_supports_any, .run = ocl_avgpool_bwd_gather },
    { .op = FCNN_OP_GLOBAL_AVGPOOL_FWD, .name = "channels", .files = { "pool.cl" },
      .tunables = WG(64), .supports = ocl_supports_any, .run = ocl_global_avgpool_fwd_channels },
    { .op = FCNN_OP_GLOBAL_AVGPOOL_BWD, .name = "pixels", .files = { "pool.cl" },
      .tunables = WG(64), .supports = ocl_supports_any, .run = ocl_global_avgpool_bwd_pixels },
    { .op = FCNN_OP_RELU_BWD, .name = "vec16", .priority = 10, .files = { "activation.cl" },
      .tunables = WG(64), .supports = ocl_supports_any, .run = ocl_relu_bwd_vec16 },
    { .op = FCNN_OP_RELU_BWD, .name = "mask", .files = { "activation.cl" }, .tunables = WG(64),
      .supports = ocl_supports_any, .run = ocl_relu_bwd_mask },

    /* --- dense --- */
    /* Row tiles fastest, so each strip of w is read once from memory (dense_skinny.cl). */
    { .op = FCNN_OP_DENSE_FWD, .name = "rows_8x32", .priority = 32,
      .files = { "dense_skinny.cl" }, .tunables = SKINNY_TILE(8, 2),
      .supports = ocl_dense_fwd_rows_supports, .run = ocl_dense_fwd_rows },
    /* w streamed once in address order, a slab of its rows per work-item, the slabs'
     * partials added after. */
    { .op = FCNN_OP_DENSE_FWD, .name = "slabs_8x32", .priority = 33,
      .files = { "dense_skinny.cl" }, .tunables = SLAB_TILE(8, 2, 2),
      .supports = ocl_dense_fwd_slabs_supports, .run = ocl_dense_fwd_slabs },
    { .op = FCNN_OP_DENSE_FWD, .name = "rows_4x64", .priority = 31,
      .files = { "dense_skinny.cl" }, .tunables = SKINNY_TILE(4, 4),
      .supports = ocl_dense_fwd_rows_supports, .run = ocl_dense_fwd_rows },
    { .op = FCNN_OP_DENSE_FWD, .name = "gemm_16x16", .priority = 30, .files = { "gemm.cl" },
      .tunables = GEMM_TILE(16, 1), .supports = ocl_supports_any, .run = ocl_dense_fwd_tiled },
    { .op = FCNN_OP_DENSE_FWD, .name = "gemm_8x16", .priority = 29, .files = { "gemm.cl" },
      .tunables = GEMM_TILE(8, 1), .supports = ocl_supports_any, .run = ocl_dense_fwd_tiled },
    { .op = FCNN_OP_DENSE_FWD, .name = "gemm_4x64", .priority = 28, .files = { "gemm.cl" },
      .tunables = GEMM_TILE(4, 4), .supports = ocl_supports_any, .run = ocl_dense_fwd_tiled },
    { .op = FCNN_OP_DENSE_FWD, .name = "local_64", .priority = 5, .files = { "gemm_local.cl" },
      .tunables = LOCAL_TILE(64, 4), .flags = OCL_GPU_SHAPED, .supports = ocl_supports_any,
      .run = ocl_dense_fwd_tiled },
    { .op = FCNN_OP_DENSE_FWD, .name = "local_32", .priority = 4, .files = { "gemm_local.cl" },
      .tunables = LOCAL_TILE(32, 4), .flags = OCL_GPU_SHAPED, .supports = ocl_supports_any,
      .run = ocl_dense_fwd_tiled },
    { .op = FCNN_OP_DENSE_FWD, .name = "clblast", .priority = 10, .files = { "activation.cl" },
      .tunables = WG(64), .flags = OCL_USES_CLBLAST, .supports = ocl_supports_any,
      .run = ocl_dense_fwd_gemm },
    /* Few units: w's rows in registers, no transposed copy (one launch). */
    { .op = FCNN_OP_DENSE_BWD_DATA, .name = "nt_small_k", .priority = 31,
      .files = { "gemm_small_k.cl" }, .tunables = { { "KMAX", 16 }, { "WG_SIZE", 4 } },
      .supports = ocl_dense_bwd_data_nt_supports, .run = ocl_dense_bwd_data_nt },
    /* Turned over, dx^T = w dy^T: no transposed copy of a large w. */
    /* Turned over as turned_*, through dense_skinny.cl's dense_rows: dx written from one
     * pointer per sample; cols_ runs the column tiles fastest. */
    { .op = FCNN_OP_DENSE_BWD_DATA, .name = "cols_16x16", .priority = 31,
      .files = { "dense_skinny.cl", "gemm.cl" }, .tunables = SKINNY_TILE_BY_COLUMNS(16, 1),
      .supports = ocl_dense_bwd_data_rows_supports, .run = ocl_dense_bwd_data_rows },
    { .op = FCNN_OP_DENSE_BWD_DATA, .name = "rows_8x32", .priority = 32,
      .files = { "dense_skinny.cl", "gemm.cl" }, .tunables = SKINNY_TILE(8, 2),
      .supports = ocl_dense_bwd_data_rows_supports, .run = ocl_dense_bwd_data_rows },
    { .op = FCNN_OP_DENSE_BWD_DATA, .name = "turned_16x16", .priority = 28,
      .files = { "gemm.cl" }, .tunables = GEMM_TILE(16, 1),
      .supports = ocl_dense_bwd_data_turned_supports, .run = ocl_dense_bwd_data_turned },
    { .op = FCNN_OP_DENSE_BWD_DATA, .name = "turned_8x32", .priority = 27,
      .files = { "gemm.cl" }, .tunables = GEMM_TILE(8, 2),
      .supports = ocl_dense_bwd_data_turned_supports, .run = ocl_dense_bwd_data_turned },
    { .op = FCNN_OP_DENSE_BWD_DATA, .name = "gemm_4x64", .priority = 30,
      .files = { "gemm.cl" }, .tunables = GEMM_TILE(4, 4), .supports = ocl_supports_any,
      .run = ocl_dense_bwd_data_tiled },
    { .op = FCNN_OP_DENSE_BWD_DATA, .name = "gemm_16x16", .priority = 29,
      .files = { "gemm.cl" }, .tunables = GEMM_TILE(16, 1), .supports = ocl_supports_any,
      .run = ocl_dense_bwd_data_tiled },
    { .op = FCNN_OP_DENSE_BWD_DATA, .name = "local_64", .priority = 5,
      .files = { "gemm.cl", "gemm_local.cl" }, .tunables = LOCAL_TILE(64, 4),
      .flags = OCL_GPU_SHAPED, .supports = ocl_supports_any, .run = ocl_dense_bwd_data_tiled },
    { .op = FCNN_OP_DENSE_BWD_DATA, .name = "clblast", .priority = 10,
      .flags = OCL_USES_CLBLAST, .supports = ocl_supports_any, .run = ocl_dense_bwd_data_gemm },
    /* The batch's outer products summed into a TD x 16*KV block of dw per work-item. */
    { .op = FCNN_OP_DENSE_BWD_WEIGHTS, .name = "outer_8x32", .priority = 31,
      .files = { "dense_skinny.cl" }, .tunables = SKINNY_TILE(8, 2),
      .supports = ocl_dense_bwd_weights_outer_supports, .run = ocl_dense_bwd_weights_outer },
    { .op = FCNN_OP_DENSE_BWD_WEIGHTS, .name = "outer_4x64", .priority = 31,
      .files = { "dense_skinny.cl" }, .tunables = SKINNY_TILE(4, 4),
      .supports = ocl_dense_bwd_weights_outer_supports, .run = ocl_dense_bwd_weights_outer },
    { .op = FCNN_OP_DENSE_BWD_WEIGHTS, .name = "outer_16x16", .priority = 32,
      .files = { "dense_skinny.cl" }, .tunables = SKINNY_TILE(16, 1),
      .supports = ocl_dense_bwd_weights_outer_supports, .run = ocl_dense_bwd_weights_outer },
    { .op = FCNN_OP_DENSE_BWD_WEIGHTS, .name = "gemm_16x16", .priority = 30,
      .files = { "gemm.cl" }, .tunables = GEMM_TILE(16, 1), .supports = ocl_supports_any,
      .run = ocl_dense_bwd_weights_tiled },
    { .op = FCNN_OP_DENSE_BWD_WEIGHTS, .name = "gemm_8x16", .priority = 29,
      .files = { "gemm.cl" }, .tunables = GEMM_TILE(8, 1), .supports = ocl_supports_any,
      .run = ocl_dense_bwd_weights_tiled },
    { .op = FCNN_OP_DENSE_BWD_WEIGHTS, .name = "local_64", .priority = 5,
      .files = { "gemm_local.cl" }, .tunables = LOCAL_TILE(64, 4), .flags = OCL_GPU_SHAPED,
      .supports = ocl_supports_any, .run = ocl_dense_bwd_weights_tiled },
    { .op = FCNN_OP_DENSE_BWD_WEIGHTS, .name = "clblast", .priority = 10,
      .flags = OCL_USES_CLBLAST, .supports = ocl_supports_any,
      .run = ocl_dense_bwd_weights_gemm },

    /* --- loss and optimizers --- */
    { .op = FCNN_OP_SOFTMAX_XENT, .name = "rows", .files = { "loss.cl" }, .tunables = WG(64),
      .supports = ocl_supports_any, .run = ocl_softmax_xent_rows },
    { .op = FCNN_OP_SGD_UPDATE, .name = "elementwise", .files = { "optim.cl" },
      .tunables = WG(64), .supports = ocl_supports_any, .run = ocl_sgd_update_elementwise },
    { .op = FCNN_OP_MOMENTUM_UPDATE, .name = "elementwise", .files = { "optim.cl" },
      .tunables = WG(64), .supports = ocl_supports_any, .run = ocl_momentum_update_elementwise },
    { .op = FCNN_OP_ADAM_UPDATE, .name = "elementwise", .files = { "optim.cl" },
      .tunables = WG(64), .supports = ocl_supports_any, .run = ocl_adam_update_elementwise },
    { .op = FCNN_OP_RMSPROP_UPDATE, .name = "elementwise", .files = { "optim.cl" },
      .tunables = WG(64), .supports = ocl_supports_any, .run = ocl_rmsprop_update_elementwise },
    { .op = FCNN_OP_ADAMW_UPDATE, .name = "elementwise", .files = { "optim.cl" },
      .tunables = WG(64), .supports = ocl_supports_any, .run = ocl_adamw_update_elementwise },

    /* --- activations, dropout, batch normalization --- */
    { .op = FCNN_OP_ACTIVATION_FWD, .name = "vec4", .files = { "activation.cl" },
      .tunables = WG(64), .supports = ocl_supports_any, .run = ocl_activation_fwd_vec4 },
    { .op = FCNN_OP_ACTIVATION_BWD, .name = "vec4", .files = { "activation.cl" },
      .tunables = WG(64), .supports = ocl_supports_any, .run = ocl_activation_bwd_vec4 },
    { .op = FCNN_OP_DROPOUT_FWD, .name = "vec4", .files = { "dropout.cl" },
      .tunables = WG(64), .supports = ocl_supports_any, .run = ocl_dropout_vec4 },
    { .op = FCNN_OP_DROPOUT_BWD, .name = "vec4", .files = { "dropout.cl" },
      .tunables = WG(64), .supports = ocl_supports_any, .run = ocl_dropout_vec4 },
    /* A contiguous slice per work-item, sixteen elements and hashes a step. */
    { .op = FCNN_OP_DROPOUT_FWD, .name = "slices16", .priority = 10,
      .files = { "dropout.cl" }, .tunables = WG(1),
      .supports = ocl_supports_any, .run = ocl_dropout_slices16 },
    { .op = FCNN_OP_DROPOUT_BWD, .name = "slices16", .priority = 10,
      .files = { "dropout.cl" }, .tunables = WG(1),
      .supports = ocl_supports_any, .run = ocl_dropout_slices16 },
    /* Sixteen channels and a slice of rows per work-item (C % 16 == 0): a few dozen
     * work-items, each a long loop and a work-group of its own. */
    { .op = FCNN_OP_BATCHNORM_FWD_TRAIN, .name = "vec16", .priority = 10,
      .files = { "batchnorm.cl" }, .tunables = WG(1),
      .supports = ocl_batchnorm_vec16_supports, .run = ocl_batchnorm_fwd_train_vec16 },
    { .op = FCNN_OP_BATCHNORM_FWD_INFER, .name = "vec16", .priority = 10,
      .files = { "batchnorm.cl" }, .tunables = WG(1),
      .supports = ocl_batchnorm_vec16_supports, .run = ocl_batchnorm_fwd_infer_vec16 },
    { .op = FCNN_OP_BATCHNORM_BWD, .name = "vec16", .priority = 10,
      .files = { "batchnorm.cl" }, .tunables = WG(1),
      .supports = ocl_batchnorm_vec16_supports, .run = ocl_batchnorm_bwd_vec16 },
    /* A max pooling fused in (the only forms that take one): the vec16 form's passes over
     * slices of pooled rows, a window at a time. */
    { .op = FCNN_OP_BATCHNORM_FWD_TRAIN, .name = "pooled16", .priority = 10,
      .files = { "batchnorm.cl" }, .tunables = WG(1),
      .supports = ocl_batchnorm_pooled16_supports, .run = ocl_batchnorm_fwd_train_pooled16 },
    { .op = FCNN_OP_BATCHNORM_BWD, .name = "pooled16", .priority = 10,
      .files = { "batchnorm.cl" }, .tunables = WG(1),
      .supports = ocl_batchnorm_pooled16_supports, .run = ocl_batchnorm_bwd_pooled16 },
    /* A few rows (after a dense layer): the whole op in one launch, a work-item per 16
     * channels walking every row twice. */
    { .op = FCNN_OP_BATCHNORM_FWD_TRAIN, .name = "columns", .priority = 11,
      .files = { "batchnorm.cl" }, .tunables = WG(1),
      .supports = ocl_batchnorm_columns_supports, .run = ocl_batchnorm_fwd_train_columns },
    { .op = FCNN_OP_BATCHNORM_BWD, .name = "columns", .priority = 11,
      .files = { "batchnorm.cl" }, .tunables = WG(1),
      .supports = ocl_batchnorm_columns_supports, .run = ocl_batchnorm_bwd_columns },
    /* Any channel count: one channel per work-item in the sums (a strided column of x),
     * then float4 over channels where they allow. */
    { .op = FCNN_OP_BATCHNORM_FWD_TRAIN, .name = "partial_sums", .files = { "batchnorm.cl" },
      .tunables = WG(64), .supports = ocl_batchnorm_unpooled_supports,
      .run = ocl_batchnorm_fwd_train_partial_sums },
    { .op = FCNN_OP_BATCHNORM_FWD_INFER, .name = "apply", .files = { "batchnorm.cl" },
      .tunables = WG(64), .supports = ocl_supports_any, .run = ocl_batchnorm_fwd_infer_apply },
    { .op = FCNN_OP_BATCHNORM_BWD, .name = "partial_sums", .files = { "batchnorm.cl" },
      .tunables = WG(64), .supports = ocl_batchnorm_unpooled_supports,
      .run = ocl_batchnorm_bwd_partial_sums },
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

int ocl_tunable_or(const struct ocl_variant *variant, const char *name, int fallback)
{
    for (int i = 0; i < OCL_MAX_TUNABLES && variant->tunables[i].name; i++)
        if (strcmp(variant->tunables[i].name, name) == 0)
            return variant->tunables[i].value;
    return fallback;
}

int ocl_tunable(const struct ocl_variant *variant, const char *name)
{
    return ocl_tunable_or(variant, name, 0); /* 0: a row lacks a tunable its launch reads */
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

static bool is_broken(const struct ocl_context *ctx, const struct ocl_variant *variant)
{
    for (int i = 0; i < ctx->broken_count; i++)
        if (ctx->broken[i] == variant)
            return true;
    return false;
}

bool ocl_variant_broken(const struct ocl_context *ctx, const struct ocl_variant *variant)
{
    return is_broken(ctx, variant);
}

/* A variant whose program does not build on this device is left out from then on, with a
 * warning, so one bad kernel (or compiler bug) costs that variant, not the backend. A
 * forced variant is not: its failure is the caller's. Other failures (memory) are
 * returned as they come. */
int ocl_variant_ready(struct ocl_context *ctx, const struct ocl_variant *variant, bool *usable)
{
    *usable = false;
    if (is_broken(ctx, variant))
        return FCNN_OK;
    int status = build_variant(ctx, variant);
    if (status == FCNN_OK) {
        *usable = true;
        return FCNN_OK;
    }
    if (status != FCNN_ERR_DEVICE || ctx->forced[variant->op] == variant ||
        ctx->broken_count == (int)(sizeof ctx->broken / sizeof ctx->broken[0]))
        return status;
    const char *why = fcnn_last_error();
    fprintf(stderr, "opencl: warning: %s variant '%s' disabled: %.*s\n",
            fcnn_op_name(variant->op), variant->name, (int)strcspn(why, "\n"), why);
    ctx->broken[ctx->broken_count++] = variant;
    return FCNN_OK;
}

int ocl_prebuild_variants(struct ocl_context *ctx, const struct ocl_variant *const list[],
                          int count)
{
    enum { MAX = OCL_TUNING_MAX_CANDIDATES * OCL_MAX_VARIANT_FILES };
    char options[OCL_TUNING_MAX_CANDIDATES][256];
    const char *files[MAX] = { 0 }, *file_options[MAX] = { 0 };
    int n = 0;
    for (int v = 0; v < count && v < OCL_TUNING_MAX_CANDIDATES; v++) {
        ocl_variant_options(list[v], options[v], sizeof options[v]);
        for (int f = 0; f < OCL_MAX_VARIANT_FILES && list[v]->files[f]; f++) {
            files[n] = list[v]->files[f];
            file_options[n++] = options[v];
        }
    }
    if (ocl_programs_prebuild(ctx, files, file_options, n) == FCNN_OK)
        return FCNN_OK;
    /* One of them does not build: find which, one by one, and leave it out. */
    for (int v = 0; v < count; v++) {
        bool usable;
        OCL_TRY(ocl_variant_ready(ctx, list[v], &usable));
    }
    return FCNN_OK;
}

static void note_dispatched(struct ocl_context *ctx, const struct ocl_variant *variant);

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
    OCL_TRY(ocl_fusion_flush(ctx)); /* what is deferred runs as it was chosen */
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
    note_dispatched(ctx, variant); /* what a later run forcing it builds too */
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
        return forced->supports(ctx, forced, call) ? forced : NULL;
    const struct ocl_variant *best = NULL;
    for (int i = 0; i < VARIANT_COUNT; i++) {
        const struct ocl_variant *v = &variants[i];
        if (v->op == call->op && (!best || v->priority > best->priority) &&
            !is_broken(ctx, v) && v->supports(ctx, v, call))
            best = v;
    }
    return best;
}

int ocl_supporting_variants(const struct ocl_context *ctx, const struct fcnn_op_call *call,
                            const struct ocl_variant **out, int capacity)
{
    /* On a CPU, PoCL runs a kernel's barriers as loops over its work-group: the
     * GPU-shaped variants are correct there (the harness forces each) but never faster,
     * so tuning does not spend the time to build and time them. */
    bool cpu = (ctx->identity.type & CL_DEVICE_TYPE_CPU) != 0;
    int count = 0;
    for (int i = 0; i < VARIANT_COUNT && count < capacity; i++)
        if (variants[i].op == call->op && !(cpu && (variants[i].flags & OCL_GPU_SHAPED)) &&
            !is_broken(ctx, &variants[i]) &&
            variants[i].supports(ctx, &variants[i], call))
            out[count++] = &variants[i];
    return count;
}

int ocl_run_variant(struct ocl_context *ctx, const struct ocl_variant *variant,
                    const struct fcnn_op_call *call)
{
    /* CLBlast compiles its kernels the first time it runs in a process: that happens here,
     * at the first call that uses it (in the warm-up pass), and never when no variant
     * that uses it is chosen, forced or timed. */
    if ((variant->flags & OCL_USES_CLBLAST) && !ctx->clblast_ready) {
        OCL_TRY(ocl_clblast_warmup(ctx));
        ctx->clblast_ready = true;
    }
    return variant->run(ctx, variant, call);
}

int ocl_dispatch(struct ocl_context *ctx, const struct fcnn_op_call *call)
{
    if (ctx->forced[call->op]) {
        OCL_TRY(ocl_fusion_flush(ctx));
    } else {
        bool taken;
        OCL_TRY(ocl_fusion_offer(ctx, call, &taken));
        if (taken)
            return FCNN_OK;
    }
    return ocl_dispatch_now(ctx, call);
}

static void note_dispatched(struct ocl_context *ctx, const struct ocl_variant *variant)
{
    for (int i = 0; i < ctx->dispatched_count; i++)
        if (ctx->dispatched[i] == variant)
            return;
    if (ctx->dispatched_count < (int)(sizeof ctx->dispatched / sizeof ctx->dispatched[0]))
        ctx->dispatched[ctx->dispatched_count++] = variant;
}

void ocl_variant_dispatched(struct ocl_context *ctx, const struct ocl_variant *variant)
{
    note_dispatched(ctx, variant);
}

bool ocl_program_dispatched(const struct ocl_context *ctx, const char *file,
                            const char *options)
{
    for (int i = 0; i < ctx->dispatched_count; i++) {
        const struct ocl_variant *v = ctx->dispatched[i];
        char own[256];
        ocl_variant_options(v, own, sizeof own);
        for (int f = 0; f < OCL_MAX_VARIANT_FILES && v->files[f]; f++)
            if (strcmp(v->files[f], file) == 0 && strcmp(own, options) == 0)
                return true;
    }
    return false;
}

int ocl_dispatch_now(struct ocl_context *ctx, const struct fcnn_op_call *call)
{
    const struct ocl_variant *forced = ctx->forced[call->op], *variant = NULL;
    if (forced && !forced->supports(ctx, forced, call))
        return fcnn_error(FCNN_ERR_UNSUPPORTED, "opencl: the forced %s variant '%s' does not "
                          "support this call", fcnn_op_name(call->op), forced->name);
    if (forced)
        variant = forced;
    else
        OCL_TRY(ocl_tuned_variant(ctx, call, &variant));
    if (!variant)
        variant = ocl_choose_variant(ctx, call);
    /* Programs are built at first use: a chosen variant that does not build is left out
     * and the choice made again among the others. */
    bool usable = variant == forced;
    while (variant && !usable) {
        OCL_TRY(ocl_variant_ready(ctx, variant, &usable));
        if (!usable) {
            const struct ocl_variant *tuned = NULL;
            OCL_TRY(ocl_tuned_variant(ctx, call, &tuned));
            variant = tuned ? tuned : ocl_choose_variant(ctx, call);
            if (!variant)
                return fcnn_error(FCNN_ERR_DEVICE, "opencl: no %s variant that runs this "
                                  "call builds on this device (see the warnings above)",
                                  fcnn_op_name(call->op));
        }
    }
    if (!variant)
        return fcnn_error(FCNN_ERR_UNSUPPORTED, "opencl: no %s variant supports this call",
                          fcnn_op_name(call->op));
    note_dispatched(ctx, variant);
    struct ocl_profile *p = &ctx->profile;
    if (p->enabled) {
        p->current = call->op;
        p->calls[call->op]++;
        p->flops[call->op] += fcnn_op_flops(call);
    }
    return ocl_run_variant(ctx, variant, call);
}

bool ocl_call_fits_int32(const struct fcnn_op_call *call)
{
    for (int i = 0; i < FCNN_OP_MAX_TENSORS; i++)
        if (call->t[i] && fcnn_tensor_count(call->t[i]) > (size_t)INT_MAX)
            return false;
    return true;
}

bool ocl_supports_any(const struct ocl_context *ctx, const struct ocl_variant *variant,
                      const struct fcnn_op_call *call)
{
    (void)ctx;
    (void)variant;
    return ocl_call_fits_int32(call);
}
