"""VGG (Simonyan and Zisserman, 2014) as torchvision defines it, and the 13-layer CIFAR10 variant."""
from __future__ import annotations

from ... import nn
from ._utils import check_features, check_weights, register_model

__all__ = ["VGG", "make_layers", "cfgs", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19",
           "vgg19_bn", "VGGCIFAR", "vgg13_cifar"]

# torchvision's configurations: numbers are 3x3 conv widths, "M" a 2x2/2 max pooling.
cfgs: dict[str, list] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


def make_layers(cfg: list, batch_norm: bool = False) -> nn.Sequential:
    layers: list = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
        else:
            conv2d = nn.Conv2d(in_channels, v, kernel_size=3, padding=1)
            if batch_norm:
                layers += [conv2d, nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
            else:
                layers += [conv2d, nn.ReLU(inplace=True)]
            in_channels = v
    return nn.Sequential(*layers)


def _init_vgg(module: nn.Module) -> None:
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.constant_(m.bias, 0)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.constant_(m.weight, 1)
            nn.init.constant_(m.bias, 0)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.constant_(m.bias, 0)


class VGG(nn.Module):
    def __init__(self, features: nn.Module, num_classes: int = 1000, init_weights: bool = True,
                 dropout: float = 0.5) -> None:
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        if init_weights:
            _init_vgg(self)

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = x.flatten(1)
        return self.classifier(x)


def _vgg(name: str, cfg: str, batch_norm: bool, weights, kwargs) -> VGG:
    check_weights(name, weights, kwargs)
    return VGG(make_layers(cfgs[cfg], batch_norm=batch_norm), **kwargs)


@register_model
def vgg11(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    return _vgg("vgg11", "A", False, weights, kwargs)


@register_model
def vgg11_bn(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    return _vgg("vgg11_bn", "A", True, weights, kwargs)


@register_model
def vgg13(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    return _vgg("vgg13", "B", False, weights, kwargs)


@register_model
def vgg13_bn(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    return _vgg("vgg13_bn", "B", True, weights, kwargs)


@register_model
def vgg16(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    return _vgg("vgg16", "D", False, weights, kwargs)


@register_model
def vgg16_bn(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    return _vgg("vgg16_bn", "D", True, weights, kwargs)


@register_model
def vgg19(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    return _vgg("vgg19", "E", False, weights, kwargs)


@register_model
def vgg19_bn(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    return _vgg("vgg19_bn", "E", True, weights, kwargs)


class VGGCIFAR(nn.Module):
    """The 13-layer VGG for CIFAR10: VGG13's ten 3x3 convolutions (padding 1, 2x2/2 max pooling; five
    poolings take 32x32 to 1x1) and three linear layers of width 512."""

    def __init__(self, num_classes: int = 10, batch_norm: bool = True, init_weights: bool = True,
                 dropout: float = 0.5) -> None:
        super().__init__()
        self.features = make_layers(cfgs["B"], batch_norm=batch_norm)
        self.classifier = nn.Sequential(
            nn.Linear(512, 512),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(512, 512),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(512, num_classes),
        )
        if init_weights:
            _init_vgg(self)
            for m in self.classifier:
                if isinstance(m, nn.Linear):
                    nn.init.kaiming_normal_(m.weight, nonlinearity="relu")

    def forward(self, x):
        x = self.features(x).flatten(1)
        check_features(x, self.classifier[0], "classifier.0", "VGGCIFAR", "3x32x32")
        return self.classifier(x)


@register_model
def vgg13_cifar(*, weights=None, progress: bool = True, **kwargs) -> VGGCIFAR:
    """The 13-layer VGG for CIFAR10 (input 3x32x32); ``batch_norm=False`` for the original recipe."""
    check_weights("vgg13_cifar", weights, kwargs)
    return VGGCIFAR(**kwargs)
