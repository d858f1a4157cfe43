/*
 * progress: rate is items over elapsed time since start (steady enough for the uniform
 * work doppel does); ETA is the remaining items over that rate. Formatting is a pure
 * function of the state and the time so tests can check it without a terminal.
 */
#include "util/progress.h"

#include "util/clock.h"
#include "util/log.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PROGRESS_BAR_WIDTH 24

void progress_init_on(struct progress *p, const char *label, uint64_t total, FILE *out, int tty)
{
    snprintf(p->label, sizeof p->label, "%s", label);
    p->total = total;
    p->done = 0;
    p->start = clock_now();
    p->last_draw = p->start;
    p->interval = 10.0;
    p->out = out;
    p->tty = tty;
    pthread_mutex_init(&p->lock, NULL);
}

void progress_init(struct progress *p, const char *label, uint64_t total)
{
    progress_init_on(p, label, total, stderr, isatty(STDERR_FILENO));
}

/* Writes a duration as H:MM:SS or M:SS. */
static void format_duration(double s, char *out, size_t n)
{
    unsigned long t = s > 0 && s < 1e9 ? (unsigned long)(s + 0.5) : 0;

    if (t >= 3600)
        snprintf(out, n, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(out, n, "%lu:%02lu", t / 60, t % 60);
}

static void format_bar(const struct progress *p, char *out)
{
    size_t fill = p->total ? (size_t)(PROGRESS_BAR_WIDTH * p->done / p->total) : 0;

    if (fill > PROGRESS_BAR_WIDTH)
        fill = PROGRESS_BAR_WIDTH;
    out[0] = '[';
    memset(out + 1, '#', fill);
    memset(out + 1 + fill, '.', PROGRESS_BAR_WIDTH - fill);
    out[PROGRESS_BAR_WIDTH + 1] = ']';
    out[PROGRESS_BAR_WIDTH + 2] = '\0';
}

void progress_format(const struct progress *p, double now, char *out, size_t n)
{
    double elapsed = now - p->start, rate = elapsed > 0 ? (double)p->done / elapsed : 0;
    char bar[PROGRESS_BAR_WIDTH + 3], eta[32];

    if (p->total == 0) {
        snprintf(out, n, "%s: %llu, %.1f/s", p->label, (unsigned long long)p->done, rate);
        return;
    }
    if (rate > 0 && p->done <= p->total)
        format_duration((double)(p->total - p->done) / rate, eta, sizeof eta);
    else
        snprintf(eta, sizeof eta, "?");
    format_bar(p, bar);
    snprintf(out, n, "%s:%s%s %llu/%llu %.1f%%, %.1f/s, ETA %s", p->label, p->tty ? " " : "",
             p->tty ? bar : "",
             (unsigned long long)p->done, (unsigned long long)p->total,
             100.0 * (double)p->done / (double)p->total, rate, eta);
}

/* Draws the current state; the caller holds the lock. */
static void progress_draw(struct progress *p, double now)
{
    char line[256];

    progress_format(p, now, line, sizeof line);
    if (p->tty) {
        fprintf(p->out, "\r\033[K%s", line);
        log_set_bar_active(1);
    } else {
        fprintf(p->out, "%s\n", line);
    }
    fflush(p->out);
    p->last_draw = now;
}

void progress_add(struct progress *p, uint64_t n)
{
    double now;

    pthread_mutex_lock(&p->lock);
    p->done += n;
    now = clock_now();
    if (now - p->last_draw >= (p->tty ? 0.1 : p->interval))
        progress_draw(p, now);
    pthread_mutex_unlock(&p->lock);
}

void progress_finish(struct progress *p)
{
    double elapsed = clock_now() - p->start;
    char took[32];

    format_duration(elapsed, took, sizeof took);
    fprintf(p->out, "%s%s: %llu done in %s (%.1f s), %.1f/s\n", p->tty ? "\r\033[K" : "",
            p->label, (unsigned long long)p->done, took, elapsed,
            elapsed > 0 ? (double)p->done / elapsed : 0.0);
    fflush(p->out);
    if (p->tty)
        log_set_bar_active(0);
    pthread_mutex_destroy(&p->lock);
}
