/*
 * cli: the `doppel` command line. Each subcommand is a struct cli_command in its own
 * cmd_<name>.c; main.c parses the global options and dispatches. Exit status: 0 done,
 * 1 failed (the reason on stderr), 2 usage error (the usage on stderr).
 */
#ifndef DOPPEL_CLI_H
#define DOPPEL_CLI_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>

enum cli_exit {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAIL = 1,
    CLI_EXIT_USAGE = 2,
};

/* Options given before the subcommand; strings borrowed from argv or the environment. */
struct cli {
    const char *data_dir;
    const char *models_dir;
    int threads; /* --threads: for one photo's networks; 0 = every core */
};

struct catalog;

struct cli_command {
    const char *name;
    const char *summary; /* one line for `doppel help` */
    const char *usage;   /* full text for `doppel CMD --help`, starting "usage: " */
    int (*run)(struct cli *cli, const struct cli_command *self, int argc, char **argv);
};

/* Returns the subcommand table, NULL-terminated. Borrowed, static. */
const struct cli_command *const *cli_commands(void);

/* Returns the named subcommand, or NULL. */
const struct cli_command *cli_find(const char *name);

/* Prints "doppel: msg" and the command's usage to stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Reports the option getopt_long just rejected (c is ':' for a missing value, '?' for
 * an unknown option; optstrings start with "+:") and the usage; returns CLI_EXIT_USAGE. */
int cli_option_error(const struct cli_command *cmd, int c, char **argv);

/* Parses a command whose only options are --json and --help (permute: options may follow
 * the arguments). Returns -1 to go on (optind at the first argument), else the exit
 * status to return. */
int cli_parse_json_only(const struct cli_command *cmd, int argc, char **argv, int permute,
                        int *json);

/* Prints a JSON value to stdout, indented, with a final newline, and releases it. */
void cli_print_json(void *json);

/* Prints the command's usage to out. */
void cli_print_usage(FILE *out, const struct cli_command *cmd);

/* Prints the program's overview (commands and global options) to out. */
void cli_print_overview(FILE *out);

/* Parses a non-negative integer in [min, max] from s; returns 0, or -1 if s is not one. */
int cli_parse_long(const char *s, long min, long max, long *out);

/* Opens the catalogue in the data folder (creating it when create is 1) into *out and
 * writes its path into path (n bytes). Returns CLI_EXIT_OK, or CLI_EXIT_FAIL with the
 * reason logged. Caller closes *out with catalog_close. */
int cli_open_catalog(const struct cli *cli, int create, struct catalog **out, char *path,
                     size_t n);

extern const struct cli_command cli_cmd_help;
extern const struct cli_command cli_cmd_version;
extern const struct cli_command cli_cmd_models;
extern const struct cli_command cli_cmd_image;
extern const struct cli_command cli_cmd_detect;
extern const struct cli_command cli_cmd_embed;
extern const struct cli_command cli_cmd_names;
extern const struct cli_command cli_cmd_verify;
extern const struct cli_command cli_cmd_import;
extern const struct cli_command cli_cmd_titles;
extern const struct cli_command cli_cmd_stats;
extern const struct cli_command cli_cmd_index;
extern const struct cli_command cli_cmd_similar;
extern const struct cli_command cli_cmd_query;
extern const struct cli_command cli_cmd_serve;
extern const struct cli_command cli_cmd_crawl;

/* `doppel embed --pending`: runs `doppel crawl embed` with the other arguments. */
int cli_crawl_embed_pending(struct cli *cli, int argc, char **argv);

/* Set by SIGINT or SIGTERM once cli_catch_stop has run: long jobs (import, crawl) finish
 * what is in flight, commit and stop; a second signal kills. */
extern volatile sig_atomic_t cli_stop;

/* Installs the handler that sets cli_stop (one-shot: the next signal is the default). */
void cli_catch_stop(void);

struct search_hit;

/* Search options shared by similar and query: --exact, --ef N, --gender G. */
struct search;

struct cli_search_opts {
    int exact;
    long ef;    /* 0 = the default */
    int gender; /* enum catalog_gender, 0 = any */
};

#define CLI_SEARCH_OPTIONS                                                                     \
    {"exact", no_argument, NULL, 'X'}, {"ef", required_argument, NULL, 'E'},                   \
        {"gender", required_argument, NULL, 'G'}

/* Handles option c (with optarg arg) when it is one of CLI_SEARCH_OPTIONS: returns 1 when
 * it was and parsed, -1 with *why set when it was and its argument is bad, 0 otherwise. */
int cli_search_opt(int c, const char *arg, struct cli_search_opts *o, const char **why);

/* Applies o to s (search_set_mode, search_set_gender). */
void cli_search_apply(struct search *s, const struct cli_search_opts *o);

/* One search result as a JSON object with the stable keys of `similar` and `query`
 * (id, name, score, rank_pct, tmdb_id, photo); caller owns the reference. */
void *cli_hit_json(const struct search_hit *h);

#endif
