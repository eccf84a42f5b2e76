/* The benchmark. Every figure is a median over repeated, separately timed runs, with the
 * device drained (fcnn_sync) before each clock is read, so queued work is never mistaken
 * for finished work. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "train/bench.h"
#include "train/host_peak.h"
#include "core/status.h"

/* Runs stop after this many seconds (or the most repetitions allowed), whichever first. */
#define BENCH_SECONDS 3.0
#define TRAIN_CHUNK_STEPS 50
#define MAX_REPEATS 9
/* The peak is measured on a square product large enough that the backend's best GEMM
 * kernel runs at its steady rate (a [1024,1024] x [1024,1024] product is 2.1 GFLOP). */
#define PEAK_GEMM_SIZE 1024

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
static int bench_training(struct fcnn_trainer *t, FILE *out, double *images_per_second)
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
    *images_per_second = rate;
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

/* The backend's own dense layer on a square product; raises *gflops to its rate. */
static int bench_backend_peak(struct fcnn_trainer *t, FILE *out, double *gflops)
{
    const int n = PEAK_GEMM_SIZE;
    size_t matrix = (size_t)n * n * sizeof(float);
    struct fcnn_buffer *buf = NULL;
    int status = fcnn_buffer_alloc(t->be, 3 * matrix + n * sizeof(float), &buf);
    float *host = status == FCNN_OK ? malloc(matrix) : NULL;
    if (status == FCNN_OK && !host)
        status = fcnn_error(FCNN_ERR_NOMEM, "out of memory for the GEMM benchmark");
    struct fcnn_tensor x = fcnn_tensor_2d(buf, 0, FCNN_F32, n, n);
    struct fcnn_tensor w = fcnn_tensor_2d(buf, matrix, FCNN_F32, n, n);
    struct fcnn_tensor y = fcnn_tensor_2d(buf, 2 * matrix, FCNN_F32, n, n);
    struct fcnn_tensor b = fcnn_tensor_1d(buf, 3 * matrix, FCNN_F32, n);
    if (status == FCNN_OK) {
        /* Small ordinary values: no denormals, no overflow. */
        for (size_t i = 0; i < (size_t)n * n; i++)
            host[i] = (float)((i * 7919u) % 17u) * 0.01f - 0.08f;
        status = fcnn_upload(t->be, &x, host);
        if (status == FCNN_OK)
            status = fcnn_upload(t->be, &w, host);
        if (status == FCNN_OK)
            status = fcnn_upload(t->be, &b, host);
    }
    double times[MAX_REPEATS];
    int reps = 0;
    double spent = 0;
    /* The first run is not counted: it tunes and compiles. */
    if (status == FCNN_OK)
        status = fcnn_dense_fwd(t->be, &x, &w, &b, &y, FCNN_ACT_NONE);
    if (status == FCNN_OK)
        status = fcnn_sync(t->be);
    while (status == FCNN_OK && reps < MAX_REPEATS && (reps < 3 || spent < 1.0)) {
        double start = fcnn_now();
        status = fcnn_dense_fwd(t->be, &x, &w, &b, &y, FCNN_ACT_NONE);
        if (status == FCNN_OK)
            status = fcnn_sync(t->be);
        times[reps] = fcnn_now() - start;
        spent += times[reps++];
    }
    free(host);
    fcnn_buffer_free(t->be, buf);
    if (status != FCNN_OK)
        return status;
    double rate = 2.0 * n * n * (double)n / median(times, reps) * 1e-9;
    fprintf(out, "  fp32 peak: %.1f GFLOPS (dense_fwd on [%d,%d] x [%d,%d], median of %d)\n",
            rate, n, n, n, n, reps);
    if (rate > *gflops)
        *gflops = rate;
    return FCNN_OK;
}

/* The fp32 peak the FLOP floor of an epoch is measured against, printed with every
 * benchmark: the backend's own dense layer on a large product and, when the device is the
 * host's CPU and the build has OpenBLAS, OpenBLAS's sgemm on every core; the faster of
 * the two. */
static int bench_peak(struct fcnn_trainer *t, FILE *out, double *gflops)
{
    *gflops = 0;
    /* First, so that OpenBLAS's threads have gone back to sleep before our own
     * measurements; they spin for a while after each product. */
    if (fcnn_backend_on_host_cpu(t->be) && fcnn_host_peak_available()) {
        struct fcnn_host_peak host;
        int status = fcnn_host_peak_measure(1.0, &host);
        if (status == FCNN_ERR_UNSUPPORTED) { /* the library is gone: our GEMM alone */
            fprintf(out, "  fp32 peak: OpenBLAS not measured: %s\n", fcnn_last_error());
        } else if (status != FCNN_OK) {
            return status;
        } else {
            fprintf(out, "  fp32 peak: %.1f GFLOPS (OpenBLAS sgemm on [%d,%d] x [%d,%d], %d "
                    "threads, %s kernels, median of %d)\n", host.gflops, host.size, host.size,
                    host.size, host.size, host.threads, host.kernels, host.repeats);
            *gflops = host.gflops;
        }
    }
    return bench_backend_peak(t, out, gflops);
}

/* What --predict pays per image once the model is loaded: one sample through load,
 * forward, softmax, and its prediction read back. */
static int bench_latency(struct fcnn_trainer *t, FILE *out)
{
    struct fcnn_backend *be = t->be;
    struct fcnn_tensor images = fcnn_split_images(t->val), labels = fcnn_split_labels(t->val);
    struct fcnn_tensor order = fcnn_split_order(t->val);
    struct fcnn_tensor x = fcnn_network_input(t->net, 1), y = fcnn_network_labels(t->net, 1);
    struct fcnn_tensor loss = fcnn_split_loss(t->val, 0, 1), pred = fcnn_split_pred(t->val, 0, 1);
    double times[MAX_REPEATS * 20];
    int reps = 0, status = FCNN_OK;
    double spent = 0;
    for (int run = -1; status == FCNN_OK && reps < MAX_REPEATS * 20 && (reps < 5 || spent < 1.0);
         run++) {
        double start = fcnn_now();
        int32_t predicted;
        status = fcnn_load_batch(be, &images, &labels, &order, run < 0 ? 0 : run % t->val->count,
                                 &x, &y);
        if (status == FCNN_OK)
            status = fcnn_network_forward(t->net, 1, false);
        if (status == FCNN_OK)
            status = fcnn_network_loss(t->net, 1, &loss, &pred, false);
        if (status == FCNN_OK)
            status = fcnn_download(be, &pred, &predicted);
        if (run >= 0) { /* the first run builds and tunes the batch-1 shapes */
            times[reps] = fcnn_now() - start;
            spent += times[reps++];
        }
    }
    if (status != FCNN_OK)
        return status;
    fprintf(out, "  latency:   one image, load to prediction: %.3f ms (median of %d)\n",
            1e3 * median(times, reps), reps);
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
static int bench_ops(struct fcnn_trainer *t, FILE *out, double peak_gflops,
                     double images_per_second)
{
    struct fcnn_trace trace = { 0 };
    fcnn_backend_trace(t->be, &trace);
    int batch = t->batch_size < t->train->count ? t->batch_size : t->train->count;
    int status = fcnn_train_step(t, 0, batch);
    fcnn_backend_trace(t->be, NULL);
    if (status == FCNN_OK)
        status = fcnn_sync(t->be);
    double *ms = calloc((size_t)trace.count + 1, sizeof *ms);
    if (!ms && status == FCNN_OK)
        status = fcnn_error(FCNN_ERR_NOMEM, "out of memory for the benchmark");

    double total = 0, step_flops = 0, best_op_gflops = 0;
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
        double flops = fcnn_op_flops(&trace.calls[c].call);
        step_flops += flops;
        if (flops / ms[c] * 1e-6 > best_op_gflops)
            best_op_gflops = flops / ms[c] * 1e-6;
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
        /* The floor: the convolutions' and dense layers' arithmetic alone, counted as the
         * direct forms' FLOPs, at the measured peak. */
        double image_flops = step_flops / batch, epoch = 60000.0 / images_per_second;
        double floor_seconds = image_flops * 60000.0 / (peak_gflops * 1e9);
        fprintf(out, "  FLOP floor: %.1f MFLOP per training image; at the %.1f GFLOPS peak a "
                "60,000-image epoch needs %.2f s; measured %.2f s = %.2fx the floor\n",
                image_flops * 1e-6, peak_gflops, floor_seconds, epoch, epoch / floor_seconds);
        /* A Winograd convolution multiplies less than the direct FLOPs it is credited
         * with, so an op can run "faster than the peak"; the floor at that rate too. */
        if (best_op_gflops > peak_gflops) {
            double op_floor = image_flops * 60000.0 / (best_op_gflops * 1e9);
            fprintf(out, "  at the step's fastest op's rate, %.1f GFLOPS counted as direct FLOPs, "
                    "the epoch needs %.2f s: measured %.2fx that\n", best_op_gflops, op_floor,
                    epoch / op_floor);
        }
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
    double peak = 0, images_per_second = 0;
    if (status == FCNN_OK)
        status = bench_training(t, out, &images_per_second);
    if (status == FCNN_OK)
        status = bench_inference(t, out);
    if (status == FCNN_OK)
        status = bench_latency(t, out);
    if (status == FCNN_OK)
        status = bench_peak(t, out, &peak);
    if (status == FCNN_OK)
        status = bench_ops(t, out, peak, images_per_second);
    fflush(out);
    return status;
}
