/*
 * buf: growable NUL-terminated byte buffer with a size cap. Growth doubles capacity so
 * n appends cost O(n) amortised; the cap is checked before any allocation.
 */
#include "util/buf.h"

#include "util/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max ? max : BUF_MAX_DEFAULT;
}

void buf_release(struct buf *b)
{
    if (b == NULL)
        return;
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

/* Makes room for n more bytes plus the terminator; the cap was checked by the caller. */
static void buf_grow(struct buf *b, size_t n)
{
    size_t need = b->len + n + 1, cap = b->cap ? b->cap : 64;

    if (need <= b->cap)
        return;
    while (cap < need)
        cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
    if (n > b->max - b->len)
        return BUF_ERR_FULL;
    buf_grow(b, n);
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return BUF_OK;
}

int buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_putc(struct buf *b, int c)
{
    char ch = (char)c;

    return buf_append(b, &ch, 1);
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return BUF_ERR_FULL;
    if ((size_t)n > b->max - b->len)
        return BUF_ERR_FULL;
    buf_grow(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return BUF_OK;
}

static const char *html_entity(char c)
{
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    case '\'':
        return "&#39;";
    default:
        return NULL;
    }
}

int buf_put_html(struct buf *b, const char *s)
{
    size_t start = b->len;
    const char *run = s;

    for (; *s != '\0'; s++) {
        const char *ent = html_entity(*s);

        if (ent == NULL)
            continue;
        if (buf_append(b, run, (size_t)(s - run)) != BUF_OK || buf_puts(b, ent) != BUF_OK)
            goto full;
        run = s + 1;
    }
    if (buf_append(b, run, (size_t)(s - run)) != BUF_OK)
        goto full;
    return BUF_OK;
full:
    b->len = start;
    if (b->data != NULL)
        b->data[start] = '\0';
    return BUF_ERR_FULL;
}

const char *buf_str(const struct buf *b)
{
    return b->data != NULL ? b->data : "";
}

char *buf_detach(struct buf *b, size_t *len)
{
    char *p = b->data != NULL ? b->data : xstrdup("");

    if (len != NULL)
        *len = b->len;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}
