/*
 * titles: `doppel titles import FILE.csv [--json]`, titles with their casts, linked to
 * the catalogue's people by name, for "known for" labels without TMDB.
 */
#include "cli/cli.h"

#include "catalog/catalog.h"
#include "catalog/titles.h"
#include "util/fs.h"
#include "util/log.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define TITLES_FILE_MAX ((size_t)512 << 20)

static void print_stats(const char *file, const struct titles_stats *st, int json)
{
    if (json) {
        cli_print_json(json_pack(
            "{s:s, s:I, s:I, s:I, s:I, s:I}", "file", file, "rows", (json_int_t)st->rows, "skipped",
            (json_int_t)st->skipped, "titles_new", (json_int_t)st->titles_new, "credits",
            (json_int_t)st->credits, "credits_new", (json_int_t)st->credits_new));
        return;
    }
    printf("%s: %ld titles (%ld new, %ld rows skipped), %ld cast names matched people "
           "(%ld new credits)\n",
           file, st->rows - st->skipped, st->titles_new, st->skipped, st->credits, st->credits_new);
    if (st->credits == 0)
        printf("  no cast name matched a person of the catalogue (doppel import adds people)\n");
}

static int titles_import_file(struct cli *cli, const char *file, int json)
{
    struct catalog *cat = NULL;
    struct titles_stats st;
    unsigned char *text = NULL;
    char path[4096];
    struct err e;
    size_t n;
    int rc = CLI_EXIT_FAIL;

    if (fs_read_file(file, TITLES_FILE_MAX, &text, &n, &e) != FS_OK) {
        log_error("%s", e.msg);
        goto out;
    }
    if (cli_open_catalog(cli, 1, &cat, path, sizeof path) != CLI_EXIT_OK)
        goto out;
    if (titles_import(cat, (const char *)text, n, &st, &e) != TITLES_OK) {
        log_error("%s: %s", file, e.msg);
        goto out;
    }
    print_stats(file, &st, json);
    rc = CLI_EXIT_OK;
out:
    catalog_close(cat);
    free(text);
    return rc;
}

static int titles_run(struct cli *cli, const struct cli_command *self, int argc, char **argv)
{
    int json, rc = cli_parse_json_only(self, argc, argv, 1, &json);

    if (rc >= 0)
        return rc;
    if (optind >= argc)
        return cli_usage_error(self, "titles needs an action");
    if (strcmp(argv[optind], "import") != 0)
        return cli_usage_error(self, "unknown action '%s'", argv[optind]);
    if (optind + 2 != argc)
        return cli_usage_error(self, "titles import takes one FILE");
    return titles_import_file(cli, argv[optind + 1], json);
}

const struct cli_command cli_cmd_titles = {
    .name = "titles",
    .summary = "import titles with their casts, for \"known for\" labels",
    .usage = "usage: doppel titles import FILE.csv [--json]\n"
             "\n"
             "Stores every title of FILE and links each cast name to the catalogue's\n"
             "person of that name (compared normalised: case, accents and punctuation do\n"
             "not matter), so people get \"known for\" labels without TMDB. Import people\n"
             "first; importing again adds only what is new.\n"
             "\n"
             "FILE is CSV (comma, semicolon or tab) with a header naming a title column\n"
             "(title, movie_title, primaryTitle), optionally year (year, release_year,\n"
             "title_year) and type (type: Movie, TV Show, ...), and the cast: one column of\n"
             "names separated by commas (cast, actors, stars), or actor_1_name,\n"
             "actor_2_name, actor_3_name. Billing order becomes the credit's order.\n"
             "\n"
             "Options:\n"
             "  --json    machine-readable output\n"
             "  -h, --help\n",
    .run = titles_run,
};
