/* Tests for catalog/source: folder names, folder scans, CSV and JSON-lines manifests. */
#include "check.h"

#include "catalog/source.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static void test_folder_names(void)
{
    static const struct {
        const char *folder;
        enum source_case nc;
        const char *want;
    } cases[] = {
        {"keanu_reeves", SOURCE_CASE_AUTO, "Keanu Reeves"},
        {"brian_j._smith", SOURCE_CASE_AUTO, "Brian J. Smith"},
        {"Keanu_Reeves", SOURCE_CASE_AUTO, "Keanu Reeves"},
        {"robert_downey_jr", SOURCE_CASE_TITLE, "Robert Downey Jr"},
        {"McDonald_o'brien", SOURCE_CASE_AUTO, "McDonald o'brien"},
        {"McDonald_o'brien", SOURCE_CASE_TITLE, "Mcdonald O'Brien"},
        {"KEANU REEVES", SOURCE_CASE_TITLE, "Keanu Reeves"},
        {"  zoë__saldaña_ ", SOURCE_CASE_AUTO, "Zoë Saldaña"},
        {"élodie yung", SOURCE_CASE_AUTO, "Élodie Yung"},
        {"keanu_reeves", SOURCE_CASE_KEEP, "keanu reeves"},
        {"jean-luc picard", SOURCE_CASE_AUTO, "Jean-Luc Picard"},
        {"渡辺 謙", SOURCE_CASE_AUTO, "渡辺 謙"},
        {"\xff_bad", SOURCE_CASE_AUTO, "\xff bad"},
        {"ok_\xff", SOURCE_CASE_TITLE, "Ok \xff"},
        {"___", SOURCE_CASE_AUTO, ""},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct buf out;

        buf_init(&out, 0);
        source_folder_name(cases[i].folder, cases[i].nc, &out);
        CHECK_STR(buf_str(&out), cases[i].want);
        buf_release(&out);
    }
}

static void test_photo_names(void)
{
    static const struct {
        const char *name;
        int want;
    } cases[] = {
        {"a.jpg", 1}, {"a.JPEG", 1},    {"a.png", 1}, {"a.WebP", 1}, {".jpg", 0},
        {"a.gif", 0}, {"a.jpg.txt", 0}, {"jpg", 0},   {"", 0},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK_INT(source_is_photo_name(cases[i].name), cases[i].want);
}

static void touch(const char *dir, const char *name)
{
    char path[1024];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "w");
    if (f != NULL)
        fclose(f);
}

static void make_dir(const char *dir, const char *name)
{
    char path[1024];

    snprintf(path, sizeof path, "%s/%s", dir, name);
    mkdir(path, 0755);
}

static void test_scan_dir(void)
{
    char root[256], want[512];
    struct source s;
    struct err e;

    snprintf(root, sizeof root, "%s/people", check_tmpdir());
    mkdir(root, 0755);
    make_dir(root, "keanu_reeves");
    make_dir(root, "Tom_Cruise");
    make_dir(root, "empty");
    make_dir(root, "keanu_reeves/nested");
    touch(root, "keanu_reeves/b.jpg");
    touch(root, "keanu_reeves/a.JPG");
    touch(root, "keanu_reeves/notes.txt");
    touch(root, "keanu_reeves/.hidden.jpg");
    touch(root, "Tom_Cruise/1.png");
    touch(root, "loose.jpg");
    source_init(&s);
    REQUIRE(source_scan_dir(&s, root, SOURCE_CASE_AUTO, &e) == SOURCE_OK);
    REQUIRE(s.n == 3);
    CHECK_STR(s.rows[0].name, "Tom Cruise");
    CHECK_STR(s.rows[1].name, "Keanu Reeves");
    snprintf(want, sizeof want, "%s/keanu_reeves/a.JPG", root);
    CHECK_STR(s.rows[1].photo, want);
    CHECK_INT(s.rows[1].rank, 1);
    CHECK_INT(s.rows[2].rank, 2);
    CHECK_INT(s.ignored, 3); /* notes.txt, nested/, loose.jpg */
    source_release(&s);
    snprintf(root, sizeof root, "%s/people/empty", check_tmpdir());
    CHECK_INT(source_scan_dir(&s, root, SOURCE_CASE_AUTO, &e), SOURCE_ERR_EMPTY);
    CHECK(strstr(e.msg, "<Person Name>") != NULL);
    CHECK_INT(source_scan_dir(&s, "/nonexistent/x", SOURCE_CASE_AUTO, &e), SOURCE_ERR_IO);
    source_release(&s);
}

static void test_manifest_csv(void)
{
    static const char text[] = "name,photo,tmdb_id,known_for,rank\n"
                               "Keanu Reeves,keanu/1.jpg,6384,The Matrix; John Wick,2\n"
                               "\"Cruz, Penélope\",/abs/p.jpg,,,\r\n"
                               "Someone,HTTPS://image.tmdb.org/t/p/w500/x.jpg,,,\n";
    struct source s;
    struct err e;

    source_init(&s);
    REQUIRE(source_parse_manifest(&s, text, strlen(text), SOURCE_CSV, "/m", &e) == SOURCE_OK);
    REQUIRE(s.n == 3);
    CHECK_STR(s.rows[0].photo, "/m/keanu/1.jpg");
    CHECK_INT(s.rows[0].tmdb_id, 6384);
    CHECK_STR(s.rows[0].known_for, "The Matrix; John Wick");
    CHECK_INT(s.rows[0].rank, 2);
    CHECK_INT(s.rows[0].line, 2);
    CHECK_STR(s.rows[1].name, "Cruz, Penélope");
    CHECK_STR(s.rows[1].photo, "/abs/p.jpg");
    CHECK(s.rows[1].known_for == NULL);
    CHECK(s.rows[2].photo == NULL);
    CHECK_STR(s.rows[2].url, "HTTPS://image.tmdb.org/t/p/w500/x.jpg");
    source_release(&s);
}

static void test_manifest_jsonl(void)
{
    static const char text[] =
        "{\"name\": \"Keanu Reeves\", \"photo\": \"k.jpg\", \"tmdb_id\": 6384, "
        "\"known_for\": [\"The Matrix\", \"Speed\"], \"extra\": true}\n"
        "\n"
        "  \r\n"
        "{\"name\": \"Zendaya\", \"photo\": \"https://x/y.jpg\", \"tmdb_id\": \"505710\", "
        "\"rank\": 1, \"known_for\": null}";
    struct source s;
    struct err e;

    source_init(&s);
    REQUIRE(source_parse_manifest(&s, text, strlen(text), SOURCE_JSONL, NULL, &e) == SOURCE_OK);
    REQUIRE(s.n == 2);
    CHECK_STR(s.rows[0].photo, "k.jpg");
    CHECK_STR(s.rows[0].known_for, "The Matrix; Speed");
    CHECK_INT(s.rows[1].tmdb_id, 505710);
    CHECK_INT(s.rows[1].rank, 1);
    CHECK_INT(s.rows[1].line, 4);
    CHECK_STR(s.rows[1].url, "https://x/y.jpg");
    source_release(&s);
}

static void test_manifest_errors(void)
{
    static const struct {
        const char *text;
        enum source_format f;
        int want;
        const char *msg;
    } cases[] = {
        {"name,photo\n,x.jpg\n", SOURCE_CSV, SOURCE_ERR_FORMAT, "line 2: no name"},
        {"name,photo\nA,\n", SOURCE_CSV, SOURCE_ERR_FORMAT, "line 2: no photo"},
        {"name\nx\n", SOURCE_CSV, SOURCE_ERR_FORMAT, "name and photo"},
        {"name,photo,tmdb_id\nA,x.jpg,12a\n", SOURCE_CSV, SOURCE_ERR_FORMAT, "line 2: tmdb_id"},
        {"name,photo,rank\nA,x.jpg,0\n", SOURCE_CSV, SOURCE_ERR_FORMAT, "rank"},
        {"name,photo\n", SOURCE_CSV, SOURCE_ERR_EMPTY, "no photos"},
        {"", SOURCE_CSV, SOURCE_ERR_FORMAT, "empty"},
        {"name,photo\n\"A,x.jpg\n", SOURCE_CSV, SOURCE_ERR_FORMAT, "not closed"},
        {"{\"name\": 1, \"photo\": \"x\"}", SOURCE_JSONL, SOURCE_ERR_FORMAT, "line 1"},
        {"\n{}\n", SOURCE_JSONL, SOURCE_ERR_FORMAT, "line 2: no name"},
        {"[1]", SOURCE_JSONL, SOURCE_ERR_FORMAT, "an object"},
        {"{\"name\":\"a\",\"photo\":\"b\",\"tmdb_id\":-3}", SOURCE_JSONL, SOURCE_ERR_FORMAT,
         "line 1"},
        {"{\"name\":\"a\",\"photo\":\"b\",\"known_for\":[1]}", SOURCE_JSONL, SOURCE_ERR_FORMAT,
         "line 1"},
        {"not json", SOURCE_JSONL, SOURCE_ERR_FORMAT, "line 1"},
        {"{\"name\":\"a\",\"name\":\"b\",\"photo\":\"c\"}", SOURCE_JSONL, SOURCE_ERR_FORMAT,
         "duplicate"},
        {"\n \n", SOURCE_JSONL, SOURCE_ERR_EMPTY, "no photos"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct source s;
        struct err e = {{0}};

        source_init(&s);
        CHECK_INT(
            source_parse_manifest(&s, cases[i].text, strlen(cases[i].text), cases[i].f, NULL, &e),
            cases[i].want);
        if (strstr(e.msg, cases[i].msg) == NULL)
            check_fail(__FILE__, __LINE__, "case %zu: no '%s' in '%s'", i, cases[i].msg, e.msg);
        source_release(&s);
    }
}

static void test_load_manifest(void)
{
    char path[512];
    struct source s;
    struct err e;
    FILE *f;

    snprintf(path, sizeof path, "%s/list.csv", check_tmpdir());
    f = fopen(path, "w");
    REQUIRE(f != NULL);
    fputs("name,photo\nA,a.jpg\n", f);
    fclose(f);
    source_init(&s);
    REQUIRE(source_load_manifest(&s, path, &e) == SOURCE_OK);
    REQUIRE(s.n == 1);
    snprintf(path, sizeof path, "%s/a.jpg", check_tmpdir());
    CHECK_STR(s.rows[0].photo, path);
    CHECK_INT(source_load_manifest(&s, "/nonexistent/list.csv", &e), SOURCE_ERR_IO);
    CHECK_INT(source_load_manifest(&s, "list.txt", &e), SOURCE_ERR_FORMAT);
    CHECK(strstr(e.msg, ".csv or .jsonl") != NULL);
    source_release(&s);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"folder_names", test_folder_names},
        {"photo_names", test_photo_names},
        {"scan_dir", test_scan_dir},
        {"manifest_csv", test_manifest_csv},
        {"manifest_jsonl", test_manifest_jsonl},
        {"manifest_errors", test_manifest_errors},
        {"load_manifest", test_load_manifest},
    };

    return check_main("source", cases, sizeof cases / sizeof cases[0], argc, argv);
}
