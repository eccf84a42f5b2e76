/* fcnn --bench: steady-state speed of a backend on the real model and data, as figures to
 * read, never as pass/fail. */
#ifndef FCNN_BENCH_H
#define FCNN_BENCH_H

#include <stdio.h>

#include "train/train.h"

/* Times, after a warm-up: training steps (images/s and the epoch it implies), inference
 * over the validation split at the trainer's evaluation batch size (images/s), one image's
 * latency from load to prediction, the backend's fp32 peak on a large dense product, and
 * every op of one training step replayed alone (ms, share, GFLOPS, GB/s), ending with the
 * epoch's FLOP floor at that peak and how far the measured epoch is from it. The trainer's
 * weights and optimizer state change: benchmark a throw-away run. */
int fcnn_bench(struct fcnn_trainer *t, FILE *out);

#endif
