"""Helpers shared by op families: dim normalisation, dtype promotion of operands."""
from __future__ import annotations

from .. import _dtypes
from .._tensor import Tensor, _wrap_dim

__all__ = ["wrap_dim", "dims_tuple", "promote", "as_tensor_arg", "is_scalar"]

wrap_dim = _wrap_dim
_NUM = (int, float, bool, complex)


def is_scalar(x) -> bool:
    return isinstance(x, _NUM)


def dims_tuple(dim, ndim: int) -> tuple:
    """``dim`` (None, int, or sequence) as a sorted tuple of non-negative dims."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, int):
        d = _wrap_dim(dim, ndim)  # a 0-d tensor accepts dim 0 / -1 but has no axis to reduce
        return (d,) if ndim else ()
    out = tuple(sorted(_wrap_dim(d, ndim) for d in dim))
    if not ndim:
        out = ()
    if len(set(out)) != len(out):
        dup = next(d for i, d in enumerate(out) if d in out[:i])
        raise RuntimeError(f"dim {dup} appears multiple times in the list of dims")
    return out if out or ndim else ()


def as_tensor_arg(x, name: str = "other"):
    """Accept a Tensor or a Python number; NumPy scalars become Python numbers (weak in promotion, as
    PyTorch treats them: float32 + np.float64(1) is float32), NumPy arrays become Tensors."""
    if isinstance(x, Tensor) or type(x) in _NUM:
        return x
    import numpy as np
    if isinstance(x, np.ndarray):
        return Tensor._make(x, False, None, 0)
    if isinstance(x, np.generic):  # before the number check: np.float64 subclasses float
        return x.item()
    if isinstance(x, _NUM):
        return x
    raise TypeError(f"unsupported operand type for {name}: '{type(x).__name__}'")


def check_broadcast(sa: tuple, sb: tuple) -> None:
    """PyTorch's RuntimeError (naming the first mismatching dim from the right) for shapes that
    don't broadcast."""
    n = max(len(sa), len(sb))
    for i in range(-1, -n - 1, -1):
        x = sa[i] if -i <= len(sa) else 1
        y = sb[i] if -i <= len(sb) else 1
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) at "
                               f"non-singleton dimension {n + i}")


def fit_int(x: int, np_dtype) -> int:
    """A Python int operand wrapped into an integer dtype's range, as PyTorch does (uint8 - 3 wraps);
    NumPy would raise OverflowError."""
    if -128 <= x <= 127 and np_dtype.kind == "i":
        return x
    bits = np_dtype.itemsize * 8
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if np_dtype.kind == "i" else (0, (1 << bits) - 1)
    if lo <= x <= hi:
        return x
    x %= 1 << bits
    return x - (1 << bits) if x > hi else x


def promote(a, b, true_div: bool = False):
    """Cast tensor operands to PyTorch's result dtype of ``a`` and ``b`` (scalars stay scalars).

    Returns (a, b, dtype). The common case — same dtype, or a scalar of no higher category — costs
    two type checks.
    """
    ta = isinstance(a, Tensor)
    tb = isinstance(b, Tensor)
    if ta and tb:
        if a._data.shape != b._data.shape:
            check_broadcast(a._data.shape, b._data.shape)
        da, db = a._data.dtype, b._data.dtype
        if da == db and (not true_div or da.kind in "fc"):
            return a, b, a.dtype
    elif ta and not true_div:
        k = a._data.dtype.kind
        if k in "fc" and not isinstance(b, complex):
            return a, b, a.dtype
        if k == "i" and isinstance(b, int) and not isinstance(b, bool):
            return a, fit_int(b, a._data.dtype), a.dtype
    elif tb and not true_div:
        k = b._data.dtype.kind
        if k in "fc" and not isinstance(a, complex):
            return a, b, b.dtype
        if k == "i" and isinstance(a, int) and not isinstance(a, bool):
            return fit_int(a, b._data.dtype), b, b.dtype
    dt = _dtypes.result_type(a, b)
    if true_div and not (dt.is_floating_point or dt.is_complex):
        dt = _dtypes.get_default_dtype()
    if ta and a._data.dtype != dt.np:
        a = a.to(dt)
    elif not ta and type(a) is int and dt.category == 1:
        a = fit_int(a, dt.np)
    if tb and b._data.dtype != dt.np:
        b = b.to(dt)
    elif not tb and type(b) is int and dt.category == 1:
        b = fit_int(b, dt.np)
    return a, b, dt
