/*
 * progress: a progress report for long-running work (imports, crawls, index builds).
 *
 * On a terminal it redraws one line (bar, count, rate, ETA) at most ten times a second;
 * elsewhere it prints a plain line every interval seconds (default 10), so logs of
 * services and CI runs stay readable. Worker threads may call progress_add at once.
 */
#ifndef DOPPEL_PROGRESS_H
#define DOPPEL_PROGRESS_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

struct progress {
    char label[64];
    uint64_t total; /* 0 when unknown */
    uint64_t done;
    double start;
    double last_draw;
    double interval; /* seconds between plain lines */
    FILE *out;
    int tty;
    pthread_mutex_t lock;
};

/* Starts a report on stderr; total 0 means unknown. Release with progress_finish. */
void progress_init(struct progress *p, const char *label, uint64_t total);

/* Like progress_init but writing to out, drawn as a terminal bar when tty != 0. */
void progress_init_on(struct progress *p, const char *label, uint64_t total, FILE *out, int tty);

/* Counts n more items done and redraws if due. Thread-safe. */
void progress_add(struct progress *p, uint64_t n);

/* Prints the final line ("label: N done in T s, R/s") and releases p. */
void progress_finish(struct progress *p);

/* Formats the state at time now (seconds, as clock_now) into out; for tests and drawing. */
void progress_format(const struct progress *p, double now, char *out, size_t n);

#endif
