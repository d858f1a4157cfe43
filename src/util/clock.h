/*
 * clock: monotonic time for rates, timeouts and benchmarks.
 */
#ifndef DOPPEL_CLOCK_H
#define DOPPEL_CLOCK_H

/* Returns seconds from an arbitrary fixed point, monotonic, nanosecond resolution. */
double clock_now(void);

#endif
