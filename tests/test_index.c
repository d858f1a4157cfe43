/* Tests for index/index: file round trip, search against a float64 brute force on random
 * and low-rank data, exclusion, k beyond the count, rank_pct, corrupt and mismatched
 * files, bad input to the writer and the search, every int8 kernel against the scalar
 * one, pruning against the full int8 scan, thread counts, concurrent searches, and the
 * basis the writer computes. */
#include "check.h"

#include "index/basis.h"
#include "index/dot.h"
#include "index/index.h"
#include "index/layout.h"

#include <dirent.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* ---- data ----------------------------------------------------------------------------- */

static uint64_t rng = 1;

static double uniform(void)
{
    uint64_t z = (rng += 0x9E3779B97F4A7C15ull);

    z = (z ^ z >> 30) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ z >> 27) * 0x94D049BB133111EBull;
    return ((double)((z ^ z >> 31) >> 11) + 0.5) / 9007199254740992.0;
}

static double gauss(void)
{
    return sqrt(-2 * log(uniform())) * cos(6.283185307179586 * uniform());
}

static void normalise(float *v, uint32_t dim)
{
    double n = 0;

    for (uint32_t i = 0; i < dim; i++)
        n += (double)v[i] * v[i];
    for (uint32_t i = 0; i < dim; i++)
        v[i] = (float)(v[i] / sqrt(n));
}

/* n unit vectors: isotropic when latent is 0, else a random linear map of a latent-d
 * Gaussian plus isotropic noise of the given relative size. Caller frees. */
static float *make_vecs(size_t n, uint32_t dim, uint32_t latent, double noise, uint64_t seed)
{
    float *v = malloc(n * dim * sizeof(float));
    float *map = malloc((size_t)(latent ? latent : 1) * dim * sizeof(float));
    double z[64];

    rng = seed;
    for (size_t i = 0; i < (size_t)latent * dim; i++)
        map[i] = (float)gauss();
    for (size_t r = 0; r < n; r++) {
        float *x = v + r * dim;

        for (uint32_t l = 0; l < latent; l++)
            z[l] = gauss();
        for (uint32_t i = 0; i < dim; i++) {
            double s = latent ? 0 : gauss();

            for (uint32_t l = 0; l < latent; l++)
                s += z[l] * map[(size_t)l * dim + i];
            x[i] = (float)(s + (latent ? noise * sqrt((double)latent) * gauss() : 0));
        }
        normalise(x, dim);
    }
    free(map);
    return v;
}

/* Distinct ids in no particular order. */
static int64_t *make_ids(size_t n)
{
    int64_t *ids = malloc((n ? n : 1) * sizeof *ids);

    for (size_t r = 0; r < n; r++)
        ids[r] = (int64_t)((r * 7919) % 1000003) + 5;
    return ids;
}

/* A query near row r: its vector plus noise, normalised. */
static void near_query(const float *v, size_t r, uint32_t dim, double noise, float *q)
{
    for (uint32_t i = 0; i < dim; i++)
        q[i] = (float)(v[r * dim + i] + noise * gauss() / sqrt((double)dim));
    normalise(q, dim);
}

static const char *tmp_path(const char *name)
{
    static char path[4][1024];
    static int next;
    char *p = path[next++ % 4];

    snprintf(p, sizeof path[0], "%s/%s", check_tmpdir(), name);
    return p;
}

static struct index *build(const char *name, const char *space, const float *v, const int64_t *ids,
                           size_t n, uint32_t dim)
{
    struct index_meta m = {"", "faceres-test", dim, n};
    struct index *ix = NULL;
    struct err e;

    snprintf(m.space, sizeof m.space, "%s", space);
    if (index_write(tmp_path(name), &m, v, ids, &e) != INDEX_OK) {
        check_fail(__FILE__, __LINE__, "write: %s", e.msg);
        return NULL;
    }
    if (index_open(tmp_path(name), space, &ix, &e) != INDEX_OK)
        check_fail(__FILE__, __LINE__, "open: %s", e.msg);
    return ix;
}

/* ---- the float64 brute force ---------------------------------------------------------- */

struct ref {
    double score;
    uint32_t row;
};

static int cmp_ref(const void *a, const void *b)
{
    const struct ref *x = a, *y = b;

    if (x->score != y->score)
        return x->score < y->score ? 1 : -1;
    return (x->row > y->row) - (x->row < y->row);
}

/* Every row but those with id exclude, best first; returns how many. Caller frees. */
static struct ref *brute(const float *v, const int64_t *ids, size_t n, uint32_t dim, const float *q,
                         int64_t exclude, size_t *m)
{
    struct ref *r = malloc((n ? n : 1) * sizeof *r);
    double qn = 0;

    *m = 0;
    for (uint32_t i = 0; i < dim; i++)
        qn += (double)q[i] * q[i];
    for (size_t row = 0; row < n; row++) {
        double s = 0;

        if (ids[row] == exclude)
            continue;
        for (uint32_t i = 0; i < dim; i++)
            s += (double)q[i] * v[row * dim + i];
        r[(*m)++] = (struct ref){s / sqrt(qn), (uint32_t)row};
    }
    qsort(r, *m, sizeof *r, cmp_ref);
    return r;
}

/* Compares hits with the brute force; returns the number of hits whose row differs
 * (beyond a tie), and fails the case on a score off by more than 1e-5. */
static size_t compare(const struct index_hit *h, size_t nh, const struct ref *r, size_t nr,
                      size_t k, const int64_t *ids)
{
    size_t want = k < nr ? k : nr, wrong = 0;

    if (nh != want) {
        check_fail(__FILE__, __LINE__, "%zu hits, want %zu", nh, want);
        return want;
    }
    for (size_t j = 0; j < nh; j++) {
        if (fabs(h[j].score - r[j].score) > 1e-5)
            check_fail(__FILE__, __LINE__, "hit %zu score %.7f, brute force %.7f", j, h[j].score,
                       r[j].score);
        if (h[j].row != r[j].row && fabs(r[j].score - h[j].score) > 1e-6)
            wrong++;
        if (h[j].id != ids[h[j].row])
            check_fail(__FILE__, __LINE__, "hit %zu id %lld, row's id %lld", j, (long long)h[j].id,
                       (long long)ids[h[j].row]);
    }
    return wrong;
}

/* ---- cases ---------------------------------------------------------------------------- */

static void test_round_trip(void)
{
    size_t n = 300;
    uint32_t dim = 70;
    float *v = make_vecs(n, dim, 0, 0, 11);
    int64_t *ids = make_ids(n);
    struct index *ix = build("rt.idx", "look", v, ids, n, dim), *again = NULL;
    const struct index_meta *m;
    struct err e;
    uint32_t row;
    DIR *d;

    REQUIRE(ix != NULL);
    m = index_get_meta(ix);
    CHECK_STR(m->space, "look");
    CHECK_STR(m->model, "faceres-test");
    CHECK_INT(m->dim, dim);
    CHECK_INT(m->count, n);
    for (size_t r = 0; r < n; r++) {
        CHECK(memcmp(index_get_vector(ix, (uint32_t)r), v + r * dim, dim * sizeof(float)) == 0);
        CHECK(index_find_id(ix, ids[r], &row) && row == r);
        CHECK_INT(index_get_id(ix, (uint32_t)r), ids[r]);
    }
    CHECK(index_get_vector(ix, (uint32_t)n) == NULL);
    CHECK(!index_find_id(ix, 4, &row));
    CHECK(!index_find_id(ix, INT64_MAX, &row));
    CHECK_INT(index_verify(ix, &e), INDEX_OK);
    /* Rewriting over an open index leaves the open one intact and no temporary file. */
    CHECK_INT(index_write(tmp_path("rt.idx"), m, v, ids, &e), INDEX_OK);
    CHECK_INT(index_open(tmp_path("rt.idx"), NULL, &again, &e), INDEX_OK);
    CHECK_INT(index_verify(ix, &e), INDEX_OK);
    d = opendir(check_tmpdir());
    for (struct dirent *de = d ? readdir(d) : NULL; de != NULL; de = readdir(d))
        CHECK(strstr(de->d_name, ".tmp-") == NULL);
    if (d != NULL)
        closedir(d);
    index_close(again);
    index_close(ix);
    free(ids);
    free(v);
}

static void test_search_vs_brute(void)
{
    static const struct {
        size_t n;
        uint32_t dim, latent;
        size_t k;
        int threads;
    } cases[] = {
        {1, 3, 0, 1, 1},        {7, 5, 0, 10, 1},       {100, 16, 0, 5, 1},
        {600, 64, 0, 10, 1},    {2000, 128, 0, 10, 1},  {3000, 200, 0, 20, 2},
        {5000, 1024, 0, 10, 1}, {20000, 128, 8, 10, 1}, {20000, 512, 24, 1, 1},
    };
    size_t wrong = 0, total = 0;

    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t n = cases[c].n, k = cases[c].k;
        uint32_t dim = cases[c].dim;
        float *v = make_vecs(n, dim, cases[c].latent, 0.1, 100 + c), *q = malloc(dim * 4);
        int64_t *ids = make_ids(n);
        struct index *ix = build("sb.idx", "look", v, ids, n, dim);
        struct index_hit hits[20];
        struct err e;

        for (int t = 0; ix != NULL && t < 10; t++) {
            size_t nh, nr;
            struct ref *r;

            near_query(v, (size_t)(uniform() * (double)n), dim, t < 5 ? 0.3 : 3.0, q);
            r = brute(v, ids, n, dim, q, INDEX_NO_ID, &nr);
            CHECK_INT(index_search(ix, q, k, INDEX_NO_ID, cases[c].threads, hits, &nh, &e),
                      INDEX_OK);
            wrong += compare(hits, nh, r, nr, k, ids);
            total += nh;
            free(r);
        }
        index_close(ix);
        free(ids);
        free(q);
        free(v);
    }
    printf("    %zu of %zu hits differ from the brute force\n", wrong, total);
    CHECK_INT(wrong, 0);
}

static void test_exclude(void)
{
    size_t n = 500, nh, nr;
    uint32_t dim = 96;
    float *v = make_vecs(n, dim, 6, 0.1, 21);
    int64_t *ids = make_ids(n);
    struct index *ix = build("ex.idx", "look", v, ids, n, dim);
    struct index_hit hits[10];
    struct ref *r;
    struct err e;

    REQUIRE(ix != NULL);
    for (size_t row = 0; row < n; row += 37) {
        const float *q = v + row * dim;

        CHECK_INT(index_search(ix, q, 10, ids[row], 1, hits, &nh, &e), INDEX_OK);
        r = brute(v, ids, n, dim, q, ids[row], &nr);
        CHECK_INT(nr, n - 1);
        CHECK_INT(compare(hits, nh, r, nr, 10, ids), 0);
        for (size_t j = 0; j < nh; j++)
            CHECK(hits[j].id != ids[row]);
        free(r);
        CHECK_INT(index_search(ix, q, 10, INDEX_NO_ID, 1, hits, &nh, &e), INDEX_OK);
        CHECK_INT(hits[0].row, row);
        CHECK_NEAR(hits[0].score, 1.0, 1e-5);
        CHECK_INT(index_search(ix, q, 10, 3, 1, hits, &nh, &e), INDEX_OK); /* no such id */
        CHECK_INT(hits[0].row, row);
    }
    index_close(ix);
    free(ids);
    free(v);
}

static void test_k_beyond_count(void)
{
    static const float q[4] = {1, 0, 0, 0};
    float *v = make_vecs(5, 4, 0, 0, 31);
    int64_t *ids = make_ids(5);
    struct index *ix = build("k.idx", "look", v, ids, 5, 4), *empty;
    struct index_hit hits[10];
    struct err e;
    size_t nh = 99;

    REQUIRE(ix != NULL);
    CHECK_INT(index_search(ix, q, 10, INDEX_NO_ID, 1, hits, &nh, &e), INDEX_OK);
    CHECK_INT(nh, 5);
    for (size_t j = 1; j < nh; j++)
        CHECK(hits[j - 1].score >= hits[j].score);
    CHECK_INT(index_search(ix, q, 10, ids[2], 4, hits, &nh, &e), INDEX_OK);
    CHECK_INT(nh, 4);
    CHECK_INT(index_search(ix, q, 0, INDEX_NO_ID, 1, hits, &nh, &e), INDEX_OK);
    CHECK_INT(nh, 0);
    empty = build("empty.idx", "look", NULL, NULL, 0, 4);
    REQUIRE(empty != NULL);
    CHECK_INT(index_get_meta(empty)->count, 0);
    CHECK_INT(index_search(empty, q, 10, INDEX_NO_ID, 2, hits, &nh, &e), INDEX_OK);
    CHECK_INT(nh, 0);
    index_close(empty);
    index_close(ix);
    free(ids);
    free(v);
}

static void test_rank_pct(void)
{
    size_t n = 1000, nh, nr;
    uint32_t dim = 128;
    float *v = make_vecs(n, dim, 0, 0, 41);
    int64_t *ids = make_ids(n);
    struct index *ix = build("rank.idx", "look", v, ids, n, dim);
    struct index_hit *hits = malloc(n * sizeof *hits);
    struct err e;

    REQUIRE(ix != NULL);
    for (int pass = 0; pass < 2; pass++) {
        int64_t ex = pass ? ids[3] : INDEX_NO_ID;
        struct ref *r = brute(v, ids, n, dim, v + 3 * dim, ex, &nr);

        CHECK_INT(index_search(ix, v + 3 * dim, 50, ex, 1, hits, &nh, &e), INDEX_OK);
        for (size_t j = 0; j < nh; j++) {
            size_t lower = 0;

            for (size_t i = 0; i < nr; i++)
                lower += r[i].score < hits[j].score - 1e-6;
            CHECK_NEAR(hits[j].rank_pct, 100.0 * (double)lower / (double)(nr - 1),
                       100.0 / (double)(nr - 1) + 1e-9);
        }
        CHECK_NEAR(hits[0].rank_pct, 100.0, 1e-9);
        free(r);
    }
    CHECK_INT(index_search(ix, v, n, INDEX_NO_ID, 1, hits, &nh, &e), INDEX_OK);
    CHECK_INT(nh, n);
    CHECK_NEAR(hits[n - 1].rank_pct, 0.0, 1e-9);
    CHECK_NEAR(hits[1].rank_pct, 100.0 * (double)(n - 2) / (double)(n - 1), 1e-9);
    index_close(ix);
    free(hits);
    free(ids);
    free(v);
}

/* ---- files that must be refused ------------------------------------------------------- */

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *p;

    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    p = malloc(*len + 4096);
    if (fread(p, 1, *len, f) != *len)
        *len = 0;
    fclose(f);
    return p;
}

static void spit(const char *path, const unsigned char *p, size_t len)
{
    FILE *f = fopen(path, "wb");

    if (f != NULL) {
        fwrite(p, 1, len, f);
        fclose(f);
    }
}

static void put32(unsigned char *p, size_t off, uint32_t v)
{
    memcpy(p + off, &v, 4);
}

static void put64(unsigned char *p, size_t off, uint64_t v)
{
    memcpy(p + off, &v, 8);
}

static void test_corrupt_files(void)
{
    enum { XOR, SET32, SET64, ADD64, FILL16, FILL64, CUT, KEEP, APPEND };
    struct layout lay;
    static const struct {
        const char *what;
        int op;
        long long off; /* header offset, or -1 - section for a byte inside a section */
        long long val;
        int rc;
        const char *msg;
    } cases[] = {
        {"magic", XOR, 0, 0xFF, INDEX_ERR_FORMAT, "bad magic"},
        {"version", SET32, offsetof(struct layout_header, version), 2, INDEX_ERR_FORMAT,
         "format version 2"},
        {"header size", SET32, offsetof(struct layout_header, header_size), 512, INDEX_ERR_FORMAT,
         "header size 512"},
        {"element", SET32, offsetof(struct layout_header, elem), 7, INDEX_ERR_FORMAT,
         "element type 7"},
        {"flags", SET32, offsetof(struct layout_header, flags), 1, INDEX_ERR_FORMAT, "flags"},
        {"space", FILL16, offsetof(struct layout_header, space), 'x', INDEX_ERR_FORMAT,
         "not terminated"},
        {"model", FILL64, offsetof(struct layout_header, model), 'x', INDEX_ERR_FORMAT,
         "not terminated"},
        {"reserved", XOR, offsetof(struct layout_header, reserved) + 5, 1, INDEX_ERR_FORMAT,
         "reserved byte 5"},
        {"dim 0", SET32, offsetof(struct layout_header, dim), 0, INDEX_ERR_FORMAT, "dimension 0"},
        {"dim huge", SET32, offsetof(struct layout_header, dim), 70000, INDEX_ERR_FORMAT,
         "dimension 70000"},
        {"dim other", SET32, offsetof(struct layout_header, dim), 71, INDEX_ERR_FORMAT, "section"},
        {"head", SET32, offsetof(struct layout_header, head), 32, INDEX_ERR_FORMAT, "head"},
        {"head big", SET32, offsetof(struct layout_header, head), 128, INDEX_ERR_FORMAT, "head"},
        {"count huge", SET64, offsetof(struct layout_header, count), 1ll << 40, INDEX_ERR_FORMAT,
         "rows, more than"},
        {"count overflow", SET64, offsetof(struct layout_header, count), -1ll, INDEX_ERR_FORMAT,
         "rows, more than"},
        {"count less", ADD64, offsetof(struct layout_header, count), -1, INDEX_ERR_FORMAT,
         "section"},
        {"offset", ADD64, offsetof(struct layout_header, off) + 3 * 8, 64, INDEX_ERR_FORMAT,
         "section 3 at offset"},
        {"size field", ADD64, offsetof(struct layout_header, file_size), 64, INDEX_ERR_FORMAT,
         "file size field"},
        {"model byte", XOR, offsetof(struct layout_header, model) + 2, 1, INDEX_ERR_FORMAT,
         "checksum"},
        {"meta sum", XOR, offsetof(struct layout_header, meta_sum), 1, INDEX_ERR_FORMAT,
         "checksum"},
        {"id byte", XOR, -1 - LAYOUT_IDS, 4, INDEX_ERR_FORMAT, "checksum"},
        {"basis byte", XOR, -1 - LAYOUT_BASIS, 0x40, INDEX_ERR_FORMAT, "checksum"},
        {"scale byte", XOR, -1 - LAYOUT_SCALE, 1, INDEX_ERR_FORMAT, "checksum"},
        {"by-id byte", XOR, -1 - LAYOUT_BYID, 1, INDEX_ERR_FORMAT, "checksum"},
        {"truncated 1", CUT, 0, 1, INDEX_ERR_FORMAT, "truncated"},
        {"truncated 64", CUT, 0, 64, INDEX_ERR_FORMAT, "truncated"},
        {"truncated header", KEEP, 0, 100, INDEX_ERR_FORMAT, "less than the header"},
        {"empty", KEEP, 0, 0, INDEX_ERR_FORMAT, "empty file"},
        {"trailing", APPEND, 0, 64, INDEX_ERR_FORMAT, "trailing bytes"},
    };
    size_t n = 300, len;
    uint32_t dim = 70;
    float *v = make_vecs(n, dim, 0, 0, 51);
    int64_t *ids = make_ids(n);
    struct index *ix = build("good.idx", "look", v, ids, n, dim);
    unsigned char *good = slurp(tmp_path("good.idx"), &len), *bad;
    const char *path = tmp_path("bad.idx");
    struct err e;

    REQUIRE(ix != NULL && good != NULL && len > 0);
    REQUIRE(layout_compute(dim, 64, n, &lay, &e) == 0);
    bad = malloc(len + 4096);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t blen = len, off = (size_t)cases[c].off;
        struct index *b = NULL;
        int rc;

        memcpy(bad, good, len);
        if (cases[c].off < 0)
            off = lay.off[-1 - cases[c].off] + 5;
        if (cases[c].op == XOR) {
            bad[off] ^= (unsigned char)cases[c].val;
        } else if (cases[c].op == SET32) {
            put32(bad, off, (uint32_t)cases[c].val);
        } else if (cases[c].op == SET64) {
            put64(bad, off, (uint64_t)cases[c].val);
        } else if (cases[c].op == ADD64) {
            uint64_t was;

            memcpy(&was, good + off, 8);
            put64(bad, off, was + (uint64_t)cases[c].val);
        } else if (cases[c].op == FILL16 || cases[c].op == FILL64) {
            memset(bad + off, (int)cases[c].val, cases[c].op == FILL16 ? 16 : 64);
        } else if (cases[c].op == CUT) {
            blen = len - (size_t)cases[c].val;
        } else if (cases[c].op == KEEP) {
            blen = (size_t)cases[c].val;
        } else {
            memset(bad + len, 0, (size_t)cases[c].val);
            blen = len + (size_t)cases[c].val;
        }
        spit(path, bad, blen);
        rc = index_open(path, "look", &b, &e);
        if (rc != cases[c].rc || strstr(e.msg, cases[c].msg) == NULL ||
            strncmp(e.msg, path, strlen(path)) != 0)
            check_fail(__FILE__, __LINE__, "%s: rc %d, message '%s'", cases[c].what, rc, e.msg);
        CHECK(b == NULL);
        index_close(b);
    }
    free(bad);
    free(good);
    index_close(ix);
    free(ids);
    free(v);
}

static void test_refused_opens(void)
{
    size_t n = 300, len;
    uint32_t dim = 70;
    float *v = make_vecs(n, dim, 0, 0, 61);
    int64_t *ids = make_ids(n);
    struct index *ix = build("ok.idx", "look", v, ids, n, dim), *b = NULL;
    unsigned char *img;
    struct layout lay;
    struct err e;

    REQUIRE(ix != NULL);
    index_close(ix);
    CHECK_INT(index_open(tmp_path("ok.idx"), "identity", &b, &e), INDEX_ERR_MISMATCH);
    CHECK(strstr(e.msg, "space 'look', expected 'identity'") != NULL);
    CHECK_INT(index_open(tmp_path("missing.idx"), NULL, &b, &e), INDEX_ERR_IO);
    CHECK(strstr(e.msg, "missing.idx: No such file") != NULL);
    CHECK_INT(index_open(check_tmpdir(), NULL, &b, &e), INDEX_ERR_IO);
    CHECK(strstr(e.msg, "not a regular file") != NULL);
    /* A flipped byte among the vectors passes the open-time check; index_verify finds it. */
    img = slurp(tmp_path("ok.idx"), &len);
    REQUIRE(img != NULL && layout_compute(dim, 64, n, &lay, &e) == 0);
    for (int s = LAYOUT_HEAD; s <= LAYOUT_VEC; s++) {
        unsigned char *copy = slurp(tmp_path("ok.idx"), &len);

        copy[lay.off[s] + lay.size[s] / 2] ^= 0x10;
        spit(tmp_path("payload.idx"), copy, len);
        free(copy);
        REQUIRE(index_open(tmp_path("payload.idx"), "look", &b, &e) == INDEX_OK);
        CHECK_INT(index_verify(b, &e), INDEX_ERR_FORMAT);
        CHECK(strstr(e.msg, "payload.idx: checksum mismatch in the vectors") != NULL);
        index_close(b);
    }
    /* index_open_mem wants the alignment the kernels and arrays rely on. */
    {
        unsigned char *al = aligned_alloc(64, (len + 64 + 63) / 64 * 64);

        memcpy(al + 1, img, len);
        CHECK_INT(index_open_mem(al + 1, len, NULL, &b, &e), INDEX_ERR_INPUT);
        memcpy(al, img, len);
        CHECK_INT(index_open_mem(al, len, "look", &b, &e), INDEX_OK);
        CHECK_INT(index_verify(b, &e), INDEX_OK);
        index_close(b);
        free(al);
    }
    free(img);
    free(ids);
    free(v);
}

static void test_write_errors(void)
{
    enum { UNIT, NAN_V, DUP, NEG, SPACE, LONG_SPACE, DIM0, DIM_BIG, NO_DIR };
    static const struct {
        int what;
        int rc;
        const char *msg;
    } cases[] = {
        {UNIT, INDEX_ERR_INPUT, "row 3: vector length 2"},
        {NAN_V, INDEX_ERR_INPUT, "row 5: vector length nan"},
        {DUP, INDEX_ERR_INPUT, "appears twice (rows 2 and 7)"},
        {NEG, INDEX_ERR_INPUT, "row 4: id -9 is negative"},
        {SPACE, INDEX_ERR_INPUT, "space name empty"},
        {LONG_SPACE, INDEX_ERR_INPUT, "space name empty or longer"},
        {DIM0, INDEX_ERR_INPUT, "dimension 0"},
        {DIM_BIG, INDEX_ERR_INPUT, "dimension 5000"},
        {NO_DIR, INDEX_ERR_IO, "cannot create"},
    };

    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t n = 10;
        uint32_t dim = 8;
        float *v = make_vecs(n, dim, 0, 0, 71);
        int64_t *ids = make_ids(n);
        struct index_meta m = {"look", "m", dim, n};
        const char *path = tmp_path(cases[c].what == NO_DIR ? "nodir/x.idx" : "w.idx");
        struct stat st;
        struct err e;
        int rc;

        if (cases[c].what == UNIT)
            for (uint32_t i = 0; i < dim; i++)
                v[3 * dim + i] *= 2;
        if (cases[c].what == NAN_V)
            v[5 * dim + 1] = NAN;
        if (cases[c].what == DUP)
            ids[7] = ids[2];
        if (cases[c].what == NEG)
            ids[4] = -9;
        if (cases[c].what == SPACE)
            m.space[0] = '\0';
        if (cases[c].what == LONG_SPACE)
            memset(m.space, 'a', sizeof m.space);
        if (cases[c].what == DIM0)
            m.dim = 0;
        if (cases[c].what == DIM_BIG)
            m.dim = 5000;
        rc = index_write(path, &m, v, ids, &e);
        if (rc != cases[c].rc || strstr(e.msg, cases[c].msg) == NULL ||
            strncmp(e.msg, path, strlen(path)) != 0)
            check_fail(__FILE__, __LINE__, "case %zu: rc %d, message '%s'", c, rc, e.msg);
        CHECK(stat(path, &st) != 0);
        free(ids);
        free(v);
    }
}

static void test_query_errors(void)
{
    float *v = make_vecs(50, 16, 0, 0, 81), q[16];
    int64_t *ids = make_ids(50);
    struct index *ix = build("q.idx", "look", v, ids, 50, 16);
    struct index_hit a[5], b[5];
    struct err e;
    size_t na, nb;

    REQUIRE(ix != NULL);
    memset(q, 0, sizeof q);
    CHECK_INT(index_search(ix, q, 5, INDEX_NO_ID, 1, a, &na, &e), INDEX_ERR_INPUT);
    CHECK(strstr(e.msg, "no direction") != NULL);
    q[3] = NAN;
    CHECK_INT(index_search(ix, q, 5, INDEX_NO_ID, 1, a, &na, &e), INDEX_ERR_INPUT);
    CHECK(strstr(e.msg, "element 3") != NULL);
    q[3] = INFINITY;
    CHECK_INT(index_search(ix, q, 5, INDEX_NO_ID, 1, a, &na, &e), INDEX_ERR_INPUT);
    for (int i = 0; i < 16; i++)
        q[i] = v[16 + i] * 3;
    CHECK_INT(index_search(ix, q, 5, INDEX_NO_ID, 1, a, &na, &e), INDEX_OK);
    CHECK_INT(index_search(ix, v + 16, 5, INDEX_NO_ID, 1, b, &nb, &e), INDEX_OK);
    CHECK_INT(na, nb);
    for (size_t j = 0; j < na && j < nb; j++) {
        CHECK_INT(a[j].row, b[j].row);
        CHECK_NEAR(a[j].score, b[j].score, 1e-6);
    }
    index_close(ix);
    free(ids);
    free(v);
}

/* ---- kernels, pruning, threads -------------------------------------------------------- */

static void test_kernels_vs_scalar(void)
{
    static const size_t widths[] = {64, 128, 192, 512, 1024, 4096};
    static const size_t counts[] = {1, 3, 4, 7, 257};
    const struct dot_kernel *ref = dot_kernel_find("scalar");
    const char *const *names = index_kernel_list();
    int8_t *x = malloc(257 * 4096), *q = malloc(4096);
    int32_t want[257], got[257];

    REQUIRE(ref != NULL);
    rng = 91;
    for (int extreme = 0; extreme < 3; extreme++) {
        for (size_t i = 0; i < 257 * 4096; i++)
            x[i] = extreme == 0 ? (int8_t)(uniform() * 256 - 128) : extreme == 1 ? -128 : 127;
        for (size_t i = 0; i < 4096; i++)
            q[i] = extreme == 0   ? (int8_t)(uniform() * 255 - 127)
                   : extreme == 1 ? 127
                                  : (i & 1 ? 127 : -127);
        for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++) {
            for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
                struct dot_query dq;

                dot_query_init(&dq, q, widths[w]);
                ref->rows(&dq, x, counts[c], want);
                for (size_t k = 0; names[k] != NULL; k++) {
                    dot_kernel_find(names[k])->rows(&dq, x, counts[c], got);
                    if (memcmp(want, got, counts[c] * sizeof want[0]) != 0)
                        check_fail(__FILE__, __LINE__, "kernel %s, width %zu, %zu rows", names[k],
                                   widths[w], counts[c]);
                }
            }
        }
    }
    printf("    kernels here:");
    for (size_t k = 0; names[k] != NULL; k++)
        printf(" %s", names[k]);
    printf(" (searches use %s)\n", index_kernel_name());
    CHECK_INT(index_set_kernel("no-such"), INDEX_ERR_INPUT);
    free(q);
    free(x);
}

static void test_search_per_kernel(void)
{
    size_t n = 3000;
    uint32_t dim = 200;
    float *v = make_vecs(n, dim, 10, 0.2, 101), q[200];
    int64_t *ids = make_ids(n);
    struct index *ix = build("kern.idx", "look", v, ids, n, dim);
    const char *const *names = index_kernel_list();
    struct index_hit want[10], got[10];
    struct err e;
    size_t nw, ng;

    REQUIRE(ix != NULL);
    for (int t = 0; t < 5; t++) {
        near_query(v, (size_t)t * 101, dim, 0.5, q);
        REQUIRE(index_set_kernel("scalar") == INDEX_OK);
        CHECK_INT(index_search(ix, q, 10, INDEX_NO_ID, 1, want, &nw, &e), INDEX_OK);
        for (size_t k = 0; names[k] != NULL; k++) {
            CHECK_INT(index_set_kernel(names[k]), INDEX_OK);
            CHECK_STR(index_kernel_name(), names[k]);
            CHECK_INT(index_search(ix, q, 10, INDEX_NO_ID, 1, got, &ng, &e), INDEX_OK);
            CHECK(ng == nw && memcmp(want, got, nw * sizeof want[0]) == 0);
        }
    }
    CHECK_INT(index_set_kernel("auto"), INDEX_OK);
    index_close(ix);
    free(ids);
    free(v);
}

static void test_pruning_exact(void)
{
    size_t n = 20000, rows = 0, tails = 0;
    uint32_t dim = 256;
    float *v = make_vecs(n, dim, 16, 0.1, 111), q[256];
    int64_t *ids = make_ids(n);
    struct index *ix = build("prune.idx", "look", v, ids, n, dim);
    struct index_hit a[25], b[25];
    struct err e;

    REQUIRE(ix != NULL);
    for (int t = 0; t < 20; t++) {
        struct index_stats sa, sb;
        size_t na, nb, k = t % 2 ? 10 : 25;

        near_query(v, (size_t)t * 997, dim, t < 10 ? 0.3 : 2.0, q);
        CHECK_INT(index_search_ex(ix, q, k, ids[t * 997], 1, 0, a, &na, &sa, &e), INDEX_OK);
        CHECK_INT(index_search_ex(ix, q, k, ids[t * 997], 1, INDEX_SEARCH_FULL, b, &nb, &sb, &e),
                  INDEX_OK);
        CHECK(na == nb && memcmp(a, b, na * sizeof a[0]) == 0);
        CHECK_INT(sb.tail_rows, n);
        CHECK_INT(sa.rows, n);
        CHECK_INT(sa.reranked, sb.reranked);
        rows += sa.rows;
        tails += sa.tail_rows;
    }
    printf("    pruning read the tails of %.2f%% of the rows\n", 100.0 * tails / rows);
    CHECK(tails * 10 < rows);
    index_close(ix);
    free(ids);
    free(v);
}

static void test_threads_agree(void)
{
    static const int threads[] = {2, 3, 8, 64, 1000, 0, -1};
    size_t n = 100000;
    uint32_t dim = 72;
    float *v = make_vecs(n, dim, 12, 0.1, 121), q[72];
    int64_t *ids = make_ids(n);
    struct index *ix = build("threads.idx", "look", v, ids, n, dim);
    struct index_hit want[10], got[10];
    struct err e;
    size_t nw, ng;

    REQUIRE(ix != NULL);
    for (int t = 0; t < 5; t++) {
        near_query(v, (size_t)t * 19997, dim, 1.0, q);
        CHECK_INT(index_search(ix, q, 10, ids[t], 1, want, &nw, &e), INDEX_OK);
        for (size_t i = 0; i < sizeof threads / sizeof threads[0]; i++) {
            CHECK_INT(index_search(ix, q, 10, ids[t], threads[i], got, &ng, &e), INDEX_OK);
            CHECK(ng == nw && memcmp(want, got, nw * sizeof want[0]) == 0);
        }
    }
    index_close(ix);
    free(ids);
    free(v);
}

struct worker {
    const struct index *ix;
    const float *v;
    uint32_t dim;
    int ok;
};

static void *search_worker(void *arg)
{
    struct worker *w = arg;

    w->ok = 1;
    for (int r = 0; r < 50; r++) {
        struct index_hit a[10], b[10];
        struct err e;
        size_t na, nb;
        const float *q = w->v + (size_t)(r % 7) * w->dim;

        index_search(w->ix, q, 10, INDEX_NO_ID, 1, a, &na, &e);
        index_search(w->ix, q, 10, INDEX_NO_ID, 2, b, &nb, &e);
        if (na != nb || memcmp(a, b, na * sizeof a[0]) != 0 || a[0].score < 0.9999f)
            w->ok = 0;
    }
    return NULL;
}

static void test_concurrent(void)
{
    size_t n = 2000;
    uint32_t dim = 64;
    float *v = make_vecs(n, dim, 0, 0, 131);
    int64_t *ids = make_ids(n);
    struct index *ix = build("conc.idx", "look", v, ids, n, dim);
    struct worker w[4];
    pthread_t t[4];

    REQUIRE(ix != NULL);
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){ix, v, dim, 0};
        pthread_create(&t[i], NULL, search_worker, &w[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK(w[i].ok);
    }
    index_close(ix);
    free(ids);
    free(v);
}

/* The largest deviation from orthonormality of the rotation the vectors hv define. */
static double orthonormality(const float *hv, uint32_t head, uint32_t dim)
{
    float *m = calloc((size_t)dim * dim, sizeof(float));
    double worst = 0;

    for (uint32_t i = 0; i < dim; i++) {
        m[(size_t)i * dim + i] = 1;
        basis_rotate(hv, head, dim, m + (size_t)i * dim, m + (size_t)i * dim);
    }
    for (uint32_t i = 0; i < dim; i++) {
        for (uint32_t j = 0; j < dim; j++) {
            double s = 0;

            for (uint32_t c = 0; c < dim; c++)
                s += (double)m[(size_t)i * dim + c] * m[(size_t)j * dim + c];
            worst = fmax(worst, fabs(s - (i == j)));
        }
    }
    free(m);
    return worst;
}

static void test_basis(void)
{
    size_t n = 5000;
    uint32_t dim = 160, head = 64;
    float *v = make_vecs(n, dim, 10, 0.05, 141), *hv = malloc(head * dim * sizeof(float));
    float *rows = malloc(100 * dim * sizeof(float)), y[160];
    double worst, energy = 0, apart = 0;

    basis_compute(v, n, dim, head, hv);
    worst = orthonormality(hv, head, dim);
    for (size_t r = 0; r < n; r += 10) {
        basis_rotate(hv, head, dim, v + r * dim, y);
        for (uint32_t i = 0; i < head; i++)
            energy += (double)y[i] * y[i];
    }
    energy /= (double)(n / 10);
    basis_rotate_rows(hv, head, dim, v, 100, rows);
    for (size_t r = 0; r < 100; r++) {
        basis_rotate(hv, head, dim, v + r * dim, y);
        for (uint32_t i = 0; i < dim; i++)
            apart = fmax(apart, fabs(y[i] - rows[r * dim + i]));
    }
    printf("    basis: orthonormal to %.1e, head holds %.1f%% of the energy, row and block "
           "rotations agree to %.1e\n",
           worst, 100 * energy, apart);
    CHECK(worst < 1e-5);
    CHECK(energy > 0.95);
    CHECK(apart < 1e-5);
    basis_compute(v, 30, dim, head, hv); /* fewer rows than head: still orthonormal */
    CHECK(orthonormality(hv, head, dim) < 1e-5);
    free(rows);
    free(hv);
    free(v);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"round_trip", test_round_trip},
        {"search_vs_brute", test_search_vs_brute},
        {"exclude", test_exclude},
        {"k_beyond_count", test_k_beyond_count},
        {"rank_pct", test_rank_pct},
        {"corrupt_files", test_corrupt_files},
        {"refused_opens", test_refused_opens},
        {"write_errors", test_write_errors},
        {"query_errors", test_query_errors},
        {"kernels_vs_scalar", test_kernels_vs_scalar},
        {"search_per_kernel", test_search_per_kernel},
        {"pruning_exact", test_pruning_exact},
        {"threads_agree", test_threads_agree},
        {"concurrent", test_concurrent},
        {"basis", test_basis},
    };

    return check_main("index", cases, sizeof cases / sizeof cases[0], argc, argv);
}
