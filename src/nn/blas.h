/*
 * blas: the one door to matrix multiplication. Every matrix product in doppel goes
 * through nn_sgemm, so the BLAS library (OpenBLAS from Debian) and its threading are set
 * in one place.
 */
#ifndef DOPPEL_BLAS_H
#define DOPPEL_BLAS_H

/* C[m x n] = A[m x k] * B[k x n] (+ C when accumulate), all row-major and contiguous;
 * ta / tb: A or B is stored transposed (k x m, n x k). */
void nn_sgemm(int ta, int tb, int m, int n, int k, const float *a, const float *b, float *c,
              int accumulate);

/* C = alpha A B (+ C when accumulate) on strided row-major matrices: A is m x k (k x m
 * when ta) with rows lda floats apart, B is k x n (n x k when tb) with rows ldb apart,
 * C is m x n with rows ldc apart. For views into wider tensors (attention heads). */
void nn_sgemm_ld(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                 const float *b, int ldb, float *c, int ldc, int accumulate);

/* Sets BLAS's thread count once, before any work (1 where doppel runs its own workers). */
void nn_blas_set_threads(int n);

#endif
