"""DenseNet (Huang et al., 2017) as torchvision defines it."""
from __future__ import annotations

from collections import OrderedDict

from ... import nn
from ...nn import functional as F
from ._utils import check_weights, register_model

__all__ = ["DenseNet", "densenet121", "densenet161", "densenet169", "densenet201"]


def _cat(tensors, dim):
    from ... import cat
    return cat(tensors, dim)


class _DenseLayer(nn.Module):
    """BN-ReLU-conv1x1 (bn_size * growth_rate) then BN-ReLU-conv3x3 (growth_rate) on the
    concatenation of all previous feature maps."""

    def __init__(self, num_input_features: int, growth_rate: int, bn_size: int, drop_rate: float,
                 memory_efficient: bool = False) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(num_input_features)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(num_input_features, bn_size * growth_rate, kernel_size=1, stride=1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, kernel_size=3, stride=1, padding=1, bias=False)
        self.drop_rate = float(drop_rate)
        self.memory_efficient = memory_efficient  # accepted for torchvision compatibility; no checkpointing

    def bn_function(self, inputs: list):
        return self.conv1(self.relu1(self.norm1(_cat(inputs, 1))))

    def forward(self, input):
        prev_features = input if isinstance(input, (list, tuple)) else [input]
        bottleneck_output = self.bn_function(list(prev_features))
        new_features = self.conv2(self.relu2(self.norm2(bottleneck_output)))
        if self.drop_rate > 0:
            new_features = F.dropout(new_features, p=self.drop_rate, training=self.training)
        return new_features


class _DenseBlock(nn.ModuleDict):
    _version = 2

    def __init__(self, num_layers: int, num_input_features: int, bn_size: int, growth_rate: int,
                 drop_rate: float, memory_efficient: bool = False) -> None:
        super().__init__()
        for i in range(num_layers):
            layer = _DenseLayer(num_input_features + i * growth_rate, growth_rate=growth_rate, bn_size=bn_size,
                                drop_rate=drop_rate, memory_efficient=memory_efficient)
            self.add_module("denselayer%d" % (i + 1), layer)

    def forward(self, init_features):
        features = [init_features]
        for _name, layer in self.items():
            features.append(layer(features))
        return _cat(features, 1)


class _Transition(nn.Sequential):
    def __init__(self, num_input_features: int, num_output_features: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(num_input_features)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(num_input_features, num_output_features, kernel_size=1, stride=1, bias=False)
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)


class DenseNet(nn.Module):
    def __init__(self, growth_rate: int = 32, block_config: tuple = (6, 12, 24, 16), num_init_features: int = 64,
                 bn_size: int = 4, drop_rate: float = 0, num_classes: int = 1000,
                 memory_efficient: bool = False) -> None:
        super().__init__()
        self.features = nn.Sequential(OrderedDict([
            ("conv0", nn.Conv2d(3, num_init_features, kernel_size=7, stride=2, padding=3, bias=False)),
            ("norm0", nn.BatchNorm2d(num_init_features)),
            ("relu0", nn.ReLU(inplace=True)),
            ("pool0", nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),
        ]))
        num_features = num_init_features
        for i, num_layers in enumerate(block_config):
            block = _DenseBlock(num_layers=num_layers, num_input_features=num_features, bn_size=bn_size,
                                growth_rate=growth_rate, drop_rate=drop_rate, memory_efficient=memory_efficient)
            self.features.add_module("denseblock%d" % (i + 1), block)
            num_features = num_features + num_layers * growth_rate
            if i != len(block_config) - 1:
                trans = _Transition(num_input_features=num_features, num_output_features=num_features // 2)
                self.features.add_module("transition%d" % (i + 1), trans)
                num_features = num_features // 2
        self.features.add_module("norm5", nn.BatchNorm2d(num_features))
        self.classifier = nn.Linear(num_features, num_classes)

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        features = self.features(x)
        out = F.relu(features, inplace=True)
        out = F.adaptive_avg_pool2d(out, (1, 1)).flatten(1)
        return self.classifier(out)


def _densenet(name, growth_rate, block_config, num_init_features, weights, kwargs) -> DenseNet:
    check_weights(name, weights, kwargs)
    return DenseNet(growth_rate, block_config, num_init_features, **kwargs)


@register_model
def densenet121(*, weights=None, progress: bool = True, **kwargs) -> DenseNet:
    return _densenet("densenet121", 32, (6, 12, 24, 16), 64, weights, kwargs)


@register_model
def densenet161(*, weights=None, progress: bool = True, **kwargs) -> DenseNet:
    return _densenet("densenet161", 48, (6, 12, 36, 24), 96, weights, kwargs)


@register_model
def densenet169(*, weights=None, progress: bool = True, **kwargs) -> DenseNet:
    return _densenet("densenet169", 32, (6, 12, 32, 32), 64, weights, kwargs)


@register_model
def densenet201(*, weights=None, progress: bool = True, **kwargs) -> DenseNet:
    return _densenet("densenet201", 32, (6, 12, 48, 32), 64, weights, kwargs)
