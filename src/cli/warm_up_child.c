/* The warm-up in a child process (see warm_up_child.h). fork() rather than spawning the
 * program again: the child starts from the parsed options and has nothing to re-read but
 * the data, and nothing has been loaded or started yet (no threads, no OpenCL, no MPI). */
#include <config.h>

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/backend.h"
#include "cli/warm_up_child.h"
#include "core/clock.h"
#include "core/status.h"

/* --- the mark of a warm-up done ---------------------------------------------------- */

/* The warm-up processes cost a warm run (every program and tuning choice on disk) their
 * start-up, about as long as the run's, for nothing. After a cold run and its tuning
 * processes succeed, an empty file in the program cache's directory marks that this
 * program (the same file), with the same command line and the same FCNN_* and POCL_*
 * environment, has warmed its caches; a run that finds its mark does its (by then quick)
 * warm-up in process. A mark that is wrong (the caches were emptied by hand, the data
 * changed under the same options) costs only memory: that run compiles in process, as
 * without the warm-up processes, and its results are the same either way. */
extern char **environ;

static uint64_t hash_bytes(uint64_t h, const void *data, size_t size)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < size; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull; /* FNV-1a */
    }
    return h;
}

/* Whether a command-line word can change what the warm-up compiles or tunes: all can but
 * where the run writes, what it prints, how many epochs it trains and its seed (which
 * draws a validation split's members, not its size). */
static bool shapes_kernels(const char *word)
{
    static const char *const inert[] = { "--out", "--save", "--epochs", "--seed", "--quiet",
                                         "--verbose", "--profile" };
    for (size_t i = 0; i < sizeof inert / sizeof inert[0]; i++) {
        size_t n = strlen(inert[i]);
        if (strncmp(word, inert[i], n) == 0 && (word[n] == '\0' || word[n] == '='))
            return false;
    }
    return true;
}

static bool mark_path(int argc, char **argv, char *out, size_t size)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char dir[4096];
    int n;
    if (xdg && *xdg)
        n = snprintf(dir, sizeof dir, "%s/fcnn", xdg);
    else if (home && *home)
        n = snprintf(dir, sizeof dir, "%s/.cache/fcnn", home);
    else
        return false;
    if (n < 0 || (size_t)n >= sizeof dir)
        return false;
    uint64_t h = 0xcbf29ce484222325ull;
    h = hash_bytes(h, PACKAGE_VERSION, sizeof PACKAGE_VERSION);
    struct stat st;
    if (stat("/proc/self/exe", &st) != 0)
        return false; /* no way to know it is the same program: no mark */
    long long identity[4] = { (long long)st.st_dev, (long long)st.st_ino, (long long)st.st_size,
                              (long long)st.st_mtime };
    h = hash_bytes(h, identity, sizeof identity);
    for (int i = 1; i < argc; i++) {
        if (!shapes_kernels(argv[i])) {
            if (!strchr(argv[i], '=') && strcmp(argv[i], "--quiet") != 0 &&
                strcmp(argv[i], "--verbose") != 0 && strcmp(argv[i], "--profile") != 0)
                i++; /* and its value */
            continue;
        }
        h = hash_bytes(h, argv[i], strlen(argv[i]) + 1);
    }
    for (char **e = environ; e && *e; e++)
        if (strncmp(*e, "FCNN_", 5) == 0 || strncmp(*e, "POCL_", 5) == 0)
            h = hash_bytes(h, *e, strlen(*e) + 1);
    return (size_t)snprintf(out, size, "%s/warm-%016llx", dir, (unsigned long long)h) < size;
}

static bool marked(int argc, char **argv)
{
    char path[4200];
    return mark_path(argc, argv, path, sizeof path) && access(path, F_OK) == 0;
}

/* Best effort: without the mark the next run only warms up in a child again. */
void fcnn_warm_up_child_mark(const struct fcnn_child *child)
{
    if (!child->mark[0])
        return;
    int fd = open(child->mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0)
        close(fd);
}

/* Whether the caches the child fills can be written: with $XDG_CACHE_HOME unusable the
 * OpenCL backend compiles into a private directory removed at exit, which the run after
 * the child would never see. */
static bool cache_usable(void)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char base[4096];
    if (xdg && *xdg)
        snprintf(base, sizeof base, "%s", xdg);
    else if (home && *home)
        snprintf(base, sizeof base, "%s/.cache", home);
    else
        return false;
    struct stat st;
    return (mkdir(base, 0700) == 0 || errno == EEXIST) && stat(base, &st) == 0 &&
           S_ISDIR(st.st_mode) && access(base, W_OK | X_OK) == 0;
}

static bool env_is(const char *name, const char *value)
{
    const char *v = getenv(name);
    return v && strcmp(v, value) == 0;
}

bool fcnn_warm_up_child_wanted(const struct fcnn_options *opt, bool distributed, int argc,
                               char **argv)
{
    if (distributed || env_is("FCNN_WARM_UP_CHILD", "0") || marked(argc, argv))
        return false;
    /* Only a training run has a warm-up to move; the others compile little or, like
     * --tune and --bench, are about the compilation itself. */
    if (opt->bench || opt->tune || opt->eval_only || opt->export_only ||
        opt->data.predict_count)
        return false;
    /* Without the caches the child's work would be lost: the run would compile it all
     * again. */
    const char *no_cache = getenv("FCNN_NO_CACHE");
    if ((no_cache && *no_cache && strcmp(no_cache, "0") != 0) || env_is("POCL_KERNEL_CACHE", "0") ||
        !cache_usable())
        return false;
    if (opt->backend)
        return strcmp(opt->backend, "opencl") == 0;
    return fcnn_backend_exists("opencl");
}

/* The child's failure on the pipe: its status and whether it was a command-line mistake,
 * then its message, so that the run fails as it would have in one process. */
static void report_failure(int fd, int status, bool usage_error)
{
    char text[4096];
    snprintf(text, sizeof text, "%d %d %s", status, usage_error ? 1 : 0,
             *fcnn_last_error() ? fcnn_last_error() : fcnn_status_name(status));
    const char *message = text;
    size_t left = strlen(message);
    while (left > 0) {
        ssize_t n = write(fd, message, left);
        if (n <= 0 && errno != EINTR)
            break;
        if (n > 0) {
            message += n;
            left -= (size_t)n;
        }
    }
}

static void read_all(int fd, char *out, size_t size)
{
    size_t used = 0;
    while (used + 1 < size) {
        ssize_t n = read(fd, out + used, size - 1 - used);
        if (n == 0 || (n < 0 && errno != EINTR))
            break;
        if (n > 0)
            used += (size_t)n;
    }
    out[used] = '\0';
    /* Whatever did not fit is drained, so the child never blocks on a full pipe. */
    char rest[256];
    ssize_t n;
    while ((n = read(fd, rest, sizeof rest)) > 0 || (n < 0 && errno == EINTR))
        ;
}

/* The parent's ends of the pipes of the children it has running. A child forked later
 * inherits them and must close them: a gated child's `go` held open by a sibling would
 * never read as closed, and the parent, waiting for that child to leave, would wait for
 * ever. */
static int parent_ends[16];
static int parent_end_count;

static void parent_end_keep(int fd)
{
    if (parent_end_count < (int)(sizeof parent_ends / sizeof parent_ends[0]))
        parent_ends[parent_end_count++] = fd;
}

static void parent_end_close(int *fd)
{
    for (int i = 0; i < parent_end_count; i++)
        if (parent_ends[i] == *fd) {
            parent_ends[i] = parent_ends[--parent_end_count];
            break;
        }
    close(*fd);
    *fd = -1;
}

/* The child's work, gated or not: a gated child first waits for one byte on `go` and
 * leaves without working when the pipe closes instead. */
static void child_main(int (*work)(void *arg, bool *usage_error), void *arg, int report,
                       int go)
{
#ifdef __GLIBC__
    /* One malloc arena: glibc would give each thread that builds a program its own, and
     * each keeps megabytes of LLVM's allocations (7 MB more at the child's peak on
     * PoCL, which builds one program of a context at a time anyway). */
    mallopt(M_ARENA_MAX, 1);
    /* A fixed mmap threshold: by default glibc raises it whenever a large block is freed
     * (the dataset's, shrunk to the warm-up's batches), and later blocks of that size then
     * come from the heap, where the compiler's allocations above them keep the memory
     * (2-3 MB more at a tuning process's peak on the full data). */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
    /* No huge pages for their buffers (backends/opencl/ocl_buffer.c): a tuning process's
     * peak is a cold start's, and the 2 MiB pages of buffers it touches only in part put
     * 10 MB on it (256 MB against 246 for the default run). */
    setenv("FCNN_HUGE_PAGES", "0", 1);
    if (go >= 0) {
        char byte;
        ssize_t n;
        while ((n = read(go, &byte, 1)) < 0 && errno == EINTR)
            ;
        if (n != 1)
            _exit(0);
        close(go);
    }
    bool usage = false;
    int status = work(arg, &usage);
    if (status != FCNN_OK)
        report_failure(report, status, usage);
    fflush(stderr);
    /* _exit: nothing of the parent's (stdio buffers, atexit handlers) runs twice. The
     * warm-up processes leave their backends open: closing one would fetch every program's
     * binary on PoCL (a compilation of its own, seconds long), which the run does when
     * it closes; the tuning process's work closes its own, to store the winners'. */
    _exit(status == FCNN_OK ? 0 : 1);
}

/* `part`: what the child warms up or times; a gated (tuning) child waits to be told. */
static int child_start(int (*work)(void *arg, bool *usage_error), void *arg, const char *part,
                       bool gated, struct fcnn_child *child)
{
    *child = (struct fcnn_child){ .pid = -1, .report = -1, .go = -1, .started = fcnn_now() };
    if (gated) {
        snprintf(child->label, sizeof child->label, "tuning process (%s)", part);
        snprintf(child->name, sizeof child->name,
                 "tuning process (the %s's kernel variants, timed after the run)", part);
    } else {
        snprintf(child->label, sizeof child->label, "warm-up process (%s)", part);
        snprintf(child->name, sizeof child->name, "warm-up process (the %s's kernel builds)",
                 part);
    }
    int report[2], go[2] = { -1, -1 };
    if (pipe(report) != 0)
        return fcnn_error(FCNN_ERR_IO, "%s: pipe: %s", child->name, strerror(errno));
    if (gated && pipe(go) != 0) {
        int error = errno;
        close(report[0]);
        close(report[1]);
        return fcnn_error(FCNN_ERR_IO, "%s: pipe: %s", child->name, strerror(error));
    }
    /* Not inherited by whatever the child may run (PoCL runs a linker). */
    for (int i = 0; i < 2; i++) {
        fcntl(report[i], F_SETFD, FD_CLOEXEC);
        if (gated)
            fcntl(go[i], F_SETFD, FD_CLOEXEC);
    }
    fflush(NULL); /* or the child's copy of unwritten output could be written twice */
#ifdef __linux__
    pid_t parent = getpid();
#endif
    pid_t pid = fork();
    if (pid < 0) {
        int error = errno;
        close(report[0]);
        close(report[1]);
        if (gated) {
            close(go[0]);
            close(go[1]);
        }
        return fcnn_error(FCNN_ERR_DEVICE, "%s: fork: %s (FCNN_WARM_UP_CHILD=0 warms up and "
                          "tunes in this process)", child->name, strerror(error));
    }
    if (pid == 0) {
        for (int i = 0; i < parent_end_count; i++) /* its siblings' */
            close(parent_ends[i]);
        parent_end_count = 0;
        close(report[0]);
        if (gated)
            close(go[1]);
#ifdef __linux__
        /* A run stopped while it waits (SIGTERM, SIGKILL) takes its children with it. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) /* it died before the line above */
            _exit(1);
#endif
        child_main(work, arg, report[1], go[0]);
    }
    close(report[1]);
    if (gated)
        close(go[0]);
    child->pid = pid;
    child->report = report[0];
    child->go = go[1];
    parent_end_keep(child->report);
    if (gated)
        parent_end_keep(child->go);
    return FCNN_OK;
}

/* Waits for the child; its failure becomes ours, said as the run would have said it. */
static int child_wait(struct fcnn_child *child, bool *usage_error)
{
    char message[4096];
    read_all(child->report, message, sizeof message);
    parent_end_close(&child->report);
    int wstatus = 0;
    pid_t waited;
    struct rusage usage;
    while ((waited = wait4(child->pid, &wstatus, 0, &usage)) < 0 && errno == EINTR)
        ;
    child->pid = -1;
    child->peak_kb = waited > 0 ? usage.ru_maxrss : 0;
    if (waited < 0)
        return fcnn_error(FCNN_ERR_DEVICE, "%s: wait4: %s", child->name,
                          strerror(errno));
    if (WIFSIGNALED(wstatus))
        return fcnn_error(FCNN_ERR_DEVICE, "%s was killed by signal %d (%s)",
                          child->name, WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)));
    if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
        /* What the child found (a missing file, a model that does not fit the data, a
         * kernel that does not build) is the run's failure, said as the run would. */
        int status = 0, usage = 0, used = 0;
        if (sscanf(message, "%d %d %n", &status, &usage, &used) == 2 && used > 0 &&
            status != FCNN_OK) {
            if (usage_error)
                *usage_error = usage != 0;
            return fcnn_error(status, "%s", message + used);
        }
        return fcnn_error(FCNN_ERR_DEVICE, "%s exited with status %d", child->name,
                          WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
    }
    return FCNN_OK;
}

static void say_done(const struct fcnn_child *child, const char *then)
{
    fprintf(stderr, "fcnn: %s done in %.3f s (peak resident %ld MB)%s\n", child->label,
            fcnn_now() - child->started, child->peak_kb / 1000, then);
}

int fcnn_warm_up_children_run(const struct fcnn_child_work *works, int count, void *arg,
                              bool verbose, bool *usage_error)
{
    struct fcnn_child children[FCNN_WARM_UP_CHILDREN_MAX];
    if (count > FCNN_WARM_UP_CHILDREN_MAX)
        return fcnn_error(FCNN_ERR_INVALID, "%d warm-up processes asked, at most %d", count,
                          FCNN_WARM_UP_CHILDREN_MAX);
    /* The first failure's message, which reaping the other children would overwrite. */
    char failure[4096] = "";
    int started = 0, status = FCNN_OK;
    while (started < count && status == FCNN_OK) {
        status = child_start(works[started].work, arg, works[started].part, false,
                             &children[started]);
        if (status == FCNN_OK)
            started++;
        else
            snprintf(failure, sizeof failure, "%s", fcnn_last_error());
    }
    /* Each is waited for as it ends (its report pipe closes when it exits), so that its
     * line gives its own time. After a failure the others are stopped: the run fails with
     * the first failure's line, and what they were building is of no use to it. */
    int running = started;
    while (running > 0) {
        struct pollfd fds[FCNN_WARM_UP_CHILDREN_MAX];
        int which[FCNN_WARM_UP_CHILDREN_MAX], n = 0;
        for (int i = 0; i < started; i++)
            if (children[i].pid >= 0) {
                fds[n] = (struct pollfd){ .fd = children[i].report, .events = POLLIN };
                which[n++] = i;
            }
        if (status != FCNN_OK) { /* stop the rest; child_wait reaps them */
            for (int k = 0; k < n; k++)
                kill(children[which[k]].pid, SIGKILL);
        } else if (poll(fds, (nfds_t)n, -1) < 0) {
            if (errno == EINTR)
                continue;
            for (int k = 0; k < n; k++) /* cannot tell which ends first: in order */
                fds[k].revents = POLLHUP;
        }
        for (int k = 0; k < n; k++) {
            if (status == FCNN_OK && !fds[k].revents)
                continue;
            struct fcnn_child *child = &children[which[k]];
            bool usage = false, stopped = status != FCNN_OK;
            int each = child_wait(child, &usage);
            running--;
            if (stopped)
                continue;
            if (each != FCNN_OK) {
                status = each;
                *usage_error = usage;
                snprintf(failure, sizeof failure, "%s", fcnn_last_error());
            } else if (verbose) {
                say_done(child, "");
            }
        }
    }
    if (status != FCNN_OK)
        return fcnn_error(status, "%s", failure);
    if (verbose)
        fprintf(stderr, "fcnn: the run goes on warm\n");
    return status;
}

int fcnn_tuning_child_start(int (*work)(void *arg, bool *usage_error), void *arg,
                            const char *part, int argc, char **argv, struct fcnn_child *child)
{
    int status = child_start(work, arg, part, true, child);
    /* Now, before the run sets variables of its own (POCL_AFFINITY) in the environment
     * that the mark's name hashes. */
    if (status == FCNN_OK && !mark_path(argc, argv, child->mark, sizeof child->mark))
        child->mark[0] = '\0';
    return status;
}

int fcnn_tuning_child_finish(struct fcnn_child *child, bool tune, bool verbose)
{
    if (child->pid < 0)
        return FCNN_OK;
    bool sent = false;
    child->started = fcnn_now(); /* its work starts now */
    if (tune) {
        /* A child already gone (a terminal's Ctrl-C reaches it too) must not take this
         * process with it by SIGPIPE. */
        struct sigaction ignore = { .sa_handler = SIG_IGN }, saved;
        sigemptyset(&ignore.sa_mask);
        sigaction(SIGPIPE, &ignore, &saved);
        ssize_t n;
        while ((n = write(child->go, "T", 1)) < 0 && errno == EINTR)
            ;
        sent = n == 1;
        sigaction(SIGPIPE, &saved, NULL);
    }
    parent_end_close(&child->go);
    int status = child_wait(child, NULL);
    if (!tune)
        return FCNN_OK; /* it left without working, or died with the run: nothing lost */
    if (status == FCNN_OK && !sent)
        status = fcnn_error(FCNN_ERR_DEVICE, "%s had gone before the run ended",
                            child->name);
    if (status == FCNN_OK && verbose)
        say_done(child, "");
    return status;
}

/* The first `keep` samples of `d`; the memory of the rest goes back to the system. */
static void keep_first(struct fcnn_dataset *d, int keep)
{
    if (keep >= d->count || !d->images)
        return;
    size_t sample = fcnn_dataset_sample_bytes(d);
    uint8_t *images = realloc(d->images, (size_t)keep * sample);
    uint8_t *labels = d->labels ? realloc(d->labels, (size_t)keep) : NULL;
    if (images) /* a failed shrink keeps the block as it was: only memory is at stake */
        d->images = images;
    if (labels)
        d->labels = labels;
    d->count = keep;
}

/* A full batch and the short last one, if the whole split has one. */
static int warm_up_count(int count, int batch)
{
    return count <= batch ? count : batch + count % batch;
}

void fcnn_warm_up_shrink_data(struct fcnn_data *data, int batch, int eval_batch)
{
    keep_first(&data->train, warm_up_count(data->train.count, batch));
    keep_first(&data->val, warm_up_count(data->val.count, eval_batch));
    keep_first(&data->test, warm_up_count(data->test.count, eval_batch));
}
