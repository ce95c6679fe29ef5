"""A siamese network on Fashion-MNIST: one ResNet-18 (torchvision's, untrained, adapted to grey
28x28 images) embeds both images of a pair, and a small head decides whether they show the same
kind of garment.

    python siamese.py --epochs 5
    ember run siamese.py --dry-run
"""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
import torchvision
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, Dataset
from torchvision import datasets, transforms


class PairDataset(Dataset):
    """Item i pairs image i with an image of the same class (target 1) or another class (target 0),
    alternately; the partner is drawn with ``generator`` when the dataset is built."""

    def __init__(self, base, size=None, seed=0):
        self.base = base
        targets = torch.as_tensor(base.targets)
        n = len(base) if size is None else min(size, len(base))
        by_class = {int(c): torch.nonzero(targets == c).flatten() for c in targets.unique()}
        generator = torch.Generator().manual_seed(seed)
        self.pairs = []
        for i in range(n):
            c = int(targets[i])
            same = i % 2 == 0
            if not same:
                others = [k for k in by_class if k != c]
                c = others[int(torch.randint(len(others), (1,), generator=generator))]
            pool = by_class[c]
            j = int(pool[int(torch.randint(len(pool), (1,), generator=generator))])
            self.pairs.append((i, j, float(same)))

    def __len__(self):
        return len(self.pairs)

    def __getitem__(self, index):
        i, j, same = self.pairs[index]
        return self.base[i][0], self.base[j][0], torch.tensor(same)


class SiameseNet(nn.Module):
    def __init__(self, embedding=128):
        super().__init__()
        self.backbone = torchvision.models.resnet18(weights=None)
        # grey images: the stem takes one input channel instead of three
        self.backbone.conv1 = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
        features = self.backbone.fc.in_features
        self.backbone.fc = nn.Linear(features, embedding)
        self.head = nn.Sequential(nn.Linear(embedding * 2, 64), nn.ReLU(inplace=True), nn.Linear(64, 1))

    def embed(self, x):
        return F.normalize(self.backbone(x), dim=1)

    def forward(self, a, b):
        ea, eb = self.embed(a), self.embed(b)
        return self.head(torch.cat([(ea - eb).abs(), ea * eb], dim=1)).squeeze(1)


def run_epoch(args, model, loader, optimizer=None):
    training = optimizer is not None
    model.train(training)
    total, correct, seen = 0.0, 0, 0
    with torch.set_grad_enabled(training):
        for batch_idx, (a, b, target) in enumerate(loader):
            logits = model(a, b)
            loss = F.binary_cross_entropy_with_logits(logits, target)
            if training:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                if batch_idx % args.log_interval == 0 or args.dry_run:
                    print(f"  batch {batch_idx}: loss {loss.item():.4f}")
            total += loss.item() * len(target)
            correct += ((logits > 0).float() == target).sum().item()
            seen += len(target)
            if args.dry_run and batch_idx + 1 >= args.dry_run_batches:
                break
    return total / seen, correct / seen


def main():
    parser = argparse.ArgumentParser(description="siamese ResNet-18 on Fashion-MNIST pairs")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--pairs", type=int, default=6000, help="training pairs")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--gamma", type=float, default=0.7)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--log-interval", type=int, default=20)
    parser.add_argument("--dry-run", action="store_true", help="a few batches only")
    parser.add_argument("--dry-run-batches", type=int, default=2)
    parser.add_argument("--data", default="../data")
    args = parser.parse_args()
    if args.dry_run:
        args.epochs, args.batch_size, args.pairs = 1, 8, 400

    torch.manual_seed(args.seed)
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.2860,), (0.3530,))])
    train_base = datasets.FashionMNIST(args.data, train=True, download=True, transform=transform)
    test_base = datasets.FashionMNIST(args.data, train=False, download=True, transform=transform)
    train_pairs = PairDataset(train_base, size=args.pairs, seed=args.seed)
    test_pairs = PairDataset(test_base, size=args.pairs // 5, seed=args.seed + 1)
    train_loader = DataLoader(train_pairs, batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(test_pairs, batch_size=args.batch_size)

    model = SiameseNet()
    backbone = sum(p.numel() for p in model.backbone.parameters())
    print(f"pairs: {len(train_pairs)} train / {len(test_pairs)} test, "
          f"{int(sum(s for _, _, s in train_pairs.pairs))} same-class in train")
    print(f"model: {sum(p.numel() for p in model.parameters())} parameters ({backbone} in the ResNet-18 backbone)")
    a, b, same = next(iter(test_loader))
    print(f"batch: {tuple(a.shape)} and {tuple(b.shape)}, targets {tuple(same.shape)}")

    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    for epoch in range(1, args.epochs + 1):
        print(f"epoch {epoch}")
        loss, acc = run_epoch(args, model, train_loader, optimizer)
        print(f"  train: loss {loss:.4f}, accuracy {acc:.1%}")
        loss, acc = run_epoch(args, model, test_loader)
        print(f"  test:  loss {loss:.4f}, accuracy {acc:.1%}")
        scheduler.step()


if __name__ == "__main__":
    main()
