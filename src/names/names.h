/*
 * names: find a person by a typed, half-remembered, misspelled name.
 *
 * An immutable in-memory index over every name in the catalogue (406k in the seed
 * system), built once at start-up and shared read-only by all threads; a new catalogue
 * means a new index swapped in whole. Two paths, as the seed system has, but faster and
 * more forgiving:
 *   - prefix: the query is a prefix of the full name or of any word in it ("chas" finds
 *     Jessica Chastain), ranked by popularity then by length, by binary search over the
 *     sorted name suffixes that start at a word;
 *   - fuzzy: names whose words share enough character trigrams with the query are
 *     scored with WRatio (names/ratio.h), the NAMES_CANDIDATES of best estimated score;
 *     those at or above the cut-off are kept, best first. A query that is a whole name
 *     takes this from the name's precomputed list when the index has them
 *     (names/lists.h), with the same answers; a query one edit from some name scores
 *     only those names and their lists.
 * Both compare normalised forms (names/normalize.h), so accents and case do not matter.
 */
#ifndef DOPPEL_NAMES_H
#define DOPPEL_NAMES_H

#include "util/err.h"

#include <stddef.h>
#include <stdint.h>

enum names_rc {
    NAMES_OK = 0,
    NAMES_ERR_QUERY, /* invalid UTF-8 or longer than NAMES_QUERY_MAX bytes */
    NAMES_ERR_INPUT, /* a names file could not be read or holds invalid UTF-8 */
};

#define NAMES_QUERY_MAX   256
#define NAMES_CUTOFF      60
#define NAMES_CANDIDATES  500 /* names scored by a fuzzy query, at most */
#define NAMES_NEAR_MIN    8   /* code points a query needs to be answered from names near it */

enum names_mode {
    NAMES_MODE_AUTO = 0, /* prefix hits first, then fuzzy hits to fill up to k */
    NAMES_MODE_PREFIX,
    NAMES_MODE_FUZZY,
};

struct names_index;

struct names_hit {
    uint32_t row;  /* position in the index (the order names were given) */
    int score;     /* WRatio of the query and the name, 0..100 */
    int prefix;    /* 1 when found by prefix */
};

/* Builds an index over n names (UTF-8) with their popularity (NULL: all equal). Names
 * that are not valid UTF-8 are kept for display but never match. Caller frees *out with
 * names_index_free. */
int names_index_build(const char *const *names, const double *popularity, size_t n,
                      struct names_index **out, struct err *e);

/* Builds an index from a file with one name per line, optionally "name<TAB>popularity". */
int names_index_load_file(const char *path, struct names_index **out, struct err *e);

/* Frees the index; ix may be NULL. */
void names_index_free(struct names_index *ix);

/* Returns the number of names. */
size_t names_index_count(const struct names_index *ix);

/* Returns the display name of a row; borrowed, valid while ix lives. */
const char *names_index_name(const struct names_index *ix, uint32_t row);

/* Asks the cache for where row's display name is kept, so that a caller about to read
 * many scattered rows' names has the misses overlap. */
void names_index_prefetch(const struct names_index *ix, uint32_t row);

/* Returns the popularity of a row. */
double names_index_popularity(const struct names_index *ix, uint32_t row);

/* The normalised name of a row as code points (at most RATIO_MAX_LEN, names/ratio.h) into
 * buf; returns how many (0 for a name that is not valid UTF-8). */
size_t names_index_codepoints(const struct names_index *ix, uint32_t row, uint32_t *buf);

/* A digest of the names as they are searched: normalised forms and popularities, in row
 * order. Files made from an index (names/lists.h) record it. */
uint64_t names_index_digest(const struct names_index *ix);

struct names_lists;

/* Makes AUTO searches for a whole name take their fuzzy fill from nl, which must have been
 * made from these names (names_lists_open checks), borrowed until replaced; NULL stops.
 * Call it before the index is shared between threads. */
void names_index_use_lists(struct names_index *ix, const struct names_lists *nl);

/* Searches for query (qlen bytes): at most k hits into hits (caller-sized k), best first,
 * count into *nhits. cutoff applies to fuzzy hits (NAMES_CUTOFF is the seed's). An empty
 * query gives no hits. Safe to call from many threads at once: the only state a search
 * touches is the index's pool of scratch arrays, which has its own lock. */
int names_search(const struct names_index *ix, const char *query, size_t qlen, int k, int cutoff,
                 enum names_mode mode, struct names_hit *hits, size_t *nhits, struct err *e);

#endif
