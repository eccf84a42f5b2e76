/* Test-only faults of the OpenCL backend: FCNN_OPENCL_FAULT=KIND:N[,KIND:N...] makes the
 * Nth call of each KIND in this process fail with the error a real device gives for it,
 * so the tests can check that every such failure is reported (the call and the CL error
 * named, exit 1, no crash) on a machine where the device never fails:
 *
 *   alloc:N    the Nth clCreateBuffer     CL_MEM_OBJECT_ALLOCATION_FAILURE
 *   enqueue:N  the Nth kernel launch      CL_OUT_OF_RESOURCES
 *   build:N    the Nth program build      CL_BUILD_PROGRAM_FAILURE
 *
 * Unset (always, outside tests) it costs a getenv per call. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "ocl.h"

static const struct {
    const char *name;
    cl_int error;
} kinds[] = {
    [OCL_FAULT_ALLOC] = { "alloc", -4 },   /* CL_MEM_OBJECT_ALLOCATION_FAILURE */
    [OCL_FAULT_ENQUEUE] = { "enqueue", -5 }, /* CL_OUT_OF_RESOURCES */
    [OCL_FAULT_BUILD] = { "build", -11 },  /* CL_BUILD_PROGRAM_FAILURE */
};

/* Which call of `kind` the variable names (0: none). */
static long wanted(const char *spec, const char *kind)
{
    size_t len = strlen(kind);
    for (const char *p = spec; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
        if (strncmp(p, kind, len) == 0 && p[len] == ':')
            return strtol(p + len + 1, NULL, 10);
    return 0;
}

static long calls[OCL_FAULT_KIND_COUNT];

void ocl_fault_reset(void)
{
    memset(calls, 0, sizeof calls);
}

cl_int ocl_fault(enum ocl_fault_kind kind)
{
    const char *spec = getenv("FCNN_OPENCL_FAULT");
    if (!spec || !*spec)
        return CL_SUCCESS;
    long n = wanted(spec, kinds[kind].name);
    /* Programs are built from several threads at once: count atomically. */
    return n > 0 && __atomic_add_fetch(&calls[kind], 1, __ATOMIC_SEQ_CST) == n ? kinds[kind].error
                                                                              : CL_SUCCESS;
}
