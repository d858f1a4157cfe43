/*
 * dlib: dlib's face recognition ResNet (the network behind dlib_face_recognition_resnet_
 * model_v1, 99.38% on LFW), as face-api ships it: a weights manifest
 * (face_recognition_model-weights_manifest.json) and one shard, with the network defined
 * in code. doppel writes the network out with the graph builder (build.h), so it runs on
 * the shared runtime like every other model.
 *
 * Input: "input", [N, 150, 150, 3] float, RGB with face-api's normalisation
 * ((pixel - mean) / 255, mean RGB 122.782, 117.001, 104.298). Output: "descriptor",
 * [N, 128], not normalised; two faces are the same person when the Euclidean distance of
 * their descriptors is small (dlib and face-api use 0.6).
 */
#ifndef DOPPEL_DLIB_H
#define DOPPEL_DLIB_H

#include "nn/model.h"

#define NN_DLIB_BATCH_GROUP 8 /* faces per pass in nn_model_run_batch (measured) */
#define NN_DLIB_SIDE   150
#define NN_DLIB_DIM    128
#define NN_DLIB_INPUT  "input"
#define NN_DLIB_OUTPUT "descriptor"

/* The mean RGB face-api subtracts (0..255 scale) before dividing by 255. */
extern const float nn_dlib_mean[3];

/* Loads the manifest at manifest_path (its shard beside it), checks that every tensor the
 * network needs is there with its shape, and builds the network. The caller frees *out
 * with nn_model_free. Returns NN_OK, NN_ERR_IO or NN_ERR_FORMAT with e set. */
int nn_dlib_load(const char *manifest_path, struct nn_model **out, struct err *e);

/* The same from manifest text already in memory (n bytes), shards read from dir. */
int nn_dlib_parse(const char *json, size_t n, const char *dir, struct nn_model **out,
                  struct err *e);

#endif
