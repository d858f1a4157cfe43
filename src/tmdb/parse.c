/*
 * tmdb/parse: TMDB responses into structs, checking every value (see parse.h).
 *
 * Small readers (get_id, get_real, get_str, ...) each take an object and a key and
 * return the value or "unknown"; the response parsers are lists of them. Arrays are
 * allocated at the size of the JSON array, capped, so a hostile response cannot make
 * the crawler allocate more than the cap times the entry size.
 */
#include "tmdb/parse.h"

#include "util/xalloc.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Parses text into a JSON object; NULL with e set when it is not one. */
static json_t *load_object(const char *text, size_t n, struct err *e)
{
    json_error_t je;
    json_t *root = json_loadb(text, n, JSON_REJECT_DUPLICATES, &je);

    if (root == NULL) {
        err_set(e, "invalid JSON at line %d: %s", je.line, je.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        err_set(e, "the response is not a JSON object");
        json_decref(root);
        return NULL;
    }
    return root;
}

/* Returns the integer at key when it lies in [1, TMDB_ID_MAX], else 0. */
static int64_t get_id(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    json_int_t x;

    if (!json_is_integer(v))
        return 0;
    x = json_integer_value(v);
    return x >= 1 && x <= TMDB_ID_MAX ? (int64_t)x : 0;
}

/* Returns the integer at key when it lies in [lo, hi], else def. */
static int get_int(const json_t *o, const char *key, int lo, int hi, int def)
{
    json_t *v = json_object_get(o, key);
    json_int_t x;

    if (!json_is_integer(v))
        return def;
    x = json_integer_value(v);
    return x >= lo && x <= hi ? (int)x : def;
}

/* Returns the number at key when finite and in [lo, hi], else 0. */
static double get_real(const json_t *o, const char *key, double lo, double hi)
{
    json_t *v = json_object_get(o, key);
    double x;

    if (!json_is_number(v))
        return 0;
    x = json_number_value(v);
    return isfinite(x) && x >= lo && x <= hi ? x : 0;
}

/* Copies the string at key into dst (n bytes), cut on a UTF-8 boundary, with control
 * characters turned into spaces; "" when absent or not a string. Returns the length. */
static size_t get_str(const json_t *o, const char *key, char *dst, size_t n)
{
    json_t *v = json_object_get(o, key);
    const char *s;
    size_t len;

    dst[0] = '\0';
    if (!json_is_string(v))
        return 0;
    s = json_string_value(v);
    len = json_string_length(v);
    if (len >= n) {
        len = n - 1;
        while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
            len--;
    }
    memcpy(dst, s, len);
    dst[len] = '\0';
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)dst[i] < 0x20 || dst[i] == 0x7F)
            dst[i] = ' ';
    }
    return len;
}

/* Returns the year of a "YYYY-MM-DD" date at key when plausible, else 0. */
static int get_year(const json_t *o, const char *key)
{
    char d[16];
    int y = 0;

    if (get_str(o, key, d, sizeof d) < 4)
        return 0;
    for (int i = 0; i < 4; i++) {
        if (d[i] < '0' || d[i] > '9')
            return 0;
        y = y * 10 + (d[i] - '0');
    }
    return y >= 1870 && y <= 2100 ? y : 0;
}

/* Returns the array at key, or NULL; *n receives its length capped at max. */
static json_t *get_array(const json_t *o, const char *key, size_t max, size_t *n)
{
    json_t *a = json_object_get(o, key);

    *n = 0;
    if (!json_is_array(a))
        return NULL;
    *n = json_array_size(a) < max ? json_array_size(a) : max;
    return a;
}

/* get_array for the array a response must have: NULL with e set when it is missing. */
static json_t *need_array(const json_t *root, const char *key, size_t max, size_t *n,
                          struct err *e)
{
    json_t *a = get_array(root, key, max, n);

    if (a == NULL)
        err_set(e, "the response has no %s array", key);
    return a;
}

/* Reads a title entry of a list or of known_for; 0 when it has no id or no title. */
static int read_title(const json_t *o, int kind, struct tmdb_title *t)
{
    char mt[16];

    memset(t, 0, sizeof *t);
    get_str(o, "media_type", mt, sizeof mt);
    if (strcmp(mt, "movie") == 0)
        kind = TMDB_KIND_MOVIE;
    else if (strcmp(mt, "tv") == 0)
        kind = TMDB_KIND_TV;
    else if (mt[0] != '\0')
        return 0;
    t->kind = kind;
    t->id = get_id(o, "id");
    t->popularity = get_real(o, "popularity", 0, 1e7);
    if (kind == TMDB_KIND_TV) {
        get_str(o, "name", t->title, sizeof t->title);
        t->year = get_year(o, "first_air_date");
    } else {
        get_str(o, "title", t->title, sizeof t->title);
        t->year = get_year(o, "release_date");
    }
    return t->id != 0 && t->kind != TMDB_KIND_UNKNOWN && t->title[0] != '\0';
}

/* Reads the fields every person entry shares; 0 when it has no id or no name. */
static int read_person(const json_t *o, struct tmdb_person *p)
{
    memset(p, 0, sizeof *p);
    p->id = get_id(o, "id");
    get_str(o, "name", p->name, sizeof p->name);
    p->popularity = get_real(o, "popularity", 0, 1e7);
    p->gender = get_int(o, "gender", 0, 3, 0);
    p->adult = json_is_true(json_object_get(o, "adult"));
    get_str(o, "known_for_department", p->department, sizeof p->department);
    p->order = -1;
    return p->id != 0 && p->name[0] != '\0';
}

/* Reads page and total_pages; an error when page is missing or out of range. */
static int read_paging(const json_t *root, int *page, int *total, struct err *e)
{
    *page = get_int(root, "page", 1, TMDB_PAGE_MAX, 0);
    *total = get_int(root, "total_pages", 0, TMDB_PAGE_MAX, -1);
    if (*page == 0 || *total < 0) {
        err_set(e, "the response has no valid page or total_pages");
        return TMDB_PARSE_ERR_RANGE;
    }
    return TMDB_PARSE_OK;
}

static void read_known_for(const json_t *o, struct tmdb_person *p)
{
    size_t n;
    json_t *a = get_array(o, "known_for", TMDB_KNOWN_MAX, &n);

    for (size_t i = 0; a != NULL && i < n; i++) {
        if (read_title(json_array_get(a, i), TMDB_KIND_UNKNOWN, &p->known[p->nknown]))
            p->nknown++;
    }
}

int tmdb_parse_people_page(const char *text, size_t n, struct tmdb_people_page *out, struct err *e)
{
    json_t *root = load_object(text, n, e);
    json_t *a;
    size_t len;
    int rc;

    memset(out, 0, sizeof *out);
    if (root == NULL)
        return TMDB_PARSE_ERR_JSON;
    rc = read_paging(root, &out->page, &out->total_pages, e);
    a = rc == TMDB_PARSE_OK ? need_array(root, "results", TMDB_LIST_MAX, &len, e) : NULL;
    if (rc == TMDB_PARSE_OK && a == NULL)
        rc = TMDB_PARSE_ERR_JSON;
    if (rc == TMDB_PARSE_OK && len > 0) {
        out->people = xcalloc(len, sizeof *out->people);
        for (size_t i = 0; i < len; i++) {
            json_t *o = json_array_get(a, i);

            if (read_person(o, &out->people[out->n])) {
                read_known_for(o, &out->people[out->n]);
                out->n++;
            }
        }
    }
    json_decref(root);
    return rc;
}

int tmdb_parse_title_page(const char *text, size_t n, int kind, struct tmdb_title_page *out,
                          struct err *e)
{
    json_t *root = load_object(text, n, e);
    json_t *a;
    size_t len;
    int rc;

    memset(out, 0, sizeof *out);
    if (root == NULL)
        return TMDB_PARSE_ERR_JSON;
    rc = read_paging(root, &out->page, &out->total_pages, e);
    a = rc == TMDB_PARSE_OK ? need_array(root, "results", TMDB_LIST_MAX, &len, e) : NULL;
    if (rc == TMDB_PARSE_OK && a == NULL)
        rc = TMDB_PARSE_ERR_JSON;
    if (rc == TMDB_PARSE_OK && len > 0) {
        out->titles = xcalloc(len, sizeof *out->titles);
        for (size_t i = 0; i < len; i++) {
            if (read_title(json_array_get(a, i), kind, &out->titles[out->n]))
                out->n++;
        }
    }
    json_decref(root);
    return rc;
}

/* Reads a TV cast entry's character (its first role) and episode count. */
static void read_tv_role(const json_t *o, struct tmdb_person *p)
{
    size_t n;
    json_t *roles = get_array(o, "roles", 1, &n);

    if (roles != NULL && n > 0)
        get_str(json_array_get(roles, 0), "character", p->character, sizeof p->character);
    p->episodes = get_int(o, "total_episode_count", 0, 100000, 0);
}

int tmdb_parse_credits(const char *text, size_t n, int kind, struct tmdb_credits *out,
                       struct err *e)
{
    json_t *root = load_object(text, n, e);
    json_t *a;
    size_t len;
    int rc = TMDB_PARSE_OK;

    memset(out, 0, sizeof *out);
    if (root == NULL)
        return TMDB_PARSE_ERR_JSON;
    out->id = get_id(root, "id");
    a = need_array(root, "cast", TMDB_CAST_MAX, &len, e);
    if (a == NULL)
        rc = TMDB_PARSE_ERR_JSON;
    if (rc == TMDB_PARSE_OK && len > 0) {
        out->cast = xcalloc(len, sizeof *out->cast);
        for (size_t i = 0; i < len; i++) {
            json_t *o = json_array_get(a, i);
            struct tmdb_person *p = &out->cast[out->n];

            if (!read_person(o, p))
                continue;
            p->order = get_int(o, "order", 0, 100000, -1);
            if (kind == TMDB_KIND_TV)
                read_tv_role(o, p);
            else
                get_str(o, "character", p->character, sizeof p->character);
            out->n++;
        }
    }
    json_decref(root);
    return rc;
}

int tmdb_path_ok(const char *path)
{
    size_t n = strlen(path);

    if (n < 6 || n >= TMDB_PATH_MAX || path[0] != '/' || path[1] == '.')
        return 0;
    for (size_t i = 1; i < n; i++) {
        char c = path[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return strcmp(path + n - 4, ".jpg") == 0 || strcmp(path + n - 4, ".png") == 0;
}

int tmdb_parse_images(const char *text, size_t n, struct tmdb_images *out, struct err *e)
{
    json_t *root = load_object(text, n, e);
    json_t *a;
    size_t len;
    int rc = TMDB_PARSE_OK;

    memset(out, 0, sizeof *out);
    if (root == NULL)
        return TMDB_PARSE_ERR_JSON;
    out->id = get_id(root, "id");
    a = need_array(root, "profiles", TMDB_IMAGES_MAX, &len, e);
    if (a == NULL)
        rc = TMDB_PARSE_ERR_JSON;
    if (rc == TMDB_PARSE_OK && len > 0) {
        out->profiles = xcalloc(len, sizeof *out->profiles);
        for (size_t i = 0; i < len; i++) {
            json_t *o = json_array_get(a, i);
            struct tmdb_image *im = &out->profiles[out->n];

            get_str(o, "file_path", im->file_path, sizeof im->file_path);
            im->width = get_int(o, "width", 1, 100000, 0);
            im->height = get_int(o, "height", 1, 100000, 0);
            im->vote_average = get_real(o, "vote_average", 0, 10);
            im->vote_count = get_int(o, "vote_count", 0, 1000000000, 0);
            if (tmdb_path_ok(im->file_path))
                out->n++;
        }
    }
    json_decref(root);
    return rc;
}

/* Returns 1 when s is an image size TMDB names: "original", or w/h and 1-5 digits. */
static int size_ok(const char *s)
{
    size_t n = strlen(s);

    if (strcmp(s, "original") == 0)
        return 1;
    if (n < 2 || n > 6 || (s[0] != 'w' && s[0] != 'h'))
        return 0;
    for (size_t i = 1; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
    }
    return 1;
}

/* Checks an image base URL: http(s), no blanks or quotes, ending in '/'. */
static int base_url_ok(const char *u)
{
    size_t n = strlen(u);

    if (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)u[i] <= ' ' || u[i] == '"' || u[i] == '\\' || u[i] == 0x7F)
            return 0;
    }
    return u[n - 1] == '/';
}

/* Appends the valid sizes of images[key] that out does not have yet. */
static void read_sizes(struct tmdb_config *out, const json_t *images, const char *key)
{
    size_t len;
    json_t *a = get_array(images, key, TMDB_SIZES_MAX, &len);

    for (size_t i = 0; a != NULL && i < len && out->nsizes < TMDB_SIZES_MAX; i++) {
        json_t *v = json_array_get(a, i);
        const char *s = json_string_value(v);
        int seen = 0;

        if (s == NULL || json_string_length(v) >= sizeof out->sizes[0] || !size_ok(s))
            continue;
        for (int k = 0; k < out->nsizes; k++)
            seen |= strcmp(out->sizes[k], s) == 0;
        if (!seen)
            snprintf(out->sizes[out->nsizes++], sizeof out->sizes[0], "%s", s);
    }
}

int tmdb_parse_config(const char *text, size_t n, struct tmdb_config *out, struct err *e)
{
    json_t *root = load_object(text, n, e);
    json_t *images;
    int rc = TMDB_PARSE_OK;

    memset(out, 0, sizeof *out);
    if (root == NULL)
        return TMDB_PARSE_ERR_JSON;
    images = json_object_get(root, "images");
    get_str(images, "secure_base_url", out->base_url, sizeof out->base_url);
    read_sizes(out, images, "profile_sizes");
    read_sizes(out, images, "poster_sizes");
    if (!base_url_ok(out->base_url) || out->nsizes == 0) {
        err_set(e, "the configuration has no valid images.secure_base_url or profile_sizes");
        rc = TMDB_PARSE_ERR_RANGE;
    }
    json_decref(root);
    return rc;
}

int tmdb_parse_error(const char *text, size_t n, struct tmdb_error *out, struct err *e)
{
    json_t *root = load_object(text, n, e);

    memset(out, 0, sizeof *out);
    if (root == NULL)
        return TMDB_PARSE_ERR_JSON;
    out->code = get_int(root, "status_code", 1, 100000, 0);
    get_str(root, "status_message", out->message, sizeof out->message);
    json_decref(root);
    return TMDB_PARSE_OK;
}

int tmdb_parse_export_line(const char *text, size_t n, struct tmdb_person *out, struct err *e)
{
    json_t *root = load_object(text, n, e);
    int rc = TMDB_PARSE_OK;

    if (root == NULL) {
        memset(out, 0, sizeof *out);
        return TMDB_PARSE_ERR_JSON;
    }
    if (!read_person(root, out)) {
        err_set(e, "the line has no valid id or name");
        rc = TMDB_PARSE_ERR_RANGE;
    }
    json_decref(root);
    return rc;
}

void tmdb_people_page_release(struct tmdb_people_page *p)
{
    if (p == NULL)
        return;
    free(p->people);
    memset(p, 0, sizeof *p);
}

void tmdb_title_page_release(struct tmdb_title_page *p)
{
    if (p == NULL)
        return;
    free(p->titles);
    memset(p, 0, sizeof *p);
}

void tmdb_credits_release(struct tmdb_credits *c)
{
    if (c == NULL)
        return;
    free(c->cast);
    memset(c, 0, sizeof *c);
}

void tmdb_images_release(struct tmdb_images *im)
{
    if (im == NULL)
        return;
    free(im->profiles);
    memset(im, 0, sizeof *im);
}
