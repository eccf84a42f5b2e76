/* The distribution module of a build without MPI: fcnn runs alone, and refuses to start
 * as one of several processes of an MPI job, where it would train independent copies
 * that each write the same files. */
#include <config.h>

#include <stdio.h>
#include <unistd.h>

#include "core/status.h"
#include "train/dist_launch.h"

bool fcnn_dist_available(void)
{
    return false;
}

int fcnn_dist_init(struct fcnn_dist *d, int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    struct fcnn_dist launch = { .size = 1, .local_size = 1 };
    *d = (struct fcnn_dist){ .rank = 0, .size = 1, .local_rank = 0, .local_size = 1 };
    if (fcnn_dist_launched(&launch) && launch.size > 1)
        return fcnn_error(FCNN_ERR_UNSUPPORTED, "started by mpirun as rank %d of %d, but this "
                          "fcnn was built without MPI and would train %d independent copies "
                          "(install libopenmpi-dev and rebuild)", launch.rank, launch.size,
                          launch.size);
    return FCNN_OK;
}

void fcnn_dist_finish(struct fcnn_dist *d)
{
    (void)d;
}

_Noreturn void fcnn_dist_abort(struct fcnn_dist *d, const char *message)
{
    fprintf(stderr, "fcnn: rank %d of %d: %s\n", d->rank, d->size, message);
    fflush(stderr);
    _exit(1);
}

int fcnn_dist_broadcast(struct fcnn_dist *d, void *data, size_t bytes)
{
    (void)d, (void)data, (void)bytes;
    return FCNN_OK;
}

int fcnn_dist_sum_f32(struct fcnn_dist *d, float *data, size_t count)
{
    (void)d, (void)data, (void)count;
    return FCNN_OK;
}

int fcnn_dist_sum_f64(struct fcnn_dist *d, double *data, size_t count)
{
    (void)d, (void)data, (void)count;
    return FCNN_OK;
}

int fcnn_dist_sum_i32(struct fcnn_dist *d, int32_t *data, size_t count)
{
    (void)d, (void)data, (void)count;
    return FCNN_OK;
}

int fcnn_dist_share_params(struct fcnn_dist *d, struct fcnn_network *net)
{
    (void)d, (void)net;
    return FCNN_OK;
}

int fcnn_dist_backward(struct fcnn_dist *d, struct fcnn_network *net, int n)
{
    (void)d;
    return fcnn_network_backward(net, n);
}
