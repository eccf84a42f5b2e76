/* tests/backend-ops: the cross-backend harness's command line.
 *
 *   backend-ops [test|grad|perf] [-o OP]... [-b BACKEND]... [-s SEED] [-r REPS] [-k VARIANT]... [-l] [-v]
 *
 * The backends come from the registry, so a backend added to src/backend/backend.c is tested
 * without any change here. Exit status, as automake reads it: 0 every case compared passed;
 * 1 a case failed, or a backend of this build exists here but could not be opened; 77 (SKIP)
 * nothing was compared (no backend besides ref in test mode), or a backend has no device
 * here at all (no OpenCL platform or device); 2 a usage error; 99 the harness itself broke. */
#include <config.h>

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "core/status.h"

/* The oracle of test mode, and the one backend name the harness knows. */
#define REFERENCE "ref"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: backend-ops [test|grad|perf] [options]\n"
            "\n"
            "Checks every op of every backend in this build (%s).\n"
            "\n"
            "modes:\n"
            "  test   every case on every variant of every backend other than ref,\n"
            "         against ref (the default)\n"
            "  grad   every backward op of every backend (ref included) against central\n"
            "         finite differences of its forward; optimizer updates against their\n"
            "         closed-form definitions\n"
            "  perf   time the model's layer calls per backend and variant (median of\n"
            "         several runs after a warm-up); prints figures, asserts nothing\n"
            "\n"
            "options:\n"
            "  -o, --op OP            only this op (repeatable): ",
            fcnn_backend_names());
    for (int op = 0; op < FCNN_OP_COUNT; op++)
        fprintf(out, "%s%s", op ? ", " : "", fcnn_op_name(op));
    fprintf(out,
            "\n"
            "  -b, --backend NAME     only this backend (repeatable)\n"
            "  -s, --seed N           seed of every input (default 1)\n"
            "  -r, --reps N           perf: at most N timed runs per case (default 20)\n"
            "  -k, --variant NAME     only this variant (repeatable), e.g. -k tiled_4x64;\n"
            "                         in test mode the automatic choice is then not checked\n"
            "  -c, --cpu-time         perf: time by the process's CPU time (all threads),\n"
            "                         not the wall clock: on a loaded machine, with\n"
            "                         POCL_MAX_PTHREAD_COUNT=1, the work without the waiting\n"
            "  -l, --list             list the mode's case ids and exit\n"
            "  -v, --verbose          also print the NMSE of passing outputs\n"
            "  -h, --help             this help\n"
            "\n"
            "Each case prints '<case> <backend>[:<variant>] OK|FAILED|SKIPPED'; the run ends\n"
            "with 'N passed, N failed, N skipped'. Exit status: 0 all passed, 1 a failure\n"
            "(a backend that is here but cannot be opened is one), 77 nothing could be\n"
            "compared or a backend has no device here at all (automake's SKIP), 2 usage error.\n");
}

struct options {
    enum harness_mode mode;
    const char *backends[16];
    int backend_count;
    bool list;
};

static bool backend_wanted(const struct options *o, const char *name)
{
    if (!o->backend_count)
        return true;
    for (int i = 0; i < o->backend_count; i++)
        if (strcmp(o->backends[i], name) == 0)
            return true;
    return false;
}

static int parse(int argc, char **argv, struct harness *h, struct options *o)
{
    static const struct option longs[] = {
        { "op", required_argument, NULL, 'o' },   { "backend", required_argument, NULL, 'b' },
        { "seed", required_argument, NULL, 's' }, { "reps", required_argument, NULL, 'r' },
        { "list", no_argument, NULL, 'l' },       { "verbose", no_argument, NULL, 'v' },
        { "cpu-time", no_argument, NULL, 'c' },
        { "variant", required_argument, NULL, 'k' },
        { "help", no_argument, NULL, 'h' },       { NULL, 0, NULL, 0 },
    };
    int opt;
    char *end;
    while ((opt = getopt_long(argc, argv, "o:b:s:r:k:clvh", longs, NULL)) != -1) {
        switch (opt) {
        case 'o':
            if (!harness_select_op(h, optarg)) {
                fprintf(stderr, "backend-ops: no op named '%s' (see --help)\n", optarg);
                return 2;
            }
            break;
        case 'b':
            if (o->backend_count == (int)(sizeof o->backends / sizeof o->backends[0])) {
                fprintf(stderr, "backend-ops: too many -b options\n");
                return 2;
            }
            o->backends[o->backend_count++] = optarg;
            break;
        case 's':
            h->seed = strtoull(optarg, &end, 10);
            if (*end || !*optarg) {
                fprintf(stderr, "backend-ops: seed '%s' is not a number\n", optarg);
                return 2;
            }
            break;
        case 'r':
            h->perf_max_reps = (int)strtol(optarg, &end, 10);
            if (*end || h->perf_max_reps < 1) {
                fprintf(stderr, "backend-ops: reps '%s' is not a positive number\n", optarg);
                return 2;
            }
            break;
        case 'k':
            if (h->variant_count == (int)(sizeof h->variants / sizeof h->variants[0])) {
                fprintf(stderr, "backend-ops: too many -k options\n");
                return 2;
            }
            h->variants[h->variant_count++] = optarg;
            break;
        case 'c': h->perf_cpu_time = true; break;
        case 'l': o->list = true; break;
        case 'v': h->verbose = true; break;
        case 'h': usage(stdout); exit(0);
        default:
            fprintf(stderr, "Try 'backend-ops --help'.\n");
            return 2;
        }
    }
    if (optind < argc) {
        const char *mode = argv[optind++];
        if (strcmp(mode, "test") == 0)
            o->mode = HARNESS_TEST;
        else if (strcmp(mode, "grad") == 0)
            o->mode = HARNESS_GRAD;
        else if (strcmp(mode, "perf") == 0)
            o->mode = HARNESS_PERF;
        else {
            fprintf(stderr, "backend-ops: unknown mode '%s' (test, grad or perf)\n", mode);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "backend-ops: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    h->mode = o->mode;
    for (int i = 0; i < o->backend_count; i++)
        if (!fcnn_backend_exists(o->backends[i]))
            fprintf(stdout, "backend %s is not in this build (it has: %s)\n", o->backends[i],
                    fcnn_backend_names());
    return 0;
}

int main(int argc, char **argv)
{
    struct harness h;
    struct options o = { .mode = HARNESS_TEST };
    harness_init(&h, HARNESS_TEST, stdout);
    int status = parse(argc, argv, &h, &o);
    if (status) {
        harness_free(&h);
        return status;
    }
    if (o.list) {
        harness_list_cases(&h);
        harness_free(&h);
        return 0;
    }

    struct fcnn_backend *ref = NULL;
    if (o.mode == HARNESS_TEST && fcnn_backend_open(REFERENCE, NULL, &ref) != FCNN_OK) {
        fprintf(stderr, "backend-ops: cannot open the reference backend: %s\n", fcnn_last_error());
        return 99;
    }

    /* The backends under test: test mode holds every backend but ref up to ref; the other
     * modes run each backend on its own, ref included. */
    struct fcnn_backend *targets[16];
    int target_count = 0, absent = 0;
    for (int i = 0; i < fcnn_backend_count() && target_count < 16; i++) {
        const char *name = fcnn_backend_name_at(i);
        if (!backend_wanted(&o, name) || (o.mode == HARNESS_TEST && strcmp(name, REFERENCE) == 0))
            continue;
        struct fcnn_backend *be;
        int open_status = fcnn_backend_open(name, NULL, &be);
        if (open_status == FCNN_ERR_NO_DEVICE) {
            /* Nothing of this backend's kind is installed here: the one honest skip. */
            harness_skip_backend(&h, name, fcnn_last_error());
            absent++;
            continue;
        }
        if (open_status != FCNN_OK) {
            /* It is here but does not work (a kernel that does not build, a broken
             * $FCNN_KERNEL_DIR, a device error): that is a failure, never a skip. */
            harness_fail_backend(&h, name, fcnn_last_error());
            continue;
        }
        if (o.mode != HARNESS_PERF) /* perf heads its table with this */
            fprintf(stdout, "backend %s on %s\n", name, fcnn_backend_device(be));
        targets[target_count++] = be;
    }
    if (o.mode == HARNESS_TEST && !target_count && !h.skipped)
        fprintf(stdout, "test mode compares other backends with ref, and none is selected or "
                        "in this build: nothing to compare\n");

    switch (o.mode) {
    case HARNESS_TEST:
        harness_run_test(&h, ref, targets, target_count);
        break;
    case HARNESS_GRAD:
        for (int i = 0; i < target_count; i++)
            harness_run_grad(&h, targets[i]);
        break;
    case HARNESS_PERF:
        for (int i = 0; i < target_count; i++)
            harness_run_perf(&h, targets[i]);
        break;
    }

    harness_print_totals(&h);
    status = harness_exit_status(&h);
    /* A -k that named no variant of the ops run (a typo) ran nothing: say so. */
    for (int i = 0; target_count && i < h.variant_count; i++)
        if (!h.variant_seen[i]) {
            fprintf(stderr, "backend-ops: -k %s: no variant of the ops run has that name\n",
                    h.variants[i]);
            status = 2;
        }
    /* A backend with no device here was not checked at all: even when everything else
     * passed, the run says SKIP rather than let its absence read as a pass. */
    if (status == 0 && absent) {
        fprintf(stdout, "%d backend(s) have no device here; their cases were skipped\n", absent);
        status = 77;
    }
    for (int i = 0; i < target_count; i++)
        fcnn_backend_close(targets[i]);
    fcnn_backend_close(ref);
    harness_free(&h);
    return status;
}
