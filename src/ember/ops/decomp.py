"""Matrix decompositions and the functions built on them: inverse, det/slogdet/logdet, solve, lstsq,
eig/eigh, svd, qr, cholesky, pinverse, matrix norms and rank, cross, matrix_power.

All take batches (…, m, n). Forwards call NumPy's LAPACK-backed routines; backwards are written with
ember ops (matmul, solve, transposes, masks), so they can be differentiated again. ``ember.linalg``
exposes these under PyTorch's ``torch.linalg`` names.
"""
from __future__ import annotations

import math
from collections import namedtuple

from .._creation import diagonal, tril
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import STATE
from ..backend import xp
from ._util import wrap_dim
from .elementwise import where
from .linalg import matmul
from .reduce import sum as _sum
from .shape import cat, diag_embed, narrow, squeeze, transpose, unsqueeze

__all__ = ["inverse", "det", "logdet", "slogdet", "pinverse", "cross", "matrix_power", "svd", "qr", "cholesky",
           "cholesky_solve", "cholesky_inverse", "matrix_exp", "vander", "lu_unpack", "lu_solve"]


class LinAlgError(RuntimeError):
    """A numerical failure (singular matrix, not positive-definite): ``torch.linalg.LinAlgError``."""


def _rt(name, fields):
    cls = namedtuple(name, fields)
    cls.__module__ = "torch.return_types"
    return cls


_slogdet_t = _rt("linalg_slogdet", ["sign", "logabsdet"])
_lstsq_t = _rt("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])
_eig_t = _rt("linalg_eig", ["eigenvalues", "eigenvectors"])
_eigh_t = _rt("linalg_eigh", ["eigenvalues", "eigenvectors"])
_svd_t = _rt("linalg_svd", ["U", "S", "Vh"])
_tsvd_t = _rt("svd", ["U", "S", "V"])
_qr_t = _rt("linalg_qr", ["Q", "R"])

_LEGACY = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
           "float16": "Half"}


def _const(a) -> Tensor:
    return Tensor._make(a, False, None, 0)


def _mT(x: Tensor) -> Tensor:
    return transpose(x, -2, -1)


def _check(A, name, square=True, float_only=True):
    if not isinstance(A, Tensor):
        raise TypeError(f"{name}(): argument 'A' must be Tensor, not {type(A).__name__}")
    if A._data.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if float_only and A._data.dtype.kind not in "fc":
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got "
                           f"{_LEGACY.get(A.dtype.name, A.dtype.name)}")
    m, n = A._data.shape[-2:]
    if square and m != n:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are {m} by {n} matrices")
    if A._data.dtype.kind == "c" and A._requires_grad and STATE.enabled and name != "linalg.eig":
        # The backward formulas here are the real ones (transposes, not adjoints): refuse rather than
        # return a wrong gradient.
        raise NotImplementedError(f"ember's {name} does not support gradients of complex inputs")


def _eye_like(A: Tensor) -> Tensor:
    return _const(xp.eye(A._data.shape[-1], dtype=A._data.dtype))


# ---------------------------------------------------------------------------------------------
# inverse, det, slogdet, solve
class Inverse(Function):
    node_name = "LinalgInvExBackward0"

    @staticmethod
    def forward(ctx, a):
        try:
            out = xp.linalg.inv(a)
        except xp.linalg.LinAlgError:
            raise LinAlgError(f"linalg.inv: The diagonal element {_singular_pivot(a)} is zero, the inversion could "
                              "not be completed because the input matrix is singular.") from None
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        yt = _mT(y)
        return -matmul(matmul(yt, g), yt)


def _singular_pivot(a):
    """The 1-based index of the first zero pivot of an LU factorisation (LAPACK's info)."""
    m = xp.array(a.reshape(-1, *a.shape[-2:])[0], dtype=xp.float64)
    n = m.shape[0]
    for k in range(n):
        p = k + int(xp.argmax(xp.abs(m[k:, k])))
        if m[p, k] == 0:
            return k + 1
        m[[k, p]] = m[[p, k]]
        m[k + 1:] -= xp.outer(m[k + 1:, k] / m[k, k], m[k])
    return n


def inverse(input, *, out=None):
    """The inverse of each square matrix in input (…, n, n)."""
    _check(input, "linalg.inv")
    return Inverse.apply(input)


class Det(Function):
    node_name = "LinalgDetBackward0"

    @staticmethod
    def forward(ctx, a):
        out = xp.asarray(xp.linalg.det(a), dtype=a.dtype)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, d = ctx.saved_tensors
        if bool((d._data == 0).any()):
            # Singular: d det / dA = adj(A)^T, from the SVD (constant; not differentiable again).
            return _const(_adjugate_t(a._data) * g._data[..., None, None])
        return unsqueeze(unsqueeze(g * d, -1), -1) * _mT(inverse(a))


def _adjugate_t(a):
    u, s, vh = xp.linalg.svd(a)
    n = s.shape[-1]
    prods = xp.stack([xp.prod(xp.delete(s, i, axis=-1), axis=-1) for i in range(n)], -1)
    sign = xp.linalg.det(u) * xp.linalg.det(vh)
    adj = (xp.swapaxes(vh, -1, -2) * prods[..., None, :]) @ xp.swapaxes(u, -1, -2)  # V diag(prods) U^T
    return xp.swapaxes(adj * sign[..., None, None], -1, -2)


def det(input):
    """The determinant of each square matrix in input (…, n, n)."""
    _check(input, "linalg.det")
    return Det.apply(input)


class Slogdet(Function):
    node_name = "LinalgSlogdetBackward0"

    @staticmethod
    def forward(ctx, a):
        sign, logabs = xp.linalg.slogdet(a)
        sign, logabs = xp.asarray(sign, a.dtype), xp.asarray(logabs, a.dtype)
        ctx.save_for_backward(a)
        ctx.mark_non_differentiable(sign)
        return sign, logabs

    @staticmethod
    def backward(ctx, _gs, g):
        (a,) = ctx.saved_tensors
        return unsqueeze(unsqueeze(g, -1), -1) * _mT(inverse(a))


def slogdet(input):
    """(sign, log|det|) of each square matrix in input (…, n, n)."""
    _check(input, "linalg.slogdet")
    return _slogdet_t(*Slogdet.apply(input))


def logdet(input):
    """log(det(input)): NaN where the determinant is negative, -inf where it is 0."""
    _check(input, "linalg.slogdet")
    sign, logabs = Slogdet.apply(input)
    nan = _const(xp.asarray(xp.nan, input._data.dtype))
    return where(sign < 0, nan, logabs)


class Solve(Function):
    """X with A X = B for (…, n, n) A and (…, n, k) B (batch dims broadcast)."""
    node_name = "LinalgSolveExBackward0"

    @staticmethod
    def forward(ctx, a, b):
        try:
            x = xp.linalg.solve(a, b)
        except xp.linalg.LinAlgError:
            raise LinAlgError("torch.linalg.solve: The solver failed because the input matrix is singular.") \
                from None
        ctx.save_for_backward(a, x)
        return x

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved_tensors
        gb = Solve.apply(_mT(a), g)
        ga = -matmul(gb, _mT(x)) if ctx.needs_input_grad[0] else None
        return ga, gb


def solve(A, B, *, left: bool = True, out=None):
    """X with A X = B (left) or X A = B; B: (…, n, k) or a vector (…, n)."""
    _check(A, "linalg.solve")
    if not left:
        return _mT(solve(_mT(A), _mT(B)))
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                           f"{A.dtype.name.capitalize()} and B of type {B.dtype.name.capitalize()} instead")
    n = A._data.shape[-1]
    vector = B._data.ndim == 1 or (B._data.ndim == A._data.ndim - 1 and B._data.shape == A._data.shape[:-1])
    b = unsqueeze(B, -1) if vector else B
    if b._data.shape[-2] != n:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
                           f"({n}x{n} and {b._data.shape[-2]}x{b._data.shape[-1]})")
    x = Solve.apply(A, b)
    return squeeze(x, -1) if vector else x


def solve_triangular(A, B, *, upper: bool, left: bool = True, unitriangular: bool = False, out=None):
    """X with A X = B (or X A = B) using only A's upper or lower triangle (composite: the gradient of
    A is masked to that triangle)."""
    _check(A, "linalg.solve_triangular")
    if not left:
        return _mT(solve_triangular(_mT(A), _mT(B), upper=not upper, unitriangular=unitriangular))
    from .._creation import triu
    t = triu(A, 1 if unitriangular else 0) if upper else tril(A, -1 if unitriangular else 0)
    if unitriangular:
        t = t + _eye_like(A)
    return Solve.apply(t, B)


def _from_factor(L, upper):
    # As PyTorch's gradients do, the factor is used whole (A = L Lᵀ), not only its triangle.
    return matmul(_mT(L), L) if upper else matmul(L, _mT(L))


def cholesky_solve(B, L, upper: bool = False, *, out=None):
    """X with (L Lᵀ) X = B given the Cholesky factor L (or U with upper=True, A = Uᵀ U)."""
    _check(L, "linalg.cholesky_solve")
    return Solve.apply(_from_factor(L, upper), B)


def cholesky_inverse(L, upper: bool = False, *, out=None):
    """(L Lᵀ)⁻¹ given the Cholesky factor L (or U with upper=True)."""
    _check(L, "linalg.cholesky_inverse")
    return inverse(_from_factor(L, upper))


# ---------------------------------------------------------------------------------------------
# Least squares and the pseudo-inverse
class LstsqSolution(Function):
    """The minimum-norm least-squares solution X = A⁺ B; its gradient is that of A⁺ B (any shape,
    rank assumed locally constant, as PyTorch's)."""
    node_name = "LinalgLstsqBackward0"

    @staticmethod
    def forward(ctx, a, b, rcond):
        x = xp.linalg.pinv(a, rcond=rcond) @ b
        ctx.rcond = rcond
        ctx.save_for_backward(a, b)
        return x.astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        p = Pinv.apply(a, ctx.rcond, False)     # differentiable in a: double backward follows
        n_ = ctx.needs_input_grad
        ga = _pinv_grad(a, p, matmul(g, _mT(b))) if n_[0] else None
        gb = matmul(_mT(p), g) if n_[1] else None
        return ga, gb, None


def lstsq(A, B, rcond=None, *, driver=None):
    """PyTorch's linalg.lstsq: (solution, residuals, rank, singular_values) as the chosen LAPACK
    driver reports them (CPU default 'gelsy': rank only)."""
    _check(A, "torch.linalg.lstsq", square=False)
    if driver not in (None, "gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same dtype, but got "
                           f"input's dtype {A.dtype.name.capitalize()} and other's dtype "
                           f"{B.dtype.name.capitalize()}")
    driver = driver or "gelsy"
    m, n = A._data.shape[-2:]
    vector = B._data.ndim == A._data.ndim - 1
    b = unsqueeze(B, -1) if vector else B
    if b._data.shape[-2] != m:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    eps = xp.finfo(A._data.dtype).eps
    rc = eps * max(m, n) if rcond is None else rcond
    x = LstsqSolution.apply(A, b, rc)
    sol = squeeze(x, -1) if vector else x
    dt = A._data.dtype
    s = xp.linalg.svd(A._data, compute_uv=False)
    rank = (s > rc * s[..., :1]).sum(-1).astype(xp.int64) if s.shape[-1] else xp.zeros(s.shape[:-1], xp.int64)
    empty = _const(xp.zeros((0,), dt))
    rank_t = _const(rank) if driver != "gels" else _const(xp.zeros((0,), xp.int64))
    sv = svdvals(A) if driver in ("gelsd", "gelss") else empty
    res = empty
    if driver != "gelsy" and m > n and bool((rank == n).all()):
        r = matmul(A, x) - b
        res = _sum(r * r, -2)        # differentiable, as PyTorch's; (…, 1) for a vector B, as PyTorch's
    return _lstsq_t(sol, res, rank_t, sv)


class Pinv(Function):
    """Moore-Penrose pseudo-inverse P; its gradient (for constant rank) is
    −Pᵀ G Pᵀ + (I − A P) Gᵀ P Pᵀ + Pᵀ P Gᵀ (I − P A)."""
    node_name = "LinalgPinvBackward0"

    @staticmethod
    def forward(ctx, a, rcond, hermitian):
        p = xp.linalg.pinv(a, rcond=rcond, hermitian=hermitian).astype(a.dtype, copy=False)
        ctx.save_for_backward(a, p)
        return p

    @staticmethod
    def backward(ctx, g):
        a, p = ctx.saved_tensors
        return _pinv_grad(a, p, g), None, None


def _pinv_grad(a, p, g):
    pt, gt = _mT(p), _mT(g)
    im = _const(xp.eye(a._data.shape[-2], dtype=a._data.dtype))
    in_ = _const(xp.eye(a._data.shape[-1], dtype=a._data.dtype))
    return -matmul(matmul(pt, g), pt) + matmul(matmul(im - matmul(a, p), gt), matmul(p, pt)) \
        + matmul(matmul(matmul(pt, p), gt), in_ - matmul(p, a))


def pinv(A, *, atol=None, rtol=None, hermitian: bool = False, rcond=None):
    _check(A, "linalg.pinv", square=False)
    m, n = A._data.shape[-2:]
    if rcond is not None:
        rtol = rcond
    if atol is not None:
        smax = xp.linalg.svd(A._data, compute_uv=False)[..., :1].max() if A._data.size else 0.0
        r = max(atol / smax if smax else 0.0, rtol or 0.0)
    else:
        r = xp.finfo(A._data.dtype).eps * max(m, n) if rtol is None else rtol
    return Pinv.apply(A, r, hermitian)


def pinverse(input, rcond: float = 1e-15):
    return pinv(input, rcond=rcond)


# ---------------------------------------------------------------------------------------------
# LU with partial pivoting
def _lu_packed(a):
    """LAPACK getrf on a batch: the packed L\\U factors and the 1-based int32 row pivots."""
    m, n = a.shape[-2:]
    k = min(m, n)
    lu = a.reshape(-1, m, n).astype(a.dtype, copy=True)
    piv = xp.zeros((lu.shape[0], k), xp.int32)
    rows = xp.arange(lu.shape[0])
    for j in range(k):
        p = j + xp.argmax(xp.abs(lu[:, j:, j]), axis=1)
        piv[:, j] = p + 1
        top = lu[rows, j, :].copy()
        lu[rows, j, :] = lu[rows, p, :]
        lu[rows, p, :] = top
        pivot = lu[:, j, j]
        safe = xp.where(pivot != 0, pivot, 1)[:, None]
        lu[:, j + 1:, j] = xp.where((pivot != 0)[:, None], lu[:, j + 1:, j] / safe, lu[:, j + 1:, j])
        lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j:j + 1] * lu[:, j:j + 1, j + 1:]
    return lu.reshape(a.shape), piv.reshape(a.shape[:-2] + (k,))


def _perm_matrix(piv, m, dtype):
    """P with A = P L U from LAPACK's sequential row swaps."""
    flat = piv.reshape(-1, piv.shape[-1]) - 1
    perm = xp.tile(xp.arange(m), (flat.shape[0], 1))
    rows = xp.arange(flat.shape[0])
    for j in range(flat.shape[1]):
        pj = flat[:, j]
        tmp = perm[rows, j].copy()
        perm[rows, j] = perm[rows, pj]
        perm[rows, pj] = tmp
    p = xp.zeros((flat.shape[0], m, m), dtype)
    p[rows[:, None], perm, xp.arange(m)] = 1
    return p.reshape(piv.shape[:-1] + (m, m))


class LuFactor(Function):
    """Packed LU factors (L unit lower below the diagonal, U on and above it). Gradient (square A):
    gA = P L⁻ᵀ [tril(Lᵀ gL, −1) + triu(gU Uᵀ)] U⁻ᵀ with gL, gU the strict-lower / upper parts of g."""
    node_name = "LinalgLuFactorExBackward0"

    @staticmethod
    def forward(ctx, a):
        lu, piv = _lu_packed(a)
        ctx.piv = piv
        ctx.mark_non_differentiable(piv)
        ctx.save_for_backward(lu)
        return lu, piv

    @staticmethod
    def backward(ctx, g, _gp):
        (lu,) = ctx.saved_tensors
        return _lu_grad(lu, ctx.piv, tril(g, -1), _triu(g))


def _triu(x, k=0):
    from .._creation import triu
    return triu(x, k)


def _unpack(lu):
    m, n = lu._data.shape[-2:]
    k = min(m, n)
    low = tril(narrow(lu, -1, 0, k), -1) + _const(xp.eye(m, k, dtype=lu._data.dtype))
    up = _triu(narrow(lu, -2, 0, k))
    return low, up


def _lu_grad(lu, piv, gl, gu):
    m, n = lu._data.shape[-2:]
    if m != n:
        raise NotImplementedError("ember's LU backward supports square matrices only")
    low, up = _unpack(lu)
    p = _const(_perm_matrix(piv, m, lu._data.dtype))
    inner = tril(matmul(_mT(low), gl), -1) + _triu(matmul(gu, _mT(up)))
    x = Solve.apply(_mT(low), inner)                    # L⁻ᵀ inner
    return matmul(p, _mT(Solve.apply(up, _mT(x))))      # P (L⁻ᵀ inner) U⁻ᵀ


def lu_factor(A, *, pivot: bool = True):
    """(LU, pivots): packed factors of A = P L U and the 1-based int32 pivots."""
    _check(A, "linalg.lu_factor", square=False)
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    return _rt("linalg_lu_factor", ["LU", "pivots"])(*LuFactor.apply(A))


def lu_factor_ex(A, *, pivot: bool = True, check_errors: bool = False):
    lu, piv = lu_factor(A, pivot=pivot)
    info = _const(xp.zeros(A._data.shape[:-2], xp.int32))
    return _rt("linalg_lu_factor_ex", ["LU", "pivots", "info"])(lu, piv, info)


def lu_unpack(LU_data, LU_pivots, unpack_data: bool = True, unpack_pivots: bool = True):
    """(P, L, U) from packed LU factors and pivots."""
    low, up = _unpack(LU_data)
    p = _const(_perm_matrix(LU_pivots._data, LU_data._data.shape[-2], LU_data._data.dtype))
    return _rt("lu_unpack", ["P", "L", "U"])(p, low, up)


def lu(A, *, pivot: bool = True):
    """(P, L, U) with A = P L U."""
    _check(A, "linalg.lu", square=False)
    packed, piv = lu_factor(A, pivot=pivot)
    p, low, up = lu_unpack(packed, piv)
    return _rt("linalg_lu", ["P", "L", "U"])(p, low, up)


def lu_solve(LU, pivots, B, *, left: bool = True, adjoint: bool = False, out=None):
    """X with A X = B (or X A = B; Aᵀ with adjoint) for A given by its packed LU factors; composite,
    so gradients reach both LU and B."""
    p, low, up = lu_unpack(LU, pivots)
    a = matmul(matmul(p, low), up)
    if adjoint:
        a = _mT(a)
    return solve(a, B, left=left)


# ---------------------------------------------------------------------------------------------
# Eigen-decompositions
class Eigh(Function):
    """Eigenvalues (ascending) and orthonormal eigenvectors of symmetric matrices; gradient
    V (diag(gL) + F ∘ Vᵀ gV) Vᵀ with F_ij = 1 / (λ_j − λ_i), symmetrised."""
    node_name = "LinalgEighBackward0"

    @staticmethod
    def forward(ctx, a, uplo):
        w, v = xp.linalg.eigh(a, UPLO=uplo)
        ctx.save_for_backward(w, v)
        return w, v

    @staticmethod
    def backward(ctx, gl, gv):
        w, v = ctx.saved_tensors
        vt = _mT(v)
        inner = diag_embed(gl) if gl is not None else None
        if gv is not None:
            n = w._data.shape[-1]
            off = _const(~xp.eye(n, dtype=bool))
            e = unsqueeze(w, -2) - unsqueeze(w, -1)              # e[i, j] = λ_j − λ_i
            one = _const(xp.ones((), w._data.dtype))
            f = where(off, 1 / where(off, e, one), _const(xp.zeros((), w._data.dtype)))
            t = f * matmul(vt, gv)
            inner = t if inner is None else inner + t
        if inner is None:
            return None, None
        ga = matmul(matmul(v, inner), vt)
        return (ga + _mT(ga)) * 0.5, None


def eigh(A, UPLO: str = "L"):
    _check(A, "linalg.eigh")
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return _eigh_t(*Eigh.apply(A, UPLO))


def eigvalsh(A, UPLO: str = "L"):
    return eigh(A, UPLO).eigenvalues


def _complex_dtype(dt):
    return xp.complex64 if dt in (xp.float32, xp.complex64, xp.float16) else xp.complex128


class Eig(Function):
    """Complex eigenvalues and eigenvectors; the outputs join the graph but have no backward yet."""
    node_name = "LinalgEigBackward0"

    @staticmethod
    def forward(ctx, a):
        w, v = xp.linalg.eig(a)
        dt = _complex_dtype(a.dtype)
        return w.astype(dt), v.astype(dt)

    @staticmethod
    def backward(ctx, gw, gv):
        raise NotImplementedError("ember's linalg.eig has no backward; for symmetric input use linalg.eigh")


def eig(A):
    """Complex eigenvalues and eigenvectors of square matrices (forward only)."""
    _check(A, "linalg.eig")
    return _eig_t(*Eig.apply(A))


def eigvals(A):
    _check(A, "linalg.eigvals")
    return _const(xp.linalg.eigvals(A._data).astype(_complex_dtype(A._data.dtype)))


# ---------------------------------------------------------------------------------------------
# SVD, QR, Cholesky
class Svd(Function):
    """Reduced SVD A = U diag(S) Vh. Gradient (real case), with E_jk = S_k² − S_j² (off-diagonal):
    gA = U [ (skew(Uᵀ gU) / E) S + S (skew(Vᵀ gV) / E) + diag(gS) ] Vh
         + (I − U Uᵀ) gU S⁻¹ Vh + U S⁻¹ gVᵀ (I − V Vh)."""
    node_name = "LinalgSvdBackward0"

    @staticmethod
    def forward(ctx, a):
        u, s, vh = xp.linalg.svd(a, full_matrices=False)
        ctx.save_for_backward(a, u, s, vh)
        return u, s, vh

    @staticmethod
    def backward(ctx, gu, gs, gvh):
        a, u, s, vh = ctx.saved_tensors
        return _svd_grad(a, u, s, vh, gu, gs, gvh)


def _svd_grad(a, u, s, vh, gu, gs, gvh):
    if gu is None and gvh is None:
        return matmul(u * unsqueeze(gs, -2), vh) if gs is not None else None
    m, n = a._data.shape[-2:]
    k = s._data.shape[-1]
    dt = s._data.dtype
    v = _mT(vh)
    ut, zero = _mT(u), _const(xp.zeros((), dt))
    off = _const(~xp.eye(k, dtype=bool))
    s2 = s * s
    e = unsqueeze(s2, -2) - unsqueeze(s2, -1)            # e[j, l] = S_l² − S_j²
    one = _const(xp.ones((), dt))
    f = where(off, 1 / where(off, e, one), zero)
    inner = diag_embed(gs) if gs is not None else None
    sr = unsqueeze(s, -2)                                  # scales columns
    sc = unsqueeze(s, -1)                                  # scales rows
    ga_extra = None
    if gu is not None:
        uthu = matmul(ut, gu)
        j = (f * (uthu - _mT(uthu))) * sr
        inner = j if inner is None else inner + j
        if m > k:
            proj = gu - matmul(u, uthu)
            ga_extra = matmul(proj / sr, vh)
    if gvh is not None:
        gv = _mT(gvh)
        vtgv = matmul(vh, gv)
        j = sc * (f * (vtgv - _mT(vtgv)))
        inner = j if inner is None else inner + j
        if n > k:
            proj = gv - matmul(v, vtgv)
            t = matmul(u / sr, _mT(proj))
            ga_extra = t if ga_extra is None else ga_extra + t
    ga = matmul(matmul(u, inner), vh)
    return ga if ga_extra is None else ga + ga_extra


def linalg_svd(A, full_matrices: bool = True, *, driver=None):
    """(U, S, Vh) with A = U diag(S) Vh; S descending."""
    _check(A, "linalg.svd", square=False)
    m, n = A._data.shape[-2:]
    u, s, vh = Svd.apply(A)
    if full_matrices and m != n:
        # The completing columns carry no gradient (they are not determined by A).
        uf, _, vhf = xp.linalg.svd(A._data, full_matrices=True)
        k = min(m, n)
        if m > k:
            u = cat([u, _const(uf[..., :, k:].astype(A._data.dtype))], -1)
        if n > k:
            vh = cat([vh, _const(vhf[..., k:, :].astype(A._data.dtype))], -2)
    return _svd_t(u, s, vh)


def svdvals(A, *, driver=None):
    _check(A, "linalg.svdvals", square=False)
    return Svd.apply(A)[1]


def svd(input, some: bool = True, compute_uv: bool = True):
    """torch.svd: (U, S, V) — V, not Vh; reduced unless some=False."""
    _check(input, "linalg.svd", square=False)
    if not compute_uv:
        m, n = input._data.shape[-2:]
        s = svdvals(input)
        shp = input._data.shape[:-2]
        return _tsvd_t(_const(xp.zeros(shp + (m, m if not some else min(m, n)), input._data.dtype)), s,
                       _const(xp.zeros(shp + (n, n if not some else min(m, n)), input._data.dtype)))
    u, s, vh = linalg_svd(input, full_matrices=not some)
    return _tsvd_t(u, s, _mT(vh))


class Qr(Function):
    """Reduced QR (m ≥ n); gradient (gQ + Q copyltu(M)) R⁻ᵀ with M = R gRᵀ − gQᵀ Q."""
    node_name = "LinalgQrBackward0"

    @staticmethod
    def forward(ctx, a):
        q, r = xp.linalg.qr(a, mode="reduced")
        ctx.save_for_backward(q, r)
        return q, r

    @staticmethod
    def backward(ctx, gq, gr):
        q, r = ctx.saved_tensors
        m, n = q._data.shape[-2], r._data.shape[-1]
        if m < n:
            raise RuntimeError("ember's linalg.qr backward supports m >= n only")
        gq = gq if gq is not None else _const(xp.zeros(q._data.shape, q._data.dtype))
        mm = matmul(_mT(gq), q) * -1
        if gr is not None:
            mm = mm + matmul(r, _mT(gr))
        low = tril(mm, -1)
        copyltu = low + _mT(low) + diag_embed(diagonal(mm, 0, -2, -1))
        b = gq + matmul(q, copyltu)
        # b R⁻ᵀ = (R⁻¹ bᵀ)ᵀ
        return _mT(Solve.apply(r, _mT(b)))


def qr(input, some: bool = True):
    """torch.qr: reduced (some=True) or complete QR."""
    return linalg_qr(input, "reduced" if some else "complete")


def linalg_qr(A, mode: str = "reduced"):
    """(Q, R) with A = Q R; mode 'reduced', 'complete' or 'r' (Q empty)."""
    _check(A, "linalg.qr", square=False)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', "
                           "or 'complete'")
    m, n = A._data.shape[-2:]
    if mode == "reduced" or (mode == "complete" and m <= n) or mode == "r":
        q, r = Qr.apply(A) if m >= n or not A._requires_grad else (_const(x) for x in xp.linalg.qr(A._data))
        if mode == "r":
            return _qr_t(_const(xp.zeros((0,), A._data.dtype)), r)
        return _qr_t(q, r)
    q, r = xp.linalg.qr(A._data, mode="complete")
    return _qr_t(_const(q), _const(r))


class Cholesky(Function):
    """Lower Cholesky factor L; gradient sym(L⁻ᵀ Φ(Lᵀ gL) L⁻¹), Φ = lower triangle with half diagonal."""
    node_name = "LinalgCholeskyExBackward0"

    @staticmethod
    def forward(ctx, a):
        try:
            out = xp.linalg.cholesky(a)
        except xp.linalg.LinAlgError:
            raise LinAlgError(f"linalg.cholesky: The factorization could not be completed because the input is not "
                              f"positive-definite (the leading minor of order {_bad_minor(a)} is not "
                              f"positive-definite).") from None
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (low,) = ctx.saved_tensors
        p = matmul(_mT(low), g)
        phi = tril(p, -1) + diag_embed(diagonal(p, 0, -2, -1) * 0.5)
        # L⁻ᵀ Φ L⁻¹ via two solves
        x = Solve.apply(_mT(low), phi)               # L⁻ᵀ Φ
        ga = _mT(Solve.apply(_mT(low), _mT(x)))      # (L⁻ᵀ (L⁻ᵀ Φ)ᵀ)ᵀ = L⁻ᵀ Φ L⁻¹
        return (ga + _mT(ga)) * 0.5


def _bad_minor(a):
    m = a.reshape(-1, *a.shape[-2:])
    for b in m:
        for k in range(1, b.shape[-1] + 1):
            if xp.linalg.eigvalsh(b[:k, :k]).min() <= 0:
                return k
    return 1


def cholesky(A, upper: bool = False, *, out=None):
    """The lower (or upper) Cholesky factor of symmetric positive-definite matrices."""
    _check(A, "linalg.cholesky")
    low = Cholesky.apply(A)
    return _mT(low) if upper else low


# ---------------------------------------------------------------------------------------------
# cross, matrix_power, matrix_exp, vander
def cross(input, other, dim=None):
    """The cross product of 3-vectors along dim (broadcasting); dim=None: the first dim of size 3."""
    if dim is None:
        import warnings
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
                      "explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree "
                      "with that of linalg.cross in a future release.", UserWarning, stacklevel=2)
        shape = xp.broadcast_shapes(input._data.shape, other._data.shape)
        dim = next((k for k, s in enumerate(shape) if s == 3), -1)
    return linalg_cross(input, other, dim=dim)


def linalg_cross(input, other, *, dim: int = -1):
    if input._data.ndim != other._data.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    nd = max(input._data.ndim, other._data.ndim)
    d = wrap_dim(dim, nd)
    da, db = d - (nd - input._data.ndim), d - (nd - other._data.ndim)
    sa = input._data.shape[da] if 0 <= da < input._data.ndim else 1
    sb = other._data.shape[db] if 0 <= db < other._data.ndim else 1
    if sa != 3 or sb != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {sa} and {sb}")
    a = [narrow(input, da, i, 1) for i in range(3)]
    b = [narrow(other, db, i, 1) for i in range(3)]
    parts = [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
    return cat(parts, d)


def matrix_power(input, n: int):
    """input^n by repeated squaring; n < 0 inverts first; n == 0 gives identity matrices."""
    _check(input, "linalg.matrix_power", float_only=False)
    if n == 0:
        # input * 0 keeps the graph connected: PyTorch gives a zero gradient here, not None.
        return input * 0 + _eye_like(input)
    a = inverse(input) if n < 0 else input
    n = abs(n)
    result = None
    while n:
        if n & 1:
            result = a if result is None else matmul(result, a)
        n >>= 1
        if n:
            a = matmul(a, a)
    return result


def vander(x, N=None, increasing: bool = False):
    """torch.vander: columns x^(N−1) … x, 1 (or increasing powers) for a 1-D x."""
    if x._data.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    from .shape import flip
    v = linalg_vander(x, N=N)
    return v if increasing else flip(v, (-1,))


def linalg_vander(x, N=None):
    """The Vandermonde matrix [1, x, x², …, x^(N−1)] per element of x (…, n) → (…, n, N)."""
    n = x._data.shape[-1]
    N = n if N is None else N
    if N <= 1:
        return unsqueeze(x, -1) * 0 + 1 if N == 1 else unsqueeze(x, -1)[..., :0]
    cols = [unsqueeze(x, -1) * 0 + 1, unsqueeze(x, -1)]
    for _ in range(N - 2):
        cols.append(cols[-1] * unsqueeze(x, -1))
    return cat(cols, -1)


_PADE13 = (64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800., 129060195264000.,
           10559470521600., 670442572800., 33522128640., 1323241920., 40840800., 960960., 16380., 182., 1.)


def matrix_exp(A):
    """exp(A) by scaling and squaring with the [13/13] Padé approximant (Higham 2005), written in
    ember ops so the gradient (and higher ones) follow."""
    _check(A, "linalg.matrix_exp")
    norm1 = xp.abs(A._data).sum(-2).max() if A._data.size else 0.0
    s = max(0, int(math.ceil(math.log2(norm1 / 5.371920351148152)))) if norm1 > 5.371920351148152 else 0
    x = A / (2 ** s) if s else A
    b = _PADE13
    eye = _eye_like(A)
    x2 = matmul(x, x)
    x4 = matmul(x2, x2)
    x6 = matmul(x4, x2)
    u = matmul(x, matmul(x6, x6 * b[13] + x4 * b[11] + x2 * b[9]) + x6 * b[7] + x4 * b[5] + x2 * b[3] + eye * b[1])
    v = matmul(x6, x6 * b[12] + x4 * b[10] + x2 * b[8]) + x6 * b[6] + x4 * b[4] + x2 * b[2] + eye * b[0]
    r = Solve.apply(v - u, v + u)
    for _ in range(s):
        r = matmul(r, r)
    return r


for _n in ["inverse", "det", "logdet", "slogdet", "pinverse", "cross", "matrix_power", "svd", "qr", "cholesky",
           "cholesky_solve", "cholesky_inverse", "matrix_exp"]:
    setattr(Tensor, _n, globals()[_n])
