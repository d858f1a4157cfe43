/*
 * names: `doppel names QUERY`, the name search the web page's autocomplete serves, from
 * the command line: over the catalogue's people, or over a plain file of names.
 */
#include "cli/cli.h"

#include "core/paths.h"
#include "names/names.h"
#include "search/search.h"
#include "util/clock.h"
#include "util/log.h"

#include <getopt.h>
#include <jansson.h>
#include <string.h>

struct names_args {
    const char *file;
    const char *query;
    long k;
    long cutoff;
    enum names_mode mode;
    int json;
};

static int parse_mode(const char *s, enum names_mode *m)
{
    static const char *const modes[] = {"auto", "prefix", "fuzzy"};

    for (int i = 0; i < 3; i++) {
        if (strcmp(s, modes[i]) == 0) {
            *m = (enum names_mode)i;
            return 0;
        }
    }
    return -1;
}

static void print_hits(const struct names_index *ix, const int64_t *ids,
                       const struct names_args *a, const struct names_hit *hits, size_t n,
                       double index_ms, double query_ms)
{
    if (a->json) {
        json_t *arr = json_array(), *o;

        for (size_t i = 0; i < n; i++) {
            json_t *h = json_pack("{s:i, s:s, s:i, s:s, s:f}", "row", (int)hits[i].row, "name",
                                  names_index_name(ix, hits[i].row), "score", hits[i].score,
                                  "match", hits[i].prefix ? "prefix" : "fuzzy", "popularity",
                                  names_index_popularity(ix, hits[i].row));

            if (ids != NULL)
                json_object_set_new(h, "id", json_integer(ids[hits[i].row]));
            json_array_append_new(arr, h);
        }
        o = json_pack("{s:s, s:o, s:I, s:f, s:f}", "query", a->query, "results", arr, "names",
                      (json_int_t)names_index_count(ix), "index_ms", index_ms, "query_ms",
                      query_ms);
        cli_print_json(o);
        return;
    }
    for (size_t i = 0; i < n; i++)
        printf("%3d  %-6s  %s\n", hits[i].score, hits[i].prefix ? "prefix" : "fuzzy",
               names_index_name(ix, hits[i].row));
    if (n == 0)
        printf("no name matches '%s'\n", a->query);
}

/* The index to search: the --names file (into *owned), else the catalogue's people
 * through *s (with their ids). NULL on error, logged. */
static const struct names_index *open_names(struct cli *cli, const struct names_args *a,
                                            struct names_index **owned, struct search **s,
                                            const int64_t **ids)
{
    const struct names_index *ix = NULL;
    struct err e;

    *owned = NULL, *s = NULL, *ids = NULL;
    if (a->file != NULL && names_index_load_file(a->file, owned, &e) == NAMES_OK)
        return *owned;
    if (a->file == NULL && search_open(paths_data_dir(cli->data_dir), NULL, 1, s, &e) == SEARCH_OK)
        ix = search_names(*s, ids, &e);
    if (ix == NULL)
        log_error("%s", e.msg);
    return ix;
}

static int names_exec(struct cli *cli, const struct names_args *a)
{
    struct names_index *owned;
    const struct names_index *ix;
    struct search *s;
    const int64_t *ids;
    struct names_hit hits[1000];
    struct err e;
    size_t n;
    double t0 = clock_now(), t1, t2;
    int rc = NAMES_OK;

    ix = open_names(cli, a, &owned, &s, &ids);
    if (ix == NULL) {
        search_close(s);
        return CLI_EXIT_FAIL;
    }
    t1 = clock_now();
    log_debug("indexed %zu names in %.0f ms", names_index_count(ix), (t1 - t0) * 1e3);
    rc = names_search(ix, a->query, strlen(a->query), (int)a->k, (int)a->cutoff, a->mode, hits,
                      &n, &e);
    t2 = clock_now();
    if (rc != NAMES_OK)
        log_error("%s", e.msg);
    else
        print_hits(ix, ids, a, hits, n, (t1 - t0) * 1e3, (t2 - t1) * 1e3);
    names_index_free(owned);
    search_close(s);
    return rc == NAMES_OK ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static int names_run(struct cli *cli, const struct cli_command *self, int argc, char **argv)
{
    static const struct option opts[] = {
        {"names", required_argument, NULL, 'n'}, {"json", no_argument, NULL, 'j'},
        {"mode", required_argument, NULL, 'm'},  {"cutoff", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    struct names_args a = {NULL, NULL, 10, NAMES_CUTOFF, NAMES_MODE_AUTO, 0};
    int c;

    optind = 0;
    while ((c = getopt_long(argc, argv, ":hjk:n:m:c:", opts, NULL)) != -1) {
        if (c == 'h') {
            cli_print_usage(stdout, self);
            return CLI_EXIT_OK;
        } else if (c == 'j') {
            a.json = 1;
        } else if (c == 'n') {
            a.file = optarg;
        } else if (c == 'k' && cli_parse_long(optarg, 1, 1000, &a.k) != 0) {
            return cli_usage_error(self, "-k takes a number from 1 to 1000");
        } else if (c == 'c' && cli_parse_long(optarg, 0, 100, &a.cutoff) != 0) {
            return cli_usage_error(self, "--cutoff takes a number from 0 to 100");
        } else if (c == 'm' && parse_mode(optarg, &a.mode) != 0) {
            return cli_usage_error(self, "--mode takes auto, prefix or fuzzy");
        } else if (c == '?' || c == ':') {
            return cli_option_error(self, c, argv);
        }
    }
    if (optind + 1 != argc)
        return cli_usage_error(self, "names takes one QUERY (quote names with spaces)");
    a.query = argv[optind];
    return names_exec(cli, &a);
}

const struct cli_command cli_cmd_names = {
    .name = "names",
    .summary = "find people by name: prefix, then typo-tolerant fuzzy match",
    .usage = "usage: doppel names QUERY [--names FILE] [-k N] [--mode auto|prefix|fuzzy]\n"
             "                    [--cutoff N] [--json]\n"
             "\n"
             "Finds names that start with QUERY (the full name or any word of it), then\n"
             "names that match it despite typos, accents, case or word order, scored 0-100\n"
             "like rapidfuzz's WRatio. Fuzzy matches below the cut-off are dropped.\n"
             "\n"
             "Options:\n"
             "  --names FILE  search these names (one per line, optionally\n"
             "                name<TAB>popularity) instead of the catalogue's people\n"
             "  -k N          at most N results (default 10)\n"
             "  --mode M      auto (prefix hits first, fuzzy to fill), prefix or fuzzy\n"
             "  --cutoff N    lowest fuzzy score kept (default 60)\n"
             "  --json        machine-readable output\n"
             "  -h, --help\n",
    .run = names_run,
};
