"""Activation functions (``F.relu``, ``F.gelu``, …): forward on arrays, backward in ember ops.

Piecewise-linear activations multiply the incoming gradient by a constant mask (their second
derivative is zero); smooth ones write the derivative with ember ops on the saved input, so double
backward works. ``inplace=True`` writes into the input like PyTorch's ``relu_`` family.
"""
from __future__ import annotations

import math

from .._tensor import Tensor, tensor_method
from ..autograd.function import Function
from ..autograd.grad_mode import STATE
from ..backend import xp
from . import elementwise as E
from .inplace import _apply, _inplace_check

__all__ = ["relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "elu", "elu_", "selu", "selu_", "celu", "celu_",
           "gelu", "silu", "mish", "softplus", "hardtanh", "hardtanh_", "hardswish", "hardsigmoid", "sigmoid",
           "tanh", "threshold", "threshold_", "prelu", "logsigmoid", "softsign", "tanhshrink", "hardshrink",
           "softshrink", "glu", "rrelu", "rrelu_"]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _const(arr) -> Tensor:
    return Tensor._make(arr, False, None, 0)


def _check(input, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")


def _float_check(input, name):
    _check(input, name)
    if input._data.dtype.kind not in "fc":
        raise NotImplementedError(f'"{name}" not implemented for \'{input.dtype._legacy.replace("Tensor", "")}\'')


def _inplace(input, fn, *args):
    """Run ``fn`` in place on ``input`` (PyTorch's ``inplace=True``)."""
    return _apply(input, fn, *args)


# ---------------------------------------------------------------------------------------------
# ReLU family (piecewise linear)
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0)."""
    _check(input, "relu")
    if inplace:
        return relu_(input)
    return E.relu(input)


class _ReluInPlace(Function):
    """``relu_`` of a tensor with a history that is not a view: computed in place (one pass, no new array) and
    the result saved for backward is the tensor itself, at its new version, as in PyTorch. (Through ``_apply``
    relu_ computed a new array and copied it back: two passes and an extra activation-sized array kept for
    backward -- VGG's five ReLU(inplace=True) layers 3.3 ms per step, plus 3 ms of copies.)"""
    _tensor_forward = True             # forward gets (detached) Tensors and may mark them dirty
    node_name = "ReluBackward0"

    @staticmethod
    def forward(ctx, a):
        E._relu(a._data, out=a._data)
        ctx.mark_dirty(a)
        ctx.save_for_backward(a)
        return a

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return E.threshold_backward(g, out, 0)


def relu_(input: Tensor) -> Tensor:
    if not STATE.enabled or not input._requires_grad:
        if input._data.dtype == xp.bool_:
            raise RuntimeError('"clamp_min_cpu" not implemented for \'Bool\'')
        E._relu(input._data, out=input._data)
        input._vc[0] += 1
        return input
    if input._base is None and input.grad_fn is not None:
        _inplace_check(input)
        return _ReluInPlace.apply(input)
    return _apply(input, E.relu)


class Hardtanh(Function):
    @staticmethod
    def forward(ctx, a, lo, hi):
        ctx.lo, ctx.hi = lo, hi
        ctx.save_for_backward(a)
        return xp.clip(a, lo, hi).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        x = a._data
        mask = (x > ctx.lo) & (x < ctx.hi)
        return g * _const(mask), None, None


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """clamp(x, min_val, max_val) with zero gradient at and beyond the bounds."""
    _check(input, "hardtanh")
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if inplace:
        return _inplace(input, lambda t: Hardtanh.apply(t, min_val, max_val))
    return Hardtanh.apply(input, min_val, max_val)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


class LeakyRelu(Function):
    @staticmethod
    def forward(ctx, a, slope):
        ctx.slope = slope
        ctx.save_for_backward(a)
        out = a * a.dtype.type(slope)
        return xp.maximum(a, out) if slope <= 1 else xp.minimum(a, out)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        x = a._data
        mask = xp.where(x > 0, x.dtype.type(1), x.dtype.type(ctx.slope))
        return g * _const(mask), None


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x if x > 0 else negative_slope * x."""
    _float_check(input, "leaky_relu")
    if inplace:
        return _inplace(input, lambda t: LeakyRelu.apply(t, negative_slope))
    return LeakyRelu.apply(input, negative_slope)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return leaky_relu(input, negative_slope, True)


class Threshold(Function):
    @staticmethod
    def forward(ctx, a, threshold, value):
        mask = a > threshold
        ctx.mask = mask
        return xp.where(mask, a, a.dtype.type(value))

    @staticmethod
    def backward(ctx, g):
        return g * _const(ctx.mask), None, None


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x if x > threshold else value."""
    _check(input, "threshold")
    if inplace:
        return _inplace(input, lambda t: Threshold.apply(t, threshold, value))
    return Threshold.apply(input, threshold, value)


def threshold_(input: Tensor, threshold_: float, value: float) -> Tensor:
    return threshold(input, threshold_, value, True)


class Prelu(Function):
    """x if x > 0 else w * x, with w broadcast over dim 1 (channels)."""
    node_name = "PreluKernelBackward0"

    @staticmethod
    def forward(ctx, a, w):
        ctx.save_for_backward(a, w)
        return xp.where(a > 0, a, w * a)

    @staticmethod
    def backward(ctx, g):
        a, w = ctx.saved_tensors
        pos = _const(a._data > 0)
        neg = _const(a._data <= 0)
        n = ctx.needs_input_grad
        ga = g * (pos + neg * w) if n[0] else None
        gw = g * a * neg if n[1] else None
        return ga, gw


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x if x > 0 else weight * x; weight: (1,) or (C,) for input (N, C, *)."""
    _check(input, "prelu")
    if weight._data.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = "
                           f"{weight._data.ndim}")
    nw = weight._data.size
    if input._data.ndim == 0 and nw != 1:
        raise RuntimeError("Not allow zero-dim input tensor.")
    channels = input._data.shape[1] if input._data.ndim >= 2 else 1
    if nw != 1 and nw != channels:
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = {nw} "
                           f"and channel size = {channels}.")
    w = weight
    if nw != 1 and input._data.ndim >= 2:
        w = weight.reshape((nw,) + (1,) * (input._data.ndim - 2))
    elif weight._data.ndim == 1 and input._data.ndim == 0:
        w = weight.reshape(())
    return Prelu.apply(input, w)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Randomized leaky ReLU: a random slope U(lower, upper) per element in training, their mean otherwise."""
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    from .._random import _rng
    slope = _rng(None).uniform(lower, upper, input._data.shape).astype(input._data.dtype)
    slope = xp.where(input._data >= 0, input._data.dtype.type(1), slope)
    out = input * _const(slope)
    if inplace:
        return _inplace(input, lambda t: t * _const(slope))
    return out


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False) -> Tensor:
    return rrelu(input, lower, upper, training, True)


# ---------------------------------------------------------------------------------------------
# Exponential-linear family
class Elu(Function):
    """scale * (x if x > 0 else alpha * (exp(x * input_scale) - 1))."""

    @staticmethod
    def forward(ctx, a, alpha, scale, input_scale):
        ctx.p = (alpha, scale, input_scale)
        ctx.save_for_backward(a)
        dt = a.dtype.type
        neg = xp.expm1(xp.minimum(a, 0) * dt(input_scale)) * dt(alpha * scale)
        return xp.where(a > 0, a * dt(scale), neg)

    @staticmethod
    def backward(ctx, g):
        alpha, scale, input_scale = ctx.p
        (a,) = ctx.saved_tensors
        pos = _const(a._data > 0)
        neg_branch = E.exp(E.clamp_max(a, 0) * input_scale) * (alpha * scale * input_scale)
        return g * E.where(pos, float(scale), neg_branch), None, None, None


class Celu(Elu):
    pass


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    _float_check(input, "elu")
    if inplace:
        return _inplace(input, lambda t: Elu.apply(t, alpha, 1.0, 1.0))
    return Elu.apply(input, alpha, 1.0, 1.0)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return elu(input, alpha, True)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    _float_check(input, "selu")
    if inplace:
        return _inplace(input, lambda t: Elu.apply(t, _SELU_ALPHA, _SELU_SCALE, 1.0))
    return Elu.apply(input, _SELU_ALPHA, _SELU_SCALE, 1.0)


def selu_(input: Tensor) -> Tensor:
    return selu(input, True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    _float_check(input, "celu")
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    if inplace:
        return _inplace(input, lambda t: Celu.apply(t, alpha, 1.0, 1.0 / alpha))
    return Celu.apply(input, alpha, 1.0, 1.0 / alpha)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return celu(input, alpha, True)


# ---------------------------------------------------------------------------------------------
# Smooth activations
_SQRT_2 = math.sqrt(2.0)
_SQRT_2_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class Gelu(Function):
    @staticmethod
    def forward(ctx, a, approximate):
        ctx.approximate = approximate
        ctx.save_for_backward(a)
        dt = a.dtype.type
        if approximate == "tanh":
            inner = (a + dt(0.044715) * a * a * a) * dt(_SQRT_2_PI)
            return dt(0.5) * a * (dt(1) + xp.tanh(inner))
        return dt(0.5) * a * (dt(1) + E._erf(a * dt(1 / _SQRT_2)))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            inner = (x + x * x * x * 0.044715) * _SQRT_2_PI
            t = E.tanh(inner)
            d_inner = (x * x * (3 * 0.044715) + 1) * _SQRT_2_PI
            return g * ((t + 1) * 0.5 + x * 0.5 * (1 - t * t) * d_inner), None
        cdf = (E.erf(x * (1 / _SQRT_2)) + 1) * 0.5
        pdf = E.exp(x * x * -0.5) * _INV_SQRT_2PI
        return g * (cdf + x * pdf), None


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x * Φ(x) (``approximate='tanh'``: the tanh approximation)."""
    _float_check(input, "GeluKernelImpl")
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return Gelu.apply(input, approximate)


def _np_sigmoid(a):
    e = xp.exp(-xp.abs(a))
    return xp.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)


class Silu(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * _np_sigmoid(a)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        s = E.sigmoid(x)
        return g * (s * (x * (1 - s) + 1))


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x)."""
    _float_check(input, "silu")
    if inplace:
        return _inplace(input, Silu.apply)
    return Silu.apply(input)


def _np_softplus(a, beta, threshold):
    dt = a.dtype.type
    z = a * dt(beta)
    soft = (xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))) / dt(beta)
    return xp.where(z > threshold, a, soft).astype(a.dtype, copy=False)


class Mish(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * xp.tanh(_np_softplus(a, 1.0, 20.0))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        t = E.tanh(softplus(x))
        return g * (t + x * E.sigmoid(x) * (1 - t * t))


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x))."""
    _float_check(input, "mish")
    if inplace:
        return _inplace(input, Mish.apply)
    return Mish.apply(input)


class Softplus(Function):
    @staticmethod
    def forward(ctx, a, beta, threshold):
        ctx.p = (beta, threshold)
        ctx.save_for_backward(a)
        return _np_softplus(a, beta, threshold)

    @staticmethod
    def backward(ctx, g):
        beta, threshold = ctx.p
        (x,) = ctx.saved_tensors
        lin = _const(x._data * beta > threshold)
        return g * E.where(lin, 1.0, E.sigmoid(x * beta)), None, None


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta, linear where beta x > threshold."""
    _float_check(input, "softplus")
    return Softplus.apply(input, beta, threshold)


class Hardswish(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        dt = a.dtype.type
        return a * xp.clip(a + dt(3), 0, 6) / dt(6)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        xa = x._data
        mid = _const((xa > -3) & (xa < 3))
        hi = _const(xa >= 3)
        return g * (mid * (x / 3 + 0.5) + hi)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * relu6(x + 3) / 6."""
    _float_check(input, "hardswish")
    if inplace:
        return _inplace(input, Hardswish.apply)
    return Hardswish.apply(input)


class Hardsigmoid(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        dt = a.dtype.type
        return xp.clip(a / dt(6) + dt(0.5), 0, 1).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        xa = x._data
        return g * _const(((xa > -3) & (xa < 3)) * xa.dtype.type(1 / 6))


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6."""
    _float_check(input, "hardsigmoid")
    if inplace:
        return _inplace(input, Hardsigmoid.apply)
    return Hardsigmoid.apply(input)


class LogSigmoid(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return (xp.minimum(a, 0) - xp.log1p(xp.exp(-xp.abs(a)))).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * E.sigmoid(-x)


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)), computed without overflow."""
    _float_check(input, "log_sigmoid_forward")
    return LogSigmoid.apply(input)


def sigmoid(input: Tensor) -> Tensor:
    return E.sigmoid(input)


def tanh(input: Tensor) -> Tensor:
    return E.tanh(input)


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    return input / (E.abs(input) + 1)


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x)."""
    return input - E.tanh(input)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > lambd else 0."""
    mask = _const((input._data > lambd) | (input._data < -lambd))
    return input * mask


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x - lambd where x > lambd, x + lambd where x < -lambd, else 0."""
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    x = input._data
    shift = _const(xp.where(x > lambd, x.dtype.type(-lambd), x.dtype.type(lambd)))
    mask = _const((x > lambd) | (x < -lambd))
    return (input + shift) * mask


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a * sigmoid(b) for the two halves (a, b) of ``input`` along ``dim``."""
    if input._data.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    n = input.shape[dim]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim % input._data.ndim} is size {n}")
    a, b = input.chunk(2, dim)
    return a * E.sigmoid(b)


@tensor_method("relu_")
def _relu_method_(self):
    return relu_(self)

