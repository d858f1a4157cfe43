/*
 * tmdb/client: a batch of HTTP requests over curl multi, rate-limited and retried
 * (client.h).
 *
 * One loop: start every request that is due while connections and tokens allow, let
 * curl work until something finishes or the next request is due (at most 100 ms, so a
 * stop flag is seen promptly), then classify each finished transfer as done, final
 * failure or retry-at-time-t. The multi handle keeps the connection cache, so easy
 * handles are made per attempt and connections are still reused.
 */
#include "tmdb/client.h"

#include "core/version.h"
#include "tmdb/limiter.h"
#include "tmdb/parse.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define USER_AGENT "doppel/" DOPPEL_VERSION " (look-alike search; TMDB crawler)"

enum req_state {
    REQ_WAIT = 0, /* due at next_at */
    REQ_FLIGHT,
    REQ_DONE,
};

struct tmdb_client {
    struct tmdb_client_opts o;
    CURLM *multi;
    struct curl_slist *headers;
    struct tmdb_limiter lim;
    struct tmdb_client_stats st;
    int bearer;   /* the key is a v4 token */
    uint64_t rng; /* xorshift state for jitter */
};

static int curl_ready;

/* Fills the defaults of zero options. */
static void opts_defaults(struct tmdb_client_opts *o)
{
    if (o->connections <= 0)
        o->connections = 8;
    if (o->window <= 0)
        o->window = 10;
    if (o->connect_timeout_ms <= 0)
        o->connect_timeout_ms = 10000;
    if (o->timeout_ms <= 0)
        o->timeout_ms = 60000;
    if (o->attempts <= 0)
        o->attempts = 8;
    if (o->backoff_ms <= 0)
        o->backoff_ms = 1000;
    if (o->backoff_max_ms <= 0)
        o->backoff_max_ms = 60000;
    if (o->retry_after_max_s <= 0)
        o->retry_after_max_s = 600;
    if (o->json_max == 0)
        o->json_max = (size_t)8 << 20;
    if (o->image_max == 0)
        o->image_max = (size_t)32 << 20;
    if (o->key != NULL && o->key[0] == '\0')
        o->key = NULL;
}

/* A v4 read access token is a JWT: long, three dot-separated parts. */
static int is_v4_token(const char *key)
{
    const char *dot = strchr(key, '.');

    return strlen(key) > 64 && dot != NULL && strchr(dot + 1, '.') != NULL;
}

int tmdb_client_new(const struct tmdb_client_opts *opts, struct tmdb_client **out, struct err *e)
{
    struct tmdb_client *cl = xcalloc(1, sizeof *cl);
    char auth[1024];

    *out = NULL;
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            err_set(e, "libcurl could not be initialised");
            free(cl);
            return TMDB_ERR_SETUP;
        }
        curl_ready = 1;
    }
    cl->o = *opts;
    opts_defaults(&cl->o);
    cl->multi = curl_multi_init();
    if (cl->multi == NULL) {
        err_set(e, "libcurl could not make a multi handle");
        free(cl);
        return TMDB_ERR_SETUP;
    }
    curl_multi_setopt(cl->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)cl->o.connections);
    curl_multi_setopt(cl->multi, CURLMOPT_MAXCONNECTS, (long)cl->o.connections);
    cl->headers = curl_slist_append(NULL, "Accept: application/json, image/*");
    cl->bearer = cl->o.key != NULL && is_v4_token(cl->o.key);
    if (cl->bearer) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", cl->o.key);
        cl->headers = curl_slist_append(cl->headers, auth);
    }
    tmdb_limiter_init(&cl->lim, cl->o.rate, cl->o.window);
    cl->rng = (uint64_t)getpid() * 0x9E3779B97F4A7C15ull ^ (uint64_t)(clock_now() * 1e9);
    cl->rng |= 1;
    *out = cl;
    return TMDB_OK;
}

void tmdb_client_free(struct tmdb_client *cl)
{
    if (cl == NULL)
        return;
    curl_multi_cleanup(cl->multi);
    curl_slist_free_all(cl->headers);
    tmdb_limiter_release(&cl->lim);
    free(cl);
}

int tmdb_client_api_url(const struct tmdb_client *cl, const char *path_query, char *out)
{
    int n;

    if (cl->o.key != NULL && !cl->bearer)
        n = snprintf(out, TMDB_URL_LEN, "%s%s%capi_key=%s", cl->o.api_base, path_query,
                     strchr(path_query, '?') != NULL ? '&' : '?', cl->o.key);
    else
        n = snprintf(out, TMDB_URL_LEN, "%s%s", cl->o.api_base, path_query);
    return n > 0 && n < TMDB_URL_LEN ? 0 : -1;
}

/* Returns a uniform double in [0, 1). */
static double rng_next(struct tmdb_client *cl)
{
    cl->rng ^= cl->rng << 13;
    cl->rng ^= cl->rng >> 7;
    cl->rng ^= cl->rng << 17;
    return (double)(cl->rng >> 11) / 9007199254740992.0;
}

/* Seconds before retry number attempt (1 = the first retry): exponential, capped, with
 * full jitter in its upper half. */
static double backoff(struct tmdb_client *cl, int attempt)
{
    double d = (double)cl->o.backoff_ms / 1000.0;
    double cap = (double)cl->o.backoff_max_ms / 1000.0;

    for (int i = 1; i < attempt && d < cap; i++)
        d *= 2;
    if (d > cap)
        d = cap;
    return d * (0.5 + 0.5 * rng_next(cl));
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ctx)
{
    struct tmdb_req *r = ctx;
    size_t n = size * nmemb;

    if (r->body.len + n > r->cap || buf_append(&r->body, p, n) != BUF_OK) {
        r->oversize = 1;
        return 0;
    }
    return n;
}

/* Makes the easy handle of r's next attempt. */
static CURL *make_easy(struct tmdb_client *cl, struct tmdb_req *r)
{
    CURL *h = curl_easy_init();

    if (h == NULL)
        return NULL;
    r->cap = r->kind == TMDB_REQ_IMAGE ? cl->o.image_max : cl->o.json_max;
    curl_easy_setopt(h, CURLOPT_URL, r->url);
    curl_easy_setopt(h, CURLOPT_PRIVATE, r);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, cl->headers);
    curl_easy_setopt(h, CURLOPT_USERAGENT, USER_AGENT);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, cl->o.connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, cl->o.timeout_ms);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)r->cap);
    return h;
}

/* Starts r's next attempt with token; 0, or -1 when curl refuses. */
static int start(struct tmdb_client *cl, struct tmdb_req *r, int token)
{
    CURL *h = make_easy(cl, r);

    if (h == NULL || curl_multi_add_handle(cl->multi, h) != CURLM_OK) {
        curl_easy_cleanup(h);
        return -1;
    }
    buf_reset(&r->body);
    r->oversize = 0;
    r->easy = h;
    r->token = token;
    r->state = REQ_FLIGHT;
    r->attempts++;
    cl->st.requests++;
    return 0;
}

/* Ends r with rc and a reason. */
static void finish(struct tmdb_client *cl, struct tmdb_req *r, int rc, const char *why)
{
    r->rc = rc;
    r->state = REQ_DONE;
    snprintf(r->error, sizeof r->error, "%s", why);
    if (rc == TMDB_OK)
        cl->st.ok++;
    else if (rc != TMDB_ERR_STOPPED)
        cl->st.failed++;
}

/* Schedules another try of r after delay seconds, or ends it when it is out of tries
 * or the client is stopping. */
static void retry(struct tmdb_client *cl, struct tmdb_req *r, double delay, const char *why)
{
    if (cl->o.stop != NULL && *cl->o.stop) {
        finish(cl, r, TMDB_ERR_STOPPED, "stopped");
        return;
    }
    if (r->attempts >= cl->o.attempts) {
        char msg[256];

        snprintf(msg, sizeof msg, "%.200s (gave up after %d tries)", why, r->attempts);
        finish(cl, r, TMDB_ERR_FAILED, msg);
        return;
    }
    log_debug("tmdb: retry in %.2f s: %s", delay, why);
    snprintf(r->error, sizeof r->error, "%s", why);
    cl->st.retries++;
    r->state = REQ_WAIT;
    r->next_at = clock_now() + delay;
}

/* A final 4xx: TMDB's message when the body has one. */
static void refuse(struct tmdb_client *cl, struct tmdb_req *r)
{
    struct tmdb_error te;
    struct err pe;
    char msg[256];

    if (tmdb_parse_error(buf_str(&r->body), r->body.len, &te, &pe) != TMDB_PARSE_OK ||
        te.message[0] == '\0')
        snprintf(te.message, sizeof te.message, "no message");
    snprintf(msg, sizeof msg, "HTTP %ld: %.200s", r->http, te.message);
    finish(cl, r, r->http == 401 ? TMDB_ERR_AUTH : TMDB_ERR_HTTP, msg);
}

/* Checks a 200 response's type and, for JSON, that it parses. */
static void accept_ok(struct tmdb_client *cl, struct tmdb_req *r, const char *ctype)
{
    const char *want = r->kind == TMDB_REQ_IMAGE ? "image/" : "application/json";
    json_error_t je;
    json_t *j;

    if (ctype == NULL || strncmp(ctype, want, strlen(want)) != 0) {
        retry(cl, r, backoff(cl, r->attempts), "unexpected Content-Type");
        return;
    }
    if (r->kind == TMDB_REQ_JSON) {
        j = json_loadb(buf_str(&r->body), r->body.len, 0, &je);
        if (j == NULL) {
            retry(cl, r, backoff(cl, r->attempts), "invalid JSON");
            return;
        }
        json_decref(j);
    }
    finish(cl, r, TMDB_OK, "");
}

/* Classifies the finished attempt of r (curl's result cc). */
static void classify(struct tmdb_client *cl, struct tmdb_req *r, CURLcode cc)
{
    CURL *h = r->easy;
    char *ctype = NULL;
    curl_off_t ra = -1;
    char why[256];

    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->http);
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ctype);
    curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &ra);
    if (r->oversize || cc == CURLE_FILESIZE_EXCEEDED) {
        snprintf(why, sizeof why, "the response is over %zu bytes", r->cap);
        retry(cl, r, backoff(cl, r->attempts), why);
    } else if (cc != CURLE_OK) {
        snprintf(why, sizeof why, "%s", curl_easy_strerror(cc));
        retry(cl, r, backoff(cl, r->attempts), why);
    } else if (r->http == 200) {
        accept_ok(cl, r, ctype);
    } else if (r->http == 429) {
        double wait = ra > 0 ? (double)ra : 10.0;

        if (wait > (double)cl->o.retry_after_max_s)
            wait = (double)cl->o.retry_after_max_s;
        cl->st.throttled++;
        tmdb_limiter_pause(&cl->lim, clock_now() + wait);
        retry(cl, r, wait, "HTTP 429: over the rate limit");
    } else if (r->http >= 500 || r->http == 408) {
        snprintf(why, sizeof why, "HTTP %ld", r->http);
        retry(cl, r, backoff(cl, r->attempts), why);
    } else if (r->http >= 400) {
        refuse(cl, r);
    } else {
        snprintf(why, sizeof why, "unexpected HTTP %ld", r->http);
        retry(cl, r, backoff(cl, r->attempts), why);
    }
}

/* Reads curl's finished transfers, returns their tokens, classifies them. */
static void reap(struct tmdb_client *cl, int *inflight)
{
    CURLMsg *m;
    int left;

    while ((m = curl_multi_info_read(cl->multi, &left)) != NULL) {
        struct tmdb_req *r = NULL;

        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        tmdb_limiter_give(&cl->lim, r->token, clock_now());
        classify(cl, r, m->data.result);
        curl_multi_remove_handle(cl->multi, r->easy);
        curl_easy_cleanup(r->easy);
        r->easy = NULL;
        (*inflight)--;
    }
}

/* Starts what is due; returns the seconds until something else may be. */
static double launch(struct tmdb_client *cl, struct tmdb_req *reqs, int n, int *inflight,
                     struct err *e, int *failed)
{
    double now = clock_now(), wake = 0.1;
    int stopping = cl->o.stop != NULL && *cl->o.stop;

    for (int i = 0; i < n; i++) {
        struct tmdb_req *r = &reqs[i];
        double wait;
        int token;

        if (r->state != REQ_WAIT)
            continue;
        if (stopping) {
            finish(cl, r, TMDB_ERR_STOPPED, "stopped");
            continue;
        }
        if (*inflight >= cl->o.connections)
            break;
        if (r->next_at > now) {
            wake = fmin(wake, r->next_at - now);
            continue;
        }
        if (!tmdb_limiter_take(&cl->lim, now, &token, &wait)) {
            wake = fmin(wake, wait);
            break;
        }
        if (start(cl, r, token) != 0) {
            tmdb_limiter_give(&cl->lim, token, now);
            err_set(e, "libcurl could not start a request");
            *failed = 1;
            break;
        }
        (*inflight)++;
    }
    return wake;
}

/* Returns 1 while some request has no final rc. */
static int pending(const struct tmdb_req *reqs, int n)
{
    for (int i = 0; i < n; i++) {
        if (reqs[i].state != REQ_DONE)
            return 1;
    }
    return 0;
}

int tmdb_client_run(struct tmdb_client *cl, struct tmdb_req *reqs, int n, struct err *e)
{
    int inflight = 0, failed = 0, running;

    for (int i = 0; i < n; i++) {
        struct tmdb_req *r = &reqs[i];

        if (r->body.max == 0)
            buf_init(&r->body, 0);
        r->rc = TMDB_ERR_FAILED;
        r->http = 0;
        r->attempts = 0;
        r->error[0] = '\0';
        r->state = REQ_WAIT;
        r->next_at = 0;
        r->token = -1;
        r->easy = NULL;
    }
    while (!failed && pending(reqs, n)) {
        double wake = launch(cl, reqs, n, &inflight, e, &failed);

        curl_multi_perform(cl->multi, &running);
        reap(cl, &inflight);
        if (!pending(reqs, n))
            break;
        curl_multi_poll(cl->multi, NULL, 0, (int)ceil(fmax(wake, 0.001) * 1000), NULL);
    }
    while (failed && inflight > 0) {
        curl_multi_perform(cl->multi, &running);
        reap(cl, &inflight);
        curl_multi_poll(cl->multi, NULL, 0, 100, NULL);
    }
    return failed ? TMDB_ERR_SETUP : TMDB_OK;
}

void tmdb_client_stats(const struct tmdb_client *cl, struct tmdb_client_stats *out)
{
    *out = cl->st;
}

const char *tmdb_rc_name(int rc)
{
    static const char *const names[] = {"ok", "http", "auth", "failed", "stopped", "setup"};

    return rc >= 0 && rc < (int)(sizeof names / sizeof names[0]) ? names[rc] : "?";
}
