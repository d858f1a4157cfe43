/*
 * check: runs cases sequentially in one process (they are small and independent); a
 * crash ends the binary, which tests/run.sh counts as a failure of the whole suite.
 */
#include "check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int case_failures;
static int case_skipped;
static char case_skip_reason[256];
static char tmpdir[256];

void check_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    fprintf(stdout, "    %s:%d: failed: ", file, line);
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputs("\n", stdout);
    case_failures++;
}

void check_skip(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(case_skip_reason, sizeof case_skip_reason, fmt, ap);
    va_end(ap);
    case_skipped = 1;
}

int check_failures(void)
{
    return case_failures;
}

const char *check_testdata(void)
{
    const char *d = getenv("DOPPEL_TESTDATA");
    struct stat st;

    return d != NULL && d[0] != '\0' && stat(d, &st) == 0 && S_ISDIR(st.st_mode) ? d : NULL;
}

const char *check_models(void)
{
    const char *d = getenv("DOPPEL_MODELS");
    struct stat st;

    if (d == NULL || d[0] == '\0')
        d = "models";
    return stat(d, &st) == 0 && S_ISDIR(st.st_mode) ? d : NULL;
}

static void remove_tmpdir(void)
{
    char cmd[300];

    if (tmpdir[0] == '\0')
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "check: could not remove %s\n", tmpdir);
}

const char *check_tmpdir(void)
{
    if (tmpdir[0] != '\0')
        return tmpdir;
    snprintf(tmpdir, sizeof tmpdir, "%s/doppel-test-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(tmpdir) == NULL) {
        perror("check: mkdtemp");
        exit(1);
    }
    atexit(remove_tmpdir);
    return tmpdir;
}

static int selected(const char *name, int argc, char **argv)
{
    if (argc < 2)
        return 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], name) == 0)
            return 1;
    }
    return 0;
}

int check_main(const char *suite, const struct check_case *cases, size_t n, int argc,
               char **argv)
{
    int passed = 0, failed = 0, skipped = 0, total = 0;

    for (size_t i = 0; i < n; i++) {
        if (!selected(cases[i].name, argc, argv))
            continue;
        case_failures = 0;
        case_skipped = 0;
        fflush(stdout);
        cases[i].fn();
        total++;
        if (case_failures > 0) {
            printf("  FAIL %s\n", cases[i].name);
            failed++;
        } else if (case_skipped) {
            printf("  skip %s: %s\n", cases[i].name, case_skip_reason);
            skipped++;
        } else {
            printf("  ok   %s\n", cases[i].name);
            passed++;
        }
    }
    printf("%s: %d tests, %d passed, %d failed, %d skipped\n", suite, total, passed, failed,
           skipped);
    return failed > 0 ? 1 : 0;
}
