"""ResNet (He et al., 2015) as torchvision defines it (v1.5: the stride of a downsampling bottleneck
on its 3x3 conv), plus the original v1 (stride on the first 1x1 conv), the pre-activation v2
(He et al., 2016), a CIFAR10 stem (3x3 conv, no max pooling), ResNeXt and Wide ResNet."""
from __future__ import annotations

from ... import nn
from ._utils import check_weights, register_model

__all__ = ["ResNet", "BasicBlock", "Bottleneck", "conv1x1", "conv3x3", "resnet18", "resnet34", "resnet50",
           "resnet101", "resnet152", "resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d", "wide_resnet50_2",
           "wide_resnet101_2", "resnet18_cifar", "PreActBasicBlock", "PreActBottleneck", "PreActResNet",
           "preact_resnet18", "preact_resnet34", "preact_resnet50", "preact_resnet101", "preact_resnet152"]


def conv3x3(in_planes: int, out_planes: int, stride: int = 1, groups: int = 1, dilation: int = 1) -> nn.Conv2d:
    """3x3 convolution with padding."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation, groups=groups,
                     bias=False, dilation=dilation)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """1x1 convolution."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    expansion: int = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample=None, groups: int = 1,
                 base_width: int = 64, dilation: int = 1, norm_layer=None) -> None:
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        if dilation > 1:
            raise NotImplementedError("Dilation > 1 not supported in BasicBlock")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def _residual(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        return self.bn2(self.conv2(out))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self._residual(x)
        out += identity
        return self.relu(out)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3, 1x1 expand (x4). v1.5 (torchvision, default) strides the 3x3 conv;
    ``stride_in_1x1=True`` strides the first 1x1 conv as the original ResNet (v1) does."""
    expansion: int = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample=None, groups: int = 1,
                 base_width: int = 64, dilation: int = 1, norm_layer=None, stride_in_1x1: bool = False) -> None:
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        s1, s3 = (stride, 1) if stride_in_1x1 else (1, stride)
        self.conv1 = conv1x1(inplanes, width, s1)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, s3, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def _residual(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.bn3(self.conv3(out))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self._residual(x)
        out += identity
        return self.relu(out)


class ResNet(nn.Module):
    """torchvision's ResNet. ember additions (keyword-only, defaults give torchvision's model):
    ``variant="v1"`` (or ``stride_in_1x1=True``) strides bottlenecks on their first 1x1 conv (the
    2015 paper) instead of the 3x3 (``"v1.5"``); ``small_input=True`` uses a 3x3/1 stem conv and no
    max pooling (CIFAR10)."""

    def __init__(self, block, layers: list, num_classes: int = 1000, zero_init_residual: bool = False,
                 groups: int = 1, width_per_group: int = 64, replace_stride_with_dilation=None, norm_layer=None,
                 *, variant: str = "v1.5", small_input: bool = False, stride_in_1x1: bool = False) -> None:
        super().__init__()
        if stride_in_1x1:
            variant = "v1"
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        if variant not in ("v1", "v1.5"):
            raise ValueError(f"ResNet: variant must be 'v1' or 'v1.5' (pre-activation v2 is preact_resnet*), "
                             f"got {variant!r}")
        self._norm_layer = norm_layer
        self._block_kwargs = {"stride_in_1x1": True} if variant == "v1" and issubclass(block, Bottleneck) else {}
        self.inplanes = 64
        self.dilation = 1
        if replace_stride_with_dilation is None:
            replace_stride_with_dilation = [False, False, False]
        if len(replace_stride_with_dilation) != 3:
            raise ValueError("replace_stride_with_dilation should be None or a 3-element tuple, got "
                             f"{replace_stride_with_dilation}")
        self.groups = groups
        self.base_width = width_per_group
        if small_input:
            self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=3, stride=1, padding=1, bias=False)
        else:
            self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = norm_layer(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.Identity() if small_input else nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2, dilate=replace_stride_with_dilation[0])
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2, dilate=replace_stride_with_dilation[1])
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2, dilate=replace_stride_with_dilation[2])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, getattr(nn, "GroupNorm", nn.BatchNorm2d))):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck) and m.bn3.weight is not None:
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock) and m.bn2.weight is not None:
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block, planes: int, blocks: int, stride: int = 1, dilate: bool = False) -> nn.Sequential:
        norm_layer = self._norm_layer
        downsample = None
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       norm_layer(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, self.groups, self.base_width, previous_dilation,
                        norm_layer, **self._block_kwargs)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, groups=self.groups, base_width=self.base_width,
                                dilation=self.dilation, norm_layer=norm_layer, **self._block_kwargs))
        return nn.Sequential(*layers)

    def _forward_impl(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.layer4(x)
        x = self.avgpool(x).flatten(1)
        return self.fc(x)

    def forward(self, x):
        return self._forward_impl(x)


def _resnet(name: str, block, layers: list, weights, kwargs) -> ResNet:
    check_weights(name, weights, kwargs)
    return ResNet(block, layers, **kwargs)


@register_model
def resnet18(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    return _resnet("resnet18", BasicBlock, [2, 2, 2, 2], weights, kwargs)


@register_model
def resnet34(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    return _resnet("resnet34", BasicBlock, [3, 4, 6, 3], weights, kwargs)


@register_model
def resnet50(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-50 v1.5; ``variant="v1"`` for the original downsampling."""
    return _resnet("resnet50", Bottleneck, [3, 4, 6, 3], weights, kwargs)


@register_model
def resnet101(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    return _resnet("resnet101", Bottleneck, [3, 4, 23, 3], weights, kwargs)


@register_model
def resnet152(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    return _resnet("resnet152", Bottleneck, [3, 8, 36, 3], weights, kwargs)


def _wide(kwargs: dict, groups: int, width: int) -> dict:
    kwargs.setdefault("groups", groups)
    kwargs.setdefault("width_per_group", width)
    return kwargs


@register_model
def resnext50_32x4d(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    return _resnet("resnext50_32x4d", Bottleneck, [3, 4, 6, 3], weights, _wide(kwargs, 32, 4))


@register_model
def resnext101_32x8d(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    return _resnet("resnext101_32x8d", Bottleneck, [3, 4, 23, 3], weights, _wide(kwargs, 32, 8))


@register_model
def resnext101_64x4d(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    return _resnet("resnext101_64x4d", Bottleneck, [3, 4, 23, 3], weights, _wide(kwargs, 64, 4))


@register_model
def wide_resnet50_2(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    return _resnet("wide_resnet50_2", Bottleneck, [3, 4, 6, 3], weights, _wide(kwargs, 1, 128))


@register_model
def wide_resnet101_2(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    return _resnet("wide_resnet101_2", Bottleneck, [3, 4, 23, 3], weights, _wide(kwargs, 1, 128))


@register_model
def resnet18_cifar(*, weights=None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-18 for CIFAR10: 3x3/1 stem conv, no max pooling, 10 classes by default."""
    kwargs.setdefault("num_classes", 10)
    return _resnet("resnet18_cifar", BasicBlock, [2, 2, 2, 2], weights, {**kwargs, "small_input": True})


# --- pre-activation ResNet (v2) ------------------------------------------------------------------

class PreActBasicBlock(nn.Module):
    """BN -> ReLU -> conv3x3 -> BN -> ReLU -> conv3x3, plus the identity; a projection shortcut (1x1
    conv, no BN) takes the pre-activated input."""
    expansion: int = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, norm_layer=None) -> None:
        super().__init__()
        norm_layer = norm_layer or nn.BatchNorm2d
        self.bn1 = norm_layer(inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn2 = norm_layer(planes)
        self.conv2 = conv3x3(planes, planes)
        self.downsample = (conv1x1(inplanes, planes * self.expansion, stride)
                           if stride != 1 or inplanes != planes * self.expansion else None)

    def forward(self, x):
        out = self.relu(self.bn1(x))
        shortcut = self.downsample(out) if self.downsample is not None else x
        out = self.conv1(out)
        out = self.conv2(self.relu(self.bn2(out)))
        return out + shortcut


class PreActBottleneck(nn.Module):
    """BN-ReLU-conv1x1, BN-ReLU-conv3x3 (strided), BN-ReLU-conv1x1 (x4), plus the shortcut."""
    expansion: int = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, norm_layer=None) -> None:
        super().__init__()
        norm_layer = norm_layer or nn.BatchNorm2d
        self.bn1 = norm_layer(inplanes)
        self.conv1 = conv1x1(inplanes, planes)
        self.bn2 = norm_layer(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn3 = norm_layer(planes)
        self.conv3 = conv1x1(planes, planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = (conv1x1(inplanes, planes * self.expansion, stride)
                           if stride != 1 or inplanes != planes * self.expansion else None)

    def forward(self, x):
        out = self.relu(self.bn1(x))
        shortcut = self.downsample(out) if self.downsample is not None else x
        out = self.conv1(out)
        out = self.conv2(self.relu(self.bn2(out)))
        out = self.conv3(self.relu(self.bn3(out)))
        return out + shortcut


class PreActResNet(nn.Module):
    """Pre-activation ResNet (v2): ImageNet stem (conv 7x7/2, BN, ReLU, max pool), blocks without a
    ReLU after the addition, a final BN-ReLU before global average pooling."""

    def __init__(self, block, layers: list, num_classes: int = 1000, norm_layer=None) -> None:
        super().__init__()
        norm_layer = norm_layer or nn.BatchNorm2d
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = norm_layer(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0], 1, norm_layer)
        self.layer2 = self._make_layer(block, 128, layers[1], 2, norm_layer)
        self.layer3 = self._make_layer(block, 256, layers[2], 2, norm_layer)
        self.layer4 = self._make_layer(block, 512, layers[3], 2, norm_layer)
        self.bn_final = norm_layer(512 * block.expansion)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def _make_layer(self, block, planes, blocks, stride, norm_layer) -> nn.Sequential:
        layers = [block(self.inplanes, planes, stride, norm_layer)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes, 1, norm_layer) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.relu(self.bn_final(x))
        return self.fc(self.avgpool(x).flatten(1))


def _preact(name, block, layers, weights, kwargs) -> PreActResNet:
    check_weights(name, weights, kwargs)
    return PreActResNet(block, layers, **kwargs)


@register_model
def preact_resnet18(*, weights=None, progress: bool = True, **kwargs) -> PreActResNet:
    return _preact("preact_resnet18", PreActBasicBlock, [2, 2, 2, 2], weights, kwargs)


@register_model
def preact_resnet34(*, weights=None, progress: bool = True, **kwargs) -> PreActResNet:
    return _preact("preact_resnet34", PreActBasicBlock, [3, 4, 6, 3], weights, kwargs)


@register_model
def preact_resnet50(*, weights=None, progress: bool = True, **kwargs) -> PreActResNet:
    return _preact("preact_resnet50", PreActBottleneck, [3, 4, 6, 3], weights, kwargs)


@register_model
def preact_resnet101(*, weights=None, progress: bool = True, **kwargs) -> PreActResNet:
    return _preact("preact_resnet101", PreActBottleneck, [3, 4, 23, 3], weights, kwargs)


@register_model
def preact_resnet152(*, weights=None, progress: bool = True, **kwargs) -> PreActResNet:
    return _preact("preact_resnet152", PreActBottleneck, [3, 8, 36, 3], weights, kwargs)
