/* The OpenCL backend's fusions of an image's first layer (ocl_fuse.c), whose convolution
 * has one input channel and a 3x3 window at stride 1, pooled 2x2:
 *
 *   forward   conv2d_fwd(x, w, b, y);  maxpool_fwd(y, p)             one kernel writing y, p
 *   backward  maxpool_bwd(y, dp, dz);  relu_bwd(y, dz, dz);  bias_bwd(dz, db);
 *             conv2d_bwd_filter(x, dz, dw)                          one kernel and its sums
 *
 * enqueued back to back must give what the reference gives op by op: y, db and dw within
 * float rounding (other orders of the same sums), p exactly the pooling of the y written
 * (the fused kernel pools what it stores), dz bit for bit (dp routed and masked, no
 * arithmetic). The harness runs ops one at a time, which never fuses; this runs the
 * chains on the model's first layer and on odd ones (valid padding, outputs of odd size,
 * 16 channels, no activation), with fusion on and off, and checks that fusion happened
 * exactly where it may, so that a pass is not a vacuous one. Then it makes the fused
 * kernels' launches fail (FCNN_OPENCL_FAULT): the failure must come back named after the
 * fused ops. */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend-impl.h"
#include "ocl.h"
#include "opencl_test.h"

#define NMSE_LIMIT 1e-8

struct layer {
    int n, h, w, k;  /* input [n, h, w, 1], k output channels */
    int pad;         /* 1: "same"; 0: "valid" */
    bool relu;       /* the forward's activation; the backward chain always has the ReLU */
    int fused_fwd;   /* calls the forward fusion absorbs: 1 (the pooling) or 0 */
    int fused_bwd;   /* and the backward's: 3 (relu, bias, filter), or 2 when it stops */
};

struct tensors {
    struct fcnn_backend *be;
    struct fcnn_buffer *buffer;
    struct fcnn_tensor x, w, b, y, p, dp, dz, db, dw;
};

static int out_h(const struct layer *l) { return l->h + 2 * l->pad - 2; }
static int out_w(const struct layer *l) { return l->w + 2 * l->pad - 2; }

/* Every tensor in one buffer, each at a 4-byte offset off 16-byte alignment. */
static void place(struct tensors *t, const struct layer *l)
{
    int ho = out_h(l), wo = out_w(l);
    size_t image = (size_t)l->n * l->h * l->w, full = (size_t)l->n * ho * wo * l->k;
    size_t pooled = (size_t)l->n * (ho / 2) * (wo / 2) * l->k, kernel = 9 * (size_t)l->k;
    size_t floats = image + 2 * full + 2 * pooled + 2 * kernel + 2 * l->k + 256;
    int status = fcnn_buffer_alloc(t->be, floats * sizeof(float), &t->buffer);
    if (!test_check(status == FCNN_OK, "allocating: %s", fcnn_last_error()))
        exit(1);
    size_t at = 4; /* bytes */
    struct fcnn_tensor *next[] = { &t->x, &t->w, &t->b, &t->y, &t->p,
                                   &t->dp, &t->dz, &t->db, &t->dw };
    int shapes[][4] = { { l->n, l->h, l->w, 1 }, { 3, 3, 1, l->k }, { l->k, 0, 0, 0 },
                        { l->n, ho, wo, l->k }, { l->n, ho / 2, wo / 2, l->k },
                        { l->n, ho / 2, wo / 2, l->k }, { l->n, ho, wo, l->k },
                        { l->k, 0, 0, 0 }, { 3, 3, 1, l->k } };
    for (int i = 0; i < 9; i++) {
        int *s = shapes[i];
        *next[i] = s[1] ? fcnn_tensor_4d(t->buffer, at, FCNN_F32, s[0], s[1], s[2], s[3])
                        : fcnn_tensor_1d(t->buffer, at, FCNN_F32, s[0]);
        at += fcnn_tensor_bytes(next[i]) + 16;
    }
}

static float *random_floats(size_t n, struct test_rng *rng, float low, float high)
{
    float *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = test_rng_uniform(rng, low, high);
    return v;
}

static void upload(const struct tensors *t, const struct fcnn_tensor *tensor, const float *v)
{
    test_check(fcnn_upload(t->be, tensor, v) == FCNN_OK, "uploading: %s", fcnn_last_error());
}

static float *download(const struct tensors *t, const struct fcnn_tensor *tensor)
{
    float *v = malloc(fcnn_tensor_bytes(tensor));
    test_check(fcnn_download(t->be, tensor, v) == FCNN_OK, "downloading: %s",
               fcnn_last_error());
    return v;
}

static struct fcnn_conv2d_params conv_params(const struct layer *l, bool relu)
{
    return (struct fcnn_conv2d_params){ .sh = 1, .sw = 1, .pad_top = l->pad,
                                        .pad_bottom = l->pad, .pad_left = l->pad,
                                        .pad_right = l->pad,
                                        .act = relu ? FCNN_ACT_RELU : FCNN_ACT_NONE };
}

static const struct fcnn_pool_params pool2 = { .ph = 2, .pw = 2, .sh = 2, .sw = 2 };

static void check_nmse(const char *id, const char *what, const float *want, const float *got,
                       size_t n)
{
    double e = test_nmse(want, got, n);
    test_check(e <= NMSE_LIMIT, "%s: %s NMSE %.3g (limit %g)", id, what, e, NMSE_LIMIT);
}

/* p against the 2x2 pooling (first maximum, row-major) of the y it came with. */
static void check_pooled(const char *id, const struct layer *l, const float *y, const float *p)
{
    int ho = out_h(l), wo = out_w(l), hp = ho / 2, wp = wo / 2, k = l->k;
    size_t wrong = 0;
    for (int n = 0; n < l->n; n++)
        for (int i = 0; i < hp; i++)
            for (int j = 0; j < wp; j++)
                for (int c = 0; c < k; c++) {
                    float best = y[(((size_t)n * ho + 2 * i) * wo + 2 * j) * k + c];
                    for (int di = 0; di < 2; di++)
                        for (int dj = 0; dj < 2; dj++) {
                            float v = y[(((size_t)n * ho + 2 * i + di) * wo + 2 * j + dj) * k + c];
                            if (v > best)
                                best = v;
                        }
                    float got = p[(((size_t)n * hp + i) * wp + j) * k + c];
                    wrong += memcmp(&got, &best, sizeof got) != 0;
                }
    test_check(!wrong, "%s: %zu pooled outputs are not the maximum of the y written", id, wrong);
}

static void run_forward(const struct tensors *t, const struct layer *l)
{
    struct fcnn_conv2d_params cp = conv_params(l, l->relu);
    int status = fcnn_conv2d_fwd(t->be, &t->x, &t->w, &t->b, &t->y, &cp);
    if (status == FCNN_OK)
        status = fcnn_maxpool_fwd(t->be, &t->y, &t->p, &pool2);
    test_check(status == FCNN_OK, "the forward: %s", fcnn_last_error());
}

static void run_backward(const struct tensors *t, const struct layer *l)
{
    struct fcnn_conv2d_params cp = conv_params(l, false);
    int status = fcnn_maxpool_bwd(t->be, &t->y, &t->dp, &t->dz, &pool2);
    if (status == FCNN_OK)
        status = fcnn_relu_bwd(t->be, &t->y, &t->dz, &t->dz);
    if (status == FCNN_OK)
        status = fcnn_bias_bwd(t->be, &t->dz, &t->db);
    if (status == FCNN_OK)
        status = fcnn_conv2d_bwd_filter(t->be, &t->x, &t->dz, &t->dw, &cp);
    test_check(status == FCNN_OK, "the backward: %s", fcnn_last_error());
}

static void check_layer(struct fcnn_backend *ref, struct fcnn_backend *ocl, bool fusing,
                        const struct layer *l, struct test_rng *rng)
{
    struct tensors a = { .be = ref }, b = { .be = ocl };
    place(&a, l);
    place(&b, l);
    char id[160];
    snprintf(id, sizeof id, "n=%d h=%d w=%d k=%d %s%s%s", l->n, l->h, l->w, l->k,
             l->pad ? "same" : "valid", l->relu ? " relu" : "", fusing ? "" : " (FCNN_FUSE=0)");
    int failures = test_failures();
    size_t image = fcnn_tensor_count(&a.x), full = fcnn_tensor_count(&a.y);
    size_t pooled = fcnn_tensor_count(&a.p), k = (size_t)l->k;
    /* Images in [0, 1] with whole black rows, as the data has; weights and biases of both
     * signs, so the ReLU closes and windows hold ties of zeros. */
    float *x = random_floats(image, rng, 0, 1), *w = random_floats(9 * k, rng, -0.5f, 0.5f);
    float *bias = random_floats(k, rng, -0.2f, 0.2f);
    for (int n = 0; n < l->n; n++)
        memset(x + ((size_t)n * l->h + (size_t)n % l->h) * l->w, 0, (size_t)l->w * sizeof *x);

    /* Forward. */
    const struct fcnn_tensor *in[] = { &a.x, &a.w, &a.b }, *in_b[] = { &b.x, &b.w, &b.b };
    const float *values[] = { x, w, bias };
    for (int i = 0; i < 3; i++) {
        upload(&a, in[i], values[i]);
        upload(&b, in_b[i], values[i]);
    }
    long long before = test_fused_calls(ocl);
    run_forward(&a, l);
    run_forward(&b, l);
    float *want_y = download(&a, &a.y), *got_y = download(&b, &b.y);
    float *want_p = download(&a, &a.p), *got_p = download(&b, &b.p);
    long long fused = test_fused_calls(ocl) - before, expected = fusing ? l->fused_fwd : 0;
    test_check(fused == expected, "%s: forward: %lld calls fused, expected %lld", id, fused,
               expected);
    check_nmse(id, "y", want_y, got_y, full);
    check_nmse(id, "p", want_p, got_p, pooled);
    check_pooled(id, l, got_y, got_p);

    /* Backward, from one y on both backends (the reference's), so that dz compares bit
     * for bit; the pooled gradient of both signs. */
    float *dp = random_floats(pooled, rng, -1, 1);
    upload(&b, &b.y, want_y);
    upload(&a, &a.dp, dp);
    upload(&b, &b.dp, dp);
    before = test_fused_calls(ocl);
    run_backward(&a, l);
    run_backward(&b, l);
    float *want_dz = download(&a, &a.dz), *got_dz = download(&b, &b.dz);
    float *want_db = download(&a, &a.db), *got_db = download(&b, &b.db);
    float *want_dw = download(&a, &a.dw), *got_dw = download(&b, &b.dw);
    fused = test_fused_calls(ocl) - before;
    expected = fusing ? l->fused_bwd : 0;
    test_check(fused == expected, "%s: backward: %lld calls fused, expected %lld", id, fused,
               expected);
    size_t wrong = 0;
    for (size_t i = 0; i < full; i++)
        wrong += memcmp(&want_dz[i], &got_dz[i], sizeof(float)) != 0;
    test_check(!wrong, "%s: dz differs in %zu of %zu elements", id, wrong, full);
    check_nmse(id, "db", want_db, got_db, k);
    check_nmse(id, "dw", want_dw, got_dw, 9 * k);
    if (test_failures() == failures)
        printf("ok   %s: %d and %lld calls fused\n", id, fusing ? l->fused_fwd : 0, fused);

    float *owned[] = { x, w, bias, want_y, got_y, want_p, got_p, dp, want_dz, got_dz,
                       want_db, got_db, want_dw, got_dw };
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++)
        free(owned[i]);
    fcnn_buffer_free(ref, a.buffer);
    fcnn_buffer_free(ocl, b.buffer);
}

/* Each fused launch fails in turn; the failure comes back from the call that completed
 * the chain, named after the fused ops, once. */
static void check_failures(struct fcnn_backend *ocl, const struct layer *l)
{
    struct tensors t = { .be = ocl };
    place(&t, l);
    static const char *const expected[] = {
        "conv2d_fwd with maxpool_fwd (fused): clEnqueueNDRangeKernel",
        "maxpool_bwd with relu_bwd, bias_bwd and conv2d_bwd_filter (fused): "
        "clEnqueueNDRangeKernel",
        "maxpool_bwd with relu_bwd and bias_bwd (deferred and fused): clEnqueueNDRangeKernel",
    };
    for (int scenario = 0; scenario < 3; scenario++) {
        test_check(fcnn_sync(ocl) == FCNN_OK, "sync before scenario %d", scenario);
        ocl_fault_reset();
        setenv("FCNN_OPENCL_FAULT", "enqueue:1", 1);
        int status;
        if (scenario == 0) {
            struct fcnn_conv2d_params cp = conv_params(l, true);
            status = fcnn_conv2d_fwd(ocl, &t.x, &t.w, &t.b, &t.y, &cp);
            test_check(status == FCNN_OK, "conv2d_fwd was not deferred: %s", fcnn_last_error());
            status = fcnn_maxpool_fwd(ocl, &t.y, &t.p, &pool2);
        } else {
            status = fcnn_maxpool_bwd(ocl, &t.y, &t.dp, &t.dz, &pool2);
            if (status == FCNN_OK)
                status = fcnn_relu_bwd(ocl, &t.y, &t.dz, &t.dz);
            if (status == FCNN_OK)
                status = fcnn_bias_bwd(ocl, &t.dz, &t.db);
            test_check(status == FCNN_OK, "scenario %d: the chain was not deferred: %s",
                       scenario, fcnn_last_error());
            struct fcnn_conv2d_params cp = conv_params(l, false);
            status = scenario == 1 ? fcnn_conv2d_bwd_filter(ocl, &t.x, &t.dz, &t.dw, &cp)
                                   : fcnn_sync(ocl);
        }
        unsetenv("FCNN_OPENCL_FAULT");
        test_check(status == FCNN_ERR_DEVICE && strstr(fcnn_last_error(), expected[scenario]) &&
                       strstr(fcnn_last_error(), "CL_OUT_OF_RESOURCES"),
                   "scenario %d: the failed launch came back as status %d, '%s'; expected "
                   "'%s...: CL_OUT_OF_RESOURCES'", scenario, status, fcnn_last_error(),
                   expected[scenario]);
        if (test_check(fcnn_sync(ocl) == FCNN_OK, "scenario %d: the failure came back twice",
                       scenario))
            printf("ok   a failed fused launch is reported: %s\n", expected[scenario]);
    }
    fcnn_buffer_free(ocl, t.buffer);
}

int main(void)
{
    test_skip_without_opencl("opencl-first-layer-fusion");
    static const struct layer layers[] = {
        { 32, 28, 28, 32, 1, true, 1, 3 },  /* the reference model's first layer */
        { 3, 10, 12, 64, 1, false, 1, 3 },  /* no activation; 64 channels */
        { 2, 9, 9, 32, 0, true, 0, 3 },     /* valid: a 7x7 output, an uncovered row and
                                             * column; too odd for the forward's fusion */
        { 2, 8, 8, 16, 1, true, 0, 3 },     /* 16 channels: the forward's kernel takes 32s */
    };
    struct fcnn_backend *ref = NULL;
    if (fcnn_backend_open("ref", NULL, &ref) != FCNN_OK) {
        printf("FAIL: opening ref: %s\n", fcnn_last_error());
        return 1;
    }
    for (int fusing = 1; fusing >= 0; fusing--) {
        if (!fusing)
            setenv("FCNN_FUSE", "0", 1);
        struct fcnn_backend *ocl = test_open_opencl(NULL);
        struct test_rng rng = { 7 };
        for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++)
            check_layer(ref, ocl, fusing, &layers[i], &rng);
        if (fusing)
            check_failures(ocl, &layers[1]);
        fcnn_backend_close(ocl);
    }
    unsetenv("FCNN_FUSE");
    fcnn_backend_close(ref);
    printf(test_failures() ? "%d check(s) failed\n" : "all passed\n", test_failures());
    return test_failures() ? 1 : 0;
}
