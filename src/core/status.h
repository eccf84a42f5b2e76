/* Status codes and the last-error message.
 *
 * Library code never prints and never exits: it returns a status and records one
 * human-readable line with fcnn_error(); the CLI decides what to print and how to exit. */
#ifndef FCNN_STATUS_H
#define FCNN_STATUS_H

enum fcnn_status {
    FCNN_OK = 0,
    FCNN_ERR_INVALID,     /* bad argument or malformed input (a file, a shape, an option) */
    FCNN_ERR_UNSUPPORTED, /* the backend has no implementation for this op or shape */
    FCNN_ERR_NOMEM,       /* an allocation failed */
    FCNN_ERR_IO,          /* a file could not be read or written */
    FCNN_ERR_DEVICE,      /* the compute device or its runtime failed */
    FCNN_ERR_NUMERIC,     /* training diverged: a NaN or infinite loss */
    FCNN_ERR_NO_DEVICE,   /* no device of the backend's kind exists here at all (no
                           * platform, no driver): the only failure an automatic backend
                           * choice may fall back from */
    FCNN_ERR_OPTION,      /* a command-line option's value turned out unusable once it
                           * was applied (the CLI exits 2, as for any usage mistake) */
};

/* Records the message for the current thread and returns `status`, so callers can write
 * `return fcnn_error(FCNN_ERR_IO, "%s: %s", path, strerror(errno));`. The previous message
 * may be an argument (to prefix it); a message longer than the buffer ends in " [...]". */
int fcnn_error(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The message recorded by the last failing call on this thread ("" if none). */
const char *fcnn_last_error(void);

/* Rewrites the recorded message on one line: every control character in it becomes a
 * visible escape (\n, \t, \xNN). For messages that quote what a file holds (a tensor
 * name, a parser's excerpt), which may hold anything. Returns `status`. */
int fcnn_error_one_line(int status);

/* A short name for a status code, for messages that have nothing better. */
const char *fcnn_status_name(int status);

#endif
