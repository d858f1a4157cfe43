/*
 * fuzz_model: libFuzzer target over TFJS model.json parsing: JSON, the weights manifest
 * (shapes, dtypes, quantisation, offsets against a real 4 KB shard "w.bin"), node ops and
 * attributes, input resolution and the topological sort. A model that loads is also run
 * once on a small input so shape checks in the kernels are exercised too.
 */
#include "nn/model.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A folder holding w.bin: 4096 bytes of small floats. */
static const char *shard_dir(void)
{
    static char dir[64];
    char path[128];
    float v[1024];
    FILE *f;

    if (dir[0] != '\0')
        return dir;
    snprintf(dir, sizeof dir, "/tmp/doppel-fuzz-model-XXXXXX");
    if (mkdtemp(dir) == NULL)
        abort();
    for (int i = 0; i < 1024; i++)
        v[i] = (float)((i % 17) - 8) / 8.0f;
    snprintf(path, sizeof path, "%s/w.bin", dir);
    f = fopen(path, "wb");
    if (f == NULL || fwrite(v, sizeof v, 1, f) != 1)
        abort();
    fclose(f);
    return dir;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nn_model *m;
    struct err e;

    if (nn_model_parse((const char *)data, size, shard_dir(), &m, &e) == NN_OK) {
        int64_t shape[4] = {1, 8, 8, 3};
        struct nn_tensor in, out;
        const char *name = "out";

        nn_tensor_alloc(&in, NN_F32, 4, shape);
        memset(in.data, 0, (size_t)nn_numel(&in) * 4);
        if (nn_model_run(m, &in, &name, 1, &out, &e) == NN_OK)
            nn_tensor_release(&out);
        nn_tensor_release(&in);
        nn_model_free(m);
    }
    return 0;
}
