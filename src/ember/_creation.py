"""Tensor creation: tensor, from_numpy, zeros/ones/full/empty/eye/arange/linspace and *_like."""
from __future__ import annotations

import builtins
import math

import numpy as np

from . import _dtypes
from ._device import check_device
from ._tensor import Size, Tensor, _init

__all__ = ["tensor", "as_tensor", "asarray", "from_numpy", "zeros", "ones", "full", "empty", "eye", "arange",
           "range", "linspace", "logspace", "zeros_like", "ones_like", "full_like", "empty_like", "scalar_tensor",
           "empty_strided", "tril", "triu", "diag", "diagonal", "trace", "meshgrid", "is_tensor", "numel",
           "is_floating_point", "is_complex", "complex", "polar", "tril_indices", "triu_indices", "cartesian_prod"]


def _infer_dtype(data):
    """PyTorch's inference for nested Python data: bool < int < float, floats -> default dtype."""
    if isinstance(data, Tensor):
        return data.dtype
    if isinstance(data, np.ndarray):
        return _dtypes.from_numpy_dtype(data.dtype)
    if isinstance(data, np.generic):
        return _dtypes.from_numpy_dtype(data.dtype)
    cat = -1
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, (list, tuple)):
            stack.extend(x)
        elif isinstance(x, Tensor):
            cat = builtins.max(cat, x.dtype.category if x._data.ndim == 0 else x.dtype.category)
            if x.dtype.is_floating_point and x.dtype is not _dtypes.get_default_dtype():
                return x.dtype
        elif isinstance(x, bool) or isinstance(x, np.bool_):
            cat = builtins.max(cat, 0)
        elif isinstance(x, (int, np.integer)):
            cat = builtins.max(cat, 1)
        elif isinstance(x, (float, np.floating)):
            cat = builtins.max(cat, 2)
        elif isinstance(x, builtins.complex):
            cat = builtins.max(cat, 3)
        else:
            raise TypeError(f"new(): invalid data type '{type(x).__name__}'")
    return _dtypes._scalar_default(builtins.max(cat, 2) if cat == -1 else cat)


def _nested_to_list(data):
    if isinstance(data, Tensor):  # an element of a sequence: only one-element tensors convert
        if data._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return data._data.reshape(())
    if isinstance(data, (list, tuple)):
        return [_nested_to_list(x) for x in data]
    return data


def _as_array(data, dtype) -> np.ndarray:
    dt = _dtypes.to_dtype(dtype)
    if isinstance(data, Tensor):
        return data._data.astype(dt.np, copy=True)
    if isinstance(data, np.ndarray):
        return data.astype(dt.np, copy=True)
    if isinstance(data, (list, tuple)):
        data = _nested_to_list(data)
        try:
            arr = np.array(data)
        except ValueError:
            n0 = len(data[0]) if data and hasattr(data[0], "__len__") else 0
            raise ValueError(f"expected sequence of length {n0} at dim 1 (got {_ragged_len(data)})") from None
        if arr.dtype == object:
            raise ValueError(f"expected sequence of length {len(data[0])} at dim 1 (got {_ragged_len(data)})")
        return arr.astype(dt.np, copy=False)
    if isinstance(data, (int, float, bool, builtins.complex, np.generic)):
        return np.array(data, dtype=dt.np)
    if hasattr(data, "__array__"):
        return np.asarray(data).astype(dt.np)
    raise TypeError(f"new(): invalid data type '{type(data).__name__}'")


def _ragged_len(data):
    n0 = len(data[0])
    for d in data:
        if hasattr(d, "__len__") and len(d) != n0:
            return len(d)
    return n0


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A new tensor copying ``data`` (nested lists, numbers, arrays, tensors)."""
    check_device(device)
    dt = _dtypes.to_dtype(dtype) if dtype is not None else _infer_dtype(data)
    t = Tensor._make(_as_array(data, dt), False, None, 0)
    if requires_grad:
        t.requires_grad = True
    return t


def as_tensor(data, dtype=None, device=None) -> Tensor:
    check_device(device)
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or _dtypes.to_dtype(dtype).np == data.dtype):
        return from_numpy(data)
    return tensor(data, dtype=dtype)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False) -> Tensor:
    t = as_tensor(obj, dtype=dtype, device=device)
    if copy:
        t = t.clone()
    if requires_grad:
        t.requires_grad_()
    return t


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``ndarray``."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    _dtypes.from_numpy_dtype(ndarray.dtype)
    if not ndarray.dtype.isnative:
        raise ValueError("given numpy array has byte order different from the native byte order. Conversion "
                         "between byte orders is currently not supported.")
    return Tensor._make(ndarray, False, None, 0)


def _size(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list, Size)):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = int(s)
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"zeros(): argument 'size' (position 1) must be tuple of ints, but found element of "
                            f"type {type(s).__name__} at pos {len(out)}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
        out.append(int(s))
    return tuple(out)


def _new(arr, requires_grad) -> Tensor:
    t = Tensor._make(arr, False, None, 0)
    if requires_grad:
        t.requires_grad = True
    return t


def _dt(dtype):
    return (_dtypes.to_dtype(dtype) if dtype is not None else _dtypes.get_default_dtype()).np


def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    check_device(device)
    return _new(np.zeros(_size(size), _dt(dtype)), requires_grad)


def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    check_device(device)
    return _new(np.ones(_size(size), _dt(dtype)), requires_grad)


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
          memory_format=None) -> Tensor:
    check_device(device)
    return _new(np.empty(_size(size), _dt(dtype)), requires_grad)


def empty_strided(size, stride, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return empty(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False) -> Tensor:
    check_device(device)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if dtype is None:
        dtype = _dtypes._scalar_default(_dtypes._scalar_category(fill_value))
    return _new(np.full(_size((size,) if isinstance(size, int) else (tuple(size),)), fill_value, _dt(dtype)),
                requires_grad)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _new(np.array(s, _dt(dtype)), requires_grad)


def _like(fn, input, dtype, requires_grad, *args):
    dt = dtype if dtype is not None else input.dtype
    return fn(*args, input._data.shape, dt, requires_grad)


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None) -> Tensor:
    return _new(np.zeros(input._data.shape, (_dtypes.to_dtype(dtype) if dtype else input.dtype).np), requires_grad)


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None) -> Tensor:
    return _new(np.ones(input._data.shape, (_dtypes.to_dtype(dtype) if dtype else input.dtype).np), requires_grad)


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None) -> Tensor:
    return _new(np.empty(input._data.shape, (_dtypes.to_dtype(dtype) if dtype else input.dtype).np), requires_grad)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    return _new(np.full(input._data.shape, fill_value, (_dtypes.to_dtype(dtype) if dtype else input.dtype).np),
                requires_grad)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False) -> Tensor:
    check_device(device)
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    return _new(np.eye(n, m if m is not None else n, dtype=_dt(dtype)), requires_grad)


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False) -> Tensor:
    check_device(device)
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = vals
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0 and end != start:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        dtype = _dtypes.get_default_dtype() if any(isinstance(v, float) for v in vals) else _dtypes.int64
    dt = _dtypes.to_dtype(dtype)
    n = builtins.max(math.ceil((end - start) / step), 0)
    # Computed in float64 (or int64) then cast, like PyTorch, so float32 endpoints agree.
    arr = (start + np.arange(n, dtype=np.float64 if dt.is_floating_point else np.int64) * step).astype(dt.np)
    return _new(arr, requires_grad)


def range(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    if end is None:
        start, end = 0, start
    n = int(math.floor((end - start) / step)) + 1
    dt = _dtypes.to_dtype(dtype) if dtype is not None else _dtypes.get_default_dtype()
    return _new((start + np.arange(n) * step).astype(dt.np), requires_grad)


def linspace(start, end, steps: int, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    check_device(device)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    start = start.item() if isinstance(start, Tensor) else start
    end = end.item() if isinstance(end, Tensor) else end
    return _new(np.linspace(start, end, steps).astype(_dt(dtype)), requires_grad)


def logspace(start, end, steps: int, base: float = 10.0, *, dtype=None, device=None, requires_grad=False):
    return _new(np.logspace(start, end, steps, base=base).astype(_dt(dtype)), requires_grad)


def _tri(fn):
    from .autograd.function import Function

    class Tri(Function):
        node_name = fn.__name__.capitalize() + "Backward0"

        @staticmethod
        def forward(ctx, a, k):
            ctx.k = k
            return fn(a, k)

        @staticmethod
        def backward(ctx, g):
            return Tri.apply(g, ctx.k), None
    Tri.__name__ = fn.__name__.capitalize()
    return Tri


_Tril = _tri(np.tril)
_Triu = _tri(np.triu)


def tril(input, diagonal: int = 0) -> Tensor:
    return _Tril.apply(input, diagonal)


def triu(input, diagonal: int = 0) -> Tensor:
    return _Triu.apply(input, diagonal)


class _Diagonal:
    """diagonal() and its gradient (a diagonal scatter into zeros), each the other's backward."""

    from .autograd.function import Function as _F

    class Diagonal(_F):
        @staticmethod
        def forward(ctx, a, offset, dim1, dim2):
            ctx.args = (a.shape, offset, dim1, dim2)
            v = np.diagonal(a, offset, dim1, dim2)
            if a.flags.writeable:
                v.flags.writeable = True  # a view, as PyTorch's: x.diagonal().add_(1) writes into x
            return v

        @staticmethod
        def backward(ctx, g):
            return _Diagonal.DiagonalScatter.apply(g, *ctx.args), None, None, None

    class DiagonalScatter(_F):
        node_name = "DiagonalBackwardBackward0"

        @staticmethod
        def forward(ctx, g, shape, offset, dim1, dim2):
            ctx.args = (offset, dim1, dim2)
            out = np.zeros(shape, g.dtype)
            view = out
            idx = np.arange(g.shape[-1])
            full = [slice(None)] * len(shape)
            full[dim1] = idx + builtins.max(-offset, 0)
            full[dim2] = idx + builtins.max(offset, 0)
            # Advanced indices on dim1/dim2 go first when not adjacent; move the diagonal axis to match.
            target = view[tuple(full)]
            gm = np.moveaxis(g, -1, 0) if target.shape != g.shape else g
            view[tuple(full)] = gm
            return out

        @staticmethod
        def backward(ctx, gg):
            return _Diagonal.Diagonal.apply(gg, *ctx.args), None, None, None, None


def diagonal(input, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    from ._tensor import _wrap_dim
    from .ops.shape import _as_view
    nd = input._data.ndim
    return _as_view(_Diagonal.Diagonal.apply(input, offset, _wrap_dim(dim1, nd), _wrap_dim(dim2, nd)), input)


def diag(input, diagonal: int = 0) -> Tensor:
    if input._data.ndim == 1:
        n = input._data.shape[0] + builtins.abs(diagonal)
        z = zeros(n, n, dtype=input.dtype)
        idx = np.arange(input._data.shape[0])
        from .ops.index import index_put
        return index_put(z, (idx + builtins.max(-diagonal, 0), idx + builtins.max(diagonal, 0)), input)
    if input._data.ndim == 2:
        return globals()["diagonal"](input, diagonal)
    raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " + f"{input._data.ndim}D")


def trace(input) -> Tensor:
    return diagonal(input).sum()


def meshgrid(*tensors, indexing: str = "ij"):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    n = len(tensors)
    out = []
    shape = [t._data.shape[0] for t in tensors]
    if indexing == "xy" and n >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    for i, t in enumerate(tensors):
        view = [1] * n
        pos = i
        if indexing == "xy" and n >= 2 and i < 2:
            pos = 1 - i
        view[pos] = -1
        out.append(t.reshape(*view).expand(*shape))
    return tuple(out)


def cartesian_prod(*tensors):
    from .ops.shape import stack
    grids = meshgrid(*tensors, indexing="ij")
    return stack([g.reshape(-1) for g in grids], 1)


def tril_indices(row, col, offset=0, *, dtype=None, device=None):
    r, c = np.tril_indices(row, offset, col)
    return Tensor._make(np.stack([r, c]).astype(np.int64), False, None, 0)


def triu_indices(row, col, offset=0, *, dtype=None, device=None):
    r, c = np.triu_indices(row, offset, col)
    return Tensor._make(np.stack([r, c]).astype(np.int64), False, None, 0)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(input) -> int:
    return input._data.size


def is_floating_point(input) -> bool:
    return input._data.dtype.kind == "f"


def is_complex(input) -> bool:
    return input._data.dtype.kind == "c"


def complex(real, imag):
    return Tensor._make(real._data + 1j * imag._data, False, None, 0)


def polar(abs, angle):
    return Tensor._make(abs._data * np.exp(1j * angle._data), False, None, 0)


Tensor.tril = tril
Tensor.triu = triu
Tensor.diag = diag
Tensor.diagonal = diagonal
Tensor.trace = trace
_ = _init
