/*
 * detect: `doppel detect IMAGE... [--json] [--draw OUT.png]`, every face in a photo with
 * its box, score and keypoints.
 */
#include "cli/cli.h"

#include "core/paths.h"
#include "face/detect.h"
#include "util/clock.h"
#include "util/log.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define DETECT_MAX 256

static const char *const kp_names[FACE_KP_COUNT] = {"right_eye", "left_eye",  "nose",
                                                    "mouth",     "right_ear", "left_ear"};

static json_t *face_json(const struct face_box *f)
{
    json_t *kp = json_object();

    for (int k = 0; k < FACE_KP_COUNT; k++)
        json_object_set_new(kp, kp_names[k], json_pack("[f, f]", f->kp[k][0], f->kp[k][1]));
    return json_pack("{s:[f, f, f, f], s:f, s:o}", "box", f->x1, f->y1, f->x2 - f->x1,
                     f->y2 - f->y1, "score", f->score, "keypoints", kp);
}

static void draw_faces(const struct image *im, const struct face_box *f, int n, const char *path)
{
    static const unsigned char green[3] = {0, 230, 0}, red[3] = {255, 0, 0};
    struct image copy;
    struct err e;
    int t = im->w > 1000 ? 3 : 1;

    img_alloc(&copy, im->w, im->h);
    memcpy(copy.px, im->px, (size_t)im->w * im->h * 3);
    for (int i = 0; i < n; i++) {
        img_draw_rect(&copy, (int)f[i].x1, (int)f[i].y1, (int)f[i].x2, (int)f[i].y2, t, green);
        for (int k = 0; k < FACE_KP_COUNT; k++)
            img_draw_rect(&copy, (int)f[i].kp[k][0] - t, (int)f[i].kp[k][1] - t,
                          (int)f[i].kp[k][0] + t, (int)f[i].kp[k][1] + t, 1, red);
    }
    if (img_save_png(&copy, path, &e) != IMG_OK)
        log_error("%s", e.msg);
    img_release(&copy);
}

struct detect_args {
    int json;
    const char *draw;
    struct face_detect_opts opts;
};

static json_t *detect_one(const struct face_detector *d, const char *file,
                          const struct detect_args *a, int *failed)
{
    struct face_box faces[DETECT_MAX];
    struct image im;
    struct err e;
    json_t *arr;
    double t0;
    int n;

    if (img_load_file(file, NULL, &im, &e) != IMG_OK) {
        (*failed)++;
        log_error("%s", e.msg);
        return json_pack("{s:s, s:s}", "file", file, "error", e.msg);
    }
    t0 = clock_now();
    if (face_detect(d, &im, &a->opts, faces, DETECT_MAX, &n, &e) != 0) {
        (*failed)++;
        log_error("%s: %s", file, e.msg);
        img_release(&im);
        return json_pack("{s:s, s:s}", "file", file, "error", e.msg);
    }
    arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, face_json(&faces[i]));
    if (!a->json) {
        printf("%s: %d face%s (%dx%d, %.0f ms)\n", file, n, n == 1 ? "" : "s", im.w, im.h,
               (clock_now() - t0) * 1e3);
        for (int i = 0; i < n; i++)
            printf("  face %d: box %.0f,%.0f %.0fx%.0f score %.3f\n", i + 1, faces[i].x1,
                   faces[i].y1, faces[i].x2 - faces[i].x1, faces[i].y2 - faces[i].y1,
                   faces[i].score);
    }
    if (a->draw != NULL)
        draw_faces(&im, faces, n, a->draw);
    img_release(&im);
    return json_pack("{s:s, s:i, s:i, s:o}", "file", file, "width", im.w, "height", im.h,
                     "faces", arr);
}

static int detect_run(struct cli *cli, const struct cli_command *self, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},           {"draw", required_argument, NULL, 'd'},
        {"min-score", required_argument, NULL, 's'}, {"fast", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    struct detect_args a = {0};
    struct face_detector *d;
    struct err e;
    json_t *all;
    int c, failed = 0;

    optind = 0;
    while ((c = getopt_long(argc, argv, ":hj", opts, NULL)) != -1) {
        if (c == 'h') {
            cli_print_usage(stdout, self);
            return CLI_EXIT_OK;
        } else if (c == 'j') {
            a.json = 1;
        } else if (c == 'd') {
            a.draw = optarg;
        } else if (c == 'f') {
            a.opts.no_tiles = 1;
        } else if (c == 's') {
            char *end;

            a.opts.min_score = strtof(optarg, &end);
            if (*end != '\0' || !(a.opts.min_score > 0 && a.opts.min_score < 1))
                return cli_usage_error(self, "--min-score takes a number between 0 and 1");
        } else {
            return cli_option_error(self, c, argv);
        }
    }
    if (optind >= argc)
        return cli_usage_error(self, "detect needs at least one IMAGE");
    if (face_detector_load(paths_models_dir(cli->models_dir), &d, &e) != 0) {
        log_error("%s (run scripts/setup.sh to fetch the models)", e.msg);
        return CLI_EXIT_FAIL;
    }
    a.opts.ctx = nn_ctx_new(cli->threads);
    all = json_array();
    for (int i = optind; i < argc; i++)
        json_array_append_new(all, detect_one(d, argv[i], &a, &failed));
    nn_ctx_free(a.opts.ctx);
    if (a.json)
        cli_print_json(all);
    else
        json_decref(all);
    face_detector_free(d);
    return failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

const struct cli_command cli_cmd_detect = {
    .name = "detect",
    .summary = "find every face in photos: box, score, keypoints",
    .usage = "usage: doppel detect IMAGE... [--json] [--draw OUT.png] [--min-score S] [--fast]\n"
             "\n"
             "Finds every face with BlazeFace: its box (x, y, width, height in pixels),\n"
             "score (0-1) and six keypoints (eyes, nose, mouth, ears).\n"
             "\n"
             "Options:\n"
             "  --json          machine-readable output\n"
             "  --draw OUT.png  write the photo with the faces drawn on it (last IMAGE)\n"
             "  --min-score S   lowest score kept (default 0.5)\n"
             "  --fast          one look at the whole photo only: no tiles for small faces,\n"
             "                  no padding for tight crops\n"
             "  -h, --help\n",
    .run = detect_run,
};
