/*
 * bench_nn: forward-pass time of a TFJS graph model in doppel's runtime. Prints the
 * median milliseconds per batch over RUNS runs (after one warm-up) on a deterministic
 * input; bench/bench_nn.sh runs TensorFlow.js on the same model and input.
 *
 * Usage: bench_nn MODEL.json SIDE BATCH RUNS OUTPUT[,OUTPUT...]
 * MODEL may also be face-api's face_recognition_model-weights_manifest.json: dlib's
 * ResNet, built in C (nn/dlib.h; SIDE 150, OUTPUT descriptor), or a CLIP checkpoint
 * (*.safetensors: the ViT of nn/clip.h; SIDE 224 for ViT-B/32, OUTPUT clip_embedding).
 * BENCH_THREADS=T runs the forward pass on T threads (default 1); OpenBLAS, which only
 * computes products doppel has not packed, gets the same count. A batch runs as its
 * separate images (nn_model_run_batch), the way doppel embeds several faces;
 * BENCH_WHOLE=1 runs it as one batched pass instead, for comparison.
 */
#include "nn/blas.h"
#include "nn/clip.h"
#include "nn/dlib.h"
#include "nn/kern.h"
#include "nn/model.h"
#include "util/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 1 when path ends with tail. */
static int ends_with(const char *path, const char *tail)
{
    size_t n = strlen(path);

    return n >= strlen(tail) && strcmp(path + n - strlen(tail), tail) == 0;
}

/* A TFJS model.json, dlib's ResNet from a face-api manifest, or a CLIP checkpoint. */
static int load(const char *path, struct nn_model **m, struct err *e)
{
    struct nn_clip_config cfg;

    if (ends_with(path, "weights_manifest.json"))
        return nn_dlib_load(path, m, e);
    if (ends_with(path, ".safetensors"))
        return nn_clip_load(path, m, &cfg, e);
    return nn_model_load(path, m, e);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    struct nn_model *m;
    struct nn_ctx *ctx;
    struct nn_tensor in, out[8];
    struct err e;
    const char *outs[8];
    char *names;
    int side, batch, runs, threads, nout = 0;
    double *t;

    if (argc < 6) {
        fprintf(stderr, "usage: bench_nn MODEL.json SIDE BATCH RUNS OUTPUTS [INPUT.f32]\n");
        return 2;
    }
    side = (int)strtol(argv[2], NULL, 10);
    batch = (int)strtol(argv[3], NULL, 10);
    runs = (int)strtol(argv[4], NULL, 10);
    names = argv[5];
    for (char *p = strtok_r(names, ",", &names); p != NULL && nout < 8;
         p = strtok_r(NULL, ",", &names))
        outs[nout++] = p;
    threads = getenv("BENCH_THREADS") ? (int)strtol(getenv("BENCH_THREADS"), NULL, 10) : 1;
    nn_blas_set_threads(threads);
    ctx = nn_ctx_new(threads);
    if (side < 1 || batch < 1 || runs < 1 || load(argv[1], &m, &e) != NN_OK) {
        fprintf(stderr, "bench_nn: %s\n", side < 1 || batch < 1 || runs < 1 ? "bad arguments" : e.msg);
        return 1;
    }
    {
        int64_t shape[4] = {batch, side, side, 3};
        float *x;

        nn_tensor_alloc(&in, NN_F32, 4, shape);
        x = in.data;
        for (int64_t i = 0; i < nn_numel(&in); i++)
            x[i] = (float)((i * 2654435761u >> 7) % 255) / 127.5f - 1.0f;
    }
    t = malloc(sizeof(double) * (size_t)runs);
    for (int r = -1; r < runs; r++) {
        double t0 = clock_now();

        if ((getenv("BENCH_WHOLE") ? nn_model_run_ctx : nn_model_run_batch)(m, ctx, &in, outs, nout, out, &e) != NN_OK) {
            fprintf(stderr, "bench_nn: %s\n", e.msg);
            return 1;
        }
        if (r >= 0)
            t[r] = (clock_now() - t0) * 1e3;
        for (int i = 0; i < nout; i++)
            nn_tensor_release(&out[i]);
    }
    qsort(t, (size_t)runs, sizeof t[0], cmp_double);
    printf("median_ms %.3f\n", t[runs / 2]);
    printf("gflop %.4f\n", nn_ctx_flops(ctx) / 1e9);
    printf("gflops %.1f\n", nn_ctx_flops(ctx) / 1e9 / (t[runs / 2] / 1e3));
    printf("kernels %s\n", nn_kernels_get()->name);
    free(t);
    nn_tensor_release(&in);
    nn_model_free(m);
    nn_ctx_free(ctx);
    return 0;
}
