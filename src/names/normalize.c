/*
 * normalize: one utf8proc_map call (NFKC-style compatibility composition, case fold,
 * mark stripping, default-ignorable removal), then a pass that keeps letters and digits
 * and turns everything else into single spaces.
 */
#include "names/normalize.h"

#include <stdlib.h>
#include <utf8proc.h>

static int is_name_char(utf8proc_int32_t cp)
{
    utf8proc_category_t c = utf8proc_category(cp);

    return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) ||
           (c >= UTF8PROC_CATEGORY_ND && c <= UTF8PROC_CATEGORY_NO);
}

int norm_name(const char *s, size_t n, size_t max_bytes, struct buf *out)
{
    utf8proc_uint8_t *mapped = NULL;
    utf8proc_ssize_t len, i = 0;
    size_t start = out->len;
    int pending_space = 0, rc = NORM_OK;

    if (max_bytes > 0 && n > max_bytes)
        return NORM_ERR_TOO_LONG;
    len = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &mapped,
                       UTF8PROC_COMPAT | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD |
                           UTF8PROC_STRIPMARK | UTF8PROC_IGNORE);
    if (len < 0)
        return NORM_ERR_UTF8;
    while (i < len) {
        utf8proc_int32_t cp;
        utf8proc_uint8_t enc[4];
        utf8proc_ssize_t k = utf8proc_iterate(mapped + i, len - i, &cp);

        if (k <= 0) {
            rc = NORM_ERR_UTF8;
            break;
        }
        i += k;
        if (!is_name_char(cp)) {
            pending_space = out->len > start;
            continue;
        }
        if ((pending_space && buf_putc(out, ' ') != BUF_OK) ||
            buf_append(out, enc, (size_t)utf8proc_encode_char(cp, enc)) != BUF_OK) {
            rc = NORM_ERR_TOO_LONG;
            break;
        }
        pending_space = 0;
    }
    free(mapped);
    if (rc != NORM_OK) {
        out->len = start;
        if (out->data != NULL)
            out->data[start] = '\0';
    }
    return rc;
}

size_t norm_codepoints(const char *s, size_t n, uint32_t *cps, size_t cap)
{
    size_t count = 0, i = 0;

    while (i < n && count < cap) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k;

        if ((unsigned char)s[i] < 0x80) { /* most names are ASCII once normalised */
            cps[count++] = (unsigned char)s[i++];
            continue;
        }
        k = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &cp);

        if (k <= 0)
            break;
        cps[count++] = (uint32_t)cp;
        i += (size_t)k;
    }
    return count;
}
