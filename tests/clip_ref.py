#!/usr/bin/python3
"""A reference CLIP vision transformer in PyTorch, to check doppel's without the real
weights.

  clip_ref.py make OUT.safetensors [--config tiny|b32] [--naming hf|openai]
                   [--dtype F32|F16|BF16] [--act quick_gelu|gelu] [--seed N]
      writes random weights at the config's shapes (std 0.02 like CLIP's initialisation,
      LayerNorm gains near 1) in Hugging Face's or OpenAI's tensor names.
  clip_ref.py embed WEIGHTS IMAGE...
      prints one JSON line per image: {"file", "embedding"}; the image is prepared as
      CLIP's preprocessing does (EXIF orientation applied, shorter side to the input
      size with Pillow's bicubic, centre crop, CLIP's mean and std) and the network runs
      in float64, so the figure compared against is the exact one.

The network is written out here from the architecture (torch.nn.functional only); it
shares no code with doppel. Runs on Debian's python3-torch and python3-pil.
"""
import argparse
import json
import math
import struct
import sys

import torch
import torch.nn.functional as F
from PIL import Image, ImageOps

CONFIGS = {
    # image, patch, width, layers, mlp, dim
    "tiny": (32, 8, 64, 2, 256, 32),
    "b32": (224, 32, 768, 12, 3072, 512),
    "b16": (224, 16, 768, 12, 3072, 512),
    "l14": (224, 14, 1024, 24, 4096, 768),
}
MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)
DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def names(naming, layers):
    """Maps our part names to the checkpoint's tensor names."""
    if naming == "hf":
        v = "vision_model."
        n = {"patch": v + "embeddings.patch_embedding.weight",
             "cls": v + "embeddings.class_embedding",
             "pos": v + "embeddings.position_embedding.weight",
             "pre": v + "pre_layrnorm", "post": v + "post_layernorm",
             "proj": "visual_projection.weight"}
        for i in range(layers):
            b = "%sencoder.layers.%d." % (v, i)
            n.update({(i, "ln1"): b + "layer_norm1", (i, "ln2"): b + "layer_norm2",
                      (i, "q"): b + "self_attn.q_proj", (i, "k"): b + "self_attn.k_proj",
                      (i, "v"): b + "self_attn.v_proj", (i, "o"): b + "self_attn.out_proj",
                      (i, "fc1"): b + "mlp.fc1", (i, "fc2"): b + "mlp.fc2"})
        return n
    n = {"patch": "visual.conv1.weight", "cls": "visual.class_embedding",
         "pos": "visual.positional_embedding", "pre": "visual.ln_pre",
         "post": "visual.ln_post", "proj": "visual.proj"}
    for i in range(layers):
        b = "visual.transformer.resblocks.%d." % i
        n.update({(i, "ln1"): b + "ln_1", (i, "ln2"): b + "ln_2", (i, "qkv"): b + "attn.in_proj",
                  (i, "o"): b + "attn.out_proj", (i, "fc1"): b + "mlp.c_fc",
                  (i, "fc2"): b + "mlp.c_proj"})
    return n


def save(path, tensors, meta):
    """Writes tensors (name -> tensor) as a safetensors file."""
    header, blobs, off = {"__metadata__": meta}, [], 0
    for name, t in tensors.items():
        raw = t.contiguous().view(torch.uint8).numpy().tobytes() if t.numel() else b""
        dt = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}[t.dtype]
        header[name] = {"dtype": dt, "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def make(args):
    s, p, w, layers, m, d = CONFIGS[args.config]
    g = torch.Generator().manual_seed(args.seed)
    dt = DTYPES[args.dtype]
    n = names(args.naming, layers)
    t = {}

    def rnd(*shape, std=0.02, mean=0.0):
        return (torch.randn(*shape, generator=g) * std + mean).to(dt)

    def ln(key):
        t[key + ".weight"] = rnd(w, std=0.1, mean=1.0)
        t[key + ".bias"] = rnd(w, std=0.05)

    def linear(key, out, inp):
        t[key + ".weight"] = rnd(out, inp)
        t[key + ".bias"] = rnd(out, std=0.02)

    t[n["patch"]] = rnd(w, 3, p, p)
    t[n["cls"]] = rnd(w, std=0.1)
    t[n["pos"]] = rnd((s // p) ** 2 + 1, w, std=0.1)
    ln(n["pre"])
    for i in range(layers):
        ln(n[(i, "ln1")])
        if args.naming == "hf":
            for part in "qkv":
                linear(n[(i, part)], w, w)
        else:
            t[n[(i, "qkv")] + "_weight"] = rnd(3 * w, w)
            t[n[(i, "qkv")] + "_bias"] = rnd(3 * w)
        linear(n[(i, "o")], w, w)
        ln(n[(i, "ln2")])
        linear(n[(i, "fc1")], m, w)
        linear(n[(i, "fc2")], w, m)
    ln(n["post"])
    t[n["proj"]] = rnd(d, w) if args.naming == "hf" else rnd(w, d)
    meta = {"hidden_act": args.act, "format": "pt"}
    if args.config == "tiny":
        meta["num_attention_heads"] = "4"
    save(args.out, t, meta)


def load(path, dtype=torch.float64):
    """Reads a safetensors file into tensors of dtype (float64 by default), and its
    metadata."""
    with open(path, "rb") as f:
        blob = f.read()
    hlen = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + hlen])
    meta = header.pop("__metadata__", {})
    base, out = 8 + hlen, {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        raw = bytearray(blob[base + b:base + end])
        dt = DTYPES[e["dtype"]]
        out[name] = torch.frombuffer(raw, dtype=dt).reshape(e["shape"]).to(dtype) \
            if raw else torch.zeros(e["shape"], dtype=dtype)
    return out, meta


def vit(t, meta, x):
    """The vision tower on x [B, 3, S, S]; returns the unit embeddings [B, D]."""
    naming = "hf" if "vision_model.pre_layrnorm.weight" in t else "openai"
    layers = 0
    while names(naming, layers + 1)[(layers, "ln1")] + ".weight" in t:
        layers += 1
    n = names(naming, layers)
    patch = t[n["patch"]]
    w, p = int(patch.shape[0]), int(patch.shape[2])
    heads = int(meta.get("num_attention_heads", w // 64))
    act = meta.get("hidden_act", "quick_gelu")

    def ln(key, v):
        return F.layer_norm(v, (w,), t[key + ".weight"], t[key + ".bias"], 1e-5)

    def linear(key, v):
        return v @ t[key + ".weight"].T + t[key + ".bias"]

    x = F.conv2d(x, patch, stride=p).flatten(2).transpose(1, 2)
    b = x.shape[0]
    x = torch.cat([t[n["cls"]].expand(b, 1, w), x], 1) + t[n["pos"]]
    x = ln(n["pre"], x)
    for i in range(layers):
        h = ln(n[(i, "ln1")], x)
        if naming == "hf":
            q, k, v = (linear(n[(i, part)], h) for part in "qkv")
        else:
            qkv = h @ t[n[(i, "qkv")] + "_weight"].T + t[n[(i, "qkv")] + "_bias"]
            q, k, v = qkv.split(w, dim=-1)
        q, k, v = (z.reshape(b, -1, heads, w // heads).transpose(1, 2) for z in (q, k, v))
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(w // heads), dim=-1) @ v
        x = x + linear(n[(i, "o")], a.transpose(1, 2).reshape(b, -1, w))
        h = linear(n[(i, "fc1")], ln(n[(i, "ln2")], x))
        h = h * torch.sigmoid(1.702 * h) if act == "quick_gelu" else F.gelu(h)
        x = x + linear(n[(i, "fc2")], h)
    c = ln(n["post"], x[:, 0])
    y = c @ (t[n["proj"]].T if naming == "hf" else t[n["proj"]])
    return F.normalize(y, dim=-1)


def prepare(path, side):
    """CLIP's preprocessing (torchvision Resize + CenterCrop on a PIL image)."""
    im = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    w, h = im.size
    if w <= h:
        size = (side, int(side * h / w))
    else:
        size = (int(side * w / h), side)
    im = im.resize(size, Image.BICUBIC)
    w, h = im.size
    top, left = int(round((h - side) / 2.0)), int(round((w - side) / 2.0))
    im = im.crop((left, top, left + side, top + side))
    x = torch.tensor(list(im.getdata()), dtype=torch.float64).reshape(side, side, 3) / 255
    x = (x - torch.tensor(MEAN, dtype=torch.float64)) / torch.tensor(STD, dtype=torch.float64)
    return x.permute(2, 0, 1)


def embed(args):
    t, meta = load(args.weights)
    key = "vision_model.embeddings.position_embedding.weight"
    pos = t[key] if key in t else t["visual.positional_embedding"]
    patch = t.get("vision_model.embeddings.patch_embedding.weight", t.get("visual.conv1.weight"))
    side = int(round(math.sqrt(pos.shape[0] - 1))) * patch.shape[2]
    with torch.no_grad():
        for f in args.images:
            y = vit(t, meta, prepare(f, side)[None])[0]
            print(json.dumps({"file": f, "embedding": y.tolist()}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("out")
    m.add_argument("--config", choices=CONFIGS, default="tiny")
    m.add_argument("--naming", choices=("hf", "openai"), default="hf")
    m.add_argument("--dtype", choices=DTYPES, default="F32")
    m.add_argument("--act", choices=("quick_gelu", "gelu"), default="quick_gelu")
    m.add_argument("--seed", type=int, default=1)
    e = sub.add_parser("embed")
    e.add_argument("weights")
    e.add_argument("images", nargs="+")
    args = ap.parse_args()
    torch.set_num_threads(1)
    make(args) if args.cmd == "make" else embed(args)


if __name__ == "__main__":
    sys.exit(main())
