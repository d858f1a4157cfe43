/*
 * index: `doppel index build`, the index files searches read, rebuilt from the
 * catalogue: one row per person and space, the average of their best photos.
 */
#include "cli/cli.h"

#include "catalog/catalog.h"
#include "core/paths.h"
#include "index/hnsw.h"
#include "index/near.h"
#include "names/lists.h"
#include "search/search.h"
#include "util/clock.h"
#include "util/log.h"

#include <getopt.h>
#include <jansson.h>
#include <string.h>

struct index_args {
    const char *space; /* NULL: every space the catalogue has vectors in */
    long photos;
    int json;
    long graph_min, m, efc, seed; /* graph_min -1: the default */
    int no_near;
};

/* Prints (or appends to arr) what building one space did. */
static void report_one(const char *data_dir, const char *space, const struct index_args *a,
                       const struct search_build_info *info, double secs, json_t *arr)
{
    if (a->json) {
        json_array_append_new(
            arr, json_pack("{s:s, s:I, s:f, s:b, s:b, s:I, s:I, s:I, s:f, s:I, s:f, s:b, s:f}",
                           "space", space, "people", (json_int_t)info->people, "seconds", secs,
                           "graph", info->graph, "graph_full", info->graph_full, "graph_kept",
                           (json_int_t)info->kept, "graph_removed", (json_int_t)info->removed,
                           "graph_inserted", (json_int_t)info->inserted, "graph_seconds",
                           info->graph_seconds, "graph_ef", (json_int_t)info->graph_ef,
                           "graph_recall", info->graph_recall, "near", info->near,
                           "near_seconds", info->near_seconds));
        return;
    }
    printf("%s: %lld people, %s/index/%s.idx (%.2f s)\n", space, (long long)info->people,
           data_dir, space, secs);
    if (info->graph && info->graph_full)
        printf("%s: graph of %llu people, %s/index/%s.hnsw (%.2f s)\n", space,
               (unsigned long long)info->inserted, data_dir, space, info->graph_seconds);
    else if (info->graph)
        printf("%s: graph updated: %llu people kept, %llu removed, %llu inserted (%.2f s)\n",
               space, (unsigned long long)info->kept, (unsigned long long)info->removed,
               (unsigned long long)info->inserted, info->graph_seconds);
    if (info->graph && info->graph_tune_rows > 0)
        printf("%s: default ef %u (recall@10 %.3f on %d queries drawn like %u people)\n",
               space, info->graph_ef, info->graph_recall, HNSW_TUNE_QUERIES,
               info->graph_tune_rows);
    else if (info->graph)
        printf("%s: default ef %u (too few people to tune)\n", space, info->graph_ef);
    if (info->near)
        printf("%s: %d look-alikes of each person, %s/index/%s.near (%.2f s)\n", space, NEAR_K,
               data_dir, space, info->near_seconds);
}

/* Builds one space; appends its figures to arr. Returns 0 or -1 (logged). */
static int build_one(struct cli *cli, struct catalog *cat, const char *data_dir,
                     const char *space, const struct index_args *a, json_t *arr)
{
    struct search_build_opts o = {(int)a->photos, a->graph_min,  (uint32_t)a->m,
                                  (uint32_t)a->efc,  (uint64_t)a->seed, cli->threads,
                                  a->no_near};
    struct search_build_info info;
    double t0 = clock_now();
    struct err e;

    if (search_build_index_ex(cat, data_dir, space, &o, &info, &e) != SEARCH_OK) {
        log_error("%s", e.msg);
        return -1;
    }
    report_one(data_dir, space, a, &info, clock_now() - t0, arr);
    return 0;
}

/* Each name's fuzzy answers, for name search (every space built, so the whole index). */
static int build_names(struct cli *cli, struct catalog *cat, const char *data_dir,
                       const struct index_args *a, json_t **out)
{
    struct search_build_opts o = {(int)a->photos, a->graph_min, 0, 0, 0, cli->threads, a->no_near};
    struct search_build_info info;
    struct err e;

    if (search_build_names(cat, data_dir, &o, &info, &e) != SEARCH_OK) {
        log_error("%s", e.msg);
        return -1;
    }
    if (a->json)
        *out = json_pack("{s:I, s:b, s:f}", "people", (json_int_t)info.people, "lists", info.near,
                         "seconds", info.near_seconds);
    else if (info.near)
        printf("names: the %d best fuzzy matches of each of %lld names, %s/index/names.near "
               "(%.2f s)\n",
               NAMES_LIST_K, (long long)info.people, data_dir, info.near_seconds);
    return 0;
}

static int index_exec(struct cli *cli, const struct index_args *a)
{
    const char *data_dir = paths_data_dir(cli->data_dir);
    struct catalog *cat = NULL;
    struct catalog_stats st;
    char path[4096];
    struct err e;
    json_t *arr = json_array(), *names = NULL;
    int rc = cli_open_catalog(cli, 0, &cat, path, sizeof path), built = 0;

    if (rc == CLI_EXIT_OK && a->space == NULL && catalog_stats(cat, &st, &e) != CATALOG_OK) {
        log_error("%s", e.msg);
        rc = CLI_EXIT_FAIL;
    }
    if (rc == CLI_EXIT_OK && a->space != NULL)
        rc = build_one(cli, cat, data_dir, a->space, a, arr) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    for (int i = 0; rc == CLI_EXIT_OK && a->space == NULL && i < st.nspaces; i++, built++)
        if (build_one(cli, cat, data_dir, st.spaces[i].space, a, arr) != 0)
            rc = CLI_EXIT_FAIL;
    if (rc == CLI_EXIT_OK && a->space == NULL && built == 0) {
        log_error("the catalogue has no embeddings yet (doppel import first)");
        rc = CLI_EXIT_FAIL;
    }
    if (rc == CLI_EXIT_OK && a->space == NULL && build_names(cli, cat, data_dir, a, &names) != 0)
        rc = CLI_EXIT_FAIL;
    if (rc == CLI_EXIT_OK && a->json)
        cli_print_json(names ? json_pack("{s:o, s:o}", "indexes", arr, "names", names)
                             : json_pack("{s:o}", "indexes", arr));
    else {
        json_decref(arr);
        json_decref(names);
    }
    catalog_close(cat);
    return rc;
}

static const char *graph_opt_usage(int c)
{
    if (c == 'g')
        return "--graph-min takes a number of people from 0";
    if (c == 'm')
        return "--graph-m takes a number from 2 to 64";
    if (c == 'c')
        return "--graph-efc takes a number from 1 to 4096";
    return "--seed takes a number from 0";
}

static int parse_graph_opt(int c, const char *arg, struct index_args *a)
{
    if (c == 'g')
        return cli_parse_long(arg, 0, INT64_MAX / 2, &a->graph_min);
    if (c == 'm')
        return cli_parse_long(arg, 2, HNSW_M_MAX, &a->m);
    if (c == 'c')
        return cli_parse_long(arg, 1, HNSW_EF_MAX, &a->efc);
    return cli_parse_long(arg, 0, INT64_MAX / 2, &a->seed);
}

static int index_run(struct cli *cli, const struct cli_command *self, int argc, char **argv)
{
    static const struct option opts[] = {
        {"space", required_argument, NULL, 's'}, {"photos", required_argument, NULL, 'p'},
        {"json", no_argument, NULL, 'j'},        {"help", no_argument, NULL, 'h'},
        {"graph-min", required_argument, NULL, 'g'}, {"graph-m", required_argument, NULL, 'm'},
        {"graph-efc", required_argument, NULL, 'c'}, {"seed", required_argument, NULL, 'S'},
        {"no-near", no_argument, NULL, 'N'},     {NULL, 0, NULL, 0},
    };
    struct index_args a = {NULL, 0, 0, -1, 0, 0, HNSW_SEED_DEFAULT, 0};
    int c;

    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'h') {
            cli_print_usage(stdout, self);
            return CLI_EXIT_OK;
        } else if (c == 's') {
            if (strcmp(optarg, "look") != 0 && strcmp(optarg, "identity") != 0 &&
                strcmp(optarg, "clip") != 0)
                return cli_usage_error(self, "--space takes look, identity or clip");
            a.space = optarg;
        } else if (c == 'p') {
            if (cli_parse_long(optarg, 1, 1000, &a.photos) != 0)
                return cli_usage_error(self, "--photos takes a number from 1 to 1000");
        } else if (c == 'j') {
            a.json = 1;
        } else if (c == 'N') {
            a.no_near = 1;
        } else if (c == 'g' || c == 'm' || c == 'c' || c == 'S') {
            if (parse_graph_opt(c, optarg, &a) != 0)
                return cli_usage_error(self, "%s", graph_opt_usage(c));
        } else {
            return cli_option_error(self, c, argv);
        }
    }
    if (optind >= argc || strcmp(argv[optind], "build") != 0)
        return cli_usage_error(self, optind >= argc ? "index needs an action (build)"
                                                    : "unknown action '%s'", argv[optind]);
    if (optind + 1 < argc)
        return cli_usage_error(self, "unexpected argument '%s'", argv[optind + 1]);
    return index_exec(cli, &a);
}

const struct cli_command cli_cmd_index = {
    .name = "index",
    .summary = "build the index files searches read, from the catalogue",
    .usage = "usage: doppel index build [--space look|identity|clip] [--photos N] [--graph-min N]\n"
             "                          [--graph-m M] [--graph-efc N] [--seed S] [--no-near]\n"
             "                          [--json]\n"
             "\n"
             "Writes DATA/index/<space>.idx for every space the catalogue has vectors in\n"
             "(or the one named): one row per person, the average of their N best photos'\n"
             "embeddings (default 5), unit length. The file is written beside the old one\n"
             "and renamed into place, so a running server never reads half a file. Run it\n"
             "after each import.\n"
             "\n"
             "A space of 50,000 people or more also gets an approximate-search graph,\n"
             "DATA/index/<space>.hnsw (HNSW over the index's int8 copy), which similar,\n"
             "query and the web page then search instead of scanning every row\n"
             "(--exact scans). When a graph from an earlier build is there, it is updated:\n"
             "people kept keep their links, removed people's links are repaired, and only\n"
             "new people are inserted. The graph is the same for any --threads.\n"
             "Each build then tunes the graph's default ef (how many candidates a query\n"
             "keeps; similar and query take --ef to choose): the smallest at which 256\n"
             "queries drawn like the catalogue's people (a Gaussian with their mean and\n"
             "covariance) find 99% of their 10 closest, checked against the exact scan.\n"
             "\n"
             "With the graph, every person's 32 closest look-alikes are found through it\n"
             "and kept in DATA/index/<space>.near, so \"who looks like this actor?\" (up to\n"
             "32 answers, no filter) is a lookup, not a search; the answers are the\n"
             "search's own. Finding them takes one search per person (minutes for\n"
             "400,000 people); --no-near skips it, and such queries then search.\n"
             "\n"
             "Built whole (no --space), a catalogue of 50,000 people or more also gets\n"
             "each name's 32 best fuzzy matches, DATA/index/names.near, so a name search\n"
             "for a whole name (what an autocomplete suggestion sends) answers without\n"
             "the fuzzy search, with its answers (a minute at 400,000 names on two\n"
             "cores; --no-near skips these too).\n"
             "\n"
             "Options:\n"
             "  --space S    look, identity or clip (default: every space with vectors)\n"
             "  --photos N   photos averaged per person, best first (default 5)\n"
             "  --graph-min N  build a graph from N people (default 50000; 0: always)\n"
             "  --graph-m M    graph links per node, 2M on the bottom level (default 16)\n"
             "  --graph-efc N  candidates kept while inserting (default 100)\n"
             "  --seed S       the seed the graph's levels are drawn from (default 20261123)\n"
             "  --no-near      no look-alike or name lists\n"
             "  --json       machine-readable output\n"
             "  -h, --help\n",
    .run = index_run,
};
