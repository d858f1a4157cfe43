/*
 * fake_tmdb: a local stand-in for TMDB's API and image CDN, for the crawler's tests.
 *
 * It replays real recorded responses (../shared/data/tmdb: the 2022 recordings with
 * their headers, c-eg's bodies, curl's captured error bodies) with the ids rewritten
 * per request, so page 3 of /person/popular names other people than page 2 and
 * /movie/42/credits says "id": 42; it serves images from a folder of real photos (a
 * file name maps to one photo by hash); and it injects faults on command, per URL and
 * deterministically, so a crawl with faults can be compared with one without:
 *
 *   --fault-rate PCT       PCT% of URLs fail their first one or two attempts, each with
 *                          a kind drawn (by hash) from --faults
 *   --faults K,K,...       kinds: 429 500 502 503 504 slow reset truncate invalid ctype
 *                          oversize redirect (default: all)
 *   --fault-path P=K[:N]   a URL whose path starts with P fails with K on its first N
 *                          attempts (0 or none: every attempt)
 *   --missing-mod M        people whose id is divisible by M have no images (404)
 *   --key KEY              requests without api_key=KEY or "Bearer KEY" get TMDB's 401
 *
 * Plain POSIX sockets on 127.0.0.1 only, a thread per connection, HTTP/1.1 with
 * keep-alive and gzip, so resets and truncations are exactly what the socket does.
 * Every request is logged (--log): monotonic time, open connections, outcome, path
 * without the key, connection number: the rate-limit test reads the times from there.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define REQ_MAX    16384
#define SEEN_MAX   65536
#define IMAGES_MAX 4096

enum fault {
    F_NONE = 0,
    F_429,
    F_500,
    F_502,
    F_503,
    F_504,
    F_SLOW,
    F_RESET,
    F_TRUNCATE,
    F_INVALID,
    F_CTYPE,
    F_OVERSIZE,
    F_REDIRECT,
    F_404,
    F_COUNT
};

static const char *const fault_names[F_COUNT] = {
    "none",  "429",      "500",     "502",   "503",      "504",      "slow",
    "reset", "truncate", "invalid", "ctype", "oversize", "redirect", "404",
};

struct fault_path {
    char prefix[256];
    int kind;
    int count; /* 0 = always */
};

/* A recorded response: its body (parsed) and headers to replay. */
struct record {
    json_t *body;
    char headers[4096]; /* "Name: value\r\n" lines */
};

static struct {
    const char *data;   /* ../shared/data/tmdb */
    const char *images; /* folder of photos */
    const char *key;
    int pages;
    int cast_max;
    int missing_mod;
    int fault_rate;
    int faults[F_COUNT];
    int nfaults;
    struct fault_path paths[32];
    int npaths;
    int delay_ms;
    int slow_ms;
    int retry_after;
    int port;
    FILE *log;
    pthread_mutex_t lock;
    int open;
    struct record config, popular, top_movie, top_tv, disc_movie, disc_tv, movie_credits,
        tv_credits, images_rec;
    char *err_401, *err_404, *err_422;
    char *photos[IMAGES_MAX];
    int nphotos;
    struct {
        uint64_t h;
        int n;
    } seen[SEEN_MAX];
} g = {.pages = 3, .slow_ms = 3000, .retry_after = 1};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t fnv(const char *s, uint64_t seed)
{
    uint64_t h = 1469598103934665603ull ^ seed;

    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h ^ (h >> 29);
}

static void die(const char *what)
{
    fprintf(stderr, "fake_tmdb: %s: %s\n", what, strerror(errno));
    exit(2);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *s;
    long n;

    if (f == NULL)
        die(path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    s = malloc((size_t)n + 1);
    if (s == NULL || fread(s, 1, (size_t)n, f) != (size_t)n)
        die(path);
    s[n] = '\0';
    fclose(f);
    return s;
}

/* Loads body file rel (under data) and the headers of meta file (NULL: generic). */
static void load_record(struct record *r, const char *rel, const char *meta)
{
    char path[1024];
    json_error_t je;
    json_t *m, *h;
    const char *k;
    json_t *v;
    size_t len = 0;

    snprintf(path, sizeof path, "%s/%s", g.data, rel);
    r->body = json_load_file(path, 0, &je);
    if (r->body == NULL) {
        fprintf(stderr, "fake_tmdb: %s: %s\n", path, je.text);
        exit(2);
    }
    r->headers[0] = '\0';
    if (meta == NULL)
        return;
    snprintf(path, sizeof path, "%s/%s", g.data, meta);
    m = json_load_file(path, 0, &je);
    h = json_object_get(m, "headers");
    json_object_foreach(h, k, v)
    {
        if (strcasecmp(k, "Content-Type") == 0 || strcasecmp(k, "Content-Length") == 0 ||
            strcasecmp(k, "Transfer-Encoding") == 0 || strcasecmp(k, "Connection") == 0 ||
            strcasecmp(k, "Content-Encoding") == 0 || strcasecmp(k, "Alt-Svc") == 0)
            continue;
        for (size_t i = 0; i < json_array_size(v); i++) {
            int n = snprintf(r->headers + len, sizeof r->headers - len, "%s: %s\r\n", k,
                             json_string_value(json_array_get(v, i)));

            if (n > 0 && (size_t)n < sizeof r->headers - len)
                len += (size_t)n;
        }
    }
    json_decref(m);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists the photos under dir (two levels: dir/set/person/file or dir/person/file). */
static void scan_photos(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL && g.nphotos < IMAGES_MAX) {
        char path[2048];
        struct stat st;
        size_t n = strlen(de->d_name);

        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode) && depth < 3)
            scan_photos(path, depth + 1);
        else if (S_ISREG(st.st_mode) && n > 4 &&
                 (strcmp(de->d_name + n - 4, ".jpg") == 0 ||
                  strcmp(de->d_name + n - 4, ".png") == 0))
            g.photos[g.nphotos++] = strdup(path);
    }
    closedir(d);
}

/* ---- fault schedule ---- */

/* Counts an attempt at url; returns which attempt this is (1 = first). */
static int attempt_of(const char *url)
{
    uint64_t h = fnv(url, 0) | 1;
    size_t i = h % SEEN_MAX;
    int n;

    pthread_mutex_lock(&g.lock);
    while (g.seen[i].h != 0 && g.seen[i].h != h)
        i = (i + 1) % SEEN_MAX;
    g.seen[i].h = h;
    n = ++g.seen[i].n;
    pthread_mutex_unlock(&g.lock);
    return n;
}

/* The fault this attempt at url gets. */
static int fault_for(const char *url, const char *path)
{
    int attempt = attempt_of(url);

    for (int i = 0; i < g.npaths; i++) {
        if (strncmp(path, g.paths[i].prefix, strlen(g.paths[i].prefix)) == 0)
            return g.paths[i].count == 0 || attempt <= g.paths[i].count ? g.paths[i].kind : F_NONE;
    }
    if (g.fault_rate <= 0 || g.nfaults == 0 || (int)(fnv(url, 1) % 100) >= g.fault_rate)
        return F_NONE;
    if (attempt > 1 + (int)(fnv(url, 2) % 2))
        return F_NONE;
    return g.faults[fnv(url, 3 + (uint64_t)attempt) % (uint64_t)g.nfaults];
}

/* ---- responses ---- */

static int send_all(int fd, const void *p, size_t n)
{
    const char *c = p;

    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* gzips body into *out; returns its length, or 0 on failure. */
static size_t gzip_body(const char *body, size_t n, char **out)
{
    z_stream z;
    size_t cap = compressBound((uLong)n) + 64;

    memset(&z, 0, sizeof z);
    *out = malloc(cap);
    if (*out == NULL || deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return 0;
    z.next_in = (Bytef *)body;
    z.avail_in = (uInt)n;
    z.next_out = (Bytef *)*out;
    z.avail_out = (uInt)cap;
    deflate(&z, Z_FINISH);
    n = z.total_out;
    deflateEnd(&z);
    return n;
}

/* Set while the reply being made is to be cut in half (the truncate fault). */
static __thread int tl_truncate;

struct reply {
    int status;
    const char *ctype;
    const char *headers; /* extra, may be NULL */
    const char *body;
    size_t len;
    int fault; /* truncate: send half */
};

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 302:
        return "Found";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 404:
        return "Not Found";
    case 422:
        return "Unprocessable Entity";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    default:
        return "Gateway Timeout";
    }
}

/* Sends r; gzip when the client accepts it and the body is JSON. Returns -1 to close. */
static int send_reply(int fd, const struct reply *r, int gzip)
{
    char head[8192], *z = NULL;
    const char *body = r->body;
    size_t len = r->len;
    int n, rc;

    if (gzip && r->ctype != NULL && strncmp(r->ctype, "application/json", 16) == 0 && len > 0) {
        len = gzip_body(r->body, r->len, &z);
        body = z;
        gzip = len > 0;
        if (!gzip) {
            body = r->body;
            len = r->len;
        }
    } else {
        gzip = 0;
    }
    n = snprintf(head, sizeof head,
                 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%s"
                 "Connection: keep-alive\r\n\r\n",
                 r->status, reason(r->status), r->ctype != NULL ? r->ctype : "application/json",
                 len, gzip ? "Content-Encoding: gzip\r\n" : "",
                 r->headers != NULL ? r->headers : "");
    rc = send_all(fd, head, (size_t)n);
    if (rc == 0)
        rc = send_all(fd, body, tl_truncate ? len / 2 : len);
    free(z);
    return tl_truncate ? -1 : rc;
}

static int send_json(int fd, int status, json_t *body, const struct record *rec, int gzip)
{
    char *text = json_dumps(body, JSON_COMPACT);
    struct reply r = {status,
                      "application/json;charset=utf-8",
                      rec != NULL ? rec->headers : NULL,
                      text,
                      strlen(text),
                      F_NONE};
    int rc = send_reply(fd, &r, gzip);

    free(text);
    return rc;
}

static int send_text(int fd, int status, const char *body, const char *extra, int gzip)
{
    struct reply r = {status, "application/json;charset=utf-8", extra, body, strlen(body), F_NONE};

    return send_reply(fd, &r, gzip);
}

/* Sends a fault; returns -1 when the connection must close. */
static int send_fault(int fd, int kind, const char *path, int gzip)
{
    static const char *const codes[] = {
        [F_500] = "{\"status_code\":11,\"status_message\":\"Internal error: Something went "
                  "wrong, contact TMDb.\"}",
        [F_502] = "{\"status_code\":43,\"status_message\":\"Couldn't connect to the backend "
                  "server.\"}",
        [F_503] = "{\"status_code\":46,\"status_message\":\"The API is undergoing maintenance. "
                  "Try again later.\"}",
        [F_504] = "{\"status_code\":24,\"status_message\":\"Your request to the backend server "
                  "timed out. Try again.\"}",
    };
    char extra[256];
    static unsigned loop;

    switch (kind) {
    case F_429:
        snprintf(extra, sizeof extra, "Retry-After: %d\r\n", g.retry_after);
        return send_text(fd, 429,
                         "{\"status_code\":25,\"status_message\":\"Your request count "
                         "(41) is over the allowed limit of (40).\"}",
                         extra, gzip);
    case F_500:
        return send_text(fd, 500, codes[F_500], NULL, gzip);
    case F_502:
        return send_text(fd, 502, codes[F_502], NULL, gzip);
    case F_503:
        return send_text(fd, 503, codes[F_503], NULL, gzip);
    case F_504:
        return send_text(fd, 504, codes[F_504], NULL, gzip);
    case F_404:
        return send_text(fd, 404, g.err_404, NULL, gzip);
    case F_RESET: {
        struct linger lg = {1, 0};

        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        return -1;
    }
    case F_CTYPE: {
        static const char html[] = "<html><body><h1>502 Bad Gateway</h1></body></html>";
        struct reply r = {200, "text/html", NULL, html, sizeof html - 1, F_NONE};

        return send_reply(fd, &r, 0);
    }
    case F_INVALID: {
        static const char bad[] = "{\"page\":1,\"results\":[{\"id\":1,\"name\":\"x\"},]";
        struct reply r = {200, "application/json;charset=utf-8", NULL, bad, sizeof bad - 1, F_NONE};

        return send_reply(fd, &r, gzip);
    }
    case F_REDIRECT:
        snprintf(extra, sizeof extra, "Location: /loop/%u%s\r\n",
                 __atomic_add_fetch(&loop, 1, __ATOMIC_RELAXED), path);
        return send_text(fd, 302, "{}", extra, 0);
    case F_OVERSIZE: {
        char head[256], chunk[65536];
        size_t total = (size_t)64 << 20;
        int n = snprintf(head, sizeof head,
                         "HTTP/1.1 200 OK\r\nContent-Type: application/json"
                         "\r\nContent-Length: %zu\r\n\r\n[",
                         total);

        memset(chunk, ' ', sizeof chunk);
        if (send_all(fd, head, (size_t)n) != 0)
            return -1;
        for (size_t sent = 1; sent + sizeof chunk < total; sent += sizeof chunk) {
            if (send_all(fd, chunk, sizeof chunk) != 0)
                break;
        }
        return -1;
    }
    default:
        return -1;
    }
}

/* Rewrites the ids of a page of people: page p's i-th person is p * 1000 + i + 1. */
static void rewrite_people(json_t *b, int page)
{
    json_t *res = json_object_get(b, "results");

    json_object_set_new(b, "page", json_integer(page));
    json_object_set_new(b, "total_pages", json_integer(g.pages));
    json_object_set_new(b, "total_results", json_integer(g.pages * 20));
    if (page > g.pages)
        json_array_clear(res);
    for (size_t i = 0; i < json_array_size(res); i++)
        json_object_set_new(json_array_get(res, i), "id",
                            json_integer((json_int_t)page * 1000 + (json_int_t)i + 1));
}

/* Rewrites a page of titles: ids from base, and with year the dates' year. */
static void rewrite_titles(json_t *b, int page, json_int_t base, int year)
{
    json_t *res = json_object_get(b, "results");
    char date[32];

    json_object_set_new(b, "page", json_integer(page));
    json_object_set_new(b, "total_pages", json_integer(g.pages));
    json_object_set_new(b, "total_results", json_integer(g.pages * 20));
    if (page > g.pages)
        json_array_clear(res);
    for (size_t i = 0; i < json_array_size(res); i++) {
        json_t *t = json_array_get(res, i);

        json_object_set_new(t, "id", json_integer(base + (json_int_t)page * 100 + (json_int_t)i));
        if (year > 0) {
            snprintf(date, sizeof date, "%04d-06-01", year);
            json_object_set_new(
                t, json_object_get(t, "title") != NULL ? "release_date" : "first_air_date",
                json_string(date));
        }
    }
}

/* Rewrites a cast: the title's id, each person's id shifted by the title (three casts
 * of people in turn), the list cut to cast_max. */
static void rewrite_cast(json_t *b, json_int_t id)
{
    json_t *cast = json_object_get(b, "cast");

    json_object_set_new(b, "id", json_integer(id));
    json_object_del(b, "crew");
    while (g.cast_max > 0 && json_array_size(cast) > (size_t)g.cast_max)
        json_array_remove(cast, json_array_size(cast) - 1);
    for (size_t i = 0; i < json_array_size(cast); i++) {
        json_t *p = json_array_get(cast, i);

        json_object_set_new(
            p, "id",
            json_integer(json_integer_value(json_object_get(p, "id")) + (id % 3) * 10000000));
    }
}

/* Rewrites a person's images: the id, and file paths naming the person. */
static void rewrite_images(json_t *b, json_int_t id)
{
    json_t *prof = json_object_get(b, "profiles");
    char fp[128];

    json_object_set_new(b, "id", json_integer(id));
    if (id % 5 == 0)
        json_array_clear(prof); /* some people have no photo */
    for (size_t i = 0; i < json_array_size(prof); i++) {
        json_t *p = json_array_get(prof, i);

        snprintf(fp, sizeof fp, "/p%lld_%zu%s", (long long)id, i,
                 json_string_value(json_object_get(p, "file_path")) + 1);
        json_object_set_new(p, "file_path", json_string(fp));
    }
}

/* Reads query parameter name into out; 0 when absent. */
static int query_param(const char *query, const char *name, char *out, size_t n)
{
    size_t k = strlen(name);

    for (const char *q = query; q != NULL && *q != '\0';) {
        if (strncmp(q, name, k) == 0 && q[k] == '=') {
            size_t len = strcspn(q + k + 1, "&");

            snprintf(out, n, "%.*s", (int)(len < n ? len : n - 1), q + k + 1);
            return 1;
        }
        q = strchr(q, '&');
        q = q != NULL ? q + 1 : NULL;
    }
    return 0;
}

static long query_long(const char *query, const char *name, long def)
{
    char v[32];
    char *end;
    long x;

    if (!query_param(query, name, v, sizeof v))
        return def;
    x = strtol(v, &end, 10);
    return *end == '\0' ? x : -1;
}

/* Serves an image path /t/p/<size>/<file>. */
static int serve_image(int fd, const char *file)
{
    char *data;
    size_t len;
    const char *photo;
    FILE *f;
    long n;
    int rc;

    if (g.nphotos == 0)
        return send_text(fd, 404, g.err_404, NULL, 0);
    photo = g.photos[fnv(file, 7) % (uint64_t)g.nphotos];
    f = fopen(photo, "rb");
    if (f == NULL)
        return send_text(fd, 404, g.err_404, NULL, 0);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    data = malloc((size_t)n);
    len = fread(data, 1, (size_t)n, f);
    fclose(f);
    {
        struct reply r = {200,
                          strstr(photo, ".png") != NULL ? "image/png" : "image/jpeg",
                          "Cache-Control: public, max-age=31536000\r\n",
                          data,
                          len,
                          F_NONE};

        rc = send_reply(fd, &r, 0);
    }
    free(data);
    return rc;
}

/* Answers a list request from rec with rewrite; page errors as TMDB gives them. */
static int serve_list(int fd, const struct record *rec, const char *query, int people,
                      json_int_t base, int year, int gzip)
{
    long page = query_long(query, "page", 1);
    json_t *b;
    int rc;

    if (page < 1 || page > 500)
        return send_text(fd, 400,
                         "{\"status_code\":22,\"status_message\":\"Invalid page: Pages "
                         "start at 1 and max at 500. They are expected to be an "
                         "integer.\",\"success\":false}",
                         NULL, gzip);
    b = json_deep_copy(rec->body);
    if (people)
        rewrite_people(b, (int)page);
    else
        rewrite_titles(b, (int)page, base, year);
    rc = send_json(fd, 200, b, rec, gzip);
    json_decref(b);
    return rc;
}

/* Answers /3/movie/{id}/credits, /3/tv/{id}/aggregate_credits, /3/person/{id}/images. */
static int serve_by_id(int fd, const char *path, int gzip)
{
    long long id;
    char rest[64];
    const struct record *rec = NULL;
    json_t *b;
    int rc, kind = 0;

    if (sscanf(path, "/3/movie/%lld/%63s", &id, rest) == 2 && strcmp(rest, "credits") == 0)
        rec = &g.movie_credits, kind = 1;
    else if (sscanf(path, "/3/tv/%lld/%63s", &id, rest) == 2 &&
             strcmp(rest, "aggregate_credits") == 0)
        rec = &g.tv_credits, kind = 1;
    else if (sscanf(path, "/3/person/%lld/%63s", &id, rest) == 2 && strcmp(rest, "images") == 0)
        rec = &g.images_rec, kind = 2;
    if (rec == NULL || id <= 0 || (kind == 2 && g.missing_mod > 0 && id % g.missing_mod == 0))
        return send_text(fd, 404, g.err_404, NULL, gzip);
    b = json_deep_copy(rec->body);
    if (kind == 1)
        rewrite_cast(b, id);
    else
        rewrite_images(b, id);
    rc = send_json(fd, 200, b, rec, gzip);
    json_decref(b);
    return rc;
}

/* Checks the key: api_key in the query or a Bearer header. */
static int key_ok(const char *query, const char *auth)
{
    char k[256];

    if (g.key == NULL)
        return 1;
    if (query_param(query, "api_key", k, sizeof k) && strcmp(k, g.key) == 0)
        return 1;
    return strncmp(auth, "Bearer ", 7) == 0 && strcmp(auth + 7, g.key) == 0;
}

/* Routes one request; returns -1 to close the connection. */
static int route(int fd, const char *path, const char *query, const char *auth, int gzip)
{
    char sort[64];
    long year;

    if (strncmp(path, "/t/p/", 5) == 0 || strncmp(path, "/cdn/", 5) == 0) {
        const char *file = strchr(path + 5, '/');

        return file != NULL ? serve_image(fd, file + 1) : send_text(fd, 404, g.err_404, NULL, 0);
    }
    if (strncmp(path, "/loop/", 6) == 0)
        return send_fault(fd, F_REDIRECT, strchr(path + 6, '/'), 0);
    if (!key_ok(query, auth))
        return send_text(fd, 401, g.err_401, NULL, gzip);
    if (strcmp(path, "/3/configuration") == 0) {
        json_t *b = json_deep_copy(g.config.body);
        char base[128];
        int rc;

        snprintf(base, sizeof base, "http://127.0.0.1:%d/t/p/", g.port);
        json_object_set_new(json_object_get(b, "images"), "secure_base_url", json_string(base));
        json_object_set_new(json_object_get(b, "images"), "base_url", json_string(base));
        rc = send_json(fd, 200, b, &g.config, gzip);
        json_decref(b);
        return rc;
    }
    if (strcmp(path, "/3/person/popular") == 0)
        return serve_list(fd, &g.popular, query, 1, 0, 0, gzip);
    if (strcmp(path, "/3/movie/top_rated") == 0)
        return serve_list(fd, &g.top_movie, query, 0, 5000000, 0, gzip);
    if (strcmp(path, "/3/tv/top_rated") == 0)
        return serve_list(fd, &g.top_tv, query, 0, 6000000, 0, gzip);
    if (strncmp(path, "/3/discover/", 12) == 0) {
        int tv = strcmp(path + 12, "tv") == 0;

        year = query_long(query, tv ? "first_air_date_year" : "primary_release_year", 2000);
        if (!query_param(query, "sort_by", sort, sizeof sort))
            snprintf(sort, sizeof sort, "popularity.desc");
        if (year < 1870 || year > 2100 || (!tv && strcmp(path + 12, "movie") != 0))
            return send_text(fd, 404, g.err_404, NULL, gzip);
        return serve_list(fd, tv ? &g.disc_tv : &g.disc_movie, query, 0,
                          (tv ? 8000000 : 7000000) + (year % 100) * 10000 +
                              (json_int_t)(fnv(sort, 9) % 3) * 10,
                          (int)year, gzip);
    }
    return serve_by_id(fd, path, gzip);
}

static void log_line(const char *outcome, const char *path, int open, int conn)
{
    if (g.log == NULL)
        return;
    pthread_mutex_lock(&g.lock);
    fprintf(g.log, "%.6f open=%d %s %s conn=%d\n", now_s(), open, outcome, path, conn);
    fflush(g.log);
    pthread_mutex_unlock(&g.lock);
}

/* Reads one request head into buf; returns its length, 0 at EOF, -1 on error. */
static ssize_t read_head(int fd, char *buf, size_t cap)
{
    size_t len = 0;

    while (len + 1 < cap) {
        ssize_t r = recv(fd, buf + len, cap - 1 - len, 0);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return len == 0 && r == 0 ? 0 : -1;
        len += (size_t)r;
        buf[len] = '\0';
        if (strstr(buf, "\r\n\r\n") != NULL)
            return (ssize_t)len;
    }
    return -1;
}

/* Copies header name's value (case-insensitive) into out; "" when absent. */
static void header(const char *head, const char *name, char *out, size_t n)
{
    size_t k = strlen(name);

    out[0] = '\0';
    for (const char *l = strstr(head, "\r\n"); l != NULL; l = strstr(l + 2, "\r\n")) {
        if (strncasecmp(l + 2, name, k) == 0 && l[2 + k] == ':') {
            const char *v = l + 3 + k;

            v += strspn(v, " ");
            snprintf(out, n, "%.*s", (int)strcspn(v, "\r"), v);
            return;
        }
    }
}

/* Handles one request of a connection; returns -1 to close it. */
static int handle(int fd, char *head, int open, int conn_no)
{
    char method[8], target[2048], path[2048], auth[512], enc[256], conn[64], url[4200];
    char *q;
    int kind, rc;

    if (sscanf(head, "%7s %2047s", method, target) != 2 || strcmp(method, "GET") != 0)
        return -1;
    header(head, "Authorization", auth, sizeof auth);
    header(head, "Accept-Encoding", enc, sizeof enc);
    header(head, "Connection", conn, sizeof conn);
    snprintf(path, sizeof path, "%s", target);
    q = strchr(path, '?');
    if (q != NULL)
        *q++ = '\0';
    /* the fault schedule's key: the URL without the API key */
    snprintf(url, sizeof url, "%s?%s", path, q != NULL ? q : "");
    if (strstr(url, "api_key=") != NULL)
        url[strstr(url, "api_key=") - url] = '\0';
    kind = strncmp(path, "/loop/", 6) == 0 ? F_NONE : fault_for(url, path);
    if (g.delay_ms > 0)
        usleep((useconds_t)g.delay_ms * 1000);
    log_line(fault_names[kind], url, open, conn_no);
    if (kind == F_SLOW) {
        usleep((useconds_t)g.slow_ms * 1000);
        kind = F_NONE;
    }
    if (kind == F_TRUNCATE) {
        /* the real answer, cut short */
        tl_truncate = 1;
        route(fd, path, q != NULL ? q : "", auth, strstr(enc, "gzip") != NULL);
        tl_truncate = 0;
        return -1;
    }
    rc = kind != F_NONE ? send_fault(fd, kind, path, strstr(enc, "gzip") != NULL)
                        : route(fd, path, q != NULL ? q : "", auth, strstr(enc, "gzip") != NULL);
    return rc < 0 || strcasecmp(conn, "close") == 0 ? -1 : 0;
}

static void *serve_conn(void *arg)
{
    static int conns;
    int fd = (int)(intptr_t)arg, open, one = 1;
    int conn = __atomic_add_fetch(&conns, 1, __ATOMIC_SEQ_CST);
    char *head = malloc(REQ_MAX);

    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    open = __atomic_add_fetch(&g.open, 1, __ATOMIC_SEQ_CST);
    while (head != NULL && read_head(fd, head, REQ_MAX) > 0 && handle(fd, head, open, conn) == 0)
        open = __atomic_load_n(&g.open, __ATOMIC_SEQ_CST);
    __atomic_sub_fetch(&g.open, 1, __ATOMIC_SEQ_CST);
    free(head);
    close(fd);
    return NULL;
}

static int parse_fault(const char *s)
{
    for (int k = 1; k < F_COUNT; k++) {
        if (strcmp(s, fault_names[k]) == 0)
            return k;
    }
    fprintf(stderr, "fake_tmdb: unknown fault '%s'\n", s);
    exit(2);
}

static void parse_faults(const char *list)
{
    char buf[512], *save = NULL;

    snprintf(buf, sizeof buf, "%s", list);
    g.nfaults = 0;
    for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save))
        g.faults[g.nfaults++ % F_COUNT] = parse_fault(t);
}

static void parse_fault_path(const char *s)
{
    struct fault_path *p = &g.paths[g.npaths++ % 32];
    const char *eq = strchr(s, '=');
    char kind[32];

    if (eq == NULL) {
        fprintf(stderr, "fake_tmdb: --fault-path wants PREFIX=KIND[:N]\n");
        exit(2);
    }
    snprintf(p->prefix, sizeof p->prefix, "%.*s", (int)(eq - s), s);
    snprintf(kind, sizeof kind, "%.*s", (int)strcspn(eq + 1, ":"), eq + 1);
    p->kind = parse_fault(kind);
    p->count = strchr(eq, ':') != NULL ? (int)strtol(strchr(eq, ':') + 1, NULL, 10) : 0;
}

static void load_all(void)
{
    char path[1024];

    load_record(&g.config, "recorded_2022/configuration__get.json",
                "recorded_2022/configuration__get.meta.json");
    load_record(&g.popular, "recorded_2022/person__popular.json",
                "recorded_2022/person__popular.meta.json");
    load_record(&g.top_movie, "recorded_2022/movie__top_rated.json",
                "recorded_2022/movie__top_rated.meta.json");
    load_record(&g.top_tv, "recorded_2022/tv__top_rated.json",
                "recorded_2022/tv__top_rated.meta.json");
    load_record(&g.disc_movie, "recorded_2022/discover__movie.json",
                "recorded_2022/discover__movie.meta.json");
    load_record(&g.disc_tv, "recorded_2022/discover__tv.json",
                "recorded_2022/discover__tv.meta.json");
    load_record(&g.movie_credits, "recorded_2022/movie__cast.json",
                "recorded_2022/movie__cast.meta.json");
    load_record(&g.tv_credits, "responses/tv_series/aggregate_credits.json",
                "recorded_2022/tv__cast.meta.json");
    load_record(&g.images_rec, "responses/people/images.json",
                "recorded_2022/person__images.meta.json");
    snprintf(path, sizeof path, "%s/curl_captures/invalid-api-key.json", g.data);
    g.err_401 = read_text(path);
    snprintf(path, sizeof path, "%s/curl_captures/resource-not-found.json", g.data);
    g.err_404 = read_text(path);
    if (g.images != NULL)
        scan_photos(g.images, 0);
    qsort(g.photos, (size_t)g.nphotos, sizeof g.photos[0], by_name);
}

static void parse_args(int argc, char **argv, const char **port_file)
{
    parse_faults("429,500,502,503,504,slow,reset,truncate,invalid,ctype,oversize,redirect");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (v == NULL) {
            fprintf(stderr, "fake_tmdb: %s needs a value\n", a);
            exit(2);
        }
        i++;
        if (strcmp(a, "--data") == 0)
            g.data = v;
        else if (strcmp(a, "--images") == 0)
            g.images = v;
        else if (strcmp(a, "--key") == 0)
            g.key = v;
        else if (strcmp(a, "--pages") == 0)
            g.pages = (int)strtol(v, NULL, 10);
        else if (strcmp(a, "--cast-max") == 0)
            g.cast_max = (int)strtol(v, NULL, 10);
        else if (strcmp(a, "--missing-mod") == 0)
            g.missing_mod = (int)strtol(v, NULL, 10);
        else if (strcmp(a, "--fault-rate") == 0)
            g.fault_rate = (int)strtol(v, NULL, 10);
        else if (strcmp(a, "--faults") == 0)
            parse_faults(v);
        else if (strcmp(a, "--fault-path") == 0)
            parse_fault_path(v);
        else if (strcmp(a, "--delay-ms") == 0)
            g.delay_ms = (int)strtol(v, NULL, 10);
        else if (strcmp(a, "--slow-ms") == 0)
            g.slow_ms = (int)strtol(v, NULL, 10);
        else if (strcmp(a, "--retry-after") == 0)
            g.retry_after = (int)strtol(v, NULL, 10);
        else if (strcmp(a, "--port-file") == 0)
            *port_file = v;
        else if (strcmp(a, "--log") == 0) {
            g.log = fopen(v, "a");
            if (g.log == NULL)
                die(v);
        } else {
            fprintf(stderr, "fake_tmdb: unknown option %s\n", a);
            exit(2);
        }
    }
    if (g.data == NULL || *port_file == NULL) {
        fprintf(stderr, "usage: fake_tmdb --data TMDB_DIR --port-file FILE [--images DIR] "
                        "[--log FILE] [--key KEY] [--pages N] [--cast-max N] "
                        "[--missing-mod M] [--fault-rate PCT] [--faults K,..] "
                        "[--fault-path P=K[:N]] [--delay-ms MS] [--slow-ms MS] "
                        "[--retry-after S]\n");
        exit(2);
    }
}

int main(int argc, char **argv)
{
    const char *port_file = NULL;
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int fd, one = 1;
    FILE *pf;

    pthread_mutex_init(&g.lock, NULL);
    parse_args(argc, argv, &port_file);
    load_all();
    signal(SIGPIPE, SIG_IGN);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
        die("listening on 127.0.0.1");
    g.port = ntohs(sa.sin_port);
    {
        char tmp[1024];

        snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
        pf = fopen(tmp, "w");
        if (pf == NULL)
            die(tmp);
        fprintf(pf, "%d\n", g.port);
        fclose(pf);
        if (rename(tmp, port_file) != 0)
            die(port_file);
    }
    for (;;) {
        int c = accept(fd, NULL, NULL);
        pthread_t t;

        if (c < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            die("accept");
        }
        if (pthread_create(&t, NULL, serve_conn, (void *)(intptr_t)c) != 0) {
            close(c);
            continue;
        }
        pthread_detach(t);
    }
}
