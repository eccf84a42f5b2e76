/* Data parallelism across processes (Open MPI): one process per device, each running its
 * slice of every global batch; the gradients are summed over the processes between the
 * backward pass and the update, so every process applies the same update to the same
 * weights. Only this module talks to MPI: backends never see it, and a build without MPI
 * links an "off" version that runs alone and refuses to start as one of N copies.
 *
 * A run alone (no launcher, or a job of one process) has size 1 and every call below is
 * a no-op, so the training loop reads the same either way. */
#ifndef FCNN_DIST_H
#define FCNN_DIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nn/network.h"

struct fcnn_dist {
    int rank, size;             /* this process in the job, and the job's size */
    int local_rank, local_size; /* the same among the processes on this machine */
    bool deterministic;         /* fixed reduction order: runs on the same N bit-identical */
    bool overlap;               /* send each layer's gradients while earlier layers run */
    bool shared_failure;        /* the last error was found by every process alike */
    int cores;                  /* CPU cores this process keeps to (0: not limited) */

    /* Where the time of the gradient exchange goes, summed over the steps so far. */
    long long steps;
    double reduce_seconds; /* download, exchange and upload of the gradients */
    double mpi_seconds;    /* of which inside MPI calls (waiting for the slowest included) */

    void *impl; /* the MPI version's state */
};

/* Whether this build has MPI (configure found Open MPI). */
bool fcnn_dist_available(void);

/* Joins the job this process was started in (MPI_Init when a launcher started it) and
 * fills d. Under mpirun in a build without MPI, fails saying so. In a job of several
 * processes on one machine, also gives each process its share of the CPU cores (affinity,
 * and the thread counts of OpenMP and PoCL), so N processes do not oversubscribe them. */
int fcnn_dist_init(struct fcnn_dist *d, int *argc, char ***argv);
/* Leaves the job (MPI_Finalize) and frees what the module holds. */
void fcnn_dist_finish(struct fcnn_dist *d);
/* Prints "fcnn: rank R of N: MESSAGE" on stderr and ends the whole job (MPI_Abort), so
 * no process waits forever for one that failed. For the command-line program only:
 * library code returns statuses. */
_Noreturn void fcnn_dist_abort(struct fcnn_dist *d, const char *message);

/* More than one process. */
bool fcnn_dist_active(const struct fcnn_dist *d);
/* Rank 0 (or alone): the process that prints and writes files. */
bool fcnn_dist_is_root(const struct fcnn_dist *d);

/* Picks this process's entry from a comma-separated device list ("0:0,0:1"): the entry
 * of its local rank. A list shorter than the processes on this machine is an error. */
int fcnn_dist_pick_device(const struct fcnn_dist *d, const char *list, char *out, size_t size);

/* Rank 0's bytes to every process. */
int fcnn_dist_broadcast(struct fcnn_dist *d, void *data, size_t bytes);
/* Element-wise sums over the processes, in place (in a fixed order when deterministic). */
int fcnn_dist_sum_f32(struct fcnn_dist *d, float *data, size_t count);
int fcnn_dist_sum_f64(struct fcnn_dist *d, double *data, size_t count);
int fcnn_dist_sum_i32(struct fcnn_dist *d, int32_t *data, size_t count);

/* This process's slice of samples [first, first + n) of a batch: [*lo, *lo + *count). */
void fcnn_dist_slice(const struct fcnn_dist *d, int first, int n, int *lo, int *count);

/* Rank 0's parameters to every process (the network's whole parameter arena). */
int fcnn_dist_share_params(struct fcnn_dist *d, struct fcnn_network *net);

/* The backward pass of this process's slice (n samples; 0: none, its gradient is zero),
 * then the gradients summed over the processes into every process's gradient arena. With
 * d->overlap, each layer's gradients are sent as soon as its backward pass is queued. */
int fcnn_dist_backward(struct fcnn_dist *d, struct fcnn_network *net, int n);

#endif
