"""Sorting and order statistics: sort, argsort, msort, topk, kthvalue, median, mode, unique,
searchsorted, bucketize, cummax/cummin, cumprod, histc, bincount.

Ops that select elements (sort, topk, kthvalue, median, mode, cummax) compute indices on arrays and
send gradients back through ``ScatterAlong``/``ScatterAddAlong`` (ops/index.py), whose backward is a
gather: double backward comes for free.
"""
from __future__ import annotations

from collections import namedtuple

from .. import _dtypes
from .._tensor import Tensor
from ..autograd.function import Function
from ..backend import xp
from ._util import wrap_dim
from .index import ScatterAddAlong, ScatterAlong
from .shape import flip, movedim, unsqueeze

__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode", "unique",
           "unique_consecutive", "searchsorted", "bucketize", "cummax", "cummin", "cumprod", "histc", "bincount",
           "quantile", "nanquantile", "histogram"]


def _rt(name, fields=("values", "indices")):
    cls = namedtuple(name, fields)
    cls.__module__ = "torch.return_types"
    return cls


_sort_t, _topk_t, _kth_t, _median_t, _mode_t = _rt("sort"), _rt("topk"), _rt("kthvalue"), _rt("median"), _rt("mode")
_cummax_t, _cummin_t = _rt("cummax"), _rt("cummin")


def _const(a) -> Tensor:
    return Tensor._make(a, False, None, 0)


def _argsort(a, d, descending):
    """Stable argsort along d; descending keeps equal elements in their original order and puts NaN
    first (ascending: last), as PyTorch does."""
    if a.dtype == xp.bool_:
        a = a.view(xp.uint8)
    if not descending:
        return xp.argsort(a, axis=d, kind="stable")
    n = a.shape[d]
    rev = xp.flip(a, axis=d)
    i = xp.flip(xp.argsort(rev, axis=d, kind="stable"), axis=d)
    return (n - 1) - i


class _Select(Function):
    """Values picked at ``idx`` along ``d`` (plus the int64 indices); the gradient is scattered back.

    Subclasses implement ``_indices(a, d, *args) -> idx`` with keepdim-shaped idx (size k along d)."""

    @classmethod
    def forward(cls, ctx, a, d, keepdim, *args):
        idx = cls._indices(a, d, *args)
        vals = xp.take_along_axis(a, idx, axis=d)
        ctx.shape, ctx.d, ctx.idx, ctx.keepdim, ctx.n_extra = a.shape, d, idx, keepdim, len(args)
        if not keepdim:
            vals, idx = vals.squeeze(d), idx.squeeze(d)
        idx = idx.astype(xp.int64, copy=False)
        ctx.mark_non_differentiable(idx)
        return vals, idx

    @staticmethod
    def backward(ctx, g, _gi):
        if not ctx.keepdim:
            g = unsqueeze(g, ctx.d)
        return (ScatterAlong.apply(g, ctx.shape, ctx.d, ctx.idx),) + (None,) * (2 + ctx.n_extra)


class Sort(_Select):

    @staticmethod
    def _indices(a, d, descending):
        return _argsort(a, d, descending)


class Topk(_Select):

    @staticmethod
    def _indices(a, d, k, largest):
        n = a.shape[d]
        if a.dtype.kind == "f" and 0 < k <= 8 and k <= n // 4 and xp.isfinite(a).all():
            # Very small k: k argmax passes (vectorised, SIMD) beat a per-row introselect.
            work = a.copy()
            pick = xp.argmax if largest else xp.argmin
            out = []
            for _ in range(k):
                i = pick(work, axis=d, keepdims=True)
                out.append(i)
                xp.put_along_axis(work, i, -xp.inf if largest else xp.inf, axis=d)
            return xp.concatenate(out, axis=d)
        if a.dtype.kind == "f" and 0 < k <= n // 8 and not xp.isnan(a).any():
            # Small k: partition, then sort only the k candidates (O(n) instead of O(n log n)).
            key = -a if largest else a
            part = xp.take(xp.argpartition(key, k - 1, axis=d), xp.arange(k), axis=d)
            order = xp.argsort(xp.take_along_axis(key, part, axis=d), axis=d, kind="stable")
            return xp.take_along_axis(part, order, axis=d)
        return xp.take(_argsort(a, d, largest), xp.arange(k), axis=d)


class Kthvalue(_Select):

    @staticmethod
    def _indices(a, d, k):
        return xp.take(_argsort(a, d, False), [k - 1], axis=d)


class Median(_Select):
    """The lower median along d; NaN if the slice holds one (its first NaN's index)."""
    node_name = "MedianBackward1"

    @staticmethod
    def _indices(a, d, ignore_nan):
        n = a.shape[d]
        order = _argsort(a, d, False)
        if a.dtype.kind != "f":
            return xp.take(order, [(n - 1) // 2], axis=d)
        nan = xp.isnan(a)
        if ignore_nan:
            valid = n - nan.sum(axis=d, keepdims=True)
            pos = xp.maximum((valid - 1) // 2, 0)
            return xp.take_along_axis(order, pos, axis=d)
        idx = xp.take(order, [(n - 1) // 2], axis=d)
        has = nan.any(axis=d, keepdims=True)
        return xp.where(has, xp.argmax(nan, axis=d, keepdims=True), idx) if has.any() else idx


class Mode(_Select):
    """The most frequent value (the smallest among ties) and the index of its last occurrence."""

    @staticmethod
    def _indices(a, d):
        m = xp.moveaxis(a, d, -1)
        n = m.shape[-1]
        flat = m.reshape(-1, n)
        order = xp.argsort(flat, axis=-1, kind="stable")
        s = xp.take_along_axis(flat, order, axis=-1)
        start = xp.ones(s.shape, bool)
        start[:, 1:] = s[:, 1:] != s[:, :-1]
        run_id = xp.cumsum(start, axis=-1) - 1
        rows = xp.arange(s.shape[0])[:, None]
        counts = xp.zeros(s.shape, xp.int64)
        xp.add.at(counts, (xp.broadcast_to(rows, s.shape), run_id), 1)
        best_run = xp.argmax(counts, axis=-1)  # first (= smallest value) among the most frequent
        in_best = run_id == best_run[:, None]
        last = n - 1 - xp.argmax(in_best[:, ::-1], axis=-1)  # last sorted slot of that run
        pos = xp.take_along_axis(order, last[:, None], axis=-1)  # stable: the largest original index
        pos = pos.reshape(m.shape[:-1] + (1,))
        return xp.moveaxis(pos, -1, d)


def sort(input, dim: int = -1, descending: bool = False, stable: bool = False, *, out=None):
    """(values, indices) sorted along dim; the sort is always stable."""
    if input._data.ndim == 0:
        return _sort_t(input * 1 if input._requires_grad else input, _const(xp.zeros((), xp.int64)))
    d = wrap_dim(dim, input._data.ndim)
    return _sort_t(*Sort.apply(input, d, True, bool(descending)))


def argsort(input, dim: int = -1, descending: bool = False, stable: bool = False):
    if input._data.ndim == 0:
        return _const(xp.zeros((), xp.int64))
    d = wrap_dim(dim, input._data.ndim)
    return _const(_argsort(input._data, d, descending).astype(xp.int64, copy=False))


def msort(input):
    return sort(input, 0).values


def topk(input, k: int, dim: int = -1, largest: bool = True, sorted: bool = True, *, out=None):
    """The k largest (or smallest) values along dim, with their indices, in sorted order."""
    n = input._data.shape[wrap_dim(dim, input._data.ndim)] if input._data.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    if input._data.ndim == 0:
        return _topk_t(input * 1 if input._requires_grad else input, _const(xp.zeros((), xp.int64)))
    d = wrap_dim(dim, input._data.ndim)
    return _topk_t(*Topk.apply(input, d, True, k, bool(largest)))


def kthvalue(input, k: int, dim: int = -1, keepdim: bool = False, *, out=None):
    """The k-th smallest value (1-based) along dim and its index."""
    d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d] if input._data.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    if input._data.ndim == 0:
        return _kth_t(input * 1 if input._requires_grad else input, _const(xp.zeros((), xp.int64)))
    return _kth_t(*Kthvalue.apply(input, d, keepdim, k))


class MedianAll(Function):
    """The lower median of all elements: the gradient goes to that one element."""
    node_name = "MedianBackward0"

    @staticmethod
    def forward(ctx, a, ignore_nan):
        flat = a.reshape(-1)
        ctx.shape = a.shape
        if flat.size == 0:
            ctx.pos = None
            return xp.asarray(xp.nan, a.dtype)
        pos = Median._indices(flat, 0, ignore_nan)
        ctx.pos = pos
        return xp.asarray(flat[pos[0]])

    @staticmethod
    def backward(ctx, g):
        from .shape import reshape
        n = 1
        for s in ctx.shape:
            n *= s
        if ctx.pos is None:
            return g.expand(*ctx.shape) * 0, None
        flat = ScatterAlong.apply(reshape(g, (1,)), (n,), 0, ctx.pos)
        return reshape(flat, ctx.shape), None


def _median(input, dim, keepdim, ignore_nan, name):
    if dim is None:
        return MedianAll.apply(input, ignore_nan)
    d = wrap_dim(dim, input._data.ndim)
    if input._data.ndim == 0:
        return _median_t(input * 1 if input._requires_grad else input, _const(xp.zeros((), xp.int64)))
    if input._data.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    return _median_t(*Median.apply(input, d, keepdim, ignore_nan))


def median(input, dim=None, keepdim: bool = False, *, out=None):
    """The lower median (of all elements, or (values, indices) along dim); NaN propagates."""
    return _median(input, dim, keepdim, False, "median")


def nanmedian(input, dim=None, keepdim: bool = False, *, out=None):
    return _median(input, dim, keepdim, True, "nanmedian")


def mode(input, dim: int = -1, keepdim: bool = False, *, out=None):
    """The most frequent value along dim (the smallest among ties) and the index of its last occurrence."""
    if input._data.ndim == 0:
        return _mode_t(input * 1 if input._requires_grad else input, _const(xp.zeros((), xp.int64)))
    d = wrap_dim(dim, input._data.ndim)
    return _mode_t(*Mode.apply(input, d, keepdim))


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, name):
    """Quantiles composed from sort and gather (so the gradient follows); q: a number or 1-D tensor."""
    from .elementwise import isnan, where
    from .reduce import any as _any
    from .shape import reshape
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, midpoint or nearest, "
                           f"but got {interpolation}")
    scalar_q = not isinstance(q, Tensor)
    qa = xp.atleast_1d(xp.asarray(q._data if not scalar_q else q, xp.float64))
    if qa.ndim > 1:
        raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
    if ((qa < 0) | (qa > 1)).any():
        bad = float(qa[(qa < 0) | (qa > 1)][0])
        raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {bad}" if scalar_q else
                           f"{name}() q values must be in the range [0, 1]")
    nd = input._data.ndim
    d = None if dim is None else wrap_dim(dim, nd)
    x = reshape(input, (-1,)) if d is None else movedim(input, d, -1)
    if input._data.size == 0:
        raise IndexError(f"{name}() input tensor must be non-empty")
    sv = sort(x, -1).values                      # NaN sort last
    n = x._data.shape[-1]
    lead = x._data.shape[:-1]
    nan = xp.isnan(x._data)
    valid = (n - nan.sum(-1, keepdims=True)) if ignore_nan else xp.full(lead + (1,), n)
    dt = input._data.dtype
    pos = qa.astype(dt) * (valid - 1).astype(dt)  # (…, nq), in the input's precision as PyTorch's
    pos = xp.maximum(pos, 0)
    lo, hi = xp.floor(pos).astype(xp.int64), xp.ceil(pos).astype(xp.int64)
    from .indexing import gather
    take = lambda i: gather(sv, -1, _const(xp.broadcast_to(i, lead + (qa.size,)).copy()))  # noqa: E731
    if interpolation == "lower":
        r = take(lo)
    elif interpolation == "higher":
        r = take(hi)
    elif interpolation == "nearest":
        r = take(xp.round(pos).astype(xp.int64))
    elif interpolation == "midpoint":
        r = (take(lo) + take(hi)) * 0.5
    else:
        vlo = take(lo)
        frac = _const(xp.broadcast_to(pos - lo, lead + (qa.size,)).astype(input._data.dtype))
        r = vlo + (take(hi) - vlo) * frac
    if not ignore_nan and nan.any():
        r = where(_any(isnan(x), -1, keepdim=True), _const(xp.asarray(xp.nan, input._data.dtype)), r)
    r = movedim(r, -1, 0)                          # (nq, …)
    if keepdim:
        shape = (1,) * nd if d is None else tuple(1 if k == d else s for k, s in enumerate(input._data.shape))
        r = reshape(r, (qa.size,) + shape)
    return reshape(r, r._data.shape[1:]) if scalar_q else r


def quantile(input, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear", out=None):
    """The q-th quantiles of input (flattened, or along dim); NaN where a slice holds NaN."""
    return _quantile(input, q, dim, keepdim, interpolation, False, "quantile")


def nanquantile(input, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear", out=None):
    """quantile ignoring NaNs (NaN only where a slice is all NaN)."""
    return _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")


def histogram(input, bins=100, *, range=None, weight=None, density: bool = False, out=None):
    """(hist, bin_edges) of input's values: ``bins`` equal bins over range (default: the data's), or
    the given 1-D edges; the last bin includes its right edge."""
    a = input._data
    if a.dtype.kind != "f":
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{_legacy(input.dtype)}'")
    b = bins._data if isinstance(bins, Tensor) else int(bins)
    w = weight._data.reshape(-1) if weight is not None else None
    if range is None and not isinstance(bins, Tensor) and a.size:
        range = (float(a.min()), float(a.max()))
    hist, edges = xp.histogram(a.reshape(-1), bins=b, range=range, weights=w, density=density)
    hist_t = _rt("histogram", ("hist", "bin_edges"))
    return hist_t(_const(hist.astype(a.dtype)), _const(edges.astype(a.dtype)))


# ---------------------------------------------------------------------------------------------
# unique / searchsorted / bucketize / histc / bincount (no gradients)
def unique(input, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False, dim=None):
    """The distinct values (sorted), optionally with the inverse indices and the counts (int64)."""
    a = input._data
    if dim is None:
        vals, inv, cnt = xp.unique(a.reshape(-1), return_inverse=True, return_counts=True)
        inv = inv.reshape(a.shape)
    else:
        d = wrap_dim(dim, a.ndim)
        vals, inv, cnt = xp.unique(a, return_inverse=True, return_counts=True, axis=d)
        inv = inv.reshape(-1)
    out = [_const(vals)]
    if return_inverse:
        out.append(_const(inv.astype(xp.int64, copy=False)))
    if return_counts:
        out.append(_const(cnt.astype(xp.int64, copy=False)))
    return out[0] if len(out) == 1 else tuple(out)


def unique_consecutive(input, return_inverse: bool = False, return_counts: bool = False, dim=None):
    """Collapse runs of equal consecutive values (elements, or slices along dim)."""
    a = input._data
    d = 0 if dim is None else wrap_dim(dim, a.ndim)
    m = a.reshape(-1) if dim is None else xp.moveaxis(a, d, 0)
    n = m.shape[0]
    start = xp.ones(n, bool)
    if n > 1:
        diff = m[1:] != m[:-1]
        start[1:] = diff.reshape(n - 1, -1).any(axis=1) if diff.ndim > 1 else diff
    vals = m[start]
    if dim is not None:
        vals = xp.moveaxis(vals, 0, d)
    out = [_const(vals)]
    if return_inverse:
        inv = xp.cumsum(start) - 1
        out.append(_const(inv.reshape(a.shape if dim is None else (n,)).astype(xp.int64)))
    if return_counts:
        pos = xp.flatnonzero(start)
        out.append(_const(xp.diff(xp.append(pos, n)).astype(xp.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def searchsorted(sorted_sequence, input, *, out_int32: bool = False, right: bool = False, side=None, sorter=None,
                 out=None):
    """Insertion positions of input's values in the innermost dim of sorted_sequence."""
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left "
                               "while right was True")
        right = side == "right"
    seq = sorted_sequence._data
    scalar = not isinstance(input, Tensor)
    v = xp.asarray(input) if scalar else input._data
    if sorter is not None:
        seq = xp.take_along_axis(seq, sorter._data, axis=-1)
    dt = xp.int32 if out_int32 else xp.int64
    side_s = "right" if right else "left"
    if seq.ndim <= 1:
        return _const(xp.asarray(xp.searchsorted(seq.reshape(-1), v, side=side_s)).astype(dt))
    if scalar or seq.shape[:-1] != v.shape[:-1]:
        raise RuntimeError(f"torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                           f"dimensions of boundaries tensor and input value tensor must match, but we got "
                           f"boundaries tensor {list(seq.shape)} and input value tensor {list(v.shape)}")
    # Row-wise: count of boundaries < v (left) or <= v (right).
    cmp = xp.less_equal if right else xp.less
    return _const(cmp(seq[..., None, :], v[..., :, None]).sum(axis=-1).astype(dt))


def bucketize(input, boundaries, *, out_int32: bool = False, right: bool = False, out=None):
    """The bucket of each element of input given 1-D sorted boundaries."""
    if boundaries._data.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries._data.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def histc(input, bins: int = 100, min=0, max=0, *, out=None):
    """A histogram of input's values in ``bins`` equal-width bins over [min, max] (the data's range
    when both are 0); values outside are ignored."""
    a = input._data
    if a.dtype.kind != "f":
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{_legacy(input.dtype)}'")
    if bins <= 0:
        raise RuntimeError(f"torch.histc(): bins must be > 0, but got {bins} for bins")
    lo, hi = float(min), float(max)
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    x = a.reshape(-1).astype(xp.float64)
    x = x[(x >= lo) & (x <= hi)]
    pos = ((x - lo) * bins / (hi - lo)).astype(xp.int64)
    pos = xp.minimum(pos, bins - 1)
    return _const(xp.bincount(pos, minlength=bins).astype(a.dtype))


def _legacy(dt):
    return {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
            "float32": "Float", "float64": "Double", "float16": "Half"}.get(dt.name, dt.name)


def bincount(input, weights=None, minlength: int = 0):
    """Counts (int64) or summed weights of each non-negative integer value of a 1-D input."""
    a = input._data
    if a.dtype.kind not in "iub" or a.dtype == xp.bool_:
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for '{_legacy(input.dtype)}'"
                                  if a.dtype.kind == "f" else "bincount only supports 1-d non-negative integral "
                                  "inputs.")
    if a.ndim != 1 or (a.size and a.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if weights is None:
        return _const(xp.bincount(a, minlength=minlength).astype(xp.int64))
    w = weights._data
    if w.shape != a.shape:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    dt = w.dtype if w.dtype.kind == "f" else xp.float64
    return _const(xp.bincount(a, weights=w, minlength=minlength).astype(dt))


# ---------------------------------------------------------------------------------------------
# cummax / cummin / cumprod
class Cummax(Function):
    """Running max (min) along d and the index of its last occurrence; NaN propagates."""

    @staticmethod
    def forward(ctx, a, d, is_max):
        acc = xp.maximum if is_max else xp.minimum
        vals = acc.accumulate(a, axis=d)
        shape = [1] * a.ndim
        shape[d] = a.shape[d]
        ar = xp.arange(a.shape[d]).reshape(shape)
        hit = a == vals
        if a.dtype.kind == "f":
            hit |= xp.isnan(a)
        idx = xp.maximum.accumulate(xp.where(hit, ar, 0), axis=d).astype(xp.int64)
        if a.dtype.kind == "f":
            # after a NaN the index stays at the first NaN
            nan = xp.isnan(a)
            if nan.any():
                first = xp.where(nan, ar, a.shape[d])
                first = xp.minimum.accumulate(first, axis=d)
                idx = xp.where(first < a.shape[d], first, idx)
        ctx.shape, ctx.d, ctx.idx = a.shape, d, idx
        ctx.mark_non_differentiable(idx)
        return vals, idx

    @staticmethod
    def backward(ctx, g, _gi):
        return ScatterAddAlong.apply(g, ctx.shape, ctx.d, ctx.idx), None, None


class Cummin(Cummax):
    pass


def cummax(input, dim: int, *, out=None):
    d = wrap_dim(dim, input._data.ndim)
    if input._data.ndim == 0:
        return _cummax_t(input * 1 if input._requires_grad else input, _const(xp.zeros((), xp.int64)))
    return _cummax_t(*Cummax.apply(input, d, True))


def cummin(input, dim: int, *, out=None):
    d = wrap_dim(dim, input._data.ndim)
    if input._data.ndim == 0:
        return _cummin_t(input * 1 if input._requires_grad else input, _const(xp.zeros((), xp.int64)))
    return _cummin_t(*Cummin.apply(input, d, False))


class Cumprod(Function):
    @staticmethod
    def forward(ctx, a, d, dt):
        out = xp.cumprod(a, axis=d, dtype=dt)
        ctx.d = d
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        return _cumprod_grad(a, out, g, ctx.d), None, None


def _rev_cumsum(x, d):
    from .reduce import cumsum
    return flip(cumsum(flip(x, d), d), d)


def _cumprod_grad(a, out, g, d):
    """sum_{j>=i} g_j prod_{k<=j, k!=i} a_k, written in ember ops (differentiable again)."""
    if not bool((a._data == 0).any()):
        return _rev_cumsum(g * out, d) / a
    # With zeros: the (n, n) matrix of prefix products that skip element i, per slice.
    from .elementwise import where
    am = movedim(a, d, -1)
    gm = movedim(g, d, -1)
    n = am._data.shape[-1]
    eye = _const(xp.eye(n, dtype=bool))
    ones = _const(xp.ones((), a._data.dtype))
    b = where(eye, ones, unsqueeze(am, -2))          # b[..., i, k] = a_k, or 1 at k == i
    p = cumprod(b, -1)                                # p[..., i, j] = prod_{k<=j, k!=i} a_k
    upper = _const(xp.triu(xp.ones((n, n), a._data.dtype)))
    grad = (p * upper * unsqueeze(gm, -2)).sum(-1)
    return movedim(grad, -1, d)


def cumprod(input, dim: int, *, dtype=None, out=None):
    """Running product along dim (integers accumulate in int64, as PyTorch's)."""
    d = wrap_dim(dim, input._data.ndim)
    if dtype is not None:
        dt = _dtypes.to_dtype(dtype).np
    elif input._data.dtype.kind in "biu":
        dt = xp.int64
    else:
        dt = None
    if input._data.ndim == 0:
        from .shape import reshape
        return reshape(Cumprod.apply(reshape(input, (1,)), 0, dt), ())
    return Cumprod.apply(input, d, dt)


for _n in ["sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode", "unique",
           "unique_consecutive", "cummax", "cummin", "cumprod", "histc", "bincount", "quantile", "nanquantile",
           "histogram"]:
    setattr(Tensor, _n, globals()[_n])


def _cumprod_(self, dim, *, dtype=None):
    from .inplace import _apply
    return _apply(self, cumprod, dim, dtype=dtype)


Tensor.cumprod_ = _cumprod_
