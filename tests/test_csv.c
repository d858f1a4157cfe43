/* Tests for util/csv: quoting, line ends, delimiter sniffing, limits, header lookup. */
#include "check.h"

#include "util/csv.h"

#include <stdlib.h>

/* Reads every record of text into out: fields joined by '|', each record ended by '/'.
 * Returns the last csv_next result. */
static int flatten(const char *text, size_t n, char delim, struct buf *out)
{
    struct csv c;
    struct err e;
    int rc;

    csv_init(&c, text, n, delim);
    while ((rc = csv_next(&c, &e)) == CSV_OK) {
        for (size_t i = 0; i < csv_count(&c); i++)
            buf_printf(out, "%s%s", i ? "|" : "", csv_field(&c, i));
        buf_putc(out, '/');
    }
    csv_release(&c);
    return rc;
}

static void test_records(void)
{
    static const struct {
        const char *in;
        char delim;
        const char *want;
        int rc;
    } cases[] = {
        {"a,b,c\n1,2,3\n", 0, "a|b|c/1|2|3/", CSV_DONE},
        {"a,\"b,c\",d\r\nx,y,z", 0, "a|b,c|d/x|y|z/", CSV_DONE},
        {"\"he said \"\"hi\"\"\",x", 0, "he said \"hi\"|x/", CSV_DONE},
        {"\"two\nlines\",y\nz", 0, "two\nlines|y/z/", CSV_DONE},
        {"\n\n a , b \n\r\n\n", 0, " a | b /", CSV_DONE},
        {"a,b,\n,\n", 0, "a|b|/|/", CSV_DONE},
        {"\xEF\xBB\xBFname,x\n", 0, "name|x/", CSV_DONE},
        {"a;b;c\nd;e,f;g", 0, "a|b|c/d|e,f|g/", CSV_DONE},
        {"x\ty\tz,w\n", 0, "x|y|z,w/", CSV_DONE},
        {"a;b\n", ',', "a;b/", CSV_DONE},
        {"\"ab\"cd,e", 0, "abcd|e/", CSV_DONE},
        {"a\"b,c", 0, "a\"b|c/", CSV_DONE},
        {"\"\"", 0, "/", CSV_DONE},
        {"", 0, "", CSV_DONE},
        {"a,b\n\"open", 0, "a|b/", CSV_ERR_QUOTE},
        {"\"x\"\"", 0, "", CSV_ERR_QUOTE},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct buf out;

        buf_init(&out, 0);
        CHECK_INT(flatten(cases[i].in, strlen(cases[i].in), cases[i].delim, &out), cases[i].rc);
        CHECK_STR(buf_str(&out), cases[i].want);
        buf_release(&out);
    }
}

static void test_sniff(void)
{
    static const struct {
        const char *in;
        char want;
    } cases[] = {
        {"a,b,c\n", ','}, {"a;b;c\n", ';'},       {"a\tb\tc", '\t'},       {"abc", ','},
        {"", ','},        {"\"a;b;c\",d\n", ','}, {"a;b\nc,d,e,f,g", ';'}, {"\"a\nb;c;d\",e", ','},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK_INT(csv_sniff(cases[i].in, strlen(cases[i].in)), cases[i].want);
}

static void test_limits(void)
{
    size_t n = CSV_RECORD_MAX + 10;
    char *big = malloc(n + 1);
    struct csv c;
    struct err e;

    REQUIRE(big != NULL);
    memset(big, 'x', n);
    big[n] = '\0';
    csv_init(&c, big, n, ',');
    CHECK_INT(csv_next(&c, &e), CSV_ERR_TOO_BIG);
    CHECK(strstr(e.msg, "line 1") != NULL);
    csv_release(&c);
    memset(big, ',', CSV_FIELDS_MAX + 1);
    csv_init(&c, big, CSV_FIELDS_MAX + 1, ',');
    CHECK_INT(csv_next(&c, &e), CSV_ERR_TOO_BIG);
    CHECK(strstr(e.msg, "fields") != NULL);
    csv_release(&c);
    csv_init(&c, big, CSV_FIELDS_MAX - 1, ',');
    CHECK_INT(csv_next(&c, &e), CSV_OK);
    CHECK_INT(csv_count(&c), CSV_FIELDS_MAX);
    csv_release(&c);
    free(big);
}

static void test_lines_and_find(void)
{
    static const char text[] = "Name, Photo ,tmdb\n\"x\ny\",b,c\n\nlast,1,2\n";
    static const char *const photo[] = {"photo", NULL}, *const either[] = {"title", "NAME", NULL};
    static const char *const none[] = {"cast", NULL};
    struct csv c;
    struct err e;

    csv_init(&c, text, strlen(text), 0);
    REQUIRE(csv_next(&c, &e) == CSV_OK);
    CHECK_INT(c.line, 1);
    CHECK_INT(csv_find(&c, photo), 1);
    CHECK_INT(csv_find(&c, either), 0);
    CHECK_INT(csv_find(&c, none), -1);
    REQUIRE(csv_next(&c, &e) == CSV_OK);
    CHECK_INT(c.line, 2);
    CHECK_STR(csv_field(&c, 9), "");
    REQUIRE(csv_next(&c, &e) == CSV_OK);
    CHECK_INT(c.line, 5);
    CHECK_STR(csv_field(&c, 0), "last");
    CHECK_INT(csv_next(&c, &e), CSV_DONE);
    csv_release(&c);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"records", test_records},
        {"sniff", test_sniff},
        {"limits", test_limits},
        {"lines_and_find", test_lines_and_find},
    };

    return check_main("csv", cases, sizeof cases / sizeof cases[0], argc, argv);
}
