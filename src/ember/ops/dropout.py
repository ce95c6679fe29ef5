"""Dropout family: a Bernoulli mask from ember's generator, kept elements scaled by 1/(1-p).

The mask is stored once, already scaled, in the input's dtype; backward multiplies by it (so the
gradient is differentiable again with respect to the incoming gradient).
"""
from __future__ import annotations

import math

from .._random import _rng
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import STATE
from ..backend import xp

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"]

_SELU_NEG = 1.7580993408473766  # SELU's negative saturation value, -scale * alpha


def _const(arr) -> Tensor:
    return Tensor._make(arr, False, None, 0)


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _scaled_mask(shape, p, dtype):
    """Keep-mask (1 with probability 1-p) times 1/(1-p), in ``dtype``."""
    if p == 1:
        return xp.zeros(shape, dtype)
    u = _rng(None).random(shape, dtype=xp.float64 if dtype == xp.float64 else xp.float32)
    keep = u >= p
    m = keep.astype(dtype)
    m *= dtype.type(1.0 / (1.0 - p))
    return m


class Dropout(Function):
    node_name = "MulBackward0"

    @staticmethod
    def forward(ctx, a, mask):
        ctx.mask = mask
        return a * mask

    @staticmethod
    def backward(ctx, g):
        return g * _const(ctx.mask), None


def _apply_mask(input, mask, inplace):
    if inplace:
        if STATE.enabled and input._requires_grad:
            from .inplace import _apply
            return _apply(input, lambda t: Dropout.apply(t, mask))
        input._data *= mask
        input._vc[0] += 1
        return input
    return Dropout.apply(input, mask)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability p during training, scaling the rest by 1/(1-p)."""
    _check_p(p)
    if not training or p == 0:
        return input
    mask = _scaled_mask(input._data.shape, p, input._data.dtype)
    return _apply_mask(input, mask, inplace)


def _feature_dropout(input, p, training, inplace, nsp, name):
    _check_p(p)
    ndim = input._data.ndim
    if ndim not in (nsp + 1, nsp + 2):
        raise RuntimeError(f"{name}: Expected {nsp + 1}D or {nsp + 2}D input, but received a {ndim}D input. Note that "
                           f"{name} exists to provide channel-wise dropout on inputs with {nsp} spatial dimension"
                           f"{'s' if nsp > 1 else ''}, a channel dimension, and an optional batch dimension (i.e. "
                           f"{nsp + 1}D or {nsp + 2}D inputs).")
    if not training or p == 0:
        return input
    shape = input._data.shape[:ndim - nsp] + (1,) * nsp
    mask = _scaled_mask(shape, p, input._data.dtype)
    return _apply_mask(input, mask, inplace)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L) inputs."""
    return _feature_dropout(input, p, training, inplace, 1, "dropout1d")


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, H, W) or (C, H, W) inputs."""
    _check_p(p)
    ndim = input._data.ndim
    if ndim not in (3, 4):
        import warnings
        warnings.warn(f"dropout2d: Received a {ndim}-D input to dropout2d, which is deprecated and will result in "
                      "an error in a future release. To retain the behavior and silence this warning, please use "
                      "dropout instead. Note that dropout2d exists to provide channel-wise dropout on inputs with 2 "
                      "spatial dimensions, a channel dimension, and an optional batch dimension (i.e. 3D or 4D "
                      "inputs).", stacklevel=2)
    if ndim == 3:
        import warnings
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                      "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim. "
                      "This behavior will change in a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please "
                      "switch to using dropout1d instead.", stacklevel=2)
    if not training or p == 0:
        return input
    shape = input._data.shape[:2] + (1,) * (ndim - 2) if ndim >= 2 else input._data.shape
    mask = _scaled_mask(shape, p, input._data.dtype)
    return _apply_mask(input, mask, inplace)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) inputs."""
    return _feature_dropout(input, p, training, inplace, 3, "dropout3d")


def _alpha(input, p, training, inplace, mask_shape):
    _check_p(p)
    if not training or p == 0:
        return input
    dt = input._data.dtype
    if p == 1:
        return input * 0
    keep = (_rng(None).random(mask_shape, dtype=xp.float32) >= p).astype(dt)
    a = 1.0 / math.sqrt((_SELU_NEG * _SELU_NEG * p + 1) * (1 - p))
    mult = keep * dt.type(a)
    shift = ((keep - 1) * dt.type(_SELU_NEG * a) + dt.type(_SELU_NEG * a * p)).astype(dt)
    if inplace:
        from .inplace import _apply
        return _apply(input, lambda t: t * _const(mult) + _const(shift))
    return input * _const(mult) + _const(shift)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout that keeps SELU's self-normalizing mean and variance (dropped values go to SELU's floor)."""
    return _alpha(input, p, training, inplace, input._data.shape)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """alpha_dropout with one mask value per channel."""
    nd = input._data.ndim
    return _alpha(input, p, training, inplace, input._data.shape[:2] + (1,) * (nd - 2))
