/* Launch detection, core sharing, and the parts of the distribution interface that need
 * no MPI: shared by the MPI build and the build without it. */
/* sched_getaffinity and the CPU_* macros are GNU extensions. */
#define _GNU_SOURCE
#include <config.h>

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/status.h"
#include "train/dist_launch.h"

/* A whole non-negative decimal number from the environment; -1 when unset or malformed. */
static int env_int(const char *name)
{
    const char *text = getenv(name);
    if (!text || !*text)
        return -1;
    char *end;
    long v = strtol(text, &end, 10);
    return *end || v < 0 || v > 1 << 24 ? -1 : (int)v;
}

bool fcnn_dist_launched(struct fcnn_dist *d)
{
    /* Open MPI's mpirun, then MPICH's Hydra. */
    static const char *const vars[][4] = {
        { "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE",
          "OMPI_COMM_WORLD_LOCAL_RANK" },
        { "PMI_SIZE", "PMI_RANK", "MPI_LOCALNRANKS", "MPI_LOCALRANKID" },
    };
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        int size = env_int(vars[i][0]), rank = env_int(vars[i][1]);
        if (size < 1 || rank < 0)
            continue;
        int local_size = env_int(vars[i][2]), local_rank = env_int(vars[i][3]);
        d->size = size;
        d->rank = rank;
        d->local_size = local_size > 0 ? local_size : 1;
        d->local_rank = local_rank >= 0 ? local_rank : 0;
        return true;
    }
    return false;
}

void fcnn_dist_share_cores(struct fcnn_dist *d)
{
    if (d->local_size <= 1)
        return;
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0)
        return; /* nothing known to split: leave the threads as they are */
    int count = CPU_COUNT(&allowed);
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    int share = count;
    if (count >= online) {
        /* Unbound: take the local_rank-th part of the allowed cores (processes beyond the
         * core count wrap around and share, which --oversubscribe asked for). */
        int cpus[CPU_SETSIZE], n = 0;
        for (int c = 0; c < CPU_SETSIZE && n < count; c++)
            if (CPU_ISSET(c, &allowed))
                cpus[n++] = c;
        share = n / d->local_size > 0 ? n / d->local_size : 1;
        int first = (d->local_rank * share) % n;
        cpu_set_t mine;
        CPU_ZERO(&mine);
        for (int k = 0; k < share; k++)
            CPU_SET(cpus[(first + k) % n], &mine);
        if (sched_setaffinity(0, sizeof mine, &mine) != 0)
            share = count;
    }
    d->cores = share;
    char text[16];
    snprintf(text, sizeof text, "%d", share);
    /* PoCL's CPU driver starts one worker per core it counts, whatever the affinity, and
     * POCL_AFFINITY pins worker i to core i, so every process would pin its workers to
     * the same first cores: the pool follows this process's share instead, and its
     * workers stay inside this process's affinity. PoCL reads both when the OpenCL
     * platform first loads, which is after this. */
    setenv("POCL_MAX_PTHREAD_COUNT", text, 0);
    setenv("POCL_AFFINITY", "0", 1);
#ifdef _OPENMP
    if (!getenv("OMP_NUM_THREADS"))
        omp_set_num_threads(share);
#endif
}

bool fcnn_dist_active(const struct fcnn_dist *d)
{
    return d && d->size > 1;
}

bool fcnn_dist_is_root(const struct fcnn_dist *d)
{
    return !d || d->rank == 0;
}

int fcnn_dist_pick_device(const struct fcnn_dist *d, const char *list, char *out, size_t size)
{
    int index = d ? d->local_rank : 0, entries = 1;
    for (const char *p = list; *p; p++)
        entries += *p == ',';
    if (entries == 1) {
        snprintf(out, size, "%s", list);
        return FCNN_OK;
    }
    if (d && d->local_size > entries)
        return fcnn_error(FCNN_ERR_INVALID, "--device lists %d devices for %d processes on "
                          "this machine: give one per process", entries, d->local_size);
    const char *start = list;
    for (int i = 0; i < index % entries; i++)
        start = strchr(start, ',') + 1;
    size_t length = strcspn(start, ",");
    if (length == 0 || length >= size)
        return fcnn_error(FCNN_ERR_INVALID, "--device entry %d of '%s' is %s", index + 1, list,
                          length ? "too long" : "empty");
    memcpy(out, start, length);
    out[length] = '\0';
    return FCNN_OK;
}

void fcnn_dist_slice(const struct fcnn_dist *d, int first, int n, int *lo, int *count)
{
    if (!fcnn_dist_active(d)) {
        *lo = first;
        *count = n;
        return;
    }
    long long begin = (long long)n * d->rank / d->size;
    long long end = (long long)n * (d->rank + 1) / d->size;
    *lo = first + (int)begin;
    *count = (int)(end - begin);
}
