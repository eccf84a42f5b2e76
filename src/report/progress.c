/* Progress display. The bar is redrawn with a carriage return and "erase to end of line",
 * so a shorter redraw never leaves stale characters behind. */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/progress.h"

#define BAR_WIDTH 30

void fcnn_progress_init(struct fcnn_progress *p, FILE *out, bool quiet)
{
    const char *term = getenv("TERM");
    p->out = out;
    p->quiet = quiet;
    p->interactive = !quiet && isatty(fileno(out)) && !(term && strcmp(term, "dumb") == 0);
}

void fcnn_progress_epoch_begin(struct fcnn_progress *p, int epoch, int epochs)
{
    if (p->quiet)
        return;
    fprintf(p->out, "Epoch %d/%d\n", epoch, epochs);
    fflush(p->out);
}

/* "1200/1875 [==================>...........]" */
static void print_bar(FILE *out, int step, int steps)
{
    int width = (int)((long long)BAR_WIDTH * step / steps);
    int digits = snprintf(NULL, 0, "%d", steps);
    fprintf(out, "%*d/%d [", digits, step, steps);
    for (int i = 0; i < BAR_WIDTH; i++)
        fputc(i < width - 1 || (i == width - 1 && step == steps) ? '=' : i == width - 1 ? '>' : '.',
              out);
    fputc(']', out);
}

void fcnn_progress_update(struct fcnn_progress *p, int step, int steps, double loss,
                          double accuracy, double seconds)
{
    if (!p->interactive || step >= steps)
        return; /* the closing line reports the finished epoch */
    double eta = step > 0 ? seconds / step * (steps - step) : 0;
    fputc('\r', p->out);
    print_bar(p->out, step, steps);
    fprintf(p->out, " - ETA: %.0fs - loss: %.4f - accuracy: %.4f\033[K", eta, loss, accuracy);
    fflush(p->out);
    p->mid_line = true;
}

void fcnn_progress_epoch_end(struct fcnn_progress *p, const struct fcnn_epoch_stats *s)
{
    if (p->quiet)
        return;
    if (p->interactive)
        fputc('\r', p->out);
    print_bar(p->out, s->steps, s->steps);
    fprintf(p->out, " - %.0fs %.0fms/step - loss: %.4f - accuracy: %.4f - val_loss: %.4f - "
            "val_accuracy: %.4f%s\n", s->seconds, s->seconds * 1000.0 / s->steps, s->loss,
            s->accuracy, s->val_loss, s->val_accuracy, p->interactive ? "\033[K" : "");
    fflush(p->out);
    p->mid_line = false;
}

void fcnn_progress_interrupt(struct fcnn_progress *p)
{
    if (p->mid_line) {
        fputc('\n', p->out);
        fflush(p->out);
        p->mid_line = false;
    }
}
