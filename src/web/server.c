/*
 * server: libmicrohttpd glue. MHD runs a pool of threads, each polling its share of the
 * connections (epoll where available), so a slow client holds a connection slot and
 * nothing else: a thread only works for a request once its headers and body are in.
 * Limits: a connection count, a per-IP share of it, an idle timeout, a per-connection
 * memory pool that caps the request line and headers (MHD answers 431 past it), and the
 * upload cap, checked against Content-Length before reading and again while streaming
 * (413). An upload's multipart body is parsed by MHD's post processor into one capped
 * buffer in memory; nothing is written to disk.
 */
#include "web/priv.h"

#include "util/log.h"
#include "util/xalloc.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define CONN_MEMORY (64 * 1024) /* request line + headers + MHD's buffers, per connection */
#define POST_BUFFER (64 * 1024)
#define SECURITY_CSP                                                                               \
    "default-src 'self'; script-src 'self'; style-src 'self'; "                                    \
    "img-src 'self' data: https://image.tmdb.org; connect-src 'self'; "                            \
    "media-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; "                            \
    "form-action 'self'"

struct web_server {
    struct web_opts opts;
    struct MHD_Daemon *d;
    struct web_state state;
    struct web_assets *assets;
    int npool;
    int port;
    int models_kept; /* the last reload moved the loaded photo models over */
};

/* What one connection's request gathers before it is answered. */
struct conn_ctx {
    struct MHD_PostProcessor *pp;
    struct buf photo;
    int has_photo;
    int status;       /* an error status earned while reading the body, 0 = none */
    int answered;     /* the answer was queued before the body (Content-Length too large) */
    size_t discarded; /* body bytes read and dropped after the cap */
};

static enum MHD_Result on_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *filename, const char *type, const char *enc,
                                const char *data, uint64_t off, size_t size)
{
    struct conn_ctx *cc = cls;

    (void)kind, (void)filename, (void)type, (void)enc, (void)off;
    if (strcmp(key, "photo") != 0)
        return MHD_YES;
    cc->has_photo = 1;
    if (size > 0 && buf_append(&cc->photo, data, size) != BUF_OK) {
        cc->status = 413;
        return MHD_NO;
    }
    return MHD_YES;
}

static const char *conn_arg(void *ctx, const char *name)
{
    return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, name);
}

static const char *header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static void add_headers(struct MHD_Response *m, const struct web_resp *resp)
{
    MHD_add_response_header(m, "Content-Type", resp->type);
    MHD_add_response_header(m, "Cache-Control", resp->cache ? resp->cache : "no-store");
    MHD_add_response_header(m, "Content-Security-Policy", SECURITY_CSP);
    MHD_add_response_header(m, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(m, "X-Frame-Options", "DENY");
    MHD_add_response_header(m, "Referrer-Policy", "same-origin");
    if (resp->vary_hx)
        MHD_add_response_header(m, "Vary", "HX-Request, HX-Target");
    if (resp->location[0])
        MHD_add_response_header(m, "Location", resp->location);
}

static enum MHD_Result send_resp(struct MHD_Connection *c, struct web_resp *resp, int close)
{
    struct MHD_Response *m;
    enum MHD_Result ok;

    if (resp->data != NULL) {
        m = MHD_create_response_from_buffer(resp->data_len, (void *)resp->data,
                                            MHD_RESPMEM_PERSISTENT);
    } else {
        size_t len;
        char *body = buf_detach(&resp->body, &len);

        m = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
        if (m == NULL)
            free(body);
    }
    if (m == NULL)
        return MHD_NO;
    add_headers(m, resp);
    if (close)
        MHD_add_response_header(m, "Connection", "close");
    ok = MHD_queue_response(c, (unsigned)resp->status, m);
    MHD_destroy_response(m);
    return ok;
}

static void resp_init(struct web_resp *resp)
{
    memset(resp, 0, sizeof *resp);
    resp->status = 200;
    resp->type = "text/html; charset=utf-8";
    buf_init(&resp->body, WEB_BODY_MAX);
}

static int is_api(const char *url)
{
    return strncmp(url, "/api/", 5) == 0;
}

/* Answers an error found before routing (an upload too large, a broken body). */
static enum MHD_Result send_early(struct web_server *w, struct MHD_Connection *c, const char *url,
                                  int status, const char *msg)
{
    struct web_req r = {0};
    struct web_resp resp;
    enum MHD_Result ok;

    resp_init(&resp);
    r.method = "POST", r.path = url, r.opts = &w->opts;
    r.assets = w->assets;
    r.hx = header(c, "HX-Request") != NULL;
    if (is_api(url))
        web_api_error(&resp, status, msg);
    else
        web_page_error(&r, &resp, status, msg);
    ok = send_resp(c, &resp, 1);
    buf_release(&resp.body);
    return ok;
}

/* The first call of a request: headers are in. Sets up the body's parser for POST. */
static enum MHD_Result on_start(struct web_server *w, struct MHD_Connection *c, const char *url,
                                const char *method, void **con_cls)
{
    struct conn_ctx *cc = xcalloc(1, sizeof *cc);
    const char *len = header(c, "Content-Length");

    buf_init(&cc->photo, WEB_UPLOAD_MAX);
    *con_cls = cc;
    if (strcmp(method, "POST") != 0)
        return MHD_YES;
    if (len != NULL && strtoull(len, NULL, 10) > WEB_UPLOAD_MAX) {
        cc->status = 413;
        cc->answered = 1;
        return send_early(w, c, url, 413, "the upload is over 25 MB");
    }
    cc->pp = MHD_create_post_processor(c, POST_BUFFER, on_field, cc);
    return MHD_YES;
}

/* Feeds the body to the multipart parser. Past the cap (a chunked body has no length to
 * check first) the rest is read and dropped so the 413 can be sent once it ends; a body
 * that goes on past twice the cap is cut off by closing the connection. */
static enum MHD_Result on_body(struct conn_ctx *cc, const char *data, size_t *size)
{
    size_t n = *size;

    *size = 0;
    if (cc->answered)
        return MHD_YES; /* already answered; MHD discards the rest */
    if (cc->status != 0) {
        cc->discarded += n;
        return cc->discarded > WEB_UPLOAD_MAX ? MHD_NO : MHD_YES;
    }
    if (cc->pp != NULL && MHD_post_process(cc->pp, data, n) != MHD_YES && cc->status == 0)
        cc->status = 400;
    return MHD_YES;
}

static enum MHD_Result on_done(struct web_server *w, struct MHD_Connection *c, const char *url,
                               const char *method, struct conn_ctx *cc)
{
    const char *restore = header(c, "HX-History-Restore-Request");
    const char *target = header(c, "HX-Target");
    struct web_req r = {0};
    struct web_resp resp;
    struct arena arena;
    enum MHD_Result ok;

    if (cc->answered)
        return MHD_YES;
    if (cc->status != 0)
        return send_early(w, c, url, cc->status,
                          cc->status == 413 ? "the upload is over 25 MB"
                                            : "the request body is not a valid multipart form");
    resp_init(&resp);
    r.method = method, r.path = url, r.arg = conn_arg, r.ctx = c, r.opts = &w->opts;
    r.hx = header(c, "HX-Request") != NULL && !(restore && strcmp(restore, "true") == 0);
    r.hx_suggest = r.hx && target != NULL && strcmp(target, "suggest") == 0;
    r.state = &w->state;
    r.assets = w->assets;
    arena_init(&arena, 0);
    r.arena = &arena;
    if (cc->has_photo || cc->pp != NULL) {
        r.upload = (const unsigned char *)buf_str(&cc->photo);
        r.upload_len = cc->photo.len;
        if (!cc->has_photo)
            r.upload = NULL;
    }
    if (strncmp(url, "/static/", 8) != 0 || !web_assets_serve(w->assets, url + 8, &resp)) {
        r.snap = web_snap_acquire(&w->state);
        web_route(&r, &resp);
        web_snap_release(&w->state, r.snap);
    }
    arena_release(&arena);
    ok = send_resp(c, &resp, 0);
    buf_release(&resp.body);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **con_cls)
{
    struct web_server *w = cls;

    (void)version;
    if (*con_cls == NULL)
        return on_start(w, c, url, method, con_cls);
    if (*size > 0)
        return on_body(*con_cls, data, size);
    return on_done(w, c, url, method, *con_cls);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode code)
{
    struct conn_ctx *cc = *con_cls;

    (void)cls, (void)c, (void)code;
    if (cc == NULL)
        return;
    if (cc->pp != NULL)
        MHD_destroy_post_processor(cc->pp);
    buf_release(&cc->photo);
    free(cc);
    *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];

    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    log_msg(LOG_DEBUG, "http: %s", msg);
}

static int parse_bind(const char *bind, int port, struct sockaddr_storage *sa, int *v6)
{
    struct sockaddr_in *a4 = (struct sockaddr_in *)sa;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)sa;

    memset(sa, 0, sizeof *sa);
    *v6 = 0;
    if (inet_pton(AF_INET, bind, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        return 0;
    }
    if (inet_pton(AF_INET6, bind, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *v6 = 1;
        return 0;
    }
    return -1;
}

static int start_daemon(struct web_server *w, struct err *e)
{
    const struct web_opts *o = &w->opts;
    struct sockaddr_storage sa;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
    const union MHD_DaemonInfo *info;
    int v6;

    if (parse_bind(o->bind, o->port, &sa, &v6) != 0) {
        err_set(e, "--bind takes an IP address, not '%s'", o->bind);
        return WEB_ERR_START;
    }
    if (v6)
        flags |= MHD_USE_IPv6;
    w->d = MHD_start_daemon(
        flags, (uint16_t)o->port, NULL, NULL, on_request, w, MHD_OPTION_SOCK_ADDR, &sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)w->npool, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)o->conn_limit, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)o->conn_limit,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)o->timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)CONN_MEMORY, MHD_OPTION_NOTIFY_COMPLETED, on_completed, w,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, w, MHD_OPTION_END);
    if (w->d == NULL) {
        err_set(e, "cannot listen on %s port %d (in use, or not an address of this machine)",
                o->bind, o->port);
        return WEB_ERR_START;
    }
    info = MHD_get_daemon_info(w->d, MHD_DAEMON_INFO_BIND_PORT);
    w->port = info != NULL ? info->port : o->port;
    return WEB_OK;
}

int web_server_start(const struct web_opts *o, struct web_server **out, struct err *e)
{
    struct web_server *w = xcalloc(1, sizeof *w);
    int rc;

    *out = NULL;
    w->opts = *o;
    if (w->opts.bind == NULL)
        w->opts.bind = "127.0.0.1";
    if (w->opts.conn_limit <= 0)
        w->opts.conn_limit = 512;
    if (w->opts.timeout_s <= 0)
        w->opts.timeout_s = 15;
    w->npool = o->threads > 0 ? o->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    w->npool = w->npool < 1 ? 1 : w->npool > 64 ? 64 : w->npool;
    pthread_mutex_init(&w->state.mu, NULL);
    web_snap_signature(o->data_dir, w->state.sig);
    rc = web_assets_load(&w->opts, &w->assets, e);
    if (rc == WEB_OK)
        rc = web_snap_open(&w->opts, w->npool, ++w->state.generations, &w->state.cur, e);
    if (rc == WEB_OK)
        rc = start_daemon(w, e);
    if (rc != WEB_OK) {
        web_server_stop(w);
        return rc;
    }
    *out = w;
    return WEB_OK;
}

int web_server_port(const struct web_server *w)
{
    return w->port;
}

int web_server_models_kept(const struct web_server *w)
{
    return w->models_kept;
}

int web_server_reload(struct web_server *w, struct err *e)
{
    struct web_snap *next, *old;
    long sig[WEB_SIG_LEN];

    web_snap_signature(w->opts.data_dir, sig);
    if (web_snap_open(&w->opts, w->npool, w->state.generations + 1, &next, e) != WEB_OK)
        return WEB_ERR_DATA;
    /* The photo models carry over: the state's own reference keeps old alive here, and
     * its photo lock waits out a query in flight. */
    pthread_mutex_lock(&w->state.mu);
    old = w->state.cur;
    pthread_mutex_unlock(&w->state.mu);
    pthread_mutex_lock(&old->photo_mu);
    w->models_kept = search_adopt_models(next->photo, old->photo);
    pthread_mutex_unlock(&old->photo_mu);
    pthread_mutex_lock(&w->state.mu);
    w->state.cur = next;
    w->state.generations++;
    memcpy(w->state.sig, sig, sizeof sig);
    pthread_mutex_unlock(&w->state.mu);
    web_snap_release(&w->state, old);
    return WEB_OK;
}

int web_server_check(struct web_server *w, int *reloaded, struct err *e)
{
    long sig[WEB_SIG_LEN];

    *reloaded = 0;
    web_snap_signature(w->opts.data_dir, sig);
    if (memcmp(sig, w->state.sig, sizeof sig) == 0)
        return WEB_OK;
    /* A file that does not open is reported once; the next replacement tries again. */
    if (web_server_reload(w, e) != WEB_OK) {
        pthread_mutex_lock(&w->state.mu);
        memcpy(w->state.sig, sig, sizeof sig);
        pthread_mutex_unlock(&w->state.mu);
        return WEB_ERR_DATA;
    }
    *reloaded = 1;
    return WEB_OK;
}

void web_server_stop(struct web_server *w)
{
    if (w == NULL)
        return;
    if (w->d != NULL)
        MHD_stop_daemon(w->d);
    web_snap_release(&w->state, w->state.cur);
    web_assets_free(w->assets);
    pthread_mutex_destroy(&w->state.mu);
    free(w);
}
