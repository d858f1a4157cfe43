/*
 * query: `doppel query PHOTO`, every face in a photo and who it looks like.
 */
#include "cli/cli.h"

#include "core/paths.h"
#include "face/identity.h"
#include "img/image.h"
#include "search/search.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>

static json_t *face_json(const struct search_face *f)
{
    json_t *looks = json_array();

    for (int i = 0; i < f->nlooks; i++)
        json_array_append_new(looks, cli_hit_json(&f->looks[i]));
    json_t *who = json_null();

    if (f->has_identity)
        who = json_pack("{s:I, s:s, s:f, s:f, s:f, s:b, s:o}", "id", (json_int_t)f->identity.id,
                        "name", f->identity.name, "score", (double)f->identity.score, "distance",
                        (double)f->distance, "threshold", IDENTITY_THRESHOLD, "same_person",
                        f->same_person, "tmdb_id",
                        f->identity.tmdb_id ? json_integer(f->identity.tmdb_id) : json_null());
    return json_pack("{s:[f, f, f, f], s:f, s:o, s:o}", "box", (double)f->box.x1,
                     (double)f->box.y1, (double)f->box.x2, (double)f->box.y2, "score",
                     (double)f->box.score, "identity", who, "lookalikes", looks);
}

static void print_faces(const char *file, const struct search_face *f, int n)
{
    printf("%s: %d face%s\n", file, n, n == 1 ? "" : "s");
    for (int i = 0; i < n; i++) {
        printf("face %d at %.0f,%.0f %.0fx%.0f\n", i + 1, f[i].box.x1, f[i].box.y1,
               f[i].box.x2 - f[i].box.x1, f[i].box.y2 - f[i].box.y1);
        if (f[i].has_identity)
            printf("  is %s%s (distance %.3f, threshold %.2f)\n",
                   f[i].same_person ? "" : "probably not ", f[i].identity.name, f[i].distance,
                   IDENTITY_THRESHOLD);
        printf("  looks like:\n");
        for (int j = 0; j < f[i].nlooks; j++)
            printf("  %3d. %-32s  %.3f  closer than %.1f%% of the catalogue\n", j + 1,
                   f[i].looks[j].name, f[i].looks[j].score, f[i].looks[j].rank_pct);
    }
}

static int query_exec(struct cli *cli, const char *file, long k, int json,
                      const struct cli_search_opts *so)
{
    struct search *s = NULL;
    struct search_face *faces = xcalloc(SEARCH_FACES_MAX, sizeof *faces);
    struct image im = {0};
    struct err e;
    int n = 0, rc = CLI_EXIT_FAIL;

    if (img_load_file(file, NULL, &im, &e) != IMG_OK ||
        search_open(paths_data_dir(cli->data_dir), paths_models_dir(cli->models_dir),
                    cli->threads, &s, &e) != SEARCH_OK) {
        log_error("%s", e.msg);
        goto out;
    }
    cli_search_apply(s, so);
    if (search_photo(s, &im, (int)k, faces, &n, &e) != SEARCH_OK) {
        log_error("%s", e.msg);
        goto out;
    }
    if (json) {
        json_t *arr = json_array();

        for (int i = 0; i < n; i++)
            json_array_append_new(arr, face_json(&faces[i]));
        cli_print_json(json_pack("{s:s, s:o}", "file", file, "faces", arr));
    } else {
        print_faces(file, faces, n);
    }
    rc = CLI_EXIT_OK;
out:
    search_close(s);
    img_release(&im);
    free(faces);
    return rc;
}

static int query_run(struct cli *cli, const struct cli_command *self, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, CLI_SEARCH_OPTIONS,
        {NULL, 0, NULL, 0}};
    struct cli_search_opts so = {0, 0, 0};
    const char *why = NULL;
    long k = 10;
    int c, r, json = 0;

    optind = 0;
    while ((c = getopt_long(argc, argv, ":hk:", opts, NULL)) != -1) {
        if (c == 'h') {
            cli_print_usage(stdout, self);
            return CLI_EXIT_OK;
        } else if (c == 'k') {
            if (cli_parse_long(optarg, 1, 50, &k) != 0)
                return cli_usage_error(self, "-k takes a number from 1 to 50");
        } else if (c == 'j') {
            json = 1;
        } else if ((r = cli_search_opt(c, optarg, &so, &why)) != 0) {
            if (r < 0)
                return cli_usage_error(self, "%s", why);
        } else {
            return cli_option_error(self, c, argv);
        }
    }
    if (optind >= argc)
        return cli_usage_error(self, "query needs a PHOTO");
    if (optind + 1 < argc)
        return cli_usage_error(self, "one photo at a time");
    return query_exec(cli, argv[optind], k, json, &so);
}

const struct cli_command cli_cmd_query = {
    .name = "query",
    .summary = "every face in a photo, and who it looks like",
    .usage = "usage: doppel query PHOTO [-k N] [--exact] [--ef N] [--gender G] [--json]\n"
             "\n"
             "Finds every face in the photo (largest first) and, for each, the k catalogue\n"
             "people it looks most like (look space), with cosine similarity and the share\n"
             "of the catalogue they are closer than. Needs `doppel index build`.\n"
             "With an identity index it also says who each face is: the closest person\n"
             "by dlib's distance to their nearest photo, and whether that is below the\n"
             "threshold (same_person); identity is null without one.\n"
             "\n"
             "Options:\n"
             "  -k N       look-alikes per face (default 10, at most 50)\n"
             "  --exact    scan every row even where the space has a graph\n"
             "  --ef N     graph candidates kept per query (default: the one index build\n"
             "             tuned for recall@10 of 0.99 and printed; more: better recall,\n"
             "             slower)\n"
             "  --gender G look-alikes only among female, male or nonbinary people\n"
             "  --json     machine-readable output: file, faces[] with box, score,\n"
             "             identity, lookalikes[] (id, name, score, rank_pct, tmdb_id, photo)\n"
             "  -h, --help\n",
    .run = query_run,
};
