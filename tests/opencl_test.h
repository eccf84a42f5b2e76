/* Helpers shared by the OpenCL backend's tests: skipping without a device, a seeded
 * generator, checks that print what failed, and what the fusion tests measure. */
#ifndef FCNN_OPENCL_TEST_H
#define FCNN_OPENCL_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "core/status.h"

/* Automake's exit status for a test that cannot run here. */
#define TEST_SKIP 77

/* Exits with TEST_SKIP, saying why, when this machine has no OpenCL device at all; a
 * device that exists but cannot be opened is a failure, not a skip. */
void test_skip_without_opencl(const char *test);

/* splitmix64: the same sequence everywhere for a seed. */
struct test_rng {
    uint64_t state;
};
uint64_t test_rng_next(struct test_rng *rng);
float test_rng_uniform(struct test_rng *rng, float low, float high);
int test_rng_int(struct test_rng *rng, int bound); /* 0 .. bound-1 */

/* Counts a failed check and prints it; returns the condition. */
bool test_check(bool condition, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int test_failures(void);

/* Opens the opencl backend or fails the test with the library's message. */
struct fcnn_backend *test_open_opencl(const struct fcnn_backend_options *options);

/* The normalised squared error of `got` against `want`: sum (got - want)^2 / sum want^2,
 * or the plain sum where `want` is all zeros. */
double test_nmse(const float *want, const float *got, size_t n);
/* How many calls the OpenCL backend `be` has absorbed into other ops' fused kernels. */
long long test_fused_calls(struct fcnn_backend *be);
/* A fusion test's run: check(ref, ocl, fusing) on an OpenCL backend with fusion on, then
 * on a fresh one with FCNN_FUSE=0, each against the reference backend `ref`; then the
 * summary line. Returns the test's exit status. */
int test_fusion_on_and_off(void (*check)(struct fcnn_backend *ref, struct fcnn_backend *ocl,
                                         bool fusing));

#endif
