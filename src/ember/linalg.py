"""``ember.linalg``: PyTorch's ``torch.linalg`` namespace (the ops live in ``ember.ops.decomp``)."""
from __future__ import annotations

from ._creation import diagonal as _diagonal
from .ops.decomp import LinAlgError, cholesky, cholesky_ex, det, eig, eigh, eigvals, eigvalsh, inv_ex, lstsq
from .ops.decomp import matrix_norm, matrix_power, matrix_rank, multi_dot, pinv, slogdet, solve, solve_triangular
from .ops.decomp import lu, lu_factor, lu_factor_ex, lu_solve
from .ops.decomp import cond, matrix_exp, solve_ex, svdvals, tensorinv, tensorsolve, vecdot, vector_norm
from .ops.decomp import inverse as inv
from .ops.decomp import linalg_cross as cross
from .ops.decomp import linalg_norm as norm
from .ops.decomp import linalg_qr as qr
from .ops.decomp import linalg_svd as svd
from .ops.decomp import linalg_vander as vander
from .ops.linalg import matmul

__all__ = ["LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eig", "eigh", "eigvals",
           "eigvalsh", "inv", "inv_ex", "lstsq", "lu", "lu_factor", "lu_factor_ex", "lu_solve", "matmul", "matrix_exp",
           "matrix_norm", "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv", "qr", "slogdet", "solve",
           "solve_ex", "solve_triangular", "svd", "svdvals", "tensorinv", "tensorsolve", "vander", "vecdot",
           "vector_norm"]


def diagonal(A, *, offset: int = 0, dim1: int = -2, dim2: int = -1):
    """The diagonals of the matrices in A (…, m, n)."""
    return _diagonal(A, offset, dim1, dim2)
