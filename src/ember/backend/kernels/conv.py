"""Convolution kernels on NumPy arrays (no autograd): forward, grad-input, grad-weight, transposed conv.

SUMMARY_PLACEHOLDER
"""
from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Sequence

import numpy as np

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

# Dispatch thresholds (see the module docstring for the measurements behind them).
_SHIFTED_MIN_PIXELS = 256      # stride-1 outputs with at least this many pixels per plane use shifted GEMMs
_SHIFTED_MAX_WASTE = 1.35      # ... unless the padded grid wastes more than this fraction of work
_BLOCK_BYTES = 2 << 20         # cache block of the shifted-im2col buffer (about a core's L2)
_CHUNK_BYTES = 4 << 20         # im2col buffer per batch chunk: stays in cache between the copy and the GEMM
_CHUNK_MIN_COLS = 512          # ... but a chunk's GEMM gets at least this many columns (small maps)
_SMALL_GROUP = 4               # groups with C_in/g * C_out/g <= this use multiply-adds instead of GEMMs

_tls = threading.local()


def _scratch(slot: str, shape, dtype) -> np.ndarray:
    """A per-thread work buffer reused across calls (fresh memory costs page faults as much as a copy pass).

    Only for temporaries bounded by ``_CHUNK_BYTES``-sized chunks; never returned to a caller.
    """
    nbytes = math.prod(shape) * np.dtype(dtype).itemsize
    bufs = _tls.__dict__.setdefault("bufs", {})
    buf = bufs.get(slot)
    if buf is None or buf.nbytes < nbytes:
        buf = bufs[slot] = np.empty(max(nbytes, 1 << 16), np.uint8)
    return buf[:nbytes].view(dtype).reshape(shape)


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


def _chunks(n: int, per_item_bytes: int, per_item_cols: int):
    """Split the batch ``range(n)`` into cache-blocking chunks: a chunk's work buffer stays near
    ``_CHUNK_BYTES`` while its GEMM keeps at least ``_CHUNK_MIN_COLS`` columns."""
    step = max(1, _CHUNK_BYTES // max(1, per_item_bytes), -(-_CHUNK_MIN_COLS // max(1, per_item_cols)))
    return [(i, min(n, i + step)) for i in range(0, n, step)]


def _to_nc_first(y_cn: np.ndarray) -> np.ndarray:
    """(C, N, *S) → contiguous (N, C, *S); each moved run is a whole contiguous plane."""
    return np.ascontiguousarray(y_cn.swapaxes(0, 1))


# ----------------------------------------------------------------------------- im2col / col2im (CN layout)
def _im2col(x, ksize, stride, pads, dilation, out, slot: str | None = None) -> np.ndarray:
    """x: (N, C, *S) → cols: (C, *k, N, *out), zero where a tap reads padding.

    Channels-major ("CN") layout: one GEMM ``(O, C*K) @ (C*K, N*P)`` covers the batch, and every copy here
    moves contiguous rows of x (no channels-last transpose).
    """
    n, c = x.shape[:2]
    xt = x.swapaxes(0, 1)
    shape = (c, *ksize, n, *out)
    cols = np.empty(shape, x.dtype) if slot is None else _scratch(slot, shape, x.dtype)
    lead = (slice(None), slice(None))
    for tap in itertools.product(*(range(k) for k in ksize)):
        dst = cols[(slice(None), *tap)]
        ranges = [_tap_range(s, t, st, p[0], d, o)
                  for s, t, st, p, d, o in zip(x.shape[2:], tap, stride, pads, dilation, out)]
        if any(r is None for r in ranges):
            dst[...] = 0
            continue
        dst[lead + tuple(r[0] for r in ranges)] = xt[lead + tuple(r[1] for r in ranges)]
        for ax, (o_sl, _) in enumerate(ranges):
            pre = (slice(None),) * (2 + ax)
            if o_sl.start > 0:
                dst[pre + (slice(0, o_sl.start),)] = 0
            if o_sl.stop < out[ax]:
                dst[pre + (slice(o_sl.stop, None),)] = 0
    return cols


def _col2im_add(gx: np.ndarray, gcols: np.ndarray, ksize, stride, pads, dilation, out) -> None:
    """Adds gcols: (C, *k, N, *out) into gx: (N, C, *S) — the adjoint of ``_im2col``.

    One strided add per tap; within a tap no two outputs hit the same input, so ``+=`` is exact.
    """
    gxt = gx.swapaxes(0, 1)
    lead = (slice(None), slice(None))
    for tap in itertools.product(*(range(k) for k in ksize)):
        ranges = [_tap_range(s, t, st, p[0], d, o)
                  for s, t, st, p, d, o in zip(gx.shape[2:], tap, stride, pads, dilation, out)]
        if any(r is None for r in ranges):
            continue
        gxt[lead + tuple(r[1] for r in ranges)] += gcols[(slice(None), *tap)][lead + tuple(r[0] for r in ranges)]


def _pad_cn(x: np.ndarray, pads) -> np.ndarray:
    """x: (N, C, *S) → contiguous zero-padded (C, N, *S+lo+hi); negative pads crop."""
    n, c = x.shape[:2]
    sp = tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pads))
    xp = np.empty((c, n, *sp), x.dtype)
    dst, src = [slice(None)] * 2, [slice(None)] * 2
    for ax, (s, (lo, hi)) in enumerate(zip(x.shape[2:], pads)):
        a0, a1 = max(-lo, 0), s - max(-hi, 0)
        dst.append(slice(max(lo, 0), max(lo, 0) + a1 - a0))
        src.append(slice(a0, a1))
        pre = (slice(None),) * (2 + ax)
        if lo > 0:
            xp[pre + (slice(0, lo),)] = 0
        if hi > 0:
            xp[pre + (slice(sp[ax] - hi, None),)] = 0
    xp[tuple(dst)] = x.swapaxes(0, 1)[tuple(src)]
    return xp


def _grid_offsets(sp, ksize, dilation) -> list[int]:
    """Flat offset of every kernel tap on a padded grid of shape ``sp`` (row-major), taps in C order."""
    gstr = [math.prod(sp[i + 1:]) for i in range(len(sp))]
    return [sum(t * d * g for t, d, g in zip(tap, dilation, gstr))
            for tap in itertools.product(*(range(k) for k in ksize))]


def _use_shifted(stride, ksize, pads, out, spatial) -> bool:
    """Shifted GEMMs pay on large stride-1 maps where the padded grid adds little wasted work."""
    if any(s != 1 for s in stride) or math.prod(ksize) == 1 or math.prod(out) < _SHIFTED_MIN_PIXELS:
        return False
    grid = math.prod(s + lo + hi for s, (lo, hi) in zip(spatial, pads))
    return grid <= _SHIFTED_MAX_WASTE * math.prod(out)


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


def _forward_im2col(x, w, stride, pads, dilation, groups, out) -> np.ndarray:
    """GEMM on the channels-major im2col buffer, one cache-sized batch chunk at a time.

    Per chunk: gather (C*K, n*P) columns, one GEMM (batched over groups) → (C_out, n*P), and a transposing copy
    of that still-cached result into the (N, C_out, *out) output.
    """
    n, c = x.shape[:2]
    o, cg = w.shape[:2]
    og = o // groups
    ksize = w.shape[2:]
    kk, p = math.prod(ksize), math.prod(out)
    wg = w.reshape(groups, og, cg * kk)
    y = np.empty((n, o, *out), x.dtype)
    for n0, n1 in _chunks(n, c * kk * p * x.itemsize, p):
        m = (n1 - n0) * p
        cols = _im2col(x[n0:n1], ksize, stride, pads, dilation, out, "cols").reshape(groups, cg * kk, m)
        r = _group_matmul(wg, cols, _scratch("gemm", (groups, og, m), x.dtype))
        y[n0:n1] = r.reshape(o, n1 - n0, *out).swapaxes(0, 1)
    return y


def _forward_shifted(x, w, pads, dilation, groups, out) -> np.ndarray:
    """Stride-1 conv as GEMMs on shifted windows of the flat, zero-padded channels-major input.

    On the flat padded grid every tap's input is the same array shifted by a constant offset, so a cache-sized
    block of im2col rows is gathered with K long contiguous copies, multiplied in one GEMM with K = C*k, and
    written straight into the output grid. Outputs that fall in the padding columns are computed and dropped
    (``_SHIFTED_MAX_WASTE`` keeps that small).
    """
    n, c = x.shape[:2]
    o, cg = w.shape[:2]
    og = o // groups
    ksize = w.shape[2:]
    kk = math.prod(ksize)
    xp = _pad_cn(x, pads)
    sp = xp.shape[2:]
    xf = xp.reshape(groups, cg, -1)
    length = xf.shape[2]
    offs = _grid_offsets(sp, ksize, dilation)
    rows = length - offs[-1]
    # weight as (G, Og, K*Cg), tap-major to match the block layout (G, K, Cg, rows)
    wr = np.ascontiguousarray(np.moveaxis(w.reshape(groups, og, cg, kk), 3, 2)).reshape(groups, og, kk * cg)
    y = np.empty((groups, og, length), x.dtype)
    rb = max(256, _BLOCK_BYTES // (c * kk * x.itemsize))
    buf = _scratch("block", (groups, kk, cg, rb), x.dtype)
    for r0 in range(0, rows, rb):
        r1 = min(rows, r0 + rb)
        blk = buf[..., : r1 - r0]
        for t, off in enumerate(offs):
            blk[:, t] = xf[:, :, r0 + off: r1 + off]
        _group_matmul(wr, blk.reshape(groups, kk * cg, r1 - r0), y[:, :, r0:r1])
    y = y.reshape(o, n, *sp)[(slice(None), slice(None)) + tuple(slice(0, s) for s in out)]
    return _to_nc_first(y)


def _forward_pointwise(x, w, stride, groups) -> np.ndarray:
    """1x1 unpadded conv: subsample, then a GEMM per image straight into (N, O, P) (no im2col, no transposes)."""
    if any(s != 1 for s in stride):
        x = x[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride)]
    n, c = x.shape[:2]
    o = w.shape[0]
    xr = x.reshape(n, groups, c // groups, math.prod(x.shape[2:]))
    y = np.matmul(w.reshape(groups, o // groups, c // groups), xr)
    return y.reshape(n, o, *x.shape[2:])


def _is_pointwise(ksize, pads, out) -> bool:
    return math.prod(ksize) == 1 and all(p == (0, 0) for p in pads) and math.prod(out) >= 64


def conv_forward(x: np.ndarray, w: np.ndarray, stride, padding, dilation, groups: int = 1) -> np.ndarray:
    """Cross-correlation as ``torch.nn.functional.conv{1,2,3}d`` without bias.

    x: (N, C_in, *S); w: (C_out, C_in/groups, *k); stride, dilation: d ints; padding: d ints or d (lo, hi)
    pairs (use ``same_padding`` for 'same'); returns y: (N, C_out, *out), C-contiguous, x's dtype.
    """
    nd = w.ndim - 2
    _check(x, w, groups, nd)
    stride, dilation = _tuple(stride, nd, "stride"), _tuple(dilation, nd, "dilation")
    pads = _resolve_padding(padding, nd)
    ksize = w.shape[2:]
    out = _out_shape(x.shape[2:], ksize, stride, pads, dilation)
    if x.shape[0] == 0 or w.shape[0] == 0 or x.shape[1] == 0:
        return np.zeros((x.shape[0], w.shape[0], *out), x.dtype)
    if _is_pointwise(ksize, pads, out):
        return _forward_pointwise(x, w, stride, groups)
    if _use_shifted(stride, ksize, pads, out, x.shape[2:]):
        return _forward_shifted(x, w, pads, dilation, groups, out)
    return _forward_im2col(x, w, stride, pads, dilation, groups, out)


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
    Large stride-1 maps: a stride-1 conv of gy with the spatially flipped, in/out-swapped weight and padding
    ``dilation*(k-1) - lo`` (negative = crop), i.e. the forward's shifted GEMMs. Otherwise, per batch chunk,
    one GEMM ``W^T @ gy`` to columns, then col2im (one strided add per tap).
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
    if all(s == 1 for s in stride):
        # lo mirrors the forward padding; hi makes the output exactly x_shape's spatial size
        tpads = tuple((d * (k - 1) - lo, s - o + lo) for s, k, d, (lo, _), o
                      in zip(x_shape[2:], ksize, dilation, pads, out))
        if _is_pointwise(ksize, tpads, x_shape[2:]) or _use_shifted(stride, ksize, tpads, x_shape[2:], out):
            return conv_forward(gy, _flip_weight(w, groups), stride, tpads, dilation, groups)
    o, cg = w.shape[:2]
    og = o // groups
    kk, p = math.prod(ksize), math.prod(out)
    gx = np.zeros(x_shape, gy.dtype)
    wt = np.ascontiguousarray(w.reshape(groups, og, cg * kk).swapaxes(1, 2))    # (G, Cg*K, Og)
    for n0, n1 in _chunks(n, c * kk * p * gy.itemsize, p):
        m = (n1 - n0) * p
        g = _scratch("gy", (o, n1 - n0, *out), gy.dtype)
        g[...] = gy[n0:n1].swapaxes(0, 1)
        gcols = _group_matmul(wt, g.reshape(groups, og, m), _scratch("cols", (groups, cg * kk, m), gy.dtype))
        _col2im_add(gx[n0:n1], gcols.reshape(c, *ksize, n1 - n0, *out), ksize, stride, pads, dilation, out)
    return gx


# ------------------------------------------------------------------------------------ grad weight
def _grad_weight_im2col(gy, x, w_shape, stride, pads, dilation, groups) -> np.ndarray:
    """Per batch chunk: gw (G, Og, Cg*K) += gy (G, Og, n*P) @ cols^T, the pixels being the GEMM's K."""
    n, c = x.shape[:2]
    o, cg = w_shape[:2]
    og = o // groups
    ksize = tuple(w_shape[2:])
    out = gy.shape[2:]
    kk, p = math.prod(ksize), math.prod(out)
    gw = np.zeros((groups, og, cg * kk), x.dtype)
    part = np.empty_like(gw)
    for n0, n1 in _chunks(n, c * kk * p * x.itemsize, p):
        m = (n1 - n0) * p
        cols = _im2col(x[n0:n1], ksize, stride, pads, dilation, out, "cols").reshape(groups, cg * kk, m)
        g = _scratch("gy", (o, n1 - n0, *out), x.dtype)
        g[...] = gy[n0:n1].swapaxes(0, 1)
        gw += _group_matmul(g.reshape(groups, og, m), cols.swapaxes(1, 2), part)
    return gw.reshape(w_shape)


def _grad_weight_shifted(gy, x, w_shape, pads, dilation, groups) -> np.ndarray:
    """Stride 1, large maps: per tap one GEMM ``gy_grid (Og, R) @ x_shift^T (R, Cg)`` on the flat padded grid.

    K = N * padded pixels is long, so BLAS runs near its peak with no im2col and no accumulation; gy is
    scattered onto the grid once, with zeros in the padding columns so the dropped positions contribute nothing.
    """
    n, c = x.shape[:2]
    o, cg = w_shape[:2]
    og = o // groups
    ksize = tuple(w_shape[2:])
    out = gy.shape[2:]
    xp = _pad_cn(x, pads)
    sp = xp.shape[2:]
    xf = xp.reshape(groups, cg, -1)
    offs = _grid_offsets(sp, ksize, dilation)
    rows = xf.shape[2] - offs[-1]
    grid = np.zeros((o, n, *sp), x.dtype)
    grid[(slice(None), slice(None)) + tuple(slice(0, s) for s in out)] = gy.swapaxes(0, 1)
    gf = grid.reshape(groups, og, -1)[:, :, :rows]
    gw = np.empty((len(offs), groups, og, cg), x.dtype)
    for t, off in enumerate(offs):
        _group_matmul(gf, xf[:, :, off: off + rows].swapaxes(1, 2), gw[t])
    return np.ascontiguousarray(np.moveaxis(gw.reshape(len(offs), o, cg), 0, 2)).reshape(w_shape)


def conv_grad_weight(gy: np.ndarray, x: np.ndarray, w_shape, stride, padding, dilation,
                     groups: int = 1) -> np.ndarray:
    """Gradient of ``conv_forward`` w.r.t. its weight.

    gy: (N, C_out, *out); x: (N, C_in, *S); returns gw of shape ``w_shape`` = (C_out, C_in/groups, *k).
    """
    nd = x.ndim - 2
    stride, dilation = _tuple(stride, nd, "stride"), _tuple(dilation, nd, "dilation")
    pads = _resolve_padding(padding, nd)
    w_shape = tuple(w_shape)
    if x.dtype != gy.dtype:
        raise RuntimeError(f"conv: grad_output dtype ({gy.dtype}) and input dtype ({x.dtype}) should be the same")
    if gy.size == 0 or math.prod(w_shape) == 0:
        return np.zeros(w_shape, x.dtype)
    if _use_shifted(stride, w_shape[2:], pads, gy.shape[2:], x.shape[2:]):
        return _grad_weight_shifted(gy, x, w_shape, pads, dilation, groups)
    return _grad_weight_im2col(gy, x, w_shape, stride, pads, dilation, groups)


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
