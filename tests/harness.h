/* The cross-backend harness as a small library: the case tables, the three modes and the
 * verdicts they record. tests/backend-ops is its command line; the planted-bug tests call
 * it directly on deliberately broken backends, to prove that it can fail.
 *
 * Nothing here knows any backend but through backend.h: the backends come from the
 * registry, their kernel variants from fcnn_backend_variant_count/name, so a new backend
 * or variant is covered without touching the harness. */
#ifndef FCNN_HARNESS_H
#define FCNN_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "backend/backend.h"

enum harness_mode {
    HARNESS_TEST, /* every case on every backend and variant, against the reference backend */
    HARNESS_GRAD, /* every backward op against central finite differences of its forward */
    HARNESS_PERF, /* time per op, backend and variant; prints figures, asserts nothing */
};

enum harness_verdict { HARNESS_PASSED, HARNESS_FAILED, HARNESS_SKIPPED };

/* One line of the run: a case on one backend variant, and what became of it. */
struct harness_result {
    enum fcnn_op op;
    char id[128];     /* the case: "conv2d_bwd_filter(n=7,h=13,w=13,c=3,k=32)" */
    char target[96];  /* "backend" or "backend:variant" */
    enum harness_verdict verdict;
};

struct harness {
    enum harness_mode mode;
    bool op_selected[FCNN_OP_COUNT]; /* -o filters; all true by default */
    bool op_filtered;                /* an -o was given: only the ops it named run */
    uint64_t seed;                   /* every input derives from it and the case id */
    int perf_max_reps;               /* perf: most timed repetitions per case */
    bool perf_cpu_time;              /* perf: time by the process's CPU time, not the clock */
    const char *variants[64];        /* -k filters; none given runs every variant */
    int variant_count;
    bool variant_seen[64];           /* which -k names some op of the run had */
    bool verbose;                    /* also print NMSE and worst error of passing cases */
    FILE *out;

    int passed, failed, skipped;
    struct harness_result *results;
    int result_count, result_capacity;
};

void harness_init(struct harness *h, enum harness_mode mode, FILE *out);
void harness_free(struct harness *h);

/* Selects one op (the first call deselects the others); false if no op has that name. */
bool harness_select_op(struct harness *h, const char *name);
/* Whether the -k filters let `variant` run (every variant when none was given); marks the
 * filter that named it as seen. */
bool harness_variant_wanted(struct harness *h, const char *variant);

/* test: each case on every variant of every backend in `targets`, against `ref`. */
void harness_run_test(struct harness *h, struct fcnn_backend *ref,
                      struct fcnn_backend *const *targets, int target_count);
/* grad: the backward ops of `be` against finite differences of its own forward ops, and its
 * optimizer updates against their closed-form definitions. */
void harness_run_grad(struct harness *h, struct fcnn_backend *be);
/* perf: the model's layer shapes on every variant of `be`. */
void harness_run_perf(struct harness *h, struct fcnn_backend *be);

/* A backend with no device here at all (FCNN_ERR_NO_DEVICE): each of its cases is skipped. */
void harness_skip_backend(struct harness *h, const char *name, const char *why);
/* A backend that is here but failed to open: one failure, recorded under the id "open". */
void harness_fail_backend(struct harness *h, const char *name, const char *why);

/* Prints the ids of the cases of the current mode, one a line. */
void harness_list_cases(struct harness *h);

/* "N passed, N failed, N skipped" */
void harness_print_totals(const struct harness *h);
/* 1 if any case failed; else 77 (automake's SKIP) if nothing passed; else 0. */
int harness_exit_status(const struct harness *h);

#endif
