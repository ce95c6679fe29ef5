"""Per-thread work buffers of the kernels, reused across calls."""
from __future__ import annotations

import math
import threading

import numpy as np

__all__ = ["scratch"]

_SCRATCH_MAX = 64 << 20        # work buffers up to this size are kept per thread for reuse

_tls = threading.local()


def scratch(slot: str, shape, dtype) -> np.ndarray:
    """A per-thread work buffer reused across calls (fresh memory costs page faults as much as a copy pass).

    Only for temporaries of a chunk or block (an unusually large one is allocated afresh, not kept); never
    returned to a caller.
    """
    nbytes = math.prod(shape) * np.dtype(dtype).itemsize
    if nbytes > _SCRATCH_MAX:
        return np.empty(shape, dtype)
    bufs = _tls.__dict__.setdefault("bufs", {})
    buf = bufs.get(slot)
    if buf is None or buf.nbytes < nbytes:
        buf = bufs[slot] = np.empty(max(nbytes, 1 << 16), np.uint8)
    return buf[:nbytes].view(dtype).reshape(shape)
