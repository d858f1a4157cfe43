/*
 * download: libcurl's easy interface, one transfer at a time, appending to the part
 * file as data arrives. The header callback notes the last response's status and the
 * sha256 the server reports; the write callback truncates the part when a resumed
 * request is answered with the whole file.
 */
#include "core/download.h"

#include "core/version.h"
#include "util/progress.h"
#include "util/sha256.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

struct xfer {
    FILE *f;
    long have;         /* bytes in the part before this request */
    long status;       /* status of the response being read */
    int started;       /* the body of the final response has begun */
    char linked[65];   /* the sha256 in X-Linked-Etag, "" when none */
    struct progress bar;
    int progress;      /* 0: none, 1: wanted, 2: the bar runs */
};

/* Copies the 64 hex digits of value (quotes and spaces around them allowed) into out
 * in lower case; leaves out alone when value is not that. */
static void parse_sha(const char *value, size_t n, char out[65])
{
    char v[65];
    size_t k = 0;

    while (n > 0 && (isspace((unsigned char)*value) || *value == '"'))
        value++, n--;
    while (n > 0 && (isspace((unsigned char)value[n - 1]) || value[n - 1] == '"'))
        n--;
    if (n != 64)
        return;
    for (; k < 64; k++) {
        if (!isxdigit((unsigned char)value[k]))
            return;
        v[k] = (char)tolower((unsigned char)value[k]);
    }
    v[64] = '\0';
    memcpy(out, v, sizeof v);
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    struct xfer *x = arg;
    size_t len = size * n;
    static const char linked[] = "x-linked-etag:";

    if (len > 5 && strncmp(p, "HTTP/", 5) == 0) {
        const char *sp = memchr(p, ' ', len);

        x->status = sp ? strtol(sp + 1, NULL, 10) : 0;
    } else if (len > sizeof linked - 1 && strncasecmp(p, linked, sizeof linked - 1) == 0) {
        parse_sha(p + sizeof linked - 1, len - (sizeof linked - 1), x->linked);
    }
    return len;
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    struct xfer *x = arg;
    size_t len = size * n;

    if (!x->started) {
        x->started = 1;
        if (x->status == 200 && x->have > 0) { /* the server ignored the range */
            if (ftruncate(fileno(x->f), 0) != 0 || fseek(x->f, 0, SEEK_SET) != 0)
                return 0;
            x->have = 0;
        }
    }
    if (fwrite(p, 1, len, x->f) != len)
        return 0;
    if (x->progress == 2)
        progress_add(&x->bar, len);
    return len;
}

/* Starts the bar once the size of the whole file is known. */
static int on_progress(void *arg, curl_off_t total, curl_off_t now, curl_off_t ut, curl_off_t un)
{
    struct xfer *x = arg;

    (void)now, (void)ut, (void)un;
    if (x->progress == 1 && total > 0 && x->started) {
        progress_init(&x->bar, "download", (uint64_t)(total + x->have));
        progress_add(&x->bar, (uint64_t)x->have);
        x->progress = 2;
    }
    return 0;
}

/* Runs the transfer into x; returns a download_rc. */
static int transfer(const struct download_opts *o, struct xfer *x, struct err *e)
{
    CURL *c = curl_easy_init();
    char errbuf[CURL_ERROR_SIZE] = "";
    CURLcode cc;

    if (c == NULL) {
        err_set(e, "libcurl could not start");
        return DOWNLOAD_ERR_NET;
    }
    curl_easy_setopt(c, CURLOPT_URL, o->url);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "doppel/" DOPPEL_VERSION);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, o->stall_seconds > 0 ? o->stall_seconds : 60L);
    curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)x->have);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    cc = curl_easy_perform(c);
    curl_easy_cleanup(c);
    if (x->status == 416 && x->have > 0)
        return DOWNLOAD_OK; /* the part is already whole */
    if (x->status >= 400) {
        err_set(e, "%s: HTTP %ld", o->url, x->status);
        return DOWNLOAD_ERR_NET;
    }
    if (cc != CURLE_OK) {
        err_set(e, "%s: %s", o->url, errbuf[0] ? errbuf : curl_easy_strerror(cc));
        return cc == CURLE_WRITE_ERROR ? DOWNLOAD_ERR_IO : DOWNLOAD_ERR_NET;
    }
    return DOWNLOAD_OK;
}

/* Checks the part's digest against the expected one and renames it into place. */
static int finish(const struct download_opts *o, const char *part, const struct xfer *x,
                  char *sha256_out, struct err *e)
{
    char got[SHA256_HEX_LEN + 1], want[65] = "";

    if (o->sha256 != NULL)
        parse_sha(o->sha256, strlen(o->sha256), want);
    else
        memcpy(want, x->linked, sizeof want);
    if (want[0] == '\0') {
        err_set(e, "%s: no sha256 to check against (give one with --sha256)", o->url);
        return DOWNLOAD_ERR_NO_SUM;
    }
    if (sha256_file_hex(part, got) != 0) {
        err_set(e, "%s: %s", part, strerror(errno));
        return DOWNLOAD_ERR_IO;
    }
    if (strcmp(got, want) != 0) {
        unlink(part);
        err_set(e, "%s: sha256 %s, expected %s; the download was deleted", o->url, got, want);
        return DOWNLOAD_ERR_CHECKSUM;
    }
    if (rename(part, o->dest) != 0) {
        err_set(e, "%s: %s", o->dest, strerror(errno));
        return DOWNLOAD_ERR_IO;
    }
    if (sha256_out != NULL)
        memcpy(sha256_out, got, sizeof got);
    return DOWNLOAD_OK;
}

int download_file(const struct download_opts *o, char *sha256_out, struct err *e)
{
    char part[4200];
    struct xfer x = {.progress = o->progress != 0};
    struct stat sb;
    int rc;

    if (snprintf(part, sizeof part, "%s.part", o->dest) >= (int)sizeof part) {
        err_set(e, "%s: path too long", o->dest);
        return DOWNLOAD_ERR_IO;
    }
    x.f = fopen(part, "ab");
    if (x.f == NULL) {
        err_set(e, "%s: %s", part, strerror(errno));
        return DOWNLOAD_ERR_IO;
    }
    x.have = fstat(fileno(x.f), &sb) == 0 ? (long)sb.st_size : 0;
    rc = transfer(o, &x, e);
    if (fclose(x.f) != 0 && rc == DOWNLOAD_OK) {
        err_set(e, "%s: %s", part, strerror(errno));
        rc = DOWNLOAD_ERR_IO;
    }
    if (x.progress == 2)
        progress_finish(&x.bar);
    return rc == DOWNLOAD_OK ? finish(o, part, &x, sha256_out, e) : rc;
}
