/* The benchmark. Every figure is a median over repeated, separately timed runs, with the
 * device drained (fcnn_sync) before each clock is read, so queued work is never mistaken
 * for finished work. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "train/bench.h"
#include "core/status.h"

/* Runs stop after this many seconds (or the most repetitions allowed), whichever first. */
#define BENCH_SECONDS 3.0
#define TRAIN_CHUNK_STEPS 50
#define MAX_REPEATS 9

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, compare_doubles);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Training: chunks of steps over the training split, each chunk timed whole. */
static int bench_training(struct fcnn_trainer *t, FILE *out)
{
    double rates[MAX_REPEATS];
    int chunks = 0, step = 0, steps_per_pass = (t->train->count + t->batch_size - 1) / t->batch_size;
    double spent = 0;
    int status = FCNN_OK;
    while (status == FCNN_OK && chunks < MAX_REPEATS && (chunks < 3 || spent < BENCH_SECONDS)) {
        int images = 0;
        double start = fcnn_now();
        for (int i = 0; i < TRAIN_CHUNK_STEPS && status == FCNN_OK; i++, step++) {
            int first = (step % steps_per_pass) * t->batch_size;
            int n = t->train->count - first < t->batch_size ? t->train->count - first : t->batch_size;
            status = fcnn_train_step(t, first, n);
            images += n;
        }
        if (status == FCNN_OK)
            status = fcnn_sync(t->be);
        double seconds = fcnn_now() - start;
        spent += seconds;
        rates[chunks++] = images / seconds;
    }
    if (status != FCNN_OK)
        return status;
    double rate = median(rates, chunks);
    fprintf(out, "  training:  batch %d, %d chunks of %d steps: %.0f images/s (median), "
            "%.1f s per 60,000-image epoch\n", t->batch_size, chunks, TRAIN_CHUNK_STEPS, rate,
            60000.0 / rate);
    return FCNN_OK;
}

/* Inference: whole passes over the validation split. */
static int bench_inference(struct fcnn_trainer *t, FILE *out)
{
    double rates[MAX_REPEATS];
    int passes = 0;
    double spent = 0;
    int status = FCNN_OK;
    while (status == FCNN_OK && passes < MAX_REPEATS && (passes < 3 || spent < BENCH_SECONDS)) {
        struct fcnn_pass_stats stats;
        double start = fcnn_now();
        status = fcnn_evaluate(t->net, t->val, t->eval_batch_size, &stats);
        double seconds = fcnn_now() - start;
        spent += seconds;
        rates[passes++] = t->val->count / seconds;
        if (spent > 4 * BENCH_SECONDS) /* a slow backend: one figure is enough */
            break;
    }
    if (status != FCNN_OK)
        return status;
    fprintf(out, "  inference: batch %d, %d images: %.0f images/s (median of %d passes)\n",
            t->eval_batch_size, t->val->count, median(rates, passes), passes);
    return FCNN_OK;
}

/* "[32,28,28,32]": the shape of the op's largest tensor, to tell the layers apart. */
static void call_shape(const struct fcnn_op_call *call, char *out, size_t size)
{
    const struct fcnn_tensor *largest = NULL;
    for (int i = 0; i < fcnn_op_tensor_count(call->op); i++)
        if (call->t[i] && (!largest || fcnn_tensor_count(call->t[i]) > fcnn_tensor_count(largest)))
            largest = call->t[i];
    out[0] = '\0';
    if (largest)
        fcnn_tensor_describe(largest, out, size);
}

/* Ops: record one training step, then replay each of its calls alone. */
static int bench_ops(struct fcnn_trainer *t, FILE *out)
{
    struct fcnn_trace trace = { 0 };
    fcnn_backend_trace(t->be, &trace);
    int status = fcnn_train_step(t, 0, t->batch_size < t->train->count ? t->batch_size
                                                                        : t->train->count);
    fcnn_backend_trace(t->be, NULL);
    if (status == FCNN_OK)
        status = fcnn_sync(t->be);
    double *ms = calloc((size_t)trace.count + 1, sizeof *ms);
    if (!ms && status == FCNN_OK)
        status = fcnn_error(FCNN_ERR_NOMEM, "out of memory for the benchmark");

    double total = 0;
    for (int c = 0; c < trace.count && status == FCNN_OK; c++) {
        double times[MAX_REPEATS * 5];
        int reps = 0;
        double spent = 0;
        while (status == FCNN_OK && reps < MAX_REPEATS * 5 && (reps < 3 || spent < 0.2)) {
            double start = fcnn_now();
            status = fcnn_op_run(t->be, &trace.calls[c].call);
            if (status == FCNN_OK)
                status = fcnn_sync(t->be);
            times[reps] = fcnn_now() - start;
            spent += times[reps++];
        }
        ms[c] = 1e3 * median(times, reps);
        total += ms[c];
    }
    if (status == FCNN_OK) {
        fprintf(out, "  ops of one training step, each replayed alone (median):\n");
        fprintf(out, "    %-18s %-20s %9s %7s %8s %8s\n", "op", "largest tensor", "ms", "share",
                "GFLOPS", "GB/s");
        for (int c = 0; c < trace.count; c++) {
            const struct fcnn_op_call *call = &trace.calls[c].call;
            char shape[64], gflops[16] = "-";
            call_shape(call, shape, sizeof shape);
            double flops = fcnn_op_flops(call);
            if (flops > 0)
                snprintf(gflops, sizeof gflops, "%.1f", flops / ms[c] * 1e-6);
            fprintf(out, "    %-18s %-20s %9.3f %6.1f%% %8s %8.2f\n", fcnn_op_name(call->op),
                    shape, ms[c], 100 * ms[c] / total, gflops, fcnn_op_bytes(call) / ms[c] * 1e-6);
        }
        fprintf(out, "    %-18s %-20s %9.3f %6.1f%%\n", "sum", "", total, 100.0);
    }
    free(ms);
    fcnn_trace_free(&trace);
    return status;
}

int fcnn_bench(struct fcnn_trainer *t, FILE *out)
{
    fprintf(out, "Benchmark: backend %s (%s)\n", fcnn_backend_name(t->be),
            fcnn_backend_device(t->be));
    double start = fcnn_now();
    int status = fcnn_warm_up(t);
    if (status == FCNN_OK)
        fprintf(out, "  warm-up:   %.3f s (kernel builds, tuning, first launches)\n",
                fcnn_now() - start);
    if (status == FCNN_OK)
        status = bench_training(t, out);
    if (status == FCNN_OK)
        status = bench_inference(t, out);
    if (status == FCNN_OK)
        status = bench_ops(t, out);
    fflush(out);
    return status;
}
