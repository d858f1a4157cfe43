/*
 * log: the process-wide log level is configuration, set once from the command line
 * before threads start; it is the only global in the logger besides the terminal state.
 */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level log_level = LOG_INFO;
static int log_bar_active;

static const char *const log_names[] = {"error", "warning", "info", "debug"};

void log_set_level(enum log_level level)
{
    log_level = level;
}

enum log_level log_get_level(void)
{
    return log_level;
}

int log_parse_level(const char *s, enum log_level *level)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};

    for (int i = 0; i < 4; i++) {
        if (strcmp(s, names[i]) == 0) {
            *level = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

void log_set_bar_active(int active)
{
    log_bar_active = active;
}

/* Writes "2026-11-23T15:40:01Z " into out when stderr is not a terminal, else "". */
static void log_stamp(char *out, size_t n)
{
    time_t t;
    struct tm tm;

    out[0] = '\0';
    if (isatty(STDERR_FILENO))
        return;
    t = time(NULL);
    if (gmtime_r(&t, &tm) != NULL)
        strftime(out, n, "%Y-%m-%dT%H:%M:%SZ ", &tm);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    char text[2048], stamp[32];
    va_list ap;

    if (level > log_level)
        return;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    log_stamp(stamp, sizeof stamp);
    if (level == LOG_INFO)
        fprintf(stderr, "%s%sdoppel: %s\n", log_bar_active ? "\r\033[K" : "", stamp, text);
    else
        fprintf(stderr, "%s%sdoppel: %s: %s\n", log_bar_active ? "\r\033[K" : "", stamp,
                log_names[level], text);
}
