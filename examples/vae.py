"""A variational autoencoder on Fashion-MNIST that writes reconstructions and samples as image grids.

    python vae.py --epochs 10 --out results      # PyTorch + torchvision
    ember run vae.py --epochs 10 --out results   # the same file on ember
"""
import argparse
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import optim
from torchvision import datasets, transforms
from torchvision.utils import save_image


class VAE(nn.Module):
    def __init__(self, hidden=512, latent=16):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, hidden // 2), nn.ReLU())
        self.to_mu = nn.Linear(hidden // 2, latent)
        self.to_logvar = nn.Linear(hidden // 2, latent)
        self.decoder = nn.Sequential(nn.Linear(latent, hidden // 2), nn.ReLU(), nn.Linear(hidden // 2, hidden),
                                     nn.ReLU(), nn.Linear(hidden, 784))
        self.latent = latent

    def encode(self, x):
        h = self.encoder(x.view(-1, 784))
        return self.to_mu(h), self.to_logvar(h)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        return mu + std * torch.randn_like(std)

    def decode(self, z):
        return torch.sigmoid(self.decoder(z))

    def forward(self, x):
        mu, logvar = self.encode(x)
        return self.decode(self.reparameterize(mu, logvar)), mu, logvar


def vae_loss(recon, x, mu, logvar):
    """Reconstruction (binary cross-entropy, summed) plus the KL divergence to the unit Gaussian."""
    bce = F.binary_cross_entropy(recon, x.view(-1, 784), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def main():
    parser = argparse.ArgumentParser(description="Fashion-MNIST variational autoencoder")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--latent", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--log-interval", type=int, default=100)
    parser.add_argument("--dry-run", action="store_true", help="a few batches only")
    parser.add_argument("--dry-run-batches", type=int, default=3)
    parser.add_argument("--data", default="../data")
    parser.add_argument("--out", default="results", help="where the image grids go")
    args = parser.parse_args()
    if args.dry_run:
        args.epochs = 1

    torch.manual_seed(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    os.makedirs(args.out, exist_ok=True)
    train_set = datasets.FashionMNIST(args.data, train=True, download=True, transform=transforms.ToTensor())
    test_set = datasets.FashionMNIST(args.data, train=False, transform=transforms.ToTensor())
    train_loader = torch.utils.data.DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    test_loader = torch.utils.data.DataLoader(test_set, batch_size=args.batch_size, shuffle=False)

    model = VAE(latent=args.latent).to(device)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    print(f"model: {sum(p.numel() for p in model.parameters())} parameters, latent size {args.latent}")
    x0, _ = next(iter(test_loader))
    print(f"test batch: {tuple(x0.shape)}, pixel range [{x0.min():.1f}, {x0.max():.1f}]")

    for epoch in range(1, args.epochs + 1):
        model.train()
        total, seen = 0.0, 0
        for batch_idx, (data, _) in enumerate(train_loader):
            data = data.to(device)
            optimizer.zero_grad()
            recon, mu, logvar = model(data)
            loss = vae_loss(recon, data, mu, logvar)
            loss.backward()
            optimizer.step()
            total += loss.item()
            seen += len(data)
            if batch_idx % args.log_interval == 0 or args.dry_run:
                print(f"Train epoch {epoch} [{seen}/{len(train_set)}]\tloss per image: {loss.item() / len(data):.2f}")
            if args.dry_run and batch_idx + 1 >= args.dry_run_batches:
                break
        print(f"epoch {epoch}: average loss {total / seen:.2f}")

        model.eval()
        with torch.no_grad():
            data, _ = next(iter(test_loader))
            data = data.to(device)
            recon, mu, logvar = model(data)
            n = min(data.size(0), 8)
            comparison = torch.cat([data[:n], recon.view(-1, 1, 28, 28)[:n]])
            save_image(comparison.cpu(), os.path.join(args.out, f"reconstruction_{epoch}.png"), nrow=n)
            sample = model.decode(torch.randn(64, args.latent, device=device))
            save_image(sample.view(64, 1, 28, 28), os.path.join(args.out, f"sample_{epoch}.png"))
            print(f"wrote {args.out}/reconstruction_{epoch}.png ({2 * n} images) and "
                  f"{args.out}/sample_{epoch}.png (64 images)")


if __name__ == "__main__":
    main()
