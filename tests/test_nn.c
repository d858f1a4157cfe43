/* Tests for the neural runtime: TFJS graph models run in C against the real TensorFlow.js
 * runtime (tools/tfjs, pure-JS CPU backend) on the same input tensors, made from real
 * photos; plus malformed model files. */
#include "check.h"

#include "img/image.h"
#include "img/resize.h"
#include "nn/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static const char *root(void)
{
    return getenv("DOPPEL_ROOT") ? getenv("DOPPEL_ROOT") : ".";
}

static int have_tfjs(void)
{
    char path[1024];
    struct stat st;

    snprintf(path, sizeof path, "%s/tools/tfjs/node_modules/@tensorflow/tfjs-core", root());
    return stat(path, &st) == 0 && system("node --version >/dev/null 2>&1") == 0;
}

static int write_f32(const char *path, const float *v, size_t n)
{
    FILE *f = fopen(path, "wb");
    int ok = f != NULL && fwrite(v, sizeof(float), n, f) == n;

    if (f != NULL)
        fclose(f);
    return ok ? 0 : -1;
}

static float *read_f32(const char *path, size_t n)
{
    FILE *f = fopen(path, "rb");
    float *v = malloc(n * sizeof(float));

    if (f == NULL || fread(v, sizeof(float), n, f) != n) {
        free(v);
        v = NULL;
    }
    if (f != NULL)
        fclose(f);
    return v;
}

/* A photo as a [1, side, side, 3] float tensor: bilinear resize, px * scale + offset. */
static int photo_tensor(const char *file, int side, float scale, float offset,
                        struct nn_tensor *t)
{
    struct image im, rs;
    struct err e;
    int64_t shape[4] = {1, side, side, 3};
    float mean[3] = {-offset / scale, -offset / scale, -offset / scale}, std[3] = {1, 1, 1};

    if (img_load_file(file, NULL, &im, &e) != IMG_OK)
        return -1;
    img_resize_bilinear(&im, side, side, &rs);
    nn_tensor_alloc(t, NN_F32, 4, shape);
    /* (px * scale - mean) / 1 = px * scale + offset */
    mean[0] = mean[1] = mean[2] = -offset;
    img_to_float(&rs, scale, mean, std, IMG_LAYOUT_NHWC, t->data);
    img_release(&rs);
    img_release(&im);
    return 0;
}

/* Runs model on input in both runtimes; checks every output within tolerance. */
static void compare_with_tfjs(const char *model_file, const struct nn_tensor *input,
                              const char *const *outputs, int nout)
{
    char in_path[512], out_dir[512], cmd[4096], model[1024];
    struct nn_model *m;
    struct nn_tensor res[8];
    struct err e;

    snprintf(model, sizeof model, "%s/%s", check_models(), model_file);
    REQUIRE(nn_model_load(model, &m, &e) == NN_OK);
    if (nn_model_run(m, input, outputs, nout, res, &e) != NN_OK) {
        check_fail(__FILE__, __LINE__, "%s", e.msg);
        nn_model_free(m);
        return;
    }
    snprintf(in_path, sizeof in_path, "%s/in.f32", check_tmpdir());
    snprintf(out_dir, sizeof out_dir, "%s/tfjs", check_tmpdir());
    REQUIRE(write_f32(in_path, input->data, (size_t)nn_numel(input)) == 0);
    {
        char names[2048] = "";
        size_t len = 0;

        for (int i = 0; i < nout; i++)
            len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", i ? "," : "",
                                    outputs[i]);
        snprintf(cmd, sizeof cmd,
                 "node '%s/tools/tfjs/run.js' --model '%s' --input '%s' --shape %lld,%lld,%lld,%lld "
                 "--outputs '%s' --out '%s' >/dev/null 2>&1",
                 root(), model, in_path, (long long)input->shape[0], (long long)input->shape[1],
                 (long long)input->shape[2], (long long)input->shape[3], names, out_dir);
    }
    REQUIRE(system(cmd) == 0);
    for (int i = 0; i < nout; i++) {
        char path[600];
        size_t n = (size_t)nn_numel(&res[i]);
        float *want, maxerr = 0, maxabs = 0;

        snprintf(path, sizeof path, "%s/%d.f32", out_dir, i);
        want = read_f32(path, n);
        if (want == NULL) {
            check_fail(__FILE__, __LINE__, "%s: no reference output %s", model_file, outputs[i]);
            continue;
        }
        for (size_t k = 0; k < n; k++) {
            float d = fabsf(((float *)res[i].data)[k] - want[k]);
            float tol = 1e-4f + 1e-3f * fabsf(want[k]);

            if (d / tol > maxerr)
                maxerr = d / tol;
            if (d > maxabs)
                maxabs = d;
        }
        printf("    %s %s: %zu values, max |diff| %.3g (%.2f of tolerance)\n", model_file,
               outputs[i], n, maxabs, maxerr);
        if (maxerr > 1.0f)
            check_fail(__FILE__, __LINE__, "%s %s differs from tfjs", model_file, outputs[i]);
        free(want);
        nn_tensor_release(&res[i]);
    }
    nn_model_free(m);
}

static void test_blazeface_vs_tfjs(void)
{
    static const char *const outs[] = {"Identity", "Identity_1", "Identity_2", "Identity_3"};
    static const char *const photos[] = {"samples/face-api/sample1.jpg",
                                         "samples/human/samples.jpg"};
    char path[1024];

    if (check_models() == NULL || !have_tfjs())
        SKIP("needs models/ and tools/tfjs (scripts/setup.sh) and node");
    for (size_t i = 0; i < sizeof photos / sizeof photos[0]; i++) {
        struct nn_tensor in;

        snprintf(path, sizeof path, "%s/%s", check_models(), photos[i]);
        REQUIRE(photo_tensor(path, 256, 1.0f / 127.5f, -1.0f, &in) == 0);
        compare_with_tfjs("human-models/blazeface.json", &in, outs, 4);
        nn_tensor_release(&in);
    }
}

static void test_faceres_vs_tfjs(void)
{
    static const char *const outs[] = {"global_pooling/Mean", "gender_pred/Sigmoid",
                                       "age_pred/Softmax"};
    char path[1024];
    struct nn_tensor in;

    if (check_models() == NULL || !have_tfjs())
        SKIP("needs models/ and tools/tfjs (scripts/setup.sh) and node");
    snprintf(path, sizeof path, "%s/samples/face-api/sample2.jpg", check_models());
    REQUIRE(photo_tensor(path, 224, 1.0f, 0.0f, &in) == 0);
    compare_with_tfjs("human-models/faceres.json", &in, outs, 3);
    nn_tensor_release(&in);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"blazeface_vs_tfjs", test_blazeface_vs_tfjs},
        {"faceres_vs_tfjs", test_faceres_vs_tfjs},
    };

    return check_main("nn", cases, sizeof cases / sizeof cases[0], argc, argv);
}
