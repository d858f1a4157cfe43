/*
 * crawl: `doppel crawl popular|credits|discover|exports|images|embed|status`, TMDB into
 * the catalogue (src/tmdb/crawl.h). Every job resumes where the last run stopped;
 * Ctrl-C lets the requests in flight finish, commits them and stops; a second Ctrl-C
 * kills. The API key comes from TMDB_API_KEY (a v3 key or a v4 read access token).
 */
#include "cli/cli.h"

#include "catalog/catalog.h"
#include "catalog/ingest.h"
#include "core/paths.h"
#include "face/clip_embed.h"
#include "tmdb/crawl.h"
#include "util/buf.h"
#include "util/log.h"

#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define API_BASE                 "https://api.themoviedb.org/3"
#define CALLS_PER_PERSON_DEFAULT 7.0 /* images, 5 photos, 1 display copy */

enum job {
    JOB_POPULAR,
    JOB_CREDITS,
    JOB_DISCOVER,
    JOB_EXPORTS,
    JOB_IMAGES,
    JOB_EMBED,
    JOB_STATUS,
    JOB_COUNT
};

static const char *const job_names[JOB_COUNT] = {
    "popular", "credits", "discover", "exports", "images", "embed", "status",
};

#define COMMON_HELP                                                                                \
    "network options (every job but exports, embed and status):\n"                                 \
    "  --api-base URL        the API (default " API_BASE ")\n"                                     \
    "  --image-base URL      the image CDN (default: /configuration's secure_base_url)\n"          \
    "  --rate N[/SECONDS]    at most N requests per SECONDS (default 40/10; at most 40/1\n"        \
    "                        against TMDB; 0 = no limit, for other servers)\n"                     \
    "  --connections N       concurrent connections (default 8)\n"                                 \
    "  --timeout SECONDS     per request (default 60; connect: 10)\n"                              \
    "  --attempts N          tries per request (default 8)\n"                                      \
    "  --backoff-ms MS       first retry delay, doubled per retry, jittered (default 1000)\n"      \
    "  --limit N             stop after N pages, titles or people this run\n"                      \
    "  --json                print the run's counts as JSON\n"                                     \
    "TMDB_API_KEY: a v3 API key (sent as api_key) or a v4 read access token (Bearer).\n"

static const char *const job_usage[JOB_COUNT] = {
    "usage: doppel crawl popular [--pages N] [options]\n"
    "Walks /person/popular (up to N pages of 20 people; TMDB serves 500) into the\n"
    "catalogue and queues each person for `crawl images`.\n" COMMON_HELP,
    "usage: doppel crawl credits [--movies|--tv] [--pages N] [options]\n"
    "Walks /movie/top_rated and /tv/top_rated (both unless one is named; up to N pages),\n"
    "then fetches the cast of every queued title (/movie/{id}/credits,\n"
    "/tv/{id}/aggregate_credits): people, and their credits with character, billing\n"
    "and episode counts.\n" COMMON_HELP,
    "usage: doppel crawl discover --years Y0-Y1 [--movies|--tv] [--deep] [--pages N]\n"
    "                             [options]\n"
    "Walks /discover/movie and /discover/tv year by year (--deep: six sort orders, to get\n"
    "past the 500-page cap), then fetches every queued title's cast as `credits` "
    "does.\n" COMMON_HELP,
    "usage: doppel crawl exports FILE.json.gz [--json]\n"
    "Reads TMDB's daily person_ids export (https://files.tmdb.org/p/exports/\n"
    "person_ids_MM_DD_YYYY.json.gz; one JSON object per line) and adds every person who\n"
    "is not flagged adult, queued for `crawl images`. Resumes at the last line committed.\n",
    "usage: doppel crawl images [--photos N] [--min-width PX] [--embed] [options]\n"
    "Fetches the photos of every queued person: /person/{id}/images, the N best-voted\n"
    "profiles (default 5) at least PX wide where TMDB has them (default 500), and a 185 px\n"
    "copy of the best for display, into DATA/photos/tmdb/<tmdb id>/. The photos are queued\n"
    "for embedding; --embed embeds them in this process afterwards (else run\n"
    "`doppel crawl embed`, then `doppel index build`).\n" COMMON_HELP,
    "usage: doppel crawl embed [--jobs N] [--json]\n"
    "Detects and embeds the photos `crawl images` downloaded (also `doppel embed\n"
    "--pending`); then run `doppel index build`.\n",
    "usage: doppel crawl status [--json]\n"
    "Shows each job's bookmark, the work queues, the last runs' rates and the time left\n"
    "for the images queue at the last run's rate.\n",
};

static const char crawl_usage[] =
    "usage: doppel crawl JOB [options]   (doppel crawl JOB --help for each)\n"
    "Crawls TMDB's API into the catalogue; every job resumes where it stopped.\n"
    "  popular     /person/popular pages\n"
    "  credits     the casts of top-rated movies and TV\n"
    "  discover    the casts of every movie and TV show by year\n"
    "  exports     TMDB's daily person_ids export\n"
    "  images      photos of the queued people\n"
    "  embed       embed the downloaded photos\n"
    "  status      bookmarks, queues, rates, ETA\n"
    "This product uses the TMDB API but is not endorsed or certified by TMDB.\n";

struct crawl_args {
    enum job job;
    struct crawl_opts o;
    const char *rate;
    long pages;
    int movies, tv, deep, json, embed;
    long y0, y1;
    long jobs;
    const char *file;
};

/* Parses "N" or "N/SECONDS". */
static int parse_rate(const char *s, struct crawl_args *a)
{
    const char *slash = strchr(s, '/');
    char n[32];
    long v, w = 10;

    snprintf(n, sizeof n, "%.*s", slash != NULL ? (int)(slash - s) : (int)strlen(s), s);
    if (cli_parse_long(n, 0, 100000, &v) != 0)
        return -1;
    if (slash != NULL) {
        char *end;
        double d = strtod(slash + 1, &end);

        if (*end != '\0' || !(d > 0 && d <= 3600))
            return -1;
        a->o.client.window = d;
    } else {
        a->o.client.window = (double)w;
    }
    a->o.client.rate = (int)v;
    return 0;
}

static int parse_years(const char *s, struct crawl_args *a)
{
    char y0[16];
    const char *dash = strchr(s, '-');

    if (dash == NULL) {
        if (cli_parse_long(s, 1870, 2100, &a->y0) != 0)
            return -1;
        a->y1 = a->y0;
        return 0;
    }
    snprintf(y0, sizeof y0, "%.*s", (int)(dash - s) < 15 ? (int)(dash - s) : 15, s);
    if (cli_parse_long(y0, 1870, 2100, &a->y0) != 0 ||
        cli_parse_long(dash + 1, 1870, 2100, &a->y1) != 0 || a->y1 < a->y0)
        return -1;
    return 0;
}

static const struct option long_opts[] = {
    {"api-base", required_argument, NULL, 'A'},
    {"image-base", required_argument, NULL, 'I'},
    {"rate", required_argument, NULL, 'r'},
    {"connections", required_argument, NULL, 'c'},
    {"timeout", required_argument, NULL, 't'},
    {"attempts", required_argument, NULL, 'a'},
    {"backoff-ms", required_argument, NULL, 'B'},
    {"limit", required_argument, NULL, 'l'},
    {"pages", required_argument, NULL, 'p'},
    {"movies", no_argument, NULL, 'M'},
    {"tv", no_argument, NULL, 'T'},
    {"deep", no_argument, NULL, 'D'},
    {"years", required_argument, NULL, 'y'},
    {"photos", required_argument, NULL, 'P'},
    {"min-width", required_argument, NULL, 'W'},
    {"embed", no_argument, NULL, 'E'},
    {"jobs", required_argument, NULL, 'j'},
    {"json", no_argument, NULL, 'J'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Applies one parsed option; -1 on a bad value. (A flat switch, one case per option.) */
static int apply_opt(struct crawl_args *a, int c, const char *v)
{
    long n = 0;

    switch (c) {
    case 'A':
        a->o.client.api_base = v;
        return 0;
    case 'I':
        a->o.image_base = v;
        return 0;
    case 'r':
        return parse_rate(v, a);
    case 'c':
        if (cli_parse_long(v, 1, 64, &n) != 0)
            return -1;
        a->o.client.connections = (int)n;
        return 0;
    case 't':
        if (cli_parse_long(v, 1, 3600, &n) != 0)
            return -1;
        a->o.client.timeout_ms = n * 1000;
        return 0;
    case 'a':
        if (cli_parse_long(v, 1, 100, &n) != 0)
            return -1;
        a->o.client.attempts = (int)n;
        return 0;
    case 'B':
        if (cli_parse_long(v, 1, 3600000, &n) != 0)
            return -1;
        a->o.client.backoff_ms = n;
        return 0;
    case 'l':
        return cli_parse_long(v, 1, 1000000000, &a->o.limit);
    case 'p':
        return cli_parse_long(v, 1, CRAWL_PAGES_MAX, &a->pages);
    case 'M':
        a->movies = 1;
        return 0;
    case 'T':
        a->tv = 1;
        return 0;
    case 'D':
        a->deep = 1;
        return 0;
    case 'y':
        return parse_years(v, a);
    case 'P':
        if (cli_parse_long(v, 1, 7, &n) != 0)
            return -1;
        a->o.max_photos = (int)n;
        return 0;
    case 'W':
        if (cli_parse_long(v, 1, 10000, &n) != 0)
            return -1;
        a->o.min_width = (int)n;
        return 0;
    case 'E':
        a->embed = 1;
        return 0;
    case 'j':
        return cli_parse_long(v, 0, 256, &a->jobs);
    case 'J':
        a->json = 1;
        return 0;
    default:
        return -1;
    }
}

/* Parses the job's arguments; returns -1 to go on, else an exit status. */
static int parse_args(const struct cli_command *self, int argc, char **argv, struct crawl_args *a)
{
    int c;

    optind = 0;
    while ((c = getopt_long(argc, argv, "+:h", long_opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(job_usage[a->job], stdout);
            return CLI_EXIT_OK;
        }
        if (c == ':' || c == '?')
            return cli_option_error(self, c, argv);
        if (apply_opt(a, c, optarg) != 0) {
            fprintf(stderr, "doppel: bad value '%s' for %s\n%s", optarg, argv[optind - 1],
                    job_usage[a->job]);
            return CLI_EXIT_USAGE;
        }
    }
    if (a->job == JOB_EXPORTS) {
        if (optind + 1 != argc) {
            fprintf(stderr, "doppel: crawl exports needs one FILE\n%s", job_usage[a->job]);
            return CLI_EXIT_USAGE;
        }
        a->file = argv[optind++];
    }
    if (optind < argc) {
        fprintf(stderr, "doppel: unexpected argument '%s'\n%s", argv[optind], job_usage[a->job]);
        return CLI_EXIT_USAGE;
    }
    if (a->job == JOB_DISCOVER && a->y0 == 0) {
        fprintf(stderr, "doppel: crawl discover needs --years Y0-Y1\n%s", job_usage[a->job]);
        return CLI_EXIT_USAGE;
    }
    return -1;
}

/* Records a run's counts and rate under "run.<job>" for `crawl status`. */
static void record_run(struct catalog *cat, const char *job, const struct crawl_stats *s)
{
    json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:f}", "units", (json_int_t)s->units, "requests",
                          (json_int_t)s->http.requests, "photos", (json_int_t)s->photos, "failed",
                          (json_int_t)s->failed, "seconds", s->seconds);
    char key[64], *text = json_dumps(o, JSON_COMPACT);
    struct err e;

    snprintf(key, sizeof key, "run.%s", job);
    if (text != NULL && catalog_state_set(cat, key, text, &e) != CATALOG_OK)
        log_warn("%s", e.msg);
    free(text);
    json_decref(o);
}

static void print_stats(const char *job, const struct crawl_stats *s, int rc, int json)
{
    double rate = s->seconds > 0 ? (double)s->http.requests / s->seconds : 0;

    if (json) {
        cli_print_json(
            json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f}",
                      "job", job, "result",
                      rc == CRAWL_OK            ? "done"
                      : rc == CRAWL_ERR_STOPPED ? "stopped"
                                                : "error",
                      "units", (json_int_t)s->units, "people", (json_int_t)s->people, "titles",
                      (json_int_t)s->titles, "credits", (json_int_t)s->credits, "photos",
                      (json_int_t)s->photos, "failed", (json_int_t)s->failed, "skipped",
                      (json_int_t)s->skipped, "requests", (json_int_t)s->http.requests, "retries",
                      (json_int_t)s->http.retries, "throttled", (json_int_t)s->http.throttled, "ok",
                      (json_int_t)s->http.ok, "seconds", s->seconds, "requests_per_s", rate));
        return;
    }
    printf("crawl %s: %ld units, %ld people, %ld titles, %ld credits, %ld photos; %ld failed, "
           "%ld left for later\n",
           job, s->units, s->people, s->titles, s->credits, s->photos, s->failed, s->skipped);
    printf("  %ld requests (%ld retries, %ld throttled) in %.1f s, %.2f requests/s\n",
           s->http.requests, s->http.retries, s->http.throttled, s->seconds, rate);
}

/* Runs the job's crawl calls. */
static int run_job(struct crawl *cr, const struct crawl_args *a, struct err *e)
{
    int both = !a->movies && !a->tv, rc = CRAWL_OK;
    int kinds[2] = {TMDB_KIND_MOVIE, TMDB_KIND_TV};

    switch (a->job) {
    case JOB_POPULAR:
        return crawl_popular(cr, (int)a->pages, e);
    case JOB_EXPORTS:
        return crawl_exports(cr, a->file, e);
    case JOB_IMAGES:
        return crawl_images(cr, e);
    default:
        break;
    }
    for (int k = 0; k < 2 && rc == CRAWL_OK; k++) {
        if (!both && (k == 0 ? !a->movies : !a->tv))
            continue;
        if (a->job == JOB_CREDITS)
            rc = crawl_top_rated(cr, kinds[k], (int)a->pages, e);
        else
            rc = crawl_discover(cr, kinds[k], (int)a->y0, (int)a->y1, a->deep, (int)a->pages, e);
        if (rc == CRAWL_OK)
            rc = crawl_credits(cr, kinds[k], e);
    }
    return rc;
}

static int rc_exit(int rc, const struct err *e)
{
    if (rc == CRAWL_OK)
        return CLI_EXIT_OK;
    if (rc == CRAWL_ERR_STOPPED)
        log_warn("stopped after committing the work in flight; run the same command to resume");
    else
        log_error("%s", e->msg);
    return CLI_EXIT_FAIL;
}

/* The photo folder inside the data folder. */
static void photo_dir(const struct cli *cli, char *out, size_t n)
{
    char photos[4096];

    paths_join(photos, sizeof photos, paths_data_dir(cli->data_dir), "photos");
    paths_join(out, n, photos, "tmdb");
}

static int embed_exec(const struct cli *cli, struct catalog *cat, const struct crawl_args *a)
{
    char wbuf[4200];
    const char *models = paths_models_dir(cli->models_dir);
    struct ingest_opts io = {models, (int)a->jobs, 0, log_get_level() >= LOG_INFO, &cli_stop,
                             clip_embed_default_weights(models, wbuf, sizeof wbuf)};
    struct ingest_stats st;
    char dir[4200];
    struct err e;
    long people;
    int rc;

    photo_dir(cli, dir, sizeof dir);
    rc = crawl_embed_pending(cat, dir, &io, &st, &people, &e);
    if (a->json)
        cli_print_json(json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "people", (json_int_t)people,
                                 "photos", (json_int_t)st.photos, "ok", (json_int_t)st.ok,
                                 "no_face", (json_int_t)st.no_face, "known", (json_int_t)st.known,
                                 "embeddings", (json_int_t)st.embeddings));
    else
        printf("crawl embed: %ld people, %ld photos (%ld with a face, %ld without, %ld known), "
               "%ld embeddings; next: doppel index build\n",
               people, st.photos, st.ok, st.no_face, st.known, st.embeddings);
    return rc_exit(rc, &e);
}

static int crawl_exec(const struct cli *cli, struct catalog *cat, struct crawl_args *a)
{
    struct crawl *cr = NULL;
    struct crawl_stats st;
    char dir[4200];
    struct err e;
    int rc;

    photo_dir(cli, dir, sizeof dir);
    a->o.photo_dir = dir;
    a->o.stop = &cli_stop;
    a->o.progress = log_get_level() >= LOG_INFO;
    a->o.client.key = getenv("TMDB_API_KEY");
    if (a->job != JOB_EXPORTS && (a->o.client.key == NULL || a->o.client.key[0] == '\0') &&
        strcmp(a->o.client.api_base, API_BASE) == 0) {
        log_error("set TMDB_API_KEY to your TMDB v3 API key or v4 read access token "
                  "(https://www.themoviedb.org/settings/api)");
        return CLI_EXIT_FAIL;
    }
    if (a->job != JOB_EXPORTS && strcmp(a->o.client.api_base, API_BASE) == 0 &&
        (a->o.client.rate == 0 || a->o.client.rate / a->o.client.window > 40.0)) {
        log_error("--rate: TMDB allows about 40 requests per second; ask for at most 40/1 "
                  "(no limit is only for other servers, such as a test's)");
        return CLI_EXIT_USAGE;
    }
    if (crawl_new(cat, &a->o, &cr, &e) != CRAWL_OK)
        return rc_exit(CRAWL_ERR_NET, &e);
    rc = run_job(cr, a, &e);
    crawl_get_stats(cr, &st);
    crawl_free(cr);
    record_run(cat, job_names[a->job], &st);
    print_stats(job_names[a->job], &st, rc, a->json);
    rc = rc_exit(rc, &e);
    if (rc == CLI_EXIT_OK && a->job == JOB_IMAGES && a->embed)
        rc = embed_exec(cli, cat, a);
    return rc;
}

/* ---- status ---- */

static json_t *queue_json(struct catalog *cat, const char *q, struct err *e)
{
    int64_t n[3];

    if (catalog_queue_count(cat, q, n, e) != CATALOG_OK)
        return NULL;
    return json_pack("{s:I, s:I, s:I}", "pending", (json_int_t)n[0], "done", (json_int_t)n[1],
                     "failed", (json_int_t)n[2]);
}

/* Reads a crawl-state value as JSON (numbers and objects parse; else a string). */
static json_t *state_json(struct catalog *cat, const char *key)
{
    struct buf b;
    struct err e;
    int found = 0;
    json_t *v = NULL;

    buf_init(&b, 4096);
    if (catalog_state_get(cat, key, &b, &found, &e) == CATALOG_OK && found) {
        v = json_loads(buf_str(&b), JSON_DECODE_ANY, NULL);
        if (v == NULL)
            v = json_string(buf_str(&b));
    }
    buf_release(&b);
    return v != NULL ? v : json_null();
}

/* Seconds the images queue needs at the last images run's rate (or the default). */
static double images_eta(json_t *q, json_t *run, double *calls, double *rate)
{
    double units = json_number_value(json_object_get(run, "units"));
    double reqs = json_number_value(json_object_get(run, "requests"));
    double secs = json_number_value(json_object_get(run, "seconds"));
    double pending = json_number_value(json_object_get(q, "pending"));

    *calls = units > 0 ? reqs / units : CALLS_PER_PERSON_DEFAULT;
    *rate = secs > 0 && reqs > 0 ? reqs / secs : 4.0;
    return pending * *calls / *rate;
}

static json_t *status_json(struct catalog *cat, struct err *e)
{
    static const char *const queues[] = {CRAWL_Q_IMAGES, CRAWL_Q_EMBED, CRAWL_Q_CREDITS_MOVIE,
                                         CRAWL_Q_CREDITS_TV};
    static const char *const lists[] = {"popular", "top_rated.movie", "top_rated.tv"};
    json_t *o = json_object(), *qs = json_object(), *ls = json_object(), *runs = json_object();
    struct catalog_stats cs;
    double calls, rate, eta;
    char key[64];

    for (size_t i = 0; i < sizeof queues / sizeof queues[0]; i++)
        json_object_set_new(qs, queues[i], queue_json(cat, queues[i], e));
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        json_t *l = json_object();

        snprintf(key, sizeof key, "%s.page", lists[i]);
        json_object_set_new(l, "page", state_json(cat, key));
        snprintf(key, sizeof key, "%s.total", lists[i]);
        json_object_set_new(l, "total_pages", state_json(cat, key));
        json_object_set_new(ls, lists[i], l);
    }
    for (int j = 0; j < JOB_EMBED; j++) {
        snprintf(key, sizeof key, "run.%s", job_names[j]);
        json_object_set_new(runs, job_names[j], state_json(cat, key));
    }
    eta = images_eta(json_object_get(qs, CRAWL_Q_IMAGES), json_object_get(runs, "images"), &calls,
                     &rate);
    if (catalog_stats(cat, &cs, e) == CATALOG_OK)
        json_object_set_new(o, "catalog",
                            json_pack("{s:I, s:I, s:I, s:I}", "people", (json_int_t)cs.people,
                                      "photos", (json_int_t)cs.photos, "titles",
                                      (json_int_t)cs.titles, "credits", (json_int_t)cs.credits));
    json_object_set_new(o, "lists", ls);
    json_object_set_new(o, "queues", qs);
    json_object_set_new(o, "last_runs", runs);
    json_object_set_new(o, "images_eta",
                        json_pack("{s:f, s:f, s:f}", "seconds", eta, "calls_per_person", calls,
                                  "requests_per_s", rate));
    return o;
}

static void print_status(json_t *o)
{
    const char *k;
    json_t *v, *eta = json_object_get(o, "images_eta");
    json_t *cat = json_object_get(o, "catalog");

    printf("catalogue: %lld people, %lld photos, %lld titles, %lld credits\n",
           (long long)json_integer_value(json_object_get(cat, "people")),
           (long long)json_integer_value(json_object_get(cat, "photos")),
           (long long)json_integer_value(json_object_get(cat, "titles")),
           (long long)json_integer_value(json_object_get(cat, "credits")));
    json_object_foreach(json_object_get(o, "lists"), k, v)
        printf("list %-16s page %lld of %lld\n", k,
               (long long)json_integer_value(json_object_get(v, "page")),
               (long long)json_integer_value(json_object_get(v, "total_pages")));
    json_object_foreach(json_object_get(o, "queues"), k, v)
        printf("queue %-15s %lld pending, %lld done, %lld failed\n", k,
               (long long)json_integer_value(json_object_get(v, "pending")),
               (long long)json_integer_value(json_object_get(v, "done")),
               (long long)json_integer_value(json_object_get(v, "failed")));
    json_object_foreach(json_object_get(o, "last_runs"), k, v)
    {
        double s = json_number_value(json_object_get(v, "seconds"));

        if (json_is_object(v))
            printf("last %-16s %lld units, %lld requests in %.0f s (%.2f/s)\n", k,
                   (long long)json_integer_value(json_object_get(v, "units")),
                   (long long)json_integer_value(json_object_get(v, "requests")), s,
                   s > 0 ? (double)json_integer_value(json_object_get(v, "requests")) / s : 0);
    }
    printf("images ETA: %.1f h (%.1f calls per person at %.2f requests/s)\n",
           json_number_value(json_object_get(eta, "seconds")) / 3600,
           json_number_value(json_object_get(eta, "calls_per_person")),
           json_number_value(json_object_get(eta, "requests_per_s")));
}

static int status_exec(struct catalog *cat, int json)
{
    struct err e = {{0}};
    json_t *o = status_json(cat, &e);

    if (e.msg[0] != '\0') {
        json_decref(o);
        log_error("%s", e.msg);
        return CLI_EXIT_FAIL;
    }
    if (json) {
        cli_print_json(o);
        return CLI_EXIT_OK;
    }
    print_status(o);
    json_decref(o);
    return CLI_EXIT_OK;
}

static int crawl_run(struct cli *cli, const struct cli_command *self, int argc, char **argv)
{
    struct crawl_args a;
    struct catalog *cat = NULL;
    char path[4096];
    int rc = -1;

    memset(&a, 0, sizeof a);
    a.o.client.api_base = API_BASE;
    a.o.client.rate = 40;
    a.o.client.window = 10;
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(crawl_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    for (a.job = 0; a.job < JOB_COUNT && strcmp(job_names[a.job], argv[1]) != 0; a.job++)
        ;
    if (a.job == JOB_COUNT)
        return cli_usage_error(self, "unknown crawl job '%s'", argv[1]);
    rc = parse_args(self, argc - 1, argv + 1, &a);
    if (rc != -1)
        return rc;
    rc = cli_open_catalog(cli, a.job != JOB_STATUS, &cat, path, sizeof path);
    if (rc != CLI_EXIT_OK)
        return rc;
    cli_catch_stop();
    if (a.job == JOB_STATUS)
        rc = status_exec(cat, a.json);
    else if (a.job == JOB_EMBED)
        rc = embed_exec(cli, cat, &a);
    else
        rc = crawl_exec(cli, cat, &a);
    catalog_close(cat);
    return rc;
}

/* `doppel embed --pending`: the same as `doppel crawl embed`. */
int cli_crawl_embed_pending(struct cli *cli, int argc, char **argv)
{
    char *args[64];
    int n = 0;

    args[n++] = "crawl";
    args[n++] = "embed";
    for (int i = 1; i < argc && n < 63; i++) {
        if (strcmp(argv[i], "--pending") != 0)
            args[n++] = argv[i];
    }
    args[n] = NULL;
    return crawl_run(cli, &cli_cmd_crawl, n, args);
}

const struct cli_command cli_cmd_crawl = {
    "crawl",
    "crawl TMDB into the catalogue: people, credits, photos (resumable)",
    crawl_usage,
    crawl_run,
};
