/*
 * help and version: `doppel help [COMMAND]` and `doppel version`.
 */
#include "cli/cli.h"

#include "core/version.h"

#include <string.h>

static int help_run(struct cli *cli, const struct cli_command *self, int argc, char **argv)
{
    const struct cli_command *cmd;

    (void)cli;
    if (argc > 2)
        return cli_usage_error(self, "help takes at most one command name");
    if (argc < 2) {
        cli_print_overview(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        cli_print_usage(stdout, self);
        return CLI_EXIT_OK;
    }
    cmd = cli_find(argv[1]);
    if (cmd == NULL)
        return cli_usage_error(NULL, "no such command '%s'", argv[1]);
    cli_print_usage(stdout, cmd);
    return CLI_EXIT_OK;
}

const struct cli_command cli_cmd_help = {
    .name = "help",
    .summary = "describe doppel or one of its commands",
    .usage = "usage: doppel help [<command>]\n"
             "\n"
             "Without a command, lists every command; with one, prints its usage.\n",
    .run = help_run,
};

static int version_run(struct cli *cli, const struct cli_command *self, int argc, char **argv)
{
    (void)cli;
    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        cli_print_usage(stdout, self);
        return CLI_EXIT_OK;
    }
    if (argc > 1)
        return cli_usage_error(self, "version takes no arguments");
    printf("doppel %s\n", DOPPEL_VERSION);
    return CLI_EXIT_OK;
}

const struct cli_command cli_cmd_version = {
    .name = "version",
    .summary = "print doppel's version",
    .usage = "usage: doppel version\n"
             "       doppel --version\n",
    .run = version_run,
};
