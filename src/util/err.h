/*
 * err: the caller-supplied error buffer every fallible doppel function fills.
 *
 * Functions return an int result code from their module's enum (0 = ok) and, on
 * failure, write a human-readable sentence into a struct err owned by the caller.
 * There is no global error state, so threads never see each other's errors.
 */
#ifndef DOPPEL_ERR_H
#define DOPPEL_ERR_H

#define ERR_MSG_MAX 512

struct err {
    char msg[ERR_MSG_MAX];
};

/* Formats a message into e (truncated to ERR_MSG_MAX); e may be NULL. */
void err_set(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prepends "prefix: " to the message already in e; e may be NULL. */
void err_prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Empties e; e may be NULL. */
void err_clear(struct err *e);

#endif
