"""Network helpers: ``pad``, ``interpolate``, ``embedding``, ``one_hot``, ``bilinear``, ``pixel_shuffle``,
``cosine_similarity``, ``pairwise_distance``.

Padding modes other than constant and the resampling modes are gathers along dims (``_Gather``),
whose adjoint is a scatter-add (``_GatherAdjoint``) and vice versa, so both differentiate twice.
"""
from __future__ import annotations

import math

from .._tensor import Tensor
from ..autograd.function import Function
from ..backend import xp
from . import elementwise as E
from . import reduce as R
from .linalg import matmul

__all__ = ["pad", "one_hot", "interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "embedding",
           "bilinear", "pixel_shuffle", "pixel_unshuffle", "cosine_similarity", "pairwise_distance", "pdist",
           "channel_shuffle"]


def _const(arr) -> Tensor:
    return Tensor._make(arr, False, None, 0)


def _index_add_rows(src, index, n: int):
    """out (n, *rest) with out[index[k]] += src[k]: one weighted bincount (no slow np.add.at)."""
    rest = src.shape[1:]
    m = 1
    for r in rest:
        m *= r
    if src.shape[0] == 0 or m == 0:
        return xp.zeros((n,) + rest, src.dtype)
    flat = (index.reshape(-1, 1) * m + xp.arange(m)).reshape(-1)
    out = xp.bincount(flat, weights=src.reshape(-1), minlength=n * m)
    return out.astype(src.dtype, copy=False).reshape((n,) + rest)


# ---------------------------------------------------------------------------------------------
# Gathers along dims (index arrays per dim) and their adjoint
class _Gather(Function):
    """out = a indexed by ``idx[d]`` along each dim d in ``dims``."""
    node_name = "IndexBackward0"

    @staticmethod
    def forward(ctx, a, dims, idx):
        ctx.dims, ctx.idx, ctx.shape = dims, idx, a.shape
        for d, i in zip(dims, idx):
            a = xp.take(a, i, axis=d)
        return a

    @staticmethod
    def backward(ctx, g):
        return _GatherAdjoint.apply(g, ctx.dims, ctx.idx, ctx.shape), None, None


class _GatherAdjoint(Function):
    """Scatter-add of ``g`` back to ``shape`` through the index arrays (the gradient of _Gather)."""
    node_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, g, dims, idx, shape):
        ctx.dims, ctx.idx = dims, idx
        for d, i in reversed(list(zip(dims, idx))):
            g = _index_add_rows(xp.moveaxis(g, d, 0), i, shape[d])
            g = xp.moveaxis(g, 0, d)
        return xp.ascontiguousarray(g)

    @staticmethod
    def backward(ctx, gg):
        return _Gather.apply(gg, ctx.dims, ctx.idx), None, None, None


# ---------------------------------------------------------------------------------------------
# pad
class ConstantPad(Function):
    """Constant padding; negative pads crop. ``pads`` is per dim (before, after) for every dim."""
    node_name = "ConstantPadNdBackward0"

    @staticmethod
    def forward(ctx, a, pads, value):
        ctx.pads = pads
        out_shape = tuple(s + lo + hi for s, (lo, hi) in zip(a.shape, pads))
        if any(s < 0 for s in out_shape):
            raise RuntimeError(f"The input size {a.shape}, plus negative padding {pads} resulted in a negative "
                               f"output size, which is invalid. Check dimension of your input.")
        out = xp.full(out_shape, value, dtype=a.dtype)
        src = tuple(slice(max(-lo, 0), s - max(-hi, 0)) for s, (lo, hi) in zip(a.shape, pads))
        dst = tuple(slice(max(lo, 0), o - max(hi, 0)) for o, (lo, hi) in zip(out_shape, pads))
        out[dst] = a[src]
        return out

    @staticmethod
    def backward(ctx, g):
        return ConstantPad.apply(g, tuple((-lo, -hi) for lo, hi in ctx.pads), 0), None, None


def _pad_index(n: int, lo: int, hi: int, mode: str):
    i = xp.arange(-lo, n + hi)
    if mode == "reflect":
        period = 2 * (n - 1) if n > 1 else 1
        i = xp.abs(i) % period
        return xp.where(i >= n, period - i, i)
    if mode == "replicate":
        return xp.clip(i, 0, n - 1)
    return i % n  # circular


def pad(input: Tensor, pad, mode: str = "constant", value=None) -> Tensor:
    """Pad the last len(pad)//2 dims; ``pad`` = (last_lo, last_hi, prev_lo, prev_hi, …)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"pad(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    ndim = input._data.ndim
    if len(pad) // 2 > ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {ndim}")
    npad = len(pad) // 2
    per_dim = [(0, 0)] * (ndim - npad) + [(pad[2 * k], pad[2 * k + 1]) for k in reversed(range(npad))]
    if mode == "constant":
        return ConstantPad.apply(input, tuple(per_dim), 0 if value is None else value)
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument.')
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if npad > 3 or ndim < npad + 1:
        raise NotImplementedError(f"Only 2D, 3D, 4D, 5D padding with non-constant padding are supported for now "
                                  f"(got a {ndim}D input and padding of length {len(pad)})")
    dims, idx = [], []
    for d in range(ndim - npad, ndim):
        lo, hi = per_dim[d]
        n = input._data.shape[d]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                               f"but got: padding ({lo}, {hi}) at dimension {d} of input {list(input._data.shape)}")
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if lo or hi:
            dims.append(d)
            idx.append(_pad_index(n, lo, hi, mode))
    if not dims:
        return input.clone()
    return _Gather.apply(input, tuple(dims), tuple(idx))


# ---------------------------------------------------------------------------------------------
# interpolate
def _resize_args(input, size, scale_factor, nsp):
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    in_sizes = input._data.shape[2:]
    if size is not None:
        sizes = [int(size)] * nsp if isinstance(size, int) else [int(s) for s in size]
        if len(sizes) != nsp:
            raise ValueError(f"Input and output must have the same number of spatial dimensions, but got input with "
                             f"spatial dimensions of {list(in_sizes)} and output size of {list(size)}. Please "
                             f"provide input tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, "
                             f"...,oK) format.")
        return sizes, [None] * nsp
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    scales = [float(scale_factor)] * nsp if isinstance(scale_factor, (int, float)) else \
        [float(s) for s in scale_factor]
    if len(scales) != nsp:
        raise ValueError(f"Input and scale_factor must have the same number of spatial dimensions, but got input "
                         f"with spatial dimensions of {list(in_sizes)} and scale_factor of shape {list(scale_factor)}."
                         f" Please provide input tensor in (N, C, d1, d2, ...,dK) format and scale_factor in (s1, "
                         f"s2, ...,sK) format.")
    return [int(math.floor(n * s)) for n, s in zip(in_sizes, scales)], scales


def _src_scale(n_in, n_out, scale, align_corners):
    if align_corners:
        return (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    return 1.0 / scale if scale is not None and scale > 0 else n_in / n_out


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,
                recompute_scale_factor=None, antialias: bool = False) -> Tensor:
    """Resample the spatial dims of input (N, C, *spatial): nearest, nearest-exact, (bi/tri)linear."""
    nsp = input._data.ndim - 2
    if nsp < 1:
        raise ValueError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input._data.ndim}D) for "
                         f"the modes: nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact "
                         f"(got {mode})")
    if mode in ("nearest", "area", "nearest-exact") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | "
                         "bicubic | trilinear")
    linear_modes = {"linear": 1, "bilinear": 2, "trilinear": 3}
    if mode in linear_modes and linear_modes[mode] != nsp:
        raise NotImplementedError(f"Got {input._data.ndim}D input, but {mode} mode needs "
                                  f"{linear_modes[mode] + 2}D input")
    sizes, scales = _resize_args(input, size, scale_factor, nsp)
    if recompute_scale_factor:
        scales = [None] * nsp
    out = input
    if mode in ("nearest", "nearest-exact"):
        dims, idx = [], []
        for k in range(nsp):
            n_in, n_out = input._data.shape[2 + k], sizes[k]
            s = _src_scale(n_in, n_out, scales[k], False)
            o = xp.arange(n_out, dtype=xp.float64)
            src = xp.floor((o + 0.5) * s) if mode == "nearest-exact" else xp.floor(o * s)
            dims.append(2 + k)
            idx.append(xp.minimum(src.astype(xp.int64), n_in - 1))
        return _Gather.apply(input, tuple(dims), tuple(idx))
    if mode in linear_modes:
        align = bool(align_corners)
        for k in range(nsp):
            d = 2 + k
            n_in, n_out = input._data.shape[d], sizes[k]
            s = _src_scale(n_in, n_out, scales[k], align)
            o = xp.arange(n_out, dtype=xp.float64)
            src = o * s if align else xp.maximum((o + 0.5) * s - 0.5, 0)
            i0 = xp.minimum(xp.floor(src).astype(xp.int64), n_in - 1)
            i1 = xp.minimum(i0 + 1, n_in - 1)
            w = (src - i0).astype(input._data.dtype)
            wshape = [1] * input._data.ndim
            wshape[d] = n_out
            w = _const(w.reshape(wshape))
            a = _Gather.apply(out, (d,), (i0,))
            b = _Gather.apply(out, (d,), (i1,))
            out = a + (b - a) * w
        return out
    raise NotImplementedError(f"Input Error: ember does not implement interpolation mode '{mode}'")


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---------------------------------------------------------------------------------------------
# embedding / one_hot
class Embedding(Function):
    @staticmethod
    def forward(ctx, w, idx, padding_idx, scale_grad_by_freq):
        ctx.p = (idx, w.shape[0], padding_idx, scale_grad_by_freq)
        return w[idx]

    @staticmethod
    def backward(ctx, g):
        idx, n, padding_idx, freq = ctx.p
        return EmbeddingDenseBackward.apply(g, idx, n, padding_idx, freq), None, None, None


class EmbeddingDenseBackward(Function):
    """The weight gradient: rows of g summed per index (padding row zero)."""
    node_name = "EmbeddingDenseBackwardBackward0"

    @staticmethod
    def forward(ctx, g, idx, n, padding_idx, freq):
        d = g.shape[-1]
        flat = idx.reshape(-1)
        g2 = g.reshape(-1, d)
        scale = None
        if freq:
            counts = xp.bincount(flat, minlength=n)
            scale = (1.0 / counts[flat]).astype(g.dtype)
            g2 = g2 * scale[:, None]
        keep = None
        if padding_idx is not None:
            keep = flat != padding_idx
        out = _index_add_rows(g2 if keep is None else g2[keep], flat if keep is None else flat[keep], n)
        ctx.p = (idx, keep, scale)
        return out

    @staticmethod
    def backward(ctx, gg):
        idx, keep, scale = ctx.p
        r = gg[_const(idx)]
        mult = None
        if keep is not None:
            mult = keep.reshape(idx.shape).astype(gg._data.dtype)
        if scale is not None:
            s = scale.reshape(idx.shape)
            mult = s if mult is None else mult * s
        if mult is not None:
            r = r * _const(mult[..., None])
        return r, None, None, None, None


def embedding(input: Tensor, weight: Tensor, padding_idx=None, max_norm=None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of weight (num_embeddings, dim) picked by the integer tensor input (*) → (*, dim)."""
    if input._data.dtype.kind not in "iu":
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got {input.type()} instead (while checking arguments for embedding)")
    n = weight._data.shape[0]
    if padding_idx is not None:
        if padding_idx > 0:
            if padding_idx >= n:
                raise AssertionError("Padding_idx must be within num_embeddings")
        elif padding_idx < 0:
            if padding_idx < -n:
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx = n + padding_idx
    idx = input._data
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise IndexError("index out of range in self")
    if max_norm is not None:
        rows = xp.unique(idx)
        w = weight._data[rows]
        norms = xp.linalg.norm(w, ord=norm_type, axis=1) if norm_type != 2 else xp.sqrt((w * w).sum(1))
        scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(w.dtype)
        weight._data[rows] = w * scale[:, None]
        weight._vc[0] += 1
    return Embedding.apply(weight, idx, padding_idx, scale_grad_by_freq)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 (*, num_classes) with a 1 at each value of the LongTensor ``tensor``."""
    if tensor._data.dtype != xp.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    a = tensor._data
    if num_classes == -1:
        if a.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(a.max()) + 1
    if a.size and a.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if a.size and a.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = xp.zeros(a.shape + (num_classes,), xp.int64)
    xp.put_along_axis(out, a[..., None], 1, axis=-1)
    return _const(out)


# ---------------------------------------------------------------------------------------------
# bilinear, pixel shuffle, similarities
def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias=None) -> Tensor:
    """y_o = x1ᵀ W_o x2 + b_o. input1: (*, in1), input2: (*, in2), weight: (out, in1, in2)."""
    out_f, in1, in2 = weight._data.shape
    if input1._data.shape[-1] != in1:
        raise RuntimeError(f"einsum(): the number of subscripts in the equation (bilinear) does not match: input1 "
                           f"size {input1._data.shape[-1]} does not match weight size {in1}")
    if input2._data.shape[-1] != in2:
        raise RuntimeError(f"einsum(): the number of subscripts in the equation (bilinear) does not match: input2 "
                           f"size {input2._data.shape[-1]} does not match weight size {in2}")
    w = weight.permute(1, 0, 2).reshape(in1, out_f * in2)
    t = matmul(input1, w).reshape(*input1._data.shape[:-1], out_f, in2)
    y = R.sum(t * input2.unsqueeze(-2), -1)
    return y + bias if bias is not None else y


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C·r², H, W) → (*, C, H·r, W·r)."""
    r = upscale_factor
    if input._data.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input._data.ndim} dimension(s)")
    *lead, c, h, w = input._data.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    k = len(lead)
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    x = x.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H·r, W·r) → (*, C·r², H, W)."""
    r = downscale_factor
    *lead, c, h, w = input._data.shape
    if h % r or w % r:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by downscale_factor, but input.size(-2)="
                           f"{h} is not divisible by {r}")
    k = len(lead)
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    x = x.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return x.reshape(*lead, c * r * r, h // r, w // r)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """x1·x2 / (max(‖x1‖, eps) · max(‖x2‖, eps)) along ``dim`` (inputs broadcast)."""
    n1 = E.clamp_min(E.sqrt(R.sum(x1 * x1, dim, keepdim=True)), eps)
    n2 = E.clamp_min(E.sqrt(R.sum(x2 * x2, dim, keepdim=True)), eps)
    return R.sum((x1 / n1) * (x2 / n2), dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """‖x1 - x2 + eps‖_p over the last dim."""
    d = x1 - x2 + eps
    if p == 2:
        return E.sqrt(R.sum(d * d, -1, keepdim=keepdim))
    if p == 1:
        return R.sum(E.abs(d), -1, keepdim=keepdim)
    if p == math.inf:
        return R.amax(E.abs(d), -1, keepdim=keepdim)
    return E.pow(R.sum(E.pow(E.abs(d), p), -1, keepdim=keepdim), 1.0 / p)



def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """Distances between all pairs of rows of input (N, M): the upper triangle, row by row."""
    if input._data.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input._data.ndim}D")
    i, j = xp.triu_indices(input._data.shape[0], 1)
    d = input[_const(i)] - input[_const(j)]
    if p == 2:
        return E.sqrt(R.sum(d * d, -1))
    if p == math.inf:
        return R.amax(E.abs(d), -1)
    return E.pow(R.sum(E.pow(E.abs(d), p), -1), 1.0 / p)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """(N, g·k, *) → channels reordered as (k, g): the ShuffleNet permutation."""
    n, c = input._data.shape[:2]
    rest = input._data.shape[2:]
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and {groups} groups.")
    return input.reshape(n, groups, c // groups, *rest).transpose(1, 2).reshape(n, c, *rest)
