"""PyTorch's legacy typed constructors: ``FloatTensor([..])``, ``LongTensor(2, 3)`` …"""
from __future__ import annotations

from . import _dtypes
from ._tensor import Tensor

__all__ = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor", "CharTensor",
           "ByteTensor", "BoolTensor", "BFloat16Tensor"]


class _LegacyMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype is cls._legacy_dtype


def _make(name, dt):
    def __new__(cls, *args, **kwargs):
        t = Tensor.__new__(Tensor)
        Tensor.__init__(t, *args, dtype=dt, **kwargs)
        return t
    return _LegacyMeta(name, (), {"__new__": __new__, "_legacy_dtype": dt, "dtype": dt})


FloatTensor = _make("FloatTensor", _dtypes.float32)
DoubleTensor = _make("DoubleTensor", _dtypes.float64)
HalfTensor = _make("HalfTensor", _dtypes.float16)
BFloat16Tensor = _make("BFloat16Tensor", _dtypes.bfloat16)
LongTensor = _make("LongTensor", _dtypes.int64)
IntTensor = _make("IntTensor", _dtypes.int32)
ShortTensor = _make("ShortTensor", _dtypes.int16)
CharTensor = _make("CharTensor", _dtypes.int8)
ByteTensor = _make("ByteTensor", _dtypes.uint8)
BoolTensor = _make("BoolTensor", _dtypes.bool)
