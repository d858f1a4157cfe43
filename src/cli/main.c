/*
 * main: doppel's entry point. Parses the options that come before the subcommand
 * (folders, verbosity), then hands the rest of argv to the subcommand.
 */
#include "cli/cli.h"

#include "core/version.h"
#include "nn/blas.h"
#include "util/log.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

enum { OPT_DATA = 256, OPT_MODELS, OPT_THREADS, OPT_VERSION, OPT_LOG_LEVEL };

/* Parses global options into cli; returns -1 to go on, or an exit status. */
static int parse_globals(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, OPT_DATA},
        {"models", required_argument, NULL, OPT_MODELS},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"verbose", no_argument, NULL, 'v'},
        {"quiet", no_argument, NULL, 'q'},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"version", no_argument, NULL, OPT_VERSION},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    enum log_level level;
    long n;
    int c;

    while ((c = getopt_long(argc, argv, "+:hvq", opts, NULL)) != -1) {
        switch (c) {
        case OPT_DATA:
            cli->data_dir = optarg;
            break;
        case OPT_MODELS:
            cli->models_dir = optarg;
            break;
        case OPT_THREADS:
            if (cli_parse_long(optarg, 1, 256, &n) != 0)
                return cli_usage_error(NULL, "--threads takes a number from 1 to 256");
            cli->threads = (int)n;
            break;
        case 'v':
            log_set_level(LOG_DEBUG);
            break;
        case 'q':
            log_set_level(LOG_ERROR);
            break;
        case OPT_LOG_LEVEL:
            if (log_parse_level(optarg, &level) != 0)
                return cli_usage_error(NULL, "--log-level takes error, warn, info or debug");
            log_set_level(level);
            break;
        case OPT_VERSION:
            printf("doppel %s\n", DOPPEL_VERSION);
            return CLI_EXIT_OK;
        case 'h':
            cli_print_overview(stdout);
            return CLI_EXIT_OK;
        default:
            return cli_option_error(NULL, c, argv);
        }
    }
    return -1;
}

int main(int argc, char **argv)
{
    struct cli cli = {0};
    const struct cli_command *cmd;
    int rc;

    opterr = 0;
    /* One BLAS thread: doppel's own work is split across cores where it pays (and the
     * spinning of idle BLAS threads costs more than it gives on small layers). */
    nn_blas_set_threads(1);
    rc = parse_globals(&cli, argc, argv);

    if (rc >= 0)
        return rc;
    if (optind >= argc)
        return cli_usage_error(NULL, "no command given");
    cmd = cli_find(argv[optind]);
    if (cmd == NULL)
        return cli_usage_error(NULL, "no such command '%s'", argv[optind]);
    return cmd->run(&cli, cmd, argc - optind, argv + optind);
}
