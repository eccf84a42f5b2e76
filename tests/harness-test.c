/* Test mode: every case of the table, on every variant of every backend under test, against
 * the reference backend. Inputs are generated once per case from the seed and the case id,
 * the reference runs once per case, and each backend variant gets the very same inputs. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "harness-impl.h"
#include "core/status.h"

#define WHY_SIZE 4096

static void free_all(void *p[])
{
    for (int i = 0; i < FCNN_OP_MAX_TENSORS; i++) {
        free(p[i]);
        p[i] = NULL;
    }
}

/* Runs one placed call: false with the reason when the op failed; *skipped when the backend
 * does not support it (which is never a pass). */
static bool run_placed(struct placed_call *pc, bool *skipped, char *why, size_t why_size)
{
    *skipped = false;
    if (!fcnn_backend_supports(pc->be, &pc->call)) {
        *skipped = true;
        snprintf(why, why_size, "not supported by this backend or variant");
        return false;
    }
    int status = fcnn_op_run(pc->be, &pc->call);
    if (status == FCNN_ERR_UNSUPPORTED) {
        *skipped = true;
        snprintf(why, why_size, "unsupported: %s", fcnn_last_error());
        return false;
    }
    if (status != FCNN_OK) {
        snprintf(why, why_size, "the op failed: %s (%s)", fcnn_last_error(),
                 fcnn_status_name(status));
        return false;
    }
    return true;
}

static bool reference_outputs(const struct harness_case *c, struct fcnn_backend *ref,
                              void *const host[], size_t misalign, void *expected[], char *why)
{
    struct placed_call pc;
    bool skipped;
    if (!placed_call_init(&pc, ref, c, host, misalign, why, WHY_SIZE))
        return false;
    bool ok = run_placed(&pc, &skipped, why, WHY_SIZE) &&
              placed_call_collect(&pc, host, expected, why, WHY_SIZE);
    placed_call_free(&pc);
    return ok;
}

static void check_variant(struct harness *h, const struct harness_case *c,
                          struct fcnn_backend *be, const char *target, void *const host[],
                          void *const expected[], size_t misalign)
{
    char why[WHY_SIZE] = "";
    struct placed_call pc;
    bool skipped;
    if (!placed_call_init(&pc, be, c, host, misalign, why, sizeof why)) {
        harness_record(h, c->op, c->id, target, HARNESS_FAILED, why);
        return;
    }
    if (!run_placed(&pc, &skipped, why, sizeof why)) {
        harness_record(h, c->op, c->id, target, skipped ? HARNESS_SKIPPED : HARNESS_FAILED, why);
        placed_call_free(&pc);
        return;
    }

    void *got[FCNN_OP_MAX_TENSORS] = { 0 };
    bool ok = placed_call_collect(&pc, host, got, why, sizeof why);
    char notes[WHY_SIZE] = "";
    for (int i = 0; i < fcnn_op_tensor_count(c->op); i++) {
        if (!got[i] || !expected[i])
            continue;
        const char *name = fcnn_op_tensor_name(c->op, i);
        char reason[1024] = "";
        double nmse;
        if (!harness_compare(&c->t[i], name, expected[i], got[i], &c->tol, &nmse, reason,
                             sizeof reason)) {
            harness_appendf(why, sizeof why, "%s%s", why[0] ? "\n" : "", reason);
            ok = false;
        } else if (h->verbose && c->t[i].dtype == FCNN_F32) {
            harness_appendf(notes, sizeof notes, "%s%s", notes[0] ? "\n" : "", reason);
        }
    }
    harness_record(h, c->op, c->id, target, ok ? HARNESS_PASSED : HARNESS_FAILED,
                   ok ? notes : why);
    free_all(got);
    placed_call_free(&pc);
}

/* Every variant the backend lists for this op, then its automatic choice when it has a
 * choice to make; with -k, only the variants it names. */
static void check_backend(struct harness *h, const struct harness_case *c,
                          struct fcnn_backend *be, void *const host[], void *const expected[],
                          size_t misalign)
{
    int variants = fcnn_backend_variant_count(be, c->op);
    bool check_auto = variants > 1 && !h->variant_count;
    for (int v = 0; v < variants || (v == variants && check_auto); v++) {
        const char *variant = v < variants ? fcnn_backend_variant_name(be, c->op, v) : NULL;
        if (variant && !harness_variant_wanted(h, variant))
            continue;
        char target[96];
        if (variant)
            harness_target_name(be, variant, target, sizeof target);
        else
            snprintf(target, sizeof target, "%s:auto", fcnn_backend_name(be));
        if (v < variants && !variant) {
            harness_record(h, c->op, c->id, target, HARNESS_FAILED,
                           "the backend lists a variant without a name");
            continue;
        }
        int status = fcnn_backend_force_variant(be, c->op, variant);
        if (status != FCNN_OK) {
            char why[512];
            snprintf(why, sizeof why, "forcing this listed variant failed: %s", fcnn_last_error());
            harness_record(h, c->op, c->id, target, HARNESS_FAILED, why);
            continue;
        }
        check_variant(h, c, be, target, host, expected, misalign);
    }
    fcnn_backend_force_variant(be, c->op, NULL);
}

static bool variant_passed_a_case(const struct harness *h, enum fcnn_op op, const char *target)
{
    for (int i = 0; i < h->result_count; i++)
        if (h->results[i].op == op && h->results[i].verdict == HARNESS_PASSED &&
            strcmp(h->results[i].target, target) == 0)
            return true;
    return false;
}

/* A variant that answered "unsupported" to every case of its op was never checked at all,
 * however many cases "passed" around it: that is a hole in the table or a predicate that
 * refuses everything, and either is a failure of the run. */
static void check_every_variant_ran(struct harness *h, struct fcnn_backend *be)
{
    for (int op = 0; op < FCNN_OP_COUNT; op++) {
        if (!h->op_selected[op])
            continue;
        int variants = fcnn_backend_variant_count(be, op);
        for (int v = 0; v < variants; v++) {
            const char *variant = fcnn_backend_variant_name(be, op, v);
            char target[96], id[96];
            if (!variant || !harness_variant_wanted(h, variant))
                continue;
            harness_target_name(be, variant, target, sizeof target);
            if (variant_passed_a_case(h, op, target))
                continue;
            snprintf(id, sizeof id, "%s(every case)", fcnn_op_name(op));
            harness_record(h, op, id, target, HARNESS_FAILED,
                           "this variant passed no case of the table: it is registered but "
                           "was never shown to work");
        }
    }
}

/* Whether -k leaves some variant of `op` to check on some target (always, without -k). */
static bool op_has_wanted_variant(struct harness *h, enum fcnn_op op,
                                  struct fcnn_backend *const *targets, int target_count)
{
    if (!h->variant_count)
        return true;
    bool any = false;
    for (int b = 0; b < target_count; b++)
        for (int v = 0; v < fcnn_backend_variant_count(targets[b], op); v++) {
            const char *variant = fcnn_backend_variant_name(targets[b], op, v);
            any |= variant && harness_variant_wanted(h, variant);
        }
    return any;
}

void harness_run_test(struct harness *h, struct fcnn_backend *ref,
                      struct fcnn_backend *const *targets, int target_count)
{
    if (!target_count)
        return; /* nothing to hold up to the reference: do not pay for running it */
    struct harness_case_list list = { 0 };
    harness_cases_test(&list);
    for (int ci = 0; ci < list.count; ci++) {
        const struct harness_case *c = &list.items[ci];
        if (!h->op_selected[c->op] || !op_has_wanted_variant(h, c->op, targets, target_count))
            continue; /* and the reference's run is not paid for */
        /* Every other case puts its tensors 4 bytes off the 16-byte grid: the interface
         * promises only 4-byte aligned offsets, and a kernel that assumes more fails there. */
        size_t misalign = ci % 2 ? 4 : 0;
        struct harness_rng rng;
        rng_seed(&rng, h->seed, c->id);
        void *host[FCNN_OP_MAX_TENSORS] = { 0 }, *expected[FCNN_OP_MAX_TENSORS] = { 0 };
        for (int i = 0; i < fcnn_op_tensor_count(c->op); i++)
            host[i] = harness_make_input(&c->t[i], &rng);

        char why[WHY_SIZE] = "";
        if (!reference_outputs(c, ref, host, misalign, expected, why)) {
            char detail[WHY_SIZE + 64];
            snprintf(detail, sizeof detail, "the reference backend failed on this case: %s", why);
            for (int b = 0; b < target_count; b++)
                harness_record(h, c->op, c->id, fcnn_backend_name(targets[b]), HARNESS_FAILED,
                               detail);
        } else {
            for (int b = 0; b < target_count; b++)
                check_backend(h, c, targets[b], host, expected, misalign);
        }
        free_all(host);
        free_all(expected);
    }
    harness_case_list_free(&list);
    for (int b = 0; b < target_count; b++)
        check_every_variant_ran(h, targets[b]);
}
