/* Test-only fault injection (fault.h). */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/fault.h"

bool fcnn_fault_listed(const char *list, const char *kind)
{
    size_t len = strlen(kind);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && strncmp(p, kind, len) == 0)
            return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}

int fcnn_fault_write(const char *kind)
{
    return fcnn_fault_listed(getenv("FCNN_TEST_FAIL_WRITE"), kind) ? ENOSPC : 0;
}

void fcnn_fault_slow_write(const char *kind)
{
    if (!fcnn_fault_listed(getenv("FCNN_TEST_SLOW_WRITE"), kind))
        return;
    struct timespec second = { 1, 0 };
    while (nanosleep(&second, &second) != 0 && errno == EINTR)
        ;
}
