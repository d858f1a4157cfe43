/*
 * web: `doppel serve`, the web app and its JSON API over HTTP (libmicrohttpd).
 *
 * A thread pool answers requests; each request borrows one search handle (a catalogue
 * connection and the memory-mapped indexes) from the current snapshot and gives it back
 * when its response is built. A snapshot is refcounted: reloading (SIGHUP, or index files
 * replaced by `doppel index build`) opens a complete new snapshot first, swaps the
 * pointer, and the old one is closed by the last request that still holds it, so no
 * request fails or waits during a swap. Pages are server-rendered HTML, every dynamic
 * value escaped by the template writer (web/html.h); HTMX requests (HX-Request) get the
 * page's main fragment, others the whole page.
 */
#ifndef DOPPEL_WEB_H
#define DOPPEL_WEB_H

#include "util/err.h"

#include <stddef.h>

enum web_rc {
    WEB_OK = 0,
    WEB_ERR_START, /* the port cannot be bound, or the server does not start */
    WEB_ERR_DATA,  /* the catalogue or an index does not open */
    WEB_ERR_ASSETS /* the web assets folder is missing a file */
};

#define WEB_UPLOAD_MAX ((size_t)25 << 20) /* bytes of a request body */

struct web_opts {
    const char *bind;       /* address to listen on; NULL = 127.0.0.1 */
    int port;               /* 0 = any free port (see web_server_port) */
    int threads;            /* request threads; 0 = every core */
    const char *data_dir;   /* borrowed for the server's life */
    const char *models_dir; /* for photo queries and the htmx asset; may be NULL */
    const char *web_dir;    /* static assets (style.css, app.js) */
    int hotlink;            /* 1: photos with an http(s) source are redirected to it */
    int conn_limit;         /* open connections; 0 = 512 */
    int timeout_s;          /* idle connection timeout; 0 = 15 */
};

struct web_server;

/* Opens the data folder and starts listening. Caller stops with web_server_stop. */
int web_server_start(const struct web_opts *o, struct web_server **out, struct err *e);

/* Returns the port the server listens on. */
int web_server_port(const struct web_server *w);

/* Opens the data folder again and swaps it in; requests in flight finish on the old one.
 * Photo models already loaded move to the new snapshot, so the first photo query after
 * a reload does not load them again. On failure the old snapshot stays. */
int web_server_reload(struct web_server *w, struct err *e);

/* 1 when the last reload carried loaded photo models over to the new snapshot. */
int web_server_models_kept(const struct web_server *w);

/* Reloads when an index file was replaced since the last (re)load; *reloaded says so. */
int web_server_check(struct web_server *w, int *reloaded, struct err *e);

/* Stops listening, waits for requests in flight, frees everything; w may be NULL. */
void web_server_stop(struct web_server *w);

#endif
