/*
 * fuzz_safetensors: libFuzzer target over safetensors checkpoints as CLIP loads them:
 * the header (length, JSON, each tensor's dtype, shape and offsets, overlaps, metadata),
 * then the ViT built from whatever tensors are there (names, shapes, the sizes read
 * from them, heads and activation from the metadata). A checkpoint that builds and is
 * small (input side up to 64, width up to 256) is run once on a zero image.
 */
#include "nn/clip.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nn_safetensors st;
    struct nn_model *m = NULL;
    struct nn_clip_config cfg;
    struct err e;

    if (nn_safetensors_parse(&st, data, size, &e) == NN_OK &&
        nn_clip_build(&st, &m, &cfg, &e) == NN_OK && cfg.image <= 64 && cfg.width <= 256) {
        int64_t shape[4] = {1, cfg.image, cfg.image, 3};
        struct nn_tensor in, out;
        const char *name = NN_CLIP_OUTPUT;

        nn_tensor_alloc(&in, NN_F32, 4, shape);
        memset(in.data, 0, (size_t)nn_numel(&in) * 4);
        if (nn_model_run(m, &in, &name, 1, &out, &e) == NN_OK)
            nn_tensor_release(&out);
        nn_tensor_release(&in);
    }
    nn_model_free(m);
    nn_safetensors_release(&st);
    return 0;
}
