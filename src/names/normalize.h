/*
 * normalize: the comparable form of a person's name, used for every name lookup.
 *
 * "Penélope Cruz", "PENELOPE  CRUZ" and "penelope-cruz" all become "penelope cruz":
 * compatibility decomposition (ligatures, full-width forms), case folding and accent
 * stripping by utf8proc, then every run of characters that are not letters or digits
 * becomes one space, trimmed at both ends. The display name is kept separately and never
 * changed. Letters of every script are kept, so non-Latin names stay searchable.
 */
#ifndef DOPPEL_NORMALIZE_H
#define DOPPEL_NORMALIZE_H

#include "util/buf.h"

#include <stddef.h>
#include <stdint.h>

enum norm_rc {
    NORM_OK = 0,
    NORM_ERR_UTF8,     /* the input is not valid UTF-8 */
    NORM_ERR_TOO_LONG, /* the input is longer than the caller's cap */
};

/* Appends the normalised form of s (n bytes) to out. Returns a norm_rc; out is unchanged
 * on error. Inputs longer than max_bytes (0 = no cap) are refused. */
int norm_name(const char *s, size_t n, size_t max_bytes, struct buf *out);

/* Decodes valid UTF-8 s (n bytes) into at most cap code points in cps; returns the count
 * (the string is cut at cap). */
size_t norm_codepoints(const char *s, size_t n, uint32_t *cps, size_t cap);

#endif
