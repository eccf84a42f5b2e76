/* Not a test: what fusing dropout into the max pooling beside it saves (ocl_fuse.c), on
 * the pools of the README's better model (batch 32: [32,28,28,32] and [32,14,14,64]
 * pooled 2x2, each followed by Dropout(0.25)). Each chain
 *
 *   forward   maxpool_fwd(x, p); dropout_fwd(p, q)
 *   backward  dropout_bwd(g, d); maxpool_bwd(x, d, dx)
 *
 * is enqueued REPS times and synchronised once, on one backend opened with fusion and one
 * opened with FCNN_FUSE=0, the two alternated RUNS times; medians are printed, per chain
 * call, of the wall clock and of the CPU time of every thread of the process (PoCL's
 * threads are ours): on a loaded machine the CPU time is the steadier figure, and with
 * POCL_MAX_PTHREAD_COUNT=1 it is close to the work itself. Then whole training steps of
 * that model (its layers built here; the first Fashion-MNIST images), fused and apart
 * alternated, by CPU time.
 *
 *   tests/opencl-dropout-timing [RUNS]        (default 15) */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "agree-lib.h"
#include "backend/backend.h"
#include "opencl_test.h"

#define REPS 20

static double seconds(clockid_t clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct pool_case {
    int n, h, w, c;
};

struct tensors {
    struct fcnn_buffer *buffer;
    struct fcnn_tensor x, dx, p, q, g, d;
};

static void make(struct fcnn_backend *be, const struct pool_case *s, struct tensors *t)
{
    size_t big = (size_t)s->n * s->h * s->w * s->c, small = big / 4;
    size_t bytes = (2 * big + 4 * small) * sizeof(float) + 6 * 256;
    if (fcnn_buffer_alloc(be, bytes, &t->buffer) != FCNN_OK) {
        printf("allocation failed: %s\n", fcnn_last_error());
        exit(1);
    }
    float *data = malloc(big * sizeof *data);
    struct test_rng rng = { 7 };
    for (size_t i = 0; i < big; i++)
        data[i] = test_rng_uniform(&rng, -1, 1);
    size_t at = 0;
    struct fcnn_tensor *all[] = { &t->x, &t->dx, &t->p, &t->q, &t->g, &t->d };
    for (int i = 0; i < 6; i++) {
        int h = i < 2 ? s->h : s->h / 2, w = i < 2 ? s->w : s->w / 2;
        *all[i] = fcnn_tensor_4d(t->buffer, at, FCNN_F32, s->n, h, w, s->c);
        at += (fcnn_tensor_bytes(all[i]) + 255) / 256 * 256;
        if (fcnn_upload(be, all[i], data) != FCNN_OK) {
            printf("upload failed: %s\n", fcnn_last_error());
            exit(1);
        }
    }
    free(data);
}

static int dropout(struct fcnn_backend *be, enum fcnn_op op, const struct fcnn_tensor *in,
                   const struct fcnn_tensor *out, uint32_t seed)
{
    struct fcnn_op_call call = { .op = op, .t = { in, out },
                                 .p.dropout = { .rate = 0.25f, .seed = seed } };
    return fcnn_op_run(be, &call);
}

/* REPS chains and one sync; the wall and CPU seconds per chain. */
static void time_chain(struct fcnn_backend *be, const struct tensors *t, bool backward,
                       double *wall, double *cpu)
{
    struct fcnn_pool_params pool = { .ph = 2, .pw = 2, .sh = 2, .sw = 2 };
    double wall0 = seconds(CLOCK_MONOTONIC), cpu0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
    int status = FCNN_OK;
    for (int r = 0; r < REPS && status == FCNN_OK; r++) {
        if (backward) {
            status = dropout(be, FCNN_OP_DROPOUT_BWD, &t->g, &t->d, (uint32_t)r);
            if (status == FCNN_OK)
                status = fcnn_maxpool_bwd(be, &t->x, &t->d, &t->dx, &pool);
        } else {
            status = fcnn_maxpool_fwd(be, &t->x, &t->p, &pool);
            if (status == FCNN_OK)
                status = dropout(be, FCNN_OP_DROPOUT_FWD, &t->p, &t->q, (uint32_t)r);
        }
    }
    if (status == FCNN_OK)
        status = fcnn_sync(be);
    if (status != FCNN_OK) {
        printf("the chain failed: %s\n", fcnn_last_error());
        exit(1);
    }
    *wall = (seconds(CLOCK_MONOTONIC) - wall0) / REPS;
    *cpu = (seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu0) / REPS;
}


/* --- Whole training steps of the better model -------------------------------------------
 * Its layers as README's spec writes them (AdamW), batch 32, trained from the same seed on
 * a backend with fusion and one without: STEP_BLOCK steps and a sync per sample, the two
 * alternated; the CPU time per step. */

#define STEP_BLOCK 25
#define STEP_BATCH 32

static int build_better(struct fcnn_model *m)
{
    fcnn_model_init(m, (struct fcnn_shape){ 3, { 28, 28, 1 } }, 10);
    int status = FCNN_OK;
    static const int filters[] = { 32, 32, 64, 64 };
    for (int i = 0; i < 4 && status == FCNN_OK; i++) {
        const struct fcnn_conv2d_args conv = { .filters = filters[i], .kh = 3, .kw = 3,
                                               .sh = 1, .sw = 1, .padding = FCNN_PADDING_SAME,
                                               .use_bias = false, .act = FCNN_ACT_NONE };
        if ((status = fcnn_add_conv2d(m, &conv)) == FCNN_OK &&
            (status = fcnn_add_batchnorm(m, 0.99f, 1e-3f)) == FCNN_OK)
            status = fcnn_add_activation(m, FCNN_ACT_RELU);
        if (status == FCNN_OK && i % 2 == 1 &&
            (status = fcnn_add_maxpool2d(m, 2, 2, 2, 2, FCNN_PADDING_VALID)) == FCNN_OK)
            status = fcnn_add_dropout(m, 0.25f);
    }
    if (status == FCNN_OK && (status = fcnn_add_flatten(m)) == FCNN_OK &&
        (status = fcnn_add_dense(m, 256, false, FCNN_ACT_NONE)) == FCNN_OK &&
        (status = fcnn_add_batchnorm(m, 0.99f, 1e-3f)) == FCNN_OK &&
        (status = fcnn_add_activation(m, FCNN_ACT_RELU)) == FCNN_OK &&
        (status = fcnn_add_dropout(m, 0.5f)) == FCNN_OK)
        status = fcnn_add_dense(m, 10, true, FCNN_ACT_SOFTMAX);
    return status;
}

static const struct agree_setup better = { build_better, FCNN_OPT_ADAMW, 0.002, STEP_BATCH, 100,
                                           1 };

/* STEP_BLOCK steps and a sync: the CPU seconds per step. */
static double time_steps(struct agree_run *r)
{
    double cpu0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
    int status = FCNN_OK;
    for (int s = 0; s < STEP_BLOCK && status == FCNN_OK; s++)
        status = fcnn_train_step(&r->t, s * STEP_BATCH, STEP_BATCH);
    if (status == FCNN_OK)
        status = fcnn_sync(r->be);
    if (status != FCNN_OK) {
        printf("a training step failed: %s\n", fcnn_last_error());
        exit(1);
    }
    return (seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu0) / STEP_BLOCK;
}

static void time_better_model(int runs)
{
    struct fcnn_dataset train, test;
    if (agree_load_data(STEP_BLOCK * STEP_BATCH, 100, &train, &test) != 0) {
        printf("training steps: no Fashion-MNIST, not timed\n");
        return;
    }
    struct agree_run apart, fused;
    setenv("FCNN_FUSE", "0", 1);
    int status = agree_open(&apart, &better, "opencl", &train, &test);
    unsetenv("FCNN_FUSE");
    if (status == FCNN_OK)
        status = agree_open(&fused, &better, "opencl", &train, &test);
    if (status != FCNN_OK) {
        printf("opening the model: %s\n", fcnn_last_error());
        exit(1);
    }
    double *cpu[2] = { malloc((size_t)runs * sizeof(double)),
                       malloc((size_t)runs * sizeof(double)) };
    time_steps(&apart); /* tuning and first launches */
    time_steps(&fused);
    for (int r = 0; r < runs; r++) {
        cpu[0][r] = time_steps(&apart);
        cpu[1][r] = time_steps(&fused);
    }
    for (int k = 0; k < 2; k++)
        qsort(cpu[k], (size_t)runs, sizeof(double), compare_doubles);
    printf("training step of the better model, batch %d, CPU time (median, quartiles): apart "
           "%.2f ms (%.2f-%.2f), fused %.2f ms (%.2f-%.2f)\n", STEP_BATCH,
           1e3 * cpu[0][runs / 2], 1e3 * cpu[0][runs / 4], 1e3 * cpu[0][3 * runs / 4],
           1e3 * cpu[1][runs / 2], 1e3 * cpu[1][runs / 4], 1e3 * cpu[1][3 * runs / 4]);
    free(cpu[0]);
    free(cpu[1]);
    agree_close(&apart);
    agree_close(&fused);
    fcnn_dataset_free(&train);
    fcnn_dataset_free(&test);
}

int main(int argc, char **argv)
{
    test_skip_without_opencl("opencl-dropout-timing");
    int runs = argc > 1 ? atoi(argv[1]) : 15;
    if (runs < 1 || runs > 1000) {
        fprintf(stderr, "opencl-dropout-timing: RUNS must be 1 to 1000, not '%s'\n", argv[1]);
        return 2;
    }
    setenv("FCNN_FUSE", "0", 1);
    struct fcnn_backend *apart = test_open_opencl(NULL);
    unsetenv("FCNN_FUSE");
    struct fcnn_backend *fused = test_open_opencl(NULL);
    static const struct pool_case cases[] = { { 32, 28, 28, 32 }, { 32, 14, 14, 64 } };
    printf("%-9s %-16s %12s %12s %12s %12s\n", "chain", "pooled input", "apart wall",
           "fused wall", "apart cpu", "fused cpu");
    for (int backward = 0; backward <= 1; backward++) {
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            const struct pool_case *s = &cases[c];
            struct tensors ta, tf;
            make(apart, s, &ta);
            make(fused, s, &tf);
            double *w[2], *u[2];
            for (int k = 0; k < 2; k++) {
                w[k] = malloc((size_t)runs * sizeof(double));
                u[k] = malloc((size_t)runs * sizeof(double));
            }
            time_chain(apart, &ta, backward, &w[0][0], &u[0][0]); /* first launches */
            time_chain(fused, &tf, backward, &w[1][0], &u[1][0]);
            for (int r = 0; r < runs; r++) {
                time_chain(apart, &ta, backward, &w[0][r], &u[0][r]);
                time_chain(fused, &tf, backward, &w[1][r], &u[1][r]);
            }
            for (int k = 0; k < 2; k++) {
                qsort(w[k], (size_t)runs, sizeof(double), compare_doubles);
                qsort(u[k], (size_t)runs, sizeof(double), compare_doubles);
            }
            char shape[32];
            snprintf(shape, sizeof shape, "%dx%dx%dx%d", s->n, s->h, s->w, s->c);
            printf("%-9s %-16s %9.3f ms %9.3f ms %9.3f ms %9.3f ms\n",
                   backward ? "backward" : "forward", shape, 1e3 * w[0][runs / 2],
                   1e3 * w[1][runs / 2], 1e3 * u[0][runs / 2], 1e3 * u[1][runs / 2]);
            for (int k = 0; k < 2; k++) {
                free(w[k]);
                free(u[k]);
            }
            fcnn_buffer_free(apart, ta.buffer);
            fcnn_buffer_free(fused, tf.buffer);
        }
    }
    fcnn_backend_close(apart);
    fcnn_backend_close(fused);
    time_better_model(runs);
    return 0;
}
