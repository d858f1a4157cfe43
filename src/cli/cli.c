/*
 * cli: the subcommand table and the helpers every subcommand shares, so usage errors
 * read the same everywhere.
 */
#include "cli/cli.h"

#include "catalog/catalog.h"
#include "core/paths.h"
#include "util/log.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const struct cli_command *const cli_table[] = {
    &cli_cmd_crawl,
    &cli_cmd_detect,
    &cli_cmd_embed,
    &cli_cmd_image,
    &cli_cmd_import,
    &cli_cmd_models,
    &cli_cmd_names,
    &cli_cmd_stats,
    &cli_cmd_index,
    &cli_cmd_similar,
    &cli_cmd_query,
    &cli_cmd_serve,
    &cli_cmd_titles,
    &cli_cmd_verify,
    &cli_cmd_help,
    &cli_cmd_version,
    NULL,
};

const struct cli_command *const *cli_commands(void)
{
    return cli_table;
}

const struct cli_command *cli_find(const char *name)
{
    for (size_t i = 0; cli_table[i] != NULL; i++) {
        if (strcmp(cli_table[i]->name, name) == 0)
            return cli_table[i];
    }
    return NULL;
}

void cli_print_usage(FILE *out, const struct cli_command *cmd)
{
    fputs(cmd->usage, out);
}

int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
{
    va_list ap;

    fputs("doppel: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n", stderr);
    if (cmd != NULL)
        cli_print_usage(stderr, cmd);
    else
        cli_print_overview(stderr);
    return CLI_EXIT_USAGE;
}

int cli_option_error(const struct cli_command *cmd, int c, char **argv)
{
    const char *arg = argv[optind - 1];

    if (c == ':')
        return cli_usage_error(cmd, "option '%s' needs a value", arg);
    if (optopt != 0 && strncmp(arg, "--", 2) != 0)
        return cli_usage_error(cmd, "unknown option '-%c'", optopt);
    return cli_usage_error(cmd, "unknown option '%s'", arg);
}

void cli_print_overview(FILE *out)
{
    fputs("usage: doppel [--data DIR] [--models DIR] [--threads N] [-v | -q] <command> [<args>]\n"
          "\n"
          "Find actors who look alike, and who is in a photo.\n"
          "\n"
          "Commands:\n",
          out);
    for (size_t i = 0; cli_table[i] != NULL; i++)
        fprintf(out, "  %-10s %s\n", cli_table[i]->name, cli_table[i]->summary);
    fputs("\n"
          "Global options:\n"
          "  --data DIR        data folder (default $DOPPEL_DATA or ./doppel-data)\n"
          "  --models DIR      models folder (default $DOPPEL_MODELS or ./models)\n"
          "  --threads N       threads one photo's networks run on (default: every core)\n"
          "  -v, --verbose     print debug messages\n"
          "  -q, --quiet       print errors only\n"
          "  --version         print the version and exit\n"
          "  -h, --help        print this help and exit\n"
          "\n"
          "`doppel help <command>` or `doppel <command> --help` describes one command.\n",
          out);
}

int cli_parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

void cli_print_json(void *json)
{
    json_dumpf(json, stdout, JSON_INDENT(2));
    fputs("\n", stdout);
    json_decref(json);
}

int cli_parse_json_only(const struct cli_command *cmd, int argc, char **argv, int permute,
                        int *json)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    *json = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, permute ? ":hj" : "+:hj", opts, NULL)) != -1) {
        if (c == 'h') {
            cli_print_usage(stdout, cmd);
            return CLI_EXIT_OK;
        }
        if (c != 'j')
            return cli_option_error(cmd, c, argv);
        *json = 1;
    }
    return -1;
}

int cli_open_catalog(const struct cli *cli, int create, struct catalog **out, char *path,
                     size_t n)
{
    struct err e;

    if (paths_join(path, n, paths_data_dir(cli->data_dir), CATALOG_FILE) != 0) {
        log_error("the data folder's path is too long");
        return CLI_EXIT_FAIL;
    }
    if (catalog_open(path, create ? CATALOG_OPEN_CREATE : 0, out, &e) != CATALOG_OK) {
        log_error("%s", e.msg);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

volatile sig_atomic_t cli_stop;

static void on_stop_signal(int sig)
{
    (void)sig;
    cli_stop = 1;
}

void cli_catch_stop(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = (int)SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}
