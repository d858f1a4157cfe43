"""PyTorch peer for bench/bench_identity.sh: dlib's face recognition ResNet (face-api's
weights manifest) ported to torch, traced, frozen with torch.jit.freeze and
torch.jit.optimize_for_inference (oneDNN), timed on face chips.

  /usr/bin/python3 bench/torch_dlib.py --manifest face_recognition_model-weights_manifest.json
      --faces FACES.rgb --count N --out DESC.f32 [--threads T] [--runs R] [--batch B]
      [--check REF.f32]

FACES.rgb holds N 150 x 150 RGB chips (bytes), as tools/tfjs/dlib.js reads them; each is
normalised as face-api does and DESC.f32 gets the N x 128 descriptors. --check compares
them with REF.f32 (tools/tfjs/dlib.js's) and exits 1 beyond 1e-4. --runs R times R runs
(after 3 warm-ups) of a batch of B chips (default 1) and prints `median_ms X`; `gflop X`
is 2 x the multiply-adds per face. Run with Debian's python3-torch (/usr/bin/python3).
"""
import argparse
import json
import os
import sys
import time
import warnings

import numpy as np
import torch_pin

torch_pin.pin_threads(sys.argv[1:])
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

SIDE = 150
MEAN_RGB = np.array([122.782, 117.001, 104.298], dtype=np.float32)
BLOCKS = [("conv32_1", 0), ("conv32_2", 0), ("conv32_3", 0), ("conv64_down", 1),
          ("conv64_1", 0), ("conv64_2", 0), ("conv64_3", 0), ("conv128_down", 1),
          ("conv128_1", 0), ("conv128_2", 0), ("conv256_down", 1), ("conv256_1", 0),
          ("conv256_2", 0), ("conv256_down_out", 1)]


def load_weights(path):
    """Manifest -> {name: float32 array}; uint8/uint16 as q * scale + min."""
    with open(path) as f:
        groups = json.load(f)
    w = {}
    for g in groups:
        raw = b"".join(open(os.path.join(os.path.dirname(path), p), "rb").read()
                       for p in g["paths"])
        off = 0
        for spec in g["weights"]:
            q = spec.get("quantization")
            stored = np.dtype(q["dtype"] if q else spec["dtype"])
            count = int(np.prod(spec["shape"]))
            a = np.frombuffer(raw, dtype=stored, count=count, offset=off)
            off += count * stored.itemsize
            if q and q["dtype"] in ("uint8", "uint16"):
                a = a.astype(np.float64) * q["scale"] + q["min"]
            w[spec["name"]] = np.array(a, dtype=np.float32).reshape(spec["shape"])
    return w


class ConvLayer(torch.nn.Module):
    """conv + bias, then x * scale + shift (face-api's scale layer), optional ReLU."""

    def __init__(self, w, prefix, stride, relu):
        super().__init__()
        filt = torch.from_numpy(w[prefix + "/conv/filters"]).permute(3, 2, 0, 1).contiguous()
        self.conv = torch.nn.Conv2d(filt.shape[1], filt.shape[0], filt.shape[2], stride,
                                    padding=0 if stride == 2 or filt.shape[2] == 7 else 1)
        self.conv.weight.data.copy_(filt)
        self.conv.bias.data.copy_(torch.from_numpy(w[prefix + "/conv/bias"]))
        self.scale = torch.nn.Parameter(torch.from_numpy(w[prefix + "/scale/weights"]).view(1, -1, 1, 1))
        self.shift = torch.nn.Parameter(torch.from_numpy(w[prefix + "/scale/biases"]).view(1, -1, 1, 1))
        self.relu = relu

    def forward(self, x):
        y = self.conv(x) * self.scale + self.shift
        return F.relu(y) if self.relu else y


class Block(torch.nn.Module):
    """Residual block; a down block pools its shortcut 2x2/2, appends zero channels when
    the width grows and pads the convolution path at the bottom and right to the pool's
    size."""

    def __init__(self, w, name, down):
        super().__init__()
        self.c1 = ConvLayer(w, name + "/conv1", 2 if down else 1, True)
        self.c2 = ConvLayer(w, name + "/conv2", 1, False)
        self.down = down

    def forward(self, x):
        y = self.c2(self.c1(x))
        if not self.down:
            return F.relu(y + x)
        skip = F.avg_pool2d(x, 2, 2)
        if skip.shape[1] != y.shape[1]:
            skip = torch.cat([skip, torch.zeros_like(skip)], 1)
        dh, dw = skip.shape[2] - y.shape[2], skip.shape[3] - y.shape[3]
        if dh or dw:
            y = F.pad(y, (0, dw, 0, dh))
        return F.relu(y + skip)


class DlibResNet(torch.nn.Module):
    def __init__(self, w):
        super().__init__()
        self.first = ConvLayer(w, "conv32_down", 2, True)
        self.blocks = torch.nn.ModuleList([Block(w, n, d) for n, d in BLOCKS])
        self.fc = torch.nn.Parameter(torch.from_numpy(w["fc"]))

    def forward(self, x):  # x: N x 3 x 150 x 150, normalised
        x = F.max_pool2d(self.first(x), 3, 2)
        for b in self.blocks:
            x = b(x)
        return x.mean((2, 3)) @ self.fc


def gflop_per_face(model):
    """2 x multiply-adds of the convolutions and the product, from a traced pass."""
    total, hooks = [0], []

    def count(mod, inp, out):
        k = mod.weight.shape[1] * mod.weight.shape[2] * mod.weight.shape[3]
        total[0] += 2 * out.numel() * k

    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d):
            hooks.append(m.register_forward_hook(count))
    with torch.no_grad():
        model(torch.zeros(1, 3, SIDE, SIDE))
    for h in hooks:
        h.remove()
    return (total[0] + 2 * model.fc.numel()) / 1e9


def read_faces(path, n):
    px = np.fromfile(path, dtype=np.uint8)
    if px.size < n * SIDE * SIDE * 3:
        raise SystemExit("torch_dlib: %s holds fewer than %d faces" % (path, n))
    x = (px[:n * SIDE * SIDE * 3].reshape(n, SIDE, SIDE, 3).astype(np.float32) - MEAN_RGB) / np.float32(255)
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def freeze(model, x):
    warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
    with torch.no_grad():
        traced = torch.jit.trace(model, x, check_trace=False)
    return torch.jit.optimize_for_inference(torch.jit.freeze(traced.eval()))


def time_runs(frozen, x, runs):
    times = []
    with torch.inference_mode():
        for _ in range(3):
            frozen(x)
        for _ in range(runs):
            t0 = time.perf_counter()
            frozen(x)
            times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    return times[len(times) // 2]


def main():
    p = argparse.ArgumentParser(description="dlib's ResNet on PyTorch")
    for name in ("manifest", "faces", "count", "out"):
        p.add_argument("--" + name, required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--runs", type=int, default=0)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--check")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    model = DlibResNet(load_weights(a.manifest)).eval()
    print("gflop %.4f" % gflop_per_face(model))
    n = int(a.count)
    x = read_faces(a.faces, n)
    frozen = freeze(model, x[:1])
    with torch.inference_mode():
        d = torch.cat([frozen(x[i:i + 1]) for i in range(n)]).numpy().astype(np.float32)
    d.tofile(a.out)
    rc = 0
    if a.check:
        want = np.fromfile(a.check, dtype=np.float32)
        err = float(np.abs(d.reshape(-1).astype(np.float64) - want).max()) if want.size == d.size else np.inf
        print("check: %d descriptors, max |torch - reference| %.3g" % (n, err))
        rc = 0 if err <= 1e-4 else 1
    if a.runs:
        xb = x[np.arange(a.batch) % n]
        print("median_ms %.3f threads %d batch %d" % (time_runs(freeze(model, xb), xb, a.runs),
                                                       a.threads, a.batch))
    return rc


if __name__ == "__main__":
    sys.exit(main())
