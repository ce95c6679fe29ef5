"""Micro-benchmarks: ember vs PyTorch on the same inputs, timed alternately in one process.

Each workload runs as a batch of calls; per repetition the ember batch and the torch batch alternate
(so machine noise hits both alike), after a warm-up. The reported time per call is the median over
repetitions. PyTorch keeps its default thread count.

    python benchmarks/micro.py [--reps 15] [--quick] [--max-wait 2] [--extended] [--torch-threads N]

Before each repetition it waits (up to --max-wait s) for the machine to be quiet, since PyTorch's
threads stall when another process holds a core; rows measured under load say so.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

import ember


def _cpu_busy(interval=0.05):
    """Fraction of all CPUs busy over ``interval`` (this process is idle meanwhile), from /proc/stat."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v), v[3] + v[4]
    try:
        t0, i0 = sample()
        time.sleep(interval)
        t1, i1 = sample()
    except OSError:
        return 0.0
    return 1.0 - (i1 - i0) / max(t1 - t0, 1)


def _wait_quiet(max_wait, threshold=0.3):
    """Wait (up to max_wait s) until other processes leave the CPUs mostly idle; True if quiet."""
    end = time.perf_counter() + max_wait
    while True:
        if _cpu_busy() < threshold:
            return True
        if time.perf_counter() > end:
            return False


def _timeit(fn, number):
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t0) / number


def _calibrate(fn, target=0.02):
    """Calls per batch so that one batch takes about ``target`` seconds."""
    n = 1
    while True:
        t = _timeit(fn, n)
        if t * n >= target or n >= 1 << 20:
            return n
        n *= 4 if t * n < target / 8 else 2


def bench(name, fe, ft, reps, max_wait=0.0):
    for _ in range(3):  # warm-up (caches, lazy init, allocator)
        fe()
        ft()
    n = max(_calibrate(fe), _calibrate(ft))
    te, tt = [], []
    busy = 0
    for _ in range(reps):
        if max_wait and not _wait_quiet(max_wait):
            busy += 1
        # pause before each batch: a framework's BLAS/OpenMP threads spin for a while after work and, on
        # 2 cores, would slow the other framework's batch (torch's matmul measured 3x slower without it)
        time.sleep(0.15)
        te.append(_timeit(fe, n))
        time.sleep(0.15)
        tt.append(_timeit(ft, n))
    me, mt = statistics.median(te), statistics.median(tt)
    note = f"  ({busy}/{reps} reps on a busy machine)" if busy else ""
    print(f"{name:<38} {_fmt(me):>10} {_fmt(mt):>10} {me / mt:>8.2f}{note}", flush=True)
    return name, me, mt


def _fmt(s):
    return f"{s * 1e6:.1f} us" if s < 1e-3 else f"{s * 1e3:.2f} ms"


def _pair(shape, requires_grad=False, seed=0):
    a = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return (ember.from_numpy(a.copy()).requires_grad_(requires_grad),
            torch.from_numpy(a.copy()).requires_grad_(requires_grad))


def workloads(quick=False):
    big = (256, 256) if quick else (1024, 1024)
    ae, at = _pair(big)
    be, bt = _pair(big, seed=1)
    me, mt = _pair((256, 256))
    ne, nt = _pair((256, 256), seed=1)
    se, st = _pair((4,))
    s2e, s2t = _pair((4,), seed=1)
    ge, gt = _pair((4,), True)
    g2e, g2t = _pair((4,), True, seed=1)
    yield f"add {big[0]}x{big[1]}", lambda: ae + be, lambda: at + bt
    yield f"mul {big[0]}x{big[1]}", lambda: ae * be, lambda: at * bt
    yield "matmul 256x256", lambda: me @ ne, lambda: mt @ nt
    yield f"sum {big[0]}x{big[1]}", lambda: ae.sum(), lambda: at.sum()
    yield f"relu {big[0]}x{big[1]}", lambda: ae.relu(), lambda: at.relu()
    yield "tiny a+b (4 elems)", lambda: se + s2e, lambda: st + s2t
    yield "tiny a+b requires_grad", lambda: ge + g2e, lambda: gt + g2t

    def tiny_backward(lib, a, b):
        def run():
            (a * b + a).sum().backward()
        return run
    yield "tiny (a*b+a).sum().backward()", tiny_backward(ember, ge, g2e), tiny_backward(torch, gt, g2t)

    # A small MLP: 784-128-64-10, batch 64, forward + backward (cross-entropy-like loss via log_softmax).
    rng = np.random.default_rng(2)
    shapes = [(128, 784), (128,), (64, 128), (64,), (10, 64), (10,)]
    ws = [(rng.standard_normal(s) * 0.05).astype(np.float32) for s in shapes]
    pe = [ember.from_numpy(w.copy()).requires_grad_() for w in ws]
    pt = [torch.from_numpy(w.copy()).requires_grad_() for w in ws]
    xe, xt = _pair((64, 784), seed=3)

    def mlp(lib, p, x):
        def run():
            h = (x @ p[0].T + p[1]).relu()
            h = (h @ p[2].T + p[3]).relu()
            o = h @ p[4].T + p[5]
            loss = (o - o.exp().sum(1, keepdim=True).log()).mean()
            for q in p:
                q.grad = None
            loss.backward()
        return run
    yield "MLP 784-128-64-10 b64 fwd+bwd", mlp(ember, pe, xe), mlp(torch, pt, xt)


def extended_workloads():
    """Indexing, sorting and linear-algebra ops (forward, or forward+backward where marked)."""
    rng = np.random.default_rng(4)

    def const(a):
        return ember.from_numpy(a), torch.from_numpy(a.copy())
    xe, xt = _pair((256, 1000), True)
    ie, it = const(rng.integers(0, 1000, (256, 1)))
    yield "gather (256,1000) f+b", lambda: xe.gather(1, ie).sum().backward(), \
        lambda: xt.gather(1, it).sum().backward()
    ae, at = _pair((16, 8, 64, 64), True)
    me, mt = const(rng.random((64, 64)) > 0.5)
    yield "masked_fill (16,8,64,64) f+b", lambda: ae.masked_fill(me, -1e9).sum().backward(), \
        lambda: at.masked_fill(mt, -1e9).sum().backward()
    we, wt = _pair((10000, 128), True)
    je, jt = const(rng.integers(0, 10000, 4096))
    yield "index_select 4096 of (10000,128) f+b", lambda: we.index_select(0, je).sum().backward(), \
        lambda: wt.index_select(0, jt).sum().backward()
    yield "W[idx] 4096 of (10000,128) f+b", lambda: we[je].sum().backward(), lambda: wt[jt].sum().backward()
    se, st = _pair((256, 1000))
    yield "sort (256,1000)", lambda: se.sort(1), lambda: st.sort(1)
    yield "topk k=5 (256,1000)", lambda: se.topk(5, 1), lambda: st.topk(5, 1)
    ve, vt = _pair((64, 32, 32))
    yield "linalg.inv (64,32,32)", lambda: ember.linalg.inv(ve), lambda: torch.linalg.inv(vt)
    ue, ut = _pair((128, 64))
    yield "linalg.svd (128,64)", lambda: ember.linalg.svd(ue, full_matrices=False), \
        lambda: torch.linalg.svd(ut, full_matrices=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--quick", action="store_true", help="smaller elementwise inputs (256x256)")
    ap.add_argument("--max-wait", type=float, default=2.0,
                    help="seconds to wait for other processes to idle before each repetition (0: never)")
    ap.add_argument("--extended", action="store_true", help="also time indexing, sorting and linalg ops")
    ap.add_argument("--torch-threads", type=int, default=None,
                    help="torch.set_num_threads(N) (default: leave PyTorch's default)")
    args = ap.parse_args()
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads), ember {ember.__version__}, "
          f"numpy {np.__version__}; median of {args.reps} alternating repetitions")
    print(f"{'workload':<38} {'ember':>10} {'torch':>10} {'ratio':>8}")
    for name, fe, ft in workloads(args.quick):
        bench(name, fe, ft, args.reps, args.max_wait)
    if args.extended:
        for name, fe, ft in extended_workloads():
            bench(name, fe, ft, args.reps, args.max_wait)


if __name__ == "__main__":
    main()
