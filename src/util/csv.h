/*
 * csv: a reader for delimited text as RFC 4180 writes it (comma, semicolon or tab), for
 * the files people hand to doppel: photo manifests and title lists with a cast column.
 *
 * The whole text is in memory (the caller read it with a size cap). Records are read
 * one at a time into a buffer the reader reuses, unquoted ("" becomes ") and
 * NUL-terminated, so each field is a plain C string. Quoted fields may hold delimiters
 * and line breaks; lines end in LF or CRLF; blank lines are skipped; a UTF-8 byte-order
 * mark at the start is skipped. The text is untrusted: a record over CSV_RECORD_MAX
 * bytes or CSV_FIELDS_MAX fields, or a quote still open at the end, is an error naming
 * the line, never an overrun.
 */
#ifndef DOPPEL_CSV_H
#define DOPPEL_CSV_H

#include "util/buf.h"
#include "util/err.h"

#include <stddef.h>

enum csv_rc {
    CSV_OK = 0,
    CSV_DONE,        /* no more records (not an error) */
    CSV_ERR_QUOTE,   /* a quoted field is still open at the end of the text */
    CSV_ERR_TOO_BIG, /* a record with too many bytes or fields */
};

#define CSV_FIELDS_MAX 256
#define CSV_RECORD_MAX ((size_t)1 << 20)

struct csv {
    const char *p; /* next unread byte */
    const char *end;
    char delim;
    long line;      /* line on which the last record started, 1-based */
    long next_line; /* line of p */
    struct buf rec; /* the last record's fields, each NUL-terminated */
    size_t nfields;
    size_t off[CSV_FIELDS_MAX]; /* where each field starts in rec */
};

/* Prepares to read text (n bytes, borrowed until csv_release) split at delim; delim 0
 * picks the delimiter of the first line (csv_sniff). */
void csv_init(struct csv *c, const char *text, size_t n, char delim);

/* Frees the record buffer; c may be NULL. */
void csv_release(struct csv *c);

/* Reads the next record. Returns CSV_OK, CSV_DONE at the end, or an error with e naming
 * the line. */
int csv_next(struct csv *c, struct err *e);

/* Returns the number of fields of the last record. */
size_t csv_count(const struct csv *c);

/* Returns field i of the last record, "" when there is none; borrowed until the next
 * csv_next. */
const char *csv_field(const struct csv *c, size_t i);

/* Returns the index of the first field of the last record equal to one of names
 * (NULL-terminated list, ASCII case ignored, surrounding blanks ignored), or -1. */
int csv_find(const struct csv *c, const char *const *names);

/* Returns the delimiter of the first line of text: whichever of ',', ';' and tab appears
 * most often outside quotes; ',' when none does. */
char csv_sniff(const char *text, size_t n);

#endif
