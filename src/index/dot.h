/*
 * dot: int8 dot products of one query with many rows, the inner loop of index search
 * (internal to src/index).
 *
 * Every kernel returns the exact int32 sum of products, so they agree bit for bit and
 * tests compare each with the scalar reference. Rows and query are width bytes, width a
 * multiple of 64 (the index pads rows with zeros); query values lie in [-127, 127], row
 * values anywhere in [-128, 127]. Kernels: scalar (the reference, any CPU), avx2 and
 * avx512 (|x| times sign-adjusted q with maddubs, which cannot saturate with these
 * ranges), vnni (vpdpbusd on x + 128 as unsigned bytes, minus 128 x sum(q)). The widest
 * the CPU supports is chosen at first use (__builtin_cpu_supports).
 */
#ifndef DOPPEL_INDEX_DOT_H
#define DOPPEL_INDEX_DOT_H

#include <stddef.h>
#include <stdint.h>

/* A query prepared for the kernels. */
struct dot_query {
    const int8_t *q; /* width bytes, borrowed */
    size_t width;    /* multiple of 64 */
    int32_t bias;    /* 128 x sum(q), which the vnni kernel subtracts */
};

struct dot_kernel {
    const char *name;
    /* out[r] = sum_j x[r * width + j] * q[j] for r < n; x holds n rows of width bytes. */
    void (*rows)(const struct dot_query *dq, const int8_t *x, size_t n, int32_t *out);
};

/* Prepares dq over q (width bytes, borrowed until dq's last use). */
void dot_query_init(struct dot_query *dq, const int8_t *q, size_t width);

/* Returns the kernel searches use now (the best this CPU has unless forced). */
const struct dot_kernel *dot_kernel_get(void);

/* Returns the kernel of that name if this CPU can run it, else NULL; "auto" is the best. */
const struct dot_kernel *dot_kernel_find(const char *name);

/* Makes the named kernel current. Returns 0, or -1 (unknown name or CPU lacks it). */
int dot_kernel_set(const char *name);

/* Returns the names of the kernels this CPU can run, best last, NULL-terminated. */
const char *const *dot_kernel_names(void);

#endif
