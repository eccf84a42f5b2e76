/* Keras-style progress: on a terminal, a bar per epoch redrawn a few times a second;
 * elsewhere (a pipe, a file, CI) only the epoch lines, with no control characters. */
#ifndef FCNN_PROGRESS_H
#define FCNN_PROGRESS_H

#include <stdbool.h>
#include <stdio.h>

#include "train/train.h"

struct fcnn_progress {
    FILE *out;
    bool interactive; /* redraw a bar in place */
    bool quiet;       /* print nothing per epoch */
    bool mid_line;    /* a bar is drawn and its line not yet ended */
};

void fcnn_progress_init(struct fcnn_progress *p, FILE *out, bool quiet);
void fcnn_progress_epoch_begin(struct fcnn_progress *p, int epoch, int epochs);
void fcnn_progress_update(struct fcnn_progress *p, int step, int steps, double loss,
                          double accuracy, double seconds);
/* The epoch's closing line: steps, seconds, ms/step, loss, accuracy, val_loss, val_accuracy. */
void fcnn_progress_epoch_end(struct fcnn_progress *p, const struct fcnn_epoch_stats *s);

/* Ends a half-drawn bar's line, so that an error message starts on a line of its own. */
void fcnn_progress_interrupt(struct fcnn_progress *p);

#endif
