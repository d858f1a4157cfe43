/*
 * query: the one search entry point callers use, choosing between the exact scan and the
 * attached graph.
 *
 * The graph answers unless the caller forces a scan (INDEX_SEARCH_EXACT, `--exact`) or no
 * graph is attached (small catalogues, where the scan is fast enough and exact). A filter
 * with the exact scan goes to a plain scan of the allowed rows (the pruned scan has no
 * filter), which reads each allowed row's whole int8 copy.
 */
#include "index/hnsw.h"
#include "index/index.h"
#include "index/layout.h"

void index_attach_hnsw(struct index *ix, struct hnsw *g)
{
    hnsw_free(ix->hnsw);
    ix->hnsw = g;
}

const struct hnsw *index_get_hnsw(const struct index *ix)
{
    return ix->hnsw;
}

int index_query(const struct index *ix, const float *query, const struct index_query *q,
                struct index_hit *out, size_t *n_out, struct index_stats *st, struct err *e)
{
    if (ix->hnsw != NULL && !(q->flags & INDEX_SEARCH_EXACT))
        return hnsw_search(ix->hnsw, query, q, out, n_out, st, e);
    if (q->allow != NULL)
        return hnsw_scan_allowed(ix, query, q, out, n_out, st, e);
    return index_search_ex(ix, query, q->k, q->exclude, q->threads > 0 ? q->threads : 1,
                           q->flags & INDEX_SEARCH_FULL, out, n_out, st, e);
}
