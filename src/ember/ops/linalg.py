"""Matrix products: matmul and its named forms (mm, bmm, mv, dot, addmm, outer), and linear."""
from __future__ import annotations

from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import STATE
from ..backend import xp
from ..backend.kernels.gemm import matmul as _gemm
from ._util import promote
from .shape import squeeze, t, transpose, unsqueeze

__all__ = ["matmul", "mm", "bmm", "mv", "dot", "vdot", "inner", "addmm", "addmv", "outer", "ger", "linear",
           "baddbmm", "einsum", "tensordot"]


def _shape_str(a) -> str:
    return "x".join(map(str, a.shape))


class Mm(Function):
    """2-D x 2-D matrix product."""

    @staticmethod
    def forward(ctx, a, b):
        n = ctx.needs_input_grad
        if n:
            ctx.save_for_backward(a if n[1] else None, b if n[0] else None)
        return _gemm(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return (mm(g, t(b)) if b is not None else None), (mm(t(a), g) if a is not None else None)


class Bmm(Function):
    """Batched product of (…, n, k) and (…, k, m) with broadcast batch dims."""

    @staticmethod
    def forward(ctx, a, b):
        n = ctx.needs_input_grad
        if n:
            ctx.save_for_backward(a if n[1] else None, b if n[0] else None)
        return _gemm(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        # The engine sums broadcast batch dims back to each input's shape.
        ga = Bmm.apply(g, transpose(b, -1, -2)) if b is not None else None
        gb = Bmm.apply(transpose(a, -1, -2), g) if a is not None else None
        return ga, gb


class Dot(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return xp.asarray(xp.dot(a, b))

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g * b, g * a


# The C++ type names PyTorch's matmul kernels print.
_C_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int", "int32": "int",
            "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool"}


def _dtype_mismatch(a, b):
    return (f"expected m1 and m2 to have the same dtype, but got: {_C_NAMES.get(a.dtype.name, a.dtype.name)} != "
            f"{_C_NAMES.get(b.dtype.name, b.dtype.name)}")


def _check_float_match(a, b, name):
    if a._data.dtype != b._data.dtype:
        ta, tb = a.dtype._legacy[:-6], b.dtype._legacy[:-6]
        if name == "bmm":
            raise RuntimeError(f"expected scalar type {ta} but found {tb}")
        if name == "dot":
            raise RuntimeError(f"dot : expected both vectors to have same dtype, but found {ta} and {tb}")
        raise RuntimeError(_dtype_mismatch(a, b))


def mm(input, mat2, *, out=None):
    if input._data.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2._data.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if input._data.shape[1] != mat2._data.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_shape_str(input._data)} and "
                           f"{_shape_str(mat2._data)})")
    _check_float_match(input, mat2, "mm")
    return Mm.apply(input, mat2)


def bmm(input, mat2, *, out=None):
    if input._data.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2._data.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    a, b = input._data.shape, mat2._data.shape
    if a[0] != b[0] or a[2] != b[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{a[0]}, {a[2]}] but "
                           f"got: [{b[0]}, {b[1]}].")
    _check_float_match(input, mat2, "bmm")
    return Bmm.apply(input, mat2)


def dot(input, other, *, out=None):
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and {other._data.ndim}D tensors")
    if input._data.shape != other._data.shape:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{input._data.shape[0]}] and src "
                           f"[{other._data.shape[0]}] to have the same number of elements, but got "
                           f"{input._data.shape[0]} and {other._data.shape[0]} elements respectively")
    _check_float_match(input, other, "dot")
    return Dot.apply(input, other)


vdot = inner = None  # defined below


def mv(input, vec, *, out=None):
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input._data.ndim}, {vec._data.ndim}")
    if input._data.shape[1] != vec._data.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input._data.shape[0]}), mat ({_shape_str(input._data)}), "
                           f"vec ({vec._data.shape[0]})")
    _check_float_match(input, vec, "mv")
    return Mv.apply(input, vec)


class Mv(Function):
    """Matrix x vector (PyTorch's ``MvBackward0`` node)."""

    @staticmethod
    def forward(ctx, a, v):
        n = ctx.needs_input_grad
        if n:
            ctx.save_for_backward(a if n[1] else None, v if n[0] else None)
        return a @ v

    @staticmethod
    def backward(ctx, g):
        a, v = ctx.saved_tensors
        ga = unsqueeze(g, 1) * unsqueeze(v, 0) if v is not None else None
        gv = Mv.apply(t(a), g) if a is not None else None
        return ga, gv


def matmul(input, other, *, out=None):
    """PyTorch's matmul: 1-D operands are promoted to matrices and the added dim removed."""
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise TypeError(f"matmul(): argument 'other' must be Tensor, not "
                        f"{type(other if isinstance(input, Tensor) else input).__name__}")
    na, nb = input._data.ndim, other._data.ndim
    if na == 0 or nb == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {na}D and {nb}D")
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(_dtype_mismatch(input, other))
    ka = input._data.shape[-1]
    kb = other._data.shape[-2] if nb > 1 else other._data.shape[0]
    if ka != kb:
        sa = _shape_str(input._data) if na > 1 else f"1x{ka}"
        sb = _shape_str(other._data) if nb > 1 else f"{kb}x1"
        if na == 1 and nb == 1:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{ka}] and src [{kb}] to have the same "
                               f"number of elements, but got {ka} and {kb} elements respectively")
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({sa} and {sb})")
    if na == 1 and nb == 1:
        return Dot.apply(input, other)
    if na == 2 and nb == 2:
        return Mm.apply(input, other)
    if na == 2 and nb == 1:
        return mv(input, other)
    if na == 1:
        return squeeze(matmul(unsqueeze(input, 0), other), -2)
    if nb == 1:
        return squeeze(Bmm.apply(input, unsqueeze(other, -1)), -1)
    try:
        xp.broadcast_shapes(input._data.shape[:-2], other._data.shape[:-2])
    except ValueError:
        raise RuntimeError(f"The size of tensor a ({input._data.shape[-3]}) must match the size of tensor b "
                           f"({other._data.shape[-3]}) at non-singleton dimension 0") from None
    return Bmm.apply(input, other)


class Addmm(Function):
    """beta * input + alpha * (mat1 @ mat2); with input a bias row this is linear's fused op."""

    @staticmethod
    def forward(ctx, c, a, b, beta, alpha):
        n = ctx.needs_input_grad
        ctx.beta, ctx.alpha = beta, alpha
        if n:
            ctx.save_for_backward(a if n[2] else None, b if n[1] else None)
        out = _gemm(a, b)
        if alpha != 1:
            out *= alpha
        if beta != 0:
            out += c if beta == 1 else beta * c
        return out

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        n = ctx.needs_input_grad
        gs = g * ctx.alpha if ctx.alpha != 1 else g
        gc = (g if ctx.beta == 1 else g * ctx.beta) if n[0] else None
        return gc, (mm(gs, t(b)) if n[1] else None), (mm(t(a), gs) if n[2] else None), None, None


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    if mat1._data.ndim != 2 or mat2._data.ndim != 2:
        raise RuntimeError("mat1 must be a matrix, got " + f"{mat1._data.ndim}-D tensor")
    if mat1._data.shape[1] != mat2._data.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_shape_str(mat1._data)} and "
                           f"{_shape_str(mat2._data)})")
    return Addmm.apply(input, mat1, mat2, beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    return beta * input + alpha * mv(mat, vec)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    return beta * input + alpha * bmm(batch1, batch2)


def outer(input, vec2):
    return unsqueeze(input, 1) * unsqueeze(vec2, 0)


ger = outer


def _vdot(input, other):
    return dot(input, other)


def _inner(input, other):
    if input._data.ndim == 0 or other._data.ndim == 0:
        return input * other
    return matmul(input, other) if other._data.ndim == 1 else matmul(input, transpose(other, -1, -2))


vdot = _vdot
inner = _inner


# Linear's forward as (W @ x^T)^T for at most this many rows and weights of at least this many elements
# (2026-12-02, 2 cores Intel, one thread, float32 us: x @ W^T vs (W @ x^T)^T: 16x784 @ 784x256 130 -> 80,
# 16x256x256 41 -> 27, 64x4096x512 2709 -> 2149; but 100x400x120 86 -> 88 and 256x784x256 732 -> 801)
_SMALL_BATCH = 64
_SMALL_BATCH_WEIGHT = 1 << 16


class Linear(Function):
    """x @ W^T + b for x of any rank (…, in); the gradient of W is one GEMM over all leading dims."""
    node_name = "AddmmBackward0"

    @staticmethod
    def forward(ctx, x, w, b):
        n = ctx.needs_input_grad
        if n:
            ctx.save_for_backward(x if n[1] else None, w if n[0] else None)
        ctx.has_bias = b is not None
        if x.ndim == 2 and x.shape[0] <= _SMALL_BATCH and w.size >= _SMALL_BATCH_WEIGHT and x.dtype.kind == "f":
            # (W @ x^T)^T: with few rows OpenBLAS packs the whole weight per call, and packs W^T ~2x slower
            # than W; the transposed result is written out contiguous (with the bias) in one pass
            out_t = xp.matmul(w, x.T)
            out = xp.empty((x.shape[0], w.shape[0]), out_t.dtype)
            if b is not None:
                xp.add(out_t.T, b, out=out)
            else:
                out[...] = out_t.T
            return out
        out = _gemm(x, w.T)
        if b is not None:
            out += b
        return out

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        n = ctx.needs_input_grad
        if not STATE.enabled:
            return _linear_backward_fast(g._data, x, w, n)
        gx = matmul(g, w) if n[0] else None
        gw = gb = None
        if n[1]:
            g2 = g.reshape(-1, g._data.shape[-1])
            gw = mm(t(g2), x.reshape(-1, x._data.shape[-1]))
        if n[2] if len(n) > 2 else False:
            gb = g.sum_to_size(g._data.shape[-1:]) if g._data.ndim > 1 else g
        return gx, gw, gb


def _linear_backward_fast(g, x, w, n):
    """Linear's gradients on arrays (no graph is recorded): two GEMMs and a column sum."""
    make = Tensor._make
    gx = make(_gemm(g, w._data), False, None, 0) if n[0] else None
    gw = gb = None
    g2 = g.reshape(-1, g.shape[-1])
    if n[1]:
        x2 = x._data.reshape(-1, x._data.shape[-1])
        gw = make(_gemm(g2.T, x2), False, None, 0)
    if len(n) > 2 and n[2]:
        gb = make(g2.sum(0), False, None, 0)
    return gx, gw, gb


def linear(input, weight, bias=None):
    """input: (*, in_features), weight: (out_features, in_features), bias: (out_features,)."""
    if input._data.shape[-1:] != weight._data.shape[-1:] or weight._data.ndim != 2:
        sa = "x".join(map(str, input._data.shape[:-1] and (int(xp.prod(input._data.shape[:-1])),)
                          or (1,))) + f"x{input._data.shape[-1] if input._data.ndim else 1}"
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({sa} and "
                           f"{weight._data.shape[-1]}x{weight._data.shape[0]})")
    if input._data.dtype != weight._data.dtype:
        raise RuntimeError(_dtype_mismatch(input, weight))
    return Linear.apply(input, weight, bias)


def einsum(equation, *operands):
    """einsum composed from differentiable ops via a generic (slow but exact) path."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return Einsum.apply(equation, *operands)


class Einsum(Function):
    @staticmethod
    def forward(ctx, eq, *arrays):
        ctx.eq = eq.replace(" ", "")
        ctx.save_for_backward(*arrays)
        return xp.asarray(xp.einsum(ctx.eq, *arrays, optimize=True))

    @staticmethod
    def backward(ctx, g):
        ins = ctx.saved_tensors
        lhs, _, out_sub = ctx.eq.partition("->")
        subs = lhs.split(",")
        if not _ or "..." in ctx.eq:
            raise NotImplementedError("ember's einsum backward needs an explicit '->' output without '...'")
        grads = [None]
        for i, s in enumerate(subs):
            if not ctx.needs_input_grad[i + 1]:
                grads.append(None)
                continue
            others = [x for j, x in enumerate(ins) if j != i]
            other_subs = [x for j, x in enumerate(subs) if j != i]
            # Letters of s not present elsewhere are broadcast back by multiplying with ones.
            eq = ",".join([out_sub] + other_subs) + "->" + "".join(c for c in s if c in out_sub + "".join(other_subs))
            r = einsum(eq, g, *others)
            missing = [k for k, c in enumerate(s) if c not in out_sub + "".join(other_subs)]
            if missing or len(set(s)) != len(s):
                raise NotImplementedError("ember's einsum backward does not handle repeated or summed-out-only "
                                          "indices")
            grads.append(r)
        return tuple(grads)


def tensordot(a, b, dims=2):
    if isinstance(dims, int):
        da = list(range(a._data.ndim - dims, a._data.ndim))
        db = list(range(dims))
    else:
        da, db = [list(d) if not isinstance(d, int) else [d] for d in dims]
    fa = [d for d in range(a._data.ndim) if d not in da]
    fb = [d for d in range(b._data.ndim) if d not in db]
    import math
    pa = a.permute(*(fa + da)).reshape(math.prod(a._data.shape[d] for d in fa), -1)
    pb = b.permute(*(db + fb)).reshape(-1, math.prod(b._data.shape[d] for d in fb))
    return mm(pa, pb).reshape(*[a._data.shape[d] for d in fa], *[b._data.shape[d] for d in fb])


Tensor.__matmul__ = lambda self, other: matmul(self, other)
Tensor.__rmatmul__ = lambda self, other: matmul(other, self)
for _n in ["matmul", "mm", "bmm", "mv", "dot", "addmm", "outer", "ger", "inner", "vdot", "addmv", "baddbmm"]:
    setattr(Tensor, _n, globals()[_n])
del promote
