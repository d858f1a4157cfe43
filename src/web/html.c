/*
 * html: the escaping template writer (see html.h). A tiny printf of its own so that the
 * default for a string is escaped; numbers go through snprintf with literal formats.
 */
#include "web/html.h"

#include <assert.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int html_put_url(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = BUF_OK;

    for (const unsigned char *p = (const unsigned char *)s; *p && rc == BUF_OK; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            rc = buf_putc(b, *p);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};

            rc = buf_append(b, e, 3);
        }
    }
    return rc;
}

/* Writes one conversion at *pp (just after '%'); advances *pp. */
static int put_conv(struct buf *b, const char **pp, va_list *ap)
{
    const char *p = *pp;
    char tmp[64];
    int prec = 1;

    if (*p == '.' && p[1] >= '0' && p[1] <= '9' && p[2] == 'f') {
        prec = p[1] - '0';
        p += 2;
    }
    *pp = p + 1;
    switch (*p) {
    case 's':
        return buf_put_html(b, va_arg(*ap, const char *));
    case 'u':
        return html_put_url(b, va_arg(*ap, const char *));
    case 'R':
        return buf_puts(b, va_arg(*ap, const char *));
    case 'd':
        snprintf(tmp, sizeof tmp, "%d", va_arg(*ap, int));
        return buf_puts(b, tmp);
    case 'L':
        snprintf(tmp, sizeof tmp, "%lld", (long long)va_arg(*ap, int64_t));
        return buf_puts(b, tmp);
    case 'f':
        snprintf(tmp, sizeof tmp, "%.*f", prec, va_arg(*ap, double));
        return buf_puts(b, tmp);
    case '%':
        return buf_putc(b, '%');
    default:
        assert(!"html_fmt: unknown conversion");
        abort();
    }
}

int html_fmt(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int rc = BUF_OK;

    va_start(ap, fmt);
    while (*fmt && rc == BUF_OK) {
        const char *pct = strchr(fmt, '%');
        size_t n = pct ? (size_t)(pct - fmt) : strlen(fmt);

        rc = buf_append(b, fmt, n);
        fmt += n;
        if (pct != NULL && rc == BUF_OK) {
            fmt++;
            rc = put_conv(b, &fmt, &ap);
        }
    }
    va_end(ap);
    return rc;
}
