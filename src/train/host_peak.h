/* The host CPU's fp32 peak, measured by a library that is not ours: the benchmark's FLOP
 * floor must not grow more lenient because one of our own GEMM kernels is slow. */
#ifndef FCNN_HOST_PEAK_H
#define FCNN_HOST_PEAK_H

#include <stdbool.h>

struct fcnn_host_peak {
    double gflops;   /* median rate of the repeated products */
    int size;        /* the square products' side */
    int threads;     /* the library's threads (all the host's cores) */
    int repeats;
    char kernels[32]; /* OpenBLAS's kernel family, e.g. "SkylakeX" */
};

/* Whether this build can measure it (configure found OpenBLAS, loaded when measuring). */
bool fcnn_host_peak_available(void);

/* Times repeated [n,n] x [n,n] sgemm products on every core, about `seconds` in all after
 * one untimed product. FCNN_ERR_UNSUPPORTED without OpenBLAS (in the build or, loaded at
 * this call, on the machine). */
int fcnn_host_peak_measure(double seconds, struct fcnn_host_peak *out);

#endif
