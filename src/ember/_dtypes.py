"""dtypes: ember's dtype objects over NumPy's, and PyTorch's type-promotion rules."""
from __future__ import annotations

import numpy as np

__all__ = [
    "dtype", "float16", "half", "float32", "float", "float64", "double", "bfloat16",
    "uint8", "int8", "int16", "short", "int32", "int", "int64", "long", "bool",
    "complex64", "cfloat", "complex128", "cdouble",
    "get_default_dtype", "set_default_dtype", "promote_types", "result_type",
    "can_cast", "finfo", "iinfo",
]

# category: 0 bool, 1 integer, 2 floating, 3 complex
_BOOL, _INT, _FLOAT, _COMPLEX = 0, 1, 2, 3


class dtype:
    """A tensor element type (``ember.float32`` …); wraps a NumPy dtype."""

    __slots__ = ("name", "np", "itemsize", "category", "is_floating_point", "is_complex", "is_signed",
                 "_legacy")

    def __init__(self, name: str, np_dtype, category: int, legacy: str):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.itemsize = self.np.itemsize
        self.category = category
        self.is_floating_point = category == _FLOAT
        self.is_complex = category == _COMPLEX
        self.is_signed = name not in ("uint8", "bool")
        self._legacy = legacy

    def __repr__(self) -> str:
        # Printed as PyTorch prints it, so `import ember as torch` programs print the same text.
        return f"torch.{self.name}"

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))

    def to_real(self) -> "dtype":
        return {"complex64": float32, "complex128": float64}.get(self.name, self)

    def to_complex(self) -> "dtype":
        return {"float32": complex64, "float64": complex128}.get(self.name, self)


float16 = half = dtype("float16", np.float16, _FLOAT, "HalfTensor")
float32 = float = dtype("float32", np.float32, _FLOAT, "FloatTensor")
float64 = double = dtype("float64", np.float64, _FLOAT, "DoubleTensor")
# NumPy has no bfloat16; ember stores it as float32 (listed in DEVIATIONS.md).
bfloat16 = dtype("bfloat16", np.float32, _FLOAT, "BFloat16Tensor")
uint8 = dtype("uint8", np.uint8, _INT, "ByteTensor")
int8 = dtype("int8", np.int8, _INT, "CharTensor")
int16 = short = dtype("int16", np.int16, _INT, "ShortTensor")
int32 = int = dtype("int32", np.int32, _INT, "IntTensor")
int64 = long = dtype("int64", np.int64, _INT, "LongTensor")
bool = dtype("bool", np.bool_, _BOOL, "BoolTensor")
complex64 = cfloat = dtype("complex64", np.complex64, _COMPLEX, "ComplexFloatTensor")
complex128 = cdouble = dtype("complex128", np.complex128, _COMPLEX, "ComplexDoubleTensor")

_ALL = [float16, float32, float64, uint8, int8, int16, int32, int64, bool, complex64, complex128]
_BY_NAME = {d.name: d for d in _ALL + [bfloat16]}
# NumPy dtype -> ember dtype (bfloat16 is not a NumPy dtype: float32 arrays read as float32).
_FROM_NP = {d.np: d for d in _ALL}
_FROM_NP.update({np.dtype(np.uint16): int32, np.dtype(np.uint32): int64, np.dtype(np.uint64): int64})


def _dtype_by_name(name: str) -> dtype:
    return _BY_NAME[name]


def from_numpy_dtype(np_dtype) -> dtype:
    try:
        return _FROM_NP[np.dtype(np_dtype)]
    except KeyError:
        raise TypeError(
            f"can't convert np.ndarray of type {np.dtype(np_dtype)}. The only supported types are: "
            "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, uint8, and bool."
        ) from None


_default = [float32]


def get_default_dtype() -> dtype:
    return _default[0]


def set_default_dtype(d: dtype) -> None:
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default[0] = d


def to_dtype(d) -> dtype:
    """Accept an ember dtype, a NumPy dtype, Python's float/int/bool, or a name string."""
    if isinstance(d, dtype):
        return d
    if d is _builtin_float:
        return float64  # PyTorch maps Python's float to torch.float64 (not the default dtype)
    if d is _builtin_int:
        return int64
    if d is _builtin_bool:
        return bool
    if isinstance(d, str):
        name = d[6:] if d.startswith("torch.") else d
        if name in _BY_NAME:
            return _BY_NAME[name]
        aliases = {"float": float32, "double": float64, "half": float16, "long": int64, "int": int32,
                   "short": int16}
        if name in aliases:
            return aliases[name]
        raise TypeError(f"invalid dtype string: {d!r}")
    try:
        return from_numpy_dtype(d)
    except TypeError:
        raise TypeError(f"dtype must be an ember dtype, got {d!r}") from None


import builtins as _b  # noqa: E402

_builtin_float, _builtin_int, _builtin_bool = _b.float, _b.int, _b.bool

# Promotion lattice for two dtypes of equal priority, as torch.promote_types.
_ORDER_INT = [uint8, int8, int16, int32, int64]


def promote_types(a: dtype, b: dtype) -> dtype:
    if a is b:
        return a
    if a.category != b.category:
        hi, lo = (a, b) if a.category > b.category else (b, a)
        if hi.is_complex and lo.is_floating_point and lo is float64:
            return complex128
        return hi
    if a.category == _FLOAT:
        if bfloat16 in (a, b) and float16 in (a, b):
            return float32
        return a if a.itemsize >= b.itemsize else b
    if a.category == _COMPLEX:
        return a if a.itemsize >= b.itemsize else b
    if a.category == _INT:
        if uint8 in (a, b):
            other = b if a is uint8 else a
            return int16 if other is int8 else other
        return a if a.itemsize >= b.itemsize else b
    return a


def _scalar_category(x) -> int:
    if isinstance(x, _builtin_bool):
        return _BOOL
    if isinstance(x, _builtin_int):
        return _INT
    if isinstance(x, _builtin_float):
        return _FLOAT
    if isinstance(x, complex):
        return _COMPLEX
    raise TypeError(f"unsupported scalar type {type(x).__name__}")


def _scalar_default(cat: int) -> dtype:
    return (bool, int64, _default[0], _default[0].to_complex())[cat]


def result_type(*operands) -> dtype:
    """torch.result_type over tensors and Python scalars.

    Dimensioned tensors take priority over 0-d tensors, which take priority over Python scalars;
    a lower-priority operand only changes the result when it is of a higher category
    (bool < integer < floating < complex), as PyTorch does (`int32 + 2.5 -> float32`).
    """
    from ._tensor import Tensor

    dims = zero = scal = None
    for x in operands:
        if isinstance(x, Tensor):
            d = x.dtype
            if x._data.ndim:
                dims = d if dims is None else promote_types(dims, d)
            else:
                zero = d if zero is None else promote_types(zero, d)
        else:
            c = _scalar_category(x)
            scal = c if scal is None else max(scal, c)
    res = dims
    if zero is not None:
        if res is None:
            res = zero
        elif zero.category > res.category:
            res = zero if zero.category != _FLOAT else _default_in(zero, res)
    if scal is not None:
        if res is None:
            res = _scalar_default(scal)
        elif scal > res.category:
            res = _scalar_default(scal)
            if res.is_complex and dims is not None and dims is float64:
                res = complex128
    return res


def _default_in(zero: dtype, res: dtype) -> dtype:
    # A 0-d float tensor raising an integer tensor keeps its own float dtype.
    return zero


def can_cast(from_: dtype, to: dtype) -> _b.bool:
    return from_.category <= to.category


class finfo:
    def __init__(self, type: dtype | None = None):
        type = type or _default[0]
        fi = np.finfo(type.np)
        self.bits = fi.bits
        self.eps = _builtin_float(fi.eps)
        self.max = _builtin_float(fi.max)
        self.min = _builtin_float(fi.min)
        self.tiny = self.smallest_normal = _builtin_float(fi.tiny)
        self.resolution = _builtin_float(fi.resolution)
        self.dtype = type.name


class iinfo:
    def __init__(self, type: dtype):
        ii = np.iinfo(type.np)
        self.bits, self.max, self.min = ii.bits, _builtin_int(ii.max), _builtin_int(ii.min)
        self.dtype = type.name
