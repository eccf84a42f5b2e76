/* fcnn --bench: steady-state speed of a backend on the real model and data, as figures to
 * read, never as pass/fail. */
#ifndef FCNN_BENCH_H
#define FCNN_BENCH_H

#include <stdio.h>

#include "train/train.h"

/* Times, after a warm-up: training steps (images/s and the epoch it implies), inference
 * over the validation split at the trainer's evaluation batch size (images/s), and every
 * op of one training step replayed alone (ms, share, GFLOPS, GB/s). The trainer's
 * weights and optimizer state change: benchmark a throw-away run. */
int fcnn_bench(struct fcnn_trainer *t, FILE *out);

#endif
