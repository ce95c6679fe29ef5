"""``Flatten``, ``Unflatten`` and the other shape-changing layers: ``Upsample``, padding layers,
``PixelShuffle``/``PixelUnshuffle``/``ChannelShuffle``, and the distance layers."""
from __future__ import annotations

from .module import Module

__all__ = ["Flatten", "Unflatten"]


class Flatten(Module):
    """Flattens dims start_dim..end_dim (default: all but the batch dim)."""

    __constants__ = ["start_dim", "end_dim"]

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Expands dim ``dim`` into ``unflattened_size``."""

    def __init__(self, dim, unflattened_size) -> None:
        super().__init__()
        if isinstance(dim, int):
            if not isinstance(unflattened_size, (tuple, list)):
                raise TypeError("unflattened_size must be tuple of ints, but found type "
                                f"{type(unflattened_size).__name__}")
            for idx, elem in enumerate(unflattened_size):
                if not isinstance(elem, int):
                    raise TypeError(f"unflattened_size must be tuple of ints, but found element of type "
                                    f"{type(elem).__name__} at pos {idx}")
        elif isinstance(dim, str):
            raise TypeError("ember does not support named tensors (Unflatten with a dim name)")
        else:
            raise TypeError("invalid argument type for dim parameter")
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input):
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


# ---- other shape-changing layers (kept here: resampling, padding, pixel shuffles, distances) ---------
from ...ops import nn_misc as _M  # noqa: E402

__all__ += ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "PixelShuffle", "PixelUnshuffle",
            "ChannelShuffle", "CosineSimilarity", "PairwiseDistance", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
            "ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d",
            "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "CircularPad1d",
            "CircularPad2d", "CircularPad3d"]


class Upsample(Module):
    """``F.interpolate`` as a layer."""

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,
                 recompute_scale_factor=None) -> None:
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return _M.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                              recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            info = "scale_factor=" + repr(self.scale_factor)
        else:
            info = "size=" + repr(self.size)
        return info + ", mode=" + repr(self.mode)


class UpsamplingNearest2d(Upsample):
    def __init__(self, size=None, scale_factor=None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    def __init__(self, size=None, scale_factor=None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class PixelShuffle(Module):
    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return _M.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return _M.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class ChannelShuffle(Module):
    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return _M.channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"


class CosineSimilarity(Module):
    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return _M.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        return _M.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


def _ntuple_pad(padding, n: int) -> tuple:
    return (padding,) * (2 * n) if isinstance(padding, int) else tuple(padding)


class _PadNd(Module):
    _n = 1
    _mode = "constant"

    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = _ntuple_pad(padding, self._n)

    def forward(self, input):
        return _M.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return _M.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


def _pad_class(name, base, n, mode=None, zero=False):
    attrs = {"_n": n}
    if mode:
        attrs["_mode"] = mode
    if zero:
        attrs["__init__"] = lambda self, padding: _ConstantPadNd.__init__(self, padding, 0.0)
        attrs["extra_repr"] = lambda self: f"{self.padding}"
    return type(name, (base,), attrs)


ConstantPad1d = _pad_class("ConstantPad1d", _ConstantPadNd, 1)
ConstantPad2d = _pad_class("ConstantPad2d", _ConstantPadNd, 2)
ConstantPad3d = _pad_class("ConstantPad3d", _ConstantPadNd, 3)
ZeroPad1d = _pad_class("ZeroPad1d", _ConstantPadNd, 1, zero=True)
ZeroPad2d = _pad_class("ZeroPad2d", _ConstantPadNd, 2, zero=True)
ZeroPad3d = _pad_class("ZeroPad3d", _ConstantPadNd, 3, zero=True)
ReflectionPad1d = _pad_class("ReflectionPad1d", _PadNd, 1, "reflect")
ReflectionPad2d = _pad_class("ReflectionPad2d", _PadNd, 2, "reflect")
ReflectionPad3d = _pad_class("ReflectionPad3d", _PadNd, 3, "reflect")
ReplicationPad1d = _pad_class("ReplicationPad1d", _PadNd, 1, "replicate")
ReplicationPad2d = _pad_class("ReplicationPad2d", _PadNd, 2, "replicate")
ReplicationPad3d = _pad_class("ReplicationPad3d", _PadNd, 3, "replicate")
CircularPad1d = _pad_class("CircularPad1d", _PadNd, 1, "circular")
CircularPad2d = _pad_class("CircularPad2d", _PadNd, 2, "circular")
CircularPad3d = _pad_class("CircularPad3d", _PadNd, 3, "circular")
