"""A DCGAN (deep convolutional GAN) trained on torchvision's FakeData, writing image grids.

FakeData makes random images, so there is nothing to learn; the program exercises the full GAN
training loop (two networks, two optimizers, detach, BCE targets, image grids) end to end.

    python dcgan.py --epochs 2 --out dcgan_out
    ember run dcgan.py --dry-run
"""
import argparse
import os

import torch
import torch.nn as nn
import torch.optim as optim
import torchvision.datasets as dset
import torchvision.transforms as transforms
import torchvision.utils as vutils


def init_weights(m):
    name = type(m).__name__
    if "Conv" in name:
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif "BatchNorm" in name:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


class Generator(nn.Module):
    """Latent vector (nz, 1, 1) -> image (nc, 32, 32) through four transposed convolutions."""

    def __init__(self, nz, ngf, nc):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh(),
        )

    def forward(self, z):
        return self.main(z)


class Discriminator(nn.Module):
    """Image (nc, 32, 32) -> probability that it is real."""

    def __init__(self, ndf, nc):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 4, 1, 4, 1, 0, bias=False), nn.Sigmoid(),
        )

    def forward(self, x):
        return self.main(x).view(-1, 1).squeeze(1)


def main():
    parser = argparse.ArgumentParser(description="DCGAN on FakeData")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--dataset-size", type=int, default=512)
    parser.add_argument("--nz", type=int, default=64, help="size of the latent vector")
    parser.add_argument("--ngf", type=int, default=32)
    parser.add_argument("--ndf", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--beta1", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=999)
    parser.add_argument("--dry-run", action="store_true", help="a few batches only")
    parser.add_argument("--dry-run-batches", type=int, default=2)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--out", default="dcgan_out")
    args = parser.parse_args()
    if args.dry_run:
        args.epochs = 1

    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    dataset = dset.FakeData(size=args.dataset_size, image_size=(3, args.image_size, args.image_size),
                            transform=transforms.Compose([
                                transforms.ToTensor(),
                                transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
                            ]))
    loader = torch.utils.data.DataLoader(dataset, batch_size=args.batch_size, shuffle=True,
                                         num_workers=args.workers)

    netG = Generator(args.nz, args.ngf, 3).to(device)
    netD = Discriminator(args.ndf, 3).to(device)
    netG.apply(init_weights)
    netD.apply(init_weights)
    print(f"generator: {sum(p.numel() for p in netG.parameters())} parameters")
    print(f"discriminator: {sum(p.numel() for p in netD.parameters())} parameters")

    criterion = nn.BCELoss()
    fixed_noise = torch.randn(16, args.nz, 1, 1, device=device)
    real_label, fake_label = 1.0, 0.0
    optD = optim.Adam(netD.parameters(), lr=args.lr, betas=(args.beta1, 0.999))
    optG = optim.Adam(netG.parameters(), lr=args.lr, betas=(args.beta1, 0.999))
    print(f"fake batch: {tuple(netG(fixed_noise).shape)}, discriminator output: {tuple(netD(netG(fixed_noise)).shape)}")

    for epoch in range(args.epochs):
        for i, (real, _) in enumerate(loader):
            # (1) discriminator: maximise log(D(x)) + log(1 - D(G(z)))
            netD.zero_grad()
            real = real.to(device)
            b = real.size(0)
            label = torch.full((b,), real_label, dtype=torch.float, device=device)
            out = netD(real)
            errD_real = criterion(out, label)
            errD_real.backward()
            D_x = out.mean().item()
            noise = torch.randn(b, args.nz, 1, 1, device=device)
            fake = netG(noise)
            label.fill_(fake_label)
            out = netD(fake.detach())
            errD_fake = criterion(out, label)
            errD_fake.backward()
            D_G_z1 = out.mean().item()
            optD.step()
            # (2) generator: maximise log(D(G(z)))
            netG.zero_grad()
            label.fill_(real_label)
            out = netD(fake)
            errG = criterion(out, label)
            errG.backward()
            D_G_z2 = out.mean().item()
            optG.step()
            print(f"[{epoch}/{args.epochs}][{i}/{len(loader)}] loss_D {(errD_real + errD_fake).item():.4f} "
                  f"loss_G {errG.item():.4f} D(x) {D_x:.4f} D(G(z)) {D_G_z1:.4f} / {D_G_z2:.4f}")
            if args.dry_run and i + 1 >= args.dry_run_batches:
                break
        vutils.save_image(real, f"{args.out}/real_samples.png", normalize=True)
        with torch.no_grad():
            fake = netG(fixed_noise)
        vutils.save_image(fake.detach(), f"{args.out}/fake_samples_epoch_{epoch:03d}.png", normalize=True, nrow=4)
        print(f"wrote {args.out}/fake_samples_epoch_{epoch:03d}.png")
        torch.save(netG.state_dict(), f"{args.out}/netG_epoch_{epoch}.pth")
        torch.save(netD.state_dict(), f"{args.out}/netD_epoch_{epoch}.pth")


if __name__ == "__main__":
    main()
