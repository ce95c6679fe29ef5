"""Conv kernels vs PyTorch: forward / grad_input / grad_weight GFLOP/s on the shapes that matter.

    python benchmarks/kernels_conv.py               # all shapes, float32, 2 threads, wall clock
    python benchmarks/kernels_conv.py --designs     # also the forward designs that were not chosen
    python benchmarks/kernels_conv.py --threads 1   # 1 thread, CPU time of the thread (robust on a busy machine)
    python benchmarks/kernels_conv.py --only resnet --reps 9

ember and torch run alternately in one process and the median of the repetitions is reported. With 2 threads
each repetition waits until the machine is quiet (other processes' CPU use, read from /proc/stat, bounded wait):
absolute figures move between runs on a shared machine, the ratio much less. ``--threads 1`` instead times
the calling thread's CPU time, which other processes barely disturb. Never a CI gate.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

if __name__ == "__main__" and "--threads" in sys.argv:   # BLAS reads its thread count when NumPy loads
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = sys.argv[sys.argv.index("--threads") + 1]

import numpy as np  # noqa: E402
import torch  # noqa: E402

from ember.backend.kernels import conv as K  # noqa: E402

# (name, N, C_in, H, W, C_out, k, stride, padding, groups)
SHAPES = [
    ("lenet c1 5x5", 100, 1, 28, 28, 32, 5, 1, 0, 1),
    ("lenet c2 5x5", 100, 32, 12, 12, 64, 5, 1, 0, 1),
    ("resnet 64ch 32x32", 32, 64, 32, 32, 64, 3, 1, 1, 1),
    ("resnet 128ch 16x16", 32, 128, 16, 16, 128, 3, 1, 1, 1),
    ("resnet 256ch 8x8", 32, 256, 8, 8, 256, 3, 1, 1, 1),
    ("resnet 512ch 4x4", 32, 512, 4, 4, 512, 3, 1, 1, 1),
    ("resnet 64>128 s2 32x32", 32, 64, 32, 32, 128, 3, 2, 1, 1),
    ("resnet 128>256 s2 16x16", 32, 128, 16, 16, 256, 3, 2, 1, 1),
    ("resnet 256>512 s2 8x8", 32, 256, 8, 8, 512, 3, 2, 1, 1),
    ("resnet 1x1 64>128 s2", 32, 64, 32, 32, 128, 1, 2, 0, 1),
    ("resnet 1x1 256>512 s2", 32, 256, 8, 8, 512, 1, 2, 0, 1),
    ("resnet 1x1 128>128 s1", 32, 128, 16, 16, 128, 1, 1, 0, 1),
    ("depthwise 128ch 16x16", 32, 128, 16, 16, 128, 3, 1, 1, 128),
]


# --------------------------------------------------------------------------------------------- timing
def _cpu_idle():
    with open("/proc/stat") as f:
        v = [int(a) for a in f.readline().split()[1:]]
    return v[3] + v[4], sum(v)


def wait_quiet(min_idle: float = 0.8, window: float = 0.05, timeout: float = 10.0) -> None:
    """Wait until other processes leave most of the machine idle (bounded by ``timeout``)."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        i0, s0 = _cpu_idle()
        time.sleep(window)
        i1, s1 = _cpu_idle()
        if (i1 - i0) / max(1, s1 - s0) >= min_idle:
            return


def timed(fns: dict, reps: int, cpu_clock: bool) -> dict:
    """Median seconds of each callable; the callables run alternately."""
    clock = time.thread_time if cpu_clock else time.perf_counter
    for f in fns.values():
        f()
    ts = {k: [] for k in fns}
    for _ in range(reps):
        for k, f in fns.items():
            if not cpu_clock:
                wait_quiet()
            t = clock()
            f()
            ts[k].append(clock() - t)
    return {k: float(np.median(v)) for k, v in ts.items()}


def gemm_ceiling(reps: int, cpu_clock: bool) -> float:
    a = np.random.rand(2048, 2048).astype(np.float32)
    b = np.random.rand(2048, 2048).astype(np.float32)
    return 2 * 2048**3 / timed({"g": lambda: a @ b}, reps, cpu_clock)["g"] / 1e9


# ------------------------------------------------------------------------------ designs not chosen
def shifted_gemm_forward(x: np.ndarray, w: np.ndarray, pad: int) -> np.ndarray:
    """The 'shifted GEMMs' design of ARCHITECTURE.md (2d, stride 1, groups 1): pad channels-last, view the input
    flat as rows of C, and per kernel tap run one GEMM on a shifted slice, accumulating on the padded grid."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.zeros((n, h + 2 * pad, wd + 2 * pad, c), x.dtype)
    xp[:, pad:pad + h, pad:pad + wd] = x.transpose(0, 2, 3, 1)
    hp, wp = xp.shape[1:3]
    ho, wo = hp - kh + 1, wp - kw + 1
    xf = xp.reshape(-1, c)
    rows = xf.shape[0] - ((kh - 1) * wp + kw - 1)
    wt = np.ascontiguousarray(w.transpose(2, 3, 1, 0))
    y = np.empty((xf.shape[0], o), x.dtype)
    acc, tmp = y[:rows], np.empty((rows, o), x.dtype)
    for i in range(kh):
        for j in range(kw):
            off = i * wp + j
            if i == j == 0:
                np.matmul(xf[off:off + rows], wt[i, j], out=acc)
            else:
                np.matmul(xf[off:off + rows], wt[i, j], out=tmp)
                acc += tmp
    return np.ascontiguousarray(y.reshape(n, hp, wp, o)[:, :ho, :wo].transpose(0, 3, 1, 2))


def unchunked_im2col_forward(x, w, s, p, g):
    """The library's im2col with the whole batch in one chunk (no cache blocking)."""
    saved = K._CHUNK_COLS, K._CHUNK_BYTES
    K._CHUNK_COLS, K._CHUNK_BYTES = 1 << 40, 1 << 40
    try:
        return K.conv_forward(x, w, (s, s), (p, p), (1, 1), g)
    finally:
        K._CHUNK_COLS, K._CHUNK_BYTES = saved


# ----------------------------------------------------------------------------------------------- main
def bench_shape(name, n, c, h, w_, o, k, s, p, g, reps, designs, cpu_clock):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, w_), dtype=np.float32)
    w = rng.standard_normal((o, c // g, k, k), dtype=np.float32)
    y = K.conv_forward(x, w, (s, s), (p, p), (1, 1), g)
    gy = rng.standard_normal(y.shape, dtype=np.float32)
    tx, tw, tgy = torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(gy)
    flops = 2 * y.size * (c // g) * k * k

    def torch_backward(mask):
        return lambda: torch.ops.aten.convolution_backward(tgy, tx, tw, None, [s, s], [p, p], [1, 1], False,
                                                           [0, 0], g, mask)

    fns = {
        "fwd": lambda: K.conv_forward(x, w, (s, s), (p, p), (1, 1), g),
        "fwd_t": lambda: torch.nn.functional.conv2d(tx, tw, None, s, p, 1, g),
        "gin": lambda: K.conv_grad_input(gy, w, x.shape, (s, s), (p, p), (1, 1), g),
        "gin_t": torch_backward([True, False, False]),
        "gw": lambda: K.conv_grad_weight(gy, x, w.shape, (s, s), (p, p), (1, 1), g),
        "gw_t": torch_backward([False, True, False]),
    }
    if designs and k > 1:
        fns["unchunked"] = lambda: unchunked_im2col_forward(x, w, s, p, g)
        if s == 1 and g == 1:
            fns["shifted"] = lambda: shifted_gemm_forward(x, w, p)
    t = timed(fns, reps, cpu_clock)
    gf = {key: flops / v / 1e9 for key, v in t.items()}
    row = f"{name:24s}"
    for key in ("fwd", "gin", "gw"):
        row += f" | {gf[key]:6.1f} {gf[key + '_t']:6.1f} {t[key + '_t'] / t[key]:5.2f}"
    for key in ("unchunked", "shifted"):
        if key in gf:
            row += f" | {key} {gf[key]:5.1f}"
    print(row, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2, help="BLAS and torch threads; 1 → thread CPU time")
    ap.add_argument("--designs", action="store_true", help="also time the unchunked im2col and shifted-GEMM forwards")
    ap.add_argument("--only", default="", help="substring filter on the shape names")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cpu_clock = args.threads == 1
    clock = "thread CPU time" if cpu_clock else "wall clock"
    print(f"float32 GEMM ceiling (2048^3 np.matmul, {args.threads} thread(s), {clock}): "
          f"{gemm_ceiling(args.reps, cpu_clock):.0f} GFLOP/s")
    print("GFLOP/s of ember, of torch, and the speed ratio ember/torch (>1: ember faster); median of "
          f"{args.reps}")
    print(f"{'shape':24s} | {'forward':^18s} | {'grad_input':^18s} | {'grad_weight':^18s}")
    for shape in SHAPES:
        if args.only in shape[0]:
            bench_shape(*shape, reps=args.reps, designs=args.designs, cpu_clock=cpu_clock)


if __name__ == "__main__":
    main()
