/* Not a test: times each op of one training step of the reference model (batch 32:
 * conv 3x3 28x28x1 -> 32 + ReLU, pool 2, conv 3x3 14x14x32 -> 64 + ReLU, pool 2, dense
 * 3136 -> 10, softmax cross-entropy, Adam) on the opencl backend, and on ref beside it,
 * plus the whole step enqueued back to back with one synchronisation at its end.
 *
 *   tests/opencl-timing [RUNS]        (default 21; medians are printed)
 *
 * Start-up (program builds, cache, CLBlast warm-up) is printed by the backend itself:
 * run with an empty $XDG_CACHE_HOME and POCL_CACHE_DIR for a cold start. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/backend.h"
#include "opencl_test.h"

#define BATCH 32
#define DATASET 1024

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Every tensor of one step, on one backend, each in its own buffer. */
struct model {
    struct fcnn_backend *be;
    struct fcnn_tensor images, labels_u8, order, x, y;
    struct fcnn_tensor w1, b1, a1, p1, w2, b2, a2, p2, w3, b3, logits;
    struct fcnn_tensor dlogits, loss, pred;
    struct fcnn_tensor dp2, da2, dp1, da1, dw1, db1, dw2, db2, dw3, db3;
    struct fcnn_tensor m[6], v[6];
};

/* Every buffer made, to free them before closing. */
static struct {
    struct fcnn_backend *be;
    struct fcnn_buffer *buffer;
} made[128];
static int made_count;

static struct fcnn_tensor make(struct fcnn_backend *be, struct test_rng *rng,
                               enum fcnn_dtype dtype, int ndim, const int *shape, int bound)
{
    struct fcnn_tensor t = fcnn_tensor_make(NULL, 0, dtype, ndim, shape);
    size_t count = fcnn_tensor_count(&t), bytes = fcnn_tensor_bytes(&t);
    if (fcnn_buffer_alloc(be, bytes, &t.buffer) != FCNN_OK) {
        printf("allocation failed: %s\n", fcnn_last_error());
        exit(1);
    }
    made[made_count].be = be;
    made[made_count++].buffer = t.buffer;
    unsigned char *data = malloc(bytes);
    for (size_t i = 0; i < count; i++) {
        if (dtype == FCNN_F32)
            ((float *)data)[i] = test_rng_uniform(rng, -0.5f, 0.5f);
        else if (dtype == FCNN_I32)
            ((int32_t *)data)[i] = test_rng_int(rng, bound);
        else
            data[i] = (unsigned char)test_rng_int(rng, bound);
    }
    fcnn_upload(be, &t, data);
    free(data);
    return t;
}

#define T(dtype, bound, ...) make(be, &rng, dtype, (int)(sizeof((int[]){ __VA_ARGS__ }) / sizeof(int)), \
                                  (int[]){ __VA_ARGS__ }, bound)
#define F(...) T(FCNN_F32, 0, __VA_ARGS__)

static void model_make(struct model *md, struct fcnn_backend *be)
{
    struct test_rng rng = { 42 };
    md->be = be;
    md->images = T(FCNN_U8, 256, DATASET, 28, 28, 1);
    md->labels_u8 = T(FCNN_U8, 10, DATASET);
    md->order = T(FCNN_I32, DATASET, DATASET);
    md->x = F(BATCH, 28, 28, 1);
    md->y = T(FCNN_I32, 10, BATCH);
    md->w1 = F(3, 3, 1, 32), md->b1 = F(32), md->a1 = F(BATCH, 28, 28, 32);
    md->p1 = F(BATCH, 14, 14, 32);
    md->w2 = F(3, 3, 32, 64), md->b2 = F(64), md->a2 = F(BATCH, 14, 14, 64);
    md->p2 = F(BATCH, 7, 7, 64);
    md->w3 = F(3136, 10), md->b3 = F(10), md->logits = F(BATCH, 10);
    md->dlogits = F(BATCH, 10), md->loss = F(BATCH), md->pred = T(FCNN_I32, 10, BATCH);
    md->dp2 = F(BATCH, 7, 7, 64), md->da2 = F(BATCH, 14, 14, 64);
    md->dp1 = F(BATCH, 14, 14, 32), md->da1 = F(BATCH, 28, 28, 32);
    md->dw1 = F(3, 3, 1, 32), md->db1 = F(32), md->dw2 = F(3, 3, 32, 64), md->db2 = F(64);
    md->dw3 = F(3136, 10), md->db3 = F(10);
    const struct fcnn_tensor *params[6] = { &md->w1, &md->b1, &md->w2, &md->b2, &md->w3, &md->b3 };
    for (int i = 0; i < 6; i++) {
        int n = (int)fcnn_tensor_count(params[i]);
        md->m[i] = F(n);
        md->v[i] = T(FCNN_F32, 0, n);
    }
}

static void free_buffers(struct fcnn_backend *be)
{
    for (int i = 0; i < made_count; i++) {
        if (made[i].be == be) {
            fcnn_buffer_free(be, made[i].buffer);
            made[i].be = NULL; /* a later backend may get the same address */
        }
    }
}

enum step_op {
    LOAD, CONV1_FWD, POOL1_FWD, CONV2_FWD, POOL2_FWD, DENSE_FWD, XENT,
    DENSE_BWD_W, BIAS3_BWD, DENSE_BWD_X, POOL2_BWD, RELU2_BWD, CONV2_BWD_W, BIAS2_BWD,
    CONV2_BWD_X, POOL1_BWD, RELU1_BWD, CONV1_BWD_W, BIAS1_BWD, ADAM_ALL, STEP_OPS
};

static const struct {
    const char *name;
    double mflop; /* multiply-adds count 2 */
} step_ops[STEP_OPS] = {
    [LOAD] = { "load_batch", 0 },
    [CONV1_FWD] = { "conv2d_fwd     28x28x1->32", 2.0 * BATCH * 784 * 9 * 32 / 1e6 },
    [POOL1_FWD] = { "maxpool_fwd    28x28x32", 0 },
    [CONV2_FWD] = { "conv2d_fwd     14x14x32->64", 2.0 * BATCH * 196 * 288 * 64 / 1e6 },
    [POOL2_FWD] = { "maxpool_fwd    14x14x64", 0 },
    [DENSE_FWD] = { "dense_fwd      3136->10", 2.0 * BATCH * 3136 * 10 / 1e6 },
    [XENT] = { "softmax_xent", 0 },
    [DENSE_BWD_W] = { "dense_bwd_weights", 2.0 * BATCH * 3136 * 10 / 1e6 },
    [BIAS3_BWD] = { "bias_bwd       [32,10]", 0 },
    [DENSE_BWD_X] = { "dense_bwd_data", 2.0 * BATCH * 3136 * 10 / 1e6 },
    [POOL2_BWD] = { "maxpool_bwd    14x14x64", 0 },
    [RELU2_BWD] = { "relu_bwd       14x14x64", 0 },
    [CONV2_BWD_W] = { "conv2d_bwd_filter 14x14 32->64", 2.0 * BATCH * 196 * 288 * 64 / 1e6 },
    [BIAS2_BWD] = { "bias_bwd       14x14x64", 0 },
    [CONV2_BWD_X] = { "conv2d_bwd_data 14x14 32<-64", 2.0 * BATCH * 196 * 288 * 64 / 1e6 },
    [POOL1_BWD] = { "maxpool_bwd    28x28x32", 0 },
    [RELU1_BWD] = { "relu_bwd       28x28x32", 0 },
    [CONV1_BWD_W] = { "conv2d_bwd_filter 28x28 1->32", 2.0 * BATCH * 784 * 9 * 32 / 1e6 },
    [BIAS1_BWD] = { "bias_bwd       28x28x32", 0 },
    [ADAM_ALL] = { "adam_update x6 (all params)", 0 },
};

/* Equal strides and the same padding on every side. */
static struct fcnn_conv2d_params conv_params(int stride, int pad, enum fcnn_activation act)
{
    return (struct fcnn_conv2d_params){ .sh = stride, .sw = stride, .pad_top = pad,
                                        .pad_bottom = pad, .pad_left = pad, .pad_right = pad,
                                        .act = act };
}

static int run_op(struct model *md, enum step_op op)
{
    struct fcnn_backend *be = md->be;
    const struct fcnn_conv2d_params same = conv_params(1, 1, FCNN_ACT_RELU);
    const struct fcnn_pool_params pool = { .ph = 2, .pw = 2, .sh = 2, .sw = 2 };
    switch (op) {
    case LOAD: return fcnn_load_batch(be, &md->images, &md->labels_u8, &md->order, 64, &md->x, &md->y);
    case CONV1_FWD: return fcnn_conv2d_fwd(be, &md->x, &md->w1, &md->b1, &md->a1, &same);
    case POOL1_FWD: return fcnn_maxpool_fwd(be, &md->a1, &md->p1, &pool);
    case CONV2_FWD: return fcnn_conv2d_fwd(be, &md->p1, &md->w2, &md->b2, &md->a2, &same);
    case POOL2_FWD: return fcnn_maxpool_fwd(be, &md->a2, &md->p2, &pool);
    case DENSE_FWD: {
        struct fcnn_tensor flat = fcnn_tensor_reshape_2d(&md->p2, BATCH, 3136);
        return fcnn_dense_fwd(be, &flat, &md->w3, &md->b3, &md->logits, FCNN_ACT_NONE);
    }
    case XENT:
        return fcnn_softmax_xent(be, &md->logits, &md->y, &md->dlogits, &md->loss, &md->pred,
                                 1.0f / BATCH);
    case DENSE_BWD_W: {
        struct fcnn_tensor flat = fcnn_tensor_reshape_2d(&md->p2, BATCH, 3136);
        return fcnn_dense_bwd_weights(be, &flat, &md->dlogits, &md->dw3);
    }
    case BIAS3_BWD: return fcnn_bias_bwd(be, &md->dlogits, &md->db3);
    case DENSE_BWD_X: {
        struct fcnn_tensor flat = fcnn_tensor_reshape_2d(&md->dp2, BATCH, 3136);
        return fcnn_dense_bwd_data(be, &md->dlogits, &md->w3, &flat);
    }
    case POOL2_BWD: return fcnn_maxpool_bwd(be, &md->a2, &md->dp2, &md->da2, &pool);
    case RELU2_BWD: return fcnn_relu_bwd(be, &md->a2, &md->da2, &md->da2);
    case CONV2_BWD_W: return fcnn_conv2d_bwd_filter(be, &md->p1, &md->da2, &md->dw2, &same);
    case BIAS2_BWD: return fcnn_bias_bwd(be, &md->da2, &md->db2);
    case CONV2_BWD_X: return fcnn_conv2d_bwd_data(be, &md->da2, &md->w2, &md->dp1, &same);
    case POOL1_BWD: return fcnn_maxpool_bwd(be, &md->a1, &md->dp1, &md->da1, &pool);
    case RELU1_BWD: return fcnn_relu_bwd(be, &md->a1, &md->da1, &md->da1);
    case CONV1_BWD_W: return fcnn_conv2d_bwd_filter(be, &md->x, &md->da1, &md->dw1, &same);
    case BIAS1_BWD: return fcnn_bias_bwd(be, &md->da1, &md->db1);
    case ADAM_ALL: {
        struct fcnn_tensor *params[6] = { &md->w1, &md->b1, &md->w2, &md->b2, &md->w3, &md->b3 };
        struct fcnn_tensor *grads[6] = { &md->dw1, &md->db1, &md->dw2, &md->db2, &md->dw3, &md->db3 };
        const struct fcnn_adam_params adam = { 1e-3f, 0.9f, 0.999f, 1e-7f };
        for (int i = 0; i < 6; i++) {
            int n = (int)fcnn_tensor_count(params[i]);
            struct fcnn_tensor p = fcnn_tensor_1d(params[i]->buffer, params[i]->offset, FCNN_F32, n);
            struct fcnn_tensor g = fcnn_tensor_1d(grads[i]->buffer, grads[i]->offset, FCNN_F32, n);
            int status = fcnn_adam_update(be, &p, &g, &md->m[i], &md->v[i], &adam);
            if (status != FCNN_OK)
                return status;
        }
        return FCNN_OK;
    }
    case STEP_OPS: break;
    }
    return FCNN_ERR_INVALID;
}

/* Median seconds of `runs` timed runs of op (STEP_OPS: the whole step), each followed by
 * a synchronisation, after two untimed ones. */
static double median_time(struct model *md, int op, int runs)
{
    double *t = calloc((size_t)runs, sizeof *t);
    for (int r = -2; r < runs; r++) {
        double start = now();
        for (int o = op == STEP_OPS ? 0 : op; o < (op == STEP_OPS ? STEP_OPS : op + 1); o++) {
            if (run_op(md, (enum step_op)o) != FCNN_OK) {
                printf("%s failed: %s\n", step_ops[o].name, fcnn_last_error());
                exit(1);
            }
        }
        fcnn_sync(md->be);
        if (r >= 0)
            t[r] = now() - start;
    }
    qsort(t, (size_t)runs, sizeof *t, compare_doubles);
    double median = t[runs / 2];
    free(t);
    return median;
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 21;
    if (runs < 1)
        runs = 1;
    test_skip_without_opencl("opencl-timing");

    double start = now();
    struct fcnn_backend *ocl = test_open_opencl(&(struct fcnn_backend_options){ .verbose = true });
    printf("opencl open: %.3f s  (%s)\n", now() - start, fcnn_backend_device(ocl));
    struct model ocl_model;
    model_make(&ocl_model, ocl);

    /* First-use costs on this device: the first run of each op after open. */
    double first_step = now();
    for (int o = 0; o < STEP_OPS; o++)
        run_op(&ocl_model, (enum step_op)o);
    fcnn_sync(ocl);
    printf("first step after open (first launches): %.3f s\n", now() - first_step);

    /* All the opencl timings first, then ref's, never both backends at once: each one's
     * worker threads (PoCL's pinned, OpenMP's spinning) would steal the other's cores. */
    double t_ocl[STEP_OPS], t_ref[STEP_OPS];
    for (int o = 0; o < STEP_OPS; o++)
        t_ocl[o] = median_time(&ocl_model, o, runs);
    double step = median_time(&ocl_model, STEP_OPS, runs);
    double t_variant[8][2];
    int variants = fcnn_backend_variant_count(ocl, FCNN_OP_CONV2D_FWD);
    for (int v = 0; v < variants && v < 8; v++) {
        fcnn_backend_force_variant(ocl, FCNN_OP_CONV2D_FWD,
                                   fcnn_backend_variant_name(ocl, FCNN_OP_CONV2D_FWD, v));
        t_variant[v][0] = median_time(&ocl_model, CONV1_FWD, runs);
        t_variant[v][1] = median_time(&ocl_model, CONV2_FWD, runs);
    }
    fcnn_backend_force_variant(ocl, FCNN_OP_CONV2D_FWD, NULL);
    char variant_names[8][64];
    for (int v = 0; v < variants && v < 8; v++)
        snprintf(variant_names[v], sizeof variant_names[v], "%s",
                 fcnn_backend_variant_name(ocl, FCNN_OP_CONV2D_FWD, v));
    /* Closed before ref runs: PoCL's pinned worker threads slow OpenMP's down. */
    free_buffers(ocl);
    fcnn_backend_close(ocl);

    struct fcnn_backend *ref = NULL;
    if (fcnn_backend_open("ref", NULL, &ref) != FCNN_OK)
        return 1;
    printf("ref: %s\n\n", fcnn_backend_device(ref));
    struct model ref_model;
    model_make(&ref_model, ref);
    for (int o = 0; o < STEP_OPS; o++)
        t_ref[o] = median_time(&ref_model, o, runs < 5 ? runs : 5);

    printf("%-32s %10s %8s %10s %8s\n", "op (batch 32, median)", "opencl ms", "GFLOPS", "ref ms",
           "ratio");
    double sum_ocl = 0, sum_ref = 0;
    for (int o = 0; o < STEP_OPS; o++) {
        sum_ocl += t_ocl[o];
        sum_ref += t_ref[o];
        char gflops[16] = "";
        if (step_ops[o].mflop > 0)
            snprintf(gflops, sizeof gflops, "%.1f", step_ops[o].mflop / 1e3 / t_ocl[o]);
        printf("%-32s %10.3f %8s %10.3f %7.1fx\n", step_ops[o].name, t_ocl[o] * 1e3, gflops,
               t_ref[o] * 1e3, t_ref[o] / t_ocl[o]);
    }
    printf("%-32s %10.3f %8s %10.3f %7.1fx\n", "sum of ops (one sync each)", sum_ocl * 1e3, "",
           sum_ref * 1e3, sum_ref / sum_ocl);
    printf("%-32s %10.3f   -> %.1f s per 60,000-image epoch (1875 steps)\n",
           "whole step, one sync", step * 1e3, step * 1875);
    for (int v = 0; v < variants && v < 8; v++)
        printf("conv2d_fwd[%s]: conv1 %.3f ms, conv2 %.3f ms\n", variant_names[v],
               t_variant[v][0] * 1e3, t_variant[v][1] * 1e3);

    free_buffers(ref);
    fcnn_backend_close(ref);
    return 0;
}
