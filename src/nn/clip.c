/*
 * clip: the ViT written out with the graph builder. Sizes are read from the tensors
 * first (config), then every tensor is fetched by a name built from the naming scheme,
 * checked against the shape the config implies, decoded to float32 and handed to the
 * builder. PyTorch's layouts are kept where the runtime takes them as they are (Linear
 * weights [out, in] are packed transposed at finish); the patch filter is turned from
 * OIHW to HWIO, and Hugging Face's separate q, k and v projections are stacked into one
 * [3W, W] product, which is how OpenAI's checkpoints store them anyway.
 */
#include "nn/clip.h"

#include "nn/build.h"
#include "util/xalloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const float nn_clip_mean[3] = {0.48145466f, 0.4578275f, 0.40821073f};
const float nn_clip_std[3] = {0.26862954f, 0.26130258f, 0.27577711f};

/* Tensor names of one scheme; a block's are blocks, its index, then the part's name. */
struct names {
    const char *patch, *cls, *pos, *pre_ln, *post_ln, *proj, *blocks;
    const char *ln1, *ln2, *out_proj, *fc1, *fc2;
    int proj_transposed; /* the projection is stored [D, W] (Hugging Face's Linear) */
};

static const struct names hf = {
    "vision_model.embeddings.patch_embedding.weight",
    "vision_model.embeddings.class_embedding",
    "vision_model.embeddings.position_embedding.weight",
    "vision_model.pre_layrnorm",
    "vision_model.post_layernorm",
    "visual_projection.weight",
    "vision_model.encoder.layers.",
    ".layer_norm1",
    ".layer_norm2",
    ".self_attn.out_proj",
    ".mlp.fc1",
    ".mlp.fc2",
    1,
};

static const struct names openai = {
    "visual.conv1.weight",
    "visual.class_embedding",
    "visual.positional_embedding",
    "visual.ln_pre",
    "visual.ln_post",
    "visual.proj",
    "visual.transformer.resblocks.",
    ".ln_1",
    ".ln_2",
    ".attn.out_proj",
    ".mlp.c_fc",
    ".mlp.c_proj",
    0,
};

struct net {
    const struct nn_safetensors *st;
    const struct names *nm;
    struct nn_clip_config *cfg;
    struct nn_build *b;
    struct err error; /* the first missing or misshapen tensor */
};

/* Writes the name of part (then suffix) of block i into out. */
static void tensor_name(const struct net *net, char *out, size_t n, int i, const char *part,
                        const char *suffix)
{
    snprintf(out, n, "%s%d%s%s", net->nm->blocks, i, part, suffix);
}

/* Decodes tensor name, checked to have shape (nd dims), into t; 0 or -1 with net->error. */
static int fetch(struct net *net, const char *name, const int64_t *shape, int nd,
                 struct nn_tensor *t)
{
    const struct nn_st_tensor *s = nn_safetensors_find(net->st, name);
    int ok = s != NULL && s->nd == nd;

    memset(t, 0, sizeof *t);
    if (net->error.msg[0] != '\0')
        return -1;
    for (int d = 0; ok && d < nd; d++)
        ok = s->shape[d] == shape[d];
    if (s == NULL) {
        err_set(&net->error, "tensor %s is missing", name);
        return -1;
    }
    if (!ok) {
        err_set(&net->error, "tensor %s has the wrong shape (rank %d, first size %lld; want %lld)",
                name, s->nd, s->nd > 0 ? (long long)s->shape[0] : 0LL, (long long)shape[0]);
        return -1;
    }
    return nn_safetensors_decode(s, t, &net->error) == NN_OK ? 0 : -1;
}

/* A constant node from tensor name of the given shape; -1 on failure. */
static int weight(struct net *net, const char *name, const int64_t *shape, int nd)
{
    struct nn_tensor t;

    if (fetch(net, name, shape, nd, &t) != 0)
        return -1;
    return nn_build_const(net->b, name, &t);
}

/* LayerNorm of x with prefix.weight and prefix.bias. */
static int layernorm(struct net *net, const char *prefix, int x)
{
    const int64_t shape[1] = {net->cfg->width};
    char g[256], bta[256];

    snprintf(g, sizeof g, "%s.weight", prefix);
    snprintf(bta, sizeof bta, "%s.bias", prefix);
    return nn_build_layernorm(net->b, prefix, x, weight(net, g, shape, 1),
                              weight(net, bta, shape, 1), 1e-5f);
}

/* A Linear layer (weight [out, in], bias [out]) named prefix on x. */
static int linear(struct net *net, const char *prefix, int x, int64_t in, int64_t out)
{
    const int64_t wshape[2] = {out, in}, bshape[1] = {out};
    char w[256], bias[256];

    snprintf(w, sizeof w, "%s.weight", prefix);
    snprintf(bias, sizeof bias, "%s.bias", prefix);
    return nn_build_linear(net->b, prefix, x, weight(net, w, wshape, 2),
                           weight(net, bias, bshape, 1), 1);
}

/* Stacks parts[0..n) (releasing them) into one owned tensor of shape (nd dims). */
static void stack(struct nn_tensor *parts, int n, const int64_t *shape, int nd, struct nn_tensor *out)
{
    size_t off = 0;

    nn_tensor_alloc(out, NN_F32, nd, shape);
    for (int i = 0; i < n; i++) {
        size_t bytes = (size_t)nn_numel(&parts[i]) * 4;

        memcpy((char *)out->data + off, parts[i].data, bytes);
        off += bytes;
        nn_tensor_release(&parts[i]);
    }
}

/* The q, k, v projection of block i as one [3W] wide product on x. */
static int qkv(struct net *net, int i, int x)
{
    const int64_t w = net->cfg->width, ws[2] = {w, w}, bs[1] = {w};
    const int64_t w3[2] = {3 * w, w}, b3[1] = {3 * w};
    static const char *const proj[3] = {".self_attn.q_proj", ".self_attn.k_proj",
                                        ".self_attn.v_proj"};
    struct nn_tensor wt[3], bt[3], W, B;
    char name[256], node[256];
    int wn;

    if (net->nm == &openai) {
        tensor_name(net, name, sizeof name, i, ".attn.in_proj_weight", "");
        wn = weight(net, name, w3, 2);
        tensor_name(net, name, sizeof name, i, ".attn.in_proj_bias", "");
        tensor_name(net, node, sizeof node, i, ".attn.in_proj", "");
        return nn_build_linear(net->b, node, x, wn, weight(net, name, b3, 1), 1);
    }
    for (int p = 0; p < 3; p++) {
        tensor_name(net, name, sizeof name, i, proj[p], ".weight");
        fetch(net, name, ws, 2, &wt[p]);
        tensor_name(net, name, sizeof name, i, proj[p], ".bias");
        fetch(net, name, bs, 1, &bt[p]);
    }
    if (net->error.msg[0] != '\0') {
        for (int p = 0; p < 3; p++)
            nn_tensor_release(&wt[p]), nn_tensor_release(&bt[p]);
        return -1;
    }
    stack(wt, 3, w3, 2, &W);
    stack(bt, 3, b3, 1, &B);
    tensor_name(net, name, sizeof name, i, ".self_attn.qkv", ".weight");
    wn = nn_build_const(net->b, name, &W);
    tensor_name(net, name, sizeof name, i, ".self_attn.qkv", ".bias");
    tensor_name(net, node, sizeof node, i, ".self_attn.qkv", "");
    return nn_build_linear(net->b, node, x, wn, nn_build_const(net->b, name, &B), 1);
}

/* Tokens per image: the patches and the class token. */
static int64_t tokens(const struct nn_clip_config *c)
{
    return (int64_t)(c->image / c->patch) * (c->image / c->patch) + 1;
}

/* Transformer block i on x. */
static int block(struct net *net, int i, int x)
{
    const struct nn_clip_config *c = net->cfg;
    char p[256], name[256];
    int h;

    tensor_name(net, p, sizeof p, i, net->nm->ln1, "");
    h = layernorm(net, p, x);
    h = qkv(net, i, h);
    tensor_name(net, name, sizeof name, i, net->nm->ln1, "/attention");
    h = nn_build_attention(net->b, name, h, c->heads, 1.0f / sqrtf((float)(c->width / c->heads)),
                           tokens(c));
    tensor_name(net, p, sizeof p, i, net->nm->out_proj, "");
    h = linear(net, p, h, c->width, c->width);
    tensor_name(net, name, sizeof name, i, net->nm->ln1, "/residual");
    x = nn_build_residual(net->b, name, h, x);
    tensor_name(net, p, sizeof p, i, net->nm->ln2, "");
    h = layernorm(net, p, x);
    tensor_name(net, p, sizeof p, i, net->nm->fc1, "");
    h = linear(net, p, h, c->width, c->mlp);
    tensor_name(net, name, sizeof name, i, net->nm->fc1, "/gelu");
    h = nn_build_gelu(net->b, name, h, c->quick);
    tensor_name(net, p, sizeof p, i, net->nm->fc2, "");
    h = linear(net, p, h, c->mlp, c->width);
    tensor_name(net, name, sizeof name, i, net->nm->ln2, "/residual");
    return nn_build_residual(net->b, name, h, x);
}

/* The patch filter, OIHW [W, 3, P, P] in the file, as an HWIO constant. */
static int patch_filter(struct net *net)
{
    const int64_t w = net->cfg->width, p = net->cfg->patch, oihw[4] = {w, 3, p, p};
    const int64_t hwio[4] = {p, p, 3, w};
    struct nn_tensor src, dst;
    const float *s;
    float *d;

    if (fetch(net, net->nm->patch, oihw, 4, &src) != 0)
        return -1;
    nn_tensor_alloc(&dst, NN_F32, 4, hwio);
    s = src.data, d = dst.data;
    for (int64_t o = 0; o < w; o++)
        for (int64_t c = 0; c < 3; c++)
            for (int64_t y = 0; y < p; y++)
                for (int64_t x = 0; x < p; x++)
                    d[((y * p + x) * 3 + c) * w + o] = s[((o * 3 + c) * p + y) * p + x];
    nn_tensor_release(&src);
    return nn_build_const(net->b, net->nm->patch, &dst);
}

/* Patch tokens, class token first, plus positions: [B (G^2 + 1), W]. */
static int embeddings(struct net *net, int x)
{
    const struct nn_clip_config *c = net->cfg;
    const int64_t g = c->image / c->patch, w = c->width;
    const int64_t cls_shape[1] = {w}, pos_shape[2] = {g * g + 1, w};

    x = nn_build_conv2d(net->b, "patch_embedding", x, patch_filter(net), -1, c->patch,
                        NN_PAD_VALID);
    return nn_build_vit_tokens(net->b, "tokens", x, weight(net, net->nm->cls, cls_shape, 1),
                               weight(net, net->nm->pos, pos_shape, 2));
}

/* The whole network into net->b; returns the output node. */
static int network(struct net *net)
{
    const struct nn_clip_config *c = net->cfg;
    const int64_t proj[2] = {net->nm->proj_transposed ? c->dim : c->width,
                             net->nm->proj_transposed ? c->width : c->dim};
    int x = nn_build_input(net->b, NN_CLIP_INPUT);

    x = embeddings(net, x);
    x = layernorm(net, net->nm->pre_ln, x);
    for (int i = 0; i < c->layers; i++)
        x = block(net, i, x);
    x = nn_build_slice(net->b, "class_tokens", x, 0, 0, tokens(c));
    x = layernorm(net, net->nm->post_ln, x);
    return nn_build_linear(net->b, NN_CLIP_OUTPUT, x, weight(net, net->nm->proj, proj, 2), -1,
                           net->nm->proj_transposed);
}

/* Reads a positive integer metadata value into *v when present; -1 when malformed. */
static int meta_int(const struct nn_safetensors *st, const char *key, int *v, struct err *e)
{
    const char *s = nn_safetensors_meta(st, key);
    char *end;
    long n;

    if (s == NULL)
        return 0;
    n = strtol(s, &end, 10);
    if (end == s || *end != '\0' || n < 1 || n > 4096) {
        err_set(e, "metadata %s is not a count: %.40s", key, s);
        return -1;
    }
    *v = (int)n;
    return 0;
}

/* Reads the sizes from the tensors' shapes. */
static int configure(const struct nn_safetensors *st, const struct names *nm,
                     struct nn_clip_config *c, struct err *e)
{
    const struct nn_st_tensor *patch = nn_safetensors_find(st, nm->patch);
    const struct nn_st_tensor *pos = nn_safetensors_find(st, nm->pos);
    const struct nn_st_tensor *proj = nn_safetensors_find(st, nm->proj), *fc1;
    const char *act = nn_safetensors_meta(st, "hidden_act");
    char name[256];
    int64_t g;

    memset(c, 0, sizeof *c);
    snprintf(c->naming, sizeof c->naming, "%s", nm == &hf ? "hf" : "openai");
    if (patch == NULL || patch->nd != 4 || patch->shape[1] != 3 || patch->shape[2] != patch->shape[3] ||
        patch->shape[0] < 1 || patch->shape[0] > 8192 || patch->shape[2] < 1 || patch->shape[2] > 256) {
        err_set(e, "tensor %s is missing or not [W, 3, P, P]", nm->patch);
        return NN_ERR_FORMAT;
    }
    c->width = (int)patch->shape[0];
    c->patch = (int)patch->shape[2];
    if (pos == NULL || pos->nd != 2 || pos->shape[1] != c->width || pos->shape[0] < 2 ||
        pos->shape[0] > 65537) {
        err_set(e, "tensor %s is missing or not [G^2 + 1, %d]", nm->pos, c->width);
        return NN_ERR_FORMAT;
    }
    g = (int64_t)lround(sqrt((double)(pos->shape[0] - 1)));
    if (g * g != pos->shape[0] - 1) {
        err_set(e, "tensor %s: %lld positions are not a square grid plus one", nm->pos,
                (long long)pos->shape[0]);
        return NN_ERR_FORMAT;
    }
    c->image = (int)(g * c->patch);
    while (c->layers < 1024) {
        snprintf(name, sizeof name, "%s%d%s.weight", nm->blocks, c->layers, nm->ln1);
        if (nn_safetensors_find(st, name) == NULL)
            break;
        c->layers++;
    }
    snprintf(name, sizeof name, "%s0%s.weight", nm->blocks, nm->fc1);
    fc1 = nn_safetensors_find(st, name);
    if (c->layers == 0 || fc1 == NULL || fc1->nd != 2 || fc1->shape[0] < 1 || fc1->shape[0] > 65536) {
        err_set(e, "no transformer blocks (%s)", name);
        return NN_ERR_FORMAT;
    }
    c->mlp = (int)fc1->shape[0];
    if (proj == NULL || proj->nd != 2 || proj->shape[nm->proj_transposed] != c->width ||
        proj->shape[!nm->proj_transposed] < 1 || proj->shape[!nm->proj_transposed] > 65536) {
        err_set(e, "tensor %s is missing or not a projection from width %d", nm->proj, c->width);
        return NN_ERR_FORMAT;
    }
    c->dim = (int)proj->shape[!nm->proj_transposed];
    c->heads = c->width % 64 == 0 ? c->width / 64 : 1;
    if (meta_int(st, "num_attention_heads", &c->heads, e) != 0)
        return NN_ERR_FORMAT;
    if (c->width % c->heads != 0) {
        err_set(e, "width %d does not split into %d heads", c->width, c->heads);
        return NN_ERR_FORMAT;
    }
    c->quick = act == NULL || strcmp(act, "quick_gelu") == 0;
    if (!c->quick && strcmp(act, "gelu") != 0) {
        err_set(e, "metadata hidden_act %.40s is neither quick_gelu nor gelu", act);
        return NN_ERR_FORMAT;
    }
    return NN_OK;
}

int nn_clip_build(const struct nn_safetensors *st, struct nn_model **out,
                  struct nn_clip_config *cfg, struct err *e)
{
    const struct names *nm = nn_safetensors_find(st, hf.patch) != NULL ? &hf : &openai;
    struct net net = {.st = st, .nm = nm, .cfg = cfg};
    int rc;

    *out = NULL;
    rc = configure(st, nm, cfg, e);
    if (rc != NN_OK)
        return rc;
    net.b = nn_build_new();
    network(&net);
    if (net.error.msg[0] != '\0') {
        err_set(e, "%s", net.error.msg);
        rc = NN_ERR_FORMAT;
    } else {
        rc = nn_build_finish(net.b, out, e);
    }
    if (rc == NN_OK) /* images per pass: products of 400 rows, not 50 */
        nn_model_set_batch_group(*out, NN_CLIP_BATCH_GROUP);
    nn_build_free(net.b);
    return rc;
}

int nn_clip_load(const char *path, struct nn_model **out, struct nn_clip_config *cfg,
                 struct err *e)
{
    struct nn_safetensors st;
    int rc = nn_safetensors_open(&st, path, e);

    *out = NULL;
    if (rc == NN_OK) {
        rc = nn_clip_build(&st, out, cfg, e);
        if (rc != NN_OK)
            err_prefix(e, "%s", path);
    }
    nn_safetensors_release(&st);
    return rc;
}
