"""ember vs PyTorch, side by side in one process: throughput of each and the time ratio ember/torch.

    python benchmarks/compare.py            # all workloads
    python benchmarks/compare.py a c --reps 7
    python benchmarks/compare.py --memory   # adds peak memory, each framework in its own process

The workloads (float32, synthetic data of the real shapes):
  a  course MNIST network, training step, batch 100, SGD
  b  the same, inference, batch 1000, no_grad
  c  ResNet-18 for 32x32x3 inputs (CIFAR layout), training step, batch 32, SGD momentum
  d  a VGG-style CIFAR net with BatchNorm, training step, batch 64
  e  MLP 784-256-256-10, batch 16, Adam (framework overhead)
  f  conv2d forward+backward, 3x3 convs at 64ch/32x32 … 512ch/4x4, GFLOP/s beside the GEMM ceiling

Runs alternate A/B with warm-up and report medians; before each repetition the script waits for the
machine to be quiet (other processes' CPU use, from /proc/stat), because these machines are shared.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def _cpu_busy_fraction(interval=0.2) -> float:
    def snap():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v), v[3] + v[4]
    t0, i0 = snap()
    time.sleep(interval)
    t1, i1 = snap()
    return 1.0 - (i1 - i0) / max(t1 - t0, 1)


def wait_quiet(limit=0.25, timeout=20.0):
    """Wait until the other processes use at most ``limit`` of the machine (best effort)."""
    end = time.time() + timeout
    while time.time() < end and _cpu_busy_fraction() > limit:
        pass


# ---------------------------------------------------------------------------------------------
def course_net(nn):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, kernel_size=5)
            self.conv2 = nn.Conv2d(32, 64, kernel_size=5)
            self.fc1 = nn.Linear(256, 200)
            self.fc2 = nn.Linear(200, 10)

        def forward(self, x):
            F = nn.functional
            x = F.relu(F.max_pool2d(self.conv1(x), kernel_size=3, stride=3))
            x = F.relu(F.max_pool2d(self.conv2(x), kernel_size=2, stride=2))
            x = F.relu(self.fc1(x.view(-1, 256)))
            return self.fc2(x)
    return Net()


def resnet18_cifar(nn):
    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.down = None
            if stride != 1 or cin != cout:
                self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            F = nn.functional
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return F.relu(out + (x if self.down is None else self.down(x)))

    class ResNet18(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            layers, cin = [], 64
            for cout, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
                layers += [Block(cin, cout, stride), Block(cout, cout, 1)]
                cin = cout
            self.layers = nn.Sequential(*layers)
            self.fc = nn.Linear(512, 10)

        def forward(self, x):
            F = nn.functional
            x = self.layers(F.relu(self.bn1(self.conv1(x))))
            return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))
    return ResNet18()


def vgg_cifar(nn):
    cfg = [64, "M", 128, "M", 256, 256, "M", 512, "M"]
    layers, cin = [], 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [nn.Conv2d(cin, v, 3, padding=1), nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
            cin = v
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(512 * 2 * 2, 10))


def mlp(nn):
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))


# ---------------------------------------------------------------------------------------------
def make_train_parts(fw, model_fn, batch, in_shape, opt_name, lr=0.01):
    """The parts of one training step in framework fw, as callables: ``zero_grad()``, ``loss = forward()`` (model
    and cross-entropy), ``backward(loss)``, ``update()`` (the optimizer step)."""
    fw.manual_seed(0)
    model = model_fn(fw.nn)
    rng = np.random.default_rng(0)
    x = fw.from_numpy(rng.standard_normal((batch,) + in_shape).astype(np.float32))
    y = fw.from_numpy(rng.integers(0, 10, batch).astype(np.int64))
    if opt_name == "sgd":
        opt = fw.optim.SGD(model.parameters(), lr=lr)
    elif opt_name == "sgdm":
        opt = fw.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    else:
        opt = fw.optim.Adam(model.parameters(), lr=1e-3)
    F = fw.nn.functional

    def forward():
        return F.cross_entropy(model(x), y)

    def backward(loss):
        loss.backward()
    return opt.zero_grad, forward, backward, opt.step


def make_train_step(fw, model_fn, batch, in_shape, opt_name, lr=0.01):
    """A closure running one training step (forward, loss, backward, optimizer step) in framework fw."""
    zero_grad, forward, backward, update = make_train_parts(fw, model_fn, batch, in_shape, opt_name, lr)

    def step():
        zero_grad()
        backward(forward())
        update()
    return step


def make_infer(fw, model_fn, batch, in_shape):
    fw.manual_seed(0)
    model = model_fn(fw.nn)
    model.eval()
    x = fw.from_numpy(np.random.default_rng(0).standard_normal((batch,) + in_shape).astype(np.float32))

    def step():
        with fw.no_grad():
            model(x)
    return step


# the training workloads' (model, batch, input shape, optimizer)
TRAIN = {
    "a": (course_net, 100, (1, 28, 28), "sgd"),
    "c": (resnet18_cifar, 32, (3, 32, 32), "sgdm"),
    "d": (vgg_cifar, 64, (3, 32, 32), "sgdm"),
    "e": (mlp, 16, (784,), "adam"),
}

WORKLOADS = {
    "a": ("course MNIST net, train step, batch 100, SGD", 100, lambda fw: make_train_step(fw, *TRAIN["a"])),
    "b": ("course MNIST net, inference, batch 1000", 1000,
          lambda fw: make_infer(fw, course_net, 1000, (1, 28, 28))),
    "c": ("ResNet-18 CIFAR, train step, batch 32, SGD momentum", 32, lambda fw: make_train_step(fw, *TRAIN["c"])),
    "d": ("VGG-style CIFAR net + BN, train step, batch 64", 64, lambda fw: make_train_step(fw, *TRAIN["d"])),
    "e": ("MLP 784-256-256-10, batch 16, Adam", 16, lambda fw: make_train_step(fw, *TRAIN["e"])),
}


def time_pair(fa, fb, reps, inner=None, warmup=2, block=0.3):
    """Median seconds per call of fa and fb, alternating A/B blocks after warm-up.

    Each block repeats the call ``inner`` times (default: enough for about ``block`` seconds). Before
    each block the process idles briefly: both frameworks keep BLAS/OpenMP thread pools that spin for a
    while after work, and on 2 cores one framework's spinning threads would steal the other's time
    (measured: torch's MLP step 30x slower right after an ember block without the pause)."""
    for _ in range(warmup):
        fa()
        fb()
    if inner is None:
        t0 = time.perf_counter()
        fa()
        fb()
        inner = max(1, round(2 * block / (time.perf_counter() - t0)))
    ta, tb = [], []
    for _ in range(reps):
        for f, out in ((fa, ta), (fb, tb)):
            time.sleep(0.3)
            wait_quiet()
            t0 = time.perf_counter()
            for _ in range(inner):
                f()
            out.append((time.perf_counter() - t0) / inner)
    return statistics.median(ta), statistics.median(tb)


def gemm_ceiling() -> float:
    """The machine's float32 GEMM rate: a 2048^3 matmul on NumPy's BLAS with one thread per core (ember sets
    that BLAS to one thread when imported; threadpoolctl lifts the limit for this measurement)."""
    from threadpoolctl import threadpool_limits
    n = 2048
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    with threadpool_limits(os.cpu_count() or 1, user_api="blas"):
        a @ a
        best = 0.0
        for _ in range(5):
            t0 = time.perf_counter()
            a @ a
            best = max(best, 2 * n ** 3 / (time.perf_counter() - t0) / 1e9)
    time.sleep(0.5)       # let the BLAS workers stop spinning before anything is timed
    return best


def conv_layers(reps):
    import torch

    import ember
    ceiling = gemm_ceiling()
    print(f"\nf  conv2d 3x3 forward+backward, batch 32 (float32 GEMM ceiling here: {ceiling:.0f} GFLOP/s)")
    print(f"   {'layer':<16}{'ember fwd GF/s':>15}{'torch fwd GF/s':>15}{'fwd % ceil':>11}"
          f"{'ember f+b ms':>13}{'torch f+b ms':>13}{'ratio':>7}")
    rows = []
    for c, hw in [(64, 32), (128, 16), (256, 8), (512, 4)]:
        rng = np.random.default_rng(0)
        xa = rng.standard_normal((32, c, hw, hw)).astype(np.float32)
        wa = (rng.standard_normal((c, c, 3, 3)) * 0.05).astype(np.float32)
        flops = 2 * 32 * c * c * 9 * hw * hw
        ex, ew = ember.from_numpy(xa).requires_grad_(), ember.from_numpy(wa).requires_grad_()
        tx, tw = torch.from_numpy(xa).requires_grad_(), torch.from_numpy(wa).requires_grad_()
        with ember.no_grad(), torch.no_grad():
            fe, ft = time_pair(lambda ex=ex, ew=ew: ember.nn.functional.conv2d(ex, ew, padding=1),
                               lambda tx=tx, tw=tw: torch.nn.functional.conv2d(tx, tw, padding=1), reps)

        def eb(ex=ex, ew=ew):
            ember.nn.functional.conv2d(ex, ew, padding=1).sum().backward()

        def tb(tx=tx, tw=tw):
            torch.nn.functional.conv2d(tx, tw, padding=1).sum().backward()
        be, bt = time_pair(eb, tb, reps)
        print(f"   {f'{c}ch {hw}x{hw}':<16}{flops / fe / 1e9:>15.0f}{flops / ft / 1e9:>15.0f}"
              f"{100 * flops / fe / 1e9 / ceiling:>10.0f}%{be * 1e3:>13.1f}{bt * 1e3:>13.1f}{be / bt:>7.2f}")
        rows.append(be / bt)
    return rows


def vm_hwm_mib() -> float:
    """This process's peak resident set (VmHWM, MiB). Not ru_maxrss: Linux carries that across exec, so a
    child started from this (large) process would report the parent's peak."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def peak_memory(key: str, framework: str) -> float:
    """Peak RSS (MiB) of a fresh process running a few steps of workload ``key`` in ``framework``."""
    code = (f"import sys; sys.path.insert(0, {HERE!r}); import compare\n"
            f"import {framework} as fw\n"
            f"step = compare.WORKLOADS[{key!r}][2](fw)\n"
            f"for _ in range(3): step()\n"
            f"print(compare.vm_hwm_mib())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("workloads", nargs="*", default=list("abcdef"))
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--memory", action="store_true", help="also measure peak memory (separate processes)")
    args = ap.parse_args(argv)

    import torch

    import ember
    print(f"ember vs torch {torch.__version__} (threads: torch {torch.get_num_threads()}), "
          f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores")
    print(f"{'':3}{'workload':<52}{'ember/s':>10}{'torch/s':>10}{'ratio':>8}"
          + (f"{'ember MiB':>11}{'torch MiB':>11}" if args.memory else ""))
    for key in args.workloads:
        if key == "f":
            conv_layers(args.reps)
            continue
        name, batch, make = WORKLOADS[key]
        fe, ft = make(ember), make(torch)
        te, tt = time_pair(fe, ft, args.reps)
        mem = ""
        if args.memory:
            mem = f"{peak_memory(key, 'ember'):>11.0f}{peak_memory(key, 'torch'):>11.0f}"
        print(f"{key:<3}{name:<52}{batch / te:>10.0f}{batch / tt:>10.0f}{te / tt:>8.2f}{mem}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
