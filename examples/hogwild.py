"""Hogwild!: several processes train one model whose parameters live in shared memory, each
updating the weights without locks.

    python hogwild.py --num-processes 2
    ember run hogwild.py --dry-run
"""
import argparse
import math

import torch
import torch.multiprocessing as mp
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def make_dataset(n_per_class=200, classes=3):
    """Three interleaved spiral arms in the plane (no randomness: every process builds the same)."""
    xs, ys = [], []
    t = torch.linspace(0.1, 1.0, n_per_class)
    for c in range(classes):
        angle = t * 4.0 + c * 2 * math.pi / classes
        xs.append(torch.stack([t * torch.cos(angle), t * torch.sin(angle)], 1))
        ys.append(torch.full((n_per_class,), c, dtype=torch.long))
    return torch.cat(xs), torch.cat(ys)


class MLP(nn.Module):
    def __init__(self, hidden=64, classes=3):
        super().__init__()
        self.fc1 = nn.Linear(2, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, classes)

    def forward(self, x):
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def checksum(model):
    with torch.no_grad():
        return sum(p.double().sum().item() for p in model.parameters())


def train(rank, args, model, steps, views, barrier):
    torch.manual_seed(args.seed + rank)
    x, y = make_dataset()
    loader = DataLoader(TensorDataset(x, y), batch_size=args.batch_size, shuffle=True)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    model.train()
    for epoch in range(1, args.epochs + 1):
        for batch_idx, (data, target) in enumerate(loader):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(data), target)
            loss.backward()
            optimizer.step()
            steps[rank] += 1
            if args.dry_run and batch_idx + 1 >= args.dry_run_batches:
                break
        print(f"process {rank}: epoch {epoch} loss {loss.item():.4f}\n", end="", flush=True)
    barrier.wait()  # every process has finished: all of them now see the final shared weights
    views[rank] = checksum(model)


def evaluate(model):
    x, y = make_dataset()
    model.eval()
    with torch.no_grad():
        out = model(x)
        loss = F.cross_entropy(out, y).item()
        acc = (out.argmax(1) == y).float().mean().item()
    return loss, acc


def main():
    parser = argparse.ArgumentParser(description="Hogwild training on shared weights")
    parser.add_argument("--num-processes", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start-method", default="spawn", choices=["spawn", "fork", "forkserver"])
    parser.add_argument("--dry-run", action="store_true", help="a few batches per process")
    parser.add_argument("--dry-run-batches", type=int, default=4)
    args = parser.parse_args()
    if args.dry_run:
        args.epochs = 1

    mp.set_start_method(args.start_method)
    torch.manual_seed(args.seed)
    model = MLP()
    model.share_memory()  # gradients are allocated per process; the parameters are shared
    x, y = make_dataset()
    print(f"data: {tuple(x.shape)} points, {int(y.max()) + 1} classes")
    print(f"model: {sum(p.numel() for p in model.parameters())} parameters, shared: "
          f"{all(p.is_shared() for p in model.parameters())}")
    before = checksum(model)
    steps = torch.zeros(args.num_processes, dtype=torch.long).share_memory_()
    views = torch.zeros(args.num_processes, dtype=torch.float64).share_memory_()
    barrier = mp.Barrier(args.num_processes)

    processes = []
    for rank in range(args.num_processes):
        p = mp.Process(target=train, args=(rank, args, model, steps, views, barrier))
        p.start()
        processes.append(p)
    for p in processes:
        p.join()
    print(f"processes: {args.num_processes}, exit codes {[p.exitcode for p in processes]}")
    print(f"updates per process: {steps.tolist()}")
    after = checksum(model)
    print(f"weights changed in the parent: {after != before}")
    print(f"every process saw the parent's final weights: {all(v == after for v in views.tolist())}")
    loss, acc = evaluate(model)
    print(f"after training: loss {loss:.4f}, accuracy {acc:.1%}")


if __name__ == "__main__":
    main()
