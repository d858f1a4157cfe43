/*
 * err: formatting into the caller's error buffer. Messages are short sentences with no
 * trailing period or newline, so callers can prefix context ("photo.jpg: ...").
 */
#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void err_set(struct err *e, const char *fmt, ...)
{
    va_list ap;

    if (e == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
}

void err_prefix(struct err *e, const char *fmt, ...)
{
    char head[ERR_MSG_MAX];
    size_t hl, ol, room;
    va_list ap;

    if (e == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head - 2, fmt, ap);
    va_end(ap);
    hl = strlen(head);
    memcpy(head + hl, ": ", 3);
    hl += 2;
    ol = strnlen(e->msg, sizeof e->msg - 1);
    room = sizeof e->msg - 1 - hl;
    if (ol > room)
        ol = room;
    memmove(e->msg + hl, e->msg, ol);
    memcpy(e->msg, head, hl);
    e->msg[hl + ol] = '\0';
}

void err_clear(struct err *e)
{
    if (e != NULL)
        e->msg[0] = '\0';
}
