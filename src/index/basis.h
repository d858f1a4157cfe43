/*
 * basis: the orthonormal basis an index stores its int8 copy in (internal to src/index).
 *
 * Face embeddings vary along far fewer directions than they have dimensions. Rotating
 * them so the first `head` coordinates span the directions of most energy (the leading
 * eigenvectors of the rows' second-moment matrix) leaves small tails, and small tails
 * make the search's Cauchy-Schwarz bound tight. Any orthonormal basis keeps dot
 * products, so a poor basis only costs pruning, never correctness. The basis is stored
 * as head Householder vectors (head x dim floats), not as a dim x dim matrix.
 */
#ifndef DOPPEL_INDEX_BASIS_H
#define DOPPEL_INDEX_BASIS_H

#include <stddef.h>
#include <stdint.h>

/* Fills hv (head x dim, caller-allocated) with head Householder vectors, each of unit
 * length or zero (no reflection), vector j zero before coordinate j, whose reflections
 * H_j = I - 2 v_j v_j^T together rotate the head-dimensional subspace holding most of the
 * energy of vecs (count x dim, borrowed) onto the first head coordinates: the coordinates
 * of x in the basis are H_{head-1} ... H_0 x. head must be below dim; head 0 writes
 * nothing (the identity). Deterministic for the same input. */
void basis_compute(const float *vecs, size_t count, uint32_t dim, uint32_t head, float *hv);

/* Rotates one vector: y = H_{head-1} ... H_0 x (dim floats each; y may be x). */
void basis_rotate(const float *hv, uint32_t head, uint32_t dim, const float *x, float *y);

/* Rotates n rows of x (n x dim) into y (n x dim), by three matrix products. */
void basis_rotate_rows(const float *hv, uint32_t head, uint32_t dim, const float *x, size_t n,
                       float *y);

#endif
