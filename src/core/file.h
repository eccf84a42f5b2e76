/* Files at the boundary with the operating system. Every file fcnn reads must be a
 * regular file (a FIFO named by mistake would block the run forever, a device would feed
 * it garbage); every file it writes is written to a fresh temporary file beside its
 * target (mkstemp, so a link planted at a guessable name cannot redirect the write) and
 * renamed over the target only when complete, and only when the target is missing or a
 * regular file: a device, FIFO, directory or symbolic link is never replaced. */
#ifndef FCNN_FILE_H
#define FCNN_FILE_H

#include <stdbool.h>
#include <stdio.h>

/* Opens `path` for reading (close-on-exec) after checking, without blocking, that it is a
 * regular file. On failure *out is NULL and the message names the file. */
int fcnn_file_open_read(const char *path, FILE **out);
/* The same, as a descriptor (for zlib's gzdopen). */
int fcnn_file_open_read_fd(const char *path, int *fd);

/* Whether `path` may be replaced by an atomic write: it does not exist yet, or it is a
 * regular file (not a symbolic link). `what` names the setting in the message, e.g.
 * "--save". */
int fcnn_file_check_target(const char *path, const char *what);

/* Whether `dir` is a directory a new file can be created in: a temporary file is made
 * and removed again. */
int fcnn_file_check_dir(const char *dir, const char *what);

/* An atomic write in progress. */
struct fcnn_file_writer {
    FILE *f;       /* write the contents here */
    char *path;    /* the target */
    char *temp;    /* the temporary file beside it */
    const char *what;
};

/* Checks the target, then creates its temporary file (mode 0644 less the umask). */
int fcnn_file_write_begin(struct fcnn_file_writer *w, const char *path, const char *what);
/* Flushes, syncs and closes the temporary file, checks the target again, renames the
 * temporary file over it and syncs the directory. The writer is released either way; on
 * failure the temporary file is removed and the target left as it was. */
int fcnn_file_write_commit(struct fcnn_file_writer *w);
/* Drops the temporary file (after a failed write); safe on a released writer. */
void fcnn_file_write_abort(struct fcnn_file_writer *w);

/* Writes `size` bytes to `path` atomically (begin, write, commit). */
int fcnn_file_write_all(const char *path, const char *what, const void *data, size_t size);

#endif
