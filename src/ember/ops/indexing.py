"""Index-driven ops: gather/scatter along a dim, index_select/add/copy/fill, masked_fill/select/scatter,
take, take_along_dim, nonzero/argwhere, and their in-place forms.

Accumulation (scatter_add, index_add and the backward of gathers) goes through ``_add_at`` on flat
indices: ``np.bincount`` with weights when the values outnumber the output, 1-D ``np.add.at``
otherwise — never ``np.add.at`` with a tuple of index grids, which is several times slower.
"""
from __future__ import annotations

import numbers

from .._tensor import Tensor
from ..autograd.function import Function
from ..backend import xp
from ._util import wrap_dim
from .index import GatherAlong
from .shape import SliceScatter, expand, reshape

__all__ = ["gather", "scatter", "scatter_add", "scatter_reduce", "index_select", "index_add", "index_copy",
           "index_fill", "masked_fill", "masked_select", "masked_scatter", "take", "take_along_dim", "nonzero",
           "argwhere", "select_scatter", "slice_scatter"]

_C_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "uint8": "unsigned char",
            "int8": "signed char", "int16": "short", "int32": "int", "int64": "long int", "bool": "bool"}
_LEGACY = {"float32": "Float", "float64": "Double", "float16": "Half", "uint8": "Byte", "int8": "Char",
           "int16": "Short", "int32": "Int", "int64": "Long", "bool": "Bool"}


# ---------------------------------------------------------------------------------------------
# Helpers
def _const(a) -> Tensor:
    return Tensor._make(a, False, None, 0)


def _add_at(out_flat, flat_idx, vals) -> None:
    """out_flat[flat_idx] += vals with duplicates accumulating (out_flat: a 1-D array)."""
    if out_flat.dtype.kind == "f" and flat_idx.size >= out_flat.size > 0:
        # Dense: one bincount pass beats add.at; sparse (few values into a big output): 1-D add.at wins.
        out_flat += xp.bincount(flat_idx, weights=vals, minlength=out_flat.size).astype(out_flat.dtype, copy=False)
    else:
        xp.add.at(out_flat, flat_idx, vals)


def _flat_along(idx, d, shape):
    """Flat (C-order) positions in an array of ``shape`` addressed by ``idx`` along dim ``d``."""
    strides = [1] * len(shape)
    for k in range(len(shape) - 2, -1, -1):
        strides[k] = strides[k + 1] * shape[k + 1]
    flat = idx.astype(xp.int64) * strides[d]
    for k, n in enumerate(idx.shape):
        if k != d:
            flat = flat + (xp.arange(n) * strides[k]).reshape((-1,) + (1,) * (idx.ndim - k - 1))
    return xp.broadcast_to(flat, idx.shape)


def _grids(idx, d):
    g = list(xp.indices(idx.shape, sparse=True))
    g[d] = idx
    return tuple(g)


def _lead(shape):
    return tuple(slice(0, s) for s in shape)


def _gather(a: Tensor, d, idx) -> Tensor:
    """GatherAlong for an index smaller than ``a`` outside dim d (PyTorch allows it)."""
    if any(s < n for k, (s, n) in enumerate(zip(idx.shape, a._data.shape)) if k != d):
        a = a[tuple(slice(0, s) if k != d else slice(None) for k, s in enumerate(idx.shape))]
    return GatherAlong.apply(a, d, idx)


def _pad_to(t: Tensor, shape) -> Tensor:
    """t placed in the leading corner of zeros(shape) (differentiable)."""
    if t._data.shape == tuple(shape):
        return t
    return SliceScatter.apply(t, tuple(shape), _lead(t._data.shape))


def _index_array(index, name, allow_int32=True, what=None):
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument 'index' must be Tensor, not {type(index).__name__}")
    k = index._data.dtype
    if k != xp.int64 and not (allow_int32 and k == xp.int32):
        raise RuntimeError(what or f"{name}(): Expected dtype int64 for index")
    return index._data


def _check_bounds(idx, size, d, fmt="index {i} is out of bounds for dimension {d} with size {n}", exc=RuntimeError,
                  allow_negative=False):
    if not idx.size:
        return
    lo = -size if allow_negative else 0
    if idx.min() < lo or idx.max() >= size:  # two reductions, no temporaries; find the culprit only on failure
        bad = (idx < lo) | (idx >= size)
        raise exc(fmt.format(i=int(idx[bad].flat[0]), d=d, n=size))


def _scalar_value(value, name):
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(f"{name} only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value._data.ndim} dimension(s).")
    elif not isinstance(value, numbers.Number):
        raise TypeError(f"{name}(): argument 'value' must be Number, not {type(value).__name__}")
    return value


def _move_dim(a, d):
    """a with dim d first, flattened to (size_d, rest)."""
    m = xp.moveaxis(a, d, 0)
    rest = 1
    for k in m.shape[1:]:
        rest *= k
    return m.reshape(m.shape[0], rest)


def _index_add_into(out, d, idx, src) -> None:
    """out[..., idx[i], ...] += src[..., i, ...] along dim d, accumulating duplicates."""
    if out.flags.c_contiguous:
        # Straight into out's memory: flat positions of every src element (no scratch array).
        shp = [1] * src.ndim
        shp[d] = -1
        full = xp.broadcast_to(idx.reshape(shp), src.shape)
        _add_at(out.reshape(-1), _flat_along(full, d, out.shape).ravel(), src.ravel())
        return
    n = out.shape[d]
    s2 = _move_dim(src, d)
    inner = s2.shape[1]
    acc = xp.zeros(n * inner, out.dtype)
    flat = (idx.astype(xp.int64)[:, None] * inner + xp.arange(inner)).ravel()
    _add_at(acc, flat, s2.ravel())
    moved = acc.reshape((n,) + tuple(xp.moveaxis(src, d, 0).shape[1:]))
    out += xp.moveaxis(moved, 0, d)


# ---------------------------------------------------------------------------------------------
# gather / scatter
def _check_gather_shapes(input, index, d, name, src=None):
    ni, nx = input._data.ndim, index._data.ndim
    if max(ni, 1) != max(nx, 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    ishape = input._data.shape or (1,)
    xshape = index._data.shape or (1,)
    for k in range(len(xshape)):
        if k != d and xshape[k] > ishape[k]:
            if src is None:
                raise RuntimeError(f"Size does not match at dimension {k} expected index {list(xshape)} to be no "
                                   f"larger than self {list(ishape)} apart from dimension {d}")
            raise RuntimeError(f"Expected index {list(xshape)} to be no larger than self {list(ishape)} apart from "
                               f"dimension {d} and to be no larger size than src {list(src._data.shape)}")
    if src is not None:
        sshape = src._data.shape or (1,)
        if len(sshape) != len(xshape):
            raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
        if any(x > s for x, s in zip(xshape, sshape)):
            raise RuntimeError(f"Expected index {list(xshape)} to be no larger than self {list(ishape)} apart from "
                               f"dimension {d} and to be no larger size than src {list(sshape)}")
    _check_bounds(index._data, ishape[d], d)


def gather(input, dim: int, index, *, sparse_grad: bool = False, out=None):
    """out[i][j] = input[i][index[i][j]] (dim=1); index: same ndim as input, int64."""
    idx = _index_array(index, "gather")
    d = wrap_dim(dim, input._data.ndim)
    _check_gather_shapes(input, index, d, "gather")
    if input._data.ndim == 0:
        return reshape(GatherAlong.apply(reshape(input, (1,)), 0, idx.reshape(1).astype(xp.int64)), ())
    return _gather(input, d, idx.astype(xp.int64, copy=False))


class Scatter(Function):
    """input with src[i][j] written at [i][index[i][j]] (dim=1)."""
    node_name = "ScatterBackward0"

    @staticmethod
    def forward(ctx, a, src, d, idx):
        ctx.d, ctx.idx, ctx.src_shape = d, idx, src.shape
        out = a.copy()
        out[_grids(idx, d)] = src[_lead(idx.shape)]
        return out

    @staticmethod
    def backward(ctx, g):
        n = ctx.needs_input_grad
        ga = ScatterValue.apply(g, ctx.d, ctx.idx, 0) if n[0] else None
        gs = _pad_to(_gather(g, ctx.d, ctx.idx), ctx.src_shape) if n[1] else None
        return ga, gs, None, None


class ScatterValue(Function):
    node_name = "ScatterBackward1"

    @staticmethod
    def forward(ctx, a, d, idx, value):
        ctx.d, ctx.idx = d, idx
        out = a.copy()
        out[_grids(idx, d)] = value
        return out

    @staticmethod
    def backward(ctx, g):
        return ScatterValue.apply(g, ctx.d, ctx.idx, 0), None, None, None


class ScatterAdd(Function):
    node_name = "ScatterAddBackward0"

    @staticmethod
    def forward(ctx, a, src, d, idx):
        ctx.d, ctx.idx, ctx.src_shape = d, idx, src.shape
        out = a.copy()
        _add_at(out.reshape(-1), _flat_along(idx, d, a.shape).ravel(), src[_lead(idx.shape)].ravel())
        return out

    @staticmethod
    def backward(ctx, g):
        n = ctx.needs_input_grad
        gs = _pad_to(_gather(g, ctx.d, ctx.idx), ctx.src_shape) if n[1] else None
        return (g if n[0] else None), gs, None, None


def _scatter_args(input, dim, index, src, name):
    idx = _index_array(index, name)
    d = wrap_dim(dim, input._data.ndim)
    _check_gather_shapes(input, index, d, name, src if isinstance(src, Tensor) else None)
    if isinstance(src, Tensor) and src._data.dtype != input._data.dtype:
        raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")
    return d, idx.astype(xp.int64, copy=False)


def _via_1d(input, fn, *tensors):
    """Run fn on 0-d operands viewed as 1-D, returning a 0-d result."""
    return reshape(fn(reshape(input, (1,)), *[reshape(t, (1,)) if isinstance(t, Tensor) else t for t in tensors]),
                   ())


def scatter(input, dim: int, index, src=None, *, value=None, reduce=None, out=None):
    """input with src (a tensor) or value (a number) written at index along dim."""
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter() missing required argument 'src' or 'value'")
    if reduce is not None:
        # The legacy reduce= of scatter: 'add' / 'multiply' of src (or of value) into index.
        if reduce not in ("add", "multiply"):
            raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce}")
        if not isinstance(src, Tensor):
            src = _const(xp.full(_index_array(index, "scatter").shape, src, input._data.dtype))
        return scatter_reduce(input, dim, index, src, "sum" if reduce == "add" else "prod")
    d, idx = _scatter_args(input, dim, index, src, "scatter")
    if input._data.ndim == 0:
        idx1 = idx.reshape(1)
        if isinstance(src, Tensor):
            return _via_1d(input, lambda a, s: Scatter.apply(a, s, 0, idx1), src)
        return _via_1d(input, lambda a: ScatterValue.apply(a, 0, idx1, src))
    if isinstance(src, Tensor):
        return Scatter.apply(input, src, d, idx)
    if not isinstance(src, numbers.Number):
        raise TypeError(f"scatter(): argument 'src' must be Tensor, not {type(src).__name__}")
    return ScatterValue.apply(input, d, idx, src)


def scatter_add(input, dim: int, index, src):
    """input with src accumulated at index along dim (duplicates add up)."""
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add(): argument 'src' (position 3) must be Tensor, not {type(src).__name__}")
    d, idx = _scatter_args(input, dim, index, src, "scatter_add")
    if input._data.ndim == 0:
        idx1 = idx.reshape(1)
        return _via_1d(input, lambda a, s: ScatterAdd.apply(a, s, 0, idx1), src)
    return ScatterAdd.apply(input, src, d, idx)


_REDUCE_INIT = {"sum": 0, "mean": 0, "prod": 1}


class ScatterReduce(Function):
    """input with src reduced ('sum', 'prod', 'mean', 'amax', 'amin') into index along dim."""

    @staticmethod
    def forward(ctx, a, src, d, idx, reduce, include_self):
        flat = _flat_along(idx, d, a.shape).ravel()
        vals = src[_lead(idx.shape)].ravel()
        out = a.copy()
        o = out.reshape(-1)
        if not include_self:
            if reduce in _REDUCE_INIT:
                o[flat] = _REDUCE_INIT[reduce]
            else:
                o[flat] = vals.max() if reduce == "amin" else vals.min()  # any value the reduction overrides
        if reduce in ("sum", "mean"):
            _add_at(o, flat, vals)
        elif reduce == "prod":
            xp.multiply.at(o, flat, vals)
        else:
            (xp.maximum if reduce == "amax" else xp.minimum).at(o, flat, vals)
        count = None
        if reduce == "mean":
            count = xp.zeros(a.size, xp.int64)
            xp.add.at(count, flat, 1)
            count = count.reshape(a.shape) + (1 if include_self else 0)
            count = xp.maximum(count, 1)
            out = out // count if a.dtype.kind in "iub" else (out / count).astype(a.dtype, copy=False)
        ctx.d, ctx.idx, ctx.reduce, ctx.include_self, ctx.count = d, idx, reduce, include_self, count
        ctx.src_shape, ctx.flat = src.shape, flat
        ctx.save_for_backward(a, src, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, src, out = ctx.saved_tensors
        d, idx, reduce = ctx.d, ctx.idx, ctx.reduce
        scattered = xp.zeros(a._data.size, bool)
        scattered[ctx.flat] = True
        scattered = _const(scattered.reshape(a._data.shape))
        if reduce == "mean":
            g = g / _const(ctx.count.astype(g._data.dtype))
        if reduce in ("sum", "mean"):
            ga = g if ctx.include_self else MaskedFill.apply(g, scattered, 0)
            gs = _gather(g, d, idx)
        elif reduce == "prod":
            if bool((a._data == 0).any()) or bool((src._data == 0).any()):
                raise NotImplementedError("ember's scatter_reduce(reduce='prod') backward does not handle zeros")
            ga = g * out / a
            if not ctx.include_self:
                ga = MaskedFill.apply(ga, scattered, 0)
            gs = _gather(g * out, d, idx) / src[_lead(idx.shape)]
        else:
            # The gradient is shared evenly among all elements equal to the result. As PyTorch does,
            # self counts among them even with include_self=False (its own share is then dropped).
            a_hit = (a._data == out._data)
            s_hit = src._data[_lead(idx.shape)] == xp.take_along_axis(out._data, idx, axis=d)
            n = a_hit.astype(g._data.dtype).reshape(-1)
            _add_at(n, ctx.flat, s_hit.astype(g._data.dtype).ravel())
            gn = g / _const(xp.maximum(n, 1).reshape(a._data.shape))
            if not ctx.include_self:
                a_hit &= ~scattered._data
            ga = gn * _const(a_hit.astype(g._data.dtype))
            gs = _gather(gn, d, idx) * _const(s_hit.astype(g._data.dtype))
        return ga, _pad_to(gs, ctx.src_shape), None, None, None, None


def scatter_reduce(input, dim: int, index, src, reduce: str, *, include_self: bool = True, out=None):
    """input with src's values reduced into the positions index names along dim."""
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_reduce(): argument 'src' (position 3) must be Tensor, not {type(src).__name__}")
    d, idx = _scatter_args(input, dim, index, src, "scatter_reduce")
    if input._data.ndim == 0:
        idx1 = idx.reshape(1)
        return _via_1d(input, lambda a, s: ScatterReduce.apply(a, s, 0, idx1, reduce, include_self), src)
    return ScatterReduce.apply(input, src, d, idx, reduce, include_self)


class _EmbedAt(Function):
    """input with src written at a basic index (ints and slices): select_scatter / slice_scatter."""

    @staticmethod
    def forward(ctx, a, src, idx):
        ctx.idx, ctx.src_shape = idx, src.shape
        out = a.copy()
        out[idx] = src
        return out

    @staticmethod
    def backward(ctx, g):
        n = ctx.needs_input_grad
        zero = _const(xp.zeros(ctx.src_shape, g._data.dtype))
        ga = _EmbedAt.apply(g, zero, ctx.idx) if n[0] else None
        return ga, (g[ctx.idx] if n[1] else None), None


class SelectScatter(_EmbedAt):
    pass


class SliceScatterOp(_EmbedAt):
    node_name = "SliceScatterBackward0"


def _embed(cls, input, src, idx):
    want = input._data[idx].shape
    if src._data.shape != want:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{list(src._data.shape)}, slice size = {list(want)}")
    return cls.apply(input, src, idx)


def select_scatter(input, src, dim: int, index: int):
    """input with src embedded at ``input.select(dim, index)``."""
    d = wrap_dim(dim, input._data.ndim)
    size = input._data.shape[d]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input._data.shape)} at "
                         f"dimension {d}")
    return _embed(SelectScatter, input, src, (slice(None),) * d + (index,))


def slice_scatter(input, src, dim: int = 0, start=None, end=None, step: int = 1):
    """input with src embedded at ``input[..., start:end:step, ...]`` (along dim)."""
    d = wrap_dim(dim, input._data.ndim)
    return _embed(SliceScatterOp, input, src, (slice(None),) * d + (slice(start, end, step),))


# ---------------------------------------------------------------------------------------------
# index_select / index_add / index_copy / index_fill (an index vector along one dim)
class IndexSelect(Function):
    @staticmethod
    def forward(ctx, a, d, idx):
        ctx.shape, ctx.d, ctx.idx = a.shape, d, idx
        return xp.take(a, idx, axis=d)

    @staticmethod
    def backward(ctx, g):
        return IndexSelectGrad.apply(g, ctx.shape, ctx.d, ctx.idx), None, None


class IndexSelectGrad(Function):
    """zeros(shape) with g's slices added at idx along d: the backward of index_select."""
    node_name = "IndexAddBackward0"

    @staticmethod
    def forward(ctx, g, shape, d, idx):
        ctx.d, ctx.idx = d, idx
        out = xp.zeros(shape, g.dtype)
        _index_add_into(out, d, idx, g)
        return out

    @staticmethod
    def backward(ctx, gg):
        return IndexSelect.apply(gg, ctx.d, ctx.idx), None, None, None


class IndexAdd(Function):
    @staticmethod
    def forward(ctx, a, src, d, idx, alpha):
        ctx.d, ctx.idx, ctx.alpha = d, idx, alpha
        out = a.copy()
        _index_add_into(out, d, idx, src if alpha == 1 else src * xp.asarray(alpha, a.dtype))
        return out

    @staticmethod
    def backward(ctx, g):
        n = ctx.needs_input_grad
        gs = None
        if n[1]:
            gs = IndexSelect.apply(g, ctx.d, ctx.idx)
            if ctx.alpha != 1:
                gs = gs * ctx.alpha
        return (g if n[0] else None), gs, None, None, None


class IndexCopy(Function):
    @staticmethod
    def forward(ctx, a, src, d, idx):
        ctx.d, ctx.idx = d, idx
        out = a.copy()
        xp.moveaxis(out, d, 0)[idx] = xp.moveaxis(src, d, 0)
        return out

    @staticmethod
    def backward(ctx, g):
        n = ctx.needs_input_grad
        ga = IndexFill.apply(g, ctx.d, ctx.idx, 0) if n[0] else None
        gs = IndexSelect.apply(g, ctx.d, ctx.idx) if n[1] else None
        return ga, gs, None, None


class IndexFill(Function):
    @staticmethod
    def forward(ctx, a, d, idx, value):
        ctx.d, ctx.idx = d, idx
        out = a.copy()
        xp.moveaxis(out, d, 0)[idx] = value
        return out

    @staticmethod
    def backward(ctx, g):
        return IndexFill.apply(g, ctx.d, ctx.idx, 0), None, None, None


class IndexFillTensor(Function):
    """index_fill with a 0-d tensor value (differentiable in the value)."""
    node_name = "IndexFillBackward1"

    @staticmethod
    def forward(ctx, a, v, d, idx):
        ctx.d, ctx.idx = d, idx
        out = a.copy()
        xp.moveaxis(out, d, 0)[idx] = v
        return out

    @staticmethod
    def backward(ctx, g):
        n = ctx.needs_input_grad
        ga = IndexFill.apply(g, ctx.d, ctx.idx, 0) if n[0] else None
        gv = IndexSelect.apply(g, ctx.d, xp.unique(ctx.idx)).sum() if n[1] else None
        return ga, gv, None, None


def _vector_index(input, dim, index, name, long_only=False, what=None):
    idx = _index_array(index, name, allow_int32=not long_only, what=what)
    if idx.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector")
    d = wrap_dim(dim, input._data.ndim)
    return d, idx.reshape(-1).astype(xp.int64, copy=False)


def _wrap_neg(idx, size):
    return xp.where(idx < 0, idx + size, idx) if idx.size and idx.min() < 0 else idx


def index_select(input, dim: int, index, *, out=None):
    """The slices of input at positions index (1-D, int32/int64) along dim."""
    if isinstance(index, Tensor) and index._data.dtype not in (xp.int64, xp.int32):
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    d, idx = _vector_index(input, dim, index, "index_select")
    if input._data.ndim == 0:
        if idx.size != 1:
            raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got {idx.size} value(s)")
        _check_bounds(idx, 1, 0, "index out of range in self", IndexError)
        return input if not input._requires_grad else reshape(input, ())
    _check_bounds(idx, input._data.shape[d], d, "index out of range in self", IndexError)
    return IndexSelect.apply(input, d, idx)


def _check_source(input, d, idx, source, name):
    if not isinstance(source, Tensor):
        raise TypeError(f"{name}(): argument 'source' must be Tensor, not {type(source).__name__}")
    si, ss = input._data.shape, source._data.shape
    if max(len(ss), 1) != max(len(si), 1) or any(a != b for k, (a, b) in enumerate(zip(si, ss)) if k != d):
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the specified dimension. "
                           f"Got self.shape = {list(si)} source.shape = {list(ss)}")
    n_src = ss[d] if ss else 1
    if idx.size != n_src:
        raise RuntimeError(f"{name}(): Number of indices ({idx.size}) should be equal to source.size(dim): "
                           f"({n_src}), for dim: {d}")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"{name}(): self ({input.dtype.name.capitalize()}) and source "
                           f"({source.dtype.name.capitalize()}) must have the same scalar type")


def index_add(input, dim: int, index, source, *, alpha=1, out=None):
    """input with alpha * source's slices added at index along dim (duplicates accumulate)."""
    if isinstance(index, Tensor) and index._data.dtype not in (xp.int64, xp.int32):
        raise RuntimeError("index_add_(): Expected dtype int32/int64 for index")
    d, idx = _vector_index(input, dim, index, "index_add_")
    _check_source(input, d, idx, source, "index_add_")
    size = input._data.shape[d] if input._data.ndim else 1
    _check_bounds(idx, size, d)
    if input._data.ndim == 0:
        return _via_1d(input, lambda a, s: IndexAdd.apply(a, s, 0, idx, alpha), source)
    return IndexAdd.apply(input, source, d, idx, alpha)


def index_copy(input, dim: int, index, source):
    """input with source's slices copied to index along dim."""
    got = _LEGACY.get(index.dtype.name, index.dtype.name) if isinstance(index, Tensor) else ""
    d, idx = _vector_index(input, dim, index, "index_copy_", long_only=True,
                           what=f"index_copy_(): Expected a long tensor for index, but got {got}")
    _check_source(input, d, idx, source, "index_copy_")
    size = input._data.shape[d] if input._data.ndim else 1
    _check_bounds(idx, size, d, "index_copy_(): index {i} is out of bounds for dimension {d} with size {n}",
                  IndexError)
    if input._data.ndim == 0:
        return _via_1d(input, lambda a, s: IndexCopy.apply(a, s, 0, idx), source)
    return IndexCopy.apply(input, source, d, idx)


def index_fill(input, dim: int, index, value):
    """input with the slices at index along dim set to value (a number or 0-d tensor)."""
    if isinstance(index, Tensor) and index._data.dtype != xp.int64:
        raise IndexError("index_fill_(): Expected dtype int64 for index.")
    d, idx = _vector_index(input, dim, index, "index_fill_")
    value = _scalar_value(value, "index_fill_")
    size = input._data.shape[d] if input._data.ndim else 1
    _check_bounds(idx, size, d, exc=IndexError, allow_negative=True)
    idx = _wrap_neg(idx, size)
    if input._data.ndim == 0:
        if isinstance(value, Tensor):
            return _via_1d(input, lambda a, v: IndexFillTensor.apply(a, v, 0, idx), value)
        return _via_1d(input, lambda a: IndexFill.apply(a, 0, idx, value))
    if isinstance(value, Tensor):
        v = value if value._data.dtype == input._data.dtype else value.to(input.dtype)
        return IndexFillTensor.apply(input, v, d, idx)
    return IndexFill.apply(input, d, idx, value)


# ---------------------------------------------------------------------------------------------
# Masked ops
def _check_bool_mask(mask, name, legacy=False):
    if not isinstance(mask, Tensor):
        raise TypeError(f"{name}(): argument 'mask' must be Tensor, not {type(mask).__name__}")
    if mask._data.dtype != xp.bool_:
        dn = mask.dtype.name
        shown = _LEGACY.get(dn, dn) if legacy else _C_NAMES.get(dn, dn)
        raise RuntimeError(f"{name} only supports boolean masks, but got mask with dtype {shown}")


def _bshape(a, b):
    try:
        return xp.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        sa, sb = a.shape, b.shape
        for k in range(1, max(len(sa), len(sb)) + 1):
            x = sa[-k] if k <= len(sa) else 1
            y = sb[-k] if k <= len(sb) else 1
            if x != y and x != 1 and y != 1:
                raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) at "
                                   f"non-singleton dimension {max(len(sa), len(sb)) - k}") from None
        raise


class MaskedFill(Function):
    @staticmethod
    def forward(ctx, a, mask, value):
        ctx.mask = mask
        return xp.where(mask, xp.asarray(value).astype(a.dtype), a)

    @staticmethod
    def backward(ctx, g):
        return MaskedFill.apply(g, _const(ctx.mask), 0), None, None


class MaskedFillTensor(Function):
    node_name = "MaskedFillBackward1"

    @staticmethod
    def forward(ctx, a, mask, v):
        ctx.mask = mask
        return xp.where(mask, v.astype(a.dtype), a)

    @staticmethod
    def backward(ctx, g):
        n = ctx.needs_input_grad
        m = _const(ctx.mask)
        ga = MaskedFill.apply(g, m, 0) if n[0] else None
        gv = MaskedFill.apply(g, _const(~ctx.mask), 0).sum() if n[2] else None
        return ga, None, gv


def masked_fill(input, mask, value):
    """input with value (a number or 0-d tensor) where mask (bool, broadcast) is True."""
    _check_bool_mask(mask, "masked_fill_")
    value = _scalar_value(value, "masked_fill_")
    _bshape(input._data, mask._data)
    if isinstance(value, Tensor):
        return MaskedFillTensor.apply(input, mask, value)
    return MaskedFill.apply(input, mask, value)


class MaskedSelect(Function):
    @staticmethod
    def forward(ctx, a, mask):
        shape = xp.broadcast_shapes(a.shape, mask.shape)
        m = xp.broadcast_to(mask, shape)
        ctx.shape, ctx.mask = shape, m
        return xp.broadcast_to(a, shape)[m]

    @staticmethod
    def backward(ctx, g):
        return MaskedSelectGrad.apply(g, ctx.shape, ctx.mask), None


class MaskedSelectGrad(Function):
    """zeros(shape) with g's values placed where mask is True: the backward of masked_select."""
    node_name = "MaskedScatterBackward0"

    @staticmethod
    def forward(ctx, g, shape, mask):
        ctx.mask = mask
        out = xp.zeros(shape, g.dtype)
        out[mask] = g
        return out

    @staticmethod
    def backward(ctx, gg):
        return MaskedSelect.apply(gg, _const(ctx.mask)), None, None


def masked_select(input, mask, *, out=None):
    """The 1-D tensor of input's values where mask (bool, broadcast with input) is True."""
    if not isinstance(mask, Tensor) or mask._data.dtype != xp.bool_:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    _bshape(input._data, mask._data)
    return MaskedSelect.apply(input, mask)


class MaskedScatter(Function):
    @staticmethod
    def forward(ctx, a, mask, src):
        shape = xp.broadcast_shapes(a.shape, mask.shape)
        m = xp.broadcast_to(mask, shape)
        ctx.mask, ctx.src_shape, ctx.count = m, src.shape, int(m.sum())
        out = xp.broadcast_to(a, shape).copy()
        out[m] = src.reshape(-1)[:ctx.count]
        return out

    @staticmethod
    def backward(ctx, g):
        n = ctx.needs_input_grad
        m = _const(ctx.mask)
        ga = MaskedFill.apply(g, m, 0) if n[0] else None
        gs = None
        if n[2]:
            sel = MaskedSelect.apply(g, m)
            numel = 1
            for s in ctx.src_shape:
                numel *= s
            gs = reshape(_pad_to(sel, (numel,)), ctx.src_shape)
        return ga, None, gs


def masked_scatter(input, mask, source):
    """input with source's leading values copied, in order, where mask (bool, broadcast) is True."""
    _check_bool_mask(mask, "masked_scatter_", legacy=True)
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but got"
                           f"{_LEGACY.get(input.dtype.name)} and {_LEGACY.get(source.dtype.name)}")
    shape = _bshape(input._data, mask._data)
    if int(xp.broadcast_to(mask._data, shape).sum()) > source._data.size:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    return MaskedScatter.apply(input, mask, source)


# ---------------------------------------------------------------------------------------------
# take / take_along_dim
class Take(Function):
    @staticmethod
    def forward(ctx, a, idx):
        ctx.shape, ctx.idx = a.shape, idx
        return a.reshape(-1)[idx]

    @staticmethod
    def backward(ctx, g):
        return TakeGrad.apply(g, ctx.shape, ctx.idx), None


class TakeGrad(Function):
    node_name = "TakeBackwardBackward0"

    @staticmethod
    def forward(ctx, g, shape, idx):
        ctx.idx = idx
        out = xp.zeros(shape, g.dtype)
        _add_at(out.reshape(-1), idx.ravel(), g.ravel())
        return out

    @staticmethod
    def backward(ctx, gg):
        return Take.apply(gg, ctx.idx), None, None


def take(input, index):
    """input viewed as 1-D, read at index (int64, any shape; negative counts from the end)."""
    if not isinstance(index, Tensor):
        raise TypeError(f"take(): argument 'index' (position 2) must be Tensor, not {type(index).__name__}")
    if index._data.dtype != xp.int64:
        raise RuntimeError(f"take(): Expected a long tensor for index, but got "
                           f"{_LEGACY.get(index.dtype.name, index.dtype.name)}")
    n = input._data.size
    idx = index._data
    _check_bounds(idx, n, 0, "out of range: tried to access index {i} on a tensor of {n} elements.", IndexError,
                  allow_negative=True)
    return Take.apply(input, _wrap_neg(idx, n))


def take_along_dim(input, indices, dim=None, *, out=None):
    """gather with broadcasting of input and indices outside ``dim``; dim=None reads input flattened."""
    if indices._data.dtype != xp.int64:
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got "
                           f"{_LEGACY.get(indices.dtype.name, indices.dtype.name)}")
    if dim is None:
        return gather(reshape(input, (-1,)), 0, reshape(indices, (-1,)))
    if input._data.ndim != indices._data.ndim:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number of dimensions, "
                           f"but got {input._data.ndim} dimensions for input, and {indices._data.ndim} dimensions "
                           f"for indices")
    d = wrap_dim(dim, input._data.ndim)
    si, sx = list(input._data.shape), list(indices._data.shape)
    si_, sx_ = si.copy(), sx.copy()
    si_[d] = sx_[d] = 1
    b = list(_bshape(xp.empty(si_, bool), xp.empty(sx_, bool)))
    bi, bx = b.copy(), b.copy()
    bi[d], bx[d] = si[d], sx[d]
    a = input if si == bi else expand(input, *bi)
    x = indices if sx == bx else _const(xp.broadcast_to(indices._data, bx))
    return gather(a, d, x)


# ---------------------------------------------------------------------------------------------
# nonzero / argwhere
def nonzero(input, *, out=None, as_tuple: bool = False):
    """(n, ndim) int64 coordinates of the non-zero elements, or a tuple of ndim 1-D tensors."""
    a = input._data
    if as_tuple:
        if a.ndim == 0:
            return (_const(xp.zeros(int(a != 0), xp.int64)),)
        return tuple(_const(c.astype(xp.int64, copy=False)) for c in xp.nonzero(a))
    return _const(xp.argwhere(a).astype(xp.int64, copy=False))


def argwhere(input):
    return nonzero(input)


# ---------------------------------------------------------------------------------------------
# In-place forms and Tensor methods
def _inplace(name, fn):
    def method(self, *args, **kwargs):
        from .inplace import _apply
        return _apply(self, fn, *args, **kwargs)
    method.__name__ = name
    setattr(Tensor, name, method)


for _n in __all__:
    setattr(Tensor, _n, globals()[_n])
for _n in ["scatter", "scatter_add", "scatter_reduce", "index_add", "index_fill", "index_copy", "masked_scatter"]:
    _inplace(_n + "_", globals()[_n])
