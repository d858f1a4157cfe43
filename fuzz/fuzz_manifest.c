/*
 * fuzz_manifest: libFuzzer target over face-api weights manifests loaded as dlib's
 * ResNet (nn_dlib_parse): the JSON, each weight spec (names, shapes, dtypes,
 * quantisation, offsets against the shards) and the check of every tensor the network
 * needs. Shards in the fuzzer's folder: "w.bin", 4 KB of bytes, and
 * "face_recognition_model.bin", a link to the real shard when $DOPPEL_MODELS (or
 * ./models) has it, so the seed made from the real manifest loads and mutations of it
 * go deep. A manifest that loads is run once on a 150 x 150 input.
 */
#include "nn/dlib.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *shard_dir(void)
{
    static char dir[64];
    char path[128], real[4096], *target;
    unsigned char v[4096];
    const char *models = getenv("DOPPEL_MODELS") ? getenv("DOPPEL_MODELS") : "models";
    FILE *f;

    if (dir[0] != '\0')
        return dir;
    snprintf(dir, sizeof dir, "/tmp/doppel-fuzz-manifest-XXXXXX");
    if (mkdtemp(dir) == NULL)
        abort();
    for (int i = 0; i < 4096; i++)
        v[i] = (unsigned char)(i * 37 + 11);
    snprintf(path, sizeof path, "%s/w.bin", dir);
    f = fopen(path, "wb");
    if (f == NULL || fwrite(v, sizeof v, 1, f) != 1)
        abort();
    fclose(f);
    snprintf(real, sizeof real, "%s/face-api/face_recognition_model.bin", models);
    target = realpath(real, NULL);
    if (target != NULL) {
        snprintf(path, sizeof path, "%s/face_recognition_model.bin", dir);
        if (symlink(target, path) != 0)
            abort();
        free(target);
    }
    return dir;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nn_model *m;
    struct err e;

    if (nn_dlib_parse((const char *)data, size, shard_dir(), &m, &e) == NN_OK) {
        int64_t shape[4] = {1, NN_DLIB_SIDE, NN_DLIB_SIDE, 3};
        struct nn_tensor in, out;
        const char *name = NN_DLIB_OUTPUT;

        nn_tensor_alloc(&in, NN_F32, 4, shape);
        memset(in.data, 0, (size_t)nn_numel(&in) * 4);
        if (nn_model_run(m, &in, &name, 1, &out, &e) == NN_OK)
            nn_tensor_release(&out);
        nn_tensor_release(&in);
        nn_model_free(m);
    }
    return 0;
}
