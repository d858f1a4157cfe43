/*
 * jw: a JSON writer straight into a buf, for the answers served most often. It writes the
 * bytes json_dumps(JSON_INDENT(1) | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(9)) writes for
 * the same values (tests/test_jw.c holds it to that), so an endpoint can move between the
 * two without a client seeing a difference, but builds no tree: no allocation per value.
 *
 * Values are written in order; key is the member's name inside an object and NULL inside
 * an array or at the top. Errors (the buffer's cap, nesting past JW_MAX_DEPTH) stick:
 * jw_finish reports the first.
 */
#ifndef DOPPEL_JW_H
#define DOPPEL_JW_H

#include "util/buf.h"

#include <stdint.h>

#define JW_MAX_DEPTH 32

struct jw {
    struct buf *b;
    int depth;
    uint32_t filled; /* bit d: the container at depth d has a member */
    uint32_t arrays; /* bit d: ... and is an array */
    int err;
};

void jw_init(struct jw *w, struct buf *b);

/* Opens an object ('{') or an array ('['); jw_close closes the innermost. */
void jw_open(struct jw *w, const char *key, int c);
void jw_close(struct jw *w);

/* A string (UTF-8; an invalid byte is written as U+FFFD), or null when s is NULL. */
void jw_str(struct jw *w, const char *key, const char *s);
void jw_int(struct jw *w, const char *key, long long v);

/* A number written as jansson writes reals ("%.9g", with ".0" when it would read as an
 * integer); null when v is not finite, which JSON cannot hold. */
void jw_real(struct jw *w, const char *key, double v);
void jw_bool(struct jw *w, const char *key, int v);
void jw_null(struct jw *w, const char *key);

/* Ends the document with a newline. Returns BUF_OK, or BUF_ERR_FULL when something did
 * not fit (or the nesting was wrong); the buffer then holds no valid JSON. */
int jw_finish(struct jw *w);

#endif
