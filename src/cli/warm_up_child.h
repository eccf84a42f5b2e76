/* The cold start's compilation in short-lived child processes.
 *
 * On PoCL the first build of a program loads the compiler into the process (LLVM, clang,
 * the kernel library: about 200 MB resident) and keeps it there for the rest of the run.
 * A training run on the OpenCL backend therefore does its warm-up (program builds and
 * the first launch of every kernel of every shape the run will meet) in forked children
 * before it loads its data, one for the training step's passes and one for the
 * evaluation's, at once: each keeps only a few batches of the data and leaves every
 * compiled kernel in PoCL's cache, then exits, and the run itself starts as a warm one,
 * without the compiler. Shapes with no stored tuning choice are timed after the run by
 * three more children (below). */
#ifndef FCNN_CLI_WARM_UP_CHILD_H
#define FCNN_CLI_WARM_UP_CHILD_H

#include <stdbool.h>
#include <sys/types.h>

#include "cli/cli.h"
#include "data/source.h"

/* Whether this run does its warm-up in a child: a training run whose backend is (or may
 * automatically be) OpenCL, in one process (never under mpirun: forking an MPI process is
 * unsafe), with the program cache on, unless FCNN_WARM_UP_CHILD=0 or an earlier warm-up
 * process marked the caches warm for this program, command line (argc, argv) and
 * environment. */
bool fcnn_warm_up_child_wanted(const struct fcnn_options *opt, bool distributed, int argc,
                               char **argv);

/* What a child process does: work(arg, &usage_error), the `part` of the run that its
 * messages name ("training step"). */
struct fcnn_child_work {
    int (*work)(void *arg, bool *usage_error);
    const char *part;
};

#define FCNN_WARM_UP_CHILDREN_MAX 4

/* Runs each of `works` in a forked child of its own, all at once, and waits for them. The
 * first child whose work fails makes this fail with the child's status and message (and
 * *usage_error set as the child set it), as the run would have failed in one process, and
 * the others are killed; a child that dies fails with one line saying so. With `verbose`,
 * one line on stderr per child gives its time and peak resident memory as it ends, and one
 * more says the run goes on warm. */
int fcnn_warm_up_children_run(const struct fcnn_child_work *works, int count, void *arg,
                              bool verbose, bool *usage_error);

/* The tuning after the run. A cold start does not time kernel variants: the warm-up
 * processes build and run the ones the priorities choose, and the run keeps them to its
 * end (a choice that changed within a run would change its results). Timing the others
 * for later runs needs the compiler, and a process forked once PoCL's threads are running
 * cannot use OpenCL; so the tuning children are forked at the start, before the warm-up
 * processes, and wait. */
struct fcnn_child {
    pid_t pid;       /* -1: none */
    int report;      /* its failure, read by the parent */
    int go;          /* a gated child works once it reads a byte here; EOF: it leaves */
    double started;  /* when its work began */
    long peak_kb;    /* its peak resident memory, once waited for */
    char name[96];   /* what it is, as its failures say */
    char label[64];  /* shorter, as --verbose's line on its end says */
    char mark[4200]; /* the mark of this program, command line and environment warmed */
};

/* Forks the gated child that will run work(arg, ...) when fcnn_tuning_child_finish says,
 * and names the mark of this program, command line (argc, argv) and environment. `part`
 * names what it times in its messages ("training step"). */
int fcnn_tuning_child_start(int (*work)(void *arg, bool *usage_error), void *arg,
                            const char *part, int argc, char **argv, struct fcnn_child *child);
/* With `tune`, lets the child work and waits for it: its failure (or death) is returned,
 * said in one line. Without, tells it to leave, waits, and returns FCNN_OK whatever became
 * of it. With `verbose`, a line gives the tuning's time and peak resident memory. */
int fcnn_tuning_child_finish(struct fcnn_child *child, bool tune, bool verbose);
/* Marks the caches warm for what the child was started with: later runs with the same
 * program, command line and environment do their (quick) warm-up in process. Once the
 * caches hold every program and tuning choice the run needs. */
void fcnn_warm_up_child_mark(const struct fcnn_child *child);

/* Keeps of the loaded data only what a warm-up meets: per split, the first full batch and
 * a short last batch of the same length as the whole split's (training batches of
 * `batch`, evaluation batches of `eval_batch`), and releases the rest. */
void fcnn_warm_up_shrink_data(struct fcnn_data *data, int batch, int eval_batch);

#endif
