"""AlexNet (Krizhevsky et al., 2012) as torchvision defines it, and a CIFAR10 variant."""
from __future__ import annotations

from ... import nn
from ._utils import check_features, check_weights, register_model

__all__ = ["AlexNet", "alexnet", "AlexNetCIFAR", "alexnet_cifar"]


class AlexNet(nn.Module):
    """torchvision's AlexNet: 5 conv layers (no LRN, not split), adaptive 6x6 pooling, 3 linear layers."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = x.flatten(1)
        return self.classifier(x)


@register_model
def alexnet(*, weights=None, progress: bool = True, **kwargs) -> AlexNet:
    """AlexNet for 3x224x224 ImageNet images (61,100,840 parameters with 1000 classes)."""
    check_weights("alexnet", weights, kwargs)
    return AlexNet(**kwargs)


class AlexNetCIFAR(nn.Module):
    """AlexNet scaled to CIFAR10's 3x32x32 images: conv-ReLU layers, overlapping 3x3/2 max pooling,
    no split into two towers, no local response normalization."""

    def __init__(self, num_classes: int = 10, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=5, padding=2),      # 64x32x32
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),           # 64x15x15
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),           # 192x7x7
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),           # 256x3x3
        )
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 3 * 3, 1024),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(1024, 1024),
            nn.ReLU(inplace=True),
            nn.Linear(1024, num_classes),
        )

    def forward(self, x):
        x = self.features(x).flatten(1)
        check_features(x, self.classifier[1], "classifier.1", "AlexNetCIFAR", "3x32x32")
        return self.classifier(x)


@register_model
def alexnet_cifar(*, weights=None, progress: bool = True, **kwargs) -> AlexNetCIFAR:
    """The CIFAR10 AlexNet (input 3x32x32, 10 classes by default)."""
    check_weights("alexnet_cifar", weights, kwargs)
    return AlexNetCIFAR(**kwargs)
