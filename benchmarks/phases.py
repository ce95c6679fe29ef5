"""Where a training step's time goes, ember beside PyTorch: zero_grad, forward (model and loss), backward and
the optimizer step, each timed on its own, for compare.py's training workloads.

    python benchmarks/phases.py a [--steps 50] [--rounds 3]

Per round, each framework runs ``--steps`` steps (after a few of warm-up) timing every phase, then the other
framework does the same after a pause (for the spinning thread pools, see compare.py); a row per framework and
round gives the median of each phase in ms, and their sum. The phases share one process, so their order is the
training step's own. A profiling aid, not a benchmark of record: compare.py gives the ratios.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import TRAIN, make_train_parts  # noqa: E402

PHASES = ("zero_grad", "forward", "backward", "step")


def phases(fw, key: str, steps: int, warmup: int = 5) -> dict[str, float]:
    """Median ms of each phase over ``steps`` training steps of workload ``key`` in framework fw."""
    zero_grad, forward, backward, update = make_train_parts(fw, *TRAIN[key])
    times = {p: [] for p in PHASES}
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        zero_grad()
        t1 = time.perf_counter()
        loss = forward()
        t2 = time.perf_counter()
        backward(loss)
        t3 = time.perf_counter()
        update()
        t4 = time.perf_counter()
        if i >= warmup:
            for p, dt in zip(PHASES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
                times[p].append(dt)
    return {p: statistics.median(v) * 1e3 for p, v in times.items()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("workload", choices=sorted(TRAIN))
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)

    import torch

    import ember
    print(f"workload {args.workload}, median ms per phase over {args.steps} steps, ember and torch "
          f"{torch.__version__} alternating ({torch.get_num_threads()} torch threads)")
    print(f"{'':8}" + "".join(f"{p:>11}" for p in PHASES) + f"{'sum':>11}")
    for _ in range(args.rounds):
        for name, fw in (("ember", ember), ("torch", torch)):
            time.sleep(0.3)
            ms = phases(fw, args.workload, args.steps)
            print(f"{name:<8}" + "".join(f"{ms[p]:>11.3f}" for p in PHASES) + f"{sum(ms.values()):>11.3f}",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
