"""Normalization: ``batch_norm`` (one fused Function), ``layer_norm``, ``group_norm``, ``instance_norm``,
``local_response_norm``, ``normalize``.

batch_norm's backward is the closed form
    gx = w·invstd/n · (n·g − Σg − x̂·Σ(g·x̂)),  gw = Σ(g·x̂),  gb = Σg
computed in place on NumPy arrays for the usual backward, and with ember ops on the saved input
(statistics recomputed differentiably) when a graph of the backward is requested (create_graph).
"""
from __future__ import annotations

import functools

from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import STATE
from ..backend import parallel, sum_axes, xp
from ..backend.kernels.planes import per_channel
from . import elementwise as E
from . import reduce as R

__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm", "local_response_norm", "normalize", "rms_norm"]


def _const(arr) -> Tensor:
    return Tensor._make(arr, False, None, 0)


def _as3d(a):
    """(N, C, *) → (N, C, L) (a view when contiguous)."""
    length = 1
    for s in a.shape[2:]:
        length *= s
    return a.reshape(a.shape[0], a.shape[1], length)


# Batch norm works through its input a block of whole images at a time (each thread its own range of images).
# Measured 2026-12-02 (2 cores Intel, VGG-style CIFAR net's five layers at batch 64, forward + backward): 26.4-27.0
# ms in whole-array passes, 20.8-23.3 ms in 1 MB blocks, while the per-channel constants broadcast from (C, 1).
# With the constants laid out as (C, L) planes (``per_channel``) blocks stopped paying; 4 MB blocks (ms, forward /
# backward, one call, 2 threads): (32, 64, 32, 32) 1 MB 1.91/2.50, 4 MB 1.62/2.11, whole 1.61/2.01;
# (64, 128, 16, 16) 1.75/1.92, 1.61/1.98, 1.61/2.02.
_BN_BLOCK_BYTES = 4 << 20


def _plane(x3, v):
    """A per-channel vector v as an operand for the (N, C, L) array x3 (see ``per_channel``)."""
    return per_channel(v, x3.shape[2], x3.shape[0])


def _image_blocks(fn, x3):
    """``fn(blocks)`` for each thread's range of images (all of them in one call for small inputs), ``blocks`` a
    list of (lo, hi) image ranges of about ``_BN_BLOCK_BYTES``; returns the list of results."""
    n = x3.shape[0]
    per = max(1, _BN_BLOCK_BYTES // max(1, x3[:1].nbytes))
    if x3.size >= parallel._ROWS_MIN_ELEMENTS and n > 1:
        ranges = parallel.split(n)
    else:
        ranges = [(0, n)]
    return parallel.run(functools.partial(fn, [(i, min(i + per, hi)) for i in range(lo, hi, per)])
                        for lo, hi in ranges)


class BatchNorm(Function):
    """input (N, C, *); weight, bias (C,) or None; running stats are arrays updated in place."""
    node_name = "NativeBatchNormBackward0"

    @staticmethod
    def forward(ctx, x, w, b, rm, rv, training, momentum, eps):
        dt = x.dtype.type
        x3 = xp.ascontiguousarray(_as3d(x))
        c = x3.shape[1]
        cnt = x3.shape[0] * x3.shape[2]
        plane = functools.partial(_plane, x3)
        out = xp.empty(x3.shape, x3.dtype)
        if out.size == 0:            # PyTorch: an empty output, running statistics unchanged, zero gradients
            ctx.p = (training, xp.zeros(c, x.dtype), xp.ones(c, x.dtype), cnt, c, eps)
            ctx.save_for_backward(x, w)
            return out.reshape(x.shape)
        if training:
            sums = _image_blocks(lambda blocks: sum(sum_axes(x3[lo:hi], (0, 2)) for lo, hi in blocks), x3)
            mean = sum(sums) / dt(cnt)
            mean_c = plane(mean)

            def centre(blocks):      # out = x - mean, and the per-channel sum of its squares while it is cached
                ss = 0
                for lo, hi in blocks:
                    o = out[lo:hi]
                    xp.subtract(x3[lo:hi], mean_c, out=o)
                    ss = ss + xp.einsum("ncl,ncl->c", o, o)
                return ss
            var = sum(_image_blocks(centre, x3)) / dt(cnt)
            invstd = (1.0 / xp.sqrt(var + dt(eps))).astype(x.dtype)
            if rm is not None:
                m = dt(momentum)
                rm *= 1 - m
                rm += m * mean
            if rv is not None:
                m = dt(momentum)
                rv *= 1 - m
                rv += m * var * dt(cnt / max(cnt - 1, 1))
            alpha = plane(invstd if w is None else invstd * w)
            beta = None if b is None else plane(b)

            def affine(blocks):      # (x - mean) * (invstd * w) + b
                for lo, hi in blocks:
                    o = out[lo:hi]
                    o *= alpha
                    if beta is not None:
                        o += beta
        else:
            mean, invstd = rm.astype(x.dtype), (1.0 / xp.sqrt(rv + dt(eps))).astype(x.dtype)
            a = invstd if w is None else invstd * w
            alpha, beta = plane(a), plane((0 if b is None else b) - mean * a)

            def affine(blocks):      # x * alpha + beta, PyTorch's form of the eval transform
                for lo, hi in blocks:
                    o = out[lo:hi]
                    xp.multiply(x3[lo:hi], alpha, out=o)
                    o += beta
        _image_blocks(affine, x3)
        ctx.p = (training, mean, invstd, cnt, c, eps)
        ctx.save_for_backward(x, w)
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        training, mean, invstd, cnt, c, eps = ctx.p
        x, w = ctx.saved_tensors
        n = ctx.needs_input_grad
        if not STATE.enabled:
            return _bn_backward_fast(g._data, x._data, None if w is None else w._data, training, mean, invstd, cnt,
                                     n)
        return _bn_backward_graph(g, x, w, training, mean, invstd, cnt, eps, n)


def _bn_backward_fast(g, x, w, training, mean, invstd, cnt, n):
    g3, x3 = xp.ascontiguousarray(_as3d(g)), xp.ascontiguousarray(_as3d(x))
    if x3.size == 0:
        zc = xp.zeros(x3.shape[1], x3.dtype)
        return (_const(xp.zeros(x.shape, x.dtype)) if n[0] else None, _const(zc) if len(n) > 1 and n[1] else None,
                _const(zc.copy()) if len(n) > 2 and n[2] else None, None, None, None, None, None)
    buf = xp.empty(x3.shape, x3.dtype)           # x - mean, then (training) the input gradient in place
    plane = functools.partial(_plane, x3)
    mean_c = plane(mean)

    def sums(blocks):            # Σg and Σ(g·(x - mean)) per channel, x - mean written block by block
        sg = sgx = 0
        for lo, hi in blocks:
            r = buf[lo:hi]
            xp.subtract(x3[lo:hi], mean_c, out=r)
            sg = sg + sum_axes(g3[lo:hi], (0, 2))
            sgx = sgx + xp.einsum("ncl,ncl->c", g3[lo:hi], r)
        return sg, sgx
    if training or any(n[1:3]):  # (evaluation mode's input gradient alone needs no sums)
        parts = _image_blocks(sums, x3)
        sum_g, sum_gx = sum(p[0] for p in parts), sum(p[1] for p in parts) * invstd     # Σ(g·x̂)
    gx = gw = gb = None
    if n[0]:
        scale = plane(invstd if w is None else invstd * w)
        if training:
            k1, k2 = plane(invstd * sum_gx / cnt), plane(sum_g / cnt)

            def grad_rows(blocks):   # (g - (x - mean) * invstd * Σ(g·x̂)/cnt - Σg/cnt) * scale
                for lo, hi in blocks:
                    r = buf[lo:hi]
                    r *= k1
                    r += k2
                    xp.subtract(g3[lo:hi], r, out=r)
                    r *= scale
        else:
            def grad_rows(blocks):   # g * scale
                for lo, hi in blocks:
                    xp.multiply(g3[lo:hi], scale, out=buf[lo:hi])
        _image_blocks(grad_rows, x3)
        gx = _const(buf.reshape(x.shape))
    if len(n) > 1 and n[1]:
        gw = _const(xp.asarray(sum_gx, x.dtype))
    if len(n) > 2 and n[2]:
        gb = _const(xp.asarray(sum_g, x.dtype))
    return gx, gw, gb, None, None, None, None, None


def _bn_backward_graph(g, x, w, training, mean, invstd, cnt, eps, n):
    """The same closed form in ember ops: differentiable in g, x and w (double backward)."""
    shape = (1, x._data.shape[1]) + (1,) * (x._data.ndim - 2)
    axes = (0,) + tuple(range(2, x._data.ndim))
    if training:
        mu = R.mean(x, axes, keepdim=True)
        xc = x - mu
        inv = E.rsqrt(R.mean(xc * xc, axes, keepdim=True) + eps)
    else:
        xc = x - _const(mean.reshape(shape))
        inv = _const(invstd.reshape(shape))
    xhat = xc * inv
    sum_g = R.sum(g, axes, keepdim=True)
    sum_gx = R.sum(g * xhat, axes, keepdim=True)
    scale = inv if w is None else inv * w.reshape(shape)
    gx = gw = gb = None
    if n[0]:
        gx = (g - sum_g / cnt - xhat * (sum_gx / cnt)) * scale if training else g * scale
    if len(n) > 1 and n[1]:
        gw = sum_gx.reshape(-1)
    if len(n) > 2 and n[2]:
        gb = sum_g.reshape(-1)
    return gx, gw, gb, None, None, None, None, None


def batch_norm(input: Tensor, running_mean, running_var, weight=None, bias=None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize input (N, C, *) per channel: batch statistics when training (updating the running
    statistics in place, the variance unbiased), the running statistics otherwise."""
    if training:
        size = input._data.shape
        per_channel = 1
        for i, s in enumerate(size):
            if i != 1:
                per_channel *= s
        if per_channel == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {input.shape}")
    elif running_mean is None or running_var is None:
        raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
    if input._data.ndim < 2:
        raise ValueError(f"Expected 2D or higher input (got {input._data.ndim}D input)")
    c = input._data.shape[1]
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and t._data.shape != (c,):
            raise RuntimeError(f"{name} should contain {c} elements not {t._data.size}")
    rm = running_mean._data if running_mean is not None else None
    rv = running_var._data if running_var is not None else None
    out = BatchNorm.apply(input, weight, bias, rm, rv, training, momentum, eps)
    if training:
        for t in (running_mean, running_var):
            if t is not None:
                t._vc[0] += 1
    return out


def layer_norm(input: Tensor, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """Normalize over the trailing ``normalized_shape`` dims (biased variance), then scale and shift."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(normalized_shape)
    k = len(normalized_shape)
    if k == 0 or tuple(input._data.shape[-k:]) != normalized_shape or input._data.ndim < k:
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, normalized_shape))}], but got input of size{input.shape}")
    axes = tuple(range(input._data.ndim - k, input._data.ndim))
    mu = R.mean(input, axes, keepdim=True)
    xc = input - mu
    out = xc * E.rsqrt(R.mean(xc * xc, axes, keepdim=True) + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def group_norm(input: Tensor, num_groups: int, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """Normalize input (N, C, *) over each group of C/num_groups channels and the spatial dims."""
    if input._data.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input._data.ndim}")
    n, c = input._data.shape[:2]
    if c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {input.shape} and num_groups={num_groups}")
    x = input.reshape(n, num_groups, -1)
    mu = R.mean(x, -1, keepdim=True)
    xc = x - mu
    out = (xc * E.rsqrt(R.mean(xc * xc, -1, keepdim=True) + eps)).reshape(input._data.shape)
    shape = (1, c) + (1,) * (input._data.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def instance_norm(input: Tensor, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats: bool = True, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each (sample, channel) of input (N, C, *) over its spatial dims."""
    nd = input._data.ndim
    shape = (1, input._data.shape[1]) + (1,) * (nd - 2)
    axes = tuple(range(2, nd))
    if use_input_stats:
        mu = R.mean(input, axes, keepdim=True)
        xc = input - mu
        var = R.mean(xc * xc, axes, keepdim=True)
        out = xc * E.rsqrt(var + eps)
        if running_mean is not None or running_var is not None:
            cnt = 1
            for a in axes:
                cnt *= input._data.shape[a]
            m = momentum
            if running_mean is not None:
                running_mean._data *= 1 - m
                running_mean._data += m * mu._data.mean(0).reshape(-1)
                running_mean._vc[0] += 1
            if running_var is not None:
                running_var._data *= 1 - m
                running_var._data += m * (var._data * (cnt / max(cnt - 1, 1))).mean(0).reshape(-1)
                running_var._vc[0] += 1
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false")
        out = (input - running_mean.reshape(shape)) * E.rsqrt(running_var.reshape(shape) + eps)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    """x / (k + alpha/size · Σ_{size neighbouring channels} x²)^beta, input (N, C, *)."""
    if input._data.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input._data.ndim} dimensions)")
    if input.numel() == 0:
        return input
    from .nn_misc import pad
    sq = input * input
    c = input._data.shape[1]
    padded = pad(sq.movedim(1, -1), (size // 2, (size - 1) // 2))
    acc = None
    for i in range(size):
        s = padded.narrow(-1, i, c)
        acc = s if acc is None else acc + s
    div = (acc.movedim(-1, 1) * (alpha / size) + k) ** beta
    return input / div


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None) -> Tensor:
    """input / max(‖input‖_p along dim, eps)."""
    if p == 2:
        norm = E.sqrt(R.sum(input * input, dim, keepdim=True))
    else:
        norm = E.pow(R.sum(E.pow(E.abs(input), p), dim, keepdim=True), 1.0 / p)
    return input / E.clamp_min(norm, eps)


def rms_norm(input: Tensor, normalized_shape, weight=None, eps: float | None = None) -> Tensor:
    """input / sqrt(mean(input²) + eps) over the trailing ``normalized_shape`` dims, times weight."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    k = len(normalized_shape)
    if tuple(input._data.shape[input._data.ndim - k:]) != tuple(normalized_shape):
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, normalized_shape))}], but got input of size{input.shape}")
    if eps is None:
        eps = float(xp.finfo(input._data.dtype).eps)
    axes = tuple(range(input._data.ndim - k, input._data.ndim))
    out = input * E.rsqrt(R.mean(input * input, axes, keepdim=True) + eps)
    return out * weight if weight is not None else out
