/* fcnn's command-line program: it wires options to the library, prints what Keras would,
 * and is the only place that decides exit codes. */
#include <config.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/backend.h"
#include "train/bench.h"
#include "cli/cli.h"
#include "cli/data_run.h"
#include "cli/export.h"
#include "cli/list_kernels.h"
#include "data/dataset.h"
#include "data/augment.h"
#include "data/source.h"
#include "io/history.h"
#include "nn/network.h"
#include "nn/optimizer.h"
#include "report/progress.h"
#include "report/report.h"
#include "core/file.h"
#include "core/quote.h"
#include "core/status.h"
#include "train/train.h"
#include "io/checkpoint.h"
#include "io/dirlock.h"
#include "nn/model_desc.h"
#include "report/plot.h"
#include "train/data_check.h"
#include "train/dist.h"
#include "cli/warm_up_child.h"

/* Everything one run holds, released in one place. */
struct run {
    struct fcnn_options opt;
    struct fcnn_backend *be;
    struct fcnn_model model;
    struct fcnn_data data;         /* training, validation and test sets on the host */
    struct fcnn_input_info input;  /* the model's input shape and class names */
    struct fcnn_split *train, *val, *test;
    struct fcnn_augment augment;   /* --augment, parsed */
    char augment_spec[64];         /* a resumed run's --augment, from its checkpoint */
    struct fcnn_network *net;
    struct fcnn_optimizer *optimizer;
    struct fcnn_rng rng;
    struct fcnn_trainer trainer;
    struct fcnn_progress progress;
    struct fcnn_checkpoint *checkpoint; /* --load or --resume */
    struct fcnn_run_settings settings;
    char history_path[4096];
    char save_path[4096];
    /* Directories this run created (the first new component of --out and of the --save
     * directory), removed again if they are still empty when the run fails. */
    struct created_dir { char path[4096]; size_t first_new; } created[2];
    int created_count;
    bool saved;            /* a checkpoint was written by this run */
    bool usage_error;      /* the failure is a command-line mistake: exit 2 */
    double started;        /* when main began, for the start-up time */
    double backend_opened;
    int out_lock;          /* the --out directory's lock; -1 (or 0 before setup): none */
    bool out_locked;
    int saved_epoch;       /* the last epoch this run saved a checkpoint of; 0: none */
    int stopped_by;        /* SIGINT or SIGTERM stopped training; 0: it was not stopped */
    bool warm_up_only;     /* this is a warm-up process (cli/warm_up_child.h): set up on a
                            * few batches of the data, warm up, and stop */
    bool defer_tuning;     /* time no kernel variants in this process (the tuning processes
                            * do, after the run) */
    enum fcnn_warm_part warm_part; /* a tuning process's share of the warm-up */
    int untuned_shapes;    /* shapes the run met with no stored tuning choice */
};

/* SIGINT and SIGTERM during training: the handler only raises this flag, which the
 * trainer reads at each step boundary, so a write under way (a checkpoint, history.csv)
 * completes and no temporary file is left behind. A second signal, while the first waits
 * for its step boundary, ends fcnn at once. */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
    if (stop_signal) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    stop_signal = sig;
}

/* Catches SIGINT and SIGTERM (on), or puts back what was there before (off). A signal
 * this process was started ignoring (a background job of a script, nohup) stays ignored. */
static void catch_stop_signals(bool on)
{
    static const int signals[] = { SIGINT, SIGTERM };
    static struct sigaction saved[2];
    for (int i = 0; i < 2; i++) {
        if (!on) {
            sigaction(signals[i], &saved[i], NULL);
            continue;
        }
        sigaction(signals[i], NULL, &saved[i]);
        if (saved[i].sa_handler == SIG_IGN)
            continue;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_stop_signal;
        sa.sa_flags = SA_RESTART; /* writes and waits carry on instead of failing with EINTR */
        sigemptyset(&sa.sa_mask);
        sigaction(signals[i], &sa, NULL);
    }
}
/* The processes of an MPI job running this one training (alone: size 1). */
static struct fcnn_dist dist;

/* The one line for a failure; exit 2 for an option whose value proved unusable (a usage
 * mistake found late), else 1. */
static int fail(int status)
{
    const char *message = *fcnn_last_error() ? fcnn_last_error() : fcnn_status_name(status);
    /* With several processes, one that fails alone ends the job, or the others would wait
     * for it forever; a failure every process found alike is said once. */
    if (fcnn_dist_active(&dist) && !dist.shared_failure)
        fcnn_dist_abort(&dist, message);
    if (fcnn_dist_is_root(&dist))
        fprintf(stderr, "fcnn: %s\n", message);
    fcnn_dist_finish(&dist);
    if (status == FCNN_ERR_OPTION) {
        fprintf(stderr, "Try 'fcnn --help' for more information.\n");
        return 2;
    }
    return 1;
}

/* Exit status of a failed run: 2 for a command-line mistake, else 1. */
static int fail_run(const struct run *r, int status)
{
    int code = fail(status);
    return r->usage_error ? 2 : code;
}

/* Prints to stdout unless --quiet. */
__attribute__((format(printf, 2, 3)))
static void say(const struct run *r, const char *fmt, ...)
{
    if (r->opt.quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}

/* mkdir -p, remembering the first directory it had to create (so that a run that fails
 * before writing anything leaves no empty directory behind). */
static int make_dirs(struct run *r, const char *path, const char *option)
{
    struct created_dir *c = &r->created[r->created_count];
    char *buf = c->path;
    if ((size_t)snprintf(buf, sizeof c->path, "%s", path) >= sizeof c->path)
        return fcnn_error(FCNN_ERR_OPTION, "%s %s: name too long", option, fcnn_quote(path));
    c->first_new = 0;
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            if (mkdir(buf, 0777) == 0) {
                if (!c->first_new)
                    c->first_new = strlen(buf);
            } else if (errno != EEXIST) {
                int error = errno;
                *p = saved;
                if (c->first_new)
                    r->created_count++;
                return fcnn_error(FCNN_ERR_IO, "%s %s: cannot create directory %s: %s", option,
                                  fcnn_quote(path), fcnn_quote(buf), strerror(error));
            }
            *p = saved;
            if (!saved)
                break;
        }
    }
    if (c->first_new)
        r->created_count++;
    return fcnn_file_check_dir(path, option);
}

/* rmdir, deepest first, of what make_dirs created; a directory with anything in it stays. */
static void remove_created_dirs(struct run *r)
{
    for (int i = r->created_count - 1; i >= 0; i--) {
        struct created_dir *c = &r->created[i];
        for (size_t n = strlen(c->path); n >= c->first_new && n > 0;) {
            c->path[n] = '\0';
            if (rmdir(c->path) != 0)
                break;
            char *slash = strrchr(c->path, '/');
            if (!slash)
                break;
            n = (size_t)(slash - c->path);
        }
    }
    r->created_count = 0;
}

static bool env_set(const char *name)
{
    const char *value = getenv(name);
    return value && *value;
}

/* The backend the user named, or: opencl if this build has it and it finds a device,
 * else ref. The fall back happens only when no OpenCL device exists at all and nothing
 * OpenCL-specific was asked for: a device, a kernel or kernel directory the user set that
 * fails is an error naming that setting, never a silent switch to a 25x slower backend. */
static int open_backend(struct run *r)
{
    char device[256];
    if (r->opt.device) { /* a list names one device per process of this machine */
        int status = fcnn_dist_pick_device(&dist, r->opt.device, device, sizeof device);
        if (status != FCNN_OK)
            return status;
    }
    /* A resumed run, and an evaluation or prediction from a checkpoint, run the kernel
     * variants the checkpoint's run did: tuning since then (the first run on a device
     * leaves it for after the run) would change results in the last digits. */
    bool continues = r->checkpoint && (r->opt.resume_path || r->opt.eval_only ||
                                       r->opt.data.predict_count);
    struct fcnn_backend_options options = {
        .kernel_choices =
            continues ? fcnn_checkpoint_settings(r->checkpoint)->kernel_choices : NULL,
        .device = r->opt.device ? device : NULL,
        .device_slot = dist.local_rank,
        .kernels = r->opt.kernels[0] ? r->opt.kernels : NULL,
        .verbose = r->opt.verbose,
        .retune = r->opt.tune,
        .defer_tuning = r->defer_tuning,
        .profile = r->opt.profile,
    };
    if (r->opt.backend)
        return fcnn_backend_open(r->opt.backend, &options, &r->be);
    if (fcnn_backend_exists("opencl")) {
        int status = fcnn_backend_open("opencl", &options, &r->be);
        if (status == FCNN_OK)
            return FCNN_OK;
        const char *asked = r->opt.device ? "--device" : r->opt.kernels[0] ? "--kernel"
                            : env_set("FCNN_DEVICE") ? "FCNN_DEVICE"
                            : env_set("FCNN_KERNELS") ? "FCNN_KERNELS"
                            : env_set("FCNN_KERNEL_DIR") ? "FCNN_KERNEL_DIR" : NULL;
        if (status == FCNN_ERR_NO_DEVICE && asked)
            return fcnn_error(status, "%s asks for OpenCL, but %s", asked, fcnn_last_error());
        if (status != FCNN_ERR_NO_DEVICE)
            return status;
        say(r, "OpenCL unavailable (%s); using the reference backend\n", fcnn_last_error());
    }
    return fcnn_backend_open("ref", &options, &r->be);
}

/* The data on the host, before the model (which follows its shape and classes). */
static int load_data(struct run *r)
{
    int status = fcnn_run_load_data(&r->opt, &r->input, r->opt.quiet ? NULL : stdout, &r->data);
    if (status != FCNN_OK)
        return status;
    const struct fcnn_data *d = &r->data;
    if (d->skipped.count) {
        say(r, "Skipped %d image%s that could not be read:\n", d->skipped.count,
            d->skipped.count == 1 ? "" : "s");
        for (int i = 0; i < d->skipped.count; i++)
            say(r, "  %s\n", d->skipped.lines[i]);
    }
    return FCNN_OK;
}

/* The data on the device. With a validation split the test set waits for the final
 * report, so that nothing during training can read it. */
static int upload_data(struct run *r)
{
    int status = FCNN_OK;
    if (!r->opt.eval_only) {
        /* Nothing reads the training pixels on the host again (only the labels, for
         * metrics), and they are 47 MB: the device has them, in place on a CPU. */
        status = fcnn_split_create_taking_images(r->be, &r->data.train, &r->train);
    }
    if (status == FCNN_OK && r->data.val.count)
        status = fcnn_split_create(r->be, &r->data.val, &r->val);
    else if (status == FCNN_OK)
        status = fcnn_split_create(r->be, &r->data.test, &r->test);
    if (status != FCNN_OK)
        return status;
    const struct fcnn_data *d = &r->data;
    if (d->val.count)
        say(r, "Data: %s: %d training, %d validation and %d test images\n", d->where,
            d->train.count, d->val.count, d->test.count);
    else
        say(r, "Data: %s: %d training and %d test images\n", d->where, d->train.count,
            d->test.count);
    if (!d->fashion_mnist)
        say(r, "Input: %dx%dx%d images, %d classes\n", d->rows, d->cols, d->channels, d->classes);
    return FCNN_OK;
}

/* --- checkpoints: --load, --resume, and one save per epoch --- */

/* One setting of a resumed run: the checkpoint's, unless the command line gave another. */
static int adopt_int(const struct run *r, const char *option, bool given, int *value, int saved)
{
    if (given && *value != saved)
        return fcnn_error(FCNN_ERR_OPTION, "%s %d conflicts with %s, a run with %s %d: --resume "
                          "continues a run with its own settings (only --epochs may change)",
                          option, *value, fcnn_quote(r->opt.resume_path), option, saved);
    *value = saved;
    return FCNN_OK;
}

/* Augmentation moves the generator and changes every batch, so a resumed run augments as
 * its checkpoint says (none when it says nothing), and refuses another --augment. */
static int adopt_augment(struct run *r, const struct fcnn_augment *saved)
{
    struct fcnn_options *o = &r->opt;
    fcnn_augment_text(saved, r->augment_spec, sizeof r->augment_spec);
    if (o->data.augment) {
        struct fcnn_augment given;
        int status = fcnn_augment_parse(o->data.augment, &given);
        if (status != FCNN_OK)
            return status;
        if (!fcnn_augment_equal(&given, saved))
            return fcnn_error(FCNN_ERR_OPTION, "--augment %s conflicts with %s, a run %s%s: "
                              "--resume continues a run with its own settings (only --epochs "
                              "may change)", fcnn_quote(o->data.augment),
                              fcnn_quote(o->resume_path),
                              fcnn_augment_any(saved) ? "with --augment " : "without --augment",
                              r->augment_spec);
    }
    o->data.augment = fcnn_augment_any(saved) ? r->augment_spec : NULL;
    return FCNN_OK;
}

/* A resumed run takes every setting that shapes it from its checkpoint, and refuses an
 * option that contradicts one rather than silently overriding it. */
static int adopt_settings(struct run *r, const struct fcnn_run_settings *s)
{
    struct fcnn_options *o = &r->opt;
    const char *path = fcnn_quote(o->resume_path);
    if (o->given.lr && o->lr != s->lr)
        return fcnn_error(FCNN_ERR_OPTION, "--lr %g conflicts with %s, a run with --lr %g: "
                          "--resume continues a run with its own settings (only --epochs may "
                          "change)", o->lr, path, s->lr);
    if (o->given.optimizer && o->optimizer != s->optimizer)
        return fcnn_error(FCNN_ERR_OPTION, "--optimizer %s conflicts with %s, a run with "
                          "--optimizer %s: --resume continues a run with its own settings (only "
                          "--epochs may change)", fcnn_optimizer_name(o->optimizer), path,
                          fcnn_optimizer_name(s->optimizer));
    if (o->given.seed && o->seed != s->seed)
        return fcnn_error(FCNN_ERR_OPTION, "--seed %llu conflicts with %s, a run with --seed "
                          "%llu: --resume continues a run with its own settings (only --epochs "
                          "may change)", (unsigned long long)o->seed, path,
                          (unsigned long long)s->seed);
    if (o->weight_decay_given && o->weight_decay != s->weight_decay)
        return fcnn_error(FCNN_ERR_OPTION, "--weight-decay %g conflicts with %s, a run with "
                          "--weight-decay %g: --resume continues a run with its own settings "
                          "(only --epochs may change)", o->weight_decay, path, s->weight_decay);
    char given[64], saved[64];
    fcnn_lr_schedule_text(&o->lr_schedule, given, sizeof given);
    fcnn_lr_schedule_text(&s->lr_schedule, saved, sizeof saved);
    if (o->given.lr_schedule && strcmp(given, saved) != 0)
        return fcnn_error(FCNN_ERR_OPTION, "--lr-schedule %s conflicts with %s, a run with "
                          "--lr-schedule %s: --resume continues a run with its own settings "
                          "(only --epochs may change)", given, path, saved);
    o->lr = s->lr;
    o->optimizer = s->optimizer;
    o->seed = s->seed;
    o->weight_decay = s->weight_decay;
    o->lr_schedule = s->lr_schedule;
    int status = adopt_int(r, "--batch-size", o->given.batch_size, &o->batch_size, s->batch_size);
    if (status == FCNN_OK)
        status = adopt_int(r, "--train-limit", o->given.train_limit, &o->train_limit,
                           s->train_limit);
    if (status == FCNN_OK)
        status = adopt_int(r, "--test-limit", o->given.test_limit, &o->test_limit, s->test_limit);
    if (status == FCNN_OK)
        status = adopt_int(r, "--early-stopping", o->given.early_stopping, &o->early_stopping,
                           s->patience);
    if (status == FCNN_OK)
        status = adopt_augment(r, &s->augment);
    double split = o->data.source.validation_split;
    if (status == FCNN_OK && split != s->validation_split) {
        char saved[64] = "without --validation-split";
        if (s->validation_split > 0)
            snprintf(saved, sizeof saved, "with --validation-split %g", s->validation_split);
        status = fcnn_error(FCNN_ERR_OPTION, "--validation-split %g conflicts with %s, a run %s: "
                            "--resume continues a run with its own settings (only --epochs may "
                            "change)", split, fcnn_quote(o->resume_path), saved);
    }
    if (status == FCNN_OK && !o->epochs_given)
        o->epochs = s->epochs;
    return status;
}

/* The model: the checkpoint's (--load, --resume), --model's, or the reference model. A
 * --model that is not the checkpoint's is refused, as is any mistake in it (exit 2).
 * The data (or the checkpoint's recorded input) decides the input shape and the classes. */
/* A resumed run loads the data it trained on: its training and test limits, its validation
 * split and the seed that draws it come from the checkpoint before anything is read (a
 * different value on the command line is refused later, with the other settings). */
static int resume_data_limits(struct run *r)
{
    int status = fcnn_checkpoint_open(r->opt.resume_path, NULL, &r->checkpoint);
    if (status != FCNN_OK)
        return status;
    const struct fcnn_run_settings *s = fcnn_checkpoint_settings(r->checkpoint);
    if (!r->opt.given.train_limit)
        r->opt.train_limit = s->train_limit;
    if (!r->opt.given.test_limit)
        r->opt.test_limit = s->test_limit;
    if (!r->opt.data.source.validation_split) /* 0: not given (the option takes 0 < F < 1) */
        r->opt.data.source.validation_split = s->validation_split;
    if (!r->opt.given.seed)
        r->opt.seed = s->seed;
    return FCNN_OK;
}

static int choose_model(struct run *r)
{
    static struct fcnn_model_desc desc;
    static char spec[FCNN_SPEC_SIZE];
    const struct fcnn_shape input = { 3, { r->input.rows, r->input.cols, r->input.channels } };
    const int classes = r->input.names.count;
    bool described = false;
    int status = FCNN_OK;
    if (r->opt.model) {
        status = fcnn_model_desc_parse(r->opt.model, &desc);
        if (status == FCNN_OK)
            status = fcnn_model_desc_validate(&desc, input, classes, NULL);
        if (status == FCNN_OK)
            status = fcnn_model_desc_spec(&desc, spec, sizeof spec);
        if (status != FCNN_OK) {
            r->usage_error = true;
            return status;
        }
        described = true;
    }
    const char *path = r->opt.resume_path ? r->opt.resume_path : r->opt.load_path;
    if (path) {
        if (!r->checkpoint && (status = fcnn_checkpoint_open(path, NULL, &r->checkpoint)) != FCNN_OK)
            return status;
        const char *saved = fcnn_checkpoint_architecture(r->checkpoint);
        if (described && strcmp(spec, saved) != 0) {
            r->usage_error = true;
            return fcnn_error(FCNN_ERR_INVALID, "--model %s is not the model of %s (%s)", spec,
                              fcnn_quote(path), fcnn_escape(saved));
        }
        char origin[4200];
        snprintf(origin, sizeof origin, "%s: architecture", fcnn_quote(path));
        if ((status = fcnn_model_spec_parse(saved, origin, &desc)) != FCNN_OK)
            return status;
        described = true;
    }
    if (described) {
        status = fcnn_model_desc_build(&desc, input, classes, &r->model);
        r->usage_error = status != FCNN_OK && r->opt.model;
    } else
        status = fcnn_model_reference_for(&r->model, input, classes);
    if (status == FCNN_OK && r->checkpoint)
        status = fcnn_checkpoint_bind(r->checkpoint, &r->model);
    return status;
}

/* A resumed run takes every setting that shapes it from the checkpoint (see
 * adopt_settings); --epochs may extend it. */
static int resume_settings(struct run *r)
{
    if (!r->opt.resume_path)
        return FCNN_OK;
    int status = fcnn_checkpoint_check_resumable(r->checkpoint);
    if (status != FCNN_OK)
        return status;
    return adopt_settings(r, fcnn_checkpoint_settings(r->checkpoint));
}

/* Rank 0's run settings (its own, or the checkpoint's when resuming) to every process. */
static int share_settings(struct run *r)
{
    if (!fcnn_dist_active(&dist))
        return FCNN_OK;
    struct fcnn_run_settings s = { .seed = r->opt.seed, .epochs = r->opt.epochs,
                                   .batch_size = r->opt.batch_size,
                                   .optimizer = r->opt.optimizer, .lr = r->opt.lr,
                                   .lr_schedule = r->opt.lr_schedule,
                                   .weight_decay = r->opt.weight_decay };
    int status = fcnn_dist_broadcast(&dist, &s, sizeof s);
    r->opt.seed = s.seed;
    r->opt.epochs = s.epochs;
    r->opt.batch_size = s.batch_size;
    r->opt.optimizer = s.optimizer;
    r->opt.lr = s.lr;
    r->opt.lr_schedule = s.lr_schedule;
    r->opt.weight_decay = s.weight_decay;
    return status;
}

static int save_checkpoint(struct run *r)
{
    if (!fcnn_checkpoints_available())
        return FCNN_OK; /* said once, before training */
    r->settings = (struct fcnn_run_settings){ .seed = r->opt.seed, .epochs = r->opt.epochs,
                                              .batch_size = r->opt.batch_size,
                                              .optimizer = r->opt.optimizer, .lr = r->opt.lr,
                                              .lr_schedule = r->opt.lr_schedule,
                                              .weight_decay = r->opt.weight_decay,
                                              .train_limit = r->opt.train_limit,
                                              .test_limit = r->opt.test_limit,
                                              .patience = r->opt.early_stopping,
                                              .augment = r->augment,
                                              .validation_split =
                                                  r->opt.data.source.validation_split,
                                              .input = &r->input };
    char *choices = NULL;
    int status = fcnn_backend_kernel_choices(r->be, &choices);
    r->settings.kernel_choices = choices;
    if (status == FCNN_OK)
        status = fcnn_checkpoint_save(r->save_path, &r->trainer, &r->settings);
    r->settings.kernel_choices = NULL;
    free(choices);
    if (status == FCNN_OK)
        r->saved = true;
    return status;
}

/* --- training hooks: progress on stdout, history.csv, the checkpoint --- */

static void on_epoch_begin(void *user, int epoch, int epochs)
{
    fcnn_progress_epoch_begin(&((struct run *)user)->progress, epoch, epochs);
}

static void on_progress(void *user, int step, int steps, double loss, double accuracy,
                        double seconds)
{
    fcnn_progress_update(&((struct run *)user)->progress, step, steps, loss, accuracy, seconds);
}

static int on_epoch_end(void *user, const struct fcnn_epoch_stats *s)
{
    struct run *r = user;
    fcnn_progress_epoch_end(&r->progress, s);
    int status = fcnn_history_write(r->history_path, r->trainer.history, r->trainer.epoch);
    if (status == FCNN_OK)
        status = save_checkpoint(r);
    if (status == FCNN_OK && fcnn_checkpoints_available())
        r->saved_epoch = s->epoch;
    return status;
}

static int train(struct run *r)
{
    struct fcnn_trainer *t = &r->trainer;
    int status = FCNN_OK;
    if (r->opt.resume_path && r->checkpoint) {
        status = fcnn_checkpoint_restore(r->checkpoint, t);
        if (status == FCNN_OK && t->epoch < t->epochs)
            say(r, "Resuming %s after epoch %d of %d\n", r->opt.resume_path, t->epoch,
                t->epochs);
        else if (status == FCNN_OK)
            say(r, "Nothing to train: %s has all %d epochs done (a larger --epochs continues "
                "it)\n", r->opt.resume_path, t->epochs);
    }
    if (status == FCNN_OK) /* every process starts from rank 0's state */
        status = fcnn_trainer_share(t);
    /* Compile and tune everything before the first timed step. */
    if (status == FCNN_OK)
        status = fcnn_warm_up(t);
    if (status == FCNN_OK && r->opt.verbose)
        fprintf(stderr, "fcnn: ready for the first step %.3f s after launch (backend open %.3f s, "
                "then data, buffers and warm-up %.3f s)\n", fcnn_now() - r->started,
                r->backend_opened - r->started,
                fcnn_now() - r->backend_opened);
    if (status == FCNN_OK) {
        stop_signal = 0;
        t->stop = &stop_signal;
        catch_stop_signals(true);
        status = fcnn_train(t);
        catch_stop_signals(false);
        t->stop = NULL;
        if (t->interrupted)
            r->stopped_by = stop_signal;
    }
    if (status == FCNN_OK && t->stopped_early)
        say(r, "Early stopping after epoch %d: restored the weights of the best val_loss (%.4f)\n",
            t->epoch, t->best_val_loss);
    return status;
}

/* --- results --- */

static int plot_results(struct run *r, const int *matrix, const int *truth, const int *pred)
{
    char path[4200];
    const struct fcnn_trainer *t = &r->trainer;
    int status = FCNN_OK;
    if (!fcnn_plots_available()) {
        say(r, "Plots are off: this fcnn was built without PLplot (install libplplot-dev and "
            "plplot-driver-cairo, then rebuild)\n");
        return FCNN_OK;
    }
    if (t->epoch > 0) {
        double *values = malloc(sizeof(double) * 4 * (size_t)t->epoch);
        if (!values)
            return fcnn_error(FCNN_ERR_NOMEM, "out of memory for the plots");
        for (int i = 0; i < t->epoch; i++) {
            values[i] = t->history[i].loss;
            values[t->epoch + i] = t->history[i].accuracy;
            values[2 * t->epoch + i] = t->history[i].val_loss;
            values[3 * t->epoch + i] = t->history[i].val_accuracy;
        }
        struct fcnn_plot_series series = { t->epoch, values, values + t->epoch,
                                           values + 2 * t->epoch, values + 3 * t->epoch };
        status = fcnn_plot_history(r->opt.out_dir, &series);
        free(values);
    }
    if (status == FCNN_OK && (size_t)snprintf(path, sizeof path, "%s/confusion.png",
                                              r->opt.out_dir) >= sizeof path)
        status = fcnn_error(FCNN_ERR_OPTION, "--out %s: name too long", fcnn_quote(r->opt.out_dir));
    if (status == FCNN_OK)
        status = fcnn_plot_confusion(path, matrix, (const char *const *)r->input.names.names,
                                     r->input.names.count);
    snprintf(path, sizeof path, "%s/predictions.png", r->opt.out_dir); /* fits: see prepare_outputs */
    int shown = r->test->count < FCNN_PLOT_MAX_PREDICTIONS ? r->test->count
                                                          : FCNN_PLOT_MAX_PREDICTIONS;
    if (status == FCNN_OK) /* the first test images, in file order */
        status = fcnn_plot_predictions_shaped(path, r->data.test.images, r->data.test.rows,
                                              r->data.test.cols, r->data.test.channels, truth,
                                              pred, (const char *const *)r->input.names.names,
                                              r->input.names.count, shown);
    if (status == FCNN_OK) /* only the files written */
        say(r, "Plots: %s/{%sconfusion,predictions}.png\n", r->opt.out_dir,
            t->epoch > 0 ? "accuracy,loss," : "");
    return status;
}

/* Test-set results: accuracy, confusion matrix, classification report, plots. */
static int report(struct run *r)
{
    struct fcnn_pass_stats stats;
    int status = FCNN_OK;
    if (!r->test) {
        status = fcnn_split_create(r->be, &r->data.test, &r->test);
        if (status == FCNN_OK)
            say(r, "Test set: %d images, read once, now, for the final report\n",
                r->data.test.count);
    }
    if (status == FCNN_OK)
        status = fcnn_evaluate_shared(&dist, r->net, r->test, r->opt.eval_batch_size, &stats);
    if (status != FCNN_OK || !fcnn_dist_is_root(&dist)) /* rank 0 alone reports */
        return status;
    int n = r->test->count;
    int *truth = malloc(sizeof(int) * (size_t)n), *pred = malloc(sizeof(int) * (size_t)n);
    if (!truth || !pred) {
        free(truth);
        free(pred);
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory for the report");
    }
    for (int i = 0; i < n; i++) {
        truth[i] = fcnn_split_label_at(r->test, i);
        pred[i] = r->test->host_pred[i];
    }
    int classes = r->input.names.count;
    const char *const *names = (const char *const *)r->input.names.names;
    int *matrix = malloc(sizeof(int) * (size_t)classes * (size_t)classes);
    if (!matrix) {
        free(truth);
        free(pred);
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory for the confusion matrix");
    }
    fcnn_confusion_matrix(truth, pred, n, classes, matrix);
    if (r->trainer.epoch > 0) {
        const struct fcnn_epoch_stats *last = &r->trainer.history[r->trainer.epoch - 1];
        printf("\nFinal training accuracy: %.4f - loss: %.4f\n", last->accuracy, last->loss);
    }
    printf("Test accuracy: %.4f - loss: %.4f (%d images)\n\n", stats.accuracy, stats.loss, n);
    fcnn_print_confusion(stdout, matrix, classes, names);
    printf("\nClassification report\n");
    fcnn_print_classification_report(stdout, matrix, classes, names);
    /* The results are printed and the checkpoint is saved: a plot that cannot be written
     * (a full disk) costs the plots, not the run. */
    if (plot_results(r, matrix, truth, pred) != FCNN_OK)
        fprintf(stderr, "fcnn: warning: plots not written: %s\n", fcnn_last_error());
    free(matrix);
    free(truth);
    free(pred);
    return FCNN_OK;
}

/* --- the run --- */

/* Everything on the device: data, network, optimizer, and initial weights (Keras's
 * initialisation, or the checkpoint's). */
static int build(struct run *r)
{
    int status = FCNN_OK;
    /* A batch larger than the data would only fail later, as a device buffer error. */
    if (!r->opt.eval_only && r->opt.batch_size > r->data.train.count)
        status = fcnn_error(FCNN_ERR_OPTION, "--batch-size %d is larger than the %d training "
                            "images", r->opt.batch_size, r->data.train.count);
    /* Evaluation batches never exceed the test set: results do not depend on them. */
    if (status == FCNN_OK && r->data.test.count > 0 &&
        r->opt.eval_batch_size > r->data.test.count)
        r->opt.eval_batch_size = r->data.test.count;
    if (status == FCNN_OK)
        status = upload_data(r);
    if (status == FCNN_OK)
        status = fcnn_network_create(r->be, &r->model, r->opt.eval_batch_size,
                                     r->opt.eval_only ? 0 : r->opt.batch_size, &r->net);
    if (status == FCNN_OK)
        status = fcnn_optimizer_create(r->be, r->opt.optimizer, r->opt.lr,
                                       (int)r->model.param_floats, &r->optimizer);
    if (status != FCNN_OK)
        return status;
    r->optimizer->weight_decay = r->opt.weight_decay;

    fcnn_rng_seed(&r->rng, r->opt.seed);
    float *params = malloc(r->model.param_floats * sizeof(float));
    if (!params)
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory for the parameters");
    fcnn_model_init_params(&r->model, &r->rng, params);
    status = fcnn_network_set_params(r->net, params);
    free(params);
    if (status == FCNN_OK && r->opt.load_path && r->checkpoint) {
        status = fcnn_checkpoint_load_weights(r->checkpoint, r->net);
        if (status == FCNN_OK)
            say(r, "Loaded weights from %s (trained %d epochs)\n", r->opt.load_path,
                fcnn_checkpoint_epoch(r->checkpoint));
    }
    if (status == FCNN_OK)
        status = fcnn_dist_share_params(&dist, r->net);
    if (status != FCNN_OK)
        return status;

    r->trainer = (struct fcnn_trainer){
        .be = r->be, .net = r->net, .opt = r->optimizer, .rng = &r->rng,
        .train = r->train, .val = r->val ? r->val : r->test, .dist = &dist,
        .epochs = r->opt.epochs,
        .batch_size = r->opt.batch_size, .eval_batch_size = r->opt.eval_batch_size,
        .base_lr = r->opt.lr, .schedule = r->opt.lr_schedule,
        .progress_interval = r->progress.interactive ? 0.25 : 0,
        .patience = r->opt.early_stopping,
        .hooks = { r, on_epoch_begin, on_progress, on_epoch_end },
        .augment = r->opt.data.augment ? &r->augment : NULL,
        .warm_part = r->warm_part,
    };
    if (!fcnn_dist_is_root(&dist)) /* rank 0 alone prints and writes */
        r->trainer.hooks = (struct fcnn_train_hooks){ 0 };
    if (r->opt.data.augment && (status = fcnn_augment_parse(r->opt.data.augment,
                                                            &r->augment)) != FCNN_OK)
        return status;
    return fcnn_trainer_init(&r->trainer);
}

/* The directory part of `path` ("." when it has none). */
static void directory_of(const char *path, char *out, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(out, size, ".");
    else if (slash == path)
        snprintf(out, size, "/");
    else
        snprintf(out, size, "%.*s", (int)(slash - path), path);
}

/* Every place the run will write, checked before anything slow starts: the directories
 * exist (created if need be) and accept new files, and no target is a device, FIFO,
 * directory or symbolic link that an atomic rename would replace. */
static int prepare_outputs(struct run *r)
{
    const char *out = r->opt.out_dir;
    if ((size_t)snprintf(r->history_path, sizeof r->history_path, "%s/history.csv", out) >=
        sizeof r->history_path)
        return fcnn_error(FCNN_ERR_OPTION, "--out %s: name too long", fcnn_quote(out));
    if (r->opt.save_path) {
        if ((size_t)snprintf(r->save_path, sizeof r->save_path, "%s", r->opt.save_path) >=
            sizeof r->save_path)
            return fcnn_error(FCNN_ERR_OPTION, "--save %s: name too long",
                              fcnn_quote(r->opt.save_path));
    } else if ((size_t)snprintf(r->save_path, sizeof r->save_path, "%s/model.safetensors", out) >=
               sizeof r->save_path) {
        return fcnn_error(FCNN_ERR_OPTION, "--out %s: name too long", fcnn_quote(out));
    }
    /* The benchmark and --tune write nothing here; under MPI rank 0 alone writes. */
    if (r->opt.bench || r->opt.tune || !fcnn_dist_is_root(&dist))
        return FCNN_OK;

    /* The exports are written after the last epoch: a target that will be refused then
     * is refused now, before the training it would have wasted. */
    int status = FCNN_OK;
    if (r->opt.export_onnx)
        status = fcnn_file_check_target(r->opt.export_onnx, "--export-onnx");
    if (status == FCNN_OK && r->opt.export_weights)
        status = fcnn_file_check_target(r->opt.export_weights, "--export-weights");
    if (status == FCNN_OK)
        status = make_dirs(r, out, "--out");
    static const char *const plots[] = { "accuracy.png", "loss.png", "confusion.png",
                                         "predictions.png" };
    char path[4200];
    for (size_t i = 0; i < sizeof plots / sizeof plots[0] && status == FCNN_OK; i++) {
        if (!fcnn_plots_available())
            break;
        if ((size_t)snprintf(path, sizeof path, "%s/%s", out, plots[i]) >= sizeof path)
            return fcnn_error(FCNN_ERR_OPTION, "--out %s: name too long", fcnn_quote(out));
        status = fcnn_file_check_target(path, "--out");
    }
    if (status != FCNN_OK || r->opt.eval_only) /* an evaluation writes only plots */
        return status;
    status = fcnn_file_check_target(r->history_path, "--out");
    if (status == FCNN_OK && fcnn_checkpoints_available()) {
        const char *option = r->opt.save_path ? "--save" : "--out";
        directory_of(r->save_path, path, sizeof path);
        status = fcnn_file_check_target(r->save_path, option);
        if (status == FCNN_OK)
            status = make_dirs(r, path, option);
    }
    return status;
}

/* Model, checkpoint, output locations, backend, data, network, optimizer, trainer. */
static int setup(struct run *r)
{
    const char *checkpoint = r->opt.resume_path ? r->opt.resume_path : r->opt.load_path;
    int status = fcnn_run_read_input(checkpoint, &r->input);
    /* A --model that does not parse is refused before any data is read; whether it fits
     * the data's input shape and classes is known only after (choose_model). */
    if (status == FCNN_OK && r->opt.model) {
        static struct fcnn_model_desc parsed;
        if ((status = fcnn_model_desc_parse(r->opt.model, &parsed)) != FCNN_OK)
            r->usage_error = true;
    }
    if (status == FCNN_OK && r->opt.resume_path)
        status = resume_data_limits(r);
    /* The driver loads while the data is read (an export opens no device). */
    if (status == FCNN_OK && !r->opt.export_only)
        fcnn_backend_preload(r->opt.backend ? r->opt.backend : "opencl");
    if (status == FCNN_OK && !r->opt.data.predict_count)
        status = load_data(r);
    if (status == FCNN_OK)
        status = fcnn_run_fill_input(&r->data, &r->input);
    if (status == FCNN_OK)
        status = choose_model(r);
    if (status == FCNN_OK && !r->opt.data.predict_count)
        status = fcnn_model_check_data(&r->model, r->data.rows, r->data.cols, r->data.channels,
                                       r->data.classes, r->data.where);
    if (status == FCNN_OK)
        status = resume_settings(r);
    if (status != FCNN_OK || r->opt.export_only) /* a checkpoint's export needs no device */
        return status;
    if (status == FCNN_OK)
        status = share_settings(r);
    if (status == FCNN_OK && r->warm_up_only) /* it writes nothing but the caches */
        fcnn_warm_up_shrink_data(&r->data, r->opt.batch_size, r->opt.eval_batch_size);
    else if (status == FCNN_OK)
        status = prepare_outputs(r);
    if (status == FCNN_OK)
        status = open_backend(r);
    if (status != FCNN_OK)
        return status;
    r->backend_opened = fcnn_now();
    if (r->opt.data.predict_count) /* prints the predictions alone */
        return FCNN_OK;
    if (!r->opt.bench) /* the benchmark prints its own heading */
        say(r, "Backend: %s (%s)\n", fcnn_backend_name(r->be), fcnn_backend_device(r->be));

    /* One run at a time writes into an output directory (rank 0 alone under MPI). */
    if (!r->opt.bench && !r->opt.tune && !r->warm_up_only && fcnn_dist_is_root(&dist)) {
        status = fcnn_dir_lock(r->opt.out_dir, &r->out_lock);
        r->out_locked = status == FCNN_OK;
    }
    if (status == FCNN_OK)
        status = build(r);
    return status;
}

/* --tune: the warm-up makes the backend time its variants on every shape of the run. */
static int tune(struct run *r)
{
    int status = fcnn_warm_up(&r->trainer);
    if (status == FCNN_OK)
        status = fcnn_backend_report(r->be, FCNN_REPORT_TUNING, stdout);
    return status;
}

/* --export-onnx, --export-weights after training, from the trained weights. */
static int export_trained(struct run *r)
{
    const struct fcnn_model *m = &r->model;
    float *params = malloc(m->param_floats * sizeof(float));
    float *state = malloc((m->state_floats ? m->state_floats : 1) * sizeof(float));
    int status = FCNN_OK;
    if (!params || !state)
        status = fcnn_error(FCNN_ERR_NOMEM, "out of memory for the parameters");
    if (status == FCNN_OK)
        status = fcnn_network_get_params(r->net, params);
    if (status == FCNN_OK)
        status = fcnn_network_get_state(r->net, state);
    if (status == FCNN_OK)
        status = fcnn_export_params(&r->opt, m, params, state, r->trainer.epoch,
                                    r->opt.quiet ? NULL : stdout);
    free(params);
    free(state);
    return status;
}

/* --profile under mpirun: where each process's time went, as rank 0 prints it. */
static int report_exchange(struct run *r)
{
    /* Per rank: training seconds, exchange seconds, MPI seconds, steps. */
    double *all = calloc((size_t)dist.size * 4, sizeof *all);
    if (!all)
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory for the exchange profile");
    double train = 0;
    for (int i = 0; i < r->trainer.epoch; i++)
        train += r->trainer.history[i].seconds;
    double *mine = all + 4 * dist.rank;
    mine[0] = train;
    mine[1] = dist.reduce_seconds;
    mine[2] = dist.mpi_seconds;
    mine[3] = (double)dist.steps;
    int status = fcnn_dist_sum_f64(&dist, all, (size_t)dist.size * 4);
    if (status == FCNN_OK && fcnn_dist_is_root(&dist)) {
        printf("\nGradient exchange (%d processes, %s%s):\n", dist.size,
               dist.deterministic ? "ordered gather and broadcast" : "MPI_Allreduce",
               dist.overlap && !dist.deterministic ? ", one per layer, overlapped" : "");
        printf("  rank  epochs s  steps  ms/step  exchange ms/step  in MPI ms/step  share\n");
        for (int k = 0; k < dist.size; k++) {
            const double *v = all + 4 * k;
            double steps = v[3] > 0 ? v[3] : 1;
            printf("  %4d  %8.2f  %5.0f  %7.2f  %16.3f  %14.3f  %4.1f%%\n", k, v[0], v[3],
                   1e3 * v[0] / steps, 1e3 * v[1] / steps, 1e3 * v[2] / steps,
                   v[0] > 0 ? 100 * v[1] / v[0] : 0);
        }
    }
    free(all);
    return status;
}

static int run(struct run *r)
{
    int status = setup(r);
    if (status != FCNN_OK)
        return status;
    if (r->warm_up_only)
        return fcnn_backend_name(r->be) && strcmp(fcnn_backend_name(r->be), "opencl") == 0
                   ? fcnn_warm_up(&r->trainer)
                   : FCNN_OK; /* the automatic choice fell back to ref: nothing to compile */
    if (r->opt.export_only) /* under mpirun, rank 0 alone writes */
        return fcnn_dist_is_root(&dist) ? fcnn_export_checkpoint(&r->opt, &r->model,
                                                                  r->checkpoint,
                                                                  r->opt.quiet ? NULL : stdout)
                                         : FCNN_OK;
    if (r->opt.data.predict_count)
        status = fcnn_run_predict(r->be, &r->model, r->checkpoint, &r->input, &r->opt, stdout);
    else if (r->opt.tune)
        status = tune(r);
    else if (r->opt.bench)
        status = fcnn_bench(&r->trainer, stdout);
    else {
        if (!r->opt.quiet)
            fcnn_print_summary(stdout, &r->model);
        if (!fcnn_checkpoints_available())
            say(r, "Checkpoints are off: this fcnn was built without jansson (install "
                "libjansson-dev and rebuild)\n");
        if (!r->opt.eval_only)
            status = train(r);
        if (status == FCNN_OK && r->stopped_by)
            return FCNN_OK; /* main says what was kept and how to go on */
        if (status == FCNN_OK)
            status = report(r);
        if (status == FCNN_OK && r->saved) /* not after a finished run resumed for nothing */
            say(r, "Model saved to %s\n", r->save_path);
        /* Every rank holds the same weights; rank 0 alone writes. */
        if (status == FCNN_OK && fcnn_export_requested(&r->opt) && fcnn_dist_is_root(&dist))
            status = export_trained(r);
    }
    if (status == FCNN_OK && r->opt.profile && fcnn_dist_is_root(&dist)) {
        printf("\nProfile (%s)\n", fcnn_backend_name(r->be));
        status = fcnn_backend_report(r->be, FCNN_REPORT_PROFILE, stdout);
    }
    if (status == FCNN_OK && r->opt.profile && fcnn_dist_active(&dist))
        status = report_exchange(r);
    return status;
}

static void release(struct run *r)
{
    fcnn_trainer_release(&r->trainer);
    fcnn_checkpoint_close(r->checkpoint);
    if (r->be) {
        fcnn_optimizer_destroy(r->be, r->optimizer);
        fcnn_network_destroy(r->net);
        fcnn_split_destroy(r->be, r->train);
        fcnn_split_destroy(r->be, r->val);
        fcnn_split_destroy(r->be, r->test);
        r->untuned_shapes = fcnn_backend_untuned_shapes(r->be);
        fcnn_backend_close(r->be);
    }
    fcnn_backend_preload_wait(); /* when a failure came before the open */
    fcnn_data_free(&r->data);
    fcnn_input_info_free(&r->input);
    if (r->out_locked)
        fcnn_dir_unlock(r->out_lock);
    r->out_locked = false;
}

/* After SIGINT or SIGTERM stopped training: what is on disk and how to continue. The
 * exit status is the shell's for a death by that signal (130, 143). */
static int stopped(const struct run *r)
{
    const char *name = r->stopped_by == SIGINT ? "SIGINT" : "SIGTERM";
    const char *kept = r->saved_epoch ? r->save_path : r->opt.resume_path;
    int epoch = r->trainer.epoch;
    if (epoch > 0 && kept && fcnn_checkpoints_available())
        fprintf(stderr, "fcnn: stopped by %s during epoch %d of %d; %s holds epoch %d: "
                "continue with: fcnn --resume %s\n", name, epoch + 1, r->trainer.epochs, kept,
                epoch, kept);
    else
        fprintf(stderr, "fcnn: stopped by %s during epoch %d of %d, before any epoch was "
                "saved: nothing to resume\n", name, epoch + 1, r->trainer.epochs);
    return 128 + r->stopped_by;
}

/* One run on the backend the options name (or the automatic choice). */
static int run_once(struct run *r)
{
    fcnn_progress_init(&r->progress, stdout, r->opt.quiet);
    /* mpirun gives each process a pseudo-terminal, whatever its own output goes to. */
    if (fcnn_dist_active(&dist))
        r->progress.interactive = false;
    int status = run(r);
    fcnn_progress_interrupt(&r->progress);
    /* Kept aside: releasing the backend may record (and ignore) an error of its own. */
    static char failure[16384];
    if (status != FCNN_OK)
        snprintf(failure, sizeof failure, "%s", fcnn_last_error());
    release(r);
    if (status != FCNN_OK) {
        remove_created_dirs(r);
        fcnn_error(status, "%s", failure);
    }
    return status;
}

/* As GNU's close_stdout: the report is the product, so a failed write of it (a full disk,
 * a closed pipe) is a failed run, not a silent exit 0. */
static int close_stdout(int exit_code)
{
    int flushed = fflush(stdout), error = flushed != 0 ? errno : 0;
    bool failed = flushed != 0 || ferror(stdout);
    if (fclose(stdout) != 0 && !failed) {
        failed = true;
        error = errno;
    }
    if (failed) {
        fprintf(stderr, "fcnn: cannot write to standard output: %s\n",
                error ? strerror(error) : "write error");
        return exit_code ? exit_code : 1;
    }
    return exit_code;
}

/* The work of a warm-up or tuning process (cli/warm_up_child.h): the run's own set-up on
 * a few batches, its warm-up, nothing printed on stdout. */
static int warm_up_in_child(void *arg, bool *usage_error)
{
    struct run *r = arg;
    r->warm_up_only = true;
    r->opt.quiet = true;
    int status = run(r);
    *usage_error = r->usage_error;
    return status;
}

/* The warm-up, in two processes at once: the training step's passes and the evaluation's.
 * Each compiles what its part needs; PoCL keeps every program it has compiled in the
 * process's LLVM context, so one process for both held the compiler, the programs of both
 * and both batches' buffers (about 250 MB resident for the reference model, at the 250 MB
 * the default run is held to), and neither part alone comes near that. At once rather than
 * one after the other: a part's first launches compile one kernel at a time, leaving a
 * core to the other part. */
static int warm_up_part_in_child(void *arg, bool *usage_error, enum fcnn_warm_part part)
{
    struct run *r = arg;
    r->warm_part = part;
    return warm_up_in_child(arg, usage_error);
}

static int warm_up_training_in_child(void *arg, bool *usage_error)
{
    return warm_up_part_in_child(arg, usage_error, FCNN_WARM_TRAINING);
}

static int warm_up_evaluation_in_child(void *arg, bool *usage_error)
{
    return warm_up_part_in_child(arg, usage_error, FCNN_WARM_EVALUATION);
}

/* A tuning process's work: its part of the warm-up, timing the shapes the run left
 * untimed, then the backend closed, which stores the binaries of the programs that won
 * for later runs (on PoCL a compilation of its own: seconds that the first warm run would
 * pay). The shapes are tuned in three processes, one after the other: the training
 * step's forward and loss, then the rest of the training step (the forward's shapes now
 * stored, so built from the caches and not timed again), then the evaluation's. PoCL keeps
 * every program it has compiled in the process's LLVM context: one process for all held
 * the compiler, every candidate program and the evaluation batch's buffers at once
 * (259-260 MB resident for the reference model, above the 250 MB the default run is held
 * to), and one for the whole training step still about 250-254 MB. */
static int tune_part_in_child(void *arg, bool *usage_error, enum fcnn_warm_part part)
{
    int status = warm_up_part_in_child(arg, usage_error, part);
    release(arg);
    return status;
}

static int tune_training_forward_in_child(void *arg, bool *usage_error)
{
    return tune_part_in_child(arg, usage_error, FCNN_WARM_TRAINING_FORWARD);
}

static int tune_training_in_child(void *arg, bool *usage_error)
{
    return tune_part_in_child(arg, usage_error, FCNN_WARM_TRAINING);
}

static int tune_evaluation_in_child(void *arg, bool *usage_error)
{
    return tune_part_in_child(arg, usage_error, FCNN_WARM_EVALUATION);
}

static int fcnn_main(int argc, char **argv)
{
    static struct run r;
    r.started = fcnn_now();
    switch (fcnn_cli_parse(argc, argv, &r.opt)) {
    case FCNN_CLI_EXIT_OK: return 0;
    case FCNN_CLI_USAGE: return 2;
    case FCNN_CLI_RUN: break;
    }
    if (fcnn_dist_init(&dist, &argc, &argv) != FCNN_OK)
        return fail(FCNN_ERR_UNSUPPORTED);
    if (fcnn_dist_active(&dist)) {
        if (r.opt.bench || r.opt.tune || r.opt.list_devices) {
            if (fcnn_dist_is_root(&dist))
                fprintf(stderr, "fcnn: --bench, --tune and --list-devices run in one process, "
                        "not under mpirun\n");
            fcnn_dist_finish(&dist);
            return 2;
        }
        dist.deterministic = r.opt.deterministic_reduce;
        dist.overlap = r.opt.overlap_reduce;
        if (!fcnn_dist_is_root(&dist))
            r.opt.quiet = true;
    }
    if (r.opt.list_devices) {
        int status = FCNN_OK;
        for (int i = 0; i < fcnn_backend_count() && status == FCNN_OK; i++)
            status = fcnn_backend_list_devices(fcnn_backend_name_at(i), stdout);
        return status == FCNN_OK ? 0 : fail(status);
    }
    if (r.opt.list_kernels) {
        int status = fcnn_list_kernels(&r.opt, stdout);
        return status == FCNN_OK ? 0 : fail(status);
    }
    if (r.opt.bench && !r.opt.backend) { /* every backend of this build, one after another */
        int status = FCNN_OK;
        for (int i = 0; i < fcnn_backend_count() && status == FCNN_OK; i++) {
            static struct run each;
            each = (struct run){ .opt = r.opt, .started = fcnn_now() };
            each.opt.backend = fcnn_backend_name_at(i);
            if (i)
                printf("\n");
            status = run_once(&each);
            if (status != FCNN_OK)
                return fail_run(&each, status);
        }
        return 0;
    }
    int status = FCNN_OK;
    bool children = fcnn_warm_up_child_wanted(&r.opt, fcnn_dist_active(&dist), argc, argv);
    /* The tuning processes, in this order (see tune_part_in_child). */
    static const struct fcnn_child_work tuning_parts[] = {
        { tune_training_forward_in_child, "training forward" },
        { tune_training_in_child, "training step" },
        { tune_evaluation_in_child, "evaluation" },
    };
    enum { TUNING_PARTS = sizeof tuning_parts / sizeof tuning_parts[0] };
    static struct fcnn_child tuning[TUNING_PARTS];
    for (int i = 0; i < TUNING_PARTS; i++)
        tuning[i].pid = -1;
    if (children) {
        /* Forked first, with nothing loaded or started: they wait, and time after the run
         * what the warm-up processes and the run leave to the priorities. */
        for (int i = 0; i < TUNING_PARTS && status == FCNN_OK; i++)
            status = fcnn_tuning_child_start(tuning_parts[i].work, &r, tuning_parts[i].part,
                                             argc, argv, &tuning[i]);
        r.defer_tuning = true;
        /* The warm-up's parts, at once (see warm_up_part_in_child). */
        static const struct fcnn_child_work warm_up_parts[] = {
            { warm_up_training_in_child, "training step" },
            { warm_up_evaluation_in_child, "evaluation" },
        };
        if (status == FCNN_OK)
            status = fcnn_warm_up_children_run(
                warm_up_parts, (int)(sizeof warm_up_parts / sizeof warm_up_parts[0]), &r,
                r.opt.verbose, &r.usage_error);
    }
    if (status == FCNN_OK)
        status = run_once(&r);
    if (children) {
        bool tune = status == FCNN_OK && !r.stopped_by && r.untuned_shapes > 0;
        fflush(stdout); /* the run's report before the tuning's lines */
        if (tune && (!r.opt.quiet || r.opt.verbose))
            fprintf(stderr, "fcnn: timing kernel variants for later runs: %d shapes of this "
                    "run had no stored choice (once per device; this run used the "
                    "untimed choices throughout)\n", r.untuned_shapes);
        /* After a failed one the other is told to leave: the next run tunes again. */
        int tuned = FCNN_OK;
        for (int i = 0; i < TUNING_PARTS; i++) {
            int each = fcnn_tuning_child_finish(&tuning[i], tune && tuned == FCNN_OK,
                                                r.opt.verbose);
            if (tuned == FCNN_OK)
                tuned = each;
        }
        if (tuned != FCNN_OK)
            fprintf(stderr, "fcnn: warning: %s; the next run times them again\n",
                    fcnn_last_error());
        else if (status == FCNN_OK && !r.stopped_by)
            fcnn_warm_up_child_mark(&tuning[0]);
    }
    if (status != FCNN_OK)
        return fail_run(&r, status);
    if (r.stopped_by) {
        int code = stopped(&r);
        fcnn_dist_finish(&dist);
        return code;
    }
    fcnn_dist_finish(&dist);
    return 0;
}

int main(int argc, char **argv)
{
    return close_stdout(fcnn_main(argc, argv));
}
