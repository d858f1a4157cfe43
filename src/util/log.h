/*
 * log: levelled messages to stderr. One line per message, written with a single stdio
 * call so lines from worker threads never interleave. When stderr is not a terminal
 * (services, CI, days-long crawls) each line starts with a UTC timestamp.
 */
#ifndef DOPPEL_LOG_H
#define DOPPEL_LOG_H

enum log_level {
    LOG_ERROR = 0,
    LOG_WARN,
    LOG_INFO,
    LOG_DEBUG,
};

/* Sets the most verbose level printed (default LOG_INFO). */
void log_set_level(enum log_level level);

/* Returns the current level. */
enum log_level log_get_level(void);

/* Parses "error", "warn", "info" or "debug"; returns 0 and sets *level, or -1. */
int log_parse_level(const char *s, enum log_level *level);

/* Prints one message at the given level (no trailing newline needed). */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Tells the logger a progress bar occupies the current terminal line (1) or not (0),
 * so the next message clears it first. */
void log_set_bar_active(int active);

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
