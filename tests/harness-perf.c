/* Perf mode: the model's layer calls at batch 32, timed on every variant of a backend. Each
 * figure is the median of several repetitions after a warm-up (which also pays for any
 * kernel compilation), each repetition ended by fcnn_sync so that queued work is counted.
 * It prints a table and asserts nothing about time: a slow kernel is not a failure. */
#include <config.h>

#include <stdlib.h>
#include <time.h>

#include "harness-impl.h"
#include "core/status.h"

#define MIN_REPS 3
#define TIME_BUDGET_S 1.0 /* per case and variant, once MIN_REPS have run */

/* The wall clock, or with -c the CPU time of every thread of the process: on a loaded
 * machine a kernel's wall time is mostly waiting for a core, while the CPU time of one
 * PoCL thread (POCL_MAX_PTHREAD_COUNT=1) is the work itself. */
static double now_seconds(bool cpu_time)
{
    struct timespec ts;
    clock_gettime(cpu_time ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Bytes the call reads and writes, counting in-place tensors twice. */
static double bytes_moved(const struct harness_case *c)
{
    double bytes = 0;
    for (int i = 0; i < fcnn_op_tensor_count(c->op); i++) {
        if (c->t[i].omitted)
            continue;
        double b = (double)spec_bytes(&c->t[i]);
        bytes += fcnn_op_tensor_role(c->op, i) == FCNN_INOUT ? 2 * b : b;
    }
    return bytes;
}

static void time_variant(struct harness *h, const struct harness_case *c,
                         struct fcnn_backend *be, const char *target, void *const host[])
{
    char why[1024] = "";
    struct placed_call pc;
    if (!placed_call_init(&pc, be, c, host, 0, why, sizeof why)) {
        harness_record(h, c->op, c->id, target, HARNESS_FAILED, why);
        return;
    }
    if (!fcnn_backend_supports(be, &pc.call)) {
        harness_record(h, c->op, c->id, target, HARNESS_SKIPPED, "not supported");
        placed_call_free(&pc);
        return;
    }
    int status = fcnn_op_run(be, &pc.call);
    if (status == FCNN_OK)
        status = fcnn_sync(be);
    if (status != FCNN_OK) {
        snprintf(why, sizeof why, "%s", fcnn_last_error());
        harness_record(h, c->op, c->id, target,
                       status == FCNN_ERR_UNSUPPORTED ? HARNESS_SKIPPED : HARNESS_FAILED, why);
        placed_call_free(&pc);
        return;
    }

    int max_reps = h->perf_max_reps > MIN_REPS ? h->perf_max_reps : MIN_REPS;
    double *times = harness_xmalloc((size_t)max_reps * sizeof *times), spent = 0;
    int reps = 0;
    while (reps < max_reps && (reps < MIN_REPS || spent < TIME_BUDGET_S)) {
        double start = now_seconds(h->perf_cpu_time);
        status = fcnn_op_run(be, &pc.call);
        if (status == FCNN_OK)
            status = fcnn_sync(be);
        if (status != FCNN_OK)
            break;
        times[reps] = now_seconds(h->perf_cpu_time) - start;
        spent += times[reps++];
    }
    if (status != FCNN_OK) {
        snprintf(why, sizeof why, "%s", fcnn_last_error());
        harness_record(h, c->op, c->id, target, HARNESS_FAILED, why);
    } else {
        qsort(times, (size_t)reps, sizeof *times, compare_doubles);
        double median = reps % 2 ? times[reps / 2] : (times[reps / 2 - 1] + times[reps / 2]) / 2;
        char gflops[16] = "-";
        if (c->flops > 0)
            snprintf(gflops, sizeof gflops, "%.2f", c->flops / median * 1e-9);
        fprintf(h->out, "%-46s %-30s %10.4f %9s %9.2f %5d\n", c->id, target, median * 1e3,
                gflops, bytes_moved(c) / median * 1e-9, reps);
        harness_record(h, c->op, c->id, target, HARNESS_PASSED, NULL);
    }
    free(times);
    placed_call_free(&pc);
}

void harness_run_perf(struct harness *h, struct fcnn_backend *be)
{
    struct harness_case_list list = { 0 };
    harness_cases_perf(&list);
    fprintf(h->out, "\nbackend %s on %s\n", fcnn_backend_name(be), fcnn_backend_device(be));
    fprintf(h->out, "%-46s %-30s %10s %9s %9s %5s\n", "case", "backend:variant", "median ms",
            "GFLOPS", "GB/s", "reps");
    for (int ci = 0; ci < list.count; ci++) {
        const struct harness_case *c = &list.items[ci];
        if (!h->op_selected[c->op])
            continue;
        struct harness_rng rng;
        rng_seed(&rng, h->seed, c->id);
        void *host[FCNN_OP_MAX_TENSORS] = { 0 };
        for (int i = 0; i < fcnn_op_tensor_count(c->op); i++)
            host[i] = harness_make_input(&c->t[i], &rng);

        int variants = fcnn_backend_variant_count(be, c->op);
        for (int v = 0; v < variants; v++) {
            const char *variant = fcnn_backend_variant_name(be, c->op, v);
            /* -k: an A/B of two kernels need not time every slow variant of the op */
            if (variant && !harness_variant_wanted(h, variant))
                continue;
            char target[96];
            harness_target_name(be, variant ? variant : "?", target, sizeof target);
            if (!variant || fcnn_backend_force_variant(be, c->op, variant) != FCNN_OK) {
                harness_record(h, c->op, c->id, target, HARNESS_FAILED,
                               "the backend lists this variant but cannot force it");
                continue;
            }
            time_variant(h, c, be, target, host);
        }
        fcnn_backend_force_variant(be, c->op, NULL);
        for (int i = 0; i < FCNN_OP_MAX_TENSORS; i++)
            free(host[i]);
    }
    harness_case_list_free(&list);
}
