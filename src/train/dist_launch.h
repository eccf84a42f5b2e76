/* What both versions of the distribution module (with and without MPI) share: how a
 * process learns that a launcher started it as one of several, and how processes on one
 * machine split its CPU cores. Private to src/train/dist_*.c. */
#ifndef FCNN_DIST_LAUNCH_H
#define FCNN_DIST_LAUNCH_H

#include <stdbool.h>

#include "train/dist.h"

/* Whether an MPI launcher (Open MPI's mpirun, MPICH's Hydra) started this process;
 * if so, fills in the rank, size and local rank and size it was told. */
bool fcnn_dist_launched(struct fcnn_dist *d);

/* Keeps this process to its share of the CPU cores it may run on: local rank r of n takes
 * the r-th of n equal parts (at least one core), sets its affinity, and caps OpenMP's and
 * PoCL's thread pools to that many threads, unless the user set those counts. A process
 * the launcher already bound to fewer cores than the machine has keeps that binding. */
void fcnn_dist_share_cores(struct fcnn_dist *d);

#endif
