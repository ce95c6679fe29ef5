"""``ember.linalg``: PyTorch's ``torch.linalg`` namespace (the ops live in ``ember.ops.decomp``)."""
from __future__ import annotations

from .ops.decomp import LinAlgError, cholesky, det, eig, eigh, eigvals, eigvalsh, lstsq, matrix_norm, matrix_power
from .ops.decomp import matrix_rank, multi_dot, pinv, slogdet, solve, svdvals, vecdot, vector_norm
from .ops.decomp import inverse as inv
from .ops.decomp import linalg_cross as cross
from .ops.decomp import linalg_norm as norm
from .ops.decomp import linalg_qr as qr
from .ops.decomp import linalg_svd as svd
from .ops.linalg import matmul

__all__ = ["LinAlgError", "cholesky", "cross", "det", "eig", "eigh", "eigvals", "eigvalsh", "inv", "lstsq",
           "matmul", "matrix_norm", "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv", "qr", "slogdet",
           "solve", "svd", "svdvals", "vecdot", "vector_norm"]
