"""The `ember train` recipe written as a plain PyTorch program, to run on both frameworks:

    python benchmarks/train_fashion.py --epochs 5          # PyTorch
    ember run benchmarks/train_fashion.py --epochs 5       # ember, same code (import torch -> ember)
    python benchmarks/train_fashion.py --both --epochs 5   # both, one after the other, and a summary

The recipe is `ember train`'s default: the course MNIST network, SGD (lr 0.05, momentum 0.9), cosine
schedule over the epochs, batch 100, inputs normalised with the training set's mean and std, seed 0,
full Fashion-MNIST from /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist).
It reads the IDX files with NumPy (torchvision is not needed) and prints accuracy and wall time.
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, kernel_size=5)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=5)
        self.fc1 = nn.Linear(256, 200)
        self.fc2 = nn.Linear(200, 10)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), kernel_size=3, stride=3))
        x = F.relu(F.max_pool2d(self.conv2(x), kernel_size=2, stride=2))
        x = F.relu(self.fc1(x.view(-1, 256)))
        return self.fc2(x)


def run(epochs, batch_size, lr, seed):
    torch.manual_seed(seed)
    train_x = torch.from_numpy(read_idx(f"{ROOT}/train-images-idx3-ubyte.gz").astype(np.float32)).view(-1, 1, 28, 28)
    train_y = torch.from_numpy(read_idx(f"{ROOT}/train-labels-idx1-ubyte.gz").astype(np.int64))
    test_x = torch.from_numpy(read_idx(f"{ROOT}/t10k-images-idx3-ubyte.gz").astype(np.float32)).view(-1, 1, 28, 28)
    test_y = torch.from_numpy(read_idx(f"{ROOT}/t10k-labels-idx1-ubyte.gz").astype(np.int64))
    mu, std = train_x.mean(), train_x.std()
    train_x.sub_(mu).div_(std)
    test_x.sub_(mu).div_(std)

    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    steps = epochs * (train_x.size(0) // batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    for _ in range(epochs):
        model.train()
        perm = torch.from_numpy(rng.permutation(train_x.size(0)))
        for b in range(0, train_x.size(0) - batch_size + 1, batch_size):
            idx = perm[b:b + batch_size]
            loss = F.cross_entropy(model(train_x[idx]), train_y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    train_time = time.perf_counter() - t0
    model.eval()
    correct = 0
    with torch.no_grad():
        for b in range(0, test_x.size(0), 1000):
            correct += (model(test_x[b:b + 1000]).argmax(1) == test_y[b:b + 1000]).sum().item()
    acc = correct / test_x.size(0)
    framework = "ember" if getattr(torch, "__name__", "") == "ember" else f"torch {torch.__version__}"
    return {"framework": framework, "epochs": epochs, "test_accuracy": acc, "train_seconds": round(train_time, 1),
            "samples_per_second": round(epochs * train_x.size(0) / train_time)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=100)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--both", action="store_true", help="run under PyTorch and under `ember run`, then compare")
    args = ap.parse_args()
    if args.both:
        rest = [a for a in sys.argv[1:] if a != "--both"]
        here = os.path.abspath(__file__)
        results = []
        for cmd in ([sys.executable, here], [sys.executable, "-m", "ember", "run", here]):
            out = subprocess.run(cmd + rest, capture_output=True, text=True, check=True).stdout
            results.append(json.loads(out.strip().splitlines()[-1]))
            print(results[-1], flush=True)
        t, e = results
        print(f"ember/torch time ratio {e['train_seconds'] / t['train_seconds']:.2f}; accuracy ember "
              f"{e['test_accuracy']:.4f} vs torch {t['test_accuracy']:.4f}")
        return
    print(json.dumps(run(args.epochs, args.batch_size, args.lr, args.seed)))


if __name__ == "__main__":
    main()
