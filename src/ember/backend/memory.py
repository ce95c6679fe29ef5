"""How freed array memory is kept: glibc's malloc told to keep large freed blocks for reuse.

A training step allocates the same large arrays every step (activations, gradients, optimizer temporaries)
and frees them by the next one. With glibc's defaults, blocks over its mmap threshold are mapped and unmapped
each time, and free memory at the top of the heap is returned to the kernel once it exceeds the trim
threshold; either way the next step's arrays start on fresh pages, and each first touch of a page is a page
fault. Which of the two happens depends on the order of allocations, so it came and went with unrelated
changes. Measured 2026-12-02 (2 cores Intel, the MLP 784-256-256-10 step, batch 16, Adam): ember 360 faults
and ~1.95 ms per step, 0 faults and ~1.57 ms with the thresholds below; PyTorch alone in a process 700 faults,
1.86 ms per step, and 0 faults, 0.95 ms with them.

``keep_freed_memory`` raises both thresholds (arrays under 32 MiB come from the heap; up to 128 MiB of free
heap stays mapped) — the CPU analogue of a caching allocator. It does nothing when not on glibc, or when the
user set ``MALLOC_MMAP_THRESHOLD_`` / ``MALLOC_TRIM_THRESHOLD_`` (or ``EMBER_KEEP_FREED_MEMORY=0``).

32 MiB is glibc's largest mmap threshold: larger arrays are mapped afresh by every allocation, whatever the
setting. ``empty`` keeps a few such buffers for kernels' large outputs (a convolution's output at a large batch)
and hands one out again once no array uses it. Measured 2026-12-02 (the course net's inference at batch 1000,
whose conv1 output is 74 MB): each step page-faulted that array in (117 transparent-huge-page faults, 5-20 ms
of system time in a 38 ms step), and after PyTorch had run in the same process the kernel compacted memory
for those huge pages: steps of 100-150 ms (100-200 ms system time) for up to a second.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import math
import os
import sys
import threading

import numpy as np

__all__ = ["keep_freed_memory", "empty"]

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20     # glibc's largest allowed value on 64-bit
TRIM_THRESHOLD = 128 << 20


def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds (see the module docstring); True if they were set."""
    if not sys.platform.startswith("linux") or os.environ.get("EMBER_KEEP_FREED_MEMORY", "1") == "0":
        return False
    if "MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_TRIM_THRESHOLD_" in os.environ:
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False    # not glibc (musl has no mallopt)
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))


LARGE_BYTES = MMAP_THRESHOLD   # arrays from this size come from ``empty``'s cache ...
# ... which keeps at most this much (buffers in use count too); nothing with EMBER_KEEP_FREED_MEMORY=0
CACHE_BYTES = 0 if os.environ.get("EMBER_KEEP_FREED_MEMORY", "1") == "0" else 512 << 20
_cache: list[np.ndarray] = []  # flat uint8 buffers; one is free when no array but the cache refers to it
_lock = threading.Lock()


def _refs_when_free() -> int:
    """``sys.getrefcount`` of a buffer only the cache holds, seen from a ``for buf in _cache`` loop: the list,
    the loop variable and getrefcount's argument (measured, not assumed, in case the interpreter counts
    differently); an array made from the buffer adds one (NumPy points every view's base at the owner)."""
    for buf in [np.empty(1, np.uint8)]:
        return sys.getrefcount(buf)
    raise AssertionError


_FREE_REFS = _refs_when_free()


def empty(shape, dtype) -> np.ndarray:
    """``np.empty(shape, dtype)`` (C order); from ``LARGE_BYTES`` on, a freed buffer of exactly that size is
    reused (see the module docstring). Only for arrays whose memory is not shared with other processes."""
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes < LARGE_BYTES:
        return np.empty(shape, dtype)
    with _lock:
        busy = []
        for buf in _cache:
            if sys.getrefcount(buf) == _FREE_REFS:
                if buf.nbytes == nbytes:
                    return buf.view(dtype).reshape(shape)
            else:
                busy.append(buf)
        held = sum(b.nbytes for b in _cache)
        if held + nbytes > CACHE_BYTES:                     # drop the free buffers to make room
            _cache[:] = busy
            held = sum(b.nbytes for b in _cache)
        buf = np.empty(nbytes, np.uint8)
        if held + nbytes <= CACHE_BYTES:
            _cache.append(buf)
    return buf.view(dtype).reshape(shape)
