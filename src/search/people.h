/*
 * people: every person's card (name, TMDB id, best photo) held in memory, so that
 * describing a search hit reads no catalogue row. The web server describes about ten
 * hits a request, and two SQLite lookups a hit were a third of its time on
 * /api/similar. A snapshot: the cards are the people as they were when loaded, which is
 * what the server's snapshots promise (they are reloaded with the index).
 */
#ifndef DOPPEL_SEARCH_PEOPLE_H
#define DOPPEL_SEARCH_PEOPLE_H

#include "catalog/catalog.h"
#include "util/err.h"

#include <stdint.h>

struct people;

/* One person's card; the strings are borrowed from the struct people. */
struct people_card {
    int64_t id;
    int64_t tmdb_id; /* 0 = none */
    const char *name;
    const char *photo; /* the best ok photo's source, "" when none */
};

/* Loads every person of c (one pass over the people, one over their photos). Returns
 * CATALOG_OK or the catalogue's error. Caller frees with people_free. */
int people_load(struct catalog *c, struct people **out, struct err *e);

/* Frees p; p may be NULL. */
void people_free(struct people *p);

/* How many people p holds. */
size_t people_count(const struct people *p);

/* Person id's card into out; 0 when id was not in the catalogue when p was loaded. */
int people_get(const struct people *p, int64_t id, struct people_card *out);

/* Asks the cache for person id's entry (where people_get looks first), so that a caller
 * about to read many scattered people has the misses overlap. */
void people_prefetch(const struct people *p, int64_t id);

#endif
