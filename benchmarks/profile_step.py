"""Where one of compare.py's training steps spends its time in ember: per autograd Function, per convolution
kernel, and how much of each is GEMM.

    python benchmarks/profile_step.py c [--steps 6]

Prints the step's wall time and the cores it kept busy (process CPU time / wall), then for every Function
(outermost calls only: a backward that runs other Functions counts once) its wall and CPU time per step, then
for every convolution kernel and the shape of its first array (x, or gy for a gradient) its wall time and the
time its threads spent inside ``np.matmul`` (summed over threads) -- ``non-GEMM`` is the wall time left when
that GEMM time is shared over the threads: copies, tile transforms, adds, waits. The timers cost a few
microseconds per call, so the step runs a little slower than in compare.py. A profiling aid, not a benchmark:
no PyTorch here.
"""
from __future__ import annotations

import argparse
import collections
import functools
import sys
import threading
import time
import types

import numpy as np

import ember
from ember.autograd.function import Function
from ember.backend import parallel
from ember.backend.kernels import conv, gemm, winograd

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from compare import WORKLOADS  # noqa: E402  (the workloads are defined once, in compare.py)

CONV_KERNELS = {conv: ["_forward_rows", "_grad_weight_rows", "_forward_im2col", "_forward_cl", "_forward_pointwise",
                       "_grad_input_col2im", "_grad_input_taps", "_grad_weight_im2col", "_grad_weight_cl",
                       "_grad_weight_pointwise"],
                winograd: ["conv3x3", "grad_weight"]}


class Profile:
    def __init__(self):
        self.wall = collections.defaultdict(float)
        self.cpu = collections.defaultdict(float)
        self.calls = collections.Counter()
        self.gemm = collections.defaultdict(float)
        self.kernel_wall = collections.defaultdict(float)
        self.kernel_calls = collections.Counter()
        self.current = None          # the conv kernel running now (kernels run one at a time)
        self.depth = 0
        self._lock = threading.Lock()

    def clear(self):
        for d in (self.wall, self.cpu, self.calls, self.gemm, self.kernel_wall, self.kernel_calls):
            d.clear()

    def timed_function(self, fn, name):
        @functools.wraps(fn)
        def run(*args):
            if self.depth:
                return fn(*args)
            self.depth += 1
            t, c = time.perf_counter(), time.process_time()
            try:
                return fn(*args)
            finally:
                self.wall[name] += time.perf_counter() - t
                self.cpu[name] += time.process_time() - c
                self.calls[name] += 1
                self.depth -= 1
        return run

    def timed_kernel(self, fn, name):
        @functools.wraps(fn)
        def run(x, *args, **kwargs):
            if self.current is not None:          # a kernel calling another: counted in the outer one
                return fn(x, *args, **kwargs)
            label = f"{name} {'x'.join(map(str, x.shape[1:]))}"
            self.current = label
            t = time.perf_counter()
            try:
                return fn(x, *args, **kwargs)
            finally:
                self.kernel_wall[label] += time.perf_counter() - t
                self.kernel_calls[label] += 1
                self.current = None
        return run

    def timed_matmul(self, *args, **kwargs):
        t = time.perf_counter()
        out = np.matmul(*args, **kwargs)
        dt = time.perf_counter() - t
        with self._lock:
            self.gemm[self.current] += dt
        return out


def _functions(cls=Function):
    for sub in cls.__subclasses__():
        yield sub
        yield from _functions(sub)


def instrument(prof: Profile) -> None:
    for cls in list(_functions()):
        if "forward" in cls.__dict__:
            cls.forward = staticmethod(prof.timed_function(cls.forward, "forward  " + cls.__name__))
        if "backward" in cls.__dict__:
            cls.backward = staticmethod(prof.timed_function(cls.backward, "backward " + cls.__name__))
    # the kernel modules call np.matmul through their module-level ``np``: give them one whose matmul is timed
    for module in (conv, winograd, gemm):
        proxy = types.ModuleType("numpy_timed")
        proxy.__dict__.update(np.__dict__)
        proxy.matmul = prof.timed_matmul
        module.np = proxy
    for module, names in CONV_KERNELS.items():
        for name in names:
            setattr(module, name, prof.timed_kernel(getattr(module, name), name))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("workload", choices=sorted(WORKLOADS))
    ap.add_argument("--steps", type=int, default=None, help="steps timed (default: about 5 s of them)")
    ap.add_argument("--top", type=int, default=15, help="rows per table")
    args = ap.parse_args(argv)

    name, _, make = WORKLOADS[args.workload]
    step = make(ember)
    step()                           # every Function class the step uses now exists
    prof = Profile()
    instrument(prof)
    t = time.perf_counter()
    for _ in range(2):
        step()
    steps = args.steps or max(3, round(5 / ((time.perf_counter() - t) / 2)))
    prof.clear()
    t, c = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    wall, cpu = (time.perf_counter() - t) / steps, (time.process_time() - c) / steps
    ms = 1e3 / steps
    print(f"{args.workload}  {name}: {steps} steps, {parallel.num_threads()} threads")
    print(f"step {wall * 1e3:.2f} ms wall, {cpu * 1e3:.2f} ms CPU ({cpu / wall:.2f} cores busy); outside the "
          f"Functions {(wall * steps - sum(prof.wall.values())) * ms:.2f} ms wall")
    print(f"\n{'Function':<36}{'calls':>6}{'wall ms':>10}{'CPU ms':>10}{'cores':>7}")
    for key, w in sorted(prof.wall.items(), key=lambda kv: -kv[1])[:args.top]:
        print(f"{key:<36}{prof.calls[key] // steps:>6}{w * ms:>10.2f}{prof.cpu[key] * ms:>10.2f}"
              f"{prof.cpu[key] / w if w else 0:>7.2f}")
    if prof.kernel_wall:
        threads = parallel.num_threads()
        total_w, total_g = sum(prof.kernel_wall.values()), sum(prof.gemm[k] for k in prof.kernel_wall)
        print(f"\nconv kernels: {total_w * ms:.1f} ms wall, GEMM {total_g * ms:.1f} thread-ms "
              f"(= {total_g / threads * ms:.1f} ms on {threads} threads)")
        print(f"{'kernel, 1st array (C, H, W)':<40}{'calls':>6}{'wall ms':>10}{'GEMM thr-ms':>13}{'non-GEMM ms':>13}")
        for key, w in sorted(prof.kernel_wall.items(), key=lambda kv: -kv[1])[:args.top]:
            g = prof.gemm[key]
            print(f"{key:<40}{prof.kernel_calls[key] // steps:>6}{w * ms:>10.2f}{g * ms:>13.2f}"
                  f"{(w - g / threads) * ms:>13.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
