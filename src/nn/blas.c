/*
 * blas: a thin wrapper over cblas_sgemm (OpenBLAS).
 */
#include "nn/blas.h"

#include <cblas.h>

void nn_sgemm(int ta, int tb, int m, int n, int k, const float *a, const float *b, float *c,
              int accumulate)
{
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m,
                n, k, 1.0f, a, ta ? m : k, b, tb ? k : n, accumulate ? 1.0f : 0.0f, c, n);
}

void nn_sgemm_ld(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                 const float *b, int ldb, float *c, int ldc, int accumulate)
{
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m,
                n, k, alpha, a, lda, b, ldb, accumulate ? 1.0f : 0.0f, c, ldc);
}

void nn_blas_set_threads(int n)
{
    openblas_set_num_threads(n);
}
