/*
 * safetensors: the weights format of Hugging Face checkpoints, read without copying.
 *
 * A file is an 8-byte little-endian header length N, N bytes of JSON mapping each tensor
 * name to {"dtype", "shape", "data_offsets": [begin, end]} (plus an optional
 * "__metadata__" object of strings), then the tensors' bytes, row-major, at those offsets
 * from the end of the header. A CLIP checkpoint is 350 MB to 1.7 GB, so the file is
 * memory-mapped and a tensor is decoded to float32 only when a model asks for it.
 * Files are untrusted: the header size is capped, every entry's dtype, rank and shape
 * is checked, its byte count must equal its element count times the dtype's size, and
 * no two tensors may overlap or leave the data section; anything else is an error that
 * names the tensor, never a crash.
 */
#ifndef DOPPEL_SAFETENSORS_H
#define DOPPEL_SAFETENSORS_H

#include "nn/tensor.h"
#include "util/err.h"

#include <stddef.h>
#include <stdint.h>

#define NN_ST_HEADER_MAX (64u << 20) /* bytes of header JSON */

/* The dtypes of the format; only F32, F16 and BF16 decode to float32. */
enum nn_st_dtype {
    NN_ST_BOOL = 0,
    NN_ST_U8,
    NN_ST_I8,
    NN_ST_F8_E5M2,
    NN_ST_F8_E4M3,
    NN_ST_I16,
    NN_ST_U16,
    NN_ST_F16,
    NN_ST_BF16,
    NN_ST_I32,
    NN_ST_U32,
    NN_ST_F32,
    NN_ST_F64,
    NN_ST_I64,
    NN_ST_U64,
};

/* One tensor of the file; data borrows the mapping. */
struct nn_st_tensor {
    char *name; /* owned */
    enum nn_st_dtype dtype;
    int nd;
    int64_t shape[NN_MAX_DIMS];
    const unsigned char *data;
    size_t size; /* bytes */
};

struct nn_safetensors {
    struct nn_st_tensor *t; /* owned, sorted by name */
    int n;
    char **meta; /* owned: key, value, key, value, ... of "__metadata__" */
    int nmeta;
    void *map; /* the file's mapping when opened from a path (owned), else NULL */
    size_t map_size;
};

/* Parses the n bytes at buf (borrowed: must outlive st) into st (zeroed here). Returns
 * NN_OK, or NN_ERR_FORMAT with e set. Release st with nn_safetensors_release either way. */
int nn_safetensors_parse(struct nn_safetensors *st, const void *buf, size_t n, struct err *e);

/* Maps the file at path and parses it into st (zeroed here). Returns NN_OK, NN_ERR_IO or
 * NN_ERR_FORMAT with e set (prefixed with path). Release st either way. */
int nn_safetensors_open(struct nn_safetensors *st, const char *path, struct err *e);

/* Unmaps and frees everything st holds; st may be NULL. */
void nn_safetensors_release(struct nn_safetensors *st);

/* Returns the tensor called name (borrowed from st), or NULL. */
const struct nn_st_tensor *nn_safetensors_find(const struct nn_safetensors *st, const char *name);

/* Returns the metadata value for key (borrowed from st), or NULL. */
const char *nn_safetensors_meta(const struct nn_safetensors *st, const char *key);

/* Decodes t (F32, F16 or BF16) into out, an owned float32 tensor of t's shape. Returns
 * NN_OK, or NN_ERR_FORMAT with e set for another dtype. */
int nn_safetensors_decode(const struct nn_st_tensor *t, struct nn_tensor *out, struct err *e);

/* Returns the name of a dtype ("F32"). */
const char *nn_st_dtype_name(enum nn_st_dtype dt);

#endif
