/*
 * near: every person's look-alikes, found once when the index is built.
 *
 * "Who looks like this actor?" asks the same question of the same rows until the next
 * `doppel index build`, and on a large catalogue each answer is a graph search over
 * high-dimensional rows (about 1.5 ms at 406k x 1024). A near file keeps each row's top
 * NEAR_K answers of that very search (the graph, its default ef, the person excluded),
 * so a look-alike query of k <= NEAR_K without a filter is a lookup that returns what the
 * search would have returned, scores and ranks included.
 *
 * The file lives beside the index (index/<space>.near) and records the index's data
 * checksum, so it is only used with the rows it was made from. Like the graph it is
 * written under a temporary name and renamed into place, mapped read-only at open and
 * validated there (header, a checksum over the lists, every row in range), so a corrupt
 * file is refused with a message and never read out of bounds.
 */
#ifndef DOPPEL_INDEX_NEAR_H
#define DOPPEL_INDEX_NEAR_H

#include "index/index.h"
#include "util/err.h"

#include <stddef.h>
#include <stdint.h>

#define NEAR_K     32  /* answers kept per row */
#define NEAR_K_MAX 256 /* the most a file may hold */

struct near;
struct progress;

/* Searches every row of ix (which must have its graph attached) for its top k (1 ..
 * NEAR_K_MAX) other rows, on threads threads, advancing progress (may be NULL) by the
 * rows done. Caller frees *out with near_free. Returns INDEX_OK, INDEX_ERR_INPUT (bad k,
 * no graph) or a search's error. */
int near_build(const struct index *ix, uint32_t k, int threads, struct progress *progress,
               struct near **out, struct err *e);

/* Writes nl to path atomically (temporary file, fsync, rename). INDEX_OK or INDEX_ERR_IO. */
int near_write(const struct near *nl, const char *path, struct err *e);

/* Maps and validates the file at path, which must have been made from exactly ix's rows
 * (borrowed: must outlive the lists). Returns INDEX_OK, INDEX_ERR_IO, INDEX_ERR_FORMAT or
 * INDEX_ERR_MISMATCH; messages start with the path. */
int near_open(const char *path, const struct index *ix, struct near **out, struct err *e);

/* The same over a file image in memory (len bytes at buf, 8-byte aligned), borrowed until
 * near_free. For the fuzzer and tests. */
int near_open_mem(const void *buf, size_t len, const struct index *ix, struct near **out,
                  struct err *e);

void near_free(struct near *nl);

/* Answers kept per row. */
uint32_t near_k(const struct near *nl);

/* Row's top k (k <= near_k) as the graph search gave them, best first, into out; returns
 * how many (fewer than k only in a catalogue of fewer than k + 1 rows). */
size_t near_get(const struct near *nl, uint32_t row, size_t k, struct index_hit *out);

/* The file image; borrowed until near_free. For tests and the fuzzer's seeds. */
const void *near_image(const struct near *nl, size_t *len);

#endif
