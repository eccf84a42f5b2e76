/* The OpenCL backend's fusion of an image's first layer in a training pass (ocl_fuse.c):
 * a convolution of one input channel and a 3x3 window at stride 1, then 2x2 pooling,
 *
 *   conv2d_fwd(x, w, b, y);  maxpool_fwd(y, p)        one kernel writing y and p
 *
 * enqueued back to back must give what the reference gives op by op: y within float
 * rounding (the same sums in another order), p within rounding of ref's and exactly the
 * pooling of the y written (the fused kernel pools what it stores, so the backward's
 * routing matches it). The harness runs ops one at a time, which never fuses; this runs
 * the pair on the model's first layer and on odd ones (valid padding with an odd output,
 * 16 channels, no activation), with fusion on and off, and checks that fusion happened
 * exactly where it may, so that a pass is not a vacuous one. Then it makes the fused
 * kernel's launch fail (FCNN_OPENCL_FAULT): the failure must come back named after the
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
    bool relu;
    int fused;       /* calls the fusion absorbs: 1 (the pooling) or 0 */
};

struct tensors {
    struct fcnn_backend *be;
    struct fcnn_buffer *buffer;
    struct fcnn_tensor x, w, b, y, p;
};

static int out_h(const struct layer *l) { return l->h + 2 * l->pad - 2; }
static int out_w(const struct layer *l) { return l->w + 2 * l->pad - 2; }

/* Every tensor in one buffer, each at a 4-byte offset off 16-byte alignment. */
static void place(struct tensors *t, const struct layer *l)
{
    int ho = out_h(l), wo = out_w(l);
    size_t image = (size_t)l->n * l->h * l->w, full = (size_t)l->n * ho * wo * l->k;
    size_t pooled = (size_t)l->n * (ho / 2) * (wo / 2) * l->k, kernel = 9 * (size_t)l->k;
    size_t floats = image + full + pooled + kernel + l->k + 256;
    int status = fcnn_buffer_alloc(t->be, floats * sizeof(float), &t->buffer);
    if (!test_check(status == FCNN_OK, "allocating: %s", fcnn_last_error()))
        exit(1);
    size_t at = 4; /* bytes */
    struct fcnn_tensor *next[] = { &t->x, &t->w, &t->b, &t->y, &t->p };
    int shapes[][4] = { { l->n, l->h, l->w, 1 }, { 3, 3, 1, l->k }, { l->k, 0, 0, 0 },
                        { l->n, ho, wo, l->k }, { l->n, ho / 2, wo / 2, l->k } };
    for (int i = 0; i < 5; i++) {
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

static struct fcnn_conv2d_params conv_params(const struct layer *l)
{
    return (struct fcnn_conv2d_params){ .sh = 1, .sw = 1, .pad_top = l->pad,
                                        .pad_bottom = l->pad, .pad_left = l->pad,
                                        .pad_right = l->pad,
                                        .act = l->relu ? FCNN_ACT_RELU : FCNN_ACT_NONE };
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
    struct fcnn_conv2d_params cp = conv_params(l);
    int status = fcnn_conv2d_fwd(t->be, &t->x, &t->w, &t->b, &t->y, &cp);
    if (status == FCNN_OK)
        status = fcnn_maxpool_fwd(t->be, &t->y, &t->p, &pool2);
    test_check(status == FCNN_OK, "the forward: %s", fcnn_last_error());
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
    long long fused = test_fused_calls(ocl) - before, expected = fusing ? l->fused : 0;
    test_check(fused == expected, "%s: %lld calls fused, expected %lld", id, fused, expected);
    check_nmse(id, "y", want_y, got_y, full);
    check_nmse(id, "p", want_p, got_p, pooled);
    check_pooled(id, l, got_y, got_p);
    if (test_failures() == failures)
        printf("ok   %s: %lld calls fused\n", id, fused);

    float *owned[] = { x, w, bias, want_y, got_y, want_p, got_p };
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++)
        free(owned[i]);
    fcnn_buffer_free(ref, a.buffer);
    fcnn_buffer_free(ocl, b.buffer);
}

/* The fused launch fails: the failure comes back from the maxpool_fwd that completed the
 * pair, named after the fused ops, once. */
static void check_failure(struct fcnn_backend *ocl, const struct layer *l)
{
    struct tensors t = { .be = ocl };
    place(&t, l);
    const char *expected = "conv2d_fwd with maxpool_fwd (fused): clEnqueueNDRangeKernel";
    test_check(fcnn_sync(ocl) == FCNN_OK, "sync before the failure");
    ocl_fault_reset();
    setenv("FCNN_OPENCL_FAULT", "enqueue:1", 1);
    struct fcnn_conv2d_params cp = conv_params(l);
    int status = fcnn_conv2d_fwd(ocl, &t.x, &t.w, &t.b, &t.y, &cp);
    test_check(status == FCNN_OK, "conv2d_fwd was not deferred: %s", fcnn_last_error());
    status = fcnn_maxpool_fwd(ocl, &t.y, &t.p, &pool2);
    unsetenv("FCNN_OPENCL_FAULT");
    test_check(status == FCNN_ERR_DEVICE && strstr(fcnn_last_error(), expected) &&
                   strstr(fcnn_last_error(), "CL_OUT_OF_RESOURCES"),
               "the failed launch came back as status %d, '%s'; expected '%s...: "
               "CL_OUT_OF_RESOURCES'", status, fcnn_last_error(), expected);
    if (test_check(fcnn_sync(ocl) == FCNN_OK, "the failure came back twice"))
        printf("ok   a failed fused launch is reported: %s\n", expected);
    fcnn_buffer_free(ocl, t.buffer);
}

static const struct layer layers[] = {
    { 32, 28, 28, 32, 1, true, 1 }, /* the reference model's first layer */
    { 3, 10, 12, 64, 1, false, 1 }, /* no activation; 64 channels */
    { 2, 9, 9, 32, 0, true, 0 },    /* valid: a 7x7 output, which 2x2 windows do not
                                     * cover: not fused */
    { 2, 8, 8, 16, 1, true, 0 },    /* 16 channels: the fused kernel takes 32s */
};

static void check_layers(struct fcnn_backend *ref, struct fcnn_backend *ocl, bool fusing)
{
    struct test_rng rng = { 7 };
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++)
        check_layer(ref, ocl, fusing, &layers[i], &rng);
    if (fusing)
        check_failure(ocl, &layers[1]);
}

int main(void)
{
    test_skip_without_opencl("opencl-first-layer-fusion");
    return test_fusion_on_and_off(check_layers);
}
