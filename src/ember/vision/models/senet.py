"""Squeeze-and-excitation networks (Hu et al., 2018): ResNet blocks whose residual branch is
rescaled channel-wise by a gate computed from its global average (reduction 16)."""
from __future__ import annotations

from ... import nn
from ._utils import check_weights, register_model
from .resnet import BasicBlock, Bottleneck, ResNet

__all__ = ["SELayer", "SEBasicBlock", "SEBottleneck", "se_resnet18", "se_resnet34", "se_resnet50",
           "se_resnet101", "se_resnet152"]


class SELayer(nn.Module):
    """Squeeze (global average pooling) and excite (Linear C->C/r, ReLU, Linear C/r->C, sigmoid);
    the input is multiplied channel-wise by the resulting gate."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        hidden = max(channels // reduction, 1)
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(
            nn.Linear(channels, hidden, bias=False),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, channels, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, x):
        n, c = x.shape[0], x.shape[1]
        y = self.fc(self.avg_pool(x).flatten(1))
        return x * y.reshape(n, c, 1, 1)


class SEBasicBlock(BasicBlock):
    def __init__(self, *args, reduction: int = 16, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.se = SELayer(self.bn2.num_features, reduction)

    def _residual(self, x):
        return self.se(super()._residual(x))


class SEBottleneck(Bottleneck):
    def __init__(self, *args, reduction: int = 16, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.se = SELayer(self.bn3.num_features, reduction)

    def _residual(self, x):
        return self.se(super()._residual(x))


def _se(name, block, layers, weights, kwargs) -> ResNet:
    check_weights(name, weights, kwargs)
    return ResNet(block, layers, **kwargs)


@register_model
def se_resnet18(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    return _se("se_resnet18", SEBasicBlock, [2, 2, 2, 2], weights, kwargs)


@register_model
def se_resnet34(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    return _se("se_resnet34", SEBasicBlock, [3, 4, 6, 3], weights, kwargs)


@register_model
def se_resnet50(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    return _se("se_resnet50", SEBottleneck, [3, 4, 6, 3], weights, kwargs)


@register_model
def se_resnet101(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    return _se("se_resnet101", SEBottleneck, [3, 4, 23, 3], weights, kwargs)


@register_model
def se_resnet152(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    return _se("se_resnet152", SEBottleneck, [3, 8, 36, 3], weights, kwargs)
