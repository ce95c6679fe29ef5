"""Network in Network (Lin et al., 2013) for CIFAR10: mlpconv blocks (a conv followed by 1x1
convolutions), ceil-mode 3x3/2 max pooling, and global average pooling instead of linear layers."""
from __future__ import annotations

from ... import nn
from ._utils import check_weights, register_model

__all__ = ["NiN", "nin"]


def _mlpconv(in_channels: int, widths: tuple, kernel_size: int, padding: int) -> list:
    c1, c2, c3 = widths
    return [nn.Conv2d(in_channels, c1, kernel_size=kernel_size, padding=padding), nn.ReLU(inplace=True),
            nn.Conv2d(c1, c2, kernel_size=1), nn.ReLU(inplace=True),
            nn.Conv2d(c2, c3, kernel_size=1), nn.ReLU(inplace=True)]


class NiN(nn.Module):
    """NiN for 3x32x32 inputs; any input size works thanks to the global average pooling."""

    def __init__(self, num_classes: int = 10, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            *_mlpconv(3, (192, 160, 96), 5, 2),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),   # 32 -> 16 (15.5 rounded up)
            nn.Dropout(dropout),
            *_mlpconv(96, (192, 192, 192), 5, 2),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),   # 16 -> 8
            nn.Dropout(dropout),
            *_mlpconv(192, (192, 192, num_classes), 3, 1),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))

    def forward(self, x):
        return self.avgpool(self.features(x)).flatten(1)


@register_model
def nin(*, weights=None, progress: bool = True, **kwargs) -> NiN:
    """Network in Network for CIFAR10 (10 classes by default)."""
    check_weights("nin", weights, kwargs)
    return NiN(**kwargs)
