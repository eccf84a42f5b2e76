/* Helpers shared by the OpenCL backend's tests. */
#include <config.h>

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "backend/backend-impl.h"
#include "ocl.h"
#include "opencl_test.h"

void test_skip_without_opencl(const char *test)
{
    cl_platform_id platforms[8];
    cl_uint platform_count = 0;
    cl_int status = clGetPlatformIDs(8, platforms, &platform_count);
    /* The ICD loader answers CL_PLATFORM_NOT_FOUND_KHR (-1001) when no driver is installed;
     * any other error is a broken installation, which is a failure, not a reason to skip. */
    if (status == -1001 || (status == CL_SUCCESS && platform_count == 0)) {
        printf("%s: SKIP: no OpenCL platform on this machine\n", test);
        exit(TEST_SKIP);
    }
    if (status != CL_SUCCESS) {
        printf("%s: FAIL: clGetPlatformIDs failed with %d\n", test, (int)status);
        exit(1);
    }
    for (cl_uint p = 0; p < platform_count && p < 8; p++) {
        cl_uint devices = 0;
        if (clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 0, NULL, &devices) == CL_SUCCESS &&
            devices > 0)
            return;
    }
    printf("%s: SKIP: no OpenCL device on this machine\n", test);
    exit(TEST_SKIP);
}

uint64_t test_rng_next(struct test_rng *rng)
{
    uint64_t z = (rng->state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

float test_rng_uniform(struct test_rng *rng, float low, float high)
{
    double unit = (double)(test_rng_next(rng) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(low + (high - low) * unit);
}

int test_rng_int(struct test_rng *rng, int bound)
{
    return (int)(test_rng_next(rng) % (uint64_t)bound);
}

static int failures;

bool test_check(bool condition, const char *fmt, ...)
{
    if (!condition) {
        failures++;
        va_list ap;
        va_start(ap, fmt);
        printf("FAIL: ");
        vprintf(fmt, ap);
        printf("\n");
        va_end(ap);
    }
    return condition;
}

int test_failures(void)
{
    return failures;
}

struct fcnn_backend *test_open_opencl(const struct fcnn_backend_options *options)
{
    struct fcnn_backend *be = NULL;
    int status = fcnn_backend_open("opencl", options, &be);
    if (status != FCNN_OK) {
        printf("FAIL: opening the opencl backend: %s: %s\n", fcnn_status_name(status),
               fcnn_last_error());
        exit(1);
    }
    return be;
}

double test_nmse(const float *want, const float *got, size_t n)
{
    double err = 0, ref = 0;
    for (size_t i = 0; i < n; i++) {
        err += ((double)got[i] - want[i]) * ((double)got[i] - want[i]);
        ref += (double)want[i] * want[i];
    }
    return ref > 0 ? err / ref : err;
}

long long test_fused_calls(struct fcnn_backend *be)
{
    const struct ocl_context *ctx = fcnn_backend_ctx_of(be);
    long long total = 0;
    for (int op = 0; op < FCNN_OP_COUNT; op++)
        total += ctx->fusion.fused[op];
    return total;
}

int test_fusion_on_and_off(void (*check)(struct fcnn_backend *ref, struct fcnn_backend *ocl,
                                         bool fusing))
{
    struct fcnn_backend *ref = NULL;
    if (fcnn_backend_open("ref", NULL, &ref) != FCNN_OK) {
        printf("FAIL: opening ref: %s\n", fcnn_last_error());
        return 1;
    }
    for (int fusing = 1; fusing >= 0; fusing--) {
        if (!fusing)
            setenv("FCNN_FUSE", "0", 1);
        struct fcnn_backend *ocl = test_open_opencl(NULL);
        check(ref, ocl, fusing);
        fcnn_backend_close(ocl);
    }
    unsetenv("FCNN_FUSE");
    fcnn_backend_close(ref);
    printf(test_failures() ? "%d check(s) failed\n" : "all passed\n", test_failures());
    return test_failures() ? 1 : 0;
}
