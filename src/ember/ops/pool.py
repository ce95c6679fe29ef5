"""Pooling: max/avg pooling (1d/2d/3d), adaptive avg/max pooling, lp pooling, over
``backend/kernels/pool.py``. Each pooling's gradient is again a Function whose own gradient is
the pooling (avg) or a gather at the argmax (max), so double backward stays exact and fast."""
from __future__ import annotations

from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import STATE
from ..backend.kernels import pool as K

__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices", "max_pool2d_with_indices",
           "max_pool3d_with_indices", "avg_pool1d", "avg_pool2d", "avg_pool3d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d",
           "adaptive_max_pool3d", "lp_pool1d", "lp_pool2d", "max_unpool2d"]


class MaxPool(Function):
    node_name = "MaxPool2DWithIndicesBackward0"

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation, ceil_mode):
        y, idx = K.max_pool_forward(x, kernel, stride, padding, dilation, ceil_mode)
        ctx.idx, ctx.x_shape, ctx.geometry = idx, x.shape, (kernel, stride, dilation)
        ctx.mark_non_differentiable(idx)
        return y, idx

    @staticmethod
    def backward(ctx, gy, _gidx):
        return MaxPoolGrad.apply(gy, ctx.idx, ctx.x_shape, ctx.geometry), None, None, None, None, None


class MaxPoolGrad(Function):
    """gx: gy sent to the argmax positions (summed where windows overlap)."""
    node_name = "MaxPool2DWithIndicesBackwardBackward0"

    @staticmethod
    def forward(ctx, gy, idx, x_shape, geometry=None):
        # geometry (kernel, stride, dilation) lets the kernel see that windows do not overlap (a plain
        # assignment instead of a summing scatter: 10x faster for the course net's pools)
        ctx.idx = idx
        return K.max_pool_backward(gy, idx, x_shape, *(geometry or ()))

    @staticmethod
    def backward(ctx, ggx):
        return _gather_planes(ggx, ctx.idx), None, None, None


def _gather_planes(t: Tensor, idx) -> Tensor:
    """t[n, c, idx[n, c, ...]] over flattened spatial planes (a constant-index gather)."""
    n, c = t._data.shape[:2]
    flat = t.reshape(n, c, -1)
    from .index import GatherAlong
    return GatherAlong.apply(flat, 2, idx.reshape(n, c, -1)).reshape(*idx.shape)


class AvgPool(Function):
    node_name = "AvgPool2DBackward0"

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
        ctx.args = (kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
        ctx.x_shape = x.shape
        return K.avg_pool_forward(x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)

    @staticmethod
    def backward(ctx, gy):
        return (AvgPoolGrad.apply(gy, ctx.x_shape, *ctx.args),) + (None,) * 6


class AvgPoolGrad(Function):
    """The adjoint of average pooling; its own adjoint is average pooling."""
    node_name = "AvgPool2DBackwardBackward0"

    @staticmethod
    def forward(ctx, gy, x_shape, *args):
        ctx.args = args
        return K.avg_pool_backward(gy, x_shape, *args)

    @staticmethod
    def backward(ctx, ggx):
        return (AvgPool.apply(ggx, *ctx.args), None) + (None,) * len(ctx.args)


class AdaptiveAvgPool(Function):
    node_name = "AdaptiveAvgPool2DBackward0"

    @staticmethod
    def forward(ctx, x, out_size):
        ctx.x_shape, ctx.out_size = x.shape, out_size
        return K.adaptive_avg_pool_forward(x, out_size)

    @staticmethod
    def backward(ctx, gy):
        return AdaptiveAvgPoolGrad.apply(gy, ctx.x_shape, ctx.out_size), None


class AdaptiveAvgPoolGrad(Function):
    node_name = "AdaptiveAvgPool2DBackwardBackward0"

    @staticmethod
    def forward(ctx, gy, x_shape, out_size):
        ctx.out_size = out_size
        return K.adaptive_avg_pool_backward(gy, x_shape, out_size)

    @staticmethod
    def backward(ctx, ggx):
        return AdaptiveAvgPool.apply(ggx, ctx.out_size), None, None


class AdaptiveMaxPool(Function):
    node_name = "AdaptiveMaxPool2DBackward0"

    @staticmethod
    def forward(ctx, x, out_size):
        y, idx = K.adaptive_max_pool_forward(x, out_size)
        ctx.idx, ctx.x_shape = idx, x.shape
        ctx.mark_non_differentiable(idx)
        return y, idx

    @staticmethod
    def backward(ctx, gy, _gidx):
        return MaxPoolGrad.apply(gy, ctx.idx, ctx.x_shape), None


# ---------------------------------------------------------------------------------------------
def _tup(v, nd, name):
    if v is None:
        return None
    if isinstance(v, int):
        return (v,) * nd
    v = tuple(int(a) for a in v)
    if len(v) == 1:
        return v * nd
    if len(v) != nd:
        raise RuntimeError(f"{name} must either be a single int, or a tuple of {nd} ints")
    return v


def _batched(fn_name, input, nd):
    dims = input._data.ndim
    if dims not in (nd + 1, nd + 2):
        raise RuntimeError(f"{fn_name}: Expected {nd + 1}D or {nd + 2}D (batch mode) tensor with optional 0 dim "
                           f"batch size for input, but got: {list(input._data.shape)}" if nd > 1 else
                           f"{fn_name}() Expected 2D or 3D input tensor, but got {list(input._data.shape)}")
    if any(s == 0 for s in input._data.shape[-nd:]):
        raise RuntimeError(f"{fn_name}: Expected input's non-batch dimensions to have positive length, but input "
                           f"has a shape of {list(input._data.shape)}")
    # Kernels take (N, C, *S); an unbatched (C, *S) input gets a batch dim of 1.
    return (input.unsqueeze(0), True) if dims == nd + 1 else (input, False)


def _check_pool(fn_name, x, kernel, stride, padding, dilation, ceil_mode):
    for k, s, p in zip(kernel, stride, padding):
        if k <= 0:
            raise RuntimeError(f"{fn_name}: kernel_size must be greater than zero, but got {k}")
        if s <= 0:
            raise RuntimeError(f"{fn_name}: stride must be greater than zero, but got {s}")
        if p < 0:
            raise RuntimeError(f"{fn_name}: pad must be non-negative, but got pad: {p}")
        if p * 2 > k:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p}, "
                               f"kernel_size={k} and dilation=1")
    spatial = x._data.shape[2:]
    out = [K.pool_output_size(i, k, s, p, d, ceil_mode) for i, k, s, p, d in
           zip(spatial, kernel, stride, padding, dilation)]
    if any(o < 1 for o in out):
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, x._data.shape[1:]))}). Calculated output size: "
                           f"({x._data.shape[1]}x{'x'.join(map(str, out))}). Output size is too small")


def _max_pool(nd, fn_name, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    x, unb = _batched(fn_name, input, nd)
    kernel = _tup(kernel_size, nd, "kernel_size")
    stride = _tup(stride, nd, "stride") if stride not in (None, (), []) else kernel
    padding = _tup(padding, nd, "padding")
    dilation = _tup(dilation, nd, "dilation")
    _check_pool(fn_name, x, kernel, stride, padding, dilation, ceil_mode)
    if not return_indices and not (STATE.enabled and x._requires_grad):
        # inference: the maxima alone (no argmax bookkeeping: 1.5x faster)
        y = K.max_pool_forward(x._data, kernel, stride, padding, dilation, bool(ceil_mode), indices=False)[0]
        y = Tensor._make(y, False, None, 0)
        return y.squeeze(0) if unb else y
    y, idx = MaxPool.apply(x, kernel, stride, padding, dilation, bool(ceil_mode))
    if unb:
        y, idx = y.squeeze(0), idx.squeeze(0)
    return (y, idx) if return_indices else y


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _max_pool(1, "max_pool1d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """input: (N, C, H, W) or (C, H, W); stride defaults to kernel_size."""
    return _max_pool(2, "max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _max_pool(3, "max_pool3d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def _avg_pool(nd, fn_name, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    x, unb = _batched(fn_name, input, nd)
    kernel = _tup(kernel_size, nd, "kernel_size")
    stride = _tup(stride, nd, "stride") if stride not in (None, (), []) else kernel
    padding = _tup(padding, nd, "padding")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    _check_pool(fn_name, x, kernel, stride, padding, (1,) * nd, ceil_mode)
    y = AvgPool.apply(x, kernel, stride, padding, bool(ceil_mode), bool(count_include_pad), divisor_override)
    return y.squeeze(0) if unb else y


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    return _avg_pool(1, "avg_pool1d", input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    return _avg_pool(2, "avg_pool2d", input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    return _avg_pool(3, "avg_pool3d", input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def _out_size(nd, output_size, spatial):
    size = _tup(output_size, nd, "output_size") if not isinstance(output_size, (tuple, list)) or \
        None not in output_size else tuple(output_size)
    return tuple(s if o is None else int(o) for o, s in zip(size, spatial))


def _adaptive_avg(nd, input, output_size):
    x, unb = _batched(f"adaptive_avg_pool{nd}d", input, nd)
    size = _out_size(nd, output_size, x._data.shape[2:])
    y = AdaptiveAvgPool.apply(x, size)
    return y.squeeze(0) if unb else y


def adaptive_avg_pool1d(input, output_size):
    return _adaptive_avg(1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    return _adaptive_avg(2, input, output_size)


def adaptive_avg_pool3d(input, output_size):
    return _adaptive_avg(3, input, output_size)


def _adaptive_max(nd, input, output_size, return_indices):
    x, unb = _batched(f"adaptive_max_pool{nd}d", input, nd)
    size = _out_size(nd, output_size, x._data.shape[2:])
    y, idx = AdaptiveMaxPool.apply(x, size)
    if unb:
        y, idx = y.squeeze(0), idx.squeeze(0)
    return (y, idx) if return_indices else y


def adaptive_max_pool1d(input, output_size, return_indices=False):
    return _adaptive_max(1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    return _adaptive_max(2, input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    return _adaptive_max(3, input, output_size, return_indices)


def _lp_pool(nd, input, norm_type, kernel_size, stride, ceil_mode):
    """(sum over the window of x^p)^(1/p): avg pooling of x^p times the window size (PyTorch's form)."""
    from .activation import relu
    kernel = _tup(kernel_size, nd, "kernel_size")
    avg = [avg_pool1d, avg_pool2d, avg_pool3d][nd - 1]
    out = avg(input.pow(norm_type), kernel, stride, 0, ceil_mode)
    area = 1
    for k in kernel:
        area *= k
    return (out.sign() * relu(out.abs())).mul(area).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    kernel = _tup(kernel_size, 2, "kernel_size")
    stride = _tup(stride, 2, "stride") if stride is not None else kernel
    padding = _tup(padding, 2, "padding")
    n, c, h, w = input._data.shape
    if output_size is None:
        oh = (h - 1) * stride[0] - 2 * padding[0] + kernel[0]
        ow = (w - 1) * stride[1] - 2 * padding[1] + kernel[1]
    else:
        oh, ow = tuple(output_size)[-2:]
    return MaxPoolGrad.apply(input, indices._data, (n, c, oh, ow))

