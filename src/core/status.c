/* The last-error message: one line per thread, overwritten by each failure. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/status.h"

/* Large enough for an OpenCL compiler's build log, which a build failure carries. */
#define MESSAGE_SIZE 16384
static _Thread_local char last_error[MESSAGE_SIZE];

int fcnn_error(int status, const char *fmt, ...)
{
    /* Formatted aside first: a caller may pass the previous message as an argument to
     * prefix it ("FCNN_KERNEL_DIR: %s", fcnn_last_error()), and vsnprintf must not read
     * the buffer it writes. */
    char message[MESSAGE_SIZE];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    if (n < 0)
        snprintf(message, sizeof message, "(an error whose message could not be formatted)");
    else if ((size_t)n >= sizeof message) /* say that it was cut rather than cut silently */
        memcpy(message + sizeof message - sizeof " [...]", " [...]", sizeof " [...]");
    memcpy(last_error, message, sizeof last_error);
    return status;
}

const char *fcnn_last_error(void)
{
    return last_error;
}

const char *fcnn_status_name(int status)
{
    switch (status) {
    case FCNN_OK: return "ok";
    case FCNN_ERR_INVALID: return "invalid input";
    case FCNN_ERR_UNSUPPORTED: return "unsupported";
    case FCNN_ERR_NOMEM: return "out of memory";
    case FCNN_ERR_IO: return "i/o error";
    case FCNN_ERR_DEVICE: return "device error";
    case FCNN_ERR_NUMERIC: return "numeric error";
    case FCNN_ERR_NO_DEVICE: return "no device";
    case FCNN_ERR_OPTION: return "bad option";
    }
    return "unknown error";
}

int fcnn_error_one_line(int status)
{
    static _Thread_local char escaped[sizeof last_error];
    size_t used = 0;
    for (const unsigned char *c = (const unsigned char *)last_error;
         *c && used + 5 < sizeof escaped; c++) {
        if (*c >= 0x20 && *c != 0x7f)
            escaped[used++] = (char)*c;
        else if (*c == '\n' || *c == '\t' || *c == '\r')
            used += (size_t)snprintf(escaped + used, 3, "\\%c",
                                     *c == '\n' ? 'n' : *c == '\t' ? 't' : 'r');
        else
            used += (size_t)snprintf(escaped + used, 5, "\\x%02x", *c);
    }
    escaped[used] = '\0';
    return fcnn_error(status, "%s", escaped);
}
