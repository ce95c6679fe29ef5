"""A convolutional classifier for Fashion-MNIST, trained with Adadelta and a StepLR schedule.

    python mnist_cnn.py --epochs 3          # with PyTorch + torchvision
    ember run mnist_cnn.py --epochs 3       # the same file on ember
    ember run mnist_cnn.py --dry-run        # a few batches, as a smoke test
"""
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR
from torchvision import datasets, transforms


class FashionNet(nn.Module):
    """Two conv blocks (conv, batch norm, ReLU, 2x2 max pool) and a two-layer classifier head."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.block1 = nn.Sequential(nn.Conv2d(1, 16, kernel_size=5, padding=2), nn.BatchNorm2d(16), nn.ReLU(),
                                    nn.MaxPool2d(2))
        self.block2 = nn.Sequential(nn.Conv2d(16, 32, kernel_size=3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
                                    nn.MaxPool2d(2))
        self.dropout = nn.Dropout(0.3)
        self.fc1 = nn.Linear(32 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, num_classes)

    def forward(self, x):
        x = self.block2(self.block1(x))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(self.dropout(x)))
        return F.log_softmax(self.fc2(x), dim=1)


def train(args, model, device, loader, optimizer, epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % args.log_interval == 0 or args.dry_run:
            print(f"Train epoch {epoch} [{batch_idx * len(data)}/{len(loader.dataset)}]\tloss: {loss.item():.4f}")
        if args.dry_run and batch_idx + 1 >= args.dry_run_batches:
            break


def test(args, model, device, loader):
    model.eval()
    test_loss, correct, seen = 0.0, 0, 0
    with torch.no_grad():
        for batch_idx, (data, target) in enumerate(loader):
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction="sum").item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()
            seen += len(data)
            if args.dry_run and batch_idx + 1 >= args.dry_run_batches:
                break
    print(f"Test: average loss {test_loss / seen:.4f}, accuracy {correct}/{seen} ({100.0 * correct / seen:.1f}%)")
    return correct / seen


def main():
    parser = argparse.ArgumentParser(description="Fashion-MNIST CNN classifier")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--test-batch-size", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=14)
    parser.add_argument("--lr", type=float, default=1.0)
    parser.add_argument("--gamma", type=float, default=0.7, help="learning-rate decay per epoch")
    parser.add_argument("--no-accel", action="store_true", help="train on the CPU even if a GPU is there")
    parser.add_argument("--dry-run", action="store_true", help="a few batches only")
    parser.add_argument("--dry-run-batches", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--log-interval", type=int, default=100)
    parser.add_argument("--data", default="../data", help="dataset root")
    parser.add_argument("--save-model", action="store_true")
    args = parser.parse_args()
    if args.dry_run:
        args.epochs = 1

    torch.manual_seed(args.seed)
    use_cuda = not args.no_accel and torch.cuda.is_available()
    device = torch.device("cuda" if use_cuda else "cpu")
    loader_kwargs = {"num_workers": 1, "pin_memory": True} if use_cuda else {}

    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.2860,), (0.3530,))])
    train_set = datasets.FashionMNIST(args.data, train=True, download=True, transform=transform)
    test_set = datasets.FashionMNIST(args.data, train=False, download=True, transform=transform)
    train_loader = torch.utils.data.DataLoader(train_set, batch_size=args.batch_size, shuffle=True, **loader_kwargs)
    test_loader = torch.utils.data.DataLoader(test_set, batch_size=args.test_batch_size, shuffle=False,
                                              **loader_kwargs)

    model = FashionNet().to(device)
    n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(f"device: {device}")
    print(f"datasets: {len(train_set)} train / {len(test_set)} test images, classes {train_set.classes[:3]}...")
    first_image, first_label = test_set[0]
    print(f"first test image: shape {tuple(first_image.shape)}, label {first_label}, mean {first_image.mean():+.4f}")
    print(f"model: {n_params} trainable parameters")

    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)
    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    for epoch in range(1, args.epochs + 1):
        start = time.time()
        train(args, model, device, train_loader, optimizer, epoch)
        test(args, model, device, test_loader)
        scheduler.step()
        print(f"epoch {epoch} took {time.time() - start:.1f}s, next lr {scheduler.get_last_lr()[0]:.4f}")

    if args.save_model:
        torch.save(model.state_dict(), "fashion_cnn.pt")


if __name__ == "__main__":
    main()
