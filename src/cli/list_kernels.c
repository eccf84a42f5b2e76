/* Listing kernel variants, for people choosing --kernel and for shell completion. */
#include <config.h>

#include <string.h>

#include "backend/backend.h"
#include "cli/list_kernels.h"
#include "core/status.h"

static int list_backend(const char *name, const struct fcnn_options *o, FILE *out)
{
    struct fcnn_backend_options options = { .device = o->device, .verbose = o->verbose };
    struct fcnn_backend *be;
    int status = fcnn_backend_open(name, &options, &be);
    if (status != FCNN_OK)
        return status;
    for (int op = 0; op < FCNN_OP_COUNT; op++) {
        int count = fcnn_backend_variant_count(be, (enum fcnn_op)op);
        /* A backend without variants reports one, named after itself: nothing to choose. */
        if (count < 1 || (count == 1 && !strcmp(fcnn_backend_variant_name(be, (enum fcnn_op)op, 0),
                                                name)))
            continue;
        fprintf(out, "%s %s", name, fcnn_op_name((enum fcnn_op)op));
        for (int i = 0; i < count; i++)
            fprintf(out, " %s", fcnn_backend_variant_name(be, (enum fcnn_op)op, i));
        fprintf(out, "\n");
    }
    fcnn_backend_close(be);
    return FCNN_OK;
}

int fcnn_list_kernels(const struct fcnn_options *o, FILE *out)
{
    if (o->backend)
        return list_backend(o->backend, o, out);
    int status = FCNN_OK;
    for (int i = 0; i < fcnn_backend_count() && status == FCNN_OK; i++)
        status = list_backend(fcnn_backend_name_at(i), o, out);
    return status;
}
