/*
 * tensor: the n-dimensional arrays the runtime computes on. Dense, row-major (the last
 * dimension varies fastest, TensorFlow's NHWC for images), float32 or int32. A tensor
 * either owns its data or borrows it (model weights, caller input); nn_tensor_release
 * frees only what it owns.
 */
#ifndef DOPPEL_TENSOR_H
#define DOPPEL_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#define NN_MAX_DIMS 6

enum nn_dtype {
    NN_F32 = 0,
    NN_I32,
};

struct nn_tensor {
    int nd;
    int64_t shape[NN_MAX_DIMS];
    enum nn_dtype dtype;
    void *data;
    int owned;
};

/* Returns the number of elements (1 for a scalar). */
int64_t nn_numel(const struct nn_tensor *t);

/* Allocates an owned tensor of the given shape (contents undefined). */
void nn_tensor_alloc(struct nn_tensor *t, enum nn_dtype dtype, int nd, const int64_t *shape);

/* Makes t a borrowed view of src's data (same shape); src must outlive t. */
void nn_tensor_borrow(struct nn_tensor *t, const struct nn_tensor *src);

/* Makes t an owned copy of src. */
void nn_tensor_copy(struct nn_tensor *t, const struct nn_tensor *src);

/* Frees owned data and empties t; t may be NULL. */
void nn_tensor_release(struct nn_tensor *t);

/* Returns the float32 value of an IEEE 754 half-precision number. */
float nn_f16_to_f32(uint16_t h);

/* Returns 1 when a and b have the same shape. */
int nn_same_shape(const struct nn_tensor *a, const struct nn_tensor *b);

#endif
