/*
 * stats: `doppel stats [--json]`, what the catalogue holds: people, photos by status,
 * embeddings per space, titles and credits.
 */
#include "cli/cli.h"

#include "catalog/catalog.h"
#include "util/log.h"

#include <getopt.h>
#include <jansson.h>

static json_t *stats_json(const char *path, const struct catalog_stats *s)
{
    json_t *spaces = json_array();

    for (int i = 0; i < s->nspaces; i++)
        json_array_append_new(spaces, json_pack("{s:s, s:s, s:I, s:I}", "space", s->spaces[i].space,
                                                "model", s->spaces[i].model, "embeddings",
                                                (json_int_t)s->spaces[i].embeddings, "people",
                                                (json_int_t)s->spaces[i].people));
    return json_pack("{s:s, s:i, s:I, s:{s:I, s:I, s:I, s:I}, s:o, s:I, s:I}", "catalog", path,
                     "schema", s->schema, "people", (json_int_t)s->people, "photos", "total",
                     (json_int_t)s->photos, "ok", (json_int_t)s->photos_by_status[CATALOG_PHOTO_OK],
                     "no_face", (json_int_t)s->photos_by_status[CATALOG_PHOTO_NO_FACE],
                     "decode_error", (json_int_t)s->photos_by_status[CATALOG_PHOTO_DECODE_ERROR],
                     "embeddings", spaces, "titles", (json_int_t)s->titles, "credits",
                     (json_int_t)s->credits);
}

static void stats_print(const char *path, const struct catalog_stats *s)
{
    printf("catalogue   %s (schema %d)\n", path, s->schema);
    printf("people      %lld\n", (long long)s->people);
    printf("photos      %lld (%lld ok, %lld no face, %lld decode errors)\n", (long long)s->photos,
           (long long)s->photos_by_status[CATALOG_PHOTO_OK],
           (long long)s->photos_by_status[CATALOG_PHOTO_NO_FACE],
           (long long)s->photos_by_status[CATALOG_PHOTO_DECODE_ERROR]);
    if (s->nspaces == 0)
        printf("embeddings  0\n");
    for (int i = 0; i < s->nspaces; i++)
        printf("embeddings  %s (%s): %lld, of %lld people\n", s->spaces[i].space,
               s->spaces[i].model, (long long)s->spaces[i].embeddings,
               (long long)s->spaces[i].people);
    printf("titles      %lld\n", (long long)s->titles);
    printf("credits     %lld\n", (long long)s->credits);
}

static int stats_run(struct cli *cli, const struct cli_command *self, int argc, char **argv)
{
    struct catalog *cat = NULL;
    struct catalog_stats s;
    char path[4096];
    struct err e;
    int json, rc = cli_parse_json_only(self, argc, argv, 1, &json);

    if (rc >= 0)
        return rc;
    if (optind < argc)
        return cli_usage_error(self, "unexpected argument '%s'", argv[optind]);
    rc = cli_open_catalog(cli, 0, &cat, path, sizeof path);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (catalog_stats(cat, &s, &e) != CATALOG_OK) {
        log_error("%s", e.msg);
        rc = CLI_EXIT_FAIL;
    } else if (json) {
        cli_print_json(stats_json(path, &s));
    } else {
        stats_print(path, &s);
    }
    catalog_close(cat);
    return rc;
}

const struct cli_command cli_cmd_stats = {
    .name = "stats",
    .summary = "what the catalogue holds: people, photos, embeddings, titles",
    .usage = "usage: doppel stats [--json]\n"
             "\n"
             "Counts the catalogue's people, its photos by status (ok, no face, decode\n"
             "error), its embeddings per space and model (and how many people they cover),\n"
             "its titles and its credits.\n"
             "\n"
             "Options:\n"
             "  --json    machine-readable output\n"
             "  -h, --help\n",
    .run = stats_run,
};
