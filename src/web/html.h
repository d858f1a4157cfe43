/*
 * html: the template writer. Pages are written with html_fmt, whose %s escapes its
 * argument for HTML text and attribute values (& < > " '), so a dynamic value cannot be
 * written unescaped by accident; the only unescaped insertion is %R, for HTML this
 * program wrote itself.
 */
#ifndef DOPPEL_WEB_HTML_H
#define DOPPEL_WEB_HTML_H

#include "util/buf.h"

/* Appends fmt to b with these conversions:
 *   %s  a string, HTML-escaped           %u  a string, URL-encoded (for a query value)
 *   %R  a string, raw (trusted HTML)     %d  an int
 *   %L  an int64_t                       %.Nf  a double with N (0-9) decimals
 *   %%  a percent sign
 * Returns BUF_OK or BUF_ERR_FULL. An unknown conversion is a programmer error (aborts). */
int html_fmt(struct buf *b, const char *fmt, ...);

/* Appends s URL-encoded (unreserved characters kept, everything else %XX). */
int html_put_url(struct buf *b, const char *s);

#endif
