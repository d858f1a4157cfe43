/* Tests for src/tmdb: the response parsers over canned replies (table-driven: good,
 * hostile, wrong types, out of range), the recorded responses when the shared data is
 * there, the profile and size choice, and the rate limiter under simulated time with 8
 * connections (no window of `window` seconds ever holds more than `budget` requests). */
#include "check.h"

#include "tmdb/crawl.h"
#include "tmdb/limiter.h"
#include "tmdb/parse.h"
#include "util/fs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct people_case {
    const char *json;
    int rc;
    int n;       /* people read */
    int64_t id0; /* first person's id */
    int nknown0; /* first person's known_for titles */
    const char *name0;
};

static void test_people_page(void)
{
    static const struct people_case cases[] = {
        {"{\"page\":1,\"total_pages\":500,\"results\":[{\"id\":31,\"name\":\"Tom Hanks\","
         "\"popularity\":18.4,\"gender\":2,\"known_for_department\":\"Acting\",\"known_for\":"
         "[{\"media_type\":\"movie\",\"id\":13,\"title\":\"Forrest Gump\",\"release_date\":"
         "\"1994-06-23\"},{\"media_type\":\"tv\",\"id\":1,\"name\":\"X\"},{\"media_type\":"
         "\"person\",\"id\":2,\"name\":\"Y\"}]}]}",
         TMDB_PARSE_OK, 1, 31, 2, "Tom Hanks"},
        /* entries without a usable id or name are left out, the rest kept */
        {"{\"page\":2,\"total_pages\":3,\"results\":[{\"id\":\"31\",\"name\":\"A\"},{\"id\":-4,"
         "\"name\":\"B\"},{\"id\":5},{\"id\":6,\"name\":\"\"},{\"id\":7,\"name\":\"C\","
         "\"gender\":9,\"popularity\":1e308,\"known_for\":7}]}",
         TMDB_PARSE_OK, 1, 7, 0, "C"},
        {"{\"page\":1,\"total_pages\":1,\"results\":[]}", TMDB_PARSE_OK, 0, 0, 0, NULL},
        {"{\"page\":0,\"total_pages\":1,\"results\":[]}", TMDB_PARSE_ERR_RANGE, 0, 0, 0, NULL},
        {"{\"page\":1,\"results\":[]}", TMDB_PARSE_ERR_RANGE, 0, 0, 0, NULL},
        {"{\"page\":1,\"total_pages\":1}", TMDB_PARSE_ERR_JSON, 0, 0, 0, NULL},
        {"{\"page\":1,\"total_pages\":1,\"results\":{}}", TMDB_PARSE_ERR_JSON, 0, 0, 0, NULL},
        {"[1,2]", TMDB_PARSE_ERR_JSON, 0, 0, 0, NULL},
        {"{\"page\":1,", TMDB_PARSE_ERR_JSON, 0, 0, 0, NULL},
        {"{\"page\":1,\"page\":2}", TMDB_PARSE_ERR_JSON, 0, 0, 0, NULL},
        {"{\"a\":\"\\u0000\"}", TMDB_PARSE_ERR_JSON, 0, 0, 0, NULL},
        {"{\"a\":\"\xff\"}", TMDB_PARSE_ERR_JSON, 0, 0, 0, NULL},
        {"", TMDB_PARSE_ERR_JSON, 0, 0, 0, NULL},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct people_case *c = &cases[i];
        struct tmdb_people_page pg;
        struct err e;
        int rc = tmdb_parse_people_page(c->json, strlen(c->json), &pg, &e);

        if (rc != c->rc || pg.n != c->n)
            check_fail(__FILE__, __LINE__, "case %zu: rc %d n %d, want %d %d", i, rc, pg.n, c->rc,
                       c->n);
        if (rc == TMDB_PARSE_OK && c->n > 0) {
            CHECK(pg.people[0].id == c->id0);
            CHECK_INT(pg.people[0].nknown, c->nknown0);
            CHECK_STR(pg.people[0].name, c->name0);
        }
        tmdb_people_page_release(&pg);
    }
}

static void test_people_values(void)
{
    static const char j[] =
        "{\"page\":1,\"total_pages\":2,\"results\":[{\"id\":7,\"name\":\"C\\nD\","
        "\"gender\":9,\"popularity\":-3,\"known_for\":[{\"media_type\":\"movie\",\"id\":13,"
        "\"title\":\"T\",\"release_date\":\"19x4\"}]},{\"id\":8,\"name\":\"E\",\"gender\":1,"
        "\"popularity\":2.5}]}";
    struct tmdb_people_page pg;
    struct err e;

    REQUIRE(tmdb_parse_people_page(j, strlen(j), &pg, &e) == TMDB_PARSE_OK);
    REQUIRE(pg.n == 2);
    CHECK_STR(pg.people[0].name, "C D"); /* control characters become spaces */
    CHECK_INT(pg.people[0].gender, 0);   /* out of range: unknown */
    CHECK(pg.people[0].popularity == 0);
    CHECK_INT(pg.people[0].known[0].year, 0);
    CHECK_INT(pg.people[1].gender, 1);
    CHECK(pg.people[1].popularity == 2.5);
    CHECK_INT(pg.total_pages, 2);
    tmdb_people_page_release(&pg);
}

/* A name longer than the field is cut on a UTF-8 boundary. */
static void test_long_name(void)
{
    char j[4096];
    struct tmdb_people_page pg;
    struct err e;
    int n =
        snprintf(j, sizeof j, "{\"page\":1,\"total_pages\":1,\"results\":[{\"id\":1,\"name\":\"");

    for (int i = 0; i < 400; i++)
        n += snprintf(j + n, sizeof j - (size_t)n, "\xc3\xa9"); /* é, two bytes */
    snprintf(j + n, sizeof j - (size_t)n, "\"}]}");
    REQUIRE(tmdb_parse_people_page(j, strlen(j), &pg, &e) == TMDB_PARSE_OK);
    REQUIRE(pg.n == 1);
    CHECK(strlen(pg.people[0].name) == TMDB_NAME_MAX - 2);
    tmdb_people_page_release(&pg);
}

static void test_credits(void)
{
    static const char movie[] =
        "{\"id\":550,\"cast\":[{\"id\":819,\"name\":\"Edward Norton\",\"character\":\"The "
        "Narrator\",\"order\":0,\"gender\":2},{\"id\":287,\"name\":\"Brad Pitt\",\"order\":"
        "\"1\"},{\"name\":\"No Id\"}],\"crew\":[]}";
    static const char tv[] =
        "{\"id\":1399,\"cast\":[{\"id\":1223786,\"name\":\"Emilia Clarke\",\"roles\":[{"
        "\"character\":\"Daenerys Targaryen\",\"episode_count\":78}],\"total_episode_count\":"
        "78,\"order\":6},{\"id\":5,\"name\":\"X\",\"roles\":\"no\",\"total_episode_count\":-1}]}";
    struct tmdb_credits c;
    struct err e;

    REQUIRE(tmdb_parse_credits(movie, strlen(movie), TMDB_KIND_MOVIE, &c, &e) == TMDB_PARSE_OK);
    REQUIRE(c.n == 2);
    CHECK(c.id == 550);
    CHECK_STR(c.cast[0].character, "The Narrator");
    CHECK_INT(c.cast[0].order, 0);
    CHECK_INT(c.cast[1].order, -1);
    tmdb_credits_release(&c);
    REQUIRE(tmdb_parse_credits(tv, strlen(tv), TMDB_KIND_TV, &c, &e) == TMDB_PARSE_OK);
    REQUIRE(c.n == 2);
    CHECK_STR(c.cast[0].character, "Daenerys Targaryen");
    CHECK_INT(c.cast[0].episodes, 78);
    CHECK_INT(c.cast[0].order, 6);
    CHECK_INT(c.cast[1].episodes, 0);
    CHECK_STR(c.cast[1].character, "");
    tmdb_credits_release(&c);
    CHECK_INT(tmdb_parse_credits("{\"id\":1}", 8, TMDB_KIND_MOVIE, &c, &e), TMDB_PARSE_ERR_JSON);
}

static void test_paths(void)
{
    static const struct {
        const char *path;
        int ok;
    } cases[] = {
        {"/WCSZzWdtPmdRxH9LUCVi2JPCSJ.jpg", 1},
        {"/a-b_c.png", 1},
        {"/x.jpg", 1},
        {"/../etc/passwd.jpg", 0},
        {"/a/b.jpg", 0},
        {"a.jpg", 0},
        {"/.hidden.jpg", 0},
        {"/a.gif", 0},
        {"/a b.jpg", 0},
        {"/a%2f.jpg", 0},
        {"", 0},
        {"/.jpg", 0},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (tmdb_path_ok(cases[i].path) != cases[i].ok)
            check_fail(__FILE__, __LINE__, "%s: want %d", cases[i].path, cases[i].ok);
    }
}

static void test_images_and_pick(void)
{
    static const char j[] =
        "{\"id\":1,\"profiles\":[{\"file_path\":\"/a.jpg\",\"width\":400,\"height\":600,"
        "\"vote_average\":9,\"vote_count\":3},{\"file_path\":\"/b.jpg\",\"width\":1000,"
        "\"height\":1500,\"vote_average\":5.2,\"vote_count\":4},{\"file_path\":\"/../c.jpg\","
        "\"width\":1000},{\"file_path\":\"/d.jpg\",\"width\":2000,\"height\":3000,"
        "\"vote_average\":5.2,\"vote_count\":7},{\"file_path\":\"/e.jpg\",\"width\":600,"
        "\"height\":900,\"vote_average\":5.2,\"vote_count\":7}]}";
    struct tmdb_images im;
    struct err e;
    int pick[8], n;

    REQUIRE(tmdb_parse_images(j, strlen(j), &im, &e) == TMDB_PARSE_OK);
    REQUIRE(im.n == 4); /* the path with ".." is dropped */
    n = crawl_pick_profiles(im.profiles, im.n, 5, 500, pick);
    REQUIRE(n == 4);
    /* wide first: d (5.2, 7 votes), e (5.2, 7, later), b (5.2, 4); then the narrow a */
    CHECK_STR(im.profiles[pick[0]].file_path, "/d.jpg");
    CHECK_STR(im.profiles[pick[1]].file_path, "/e.jpg");
    CHECK_STR(im.profiles[pick[2]].file_path, "/b.jpg");
    CHECK_STR(im.profiles[pick[3]].file_path, "/a.jpg");
    n = crawl_pick_profiles(im.profiles, im.n, 2, 500, pick);
    CHECK(n == 2 && strcmp(im.profiles[pick[1]].file_path, "/e.jpg") == 0);
    tmdb_images_release(&im);
}

static void test_config_and_size(void)
{
    static const char j[] =
        "{\"images\":{\"secure_base_url\":\"https://image.tmdb.org/t/p/\",\"profile_sizes\":"
        "[\"w45\",\"w185\",\"h632\",\"original\",\"../x\",7],\"poster_sizes\":[\"w92\","
        "\"w185\",\"w500\",\"original\"]}}";
    static const char bad[] = "{\"images\":{\"secure_base_url\":\"file:///etc/\","
                              "\"profile_sizes\":[\"w45\"]}}";
    struct tmdb_config cfg;
    struct err e;

    REQUIRE(tmdb_parse_config(j, strlen(j), &cfg, &e) == TMDB_PARSE_OK);
    CHECK_STR(cfg.base_url, "https://image.tmdb.org/t/p/");
    CHECK_INT(cfg.nsizes, 6); /* w45 w185 h632 original w92 w500 */
    CHECK_STR(crawl_pick_size(&cfg, 2000, 3000, 500), "w500");
    CHECK_STR(crawl_pick_size(&cfg, 400, 600, 500), "h632"); /* 400 wide: its full width */
    CHECK_STR(crawl_pick_size(&cfg, 2000, 3000, 185), "w185");
    CHECK_STR(crawl_pick_size(&cfg, 2000, 3000, 900), "original");
    CHECK_INT(tmdb_parse_config(bad, strlen(bad), &cfg, &e), TMDB_PARSE_ERR_RANGE);
}

static void test_error_and_export(void)
{
    static const char err401[] = "{\"status_message\":\"Invalid API key: You must be granted a "
                                 "valid key.\",\"success\":false,\"status_code\":7}";
    static const char line[] = "{\"adult\":true,\"id\":31,\"name\":\"Tom Hanks\","
                               "\"popularity\":18.4}\n";
    struct tmdb_error te;
    struct tmdb_person p;
    struct err e;

    REQUIRE(tmdb_parse_error(err401, strlen(err401), &te, &e) == TMDB_PARSE_OK);
    CHECK_INT(te.code, 7);
    CHECK(strncmp(te.message, "Invalid API key", 15) == 0);
    REQUIRE(tmdb_parse_export_line(line, strlen(line), &p, &e) == TMDB_PARSE_OK);
    CHECK(p.id == 31 && p.adult == 1 && p.popularity == 18.4);
    CHECK_INT(tmdb_parse_export_line("{\"id\":31}", 9, &p, &e), TMDB_PARSE_ERR_RANGE);
    CHECK_INT(tmdb_parse_export_line("{\"id\":3", 7, &p, &e), TMDB_PARSE_ERR_JSON);
}

/* Every recorded response the crawler reads parses, with the values it holds. */
static void test_recorded(void)
{
    const char *data = check_testdata();
    char path[1024];
    unsigned char *text = NULL;
    size_t n;
    struct tmdb_people_page pp;
    struct tmdb_credits cr;
    struct err e;

    if (data == NULL)
        SKIP("no DOPPEL_TESTDATA");
    snprintf(path, sizeof path, "%s/tmdb/recorded_2022/person__popular.json", data);
    REQUIRE(fs_read_file(path, 1 << 24, &text, &n, &e) == 0);
    REQUIRE(tmdb_parse_people_page((char *)text, n, &pp, &e) == TMDB_PARSE_OK);
    CHECK_INT(pp.n, 20);
    CHECK_INT(pp.total_pages, 500);
    CHECK(pp.people[0].id == 3194176 && pp.people[0].nknown == 3);
    tmdb_people_page_release(&pp);
    free(text);
    snprintf(path, sizeof path, "%s/tmdb/responses/tv_series/aggregate_credits.json", data);
    REQUIRE(fs_read_file(path, 1 << 24, &text, &n, &e) == 0);
    REQUIRE(tmdb_parse_credits((char *)text, n, TMDB_KIND_TV, &cr, &e) == TMDB_PARSE_OK);
    CHECK_INT(cr.n, 514);
    CHECK(cr.id == 1399);
    CHECK_STR(cr.cast[0].character, "Daenerys Targaryen");
    CHECK_INT(cr.cast[0].episodes, 78);
    tmdb_credits_release(&cr);
    free(text);
}

/* 8 connections, requests of random length, against a limiter of 10 per 1 s: the start
 * times never put more than 10 in any window, and the budget is nearly used. */
static void test_limiter(void)
{
    enum { CONNS = 8, BUDGET = 10, N = 400 };
    struct tmdb_limiter l;
    double busy_until[CONNS] = {0}, starts[N], t = 0;
    int token[CONNS], held[CONNS] = {0}, done = 0, worst = 0;
    unsigned seed = 7;

    tmdb_limiter_init(&l, BUDGET, 1.0);
    while (done < N) {
        double next = t + 1.0;

        for (int c = 0; c < CONNS && done < N; c++) {
            double wait;

            if (held[c] && busy_until[c] <= t) {
                tmdb_limiter_give(&l, token[c], busy_until[c]);
                held[c] = 0;
            }
            if (!held[c] && tmdb_limiter_take(&l, t, &token[c], &wait)) {
                seed = seed * 1103515245u + 12345u;
                starts[done++] = t;
                busy_until[c] = t + 0.01 + (double)(seed >> 16 & 0x3ff) / 2048.0;
                held[c] = 1;
            } else if (!held[c]) {
                next = fmin(next, t + wait);
            }
            if (held[c])
                next = fmin(next, busy_until[c]);
        }
        t = next > t ? next : t + 1e-6;
    }
    for (int i = 0, j = 0; i < N; i++) {
        while (starts[i] - starts[j] >= 1.0)
            j++;
        if (i - j + 1 > worst)
            worst = i - j + 1;
    }
    CHECK(worst <= BUDGET);
    CHECK(worst >= BUDGET - 1);
    tmdb_limiter_pause(&l, t + 5);
    {
        int tok;
        double wait;

        CHECK_INT(tmdb_limiter_take(&l, t + 1, &tok, &wait), 0);
        CHECK(fabs(wait - 4) < 1e-9);
    }
    tmdb_limiter_release(&l);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"people_page", test_people_page},
        {"people_values", test_people_values},
        {"long_name", test_long_name},
        {"credits", test_credits},
        {"paths", test_paths},
        {"images_and_pick", test_images_and_pick},
        {"config_and_size", test_config_and_size},
        {"error_and_export", test_error_and_export},
        {"recorded", test_recorded},
        {"limiter", test_limiter},
    };

    return check_main("tmdb", cases, sizeof cases / sizeof cases[0], argc, argv);
}
