/*
 * jw: JSON written as it is produced. The layout is jansson's with an indent of one: a
 * container's members each on a line of their own, indented one space a level, ", " never
 * used, ": " after a key, empty containers as "{}" and "[]".
 */
#include "util/jw.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <utf8proc.h>

static void put(struct jw *w, const void *p, size_t n)
{
    if (w->err == BUF_OK && buf_append(w->b, p, n) != BUF_OK)
        w->err = BUF_ERR_FULL;
}

/* A new line indented to depth d. */
static void newline(struct jw *w, int d)
{
    char sp[1 + JW_MAX_DEPTH];

    sp[0] = '\n';
    memset(sp + 1, ' ', (size_t)d);
    put(w, sp, (size_t)d + 1);
}

/* \uXXXX for a code point of the Basic Multilingual Plane. */
static void escape16(struct jw *w, unsigned u)
{
    static const char hex[] = "0123456789ABCDEF";
    char e[6] = {'\\', 'u', hex[u >> 12 & 15], hex[u >> 8 & 15], hex[u >> 4 & 15], hex[u & 15]};

    put(w, e, sizeof e);
}

static void string(struct jw *w, const char *s)
{
    const uint8_t *p = (const uint8_t *)s, *run = p;

    put(w, "\"", 1);
    while (*p != '\0') {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n;

        if (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') {
            p++;
            continue;
        }
        put(w, run, (size_t)(p - run));
        if (*p < 0x80) {
            static const char shorts[] = "\"\"\\\\\bb\ff\nn\rr\tt";
            const char *c = memchr(shorts, *p, sizeof shorts - 1);

            if (c != NULL && (c - shorts) % 2 == 0)
                put(w, (char[2]){'\\', c[1]}, 2);
            else
                escape16(w, *p);
            p++;
        } else {
            n = utf8proc_iterate(p, -1, &cp);
            if (n < 1) { /* not UTF-8: the replacement character, for one byte */
                cp = 0xFFFD;
                n = 1;
            }
            if (cp < 0x10000) {
                escape16(w, (unsigned)cp);
            } else {
                escape16(w, 0xD800 | (unsigned)(cp - 0x10000) >> 10);
                escape16(w, 0xDC00 | ((unsigned)(cp - 0x10000) & 0x3FF));
            }
            p += n;
        }
        run = p;
    }
    put(w, run, (size_t)(p - run));
    put(w, "\"", 1);
}

/* What comes before a value: the separator from the member before, the value's line, its
 * key. */
static void member(struct jw *w, const char *key)
{
    if (w->depth > 0) {
        uint32_t bit = 1u << (w->depth - 1);

        if (w->filled & bit)
            put(w, ",", 1);
        w->filled |= bit;
        newline(w, w->depth);
    }
    if (key != NULL) {
        string(w, key);
        put(w, ": ", 2);
    }
}

void jw_init(struct jw *w, struct buf *b)
{
    w->b = b;
    w->depth = 0;
    w->filled = 0;
    w->arrays = 0;
    w->err = BUF_OK;
}

void jw_open(struct jw *w, const char *key, int c)
{
    member(w, key);
    put(w, c == '[' ? "[" : "{", 1);
    if (w->depth == JW_MAX_DEPTH) {
        w->err = BUF_ERR_FULL;
        return;
    }
    w->filled &= ~(1u << w->depth);
    w->arrays = (w->arrays & ~(1u << w->depth)) | (uint32_t)(c == '[') << w->depth;
    w->depth++;
}

void jw_close(struct jw *w)
{
    uint32_t bit;

    if (w->depth == 0) {
        w->err = BUF_ERR_FULL;
        return;
    }
    bit = 1u << --w->depth;
    if (w->filled & bit)
        newline(w, w->depth);
    put(w, w->arrays & bit ? "]" : "}", 1);
}

void jw_str(struct jw *w, const char *key, const char *s)
{
    member(w, key);
    if (s != NULL)
        string(w, s);
    else
        put(w, "null", 4);
}

void jw_int(struct jw *w, const char *key, long long v)
{
    char d[24], *p = d + sizeof d;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;

    do
        *--p = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0)
        *--p = '-';
    member(w, key);
    put(w, p, (size_t)(d + sizeof d - p));
}

void jw_real(struct jw *w, const char *key, double v)
{
    char d[40], *e;
    int n;

    if (!isfinite(v)) {
        jw_null(w, key);
        return;
    }
    n = snprintf(d, sizeof d - 2, "%.9g", v);
    e = strchr(d, 'e');
    if (e == NULL && strchr(d, '.') == NULL) { /* else it would read back as an integer */
        memcpy(d + n, ".0", 3);
        n += 2;
    } else if (e != NULL) { /* "1e+20" as 1e20, "1e-05" as 1e-5 */
        char *from = e + 1, *to = e + 1;

        if (*from == '-')
            from = ++to;
        else if (*from == '+')
            from++;
        while (*from == '0' && from[1] != '\0')
            from++;
        memmove(to, from, strlen(from) + 1);
        n = (int)strlen(d);
    }
    member(w, key);
    put(w, d, (size_t)n);
}

void jw_bool(struct jw *w, const char *key, int v)
{
    member(w, key);
    put(w, v ? "true" : "false", v ? 4 : 5);
}

void jw_null(struct jw *w, const char *key)
{
    member(w, key);
    put(w, "null", 4);
}

int jw_finish(struct jw *w)
{
    if (w->depth != 0)
        w->err = BUF_ERR_FULL;
    put(w, "\n", 1);
    return w->err;
}
