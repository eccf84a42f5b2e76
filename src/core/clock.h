/* Wall-clock seconds on a monotonic clock, for timings and progress. */
#ifndef FCNN_CLOCK_H
#define FCNN_CLOCK_H

double fcnn_now(void);

#endif
