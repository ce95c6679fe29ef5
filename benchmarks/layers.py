"""Per-layer forward+backward timings, ember vs PyTorch in one run: the course network's layers at batch 100
(conv2d 1->32 5x5, max_pool2d 3, conv2d 32->64 5x5, max_pool2d 2, linear 256->200, linear 200->10) and
3x3 convs on 32x32 and 8x8 maps at batch 32, with GFLOP/s beside the machine's float32 GEMM ceiling.

    python benchmarks/layers.py [--reps 9]

Each row times ember and torch alternately (warm-up, then the median of --reps repetitions), waiting for a
quiet machine before each repetition (see compare.py). GFLOP/s counts 2 flops per multiply-add of the
forward pass (backward of a conv/linear costs twice that; the f+b column counts 3x).
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import gemm_ceiling, time_pair  # noqa: E402

# (name, kind, input shape, parameters)
LAYERS = [
    ("course conv1 1>32 5x5", "conv", (100, 1, 28, 28), dict(c_out=32, k=5, pad=0)),
    ("course pool1 3x3", "pool", (100, 32, 24, 24), dict(k=3)),
    ("course conv2 32>64 5x5", "conv", (100, 32, 8, 8), dict(c_out=64, k=5, pad=0)),
    ("course pool2 2x2", "pool", (100, 64, 4, 4), dict(k=2)),
    ("course fc1 256>200", "linear", (100, 256), dict(out=200)),
    ("course fc2 200>10", "linear", (100, 200), dict(out=10)),
    ("conv 3x3 64ch 32x32", "conv", (32, 64, 32, 32), dict(c_out=64, k=3, pad=1)),
    ("conv 3x3 128ch 32x32", "conv", (32, 128, 32, 32), dict(c_out=128, k=3, pad=1)),
    ("conv 3x3 256ch 8x8", "conv", (32, 256, 8, 8), dict(c_out=256, k=3, pad=1)),
    ("conv 3x3 512ch 8x8", "conv", (32, 512, 8, 8), dict(c_out=512, k=3, pad=1)),
]


def make(fw, kind, shape, p, rng):
    F = fw.nn.functional
    x = fw.from_numpy(rng.standard_normal(shape).astype(np.float32)).requires_grad_()
    if kind == "conv":
        w = fw.from_numpy((rng.standard_normal((p["c_out"], shape[1], p["k"], p["k"])) * 0.05)
                          .astype(np.float32)).requires_grad_()
        b = fw.zeros(p["c_out"], requires_grad=True)
        return lambda: F.conv2d(x, w, b, padding=p["pad"])
    if kind == "pool":
        return lambda: F.max_pool2d(x, p["k"])
    w = fw.from_numpy((rng.standard_normal((p["out"], shape[1])) * 0.05).astype(np.float32)).requires_grad_()
    b = fw.zeros(p["out"], requires_grad=True)
    return lambda: F.linear(x, w, b)


def flops(kind, shape, p):
    if kind == "conv":
        n, c, h, w = shape
        ho, wo = h + 2 * p["pad"] - p["k"] + 1, w + 2 * p["pad"] - p["k"] + 1
        return 2 * n * p["c_out"] * c * p["k"] ** 2 * ho * wo
    if kind == "linear":
        return 2 * shape[0] * shape[1] * p["out"]
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=9)
    args = ap.parse_args(argv)
    import torch

    import ember
    ceiling = gemm_ceiling()
    print(f"float32 GEMM ceiling here (2048^3 matmul): {ceiling:.0f} GFLOP/s; times are medians of {args.reps}")
    print(f"{'layer':<24}{'ember fwd ms':>13}{'torch fwd ms':>13}{'ratio':>7}{'ember GF/s':>11}{'% ceil':>7}"
          f"{'ember f+b ms':>13}{'torch f+b ms':>13}{'ratio':>7}")
    for name, kind, shape, p in LAYERS:
        fe = make(ember, kind, shape, p, np.random.default_rng(0))
        ft = make(torch, kind, shape, p, np.random.default_rng(0))
        with ember.no_grad(), torch.no_grad():
            te, tt = time_pair(fe, ft, args.reps)
        be, bt = time_pair(lambda fe=fe: fe().sum().backward(), lambda ft=ft: ft().sum().backward(), args.reps)
        fl = flops(kind, shape, p)
        gf = f"{fl / te / 1e9:>11.1f}{100 * fl / te / 1e9 / ceiling:>6.0f}%" if fl else f"{'':>11}{'':>7}"
        print(f"{name:<24}{te * 1e3:>13.3f}{tt * 1e3:>13.3f}{te / tt:>7.2f}{gf}"
              f"{be * 1e3:>13.3f}{bt * 1e3:>13.3f}{be / bt:>7.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
