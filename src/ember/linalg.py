"""``ember.linalg``: PyTorch's ``torch.linalg`` namespace.

The decompositions and their gradients live in ``ember.ops.decomp``; the functions defined here are
compositions of those ops (norms, rank, condition numbers, tensor solves), so their gradients follow.
"""
from __future__ import annotations

import math

from ._creation import diagonal as _diagonal
from .ops.decomp import _LEGACY, _check, _const, _rt
from .ops.decomp import LinAlgError, cholesky, det, eig, eigh, eigvals, eigvalsh, lstsq, lu, lu_factor, lu_factor_ex
from .ops.decomp import lu_solve, matrix_exp, matrix_power, pinv, slogdet, solve, solve_triangular, svdvals
from .ops.decomp import inverse
from .ops.decomp import inverse as inv
from .ops.decomp import linalg_cross as cross
from .ops.decomp import linalg_qr as qr
from .ops.decomp import linalg_svd as svd
from .ops.decomp import linalg_vander as vander
from .ops.elementwise import abs as _abs
from .ops.linalg import matmul
from .ops.reduce import amax, amin
from .ops.reduce import sum as _sum
from .ops.shape import narrow, squeeze, unsqueeze
from .ops._util import wrap_dim
from .backend import xp

__all__ = ["LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eig", "eigh", "eigvals",
           "eigvalsh", "inv", "inv_ex", "lstsq", "lu", "lu_factor", "lu_factor_ex", "lu_solve", "matmul", "matrix_exp",
           "matrix_norm", "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv", "qr", "slogdet", "solve",
           "solve_ex", "solve_triangular", "svd", "svdvals", "tensorinv", "tensorsolve", "vander", "vecdot",
           "vector_norm"]


def diagonal(A, *, offset: int = 0, dim1: int = -2, dim2: int = -1):
    """The diagonals of the matrices in A (…, m, n)."""
    return _diagonal(A, offset, dim1, dim2)


def vector_norm(x, ord=2, dim=None, keepdim: bool = False, *, dtype=None):
    from .ops.reduce import norm as _norm
    if dtype is not None:
        x = x.to(dtype)
    if x._data.dtype.kind not in "fc":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{_LEGACY.get(x.dtype.name, x.dtype.name)}")
    if isinstance(dim, int):
        dim = (dim,)
    return _norm(x, ord, dim, keepdim)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None):
    if dtype is not None:
        A = A.to(dtype)
    if A._data.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    d0, d1 = (wrap_dim(d, A._data.ndim) for d in dim)
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        from .ops.shape import movedim
        am = movedim(A, (d0, d1), (-2, -1))
        s = svdvals(am)
        r = s.sum(-1) if ord == "nuc" else (amax(s, -1) if ord == 2 else amin(s, -1))
        if keepdim:
            r = unsqueeze(unsqueeze(r, -1), -1)
            r = movedim(r, (-2, -1), (d0, d1))
        return r
    if ord in (1, -1, math.inf, -math.inf):
        sum_dim, red_dim = (d0, d1) if ord in (1, -1) else (d1, d0)
        t = _sum(_abs(A), sum_dim, keepdim=True)
        r = amax(t, red_dim, keepdim=True) if ord > 0 else amin(t, red_dim, keepdim=True)
        return r if keepdim else squeeze(squeeze(r, max(d0, d1)), min(d0, d1))
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


def norm(A, ord=None, dim=None, keepdim: bool = False, *, dtype=None):
    if dim is not None and not isinstance(dim, int) and len(dim) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if dim is None:
        if A._data.ndim == 2:
            return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
        if A._data.ndim != 1:
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got "
                               f"{A._data.ndim}D.")
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got {ord}" if A._data.ndim != 1 else
                           "linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    return vector_norm(A, ord, dim, keepdim, dtype=dtype)


def matrix_rank(A, *, atol=None, rtol=None, hermitian: bool = False, tol=None):
    _check(A, "linalg.matrix_rank", square=False)
    s = xp.linalg.svd(A._data, compute_uv=False)
    m, n = A._data.shape[-2:]
    smax = s[..., :1] if s.shape[-1] else xp.zeros(s.shape[:-1] + (1,), s.dtype)
    if tol is not None:
        atol = tol
    if atol is None and rtol is None:
        rtol = xp.finfo(A._data.dtype).eps * max(m, n)
    thr = xp.maximum(atol or 0.0, (rtol or 0.0) * smax)
    return _const((s > thr).sum(-1).astype(xp.int64))


def solve_ex(A, B, *, left: bool = True, check_errors: bool = False):
    ex_t = _rt("linalg_solve_ex", ["result", "info"])
    return ex_t(solve(A, B, left=left), _const(xp.zeros(A._data.shape[:-2], xp.int32)))


def cond(A, p=None):
    """The condition number of A in the p-norm (2-norm by default: σ_max / σ_min)."""
    if p is None or p in (2, -2):
        s = svdvals(A)
        r = narrow(s, -1, 0, 1) / narrow(s, -1, s._data.shape[-1] - 1, 1)
        r = squeeze(r, -1)
        return 1 / r if p == -2 else r
    _check(A, "linalg.cond")
    return matrix_norm(A, p) * matrix_norm(inverse(A), p)


def tensorinv(A, ind: int = 2):
    """The inverse of A seen as a linear map from its last dims to its first ``ind`` dims."""
    out_shape, in_shape = A._data.shape[:ind], A._data.shape[ind:]
    m, n = math.prod(out_shape), math.prod(in_shape)
    if m != n:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {n} != {m}")
    return inverse(A.reshape(m, n)).reshape(*in_shape, *out_shape)


def tensorsolve(A, B, dims=None):
    """X with tensordot(A, X, X.ndim) = B."""
    if dims is not None:
        from .ops.shape import movedim
        nd = A._data.ndim
        dims = [wrap_dim(d, nd) for d in dims]
        A = movedim(A, dims, list(range(nd - len(dims), nd)))
    x_shape = A._data.shape[B._data.ndim:]
    n = math.prod(x_shape)
    return solve(A.reshape(-1, n), B.reshape(-1)).reshape(*x_shape)


def multi_dot(tensors):
    out = tensors[0]
    for t in tensors[1:]:
        out = matmul(out, t)
    return out


def vecdot(x, y, *, dim: int = -1):
    return _sum(x * y, dim)


def inv_ex(A, *, check_errors: bool = False):
    inv_t = _rt("linalg_inv_ex", ["inverse", "info"])
    return inv_t(inverse(A), _const(xp.zeros(A._data.shape[:-2], xp.int32)))


def cholesky_ex(A, *, upper: bool = False, check_errors: bool = False):
    ex_t = _rt("linalg_cholesky_ex", ["L", "info"])
    return ex_t(cholesky(A, upper), _const(xp.zeros(A._data.shape[:-2], xp.int32)))
