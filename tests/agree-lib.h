/* What the model-level agreement tests (test-backends-agree, test-layers-agree,
 * test-bn-dropout-agree) share: loading the real subset they train on, finding the
 * backends to compare with ref, one training run from a seed on a backend (network,
 * optimizer, data on the device, its batch losses, parameters and state back on the
 * host), and the comparisons of two runs. Each test keeps its own model, tolerances,
 * messages and checks; this holds only the machinery, so a fix to it reaches all three. */
#ifndef FCNN_AGREE_LIB_H
#define FCNN_AGREE_LIB_H

#include <stdbool.h>
#include <stddef.h>

#include "backend/backend.h"
#include "data/dataset.h"
#include "nn/model.h"
#include "nn/network.h"
#include "nn/optimizer.h"
#include "train/train.h"

/* The seed every run starts from: the same initial weights on every backend. */
#define AGREE_SEED 42

/* What a run trains: the model, the optimizer and the batch sizes. */
struct agree_setup {
    int (*build)(struct fcnn_model *m);
    enum fcnn_optimizer_kind optimizer;
    double lr;
    int batch, eval_batch;
    int max_steps; /* the most steps a run takes: sizes its loss record */
};

/* One training run on one backend. */
struct agree_run {
    const struct agree_setup *setup;
    struct fcnn_backend *be;
    struct fcnn_model model;
    struct fcnn_network *net;
    struct fcnn_optimizer *opt;
    struct fcnn_split *train, *test;
    int test_count;
    struct fcnn_rng rng;
    struct fcnn_trainer t;
    double *step_loss;     /* mean loss of each batch trained */
    float *params, *state; /* after the last agree_train */
};

/* The first `train_images` training and `test_images` test images of the installed
 * Fashion-MNIST: 0, or 77 (printed SKIP) when it is not installed, or 1 (printed FAIL)
 * when it is there but does not load. */
int agree_load_data(int train_images, int test_images, struct fcnn_dataset *train,
                    struct fcnn_dataset *test);

/* The backends of this build besides ref that can run here, into names[0..*count). One
 * without a device is left out, saying so; one that is here but does not open is a
 * failure: the number of those is returned, each printed as a FAIL. */
int agree_other_backends(const char **names, int max, int *count);

/* Both: the data, then the backends to compare. 0 (with *count possibly 0), 77 when the
 * data is not installed, or 1 on a failure (printed; nothing is left loaded). */
int agree_prepare(int train_images, int test_images, struct fcnn_dataset *train,
                  struct fcnn_dataset *test, const char **names, int max, int *count);

/* Opens `backend`, builds the setup's model, network and optimizer, puts both data sets
 * on the device and the seeded initial weights in the network. On failure the run may
 * be half open: agree_close it all the same. */
int agree_open(struct agree_run *r, const struct agree_setup *s, const char *backend,
               const struct fcnn_dataset *train, const struct fcnn_dataset *test);
void agree_close(struct agree_run *r);

/* `steps` training steps over the training set in file order; the batch losses, then the
 * parameters and non-trainable state, come back to the host. */
int agree_train(struct agree_run *r, int steps);
/* agree_open and agree_train in one; on failure the run is closed again. */
int agree_open_train(struct agree_run *r, const struct agree_setup *s, const char *backend,
                     int steps, const struct fcnn_dataset *train,
                     const struct fcnn_dataset *test);

/* The largest |difference| of two runs' batch losses over `steps` steps (NaN counts as
 * the largest), the step it is at (from 1), and the mean |difference|. */
void agree_loss_difference(const struct agree_run *a, const struct agree_run *b, int steps,
                           double *worst, int *worst_step, double *mean);

/* ||a - b|| / ||a|| in double precision. */
double agree_rel_diff(const float *a, const float *b, size_t n);
/* max |a - b| / max |b| (NaN counts as the largest difference). */
double agree_max_rel_diff(const float *a, const float *b, size_t n);

/* The network's input for n samples, uniform in [0, 1) from `seed`, uploaded. */
int agree_upload_input(struct fcnn_backend *be, struct fcnn_network *net, int n,
                       uint64_t seed);

/* One more training step of the setup's batch, traced: the calls it enqueued (free them
 * with fcnn_trace_free). */
int agree_traced_step(struct agree_run *r, struct fcnn_trace *trace);

/* How many calls of op a trace recorded. */
int agree_count_op(const struct fcnn_trace *trace, enum fcnn_op op);

/* Puts ref's parameters (and, with `state`, its non-trainable state) into `other` and
 * evaluates both on their test sets; *same counts the test images both predict alike. */
int agree_evaluate_alike(struct agree_run *ref, struct agree_run *other, bool state,
                         struct fcnn_pass_stats *ref_stats, struct fcnn_pass_stats *other_stats,
                         int *same);

/* A network-level fusion's runs, fused against apart: the limits other backends are held
 * to (ref: bit for bit). loss: |batch loss difference|; params, state: relative
 * (agree_rel_diff); predictions: the share of test images predicted alike. */
struct agree_fusion_limits {
    double loss, params, state, predictions;
};

/* Trains the setup on `backend` twice from one seed, apart (the environment variable
 * `switch_off` set to "0" while it opens) and fused, and compares the batch losses, the
 * parameters, the moving statistics and an evaluation of the same weights: bit for bit on
 * ref, within `limits` elsewhere; the loss must fall. Prints what it found and returns the
 * failures; with both runs open (*opened true) the caller checks more and closes them. */
int agree_fused_against_apart(const char *backend, const struct agree_setup *setup,
                              const char *switch_off, const struct agree_fusion_limits *limits,
                              const struct fcnn_dataset *train, const struct fcnn_dataset *test,
                              struct agree_run *apart, struct agree_run *fused, bool *opened);

#endif
