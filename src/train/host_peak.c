/* The host CPU's fp32 peak through OpenBLAS's sgemm. A [2048,2048] product (17 GFLOP) is
 * large enough for OpenBLAS to run at its steady rate on every core. */
#include <config.h>

#include <stdlib.h>

#include "train/host_peak.h"
#include "core/clock.h"
#include "core/status.h"

#ifdef HAVE_OPENBLAS
#include <cblas.h>
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

int fcnn_host_peak_measure(double seconds, struct fcnn_host_peak *out)
{
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
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f,
                    c, n);
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
    out->threads = openblas_get_num_threads();
    out->repeats = reps;
    return FCNN_OK;
}
#else
int fcnn_host_peak_measure(double seconds, struct fcnn_host_peak *out)
{
    (void)seconds, (void)out;
    return fcnn_error(FCNN_ERR_UNSUPPORTED, "this build has no OpenBLAS (configure --with-openblas)");
}
#endif
