/* The host CPU's fp32 peak through OpenBLAS's sgemm. A [2048,2048] product (17 GFLOP) is
 * large enough for OpenBLAS to run at its steady rate on every core.
 *
 * OpenBLAS is loaded when the benchmark measures, not linked: a linked OpenBLAS starts its
 * thread pool as the program loads, so every run would carry threads only the benchmark
 * uses (and LeakSanitizer, which stops every thread at exit, one more to trip on). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>

#include "train/host_peak.h"
#include "core/clock.h"
#include "core/status.h"

#ifdef HAVE_OPENBLAS
#include <cblas.h>
#include <dlfcn.h>
#endif

#define HOST_PEAK_SIZE 2048
#define HOST_PEAK_MAX_REPEATS 15

bool fcnn_host_peak_available(void)
{
#ifdef HAVE_OPENBLAS
    return true;
#else
    return false;
#endif
}

#ifdef HAVE_OPENBLAS
static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef __typeof__(cblas_sgemm) sgemm_fn;
typedef __typeof__(openblas_get_num_threads) thread_count_fn;

/* The kernel family OpenBLAS is to use: the best one this CPU's instruction set runs.
 * OpenBLAS picks its kernels by the CPU's model number, and a release older than the CPU
 * falls back to SSE3 ("Prescott"): Debian 12's 0.3.21 does on a 5th-generation Xeon
 * (model 207), 34 GFLOPS on 2 cores where its AVX-512 kernels reach 193, and the floor
 * measured against the smaller figure would be a sixth of what the CPU can do. A family
 * the user set in OPENBLAS_CORETYPE is kept. */
static void choose_openblas_kernels(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (getenv("OPENBLAS_CORETYPE"))
        return;
    __builtin_cpu_init();
    const char *family = NULL;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512cd"))
        family = "SkylakeX";
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        family = "Haswell";
    /* Read by OpenBLAS as it loads, below; no other thread reads the environment while the
     * benchmark runs. */
    if (family)
        setenv("OPENBLAS_CORETYPE", family, 0);
#endif
}

/* Loaded once and kept: its threads outlive the measurement. */
static int load_openblas(sgemm_fn **sgemm, thread_count_fn **threads,
                         const char *(**kernels)(void))
{
    static void *library;
    if (!library) {
        choose_openblas_kernels();
        library = dlopen(OPENBLAS_SONAME, RTLD_NOW | RTLD_LOCAL);
    }
    if (!library)
        return fcnn_error(FCNN_ERR_UNSUPPORTED, "%s (install libopenblas0)", dlerror());
    *sgemm = (sgemm_fn *)dlsym(library, "cblas_sgemm");
    *threads = (thread_count_fn *)dlsym(library, "openblas_get_num_threads");
    *(void **)kernels = dlsym(library, "openblas_get_corename"); /* optional */
    if (!*sgemm || !*threads)
        return fcnn_error(FCNN_ERR_UNSUPPORTED, "%s: no cblas_sgemm or openblas_get_num_threads",
                          OPENBLAS_SONAME);
    return FCNN_OK;
}

int fcnn_host_peak_measure(double seconds, struct fcnn_host_peak *out)
{
    sgemm_fn *sgemm = NULL;
    thread_count_fn *thread_count = NULL;
    const char *(*kernels)(void) = NULL;
    int status = load_openblas(&sgemm, &thread_count, &kernels);
    if (status != FCNN_OK)
        return status;
    const int n = HOST_PEAK_SIZE;
    size_t count = (size_t)n * n;
    float *a = malloc(count * sizeof *a), *b = malloc(count * sizeof *b);
    float *c = malloc(count * sizeof *c);
    if (!a || !b || !c) {
        free(a), free(b), free(c);
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory for the host's GEMM benchmark");
    }
    /* Small ordinary values: no denormals, no overflow. */
    for (size_t i = 0; i < count; i++) {
        a[i] = (float)((i * 7919u) % 17u) * 0.01f - 0.08f;
        b[i] = (float)((i * 104729u) % 13u) * 0.01f - 0.06f;
    }
    double times[HOST_PEAK_MAX_REPEATS], spent = 0;
    int reps = 0;
    /* The first product is not counted: it starts OpenBLAS's threads and faults the
     * pages in. */
    for (int run = -1; run < HOST_PEAK_MAX_REPEATS && (reps < 3 || spent < seconds); run++) {
        double start = fcnn_now();
        sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        double elapsed = fcnn_now() - start;
        if (run >= 0) {
            times[reps++] = elapsed;
            spent += elapsed;
        }
    }
    free(a), free(b), free(c);
    qsort(times, (size_t)reps, sizeof *times, compare_doubles);
    double median = reps % 2 ? times[reps / 2] : 0.5 * (times[reps / 2 - 1] + times[reps / 2]);
    out->gflops = 2.0 * n * n * (double)n / median * 1e-9;
    out->size = n;
    out->threads = thread_count();
    out->repeats = reps;
    const char *name = kernels ? kernels() : NULL;
    snprintf(out->kernels, sizeof out->kernels, "%s", name && *name ? name : "unknown");
    return FCNN_OK;
}
#else
int fcnn_host_peak_measure(double seconds, struct fcnn_host_peak *out)
{
    (void)seconds, (void)out;
    return fcnn_error(FCNN_ERR_UNSUPPORTED, "this build has no OpenBLAS (configure --with-openblas)");
}
#endif
