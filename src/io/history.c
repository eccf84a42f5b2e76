/* history.csv, written to a temporary file and renamed over the old one, so a reader
 * (or a crash) never sees half a file. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "io/history.h"
#include "core/status.h"
#include "core/fault.h"

int fcnn_history_write(const char *path, const struct fcnn_epoch_stats *rows, int count)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return fcnn_error(FCNN_ERR_IO, "%s: path too long", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return fcnn_error(FCNN_ERR_IO, "%s: cannot write: %s", tmp, strerror(errno));
    fprintf(f, "epoch,loss,accuracy,val_loss,val_accuracy,seconds,lr\n");
    for (int i = 0; i < count; i++) {
        const struct fcnn_epoch_stats *r = &rows[i];
        fprintf(f, "%d,%.6f,%.6f,%.6f,%.6f,%.3f,%g\n", r->epoch, r->loss, r->accuracy,
                r->val_loss, r->val_accuracy, r->seconds, r->lr);
    }
    int failed = ferror(f) ? errno : 0;
    if (!failed)
        failed = fcnn_fault_write("history"); /* the tests' full disk (core/fault.h) */
    if (fclose(f) != 0 && !failed)
        failed = errno;
    if (failed) {
        remove(tmp);
        return fcnn_error(FCNN_ERR_IO, "%s: cannot write: %s", path, strerror(failed));
    }
    if (rename(tmp, path) != 0) {
        int saved = errno;
        remove(tmp);
        return fcnn_error(FCNN_ERR_IO, "%s: cannot replace: %s", path, strerror(saved));
    }
    return FCNN_OK;
}
