"""In-place ops (``add_``, ``mul_``, ``clamp_``, ``copy_``, ``zero_`` …).

Without autograd they write straight into the array (the optimizer path). Under autograd the result
is computed by the out-of-place op on an alias of the tensor and the tensor is rebased onto that
result's node, bumping its version so saved copies of the old value are caught, as PyTorch does.

An in-place op on a *view* also rebases the view's base, as PyTorch's ``CopySlices`` does: the base
becomes "old base with the view's region replaced by the result", and the view (like any other view
of that base used later) becomes an ``AsStrided`` view of the new base. A view's position in its
base is its element offset, shape and strides, read from the NumPy arrays.
"""
from __future__ import annotations

from .. import _dtypes
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.graph import SavedTensor
from ..autograd.grad_mode import STATE
from ..backend import xp
from . import elementwise as E

__all__ = []

_LEAF = "a leaf Variable that requires grad is being used in an in-place operation."


_OVERLAP = ("unsupported operation: more than one element of the written-to tensor refers to a single memory "
            "location. Please clone() the tensor before performing the operation.")


def _check_overlap(a) -> None:
    """In-place writes into an expanded tensor (stride 0 over several elements) are refused, as PyTorch."""
    if 0 in a.strides and any(st == 0 and n > 1 for st, n in zip(a.strides, a.shape)):
        raise RuntimeError(_OVERLAP)


def _inplace_check(t: Tensor) -> None:
    _check_overlap(t._data)
    if t.grad_fn is None and t._requires_grad and STATE.enabled:
        raise RuntimeError(_LEAF)
    b = t._base
    if b is not None and STATE.enabled and b._requires_grad and b.grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")


# ---------------------------------------------------------------------------------------------
# Views as (offset, shape, strides) of their base, and the Functions that rebase them.
def _geometry(view: Tensor, base: Tensor) -> tuple:
    """(element offset, shape, element strides) of ``view`` inside ``base``'s C-contiguous array."""
    b, v = base._data, view._data
    if not b.flags.c_contiguous or any(s < 0 for s in v.strides) or v.itemsize != b.itemsize:
        raise RuntimeError("ember cannot rebase this view of a tensor that requires grad after an in-place "
                           "operation (its base is not contiguous); apply the operation out of place, e.g. "
                           "`y = x.clone(); y[...] = ...`")
    off = (v.__array_interface__["data"][0] - b.__array_interface__["data"][0]) // b.itemsize if b.size else 0
    return off, v.shape, tuple(s // v.itemsize for s in v.strides)


def _strided(arr, geom):
    off, shape, strides = geom
    flat = arr.reshape(-1)
    return xp.lib.stride_tricks.as_strided(flat[off:], shape, tuple(s * arr.itemsize for s in strides))


class AsStrided(Function):
    """The view at ``geom`` of a base (a copy: it only serves as a gradient path)."""
    node_name = "AsStridedBackward0"

    @staticmethod
    def forward(ctx, a, geom):
        ctx.base_shape, ctx.geom = a.shape, geom
        return _strided(xp.ascontiguousarray(a), geom).copy()

    @staticmethod
    def backward(ctx, g):
        return AsStridedScatter.apply(g, ctx.base_shape, ctx.geom), None


class AsStridedScatter(Function):
    """zeros(shape) with g written at ``geom``: the gradient of AsStrided."""

    @staticmethod
    def forward(ctx, g, shape, geom):
        ctx.geom = geom
        off, vshape, strides = geom
        bcast = tuple(i for i, (st, n) in enumerate(zip(strides, vshape)) if st == 0 and n > 1)
        if bcast:  # an expanded view: its elements share memory, so their gradients add up
            g = g.sum(axis=bcast, keepdims=True)
            geom = (off, g.shape, strides)
        out = xp.zeros(shape, g.dtype)
        _strided(out, geom)[...] = g
        return out

    @staticmethod
    def backward(ctx, gg):
        return AsStrided.apply(gg, ctx.geom), None, None


class CopySlices(Function):
    """``base`` with the region at ``geom`` replaced by ``value``: the new base after an in-place op
    on one of its views."""
    node_name = "CopySlices"

    @staticmethod
    def forward(ctx, base, value, geom):
        ctx.geom = geom
        out = xp.array(base, order="C", copy=True)
        _strided(out, geom)[...] = value
        return out

    @staticmethod
    def backward(ctx, g):
        n = ctx.needs_input_grad
        g_base = CopySlices.apply(g, Tensor._make(xp.zeros((), g._data.dtype), False, None, 0), ctx.geom) \
            if n[0] else None
        return g_base, (AsStrided.apply(g, ctx.geom) if n[1] else None), None


def _regraph_view(view: Tensor) -> None:
    """Make ``view`` an AsStrided view of its base's current graph (after the base changed in place)."""
    base = view._base
    node = AsStrided.apply(Tensor._make(base._data, base._requires_grad, base.grad_fn, base._output_nr),
                           _geometry(view, base)).grad_fn
    view.grad_fn, view._output_nr, view._requires_grad = node, 0, True
    view.__dict__["_vv"] = view._vc[0]


def refresh_view(view: Tensor) -> None:
    """Called by Function.apply on a view that requires grad: regraph it if its base was modified in
    place since the view's grad_fn was made (PyTorch regenerates such a view's grad_fn the same way)."""
    vv = view.__dict__.get("_vv") if view.__dict__ else None
    if vv is not None and vv != view._vc[0] and view._base._requires_grad:
        _regraph_view(view)


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
    """Write result r into t's memory and make t the output of r's node (rebasing t's base too when
    t is a view)."""
    if r._data.shape != t._data.shape:
        raise RuntimeError(f"output with shape {list(t._data.shape)} doesn't match the broadcast shape "
                           f"{list(r._data.shape)}")
    base = t._base
    if base is not None and r.grad_fn is not None:
        geom = _geometry(t, base)
        old = Tensor._make(base._data, base._requires_grad, base.grad_fn, base._output_nr)
        new = CopySlices.apply(old, r, geom)
        t._data[...] = r._data
        t._vc[0] += 1
        base.grad_fn, base._output_nr, base._requires_grad = new.grad_fn, 0, True
        _regraph_view(t)
        return
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
        _check_overlap(t._data)
        r = fn(t, *args, **kwargs)
        _cast_check(t, r, fn.__name__)
        if r._data.shape != t._data.shape:
            raise RuntimeError(f"output with shape {list(t._data.shape)} doesn't match the broadcast shape "
                               f"{list(r._data.shape)}")
        t._data[...] = r._data
        t._vc[0] += 1
        return t
    _inplace_check(t)
    if t._base is not None and t.grad_fn is not None:
        refresh_view(t)
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
            _check_overlap(a)
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
    _check_overlap(self._data)
    if STATE.enabled and self._requires_grad and self.grad_fn is None:
        raise RuntimeError(_LEAF)
    if STATE.enabled and self._requires_grad:
        return _apply(self, lambda t: E.mul(t, 0))
    self._data[...] = 0
    self._vc[0] += 1
    return self


def fill_(self, value):
    _check_overlap(self._data)
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
    _check_overlap(self._data)
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
