/* The cold start's compilation in a short-lived child process.
 *
 * On PoCL the first build of a program loads the compiler into the process (LLVM, clang,
 * the kernel library: about 200 MB resident) and keeps it there for the rest of the run.
 * A training run on the OpenCL backend therefore does its warm-up (program builds, tuning
 * of every shape the run will meet, the first launch of every kernel) in a forked child
 * before it loads its data: the child keeps only a few batches of the data, stores the
 * tuning choices and leaves every compiled kernel in PoCL's cache, then exits, and the
 * run itself starts as a warm one, without the compiler. */
#ifndef FCNN_CLI_WARM_UP_CHILD_H
#define FCNN_CLI_WARM_UP_CHILD_H

#include <stdbool.h>

#include "cli/cli.h"
#include "data/source.h"

/* Whether this run does its warm-up in a child: a training run whose backend is (or may
 * automatically be) OpenCL, in one process (never under mpirun: forking an MPI process is
 * unsafe), with the program cache on, unless FCNN_WARM_UP_CHILD=0 or an earlier warm-up
 * process marked the caches warm for this program, command line (argc, argv) and
 * environment. */
bool fcnn_warm_up_child_wanted(const struct fcnn_options *opt, bool distributed, int argc,
                               char **argv);

/* Runs work(arg, &usage_error) in a forked child and waits for it. A child whose work
 * fails makes this fail with the child's status and message (and *usage_error set as the
 * child set it), as the run would have failed in one process; a child that dies fails
 * with one line saying so. With `verbose`, one line on stderr gives the child's time and
 * peak resident memory. A child that succeeds leaves the mark fcnn_warm_up_child_wanted
 * reads. */
int fcnn_warm_up_child_run(int (*work)(void *arg, bool *usage_error), void *arg, bool verbose,
                           bool *usage_error, int argc, char **argv);

/* Keeps of the loaded data only what a warm-up meets: per split, the first full batch and
 * a short last batch of the same length as the whole split's (training batches of
 * `batch`, evaluation batches of `eval_batch`), and releases the rest. */
void fcnn_warm_up_shrink_data(struct fcnn_data *data, int batch, int eval_batch);

#endif
