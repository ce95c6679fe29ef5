"""``Parameter``: a Tensor that a Module registers as one of its learnable parameters."""
from __future__ import annotations

from .._tensor import Tensor, _init

__all__ = ["Parameter", "Buffer"]


class Parameter(Tensor):
    """``torch.nn.Parameter(data=None, requires_grad=True)``: shares ``data``'s memory, is always a leaf."""

    def __new__(cls, data=None, requires_grad: bool = True):
        p = object.__new__(cls)
        if data is None:
            from .._creation import empty
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter(): argument 'data' must be Tensor, not {type(data).__name__}")
        _init(p, data._data, False)
        p._vc = data._vc
        if requires_grad:
            p.requires_grad = True
        return p

    def __init__(self, data=None, requires_grad: bool = True):
        pass

    def __repr__(self, *, tensor_contents=None) -> str:
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__


class Buffer(Tensor):
    """``torch.nn.Buffer(data, persistent=True)``: marks a tensor to be registered as a Module buffer."""

    def __new__(cls, data=None, *, persistent: bool = True):
        b = object.__new__(cls)
        if data is None:
            from .._creation import empty
            data = empty(0)
        _init(b, data._data, False)
        b._vc = data._vc
        b.persistent = persistent
        return b

    def __init__(self, data=None, *, persistent: bool = True):
        pass
