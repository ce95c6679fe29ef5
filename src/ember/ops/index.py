"""Indexing: ``__getitem__`` (basic indexing is a view, advanced indexing a copy), ``__setitem__``
and the gather/scatter family."""
from __future__ import annotations

from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import STATE
from ..backend import xp
from .shape import Select, Slice, _as_view

__all__ = ["scatter_along", "index_put"]


def _convert_index(idx, shape):
    """Tensors in an index become arrays; returns (index, is_basic, is_select)."""
    if isinstance(idx, list) and len(idx) < 32 and any(
            isinstance(i, (list, tuple, slice, Tensor, xp.ndarray)) or i is None or i is Ellipsis for i in idx):
        import warnings
        warnings.warn("Using a non-tuple sequence for multidimensional indexing is deprecated and will be changed "
                      "in pytorch 2.9; use x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will be interpreted "
                      "as tensor index, x[torch.tensor(seq)], which will result either in an error or a different "
                      "result", UserWarning, stacklevel=3)
        idx = tuple(idx)  # PyTorch (like old NumPy) reads such a list as a tuple of indices: x[[[0, 1], [1, 2]]]
    if not isinstance(idx, tuple):
        idx = (idx,)
    out = []
    basic = True
    for i in idx:
        if isinstance(i, Tensor):
            a = i._data
            if a.dtype.kind in "fc":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            if a.dtype == xp.uint8:
                a = a.astype(bool)
            if a.ndim == 0 and a.dtype.kind in "iu":
                out.append(int(a))
                continue
            out.append(a)
            basic = False
        elif isinstance(i, (list,)):
            a = xp.asarray(i) if i else xp.zeros(0, xp.int64)
            if a.dtype.kind in "fc":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            out.append(a)
            basic = False
        elif isinstance(i, bool):
            out.append(i)
            basic = False
        elif isinstance(i, (int, slice)) or i is None or i is Ellipsis:
            out.append(i)
        elif hasattr(i, "__index__") and not (isinstance(i, xp.ndarray) and i.ndim > 0):
            out.append(int(i))
        elif isinstance(i, xp.ndarray):
            out.append(i)
            basic = False
        else:
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
                             "valid indices (got " + type(i).__name__ + ")")
    _check_bounds(out, shape)
    return tuple(out), basic


def _check_bounds(idx, shape):
    dim = 0
    n_ell = sum(1 for i in idx if i is Ellipsis)
    consumed = sum(1 if not (i is None or i is Ellipsis or isinstance(i, bool)) else 0 for i in idx
                   if not (isinstance(i, xp.ndarray) and i.dtype == bool)) + \
        sum(i.ndim for i in idx if isinstance(i, xp.ndarray) and i.dtype == bool)
    if consumed > len(shape):
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
    for i in idx:
        if i is Ellipsis:
            dim += len(shape) - consumed
            continue
        if i is None or isinstance(i, bool):
            continue
        if isinstance(i, int):
            size = shape[dim]
            if not -size <= i < size:
                raise IndexError(f"index {i} is out of bounds for dimension {dim} with size {size}")
            dim += 1
        elif isinstance(i, xp.ndarray):
            if i.dtype == bool:
                if i.shape != tuple(shape[dim:dim + i.ndim]):
                    raise IndexError(f"The shape of the mask {list(i.shape)} at index {dim} does not match the shape "
                                     f"of the indexed tensor {list(shape)} at index {dim}")
                dim += i.ndim
            else:
                size = shape[dim]
                if i.size and (i.max() >= size or i.min() < -size):
                    bad = int(i.max()) if i.max() >= size else int(i.min())
                    raise IndexError(f"index {bad} is out of bounds for dimension {dim} with size {size}")
                dim += 1
        else:
            dim += 1
    del n_ell


class Index(Function):
    """Advanced indexing: a copy; backward accumulates into the indexed positions."""

    @staticmethod
    def forward(ctx, a, idx):
        ctx.in_shape, ctx.idx = a.shape, idx
        return a[idx]

    @staticmethod
    def backward(ctx, g):
        return IndexPutAccumulate.apply(g, ctx.in_shape, ctx.idx), None


class IndexPutAccumulate(Function):
    """zeros(shape) with g added at idx (duplicates accumulate)."""
    node_name = "IndexBackwardBackward0"

    @staticmethod
    def forward(ctx, g, shape, idx):
        ctx.idx = idx
        out = xp.zeros(shape, g.dtype)
        first = idx[0] if isinstance(idx, tuple) and len(idx) == 1 else None
        if isinstance(first, xp.ndarray) and first.dtype.kind in "iu" and first.size and len(shape):
            # x[int_array] (embedding-style rows): flat positions and a 1-D accumulate, several times
            # faster than np.add.at with a row index over a 2-D array.
            from .indexing import _index_add_into
            rows = xp.where(first < 0, first + shape[0], first).reshape(-1)
            _index_add_into(out, 0, rows, g.reshape((rows.size,) + tuple(shape[1:])))
        else:
            xp.add.at(out, idx, g)
        return out

    @staticmethod
    def backward(ctx, gg):
        return Index.apply(gg, ctx.idx), None, None


def getitem(self, idx):
    if type(idx) is int and self._data.ndim:
        size = self._data.shape[0]
        if not -size <= idx < size:
            raise IndexError(f"index {idx} is out of bounds for dimension 0 with size {size}")
        return _as_view(Select.apply(self, (idx,)), self)
    if self._data.ndim == 0 and not isinstance(idx, tuple) and idx is not None and idx is not Ellipsis \
            and not isinstance(idx, (Tensor, bool)):
        raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in "
                         "C++ to convert a 0-dim tensor to a number")
    single_slice = isinstance(idx, slice)
    idx, basic = _convert_index(idx, self._data.shape)
    if basic:
        return _as_view((Slice if single_slice else _basic_node(idx)).apply(self, idx), self)
    return Index.apply(self, idx)


class _UnsqueezeIndex(Slice):
    node_name = "UnsqueezeBackward0"


class _AliasIndex(Slice):
    node_name = "AliasBackward0"


def _basic_node(idx):
    """The node PyTorch's graph shows for basic indexing: that of the last select/slice/unsqueeze it
    applies (full ``:`` slices and ``...`` apply nothing)."""
    last = _AliasIndex
    for i in idx:
        if i is None:
            last = _UnsqueezeIndex
        elif isinstance(i, slice):
            if i != slice(None):
                last = Slice
        elif i is not Ellipsis:
            last = Select
    return last


class IndexPut(Function):
    """out = a with out[idx] = v (v broadcast); the functional form of ``a[idx] = v``."""

    @staticmethod
    def forward(ctx, a, v, idx):
        ctx.idx = idx
        ctx.v_shape = v.shape
        out = a.copy()
        out[idx] = v
        return out

    @staticmethod
    def backward(ctx, g):
        n = ctx.needs_input_grad
        ga = gv = None
        if n[0]:
            z = Tensor._make(xp.zeros((), g._data.dtype), False, None, 0)
            ga = IndexPut.apply(g, z, ctx.idx)
        if n[1]:
            sel = g[ctx.idx] if isinstance(ctx.idx, tuple) else g[ctx.idx]
            gv = sel.sum_to_size(ctx.v_shape) if sel._data.shape != ctx.v_shape else sel
        return ga, gv, None


def index_put(input, idx, value):
    return IndexPut.apply(input, value, idx)


def setitem(self, idx, value):
    """``self[idx] = value``: in place on the array; under autograd the tensor is rebased onto an
    IndexPut node (PyTorch's CopySlices for views of a tensor that requires grad is not supported)."""
    from .inplace import _inplace_check, _rebase

    cidx, _basic = _convert_index(idx, self._data.shape)
    if isinstance(value, Tensor):
        v = value
        if v._data.dtype != self._data.dtype:
            v = v.to(self.dtype)
    else:
        v = Tensor._make(xp.asarray(value, dtype=self._data.dtype), False, None, 0)
    grad = STATE.enabled and (self._requires_grad or v._requires_grad)
    if not grad:
        try:
            self._data[cidx] = v._data
        except ValueError:
            from .shape import expand
            expand(v, *self._data[cidx].shape)  # raises PyTorch's error naming both shapes
            raise RuntimeError(f"shape mismatch: value tensor of shape {list(v._data.shape)} cannot be broadcast "
                               f"to indexing result of shape {list(self._data[cidx].shape)}") from None
        self._vc[0] += 1
        return
    _inplace_check(self)
    r = IndexPut.apply(self, v, cidx)
    _rebase(self, r)


class ScatterAlong(Function):
    """zeros(shape) with g placed at ``idx`` along dim ``d`` (idx has g's shape); the backward of
    max/min along a dim and of gather-like ops with unique indices."""
    node_name = "ScatterBackward0"

    @staticmethod
    def forward(ctx, g, shape, d, idx):
        ctx.d, ctx.idx = d, idx
        out = xp.zeros(shape, g.dtype)
        xp.put_along_axis(out, idx, g, axis=d)
        return out

    @staticmethod
    def backward(ctx, gg):
        return GatherAlong.apply(gg, ctx.d, ctx.idx), None, None, None


class GatherAlong(Function):
    node_name = "GatherBackward0"

    @staticmethod
    def forward(ctx, a, d, idx):
        ctx.shape, ctx.d, ctx.idx = a.shape, d, idx
        return xp.take_along_axis(a, idx, axis=d)

    @staticmethod
    def backward(ctx, g):
        return ScatterAddAlong.apply(g, ctx.shape, ctx.d, ctx.idx), None, None


class ScatterAddAlong(Function):
    node_name = "ScatterAddBackward0"

    @staticmethod
    def forward(ctx, g, shape, d, idx):
        ctx.d, ctx.idx = d, idx
        from .indexing import _add_at, _flat_along
        out = xp.zeros(shape, g.dtype)
        if idx.size and idx.min() < 0:
            idx = xp.where(idx < 0, idx + shape[d], idx)
        # Accumulate duplicates on flat positions (bincount / 1-D add.at: several times faster than
        # np.add.at with a tuple of index grids).
        _add_at(out.reshape(-1), _flat_along(idx, d, shape).ravel(), xp.broadcast_to(g, idx.shape).ravel())
        return out

    @staticmethod
    def backward(ctx, gg):
        return GatherAlong.apply(gg, ctx.d, ctx.idx), None, None, None


def scatter_along(g, shape, d, idx):
    return ScatterAlong.apply(g, shape, d, idx)


Tensor.__getitem__ = getitem
Tensor.__setitem__ = setitem
