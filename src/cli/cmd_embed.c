/*
 * embed: `doppel embed IMAGE [--model look|identity|clip] [--json] [--all-faces]`, the
 * embedding of the largest face in a photo (or of every face): the look space with age
 * and gender, the identity space (dlib's 128-d descriptor), or CLIP's embedding of the
 * whole photo or of a crop around each face (when the user has CLIP's weights).
 */
#include "cli/cli.h"

#include "core/paths.h"
#include "face/clip_embed.h"
#include "face/detect.h"
#include "face/embed.h"
#include "face/identity.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define EMBED_MAX_FACES 64

struct embed_args {
    const char *file;
    const char *save_face;
    int json;
    int all;
    int identity; /* 1: the identity space, 0: look */
    int clip;     /* 1: the clip space */
    int clip_faces; /* clip: 1 crops around faces, 0 the whole photo */
    const char *weights; /* clip: the checkpoint */
};

/* Moves the largest face to the front. */
static void largest_first(struct face_box *f, int n)
{
    int i = face_largest(f, n);
    struct face_box t;

    if (i <= 0)
        return;
    t = f[0];
    f[0] = f[i];
    f[i] = t;
}

static json_t *embedding_json(const struct face_box *f, const struct embedding *em)
{
    json_t *v = json_array();

    for (int k = 0; k < em->dim; k++)
        json_array_append_new(v, json_real(em->v[k]));
    return json_pack("{s:[f, f, f, f], s:f, s:s, s:i, s:f, s:s, s:f, s:o}", "box", f->x1, f->y1,
                     f->x2 - f->x1, f->y2 - f->y1, "score", f->score, "model", "look", "dim",
                     em->dim, "age", em->age, "gender", em->female >= 0.5f ? "female" : "male",
                     "gender_score", em->female >= 0.5f ? em->female : 1 - em->female,
                     "embedding", v);
}

static void print_embedding(const struct face_box *f, const struct embedding *em, int i)
{
    printf("face %d: box %.0f,%.0f %.0fx%.0f, age %.1f, %s (%.2f), look[%d] = [%.4f, %.4f, "
           "%.4f, ... %.4f]\n",
           i + 1, f->x1, f->y1, f->x2 - f->x1, f->y2 - f->y1, em->age,
           em->female >= 0.5f ? "female" : "male", em->female >= 0.5f ? em->female : 1 - em->female,
           em->dim, em->v[0], em->v[1], em->v[2], em->v[em->dim - 1]);
}

static json_t *identity_json(const struct face_box *f, const float *d)
{
    json_t *v = json_array();

    for (int k = 0; k < IDENTITY_DIM; k++)
        json_array_append_new(v, json_real(d[k]));
    return json_pack("{s:[f, f, f, f], s:f, s:s, s:i, s:o}", "box", f->x1, f->y1, f->x2 - f->x1,
                     f->y2 - f->y1, "score", f->score, "model", "identity", "dim", IDENTITY_DIM,
                     "embedding", v);
}

static void print_identity(const struct face_box *f, const float *d, int i)
{
    printf("face %d: box %.0f,%.0f %.0fx%.0f, identity[%d] = [%.4f, %.4f, %.4f, ... %.4f]\n",
           i + 1, f->x1, f->y1, f->x2 - f->x1, f->y2 - f->y1, IDENTITY_DIM, d[0], d[1], d[2],
           d[IDENTITY_DIM - 1]);
}

static void save_face(const struct image *face, const char *path)
{
    struct err e;

    if (img_save_png(face, path, &e) != IMG_OK)
        log_error("%s", e.msg);
}

/* The look embeddings of faces[0..n) of im, printed. */
static int run_look(const char *models, const struct embed_args *a, const struct image *im,
                    const struct face_box *faces, int n)
{
    struct embedder *emb = NULL;
    struct embedding *em = xcalloc((size_t)n, sizeof *em);
    struct image face;
    struct err e;
    int rc = CLI_EXIT_FAIL;

    if (embedder_load(models, &emb, &e) != 0 || embed_look(emb, im, faces, n, em, &e) != 0) {
        log_error("%s: %s", a->file, e.msg);
        goto out;
    }
    if (a->save_face != NULL) {
        embed_align_look(im, &faces[0], &face);
        save_face(&face, a->save_face);
        img_release(&face);
    }
    if (a->json) {
        json_t *arr = json_array();

        for (int i = 0; i < n; i++)
            json_array_append_new(arr, embedding_json(&faces[i], &em[i]));
        cli_print_json(json_pack("{s:s, s:o}", "file", a->file, "faces", arr));
    } else {
        for (int i = 0; i < n; i++)
            print_embedding(&faces[i], &em[i], i);
    }
    rc = CLI_EXIT_OK;
out:
    embedder_free(emb);
    free(em);
    return rc;
}

/* The identity descriptors of faces[0..n) of im, printed. */
static int run_identity(const char *models, const struct embed_args *a, struct nn_ctx *ctx,
                        const struct image *im, const struct face_box *faces, int n)
{
    struct identity *id = NULL;
    float *d = xcalloc((size_t)n * IDENTITY_DIM, sizeof *d);
    struct image face;
    struct err e;
    int rc = CLI_EXIT_FAIL;

    if (identity_load(models, &id, &e) != 0 || identity_embed(id, ctx, im, faces, n, IDENTITY_FLIP, d, &e) != 0) {
        log_error("%s: %s", a->file, e.msg);
        goto out;
    }
    if (a->save_face != NULL) {
        identity_align(im, &faces[0], NULL, &face);
        save_face(&face, a->save_face);
        img_release(&face);
    }
    if (a->json) {
        json_t *arr = json_array();

        for (int i = 0; i < n; i++)
            json_array_append_new(arr, identity_json(&faces[i], d + (size_t)i * IDENTITY_DIM));
        cli_print_json(json_pack("{s:s, s:o}", "file", a->file, "faces", arr));
    } else {
        for (int i = 0; i < n; i++)
            print_identity(&faces[i], d + (size_t)i * IDENTITY_DIM, i);
    }
    rc = CLI_EXIT_OK;
out:
    identity_free(id);
    free(d);
    return rc;
}

static json_t *vector_json(const float *v, int n)
{
    json_t *arr = json_array();

    for (int k = 0; k < n; k++)
        json_array_append_new(arr, json_real(v[k]));
    return arr;
}

/* Prints CLIP embeddings: of the whole photo (faces == NULL) or of faces[0..n). */
static void print_clip(const struct embed_args *a, const struct nn_clip_config *cfg,
                       const struct face_box *faces, int n, const float *v)
{
    const int d = cfg->dim;

    if (a->json && faces == NULL) {
        cli_print_json(json_pack("{s:s, s:s, s:s, s:i, s:o}", "file", a->file, "model", "clip",
                                 "crop", "whole", "dim", d, "embedding", vector_json(v, d)));
    } else if (a->json) {
        json_t *arr = json_array();

        for (int i = 0; i < n; i++)
            json_array_append_new(arr, json_pack("{s:[f, f, f, f], s:f, s:s, s:i, s:o}", "box",
                                                 faces[i].x1, faces[i].y1,
                                                 faces[i].x2 - faces[i].x1, faces[i].y2 - faces[i].y1,
                                                 "score", faces[i].score, "model", "clip", "dim",
                                                 d, "embedding", vector_json(v + (size_t)i * d, d)));
        cli_print_json(json_pack("{s:s, s:s, s:o}", "file", a->file, "crop", "face", "faces", arr));
    } else {
        for (int i = 0; i < (faces ? n : 1); i++, v += d)
            printf("%s %d: clip[%d] = [%.4f, %.4f, %.4f, ... %.4f]\n", faces ? "face" : "photo",
                   i + 1, d, v[0], v[1], v[2], v[d - 1]);
    }
}

/* CLIP's embedding of the whole photo im (faces == NULL) or of faces[0..n). */
static int run_clip(const struct embed_args *a, struct nn_ctx *ctx, const struct image *im,
                    const struct face_box *faces, int n)
{
    struct clip_embedder *m = NULL;
    float *v = NULL;
    struct err e;
    int rc = CLI_EXIT_FAIL;

    if (clip_embed_load(a->weights, &m, &e) != 0) {
        log_error("%s", e.msg);
        return CLI_EXIT_FAIL;
    }
    v = xcalloc((size_t)(faces ? n : 1) * (size_t)clip_embed_config(m)->dim, sizeof *v);
    if ((faces ? clip_embed_faces(m, ctx, im, faces, n, v, &e)
               : clip_embed_images(m, ctx, &im, 1, v, &e)) != 0) {
        log_error("%s: %s", a->file, e.msg);
        goto out;
    }
    print_clip(a, clip_embed_config(m), faces, n, v);
    rc = CLI_EXIT_OK;
out:
    clip_embed_free(m);
    free(v);
    return rc;
}

static int embed_exec(struct cli *cli, const struct embed_args *a)
{
    const char *models = paths_models_dir(cli->models_dir);
    struct face_detector *det = NULL;
    struct face_box faces[EMBED_MAX_FACES];
    struct face_detect_opts opts = {.ctx = nn_ctx_new(cli->threads)};
    struct image im = {0};
    struct err e;
    int n = 0, rc = CLI_EXIT_FAIL;

    if (img_load_file(a->file, NULL, &im, &e) != IMG_OK) {
        log_error("%s", e.msg);
        goto out;
    }
    if (a->clip && !a->clip_faces) {
        rc = run_clip(a, opts.ctx, &im, NULL, 0);
        goto out;
    }
    if (face_detector_load(models, &det, &e) != 0 ||
        face_detect(det, &im, &opts, faces, EMBED_MAX_FACES, &n, &e) != 0) {
        log_error("%s", e.msg);
        goto out;
    }
    if (n == 0) {
        log_error("%s: no face found", a->file);
        goto out;
    }
    largest_first(faces, n);
    n = a->all ? n : 1;
    if (a->clip)
        rc = run_clip(a, opts.ctx, &im, faces, n);
    else
        rc = a->identity ? run_identity(models, a, opts.ctx, &im, faces, n)
                         : run_look(models, a, &im, faces, n);
out:
    nn_ctx_free(opts.ctx);
    face_detector_free(det);
    img_release(&im);
    return rc;
}

/* Reads --model's value into a; returns 0, or -1 for an unknown space. */
static int parse_model(struct embed_args *a, const char *v)
{
    a->identity = strcmp(v, "identity") == 0;
    a->clip = strcmp(v, "clip") == 0;
    return a->identity || a->clip || strcmp(v, "look") == 0 ? 0 : -1;
}

static int embed_run(struct cli *cli, const struct cli_command *self, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},          {"all-faces", no_argument, NULL, 'a'},
        {"model", required_argument, NULL, 'm'},   {"save-face", required_argument, NULL, 's'},
        {"weights", required_argument, NULL, 'w'}, {"crop", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    struct embed_args a = {0};
    char wbuf[4200];
    int c;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--pending") == 0)
            return cli_crawl_embed_pending(cli, argc, argv);
    }
    optind = 0;
    while ((c = getopt_long(argc, argv, ":hjm:", opts, NULL)) != -1) {
        if (c == 'h') {
            cli_print_usage(stdout, self);
            return CLI_EXIT_OK;
        } else if (c == 'j') {
            a.json = 1;
        } else if (c == 'a') {
            a.all = 1;
        } else if (c == 's') {
            a.save_face = optarg;
        } else if (c == 'w') {
            a.weights = optarg;
        } else if (c == 'c' && strcmp(optarg, "whole") != 0 && strcmp(optarg, "face") != 0) {
            return cli_usage_error(self, "--crop %s: use whole or face", optarg);
        } else if (c == 'c') {
            a.clip_faces = strcmp(optarg, "face") == 0;
        } else if (c == 'm' && parse_model(&a, optarg) != 0) {
            return cli_usage_error(self, "--model %s is not available (look, identity or clip)",
                                   optarg);
        } else if (c != 'm') {
            return cli_option_error(self, c, argv);
        }
    }
    if (optind + 1 != argc)
        return cli_usage_error(self, "embed takes one IMAGE");
    a.file = argv[optind];
    if (a.clip && a.weights == NULL)
        a.weights = clip_embed_default_weights(paths_models_dir(cli->models_dir), wbuf,
                                               sizeof wbuf);
    if (a.clip && a.weights == NULL)
        return cli_usage_error(self, "--model clip needs --weights FILE, %s, or `doppel "
                                     "models fetch clip`", CLIP_ENV_WEIGHTS);
    return embed_exec(cli, &a);
}

const struct cli_command cli_cmd_embed = {
    .name = "embed",
    .summary = "the embedding of a face in a photo (look, identity or clip space)",
    .usage = "usage: doppel embed IMAGE [--model look|identity|clip] [--all-faces] [--json]\n"
             "                    [--save-face OUT.png] [--weights FILE] [--crop whole|face]\n"
             "       doppel embed --pending [--jobs N] [--json]\n"
             "\n"
             "--pending embeds the photos `doppel crawl images` downloaded (the same as\n"
             "`doppel crawl embed`); then run `doppel index build`.\n"
             "\n"
             "Detects the faces in IMAGE, aligns the largest (or every face with\n"
             "--all-faces) and prints its embedding. `look` is faceres's 1024-d descriptor,\n"
             "L2-normalised, for resemblance, with the estimated age and gender.\n"
             "`identity` is dlib's 128-d face recognition descriptor (the mean of the\n"
             "face's and its mirror image's; not normalised, compared by Euclidean\n"
             "distance, see `doppel verify`), for telling people apart.\n"
             "`clip` is CLIP's image embedding (ViT, e.g. 512-d for ViT-B/32, L2-normalised)\n"
             "of the whole photo, as the seed system embeds headshots, or with --crop face\n"
             "of a square twice the size of each face; it needs a safetensors checkpoint.\n"
             "\n"
             "Options:\n"
             "  --model SPACE       look (default), identity or clip\n"
             "  --weights FILE      clip: the checkpoint (default: $DOPPEL_CLIP_WEIGHTS, else\n"
             "                      the one `doppel models fetch clip` downloaded)\n"
             "  --crop whole|face   clip: embed the whole photo (default) or each face\n"
             "  --all-faces         every face, largest first\n"
             "  --json              machine-readable output, with the full vectors\n"
             "  --save-face OUT.png write the aligned input of the largest face\n"
             "                      (224 x 224 for look, dlib's 150 x 150 chip for identity)\n"
             "  -h, --help\n",
    .run = embed_run,
};
