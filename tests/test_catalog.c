/* Tests for the catalogue: opening and migrations, idempotent upserts, photo and
 * embedding de-duplication, vector averaging, titles and credits. The contract any
 * backend must meet; run here on SQLite. */
#include "check.h"

#include "catalog/catalog.h"
#include "catalog/titles.h"
#include "search/people.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* Opens a new, empty catalogue named name in the test folder. */
static struct catalog *fresh(const char *name)
{
    char path[512], wal[520], shm[520];
    struct catalog *c = NULL;
    struct err e;

    snprintf(path, sizeof path, "%s/%s", check_tmpdir(), name);
    snprintf(wal, sizeof wal, "%s-wal", path);
    snprintf(shm, sizeof shm, "%s-shm", path);
    remove(path);
    remove(wal);
    remove(shm);
    if (catalog_open(path, CATALOG_OPEN_CREATE, &c, &e) != CATALOG_OK)
        check_fail(__FILE__, __LINE__, "opening %s: %s", path, e.msg);
    return c;
}

static int64_t add_person(struct catalog *c, const char *name, int64_t tmdb, double pop)
{
    struct catalog_person p = {0};
    struct err e;
    int64_t id = 0;

    snprintf(p.name, sizeof p.name, "%s", name);
    p.tmdb_id = tmdb;
    p.popularity = pop;
    if (catalog_person_upsert(c, &p, &id, NULL, &e) != CATALOG_OK)
        check_fail(__FILE__, __LINE__, "upserting %s: %s", name, e.msg);
    return id;
}

/* Adds photo number n (its sha256 made from n) of person with rank and status. */
static int64_t add_photo(struct catalog *c, int64_t person, int n, int rank, int status)
{
    struct catalog_photo *ph = calloc(1, sizeof *ph);
    struct err e;
    int64_t id = 0;

    snprintf(ph->sha256, sizeof ph->sha256, "%064x", n);
    snprintf(ph->source, sizeof ph->source, "/photos/%d.jpg", n);
    ph->person_id = person;
    ph->rank = rank;
    ph->status = status;
    ph->female = -1;
    if (catalog_photo_add(c, ph, &id, NULL, &e) != CATALOG_OK)
        check_fail(__FILE__, __LINE__, "adding photo %d: %s", n, e.msg);
    free(ph);
    return id;
}

static int put_vec(struct catalog *c, int64_t photo, const char *space, const float *v, int dim)
{
    struct catalog_embedding em = {photo, space, "test", "test@1", dim, v};
    struct err e;
    int created = -1;

    if (catalog_embedding_put(c, &em, &created, &e) != CATALOG_OK)
        check_fail(__FILE__, __LINE__, "storing a vector of photo %lld: %s", (long long)photo,
                   e.msg);
    return created;
}

static void test_open_errors(void)
{
    static const struct {
        const char *location;
        int in_tmp; /* location is a file in the test folder */
        int flags;
        int want;
        const char *msg;
    } cases[] = {
        {"postgres://localhost/doppel", 0, 0, CATALOG_ERR_BACKEND, "PostgreSQL"},
        {"missing.db", 1, 0, CATALOG_ERR_OPEN, "doppel import creates one"},
        {"notadb.db", 1, 0, CATALOG_ERR_OPEN, "not a database"},
        {"sqlite:", 0, 0, CATALOG_ERR_OPEN, "no catalogue location"},
        {"dir.db", 1, CATALOG_OPEN_CREATE, CATALOG_ERR_OPEN, "dir.db"},
    };
    char path[512];
    FILE *f;

    snprintf(path, sizeof path, "%s/notadb.db", check_tmpdir());
    f = fopen(path, "w");
    REQUIRE(f != NULL);
    fputs("this is not a database, only a text file long enough to have a header\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/dir.db", check_tmpdir());
    REQUIRE(mkdir(path, 0755) == 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct catalog *c = NULL;
        struct err e = {{0}};

        if (cases[i].in_tmp)
            snprintf(path, sizeof path, "%s/%s", check_tmpdir(), cases[i].location);
        else
            snprintf(path, sizeof path, "%s", cases[i].location);
        CHECK_INT(catalog_open(path, cases[i].flags, &c, &e), cases[i].want);
        CHECK(c == NULL);
        if (strstr(e.msg, cases[i].msg) == NULL)
            check_fail(__FILE__, __LINE__, "case %zu: no '%s' in '%s'", i, cases[i].msg, e.msg);
    }
}

/* Runs one statement on the file directly, behind the catalogue's back. */
static int raw_exec(const char *path, const char *sql)
{
    sqlite3 *db;
    int rc = sqlite3_open(path, &db);

    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

/* Reads one text value from the file directly into out. */
static void raw_text(const char *path, const char *sql, char *out, size_t n)
{
    sqlite3 *db;
    sqlite3_stmt *st = NULL;

    out[0] = '\0';
    if (sqlite3_open(path, &db) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void test_migrations(void)
{
    char path[512], text[64];
    struct catalog *c = NULL;
    struct catalog_stats s;
    struct err e;

    snprintf(path, sizeof path, "%s/new/folder/catalog.db", check_tmpdir());
    REQUIRE(catalog_open(path, CATALOG_OPEN_CREATE, &c, &e) == CATALOG_OK);
    REQUIRE(catalog_stats(c, &s, &e) == CATALOG_OK);
    CHECK_INT(s.schema, 2);
    CHECK_INT(s.people + s.photos + s.titles + s.credits + s.nspaces, 0);
    catalog_close(c);
    raw_text(path, "PRAGMA journal_mode", text, sizeof text);
    CHECK_STR(text, "wal");
    raw_text(path, "PRAGMA user_version", text, sizeof text);
    CHECK_STR(text, "2");
    raw_text(path,
             "SELECT group_concat(name) FROM (SELECT name FROM sqlite_master WHERE "
             "type = 'table' ORDER BY name)",
             text, sizeof text);
    CHECK_STR(text, "crawl_queue,crawl_state,credits,embeddings,people,photos,titles");
    REQUIRE(catalog_open(path, 0, &c, &e) == CATALOG_OK);
    catalog_close(c);
    REQUIRE(raw_exec(path, "PRAGMA user_version = 99") == SQLITE_OK);
    CHECK_INT(catalog_open(path, 0, &c, &e), CATALOG_ERR_VERSION);
    CHECK(strstr(e.msg, "upgrade doppel") != NULL);
}

/* A version-1 file gains the crawl queue and keeps its rows. */
static void test_migrate_v1(void)
{
    char path[512], text[64];
    struct catalog *c = NULL;
    struct err e;

    snprintf(path, sizeof path, "%s/v1.db", check_tmpdir());
    REQUIRE(catalog_open(path, CATALOG_OPEN_CREATE, &c, &e) == CATALOG_OK);
    catalog_close(c);
    REQUIRE(raw_exec(path, "DROP TABLE crawl_queue; PRAGMA user_version = 1; INSERT INTO "
                           "crawl_state VALUES ('k', 'v', 0)") == SQLITE_OK);
    REQUIRE(catalog_open(path, 0, &c, &e) == CATALOG_OK);
    CHECK_INT(catalog_queue_add(c, "q", 1, NULL, NULL, &e), CATALOG_OK);
    catalog_close(c);
    raw_text(path, "SELECT value FROM crawl_state WHERE key = 'k'", text, sizeof text);
    CHECK_STR(text, "v");
    raw_text(path, "PRAGMA user_version", text, sizeof text);
    CHECK_STR(text, "2");
}

/* Queue items: added once, listed pending in key order after a cursor, finished. */
static void test_queue(void)
{
    static struct catalog_queue_item items[4];
    struct catalog *c = fresh("queue.db");
    int64_t counts[3];
    int created = -1, n = -1;
    struct err e;

    REQUIRE(c != NULL);
    for (int64_t k = 5; k >= 1; k--)
        CHECK_INT(catalog_queue_add(c, "images", k * 10, "d", &created, &e), CATALOG_OK);
    CHECK_INT(created, 1);
    CHECK_INT(catalog_queue_add(c, "images", 30, "other", &created, &e), CATALOG_OK);
    CHECK_INT(created, 0);
    CHECK_INT(catalog_queue_add(c, "credits.tv", 30, NULL, NULL, &e), CATALOG_OK);
    CHECK_INT(catalog_queue_finish(c, "images", 20, CATALOG_QUEUE_DONE, 200, "x", &e),
              CATALOG_OK);
    CHECK_INT(catalog_queue_finish(c, "images", 40, CATALOG_QUEUE_FAILED, 404, NULL, &e),
              CATALOG_OK);
    CHECK_INT(catalog_queue_pending(c, "images", 0, items, 4, &n, &e), CATALOG_OK);
    CHECK_INT(n, 3);
    CHECK(items[0].key == 10 && items[1].key == 30 && items[2].key == 50);
    CHECK_STR(items[1].data, "d");
    CHECK_INT(catalog_queue_pending(c, "images", 30, items, 1, &n, &e), CATALOG_OK);
    CHECK(n == 1 && items[0].key == 50);
    CHECK_INT(catalog_queue_count(c, "images", counts, &e), CATALOG_OK);
    CHECK(counts[0] == 3 && counts[1] == 1 && counts[2] == 1);
    CHECK_INT(catalog_queue_finish(c, "images", 10, 7, 0, NULL, &e), CATALOG_ERR_INPUT);
    CHECK_INT(catalog_queue_add(c, "", 1, NULL, NULL, &e), CATALOG_ERR_INPUT);
    catalog_close(c);
}

static void test_reopen(void)
{
    char path[512];
    struct catalog *c = fresh("reopen.db");
    struct catalog_person p;
    struct catalog_stats s;
    float v[3] = {1, 0, 0};
    struct err e;
    int64_t id;

    REQUIRE(c != NULL);
    id = add_person(c, "Zoë Saldaña", 8691, 30);
    put_vec(c, add_photo(c, id, 1, 1, CATALOG_PHOTO_OK), "look", v, 3);
    REQUIRE(catalog_state_set(c, "popular.page", "7", &e) == CATALOG_OK);
    catalog_close(c);
    snprintf(path, sizeof path, "%s/reopen.db", check_tmpdir());
    REQUIRE(catalog_open(path, 0, &c, &e) == CATALOG_OK);
    REQUIRE(catalog_person_find_name(c, "zoe saldana", &p, &e) == CATALOG_OK);
    CHECK_INT(p.id, id);
    CHECK_STR(p.name, "Zoë Saldaña");
    CHECK_INT(p.tmdb_id, 8691);
    REQUIRE(catalog_stats(c, &s, &e) == CATALOG_OK);
    CHECK_INT(s.people, 1);
    CHECK_INT(s.photos_by_status[CATALOG_PHOTO_OK], 1);
    CHECK_INT(s.nspaces, 1);
    CHECK_INT(s.spaces[0].embeddings, 1);
    catalog_close(c);
}

static void test_person_upserts(void)
{
    static const struct {
        const char *name;
        int64_t tmdb;
        double pop;
        int want_rc;
        int same_as; /* index of the earlier case giving the same person, -1 = new */
    } cases[] = {
        {"Keanu Reeves", 0, 0, CATALOG_OK, -1},       {"keanu  REEVES", 0, 0, CATALOG_OK, 0},
        {"Keanu Reeves", 6384, 50, CATALOG_OK, 0},  /* adopts the TMDB id */
        {"Keanu Reeves", 6384, 55, CATALOG_OK, 0},  /* by TMDB id */
        {"Keanu Reeves", 99999, 1, CATALOG_OK, -1}, /* another TMDB person, same name */
        {"KEANU-REEVES", 0, 0, CATALOG_OK, 0},      /* the most popular of the two */
        {"Penélope Cruz", 0, 0, CATALOG_OK, -1},      {"Penelope Cruz", 0, 0, CATALOG_OK, 6},
        {"Penelope Cruz", 955, 40, CATALOG_OK, 6},    {"", 0, 0, CATALOG_ERR_INPUT, -1},
        {"!!!", 0, 0, CATALOG_ERR_INPUT, -1},         {"\xff\xfe", 0, 0, CATALOG_ERR_INPUT, -1},
        {"Bad Number", -5, 0, CATALOG_ERR_INPUT, -1},
    };
    int64_t ids[sizeof cases / sizeof cases[0]];
    struct catalog *c = fresh("people.db");
    struct catalog_person p;
    struct catalog_stats s;
    struct err e;

    REQUIRE(c != NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct catalog_person in = {0};
        int created = -1;

        snprintf(in.name, sizeof in.name, "%s", cases[i].name);
        in.tmdb_id = cases[i].tmdb;
        in.popularity = cases[i].pop;
        ids[i] = 0;
        CHECK_INT(catalog_person_upsert(c, &in, &ids[i], &created, &e), cases[i].want_rc);
        if (cases[i].want_rc != CATALOG_OK)
            continue;
        CHECK_INT(created, cases[i].same_as < 0);
        if (cases[i].same_as >= 0 && ids[i] != ids[cases[i].same_as])
            check_fail(__FILE__, __LINE__, "case %zu: person %lld, want %lld", i, (long long)ids[i],
                       (long long)ids[cases[i].same_as]);
    }
    REQUIRE(catalog_stats(c, &s, &e) == CATALOG_OK);
    CHECK_INT(s.people, 3);
    REQUIRE(catalog_person_find_tmdb(c, 6384, &p, &e) == CATALOG_OK);
    CHECK_INT(p.id, ids[0]);
    CHECK_NEAR(p.popularity, 55, 1e-9);
    REQUIRE(catalog_person_get(c, ids[6], &p, &e) == CATALOG_OK);
    CHECK_STR(p.name, "Penelope Cruz"); /* a TMDB-keyed upsert replaces the name */
    CHECK_INT(p.tmdb_id, 955);
    CHECK_INT(catalog_person_find_name(c, "Nobody", &p, &e), CATALOG_NOT_FOUND);
    CHECK_INT(catalog_person_find_tmdb(c, 1, &p, &e), CATALOG_NOT_FOUND);
    CHECK_INT(catalog_person_get(c, 12345, &p, &e), CATALOG_NOT_FOUND);
    catalog_close(c);
}

static int count_person(void *ctx, const struct catalog_person *p)
{
    int *n = ctx;

    (*n)++;
    return p->id == 2 ? 7 : 0;
}

static void test_people_list(void)
{
    struct catalog *c = fresh("list.db");
    struct err e;
    int n = 0;

    REQUIRE(c != NULL);
    add_person(c, "A", 0, 0);
    add_person(c, "B", 0, 0);
    add_person(c, "C", 0, 0);
    CHECK_INT(catalog_people_list(c, count_person, &n, &e), 7); /* stopped at id 2 */
    CHECK_INT(n, 2);
    catalog_close(c);
}

struct best {
    int64_t person[8];
    char source[8][64];
    int n;
};

static int note_best(void *arg, int64_t person_id, const char *source)
{
    struct best *b = arg;

    if (b->n == 8)
        return 1;
    b->person[b->n] = person_id;
    snprintf(b->source[b->n++], sizeof b->source[0], "%s", source);
    return 0;
}

/* Every person's best photo in one pass is the photo catalog_person_photo picks (ranked
 * before unranked, then the lower id; ok photos only), and the people loaded for the web
 * server (search/people.h) carry it, with gaps in the ids. */
static void test_best_photos(void)
{
    static const char *const want_src[3] = {"/photos/4.jpg", "/photos/6.jpg", "/photos/7.jpg"};
    struct catalog *c = fresh("best.db");
    char path[512], src[CATALOG_SOURCE_MAX];
    struct people_card card;
    struct people *pp = NULL;
    struct best b = {0};
    int64_t a, bob, d, want[3];
    struct err e;

    REQUIRE(c != NULL);
    snprintf(path, sizeof path, "%s/best.db", check_tmpdir());
    a = add_person(c, "Ann", 11, 0);
    bob = add_person(c, "Bob", 0, 0);
    d = add_person(c, "Dee", 33, 0);
    add_photo(c, a, 1, 3, CATALOG_PHOTO_OK);
    add_photo(c, a, 2, 0, CATALOG_PHOTO_OK); /* unranked: after every ranked one */
    add_photo(c, a, 3, 1, CATALOG_PHOTO_NO_FACE);
    add_photo(c, a, 4, 2, CATALOG_PHOTO_OK);
    add_photo(c, bob, 8, 1, CATALOG_PHOTO_NO_FACE);
    add_photo(c, d, 6, 0, CATALOG_PHOTO_OK);
    add_photo(c, d, 5, 0, CATALOG_PHOTO_OK); /* unranked too, a later id: photo 6 wins */
    REQUIRE(
        raw_exec(path, "INSERT INTO people (id, name, norm_name) VALUES (1000, 'Zed', 'zed')") ==
        SQLITE_OK);
    add_photo(c, 1000, 7, 1, CATALOG_PHOTO_OK);
    want[0] = a;
    want[1] = d;
    want[2] = 1000;
    CHECK_INT(catalog_best_photos(c, note_best, &b, &e), CATALOG_OK);
    REQUIRE(b.n == 3);
    for (int i = 0; i < 3; i++) {
        CHECK_INT(b.person[i], want[i]);
        CHECK_INT(catalog_person_photo(c, want[i], src, sizeof src, &e), CATALOG_OK);
        CHECK_STR(src, b.source[i]);
        CHECK_STR(b.source[i], want_src[i]);
    }
    CHECK_INT(catalog_person_photo(c, bob, src, sizeof src, &e), CATALOG_NOT_FOUND);

    CHECK_INT(people_load(c, &pp, &e), CATALOG_OK);
    REQUIRE(pp != NULL);
    CHECK_INT(people_count(pp), 4);
    REQUIRE(people_get(pp, a, &card));
    CHECK_STR(card.name, "Ann");
    CHECK_INT(card.tmdb_id, 11);
    CHECK_STR(card.photo, want_src[0]);
    REQUIRE(people_get(pp, bob, &card));
    CHECK_STR(card.name, "Bob");
    CHECK_INT(card.tmdb_id, 0);
    CHECK_STR(card.photo, "");
    REQUIRE(people_get(pp, 1000, &card));
    CHECK_STR(card.name, "Zed");
    CHECK_STR(card.photo, want_src[2]);
    CHECK(!people_get(pp, 0, &card));
    CHECK(!people_get(pp, 999, &card));
    CHECK(!people_get(pp, 1001, &card));
    CHECK(!people_get(pp, INT64_MIN, &card));
    people_free(pp);
    catalog_close(c);
}

static void test_photo_dedupe(void)
{
    struct catalog *c = fresh("photos.db");
    struct catalog_photo ph = {0};
    struct catalog_stats s;
    float v[4] = {1, 2, 3, 4}, nan[2] = {1, NAN};
    struct err e;
    int64_t a, b, id;
    int created;

    REQUIRE(c != NULL);
    a = add_person(c, "Ann", 0, 0);
    b = add_person(c, "Bob", 0, 0);
    id = add_photo(c, a, 1, 1, CATALOG_PHOTO_OK);
    CHECK_INT(add_photo(c, b, 1, 1, CATALOG_PHOTO_OK), id); /* same bytes: the first stays */
    CHECK(add_photo(c, a, 2, 2, CATALOG_PHOTO_NO_FACE) != id);
    add_photo(c, b, 3, 0, CATALOG_PHOTO_DECODE_ERROR);
    CHECK_INT(put_vec(c, id, "look", v, 4), 1);
    CHECK_INT(put_vec(c, id, "look", v, 4), 0);
    CHECK_INT(put_vec(c, id, "identity", v, 2), 1);
    ph.person_id = a;
    snprintf(ph.sha256, sizeof ph.sha256, "%s", "ABC");
    CHECK_INT(catalog_photo_add(c, &ph, &id, &created, &e), CATALOG_ERR_INPUT);
    CHECK_INT(catalog_embedding_put(c, &(struct catalog_embedding){id, "look", "m", "v", 2, nan},
                                    NULL, &e),
              CATALOG_ERR_INPUT);
    CHECK_INT(
        catalog_embedding_put(c, &(struct catalog_embedding){id, "look", "m", "v", 0, v}, NULL, &e),
        CATALOG_ERR_INPUT);
    REQUIRE(catalog_stats(c, &s, &e) == CATALOG_OK);
    CHECK_INT(s.photos, 3);
    CHECK_INT(s.photos_by_status[CATALOG_PHOTO_OK], 1);
    CHECK_INT(s.photos_by_status[CATALOG_PHOTO_NO_FACE], 1);
    CHECK_INT(s.photos_by_status[CATALOG_PHOTO_DECODE_ERROR], 1);
    REQUIRE(s.nspaces == 2);
    CHECK_STR(s.spaces[0].space, "identity");
    CHECK_STR(s.spaces[1].space, "look");
    CHECK_INT(s.spaces[1].embeddings, 1);
    CHECK_INT(s.spaces[1].people, 1);
    catalog_close(c);
}

/* Reads every vector q asks for into people[], photos[] and vecs[] (dim each). */
static int read_vecs(struct catalog *c, const struct catalog_vec_query *q, int64_t *people,
                     int64_t *photos, int *counts, float *vecs, int dim, int max)
{
    struct catalog_vecs *it;
    struct catalog_vec v;
    struct err e;
    int n = 0, rc;

    if (catalog_vecs_open(c, q, &it, &e) != CATALOG_OK)
        return -1;
    while ((rc = catalog_vecs_next(it, &v, &e)) == CATALOG_OK && n < max) {
        people[n] = v.person_id;
        photos[n] = v.photo_id;
        counts[n] = v.photos;
        if (v.dim == dim)
            memcpy(vecs + (size_t)n * dim, v.v, sizeof(float) * (size_t)dim);
        n++;
    }
    catalog_vecs_close(it);
    return rc == CATALOG_DONE ? n : -1;
}

static void test_average_math(void)
{
    /* (3, 4, 0) -> (0.6, 0.8, 0); (0, 0, 2) -> (0, 0, 1); mean (0.3, 0.4, 0.5), whose
     * length is sqrt(0.5); so (0.3, 0.4, 0.5) / 0.70711 = (0.42426, 0.56569, 0.70711). */
    static const float a[3] = {3, 4, 0}, b[3] = {0, 0, 2}, z[3] = {0, 0, 0}, c1[3] = {0, -5, 0};
    static const float want[3] = {0.424264f, 0.565685f, 0.707107f};
    struct catalog_vec_query q = {"look", NULL, CATALOG_VEC_AVERAGE, 0, 0};
    struct catalog *c = fresh("average.db");
    int64_t people[4], photos[4], p1, p2;
    float vecs[4 * 3];
    int counts[4];

    REQUIRE(c != NULL);
    p1 = add_person(c, "One", 0, 0);
    p2 = add_person(c, "Two", 0, 0);
    put_vec(c, add_photo(c, p1, 1, 1, CATALOG_PHOTO_OK), "look", a, 3);
    put_vec(c, add_photo(c, p2, 2, 1, CATALOG_PHOTO_OK), "look", c1, 3);
    put_vec(c, add_photo(c, p1, 3, 2, CATALOG_PHOTO_OK), "look", b, 3);
    put_vec(c, add_photo(c, p1, 4, 3, CATALOG_PHOTO_OK), "look", z, 3); /* adds nothing */
    put_vec(c, add_photo(c, p1, 5, 0, CATALOG_PHOTO_OK), "other", a, 3);
    REQUIRE(read_vecs(c, &q, people, photos, counts, vecs, 3, 4) == 2);
    CHECK_INT(people[0], p1);
    CHECK_INT(photos[0], 0);
    CHECK_INT(counts[0], 2);
    for (int k = 0; k < 3; k++)
        CHECK_NEAR(vecs[k], want[k], 1e-6);
    CHECK_INT(people[1], p2);
    CHECK_INT(counts[1], 1);
    CHECK_NEAR(vecs[3 + 1], -1, 1e-7);
    q.person_id = p2;
    CHECK_INT(read_vecs(c, &q, people, photos, counts, vecs, 3, 4), 1);
    q.space = "nothing";
    CHECK_INT(read_vecs(c, &q, people, photos, counts, vecs, 3, 4), 0);
    catalog_close(c);
}

static void test_top_ranked(void)
{
    /* Photo i has rank ranks[i] (0 = unranked) and the vector e_i. */
    static const int ranks[7] = {7, 3, 1, 0, 5, 2, 4};
    static const struct {
        int mode, max;
        int want_dims[8];  /* the dimensions the result spreads over, -1 ends */
        int want_order[8]; /* for photos: photo indexes in order, -1 ends */
    } cases[] = {
        {CATALOG_VEC_AVERAGE, 0, {1, 2, 4, 5, 6, -1}, {-1}},
        {CATALOG_VEC_AVERAGE, 2, {2, 5, -1}, {-1}},
        {CATALOG_VEC_AVERAGE, -1, {0, 1, 2, 3, 4, 5, 6, -1}, {-1}},
        {CATALOG_VEC_PHOTOS, 0, {-1}, {2, 5, 1, 6, 4, 0, 3, -1}},
        {CATALOG_VEC_PHOTOS, 3, {-1}, {2, 5, 1, -1}},
    };
    struct catalog *c = fresh("ranked.db");
    int64_t people[8], photos[8], ids[7], p;
    float vecs[8 * 8];
    int counts[8];

    REQUIRE(c != NULL);
    p = add_person(c, "Ranked", 0, 0);
    add_photo(c, p, 100, 1, CATALOG_PHOTO_NO_FACE); /* never read */
    for (int i = 0; i < 7; i++) {
        float v[8] = {0};

        v[i] = 2;
        ids[i] = add_photo(c, p, i + 1, ranks[i], CATALOG_PHOTO_OK);
        put_vec(c, ids[i], "look", v, 8);
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct catalog_vec_query q = {"look", "test", cases[i].mode, cases[i].max, 0};
        int n = read_vecs(c, &q, people, photos, counts, vecs, 8, 8), k, nd = 0;

        if (cases[i].mode == CATALOG_VEC_PHOTOS) {
            for (k = 0; cases[i].want_order[k] >= 0; k++)
                CHECK_INT(photos[k], ids[cases[i].want_order[k]]);
            CHECK_INT(n, k);
            continue;
        }
        REQUIRE(n == 1);
        while (cases[i].want_dims[nd] >= 0)
            nd++;
        CHECK_INT(counts[0], nd);
        for (k = 0; k < nd; k++)
            CHECK_NEAR(vecs[cases[i].want_dims[k]], 1 / sqrt(nd), 1e-6);
    }
    catalog_close(c);
}

static void test_mixed_dims(void)
{
    struct catalog_vec_query q = {"look", NULL, CATALOG_VEC_AVERAGE, 0, 0};
    struct catalog *c = fresh("dims.db");
    float v[4] = {1, 0, 0, 0};
    struct catalog_vecs *it, *again;
    struct catalog_vec out;
    struct err e;
    int64_t p;
    int rc;

    REQUIRE(c != NULL);
    p = add_person(c, "Dims", 0, 0);
    put_vec(c, add_photo(c, p, 1, 1, CATALOG_PHOTO_OK), "look", v, 4);
    put_vec(c, add_photo(c, p, 2, 2, CATALOG_PHOTO_OK), "look", v, 3);
    REQUIRE(catalog_vecs_open(c, &q, &it, &e) == CATALOG_OK);
    CHECK_INT(catalog_vecs_open(c, &q, &again, &e), CATALOG_ERR_INPUT);
    rc = catalog_vecs_next(it, &out, &e);
    CHECK_INT(rc, CATALOG_ERR_INPUT);
    CHECK(strstr(e.msg, "name the model") != NULL);
    catalog_vecs_close(it);
    catalog_close(c);
}

static void test_titles(void)
{
    static const struct {
        const char *title;
        int kind, year;
        int64_t tmdb;
        int want_rc;
        int same_as;
    } cases[] = {
        {"Heat", CATALOG_TITLE_MOVIE, 1995, 0, CATALOG_OK, -1},
        {"heat", CATALOG_TITLE_UNKNOWN, 0, 0, CATALOG_OK, 0},
        {"Heat", CATALOG_TITLE_MOVIE, 1986, 0, CATALOG_OK, -1},
        {"Heat", CATALOG_TITLE_TV, 1995, 0, CATALOG_OK, -1},
        {"Heat", CATALOG_TITLE_MOVIE, 1995, 949, CATALOG_OK, 0},
        {"HEAT", CATALOG_TITLE_MOVIE, 0, 949, CATALOG_OK, 0},
        {"Heat", CATALOG_TITLE_TV, 0, 949, CATALOG_OK, 3},
        {"", CATALOG_TITLE_MOVIE, 0, 0, CATALOG_ERR_INPUT, -1},
        {"Heat", 7, 0, 0, CATALOG_ERR_INPUT, -1},
    };
    int64_t ids[sizeof cases / sizeof cases[0]];
    struct catalog *c = fresh("titles.db");
    struct err e;

    REQUIRE(c != NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct catalog_title t = {0};
        int created = -1;

        snprintf(t.title, sizeof t.title, "%s", cases[i].title);
        t.kind = cases[i].kind;
        t.year = cases[i].year;
        t.tmdb_id = cases[i].tmdb;
        ids[i] = 0;
        CHECK_INT(catalog_title_upsert(c, &t, &ids[i], &created, &e), cases[i].want_rc);
        if (cases[i].want_rc != CATALOG_OK)
            continue;
        CHECK_INT(created, cases[i].same_as < 0);
        if (cases[i].same_as >= 0 && ids[i] != ids[cases[i].same_as])
            check_fail(__FILE__, __LINE__, "case %zu: title %lld, want %lld", i, (long long)ids[i],
                       (long long)ids[cases[i].same_as]);
    }
    catalog_close(c);
}

static void test_titles_fields(void)
{
    static const struct {
        const char *kind;
        int want;
    } kinds[] = {
        {"Movie", CATALOG_TITLE_MOVIE}, {" TV Show ", CATALOG_TITLE_TV},
        {"tvSeries", CATALOG_TITLE_TV}, {"tvMovie", CATALOG_TITLE_MOVIE},
        {"", CATALOG_TITLE_UNKNOWN},    {"podcast", CATALOG_TITLE_UNKNOWN},
    };
    static const struct {
        const char *year;
        int want;
    } years[] = {
        {"2009", 2009}, {" 1999", 1999}, {"2009-05-01", 2009}, {"2009.0", 2009}, {"20091", 0},
        {"209", 0},     {"", 0},         {"1200", 0},          {"\\N", 0},       {"x2009", 0},
    };

    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        CHECK_INT(titles_parse_kind(kinds[i].kind), kinds[i].want);
    for (size_t i = 0; i < sizeof years / sizeof years[0]; i++)
        CHECK_INT(titles_parse_year(years[i].year), years[i].want);
}

static const char streaming_csv[] =
    "show_id,type,title,director,cast,country,date_added,release_year\n"
    "s1,Movie,The Matrix,Lana Wachowski,\"Keanu Reeves, Laurence Fishburne\",US,x,1999\r\n"
    "s2,Movie,Vanilla Sky,Cameron Crowe,\"Tom Cruise, Penelope Cruz, Cameron Diaz\",US,x,2001\n"
    "s3,TV Show,Some Show,,Nobody Here,,,2020\n"
    "s4,Movie,,,Keanu Reeves,,,2000\n"
    "s5,Movie,The Matrix,,Keanu Reeves,,,1999\n";

static const char imdb_csv[] =
    "index;movie_title;title_year;actor_1_name;actor_2_name;actor_3_name\n"
    "1;John Wick\xC2\xA0;2014;Keanu Reeves;Michael Nyqvist;Alfie Allen\n";

static void test_titles_linking(void)
{
    struct catalog *c = fresh("linking.db");
    struct catalog_known k[8];
    struct titles_stats st;
    struct err e;
    int64_t keanu, cruz;
    int n;

    REQUIRE(c != NULL);
    keanu = add_person(c, "Keanu Reeves", 0, 0);
    cruz = add_person(c, "Penélope Cruz", 0, 0);
    add_person(c, "Tom Hanks", 0, 0);
    REQUIRE(titles_import(c, streaming_csv, strlen(streaming_csv), &st, &e) == TITLES_OK);
    CHECK_INT(st.rows, 5);
    CHECK_INT(st.skipped, 1);
    CHECK_INT(st.titles_new, 3);
    CHECK_INT(st.credits, 3);
    CHECK_INT(st.credits_new, 2);
    REQUIRE(titles_import(c, streaming_csv, strlen(streaming_csv), &st, &e) == TITLES_OK);
    CHECK_INT(st.titles_new + st.credits_new, 0);
    REQUIRE(catalog_known_for(c, cruz, k, 8, &n, &e) == CATALOG_OK);
    REQUIRE(n == 1);
    CHECK_STR(k[0].title.title, "Vanilla Sky");
    CHECK_INT(k[0].title.year, 2001);
    CHECK_INT(k[0].title.kind, CATALOG_TITLE_MOVIE);
    CHECK_INT(k[0].credit.order, 2);
    REQUIRE(titles_import(c, imdb_csv, strlen(imdb_csv), &st, &e) == TITLES_OK);
    CHECK_INT(st.credits_new, 1);
    REQUIRE(titles_add_known_for(c, keanu, "Speed; John Wick | ;!!", &e) == CATALOG_OK);
    REQUIRE(catalog_known_for(c, keanu, k, 8, &n, &e) == CATALOG_OK);
    REQUIRE(n == 3);
    CHECK_STR(k[0].title.title, "John Wick"); /* leads first, the most recent first */
    CHECK_STR(k[1].title.title, "The Matrix");
    CHECK_STR(k[2].title.title, "Speed");
    CHECK_INT(k[2].credit.order, 0);
    CHECK_INT(titles_import(c, "a,b\n1,2\n", 8, &st, &e), TITLES_ERR_FORMAT);
    CHECK(strstr(e.msg, "no title column") != NULL);
    catalog_close(c);
}

/* Title search (prefix first, accents and case ignored) and a title's cast by billing. */
static void test_titles_search(void)
{
    struct catalog *c = fresh("search.db");
    struct catalog_title t[8];
    struct catalog_cast cast[8];
    struct titles_stats st;
    struct err e;
    int n;

    REQUIRE(c != NULL);
    add_person(c, "Keanu Reeves", 0, 0);
    add_person(c, "Penélope Cruz", 0, 0);
    add_person(c, "Tom Hanks", 0, 0);
    REQUIRE(titles_import(c, streaming_csv, strlen(streaming_csv), &st, &e) == TITLES_OK);
    REQUIRE(titles_import(c, imdb_csv, strlen(imdb_csv), &st, &e) == TITLES_OK);
    REQUIRE(catalog_titles_search(c, "VANILLA", t, 8, &n, &e) == CATALOG_OK);
    REQUIRE(n == 1);
    CHECK_STR(t[0].title, "Vanilla Sky");
    REQUIRE(catalog_titles_search(c, "sky", t, 8, &n, &e) == CATALOG_OK);
    CHECK_INT(n, 1);
    REQUIRE(catalog_titles_search(c, "!!", t, 8, &n, &e) == CATALOG_OK);
    CHECK_INT(n, 0);
    REQUIRE(catalog_titles_search(c, "zzzz", t, 8, &n, &e) == CATALOG_OK);
    CHECK_INT(n, 0);
    REQUIRE(catalog_titles_search(c, "Vanilla Sky", t, 1, &n, &e) == CATALOG_OK);
    REQUIRE(n == 1);
    REQUIRE(catalog_title_cast(c, t[0].id, cast, 8, &n, &e) == CATALOG_OK);
    REQUIRE(n >= 1);
    CHECK_STR(cast[n - 1].person.name, "Penélope Cruz");
    CHECK_INT(cast[n - 1].credit.order, 2);
    REQUIRE(catalog_title_get(c, t[0].id, &t[1], &e) == CATALOG_OK);
    CHECK_STR(t[1].title, "Vanilla Sky");
    CHECK_INT(catalog_title_get(c, 99999, &t[1], &e), CATALOG_NOT_FOUND);
    REQUIRE(catalog_title_cast(c, 99999, cast, 8, &n, &e) == CATALOG_OK);
    CHECK_INT(n, 0);
    catalog_close(c);
}

static void test_crawl_state(void)
{
    struct catalog *c = fresh("state.db");
    struct buf v;
    struct err e;
    int found = -1;

    REQUIRE(c != NULL);
    buf_init(&v, 0);
    CHECK_INT(catalog_state_get(c, "changes.since", &v, &found, &e), CATALOG_OK);
    CHECK_INT(found, 0);
    CHECK_INT(catalog_state_set(c, "changes.since", "2024-01-01", &e), CATALOG_OK);
    CHECK_INT(catalog_state_set(c, "changes.since", "2024-02-01", &e), CATALOG_OK);
    CHECK_INT(catalog_state_get(c, "changes.since", &v, &found, &e), CATALOG_OK);
    CHECK_INT(found, 1);
    CHECK_STR(buf_str(&v), "2024-02-01");
    CHECK_INT(catalog_state_set(c, "", "x", &e), CATALOG_ERR_INPUT);
    buf_release(&v);
    catalog_close(c);
}

static void test_transactions(void)
{
    struct catalog *c = fresh("tx.db");
    struct catalog_stats s;
    char path[512];
    struct err e;

    REQUIRE(c != NULL);
    REQUIRE(catalog_begin(c, &e) == CATALOG_OK);
    add_person(c, "Kept", 0, 0);
    REQUIRE(catalog_commit(c, &e) == CATALOG_OK);
    REQUIRE(catalog_begin(c, &e) == CATALOG_OK);
    add_person(c, "Rolled Back", 0, 0);
    catalog_rollback(c);
    REQUIRE(catalog_begin(c, &e) == CATALOG_OK);
    add_person(c, "Open At Close", 0, 0);
    catalog_close(c); /* rolls back */
    snprintf(path, sizeof path, "%s/tx.db", check_tmpdir());
    REQUIRE(catalog_open(path, 0, &c, &e) == CATALOG_OK);
    REQUIRE(catalog_stats(c, &s, &e) == CATALOG_OK);
    CHECK_INT(s.people, 1);
    catalog_close(c);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"open_errors", test_open_errors},
        {"migrations", test_migrations},
        {"migrate_v1", test_migrate_v1},
        {"queue", test_queue},
        {"reopen", test_reopen},
        {"person_upserts", test_person_upserts},
        {"people_list", test_people_list},
        {"best_photos", test_best_photos},
        {"photo_dedupe", test_photo_dedupe},
        {"average_math", test_average_math},
        {"top_ranked", test_top_ranked},
        {"mixed_dims", test_mixed_dims},
        {"titles", test_titles},
        {"titles_fields", test_titles_fields},
        {"titles_linking", test_titles_linking},
        {"titles_search", test_titles_search},
        {"crawl_state", test_crawl_state},
        {"transactions", test_transactions},
    };

    return check_main("catalog", cases, sizeof cases / sizeof cases[0], argc, argv);
}
