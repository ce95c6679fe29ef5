"""Loops compiled by Numba when it is installed (``pip install ember[jit]``): where NumPy needs many passes or
many calls for one job.

Passes: NumPy makes an update such as Adam's a dozen passes over each parameter (a ufunc call per operation, each
reading and writing whole blocks): 429-446 us for the 270k parameters of benchmarks/compare.py's MLP
(2026-12-06, AMD EPYC VM), where one loop that reads and writes each element once takes 92 us.

Calls: ember's threads (``backend/parallel.py``) run NumPy calls side by side because NumPy releases the GIL
inside each one; but a thread whose call returns while the other thread holds the GIL sleeps until it is
released, and on the VMs measured here waking a sleeping thread costs ~25-40 us (an idle vCPU halts at once). A
part made of many short NumPy calls then waits once per call: the 25 col2im adds of the course net's conv2
grad-input took 0.11 ms on one thread and 0.65 ms as two concurrent halves (0.21 ms for the compiled loop, 0.13 ms
of it the threads' start). A compiled loop is one GIL-free call per part.

Each kernel performs the same float operations in the same order and precision as the NumPy path it replaces --
nothing is reassociated or contracted into fused multiply-adds (no fast-math) -- so both paths give bitwise the
same results (the tests assert it); one exception, towards PyTorch: max pooling's select keeps the first of two
tied zeros, -0.0 before +0.0, as PyTorch does, where ``np.maximum`` returns the second. Without Numba, or with
``EMBER_JIT=0`` in the environment, the getters return None and the callers keep their NumPy code. Numba is
imported on a kernel's first use, not with ember: the loops live in ``_numba_kernels.py``, a module that imports
Numba at its top, so that they are plain module-level functions, which Numba caches on disk (a kernel built inside
a function and calling another compiled function was compiled again in every process: 3.6 s).
"""
from __future__ import annotations

import os

import numpy as np

__all__ = ["DTYPES", "adam_kernel", "col2im_kernel", "scatter_planes_kernel", "running_max_kernel", "max_pool_kernel"]

DTYPES = (np.dtype(np.float32), np.dtype(np.float64))   # the dtypes the compiled loops take

_cache: dict = {}


def _compiled(name: str):
    """The compiled kernel ``name`` of ``_numba_kernels``, loaded once; None without Numba or with ``EMBER_JIT=0``."""
    kernel = _cache.get(name, False)
    if kernel is False:
        kernel = None
        if os.environ.get("EMBER_JIT", "1") != "0":
            try:
                from . import _numba_kernels
            except ImportError:
                _numba_kernels = None
            if _numba_kernels is not None:
                kernel = getattr(_numba_kernels, name)
        _cache[name] = kernel
    return kernel


def adam_kernel():
    """The compiled Adam/AdamW update (``_numba_kernels.adam_``), or None."""
    return _compiled("adam_")


def col2im_kernel():
    """The compiled 2d col2im of ``conv._grad_input_taps`` (``_numba_kernels.col2im_``), or None."""
    return _compiled("col2im_")


def running_max_kernel():
    """The compiled max-pool tap update of ``pool._running_max`` (``_numba_kernels.update_nan_``), or None."""
    return _compiled("update_nan_")


def max_pool_kernel():
    """The compiled max pool with indices for windows that tile the planes (``_numba_kernels.max_pool_``), or None."""
    return _compiled("max_pool_")


def scatter_planes_kernel():
    """The compiled max-pool gradient scatter of ``pool.max_pool_backward`` (``_numba_kernels.scatter_``), or None."""
    return _compiled("scatter_")
