/*
 * fuzz_web: libFuzzer target over the web app's request handling: routing, id and k
 * parsing, every page and API answer (HTML and JSON writers, name and title search with
 * arbitrary bytes) and the upload path, over a small data folder made at start-up (four
 * people, one with a hostile name, three photos, a title, a look index). The input is a
 * method byte (its bit 5 sets --hotlink), a path line, a query line ("a=b&c=d", no decoding) and
 * the upload's bytes. Oracles: a known status, and no "<script" in any HTML answer but the page's
 * own script tags, so a value that escapes the template writer is a crash. Seeds: fuzz/seeds.sh
 * (corpus-web).
 */
#include "catalog/catalog.h"
#include "index/index.h"
#include "util/fs.h"
#include "web/priv.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct web_state state;
static struct web_opts opts;
static char dir[64] = "/tmp/doppel-fuzz-web-XXXXXX";

static void make_data(void)
{
    static const char *const names[4] = {"Keanu Reeves", "<script>alert(1)</script> \"&'",
                                         "Penélope Cruz", "Tom Hanks"};
    struct catalog_title t = {0};
    struct index_meta m = {"look", "fuzz", 8, 4};
    struct catalog *c = NULL;
    int64_t ids[4], tid;
    float v[32];
    char path[128];
    struct err e;

    if (mkdtemp(dir) == NULL)
        abort();
    snprintf(path, sizeof path, "%s/catalog.db", dir);
    if (catalog_open(path, CATALOG_OPEN_CREATE, &c, &e) != CATALOG_OK)
        abort();
    for (int i = 0; i < 4; i++) {
        struct catalog_person p = {0};

        snprintf(p.name, sizeof p.name, "%s", names[i]);
        if (catalog_person_upsert(c, &p, &ids[i], NULL, &e) != CATALOG_OK)
            abort();
    }
    /* Photos: one where the TMDB crawler saves them, one on TMDB's CDN, one local
     * file that is not there, for the photo URLs with and without --hotlink. */
    for (int i = 0; i < 3; i++) {
        static const char *const src[3] = {"/d/photos/tmdb/31/1_ab<c>.jpg",
                                           "https://image.tmdb.org/t/p/h632/x\"y.jpg",
                                           "/d/photos/tmdb/31/1_kU3B75TyRiCg.jpg"};
        struct catalog_photo ph;
        int64_t pid;
        int created;

        memset(&ph, 0, sizeof ph);
        ph.person_id = ids[i == 2 ? 2 : i];
        snprintf(ph.source, sizeof ph.source, "%s", src[i]);
        memset(ph.sha256, 'a' + i, 64);
        ph.status = CATALOG_PHOTO_OK;
        ph.faces = 1;
        ph.female = -1;
        if (catalog_photo_add(c, &ph, &pid, &created, &e) != CATALOG_OK)
            abort();
    }
    snprintf(t.title, sizeof t.title, "<b>The</b> \"Matrix\"");
    t.year = 1999;
    if (catalog_title_upsert(c, &t, &tid, NULL, &e) != CATALOG_OK)
        abort();
    for (int i = 0; i < 4; i++) {
        struct catalog_credit cr = {ids[i], tid, "<i>Neo</i>", i + 1, 0};

        catalog_credit_put(c, &cr, NULL, &e);
    }
    catalog_close(c);
    for (int r = 0; r < 4; r++) { /* four unit vectors */
        float norm = 0;

        for (int i = 0; i < 8; i++) {
            v[r * 8 + i] = (float)((r * 8 + i) * 7 % 11 + 1);
            norm += v[r * 8 + i] * v[r * 8 + i];
        }
        for (int i = 0; i < 8; i++)
            v[r * 8 + i] /= sqrtf(norm);
    }
    snprintf(path, sizeof path, "%s/index", dir);
    fs_mkdir_p(path, &e);
    snprintf(path, sizeof path, "%s/index/look.idx", dir);
    if (index_write(path, &m, v, ids, &e) != INDEX_OK) {
        fprintf(stderr, "fuzz_web: %s\n", e.msg);
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct err e;

    (void)argc, (void)argv;
    make_data();
    opts.data_dir = dir;
    pthread_mutex_init(&state.mu, NULL);
    if (web_snap_open(&opts, 1, 1, &state.cur, &e) != WEB_OK)
        abort();
    return 0;
}

/* The query line: "a=b&c=d", looked up by name. */
static const char *fuzz_arg(void *ctx, const char *name)
{
    static char value[512];
    const char *q = ctx;
    size_t n = strlen(name);

    while (q != NULL && *q) {
        const char *amp = strchr(q, '&'), *end = amp ? amp : q + strlen(q);

        if ((size_t)(end - q) > n && strncmp(q, name, n) == 0 && q[n] == '=') {
            size_t len = (size_t)(end - q) - n - 1;

            len = len < sizeof value - 1 ? len : sizeof value - 1;
            memcpy(value, q + n + 1, len);
            value[len] = '\0';
            return value;
        }
        q = amp ? amp + 1 : NULL;
    }
    return NULL;
}

/* Aborts when an HTML body has a <script that is not one of the page's own tags. */
static void check_html(const char *body)
{
    for (const char *p = strstr(body, "<script"); p != NULL; p = strstr(p + 1, "<script"))
        if (strncmp(p, "<script src=\"/static/", 21) != 0 &&
            strncmp(p, "<script src=\"\"", 14) != 0)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const methods[4] = {"GET", "POST", "HEAD", "PUT"};
    char *text, *path, *query, *nl;
    struct web_req r = {0};
    struct web_resp resp;
    struct arena arena;

    if (size < 2 || size > 4096)
        return 0;
    text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    path = text;
    nl = strchr(path, '\n');
    query = nl ? nl + 1 : NULL;
    if (nl)
        *nl = '\0';
    nl = query ? strchr(query, '\n') : NULL;
    if (nl)
        *nl = '\0';
    r.method = methods[data[0] & 3];
    r.path = path;
    r.hx = data[0] >> 2 & 1;
    r.hx_suggest = data[0] >> 3 & 1;
    opts.hotlink = data[0] >> 5 & 1;
    r.arg = fuzz_arg;
    r.ctx = query;
    r.opts = &opts;
    r.state = &state;
    if (nl != NULL && (data[0] & 16)) {
        r.upload = (const unsigned char *)nl + 1;
        r.upload_len = strlen(nl + 1);
    }
    memset(&resp, 0, sizeof resp);
    resp.status = 200;
    resp.type = "text/html";
    buf_init(&resp.body, WEB_BODY_MAX);
    arena_init(&arena, 0);
    r.arena = &arena;
    r.snap = web_snap_acquire(&state);
    web_route(&r, &resp);
    web_snap_release(&state, r.snap);
    arena_release(&arena);
    if (resp.status < 200 || resp.status > 599)
        abort();
    if (strncmp(resp.type, "text/html", 9) == 0)
        check_html(buf_str(&resp.body));
    buf_release(&resp.body);
    free(text);
    return 0;
}
