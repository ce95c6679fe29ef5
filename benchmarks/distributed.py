"""Data-parallel training on one machine: ember (MPI) against PyTorch DDP (gloo, torchrun), side by side.

    python benchmarks/distributed.py                 # everything (a few minutes)
    python benchmarks/distributed.py train --models course --steps 10
    python benchmarks/distributed.py allreduce       # all-reduce bandwidth, 1-64 MB

``train``: the course MNIST network (global batch 100) and ResNet-18 for 32x32x3 inputs (CIFAR
layout, global batch 32), SGD with momentum, synthetic data, in four set-ups: 1 rank x 1 thread,
1 rank x 2 threads, 2 ranks x 1 thread (the global batch split in two), each for ember
(``ember run --nproc-per-node N``) and PyTorch (``torchrun --nproc-per-node N``, gloo). The same
program (``import torch``) runs in both: under ``ember run`` ``torch`` is ember. Reported: global
samples per second (median step time over the timed steps, after warm-up).

``allreduce``: time of an in-place float32 all-reduce (SUM) of 1-64 MB on 2 ranks, and the bus
bandwidth ``2 (n-1)/n x bytes / time`` (the ring all-reduce convention), ember's MPI next to
PyTorch's gloo.

The machine is shared: figures move with the load of other processes; compare within one run.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.abspath(__file__)

WORKER = r'''
import json, os, statistics, sys, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.distributed as dist


class CourseNet(nn.Module):                     # the course's MNIST network
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, kernel_size=5)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=5)
        self.fc1 = nn.Linear(256, 200)
        self.fc2 = nn.Linear(200, 10)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 3))
        x = F.relu(F.max_pool2d(self.conv2(x), 2))
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.short is None else self.short(x)))


class ResNet18(nn.Module):                      # ResNet-18, CIFAR layout (3x3 stem, no max-pool)
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        layers, cin = [], 64
        for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            layers += [Block(cin, cout, stride), Block(cout, cout, 1)]
            cin = cout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x):
        x = self.layers(F.relu(self.bn1(self.conv1(x))))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


def train(model_name, steps, warmup, out):
    world = dist.get_world_size()
    rank = dist.get_rank()
    torch.manual_seed(0)
    if model_name == "course":
        model, shape, batch = CourseNet(), (1, 28, 28), 100
    else:
        model, shape, batch = ResNet18(), (3, 32, 32), 32
    per = batch // world
    ddp = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    opt = torch.optim.SGD(ddp.parameters(), lr=0.01, momentum=0.9)
    g = np.random.RandomState(rank)
    x = torch.tensor(g.randn(per, *shape).astype(np.float32))
    y = torch.tensor(g.randint(0, 10, per))
    times = []
    for i in range(warmup + steps):
        if world > 1:
            dist.barrier()
        t0 = time.perf_counter()
        opt.zero_grad()
        F.cross_entropy(ddp(x), y).backward()
        opt.step()
        times.append(time.perf_counter() - t0)
    worst = torch.tensor([statistics.median(times[warmup:])], dtype=torch.float64)
    if world > 1:
        dist.all_reduce(worst, op=dist.ReduceOp.MAX)
    if rank == 0:
        with open(out, "w") as f:
            json.dump({"step_s": float(worst[0]), "samples_per_s": batch / float(worst[0])}, f)


def allreduce(out, reps):
    rank = dist.get_rank()
    world = dist.get_world_size()
    rows = []
    for mb in (1, 2, 4, 8, 16, 32, 64):
        t = torch.ones(mb * 1024 * 1024 // 4)
        dist.all_reduce(t)
        times = []
        for _ in range(reps):
            dist.barrier()
            t0 = time.perf_counter()
            dist.all_reduce(t)
            times.append(time.perf_counter() - t0)
        s = statistics.median(times)
        rows.append({"MB": mb, "ms": s * 1e3, "busbw_GBs": 2 * (world - 1) / world * mb * 2**20 / s / 1e9})
    if rank == 0:
        with open(out, "w") as f:
            json.dump(rows, f)


if __name__ == "__main__":
    dist.init_process_group("gloo")
    if sys.argv[1] == "train":
        train(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    else:
        allreduce(sys.argv[3], int(sys.argv[2]))
    dist.destroy_process_group()
'''


def _run(framework: str, nproc: int, threads: int, args: list[str], workdir: str) -> dict | list | None:
    script = os.path.join(workdir, "worker.py")
    out = os.path.join(workdir, "out.json")
    if os.path.exists(out):
        os.remove(out)
    env = dict(os.environ)
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[v] = str(threads)
    if framework == "ember":
        cmd = [sys.executable, "-m", "ember", "run", "--nproc-per-node", str(nproc), script, *args, out]
    else:
        torchrun = shutil.which("torchrun")
        if torchrun is None:
            return None
        cmd = [torchrun, "--standalone", "--nproc-per-node", str(nproc), script, *args, out]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    if p.returncode != 0 or not os.path.exists(out):
        print(f"  {framework} failed:\n{p.stderr[-2000:]}", file=sys.stderr)
        return None
    with open(out) as f:
        return json.load(f)



def bench_train(models: list[str], steps: int, warmup: int, frameworks: list[str]) -> None:
    setups = [(1, 1), (1, 2), (2, 1)]
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "worker.py"), "w") as f:
            f.write(WORKER)
        print(f"{'model':8} {'set-up':22} " + " ".join(f"{fw + ' samples/s':>18}" for fw in frameworks))
        for m in models:
            n_steps = steps if m == "course" else max(3, steps // 2)
            for nproc, threads in setups:
                row = []
                for fw in frameworks:
                    r = _run(fw, nproc, threads, ["train", m, str(n_steps), str(warmup)], d)
                    row.append(f"{r['samples_per_s']:18.1f}" if r else f"{'-':>18}")
                print(f"{m:8} {f'{nproc} rank(s) x {threads} thread(s)':22} " + " ".join(row), flush=True)


def bench_allreduce(reps: int, frameworks: list[str]) -> None:
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "worker.py"), "w") as f:
            f.write(WORKER)
        res = {fw: _run(fw, 2, 1, ["allreduce", str(reps)], d) for fw in frameworks}
        print(f"{'size':>6} " + " ".join(f"{fw + ' ms':>12} {fw + ' GB/s':>12}" for fw in frameworks))
        for i, mb in enumerate((1, 2, 4, 8, 16, 32, 64)):
            cells = []
            for fw in frameworks:
                r = res[fw]
                cells.append(f"{r[i]['ms']:12.2f} {r[i]['busbw_GBs']:12.2f}" if r else f"{'-':>12} {'-':>12}")
            print(f"{mb:4} MB " + " ".join(cells), flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("what", nargs="*", metavar="train|allreduce", help="what to measure (default: both)")
    p.add_argument("--models", nargs="+", default=["course", "resnet18"], choices=["course", "resnet18"])
    p.add_argument("--steps", type=int, default=10, help="timed steps (ResNet-18: half)")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--reps", type=int, default=10, help="all-reduce repetitions per size")
    p.add_argument("--frameworks", nargs="+", default=["ember", "torch"], choices=["ember", "torch"])
    a = p.parse_args()
    a.what = a.what or ["train", "allreduce"]
    if set(a.what) - {"train", "allreduce"}:
        p.error(f"unknown benchmark {sorted(set(a.what) - {'train', 'allreduce'})}: choose train and/or allreduce")
    print(f"{os.cpu_count()} CPU(s); load average {os.getloadavg()[0]:.1f}")
    if "train" in a.what:
        bench_train(a.models, a.steps, a.warmup, a.frameworks)
    if "allreduce" in a.what:
        print()
        bench_allreduce(a.reps, a.frameworks)


if __name__ == "__main__":
    main()
