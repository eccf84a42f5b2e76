/* The OpenCL backend's fusion of a convolution layer's backward chain (ocl_fuse.c):
 *
 *   maxpool_bwd(x, dy, dx);  relu_bwd(x, dx, dx);  bias_bwd(dx, db)
 *
 * enqueued back to back must give what the reference gives op by op: dx bit for bit (it
 * is dy routed and masked, no arithmetic), db within float rounding (a sum in another
 * order). The harness runs ops one at a time, which never fuses; this runs the chains,
 * the whole one and ones broken after each step (a transfer, a relu that is not in place,
 * a bias of another tensor), on the model's shapes and odd ones (windows that leave rows
 * and columns uncovered, 3x3 windows), with fusion on and off, and checks that fusion did
 * happen where it should, so that a pass is not a vacuous one. Then it makes the deferred
 * kernel's launch fail (FCNN_OPENCL_FAULT) wherever a deferred op can finally run: the
 * failure must come back, named after the deferred op, never dropped. */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend-impl.h"
#include "ocl.h"
#include "opencl_test.h"

#define NMSE_LIMIT 1e-8

struct shape {
    int n, h, w, c, size;
};

/* How far the chain goes before something else happens. */
enum chain {
    CHAIN_FULL,           /* pool, relu in place, bias: all fused */
    CHAIN_POOL_RELU,      /* pool, relu, then a download */
    CHAIN_POOL,           /* pool, then a download */
    CHAIN_RELU_ELSEWHERE, /* pool, then a relu into another tensor: no fusion of the relu */
    CHAIN_COUNT
};

static const char *const chain_names[] = { "pool+relu+bias", "pool+relu", "pool",
                                           "pool, relu elsewhere" };

struct run {
    struct fcnn_backend *be;
    struct fcnn_buffer *buffer;
    struct fcnn_tensor x, dy, dx, dx2, db;
};

/* Every tensor in one buffer, each at a 4-byte offset off 16-byte alignment. */
static void place(struct run *r, const struct shape *s)
{
    int ho = (s->h - s->size) / s->size + 1, wo = (s->w - s->size) / s->size + 1;
    size_t big = (size_t)s->n * s->h * s->w * s->c, small = (size_t)s->n * ho * wo * s->c;
    size_t floats = 4 * big + small + s->c + 64;
    int status = fcnn_buffer_alloc(r->be, floats * sizeof(float), &r->buffer);
    if (!test_check(status == FCNN_OK, "allocating: %s", fcnn_last_error()))
        exit(1);
    size_t at = 4; /* bytes */
    r->x = fcnn_tensor_4d(r->buffer, at, FCNN_F32, s->n, s->h, s->w, s->c);
    at += big * sizeof(float) + 16;
    r->dy = fcnn_tensor_4d(r->buffer, at, FCNN_F32, s->n, ho, wo, s->c);
    at += small * sizeof(float) + 16;
    r->dx = fcnn_tensor_4d(r->buffer, at, FCNN_F32, s->n, s->h, s->w, s->c);
    at += big * sizeof(float) + 16;
    r->dx2 = fcnn_tensor_4d(r->buffer, at, FCNN_F32, s->n, s->h, s->w, s->c);
    at += big * sizeof(float) + 16;
    r->db = fcnn_tensor_1d(r->buffer, at, FCNN_F32, s->c);
}

static void upload(struct run *r, const float *x, const float *dy)
{
    float *nan_fill = malloc(fcnn_tensor_bytes(&r->dx));
    for (size_t i = 0; i < fcnn_tensor_count(&r->dx); i++)
        nan_fill[i] = NAN;
    test_check(fcnn_upload(r->be, &r->x, x) == FCNN_OK && fcnn_upload(r->be, &r->dy, dy) == FCNN_OK &&
                   fcnn_upload(r->be, &r->dx, nan_fill) == FCNN_OK &&
                   fcnn_upload(r->be, &r->dx2, nan_fill) == FCNN_OK &&
                   fcnn_upload(r->be, &r->db, nan_fill) == FCNN_OK,
               "uploading: %s", fcnn_last_error());
    free(nan_fill);
}

/* The chain on one backend; the outputs it defines come back in dx (the tensor holding
 * the final gradient) and db. */
static void run_chain(struct run *r, const struct shape *s, enum chain chain, float *dx, float *db)
{
    struct fcnn_pool_params pool = { .ph = s->size, .pw = s->size, .sh = s->size,
                                     .sw = s->size };
    int status = fcnn_maxpool_bwd(r->be, &r->x, &r->dy, &r->dx, &pool);
    const struct fcnn_tensor *result = &r->dx;
    if (status == FCNN_OK && (chain == CHAIN_FULL || chain == CHAIN_POOL_RELU))
        status = fcnn_relu_bwd(r->be, &r->x, &r->dx, &r->dx);
    if (status == FCNN_OK && chain == CHAIN_RELU_ELSEWHERE) {
        status = fcnn_relu_bwd(r->be, &r->x, &r->dx, &r->dx2);
        result = &r->dx2;
    }
    if (status == FCNN_OK && chain == CHAIN_FULL)
        status = fcnn_bias_bwd(r->be, &r->dx, &r->db);
    if (status == FCNN_OK)
        status = fcnn_download(r->be, result, dx);
    if (status == FCNN_OK && chain == CHAIN_FULL)
        status = fcnn_download(r->be, &r->db, db);
    test_check(status == FCNN_OK, "running the chain: %s", fcnn_last_error());
}

static void check_shape(struct fcnn_backend *ref, struct fcnn_backend *ocl, bool fusing,
                        const struct shape *s, struct test_rng *rng)
{
    struct run a = { .be = ref }, b = { .be = ocl };
    place(&a, s);
    place(&b, s);
    size_t big = fcnn_tensor_count(&a.x), small = fcnn_tensor_count(&a.dy);
    float *x = malloc(big * sizeof *x), *dy = malloc(small * sizeof *dy);
    /* A ReLU's output: half exact zeros, so windows of zeros and ties are common. */
    for (size_t i = 0; i < big; i++)
        x[i] = fmaxf(0.0f, test_rng_uniform(rng, -1, 1));
    for (size_t i = 0; i < small; i++)
        dy[i] = test_rng_uniform(rng, -1, 1);
    float *want = malloc(big * sizeof *want), *got = malloc(big * sizeof *got);
    float *want_db = malloc((size_t)s->c * sizeof *want_db);
    float *got_db = malloc((size_t)s->c * sizeof *got_db);

    for (int chain = 0; chain < CHAIN_COUNT; chain++) {
        int failures = test_failures();
        upload(&a, x, dy);
        upload(&b, x, dy);
        long long before = test_fused_calls(ocl);
        run_chain(&a, s, chain, want, want_db);
        run_chain(&b, s, chain, got, got_db);
        char id[160];
        snprintf(id, sizeof id, "%s n=%d h=%d w=%d c=%d size=%d%s", chain_names[chain], s->n,
                 s->h, s->w, s->c, s->size, fusing ? "" : " (FCNN_FUSE=0)");
        size_t wrong = 0, first = 0;
        for (size_t i = 0; i < big; i++)
            if (memcmp(&want[i], &got[i], sizeof(float)) != 0 && !wrong++)
                first = i;
        test_check(!wrong, "%s: dx differs in %zu of %zu elements, first at %zu: %g, not %g",
                   id, wrong, big, first, (double)got[first], (double)want[first]);
        if (chain == CHAIN_FULL) {
            double e = test_nmse(want_db, got_db, (size_t)s->c);
            test_check(e <= NMSE_LIMIT, "%s: db NMSE %.3g", id, e);
        }
        /* Fusion must have happened exactly where the chain allows it. */
        long long fused = test_fused_calls(ocl) - before;
        long long expected = !fusing || s->c % 16 ? 0
                             : chain == CHAIN_FULL ? 2 : chain == CHAIN_POOL_RELU ? 1 : 0;
        test_check(fused == expected, "%s: %lld calls fused, expected %lld", id, fused, expected);
        if (test_failures() == failures)
            printf("ok   %s\n", id);
    }
    fcnn_buffer_free(ref, a.buffer);
    fcnn_buffer_free(ocl, b.buffer);
    free(x);
    free(dy);
    free(want);
    free(got);
    free(want_db);
    free(got_db);
}

/* The launch of a deferred chain fails: when bias_bwd completes it, when a sync flushes
 * it, and when freeing a buffer flushes it (which cannot report: the next sync must). */
static void check_deferred_failures(struct fcnn_backend *ocl, const struct shape *s)
{
    struct run r = { .be = ocl };
    place(&r, s);
    struct fcnn_buffer *other;
    struct fcnn_pool_params pool = { .ph = s->size, .pw = s->size, .sh = s->size,
                                     .sw = s->size };
    static const char *const expected[] = {
        "maxpool_bwd with relu_bwd and bias_bwd (fused): clEnqueueNDRangeKernel",
        "maxpool_bwd (deferred for fusion): clEnqueueNDRangeKernel",
        "maxpool_bwd with relu_bwd (deferred and fused): clEnqueueNDRangeKernel",
    };
    for (int scenario = 0; scenario < 3; scenario++) {
        test_check(fcnn_sync(ocl) == FCNN_OK, "sync before scenario %d", scenario);
        ocl_fault_reset();
        setenv("FCNN_OPENCL_FAULT", "enqueue:1", 1);
        int status = fcnn_maxpool_bwd(ocl, &r.x, &r.dy, &r.dx, &pool);
        test_check(status == FCNN_OK, "scenario %d: maxpool_bwd was not deferred: %s", scenario,
                   fcnn_last_error());
        if (scenario != 1)
            test_check(fcnn_relu_bwd(ocl, &r.x, &r.dx, &r.dx) == FCNN_OK,
                       "scenario %d: relu_bwd was not absorbed", scenario);
        if (scenario == 0) {
            status = fcnn_bias_bwd(ocl, &r.dx, &r.db);
        } else if (scenario == 1) {
            status = fcnn_sync(ocl);
        } else {
            test_check(fcnn_buffer_alloc(ocl, 64, &other) == FCNN_OK, "allocating");
            fcnn_buffer_free(ocl, other);
            status = fcnn_sync(ocl);
        }
        unsetenv("FCNN_OPENCL_FAULT");
        test_check(status == FCNN_ERR_DEVICE && strstr(fcnn_last_error(), expected[scenario]) &&
                       strstr(fcnn_last_error(), "CL_OUT_OF_RESOURCES"),
                   "scenario %d: the failed launch came back as status %d, '%s'; expected "
                   "'%s...: CL_OUT_OF_RESOURCES'", scenario, status, fcnn_last_error(),
                   expected[scenario]);
        if (test_check(fcnn_sync(ocl) == FCNN_OK, "scenario %d: the failure came back twice",
                       scenario))
            printf("ok   a failed deferred launch is reported: %s\n", expected[scenario]);
    }
    fcnn_buffer_free(ocl, r.buffer);
}

static const struct shape shapes[] = {
    { 32, 28, 28, 32, 2 }, /* the model's two layers */
    { 33, 14, 14, 64, 2 },
    { 7, 7, 7, 16, 2 },    /* an odd size: the last row and column are uncovered */
    { 1, 5, 9, 32, 2 },
    { 2, 10, 11, 16, 3 },  /* 3x3 windows, a remainder of 1 and 2 */
    { 3, 6, 6, 3, 2 },     /* channels the fused kernel does not take: no fusion */
};

static void check_shapes(struct fcnn_backend *ref, struct fcnn_backend *ocl, bool fusing)
{
    struct test_rng rng = { 42 };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        check_shape(ref, ocl, fusing, &shapes[i], &rng);
    if (fusing)
        check_deferred_failures(ocl, &shapes[2]);
}

int main(void)
{
    test_skip_without_opencl("opencl-fusion");
    return test_fusion_on_and_off(check_shapes);
}
