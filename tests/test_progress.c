/* Tests for util/progress: the formatted line, on a terminal and in a log. */
#include "check.h"

#include "util/progress.h"

#include <stdio.h>
#include <stdlib.h>

static void test_format(void)
{
    static const struct {
        unsigned long long total, done;
        int tty;
        double elapsed;
        const char *want;
    } cases[] = {
        {100, 25, 1, 5.0, "import: [######..................] 25/100 25.0%, 5.0/s, ETA 0:15"},
        {100, 25, 0, 5.0, "import: 25/100 25.0%, 5.0/s, ETA 0:15"},
        {0, 42, 0, 2.0, "import: 42, 21.0/s"},
        {100, 0, 0, 0.0, "import: 0/100 0.0%, 0.0/s, ETA ?"},
        {10000, 1, 1, 1.0,
         "import: [........................] 1/10000 0.0%, 1.0/s, ETA 2:46:39"},
        {100, 100, 1, 10.0, "import: [########################] 100/100 100.0%, 10.0/s, ETA 0:00"},
    };
    char line[256];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct progress p;
        FILE *sink = fopen("/dev/null", "w");

        REQUIRE(sink != NULL);
        progress_init_on(&p, "import", cases[i].total, sink, cases[i].tty);
        p.done = cases[i].done;
        progress_format(&p, p.start + cases[i].elapsed, line, sizeof line);
        CHECK_STR(line, cases[i].want);
        progress_finish(&p);
        fclose(sink);
    }
}

static void test_plain_log_lines(void)
{
    struct progress p;
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);

    REQUIRE(mem != NULL);
    progress_init_on(&p, "crawl", 10, mem, 0);
    p.interval = 0; /* every update prints a line */
    for (int i = 0; i < 10; i++)
        progress_add(&p, 1);
    progress_finish(&p);
    fclose(mem);
    CHECK(strstr(text, "crawl: 1/10 10.0%") != NULL);
    CHECK(strstr(text, "crawl: 10/10 100.0%") != NULL);
    CHECK(strstr(text, "crawl: 10 done in") != NULL);
    CHECK(strchr(text, '\r') == NULL);
    free(text);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"format", test_format},
        {"plain_log_lines", test_plain_log_lines},
    };

    return check_main("progress", cases, sizeof cases / sizeof cases[0], argc, argv);
}
