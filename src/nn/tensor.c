/*
 * tensor: allocation and the half-float conversion the weight loader needs.
 */
#include "nn/tensor.h"

#include "util/xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int64_t nn_numel(const struct nn_tensor *t)
{
    int64_t n = 1;

    for (int i = 0; i < t->nd; i++)
        n *= t->shape[i];
    return n;
}

void nn_tensor_alloc(struct nn_tensor *t, enum nn_dtype dtype, int nd, const int64_t *shape)
{
    t->nd = nd;
    for (int i = 0; i < nd; i++)
        t->shape[i] = shape[i];
    t->dtype = dtype;
    t->data = xmalloc((size_t)nn_numel(t) * 4);
    t->owned = 1;
}

void nn_tensor_borrow(struct nn_tensor *t, const struct nn_tensor *src)
{
    *t = *src;
    t->owned = 0;
}

void nn_tensor_copy(struct nn_tensor *t, const struct nn_tensor *src)
{
    nn_tensor_alloc(t, src->dtype, src->nd, src->shape);
    memcpy(t->data, src->data, (size_t)nn_numel(src) * 4);
}

void nn_tensor_release(struct nn_tensor *t)
{
    if (t == NULL)
        return;
    if (t->owned)
        free(t->data);
    t->data = NULL;
    t->owned = 0;
    t->nd = 0;
}

float nn_f16_to_f32(uint16_t h)
{
    int sign = h >> 15, exp = (h >> 10) & 31, man = h & 1023;
    float v;

    if (exp == 0)
        v = ldexpf((float)man, -24);
    else if (exp == 31)
        v = man ? NAN : INFINITY;
    else
        v = ldexpf((float)(man | 1024), exp - 25);
    return sign ? -v : v;
}

int nn_same_shape(const struct nn_tensor *a, const struct nn_tensor *b)
{
    if (a->nd != b->nd)
        return 0;
    for (int i = 0; i < a->nd; i++) {
        if (a->shape[i] != b->shape[i])
            return 0;
    }
    return 1;
}
