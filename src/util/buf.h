/*
 * buf: the one growable byte buffer, used for HTML, JSON, HTTP bodies and paths.
 *
 * Invariants: len <= max; when data != NULL, data[len] == '\0' and len < cap. An empty
 * buffer that was never written has data == NULL and reads as "" through buf_str().
 * Every append checks the size cap first, so a hostile input can fill a buffer to its
 * cap and no further; appends past the cap change nothing and return BUF_ERR_FULL.
 */
#ifndef DOPPEL_BUF_H
#define DOPPEL_BUF_H

#include <stddef.h>

enum buf_rc {
    BUF_OK = 0,
    BUF_ERR_FULL, /* the append would pass the buffer's size cap */
};

#define BUF_MAX_DEFAULT ((size_t)64 << 20)

struct buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max;
};

/* Prepares an empty buffer holding at most max bytes (0 = BUF_MAX_DEFAULT). */
void buf_init(struct buf *b, size_t max);

/* Frees the buffer's memory and leaves it empty; b may be NULL. */
void buf_release(struct buf *b);

/* Empties the buffer, keeping its memory. */
void buf_reset(struct buf *b);

/* Appends n bytes of p. Returns BUF_OK or BUF_ERR_FULL (buffer unchanged). */
int buf_append(struct buf *b, const void *p, size_t n);

/* Appends a NUL-terminated string. */
int buf_puts(struct buf *b, const char *s);

/* Appends one byte. */
int buf_putc(struct buf *b, int c);

/* Appends printf-formatted text. */
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends s with HTML's special characters (& < > " ') escaped. */
int buf_put_html(struct buf *b, const char *s);

/* Returns the contents as a string, "" when empty; borrowed until the next append. */
const char *buf_str(const struct buf *b);

/* Hands the contents to the caller (free with free()) and empties b; never NULL. */
char *buf_detach(struct buf *b, size_t *len);

#endif
