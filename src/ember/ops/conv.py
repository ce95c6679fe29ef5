"""Convolutions: conv1d/2d/3d and conv_transpose1d/2d/3d over the kernels in ``backend/kernels/conv.py``.

Three Functions carry everything, each the others' gradient, so any order of differentiation stays
on the fast kernels:  y = Conv(x, w);  gx = ConvGradInput(gy, w);  gw = ConvGradWeight(gy, x).
The transposed convolution is ConvGradInput with its roles renamed.
"""
from __future__ import annotations

from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import STATE
from ..backend.kernels import conv as K

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]


def _bias_sum(gy: Tensor, nd: int) -> Tensor:
    return gy.sum(dim=(0,) + tuple(range(2, 2 + nd)))


class Conv(Function):
    """y = conv(x, w) + b.  x: (N, C_in, *S), w: (C_out, C_in/groups, *k), b: (C_out,)."""
    node_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, w, b, stride, padding, dilation, groups):
        ctx.args = (stride, padding, dilation, groups)
        n = ctx.needs_input_grad
        if n:
            ctx.save_for_backward(x if n[1] else None, w if n[0] else None)
            ctx.x_shape, ctx.w_shape = x.shape, w.shape
        return K.conv_forward(x, w, stride, padding, dilation, groups, bias=b)

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        n = ctx.needs_input_grad
        gx = ConvGradInput.apply(gy, w, ctx.x_shape, *ctx.args) if n[0] else None
        if n[1] and n[2] and not STATE.enabled:
            # no graph of the backward: both from one kernel call (the bias gradient can come out of the weight
            # gradient's GEMMs)
            gw, gb = K.conv_grad_weight(gy._data, x._data, ctx.w_shape, *ctx.args, bias=True)
            return gx, Tensor._make(gw, False, None, 0), Tensor._make(gb, False, None, 0), None, None, None, None
        gw = ConvGradWeight.apply(gy, x, ctx.w_shape, *ctx.args) if n[1] else None
        gb = _bias_sum(gy, gy._data.ndim - 2) if n[2] else None
        return gx, gw, gb, None, None, None, None


class ConvGradInput(Function):
    """gx = conv's gradient w.r.t. its input: bilinear in (gy, w)."""
    node_name = "ConvolutionBackwardBackward0"

    @staticmethod
    def forward(ctx, gy, w, x_shape, stride, padding, dilation, groups):
        ctx.args = (stride, padding, dilation, groups)
        ctx.w_shape = w.shape
        ctx.save_for_backward(gy, w)
        return K.conv_grad_input(gy, w, x_shape, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx, ggx):
        gy, w = ctx.saved_tensors
        n = ctx.needs_input_grad
        # <G(gy, w), ggx> = <conv(ggx, w), gy>
        g_gy = Conv.apply(ggx, w, None, *ctx.args) if n[0] else None
        g_w = ConvGradWeight.apply(gy, ggx, ctx.w_shape, *ctx.args) if n[1] else None
        return g_gy, g_w, None, None, None, None, None


class ConvGradWeight(Function):
    """gw = conv's gradient w.r.t. its weight: bilinear in (gy, x)."""
    node_name = "ConvolutionBackwardBackward1"

    @staticmethod
    def forward(ctx, gy, x, w_shape, stride, padding, dilation, groups):
        ctx.args = (stride, padding, dilation, groups)
        ctx.x_shape = x.shape
        ctx.save_for_backward(gy, x)
        return K.conv_grad_weight(gy, x, w_shape, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx, ggw):
        gy, x = ctx.saved_tensors
        n = ctx.needs_input_grad
        # <W(gy, x), ggw> = <conv(x, ggw), gy>
        g_gy = Conv.apply(x, ggw, None, *ctx.args) if n[0] else None
        g_x = ConvGradInput.apply(gy, ggw, ctx.x_shape, *ctx.args) if n[1] else None
        return g_gy, g_x, None, None, None, None, None


class ConvTranspose(Function):
    """y = conv_transpose(x, w) + b = ConvGradInput(x, w) + b.  w: (C_in, C_out/groups, *k)."""
    node_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, w, b, out_shape, stride, padding, dilation, groups):
        ctx.args = (stride, padding, dilation, groups)
        ctx.x_shape, ctx.w_shape = x.shape, w.shape
        n = ctx.needs_input_grad
        if n:
            ctx.save_for_backward(x if n[1] else None, w if n[0] else None)
        y = K.conv_grad_input(x, w, out_shape, stride, padding, dilation, groups)
        if b is not None:
            y += b.reshape((1, -1) + (1,) * (y.ndim - 2))
        return y

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        n = ctx.needs_input_grad
        gx = Conv.apply(gy, w, None, *ctx.args) if n[0] else None
        gw = ConvGradWeight.apply(x, gy, ctx.w_shape, *ctx.args) if n[1] else None
        gb = _bias_sum(gy, gy._data.ndim - 2) if n[2] else None
        return gx, gw, gb, None, None, None, None, None


# ---------------------------------------------------------------------------------------------
def _ntuple(v, nd: int, name: str) -> tuple:
    if isinstance(v, (int,)) and not isinstance(v, bool):
        return (int(v),) * nd
    v = tuple(int(a) for a in v)
    if len(v) == 1:
        return v * nd
    if len(v) != nd:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {nd} values to match the "
                           f"convolution dimensions, but got {name}={list(v)}")
    return v


def _check_common(fn, input, weight, bias, nd, groups, transposed):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}() received an invalid combination of arguments - got ({type(input).__name__}, ...)")
    dims = input._data.ndim
    if dims not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {fn}, but got input of "
                           f"size: {list(input._data.shape)}")
    if weight._data.ndim != nd + 2:
        raise RuntimeError("weight should have at least three dimensions" if nd == 1 else
                           f"Expected {nd + 2}-dimensional input for {nd + 2}-dimensional weight "
                           f"{list(weight._data.shape)}, but got {dims}-dimensional input of size "
                           f"{list(input._data.shape)} instead")
    if groups < 1:
        raise RuntimeError("non-positive groups is not supported")
    if input._data.dtype != weight._data.dtype:
        raise RuntimeError(f"Input type ({_tname(input)}) and weight type ({_tname(weight)}) should be the same")
    if bias is not None and bias._data.dtype != weight._data.dtype:
        raise RuntimeError(f"Input type ({_tname(input)}) and bias type ({_tname(bias)}) should be the same")


def _tname(t):
    return "torch." + t.dtype._legacy


def _conv(fn, nd, input, weight, bias, stride, padding, dilation, groups):
    _check_common(fn, input, weight, bias, nd, groups, False)
    unbatched = input._data.ndim == nd + 1
    if unbatched:
        input = input.unsqueeze(0)
    stride = _ntuple(stride, nd, "stride")
    dilation = _ntuple(dilation, nd, "dilation")
    k = weight._data.shape[2:]
    c_in = input._data.shape[1]
    if weight._data.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but "
                           f"got weight of size {list(weight._data.shape)} instead")
    if c_in != weight._data.shape[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight._data.shape)}, expected "
                           f"input{list(input._data.shape)} to have {weight._data.shape[1] * groups} channels, but "
                           f"got {c_in} channels instead")
    if bias is not None and bias._data.shape != (weight._data.shape[0],):
        raise RuntimeError(f"Given weight of size {list(weight._data.shape)}, expected bias to be 1-dimensional with "
                           f"{weight._data.shape[0]} elements, but got bias of size {list(bias._data.shape)} instead")
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            pads = K.same_padding(k, dilation)
        else:
            raise ValueError(f"Invalid padding string '{padding}', should be one of ['valid', 'same']")
    else:
        pads = tuple((p, p) for p in _ntuple(padding, nd, "padding"))
        if any(p < 0 for p, _ in pads):
            raise RuntimeError("negative padding is not supported")
    spatial = input._data.shape[2:]
    padded = [s + lo + hi for s, (lo, hi) in zip(spatial, pads)]
    eff = [d * (kk - 1) + 1 for kk, d in zip(k, dilation)]
    if any(p < e for p, e in zip(padded, eff)):
        sz = " x ".join(map(str, padded))
        ks = " x ".join(map(str, eff))
        raise RuntimeError(f"Calculated padded input size per channel: ({sz}). Kernel size: ({ks}). Kernel size can't "
                           f"be greater than actual input size")
    if all(lo == hi for lo, hi in pads):
        pads = tuple(lo for lo, _ in pads)
    y = Conv.apply(input, weight, bias, stride, pads, dilation, groups)
    return y.squeeze(0) if unbatched else y


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """input: (N, C_in, L), weight: (C_out, C_in/groups, k)."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """input: (N, C_in, H, W), weight: (C_out, C_in/groups, kh, kw)."""
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """input: (N, C_in, D, H, W), weight: (C_out, C_in/groups, kd, kh, kw)."""
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose(fn, nd, input, weight, bias, stride, padding, output_padding, groups, dilation):
    _check_common(fn, input, weight, bias, nd, groups, True)
    unbatched = input._data.ndim == nd + 1
    if unbatched:
        input = input.unsqueeze(0)
    stride = _ntuple(stride, nd, "stride")
    padding = _ntuple(padding, nd, "padding")
    output_padding = _ntuple(output_padding, nd, "output_padding")
    dilation = _ntuple(dilation, nd, "dilation")
    c_in = input._data.shape[1]
    if c_in != weight._data.shape[0]:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight._data.shape)}, expected "
                           f"input{list(input._data.shape)} to have {weight._data.shape[0]} channels, but got {c_in} "
                           f"channels instead")
    for op, s, d in zip(output_padding, stride, dilation):
        if op >= s and op >= d:
            raise RuntimeError(f"output padding must be smaller than either stride or dilation, but got "
                               f"output_padding_height: {op} output_padding_width: {op} stride_height: {s} "
                               f"stride_width: {s} dilation_height: {d} dilation_width: {d}")
    k = weight._data.shape[2:]
    out_sp = tuple((i - 1) * s - 2 * p + d * (kk - 1) + op + 1
                   for i, s, p, d, kk, op in zip(input._data.shape[2:], stride, padding, dilation, k, output_padding))
    if any(o <= 0 for o in out_sp):
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, input._data.shape[2:]))}). "
                           f"Calculated output size per channel: ({' x '.join(map(str, out_sp))}). Output size is "
                           f"too small")
    out_shape = (input._data.shape[0], weight._data.shape[1] * groups) + out_sp
    y = ConvTranspose.apply(input, weight, bias, out_shape, stride, padding, dilation, groups)
    return y.squeeze(0) if unbatched else y


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """input: (N, C_in, H, W), weight: (C_in, C_out/groups, kh, kw)."""
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv_transpose("conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)

