/* Grad mode: each backward op of a backend against central finite differences of that
 * backend's own forward op, and each optimizer update against its closed-form definition.
 * It needs no second backend, so it is also how the reference backend itself is checked.
 *
 * For an objective L = sum_j r_j y_j(x) of a forward output y with random weights r,
 * the backward op given dy = r must return dL/dx. Each element x_i is stepped to
 * x_i + h and x_i - h (as float32), the forward rerun, and
 *     fd_i = sum_j r_j (y+_j - y-_j) / (x+_i - x-_i)
 * is summed in double, dividing by the step actually taken after rounding to float.
 *
 * Error budget, which sets the per-element tolerance:
 *   - Rounding. Outputs the step does not reach are bit-identical in both runs and cancel
 *     exactly. Each output it does reach carries the forward's rounding error, at most
 *     c eps |y_j| with c = 8 sqrt(K) + 8 for a float32 sum of K terms in any order (the
 *     reference, which rounds once, needs only 0.5). So fd_i errs by at most
 *         c eps sum_{j reached} |r_j| max(|y+_j|, |y-_j|) / (x+_i - x-_i),
 *     computed for every element from the outputs that actually moved.
 *   - Truncation. conv, dense, bias, max-pool and ReLU are piecewise linear in each input,
 *     and the inputs are built so that no step of h changes a window's maximum or a
 *     ReLU's sign: zero truncation error. The loss is smooth: the third derivative of
 *     log-sum-exp along one logit is p(1-p)(1-2p), at most 0.1 in size, so the error is
 *     below h^2/6 * 0.1 * scale ~ 1.7e-6 scale, under GRAD_ATOL * rms(fd) ~ 3e-5 scale.
 *   - GRAD_RTOL covers the reference's double arithmetic rounded to float.
 * A sign error, a wrong index or a missing term errs by a sizeable fraction of the gradient
 * (at least several per cent at these shapes), well above all of this. */
#include <config.h>

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness-impl.h"
#include "core/status.h"

#define GRAD_RTOL 1e-4
#define GRAD_ATOL 1e-4 /* times rms(fd) */
#define WHY_SIZE 4096

static void free_all(void *p[])
{
    for (int i = 0; i < FCNN_OP_MAX_TENSORS; i++) {
        free(p[i]);
        p[i] = NULL;
    }
}

/* false with the reason when the call cannot run; *skipped when it is unsupported. */
static bool run_call(struct placed_call *pc, bool *skipped, const char *what, char *why,
                     size_t why_size)
{
    *skipped = false;
    if (!fcnn_backend_supports(pc->be, &pc->call)) {
        *skipped = true;
        snprintf(why, why_size, "%s (%s) not supported by this backend or variant", what,
                 fcnn_op_name(pc->call.op));
        return false;
    }
    int status = fcnn_op_run(pc->be, &pc->call);
    if (status == FCNN_OK)
        return true;
    *skipped = status == FCNN_ERR_UNSUPPORTED;
    snprintf(why, why_size, "%s (%s) failed: %s", what, fcnn_op_name(pc->call.op),
             fcnn_last_error());
    return false;
}

/* The analytic gradient against the finite differences, element by element. */
static bool compare_gradient(const struct harness_tensor_spec *spec, const char *name,
                             const float *analytic, const double *fd, const double *rounding,
                             char *why, size_t why_size)
{
    size_t n = spec_count(spec);
    double sum_fd2 = 0, sum_d2 = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(analytic[i]) || !isfinite(fd[i])) {
            char at[64];
            harness_format_index(spec, i, at, sizeof at);
            harness_appendf(why, why_size, "%s%s (flat %zu): backward %.9g, finite difference %.9g: "
                            "not finite", name, at, i, (double)analytic[i], fd[i]);
            return false;
        }
        sum_fd2 += fd[i] * fd[i];
        sum_d2 += (analytic[i] - fd[i]) * (analytic[i] - fd[i]);
    }
    double rms = sqrt(sum_fd2 / (double)n);
    double nmse = sum_fd2 > 0 ? sum_d2 / sum_fd2 : (sum_d2 > 0 ? INFINITY : 0);
    size_t worst = 0;
    double worst_ratio = 0, worst_allowed = 0;
    for (size_t i = 0; i < n; i++) {
        double diff = fabs(analytic[i] - fd[i]);
        double allowed = rounding[i] + GRAD_RTOL * fabs(fd[i]) + GRAD_ATOL * rms;
        double ratio = allowed > 0 ? diff / allowed : (diff > 0 ? INFINITY : 0);
        if (ratio > worst_ratio) {
            worst_ratio = ratio;
            worst = i;
            worst_allowed = allowed;
        }
    }
    char at[64];
    harness_format_index(spec, worst, at, sizeof at);
    /* Passing, this is the verbose note: how close the worst element came to its bound. */
    harness_appendf(why, why_size,
                    "%s against central differences: NMSE %.3e; worst element %s%s (flat %zu): "
                    "finite difference %.9g, backward %.9g, |diff| %.3e (allowed %.3e)",
                    name, nmse, name, at, worst, fd[worst], (double)analytic[worst],
                    fabs(analytic[worst] - fd[worst]), worst_allowed);
    return worst_ratio <= 1;
}

/* The backward call of a grad case: its tensors, taken from the forward call, the
 * upstream weights, or fresh outputs. */
static int build_backward(const struct harness_grad_case *g, void *const fwd_host[],
                          void *const fwd_out[], const float *r, struct harness_case *b,
                          void *b_host[])
{
    const struct harness_case *f = &g->forward;
    int result_index = -1;
    memset(b, 0, sizeof *b);
    b->op = b->call.op = g->op;
    snprintf(b->id, sizeof b->id, "%s", g->id);
    b->call.p = f->call.p;
    for (int i = 0; i < fcnn_op_tensor_count(g->op); i++) {
        const struct grad_source *src = &g->backward[i];
        b_host[i] = NULL;
        switch (src->kind) {
        case SOURCE_OMITTED:
            b->t[i].omitted = true;
            break;
        case SOURCE_FORWARD:
            b->t[i] = f->t[src->index];
            b->t[i].init = INIT_CONSTANT; /* an input here, whatever it was there */
            b_host[i] = fcnn_op_tensor_role(f->op, src->index) == FCNN_IN ? fwd_host[src->index]
                                                                        : fwd_out[src->index];
            break;
        case SOURCE_UPSTREAM:
            b->t[i] = g->upstream;
            b_host[i] = (void *)r;
            break;
        case SOURCE_RESULT:
            b->t[i] = f->t[g->wrt];
            b->t[i].init = INIT_NONE;
            result_index = i;
            break;
        case SOURCE_SCRATCH:
            b->t[i] = f->t[src->index];
            b->t[i].init = INIT_NONE;
            break;
        }
    }
    return result_index;
}

/* Central differences over every element of the differentiated input. */
static bool finite_differences(const struct harness_grad_case *g, struct placed_call *fwd,
                               void *const host[], const float *r, double *fd,
                               double *rounding, char *why, size_t why_size)
{
    const struct harness_case *f = &g->forward;
    const struct harness_tensor_spec *xs = &f->t[g->wrt], *ys = &f->t[g->objective];
    size_t nx = spec_count(xs), ny = spec_count(ys);
    float *x = harness_xmalloc(spec_bytes(xs));
    float *yp = harness_xmalloc(ny * sizeof *yp), *ym = harness_xmalloc(ny * sizeof *ym);
    memcpy(x, host[g->wrt], spec_bytes(xs));
    const struct fcnn_tensor *xt = fwd->call.t[g->wrt], *yt = fwd->call.t[g->objective];
    double c = 8 * sqrt(g->reduction) + 8;
    bool ok = true, skipped;

    for (size_t i = 0; i < nx && ok; i++) {
        float x0 = x[i], plus = (float)(x0 + g->step), minus = (float)(x0 - g->step);
        x[i] = plus;
        ok = fcnn_upload(fwd->be, xt, x) == FCNN_OK && run_call(fwd, &skipped, "forward", why, why_size) &&
             fcnn_download(fwd->be, yt, yp) == FCNN_OK;
        x[i] = minus;
        ok = ok && fcnn_upload(fwd->be, xt, x) == FCNN_OK &&
             run_call(fwd, &skipped, "forward", why, why_size) &&
             fcnn_download(fwd->be, yt, ym) == FCNN_OK;
        x[i] = x0;
        if (!ok) {
            if (!why[0])
                snprintf(why, why_size, "moving data for the finite differences: %s",
                         fcnn_last_error());
            break;
        }
        double step = (double)plus - (double)minus, diff = 0, reached = 0;
        for (size_t j = 0; j < ny; j++) {
            if (yp[j] == ym[j] && !isnan(yp[j]))
                continue;
            diff += (double)r[j] * ((double)yp[j] - (double)ym[j]);
            reached += fabs((double)r[j]) * fmax(fabs((double)yp[j]), fabs((double)ym[j]));
        }
        fd[i] = diff / step;
        rounding[i] = c * FLT_EPSILON * reached / step;
    }
    /* Put the unperturbed input back, so the final input check sees what was uploaded. */
    if (ok && fcnn_upload(fwd->be, xt, x) != FCNN_OK) {
        snprintf(why, why_size, "restoring the input: %s", fcnn_last_error());
        ok = false;
    }
    free(x);
    free(yp);
    free(ym);
    return ok;
}

static void check_finite_difference(struct harness *h, const struct harness_grad_case *g,
                                    struct fcnn_backend *be, const char *target,
                                    void *const host[], const float *r)
{
    const struct harness_case *f = &g->forward;
    char why[WHY_SIZE] = "";
    struct placed_call fwd, bwd;
    struct harness_case b;
    void *base[FCNN_OP_MAX_TENSORS] = { 0 }, *b_host[FCNN_OP_MAX_TENSORS] = { 0 };
    void *grad[FCNN_OP_MAX_TENSORS] = { 0 }, *after[FCNN_OP_MAX_TENSORS] = { 0 };
    bool skipped = false, ok = false, bwd_placed = false;
    double *fd = NULL, *rounding = NULL;

    if (!placed_call_init(&fwd, be, f, host, 0, why, sizeof why)) {
        harness_record(h, g->op, g->id, target, HARNESS_FAILED, why);
        return;
    }
    /* The forward at the unperturbed point: relu_bwd needs its output y. */
    if (!run_call(&fwd, &skipped, "forward", why, sizeof why) ||
        !placed_call_collect(&fwd, host, base, why, sizeof why))
        goto done;

    int result = build_backward(g, host, base, r, &b, b_host);
    if (!placed_call_init(&bwd, be, &b, b_host, 4, why, sizeof why))
        goto done;
    bwd_placed = true;
    if (!run_call(&bwd, &skipped, "backward", why, sizeof why) ||
        !placed_call_collect(&bwd, b_host, grad, why, sizeof why))
        goto done;

    size_t nx = spec_count(&f->t[g->wrt]);
    fd = harness_xmalloc(nx * sizeof *fd);
    rounding = harness_xmalloc(nx * sizeof *rounding);
    if (!finite_differences(g, &fwd, host, r, fd, rounding, why, sizeof why))
        goto done;
    /* The forward's guards and inputs once more, after all those runs. */
    if (!placed_call_collect(&fwd, host, after, why, sizeof why))
        goto done;
    ok = compare_gradient(&b.t[result], fcnn_op_tensor_name(g->op, result), grad[result], fd,
                          rounding, why, sizeof why);

done:
    harness_record(h, g->op, g->id, target,
                   ok ? HARNESS_PASSED : skipped ? HARNESS_SKIPPED : HARNESS_FAILED,
                   ok && !h->verbose ? NULL : why);
    free(fd);
    free(rounding);
    free_all(base);
    free_all(grad);
    free_all(after);
    if (bwd_placed)
        placed_call_free(&bwd);
    placed_call_free(&fwd);
}

static void check_closed_form(struct harness *h, const struct harness_grad_case *g,
                              struct fcnn_backend *be, const char *target, void *const host[])
{
    const struct harness_case *c = &g->forward;
    char why[WHY_SIZE] = "";
    struct placed_call pc;
    bool skipped = false, ok = false;
    void *got[FCNN_OP_MAX_TENSORS] = { 0 };
    float *expected[FCNN_OP_MAX_TENSORS] = { 0 };

    if (!placed_call_init(&pc, be, c, host, 0, why, sizeof why)) {
        harness_record(h, g->op, g->id, target, HARNESS_FAILED, why);
        return;
    }
    if (run_call(&pc, &skipped, "update", why, sizeof why) &&
        placed_call_collect(&pc, host, got, why, sizeof why)) {
        for (int i = 0; i < fcnn_op_tensor_count(c->op); i++)
            if (got[i])
                expected[i] = harness_xmalloc(spec_bytes(&c->t[i]));
        g->closed_form(c, host, expected);
        ok = true;
        for (int i = 0; i < fcnn_op_tensor_count(c->op); i++) {
            if (!got[i])
                continue;
            char reason[1024] = "";
            if (!harness_compare(&c->t[i], fcnn_op_tensor_name(c->op, i), expected[i], got[i],
                                 &c->tol, NULL, reason, sizeof reason)) {
                harness_appendf(why, sizeof why, "%s%s", why[0] ? "\n" : "", reason);
                ok = false;
            }
        }
    }
    harness_record(h, g->op, g->id, target,
                   ok ? HARNESS_PASSED : skipped ? HARNESS_SKIPPED : HARNESS_FAILED,
                   ok && !h->verbose ? NULL : why);
    for (int i = 0; i < FCNN_OP_MAX_TENSORS; i++)
        free(expected[i]);
    free_all(got);
    placed_call_free(&pc);
}

void harness_run_grad(struct harness *h, struct fcnn_backend *be)
{
    struct harness_grad_case_list list = { 0 };
    harness_cases_grad(&list);
    for (int gi = 0; gi < list.count; gi++) {
        const struct harness_grad_case *g = &list.items[gi];
        if (!h->op_selected[g->op])
            continue;
        struct harness_rng rng;
        rng_seed(&rng, h->seed, g->id);
        void *host[FCNN_OP_MAX_TENSORS] = { 0 };
        for (int i = 0; i < fcnn_op_tensor_count(g->forward.op); i++)
            host[i] = harness_make_input(&g->forward.t[i], &rng);
        float *r = g->kind == GRAD_FINITE_DIFFERENCE ? harness_make_input(&g->upstream, &rng) : NULL;

        /* Every variant of the op under test; the forward runs on the backend's own choice. */
        int variants = fcnn_backend_variant_count(be, g->op);
        for (int v = 0; v < variants; v++) {
            const char *variant = fcnn_backend_variant_name(be, g->op, v);
            if (variant && !harness_variant_wanted(h, variant))
                continue;
            char target[96];
            harness_target_name(be, variant ? variant : "?", target, sizeof target);
            if (!variant || fcnn_backend_force_variant(be, g->op, variant) != FCNN_OK) {
                harness_record(h, g->op, g->id, target, HARNESS_FAILED,
                               "the backend lists this variant but cannot force it");
                continue;
            }
            if (g->kind == GRAD_FINITE_DIFFERENCE)
                check_finite_difference(h, g, be, target, host, r);
            else
                check_closed_form(h, g, be, target, host);
        }
        fcnn_backend_force_variant(be, g->op, NULL);
        free(r);
        free_all(host);
    }
    harness_grad_case_list_free(&list);
}
