"""Fit a polynomial with a single linear layer: smooth L1 loss and hand-written SGD updates under
``torch.no_grad()``.

    python regression.py
    ember run regression.py --dry-run
"""
import argparse

import torch
import torch.nn.functional as F

DEGREE = 4
W_TARGET = torch.tensor([[0.5], [-1.2], [0.8], [0.3]])
B_TARGET = torch.tensor([0.25])


def make_features(x):
    """Columns x, x^2, ..., x^DEGREE for a batch of scalars x."""
    x = x.unsqueeze(1)
    return torch.cat([x ** i for i in range(1, DEGREE + 1)], 1)


def target(x):
    return x.mm(W_TARGET) + B_TARGET.item()


def describe(w, b):
    terms = [f"{b:+.2f}"] + [f"{c:+.2f} x^{i}" for i, c in enumerate(w.view(-1).tolist(), 1)]
    return "y = " + " ".join(terms)


def random_batch(batch_size):
    x = make_features(torch.randn(batch_size))
    return x, target(x)


def main():
    parser = argparse.ArgumentParser(description="polynomial regression with manual updates")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--epochs", type=int, default=1, help="passes of --steps updates")
    parser.add_argument("--steps", type=int, default=2000, help="updates per epoch")
    parser.add_argument("--tol", type=float, default=1e-4, help="stop when the batch loss is below this")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dry-run", action="store_true", help="a few updates only")
    args = parser.parse_args()
    if args.dry_run:
        args.epochs, args.steps = 1, 5

    torch.manual_seed(args.seed)
    fc = torch.nn.Linear(DEGREE, 1)
    torch.nn.init.zeros_(fc.weight)
    torch.nn.init.zeros_(fc.bias)
    print("target:  ", describe(W_TARGET, B_TARGET.item()))

    grid = make_features(torch.linspace(-1, 1, 21))
    grid_y = target(grid)
    print(f"features: {tuple(grid.shape)}, targets: {tuple(grid_y.shape)}")
    loss = F.smooth_l1_loss(fc(grid), grid_y)
    loss.backward()
    print(f"grid loss at zero weights: {loss.item():.6f}, gradient norm {fc.weight.grad.norm():.6f}")
    # one full-batch step on the grid, written out by hand
    with torch.no_grad():
        for param in fc.parameters():
            param -= args.lr * param.grad
    fc.zero_grad()
    print(f"grid loss after one step: {F.smooth_l1_loss(fc(grid), grid_y).item():.6f}")

    step = 0
    for epoch in range(1, args.epochs + 1):
        for _ in range(args.steps):
            x, y = random_batch(args.batch_size)
            fc.zero_grad()
            loss = F.smooth_l1_loss(fc(x), y)
            loss.backward()
            with torch.no_grad():
                for param in fc.parameters():
                    param.add_(param.grad, alpha=-args.lr)
            step += 1
            if args.dry_run or step % 500 == 0:
                print(f"step {step}: loss {loss.item():.6f}")
            if loss.item() < args.tol:
                break
        print(f"epoch {epoch}: loss {loss.item():.6f} after {step} batches")
    print("learned: ", describe(fc.weight.view(-1), fc.bias.item()))
    with torch.no_grad():
        print(f"grid loss at the end: {F.smooth_l1_loss(fc(grid), grid_y).item():.6f}")


if __name__ == "__main__":
    main()
