/* The output directory's lock (dirlock.h). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/status.h"
#include "io/dirlock.h"

int fcnn_dir_lock(const char *dir, int *fd)
{
    *fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (*fd < 0)
        return fcnn_error(FCNN_ERR_IO, "%s: cannot open the output directory: %s", dir,
                          strerror(errno));
    if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
        return FCNN_OK;
    int saved = errno;
    close(*fd);
    *fd = -1;
    if (saved == EWOULDBLOCK)
        return fcnn_error(FCNN_ERR_IO, "%s: another fcnn run is writing into this directory; "
                          "wait for it to finish or give this run its own --out", dir);
    return fcnn_error(FCNN_ERR_IO, "%s: cannot lock the output directory: %s", dir,
                      strerror(saved));
}

void fcnn_dir_unlock(int fd)
{
    if (fd >= 0)
        close(fd);
}
