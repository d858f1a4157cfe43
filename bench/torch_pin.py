"""Thread pinning for the PyTorch peers of doppel's benchmarks.

OpenMP (oneDNN, aten), OpenBLAS (Debian's torch does its matrix products through the
system BLAS) and MKL each read their thread count once, when torch loads, and
torch.set_num_threads does not reach OpenBLAS: a peer told `--threads 1` must set them
before `import torch`, or its products run on every core.
"""
import argparse
import os


def pin_threads(argv):
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--threads", type=int, default=1)
    n = p.parse_known_args(argv)[0].threads
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)
