/*
 * index: `doppel index build`, the index files searches read, rebuilt from the
 * catalogue: one row per person and space, the average of their best photos.
 */
#include "cli/cli.h"

#include "catalog/catalog.h"
#include "core/paths.h"
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
};

/* Builds one space; appends its figures to arr. Returns 0 or -1 (logged). */
static int build_one(struct catalog *cat, const char *data_dir, const char *space,
                     const struct index_args *a, json_t *arr)
{
    double t0 = clock_now();
    int64_t people;
    struct err e;

    if (search_build_index(cat, data_dir, space, (int)a->photos, &people, &e) != SEARCH_OK) {
        log_error("%s", e.msg);
        return -1;
    }
    if (a->json)
        json_array_append_new(arr, json_pack("{s:s, s:I, s:f}", "space", space, "people",
                                             (json_int_t)people, "seconds", clock_now() - t0));
    else
        printf("%s: %lld people, %s/index/%s.idx (%.2f s)\n", space, (long long)people, data_dir,
               space, clock_now() - t0);
    return 0;
}

static int index_exec(struct cli *cli, const struct index_args *a)
{
    const char *data_dir = paths_data_dir(cli->data_dir);
    struct catalog *cat = NULL;
    struct catalog_stats st;
    char path[4096];
    struct err e;
    json_t *arr = json_array();
    int rc = cli_open_catalog(cli, 0, &cat, path, sizeof path), built = 0;

    if (rc == CLI_EXIT_OK && a->space == NULL && catalog_stats(cat, &st, &e) != CATALOG_OK) {
        log_error("%s", e.msg);
        rc = CLI_EXIT_FAIL;
    }
    if (rc == CLI_EXIT_OK && a->space != NULL)
        rc = build_one(cat, data_dir, a->space, a, arr) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    for (int i = 0; rc == CLI_EXIT_OK && a->space == NULL && i < st.nspaces; i++, built++)
        if (build_one(cat, data_dir, st.spaces[i].space, a, arr) != 0)
            rc = CLI_EXIT_FAIL;
    if (rc == CLI_EXIT_OK && a->space == NULL && built == 0) {
        log_error("the catalogue has no embeddings yet (doppel import first)");
        rc = CLI_EXIT_FAIL;
    }
    if (rc == CLI_EXIT_OK && a->json)
        cli_print_json(json_pack("{s:o}", "indexes", arr));
    else
        json_decref(arr);
    catalog_close(cat);
    return rc;
}

static int index_run(struct cli *cli, const struct cli_command *self, int argc, char **argv)
{
    static const struct option opts[] = {
        {"space", required_argument, NULL, 's'}, {"photos", required_argument, NULL, 'p'},
        {"json", no_argument, NULL, 'j'},        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct index_args a = {NULL, 0, 0};
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
    .usage = "usage: doppel index build [--space look|identity|clip] [--photos N] [--json]\n"
             "\n"
             "Writes DATA/index/<space>.idx for every space the catalogue has vectors in\n"
             "(or the one named): one row per person, the average of their N best photos'\n"
             "embeddings (default 5), unit length. The file is written beside the old one\n"
             "and renamed into place, so a running server never reads half a file. Run it\n"
             "after each import.\n"
             "\n"
             "Options:\n"
             "  --space S    look, identity or clip (default: every space with vectors)\n"
             "  --photos N   photos averaged per person, best first (default 5)\n"
             "  --json       machine-readable output\n"
             "  -h, --help\n",
    .run = index_run,
};
