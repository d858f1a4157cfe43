/*
 * tmdb/client: HTTP for the crawler: a batch of requests run over a bounded number of
 * concurrent connections (curl multi, keep-alive, gzip), spaced by the shared rate
 * limiter (limiter.h), each retried as TMDB's errors deserve.
 *
 * The retry policy: 429 waits for its Retry-After (the whole client pauses, since the
 * limit is per key); 5xx, 408, timeouts, connection failures, truncated or oversize
 * bodies, a wrong Content-Type, invalid JSON and redirect loops are retried with
 * exponential backoff and full jitter, up to opts.attempts tries; 401 (a bad key) and
 * every other 4xx (404: no such id) are final at once and reported, with TMDB's
 * status_message when the body has one. Every request has a connect and a total
 * timeout, a size cap, a User-Agent naming doppel, and only http(s), also on redirects.
 *
 * The API key is a v3 key (sent as the api_key parameter) or a v4 read access token
 * (a JWT, sent as "Authorization: Bearer"); it never appears in messages.
 *
 * Batches keep the crawler simple: it hands over the requests of one unit of work (a
 * few pages, a few people's images), gets every answer back, and commits. A stop flag
 * (SIGINT) lets requests in flight finish and starts no new ones.
 */
#ifndef DOPPEL_TMDB_CLIENT_H
#define DOPPEL_TMDB_CLIENT_H

#include "util/buf.h"
#include "util/err.h"

#include <signal.h>
#include <stddef.h>

enum tmdb_rc {
    TMDB_OK = 0,
    TMDB_ERR_HTTP,    /* a final HTTP error other than 401 (404: no such id); not retried */
    TMDB_ERR_AUTH,    /* 401: the key was refused */
    TMDB_ERR_FAILED,  /* still failing after every attempt */
    TMDB_ERR_STOPPED, /* not done: the stop flag was raised */
    TMDB_ERR_SETUP,   /* curl could not be set up */
};

enum tmdb_req_kind {
    TMDB_REQ_JSON = 0, /* an API call: application/json, checked to parse */
    TMDB_REQ_IMAGE,    /* an image download: any image type */
};

#define TMDB_URL_LEN 1024

struct tmdb_client_opts {
    const char *api_base;        /* e.g. "https://api.themoviedb.org/3"; borrowed */
    const char *key;             /* v3 key or v4 token; NULL or "" = none; borrowed */
    int connections;             /* concurrent connections; 0 = 8 */
    int rate;                    /* requests per window; 0 = unlimited */
    double window;               /* seconds; 0 = 10 */
    long connect_timeout_ms;     /* 0 = 10 000 */
    long timeout_ms;             /* whole request; 0 = 60 000 */
    int attempts;                /* tries per request; 0 = 8 */
    long backoff_ms;             /* first retry delay before jitter; 0 = 1000 */
    long backoff_max_ms;         /* 0 = 60 000 */
    long retry_after_max_s;      /* longest Retry-After honoured; 0 = 600 */
    size_t json_max;             /* API body cap; 0 = 8 MiB */
    size_t image_max;            /* image body cap; 0 = 32 MiB */
    volatile sig_atomic_t *stop; /* raised by a signal handler; may be NULL */
};

struct tmdb_req {
    char url[TMDB_URL_LEN]; /* set by the caller (tmdb_client_api_url for API calls) */
    int kind;               /* enum tmdb_req_kind */
    /* results */
    int rc;          /* enum tmdb_rc */
    long http;       /* the last HTTP status, 0 when none came */
    struct buf body; /* the body of the final response; caller releases with buf_release */
    int attempts;    /* tries made */
    char error[256]; /* why rc is not TMDB_OK */
    /* the client's */
    int state;
    double next_at;
    int token;
    size_t cap;
    int oversize;
    void *easy;
};

/* Counters over the client's life. */
struct tmdb_client_stats {
    long requests; /* attempts sent */
    long ok;
    long retries;
    long throttled; /* 429s */
    long failed;    /* requests given up or refused */
};

struct tmdb_client;

/* Makes a client (opts copied; its strings borrowed for the client's life). Returns
 * TMDB_OK or TMDB_ERR_SETUP with e set. Caller frees with tmdb_client_free. */
int tmdb_client_new(const struct tmdb_client_opts *opts, struct tmdb_client **out, struct err *e);

/* Frees the client; cl may be NULL. */
void tmdb_client_free(struct tmdb_client *cl);

/* Writes the API URL of path_query ("/person/popular?page=2") into out (TMDB_URL_LEN
 * bytes), with the v3 key when there is one. Returns 0, or -1 when it does not fit. */
int tmdb_client_api_url(const struct tmdb_client *cl, const char *path_query, char *out);

/* Runs the n requests of reqs (zeroed once by the caller, then url and kind set; the
 * results are reset here, the body buffer reused) until each has its final rc. Returns TMDB_OK when
 * all ran (look at each rc), or TMDB_ERR_SETUP. */
int tmdb_client_run(struct tmdb_client *cl, struct tmdb_req *reqs, int n, struct err *e);

/* Copies the counters into out. */
void tmdb_client_stats(const struct tmdb_client *cl, struct tmdb_client_stats *out);

/* Returns a short name for rc ("ok", "http", ...). Static string. */
const char *tmdb_rc_name(int rc);

#endif
