/*
 * serve: `doppel serve`, the web app. Runs until SIGINT or SIGTERM; SIGHUP reloads the
 * data folder (catalogue, name index, indexes), as does an index file replaced by
 * `doppel index build`, checked once a second. The signals are taken by this thread
 * with sigtimedwait, so the server's threads never run a signal handler.
 */
#include "cli/cli.h"

#include "core/paths.h"
#include "util/log.h"
#include "web/web.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct serve_args {
    struct web_opts o;
    int quiet;
};

static const char *kept(const struct web_server *w)
{
    return web_server_models_kept(w) ? "; photo models kept" : "";
}

/* Signals taken by a thread that does not block them: a library's thread started before
 * main could block them (OpenBLAS starts its threads when it loads). Without a handler
 * such a thread would die of SIGHUP or SIGTERM, and the process with it. */
static volatile sig_atomic_t stop_asked, reload_asked;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        reload_asked = 1;
    else
        stop_asked = 1;
}

/* Waits for signals and index changes until told to stop. */
static void serve_loop(struct web_server *w)
{
    struct timespec tick = {1, 0};
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    for (;;) {
        int sig = sigtimedwait(&set, NULL, &tick), reloaded = 0;
        struct err e = {{0}};

        if (sig == SIGINT || sig == SIGTERM || stop_asked)
            break;
        if (sig == SIGHUP || reload_asked) {
            reload_asked = 0;
            if (web_server_reload(w, &e) == WEB_OK)
                log_info("reloaded the data folder (SIGHUP)%s", kept(w));
            else
                log_error("reload failed, still serving the previous data: %s", e.msg);
        } else if (web_server_check(w, &reloaded, &e) != WEB_OK) {
            log_error("an index file changed but does not open, still serving the previous "
                      "data: %s",
                      e.msg);
        } else if (reloaded) {
            log_info("reloaded the data folder (an index file was replaced)%s", kept(w));
        }
    }
}

static int serve_exec(struct cli *cli, struct serve_args *a)
{
    struct web_server *w = NULL;
    struct err e = {{0}};
    struct sigaction sa;
    sigset_t set;

    a->o.data_dir = paths_data_dir(cli->data_dir);
    a->o.models_dir = paths_models_dir(cli->models_dir);
    a->o.web_dir = paths_web_dir(a->o.web_dir);
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* before our threads exist: they inherit it */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigfillset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (web_server_start(&a->o, &w, &e) != WEB_OK) {
        log_error("%s", e.msg);
        return CLI_EXIT_FAIL;
    }
    printf("doppel: serving %s on http://%s:%d/\n", a->o.data_dir,
           a->o.bind ? a->o.bind : "127.0.0.1", web_server_port(w));
    fflush(stdout);
    serve_loop(w);
    web_server_stop(w);
    log_info("stopped");
    return CLI_EXIT_OK;
}

static int serve_run(struct cli *cli, const struct cli_command *self, int argc, char **argv)
{
    static const struct option opts[] = {
        {"bind", required_argument, NULL, 'b'},
        {"port", required_argument, NULL, 'p'},
        {"workers", required_argument, NULL, 'w'},
        {"web", required_argument, NULL, 'W'},
        {"hotlink", no_argument, NULL, 'H'},
        {"max-connections", required_argument, NULL, 'c'},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct serve_args a;
    long v;
    int c;

    memset(&a, 0, sizeof a);
    a.o.port = 8080;
    optind = 0;
    while ((c = getopt_long(argc, argv, "+:hb:p:", opts, NULL)) != -1) {
        if (c == 'h') {
            cli_print_usage(stdout, self);
            return CLI_EXIT_OK;
        } else if (c == 'b') {
            a.o.bind = optarg;
        } else if (c == 'p' || c == 'w' || c == 'c' || c == 't') {
            long max = c == 'p' ? 65535 : c == 'w' ? 64 : c == 'c' ? 100000 : 3600;

            if (cli_parse_long(optarg, c == 'p' ? 0 : 1, max, &v) != 0)
                return cli_usage_error(self, "--%s takes a number up to %ld",
                                       c == 'p'   ? "port"
                                       : c == 'w' ? "workers"
                                       : c == 'c' ? "max-connections"
                                                  : "timeout",
                                       max);
            if (c == 'p')
                a.o.port = (int)v;
            else if (c == 'w')
                a.o.threads = (int)v;
            else if (c == 'c')
                a.o.conn_limit = (int)v;
            else
                a.o.timeout_s = (int)v;
        } else if (c == 'W') {
            a.o.web_dir = optarg;
        } else if (c == 'H') {
            a.o.hotlink = 1;
        } else {
            return cli_option_error(self, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(self, "serve takes no arguments");
    return serve_exec(cli, &a);
}

const struct cli_command cli_cmd_serve = {
    .name = "serve",
    .summary = "the web app and its JSON API",
    .usage = "usage: doppel serve [--bind ADDR] [--port N] [--workers N] [--web DIR] [--hotlink]\n"
             "                    [--max-connections N] [--timeout S]\n"
             "\n"
             "Serves the web app (search by name, look-alikes, photo search, title casts) and\n"
             "the JSON API (docs/api.md) from the data folder. Needs `doppel index build`;\n"
             "photo search needs the models. SIGHUP reloads the data folder, as does an index\n"
             "file replaced by `doppel index build`, with no failed request during the swap.\n"
             "\n"
             "Options:\n"
             "  -b, --bind ADDR         address to listen on (default 127.0.0.1)\n"
             "  -p, --port N            port (default 8080; 0 = any free port, printed)\n"
             "  --workers N             request threads (default: every core)\n"
             "  --web DIR               web assets (default: ./web, or the installed ones)\n"
             "  --hotlink               show photos crawled from TMDB from its image CDN\n"
             "                          (pages and answers link them; /img/person redirects)\n"
             "  --max-connections N     open connections at most (default 512)\n"
             "  --timeout S             close a connection idle this long (default 15 s)\n"
             "  -h, --help\n",
    .run = serve_run,
};
