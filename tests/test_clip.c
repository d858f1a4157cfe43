/*
 * Tests of the safetensors reader and of the CLIP ViT, needing nothing but the build:
 * a checkpoint is written in memory (a tiny ViT, random weights) and the runtime's
 * forward pass is compared with a plain double-precision ViT written here loop by loop.
 * tests/test_clip.sh compares the full ViT-B/32 shape with PyTorch where it is installed.
 */
#include "check.h"

#include "nn/clip.h"
#include "nn/safetensors.h"
#include "util/buf.h"
#include "util/xalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- writing checkpoints ------------------------------------------------------------ */

#define MAX_T 64

struct ckpt {
    char names[MAX_T][96];
    int nd[MAX_T];
    int64_t shape[MAX_T][4];
    float *data[MAX_T];
    int n;
    const char *meta; /* the "__metadata__" object's JSON, or NULL */
};

static uint32_t rng = 12345;

static float frand(float std, float mean)
{
    float s = 0;

    for (int i = 0; i < 4; i++) {
        rng = rng * 1664525u + 1013904223u;
        s += (float)(rng >> 8) / 16777216.0f - 0.5f;
    }
    return mean + std * s * 1.7320508f; /* variance of a sum of 4 uniforms is 1/3 */
}

static int64_t count(const int64_t *shape, int nd)
{
    int64_t n = 1;

    for (int d = 0; d < nd; d++)
        n *= shape[d];
    return n;
}

/* Adds a random tensor; returns its values (owned by c). */
static float *add(struct ckpt *c, const char *name, int nd, const int64_t *shape, float std,
                  float mean)
{
    int64_t n = count(shape, nd);
    float *v = xmalloc(sizeof *v * (size_t)(n + 1));

    for (int64_t i = 0; i < n; i++)
        v[i] = frand(std, mean);
    snprintf(c->names[c->n], sizeof c->names[0], "%s", name);
    c->nd[c->n] = nd;
    memcpy(c->shape[c->n], shape, sizeof(int64_t) * (size_t)nd);
    c->data[c->n++] = v;
    return v;
}

/* Returns the values of tensor name. */
static const float *get(const struct ckpt *c, const char *name)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->names[i], name) == 0)
            return c->data[i];
    return NULL;
}

/* Serialises c as float32 safetensors into out (skipping tensor skip, or "" for none). */
static void serialise(const struct ckpt *c, const char *skip, struct buf *out)
{
    struct buf h;
    uint64_t off = 0, len;

    buf_init(&h, 1 << 20);
    buf_puts(&h, "{");
    if (c->meta != NULL)
        buf_printf(&h, "\"__metadata__\": %s", c->meta);
    for (int i = 0; i < c->n; i++) {
        uint64_t bytes = 4 * (uint64_t)count(c->shape[i], c->nd[i]);

        if (strcmp(c->names[i], skip) == 0)
            continue;
        buf_printf(&h, "%s\"%s\": {\"dtype\": \"F32\", \"shape\": [", h.len > 1 ? ", " : "",
                   c->names[i]);
        for (int d = 0; d < c->nd[i]; d++)
            buf_printf(&h, "%s%lld", d ? ", " : "", (long long)c->shape[i][d]);
        buf_printf(&h, "], \"data_offsets\": [%llu, %llu]}", (unsigned long long)off,
                   (unsigned long long)(off + bytes));
        off += bytes;
    }
    buf_puts(&h, "}");
    buf_init(out, 1 << 28);
    len = h.len;
    for (int b = 0; b < 8; b++)
        buf_putc(out, (char)(len >> (8 * b) & 0xff));
    buf_append(out, h.data, h.len);
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->names[i], skip) != 0)
            buf_append(out, c->data[i], 4 * (size_t)count(c->shape[i], c->nd[i]));
    buf_release(&h);
}

static void ckpt_release(struct ckpt *c)
{
    for (int i = 0; i < c->n; i++)
        free(c->data[i]);
    c->n = 0;
}

/* ---- the tiny ViT and its plain reference ------------------------------------------- */

enum { S = 16, P = 8, G = S / P, T = G * G + 1, W = 32, L = 2, H = 4, M = 64, D = 16 };

/* A tiny CLIP in Hugging Face's names. */
static void make_tiny(struct ckpt *c)
{
    char n[96];

    memset(c, 0, sizeof *c);
    add(c, "vision_model.embeddings.patch_embedding.weight", 4, (int64_t[]){W, 3, P, P}, 0.05f, 0);
    add(c, "vision_model.embeddings.class_embedding", 1, (int64_t[]){W}, 0.1f, 0);
    add(c, "vision_model.embeddings.position_embedding.weight", 2, (int64_t[]){T, W}, 0.1f, 0);
    add(c, "vision_model.pre_layrnorm.weight", 1, (int64_t[]){W}, 0.1f, 1);
    add(c, "vision_model.pre_layrnorm.bias", 1, (int64_t[]){W}, 0.05f, 0);
    for (int i = 0; i < L; i++) {
        static const char *const lin[] = {"self_attn.q_proj", "self_attn.k_proj",
                                          "self_attn.v_proj", "self_attn.out_proj", "mlp.fc1",
                                          "mlp.fc2"};
        for (int k = 1; k <= 2; k++) {
            snprintf(n, sizeof n, "vision_model.encoder.layers.%d.layer_norm%d.weight", i, k);
            add(c, n, 1, (int64_t[]){W}, 0.1f, 1);
            snprintf(n, sizeof n, "vision_model.encoder.layers.%d.layer_norm%d.bias", i, k);
            add(c, n, 1, (int64_t[]){W}, 0.05f, 0);
        }
        for (int k = 0; k < 6; k++) {
            int64_t out = k == 4 ? M : W, in = k == 5 ? M : W;

            snprintf(n, sizeof n, "vision_model.encoder.layers.%d.%s.weight", i, lin[k]);
            add(c, n, 2, (int64_t[]){out, in}, 0.1f, 0);
            snprintf(n, sizeof n, "vision_model.encoder.layers.%d.%s.bias", i, lin[k]);
            add(c, n, 1, (int64_t[]){out}, 0.05f, 0);
        }
    }
    add(c, "vision_model.post_layernorm.weight", 1, (int64_t[]){W}, 0.1f, 1);
    add(c, "vision_model.post_layernorm.bias", 1, (int64_t[]){W}, 0.05f, 0);
    add(c, "visual_projection.weight", 2, (int64_t[]){D, W}, 0.1f, 0);
    c->meta = "{\"num_attention_heads\": \"4\"}";
}

static const float *param(const struct ckpt *c, const char *fmt, int i)
{
    char n[128];

    snprintf(n, sizeof n, "vision_model.%s", fmt);
    if (i >= 0) {
        char m[128];

        snprintf(m, sizeof m, "vision_model.encoder.layers.%d.%s", i, fmt);
        return get(c, m);
    }
    return get(c, n);
}

static void ref_layernorm(double *x, int rows, const float *g, const float *b)
{
    for (int r = 0; r < rows; r++) {
        double *v = x + r * W, mean = 0, var = 0;

        for (int i = 0; i < W; i++)
            mean += v[i] / W;
        for (int i = 0; i < W; i++)
            var += (v[i] - mean) * (v[i] - mean) / W;
        for (int i = 0; i < W; i++)
            v[i] = (v[i] - mean) / sqrt(var + 1e-5) * g[i] + b[i];
    }
}

/* y[r][o] = sum_i x[r][i] w[o][i] + b[o], w being [out, in]. */
static void ref_linear(const double *x, int rows, int in, int out, const float *w, const float *b,
                       double *y)
{
    for (int r = 0; r < rows; r++)
        for (int o = 0; o < out; o++) {
            double s = b ? b[o] : 0;

            for (int i = 0; i < in; i++)
                s += x[r * in + i] * w[o * in + i];
            y[r * out + o] = s;
        }
}

static void ref_attention(const double *q, const double *k, const double *v, double *o)
{
    const int dh = W / H;

    for (int h = 0; h < H; h++)
        for (int a = 0; a < T; a++) {
            double s[T], mx = -1e300, sum = 0;

            for (int b = 0; b < T; b++) {
                s[b] = 0;
                for (int d = 0; d < dh; d++)
                    s[b] += q[a * W + h * dh + d] * k[b * W + h * dh + d] / sqrt(dh);
                mx = s[b] > mx ? s[b] : mx;
            }
            for (int b = 0; b < T; b++)
                sum += s[b] = exp(s[b] - mx);
            for (int d = 0; d < dh; d++) {
                double acc = 0;

                for (int b = 0; b < T; b++)
                    acc += s[b] / sum * v[b * W + h * dh + d];
                o[a * W + h * dh + d] = acc;
            }
        }
}

static void ref_block(const struct ckpt *c, int i, double *x)
{
    static double h[T * W], q[T * W], k[T * W], v[T * W], a[T * W], f[T * M];

    memcpy(h, x, sizeof h);
    ref_layernorm(h, T, param(c, "layer_norm1.weight", i), param(c, "layer_norm1.bias", i));
    ref_linear(h, T, W, W, param(c, "self_attn.q_proj.weight", i), param(c, "self_attn.q_proj.bias", i), q);
    ref_linear(h, T, W, W, param(c, "self_attn.k_proj.weight", i), param(c, "self_attn.k_proj.bias", i), k);
    ref_linear(h, T, W, W, param(c, "self_attn.v_proj.weight", i), param(c, "self_attn.v_proj.bias", i), v);
    ref_attention(q, k, v, a);
    ref_linear(a, T, W, W, param(c, "self_attn.out_proj.weight", i), param(c, "self_attn.out_proj.bias", i), h);
    for (int j = 0; j < T * W; j++)
        x[j] += h[j];
    memcpy(h, x, sizeof h);
    ref_layernorm(h, T, param(c, "layer_norm2.weight", i), param(c, "layer_norm2.bias", i));
    ref_linear(h, T, W, M, param(c, "mlp.fc1.weight", i), param(c, "mlp.fc1.bias", i), f);
    for (int j = 0; j < T * M; j++)
        f[j] = f[j] / (1 + exp(-1.702 * f[j]));
    ref_linear(f, T, M, W, param(c, "mlp.fc2.weight", i), param(c, "mlp.fc2.bias", i), h);
    for (int j = 0; j < T * W; j++)
        x[j] += h[j];
}

/* The reference forward pass of input px (S x S x 3, NHWC) into out[D]. */
static void ref_vit(const struct ckpt *c, const float *px, double *out)
{
    static double x[T * W];
    const float *pw = param(c, "embeddings.patch_embedding.weight", -1);
    const float *cls = param(c, "embeddings.class_embedding", -1);
    const float *pos = param(c, "embeddings.position_embedding.weight", -1);

    for (int o = 0; o < W; o++)
        x[o] = cls[o] + pos[o];
    for (int g = 0; g < G * G; g++)
        for (int o = 0; o < W; o++) {
            double s = pos[(g + 1) * W + o];

            for (int ch = 0; ch < 3; ch++)
                for (int y = 0; y < P; y++)
                    for (int xx = 0; xx < P; xx++)
                        s += pw[((o * 3 + ch) * P + y) * P + xx] *
                             px[((g / G * P + y) * S + g % G * P + xx) * 3 + ch];
            x[(g + 1) * W + o] = s;
        }
    ref_layernorm(x, T, param(c, "pre_layrnorm.weight", -1), param(c, "pre_layrnorm.bias", -1));
    for (int i = 0; i < L; i++)
        ref_block(c, i, x);
    ref_layernorm(x, 1, param(c, "post_layernorm.weight", -1), param(c, "post_layernorm.bias", -1));
    ref_linear(x, 1, W, D, get(c, "visual_projection.weight"), NULL, out);
}

/* ---- cases -------------------------------------------------------------------------- */

static void test_tiny_matches_reference(void)
{
    struct ckpt c;
    struct buf b;
    struct nn_safetensors st;
    struct nn_model *m = NULL;
    struct nn_clip_config cfg;
    struct nn_tensor in, res;
    const char *outs[1] = {NN_CLIP_OUTPUT};
    double ref[D], worst = 0;
    struct err e;

    make_tiny(&c);
    serialise(&c, "", &b);
    REQUIRE(nn_safetensors_parse(&st, b.data, b.len, &e) == NN_OK);
    REQUIRE(nn_clip_build(&st, &m, &cfg, &e) == NN_OK);
    CHECK_INT(cfg.image, S);
    CHECK_INT(cfg.patch, P);
    CHECK_INT(cfg.width, W);
    CHECK_INT(cfg.layers, L);
    CHECK_INT(cfg.heads, H);
    CHECK_INT(cfg.mlp, M);
    CHECK_INT(cfg.dim, D);
    CHECK(cfg.quick == 1);
    nn_tensor_alloc(&in, NN_F32, 4, (int64_t[]){1, S, S, 3});
    for (int i = 0; i < S * S * 3; i++)
        ((float *)in.data)[i] = frand(1, 0);
    REQUIRE(nn_model_run(m, &in, outs, 1, &res, &e) == NN_OK);
    ref_vit(&c, in.data, ref);
    CHECK_INT(res.nd, 2);
    CHECK_INT(res.shape[1], D);
    for (int i = 0; i < D; i++)
        worst = fmax(worst, fabs(((float *)res.data)[i] - ref[i]));
    if (worst > 1e-4)
        check_fail(__FILE__, __LINE__, "max abs error %g", worst);
    nn_tensor_release(&in);
    nn_tensor_release(&res);
    nn_model_free(m);
    nn_safetensors_release(&st);
    buf_release(&b);
    ckpt_release(&c);
}

/* A batch run as groups of images in one pass (products over all their rows, attention
 * per image) gives each image's embedding as when it runs alone. */
static void test_tiny_batch(void)
{
    struct ckpt c;
    struct buf b;
    struct nn_safetensors st;
    struct nn_model *m = NULL;
    struct nn_clip_config cfg;
    struct nn_tensor in, one, res, alone;
    struct nn_ctx *ctx = nn_ctx_new(2);
    const char *outs[1] = {NN_CLIP_OUTPUT};
    const int n = 5;
    float worst = 0;
    struct err e;

    make_tiny(&c);
    serialise(&c, "", &b);
    REQUIRE(nn_safetensors_parse(&st, b.data, b.len, &e) == NN_OK);
    REQUIRE(nn_clip_build(&st, &m, &cfg, &e) == NN_OK);
    nn_tensor_alloc(&in, NN_F32, 4, (int64_t[]){n, S, S, 3});
    for (int i = 0; i < n * S * S * 3; i++)
        ((float *)in.data)[i] = frand(1, 0);
    REQUIRE(nn_model_run_batch(m, ctx, &in, outs, 1, &res, &e) == NN_OK);
    CHECK(res.nd == 2 && res.shape[0] == n && res.shape[1] == D);
    for (int i = 0; i < n; i++) {
        one = in;
        one.owned = 0;
        one.shape[0] = 1;
        one.data = (float *)in.data + (size_t)i * S * S * 3;
        REQUIRE(nn_model_run(m, &one, outs, 1, &alone, &e) == NN_OK);
        for (int k = 0; k < D; k++)
            worst = fmaxf(worst, fabsf(((float *)alone.data)[k] - ((float *)res.data)[i * D + k]));
        nn_tensor_release(&alone);
    }
    if (worst > 1e-6f)
        check_fail(__FILE__, __LINE__, "batch differs from single runs by %g", (double)worst);
    nn_tensor_release(&in);
    nn_tensor_release(&res);
    nn_ctx_free(ctx);
    nn_model_free(m);
    nn_safetensors_release(&st);
    buf_release(&b);
    ckpt_release(&c);
}

/* A checkpoint without a tensor, or with one misshapen, fails naming it. */
static void test_tiny_missing_and_misshapen(void)
{
    static const char *const drop[] = {"vision_model.encoder.layers.1.mlp.fc2.bias",
                                       "vision_model.encoder.layers.0.self_attn.k_proj.weight",
                                       "vision_model.post_layernorm.bias",
                                       "vision_model.embeddings.class_embedding"};
    struct ckpt c;
    struct buf b;
    struct nn_safetensors st;
    struct nn_model *m = NULL;
    struct nn_clip_config cfg;
    struct err e;

    make_tiny(&c);
    for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++) {
        serialise(&c, drop[i], &b);
        REQUIRE(nn_safetensors_parse(&st, b.data, b.len, &e) == NN_OK);
        CHECK(nn_clip_build(&st, &m, &cfg, &e) == NN_ERR_FORMAT);
        CHECK(m == NULL);
        CHECK(strstr(e.msg, drop[i]) != NULL);
        nn_safetensors_release(&st);
        buf_release(&b);
    }
    for (int i = 0; i < c.n; i++) /* post_layernorm.weight one value too wide */
        if (strcmp(c.names[i], "vision_model.post_layernorm.weight") == 0) {
            c.data[i] = xrealloc(c.data[i], sizeof(float) * (W + 1));
            c.data[i][W] = 1;
            c.shape[i][0] = W + 1;
        }
    serialise(&c, "", &b);
    REQUIRE(nn_safetensors_parse(&st, b.data, b.len, &e) == NN_OK);
    CHECK(nn_clip_build(&st, &m, &cfg, &e) == NN_ERR_FORMAT);
    CHECK(strstr(e.msg, "post_layernorm.weight has the wrong shape") != NULL);
    nn_safetensors_release(&st);
    buf_release(&b);
    ckpt_release(&c);
}

/* Wraps header JSON h and data bytes into a file image in out. */
static void file_of(const char *h, const void *data, size_t n, struct buf *out)
{
    uint64_t len = strlen(h);

    buf_init(out, 1 << 20);
    for (int b = 0; b < 8; b++)
        buf_putc(out, (char)(len >> (8 * b) & 0xff));
    buf_append(out, h, len);
    buf_append(out, data, n);
}

static void test_safetensors_decode(void)
{
    /* [1, 2] F32, [2] F16 = {1, -2}, [1] BF16 = 0.5, then 8 bytes of an I64 */
    static const unsigned char data[] = {0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0x00, 0x3c, 0x00, 0xc0,
                                         0x00, 0x3f, 1, 0, 0, 0, 0, 0, 0, 0};
    const char *h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[0,8]},"
                    "\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[8,12]},"
                    "\"c\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[12,14]},"
                    "\"d\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[14,22]},"
                    "\"__metadata__\":{\"format\":\"pt\"}}";
    struct nn_safetensors st;
    struct nn_tensor t;
    struct buf b;
    struct err e;

    file_of(h, data, sizeof data, &b);
    REQUIRE(nn_safetensors_parse(&st, b.data, b.len, &e) == NN_OK);
    CHECK_INT(st.n, 4);
    CHECK(strcmp(nn_safetensors_meta(&st, "format"), "pt") == 0);
    CHECK(nn_safetensors_meta(&st, "other") == NULL);
    CHECK(nn_safetensors_find(&st, "e") == NULL);
    REQUIRE(nn_safetensors_decode(nn_safetensors_find(&st, "a"), &t, &e) == NN_OK);
    CHECK(t.nd == 2 && ((float *)t.data)[0] == 1.0f && ((float *)t.data)[1] == 2.0f);
    nn_tensor_release(&t);
    REQUIRE(nn_safetensors_decode(nn_safetensors_find(&st, "b"), &t, &e) == NN_OK);
    CHECK(((float *)t.data)[0] == 1.0f && ((float *)t.data)[1] == -2.0f);
    nn_tensor_release(&t);
    REQUIRE(nn_safetensors_decode(nn_safetensors_find(&st, "c"), &t, &e) == NN_OK);
    CHECK(((float *)t.data)[0] == 0.5f);
    nn_tensor_release(&t);
    CHECK(nn_safetensors_decode(nn_safetensors_find(&st, "d"), &t, &e) == NN_ERR_FORMAT);
    CHECK(strstr(e.msg, "I64") != NULL);
    nn_safetensors_release(&st);
    buf_release(&b);
}

static void test_safetensors_refused(void)
{
    static const struct {
        const char *header, *why;
    } cases[] = {
        {"[]", "not a JSON object"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,12]}}", "outside"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", "do not hold"},
        {"{\"a\":{\"dtype\":\"F31\",\"shape\":[1],\"data_offsets\":[0,4]}}", "unknown dtype"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", "shape"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", "shape"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,2],\"data_offsets\":[0,8]}}", "shape"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,0]}}", "outside"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", "pair"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[2,6]}}", "overlap"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", "JSON"},
        {"{\"__metadata__\":{\"k\":1}}", "not a string"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1099511627776,1099511627776],"
         "\"data_offsets\":[0,8]}}", "shape"},
        {"{\"a\":3}", "dtype"},
    };
    static const unsigned char data[8] = {0};
    struct nn_safetensors st;
    struct buf b;
    struct err e;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        file_of(cases[i].header, data, sizeof data, &b);
        CHECK(nn_safetensors_parse(&st, b.data, b.len, &e) == NN_ERR_FORMAT);
        if (strstr(e.msg, cases[i].why) == NULL)
            check_fail(__FILE__, __LINE__, "case %zu: \"%s\" lacks \"%s\"", i, e.msg, cases[i].why);
        nn_safetensors_release(&st);
        buf_release(&b);
    }
    CHECK(nn_safetensors_parse(&st, "\x10\0\0\0\0\0\0\0{}", 10, &e) == NN_ERR_FORMAT);
    CHECK(strstr(e.msg, "header length") != NULL);
    nn_safetensors_release(&st);
    CHECK(nn_safetensors_parse(&st, "abc", 3, &e) == NN_ERR_FORMAT);
    nn_safetensors_release(&st);
    CHECK(nn_safetensors_open(&st, "/nonexistent/x.safetensors", &e) == NN_ERR_IO);
    CHECK(strstr(e.msg, "/nonexistent/x.safetensors") != NULL);
    nn_safetensors_release(&st);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"safetensors_decode", test_safetensors_decode},
        {"safetensors_refused", test_safetensors_refused},
        {"tiny_matches_reference", test_tiny_matches_reference},
        {"tiny_batch", test_tiny_batch},
        {"tiny_missing_and_misshapen", test_tiny_missing_and_misshapen},
    };

    return check_main("clip", cases, sizeof cases / sizeof cases[0], argc, argv);
}
