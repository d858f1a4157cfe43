/* Tests for the neural runtime: TFJS graph models run in C against the real TensorFlow.js
 * runtime (tools/tfjs, pure-JS CPU backend) on the same input tensors, made from real
 * photos; plus malformed model files. */
#include "check.h"

#include "nn/blas.h"

#include "img/image.h"
#include "img/resize.h"
#include "nn/build.h"
#include "nn/dlib.h"
#include "nn/graph.h"
#include "nn/model.h"
#include "util/buf.h"

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
    char in_path[512], out_dir[512], model[1024];
    struct nn_model *m;
    struct nn_tensor res[8];
    struct buf cmd;
    struct err e;
    int rc;

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
    buf_init(&cmd, 0);
    buf_printf(&cmd, "node '%s/tools/tfjs/run.js' --model '%s' --input '%s' --shape %lld,%lld,%lld,%lld --outputs '",
               root(), model, in_path, (long long)input->shape[0], (long long)input->shape[1],
               (long long)input->shape[2], (long long)input->shape[3]);
    for (int i = 0; i < nout; i++)
        buf_printf(&cmd, "%s%s", i ? "," : "", outputs[i]);
    buf_printf(&cmd, "' --out '%s' >/dev/null 2>&1", out_dir);
    rc = system(buf_str(&cmd));
    buf_release(&cmd);
    REQUIRE(rc == 0);
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

            if (isnan(d) || d / tol > maxerr)
                maxerr = isnan(d) ? INFINITY : d / tol;
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

/* A tiny valid model: out = Relu(Conv2D(input, w) + b); w is 1x1x3x2 from w.bin. */
#define TINY_HEAD "{\"modelTopology\": {\"node\": ["
#define TINY_INPUT "{\"name\": \"input\", \"op\": \"Placeholder\"},"
#define TINY_W "{\"name\": \"w\", \"op\": \"Const\"},"
#define TINY_CONV                                                                          \
    "{\"name\": \"conv\", \"op\": \"Conv2D\", \"input\": [\"input\", \"w\"], \"attr\": " \
    "{\"strides\": {\"list\": {\"i\": [\"1\", \"1\", \"1\", \"1\"]}}, \"padding\": "        \
    "{\"s\": \"VkFMSUQ=\"}}},"
#define TINY_OUT "{\"name\": \"out\", \"op\": \"Relu\", \"input\": [\"conv\"]}"
#define TINY_MANIFEST(dtype, shape)                                                        \
    "]}, \"weightsManifest\": [{\"paths\": [\"w.bin\"], \"weights\": [{\"name\": \"w\", "      \
    "\"shape\": " shape ", \"dtype\": \"" dtype "\"}]}]}"

static void write_shard(const char *dir, size_t bytes)
{
    char path[600];
    FILE *f;
    float v[6] = {1, 0, 0, 1, -1, 0.5f};

    snprintf(path, sizeof path, "%s/w.bin", dir);
    f = fopen(path, "wb");
    if (f != NULL) {
        fwrite(v, 1, bytes, f);
        fclose(f);
    }
}

static void test_tiny_model(void)
{
    static const char json[] = TINY_HEAD TINY_INPUT TINY_W TINY_CONV TINY_OUT
        TINY_MANIFEST("float32", "[1, 1, 3, 2]");
    const char *dir = check_tmpdir(), *name = "out";
    int64_t shape[4] = {1, 1, 2, 3};
    struct nn_model *m;
    struct nn_tensor in, out;
    struct err e;
    float *x, *y;

    write_shard(dir, 24);
    REQUIRE(nn_model_parse(json, sizeof json - 1, dir, &m, &e) == NN_OK);
    nn_tensor_alloc(&in, NN_F32, 4, shape);
    x = in.data;
    x[0] = 1, x[1] = 2, x[2] = 3, x[3] = -1, x[4] = 0, x[5] = 2;
    REQUIRE(nn_model_run(m, &in, &name, 1, &out, &e) == NN_OK);
    y = out.data;
    /* w = [[1, 0], [0, 1], [-1, 0.5]] (cin x cout): pixel (1,2,3) -> (1-3, 2+1.5) */
    CHECK_NEAR(y[0], 0, 1e-6);
    CHECK_NEAR(y[1], 3.5, 1e-6);
    CHECK_NEAR(y[2], 0, 1e-6);
    CHECK_NEAR(y[3], 1, 1e-6);
    nn_tensor_release(&out);
    nn_tensor_release(&in);
    nn_model_free(m);
}

/* Degenerate but valid: a filter with no output channels gives an empty output (the
 * fuzzer found a division by zero here). */
static void test_empty_output(void)
{
    static const char json[] = TINY_HEAD TINY_INPUT TINY_W TINY_CONV TINY_OUT
        TINY_MANIFEST("float32", "[1, 1, 3, 0]");
    const char *dir = check_tmpdir(), *name = "out";
    int64_t shape[4] = {1, 4, 4, 3};
    struct nn_model *m;
    struct nn_tensor in, out;
    struct err e;

    write_shard(dir, 24);
    REQUIRE(nn_model_parse(json, sizeof json - 1, dir, &m, &e) == NN_OK);
    nn_tensor_alloc(&in, NN_F32, 4, shape);
    memset(in.data, 0, sizeof(float) * 48);
    REQUIRE(nn_model_run(m, &in, &name, 1, &out, &e) == NN_OK);
    CHECK_INT(nn_numel(&out), 0);
    nn_tensor_release(&out);
    nn_tensor_release(&in);
    nn_model_free(m);
}

/* A vector constant of n floats. */
static int vec_const(struct nn_build *b, const char *name, const float *v, int64_t n)
{
    struct nn_tensor t;

    nn_tensor_alloc(&t, NN_F32, 1, &n);
    memcpy(t.data, v, sizeof(float) * (size_t)n);
    return nn_build_const(b, name, &t);
}

/* A built graph: conv 1x1 (3 -> 2) + bias, * scale + shift, ReLU; then a zero-padded
 * average pool and the mean. The element-wise chain must fold into the convolution's
 * output pass (no Mul, Add or Relu node left to run) and give the same numbers. */
static void test_build_graph(void)
{
    static const float w[6] = {1, 0, 0, 1, -1, 0.5f}, bias[2] = {0.5f, -1}, scale[2] = {2, 3},
                       shift[2] = {-1, 1};
    const char *names[2] = {"act", "mean"};
    int64_t wshape[4] = {1, 1, 3, 2}, ishape[4] = {1, 1, 2, 3}, pads[8] = {0, 0, 0, 0, 1, 0, 0, 0};
    struct nn_build *b = nn_build_new();
    struct nn_tensor wt, in, out[2];
    struct nn_model *m;
    struct err e;
    const struct nn_tensor borrowed = {.nd = 4, .shape = {1, 1, 3, 2}, .data = (void *)w};
    int x, y, axes[2] = {1, 2};
    float *v;

    nn_tensor_alloc(&wt, NN_F32, 4, wshape);
    memcpy(wt.data, w, sizeof w);
    x = nn_build_input(b, "input");
    y = nn_build_conv2d(b, "conv", x, nn_build_const(b, "w", &wt), vec_const(b, "b", bias, 2), 1,
                        NN_PAD_SAME);
    CHECK(wt.data == NULL); /* moved into the model */
    y = nn_build_mul(b, "mul", y, vec_const(b, "scale", scale, 2));
    y = nn_build_add(b, "add", y, vec_const(b, "shift", shift, 2));
    y = nn_build_relu(b, "act", y);
    y = nn_build_pad(b, "pad", y, pads, 4);
    y = nn_build_avgpool(b, "pool", y, 1, 1, NN_PAD_VALID);
    nn_build_mean(b, "mean", y, axes, 2, 0);
    nn_build_conv2d(b, "spare", x, nn_build_const(b, "w2", (struct nn_tensor *)&borrowed), -1, 1,
                    NN_PAD_VALID);
    REQUIRE(nn_build_finish(b, &m, &e) == NN_OK);
    nn_build_free(b);
    for (int i = 0; i < m->nnodes; i++)
        if (m->nodes[i].op == NN_OP_MUL || m->nodes[i].op == NN_OP_ADD ||
            m->nodes[i].op == NN_OP_RELU)
            check_fail(__FILE__, __LINE__, "node %s was not folded", m->nodes[i].name);
    CHECK(m->nodes[nn_graph_find(m, "conv")].post.scale != NULL);
    nn_tensor_alloc(&in, NN_F32, 4, ishape);
    v = in.data;
    v[0] = 1, v[1] = 2, v[2] = 3, v[3] = -1, v[4] = 0, v[5] = 2;
    REQUIRE(nn_model_run(m, &in, names, 2, out, &e) == NN_OK);
    v = out[0].data;
    /* conv: (1-3, 2+1.5) = (-2, 3.5) and (-1-2, 1) = (-3, 1); + bias (-1.5, 2.5), (-2.5, 0)
     * then * (2, 3) + (-1, 1): (-4, 8.5), (-6, 1); ReLU */
    CHECK_NEAR(v[0], 0, 1e-6);
    CHECK_NEAR(v[1], 8.5, 1e-6);
    CHECK_NEAR(v[2], 0, 1e-6);
    CHECK_NEAR(v[3], 1, 1e-6);
    /* the pad adds a zero column before: the mean is over 3 pixels */
    CHECK_INT(out[1].nd, 2);
    CHECK_NEAR(((float *)out[1].data)[1], (8.5 + 1) / 3, 1e-6);
    nn_tensor_release(&out[0]);
    nn_tensor_release(&out[1]);
    nn_tensor_release(&in);
    nn_model_free(m);
}

/* A residual connection, x + conv(x) then ReLU, is made in the convolution's output pass
 * (the Add folded, its operand read by the convolution) with the numbers of the plain
 * graph; operands of different shapes fail the run by name, folded or not. */
static void test_build_residual(void)
{
    static const float w[9] = {2, 0, 0, 0, 2, 0, 0, 0, -2}, bias[3] = {1, 0, 0};
    int64_t wshape[4] = {1, 1, 3, 3}, ishape[4] = {1, 1, 2, 3}, pads[8] = {0, 0, 0, 0, 0, 1, 0, 0};
    const char *name = "act";
    struct nn_tensor wt, in, out;
    struct nn_model *m;
    struct err e;
    float *v;

    for (int shape_differs = 0; shape_differs <= 2; shape_differs++) {
        struct nn_build *b = nn_build_new();
        int x = nn_build_input(b, "input"), y, conv;

        wshape[3] = shape_differs == 1 ? 2 : 3;
        nn_tensor_alloc(&wt, NN_F32, 4, wshape);
        for (int i = 0; i < 3 * wshape[3]; i++)
            ((float *)wt.data)[i] = w[i / wshape[3] * 3 + i % wshape[3]];
        conv = nn_build_conv2d(b, "conv", x, nn_build_const(b, "w", &wt),
                               vec_const(b, "b", bias, wshape[3]), 1, NN_PAD_SAME);
        y = shape_differs == 2 ? nn_build_pad(b, "pad", conv, pads, 4) : conv;
        y = nn_build_residual(b, "res", y, x);
        nn_build_relu(b, "act", y);
        REQUIRE(nn_build_finish(b, &m, &e) == NN_OK);
        nn_build_free(b);
        CHECK_INT(m->nodes[conv].res_in > 0, shape_differs != 2);
        nn_tensor_alloc(&in, NN_F32, 4, ishape);
        v = in.data;
        v[0] = 1, v[1] = -2, v[2] = 3, v[3] = -1, v[4] = 0, v[5] = 0.5f;
        if (shape_differs) {
            CHECK_INT(nn_model_run(m, &in, &name, 1, &out, &e), NN_ERR_RUN);
            CHECK(strstr(e.msg, "another shape") != NULL);
        } else {
            REQUIRE(nn_model_run(m, &in, &name, 1, &out, &e) == NN_OK);
            v = out.data;
            /* 3x + (1, 0, 0) for the first two channels, -x for the third; ReLU */
            CHECK_NEAR(v[0], 4, 1e-6);
            CHECK_NEAR(v[1], 0, 1e-6);
            CHECK_NEAR(v[2], 0, 1e-6);
            CHECK_NEAR(v[3], 0, 1e-6);
            CHECK_NEAR(v[4], 0, 1e-6);
            CHECK_NEAR(v[5], 0, 1e-6);
            nn_tensor_release(&out);
        }
        nn_tensor_release(&in);
        nn_model_free(m);
    }
}

/* test_winograd's filter value i and input value i. */
static float wino_weight(int64_t i)
{
    return (float)((i * 7919 + 13) % 201) / 100.0f - 1.0f;
}

static float wino_input(int64_t i)
{
    return (float)((i * 104729 + 7) % 255) / 127.5f - 1.0f;
}

/* 3 x 3 stride-1 convolutions with few channels run through Winograd's form: on odd
 * sizes (a last tile half outside), both paddings, channel counts with and without a
 * vector tail, against a plain double-precision convolution. */
static void test_winograd(void)
{
    static const struct {
        int h, w, c, k;
        enum nn_padding pad;
    } cases[] = {
        {9, 11, 5, 7, NN_PAD_SAME}, {12, 10, 16, 24, NN_PAD_VALID}, {10, 13, 32, 64, NN_PAD_SAME},
    };

    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        int h = cases[t].h, w = cases[t].w, c = cases[t].c, k = cases[t].k;
        int same = cases[t].pad == NN_PAD_SAME, oh = same ? h : h - 2, ow = same ? w : w - 2;
        int64_t wshape[4] = {3, 3, c, k}, ishape[4] = {2, h, w, c}, bshape[1] = {k};
        struct nn_build *b = nn_build_new();
        struct nn_tensor wt, bt, in, out;
        struct nn_model *m;
        struct err e;
        const char *name = "conv";
        double worst = 0;
        int x, conv;

        nn_tensor_alloc(&wt, NN_F32, 4, wshape);
        nn_tensor_alloc(&bt, NN_F32, 1, bshape);
        nn_tensor_alloc(&in, NN_F32, 4, ishape);
        for (int64_t i = 0; i < nn_numel(&wt); i++)
            ((float *)wt.data)[i] = wino_weight(i);
        for (int64_t i = 0; i < k; i++)
            ((float *)bt.data)[i] = (float)(i % 5) / 4.0f - 0.5f;
        for (int64_t i = 0; i < nn_numel(&in); i++)
            ((float *)in.data)[i] = wino_input(i);
        x = nn_build_input(b, "input");
        conv = nn_build_conv2d(b, "conv", x, nn_build_const(b, "w", &wt),
                               nn_build_const(b, "b", &bt), 1, cases[t].pad);
        REQUIRE(nn_build_finish(b, &m, &e) == NN_OK);
        nn_build_free(b);
        CHECK(m->nodes[conv].wino != NULL);
        REQUIRE(nn_model_run(m, &in, &name, 1, &out, &e) == NN_OK);
        REQUIRE(out.shape[1] == oh && out.shape[2] == ow && out.shape[3] == k);
        for (int n = 0; n < 2; n++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                    for (int ko = 0; ko < k; ko++) {
                        double sum = (double)(ko % 5) / 4.0 - 0.5, d;

                        for (int ky = 0; ky < 3; ky++)
                            for (int kx = 0; kx < 3; kx++) {
                                int iy = oy + ky - same, ix = ox + kx - same;

                                if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                                    continue;
                                for (int ci = 0; ci < c; ci++)
                                    sum += (double)wino_weight(((ky * 3 + kx) * c + ci) * k + ko) *
                                           wino_input(((n * h + iy) * w + ix) * c + ci);
                            }
                        d = ((const float *)out.data)[((n * oh + oy) * ow + ox) * k + ko];
                        d = fabs(sum - d);
                        worst = d > worst ? d : worst;
                    }
        if (worst > 1e-4)
            check_fail(__FILE__, __LINE__, "case %zu: max error %.3g", t, worst);
        nn_tensor_release(&out);
        nn_tensor_release(&in);
        nn_model_free(m);
    }
}

/* Builder misuse is an error at finish, never a crash: an op on a failed op, a bad
 * window, no input, two inputs, duplicate names. */
static void test_build_errors(void)
{
    static const struct {
        const char *name;
        int kind;
        const char *want;
    } cases[] = {
        {"bad input id", 0, "an input is not a node"},
        {"bad window", 1, "invalid kernel size"},
        {"no input", 2, "no input"},
        {"two inputs", 3, "one input"},
        {"same name", 4, "two nodes are named x"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct nn_build *b = nn_build_new();
        struct nn_model *m = NULL;
        struct err e = {{0}};
        int x = cases[i].kind == 2 ? -1 : nn_build_input(b, "x");

        if (cases[i].kind == 0)
            nn_build_relu(b, "r", nn_build_add(b, "a", x, 42));
        else if (cases[i].kind == 1)
            nn_build_maxpool(b, "p", x, 0, 1, NN_PAD_SAME);
        else if (cases[i].kind == 3)
            nn_build_input(b, "y");
        else if (cases[i].kind == 4)
            nn_build_relu(b, "x", x);
        if (nn_build_finish(b, &m, &e) == NN_OK || strstr(e.msg, cases[i].want) == NULL)
            check_fail(__FILE__, __LINE__, "%s: message '%s'", cases[i].name, e.msg);
        CHECK(m == NULL);
        nn_build_free(b);
    }
}

static void test_malformed_models(void)
{
    static const struct {
        const char *name, *json, *want;
        size_t shard;
    } cases[] = {
        {"truncated shard", TINY_HEAD TINY_INPUT TINY_W TINY_CONV TINY_OUT
         TINY_MANIFEST("float32", "[1, 1, 3, 2]"), "truncated", 20},
        {"wrong dtype", TINY_HEAD TINY_INPUT TINY_W TINY_CONV TINY_OUT
         TINY_MANIFEST("complex64", "[1, 1, 3, 2]"), "unsupported dtype complex64", 24},
        {"unknown op", TINY_HEAD TINY_INPUT TINY_W TINY_CONV
         "{\"name\": \"out\", \"op\": \"FrobnicateV3\", \"input\": [\"conv\"]}"
         TINY_MANIFEST("float32", "[1, 1, 3, 2]"), "node out: unsupported op FrobnicateV3", 24},
        {"cycle", TINY_HEAD TINY_INPUT TINY_W
         "{\"name\": \"a\", \"op\": \"Relu\", \"input\": [\"b\"]},"
         "{\"name\": \"b\", \"op\": \"Relu\", \"input\": [\"a\"]}"
         TINY_MANIFEST("float32", "[1, 1, 3, 2]"), "cycle", 24},
        {"missing input", TINY_HEAD TINY_INPUT TINY_W
         "{\"name\": \"out\", \"op\": \"Relu\", \"input\": [\"nowhere\"]}"
         TINY_MANIFEST("float32", "[1, 1, 3, 2]"), "no input node nowhere", 24},
        {"shard escapes", TINY_HEAD TINY_INPUT TINY_W TINY_OUT
         "]}, \"weightsManifest\": [{\"paths\": [\"../w.bin\"], \"weights\": []}]}",
         "not a plain file name", 24},
        {"not json", "{\"modelTopology\": ", "JSON error", 24},
        {"const without weight", TINY_HEAD TINY_INPUT "{\"name\": \"k\", \"op\": \"Const\"}"
         TINY_MANIFEST("float32", "[1, 1, 3, 2]"), "constant has no weights", 24},
        {"negative shape", TINY_HEAD TINY_INPUT TINY_W TINY_CONV TINY_OUT
         TINY_MANIFEST("float32", "[1, -1, 3, 2]"), "valid shape", 24},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct nn_model *m = NULL;
        struct err e = {{0}};
        int rc;

        write_shard(check_tmpdir(), cases[i].shard);
        rc = nn_model_parse(cases[i].json, strlen(cases[i].json), check_tmpdir(), &m, &e);
        if (rc == NN_OK || strstr(e.msg, cases[i].want) == NULL)
            check_fail(__FILE__, __LINE__, "%s: rc %d, message '%s'", cases[i].name, rc, e.msg);
        CHECK(m == NULL);
    }
}

/* The real dlib ResNet after load: every conv layer's bias, scale, shift and ReLU folded
 * into the convolution's output pass (29 convolutions with a folded post), no Mul or
 * Relu node left; 12 of the 14 residual additions (and their ReLU) made in the output
 * pass of the block's second convolution, the 2 whose sum is padded first as Adds with
 * their ReLU folded. */
static void test_dlib_folded(void)
{
    char path[1024];
    struct nn_model *m;
    struct err e;
    int posts = 0, adds = 0, residuals = 0;

    if (check_models() == NULL)
        SKIP("needs models/ (scripts/setup.sh)");
    snprintf(path, sizeof path, "%s/face-api/face_recognition_model-weights_manifest.json",
             check_models());
    REQUIRE(nn_dlib_load(path, &m, &e) == NN_OK);
    for (int i = 0; i < m->nnodes; i++) {
        const struct nn_node *nd = &m->nodes[i];

        posts += nd->op == NN_OP_CONV2D && nd->post.scale != NULL;
        adds += nd->op == NN_OP_ADD;
        if (nd->res_in > 0) {
            residuals++;
            CHECK(nd->nepi == 4 && nd->nfold == 2 && nd->epi[2].tensor &&
                  nd->epi[3].op == NN_OP_RELU);
        }
        if (nd->op == NN_OP_MUL || nd->op == NN_OP_RELU ||
            (nd->op == NN_OP_ADD && (nd->nepi != 1 || nd->epi[0].op != NN_OP_RELU)))
            check_fail(__FILE__, __LINE__, "node %s is left unfolded", nd->name);
    }
    CHECK_INT(posts, 29);
    CHECK_INT(residuals, 12);
    CHECK_INT(adds, 2);
    nn_model_free(m);
}

/* face-api manifests that must fail to load as dlib's ResNet, each with a message naming
 * the problem (the shard w.bin holds 24 bytes). */
static void test_dlib_malformed(void)
{
#define W0 "{\"name\": \"conv32_down/conv/filters\", "
    static const struct {
        const char *name, *json, *want;
    } cases[] = {
        {"not json", "[{", "JSON error"},
        {"not an array", "{\"paths\": []}", "not an array of groups"},
        {"shard escapes", "[{\"paths\": [\"../w.bin\"], \"weights\": []}]", "not a plain file name"},
        {"shard missing", "[{\"paths\": [\"nope.bin\"], \"weights\": []}]", "nope.bin"},
        {"no weights", "[{\"paths\": [\"w.bin\"], \"weights\": []}]",
         "weight conv32_down/conv/filters is missing"},
        {"truncated", "[{\"paths\": [\"w.bin\"], \"weights\": [" W0
         "\"shape\": [7, 7, 3, 32], \"dtype\": \"float32\"}]}]", "truncated"},
        {"wrong shape", "[{\"paths\": [\"w.bin\"], \"weights\": [" W0
         "\"shape\": [1, 1, 3, 2], \"dtype\": \"float32\"}]}]",
         "not a float32 tensor of shape [7, 7, 3, 32]"},
        {"int32", "[{\"paths\": [\"w.bin\"], \"weights\": [" W0
         "\"shape\": [7, 7, 3, 32], \"dtype\": \"int32\"}]}]", "truncated"},
        {"bad quantisation", "[{\"paths\": [\"w.bin\"], \"weights\": [" W0
         "\"shape\": [2], \"dtype\": \"float32\", \"quantization\": {\"dtype\": \"int4\"}}]}]",
         "unsupported dtype float32 quantized as int4"},
    };
#undef W0

    write_shard(check_tmpdir(), 24);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct nn_model *m = NULL;
        struct err e = {{0}};
        int rc = nn_dlib_parse(cases[i].json, strlen(cases[i].json), check_tmpdir(), &m, &e);

        if (rc == NN_OK || strstr(e.msg, cases[i].want) == NULL)
            check_fail(__FILE__, __LINE__, "%s: rc %d, message '%s'", cases[i].name, rc, e.msg);
        CHECK(m == NULL);
    }
}

static void test_run_errors(void)
{
    static const char json[] = TINY_HEAD TINY_INPUT TINY_W TINY_CONV TINY_OUT
        TINY_MANIFEST("float32", "[1, 1, 3, 2]");
    int64_t shape[4] = {1, 2, 2, 5};
    const char *name = "out", *bad_name = "nope";
    struct nn_model *m;
    struct nn_tensor in, out;
    struct err e;

    write_shard(check_tmpdir(), 24);
    REQUIRE(nn_model_parse(json, sizeof json - 1, check_tmpdir(), &m, &e) == NN_OK);
    nn_tensor_alloc(&in, NN_F32, 4, shape);
    memset(in.data, 0, sizeof(float) * 20);
    CHECK_INT(nn_model_run(m, &in, &name, 1, &out, &e), NN_ERR_RUN);
    CHECK(strstr(e.msg, "node conv") != NULL);
    CHECK_INT(nn_model_run(m, &in, &bad_name, 1, &out, &e), NN_ERR_GRAPH);
    nn_tensor_release(&in);
    nn_model_free(m);
}

/* One call of the interleaving test: model, input side and batch, outputs. */
struct arena_call {
    int model, side, batch, split, nout; /* split: nn_model_run_batch */
    const char *outs[3];
};

static void fill_input(struct nn_tensor *t, int side, int batch, int seed)
{
    int64_t shape[4] = {batch, side, side, 3};

    nn_tensor_alloc(t, NN_F32, 4, shape);
    for (int64_t i = 0; i < nn_numel(t); i++)
        ((float *)t->data)[i] = (float)(((uint64_t)(i + seed) * 2654435761u >> 9) % 255) / 127.5f - 1;
}

/* Results are bit-identical whatever the thread count, whether a batch runs as one
 * tensor or as separate samples, and however runs of different models, shapes and
 * output sets interleave in one context (each reuses its own arena plan): every output
 * of the interleaved sequence is compared with a one-thread batched run in a fresh
 * context. */
static void test_arena_and_threads(void)
{
    static const char *const files[2] = {"human-models/blazeface.json", "human-models/faceres.json"};
    static const struct arena_call calls[] = {
        {0, 256, 1, 0, 2, {"Identity", "Identity_3"}},
        {1, 224, 1, 0, 1, {"global_pooling/Mean"}},
        {1, 224, 3, 0, 3, {"global_pooling/Mean", "gender_pred/Sigmoid", "age_pred/Softmax"}},
        {0, 256, 1, 0, 2, {"Identity", "Identity_3"}},
        {1, 224, 1, 0, 1, {"global_pooling/Mean"}},
        {1, 224, 3, 1, 1, {"age_pred/Softmax"}},
        {1, 224, 3, 0, 1, {"age_pred/Softmax"}},
        {1, 224, 3, 1, 3, {"global_pooling/Mean", "gender_pred/Sigmoid", "age_pred/Softmax"}},
        {1, 224, 1, 0, 1, {"global_pooling/Mean"}},
    };
    struct nn_model *m[2];
    struct nn_ctx *ctx = nn_ctx_new(2);
    char path[1024];
    struct err e;

    if (check_models() == NULL)
        SKIP("needs models/ (scripts/setup.sh)");
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", check_models(), files[i]);
        REQUIRE(nn_model_load(path, &m[i], &e) == NN_OK);
    }
    for (size_t c = 0; c < sizeof calls / sizeof calls[0]; c++) {
        const struct arena_call *k = &calls[c];
        struct nn_tensor in, got[3], want[3];
        struct nn_ctx *fresh = nn_ctx_new(1);

        fill_input(&in, k->side, k->batch, (int)c);
        if (k->split)
            REQUIRE(nn_model_run_batch(m[k->model], ctx, &in, k->outs, k->nout, got, &e) == NN_OK);
        else
            REQUIRE(nn_model_run_ctx(m[k->model], ctx, &in, k->outs, k->nout, got, &e) == NN_OK);
        REQUIRE(nn_model_run_ctx(m[k->model], fresh, &in, k->outs, k->nout, want, &e) == NN_OK);
        for (int o = 0; o < k->nout; o++) {
            CHECK(nn_same_shape(&got[o], &want[o]));
            if (memcmp(got[o].data, want[o].data, (size_t)nn_numel(&want[o]) * 4) != 0)
                check_fail(__FILE__, __LINE__, "call %zu output %s differs", c, k->outs[o]);
            nn_tensor_release(&got[o]);
            nn_tensor_release(&want[o]);
        }
        nn_ctx_free(fresh);
        nn_tensor_release(&in);
    }
    nn_ctx_free(ctx);
    nn_model_free(m[1]);
    nn_model_free(m[0]);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"arena_and_threads", test_arena_and_threads},
        {"blazeface_vs_tfjs", test_blazeface_vs_tfjs},
        {"faceres_vs_tfjs", test_faceres_vs_tfjs},
        {"tiny_model", test_tiny_model},
        {"build_graph", test_build_graph},
        {"build_residual", test_build_residual},
        {"winograd", test_winograd},
        {"build_errors", test_build_errors},
        {"empty_output", test_empty_output},
        {"malformed_models", test_malformed_models},
        {"dlib_malformed", test_dlib_malformed},
        {"dlib_folded", test_dlib_folded},
        {"run_errors", test_run_errors},
    };

    nn_blas_set_threads(1);

    return check_main("nn", cases, sizeof cases / sizeof cases[0], argc, argv);
}
