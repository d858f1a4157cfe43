/*
 * csv: one pass over the text per record. Unquoted runs are copied in one append up to
 * the next delimiter or line end; quoted fields are copied run by run between quotes.
 * Anything after a closing quote up to the delimiter is kept (lenient, as spreadsheet
 * programs are), and a quote inside an unquoted field is an ordinary character.
 */
#include "util/csv.h"

#include <string.h>
#include <strings.h>

void csv_init(struct csv *c, const char *text, size_t n, char delim)
{
    c->p = text;
    c->end = text + n;
    if (n >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        c->p += 3;
    c->delim = delim ? delim : csv_sniff(c->p, (size_t)(c->end - c->p));
    c->line = 0;
    c->next_line = 1;
    buf_init(&c->rec, CSV_RECORD_MAX);
    c->nfields = 0;
}

void csv_release(struct csv *c)
{
    if (c != NULL)
        buf_release(&c->rec);
}

char csv_sniff(const char *text, size_t n)
{
    static const char cands[] = {',', ';', '\t'};
    size_t count[3] = {0, 0, 0}, best = 0;
    int quoted = 0;

    for (size_t i = 0; i < n && (quoted || text[i] != '\n'); i++) {
        if (text[i] == '"')
            quoted = !quoted;
        for (int k = 0; k < 3 && !quoted; k++)
            count[k] += text[i] == cands[k];
    }
    for (int k = 1; k < 3; k++)
        best = count[k] > count[best] ? (size_t)k : best;
    return cands[best];
}

/* Appends n bytes to the record; CSV_ERR_TOO_BIG past the cap. */
static int put(struct csv *c, const char *p, size_t n, struct err *e)
{
    if (buf_append(&c->rec, p, n) == BUF_OK)
        return CSV_OK;
    err_set(e, "line %ld: a record longer than %zu bytes", c->line, (size_t)CSV_RECORD_MAX);
    return CSV_ERR_TOO_BIG;
}

/* Copies a quoted field's contents (c->p just past the opening quote). */
static int read_quoted(struct csv *c, struct err *e)
{
    for (;;) {
        const char *q = memchr(c->p, '"', (size_t)(c->end - c->p));
        int rc;

        if (q == NULL) {
            err_set(e, "line %ld: a quoted field is not closed", c->line);
            return CSV_ERR_QUOTE;
        }
        for (const char *t = c->p; t < q; t++)
            c->next_line += *t == '\n';
        rc = put(c, c->p, (size_t)(q - c->p), e);
        if (rc != CSV_OK)
            return rc;
        c->p = q + 1;
        if (c->p >= c->end || *c->p != '"')
            return CSV_OK;
        rc = put(c, "\"", 1, e);
        if (rc != CSV_OK)
            return rc;
        c->p++;
    }
}

/* Length of the unquoted run at c->p: up to the delimiter, a newline, or a CR before one. */
static size_t run_length(const struct csv *c)
{
    const char *t = c->p;

    while (t < c->end && *t != c->delim && *t != '\n' &&
           !(*t == '\r' && t + 1 < c->end && t[1] == '\n'))
        t++;
    return (size_t)(t - c->p);
}

/* Reads one field; leaves c->p on the delimiter, the line end or the end. */
static int read_field(struct csv *c, struct err *e)
{
    size_t n;
    int rc = CSV_OK;

    if (c->nfields == CSV_FIELDS_MAX) {
        err_set(e, "line %ld: more than %d fields", c->line, CSV_FIELDS_MAX);
        return CSV_ERR_TOO_BIG;
    }
    c->off[c->nfields++] = c->rec.len;
    if (c->p < c->end && *c->p == '"') {
        c->p++;
        rc = read_quoted(c, e);
    }
    n = run_length(c);
    if (rc == CSV_OK)
        rc = put(c, c->p, n, e);
    c->p += n;
    return rc == CSV_OK ? put(c, "", 1, e) : rc;
}

/* Skips blank lines; returns 1 when a record follows. */
static int skip_blank(struct csv *c)
{
    while (c->p < c->end) {
        if (*c->p == '\n') {
            c->p++;
            c->next_line++;
        } else if (*c->p == '\r' && c->p + 1 < c->end && c->p[1] == '\n') {
            c->p += 2;
            c->next_line++;
        } else {
            return 1;
        }
    }
    return 0;
}

int csv_next(struct csv *c, struct err *e)
{
    int rc;

    buf_reset(&c->rec);
    c->nfields = 0;
    if (!skip_blank(c))
        return CSV_DONE;
    c->line = c->next_line;
    for (;;) {
        rc = read_field(c, e);
        if (rc != CSV_OK)
            return rc;
        if (c->p >= c->end)
            return CSV_OK;
        if (*c->p == c->delim) {
            c->p++;
            continue;
        }
        c->p += *c->p == '\r' ? 2 : 1;
        c->next_line++;
        return CSV_OK;
    }
}

size_t csv_count(const struct csv *c)
{
    return c->nfields;
}

const char *csv_field(const struct csv *c, size_t i)
{
    return i < c->nfields ? c->rec.data + c->off[i] : "";
}

/* 1 when field f, less surrounding blanks, equals name (ASCII case ignored). */
static int field_is(const char *f, const char *name)
{
    size_t n = strlen(f);

    while (*f == ' ' || *f == '\t') {
        f++;
        n--;
    }
    while (n > 0 && (f[n - 1] == ' ' || f[n - 1] == '\t'))
        n--;
    return n == strlen(name) && strncasecmp(f, name, n) == 0;
}

int csv_find(const struct csv *c, const char *const *names)
{
    for (size_t k = 0; names[k] != NULL; k++) {
        for (size_t i = 0; i < c->nfields; i++) {
            if (field_is(csv_field(c, i), names[k]))
                return (int)i;
        }
    }
    return -1;
}
