/* Per-device autotuning. The first time an op runs on a shape (its key: every tensor's
 * shape, the op's parameters, which tensors are the same memory), every variant that
 * supports the call is timed on it and the fastest is kept: for the rest of the run, and,
 * through ocl_tune_store.c, for later runs with the same device, driver, platform, fcnn
 * version and kernel sources.
 * The core's warm-up pass dispatches every shape of a training run before the first timed
 * step, so tuning never lands inside a timed epoch.
 *
 * Timing: one untimed run of each candidate first (it pays for PoCL's compilation of
 * the kernel for its launch size, and CLBlast's first use), then three rounds of trials,
 * each a few back-to-back runs ended by one clFinish, taken by every candidate in turn;
 * each candidate's best trial counts: the shortest time is the one least disturbed by
 * whatever else the machine was doing. Ops that write what they read (the
 * optimizers, an in-place relu_bwd) are timed on copies of their tensors, so the real
 * operands see exactly one run: the chosen variant's, afterwards.
 * A resumed run (or an evaluation of a checkpoint) is handed the choices its run made
 * (options->kernel_choices, which ocl_tuning_choices lists): they come before the store's
 * and are never timed, so it computes as that run did, whatever was timed since. */
#include <config.h>

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "core/clock.h"
#include "ocl_registry.h"

/* A trial is as many runs as fill about this long, at most TRIAL_MAX_RUNS. */
#define TRIAL_SECONDS 0.002
#define TRIAL_MAX_RUNS 16
#define TRIALS 3
/* Progress lines start once tuning has taken this long in one process. */
#define QUIET_SECONDS 1.0
/* On a CPU device, a first tuning times only the variants whose priority is within this
 * many points of the best supporting one: the register-tiled families. The GEMM, CLBlast
 * and direct forms below them never won a shape on PoCL (see `fcnn --tune`, which times
 * every variant) and cost most of a cold start in compilation and slow trial runs. */
#define CPU_PRIORITY_BAND 5

/* Another run's choices ("op TAB key TAB variant" lines, "-" for the priorities' choice),
 * entered before the store's so that they win. A line this build cannot place (an op,
 * key or variant it does not have) is left out: that shape is chosen as usual. */
static void pin_choices(struct ocl_tuning *t, const char *choices)
{
    while (*choices) {
        size_t length = strcspn(choices, "\n");
        char line[512];
        if (length < sizeof line) {
            memcpy(line, choices, length);
            line[length] = '\0';
            char *save = NULL, *op_name = strtok_r(line, "\t", &save);
            char *key = strtok_r(NULL, "\t", &save), *name = strtok_r(NULL, "\t", &save);
            int op = op_name ? fcnn_op_from_name(op_name) : -1;
            const struct ocl_variant *variant =
                op >= 0 && name && strcmp(name, "-") != 0 ? ocl_variant_find(op, name) : NULL;
            if (op >= 0 && key && strlen(key) < OCL_TUNING_KEY_SIZE && name &&
                (variant || strcmp(name, "-") == 0)) {
                struct ocl_tuning_entry *e = ocl_tuning_add(t, (enum fcnn_op)op, key);
                if (!e)
                    return; /* out of memory: the rest is chosen as usual */
                e->variant = variant;
                e->pinned = true;
            }
        }
        choices += length + (choices[length] == '\n');
    }
}

void ocl_tuning_open(struct ocl_context *ctx, bool retune, bool deferred, const char *choices)
{
    struct ocl_tuning *t = &ctx->tuning;
    const char *env = getenv("FCNN_TUNE");
    t->enabled = !(env && strcmp(env, "0") == 0);
    t->retune = retune;
    t->deferred = deferred;
    if (choices)
        pin_choices(t, choices);
    if (t->enabled && !retune)
        ocl_tune_store_load(ctx);
}

void ocl_tuning_close(struct ocl_context *ctx)
{
    free(ctx->tuning.entries);
    ctx->tuning.entries = NULL;
    ctx->tuning.count = ctx->tuning.capacity = 0;
}

__attribute__((format(printf, 4, 5)))
static void append(char *out, size_t size, size_t *used, const char *fmt, ...)
{
    if (*used >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out + *used, size - *used, fmt, ap);
    va_end(ap);
    *used += n > 0 ? (size_t)n : 0;
}

char *ocl_tuning_choices(const struct ocl_context *ctx)
{
    const struct ocl_tuning *t = &ctx->tuning;
    size_t size = 1;
    for (int i = 0; i < t->count; i++) {
        const struct ocl_tuning_entry *e = &t->entries[i];
        size += strlen(fcnn_op_name(e->op)) + strlen(e->key) +
                (e->variant ? strlen(e->variant->name) : 1) + 3;
    }
    char *text = malloc(size);
    if (!text)
        return NULL;
    size_t used = 0;
    text[0] = '\0';
    for (int i = 0; i < t->count; i++) {
        const struct ocl_tuning_entry *e = &t->entries[i];
        if (e->used)
            append(text, size, &used, "%s\t%s\t%s\n", fcnn_op_name(e->op), e->key,
                   e->variant ? e->variant->name : "-");
    }
    return text;
}

void ocl_tuning_key(const struct fcnn_op_call *call, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    int count = fcnn_op_tensor_count(call->op);
    for (int i = 0; i < count; i++) {
        const struct fcnn_tensor *t = call->t[i];
        append(out, size, &used, "%s", i ? "," : "");
        if (!t) {
            append(out, size, &used, "-");
            continue;
        }
        for (int d = 0; d < t->ndim; d++)
            append(out, size, &used, d ? "x%d" : "%d", t->shape[d]);
    }
    /* Tensors that are the same memory (relu_bwd in place): a variant may differ there. */
    for (int i = 0; i < count; i++)
        for (int j = i + 1; j < count; j++)
            if (call->t[i] && call->t[j] && call->t[i]->buffer == call->t[j]->buffer &&
                call->t[i]->offset == call->t[j]->offset)
                append(out, size, &used, ",same%d%d", i, j);
    switch (call->op) {
    case FCNN_OP_CONV2D_FWD:
    case FCNN_OP_CONV2D_POOL_FWD:
    case FCNN_OP_CONV2D_BWD_DATA:
    case FCNN_OP_CONV2D_BWD_FILTER: {
        const struct fcnn_conv2d_params *p = &call->p.conv;
        /* Equal strides and equal padding all round keep the short form keys had before
         * strides and pads were given per side. */
        if (p->sh == p->sw && p->pad_top == p->pad_bottom && p->pad_top == p->pad_left &&
            p->pad_top == p->pad_right)
            append(out, size, &used, ",s%dp%d", p->sh, p->pad_top);
        else
            append(out, size, &used, ",s%dx%dp%d,%d,%d,%d", p->sh, p->sw, p->pad_top,
                   p->pad_bottom, p->pad_left, p->pad_right);
        if (call->op != FCNN_OP_CONV2D_BWD_DATA && call->op != FCNN_OP_CONV2D_BWD_FILTER &&
            p->act == FCNN_ACT_RELU)
            append(out, size, &used, ",relu");
        if (call->op == FCNN_OP_CONV2D_POOL_FWD)
            append(out, size, &used, ",pool%d", p->pool);
        break;
    }
    case FCNN_OP_MAXPOOL_FWD:
    case FCNN_OP_MAXPOOL_BWD:
    case FCNN_OP_AVGPOOL_FWD:
    case FCNN_OP_AVGPOOL_BWD: {
        const struct fcnn_pool_params *p = &call->p.pool;
        if (p->ph == p->pw && p->sh == p->sw && !p->pad_top && !p->pad_bottom &&
            !p->pad_left && !p->pad_right)
            append(out, size, &used, ",w%ds%d", p->ph, p->sh);
        else
            append(out, size, &used, ",w%dx%ds%dx%dp%d,%d,%d,%d", p->ph, p->pw, p->sh, p->sw,
                   p->pad_top, p->pad_bottom, p->pad_left, p->pad_right);
        break;
    }
    case FCNN_OP_DENSE_FWD:
        if (call->p.act == FCNN_ACT_RELU)
            append(out, size, &used, ",relu");
        break;
    case FCNN_OP_BATCHNORM_FWD_TRAIN:
    case FCNN_OP_BATCHNORM_FWD_INFER:
    case FCNN_OP_BATCHNORM_BWD:
        if (call->p.batchnorm.act == FCNN_ACT_RELU)
            append(out, size, &used, ",relu");
        if (call->p.batchnorm.pool)
            append(out, size, &used, ",pool%d", call->p.batchnorm.pool);
        break;
    default:
        break;
    }
}

static struct ocl_tuning_entry *find(struct ocl_tuning *t, enum fcnn_op op, const char *key)
{
    for (int i = 0; i < t->count; i++)
        if (t->entries[i].op == op && strcmp(t->entries[i].key, key) == 0)
            return &t->entries[i];
    return NULL;
}

struct ocl_tuning_entry *ocl_tuning_add(struct ocl_tuning *t, enum fcnn_op op, const char *key)
{
    struct ocl_tuning_entry *e = find(t, op, key);
    if (e)
        return e;
    if (t->count == t->capacity) {
        int capacity = t->capacity ? 2 * t->capacity : 32;
        struct ocl_tuning_entry *grown = realloc(t->entries, (size_t)capacity * sizeof *grown);
        if (!grown)
            return NULL;
        t->entries = grown;
        t->capacity = capacity;
    }
    e = &t->entries[t->count++];
    memset(e, 0, sizeof *e);
    e->op = op;
    snprintf(e->key, sizeof e->key, "%s", key);
    return e;
}

/* --- timing ------------------------------------------------------------------------- */

static int run_and_wait(struct ocl_context *ctx, const struct ocl_variant *variant,
                        const struct fcnn_op_call *call, int runs)
{
    for (int r = 0; r < runs; r++)
        OCL_TRY(ocl_run_variant(ctx, variant, call));
    OCL_CHECK(clFinish, clFinish(ctx->queue));
    return FCNN_OK;
}

/* One variant's place in a tuning: how many runs make one of its trials, and its best
 * per-call time so far (INFINITY once it failed to run: no candidate, not an error,
 * another one will do). */
struct trial_state {
    int runs;
    double best;
};

/* The untimed first run (it pays for PoCL's compilation of the kernel for its launch
 * size, and CLBlast's first use), then one timed run that sizes the trials. */
static void first_runs(struct ocl_context *ctx, const struct ocl_variant *variant,
                       const struct fcnn_op_call *call, struct trial_state *state,
                       double *first_run_seconds)
{
    state->best = INFINITY;
    state->runs = 1;
    double first = fcnn_now();
    int status = run_and_wait(ctx, variant, call, 1);
    *first_run_seconds += fcnn_now() - first;
    if (status != FCNN_OK)
        return;
    double start = fcnn_now();
    if (run_and_wait(ctx, variant, call, 1) != FCNN_OK)
        return;
    state->best = fcnn_now() - start;
    int runs = state->best > 0 ? (int)(TRIAL_SECONDS / state->best) : TRIAL_MAX_RUNS;
    state->runs = runs < 1 ? 1 : runs > TRIAL_MAX_RUNS ? TRIAL_MAX_RUNS : runs;
}

static void trial(struct ocl_context *ctx, const struct ocl_variant *variant,
                  const struct fcnn_op_call *call, struct trial_state *state)
{
    double start = fcnn_now();
    if (run_and_wait(ctx, variant, call, state->runs) != FCNN_OK) {
        state->best = INFINITY;
        return;
    }
    double each = (fcnn_now() - start) / state->runs;
    if (each < state->best)
        state->best = each;
}

/* --- copies of operands that the op modifies ---------------------------------------- */

static bool overlaps(const struct fcnn_tensor *a, const struct fcnn_tensor *b)
{
    return a->buffer == b->buffer && a->offset < b->offset + fcnn_tensor_bytes(b) &&
           b->offset < a->offset + fcnn_tensor_bytes(a);
}

/* Whether running the op changes something it also reads: an INOUT tensor, or an output
 * that shares memory with another operand. */
static bool modifies_inputs(const struct fcnn_op_call *call)
{
    int count = fcnn_op_tensor_count(call->op);
    for (int i = 0; i < count; i++) {
        if (!call->t[i] || fcnn_op_tensor_role(call->op, i) == FCNN_IN)
            continue;
        if (fcnn_op_tensor_role(call->op, i) == FCNN_INOUT)
            return true;
        for (int j = 0; j < count; j++)
            if (j != i && call->t[j] && overlaps(call->t[i], call->t[j]))
                return true;
    }
    return false;
}

/* Copies every operand into the tuning scratch buffer, each at the same offset modulo 256
 * bytes as the original (the variants see the same alignment), operands that were the
 * same memory staying the same copy. `copy` then describes the call on the copies. */
struct call_copy {
    struct fcnn_op_call call;
    struct fcnn_tensor tensors[FCNN_OP_MAX_TENSORS];
    struct fcnn_buffer buffer;
};

static int copy_operands(struct ocl_context *ctx, const struct fcnn_op_call *call,
                         struct call_copy *copy)
{
    int count = fcnn_op_tensor_count(call->op);
    size_t at[FCNN_OP_MAX_TENSORS], total = 0;
    for (int i = 0; i < count; i++) {
        at[i] = 0;
        if (!call->t[i])
            continue;
        int same = -1;
        for (int j = 0; j < i && same < 0; j++)
            if (call->t[j] && call->t[j]->buffer == call->t[i]->buffer &&
                call->t[j]->offset == call->t[i]->offset)
                same = j;
        if (same >= 0) {
            at[i] = at[same];
            continue;
        }
        size_t start = (total + 255) / 256 * 256 + call->t[i]->offset % 256;
        at[i] = start;
        total = start + fcnn_tensor_bytes(call->t[i]);
    }
    cl_mem scratch;
    OCL_TRY(ocl_scratch_get(ctx, OCL_SCRATCH_TUNING, total ? total : 1, &scratch));
    copy->buffer = (struct fcnn_buffer){ .size = ctx->scratch[OCL_SCRATCH_TUNING].size,
                                         .impl = scratch };
    copy->call = *call;
    for (int i = 0; i < count; i++) {
        if (!call->t[i])
            continue;
        const struct fcnn_tensor *t = call->t[i];
        OCL_CHECK(clEnqueueCopyBuffer,
                  clEnqueueCopyBuffer(ctx->queue, ocl_mem(t), scratch, t->offset, at[i],
                                      fcnn_tensor_bytes(t), 0, NULL, NULL));
        copy->tensors[i] = *t;
        copy->tensors[i].buffer = &copy->buffer;
        copy->tensors[i].offset = at[i];
        copy->call.t[i] = &copy->tensors[i];
    }
    return FCNN_OK;
}

/* --- choosing ------------------------------------------------------------------------ */

static void progress(struct ocl_context *ctx, const struct ocl_tuning_entry *e)
{
    struct ocl_tuning *t = &ctx->tuning;
    if (!ctx->verbose && t->seconds < QUIET_SECONDS)
        return;
    if (!t->announced) {
        fprintf(stderr, "opencl: timing kernel variants on this device's shapes (once; the "
                "choices are kept%s%s)\n", t->path[0] ? " in " : " for this run only",
                t->path);
        t->announced = true;
    }
    fprintf(stderr, "opencl: tuned %-18s %-40s %-16s %9.3f ms (%d variants, %.1f s so far",
            fcnn_op_name(e->op), e->key, e->variant->name, 1e3 * e->seconds, e->candidates,
            t->seconds);
    if (ctx->verbose)
        fprintf(stderr, ": building %.2f s, first runs %.2f s", e->build_seconds,
                e->first_run_seconds);
    fprintf(stderr, ")\n");
}

static int tune(struct ocl_context *ctx, const struct fcnn_op_call *call,
                const struct ocl_variant *const candidates[], int count,
                struct ocl_tuning_entry *e)
{
    double start = fcnn_now();
    struct call_copy copy;
    const struct fcnn_op_call *timed = call;
    if (modifies_inputs(call)) {
        OCL_TRY(copy_operands(ctx, call, &copy));
        timed = &copy.call;
    }
    /* Their programs, compiled side by side rather than one by one as each is timed. */
    double build_start = fcnn_now();
    OCL_TRY(ocl_prebuild_variants(ctx, candidates, count));
    e->build_seconds = fcnn_now() - build_start;
    e->first_run_seconds = 0;
    bool paused = ctx->profile.paused;
    ctx->profile.paused = true; /* trial runs are not the run's work */
    /* Trials go round the candidates, each round timing every one once, rather than
     * one candidate's trials back to back: a burst of other work on the machine then
     * slows every candidate alike instead of sinking the one it happened to fall on,
     * and a choice made on a busy machine is far less likely to be a bad one. */
    struct trial_state state[OCL_TUNING_MAX_CANDIDATES];
    double fastest = INFINITY;
    for (int i = 0; i < count; i++) {
        state[i].best = INFINITY;
        if (ocl_variant_broken(ctx, candidates[i]))
            continue; /* its program did not build: disabled by the prebuild */
        first_runs(ctx, candidates[i], timed, &state[i], &e->first_run_seconds);
        if (state[i].best < fastest)
            fastest = state[i].best;
    }
    for (int round = 0; round < TRIALS; round++)
        for (int i = 0; i < count; i++)
            /* One that is already eight times slower than the best is no contender. */
            if (state[i].best <= 8 * fastest)
                trial(ctx, candidates[i], timed, &state[i]);
    e->variant = NULL;
    e->seconds = INFINITY;
    e->candidates = 0;
    for (int i = 0; i < count; i++) {
        if (ocl_variant_broken(ctx, candidates[i]))
            continue;
        if (e->candidates < OCL_TUNING_MAX_CANDIDATES) {
            e->candidate[e->candidates] = candidates[i];
            e->candidate_seconds[e->candidates++] = state[i].best;
        }
        if (state[i].best < e->seconds) {
            e->seconds = state[i].best;
            e->variant = candidates[i];
        }
    }
    ctx->profile.paused = paused;
    /* What only the losers or the copies needed is not kept for the whole run: the
     * copies, and the column matrices of the im2col variants (allocated again, once, if
     * an im2col variant won). Peak memory matters on CPU devices, whose buffers are the
     * process's own memory. */
    ocl_scratch_drop(ctx, OCL_SCRATCH_TUNING);
    ocl_scratch_drop(ctx, OCL_SCRATCH_COLUMNS);
#ifdef __GLIBC__
    malloc_trim(0); /* and what the compiler used for each new kernel */
#endif
    e->flops = fcnn_op_flops(call);
    e->timed = true;
    ctx->tuning.seconds += fcnn_now() - start;
    if (!e->variant) /* nothing ran: leave the choice to the priorities */
        return FCNN_OK;
    progress(ctx, e);
    ocl_tune_store_save(ctx);
    return FCNN_OK;
}

/* On a CPU device, an op whose operands all fit in this many bytes takes microseconds
 * whichever variant runs it (a dense layer's bias gradient, a small layer's product), and
 * timing its variants would cost a first-launch compilation of each: its first tuning
 * takes the variant the priorities choose. */
#define CPU_TINY_OP_BYTES (64 * 1024)

static bool tiny(const struct fcnn_op_call *call)
{
    size_t bytes = 0;
    int count = fcnn_op_tensor_count(call->op);
    for (int i = 0; i < count; i++)
        if (call->t[i])
            bytes += fcnn_tensor_bytes(call->t[i]);
    return bytes <= CPU_TINY_OP_BYTES;
}

/* The candidates worth timing: all of them with --tune or on a GPU (where the ranking of
 * the families is not known in advance); on a CPU the top band of priorities, and for a
 * tiny op only the top one. */
static int prune_candidates(const struct ocl_context *ctx, const struct fcnn_op_call *call,
                            const struct ocl_variant *candidates[], int count)
{
    if (ctx->tuning.retune || !(ctx->identity.type & CL_DEVICE_TYPE_CPU))
        return count;
    int best = INT_MIN, kept = 0;
    for (int i = 0; i < count; i++)
        if (candidates[i]->priority > best)
            best = candidates[i]->priority;
    int band = tiny(call) ? 0 : CPU_PRIORITY_BAND;
    for (int i = 0; i < count; i++)
        if (candidates[i]->priority >= best - band)
            candidates[kept++] = candidates[i];
    return kept;
}

int ocl_tuned_variant(struct ocl_context *ctx, const struct fcnn_op_call *call,
                      const struct ocl_variant **out)
{
    *out = NULL;
    struct ocl_tuning *t = &ctx->tuning;
    const struct ocl_variant *candidates[OCL_TUNING_MAX_CANDIDATES];
    int count = ocl_supporting_variants(ctx, call, candidates, OCL_TUNING_MAX_CANDIDATES);
    if (count < 2)
        return FCNN_OK;
    char key[OCL_TUNING_KEY_SIZE];
    ocl_tuning_key(call, key, sizeof key);
    struct ocl_tuning_entry *e = find(t, call->op, key);
    if (!e) {
        const struct ocl_variant *timed[OCL_TUNING_MAX_CANDIDATES];
        memcpy(timed, candidates, (size_t)count * sizeof *timed);
        int timed_count = t->enabled ? prune_candidates(ctx, call, timed, count) : 0;
        /* Every shape with a choice to make gets an entry, the priorities' choices
         * (variant NULL) too: ocl_tuning_choices lists what each shape ran. */
        e = ocl_tuning_add(t, call->op, key);
        if (!e)
            return fcnn_error(FCNN_ERR_NOMEM, "out of memory keeping tuning choices");
        if (timed_count >= 2 && t->deferred)
            /* No choice (the entry's variant stays NULL): the priorities choose for the
             * whole run, and the shape is counted once for the tuning after it. */
            t->untuned++;
        else if (timed_count >= 2)
            OCL_TRY(tune(ctx, call, timed, timed_count, e));
        /* else tuning is off, or there is nothing to compare: the priorities choose */
    }
    e->used = true;
    /* A stored choice may not support this very call (an offset it cannot align to), or
     * may have failed to build on this run: only a current candidate is taken. One that
     * `--tune` chose outside the first tuning's band is taken too. */
    for (int i = 0; i < count; i++)
        if (e->variant && candidates[i] == e->variant)
            *out = e->variant;
    return FCNN_OK;
}
