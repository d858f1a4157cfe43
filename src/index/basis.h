/*
 * basis: the orthonormal basis an index stores its int8 copy in (internal to src/index).
 *
 * Face embeddings vary along far fewer directions than they have dimensions. Rotating
 * them so the first `head` coordinates span the directions of most energy (the leading
 * eigenvectors of the rows' second-moment matrix) leaves small tails, and small tails
 * make the search's Cauchy-Schwarz bound tight. Any orthonormal basis keeps dot
 * products, so a poor basis only costs pruning, never correctness.
 */
#ifndef DOPPEL_INDEX_BASIS_H
#define DOPPEL_INDEX_BASIS_H

#include <stddef.h>
#include <stdint.h>

/* Fills rot (dim x dim, row-major, caller-allocated; column i is basis vector i, so the
 * coordinates of x in the basis are x rot) with an orthonormal basis whose first head
 * vectors span, approximately, the head-dimensional subspace holding most of the energy
 * of vecs (count x dim, borrowed). head must be below dim; head 0 gives the identity.
 * Deterministic for the same input. */
void basis_compute(const float *vecs, size_t count, uint32_t dim, uint32_t head, float *rot);

#endif
