/* Reading only regular files, and atomic writes through mkstemp and rename (see file.h). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file.h"
#include "core/quote.h"
#include "core/status.h"

static const char *kind_of(mode_t mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    if (S_ISLNK(mode))
        return "a symbolic link";
    return "not a regular file";
}

int fcnn_file_open_read_fd(const char *path, int *out)
{
    *out = -1;
    /* O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return fcnn_error(FCNN_ERR_IO, "%s: %s", fcnn_quote(path), strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int saved = errno;
        close(fd);
        return fcnn_error(FCNN_ERR_IO, "%s: %s", fcnn_quote(path), strerror(saved));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return fcnn_error(FCNN_ERR_INVALID, "%s: is %s, not a regular file: refused",
                          fcnn_quote(path), kind_of(st.st_mode));
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        int saved = errno;
        close(fd);
        return fcnn_error(FCNN_ERR_IO, "%s: %s", fcnn_quote(path), strerror(saved));
    }
    *out = fd;
    return FCNN_OK;
}

int fcnn_file_open_read(const char *path, FILE **out)
{
    *out = NULL;
    int fd;
    int status = fcnn_file_open_read_fd(path, &fd);
    if (status != FCNN_OK)
        return status;
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        int saved = errno;
        close(fd);
        return fcnn_error(FCNN_ERR_NOMEM, "%s: %s", fcnn_quote(path), strerror(saved));
    }
    *out = f;
    return FCNN_OK;
}

int fcnn_file_check_target(const char *path, const char *what)
{
    if (!path || !*path)
        return fcnn_error(FCNN_ERR_INVALID, "%s: the file name is empty", what);
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT)
            return FCNN_OK;
        return fcnn_error(FCNN_ERR_IO, "%s %s: %s", what, fcnn_quote(path), strerror(errno));
    }
    if (S_ISLNK(st.st_mode))
        return fcnn_error(FCNN_ERR_INVALID, "%s %s: is a symbolic link; refusing to replace it "
                          "(name the file it points to)", what, fcnn_quote(path));
    if (!S_ISREG(st.st_mode))
        return fcnn_error(FCNN_ERR_INVALID, "%s %s: is %s; refusing to replace it with a "
                          "regular file", what, fcnn_quote(path), kind_of(st.st_mode));
    return FCNN_OK;
}

/* The directory holding `path` ("." when it has no slash). */
static char *parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

/* A temporary name beside `path`: PATH.tmp.XXXXXX, for mkstemp. */
static char *temp_template(const char *path)
{
    size_t size = strlen(path) + sizeof ".tmp.XXXXXX";
    char *temp = malloc(size);
    if (temp)
        snprintf(temp, size, "%s.tmp.XXXXXX", path);
    return temp;
}

/* mkstemp makes the file 0600; the files fcnn writes are ordinary ones others may read,
 * so they get what creat(0666) would have given under the current umask. */
static int default_mode(void)
{
    mode_t mask = umask(0);
    umask(mask);
    return 0666 & ~(int)mask;
}

int fcnn_file_check_dir(const char *dir, const char *what)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return fcnn_error(FCNN_ERR_IO, "%s %s: %s", what, fcnn_quote(dir), strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return fcnn_error(FCNN_ERR_IO, "%s %s: not a directory", what, fcnn_quote(dir));
    size_t size = strlen(dir) + sizeof "/.fcnn-write-test.XXXXXX";
    char *probe = malloc(size);
    if (!probe)
        return fcnn_error(FCNN_ERR_NOMEM, "%s: out of memory", what);
    snprintf(probe, size, "%s/.fcnn-write-test.XXXXXX", dir);
    int fd = mkstemp(probe);
    int status = FCNN_OK;
    if (fd < 0)
        status = fcnn_error(FCNN_ERR_IO, "%s %s: cannot create files there: %s", what,
                            fcnn_quote(dir), strerror(errno));
    else {
        close(fd);
        unlink(probe);
    }
    free(probe);
    return status;
}

void fcnn_file_write_abort(struct fcnn_file_writer *w)
{
    if (w->f)
        fclose(w->f);
    if (w->temp)
        unlink(w->temp);
    free(w->temp);
    free(w->path);
    *w = (struct fcnn_file_writer){ 0 };
}

int fcnn_file_write_begin(struct fcnn_file_writer *w, const char *path, const char *what)
{
    *w = (struct fcnn_file_writer){ .what = what };
    int status = fcnn_file_check_target(path, what);
    if (status != FCNN_OK)
        return status;
    w->path = strdup(path);
    char *temp = temp_template(path);
    if (!w->path || !temp) {
        free(temp);
        fcnn_file_write_abort(w);
        return fcnn_error(FCNN_ERR_NOMEM, "%s: out of memory", fcnn_quote(path));
    }
    /* mkstemp opens with O_CREAT|O_EXCL: it never follows a planted link or reuses a file. */
    int fd = mkstemp(temp);
    if (fd < 0) {
        status = fcnn_error(FCNN_ERR_IO, "%s: cannot create a temporary file beside it: %s",
                            fcnn_quote(path), strerror(errno));
        free(temp);
        fcnn_file_write_abort(w);
        return status;
    }
    w->temp = temp;
    if (fchmod(fd, (mode_t)default_mode()) != 0 || !(w->f = fdopen(fd, "wb"))) {
        status = fcnn_error(FCNN_ERR_IO, "%s: cannot open %s: %s", fcnn_quote(path),
                            fcnn_quote(temp), strerror(errno));
        close(fd);
        fcnn_file_write_abort(w);
        return status;
    }
    return FCNN_OK;
}

/* The rename is only durable once the directory entry is on disk. Some filesystems
 * cannot fsync a directory (EINVAL); the data itself is synced by then, so we accept it. */
static int sync_dir(const char *path)
{
    char *dir = parent_dir(path);
    if (!dir)
        return fcnn_error(FCNN_ERR_NOMEM, "%s: out of memory", fcnn_quote(path));
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int status = FCNN_OK;
    if (fd < 0 || (fsync(fd) != 0 && errno != EINVAL))
        status = fcnn_error(FCNN_ERR_IO, "%s: cannot sync directory %s: %s", fcnn_quote(path),
                            fcnn_quote(dir), strerror(errno));
    if (fd >= 0)
        close(fd);
    free(dir);
    return status;
}

int fcnn_file_write_commit(struct fcnn_file_writer *w)
{
    const char *step = "write";
    if (fflush(w->f) != 0 || ferror(w->f))
        goto fail;
    step = "sync";
    if (fsync(fileno(w->f)) != 0)
        goto fail;
    step = "close";
    int closed = fclose(w->f);
    w->f = NULL;
    if (closed != 0)
        goto fail;
    /* Again, right before the rename: the target may have changed since begin. */
    int status = fcnn_file_check_target(w->path, w->what);
    if (status != FCNN_OK) {
        fcnn_file_write_abort(w);
        return status;
    }
    step = "rename the temporary file over it";
    if (rename(w->temp, w->path) != 0)
        goto fail;
    free(w->temp);
    w->temp = NULL; /* renamed: nothing to remove */
    status = sync_dir(w->path);
    fcnn_file_write_abort(w);
    return status;
fail:;
    int saved = errno;
    status = fcnn_error(FCNN_ERR_IO, "%s: cannot %s: %s", fcnn_quote(w->path), step,
                        strerror(saved));
    fcnn_file_write_abort(w);
    return status;
}

int fcnn_file_write_all(const char *path, const char *what, const void *data, size_t size)
{
    struct fcnn_file_writer w;
    int status = fcnn_file_write_begin(&w, path, what);
    if (status != FCNN_OK)
        return status;
    if (size && fwrite(data, 1, size, w.f) != size) {
        status = fcnn_error(FCNN_ERR_IO, "%s: cannot write: %s", fcnn_quote(path),
                            strerror(errno));
        fcnn_file_write_abort(&w);
        return status;
    }
    return fcnn_file_write_commit(&w);
}
