/* Data parallelism through Open MPI: joining the job, broadcasts and sums, and the
 * gradient exchange between backward pass and update. */
#include <config.h>

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/status.h"
#include "train/dist_launch.h"

/* What the MPI version keeps between calls. */
struct dist_impl {
    float *grads;         /* host copy of the gradient arena, summed in place */
    size_t grad_floats;
    void *gather;         /* deterministic sums: every process's values, at rank 0 */
    size_t gather_bytes;
    MPI_Request pending[FCNN_MAX_LAYERS]; /* overlapped exchanges, one per layer */
    int pending_count;
    struct fcnn_network *net; /* for the per-layer callback */
    double callback_seconds;  /* this step's time in the callbacks: exchange, not compute */
    struct fcnn_dist *dist;
};

bool fcnn_dist_available(void)
{
    return true;
}

/* Turns an MPI error code into a status naming the call. */
static int mpi_check(int code, const char *call)
{
    if (code == MPI_SUCCESS)
        return FCNN_OK;
    char text[MPI_MAX_ERROR_STRING] = "";
    int length = 0;
    MPI_Error_string(code, text, &length);
    return fcnn_error(FCNN_ERR_DEVICE, "%s failed: %s", call, text);
}
#define MPI_TRY(call, args)                                                                    \
    do {                                                                                       \
        int mpi_status_ = mpi_check(call args, #call);                                         \
        if (mpi_status_ != FCNN_OK)                                                            \
            return mpi_status_;                                                                \
    } while (0)

int fcnn_dist_init(struct fcnn_dist *d, int *argc, char ***argv)
{
    *d = (struct fcnn_dist){ .rank = 0, .size = 1, .local_rank = 0, .local_size = 1 };
    if (!fcnn_dist_launched(d))
        return FCNN_OK; /* alone: no MPI at all, so a plain run starts as fast as before */
    if (MPI_Init(argc, argv) != MPI_SUCCESS)
        return fcnn_error(FCNN_ERR_DEVICE, "MPI_Init failed (started by an MPI launcher as "
                          "rank %d of %d)", d->rank, d->size);
    struct dist_impl *impl = calloc(1, sizeof *impl);
    if (!impl)
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory joining the MPI job");
    d->impl = impl;
    impl->dist = d;
    /* Errors come back as codes, so each one is reported with its call and rank. */
    MPI_TRY(MPI_Comm_set_errhandler, (MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    MPI_TRY(MPI_Comm_rank, (MPI_COMM_WORLD, &d->rank));
    MPI_TRY(MPI_Comm_size, (MPI_COMM_WORLD, &d->size));
    MPI_Comm local;
    MPI_TRY(MPI_Comm_split_type, (MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, d->rank,
                                  MPI_INFO_NULL, &local));
    MPI_TRY(MPI_Comm_rank, (local, &d->local_rank));
    MPI_TRY(MPI_Comm_size, (local, &d->local_size));
    MPI_Comm_free(&local);
    fcnn_dist_share_cores(d);
    return FCNN_OK;
}

void fcnn_dist_finish(struct fcnn_dist *d)
{
    struct dist_impl *impl = d->impl;
    if (!impl)
        return;
    free(impl->grads);
    free(impl->gather);
    free(impl);
    d->impl = NULL;
    MPI_Finalize();
}

_Noreturn void fcnn_dist_abort(struct fcnn_dist *d, const char *message)
{
    fprintf(stderr, "fcnn: rank %d of %d: %s\n", d->rank, d->size, message);
    fflush(stderr);
    if (d->impl)
        MPI_Abort(MPI_COMM_WORLD, 1);
    _exit(1);
}

int fcnn_dist_broadcast(struct fcnn_dist *d, void *data, size_t bytes)
{
    if (!fcnn_dist_active(d))
        return FCNN_OK;
    double start = fcnn_now();
    for (size_t done = 0; done < bytes;) { /* MPI counts are ints */
        int chunk = bytes - done > (1u << 30) ? 1 << 30 : (int)(bytes - done);
        MPI_TRY(MPI_Bcast, ((char *)data + done, chunk, MPI_BYTE, 0, MPI_COMM_WORLD));
        done += (size_t)chunk;
    }
    d->mpi_seconds += fcnn_now() - start;
    return FCNN_OK;
}

static void *gather_space(struct dist_impl *impl, size_t bytes)
{
    if (impl->gather_bytes < bytes) {
        void *grown = realloc(impl->gather, bytes);
        if (!grown)
            return NULL;
        impl->gather = grown;
        impl->gather_bytes = bytes;
    }
    return impl->gather;
}

/* Sums in a fixed order: rank 0 gathers every process's values, adds them rank by rank,
 * and sends the result back. Slower than MPI_Allreduce (rank 0 does all the additions and
 * the data crosses twice), but the order of the additions never depends on the algorithm
 * MPI picks, the message size or the timing. */
#define ORDERED_SUM(name, type)                                                                \
    static void name(type *data, const type *all, size_t count, int size)                      \
    {                                                                                          \
        for (size_t i = 0; i < count; i++) {                                                   \
            type sum = all[i];                                                                 \
            for (int r = 1; r < size; r++)                                                     \
                sum += all[(size_t)r * count + i];                                             \
            data[i] = sum;                                                                     \
        }                                                                                      \
    }
ORDERED_SUM(ordered_sum_f32, float)
ORDERED_SUM(ordered_sum_f64, double)

static int sum(struct fcnn_dist *d, void *data, size_t count, MPI_Datatype type, size_t size,
               void (*ordered)(void *, const void *, size_t, int))
{
    if (!fcnn_dist_active(d) || count == 0)
        return FCNN_OK;
    if (count > (size_t)1 << 30)
        return fcnn_error(FCNN_ERR_INVALID, "a sum over processes of %zu values (at most 2^30)",
                          count);
    double start = fcnn_now();
    if (d->deterministic && ordered) {
        struct dist_impl *impl = d->impl;
        void *all = d->rank == 0 ? gather_space(impl, count * size * (size_t)d->size) : NULL;
        if (d->rank == 0 && !all)
            return fcnn_error(FCNN_ERR_NOMEM, "out of memory for an ordered sum");
        MPI_TRY(MPI_Gather, (data, (int)count, type, all, (int)count, type, 0, MPI_COMM_WORLD));
        if (d->rank == 0)
            ordered(data, all, count, d->size);
        MPI_TRY(MPI_Bcast, (data, (int)count, type, 0, MPI_COMM_WORLD));
    } else {
        MPI_TRY(MPI_Allreduce, (MPI_IN_PLACE, data, (int)count, type, MPI_SUM, MPI_COMM_WORLD));
    }
    d->mpi_seconds += fcnn_now() - start;
    return FCNN_OK;
}

static void ordered_f32(void *data, const void *all, size_t count, int size)
{
    ordered_sum_f32(data, all, count, size);
}

static void ordered_f64(void *data, const void *all, size_t count, int size)
{
    ordered_sum_f64(data, all, count, size);
}

int fcnn_dist_sum_f32(struct fcnn_dist *d, float *data, size_t count)
{
    return sum(d, data, count, MPI_FLOAT, sizeof *data, ordered_f32);
}

int fcnn_dist_sum_f64(struct fcnn_dist *d, double *data, size_t count)
{
    return sum(d, data, count, MPI_DOUBLE, sizeof *data, ordered_f64);
}

int fcnn_dist_sum_i32(struct fcnn_dist *d, int32_t *data, size_t count)
{
    /* Integer sums are exact in any order. */
    return sum(d, data, count, MPI_INT32_T, sizeof *data, NULL);
}

int fcnn_dist_share_params(struct fcnn_dist *d, struct fcnn_network *net)
{
    if (!fcnn_dist_active(d))
        return FCNN_OK;
    size_t floats = net->model->param_floats;
    float *host = malloc((floats ? floats : 1) * sizeof *host);
    if (!host)
        return fcnn_error(FCNN_ERR_NOMEM, "out of memory sharing the parameters");
    int status = d->rank == 0 ? fcnn_network_get_params(net, host) : FCNN_OK;
    if (status == FCNN_OK)
        status = fcnn_dist_broadcast(d, host, floats * sizeof *host);
    if (status == FCNN_OK && d->rank != 0)
        status = fcnn_network_set_params(net, host);
    free(host);
    return status;
}

/* Floats [*first, *first + *count) of the arena: layer l's parameters, with the alignment
 * gaps between them. */
static void layer_range(const struct fcnn_model *model, int l, size_t *first, size_t *count)
{
    const struct fcnn_layer *layer = &model->layers[l];
    const struct fcnn_param *a = &model->params[layer->first_param];
    const struct fcnn_param *b = &model->params[layer->first_param + layer->param_count - 1];
    *first = a->offset;
    *count = b->offset + b->count - a->offset;
}

/* Lets MPI move the exchanges already started (Open MPI progresses non-blocking
 * collectives only inside MPI calls). */
static int progress(struct dist_impl *impl)
{
    int done;
    MPI_TRY(MPI_Testall, (impl->pending_count, impl->pending, &done, MPI_STATUSES_IGNORE));
    return FCNN_OK;
}

/* Starts the sum of layer l's gradients, already in impl->grads when `download` is false. */
static int start_layer(struct dist_impl *impl, int l, bool download)
{
    struct fcnn_network *net = impl->net;
    /* On an asynchronous backend the layer's backward ops may still run: waiting for
     * them is compute, not exchange. */
    if (download) {
        int status = fcnn_sync(net->be);
        if (status != FCNN_OK)
            return status;
    }
    double called = fcnn_now();
    size_t first, count;
    layer_range(net->model, l, &first, &count);
    if (download) {
        struct fcnn_tensor part = fcnn_tensor_1d(net->grads, first * sizeof(float), FCNN_F32,
                                                 (int)count);
        int status = fcnn_download(net->be, &part, impl->grads + first);
        if (status != FCNN_OK)
            return status;
    }
    double start = fcnn_now();
    MPI_TRY(MPI_Iallreduce, (MPI_IN_PLACE, impl->grads + first, (int)count, MPI_FLOAT, MPI_SUM,
                             MPI_COMM_WORLD, &impl->pending[impl->pending_count]));
    impl->pending_count++;
    int status = progress(impl);
    impl->dist->mpi_seconds += fcnn_now() - start;
    impl->callback_seconds += fcnn_now() - called;
    return status;
}

static int on_layer_done(void *user, int l)
{
    return start_layer(user, l, true);
}

int fcnn_dist_backward(struct fcnn_dist *d, struct fcnn_network *net, int n)
{
    if (!fcnn_dist_active(d))
        return fcnn_network_backward(net, n);
    struct dist_impl *impl = d->impl;
    size_t floats = net->model->param_floats;
    if (impl->grad_floats < floats) {
        float *grown = realloc(impl->grads, floats * sizeof *grown);
        if (!grown)
            return fcnn_error(FCNN_ERR_NOMEM, "out of memory for the gradient exchange");
        impl->grads = grown;
        impl->grad_floats = floats;
    }
    impl->net = net;
    impl->pending_count = 0;
    struct fcnn_tensor arena = fcnn_network_grad_arena(net);
    int status = FCNN_OK;
    double start;
    /* Every process makes the same MPI calls in the same order whatever its share of the
     * batch: one exchange per layer with parameters when overlapping, else one for all. */
    if (n == 0)
        memset(impl->grads, 0, floats * sizeof *impl->grads);
    if (d->overlap && !d->deterministic) {
        /* The exchange's time is everything but the backward ops themselves: the layer
         * callbacks' downloads and starts, the final wait, the upload. */
        start = fcnn_now();
        impl->callback_seconds = 0;
        double compute = 0;
        if (n > 0) {
            status = fcnn_network_backward_each(net, n, on_layer_done, impl);
            compute = fcnn_now() - start - impl->callback_seconds;
        } else {
            for (int l = net->model->layer_count - 1; l >= 0 && status == FCNN_OK; l--)
                if (net->model->layers[l].param_count > 0)
                    status = start_layer(impl, l, false);
        }
        double wait = fcnn_now();
        if (status == FCNN_OK)
            status = mpi_check(MPI_Waitall(impl->pending_count, impl->pending,
                                           MPI_STATUSES_IGNORE), "MPI_Waitall");
        d->mpi_seconds += fcnn_now() - wait;
        start += compute;
    } else {
        if (n > 0)
            status = fcnn_network_backward(net, n);
        /* The backward pass finishes first, so the time below is the exchange's alone. */
        if (status == FCNN_OK)
            status = fcnn_sync(net->be);
        start = fcnn_now();
        if (status == FCNN_OK && n > 0)
            status = fcnn_download(net->be, &arena, impl->grads);
        if (status == FCNN_OK)
            status = fcnn_dist_sum_f32(d, impl->grads, floats);
    }
    if (status == FCNN_OK)
        status = fcnn_upload(net->be, &arena, impl->grads);
    d->reduce_seconds += fcnn_now() - start;
    d->steps++;
    return status;
}
