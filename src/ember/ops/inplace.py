"""In-place ops (``add_``, ``mul_``, ``clamp_``, ``copy_``, ``zero_`` …).

Without autograd they write straight into the array (the optimizer path). Under autograd the result
is computed by the out-of-place op on an alias of the tensor and the tensor is rebased onto that
result's node, bumping its version so saved copies of the old value are caught, as PyTorch does.
"""
from __future__ import annotations

from .. import _dtypes
from .._tensor import Tensor
from ..autograd.graph import SavedTensor
from ..autograd.grad_mode import STATE
from ..backend import xp
from . import elementwise as E

__all__ = []

_LEAF = "a leaf Variable that requires grad is being used in an in-place operation."


def _inplace_check(t: Tensor) -> None:
    if t.grad_fn is None and t._requires_grad and STATE.enabled:
        raise RuntimeError(_LEAF)
    if t._base is not None and STATE.enabled and t._base._requires_grad:
        raise RuntimeError(
            "ember does not support in-place operations on a view of a tensor that requires grad (PyTorch "
            "rebases the view with CopySlices); apply the operation out of place, e.g. "
            "`x = torch.cat(...)` or `y = x.clone(); y[...] = ...`")


def _cast_check(t: Tensor, r: Tensor, name: str) -> None:
    if r._data.dtype != t._data.dtype:
        rd, td = r.dtype, t.dtype
        if rd.category > td.category:
            raise RuntimeError(f"result type {rd.name.capitalize() if rd.name != 'float32' else 'Float'} can't be "
                               f"cast to the desired output type {_legacy_name(td)}")


def _legacy_name(d):
    return {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int", "bool": "Bool",
            "uint8": "Byte", "int16": "Short", "int8": "Char", "float16": "Half"}.get(d.name, d.name)


def _rebase(t: Tensor, r: Tensor) -> None:
    """Write result r into t's memory and make t the output of r's node."""
    if r._data.shape != t._data.shape:
        raise RuntimeError(f"output with shape {list(t._data.shape)} doesn't match the broadcast shape "
                           f"{list(r._data.shape)}")
    t._data[...] = r._data
    t._vc[0] += 1
    if r.grad_fn is not None:
        t.grad_fn = r.grad_fn
        t._output_nr = r._output_nr
        t._requires_grad = True


def _apply(t: Tensor, fn, *args, **kwargs) -> Tensor:
    needs_graph = STATE.enabled and (t._requires_grad or any(isinstance(a, Tensor) and a._requires_grad
                                                             for a in args))
    if not needs_graph:
        r = fn(t, *args, **kwargs)
        _cast_check(t, r, fn.__name__)
        if r._data.shape != t._data.shape:
            raise RuntimeError(f"output with shape {list(t._data.shape)} doesn't match the broadcast shape "
                               f"{list(r._data.shape)}")
        t._data[...] = r._data
        t._vc[0] += 1
        return t
    _inplace_check(t)
    # The op reads t's current value through an alias (a distinct array object over the same memory,
    # so saved-tensor matching can tell the alias from t itself when t is also another operand).
    alias = Tensor._make(t._data.view(), t._requires_grad, t.grad_fn, t._output_nr)
    r = fn(alias, *args, **kwargs)
    _cast_check(t, r, fn.__name__)
    node = r.grad_fn
    if node is not None and node._saved:
        for s in node._saved:
            if isinstance(s, SavedTensor) and s.tensor is alias:
                alias._data = alias._data.copy()  # the op needs the old value: keep it
                break
    _rebase(t, r)
    return t


def _binary_fast(npfn, fn):
    """In-place binary op: a NumPy ufunc with out= when no graph is needed and dtypes agree."""
    def method(self, other, *, alpha=None):
        if not STATE.enabled or not (self._requires_grad or (isinstance(other, Tensor) and other._requires_grad)):
            a = self._data
            if isinstance(other, Tensor):
                b = other._data
                if b.dtype == a.dtype and (b.ndim <= a.ndim):
                    if alpha is not None and alpha != 1:
                        b = b * alpha
                    try:
                        npfn(a, b, out=a)
                    except ValueError:
                        raise RuntimeError(f"output with shape {list(a.shape)} doesn't match the broadcast shape "
                                           f"{list(xp.broadcast_shapes(a.shape, b.shape))}") from None
                    self._vc[0] += 1
                    return self
            elif isinstance(other, (int, float)) and not isinstance(other, bool) and a.dtype.kind == "f":
                if alpha is not None and alpha != 1:
                    other = other * alpha
                npfn(a, other, out=a, casting="unsafe")
                self._vc[0] += 1
                return self
        if alpha is not None:
            return _apply(self, fn, other, alpha=alpha)
        return _apply(self, fn, other)
    return method


Tensor.add_ = _binary_fast(xp.add, E.add)
Tensor.sub_ = _binary_fast(xp.subtract, E.sub)
Tensor.subtract_ = Tensor.sub_
Tensor.mul_ = _binary_fast(xp.multiply, E.mul)
Tensor.multiply_ = Tensor.mul_


def _div_(self, other, *, rounding_mode=None):
    if rounding_mode is None and self._data.dtype.kind == "f":
        return _binary_fast(xp.true_divide, E.div)(self, other)
    return _apply(self, E.div, other, rounding_mode=rounding_mode)


Tensor.div_ = Tensor.divide_ = Tensor.true_divide_ = _div_
Tensor.__iadd__ = lambda self, other: self.add_(other)
Tensor.__isub__ = lambda self, other: self.sub_(other)
Tensor.__imul__ = lambda self, other: self.mul_(other)
Tensor.__itruediv__ = lambda self, other: self.div_(other)
Tensor.__ifloordiv__ = lambda self, other: _apply(self, E.floor_divide, other)
Tensor.__imod__ = lambda self, other: _apply(self, E.remainder, other)
Tensor.__ipow__ = lambda self, other: _apply(self, E.pow, other)
Tensor.__iand__ = lambda self, other: _apply(self, E.bitwise_and, other)
Tensor.__ior__ = lambda self, other: _apply(self, E.bitwise_or, other)
Tensor.__ixor__ = lambda self, other: _apply(self, E.bitwise_xor, other)


def _make_inplace(name, fn):
    def method(self, *args, **kwargs):
        return _apply(self, fn, *args, **kwargs)
    method.__name__ = name + "_"
    setattr(Tensor, name + "_", method)


for _n in ["pow", "neg", "negative", "abs", "absolute", "exp", "expm1", "log", "log2", "log10", "log1p", "sqrt",
           "rsqrt", "square", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "sigmoid",
           "relu", "sign", "reciprocal", "floor", "ceil", "round", "trunc", "frac", "clamp", "clip", "clamp_min",
           "clamp_max", "erf", "lerp", "addcmul", "addcdiv", "remainder", "fmod", "floor_divide", "atan2",
           "logical_not", "logical_and", "logical_or", "bitwise_and", "bitwise_or", "bitwise_not", "nan_to_num",
           "eq", "ne", "lt", "le", "gt", "ge", "hypot", "xlogy", "copysign"]:
    _make_inplace(_n, getattr(E, _n))


def zero_(self):
    if STATE.enabled and self._requires_grad and self.grad_fn is None:
        raise RuntimeError(_LEAF)
    if STATE.enabled and self._requires_grad:
        return _apply(self, lambda t: E.mul(t, 0))
    self._data[...] = 0
    self._vc[0] += 1
    return self


def fill_(self, value):
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value._data.ndim} dimensions.")
        if STATE.enabled and (self._requires_grad or value._requires_grad):
            return _apply(self, lambda t, v: E.add(E.mul(t, 0), v.to(t.dtype)), value)
        value = value.item()
    if STATE.enabled and self._requires_grad:
        return _apply(self, lambda t: E.add(E.mul(t, 0), value))
    self._data[...] = value
    self._vc[0] += 1
    return self


def copy_(self, src, non_blocking: bool = False):
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'other' (position 1) must be Tensor, not {type(src).__name__}")
    if STATE.enabled and (self._requires_grad or src._requires_grad):
        from .shape import expand
        return _apply(self, lambda t, s: E.add(E.mul(t, 0), expand(s.to(t.dtype), *t._data.shape)), src)
    try:
        self._data[...] = src._data
    except ValueError:
        raise RuntimeError(f"The size of tensor a ({self._data.shape[-1] if self._data.ndim else 1}) must match "
                           f"the size of tensor b ({src._data.shape[-1] if src._data.ndim else 1}) at non-singleton "
                           f"dimension {max(self._data.ndim - 1, 0)}") from None
    self._vc[0] += 1
    return self


def masked_fill_(self, mask, value):
    from .indexing import masked_fill
    return _apply(self, masked_fill, mask, value)


Tensor.zero_ = zero_
Tensor.fill_ = fill_
Tensor.copy_ = copy_
Tensor.masked_fill_ = masked_fill_


def _set_dtype_alias():
    return _dtypes


Tensor.set_ = lambda self, source: (setattr(self, "_data", source._data), self)[1]
