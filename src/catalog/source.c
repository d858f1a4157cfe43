/*
 * source: folder trees are read with opendir and sorted, so two scans of one tree give
 * the same rows in the same order (and the same ranks). Manifests are parsed whole
 * before anything is imported: an import either starts with every row understood or
 * does not start, naming the first bad line.
 */
#include "catalog/source.h"

#include "util/csv.h"
#include "util/fs.h"
#include "util/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

#define MANIFEST_MAX ((size_t)256 << 20)
#define RANK_MAX     1000000

void source_init(struct source *s)
{
    memset(s, 0, sizeof *s);
}

static void row_release(struct source_row *r)
{
    free(r->name);
    free(r->known_for);
    free(r->photo);
    free(r->url);
}

void source_release(struct source *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++)
        row_release(&s->rows[i]);
    free(s->rows);
    source_init(s);
}

/* Appends r, taking ownership of its strings. */
static void add_row(struct source *s, const struct source_row *r)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->rows = xrealloc(s->rows, s->cap * sizeof *s->rows);
    }
    s->rows[s->n++] = *r;
}

int source_is_photo_name(const char *name)
{
    static const char *const ext[] = {".jpg", ".jpeg", ".png", ".webp"};
    size_t n = strlen(name);

    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        size_t k = strlen(ext[i]);

        if (n > k && strcasecmp(name + n - k, ext[i]) == 0)
            return 1;
    }
    return 0;
}

static int is_letter(utf8proc_int32_t cp)
{
    utf8proc_category_t k = utf8proc_category(cp);

    return k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO;
}

/* 1 when valid UTF-8 s has no upper-case or title-case letter. */
static int all_lower(const char *s, size_t n)
{
    utf8proc_int32_t cp;

    for (size_t i = 0; i < n;) {
        utf8proc_ssize_t k =
            utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &cp);

        if (k <= 0)
            return 0;
        if (utf8proc_category(cp) == UTF8PROC_CATEGORY_LU ||
            utf8proc_category(cp) == UTF8PROC_CATEGORY_LT)
            return 0;
        i += (size_t)k;
    }
    return 1;
}

/* Title-cases s (n bytes) into out: a letter after a non-letter is capitalised, the
 * others lowered. Invalid UTF-8 is copied as it is. */
static void title_case(const char *s, size_t n, struct buf *out)
{
    utf8proc_int32_t cp, prev = ' ';
    utf8proc_uint8_t enc[4];

    for (size_t i = 0; i < n;) {
        utf8proc_ssize_t k =
            utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &cp);

        if (k <= 0) {
            buf_append(out, s + i, n - i);
            return;
        }
        cp = is_letter(prev) ? utf8proc_tolower(cp) : utf8proc_totitle(cp);
        buf_append(out, enc, (size_t)utf8proc_encode_char(cp, enc));
        prev = cp;
        i += (size_t)k;
    }
}

void source_folder_name(const char *folder, enum source_case nc, struct buf *out)
{
    struct buf spaced;
    int blank = 1;

    buf_init(&spaced, 0);
    for (const char *p = folder; *p != '\0'; p++) {
        int sp = *p == '_' || *p == ' ' || *p == '\t';

        if (sp && !blank)
            buf_putc(&spaced, ' ');
        else if (!sp)
            buf_putc(&spaced, *p);
        blank = sp;
    }
    if (spaced.len > 0 && spaced.data[spaced.len - 1] == ' ')
        spaced.data[--spaced.len] = '\0';
    if (nc == SOURCE_CASE_TITLE ||
        (nc == SOURCE_CASE_AUTO && all_lower(buf_str(&spaced), spaced.len)))
        title_case(buf_str(&spaced), spaced.len, out);
    else
        buf_append(out, buf_str(&spaced), spaced.len);
    buf_release(&spaced);
}

static char *join(const char *dir, const char *name)
{
    struct buf b;

    buf_init(&b, 0);
    buf_printf(&b, "%s/%s", dir, name);
    return buf_detach(&b, NULL);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists the entries of dir that are folders (want_dirs) or regular files, sorted, in
 * *names (caller frees each and the array); *other counts the rest. */
static int list_dir(const char *dir, int want_dirs, char ***names, size_t *n, size_t *other,
                    struct err *e)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t cap = 0;

    *names = NULL;
    *n = 0;
    if (d == NULL) {
        err_set(e, "%s: %s", dir, strerror(errno));
        return SOURCE_ERR_IO;
    }
    while ((de = readdir(d)) != NULL) {
        char *path;
        int keep;

        if (de->d_name[0] == '.')
            continue;
        path = join(dir, de->d_name);
        keep = want_dirs ? fs_is_dir(path) : fs_is_file(path);
        free(path);
        if (!keep) {
            (*other)++;
            continue;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            *names = xrealloc(*names, cap * sizeof **names);
        }
        (*names)[(*n)++] = xstrdup(de->d_name);
    }
    closedir(d);
    if (*n > 0)
        qsort(*names, *n, sizeof **names, by_name);
    return SOURCE_OK;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* Appends the photos of one person folder. */
static int scan_person(struct source *s, const char *dir, const char *folder, enum source_case nc,
                       struct err *e)
{
    char *pdir = join(dir, folder), **files;
    size_t n, rank = 0;
    struct buf name;
    int rc = list_dir(pdir, 0, &files, &n, &s->ignored, e);

    buf_init(&name, 0);
    source_folder_name(folder, nc, &name);
    for (size_t i = 0; rc == SOURCE_OK && i < n; i++) {
        struct source_row r = {0};

        if (!source_is_photo_name(files[i])) {
            s->ignored++;
            continue;
        }
        r.name = xstrdup(buf_str(&name));
        r.photo = join(pdir, files[i]);
        r.rank = (int)(++rank < RANK_MAX ? rank : RANK_MAX);
        add_row(s, &r);
    }
    buf_release(&name);
    free_names(files, n);
    free(pdir);
    return rc;
}

int source_scan_dir(struct source *s, const char *dir, enum source_case nc, struct err *e)
{
    char **folders;
    size_t n, before = s->n, loose = 0;
    int rc = list_dir(dir, 1, &folders, &n, &loose, e);

    for (size_t i = 0; rc == SOURCE_OK && i < n; i++)
        rc = scan_person(s, dir, folders[i], nc, e);
    s->ignored += loose;
    free_names(folders, n);
    if (rc == SOURCE_OK && s->n == before) {
        err_set(e,
                "%s: no photos in person folders (expected %s/<Person Name>/*.jpg, .png "
                "or .webp)",
                dir, dir);
        rc = SOURCE_ERR_EMPTY;
    }
    return rc;
}

/* 1 when s is an http or https URL. */
static int is_url(const char *s)
{
    return strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0;
}

/* Parses a TMDB id or rank: digits only, in 1..max; "" is 0. */
static int parse_id(const char *s, long long max, int64_t *out)
{
    long long v = 0;

    *out = 0;
    if (*s == '\0')
        return 0;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9' || v > max / 10)
            return -1;
        v = v * 10 + (*s - '0');
    }
    if (v < 1 || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Fills the row's strings from the manifest's values, checking them. */
static int fill_row(struct source_row *r, const char *name, const char *photo,
                    const char *known_for, const char *base_dir, struct err *e)
{
    if (*name == '\0' || *photo == '\0') {
        err_set(e, "line %ld: no %s", r->line, *name == '\0' ? "name" : "photo");
        return SOURCE_ERR_FORMAT;
    }
    r->name = xstrdup(name);
    r->known_for = *known_for != '\0' ? xstrdup(known_for) : NULL;
    if (is_url(photo))
        r->url = xstrdup(photo);
    else if (photo[0] != '/' && base_dir != NULL)
        r->photo = join(base_dir, photo);
    else
        r->photo = xstrdup(photo);
    return SOURCE_OK;
}

struct csv_cols {
    int name, photo, tmdb, known, rank;
};

static int csv_header(const struct csv *c, struct csv_cols *k, struct err *e)
{
    static const char *const name[] = {"name", NULL}, *const photo[] = {"photo", "path", NULL};
    static const char *const tmdb[] = {"tmdb_id", "tmdb", NULL}, *const known[] = {"known_for",
                                                                                   NULL};
    static const char *const rank[] = {"rank", NULL};

    k->name = csv_find(c, name);
    k->photo = csv_find(c, photo);
    k->tmdb = csv_find(c, tmdb);
    k->known = csv_find(c, known);
    k->rank = csv_find(c, rank);
    if (k->name < 0 || k->photo < 0) {
        err_set(e, "line %ld: the header needs the columns name and photo", c->line);
        return SOURCE_ERR_FORMAT;
    }
    return SOURCE_OK;
}

/* Reads a field that may be absent (column -1). */
static const char *col(const struct csv *c, int i)
{
    return i >= 0 ? csv_field(c, (size_t)i) : "";
}

static int csv_row(struct source *s, const struct csv *c, const struct csv_cols *k,
                   const char *base_dir, struct err *e)
{
    struct source_row r = {0};
    int64_t rank;
    int rc;

    r.line = c->line;
    if (parse_id(col(c, k->tmdb), INT64_MAX / 2, &r.tmdb_id) != 0 ||
        parse_id(col(c, k->rank), RANK_MAX, &rank) != 0) {
        err_set(e, "line %ld: tmdb_id and rank must be positive whole numbers", c->line);
        return SOURCE_ERR_FORMAT;
    }
    r.rank = (int)rank;
    rc = fill_row(&r, col(c, k->name), col(c, k->photo), col(c, k->known), base_dir, e);
    if (rc == SOURCE_OK)
        add_row(s, &r);
    else
        row_release(&r);
    return rc;
}

static int parse_csv(struct source *s, const char *text, size_t n, const char *base_dir,
                     struct err *e)
{
    struct csv c;
    struct csv_cols k;
    int rc = SOURCE_ERR_FORMAT, crc;

    csv_init(&c, text, n, 0);
    crc = csv_next(&c, e);
    if (crc == CSV_DONE)
        err_set(e, "the manifest is empty (a header line is needed)");
    if (crc == CSV_OK)
        rc = csv_header(&c, &k, e);
    while (rc == SOURCE_OK && (crc = csv_next(&c, e)) == CSV_OK)
        rc = csv_row(s, &c, &k, base_dir, e);
    if (rc == SOURCE_OK && crc != CSV_DONE)
        rc = SOURCE_ERR_FORMAT;
    csv_release(&c);
    return rc;
}

/* Reads a JSON value that must be a string (or absent: ""). */
static int json_str(json_t *o, const char *key, const char **out)
{
    json_t *v = json_object_get(o, key);

    *out = "";
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return -1;
    *out = json_string_value(v);
    return 0;
}

/* Reads a JSON value that must be a positive integer (or a string of digits, or absent). */
static int json_id(json_t *o, const char *key, long long max, int64_t *out)
{
    json_t *v = json_object_get(o, key);

    *out = 0;
    if (v == NULL || json_is_null(v))
        return 0;
    if (json_is_string(v))
        return parse_id(json_string_value(v), max, out);
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > max)
        return -1;
    *out = json_integer_value(v);
    return 0;
}

/* Reads known_for: a string, or an array of strings joined with "; ", into b. */
static int json_known(json_t *o, struct buf *b)
{
    json_t *v = json_object_get(o, "known_for"), *t;
    size_t i;

    if (v == NULL || json_is_null(v))
        return 0;
    if (json_is_string(v))
        return buf_puts(b, json_string_value(v)) == BUF_OK ? 0 : -1;
    if (!json_is_array(v))
        return -1;
    json_array_foreach(v, i, t)
    {
        if (!json_is_string(t) ||
            buf_printf(b, "%s%s", i ? "; " : "", json_string_value(t)) != BUF_OK)
            return -1;
    }
    return 0;
}

static int jsonl_object(struct source *s, json_t *o, long line, const char *base_dir, struct err *e)
{
    struct source_row r = {0};
    const char *name, *photo;
    struct buf known;
    int64_t rank;
    int rc = SOURCE_ERR_FORMAT;

    r.line = line;
    buf_init(&known, 1 << 16);
    if (!json_is_object(o) || json_str(o, "name", &name) || json_str(o, "photo", &photo) ||
        json_id(o, "tmdb_id", INT64_MAX / 2, &r.tmdb_id) || json_id(o, "rank", RANK_MAX, &rank) ||
        json_known(o, &known)) {
        err_set(e,
                "line %ld: an object with strings name, photo (and known_for), and "
                "positive whole numbers tmdb_id and rank is expected",
                line);
        goto out;
    }
    r.rank = (int)rank;
    rc = fill_row(&r, name, photo, buf_str(&known), base_dir, e);
    if (rc == SOURCE_OK)
        add_row(s, &r);
out:
    if (rc != SOURCE_OK)
        row_release(&r);
    buf_release(&known);
    return rc;
}

/* Parses one JSON line (n bytes, not blank). */
static int jsonl_line(struct source *s, const char *p, size_t n, long line, const char *base_dir,
                      struct err *e)
{
    json_error_t je;
    json_t *o = json_loadb(p, n, JSON_REJECT_DUPLICATES, &je);
    int rc;

    if (o == NULL) {
        err_set(e, "line %ld: %s", line, je.text);
        return SOURCE_ERR_FORMAT;
    }
    rc = jsonl_object(s, o, line, base_dir, e);
    json_decref(o);
    return rc;
}

static int parse_jsonl(struct source *s, const char *text, size_t n, const char *base_dir,
                       struct err *e)
{
    const char *p = text, *end = text + n;
    long line = 0;
    int rc = SOURCE_OK;

    while (rc == SOURCE_OK && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *q = p;
        size_t len = (size_t)((nl != NULL ? nl : end) - p);

        line++;
        while (q < p + len && (*q == ' ' || *q == '\t' || *q == '\r'))
            q++;
        if (q < p + len)
            rc = jsonl_line(s, p, len, line, base_dir, e);
        p += len + 1;
    }
    return rc;
}

int source_parse_manifest(struct source *s, const char *text, size_t n, enum source_format f,
                          const char *base_dir, struct err *e)
{
    size_t before = s->n;
    int rc = f == SOURCE_JSONL ? parse_jsonl(s, text, n, base_dir, e)
                               : parse_csv(s, text, n, base_dir, e);

    if (rc == SOURCE_OK && s->n == before) {
        err_set(e, "the manifest lists no photos");
        rc = SOURCE_ERR_EMPTY;
    }
    return rc;
}

/* 1 when path ends in ext (ASCII case ignored). */
static int ends_with(const char *path, const char *ext)
{
    size_t n = strlen(path), k = strlen(ext);

    return n >= k && strcasecmp(path + n - k, ext) == 0;
}

int source_load_manifest(struct source *s, const char *path, struct err *e)
{
    const char *slash = strrchr(path, '/');
    enum source_format f = SOURCE_CSV;
    unsigned char *text = NULL;
    char *base = NULL;
    size_t n;
    int rc = SOURCE_ERR_IO;

    if (ends_with(path, ".jsonl") || ends_with(path, ".ndjson") || ends_with(path, ".json")) {
        f = SOURCE_JSONL;
    } else if (!ends_with(path, ".csv")) {
        err_set(e, "%s: a manifest ends in .csv or .jsonl", path);
        return SOURCE_ERR_FORMAT;
    }
    if (fs_read_file(path, MANIFEST_MAX, &text, &n, e) != FS_OK)
        goto out;
    base = slash != NULL ? xstrndup(path, (size_t)(slash - path + (slash == path))) : NULL;
    rc = source_parse_manifest(s, (const char *)text, n, f, base, e);
    if (rc != SOURCE_OK)
        err_prefix(e, "%s", path);
out:
    free(base);
    free(text);
    return rc;
}
