/*
 * verify: `doppel verify A B [--threshold T] [--json]`, whether the largest faces of two
 * photos are the same person: the Euclidean distance of their identity descriptors
 * against a threshold (doppel's calibrated IDENTITY_THRESHOLD unless --threshold).
 */
#include "cli/cli.h"

#include "core/paths.h"
#include "face/detect.h"
#include "face/identity.h"
#include "util/log.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define VERIFY_MAX_FACES 64

struct verify_args {
    const char *file[2];
    double threshold;
    int json;
};

/* The largest face of file into *face and its descriptor into d. */
static int face_of(const struct face_detector *det, const struct identity *id, struct nn_ctx *ctx,
                   const char *file, struct face_box *face, float *d)
{
    struct face_box faces[VERIFY_MAX_FACES];
    struct face_detect_opts opts = {.ctx = ctx};
    struct image im = {0};
    struct err e;
    int n = 0, rc = CLI_EXIT_FAIL;

    if (img_load_file(file, NULL, &im, &e) != IMG_OK ||
        face_detect(det, &im, &opts, faces, VERIFY_MAX_FACES, &n, &e) != 0) {
        log_error("%s", e.msg);
        goto out;
    }
    if (n == 0) {
        log_error("%s: no face found", file);
        goto out;
    }
    *face = faces[face_largest(faces, n)];
    if (identity_embed(id, ctx, &im, face, 1, IDENTITY_FLIP, d, &e) != 0) {
        log_error("%s: %s", file, e.msg);
        goto out;
    }
    rc = CLI_EXIT_OK;
out:
    img_release(&im);
    return rc;
}

static json_t *box_json(const char *file, const struct face_box *f)
{
    return json_pack("{s:s, s:[f, f, f, f], s:f}", "file", file, "box", f->x1, f->y1, f->x2 - f->x1,
                     f->y2 - f->y1, "score", f->score);
}

static void report(const struct verify_args *a, const struct face_box *f, float dist)
{
    int same = dist < a->threshold;

    if (a->json) {
        cli_print_json(json_pack("{s:b, s:f, s:f, s:s, s:[o, o]}", "same_person", same, "distance",
                                 dist, "threshold", a->threshold, "model", "identity", "faces",
                                 box_json(a->file[0], &f[0]), box_json(a->file[1], &f[1])));
        return;
    }
    printf("%s: distance %.3f %s threshold %.2f\n", same ? "same person" : "different people", dist,
           same ? "<" : ">=", a->threshold);
}

static int verify_exec(struct cli *cli, const struct verify_args *a)
{
    const char *models = paths_models_dir(cli->models_dir);
    struct face_detector *det = NULL;
    struct identity *id = NULL;
    struct nn_ctx *ctx = nn_ctx_new(cli->threads);
    struct face_box f[2];
    float d[2][IDENTITY_DIM];
    struct err e;
    int rc = CLI_EXIT_FAIL;

    if (face_detector_load(models, &det, &e) != 0 || identity_load(models, &id, &e) != 0) {
        log_error("%s", e.msg);
        goto out;
    }
    for (int i = 0; i < 2; i++)
        if (face_of(det, id, ctx, a->file[i], &f[i], d[i]) != CLI_EXIT_OK)
            goto out;
    report(a, f, identity_distance(d[0], d[1]));
    rc = CLI_EXIT_OK;
out:
    identity_free(id);
    face_detector_free(det);
    nn_ctx_free(ctx);
    return rc;
}

static int verify_run(struct cli *cli, const struct cli_command *self, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"threshold", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct verify_args a = {.threshold = IDENTITY_THRESHOLD};
    char *end;
    int c;

    optind = 0;
    while ((c = getopt_long(argc, argv, ":hjt:", opts, NULL)) != -1) {
        if (c == 'h') {
            cli_print_usage(stdout, self);
            return CLI_EXIT_OK;
        } else if (c == 'j') {
            a.json = 1;
        } else if (c == 't') {
            a.threshold = strtod(optarg, &end);
            if (end == optarg || *end != '\0' || !(a.threshold > 0 && a.threshold < 10))
                return cli_usage_error(self, "--threshold takes a distance between 0 and 10");
        } else {
            return cli_option_error(self, c, argv);
        }
    }
    if (optind + 2 != argc)
        return cli_usage_error(self, "verify takes two photos");
    a.file[0] = argv[optind];
    a.file[1] = argv[optind + 1];
    return verify_exec(cli, &a);
}

const struct cli_command cli_cmd_verify = {
    .name = "verify",
    .summary = "whether two photos show the same person (identity space)",
    .usage = "usage: doppel verify A B [--threshold T] [--json]\n"
             "\n"
             "Detects the largest face in each photo and compares their identity\n"
             "descriptors (dlib's face recognition network): the same person when the\n"
             "Euclidean distance is below the threshold. The default threshold was\n"
             "calibrated on labelled celebrity photos (dlib and face-api use 0.6).\n"
             "The exit status is 0 whatever the answer; 1 when a photo cannot be read or\n"
             "has no face.\n"
             "\n"
             "Options:\n"
             "  --threshold T  the distance below which the faces are the same person\n"
             "  --json         machine-readable output: same_person, distance, threshold\n"
             "  -h, --help\n",
    .run = verify_run,
};
