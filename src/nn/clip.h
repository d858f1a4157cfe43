/*
 * clip: CLIP's vision transformer (ViT) built from a safetensors checkpoint.
 *
 * The network: a P x P stride-P convolution cuts the S x S image into G x G patch
 * tokens of width W; a class token is put first and a positional embedding added; a
 * LayerNorm; L pre-norm transformer blocks (x += attention(LN1(x)), x += MLP(LN2(x)),
 * the MLP being W -> M -> W with QuickGELU, or exact GELU); a LayerNorm of the class
 * token; a product to the embedding dimension D. The caller L2-normalises the result.
 *
 * Every size comes from the checkpoint's tensor shapes (W from the class token, P from
 * the patch filter, G from the positional embedding, L from the blocks present, M from
 * the first MLP layer, D from the projection), so ViT-B/32, B/16 and L/14 load alike.
 * Heads are W / 64 (every CLIP vision tower) unless the metadata says
 * "num_attention_heads"; the MLP activation is QuickGELU (OpenAI's) unless the metadata
 * says "hidden_act": "gelu" (most OpenCLIP models). Two naming schemes are read:
 * Hugging Face's (vision_model.*, visual_projection.weight) and OpenAI / OpenCLIP's
 * (visual.*). Only the vision tower is read; a missing tensor or one of the wrong
 * shape fails the load with its name.
 */
#ifndef DOPPEL_CLIP_H
#define DOPPEL_CLIP_H

#include "nn/model.h"
#include "nn/safetensors.h"

#define NN_CLIP_INPUT  "pixel_values"   /* [B, S, S, 3], CLIP-normalised RGB */
#define NN_CLIP_OUTPUT "clip_embedding" /* [B, D], not normalised */
#define NN_CLIP_BATCH_GROUP 16          /* images per pass in nn_model_run_batch */

struct nn_clip_config {
    int image;  /* S: input side in pixels */
    int patch;  /* P */
    int width;  /* W */
    int layers; /* L */
    int heads;
    int mlp;   /* M */
    int dim;   /* D */
    int quick; /* 1: QuickGELU, 0: exact GELU */
    char naming[16]; /* "hf" or "openai" */
};

/* CLIP's pixel normalisation (of values in 0..1). */
extern const float nn_clip_mean[3], nn_clip_std[3];

/* Builds the vision tower of the checkpoint st into *out (free with nn_model_free) and
 * fills cfg. st is only read; it may be released once this returns. Returns NN_OK, or
 * NN_ERR_FORMAT with e naming the tensor that is missing or misshapen. */
int nn_clip_build(const struct nn_safetensors *st, struct nn_model **out,
                  struct nn_clip_config *cfg, struct err *e);

/* Opens the safetensors file at path and builds its vision tower (errors prefixed with
 * path). */
int nn_clip_load(const char *path, struct nn_model **out, struct nn_clip_config *cfg,
                 struct err *e);

#endif
