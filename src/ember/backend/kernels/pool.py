"""Pooling kernels on NumPy arrays (no autograd): max / avg / adaptive, 1d-3d, PyTorch's semantics.

Layout is channels-first, x: (N, C, *S) with d = 1, 2 or 3 spatial dims (the caller adds a batch dim for
unbatched input); outputs keep x's dtype. Windows are visited one kernel tap at a time as strided views, so
no Python loop runs over batch, channels or pixels. Average pooling is separable: a window sum along one dim
after another (k_h + k_w passes instead of k_h * k_w), and adaptive average pooling is one small averaging
matrix per dim. Max-pool indices follow ``return_indices``: int64 flat indices into each un-padded input
plane (``h * W + w`` in 2d).
"""
from __future__ import annotations

import functools
import itertools
import math

import numpy as np

from .. import parallel
from . import fused
from .scratch import scratch as _scratch

__all__ = [
    "pool_output_size",
    "max_pool_forward",
    "max_pool_backward",
    "avg_pool_forward",
    "avg_pool_backward",
    "adaptive_windows",
    "adaptive_avg_pool_forward",
    "adaptive_avg_pool_backward",
    "adaptive_max_pool_forward",
    "adaptive_max_pool_backward",
]


def pool_output_size(size: int, kernel: int, stride: int, pad: int, dilation: int = 1,
                     ceil_mode: bool = False) -> int:
    """PyTorch's pooling output length; with ``ceil_mode`` the last window must start inside the input or the
    left padding. May return < 1 (the caller raises the error)."""
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def _tuple(v, nd: int) -> tuple[int, ...]:
    return (int(v),) * nd if isinstance(v, (int, np.integer)) else tuple(int(a) for a in v)


def _geometry(x_shape, kernel, stride, padding, dilation, ceil_mode):
    nd = len(x_shape) - 2
    kernel, stride, padding, dilation = (_tuple(v, nd) for v in (kernel, stride, padding, dilation))
    out = tuple(pool_output_size(s, k, st, p, d, ceil_mode)
                for s, k, st, p, d in zip(x_shape[2:], kernel, stride, padding, dilation))
    if any(o < 1 for o in out):
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, x_shape[1:]))}). Calculated output size: "
                           f"({x_shape[1]}x{'x'.join(map(str, out))}). Output size is too small")
    # high-side padding: whatever the last window needs beyond the input (ceil_mode overhang included)
    hi = tuple(max(0, (o - 1) * st + d * (k - 1) + 1 - s - p)
               for s, k, st, p, d, o in zip(x_shape[2:], kernel, stride, padding, dilation, out))
    return kernel, stride, padding, dilation, out, hi


def _padded(x: np.ndarray, lo, hi, value) -> np.ndarray:
    """x: (N, C, *S) padded with ``value`` (a copy only when some pad is non-zero)."""
    if not any(lo) and not any(hi):
        return x
    xp = np.full(x.shape[:2] + tuple(s + a + b for s, a, b in zip(x.shape[2:], lo, hi)), value, x.dtype)
    xp[(slice(None), slice(None)) + tuple(slice(a, a + s) for s, a in zip(x.shape[2:], lo))] = x
    return xp


def _tap_slices(tap, stride, dilation, out) -> tuple[slice, ...]:
    """Per spatial dim, the slice of the window elements at kernel position ``tap``."""
    return tuple(slice(t * d, t * d + (o - 1) * s + 1, s) for t, s, d, o in zip(tap, stride, dilation, out))


def _tap_view(xp: np.ndarray, tap, stride, dilation, out) -> np.ndarray:
    """The (N, C, *out) strided view of the window elements at kernel position ``tap``."""
    return xp[(slice(None), slice(None)) + _tap_slices(tap, stride, dilation, out)]


def _plane_strides(spatial) -> list[int]:
    return [math.prod(spatial[i + 1:]) for i in range(len(spatial))]


# ----------------------------------------------------------------------------------------------- max
def _code_dtype(taps: int):
    return np.uint8 if taps <= 255 else np.int32


def _running_max(views, taps: int, nan_aware: bool = True, with_codes: bool = True, out=None):
    """Max over the ``views`` (N, C, *out), ``taps`` of them in scan order, with PyTorch's rule (the first maximum
    wins; a NaN wins, the last one in scan order) → ``(y, code)``: code is the winning view's position (uint8 for
    up to 255 taps). ``views`` is consumed once; ``out`` receives y when given.

    Each strided view is first copied into a contiguous buffer, so the comparisons run over long contiguous loops
    instead of one short row of the window grid at a time (measured on the course net's 3x3/3 pool of
    (100, 32, 24, 24): 1.6 ms vs 2.5 ms). Winners are tracked as a one-byte tap code, max(code, take * t): taps
    come in increasing order, so the last strictly greater one is the maximum. With Numba each tap's compare and
    updates are one compiled pass (``fused.py``) instead of four NumPy passes; it selects by PyTorch's comparison
    (``>``, or NaN), so a +-0 tie keeps the first zero's sign where ``np.maximum`` may take the second's.
    (2026-12-06, AMD EPYC VM, ms, 1 / 2 threads, two alternations, NumPy -> compiled: (100, 32, 24, 24) 3x3/3
    2.45-3.55 / 1.86-2.21 -> 2.14-2.27 / 1.57-1.73; (64, 128, 16, 16) 2x2 3.95-4.02 / 3.25-3.26 -> 2.99-3.40 /
    2.18-2.26.)
    """
    views = iter(views)
    first = next(views)
    if out is None:
        y = np.array(first, order="C")
    else:
        y = out
        np.copyto(y, first)
    if taps == 1:
        return y, (np.zeros(y.shape, _code_dtype(taps)) if with_codes else None)
    buf = _scratch("pool_buf", y.shape, y.dtype)
    if not with_codes:
        for v in views:
            np.copyto(buf, v)
            np.maximum(y, buf, out=y)            # NaN propagates, as in PyTorch
        return y, None
    cd = _code_dtype(taps)
    code = np.zeros(y.shape, cd)
    update = fused.running_max_kernel() if y.dtype in fused.DTYPES and y.flags.c_contiguous else None
    if update is not None:
        # each tap's update in one compiled pass (four NumPy passes below), PyTorch's comparison, NaN-aware always
        yf, cf, bf = y.reshape(-1), code.reshape(-1), buf.reshape(-1)
        for t, v in enumerate(views, 1):
            np.copyto(buf, v)
            update(bf, yf, cf, cd(t))
        return y, code
    take, tk = _scratch("pool_take", y.shape, bool), _scratch("pool_tk", y.shape, cd)
    for t, v in enumerate(views, 1):
        np.copyto(buf, v)
        np.greater(buf, y, out=take)
        if nan_aware:
            take |= np.isnan(buf)
        np.maximum(y, buf, out=y)                 # = the update where taken (NaN propagates)
        np.multiply(take, cd(t), out=tk)
        np.maximum(code, tk, out=code)
    return y, code


def _separable_max(xp: np.ndarray, kernel, stride, dilation, out, dst: np.ndarray) -> None:
    """The window maxima of xp (N, C, *S) into dst (N, C, *out), one spatial dim after another (a window is a
    product of per-dim ranges): the outer dims first, whose tap views keep whole contiguous rows, so the
    strided short-row reads of the last dim touch only what the outer dims left. NaN propagates.
    (k_1 + ... + k_d reads of shrinking arrays instead of k_1 * ... * k_d strided reads of the output's size:
    values-only 3x3/3 on (100, 32, 24, 24) 1.75 -> 0.97 ms, 2x2/2 on (64, 64, 32, 32) 3.32 -> 1.87 ms, one
    thread, 2026-12-02.)"""
    a = xp
    nd = len(out)
    for ax in range(nd):
        k, s, d, o = kernel[ax], stride[ax], dilation[ax], out[ax]

        def tap(t, a=a, ax=ax, s=s, d=d, o=o):
            idx = [slice(None)] * a.ndim
            idx[2 + ax] = slice(t * d, t * d + (o - 1) * s + 1, s)
            return a[tuple(idx)]
        r = dst if ax == nd - 1 else None
        if k == 1:
            if r is None:
                r = np.array(tap(0))
            else:
                np.copyto(r, tap(0))
        else:
            r = np.maximum(tap(0), tap(1), out=r)
            for t in range(2, k):
                np.maximum(r, tap(t), out=r)
        a = r


# inputs smaller than this (elements) pool in one thread: below it, two threads' short NumPy calls wait on each
# other for the GIL more than they gain (2026-12-06, 2 cores AMD EPYC, max-pool forward with indices, us, 1 vs 2
# threads, three alternations: (100, 64, 4, 4) 2x2/2 290-441 vs 503-649; (64, 512, 4, 4) 1165-1310 vs
# 1014-1335; (64, 256, 8, 8) 2857-2951 vs 1896-1996)
_POOL_PARALLEL_MIN = 1 << 18
# max-pool forward with indices on output rows this short runs on (*S, planes) blocks (``max_pool_forward``):
# (2026-12-06, one thread, CPU time, us: (100, 64, 4, 4) 2x2/2 553-566 -> 387-406, (64, 512, 4, 4) 2286-2375 ->
# 1625-1657; but (64, 256, 8, 8), output rows of 4, 2818-3116 -> 3285-3615)
_PLANES_LAST_MAX_OW = 2
# input planes pooled together (all taps) per block, at least one block per thread. Two threads run the blocks'
# NumPy calls one at a time between their inner loops (the GIL), so fewer, larger blocks won over cache-sized ones
# (2026-12-02, max-pool forward with indices, ms, 2 MB blocks -> 4 MB and a block per thread: (100, 32, 24, 24)
# 3x3/3 2.42-2.57 -> 2.07-2.25; (100, 64, 8, 8) 0.81-0.84 -> 0.63-0.70; (64, 512, 4, 4) 1.43-1.56 -> 0.98-1.07;
# (64, 64, 32, 32) 4.35-4.49 -> 4.29-4.45; (64, 128, 16, 16) 2.13-2.23 -> 2.20-2.31)
_POOL_BLOCK_BYTES = 4 << 20
# the disjoint-window backward runs plane ranges on the threads from this many input elements (2026-12-02, 2 cores
# Intel, us, 1 vs 2 threads: (100, 32, 24, 24) 3x3/3 877 -> 564, (64, 64, 32, 32) 2x2/2 3014 -> 1678; but
# (100, 64, 8, 8) 258 vs 279)
_BACKWARD_PARALLEL_MIN = 1 << 20
# ... in blocks of planes of this size, each zeroed and then assigned while cached (2026-12-02, ms, 2 threads, one
# range per thread -> 1 MB blocks: (100, 32, 24, 24) 3x3/3 0.58-0.62 -> 0.50-0.58; (64, 64, 32, 32) 2x2/2
# 1.68-1.73 -> 1.51-1.56; (64, 128, 16, 16) 0.87-0.91 -> 0.76-0.81)
_BACKWARD_BLOCK_BYTES = 1 << 20
# with Numba the disjoint backward is one compiled loop per thread: (2026-12-06, AMD EPYC VM, ms, 1 / 2 threads,
# NumPy blocks -> compiled) (100, 32, 24, 24) 3x3/3 0.49 / 0.61 -> 0.18 / 0.14, (64, 64, 32, 32) 2x2/2 2.5 / 1.8-2.1
# -> 0.72 / 0.42, (64, 128, 16, 16) 1.1-1.2 / 1.0-1.1 -> 0.34 / 0.30 (two threads' NumPy calls wait on each other
# for the GIL: see fused.py)


def max_pool_forward(x: np.ndarray, kernel, stride, padding, dilation, ceil_mode: bool = False,
                     indices: bool = True):
    """``max_pool{1,2,3}d(..., return_indices=True)``. x: (N, C, *S) → (y, idx), both (N, C, *out); idx int64
    flat into each un-padded (prod S) plane. Padding counts as -inf (it never wins). With ``indices=False``
    (inference) only the maxima are computed and idx is None. Blocks of planes run on ember's threads.
    """
    kernel, stride, padding, dilation, out, hi_pad = _geometry(x.shape, kernel, stride, padding, dilation, ceil_mode)
    pl = _plane_strides(x.shape[2:])
    taps = list(itertools.product(*(range(k) for k in kernel)))
    n, c = x.shape[:2]
    y = np.empty((n, c, *out), x.dtype)
    idx = np.empty((n, c, *out), np.int64) if indices else None
    if indices:
        offsets = np.array([sum(t * d * g for t, d, g in zip(tap, dilation, pl)) for tap in taps], np.int64)
        # flat index of each window's first element (un-padded coordinates; broadcast over the out grid)
        base = np.zeros((1,) * len(out), np.int64)
        for ax, (o, s, p, g) in enumerate(zip(out, stride, padding, pl)):
            shape = [1] * len(out)
            shape[ax] = o
            base = base + ((np.arange(o, dtype=np.int64) * s - p) * g).reshape(shape)

    # cache blocking: all taps of one block of planes before the next (each tap view touches every cache line
    # of its input, so unblocked the taps re-read the whole input from memory), blocks shared over the threads
    if x.flags.c_contiguous and n * c > 0:          # planes as units: (N*C, 1, *S)
        units = n * c
        xv, yv = x.reshape(units, 1, *x.shape[2:]), y.reshape(units, 1, *out)
        iv = idx.reshape(units, 1, *out) if indices else None
    else:                                           # whole images as units
        xv, yv, iv, units = x, y, idx, n
    # k x k windows at stride k tiling 2d planes: one compiled call per block (``fused.max_pool_kernel``), which
    # gathers the taps tap-major in cache-sized tiles (the k * k strided copies were ~80% of the NumPy path's time)
    # and writes the indices too (2026-12-06, AMD EPYC VM, ms, 1 / 2 threads, tap updates compiled -> this:
    # (100, 32, 24, 24) 3x3/3 2.1-2.6 / 1.3-1.7 -> 1.1-1.2 / 0.60; (64, 64, 32, 32) 2x2 5.6-6.6 / 3.9-4.4 -> 3.2 /
    # 1.9; (64, 128, 16, 16) 2x2 3.0-3.4 / 2.2-2.3 -> 1.6 / 1.0)
    k = kernel[0]
    tiled = fused.max_pool_kernel() if (indices and xv is not x and len(out) == 2 and x.dtype in fused.DTYPES
                                        and kernel == (k, k) and stride == (k, k) and dilation == (1, 1)
                                        and padding == (0, 0) and hi_pad == (0, 0) and k * k <= 255) else None
    # output rows of one or two values: a tap's strided view would be copied two values per inner loop
    planes_last = indices and xv is not x and out[-1] <= _PLANES_LAST_MAX_OW and tiled is None
    compiled_update = x.dtype in fused.DTYPES and fused.running_max_kernel() is not None
    per = max(1, _POOL_BLOCK_BYTES // max(1, xv[:1].nbytes))
    if x.size >= _POOL_PARALLEL_MIN:                # at least a block per thread
        per = max(1, min(per, -(-units // parallel.num_threads())))
    blocks = [(i, min(i + per, units)) for i in range(0, units, per)]

    def work(lo, hi):
        for b0, b1 in blocks[lo:hi]:
            xs = xv[b0:b1]
            xp = _padded(xs, padding, hi_pad, -np.inf)
            if not indices:
                _separable_max(xp, kernel, stride, dilation, out, yv[b0:b1])
                continue
            if tiled is not None:
                tiled(xs[:, 0], yv[b0:b1].reshape(-1), iv[b0:b1].reshape(-1), k, *out, base.reshape(-1), offsets)
                continue
            # NumPy's comparisons NaN-aware only when the block holds a NaN (a NaN sum also flags inf - inf: merely
            # slower); the compiled update always is, so it needs no such pass
            nan_aware = compiled_update or bool(np.isnan(np.sum(xs)))
            if planes_last:
                # the block moved to (*S, planes) first: each tap view is then a few runs as long as the block
                xt = _scratch("pool_xt", (*xp.shape[2:], b1 - b0), x.dtype)
                np.copyto(xt, np.moveaxis(xp[:, 0], 0, -1))
                yt = _scratch("pool_yt", (*out, b1 - b0), x.dtype)
                _, code = _running_max((xt[_tap_slices(t, stride, dilation, out)] for t in taps), len(taps),
                                       nan_aware, True, out=yt)
                np.copyto(yv[b0:b1, 0], np.moveaxis(yt, -1, 0))
                it = np.take(offsets, code, out=_scratch("pool_it", code.shape, np.int64), mode="clip")
                it += base[..., None]
                np.copyto(iv[b0:b1, 0], np.moveaxis(it, -1, 0))
                continue
            _, code = _running_max((_tap_view(xp, t, stride, dilation, out) for t in taps), len(taps), nan_aware,
                                   indices, out=yv[b0:b1])
            if indices:
                # mode="clip" (codes are always < taps): with the default mode="raise" NumPy buffers ``out``,
                # 542 vs 67 us for (50, 32, 8, 8) codes (2026-12-02)
                np.take(offsets, code, out=iv[b0:b1], mode="clip")
                iv[b0:b1] += base

    parts = parallel.split(len(blocks)) if x.size >= _POOL_PARALLEL_MIN else [(0, len(blocks))]
    parallel.run(functools.partial(work, a, b) for a, b in parts)
    return y, idx


def max_pool_backward(gy: np.ndarray, idx: np.ndarray, x_shape, kernel=None, stride=None,
                      dilation=None) -> np.ndarray:
    """Scatter gy: (N, C, *out) to the argmax positions ``idx`` → gx of shape ``x_shape`` (gy's dtype).

    Pass kernel/stride/dilation when known: windows that cannot overlap (stride >= dilation*(k-1)+1 in every
    dim) make the scatter a plain assignment. Otherwise one ``np.bincount`` over global flat indices sums the
    contributions of an input that wins several windows (accumulated in float64, then cast back).
    """
    x_shape = tuple(x_shape)
    nc = x_shape[0] * x_shape[1]
    plane = math.prod(x_shape[2:])
    if gy.size == 0 or plane == 0:
        return np.zeros(x_shape, gy.dtype)
    disjoint = kernel is not None and stride is not None and all(
        s >= (d * (k - 1) + 1) for k, s, d in zip(_tuple(kernel, gy.ndim - 2), _tuple(stride, gy.ndim - 2),
                                                  _tuple(1 if dilation is None else dilation, gy.ndim - 2)))
    if disjoint:
        # per range of planes (on ember's threads for large inputs): zero the planes, then one assignment
        gx = np.empty(nc * plane, gy.dtype)
        g2, i2 = gy.reshape(nc, -1), idx.reshape(nc, -1)
        scatter = fused.scatter_planes_kernel() if gy.dtype in fused.DTYPES and idx.dtype == np.int64 else None
        if scatter is not None:
            # one compiled, GIL-free loop per thread (``fused.py``) instead of blocks of NumPy calls
            gx2 = gx.reshape(nc, plane)
            if nc * plane >= _BACKWARD_PARALLEL_MIN:
                parallel.run_rows(lambda lo, hi: scatter(g2, i2, gx2, lo, hi), nc, nc * plane)
            else:
                scatter(g2, i2, gx2, 0, nc)
            return gx.reshape(x_shape)
        per = max(1, _BACKWARD_BLOCK_BYTES // (plane * gy.itemsize))

        def planes(lo, hi):
            for b0 in range(lo, hi, per):          # zeroed and filled while the block is cached
                b1 = min(hi, b0 + per)
                part = gx[b0 * plane:b1 * plane]
                part.fill(0)
                part[(i2[b0:b1] + np.arange(0, (b1 - b0) * plane, plane, dtype=np.int64)[:, None]).ravel()] = \
                    g2[b0:b1].ravel()
        if nc * plane >= _BACKWARD_PARALLEL_MIN:
            parallel.run_rows(planes, nc, nc * plane)
        else:
            planes(0, nc)
        return gx.reshape(x_shape)
    rows = np.arange(nc, dtype=np.int64).reshape((x_shape[0], x_shape[1]) + (1,) * (gy.ndim - 2)) * plane
    flat = (idx + rows).ravel()
    gx = np.bincount(flat, weights=gy.ravel(), minlength=nc * plane).astype(gy.dtype, copy=False)
    return gx.reshape(x_shape)


# ----------------------------------------------------------------------------------------------- avg
def _window_sum(a: np.ndarray, axis: int, k: int, s: int, o: int) -> np.ndarray:
    """Sum of ``k`` consecutive elements along ``axis`` at stride ``s``, ``o`` outputs."""
    def tap(t):
        return a[(slice(None),) * axis + (slice(t, t + (o - 1) * s + 1, s),)]
    acc = np.array(tap(0))
    for t in range(1, k):
        acc += tap(t)
    return acc


def _window_sum_adjoint(g: np.ndarray, axis: int, k: int, s: int, length: int) -> np.ndarray:
    """Adjoint of ``_window_sum``: each output's value added back to its k inputs (a length-``length`` axis)."""
    o = g.shape[axis]
    shape = list(g.shape)
    shape[axis] = length
    acc = np.zeros(shape, g.dtype)
    for t in range(k):
        acc[(slice(None),) * axis + (slice(t, t + (o - 1) * s + 1, s),)] += g
    return acc


def _avg_divisor(x_shape, kernel, stride, padding, out, count_include_pad, divisor_override, dtype):
    """Per-window divisor broadcastable to (*out): PyTorch clips each window at the padded border, then (without
    count_include_pad) at the input; both counts are products of per-dim lengths."""
    if divisor_override:
        return np.asarray(divisor_override, dtype)
    div = np.ones((1,) * len(out), dtype)
    for ax, (size, k, s, p, o) in enumerate(zip(x_shape[2:], kernel, stride, padding, out)):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, size + p)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, size)
        shape = [1] * len(out)
        shape[ax] = o
        div = div * (end - start).astype(dtype).reshape(shape)
    return div


def avg_pool_forward(x: np.ndarray, kernel, stride, padding, ceil_mode: bool = False,
                     count_include_pad: bool = True, divisor_override=None) -> np.ndarray:
    """``avg_pool{1,2,3}d``. x: (N, C, *S) → (N, C, *out) in x's dtype."""
    nd = x.ndim - 2
    kernel, stride, padding, _, out, hi = _geometry(x.shape, kernel, stride, padding, 1, ceil_mode)
    y = _padded(x, padding, hi, 0)
    for ax in range(nd):
        y = _window_sum(y, 2 + ax, kernel[ax], stride[ax], out[ax])
    y /= _avg_divisor(x.shape, kernel, stride, padding, out, count_include_pad, divisor_override, x.dtype)
    return y


def avg_pool_backward(gy: np.ndarray, x_shape, kernel, stride, padding, ceil_mode: bool = False,
                      count_include_pad: bool = True, divisor_override=None) -> np.ndarray:
    """Gradient of ``avg_pool_forward``: gy: (N, C, *out) → gx of shape ``x_shape`` (overlaps add exactly)."""
    x_shape = tuple(x_shape)
    nd = len(x_shape) - 2
    kernel, stride, padding, _, out, hi = _geometry(x_shape, kernel, stride, padding, 1, ceil_mode)
    g = gy / _avg_divisor(x_shape, kernel, stride, padding, out, count_include_pad, divisor_override, gy.dtype)
    for ax in reversed(range(nd)):
        g = _window_sum_adjoint(g, 2 + ax, kernel[ax], stride[ax], x_shape[2 + ax] + padding[ax] + hi[ax])
    crop = tuple(slice(p, p + s) for p, s in zip(padding, x_shape[2:]))
    return np.ascontiguousarray(g[(slice(None), slice(None)) + crop])


# ------------------------------------------------------------------------------------------ adaptive
def adaptive_windows(size: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's adaptive windows along one dim: start = floor(i*size/out), end = ceil((i+1)*size/out)."""
    i = np.arange(out, dtype=np.int64)
    return (i * size) // out, -((-(i + 1) * size) // out)


def _resolve_out(x_shape, output_size) -> tuple[int, ...]:
    nd = len(x_shape) - 2
    if isinstance(output_size, (int, np.integer)):
        output_size = (output_size,) * nd
    # None keeps the input size, as in PyTorch
    return tuple(s if o is None else int(o) for s, o in zip(x_shape[2:], output_size))


def _avg_matrix(size: int, out: int, dtype) -> np.ndarray:
    """(out, size) matrix whose row i averages window i."""
    start, end = adaptive_windows(size, out)
    j = np.arange(size)
    inside = (j >= start[:, None]) & (j < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def _apply_along(a: np.ndarray, m: np.ndarray, axis: int) -> np.ndarray:
    """Contract ``a`` along ``axis`` with ``m`` (out, size) → that axis becomes length ``out`` (GEMMs via BLAS)."""
    a = np.ascontiguousarray(a)
    shape = list(a.shape)
    if axis == a.ndim - 1:
        r = a.reshape(-1, shape[-1]) @ m.T
    else:
        r = np.matmul(m, a.reshape(*shape[:axis], shape[axis], math.prod(shape[axis + 1:])))
    shape[axis] = m.shape[0]
    return r.reshape(shape)


def adaptive_avg_pool_forward(x: np.ndarray, output_size) -> np.ndarray:
    """``adaptive_avg_pool{1,2,3}d``. x: (N, C, *S) → (N, C, *output_size) in x's dtype.

    Global pooling is a mean; sizes that divide evenly are a plain avg pool; otherwise one averaging GEMM per
    dim (the average over a box is the product of per-dim averages).
    """
    out = _resolve_out(x.shape, output_size)
    spatial = x.shape[2:]
    if all(o == 1 for o in out):
        # global pooling: a matrix-vector product over the planes (BLAS) beats a reduction over short rows
        plane = math.prod(spatial)
        y = np.matmul(x.reshape(-1, plane), np.ones(plane, x.dtype)) / x.dtype.type(plane)
        return y.reshape(x.shape[:2] + (1,) * len(spatial))
    if all(o > 0 and s % o == 0 for s, o in zip(spatial, out)):
        ks = tuple(s // o for s, o in zip(spatial, out))
        return avg_pool_forward(x, ks, ks, 0)
    y = x
    for ax, (s, o) in enumerate(zip(spatial, out)):
        if s != o:
            y = _apply_along(y, _avg_matrix(s, o, x.dtype), 2 + ax)
    return y if y is not x else x.copy()


def adaptive_avg_pool_backward(gy: np.ndarray, x_shape, output_size=None) -> np.ndarray:
    """Gradient of ``adaptive_avg_pool_forward``: gy: (N, C, *out) → gx of shape ``x_shape``."""
    x_shape = tuple(x_shape)
    spatial, out = x_shape[2:], gy.shape[2:]
    if all(o == 1 for o in out):
        return np.broadcast_to(gy / gy.dtype.type(math.prod(spatial)), x_shape).copy()
    if all(s % o == 0 for s, o in zip(spatial, out)):
        ks = tuple(s // o for s, o in zip(spatial, out))
        return avg_pool_backward(gy, x_shape, ks, ks, 0)
    g = gy
    for ax, (s, o) in enumerate(zip(spatial, out)):
        if s != o:
            g = _apply_along(g, _avg_matrix(s, o, gy.dtype).T, 2 + ax)
    return g if g is not gy else gy.copy()


def adaptive_max_pool_forward(x: np.ndarray, output_size):
    """``adaptive_max_pool{1,2,3}d(..., return_indices=True)``. x: (N, C, *S) → (y, idx), idx int64 flat per plane.

    Windows differ in length by at most one; each is visited as ``kmax`` taps whose positions are clipped to
    the window's last element (a repeat never beats the first maximum, so ties resolve as in PyTorch).
    """
    out = _resolve_out(x.shape, output_size)
    pl = _plane_strides(x.shape[2:])
    per_dim = []
    for s, o in zip(x.shape[2:], out):
        start, end = adaptive_windows(s, o)
        kmax = int((end - start).max())
        per_dim.append([np.minimum(start + t, end - 1) for t in range(kmax)])

    def views_and_offsets():
        for tap in itertools.product(*(range(len(p)) for p in per_dim)):
            pos = [per_dim[ax][t] for ax, t in enumerate(tap)]
            grids = np.ix_(*pos)
            yield x[(slice(None), slice(None)) + grids], sum(g * st for g, st in zip(grids, pl))

    pairs = list(views_and_offsets())
    # each tap's flat index varies with the output position, so the winner's index comes from a (T, *out) table
    table = np.stack([np.broadcast_to(off, out) for _, off in pairs]).astype(np.int64)
    y, k = _running_max((v for v, _ in pairs), len(pairs), bool(np.isnan(np.sum(x))))
    return y, _select(table, k)


def _select(table: np.ndarray, k: np.ndarray) -> np.ndarray:
    """idx[n, c, *o] = table[k[n, c, *o], *o] for a table (T, *out) and tap choices k (N, C, *out)."""
    t = table.shape[0]
    flat_table = table.reshape(t, -1)
    cols = np.arange(flat_table.shape[1])
    return flat_table[k.reshape(-1, flat_table.shape[1]), cols].reshape(k.shape)


def adaptive_max_pool_backward(gy: np.ndarray, idx: np.ndarray, x_shape) -> np.ndarray:
    """Gradient of ``adaptive_max_pool_forward`` (``max_pool_backward``; windows are disjoint when every input
    size is a multiple of the output size, making the scatter a plain assignment)."""
    x_shape = tuple(x_shape)
    disjoint = all(s % o == 0 for s, o in zip(x_shape[2:], gy.shape[2:]))
    if disjoint:
        ks = tuple(s // o for s, o in zip(x_shape[2:], gy.shape[2:]))
        return max_pool_backward(gy, idx, x_shape, ks, ks)
    return max_pool_backward(gy, idx, x_shape)
