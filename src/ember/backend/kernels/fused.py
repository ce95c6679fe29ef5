"""Fused optimizer updates, compiled by Numba when it is installed (``pip install ember[jit]``).

NumPy makes an update such as Adam's a dozen passes over each parameter (a ufunc call per operation, each
reading and writing whole blocks): 429-446 us for the 270k parameters of benchmarks/compare.py's MLP
(2026-12-06, AMD EPYC VM), where one loop that reads and writes each element once takes 92 us. ``adam_kernel()``
returns that loop, written in Python and compiled by Numba on first use (and cached on disk). It performs the
same float operations in the same order and precision as the NumPy path in ``optim/adam.py`` -- every scalar is
computed in Python and rounded to the arrays' dtype exactly where NumPy rounds it, and nothing is reassociated or
contracted into fused multiply-adds (no fast-math) -- so both paths give bitwise the same parameters and state
(the tests assert it). Without Numba, or with ``EMBER_JIT=0`` in the environment, ``adam_kernel()`` is None and
the optimizer keeps its NumPy passes. Numba is imported on the first optimizer step, not with ember.
"""
from __future__ import annotations

import os

__all__ = ["adam_kernel"]

_cache: dict = {}


def adam_kernel():
    """The compiled Adam/AdamW update (see ``_build``), or None without Numba or with ``EMBER_JIT=0``."""
    if "adam" not in _cache:
        _cache["adam"] = None if os.environ.get("EMBER_JIT", "1") == "0" else _build()
    return _cache["adam"]


def _build():
    try:
        import numba
        import numpy as np
    except ImportError:
        return None

    @numba.njit(nogil=True, cache=True, error_model="numpy")
    def adam_(p, g, m, v, vmax, beta2, w1, w1c, small, w2, weight_decay, decay, c1, c2, amsgrad, maximize,
              decoupled):
        """One Adam/AdamW step over flat, same-dtype arrays, in place (``vmax``: any array unless amsgrad);
        the scalars are already rounded to that dtype: w1 = 1 - beta1 and w1c = 1 - w1 (PyTorch's two lerp
        formulas, the first when ``small``), w2 = 1 - beta2, decay = 1 - lr * weight_decay (decoupled), c1 and
        c2 the step constants of ``p += m / (sqrt(v) * c1 + c2)``. The order of every operation is
        ``optim.adam._adam_block``'s."""
        for i in range(p.size):
            gi = -g[i] if maximize else g[i]
            if weight_decay != 0:
                if decoupled:
                    p[i] = p[i] * decay
                elif maximize:
                    gi = p[i] * weight_decay - g[i]
                else:
                    gi = p[i] * weight_decay + g[i]
            mi = m[i]
            d = gi - mi
            mi = mi + d * w1 if small else gi - d * w1c
            m[i] = mi
            vi = v[i] * beta2 + (gi * gi) * w2
            v[i] = vi
            if amsgrad:
                vm = vmax[i]
                if vi > vm or vi != vi:      # np.maximum: a NaN in either wins
                    vm = vi
                vmax[i] = vm
                vi = vm
            p[i] = p[i] + mi / (np.sqrt(vi) * c1 + c2)

    return adam_
