/* history.csv: one row per completed epoch, rewritten whole after every epoch. */
#ifndef FCNN_HISTORY_H
#define FCNN_HISTORY_H

#include "train/train.h"

int fcnn_history_write(const char *path, const struct fcnn_epoch_stats *rows, int count);

#endif
