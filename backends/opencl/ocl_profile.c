/* --profile: each op's device time, from OpenCL profiling events. Only when profiling is
 * asked for is the queue created with CL_QUEUE_PROFILING_ENABLE and does each launch ask
 * for an event: events cost time, and an ordinary run should not pay for them.
 *
 * Each command enqueued while an op is being dispatched is charged to that op. Events are
 * read when their commands are known to have finished (after a download or a sync, which
 * wait for the queue) and then released, so the list stays short; if it grows long anyway
 * (a long stretch with no read-back), collecting waits for the oldest. */
#include <config.h>

#include <stdlib.h>

#include "ocl.h"

#define PENDING_LIMIT 4096

int ocl_profile_open(struct ocl_context *ctx, bool enabled)
{
    ctx->profile = (struct ocl_profile){ .enabled = enabled };
    return FCNN_OK;
}

void ocl_profile_close(struct ocl_context *ctx)
{
    struct ocl_profile *p = &ctx->profile;
    for (int i = 0; i < p->pending_count; i++)
        clReleaseEvent(p->pending[i]);
    free(p->pending);
    free(p->pending_op);
    p->pending = NULL;
    p->pending_op = NULL;
    p->pending_count = p->pending_capacity = 0;
}

cl_event *ocl_profile_event_slot(struct ocl_context *ctx, cl_event *slot)
{
    return ctx->profile.enabled && !ctx->profile.paused ? slot : NULL;
}

void ocl_profile_record(struct ocl_context *ctx, cl_event event)
{
    struct ocl_profile *p = &ctx->profile;
    if (p->pending_count == PENDING_LIMIT)
        ocl_profile_collect(ctx, true);
    if (p->pending_count == p->pending_capacity) {
        int capacity = p->pending_capacity ? 2 * p->pending_capacity : 256;
        cl_event *events = realloc(p->pending, (size_t)capacity * sizeof *events);
        if (events)
            p->pending = events;
        enum fcnn_op *ops = realloc(p->pending_op, (size_t)capacity * sizeof *ops);
        if (ops)
            p->pending_op = ops;
        if (!events || !ops) { /* out of memory: this command goes uncounted */
            clReleaseEvent(event);
            return;
        }
        p->pending_capacity = capacity;
    }
    p->pending[p->pending_count] = event;
    p->pending_op[p->pending_count++] = p->current;
    p->commands[p->current]++;
}

int ocl_profile_collect(struct ocl_context *ctx, bool wait)
{
    struct ocl_profile *p = &ctx->profile;
    if (!p->pending_count)
        return FCNN_OK;
    if (wait)
        OCL_CHECK(clWaitForEvents, clWaitForEvents((cl_uint)p->pending_count, p->pending));
    int kept = 0;
    for (int i = 0; i < p->pending_count; i++) {
        cl_int state = CL_COMPLETE;
        if (!wait)
            clGetEventInfo(p->pending[i], CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof state,
                           &state, NULL);
        if (state != CL_COMPLETE && state >= 0) { /* still queued or running: later */
            p->pending[kept] = p->pending[i];
            p->pending_op[kept++] = p->pending_op[i];
            continue;
        }
        cl_ulong start = 0, end = 0;
        if (clGetEventProfilingInfo(p->pending[i], CL_PROFILING_COMMAND_START, sizeof start,
                                    &start, NULL) == CL_SUCCESS &&
            clGetEventProfilingInfo(p->pending[i], CL_PROFILING_COMMAND_END, sizeof end, &end,
                                    NULL) == CL_SUCCESS &&
            end > start)
            p->device_seconds[p->pending_op[i]] += (double)(end - start) * 1e-9;
        clReleaseEvent(p->pending[i]);
    }
    p->pending_count = kept;
    return FCNN_OK;
}
