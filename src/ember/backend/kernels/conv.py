"""Convolution kernels on NumPy arrays (no autograd): forward, grad-input, grad-weight, transposed conv.

Every convolution is GEMMs on im2col columns, built for one cache-sized chunk of the batch at a time and
shared out over ember's threads (``backend/parallel.py``; the BLAS itself runs single-threaded):

- forward: per chunk, the columns of the zero-padded input are one strided window view copied in one call,
  then either one GEMM per image straight into that image's (C_out, P) output plane (image-major, when an
  image has >= 256 output pixels), or one GEMM ``(C_out, C*K) @ (C*K, n*P)`` for the chunk followed by a
  transposing copy of the cached result (channels-major; batch-last when rows are short). 1x1 unpadded convs
  skip im2col. Stride-1 convs with 16-95 input channels gather only one kernel row's columns (a 3x copy of
  the input for 3x3, not 9x) and run one GEMM per kernel row (``_forward_rows``); wide 3x3 layers go to
  Winograd (``winograd.py``), other wide layers to channels-last columns (``_forward_cl``).
- grad-input: for stride 1 with 'same'-like padding, a stride-1 conv of gy with the flipped, transposed
  weight (forward speed); otherwise one GEMM ``W^T @ gy`` to columns and col2im, one exact strided add per
  kernel tap -- for ungrouped convs with small weights, the taps outermost and the adds over rows of
  (images x channels) (``_grad_input_taps``).
- grad-weight: the same columns as forward, contracted with gy over the pixels; each thread sums its chunks,
  then the per-thread partials are added.

Measured on the course network (batch 100) and 3x3 CIFAR layers (batch 32), 2 cores, 2026-11-24: ember's
threads over single-threaded BLAS instead of 2 OpenBLAS threads took the course net's training step from
27-45 ms to 20 ms (OpenBLAS workers spin between GEMMs, slowing the NumPy code around them); balanced chunks
(a multiple of the thread count) took 3x3 512ch 4x4 from 103 to 181 GF/s; image-major GEMMs took the course
net's conv1 forward from 1.9 to 0.9 ms and 128ch 16x16 from 134 to 152-162 GF/s (GEMM ceiling ~195 GF/s).
"""
from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence

import numpy as np

from .. import memory, parallel
from . import fused, winograd
from .planes import per_channel
from .scratch import scratch as _scratch

__all__ = [
    "same_padding",
    "conv_output_size",
    "conv_forward",
    "conv_grad_input",
    "conv_grad_weight",
    "conv_transpose_output_size",
    "conv_transpose_forward",
    "conv_transpose_grad_input",
    "conv_transpose_grad_weight",
]

Pads = tuple[tuple[int, int], ...]

# Dispatch thresholds (the module docstring gives the measurements behind them).
_ADJOINT_MAX_WASTE = 1.35      # stride-1 grad_input as a conv of gy while |x| <= this * |gy| (pixels)
# ... and while x has more than this many pixels per image: on small maps the weight copy the adjoint needs (flipped,
# in/out swapped) costs more than col2im's adds (2026-12-02, 2 threads, batch 32, 3x3, ms, adjoint vs col2im:
# 512>512 4x4 11.9 vs 8.4, 256>256 8x8 9.9 vs 9.3; but 128>128 16x16 10.8 vs 12.9, 64>64 32x32 14.1 vs 17.9)
_ADJOINT_MIN_PIXELS = 64
_CHUNK_COLS = 2048             # im2col columns per batch chunk: the copy stays in cache for the GEMM ...
_CHUNK_MIN_FLOPS = 8_000_000   # ... unless that is too little work per chunk
_CHUNK_BYTES = 8 << 20         # ... and never a buffer larger than this
_THREAD_MIN_FLOPS = 2_000_000  # a chunk per thread when each gets this much (a thread hand-off costs ~50 us)
_SMALL_GROUP = 4               # per-group GEMMs this thin (depthwise) run as broadcast multiply-adds
_IMAGE_MAJOR_MIN_P = 256       # output pixels per image from which each image gets its own GEMM ...
_IMAGE_MAJOR_BYTES = 2 << 20   # ... and chunks stay this small (the columns still cached for the GEMMs) ...
_IMAGE_MAJOR_MIN_FLOPS = 48_000_000  # ... but do this much work (see _plan)
_CHANNELS_LAST_MIN_C = 16      # ungrouped convs with this many input channels run channels-last ...
_CHANNELS_LAST_PIXELS = 4      # ... when the batch has this many output pixels per output channel ...
_CHANNELS_LAST_BYTES = 16 << 20  # ... on chunks whose columns take at most this
_ROWS_MIN_C = 16               # stride-1 convs with this many input channels, but fewer than ...
_ROWS_MAX_C = 96               # ... this, run as one GEMM per kernel row (``_forward_rows``) ...
_ROWS_MIN_KW = 2               # ... when the kernel is this wide ...
_ROWS_MIN_P = 64               # ... and an image has this many output pixels;
_ROWS_BYTES = 1 << 20          # its chunks' columns take at most this; its weight gradient too, when there are ...
_ROWS_GW_RATIO = 1             # ... at most this many output channels per input channel
_TAPS_MAX_WEIGHT_BYTES = 1 << 20  # col2im with the taps outermost (``_grad_input_taps``) for weights this small ...
_TAPS_BYTES = 4 << 20          # ... on chunks whose columns take at most this

# ----------------------------------------------------------------------------------------- geometry
def same_padding(kernel_size: Sequence[int], dilation: Sequence[int]) -> Pads:
    """PyTorch's ``padding='same'``: total ``dilation*(k-1)`` per dim, the odd extra element on the high side."""
    pads = []
    for k, d in zip(kernel_size, dilation):
        total = d * (k - 1)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


def _resolve_padding(padding, nd: int) -> Pads:
    """``padding``: d ints (symmetric) or d ``(lo, hi)`` pairs → d ``(lo, hi)`` pairs."""
    if isinstance(padding, int):
        padding = (padding,) * nd
    if len(padding) != nd:
        raise ValueError(f"expected padding for {nd} spatial dims, got {padding!r}")
    out = []
    for p in padding:
        if isinstance(p, (int, np.integer)):
            out.append((int(p), int(p)))
        else:
            lo, hi = p
            out.append((int(lo), int(hi)))
    return tuple(out)


def _tuple(v, nd: int, name: str) -> tuple[int, ...]:
    if isinstance(v, (int, np.integer)):
        return (int(v),) * nd
    v = tuple(int(a) for a in v)
    if len(v) != nd:
        raise ValueError(f"expected {name} for {nd} spatial dims, got {v!r}")
    return v


def conv_output_size(size: int, kernel: int, stride: int, pad: tuple[int, int], dilation: int) -> int:
    """Output length of a convolution along one dim (may be <= 0 for invalid geometry)."""
    return (size + pad[0] + pad[1] - dilation * (kernel - 1) - 1) // stride + 1


def _out_shape(spatial, ksize, stride, pads, dilation) -> tuple[int, ...]:
    out = tuple(conv_output_size(s, k, st, p, d) for s, k, st, p, d in zip(spatial, ksize, stride, pads, dilation))
    if any(o <= 0 for o in out):
        padded = " x ".join(str(s + p[0] + p[1]) for s, p in zip(spatial, pads))
        eff = " x ".join(str(d * (k - 1) + 1) for k, d in zip(ksize, dilation))
        raise RuntimeError(
            f"Calculated padded input size per channel: ({padded}). Kernel size: ({eff}). "
            "Kernel size can't be greater than actual input size"
        )
    return out


def _tap_range(size: int, tap: int, stride: int, lo: int, dilation: int, out: int):
    """Output positions ``o`` of one kernel tap whose input ``o*stride + tap*dilation - lo`` lies in the input.

    Returns ``(out_slice, in_slice)`` or ``None`` when the tap never touches the input.
    """
    off = tap * dilation - lo
    o0 = max(0, -(off // stride))          # ceil(-off / stride)
    o1 = min(out, (size - 1 - off) // stride + 1)
    if o1 <= o0:
        return None
    i0 = o0 * stride + off
    return slice(o0, o1), slice(i0, i0 + (o1 - o0 - 1) * stride + 1, stride)


def _check(x: np.ndarray, w: np.ndarray, groups: int, nd: int) -> None:
    if x.ndim != nd + 2 or w.ndim != nd + 2:
        raise RuntimeError(f"conv: expected {nd + 2}-d input and weight, got input {x.shape} and weight {w.shape}")
    if x.dtype != w.dtype:
        raise RuntimeError(f"conv: input dtype ({x.dtype}) and weight dtype ({w.dtype}) should be the same")
    if w.shape[0] % groups:
        raise RuntimeError(f"conv: out_channels ({w.shape[0]}) must be divisible by groups ({groups})")
    if x.shape[1] != w.shape[1] * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(w.shape)}, expected input{list(x.shape)} to have "
            f"{w.shape[1] * groups} channels, but got {x.shape[1]} channels instead"
        )


def _threads_pay(flops: int) -> bool:
    """Whether work of ``flops`` is shared out: more than one thread, each getting ``_THREAD_MIN_FLOPS``."""
    threads = parallel.num_threads()
    return threads > 1 and flops >= threads * _THREAD_MIN_FLOPS


def _chunks(n: int, per_item_bytes: int, per_item_cols: int, per_item_flops: int, max_bytes: int | None = None,
            min_flops: int | None = None):
    """Split the batch ``range(n)`` into cache-blocking chunks (not a per-sample loop: whole images per chunk).

    A chunk aims at ``_CHUNK_COLS`` GEMM columns (where BLAS runs fastest on these shapes) but does at least
    ``min_flops`` (default ``_CHUNK_MIN_FLOPS``) of work (so Python's per-chunk cost stays small) and its buffer
    at most ``max_bytes`` (default ``_CHUNK_BYTES``); and there are at least as many chunks as threads when that
    leaves each enough work.
    """
    max_bytes = _CHUNK_BYTES if max_bytes is None else max_bytes
    min_flops = _CHUNK_MIN_FLOPS if min_flops is None else min_flops
    step = max(-(-_CHUNK_COLS // max(1, per_item_cols)), -(-min_flops // max(1, per_item_flops)))
    step = max(1, min(step, max_bytes // max(1, per_item_bytes)))
    threads = parallel.num_threads()
    count = -(-n // step)
    if _threads_pay(n * per_item_flops):
        # a multiple of the thread count, of near-equal sizes, so the threads finish together
        count = min(n, -(-count // threads) * threads)
        step = -(-n // count)
    return [(i, min(n, i + step)) for i in range(0, n, step)]


def _to_nc_first(y_cn: np.ndarray) -> np.ndarray:
    """(C, N, *S) → contiguous (N, C, *S); each moved run is a whole contiguous plane."""
    return np.ascontiguousarray(y_cn.swapaxes(0, 1))


# ----------------------------------------------------------------------------- im2col / col2im (CN layout)
def _pad_into(xp: np.ndarray, first: int, spatial, pads):
    """Zero the borders of the padded buffer ``xp`` whose spatial axes start at axis ``first``; return the
    (destination, source) slices of the spatial axes (negative pads crop the source)."""
    dst, src = [], []
    for ax, (s, (lo, hi)) in enumerate(zip(spatial, pads)):
        a0, a1 = max(-lo, 0), s - max(-hi, 0)
        dst.append(slice(max(lo, 0), max(lo, 0) + a1 - a0))
        src.append(slice(a0, a1))
        pre = (slice(None),) * (first + ax)
        if lo > 0:
            xp[pre + (slice(0, lo),)] = 0
        if hi > 0:
            xp[pre + (slice(xp.shape[first + ax] - hi, None),)] = 0
    return dst, src


def _pad(x: np.ndarray, pads, slot: str) -> np.ndarray:
    """x: (N, C, *S) → zero-padded (N, C, *S+lo+hi) in a scratch buffer (negative pads crop); x itself if no pad."""
    if all(p == (0, 0) for p in pads):
        return x
    sp = tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pads))
    xp = _scratch(slot, x.shape[:2] + sp, x.dtype)
    dst, src = _pad_into(xp, 2, x.shape[2:], pads)
    dst, src = [slice(None)] * 2 + dst, [slice(None)] * 2 + src
    xp[tuple(dst)] = x[tuple(src)]
    return xp


def _im2col(x, ksize, stride, pads, dilation, out, layout: str = "cn", ones_row: bool = False) -> np.ndarray:
    """x: (N, C, *S) → columns, zero where a tap reads padding. A scratch buffer: valid until the next call.

    ``layout``: "cn" (C, *k, N, *out), "bl" batch last (C, *k, *out, N), or "nc" image-major (N, C, *k, *out).
    Channels-major ("cn") makes one GEMM ``(O, C*K) @ (C*K, N*P)`` cover the batch chunk; image-major makes one
    GEMM per image whose result is already that image's (O, P) output plane. The columns are one strided window
    view of the zero-padded input copied in a single call (no Python loop over taps). The copy runs along rows
    of the last spatial dim; batch-last makes those rows span the whole chunk (after one transposing copy of
    the input), which pays for small maps. ``ones_row`` ("nc" only): each image's (C*K, P) columns are followed
    by a row of ones, returned as (N, C*K + 1, P) -- the row a bias column of the weight multiplies.
    """
    xp = _pad(x, pads, "pad")
    if layout == "bl":
        xt = _scratch("xt", (*xp.shape[1:], xp.shape[0]), x.dtype)       # (C, *S, N)
        np.copyto(xt, np.moveaxis(xp, 0, -1))
        sc, *ss, sn = xt.strides
        base, shape = xt, (xt.shape[0], *ksize, *out, xt.shape[-1])
        strides = (sc, *(d * st for d, st in zip(dilation, ss)), *(s * st for s, st in zip(stride, ss)), sn)
    elif layout == "nc":
        sn, sc, *ss = xp.strides
        base, shape = xp, (xp.shape[0], xp.shape[1], *ksize, *out)
        strides = (sn, sc, *(d * st for d, st in zip(dilation, ss)), *(s * st for s, st in zip(stride, ss)))
    else:
        sn, sc, *ss = xp.strides
        base, shape = xp, (xp.shape[1], *ksize, xp.shape[0], *out)
        strides = (sc, *(d * st for d, st in zip(dilation, ss)), sn, *(s * st for s, st in zip(stride, ss)))
    view = np.lib.stride_tricks.as_strided(base, shape=shape, strides=strides, writeable=False)
    if ones_row:
        rows, p = math.prod(shape[1:2 + len(ksize)]), math.prod(out)
        cols = _scratch("cols", (shape[0], rows + 1, p), x.dtype)
        cols[:, rows] = 1
        np.copyto(cols[:, :rows].reshape(shape), view)
        return cols
    cols = _scratch("cols", shape, x.dtype)
    np.copyto(cols, view)
    return cols


def _plan(n: int, c: int, og: int, cg: int, kk: int, stride, out, itemsize: int):
    """Batch chunks and im2col layout (see ``_im2col``) of an im2col convolution with c input channels, og output
    and cg input channels per group, kk kernel taps.

    Image-major when an image has enough output pixels for a GEMM of its own (and groups are not tiny): it
    saves the transposing copy of the result, and small chunks keep the columns in cache. Batch-last for
    short rows: stride 1 along the last dim and at most 8 outputs per row. Else channels-major.
    Measured (3x3 convs, batch 32, 2 threads, 2026-11-24): 128ch 16x16 image-major 162 GF/s vs channels-major
    134; 64ch 32x32 131 vs 126; conv1 of the course net (1>32 5x5, batch 100) 1.14 ms vs 1.9 ms.
    Image-major chunks hold a few GEMMs of little work each, so they are made larger than the other layouts'
    (fewer chunks: less Python per chunk, which the two threads run one at a time under the GIL). Forward /
    grad-weight ms, 2 threads, 3 alternations (2026-12-02), 1 MB and 8 MFLOP -> 2 MB and 48 MFLOP per chunk:
    the course net's conv1 1.28-1.34/1.30-1.45 -> 1.04-1.08/1.04-1.07; ResNet's stem (32, 3, 32, 32) > 64
    1.62-1.75/1.67-1.75 -> 1.51-1.53/1.64-1.66; VGG's first conv at batch 64 2.83-3.01/2.86-2.94 -> 2.70-2.72/
    2.93-2.94.
    """
    p = math.prod(out)
    per_bytes, per_flops = c * kk * p * itemsize, 2 * og * c * kk * p
    if p >= _IMAGE_MAJOR_MIN_P and og * cg * kk > _SMALL_GROUP * 27:
        return _chunks(n, per_bytes, p, per_flops, _IMAGE_MAJOR_BYTES, _IMAGE_MAJOR_MIN_FLOPS), "nc"
    chunks = _chunks(n, per_bytes, p, per_flops)
    bl = chunks[0][1] - chunks[0][0] > 1 and stride[-1] == 1 and out[-1] <= 8
    return chunks, "bl" if bl else "cn"


@functools.lru_cache(maxsize=256)
def _taps_plan(spatial, ksize, stride, pads, dilation, out):
    """Per kernel tap that touches the input: (flat tap index, input slices, output slices) over the spatial dims.
    Within a tap no two outputs hit the same input, so a col2im add per tap is one exact strided ``+=``. Cached
    (all arguments are tuples): building it took 65 us for a 5x5 kernel, 4% of the course net's conv2
    grad-input."""
    plan = []
    for t, tap in enumerate(itertools.product(*(range(k) for k in ksize))):
        ranges = [_tap_range(s, i, st, p[0], d, o)
                  for s, i, st, p, d, o in zip(spatial, tap, stride, pads, dilation, out)]
        if all(r is not None for r in ranges):
            plan.append((t, tuple(r[1] for r in ranges), tuple(r[0] for r in ranges)))
    return plan


@functools.lru_cache(maxsize=256)
def _col2im_plan(spatial, ksize, stride, pads, dilation, out, batch_last: bool):
    """``_taps_plan`` as (tap, input, columns) index tuples for the layouts (C, N, *S) / (C, N, *out) or, with
    ``batch_last``, (C, *S, N) / (C, *out, N)."""
    taps = list(itertools.product(*(range(k) for k in ksize)))
    lead, tail = ((slice(None),), (slice(None),)) if batch_last else ((slice(None), slice(None)), ())
    return [(taps[t], (*lead, *ins, *tail), (*lead, *outs, *tail))
            for t, ins, outs in _taps_plan(spatial, ksize, stride, pads, dilation, out)]


# ----------------------------------------------------------------------------- channels-last im2col
def _channels_last(c_in: int, c_out: int, pixels: int, groups: int) -> bool:
    """Whether an ungrouped conv runs on channels-last columns (``_im2col_cl``): enough input channels for long
    contiguous runs, and ``pixels`` (batch x output pixels) large enough that the columns, not the weight, make
    the GEMM (small maps with wide layers keep the channels-first kernels, which need no copy of the weight).

    Measured (2 threads, batch 32, f/grad_input/grad_weight ms, 2026-12-02): 64>64 3x3 on 32x32 14.4/14.1/15.8
    channels-first, 13.7/13.8/13.7 channels-last; 128>128 on 16x16 11.3/11.7/13.1 vs 10.5/10.5/11.5; the course
    net's conv2 (32>64 5x5 on 12x12, batch 100) forward 4.0 vs 3.6, grad_weight 4.1 vs 3.6; but 512>512 on 4x4
    8.9/13.4/10.1 vs 11.2/12.0/10.4 (its 9.4 MB weight is copied to channels-last each call).
    """
    return groups == 1 and c_in >= _CHANNELS_LAST_MIN_C and pixels >= _CHANNELS_LAST_PIXELS * c_out


def _im2col_cl(x, ksize, stride, pads, dilation, out) -> np.ndarray:
    """x: (n, C, *S) → channels-last columns (n*P, K*C), a row per output pixel ordered (taps, channel); zero where
    a tap reads padding. A scratch buffer: valid until the next call.

    The input is first copied into a zero-bordered (n, *S', C) buffer (negative pads crop); each row of the
    columns is then K runs of C contiguous channels, so the window copy moves whole runs of C values, and the
    GEMM ``cols @ W (K*C, C_out)`` has the chunk's pixels as its long side. Measured per chunk against the
    channels-first columns (1 thread, 3x3, 2026-12-02): 64ch 32x32 0.97 -> 0.84 ms per image, 256ch 8x8 x16
    11.6 -> 8.3 ms, 512ch 4x4 x16 16.8 -> 8.4 ms (the GEMM runs at 130-145 instead of 80-105 GFLOP/s).
    """
    nb, c = x.shape[:2]
    sp = tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pads))
    xp = _scratch("pad_cl", (nb, *sp, c), x.dtype)
    dst, src = _pad_into(xp, 1, x.shape[2:], pads)
    np.copyto(xp[(slice(None), *dst)], np.moveaxis(x[(slice(None), slice(None), *src)], 1, -1))
    sn, *ss, sc = xp.strides
    view = np.lib.stride_tricks.as_strided(
        xp, shape=(nb, *out, *ksize, c), writeable=False,
        strides=(sn, *(s * st for s, st in zip(stride, ss)), *(d * st for d, st in zip(dilation, ss)), sc))
    cols = _scratch("cols", view.shape, x.dtype)
    np.copyto(cols, view)
    return cols.reshape(nb * math.prod(out), -1)


def _forward_cl(x, w_cl, ksize, stride, pads, dilation, out, bias=None) -> np.ndarray:
    """Ungrouped conv on channels-last columns; w_cl: (C_out, *k, C_in), the weight with its input channels last.

    Per batch chunk (shared out over the threads): columns (n*P, K*C), one GEMM against the weight → (n*P, C_out),
    the bias added while that is cached, and one transposing copy into the (n, C_out, *out) output.
    """
    n, c = x.shape[:2]
    o = w_cl.shape[0]
    kk, p = math.prod(ksize), math.prod(out)
    wmat = w_cl.reshape(o, kk * c).T                      # (K*C, C_out), read transposed by the BLAS
    y = memory.empty((n, o, *out), x.dtype)
    chunks = _chunks(n, kk * c * p * x.itemsize, p, 2 * o * c * kk * p, _CHANNELS_LAST_BYTES)

    def work(lo, hi):
        for n0, n1 in chunks[lo:hi]:
            nb = n1 - n0
            cols = _im2col_cl(x[n0:n1], ksize, stride, pads, dilation, out)
            r = np.matmul(cols, wmat, out=_scratch("gemm", (nb * p, o), x.dtype))
            if bias is not None:
                r += bias
            np.copyto(y[n0:n1].reshape(nb, o, p), r.reshape(nb, p, o).swapaxes(1, 2))

    parallel.run(functools.partial(work, lo, hi) for lo, hi in parallel.split(len(chunks)))
    return y


def _grad_weight_cl(gy, x, w_shape, stride, pads, dilation) -> np.ndarray:
    """Ungrouped grad-weight on channels-last columns: per chunk gw (C_out, K*C) += gy (C_out, n*P) @ cols; each
    thread's first chunk is written straight into its partial, the partials are added, and the result is moved
    to (C_out, C_in, *k) once."""
    n, c = x.shape[:2]
    o = w_shape[0]
    ksize, out = tuple(w_shape[2:]), gy.shape[2:]
    kk, p = math.prod(ksize), math.prod(out)
    chunks = _chunks(n, kk * c * p * x.itemsize, p, 2 * o * c * kk * p, _CHANNELS_LAST_BYTES)

    def work(lo, hi):
        gw = None
        for n0, n1 in chunks[lo:hi]:
            nb = n1 - n0
            cols = _im2col_cl(x[n0:n1], ksize, stride, pads, dilation, out)
            g = _scratch("gy_cl", (nb, p, o), x.dtype)
            np.copyto(g, gy[n0:n1].reshape(nb, o, p).swapaxes(1, 2))
            g = g.reshape(nb * p, o).T
            if gw is None:
                gw = np.matmul(g, cols)
            else:
                gw += np.matmul(g, cols, out=_scratch("gw_part", gw.shape, x.dtype))
        return gw

    gw = parallel.run_sum(functools.partial(work, lo, hi) for lo, hi in parallel.split(len(chunks)))
    return np.ascontiguousarray(np.moveaxis(gw.reshape(o, *ksize, c), -1, 1)).reshape(w_shape)


# ------------------------------------------------------------------------------ row-tap stride-1 convolution
def _rows_applies(c_in: int, w_shape, stride, pads, groups: int, out) -> bool:
    """Whether ``_forward_rows`` computes this conv (2d, stride 1, ungrouped, non-negative padding, a kernel
    at least ``_ROWS_MIN_KW`` wide) and is the faster kernel for it: enough input channels for its GEMMs'
    inner dimension ``C_in * kw`` and enough output pixels per image, but fewer input channels than
    ``_ROWS_MAX_C`` (wider layers go to Winograd or to the channels-last columns)."""
    if len(w_shape) != 4 or groups != 1 or any(s != 1 for s in stride) or any(p < 0 for pp in pads for p in pp):
        return False
    return w_shape[3] >= _ROWS_MIN_KW and _ROWS_MIN_C <= c_in < _ROWS_MAX_C and math.prod(out) >= _ROWS_MIN_P


def _row_columns(x, kw, pads, dilation, ow, ones_row: bool = False):
    """x: (n, C, H, W) → (n, C * kw, H' * ow), H' the padded height: entry [., c * kw + j, r * ow + q] is the
    zero-padded input at row r, column q + j * dilation -- the columns of one kernel row of taps. Kernel row i
    reads rows i * dilation .. of it, so each kernel row's columns are a strided (C * kw, oh * ow) view of this
    one buffer: 3x the input for a 3x3 kernel where full im2col columns are 9x. ``ones_row``: one more row of
    ones, (n, C * kw + 1, H' * ow), which a bias column of the weight multiplies. A scratch buffer."""
    n, c, h, w = x.shape
    (ph0, ph1), (pw0, _) = pads
    hp = h + ph0 + ph1
    buf = _scratch("rows", (n, c * kw + ones_row, hp * ow), x.dtype)
    if ones_row:
        buf[:, -1] = 1
    cols = buf[:, :c * kw].reshape(n, c, kw, hp, ow)
    if ph0:
        cols[:, :, :, :ph0] = 0
    if ph1:
        cols[:, :, :, ph0 + h:] = 0
    body = cols[:, :, :, ph0:ph0 + h]
    for j in range(kw):
        off = j * dilation - pw0                   # output column q reads input column q + off
        q0, q1 = max(0, -off), min(ow, w - off)
        if q1 <= q0:
            body[:, :, j] = 0
            continue
        if q0:
            body[:, :, j, :, :q0] = 0
        if q1 < ow:
            body[:, :, j, :, q1:] = 0
        body[:, :, j, :, q0:q1] = x[:, :, :, q0 + off:q1 + off]
    return buf


def _rows_chunks(x, w_shape, pads, out):
    """Batch chunks of the row-tap kernels: ``_row_columns`` buffers of at most ``_ROWS_BYTES``."""
    n, c, h, _ = x.shape
    o, _, kh, kw = w_shape
    p = math.prod(out)
    hp = h + pads[0][0] + pads[0][1]
    return _chunks(n, c * kw * hp * out[1] * x.itemsize, p, 2 * o * c * kh * kw * p, _ROWS_BYTES)


def _forward_rows(x, w, pads, dilation, out, bias=None) -> np.ndarray:
    """Stride-1 2d conv as kh GEMMs per image, one per kernel row: ``y (C_out, P) += W_i (C_out, C_in * kw) @
    columns_i (C_in * kw, P)``, the columns of every kernel row being views of one ``_row_columns`` buffer.

    Against im2col, the gathered columns are kh times smaller (a 3x3 conv copies 3x its input, not 9x), so a
    chunk of them stays in the core's cache, and the GEMMs write (C_out, P) planes straight into the NCHW
    output; the price is kh - 1 in-cache adds of the output. A bias is a last column of kernel row 0's weight,
    times the buffer's row of ones. Measured (2 threads, batch 32, 3x3 'same', 2026-12-02, ms, channels-last
    im2col -> rows): forward 64>64 on 32x32 15.5 -> 12.6, 32>32 on 32x32 5.8 -> 4.4, 64>64 on 16x16 3.9 -> 3.6.
    """
    n, c, h, _ = x.shape
    o, _, kh, kw = w.shape
    dh, dw = dilation
    p = out[0] * out[1]
    wr = np.ascontiguousarray(w.transpose(2, 0, 1, 3)).reshape(kh, o, c * kw)    # per kernel row, K = (c, j)
    w0 = wr[0] if bias is None else np.concatenate([wr[0], bias.reshape(o, 1)], axis=1)
    y = memory.empty((n, o, *out), x.dtype)
    chunks = _rows_chunks(x, w.shape, pads, out)

    def work(lo, hi):
        for n0, n1 in chunks[lo:hi]:
            nb = n1 - n0
            cols = _row_columns(x[n0:n1], kw, pads, dw, out[1], ones_row=bias is not None)
            yc = y[n0:n1].reshape(nb, o, p)
            np.matmul(w0, cols[:, :, :p], out=yc)
            cols = cols[:, :c * kw]
            tmp = _scratch("rows_acc", (nb, o, p), x.dtype) if kh > 1 else None
            for i in range(1, kh):
                yc += np.matmul(wr[i], cols[:, :, i * dh * out[1]:i * dh * out[1] + p], out=tmp)

    parallel.run(functools.partial(work, lo, hi) for lo, hi in parallel.split(len(chunks)))
    return y


def _grad_weight_rows(gy, x, w_shape, pads, dilation, bias: bool = False):
    """Weight gradient of ``_forward_rows``'s convolution: per image and kernel row, ``gw_i^T (C_in * kw,
    C_out) += columns_i (C_in * kw, P) @ gy^T (P, C_out)``, gy^T one transposing copy per chunk (that GEMM
    orientation ran at 131 GFLOP/s against 99 for ``gy @ columns_i^T``, 64>64 on 32x32, 1 thread). With
    ``bias``, returns (gw, gb): kernel row 0's GEMM takes the buffer's row of ones, whose product is the
    per-channel sum of gy. Measured (2 threads, batch 32, 3x3 'same', 2026-12-02, ms, channels-last im2col ->
    rows): 64>64 on 32x32 15.0 -> 12.6, 32>32 on 32x32 6.5 -> 5.0, 64>64 on 16x16 3.9 -> 3.5; but 64>128 on 32x32
    24.2 -> 25.6 and 64>128 on 16x16 (batch 64, Winograd) 11.8 -> 13.4, hence ``_ROWS_GW_RATIO``."""
    n, c, h, _ = x.shape
    o, _, kh, kw = w_shape
    out = gy.shape[2:]
    dh, dw = dilation
    p = out[0] * out[1]
    chunks = _rows_chunks(x, w_shape, pads, out)
    ck = c * kw

    def work(lo, hi):
        gw = np.zeros((kh, ck + bias, o), x.dtype)
        part = np.empty((ck + bias, o), x.dtype)
        for n0, n1 in chunks[lo:hi]:
            nb = n1 - n0
            cols = _row_columns(x[n0:n1], kw, pads, dw, out[1], ones_row=bias)
            g = _scratch("rows_gy", (nb, p, o), x.dtype)
            np.copyto(g, gy[n0:n1].reshape(nb, o, p).swapaxes(1, 2))
            for b in range(nb):
                gw[0] += np.matmul(cols[b, :, :p], g[b], out=part)
                for i in range(1, kh):
                    off = i * dh * out[1]
                    gw[i, :ck] += np.matmul(cols[b, :ck, off:off + p], g[b], out=part[:ck])
        return gw

    gw = parallel.run_sum(functools.partial(work, lo, hi) for lo, hi in parallel.split(len(chunks)))
    w_grad = np.ascontiguousarray(gw[:, :ck].reshape(kh, c, kw, o).transpose(3, 1, 0, 2))
    return (w_grad, np.ascontiguousarray(gw[0, ck])) if bias else w_grad


# ----------------------------------------------------------------------------------------- forward
def _group_matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out (G, M, N) = a (G, M, K) @ b (G, K, N): BLAS per group, or broadcast multiply-adds over K when the
    groups are tiny (depthwise: a BLAS call per channel would be a matrix-vector product)."""
    g, m, k = a.shape
    if g == 1:
        np.matmul(a[0], b[0], out=out[0])
    elif m * k <= _SMALL_GROUP * 27 and (m <= _SMALL_GROUP or k <= _SMALL_GROUP):
        tmp = _scratch("madd", out.shape, out.dtype)
        for j in range(k):
            np.multiply(a[:, :, j, None], b[:, None, j], out=out if j == 0 else tmp)
            if j:
                out += tmp
    else:
        np.matmul(a, b, out=out)
    return out


def _forward_im2col(x, w, stride, pads, dilation, groups, out, bias=None) -> np.ndarray:
    """GEMMs on im2col buffers, one cache-sized batch chunk at a time, the chunks shared out over the threads.

    Per chunk: gather the columns, then either one GEMM per image straight into the output ("nc"), or one GEMM
    (batched over groups) → (C_out, n*P) and a transposing copy of that still-cached result into the
    (N, C_out, *out) output.
    """
    n, c = x.shape[:2]
    o, cg = w.shape[:2]
    og = o // groups
    ksize = w.shape[2:]
    kk, p = math.prod(ksize), math.prod(out)
    wg = w.reshape(groups, og, cg * kk)
    y = memory.empty((n, o, *out), x.dtype)   # (a large output reuses a freed buffer)
    chunks, layout = _plan(n, c, og, cg, kk, stride, out, x.itemsize)
    bg = None if bias is None else bias.reshape(groups, og, 1)
    # image-major, ungrouped: the bias is a last column of the weight, times a row of ones under each image's
    # columns, so the GEMMs write finished outputs (no pass over the output for the bias)
    fold = bg is not None and layout == "nc" and groups == 1
    if fold:
        wg = np.concatenate([wg[0], bias[:, None]], axis=1)[None]
    elif bg is not None and layout == "nc":        # added to (n, groups, og, p) chunks: as (og, p) planes
        bg = per_channel(bias, p, n).reshape(groups, og, -1)

    def work(lo, hi):
        for n0, n1 in chunks[lo:hi]:
            cols = _im2col(x[n0:n1], ksize, stride, pads, dilation, out, layout, ones_row=fold)
            if layout == "nc":
                yc = y[n0:n1].reshape(n1 - n0, groups, og, p)
                np.matmul(wg, cols.reshape(n1 - n0, groups, -1, p), out=yc)
                if bg is not None and not fold:
                    yc += bg                      # while the chunk is in cache
                continue
            m = (n1 - n0) * p
            r = _group_matmul(wg, cols.reshape(groups, cg * kk, m), _scratch("gemm", (groups, og, m), x.dtype))
            if bg is not None:
                r += bg
            if layout == "bl":
                y[n0:n1] = np.moveaxis(r.reshape(o, *out, n1 - n0), -1, 0)
            else:
                y[n0:n1] = r.reshape(o, n1 - n0, *out).swapaxes(0, 1)

    parallel.run(functools.partial(work, lo, hi) for lo, hi in parallel.split(len(chunks)))
    return y


def _subsample(x, stride):
    return x if all(s == 1 for s in stride) else \
        x[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride)]


def _image_ranges(n: int, flops: int) -> list[tuple[int, int]]:
    """The batch ``range(n)`` as one range per thread when that leaves each ``_THREAD_MIN_FLOPS``, else one."""
    return parallel.split(n) if _threads_pay(flops) else [(0, n)]


def _forward_pointwise(x, w, stride, groups, bias=None) -> np.ndarray:
    """1x1 unpadded conv: subsample, then a GEMM per image straight into (N, O, P) (no im2col, no transposes),
    the images shared out over the threads (ResNet-18's 64>128 stride-2 shortcut, batch 32: 1.70 -> 1.07 ms)."""
    x = _subsample(x, stride)
    n, c = x.shape[:2]
    o = w.shape[0]
    p = math.prod(x.shape[2:])
    wg = w.reshape(groups, o // groups, c // groups)
    y = memory.empty((n, o, *x.shape[2:]), np.result_type(x, w))
    yv = y.reshape(n, groups, o // groups, p)

    def work(lo, hi):
        # (a strided subsample is copied here, per thread, by the reshape)
        np.matmul(wg, x[lo:hi].reshape(hi - lo, groups, c // groups, p), out=yv[lo:hi])
        if bias is not None:
            yv[lo:hi] += bias.reshape(groups, o // groups, 1)

    parallel.run(functools.partial(work, lo, hi) for lo, hi in _image_ranges(n, 2 * n * o * c // groups * p))
    return y


def _grad_weight_pointwise(gy, x, w_shape, stride, groups) -> np.ndarray:
    """Weight gradient of a 1x1 unpadded conv: per image gy_i (Og, P) @ x_i^T (P, Cg) (x subsampled), summed
    over the images, each thread its own range (ResNet-18's 64>128 stride-2 shortcut, batch 32: the
    channels-last columns took 2.53 ms, this 1.15)."""
    x = _subsample(x, stride)
    n, c = x.shape[:2]
    o, cg = w_shape[:2]
    og = o // groups
    p = math.prod(x.shape[2:])

    def work(lo, hi):
        xr = x[lo:hi].reshape(hi - lo, groups, cg, p)
        parts = np.matmul(gy[lo:hi].reshape(hi - lo, groups, og, p), xr.swapaxes(-1, -2))
        return parts.sum(axis=0)

    gw = parallel.run_sum(functools.partial(work, lo, hi) for lo, hi in _image_ranges(n, 2 * n * o * cg * p))
    return gw.reshape(w_shape)


def _is_pointwise(ksize, pads, out) -> bool:
    return math.prod(ksize) == 1 and all(p == (0, 0) for p in pads) and math.prod(out) >= 64


def conv_forward(x: np.ndarray, w: np.ndarray, stride, padding, dilation, groups: int = 1,
                 bias: np.ndarray | None = None) -> np.ndarray:
    """Cross-correlation as ``torch.nn.functional.conv{1,2,3}d``.

    x: (N, C_in, *S); w: (C_out, C_in/groups, *k); stride, dilation: d ints; padding: d ints or d (lo, hi)
    pairs (use ``same_padding`` for 'same'); bias: (C_out,) or None, added to each chunk's GEMM result while it
    is in cache (a separate pass over the output cost 0.3 ms of the course net's 14 ms step); returns
    y: (N, C_out, *out), C-contiguous, x's dtype.
    """
    nd = w.ndim - 2
    _check(x, w, groups, nd)
    stride, dilation = _tuple(stride, nd, "stride"), _tuple(dilation, nd, "dilation")
    pads = _resolve_padding(padding, nd)
    ksize = w.shape[2:]
    out = _out_shape(x.shape[2:], ksize, stride, pads, dilation)
    if bias is not None and bias.dtype != x.dtype:
        bias = bias.astype(x.dtype)
    if x.shape[0] == 0 or w.shape[0] == 0 or x.shape[1] == 0:
        y = np.zeros((x.shape[0], w.shape[0], *out), x.dtype)
        if bias is not None and x.shape[0]:
            y += bias.reshape((1, -1) + (1,) * nd)
        return y
    if _is_pointwise(ksize, pads, out):
        return _forward_pointwise(x, w, stride, groups, bias)
    if winograd.applies(x.shape, w.shape, stride, pads, dilation, groups, x.dtype):
        return winograd.conv3x3(x, winograd.weight(w), pads, bias)
    if _rows_applies(x.shape[1], w.shape, stride, pads, groups, out):
        return _forward_rows(x, w, pads, dilation, out, bias)
    if _channels_last(x.shape[1], w.shape[0], x.shape[0] * math.prod(out), groups):
        return _forward_cl(x, np.moveaxis(w, 1, -1), ksize, stride, pads, dilation, out, bias)
    return _forward_im2col(x, w, stride, pads, dilation, groups, out, bias)


# ------------------------------------------------------------------------------------- grad input
def _flip_weight(w: np.ndarray, groups: int) -> np.ndarray:
    """(C_out, C_in/g, *k) → (C_in, C_out/g, *k) flipped in space: the weight of the adjoint stride-1 conv."""
    o, cg = w.shape[:2]
    ks = w.shape[2:]
    wt = w.reshape(groups, o // groups, cg, *ks).swapaxes(1, 2).reshape(groups * cg, o // groups, *ks)
    return np.ascontiguousarray(wt[(slice(None), slice(None)) + (slice(None, None, -1),) * len(ks)])


def conv_grad_input(gy: np.ndarray, w: np.ndarray, x_shape, stride, padding, dilation,
                    groups: int = 1) -> np.ndarray:
    """Gradient of ``conv_forward`` w.r.t. its input (= a transposed conv of gy).

    gy: (N, C_out, *out); w: (C_out, C_in/groups, *k); returns gx of shape ``x_shape`` in gy's dtype.
    Stride 1 with 'same'-like padding: a stride-1 conv of gy with the spatially flipped, in/out-swapped weight
    and padding ``dilation*(k-1) - lo`` (the forward kernels, at forward speed). Otherwise (strided, or an
    unpadded conv whose adjoint would pad gy by k-1 and multiply the work), per cache-sized batch chunk: one
    GEMM ``W^T @ gy`` to columns (C_in*K, n*P), then col2im, one strided add per tap (``_grad_input_taps``, or
    ``_grad_input_col2im`` for grouped convs, 1x1 kernels and weights over 1 MB).
    """
    nd = w.ndim - 2
    stride, dilation = _tuple(stride, nd, "stride"), _tuple(dilation, nd, "dilation")
    pads = _resolve_padding(padding, nd)
    x_shape = tuple(x_shape)
    ksize = w.shape[2:]
    out = gy.shape[2:]
    n, c = x_shape[:2]
    if gy.dtype != w.dtype:
        raise RuntimeError(f"conv: grad_output dtype ({gy.dtype}) and weight dtype ({w.dtype}) should be the same")
    if math.prod(x_shape) == 0 or gy.size == 0:
        return np.zeros(x_shape, gy.dtype)
    adjoint = all(s == 1 for s in stride) and math.prod(out) * _ADJOINT_MAX_WASTE >= math.prod(x_shape[2:])
    if adjoint:
        tpads = tuple((d * (k - 1) - lo, s - o + lo) for s, k, d, (lo, _), o
                      in zip(x_shape[2:], ksize, dilation, pads, out))
        if winograd.applies((n, w.shape[0], *out), (c, w.shape[0], *ksize), stride, tpads, dilation, groups,
                            gy.dtype):
            return winograd.conv3x3(gy, winograd.weight_adjoint(w), tpads)
    if adjoint and (w.shape[0] <= 4 * c or math.prod(ksize) == 1) \
            and (math.prod(x_shape[2:]) > _ADJOINT_MIN_PIXELS or math.prod(ksize) == 1):
        # the adjoint is a stride-1 conv of gy with the flipped weight: forward speed when gy needs little
        # padding ('same' convs) and the gathered K*C_out columns are not much wider than col2im's K*C_in
        tpads = _resolve_padding(tpads, nd)
        if _channels_last(w.shape[0], c, n * math.prod(x_shape[2:]), groups) \
                and not _is_pointwise(ksize, tpads, x_shape[2:]) \
                and not _rows_applies(w.shape[0], (c, w.shape[0], *ksize), stride, tpads, groups, x_shape[2:]):
            # the flipped weight with its (adjoint) input channels last, in one copy: (C_in, *k, C_out)
            w_cl = w.reshape(w.shape[0], c, -1)[:, :, ::-1].transpose(1, 2, 0).reshape(c, *ksize, w.shape[0])
            return _forward_cl(gy, w_cl, ksize, stride, tpads, dilation, x_shape[2:])
        return conv_forward(gy, _flip_weight(w, groups), stride, tpads, dilation, groups)
    if groups == 1 and math.prod(ksize) > 1 and w.nbytes <= _TAPS_MAX_WEIGHT_BYTES:
        return _grad_input_taps(gy, w, x_shape, stride, pads, dilation)
    return _grad_input_col2im(gy, w, x_shape, stride, pads, dilation, groups)


def _grad_input_taps(gy, w, x_shape, stride, pads, dilation) -> np.ndarray:
    """Ungrouped col2im with the kernel taps outermost. Per batch chunk: gy moved to (*out, n, C_out), one batched
    GEMM against the weight's taps (K, C_out, C_in) to columns (K, *out, n*C_in), then one add per tap into a
    (*S, n*C_in) buffer -- rows of n*C_in contiguous values on both sides -- and one transposing copy into gx.

    ``_grad_input_col2im``'s adds run over rows of the last spatial dim, or of the chunk's images (batch-last),
    so small maps give short rows: the course net's conv2 (gy of 4x4) spent ~45% of its grad-input in 25 adds of
    50-long rows. Here a row is n*C_in long (800-1600) and the GEMM (K GEMMs of (n*P, C_out) @ (C_out, C_in),
    one NumPy call) runs near the BLAS's peak. The price is a copy of the weight to (K, C_out, C_in), hence
    only for small weights (2026-12-06, 2 cores AMD EPYC, ms, two alternations, col2im -> this: the course net's
    conv2 1.59-1.79 -> 1.44-1.61; 32>64 5x5 on 12x12, batch 100, 5.4-6.7 -> 5.0-5.9; 64>128 3x3 stride 2 on
    32x32, batch 32, 11.6-13.1 -> 10.6-11.9; but 256>512 stride 2 on 8x8 7.5-8.1 -> 8.6-9.5 and 512>512 on 4x4
    13.1 -> 15.2-15.4, whose 4.7 / 9.4 MB weights are copied each call; 1x1 kernels, which add nothing, slower)."""
    n, c = x_shape[:2]
    o = w.shape[0]
    ksize, out, spatial = tuple(w.shape[2:]), tuple(gy.shape[2:]), tuple(x_shape[2:])
    kk, p = math.prod(ksize), math.prod(out)
    dt = gy.dtype
    wt = np.ascontiguousarray(np.moveaxis(w.reshape(o, c, kk), -1, 0))      # (K, C_out, C_in)
    chunks = _chunks(n, kk * p * c * gy.itemsize, p, 2 * o * c * kk * p, _TAPS_BYTES)
    plan = _taps_plan(spatial, ksize, tuple(stride), tuple(map(tuple, pads)), tuple(dilation), out)
    gx = np.empty(x_shape, dt)
    nd = len(out)
    # the adds as one compiled, GIL-free loop (``fused.py``: the threads' 25 short add calls waited on each other)
    col2im = fused.col2im_kernel() if nd == 2 and dt in fused.DTYPES else None

    def work(lo, hi):
        for n0, n1 in chunks[lo:hi]:
            nb = n1 - n0
            g = _scratch("gy", (*out, nb, o), dt)
            np.copyto(g, np.moveaxis(gy[n0:n1], (0, 1), (nd, nd + 1)))
            cols = np.matmul(g.reshape(1, p * nb, o), wt, out=_scratch("cols", (kk, p * nb, c), dt))
            acc = _scratch("gx", (*spatial, nb * c), dt)
            if col2im is not None:
                col2im(cols.reshape(*ksize, *out, nb * c), acc, *stride, *dilation, pads[0][0], pads[1][0])
            else:
                cols = cols.reshape(kk, *out, nb * c)
                acc.fill(0)
                for t, dst, src in plan:
                    acc[dst] += cols[t][src]
            np.copyto(gx[n0:n1], np.moveaxis(acc.reshape(*spatial, nb, c), (nd, nd + 1), (0, 1)))

    parallel.run(functools.partial(work, lo, hi) for lo, hi in parallel.split(len(chunks)))
    return gx


def _grad_input_col2im(gy, w, x_shape, stride, pads, dilation, groups) -> np.ndarray:
    """Per batch chunk: columns = W^T @ gy (one GEMM), then one strided add per tap into gx.

    The adds run over rows of the last spatial dim; when those are short (small maps, strides) the chunk works
    batch-last, (C, *S, n), so that a row of the add spans the whole chunk — at the price of two transposing
    copies of chunk-sized (cached) arrays.
    """
    n, c = x_shape[:2]
    o, cg = w.shape[:2]
    og = o // groups
    ksize, out, spatial = w.shape[2:], gy.shape[2:], x_shape[2:]
    kk, p = math.prod(ksize), math.prod(out)
    wt = w.reshape(groups, og, cg * kk).swapaxes(1, 2)        # (G, Cg*K, Og), read transposed by the BLAS
    if groups > 1:
        wt = np.ascontiguousarray(wt)
    chunks = _chunks(n, c * kk * p * gy.itemsize, p, 2 * og * c * kk * p)
    nb = chunks[0][1]
    batch_last = nb > 1 and (stride[-1] == 1 or nb > out[-1])
    plan = _col2im_plan(tuple(spatial), tuple(ksize), tuple(stride), tuple(map(tuple, pads)), tuple(dilation),
                        tuple(out), batch_last)
    gx = np.empty(x_shape, gy.dtype) if batch_last else np.zeros(x_shape, gy.dtype)

    def work(lo, hi):
        for n0, n1 in chunks[lo:hi]:
            m = (n1 - n0) * p
            chunk = gy[n0:n1]
            g = _scratch("gy", (o, *out, n1 - n0) if batch_last else (o, n1 - n0, *out), gy.dtype)
            np.copyto(g, np.moveaxis(chunk, 0, -1) if batch_last else chunk.swapaxes(0, 1))
            gcols = _group_matmul(wt, g.reshape(groups, og, m), _scratch("cols", (groups, cg * kk, m), gy.dtype))
            if batch_last:
                gcols = gcols.reshape(c, *ksize, *out, n1 - n0)
                acc = _scratch("gx", (c, *spatial, n1 - n0), gy.dtype)
                acc.fill(0)
            else:
                gcols = gcols.reshape(c, *ksize, n1 - n0, *out)
                acc = gx[n0:n1].swapaxes(0, 1)
            for tap, dst, src in plan:
                acc[dst] += gcols[(slice(None), *tap)][src]
            if batch_last:
                np.copyto(gx[n0:n1], np.moveaxis(acc, -1, 0))

    parallel.run(functools.partial(work, lo, hi) for lo, hi in parallel.split(len(chunks)))
    return gx


# ------------------------------------------------------------------------------------ grad weight
def _grad_weight_im2col(gy, x, w_shape, stride, pads, dilation, groups, bias: bool = False):
    """Per batch chunk: gw (G, Og, Cg*K) += gy (G, Og, n*P) @ cols^T, the pixels being the GEMM's K.

    With ``bias``, returns (gw, gb): ungrouped image-major GEMMs take a row of ones under each image's columns
    (see ``_im2col``), so their last output column is the bias gradient, the per-channel sum of gy, at no cost;
    other layouts sum gy separately."""
    n, c = x.shape[:2]
    o, cg = w_shape[:2]
    og = o // groups
    ksize = tuple(w_shape[2:])
    out = gy.shape[2:]
    kk, p = math.prod(ksize), math.prod(out)
    chunks, layout = _plan(n, c, og, cg, kk, stride, out, x.itemsize)
    fold = bias and layout == "nc" and groups == 1
    width = cg * kk + fold

    def work(lo, hi):
        # each thread's first chunk writes its partial sum (no zeroed array and no add pass: 9.4 MB each for
        # ResNet-18's 512-channel layers)
        gw = None
        shape = (groups, og, width)
        for n0, n1 in chunks[lo:hi]:
            nb, m = n1 - n0, (n1 - n0) * p
            cols = _im2col(x[n0:n1], ksize, stride, pads, dilation, out, layout, ones_row=fold)
            if layout == "nc":
                # one GEMM per image: gy_i (Og, P) @ cols_i^T (P, Cg*K), then the sum over the chunk's images
                parts = np.matmul(gy[n0:n1].reshape(nb, groups, og, p),
                                  cols.reshape(nb, groups, width, p).swapaxes(-1, -2),
                                  out=_scratch("gw_parts", (nb, groups, og, width), x.dtype))
                if gw is None:
                    gw = parts.sum(axis=0) if nb > 1 else parts[0].copy()
                else:
                    gw += parts.sum(axis=0) if nb > 1 else parts[0]
                continue
            cols = cols.reshape(groups, cg * kk, m)
            bl = layout == "bl"
            g = _scratch("gy", (o, *out, nb) if bl else (o, nb, *out), x.dtype)
            np.copyto(g, np.moveaxis(gy[n0:n1], 0, -1) if bl else gy[n0:n1].swapaxes(0, 1))
            if gw is None:
                gw = _group_matmul(g.reshape(groups, og, m), cols.swapaxes(1, 2), np.empty(shape, x.dtype))
            else:
                gw += _group_matmul(g.reshape(groups, og, m), cols.swapaxes(1, 2), _scratch("gw_part", shape, x.dtype))
        return np.zeros(shape, x.dtype) if gw is None else gw

    gw = parallel.run_sum(functools.partial(work, lo, hi) for lo, hi in parallel.split(len(chunks)))
    if fold:
        return np.ascontiguousarray(gw[0, :, :-1]).reshape(w_shape), np.ascontiguousarray(gw[0, :, -1])
    if bias:
        return gw.reshape(w_shape), _bias_grad(gy)
    return gw.reshape(w_shape)


def _bias_grad(gy: np.ndarray) -> np.ndarray:
    from .. import sum_axes          # (the backend package imports this module)
    return sum_axes(gy, (0,) + tuple(range(2, gy.ndim)))


def conv_grad_weight(gy: np.ndarray, x: np.ndarray, w_shape, stride, padding, dilation,
                     groups: int = 1, bias: bool = False):
    """Gradient of ``conv_forward`` w.r.t. its weight.

    gy: (N, C_out, *out); x: (N, C_in, *S); returns gw of shape ``w_shape`` = (C_out, C_in/groups, *k), or with
    ``bias`` the pair (gw, gb), gb (C_out,) the gradient w.r.t. the bias (free in the image-major layout).
    Wide 3x3 stride-1 layers by Winograd (``winograd.grad_weight``), like their forward and grad-input.
    """
    nd = x.ndim - 2
    stride, dilation = _tuple(stride, nd, "stride"), _tuple(dilation, nd, "dilation")
    pads = _resolve_padding(padding, nd)
    w_shape = tuple(w_shape)
    if x.dtype != gy.dtype:
        raise RuntimeError(f"conv: grad_output dtype ({gy.dtype}) and input dtype ({x.dtype}) should be the same")
    if gy.size == 0 or math.prod(w_shape) == 0:
        gw = np.zeros(w_shape, x.dtype)
    elif winograd.applies(x.shape, w_shape, stride, pads, dilation, groups, x.dtype, weight_gradient=True):
        gw = winograd.grad_weight(x, gy, pads)
    elif groups == 1 and _is_pointwise(w_shape[2:], pads, gy.shape[2:]):
        gw = _grad_weight_pointwise(gy, x, w_shape, stride, groups)
    elif w_shape[0] <= _ROWS_GW_RATIO * x.shape[1] \
            and _rows_applies(x.shape[1], w_shape, stride, pads, groups, gy.shape[2:]):
        return _grad_weight_rows(gy, x, w_shape, pads, dilation, bias)
    elif _channels_last(x.shape[1], w_shape[0], x.shape[0] * math.prod(gy.shape[2:]), groups):
        gw = _grad_weight_cl(gy, x, w_shape, stride, pads, dilation)
    else:
        return _grad_weight_im2col(gy, x, w_shape, stride, pads, dilation, groups, bias)
    return (gw, _bias_grad(gy)) if bias else gw


# --------------------------------------------------------------------------------- transposed conv
def conv_transpose_output_size(size: int, kernel: int, stride: int, pad, output_padding: int,
                               dilation: int) -> int:
    """Output length of ``conv_transpose`` along one dim (PyTorch's formula)."""
    lo, hi = (pad, pad) if isinstance(pad, (int, np.integer)) else pad
    return (size - 1) * stride - lo - hi + dilation * (kernel - 1) + output_padding + 1


def conv_transpose_forward(x: np.ndarray, w: np.ndarray, stride, padding, output_padding, dilation,
                           groups: int = 1) -> np.ndarray:
    """``torch.nn.functional.conv_transpose{1,2,3}d`` without bias.

    x: (N, C_in, *S); w: (C_in, C_out/groups, *k); returns (N, C_out, *out). It is exactly
    ``conv_grad_input(x, w, (N, C_out, *out), ...)``: the adjoint of the conv whose weight is w.
    """
    nd = w.ndim - 2
    stride, dilation = _tuple(stride, nd, "stride"), _tuple(dilation, nd, "dilation")
    output_padding = _tuple(output_padding, nd, "output_padding")
    pads = _resolve_padding(padding, nd)
    if x.ndim != nd + 2 or x.shape[1] != w.shape[0]:
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(w.shape)}, expected input{list(x.shape)} to have "
            f"{w.shape[0]} channels, but got {x.shape[1]} channels instead"
        )
    if x.dtype != w.dtype:
        raise RuntimeError(f"conv_transpose: input dtype ({x.dtype}) and weight dtype ({w.dtype}) should be the same")
    for op, s, d in zip(output_padding, stride, dilation):
        if op >= s and op >= d:
            raise RuntimeError("output padding must be smaller than either stride or dilation, "
                               f"but got output_padding={output_padding}, stride={stride}, dilation={dilation}")
    out = tuple(conv_transpose_output_size(s, k, st, p, op, d)
                for s, k, st, p, op, d in zip(x.shape[2:], w.shape[2:], stride, pads, output_padding, dilation))
    if any(o <= 0 for o in out):
        raise RuntimeError(f"conv_transpose: computed output size {out} is too small")
    x_shape = (x.shape[0], w.shape[1] * groups, *out)
    return conv_grad_input(x, w, x_shape, stride, pads, dilation, groups)


def conv_transpose_grad_input(gy: np.ndarray, w: np.ndarray, stride, padding, dilation,
                              groups: int = 1) -> np.ndarray:
    """Gradient of ``conv_transpose_forward`` w.r.t. its input: ``conv_forward(gy, w, ...)``.

    gy: (N, C_out, *out); w: (C_in, C_out/groups, *k); returns (N, C_in, *S). output_padding only adds
    trailing outputs that no input feeds, so it is not needed here.
    """
    return conv_forward(gy, w, stride, padding, dilation, groups)


def conv_transpose_grad_weight(gy: np.ndarray, x: np.ndarray, w_shape, stride, padding, dilation,
                               groups: int = 1) -> np.ndarray:
    """Gradient of ``conv_transpose_forward`` w.r.t. its weight: ``conv_grad_weight(x, gy, w_shape, ...)``
    (the roles of input and output grad swap; gy: (N, C_out, *out), x: (N, C_in, *S))."""
    return conv_grad_weight(x, gy, w_shape, stride, padding, dilation, groups)
