/*
 * weights: TensorFlow.js weights manifests, the one decoder of stored weights in doppel.
 *
 * A manifest is a JSON array of groups, each {"paths": [shard file names], "weights":
 * [{"name", "shape", "dtype", "quantization"?}]}: the group's shards are concatenated
 * and the weights lie in it back to back, in order. Values are float32 or int32, or
 * float32 stored as float16 or as uint8/uint16 with a per-tensor min and scale (value =
 * q * scale + min). TFJS graph models embed a manifest in model.json (tfjs.c); face-api
 * ships its networks as a bare manifest file beside the shards (dlib.c). Both are
 * untrusted: shard names must be plain file names in the manifest's folder, every size
 * is checked against the shards, and an unknown dtype or a truncated shard is an error
 * naming the weight. Everything is decoded to float32 or int32 once, at load.
 */
#ifndef DOPPEL_WEIGHTS_H
#define DOPPEL_WEIGHTS_H

#include "nn/tensor.h"
#include "util/err.h"

#include <stddef.h>

struct json_t; /* jansson's */

/* Decoded weights by name, in manifest order. */
struct nn_weights {
    struct nn_tensor *t; /* owned, unless moved out (then empty: data NULL) */
    char **names;        /* owned */
    int n;
};

/* Decodes manifest (the JSON array of groups) with shards read from dir, appending to w
 * (zeroed, or filled by an earlier call). Returns NN_OK, or NN_ERR_IO / NN_ERR_FORMAT with
 * e set; w then holds what decoded before the error (release it either way). */
int nn_weights_decode(struct nn_weights *w, struct json_t *manifest, const char *dir,
                      struct err *e);

/* Decodes a bare manifest file's text (n bytes) with shards read from dir into w (zeroed
 * here). Release w with nn_weights_release whatever the result. */
int nn_weights_parse(struct nn_weights *w, const char *json, size_t n, const char *dir,
                     struct err *e);

/* Reads and decodes the manifest file at path (shards beside it) into w (zeroed here).
 * Errors are prefixed with path. Release w with nn_weights_release whatever the result. */
int nn_weights_load(struct nn_weights *w, const char *path, struct err *e);

/* Appends t under name (copied); takes t's data, leaving t empty. */
void nn_weights_add(struct nn_weights *w, const char *name, struct nn_tensor *t);

/* Returns the index of the first weight called name, or -1. */
int nn_weights_find(const struct nn_weights *w, const char *name);

/* Frees every tensor and name and empties w; w may be NULL. */
void nn_weights_release(struct nn_weights *w);

#endif
