/* history.csv, written atomically (a fresh temporary file renamed over the old one), so a
 * reader (or a crash) never sees half a file. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/file.h"
#include "core/quote.h"
#include "core/status.h"
#include "io/history.h"
#include "core/fault.h"

int fcnn_history_write(const char *path, const struct fcnn_epoch_stats *rows, int count)
{
    struct fcnn_file_writer w;
    int status = fcnn_file_write_begin(&w, path, "history");
    if (status != FCNN_OK)
        return status;
    fprintf(w.f, "epoch,loss,accuracy,val_loss,val_accuracy,seconds,lr\n");
    for (int i = 0; i < count; i++) {
        const struct fcnn_epoch_stats *r = &rows[i];
        fprintf(w.f, "%d,%.6f,%.6f,%.6f,%.6f,%.3f,%g\n", r->epoch, r->loss, r->accuracy,
                r->val_loss, r->val_accuracy, r->seconds, r->lr);
    }
    int failed = ferror(w.f) ? errno : 0;
    if (!failed)
        failed = fcnn_fault_write("history"); /* the tests' full disk (core/fault.h) */
    if (failed) {
        status = fcnn_error(FCNN_ERR_IO, "%s: cannot write: %s", fcnn_quote(path),
                            strerror(failed));
        fcnn_file_write_abort(&w);
        return status;
    }
    return fcnn_file_write_commit(&w);
}
