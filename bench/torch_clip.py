#!/usr/bin/python3
"""The PyTorch peer of doppel's CLIP benchmark: the ViT of tests/clip_ref.py in float32,
traced, frozen and optimised for inference (as bench/torch_nn.py does for the face
models), timed on a batch of random images.

  torch_clip.py WEIGHTS.safetensors --batch B --threads T --runs R
prints `median_ms X` (per batch, after 3 warm-ups) and `threads T`.
"""
import argparse
import math
import os
import sys
import time
import warnings

import torch_pin

torch_pin.pin_threads(sys.argv[1:])
import torch  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import clip_ref  # noqa: E402


class Vit(torch.nn.Module):
    def __init__(self, tensors, meta):
        super().__init__()
        self.names = list(tensors)
        for i, t in enumerate(tensors.values()):
            self.register_buffer("w%d" % i, t)
        self.meta = meta

    def forward(self, x):
        t = {n: getattr(self, "w%d" % i) for i, n in enumerate(self.names)}
        return clip_ref.vit(t, self.meta, x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("weights")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=10)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    tensors, meta = clip_ref.load(a.weights, torch.float32)
    pos = [v for k, v in tensors.items() if "position" in k][0]
    patch = [v for k, v in tensors.items() if "patch_embedding" in k or "conv1" in k][0]
    side = int(round(math.sqrt(pos.shape[0] - 1))) * patch.shape[2]
    x = torch.randn(a.batch, 3, side, side, generator=torch.Generator().manual_seed(1))
    warnings.filterwarnings("ignore")
    with torch.no_grad():
        traced = torch.jit.trace(Vit(tensors, meta).eval(), x, check_trace=False)
    model = torch.jit.optimize_for_inference(torch.jit.freeze(traced.eval()))
    times = []
    with torch.inference_mode():
        for r in range(3 + a.runs):
            t0 = time.perf_counter()
            model(x)
            if r >= 3:
                times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    print("median_ms %.3f" % times[len(times) // 2])
    print("threads %d" % a.threads)


if __name__ == "__main__":
    main()
