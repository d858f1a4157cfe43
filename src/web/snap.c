/*
 * snap: the refcounted snapshots of open data behind the server.
 *
 * A snapshot owns one search handle per request thread (a catalogue handle is used by
 * one thread at a time) and one for photo queries; the mmap'd index files are shared by
 * the page cache, and the people's cards (search/people.h, so hits are described without
 * a lookup) by the handles. Requests take a reference under the state lock, which is
 * held for a pointer copy and an increment only, so loading a new snapshot (seconds for
 * a large name index) never blocks a request: it is built beside the old one and
 * swapped in.
 */
#include "web/priv.h"

#include "search/people.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static void snap_close(struct web_snap *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < s->npool; i++)
        search_close(s->pool[i]);
    search_close(s->photo);
    people_free(s->people);
    free(s->pool);
    free(s->free_slots);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->photo_mu);
    free(s);
}

int web_snap_open(const struct web_opts *o, int npool, int64_t generation, struct web_snap **out,
                  struct err *e)
{
    struct web_snap *s = xcalloc(1, sizeof *s);
    int rc = WEB_OK;

    *out = NULL;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_mutex_init(&s->photo_mu, NULL);
    s->refs = 1;
    s->generation = generation;
    s->pool = xcalloc((size_t)npool, sizeof *s->pool);
    s->free_slots = xcalloc((size_t)npool, sizeof *s->free_slots);
    for (int i = 0; i < npool && rc == WEB_OK; i++) {
        if (search_open(o->data_dir, NULL, 1, &s->pool[i], e) != SEARCH_OK)
            rc = WEB_ERR_DATA;
        else
            s->free_slots[s->nfree++] = s->npool++;
    }
    if (rc == WEB_OK && search_open(o->data_dir, o->models_dir, 0, &s->photo, e) != SEARCH_OK)
        rc = WEB_ERR_DATA;
    if (rc == WEB_OK) {
        s->names = search_names(s->pool[0], &s->name_ids, e);
        if (s->names == NULL)
            rc = WEB_ERR_DATA;
    }
    if (rc == WEB_OK && people_load(search_catalog(s->pool[0]), &s->people, e) != CATALOG_OK)
        rc = WEB_ERR_DATA;
    for (int i = 0; rc == WEB_OK && i < s->npool; i++)
        search_use_people(s->pool[i], s->people);
    if (rc == WEB_OK)
        search_use_people(s->photo, s->people);
    /* The home and about pages show the counts: a few COUNTs over 400k rows take
     * milliseconds, too long for every request, and they change with the data only. */
    if (rc == WEB_OK && catalog_stats(search_catalog(s->pool[0]), &s->stats, e) != CATALOG_OK)
        rc = WEB_ERR_DATA;
    if (rc != WEB_OK) {
        snap_close(s);
        return rc;
    }
    *out = s;
    return WEB_OK;
}

struct web_snap *web_snap_acquire(struct web_state *st)
{
    struct web_snap *s;

    pthread_mutex_lock(&st->mu);
    s = st->cur;
    s->refs++;
    pthread_mutex_unlock(&st->mu);
    return s;
}

void web_snap_release(struct web_state *st, struct web_snap *s)
{
    int last;

    if (s == NULL)
        return;
    pthread_mutex_lock(&st->mu);
    last = --s->refs == 0;
    pthread_mutex_unlock(&st->mu);
    if (last)
        snap_close(s);
}

struct search *web_snap_get(struct web_snap *s)
{
    struct search *h;

    pthread_mutex_lock(&s->mu);
    while (s->nfree == 0)
        pthread_cond_wait(&s->cv, &s->mu);
    h = s->pool[s->free_slots[--s->nfree]];
    pthread_mutex_unlock(&s->mu);
    /* One read transaction per use: a page's dozens of lookups take the lock once. A
     * failure here only costs that saving. */
    catalog_begin_read(search_catalog(h), NULL);
    return h;
}

void web_snap_put(struct web_snap *s, struct search *h)
{
    catalog_rollback(search_catalog(h));
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->npool; i++)
        if (s->pool[i] == h)
            s->free_slots[s->nfree++] = i;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

void web_snap_signature(const char *data_dir, long sig[WEB_SIG_LEN])
{
    /* The graph and the lists are written after the index: a reload when the index
     * changes would otherwise leave a server without them until the next change. */
    static const char *const files[WEB_SIG_LEN / 2] = {"look.idx",  "identity.idx",  "clip.idx",
                                                       "look.hnsw", "identity.hnsw", "clip.hnsw",
                                                       "look.near", "identity.near", "clip.near"};
    char path[4200];
    struct stat sb;

    for (int i = 0; i < WEB_SIG_LEN / 2; i++) {
        sig[2 * i] = sig[2 * i + 1] = 0;
        snprintf(path, sizeof path, "%s/index/%s", data_dir, files[i]);
        if (stat(path, &sb) == 0) {
            sig[2 * i] = (long)sb.st_ino;
            sig[2 * i + 1] = (long)sb.st_mtime ^ (long)sb.st_mtim.tv_nsec;
        }
    }
}
