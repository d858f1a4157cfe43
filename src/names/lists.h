/*
 * lists: every name's fuzzy neighbours, found once when the index is built.
 *
 * A search for a full name ("Tom Hanks", the name an autocomplete suggestion or a
 * bookmarked URL sends) finds the name by prefix and then fills the rest of the k answers
 * with the fuzzy path, the expensive one (about 0.2 ms over 406k names). That fill depends
 * only on the normalised name, so `doppel index build` runs it once per name and keeps the
 * first NAMES_LIST_K answers here; names_search then takes the fill from the list and
 * returns exactly what the fuzzy path would have.
 *
 * The file (index/names.near) records a digest of the names it was made from (normalised
 * forms and popularities, in row order), so it is only used with those names. Like the
 * vector indexes' files it is written under a temporary name and renamed into place,
 * mapped read-only and validated at open (header, a checksum over the lists, every row in
 * range, every score from the cut-off to 100), so a corrupt file is refused with a message
 * and never read out of bounds.
 *
 * The file also holds a deletion index over the names, to find the names one edit from a
 * misspelled query in a few lookups (names_lists_near); their lists then hold most of what
 * the fuzzy path would answer for it.
 */
#ifndef DOPPEL_NAMES_LISTS_H
#define DOPPEL_NAMES_LISTS_H

#include "names/names.h"
#include "util/err.h"

#include <stddef.h>
#include <stdint.h>

#define NAMES_LIST_K     40  /* answers kept per name */
#define NAMES_LIST_K_MAX 256 /* the most a file may hold */
#define NAMES_NEAR_MAX_LEN 64 /* longer names (code points) are not in the deletion index */

enum names_lists_rc {
    NAMES_LISTS_OK = 0,
    NAMES_LISTS_ERR_INPUT,    /* bad k or an empty index */
    NAMES_LISTS_ERR_IO,       /* the file could not be read or written */
    NAMES_LISTS_ERR_FORMAT,   /* not a lists file, or corrupt */
    NAMES_LISTS_ERR_MISMATCH, /* made from other names */
};

struct names_lists;
struct progress;

/* Runs the fuzzy search (cut-off NAMES_CUTOFF) for every name of ix with k answers, on
 * threads threads, advancing progress (may be NULL) by the names done. Caller frees *out
 * with names_lists_free. */
int names_lists_build(const struct names_index *ix, uint32_t k, int threads,
                      struct progress *progress, struct names_lists **out, struct err *e);

/* Writes nl to path atomically (temporary file, fsync, rename). */
int names_lists_write(const struct names_lists *nl, const char *path, struct err *e);

/* Maps and validates the file at path, which must have been made from exactly ix's names.
 * Messages start with the path. */
int names_lists_open(const char *path, const struct names_index *ix, struct names_lists **out,
                     struct err *e);

/* The same over a file image in memory (len bytes at buf, 8-byte aligned), borrowed until
 * names_lists_free. For the fuzzer and tests. */
int names_lists_open_mem(const void *buf, size_t len, const struct names_index *ix,
                         struct names_lists **out, struct err *e);

void names_lists_free(struct names_lists *nl);

/* The file image; borrowed until names_lists_free. For tests and the fuzzer's seeds. */
const void *names_lists_image(const struct names_lists *nl, size_t *len);

/* Answers kept per name. */
uint32_t names_lists_k(const struct names_lists *nl);

/* Rows whose normalised name is one edit (a code point substituted, inserted or left out,
 * or two neighbours swapped) from the normalised string cp[0..n), or equal to it: at most
 * cap, each once, into out; returns how many. A rare hash collision may add another. */
size_t names_lists_near(const struct names_lists *nl, const uint32_t *cp, size_t n,
                        uint32_t *out, size_t cap);

/* Row's list: up to names_lists_k rows and their scores, best first; returns how many. */
size_t names_lists_get(const struct names_lists *nl, uint32_t row, const uint32_t **rows,
                       const uint8_t **scores);

#endif
