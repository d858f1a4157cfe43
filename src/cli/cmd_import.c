/*
 * import: `doppel import DIR` and `doppel import --manifest FILE`, people and their
 * photos into the catalogue, every face embedded. Safe to re-run and to interrupt:
 * Ctrl-C commits what is done and stops; the same command resumes.
 */
#include "cli/cli.h"

#include "catalog/catalog.h"
#include "catalog/ingest.h"
#include "catalog/source.h"
#include "core/paths.h"
#include "face/clip_embed.h"
#include "util/log.h"

#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

struct import_args {
    const char *dir;
    const char *manifest;
    enum source_case name_case;
    long threads;
    long batch;
    int json;
    const char *clip_weights; /* NULL: $DOPPEL_CLIP_WEIGHTS, when set */
};

static int parse_case(const char *s, enum source_case *out)
{
    static const char *const names[] = {"auto", "keep", "title"};

    for (int i = 0; i < 3; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (enum source_case)i;
            return 0;
        }
    }
    return -1;
}

static void print_json(const char *path, const struct ingest_stats *st, int rc)
{
    json_t *o = json_pack(
        "{s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
        "s:I, s:I, s:i, s:f}",
        "catalog", path, "complete", rc == INGEST_OK, "rows", (json_int_t)st->rows, "people",
        (json_int_t)st->people, "people_new", (json_int_t)st->people_new, "photos",
        (json_int_t)st->photos, "ok", (json_int_t)st->ok, "no_face", (json_int_t)st->no_face,
        "decode_error", (json_int_t)st->decode_error, "known", (json_int_t)st->known, "duplicates",
        (json_int_t)st->duplicates, "unreadable", (json_int_t)st->unreadable, "urls",
        (json_int_t)st->urls, "bad_names", (json_int_t)st->bad_names, "embeddings",
        (json_int_t)st->embeddings, "threads", st->threads, "seconds", st->seconds);

    cli_print_json(o);
}

static void print_text(const char *path, const struct ingest_stats *st)
{
    long done =
        st->ok + st->no_face + st->decode_error + st->known + st->duplicates + st->unreadable;

    if (done < st->photos)
        printf("%ld of ", done);
    printf("%ld photos of %ld people (%ld new) in %.1f s, %.1f photos/s on %d threads\n",
           st->photos, st->people, st->people_new, st->seconds,
           st->seconds > 0 ? (double)done / st->seconds : 0.0, st->threads);
    printf("  stored:  %ld ok, %ld no face, %ld decode errors; %ld embeddings\n", st->ok,
           st->no_face, st->decode_error, st->embeddings);
    printf("  skipped: %ld already in the catalogue, %ld duplicates, %ld unreadable\n", st->known,
           st->duplicates, st->unreadable);
    if (st->urls > 0)
        printf("  skipped: %ld photo URLs (fetching photos needs the crawler, not built yet)\n",
               st->urls);
    if (st->bad_names > 0)
        printf("  skipped: %ld rows whose name the catalogue refused (see the warnings)\n",
               st->bad_names);
    printf("  catalogue: %s\n", path);
}

/* Reads the rows to import: a folder tree or a manifest. */
static int load_source(const struct import_args *a, struct source *src)
{
    struct err e;
    int rc = a->manifest != NULL ? source_load_manifest(src, a->manifest, &e)
                                 : source_scan_dir(src, a->dir, a->name_case, &e);

    if (rc != SOURCE_OK) {
        log_error("%s", e.msg);
        return CLI_EXIT_FAIL;
    }
    if (src->ignored > 0)
        log_info("%zu files are not photos (.jpg, .jpeg, .png, .webp) and are left out",
                 src->ignored);
    return CLI_EXIT_OK;
}

static int import_exec(struct cli *cli, const struct import_args *a)
{
    char wbuf[4200];
    const char *models = paths_models_dir(cli->models_dir);
    struct ingest_opts o = {models, (int)a->threads, (int)a->batch, log_get_level() >= LOG_INFO,
                            &cli_stop,
                            a->clip_weights ? a->clip_weights
                                            : clip_embed_default_weights(models, wbuf, sizeof wbuf)};
    struct catalog *cat = NULL;
    struct ingest_stats st;
    struct source src;
    char path[4096];
    struct err e;
    int rc;

    source_init(&src);
    rc = load_source(a, &src);
    if (rc == CLI_EXIT_OK)
        rc = cli_open_catalog(cli, 1, &cat, path, sizeof path);
    if (rc != CLI_EXIT_OK)
        goto out;
    cli_catch_stop();
    rc = ingest_run(cat, &src, &o, &st, &e);
    if (a->json && (rc == INGEST_OK || st.photos > 0))
        print_json(path, &st, rc);
    else if (rc == INGEST_OK || st.photos > 0)
        print_text(path, &st);
    if (rc != INGEST_OK)
        log_error("%s", e.msg);
    rc = rc == INGEST_OK ? CLI_EXIT_OK : CLI_EXIT_FAIL;
out:
    catalog_close(cat);
    source_release(&src);
    return rc;
}

static int import_run(struct cli *cli, const struct cli_command *self, int argc, char **argv)
{
    static const struct option opts[] = {
        {"manifest", required_argument, NULL, 'm'},
        {"name-case", required_argument, NULL, 'n'},
        {"jobs", required_argument, NULL, 'j'},
        {"batch", required_argument, NULL, 'b'},
        {"json", no_argument, NULL, 'J'},
        {"clip-weights", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct import_args a = {NULL, NULL, SOURCE_CASE_AUTO, 0, 0, 0, NULL};
    int c;

    optind = 0;
    while ((c = getopt_long(argc, argv, ":hj:", opts, NULL)) != -1) {
        if (c == 'h') {
            cli_print_usage(stdout, self);
            return CLI_EXIT_OK;
        } else if (c == 'J') {
            a.json = 1;
        } else if (c == 'm') {
            a.manifest = optarg;
        } else if (c == 'c') {
            a.clip_weights = optarg;
        } else if (c == 'n' && parse_case(optarg, &a.name_case) != 0) {
            return cli_usage_error(self, "--name-case takes auto, keep or title");
        } else if (c == 'j' && cli_parse_long(optarg, 1, 256, &a.threads) != 0) {
            return cli_usage_error(self, "-j takes a number of threads from 1 to 256");
        } else if (c == 'b' && cli_parse_long(optarg, 1, 100000, &a.batch) != 0) {
            return cli_usage_error(self, "--batch takes a number from 1 to 100000");
        } else if (c == '?' || c == ':') {
            return cli_option_error(self, c, argv);
        }
    }
    if (a.manifest == NULL && optind + 1 != argc)
        return cli_usage_error(self, "import takes one DIR, or --manifest FILE");
    if (a.manifest != NULL && optind != argc)
        return cli_usage_error(self, "import takes either DIR or --manifest FILE, not both");
    a.dir = a.manifest == NULL ? argv[optind] : NULL;
    return import_exec(cli, &a);
}

const struct cli_command cli_cmd_import = {
    .name = "import",
    .summary = "add people and their photos to the catalogue, every face embedded",
    .usage = "usage: doppel import DIR [--name-case auto|keep|title] [-j N] [--json]\n"
             "       doppel import --manifest FILE.csv|FILE.jsonl [-j N] [--json]\n"
             "\n"
             "DIR holds one folder per person, named after them (Keanu_Reeves/, or\n"
             "keanu_reeves/: underscores become spaces), with their photos inside\n"
             "(.jpg, .jpeg, .png, .webp), best first in file-name order. A manifest lists rows\n"
             "instead: CSV with a header, or JSON lines, with name and photo (a path,\n"
             "relative to the manifest; http(s) URLs are skipped until the crawler\n"
             "exists), optionally tmdb_id, known_for (titles separated by ';') and rank.\n"
             "\n"
             "Each photo is hashed, decoded, its largest face found and embedded (look\n"
             "space), and stored in the catalogue in the data folder (catalog.db). A photo\n"
             "with no face or that does not decode is stored with the reason. People are\n"
             "matched by TMDB id, else by name; photos by SHA-256: importing again adds\n"
             "only what is new, and an interrupted import resumes where it stopped.\n"
             "\n"
             "Options:\n"
             "  --manifest FILE     rows from a .csv or .jsonl file instead of DIR\n"
             "  --name-case C       folder names: auto (title-case all-lower-case names,\n"
             "                      the default), keep, or title\n"
             "  -j, --jobs N        worker threads (default: one per core)\n"
             "  --batch N           photos per transaction (default 64; also every second)\n"
             "  --clip-weights FILE also fill the clip space: CLIP's embedding of each\n"
             "                      whole photo (default: $DOPPEL_CLIP_WEIGHTS, else the\n"
             "                      weights `doppel models fetch clip` downloaded, if any)\n"
             "  --json              machine-readable summary\n"
             "  -h, --help\n",
    .run = import_run,
};
