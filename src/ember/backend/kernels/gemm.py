"""Matrix products on ember's threads: ``matmul`` is ``np.matmul`` with a large product's rows (or, for stacked
matrices, its batch) split over the threads — the BLAS runs single-threaded (``backend/parallel.py``).

A thread hand-off costs ~50 us, ~5 MFLOP of single-threaded GEMM here, so only products of at least
``_PARALLEL_MIN_FLOPS`` are split (measured 2026-11-24, 2 cores, float32: 1024x1024x1024 21.7 ms in one thread,
11.4 ms split in two; 256x512x512 1.32 -> 0.74 ms; 100x256x200 (10 MFLOP) 0.105 vs 0.109 ms: not worth it).
"""
from __future__ import annotations

import functools

import numpy as np

from .. import parallel

__all__ = ["matmul"]

_PARALLEL_MIN_FLOPS = 24_000_000


def _rows(a, b, out, lo, hi):
    """Rows lo:hi of a 2-d product, or matrices lo:hi of a stacked one."""
    np.matmul(a[lo:hi], b[lo:hi] if b.ndim == 3 else b, out=out[lo:hi])


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.matmul(a, b)``; float products of >= ``_PARALLEL_MIN_FLOPS`` run on ember's threads."""
    if a.ndim < 2 or b.ndim < 2:
        return np.matmul(a, b)
    m, k = a.shape[-2:]
    n = b.shape[-1]
    if (a.ndim == 2 and b.ndim == 2 and 2 * m * k * n < _PARALLEL_MIN_FLOPS) or a.dtype.kind not in "fc" \
            or parallel.num_threads() == 1:
        return np.matmul(a, b)               # the common small case: no more Python than this
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    count = 1
    for d in batch:
        count *= d
    if 2 * m * k * n * count < _PARALLEL_MIN_FLOPS or k != b.shape[-2]:
        return np.matmul(a, b)
    out = np.empty((*batch, m, n), np.result_type(a, b))
    if b.ndim == 2 and (a.ndim == 2 or a.flags.c_contiguous):
        # (…, m, k) @ (k, n) is one (… * m, k) @ (k, n) product: split its rows
        a2, o2 = a.reshape(-1, k), out.reshape(-1, n)
        parallel.run(functools.partial(_rows, a2, b, o2, lo, hi) for lo, hi in parallel.split(a2.shape[0]))
        return out
    if a.shape[:-2] != b.shape[:-2]:
        return np.matmul(a, b, out=out)       # broadcast batch dims: one thread
    a3, b3, o3 = a.reshape(-1, m, k), b.reshape(-1, k, n), out.reshape(-1, m, n)
    parallel.run(functools.partial(_rows, a3, b3, o3, lo, hi) for lo, hi in parallel.split(o3.shape[0]))
    return out
