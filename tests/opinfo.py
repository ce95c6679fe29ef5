"""The op table: every public op of ``ember.ops.{elementwise,shape,reduce,linalg}`` with its PyTorch
oracle and sample inputs, run by the generic tests in ``tests/ops/``.

An entry's ``fn(m, *args, **kwargs)`` is written once against a module ``m`` (``ember`` or ``torch``):
``op.ember`` and ``op.torch`` are that function bound to each library. Sample inputs are ``S(...)``
holding ``T`` specs (tensor arguments: shape, value range, an optional non-contiguous view),
``C`` constants (index tensors, masks) and plain Python values. ``Case`` turns a sample into
NumPy arrays once and builds identical ember and torch arguments from them; tensors that require
grad are the *bases* of the views, so gradients also flow through the view ops.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

F32, F64, I32, I64, BOOL = "float32", "float64", "int32", "int64", "bool"
FLOAT = (F32, F64)
FLOAT_INT = (F32, F64, I64)


class T:
    """A tensor argument: ``shape``; ``view`` 't' (a transpose of the last two dims), 's' (every
    other element of the last dim) or 'e' (the last dim expanded from 1: stride 0) makes it a
    non-contiguous view of a contiguous base;
    ``dtype`` overrides the case's dtype; ``data`` gives fixed values."""

    def __init__(self, *shape, view=None, low=-2.0, high=2.0, dtype=None, grad=True, data=None):
        self.shape = tuple(shape)
        self.view, self.low, self.high, self.dtype, self.grad, self.data = view, low, high, dtype, grad, data

    def base_shape(self):
        s = list(np.shape(self.data) if self.data is not None else self.shape)
        if self.view == "t":
            s[-1], s[-2] = s[-2], s[-1]
        elif self.view == "s":
            s[-1] *= 2
        elif self.view == "e":
            s[-1] = 1
        return tuple(s)

    def make(self, dtype, rng):
        dt = np.dtype(self.dtype or dtype)
        if self.data is not None:
            a = np.array(self.data, dtype=dt)
            if self.view == "t":
                a = np.ascontiguousarray(np.swapaxes(a, -1, -2))
            elif self.view == "s":
                a = np.repeat(a, 2, axis=-1)
            elif self.view == "e":
                a = np.ascontiguousarray(a[..., :1])
            return a
        shape = self.base_shape()
        if dt.kind == "f":
            return rng.uniform(self.low, self.high, shape).astype(dt)
        if dt.kind == "b":
            return np.asarray(rng.random(shape) < 0.5)
        return rng.integers(int(math.floor(self.low)) if self.low != -2.0 else -3,
                            int(math.ceil(self.high)) + 1 if self.high != 2.0 else 4, shape).astype(dt)

    def apply_view(self, x):
        if self.view == "t":
            return x.transpose(-1, -2)
        if self.view == "s":
            return x[..., ::2]
        if self.view == "e":
            return x.expand(*self.shape)
        return x


def P(*shape, **kw):
    """A positive tensor argument (for log, sqrt, pow ...)."""
    kw.setdefault("low", 0.5)
    kw.setdefault("high", 2.5)
    return T(*shape, **kw)


class C:
    """A constant tensor argument (indices, masks): never requires grad."""

    def __init__(self, data, dtype=None):
        self.data = np.asarray(data, dtype=dtype)


@dataclass
class S:
    args: tuple
    kwargs: dict

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs


class Case:
    """A sample made concrete for one dtype: NumPy values for every ``T``, built into either library."""

    def __init__(self, sample: S, dtype: str, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.sample, self.dtype = sample, dtype
        self.specs = []
        self._walk((sample.args, sample.kwargs), lambda t: self.specs.append(t) or t)
        self.arrays = [s.make(dtype, rng) for s in self.specs]

    @staticmethod
    def _walk(obj, f):
        if isinstance(obj, T):
            return f(obj)
        if isinstance(obj, list):
            return [Case._walk(o, f) for o in obj]
        if isinstance(obj, tuple):
            return tuple(Case._walk(o, f) for o in obj)
        if isinstance(obj, dict):
            return {k: Case._walk(v, f) for k, v in obj.items()}
        return obj

    def grad_mask(self):
        return [s.grad and a.dtype.kind == "f" for s, a in zip(self.specs, self.arrays)]

    def leaves(self, m, requires_grad=True):
        """The base tensors in library ``m``; float ones require grad when asked."""
        out = []
        for a, g in zip(self.arrays, self.grad_mask()):
            x = m.from_numpy(a.copy())
            if requires_grad and g:
                x.requires_grad_()
            out.append(x)
        return out

    def args(self, m, leaves):
        """(args, kwargs) in library ``m`` with views taken from ``leaves``."""
        it = iter(range(len(leaves)))

        def f(spec):
            return spec.apply_view(leaves[next(it)])

        def const(obj):
            if isinstance(obj, C):
                return m.from_numpy(obj.data.copy())
            if isinstance(obj, list):
                return [const(o) for o in obj]
            if isinstance(obj, tuple):
                return tuple(const(o) for o in obj)
            if isinstance(obj, dict):
                return {k: const(v) for k, v in obj.items()}
            return obj
        args, kwargs = self._walk((self.sample.args, self.sample.kwargs), f)
        return const(args), const(kwargs)

    def __repr__(self):
        return f"{self.dtype}:{self.sample}"


@dataclass
class OpInfo:
    name: str
    fn: Callable = None                 # fn(m, *args, **kwargs); default m.<name>(*args, **kwargs)
    samples: Callable = None            # () -> list[S]
    dtypes: tuple = FLOAT
    supports_grad: bool = True
    supports_gradgrad: bool = True
    gradcheck: bool = True              # float64 finite differences on the small samples
    rtol: float = 1e-5
    atol: float = 1e-5
    grad_rtol: float = 1e-4
    grad_atol: float = 1e-4
    covers: tuple = ()                  # aliases and other public names exercised by this entry
    variant: str = ""                   # distinguishes several entries for one op
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.fn is None:
            name = self.name

            def fn(m, *a, **k):
                return getattr(m, name)(*a, **k)
            self.fn = fn

    @property
    def id(self):
        return self.name + (f"-{self.variant}" if self.variant else "")

    @property
    def ember(self):
        import ember
        return functools.partial(self.fn, ember)

    @property
    def torch(self):
        import torch
        return functools.partial(self.fn, torch)


# ---------------------------------------------------------------------------------------------
# Sample-input families
def binary_samples(low=-2.0, high=2.0, scalars=(2.5, 2), mixed=True, b_low=None):
    bl = low if b_low is None else b_low

    def gen():
        out = [
            S(T(3, 4, low=low, high=high), T(3, 4, low=bl, high=high)),
            S(T(low=low, high=high), T(low=bl, high=high)),                       # 0-d
            S(T(2, 3, 4, low=low, high=high), T(4, low=bl, high=high)),           # broadcast
            S(T(3, 1, low=low, high=high), T(1, 4, low=bl, high=high)),
            S(T(4, 3, view="t", low=low, high=high), T(3, view="s", low=bl, high=high)),  # non-contiguous
            S(T(0, 3, low=low, high=high), T(3, low=bl, high=high)),              # empty
            S(T(2, 3, low=low, high=high), T(low=bl, high=high)),                 # 0-d with n-d
            S(T(3, 4, view="e", low=low, high=high), T(3, 4, view="t", low=bl, high=high)),  # stride 0
        ]
        out += [S(T(3, 4, low=low, high=high), s) for s in scalars]
        if mixed:
            out += [S(T(3, 4, low=low, high=high), T(3, 4, low=bl, high=high, dtype=I64, grad=False)),
                    S(T(3, 4, low=low, high=high, dtype=I32, grad=False), T(4, low=bl, high=high, dtype=F64))]
        return out
    return gen


def unary_samples(low=-2.0, high=2.0):
    def gen():
        return [S(T(3, 4, low=low, high=high)), S(T(low=low, high=high)), S(T(0, 2, low=low, high=high)),
                S(T(4, 3, view="t", low=low, high=high)), S(T(2, 3, 4, view="s", low=low, high=high)),
                S(T(2, 3, view="e", low=low, high=high))]
    return gen


def reduction_samples(positive=False, with_dtype=False):
    mk = P if positive else T

    def gen():
        out = [S(mk(3, 4)), S(mk()), S(mk(2, 3, 4), 1), S(mk(2, 3, 4), -1, True), S(mk(2, 3, 4), (0, 2)),
               S(mk(2, 3, 4), (-1, 0), keepdim=True), S(mk(4, 3, view="t"), 0), S(mk(3, 5, view="s"), dim=1),
               S(mk(), 0), S(mk(), -1, True), S(mk(0, 3), 1)]
        return out
    return gen


def _sl(*idx):
    return idx if len(idx) != 1 else idx[0]


OPS: list[OpInfo] = []


def op(name, **kw):
    OPS.append(OpInfo(name, **kw))


# ---------------------------------------------------------------------------------------------
# Arithmetic
op("add", samples=lambda: binary_samples()() + [S(T(3, 4), T(4), alpha=2), S(T(3, 4), 2.0, alpha=3)],
   dtypes=(F32, F64, I64))
op("add", variant="operator", fn=lambda m, a, b: a + b, samples=binary_samples(), dtypes=(F32, F64, I64))
op("add", variant="radd", fn=lambda m, a, b: b + a, samples=lambda: [S(T(3, 4), 2.5), S(T(3, 4), 3), S(T(), 1.5)],
   dtypes=(F32, F64, I64, BOOL))
op("sub", samples=lambda: binary_samples()() + [S(T(3, 4), T(4), alpha=2), S(T(2, 3), 1.5, alpha=2)],
   dtypes=(F32, F64, I64), covers=("subtract",))
op("sub", variant="rsub", fn=lambda m, a, b: b - a, samples=lambda: [S(T(3, 4), 2.5), S(T(3, 4), 3), S(T(), 1.5)],
   dtypes=(F32, F64, I64))
op("mul", samples=binary_samples(), dtypes=(F32, F64, I64, BOOL), covers=("multiply",))
op("mul", variant="rmul", fn=lambda m, a, b: b * a, samples=lambda: [S(T(3, 4), 2.5), S(T(3, 4), 3), S(T(), -1.5)],
   dtypes=(F32, F64, I64, BOOL))
op("div", samples=binary_samples(b_low=0.5), dtypes=(F32, F64), covers=("divide", "true_divide"))
op("div", variant="int", samples=lambda: [S(T(3, 4, dtype=I64), T(3, 4, low=1, high=4, dtype=I64)),
                                          S(T(3, 4, dtype=I64), 2), S(T(3, 4, dtype=I32), 2.5)],
   dtypes=(I64,))
op("div", variant="rounding", fn=lambda m, a, b, mode: m.div(a, b, rounding_mode=mode),
   samples=lambda: [S(T(3, 4, low=-5, high=5), T(3, 4, low=1, high=3), "trunc"),
                    S(T(3, 4, low=-5, high=5), T(3, 4, low=1, high=3), "floor"),
                    S(T(3, 4, low=-5, high=5), 3, "trunc"), S(T(3, 4, low=-5, high=5), 2, "floor")],
   dtypes=(F32, F64, I64), supports_grad=False)
op("div", variant="rdiv", fn=lambda m, a, b: b / a, samples=lambda: [S(P(3, 4), 2.5), S(P(3, 4), 3), S(P(), 1.5)],
   dtypes=(F32, F64))
op("floor_divide", samples=lambda: [S(T(3, 4, low=-5, high=5), T(3, 4, low=1, high=3)),
                                    S(T(3, 4, low=-5, high=5), T(4, low=1, high=3)), S(T(2, 3, low=-5, high=5), 2)],
   dtypes=(F32, F64, I64), supports_grad=False)
op("remainder", samples=lambda: [S(T(3, 4, low=-5, high=5), T(3, 4, low=1, high=3)),
                                 S(T(2, 3, 4, low=-5, high=5), T(4, low=1, high=3)), S(T(2, 3, low=-5, high=5), 2)],
   dtypes=(F32, F64, I64))
op("fmod", samples=lambda: [S(T(3, 4, low=-5, high=5), T(3, 4, low=1, high=3)),
                            S(T(2, 3, 4, low=-5, high=5), T(4, low=1, high=3)), S(T(2, 3, low=-5, high=5), 2.0)],
   dtypes=(F32, F64, I64))
op("pow", variant="scalar", samples=lambda: [S(P(3, 4), 2), S(P(3, 4), 3), S(P(3, 4), 0.5), S(P(), -1.5),
                                             S(T(3, 4), 0), S(T(3, 4), 1), S(P(4, 3, view="t"), 2.5)],
   dtypes=FLOAT)
op("pow", variant="int", samples=lambda: [S(T(3, 4), 2), S(T(3, 4), 3), S(T(3, 4), 2.5)], dtypes=(I64,))
op("pow", variant="tensor", samples=lambda: [S(P(3, 4), T(3, 4)), S(P(2, 3), T(3)), S(P(), T(2, 2)),
                                             S(P(3, 4), T(3, 4, dtype=I64, grad=False))], dtypes=FLOAT)
op("pow", variant="rpow", fn=lambda m, a, s: s ** a, samples=lambda: [S(T(3, 4), 2.0), S(T(3, 4), 3), S(T(), 0.5)],
   dtypes=(F32, F64, I64))
op("float_power", samples=lambda: [S(P(3, 4), 2), S(P(3, 4), T(3, 4))], dtypes=(F32, F64, I64),
   supports_grad=False)
op("neg", samples=unary_samples(), dtypes=FLOAT_INT, covers=("negative",))
op("positive", samples=unary_samples(), dtypes=FLOAT_INT)
op("abs", samples=unary_samples(), dtypes=FLOAT_INT, covers=("absolute",))


# ---------------------------------------------------------------------------------------------
# Unary math
def _unary(name, low=-2.0, high=2.0, dtypes=FLOAT_INT, **kw):
    op(name, samples=unary_samples(low, high), dtypes=dtypes, **kw)


for _n in ["exp", "exp2", "expm1", "sin", "cos", "atan", "sinh", "cosh", "tanh", "sigmoid", "erf", "erfc"]:
    _unary(_n, covers=("arctan",) if _n == "atan" else ())
for _n in ["log", "log2", "log10", "sqrt", "rsqrt", "reciprocal"]:
    _unary(_n, low=0.3, high=3.0)
_unary("log1p", low=-0.5, high=3.0)
_unary("tan", low=-1.2, high=1.2)
_unary("asin", low=-0.9, high=0.9, covers=("arcsin",))
_unary("acos", low=-0.9, high=0.9, covers=("arccos",))
_unary("square", dtypes=(F32, F64, I64))
_unary("relu", dtypes=(F32, F64, I64))
for _n in ["floor", "ceil", "round", "trunc", "frac", "sign"]:
    _unary(_n, low=-4.0, high=4.0, dtypes=(F32, F64) if _n == "frac" else FLOAT_INT,
           covers={"trunc": ("fix",), "sign": ("sgn",)}.get(_n, ()))
op("round", variant="decimals", fn=lambda m, x: m.round(x, decimals=2), samples=unary_samples(-4, 4))
op("deg2rad", samples=unary_samples(-90, 90))
op("rad2deg", samples=unary_samples())
op("atan2", samples=binary_samples(scalars=(), mixed=False), covers=("arctan2",))
op("hypot", samples=binary_samples(scalars=(), mixed=False))
op("logaddexp", samples=binary_samples(scalars=(), mixed=False))
op("copysign", samples=lambda: binary_samples(scalars=(), mixed=False)()[:5], supports_grad=False)
op("xlogy", samples=lambda: [S(T(3, 4), P(3, 4)), S(T(2, 3, data=[[0, 1, 2], [0, 3, -1]]), P(2, 3)),
                             S(T(2, 3), P(3)), S(T(3), 2.0)])
op("lerp", samples=lambda: [S(T(3, 4), T(3, 4), 0.3), S(T(3, 4), T(4), T(3, 1, low=0, high=1))])
op("addcmul", samples=lambda: [S(T(3, 4), T(3, 4), T(3, 4)), S(T(3, 4), T(4), T(3, 1), value=0.5)])
op("addcdiv", samples=lambda: [S(T(3, 4), T(3, 4), P(3, 4)), S(T(3, 4), T(4), P(3, 1), value=-2.0)])
op("fmax", samples=lambda: [S(T(3, 4), T(3, 4)), S(T(3, 4), T(4)),
                            S(T(4, data=[np.nan, 1, np.nan, 2]), T(4, data=[1, np.nan, np.nan, 3]))],
   supports_grad=False)
op("fmin", samples=lambda: [S(T(3, 4), T(3, 4)), S(T(3, 4), T(4)),
                            S(T(4, data=[np.nan, 1, np.nan, 2]), T(4, data=[1, np.nan, np.nan, 3]))],
   supports_grad=False)
op("maximum", samples=binary_samples(scalars=(), mixed=False), dtypes=FLOAT_INT)
op("minimum", samples=binary_samples(scalars=(), mixed=False), dtypes=FLOAT_INT)
op("maximum", variant="mixed", samples=lambda: [S(T(3, 4), T(3, 4, dtype=I64, grad=False))], dtypes=FLOAT)


def _clamp_samples():
    return [S(T(3, 4), -0.5, 0.5), S(T(3, 4), min=-0.5), S(T(3, 4), max=0.3), S(T(), -1.0, 1.0),
            S(T(4, 3, view="t"), -1.0, 1.0), S(T(3, 4), T(3, 4), T(3, 4, low=2, high=3)),
            S(T(3, 4), T(4, low=-1, high=0)), S(T(3, 4), None, T(3, 1, low=0, high=1)), S(T(0, 2), 0.0, 1.0)]


op("clamp", samples=_clamp_samples, covers=("clip",))
op("clamp", variant="int", samples=lambda: [S(T(3, 4), -1, 2), S(T(3, 4), -0.5, 1.5)], dtypes=(I64,))
op("clamp_min", samples=lambda: [S(T(3, 4), 0.2), S(T(3, 4), T(4))])
op("clamp_max", samples=lambda: [S(T(3, 4), 0.2), S(T(3, 4), T(4))])


def _where_samples():
    rng = np.random.default_rng(1)
    return [S(C(rng.random((3, 4)) < 0.5), T(3, 4), T(3, 4)),
            S(C(rng.random((3, 1)) < 0.5), T(1, 4), T(3, 1)),
            S(C(rng.random((3, 4)) < 0.5), T(3, 4), 0.0),
            S(C(rng.random((3, 4)) < 0.5), 1.5, T(4)),
            S(C(rng.random((2, 3)) < 0.5), T(2, 3, view="t"), T(2, 3, dtype=I64, grad=False)),
            S(C(np.array(True)), T(), T())]


op("where", samples=_where_samples, dtypes=FLOAT_INT)
op("where", variant="method", fn=lambda m, x, c, y: x.where(c, y),
   samples=lambda: [S(T(3, 4), C(np.random.default_rng(4).random((3, 4)) < 0.5), 0.0),
                    S(T(3, 4), C(np.random.default_rng(4).random((3, 1)) < 0.5), T(4))], dtypes=FLOAT_INT)
op("threshold_backward", fn=lambda m, g, x, th: (m.ops.aten.threshold_backward if m.__name__ == "torch"
                                                 else m.threshold_backward)(g, x, th),
   samples=lambda: [S(T(3, 4), T(3, 4, grad=False), 0.0), S(T(2, 5), T(2, 5, grad=False), 0.5)])


# ---------------------------------------------------------------------------------------------
# Comparisons, logic, predicates (no gradients)
def _cmp_samples():
    return [S(T(3, 4, low=-2, high=2), T(3, 4, low=-2, high=2)), S(T(3, 4, low=-2, high=2), T(4, low=-2, high=2)),
            S(T(3, 4, low=-2, high=2), 1), S(T(3, 4), 0.5), S(T(), T(2, 3)),
            S(T(3, 4), T(3, 4, dtype=I64)), S(T(3, 4, view="t"), T(4, view="s"))]


for _n, _al in [("eq", ()), ("ne", ("not_equal",)), ("lt", ("less",)), ("le", ("less_equal",)),
                ("gt", ("greater",)), ("ge", ("greater_equal",))]:
    op(_n, samples=_cmp_samples, dtypes=(F32, I64, BOOL), supports_grad=False, covers=_al)
op("eq", variant="operator", fn=lambda m, a, b: a == b, samples=_cmp_samples, dtypes=(F32, I64), supports_grad=False)
op("lt", variant="operator", fn=lambda m, a, b: a < b, samples=_cmp_samples, dtypes=(F32, I64), supports_grad=False)
op("equal", samples=lambda: [S(T(3, 4, data=np.ones((3, 4))), T(3, 4, data=np.ones((3, 4)))), S(T(3, 4), T(3, 4)),
                             S(T(3, 4), T(4))], dtypes=(F32, I64), supports_grad=False)
for _n in ["logical_and", "logical_or", "logical_xor"]:
    op(_n, samples=lambda: [S(T(3, 4), T(3, 4)), S(T(3, 4), T(4)), S(T(3, 4), T(3, 4, dtype=BOOL))],
       dtypes=(BOOL, F32, I64), supports_grad=False)
op("logical_not", samples=unary_samples(), dtypes=(BOOL, F32, I64), supports_grad=False)
for _n in ["bitwise_and", "bitwise_or", "bitwise_xor"]:
    op(_n, samples=lambda: [S(T(3, 4), T(3, 4)), S(T(3, 4), T(4)), S(T(3, 4), 3)], dtypes=(BOOL, I64, I32),
       supports_grad=False)
op("bitwise_not", samples=unary_samples(), dtypes=(BOOL, I64), supports_grad=False)
op("lshift", fn=lambda m, a, b: a << b, samples=lambda: [S(T(3, 4), 2), S(T(3, 4), T(4, low=0, high=3))],
   dtypes=(I64, I32), supports_grad=False)
op("rshift", fn=lambda m, a, b: a >> b, samples=lambda: [S(T(3, 4), 1), S(T(3, 4), T(4, low=0, high=3))],
   dtypes=(I64, I32), supports_grad=False)
op("bitwise_not", variant="invert", fn=lambda m, a: ~a, samples=unary_samples(), dtypes=(BOOL, I64),
   supports_grad=False)
_SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.5, -2.0]
for _n in ["isnan", "isinf", "isfinite", "isposinf", "isneginf", "signbit"]:
    op(_n, samples=lambda: [S(T(7, data=_SPECIAL)), S(T(3, 4)), S(T())], dtypes=FLOAT, supports_grad=False)
op("sign", variant="special", samples=lambda: [S(T(7, data=_SPECIAL))], supports_grad=False)
op("nan_to_num", samples=lambda: [S(T(7, data=_SPECIAL)), S(T(7, data=_SPECIAL), nan=1.0, posinf=9.0, neginf=-9.0)],
   dtypes=FLOAT, supports_grad=False)
op("isclose", samples=lambda: [S(T(3, 4), T(3, 4)), S(T(4, data=[1, 2, 3, np.nan]), T(4, data=[1, 2.1, 3, np.nan])),
                               S(T(4, data=[1, 2, 3, np.nan]), T(4, data=[1, 2.1, 3, np.nan]), equal_nan=True)],
   supports_grad=False)
op("allclose", samples=lambda: [S(T(3, 4), T(3, 4)), S(T(3, data=[1, 2, 3]), T(3, data=[1, 2, 3.000001]))],
   supports_grad=False)
op("heaviside", samples=lambda: [S(T(5, data=[-1, 0, 2, 0, -3]), T(5, data=[0.5, 0.5, 0.5, 2, 2]))],
   supports_grad=False)


def _complex(m, re, im):
    return m.complex(re, im)


op("real", fn=lambda m, x: m.real(x), samples=unary_samples(), supports_grad=False)
op("conj", fn=lambda m, x: m.conj(x), samples=unary_samples(), supports_grad=False)
op("imag", fn=lambda m, re, im: m.imag(_complex(m, re, im)), samples=lambda: [S(T(3, 4), T(3, 4))],
   supports_grad=False)


# ---------------------------------------------------------------------------------------------
# Shape ops
op("reshape", samples=lambda: [S(T(3, 4), (4, 3)), S(T(3, 4), (-1,)), S(T(2, 3, 4), (6, -1)), S(T(), (1, 1)),
                               S(T(1), ()), S(T(0, 3), (3, 0)), S(T(4, 3, view="t"), (12,)),
                               S(T(3, 6, view="s"), (18,))], dtypes=FLOAT_INT)
op("view", fn=lambda m, x, *s: x.view(*s),
   samples=lambda: [S(T(3, 4), 4, 3), S(T(3, 4), -1), S(T(2, 3, 4), (6, 4)), S(T(), 1), S(T(0, 3), -1, 3),
                    S(T(4, 3, view="t"), 4, 3)], dtypes=FLOAT_INT)
op("ravel", samples=lambda: [S(T(3, 4)), S(T()), S(T(4, 3, view="t"))], dtypes=FLOAT_INT)
op("flatten", samples=lambda: [S(T(2, 3, 4)), S(T(2, 3, 4), 1), S(T(2, 3, 4), 0, -2), S(T(2, 3, 4), -2, -1),
                               S(T()), S(T(4, 3, view="t"))], dtypes=FLOAT_INT)
op("unflatten", samples=lambda: [S(T(2, 12), 1, (3, 4)), S(T(6, 2), -2, (2, -1))])
op("squeeze", samples=lambda: [S(T(1, 3, 1, 4)), S(T(1, 3, 1, 4), 0), S(T(1, 3, 1, 4), -2), S(T(1, 3, 1, 4), 1),
                               S(T(1, 3, 1, 4), (0, 2)), S(T()), S(T(), 0), S(T(1, 4, view="t"))], dtypes=FLOAT_INT)
op("unsqueeze", samples=lambda: [S(T(3, 4), 0), S(T(3, 4), -1), S(T(3, 4), 1), S(T(), 0), S(T(4, 3, view="t"), 2)],
   dtypes=FLOAT_INT)
op("transpose", samples=lambda: [S(T(3, 4), 0, 1), S(T(2, 3, 4), -1, 0), S(T(2, 3, 4), 1, 1), S(T(), 0, -1)],
   dtypes=FLOAT_INT, covers=("swapaxes", "swapdims"))
op("t", samples=lambda: [S(T(3, 4)), S(T(4)), S(T()), S(T(4, 3, view="t"))], dtypes=FLOAT_INT)
op("permute", samples=lambda: [S(T(2, 3, 4), (2, 0, 1)), S(T(2, 3, 4), (-1, 1, 0)), S(T(), ()),
                               S(T(4, 3, view="t"), (1, 0))], dtypes=FLOAT_INT)
op("permute", variant="varargs", fn=lambda m, x, *d: x.permute(*d), samples=lambda: [S(T(2, 3, 4), 1, 2, 0)])
op("movedim", samples=lambda: [S(T(2, 3, 4), 0, -1), S(T(2, 3, 4), (0, 1), (2, 0))], covers=("moveaxis",))
op("expand", fn=lambda m, x, *s: x.expand(*s),
   samples=lambda: [S(T(3, 1), 3, 4), S(T(3, 1), -1, 5), S(T(4), 2, 3, 4), S(T(), 2, 2), S(T(3, 1, view="t"), 2, 3, 2),
                    S(T(3, 1), (2, 3, 4))], dtypes=FLOAT_INT)
op("broadcast_to", samples=lambda: [S(T(3, 1), (3, 4)), S(T(4), (2, 4))])
op("broadcast_tensors", samples=lambda: [S(T(3, 1), T(4)), S(T(), T(2, 3), T(3))])
op("broadcast_shapes", fn=lambda m, *s: m.broadcast_shapes(*s), samples=lambda: [S((3, 1), (4,)), S((2, 1, 3), (5, 1))],
   supports_grad=False, dtypes=(F32,))
op("sum_to_size", fn=lambda m, x, *s: x.sum_to_size(*s),
   samples=lambda: [S(T(3, 4), 1, 4), S(T(2, 3, 4), 3, 1), S(T(2, 3, 4), (4,)), S(T(3, 4), 3, 4)])
op("narrow", samples=lambda: [S(T(4, 5), 0, 1, 2), S(T(4, 5), -1, 2, 3), S(T(4, 5), 1, -3, 2), S(T(4, 5), 0, 0, 0),
                              S(T(4, 5, view="t"), 1, 1, 2)], dtypes=FLOAT_INT)
op("select", samples=lambda: [S(T(4, 5), 0, 1), S(T(4, 5), -1, -2), S(T(2, 3, 4), 1, 2), S(T(4, 5, view="s"), 1, 0)],
   dtypes=FLOAT_INT)
op("cat", fn=lambda m, ts, *a, **k: m.cat(ts, *a, **k),
   samples=lambda: [S([T(2, 3), T(4, 3)]), S([T(2, 3), T(2, 4)], 1), S([T(2, 3), T(2, 1), T(2, 2)], -1),
                    S([T(2, 3), T(0, 3)]), S([T(2, 3, view="t"), T(2, 3)], dim=0), S([T(2, 3)]),
                    S([T(2, 3), T(2, 3, dtype=I64, grad=False)]), S([T(0), T(2, 3)])],
   dtypes=FLOAT_INT, covers=("concat", "concatenate"))
op("stack", fn=lambda m, ts, *a: m.stack(ts, *a),
   samples=lambda: [S([T(2, 3), T(2, 3)]), S([T(2, 3), T(2, 3), T(2, 3)], 1), S([T(2, 3), T(2, 3, view="t")], -1),
                    S([T(), T()]), S([T(0, 2)], 0)], dtypes=FLOAT_INT)
op("hstack", fn=lambda m, ts: m.hstack(ts), samples=lambda: [S([T(2, 3), T(2, 1)]), S([T(3), T(2)]), S([T(), T(2)])])
op("vstack", fn=lambda m, ts: m.vstack(ts), samples=lambda: [S([T(2, 3), T(1, 3)]), S([T(3), T(3)])])
op("atleast_1d", samples=lambda: [S(T()), S(T(3)), S(T(2, 3))])
op("atleast_2d", samples=lambda: [S(T()), S(T(3)), S(T(2, 3))])
op("split", samples=lambda: [S(T(5, 3), 2), S(T(5, 3), [1, 4]), S(T(3, 5), 2, 1), S(T(3, 5), (2, 2, 1), -1),
                             S(T(4, 3), 4), S(T(0, 3), 2), S(T(3, 4, view="t"), 3)], dtypes=FLOAT_INT)
op("chunk", samples=lambda: [S(T(5, 3), 2), S(T(6, 3), 3), S(T(3, 5), 2, 1), S(T(3, 7), 3, -1), S(T(2, 3), 5)],
   dtypes=FLOAT_INT)
op("unbind", samples=lambda: [S(T(3, 4)), S(T(3, 4), 1), S(T(2, 3, 4), -1), S(T(4, 3, view="t"), 0)],
   dtypes=FLOAT_INT)
op("repeat", fn=lambda m, x, *r: x.repeat(*r),
   samples=lambda: [S(T(2, 3), 2, 2), S(T(3), 2, 3), S(T(2, 3), (1, 2, 1)), S(T(), 3), S(T(2, 3, view="t"), 2, 1)],
   dtypes=FLOAT_INT)
op("tile", samples=lambda: [S(T(2, 3), (2,)), S(T(2, 3), (2, 1, 2))])
op("flip", samples=lambda: [S(T(3, 4), (0,)), S(T(3, 4), (0, 1)), S(T(2, 3, 4), [-1]),
                            S(T(4, 3, view="t"), (1,))], dtypes=FLOAT_INT)
op("fliplr", samples=lambda: [S(T(3, 4)), S(T(2, 3, 4))])
op("flipud", samples=lambda: [S(T(3, 4)), S(T(3))])
op("roll", samples=lambda: [S(T(3, 4), 1), S(T(3, 4), -2, 1), S(T(3, 4), (1, 2), (0, 1)), S(T(3, 4), [1, -1], [1, 0]),
                            S(T(4, 3, view="t"), 5, 0)], dtypes=FLOAT_INT)
op("clone", samples=unary_samples(), dtypes=FLOAT_INT)
op("to", fn=lambda m, x, dt: x.to(getattr(m, dt)), dtypes=FLOAT_INT,
   samples=lambda: [S(T(3, 4), "float64"), S(T(3, 4), "float32"), S(T(), "float16"), S(T(2, 3), "int64"),
                    S(T(4, 3, view="t"), "float64")], rtol=1e-3, atol=1e-3,
   gradcheck=False)  # finite differences through a cast to float32/float16 are too coarse
op("contiguous", fn=lambda m, x: x.contiguous(), samples=unary_samples(), dtypes=FLOAT_INT)
op("diag_embed", samples=lambda: [S(T(3)), S(T(2, 3))])


# ---------------------------------------------------------------------------------------------
# Indexing
_IDX = np.array([2, 0, 2, 1])


def _getitem(m, x, idx):
    return x[idx]


def _setitem(m, x, idx, v):
    y = x.clone()
    y[idx] = v
    return y


def _idx_samples():
    rng = np.random.default_rng(2)
    mask = rng.random((3, 4)) < 0.5
    return [
        S(T(3, 4), 1), S(T(3, 4), -1), S(T(3, 4), (1, 2)), S(T(3, 4), slice(1, 3)), S(T(5, 4), slice(None, None, 2)),
        S(T(3, 4), (slice(None), slice(1, None, 2))), S(T(3, 4), (None, 1)), S(T(2, 3, 4), (Ellipsis, 1)),
        S(T(2, 3, 4), (0, Ellipsis, None)), S(T(3, 4), (slice(-2, None), -1)), S(T(4, 3, view="t"), (slice(1, 3), 0)),
        S(T(), ()), S(T(), None), S(T(), Ellipsis),
        # advanced
        S(T(3, 4), C(_IDX[:3])), S(T(3, 4), C(_IDX)), S(T(3, 4), [0, 2]), S(T(3, 4), (slice(None), C(_IDX))),
        S(T(3, 4), (C([0, 1, 2]), C([3, 2, 1]))), S(T(3, 4), (C([[0], [2]]), C([[1, 3]]))),
        S(T(3, 4), C(mask)), S(T(3, 4), C(mask[:, 0])), S(T(2, 3, 4), (Ellipsis, C([0, 3]))),
        S(T(2, 3, 4), (slice(None), C([1, 1]), slice(1, 3))), S(T(3, 4), C(np.zeros((3, 4), bool))),
        S(T(3, 4), C(np.array(1))), S(T(3, 4), [[0, 1], [1, 2]]), S(T(3, 4), []), S(T(3, 4), (slice(None), [0, 0, 3])),
        S(T(3, 4), True), S(T(3, 4), False), S(T(3, 4), (1, True)), S(T(3, 4), C(np.array([-1, 0]))),
        S(T(3, 4), (C([0, 1]), C([[2], [3]]))), S(T(3, 4), (slice(5, 10),)),
    ]


op("getitem", fn=_getitem, samples=_idx_samples, dtypes=(F32, F64, I64))


def _setitem_samples():
    rng = np.random.default_rng(3)
    mask = rng.random((3, 4)) < 0.5
    return [S(T(3, 4), 1, T(4)), S(T(3, 4), (slice(None), 1), 2.5), S(T(3, 4), slice(0, 2), T(2, 4)),
            S(T(3, 4), (slice(None), slice(1, 3)), T(1, 2)), S(T(3, 4), C([0, 2]), T(4)),
            S(T(3, 4), C(mask), 0.0), S(T(3, 4), (C([0, 1]), C([2, 3])), T(2)), S(T(3, 4), Ellipsis, T(3, 4)),
            S(T(3, 4), (1, 2), T()), S(T(3, 4), [[0, 1], [1, 2]], T(2)), S(T(3, 4), C(mask), T(int(mask.sum()))),
            S(T(3, 4), (slice(None), C([3, 0])), T(3, 1)), S(T(4, 3, view="t"), (0, slice(1, 3)), T(2))]


op("setitem", fn=_setitem, samples=_setitem_samples, dtypes=(F32, F64, I64))


# ---------------------------------------------------------------------------------------------
# Reductions
op("sum", samples=lambda: reduction_samples()() + [S(T(2, 3), (), True)],
   dtypes=(F32, F64, I64, I32, BOOL))
op("sum", variant="dtype", fn=lambda m, x, dt: x.sum(1, dtype=getattr(m, dt)),
   samples=lambda: [S(T(2, 3), "float64"), S(T(2, 3), "float32")], dtypes=(F32, I64), supports_grad=False)
op("nansum", samples=lambda: [S(T(3, 4)), S(T(4, data=[1, np.nan, 2, 3])), S(T(2, 3), 1)], supports_grad=False)
op("mean", samples=reduction_samples(), dtypes=FLOAT)
op("mean", variant="dtype", fn=lambda m, x: m.mean(x, dtype=m.float64), samples=lambda: [S(T(3, 4))],
   dtypes=(F32, I64))
op("nanmean", samples=lambda: [S(T(3, 4)), S(T(4, data=[1, np.nan, 2, 3])), S(T(2, 3), 1)], supports_grad=False)


def _var_samples():
    return [S(T(3, 4)), S(T(2, 3, 4), 1), S(T(2, 3, 4), -1, keepdim=True), S(T(2, 3, 4), (0, 2)),
            S(T(3, 4), 1, unbiased=False), S(T(3, 4), 0, correction=0), S(T(3, 4), None, correction=2),
            S(T(4, 3, view="t"), 0), S(T(3, 4), False)]


op("var", samples=_var_samples)
op("std", samples=_var_samples)
# dim=() reduces every dim; PyTorch's own gradient for it is inf (a PyTorch bug), so forward only.
op("var", variant="dim-empty", samples=lambda: [S(T(3, 4), ()), S(T(3, 4), [], keepdim=True)], supports_grad=False)
op("std", variant="dim-empty", samples=lambda: [S(T(3, 4), ()), S(T(3, 4), [], keepdim=True)], supports_grad=False)
op("var_mean", samples=lambda: _var_samples()[:6])
op("std_mean", samples=lambda: _var_samples()[:6])


def _ext_samples():
    # distinct values: the gradient of max/min at ties is a convention, tested separately
    return [S(T(3, 4)), S(T(2, 3, 4), 1), S(T(2, 3, 4), -1, True), S(T(4, 3, view="t"), 0), S(T(), 0),
            S(T(3, 5, view="s"), dim=1, keepdim=True)]


op("max", samples=_ext_samples, dtypes=FLOAT_INT)
op("min", samples=_ext_samples, dtypes=FLOAT_INT)
_NAN4 = [1.0, np.nan, 2.0, np.nan]
op("max", variant="nan", dtypes=FLOAT,
   samples=lambda: [S(T(4, data=_NAN4), 0), S(T(4, data=_NAN4)), S(T(2, 2, data=[_NAN4[:2]] * 2))])
op("min", variant="nan", dtypes=FLOAT,
   samples=lambda: [S(T(4, data=_NAN4), 0), S(T(4, data=_NAN4)), S(T(2, 2, data=[_NAN4[:2]] * 2), 1)])
op("max", variant="ties", samples=lambda: [S(T(2, 3, data=[[1, 3, 3], [2, 2, 0]]))], dtypes=FLOAT)
op("max", variant="binary", samples=lambda: [S(T(3, 4), T(4))], dtypes=FLOAT)


def _amax_samples():
    return [S(T(3, 4)), S(T(2, 3, 4), 1), S(T(2, 3, 4), (0, 2)), S(T(2, 3, 4), -1, True), S(T()),
            S(T(4, 3, view="t"), 0), S(T(2, 3, data=[[1, 3, 3], [2, 2, 0]]), 1)]


op("amax", samples=_amax_samples, dtypes=FLOAT_INT)
op("amin", samples=_amax_samples, dtypes=FLOAT_INT)
op("aminmax", samples=lambda: [S(T(3, 4)), S(T(3, 4), dim=1), S(T(3, 4), dim=0, keepdim=True)],
   dtypes=FLOAT_INT, supports_grad=False)
op("argmax", samples=lambda: [S(T(3, 4)), S(T(2, 3, 4), 1), S(T(2, 3, 4), -1, True), S(T()), S(T(3, 4), keepdim=True),
                              S(T(4, 3, view="t"), 0)], dtypes=FLOAT_INT, supports_grad=False)
op("argmin", samples=lambda: [S(T(3, 4)), S(T(2, 3, 4), 1), S(T(2, 3, 4), -1, True), S(T()), S(T(3, 4), keepdim=True),
                              S(T(4, 3, view="t"), 0)], dtypes=FLOAT_INT, supports_grad=False)


def _prod_samples():
    return [S(T(3, 4, low=0.5, high=1.5)), S(T(2, 3, 4, low=0.5, high=1.5), 1), S(T(2, 3, 4), -1, True),
            S(T(4, 3, view="t"), 0), S(T(), 0), S(T(0, 3), 1), S(T()),
            S(T(2, 3, data=[[1.5, 0.0, 2.0], [0.0, 0.0, 3.0]]), 1),        # one zero / two zeros in a row
            S(T(2, 3, data=[[1.5, 0.0, 2.0], [0.5, 2.0, 3.0]])),           # one zero overall
            S(T(2, 3, data=[[1.5, 0.0, 2.0], [0.0, 2.0, 3.0]])),           # two zeros overall
            S(T(2, 3, data=[[1.5, 0.0, 2.0], [0.0, 0.5, 3.0]]), 0, True)]


op("prod", samples=_prod_samples, dtypes=FLOAT_INT)
op("logsumexp", samples=lambda: [S(T(3, 4), 1), S(T(2, 3, 4), (0, 2)), S(T(2, 3, 4), -1, True), S(T(), 0),
                                 S(T(4, 3, view="t"), 0), S(T(2, data=[1000.0, 1000.0]), 0),
                                 S(T(3, data=[-np.inf, 0.0, 1.0]), 0)], dtypes=FLOAT)


def _norm_samples():
    return [S(T(3, 4)), S(T(3, 4), 1), S(T(3, 4), 3, 1), S(T(3, 4), float("inf")), S(T(3, 4), 2, -1, True),
            S(T(2, 3, 4), "fro", (1, 2)), S(T(3, 4, view="t"), 1.5), S(T(3, 4), 0)]


op("norm", samples=_norm_samples)
op("norm", variant="method", fn=lambda m, x, *a, **k: x.norm(*a, **k), samples=lambda: [S(T(3, 4)), S(T(3, 4), dim=1)])
op("dist", samples=lambda: [S(T(3, 4), T(3, 4)), S(T(3, 4), T(4), 1), S(T(3, 4), T(3, 4), 3)])
op("all", samples=lambda: [S(T(3, 4)), S(T(3, 4), 1), S(T(3, 4), 0, True), S(T(0, 3)), S(T())],
   dtypes=(BOOL, F32, I64), supports_grad=False)
op("any", samples=lambda: [S(T(3, 4)), S(T(3, 4), 1), S(T(3, 4), 0, True), S(T(0, 3)), S(T())],
   dtypes=(BOOL, F32, I64), supports_grad=False)
op("count_nonzero", samples=lambda: [S(T(3, 4)), S(T(3, 4), 1), S(T(3, 4), (0, 1))], dtypes=(BOOL, F32, I64),
   supports_grad=False)
op("cumsum", samples=lambda: [S(T(3, 4), 0), S(T(3, 4), -1), S(T(2, 3, 4), 1), S(T(), 0), S(T(4, 3, view="t"), 1)],
   dtypes=FLOAT_INT)
op("cumsum", variant="dtype", fn=lambda m, x: m.cumsum(x, 0, dtype=m.float64), samples=lambda: [S(T(3, 4))],
   dtypes=(F32, I64))


# ---------------------------------------------------------------------------------------------
# Linear algebra
def _matmul_samples():
    return [S(T(3), T(3)), S(T(2, 3), T(3, 4)), S(T(2, 3), T(3)), S(T(3), T(3, 4)), S(T(2, 2, 3), T(3)),
            S(T(3), T(2, 3, 4)), S(T(2, 2, 3), T(2, 3, 4)), S(T(2, 2, 3), T(3, 4)), S(T(2, 3), T(2, 3, 4)),
            S(T(2, 1, 2, 3), T(4, 3, 2)), S(T(2, 3, view="t"), T(3, 4, view="t")), S(T(2, 3, view="s"), T(3, 2)),
            S(T(0, 3), T(3, 2)), S(T(2, 0), T(0, 3))]


op("matmul", samples=_matmul_samples)
op("matmul", variant="operator", fn=lambda m, a, b: a @ b, samples=lambda: _matmul_samples()[:6], dtypes=(F32, I64))
op("mm", samples=lambda: [S(T(2, 3), T(3, 4)), S(T(2, 3, view="t"), T(3, 4)), S(T(2, 3), T(3, 0, view="t"))])
op("bmm", samples=lambda: [S(T(2, 2, 3), T(2, 3, 4)), S(T(2, 2, 3, view="t"), T(2, 3, 4))])
op("mv", samples=lambda: [S(T(2, 3), T(3)), S(T(2, 3, view="t"), T(3, view="s"))])
op("dot", samples=lambda: [S(T(3), T(3)), S(T(3, view="s"), T(3)), S(T(0), T(0))], dtypes=(F32, F64, I64),
   covers=("vdot",))
op("vdot", samples=lambda: [S(T(3), T(3))])
op("inner", samples=lambda: [S(T(3), T(3)), S(T(2, 3), T(4, 3)), S(T(), T(2, 3)), S(T(2, 3), T(3))])
op("outer", samples=lambda: [S(T(3), T(4)), S(T(3, view="s"), T(2))], covers=("ger",))
op("addmm", samples=lambda: [S(T(2, 4), T(2, 3), T(3, 4)), S(T(4), T(2, 3), T(3, 4)), S(T(), T(2, 3), T(3, 4)),
                             S(T(2, 4), T(2, 3), T(3, 4), beta=0.5, alpha=2.0),
                             S(T(2, 1), T(2, 3, view="t"), T(3, 4), beta=0)])
op("addmv", samples=lambda: [S(T(2), T(2, 3), T(3)), S(T(), T(2, 3), T(3), beta=0.5, alpha=2.0)])
op("baddbmm", samples=lambda: [S(T(2, 2, 4), T(2, 2, 3), T(2, 3, 4)), S(T(4), T(2, 2, 3), T(2, 3, 4), alpha=0.5)])
def _linear(m, *a):
    return (m.linear if m.__name__ == "ember" else m.nn.functional.linear)(*a)


op("linear", fn=_linear, samples=lambda: [S(T(2, 3), T(4, 3)), S(T(2, 3), T(4, 3), T(4)), S(T(3), T(4, 3), T(4)),
                              S(T(2, 5, 3), T(4, 3), T(4)), S(T(2, 3, view="t"), T(4, 3, view="t"), T(4)),
                              S(T(3), T(1, 3), T(1)), S(T(0, 3), T(4, 3), T(4))])
op("einsum", fn=lambda m, eq, *ts: m.einsum(eq, *ts),
   samples=lambda: [S("ij,jk->ik", T(2, 3), T(3, 4)), S("bij,bjk->bik", T(2, 2, 3), T(2, 3, 4)),
                    S("i,j->ij", T(3), T(2)), S("ij->ji", T(2, 3)), S("ij,ij->i", T(2, 3), T(2, 3))])
op("einsum", variant="nograd", fn=lambda m, eq, *ts: m.einsum(eq, *ts),
   samples=lambda: [S("ii->i", T(3, 3)), S("...ij,...jk->...ik", T(2, 2, 3), T(2, 3, 4)), S("ij", T(2, 3))],
   supports_grad=False)
op("tensordot", samples=lambda: [S(T(2, 3, 4), T(3, 4, 5)), S(T(2, 3, 4), T(4, 3, 5), dims=([1, 2], [1, 0])),
                                 S(T(2, 3), T(3, 4), dims=1)])


# ---------------------------------------------------------------------------------------------
# In-place forms (ops/inplace.py): applied to a non-leaf copy, so autograd rebases it onto the op.
def _inplace(method):
    def fn(m, x, *args, **kwargs):
        y = x * 1
        r = getattr(y, method)(*args, **kwargs)
        assert r is y
        return y
    return fn


def _iop(m, x, y):
    z = x * 1
    z += y
    z *= y
    return z


for _n, _s in [
    ("add_", lambda: [S(T(3, 4), T(3, 4)), S(T(3, 4), T(4)), S(T(3, 4), 2.5), S(T(3, 4), T(4), alpha=-2),
                      S(T(), T()), S(T(4, 3, view="t"), T(3, view="s"))]),
    ("sub_", lambda: [S(T(3, 4), T(3, 4)), S(T(3, 4), 1.5), S(T(3, 4), T(3, 1), alpha=3)]),
    ("mul_", lambda: [S(T(3, 4), T(3, 4)), S(T(3, 4), T(4)), S(T(3, 4), -2.0), S(T(3, 4), T(3, 4, dtype=I64))]),
    ("div_", lambda: [S(T(3, 4), P(3, 4)), S(T(3, 4), P(4)), S(T(3, 4), 4.0)]),
    ("pow_", lambda: [S(P(3, 4), 2), S(P(3, 4), 0.5), S(P(3, 4), T(3, 4))]),
    ("clamp_", lambda: [S(T(3, 4), -0.5, 0.5), S(T(3, 4), min=0.0)]),
    ("exp_", lambda: [S(T(3, 4))]), ("sigmoid_", lambda: [S(T(3, 4))]), ("tanh_", lambda: [S(T(3, 4))]),
    ("relu_", lambda: [S(T(3, 4))]), ("neg_", lambda: [S(T(3, 4))]), ("abs_", lambda: [S(T(3, 4))]),
    ("sqrt_", lambda: [S(P(3, 4))]), ("log_", lambda: [S(P(3, 4))]), ("sin_", lambda: [S(T(3, 4))]),
    ("lerp_", lambda: [S(T(3, 4), T(3, 4), 0.25)]), ("addcmul_", lambda: [S(T(3, 4), T(4), T(3, 1), value=2)]),
    ("addcdiv_", lambda: [S(T(3, 4), T(3, 4), P(3, 4))]),
    ("masked_fill_", lambda: [S(T(3, 4), C(np.random.default_rng(5).random((3, 4)) < 0.5), 0.5),
                              S(T(3, 4), C(np.array([True, False, True, False])), -1.0)]),
    ("copy_", lambda: [S(T(3, 4), T(3, 4)), S(T(3, 4), T(4)), S(T(3, 4), T(3, 4, dtype=F64))]),
    ("fill_", lambda: [S(T(3, 4), 1.5), S(T(3, 4), T())]),
    ("zero_", lambda: [S(T(3, 4))]),
]:
    op(_n, fn=_inplace(_n), samples=_s, variant="inplace")
op("iadd", fn=_iop, samples=lambda: [S(T(3, 4), T(3, 4)), S(T(3, 4), T(4)), S(T(3, 4), 2)], dtypes=FLOAT_INT)


# In-place ops on views: the base is rebased (PyTorch's CopySlices), other views regraphed (AsStrided).
def _view_inplace(m, x, b):
    y = x * 1
    y[0].mul_(2)
    y[:, 1].add_(b[:3])
    y.t()[2].sub_(b[0])
    y.view(-1)[5:9].mul_(b)
    return y


def _view_into_plain(m, x, b):
    h = m.zeros(3, 4, dtype=x.dtype)
    h[0].copy_(x[1])
    h[1] += b * 2
    h[2][1:3] = b[:2]
    return h


def _stale_views(m, x, b):
    y = x * 1
    v, w = y[0], y[:, 2]
    y.mul_(b)
    v2 = y[1]
    w.add_(1.0)
    return v * 1, w * 2, v2.exp(), y


op("inplace_view", fn=_view_inplace, samples=lambda: [S(T(3, 4), T(4)), S(T(3, 4), T(4, dtype=I64, grad=False))])
op("inplace_view", variant="plain-base", fn=_view_into_plain, samples=lambda: [S(T(3, 4), T(4))])
op("inplace_view", variant="stale", fn=_stale_views, samples=lambda: [S(T(3, 4), T(4))])


# Public names of the covered modules that have no entry of their own, and why.
EXCLUDED = {
}

OPS_BY_ID = {o.id: o for o in OPS}


def covered_names():
    names = set()
    for o in OPS:
        names.add(o.name)
        names.update(o.covers)
    return names
