"""3x3 stride-1 convolutions by Winograd's minimal filtering F(2x2, 3x3) (Lavin & Gray, 2016), on NumPy arrays.

A 2x2 block of outputs needs a 4x4 tile of the input. Transformed, the 9 multiply-adds per output of a direct
3x3 convolution become 16 per 4 outputs: per tile and channel the 4x4 input tile ``d`` becomes ``B^T d B``, the
3x3 filter ``g`` becomes ``G g G^T`` (both 4x4), and the outputs are ``A^T m A`` of the 4x4 products ``m`` summed
over the input channels. The channel sums are the GEMMs: for each of the 16 positions ``ab`` of the transformed
tile, ``M[ab] (tiles, C_out) = V[ab] (tiles, C_in) @ U[ab] (C_in, C_out)`` -- 16 GEMMs with 2.25x fewer
multiply-adds in all than im2col's one. ``B^T``/``A^T`` hold only 0 and +-1, so the tile transforms are a few
additions of strided views (separable: rows, then columns).

Layout: per block, a few images are interleaved channels-last, ``(H', W', images, C)``, so every addition runs
over contiguous runs of ``images * C`` values; a block covers enough tile rows for ~256 GEMM rows, which keeps
its buffers in the core's cache. The groups of images are shared out over ember's threads.

Where it pays (2 threads, batch 32, 3x3 'same', ms, im2col -> Winograd, forward / grad-input, 2026-12-02):
128>128 on 16x16 11.0 -> 9.6 / 11.0 -> 9.0, on 8x8 3.0 -> 2.7 / 3.2 -> 2.6; 128>256 on 8x8 5.2 -> 4.6 /
5.1 -> 4.7; 256>256 on 8x8 9.8 -> 8.0 / 9.6 -> 7.6; 64>128 on 16x16 5.8 -> 5.9 / 6.9 -> 5.9. Where it does
not: thin layers (32>32 on 32x32 5.3 -> 7.7, 64>64 14.7 -> 15.1: the transforms and the layout copies are
NumPy passes over C-long runs, and the K = C GEMMs are thin), and very few tiles per weight (512>512 on 2x2,
batch 32: 2.7 -> 8.0: the weight transform, 16 values per 3x3 filter each call, is memory-bound). Hence
``MIN_CHANNELS``, ``MIN_WIDE_CHANNELS`` and ``_MIN_TILES``.
Below ``_IMAGE_BLOCKS_MIN_TILES`` tiles (4x4 maps: 128 tiles at batch 32) blocks of images would give each thread
a few dozen GEMM rows against the whole transformed weight (512>512 on 4x4 then ran 8.9 -> 10.9 ms); instead all
the tiles form one block and the 16 GEMMs are shared out over the threads by position (``_conv3x3_positions``):
2026-12-06, 2 threads, fwd / grad-input / grad-weight ms, im2col -> this: 512>512 on 4x4 batch 32 14.3 / 13.7 /
14.7 -> 11.8 / 10.7 / 10.1, 256>512 on 4x4 batch 64 14.0 / 14.1 / 15.5 -> 10.5 / 10.5 / 11.0.
The weight gradient (``grad_weight``) takes the same layers: the gradient of each transformed filter is a GEMM
over the tiles of the transformed input and the transformed output gradient (ms, im2col -> Winograd, 2 threads,
2026-12-02): 256>256 on 8x8 batch 64 19.4 -> 16.0-17.3, batch 32 9.8-10.4 -> 9.5-10.8; 128>128 on 16x16 batch
32 12.0 -> 10.1-10.5; 128>256 on 8x8 batch 64 10.1 -> 8.2-8.7; 64>128 on 16x16 batch 64 12.1 -> 11.3-11.8.
Numerically the transforms only add, subtract and halve, but the products are summed in the transformed
domain: float32 results differ from im2col's (and PyTorch's) by ~1e-6 of the output's scale (tested against
PyTorch at the float32 tolerance of every conv kernel).
"""
from __future__ import annotations

import functools

import numpy as np

from .. import memory, parallel
from .scratch import scratch as _scratch

__all__ = ["applies", "weight", "weight_adjoint", "conv3x3", "grad_weight"]

MIN_CHANNELS = 64          # both channel counts at least this (see the module docstring) ...
MIN_WIDE_CHANNELS = 128    # ... and one of them at least this
_MIN_TILES = 128           # 2x2 output tiles over the batch, per weight transform ...
_IMAGE_BLOCKS_MIN_TILES = 512  # ... from this many, blocks of images go to the threads; below, the 16 GEMMs do
_GEMM_ROWS = 256           # tiles per block: enough rows for an efficient GEMM, few enough to stay in cache
_RUN = 256                 # images interleaved per block until runs of images * C_in values are this long
_GW_TILES = 1024           # tiles per block of grad_weight: the GEMMs' inner dimension

_G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])
_KG = np.kron(_G, _G)                      # (16, 9): G g G^T for a row-major flattened 3x3 g
_KG_FLIP = np.kron(_G[:, ::-1], _G[:, ::-1])  # the same for the spatially flipped filter
_GW_SIGNS = np.kron([1.0, 1.0, 1.0, -1.0], [1.0, 1.0, 1.0, -1.0])  # see _grad_output_transform


def applies(x_shape, w_shape, stride, pads, dilation, groups: int, dtype, weight_gradient: bool = False) -> bool:
    """Whether ``conv3x3`` (or, with ``weight_gradient``, ``grad_weight``) computes this convolution of an input
    x_shape (2d, 3x3, stride 1, undilated, ungrouped, non-negative padding, float32/64) and is the faster kernel
    for it (wide enough layers, enough output tiles per weight). conv3x3's GEMMs have the input channels as
    their inner dimension, so it wants ``MIN_WIDE_CHANNELS`` of them: 64>128 on 16x16 at batch 64 forward 11.5
    ms by im2col vs 12.3-13.0 (2026-12-02; its grad-input, 128 inner channels, 13.7 -> 12.7, and its weight
    gradient, whose inner dimension is the tiles, 12.3 -> 11.7, keep Winograd)."""
    if not (len(w_shape) == 4 and tuple(w_shape[2:]) == (3, 3) and groups == 1 and tuple(stride) == (1, 1)
            and tuple(dilation) == (1, 1) and all(lo >= 0 and hi >= 0 for lo, hi in pads)
            and np.dtype(dtype) in (np.float32, np.float64)):
        return False
    o, c = w_shape[:2]
    th, tw = ((s + lo + hi - 1) // 2 for s, (lo, hi) in zip(x_shape[2:], pads))
    if x_shape[0] * th * tw < _MIN_TILES or min(c, o) < MIN_CHANNELS:
        return False
    return max(c, o) >= MIN_WIDE_CHANNELS if weight_gradient else c >= MIN_WIDE_CHANNELS


def _transform(kg: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(16, C_out, C_in) = kg (16, 9) @ each 3x3 filter of w (C_out, C_in, 3, 3): GEMMs reading w transposed (no
    copy of it), ranges of filters over the threads (memory-bound: 512 x 512 filters read 9.4 MB and write 16.8;
    1 thread 4.0-4.4 ms, 2 threads 2.6-2.9, 2026-12-06)."""
    o, c = w.shape[:2]
    u = np.empty((16, o * c), w.dtype)
    _rows_matmul(kg.astype(w.dtype), w.reshape(o * c, 9).T, u, 16 * o * c)
    return u.reshape(16, o, c)


def _rows_matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray, elements: int) -> None:
    """out = a @ b for a small ``a``, column ranges of b and out over the threads (large passes only)."""
    def part(lo, hi):
        np.matmul(a, b[:, lo:hi], out=out[:, lo:hi])
    parallel.run_rows(part, b.shape[1], elements)


def weight(w: np.ndarray) -> np.ndarray:
    """The transformed weight of ``conv3x3`` for the forward conv with w (C_out, C_in, 3, 3): (16, C_in, C_out)
    (a transposed view; the GEMMs read it as it lies)."""
    return _transform(_KG, w).transpose(0, 2, 1)


def weight_adjoint(w: np.ndarray) -> np.ndarray:
    """The transformed weight of the adjoint conv (gradient w.r.t. the input: gy correlated with the flipped
    filters, in/out channels swapped) of the forward conv with w (C_out, C_in, 3, 3): (16, C_out, C_in)."""
    return _transform(_KG_FLIP, w)


def conv3x3(x: np.ndarray, u: np.ndarray, pads, bias: np.ndarray | None = None) -> np.ndarray:
    """Stride-1 3x3 cross-correlation of x (N, C_in, H, W) zero-padded by ``pads`` ((top, bottom), (left,
    right), each >= 0) with the transformed weight u (16, C_in, C_out) (``weight`` / ``weight_adjoint``);
    bias (C_out,) or None. Returns (N, C_out, H + top + bottom - 2, W + left + right - 2), C-contiguous."""
    n, c, h, w_ = x.shape
    o = u.shape[2]
    (pt, pb), (pl, pr) = pads
    oh, ow = h + pt + pb - 2, w_ + pl + pr - 2
    th, tw = -(-oh // 2), -(-ow // 2)
    even = oh == 2 * th and ow == 2 * tw
    y = memory.empty((n, o, 2 * th, 2 * tw), x.dtype)
    rows = y.reshape(n, o, th * 4 * tw)        # a tile row's outputs are consecutive in each plane
    if n * th * tw < _IMAGE_BLOCKS_MIN_TILES:
        _conv3x3_positions(x, u, pads, th, tw, bias, rows)
        return y if even else np.ascontiguousarray(y[:, :, :oh, :ow])
    per_thread = -(-n // parallel.num_threads())
    nb = max(1, min(per_thread, n, max(-(-_RUN // c), -(-_GEMM_ROWS // (th * tw)))))
    bh = max(1, min(th, -(-_GEMM_ROWS // (tw * nb))))
    groups = [(i, min(n, i + nb)) for i in range(0, n, nb)]

    def work(lo, hi):
        for n0, n1 in groups[lo:hi]:
            k = n1 - n0
            xp = _interleave(x[n0:n1], pt, pl, 2 * th + 2, 2 * tw + 2, "wino_x")
            for i0 in range(0, th, bh):
                r = min(bh, th - i0)
                _block(xp[2 * i0:2 * (i0 + r) + 2], u, r, tw, k, bias,
                       rows[n0:n1, :, i0 * 4 * tw:(i0 + r) * 4 * tw])

    parallel.run(functools.partial(work, lo, hi) for lo, hi in parallel.split(len(groups)))
    return y if even else np.ascontiguousarray(y[:, :, :oh, :ow])


def _positions_matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out[ab] = a[ab] @ b[ab] for the 16 positions, ranges of positions over the threads."""
    def part(lo, hi):
        np.matmul(a[lo:hi], b[lo:hi], out=out[lo:hi])
    parallel.run(functools.partial(part, lo, hi) for lo, hi in parallel.split(16))
    return out


def _conv3x3_positions(x, u, pads, th, tw, bias, rows) -> None:
    """``conv3x3`` for few tiles per weight (small maps, e.g. 4x4): all the batch's tiles in one block, and the
    16 GEMMs ``(tiles, C_in) @ (C_in, C_out)`` shared out over the threads by position -- blocks of images
    would give each thread a few dozen GEMM rows against the whole 16 x C_in x C_out transformed weight.
    (2026-12-06, 2 threads, forward ms, im2col -> this, the weight transform included: 512>512 on 4x4 batch 32
    14.3 -> 11.8, batch 64 29.2 -> 20.0; 256>256 on 4x4 batch 32 4.0 -> 4.0, its weight gradient 4.8 -> 3.7.)"""
    n = x.shape[0]
    (pt, _), (pl, _) = pads
    xp = _interleave(x, pt, pl, 2 * th + 2, 2 * tw + 2, "wino_x")
    v = _input_transform(xp, th, tw)
    m = _positions_matmul(v, u, np.empty((16, v.shape[1], u.shape[2]), x.dtype))
    _output_transform(m, th, tw, n, bias, rows)


def _interleave(x: np.ndarray, top: int, left: int, height: int, width: int, slot: str) -> np.ndarray:
    """The k images x (k, C, H, W) interleaved channels-last at rows top:top+H, columns left:left+W of a zeroed
    (height, width, k, C) scratch buffer.

    In two copies: each image to channels-last (k, H, W, C), then runs of C values into place. One transposing
    copy straight into the interleaved buffer writes a value every k*C apart, a page apart for a few images of
    wide layers (2026-12-02, 1 thread: 32 images 256ch 8x8 1.52 -> 0.62 ms, 16 images 128ch 16x16 1.40 -> 0.68)."""
    k, c, h, w_ = x.shape
    xp = _scratch(slot, (height, width, k, c), x.dtype)
    _zero_border(xp, top, top + h, left, left + w_)
    cl = _scratch("wino_cl", (k, h, w_, c), x.dtype)
    np.copyto(cl, x.transpose(0, 2, 3, 1))
    np.copyto(xp[top:top + h, left:left + w_], cl.transpose(1, 2, 0, 3))
    return xp


def _zero_border(xp: np.ndarray, h0: int, h1: int, w0: int, w1: int) -> None:
    """Zero what lies outside rows h0:h1 and columns w0:w1 of the (H', W', ...) buffer xp."""
    xp[:h0] = 0
    xp[h1:] = 0
    xp[h0:h1, :w0] = 0
    xp[h0:h1, w1:] = 0


def _input_transform(xr: np.ndarray, r: int, tw: int) -> np.ndarray:
    """B^T d B of the 4x4 input tiles of ``r`` tile rows: xr (2r + 2, 2tw + 2, k, C) → (16, r * tw * k, C), a
    scratch buffer (tiles ordered tile row, tile column, image)."""
    k, c = xr.shape[2:]
    dt = xr.dtype
    # along the rows, then along the columns
    t = _scratch("wino_t", (4, r, xr.shape[1], k, c), dt)
    np.subtract(xr[0:2 * r:2], xr[2:2 * r + 2:2], out=t[0])
    np.add(xr[1:2 * r + 1:2], xr[2:2 * r + 2:2], out=t[1])
    np.subtract(xr[2:2 * r + 2:2], xr[1:2 * r + 1:2], out=t[2])
    np.subtract(xr[1:2 * r + 1:2], xr[3:2 * r + 3:2], out=t[3])
    v = _scratch("wino_v", (4, 4, r, tw, k, c), dt)
    np.subtract(t[:, :, 0:2 * tw:2], t[:, :, 2:2 * tw + 2:2], out=v[:, 0])
    np.add(t[:, :, 1:2 * tw + 1:2], t[:, :, 2:2 * tw + 2:2], out=v[:, 1])
    np.subtract(t[:, :, 2:2 * tw + 2:2], t[:, :, 1:2 * tw + 1:2], out=v[:, 2])
    np.subtract(t[:, :, 1:2 * tw + 1:2], t[:, :, 3:2 * tw + 3:2], out=v[:, 3])
    return v.reshape(16, r * tw * k, c)


def _block(xr: np.ndarray, u: np.ndarray, r: int, tw: int, k: int, bias, dst: np.ndarray) -> None:
    """One block: the tiles of ``r`` tile rows of k interleaved images, xr (2r + 2, 2tw + 2, k, C) → dst, the
    (k, C_out, r * 4tw) view of those output rows."""
    tiles = r * tw * k
    m = np.matmul(_input_transform(xr, r, tw), u, out=_scratch("wino_m", (16, tiles, u.shape[2]), xr.dtype))
    _output_transform(m, r, tw, k, bias, dst)


def _output_transform(m: np.ndarray, r: int, tw: int, k: int, bias, dst: np.ndarray) -> None:
    """A^T m A of the products m (16, r * tw * k, C_out) (tiles ordered tile row, tile column, image), plus the
    bias, into dst, the (k, C_out, r * 4tw) view of those output rows."""
    o = m.shape[-1]
    dt = m.dtype
    tiles = r * tw * k
    m = m.reshape(4, 4, tiles, o)
    # output transform A^T m A: along the columns, then along the rows
    q = _scratch("wino_q", (2, 4, tiles, o), dt)
    np.add(m[:, 0], m[:, 1], out=q[0])
    q[0] += m[:, 2]
    np.subtract(m[:, 1], m[:, 2], out=q[1])
    q[1] -= m[:, 3]
    # ... written in output order, (image, tile row, row in tile, tile column, column in tile, C_out)
    res = _scratch("wino_r", (k, r, 2, tw, 2, o), dt)
    top, bottom = res[:, :, 0].transpose(3, 1, 2, 0, 4), res[:, :, 1].transpose(3, 1, 2, 0, 4)
    qa = q.reshape(2, 4, r, tw, k, o)          # (column in tile, a, tile row, tile column, image, C_out)
    np.add(qa[:, 0], qa[:, 1], out=top)
    top += qa[:, 2]
    np.subtract(qa[:, 1], qa[:, 2], out=bottom)
    bottom -= qa[:, 3]
    if bias is not None:
        res += bias
    # one transposing copy per image into its (C_out, rows) block of the output
    np.copyto(dst, res.reshape(k, -1, o).transpose(0, 2, 1))


def grad_weight(x: np.ndarray, gy: np.ndarray, pads) -> np.ndarray:
    """Gradient w.r.t. the weight (C_out, C_in, 3, 3) of the stride-1 3x3 cross-correlation of x (N, C_in, H, W)
    zero-padded by ``pads`` whose output gradient is gy (N, C_out, OH, OW).

    Per tile the forward is Y = A^T [sum over C_in of U ⊙ V] A with U = G g G^T, V = B^T d B; so the gradient of
    U is the sum over tiles of V ⊙ (A dY A^T) -- for each of the 16 positions one GEMM ``dM[ab]^T (C_out, tiles) @
    V[ab] (tiles, C_in)`` with the tiles as its long inner dimension -- and that of g is G^T dU G, one small
    GEMM at the end. Blocks hold ``_GW_TILES`` tiles (images interleaved channels-last, as in ``conv3x3``); each
    thread sums its blocks, the threads' sums are added."""
    n, c = x.shape[:2]
    o, oh, ow = gy.shape[1:]
    (pt, _), (pl, _) = pads
    th, tw = -(-oh // 2), -(-ow // 2)
    kg = (_KG * _GW_SIGNS[:, None]).astype(x.dtype)            # (16, 9)
    if n * th * tw < _IMAGE_BLOCKS_MIN_TILES:
        # few tiles: one block, the 16 GEMMs over the threads by position (as _conv3x3_positions). 2026-12-06,
        # 2 threads, ms, im2col -> this: 512>512 on 4x4 batch 32 16.3 -> 10.0, 256>512 on 4x4 batch 64 17.3 -> 10.0
        v = _input_transform(_interleave(x, pt, pl, 2 * th + 2, 2 * tw + 2, "wino_x"), th, tw)
        dm = _grad_output_transform(_interleave(gy, 0, 0, 2 * th, 2 * tw, "wino_g"), th, tw)
        du = _positions_matmul(dm.transpose(0, 2, 1), v, np.empty((16, o, c), x.dtype))
        return _filters(du, kg)
    per_thread = -(-n // parallel.num_threads())
    nb = max(1, min(per_thread, -(-_GW_TILES // (th * tw))))
    bh = max(1, min(th, -(-_GW_TILES // (tw * nb))))
    groups = [(i, min(n, i + nb)) for i in range(0, n, nb)]

    def work(lo, hi):
        du = None
        for n0, n1 in groups[lo:hi]:
            xp = _interleave(x[n0:n1], pt, pl, 2 * th + 2, 2 * tw + 2, "wino_x")
            gp = _interleave(gy[n0:n1], 0, 0, 2 * th, 2 * tw, "wino_g")
            for i0 in range(0, th, bh):
                r = min(bh, th - i0)
                v = _input_transform(xp[2 * i0:2 * (i0 + r) + 2], r, tw)
                dm = _grad_output_transform(gp[2 * i0:2 * (i0 + r)], r, tw)
                if du is None:
                    du = np.matmul(dm.transpose(0, 2, 1), v)
                else:
                    du += np.matmul(dm.transpose(0, 2, 1), v, out=_scratch("wino_du", (16, o, c), x.dtype))
        return du

    du = parallel.run_sum(functools.partial(work, lo, hi) for lo, hi in parallel.split(len(groups)))
    # g = G^T dU G, with the signs _grad_output_transform left out (rows and columns a = 3 of A dY A^T negated),
    # as (C_out * C_in, 16) @ (16, 9): dU's (C_out, C_in) order makes the product the (C_out, C_in, 3, 3) result
    # itself (a transposing copy of a (3, 3, C_in, C_out) product took 2.6 ms for 256 x 256 channels, 18.8 for
    # 512 x 512; this GEMM 0.53 and 2.0)
    return _filters(du, kg)


def _filters(du: np.ndarray, kg: np.ndarray) -> np.ndarray:
    """du (16, C_out, C_in) → the (C_out, C_in, 3, 3) filters kg^T du, as (C_out * C_in, 16) @ (16, 9), ranges of
    filters over the threads."""
    o, c = du.shape[1:]
    flat = du.reshape(16, o * c)
    gw = np.empty((o * c, 9), du.dtype)

    def part(lo, hi):
        np.matmul(flat[:, lo:hi].T, kg, out=gw[lo:hi])
    parallel.run_rows(part, o * c, 16 * o * c)
    return gw.reshape(o, c, 3, 3)


def _grad_output_transform(gr: np.ndarray, r: int, tw: int) -> np.ndarray:
    """A dY A^T of the 2x2 output-gradient tiles of ``r`` tile rows, up to signs: gr (2r, 2tw, k, C_out) →
    (16, r * tw * k, C_out), a scratch buffer. A dY A^T combines the tile's rows y0, y1 into (y0, y0 + y1,
    y0 - y1, -y1), then its columns alike; the last combination is stored unnegated (``_GW_SIGNS`` puts the
    sign back in the final transform)."""
    k, o = gr.shape[2:]
    y0, y1 = gr[0:2 * r:2], gr[1:2 * r:2]                       # (r, 2tw, k, C_out)
    t = _scratch("wino_gt", (2, r, 2 * tw, k, o), gr.dtype)
    np.add(y0, y1, out=t[0])
    np.subtract(y0, y1, out=t[1])
    dm = _scratch("wino_dm", (4, 4, r, tw, k, o), gr.dtype)
    for a, rows in enumerate((y0, t[0], t[1], y1)):
        c0, c1 = rows[:, 0:2 * tw:2], rows[:, 1:2 * tw:2]
        np.copyto(dm[a, 0], c0)
        np.add(c0, c1, out=dm[a, 1])
        np.subtract(c0, c1, out=dm[a, 2])
        np.copyto(dm[a, 3], c1)
    return dm.reshape(16, r * tw * k, o)
