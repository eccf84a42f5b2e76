/* The harness's bookkeeping: filters, the verdict of each case, the totals line and the
 * exit status automake reads. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "harness-impl.h"

void harness_init(struct harness *h, enum harness_mode mode, FILE *out)
{
    memset(h, 0, sizeof *h);
    h->mode = mode;
    h->seed = 1;
    h->perf_max_reps = 20;
    h->out = out;
    for (int op = 0; op < FCNN_OP_COUNT; op++)
        h->op_selected[op] = true;
}

void harness_free(struct harness *h)
{
    free(h->results);
    h->results = NULL;
    h->result_count = h->result_capacity = 0;
}

bool harness_select_op(struct harness *h, const char *name)
{
    int op = fcnn_op_from_name(name);
    if (op < 0)
        return false;
    if (!h->op_filtered)
        memset(h->op_selected, 0, sizeof h->op_selected);
    h->op_filtered = true;
    h->op_selected[op] = true;
    return true;
}

bool harness_variant_wanted(struct harness *h, const char *variant)
{
    if (!h->variant_count)
        return true;
    for (int i = 0; i < h->variant_count; i++)
        if (strcmp(h->variants[i], variant) == 0)
            return h->variant_seen[i] = true;
    return false;
}

void harness_target_name(struct fcnn_backend *be, const char *variant, char *out, size_t size)
{
    const char *backend = fcnn_backend_name(be);
    if (!variant || strcmp(variant, backend) == 0)
        snprintf(out, size, "%s", backend);
    else
        snprintf(out, size, "%s:%s", backend, variant);
}

void harness_record(struct harness *h, enum fcnn_op op, const char *id, const char *target,
                    enum harness_verdict verdict, const char *detail)
{
    static const char *const words[] = { "OK", "FAILED", "SKIPPED" };
    /* Perf mode prints its own table row for a measured case. */
    if (!(h->mode == HARNESS_PERF && verdict == HARNESS_PASSED))
        fprintf(h->out, "%s %s %s\n", id, target, words[verdict]);
    /* Indent every line of the detail under its case. */
    if (detail && *detail) {
        const char *line = detail;
        while (*line) {
            const char *end = strchr(line, '\n');
            int len = end ? (int)(end - line) : (int)strlen(line);
            fprintf(h->out, "    %.*s\n", len, line);
            line += len + (end ? 1 : 0);
        }
    }
    fflush(h->out);

    switch (verdict) {
    case HARNESS_PASSED: h->passed++; break;
    case HARNESS_FAILED: h->failed++; break;
    case HARNESS_SKIPPED: h->skipped++; break;
    }
    if (h->result_count == h->result_capacity) {
        h->result_capacity = h->result_capacity ? 2 * h->result_capacity : 256;
        struct harness_result *grown =
            realloc(h->results, (size_t)h->result_capacity * sizeof *grown);
        if (!grown) {
            fprintf(stderr, "harness: out of memory\n");
            exit(99);
        }
        h->results = grown;
    }
    struct harness_result *r = &h->results[h->result_count++];
    r->op = op;
    snprintf(r->id, sizeof r->id, "%s", id);
    snprintf(r->target, sizeof r->target, "%s", target);
    r->verdict = verdict;
}

void harness_fail_backend(struct harness *h, const char *name, const char *why)
{
    fprintf(h->out, "backend %s is here but failed to open: %s\n", name, why);
    /* One failure for the backend as a whole, under an id that says what it is. */
    harness_record(h, FCNN_OP_COUNT, "open", name, HARNESS_FAILED, why);
}

void harness_skip_backend(struct harness *h, const char *name, const char *why)
{
    fprintf(h->out, "backend %s has no device here: %s\n", name, why);
    /* Count every case it would have run, so the totals show what was not checked. */
    if (h->mode == HARNESS_GRAD) {
        struct harness_grad_case_list list = { 0 };
        harness_cases_grad(&list);
        for (int i = 0; i < list.count; i++)
            if (h->op_selected[list.items[i].op])
                harness_record(h, list.items[i].op, list.items[i].id, name, HARNESS_SKIPPED, NULL);
        harness_grad_case_list_free(&list);
        return;
    }
    struct harness_case_list list = { 0 };
    if (h->mode == HARNESS_TEST)
        harness_cases_test(&list);
    else
        harness_cases_perf(&list);
    for (int i = 0; i < list.count; i++)
        if (h->op_selected[list.items[i].op])
            harness_record(h, list.items[i].op, list.items[i].id, name, HARNESS_SKIPPED, NULL);
    harness_case_list_free(&list);
}

void harness_list_cases(struct harness *h)
{
    if (h->mode == HARNESS_GRAD) {
        struct harness_grad_case_list list = { 0 };
        harness_cases_grad(&list);
        for (int i = 0; i < list.count; i++)
            if (h->op_selected[list.items[i].op])
                fprintf(h->out, "%s\n", list.items[i].id);
        harness_grad_case_list_free(&list);
        return;
    }
    struct harness_case_list list = { 0 };
    if (h->mode == HARNESS_TEST)
        harness_cases_test(&list);
    else
        harness_cases_perf(&list);
    for (int i = 0; i < list.count; i++)
        if (h->op_selected[list.items[i].op])
            fprintf(h->out, "%s\n", list.items[i].id);
    harness_case_list_free(&list);
}

void harness_print_totals(const struct harness *h)
{
    fprintf(h->out, "%d passed, %d failed, %d skipped\n", h->passed, h->failed, h->skipped);
    fflush(h->out);
}

int harness_exit_status(const struct harness *h)
{
    if (h->failed)
        return 1;
    return h->passed ? 0 : 77;
}
