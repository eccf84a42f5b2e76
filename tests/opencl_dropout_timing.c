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
 * POCL_MAX_PTHREAD_COUNT=1 it is close to the work itself.
 *
 *   tests/opencl-dropout-timing [RUNS]        (default 15) */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

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
    return 0;
}
