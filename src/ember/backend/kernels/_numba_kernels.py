"""The loops ``fused.py`` hands out, compiled by Numba (this module imports Numba: ``fused.py`` loads it on a
kernel's first use). Module-level functions, so that Numba's on-disk cache (``cache=True``) serves every process
after the first; ``fused.py``'s docstring gives the why and the rules (the NumPy path's operations, in its order).
"""
from __future__ import annotations

import numba
import numpy as np


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


@numba.njit(nogil=True, cache=True, error_model="numpy", boundscheck=False)
def col2im_(cols, acc, sh, sw, dh, dw, ph, pw):
    """acc (H, W, M) = the sum, per input position, of the columns cols (kh, kw, oh, ow, M) of the output
    positions whose window covers it: acc is zeroed, then the taps are added in (ky, kx) order, each
    element's sum in the order of ``conv._grad_input_taps``'s NumPy adds."""
    kh, kw, oh, ow, m = cols.shape
    h, w = acc.shape[0], acc.shape[1]
    acc[:] = 0
    for ky in range(kh):
        for kx in range(kw):
            for oy in range(oh):
                y = oy * sh + ky * dh - ph
                if y < 0 or y >= h:
                    continue
                for ox in range(ow):
                    x = ox * sw + kx * dw - pw
                    if x < 0 or x >= w:
                        continue
                    a = acc[y, x]
                    c = cols[ky, kx, oy, ox]
                    for i in range(m):
                        a[i] += c[i]


@numba.njit(nogil=True, cache=True, error_model="numpy", boundscheck=False)
def scatter_(g, idx, gx, lo, hi):
    """Planes lo..hi of gx (P, S): zeroed, then gx[p, idx[p, j]] = g[p, j] -- a max-pool gradient whose
    windows do not overlap (each input position wins at most one). ``idx`` comes from ember's own max-pool
    forward, so every index lies in [0, S)."""
    for p in range(lo, hi):
        row = gx[p]
        row[:] = 0
        gp, ip = g[p], idx[p]
        for j in range(gp.shape[0]):
            row[ip[j]] = gp[j]


@numba.njit(nogil=True, cache=True, error_model="numpy", boundscheck=False)
def update_nan_(v, y, code, t):
    """One tap of a max pool over flat contiguous arrays: where v > y or v is NaN (PyTorch's rule: the first maximum
    wins, a NaN wins -- the last one in scan order), y = v and code = t. Loads first and selects, so that LLVM
    vectorises the loop (with a conditional store it stayed scalar); NaN-aware always, as cheap as without."""
    for i in range(y.size):
        a, b, c = v[i], y[i], code[i]
        take = (a > b) | (a != a)
        y[i] = a if take else b
        code[i] = t if take else c


@numba.njit(inline="always", boundscheck=False)
def _deinterleave(x, tile, p0, n, k):
    """tile[ky, kx, p, oy, ox] = x[p0 + p, oy * k + ky, ox * k + kx] for the n planes from p0. Called with a
    literal k for the common sizes, so that LLVM unrolls the taps (2.4x faster for k = 3 than a runtime k)."""
    oh, ow = tile.shape[3], tile.shape[4]
    for p in range(n):
        for oy in range(oh):
            for ky in range(k):
                row = x[p0 + p, oy * k + ky]
                for ox in range(ow):
                    for kx in range(k):
                        tile[ky, kx, p, oy, ox] = row[ox * k + kx]


@numba.njit(nogil=True, cache=True, error_model="numpy", boundscheck=False)
def max_pool_(x, y, idx, k, oh, ow, pos, offs):
    """k x k max pooling at stride k, no padding, of the planes x (P, H, W) (H >= k * oh, W >= k * ow): the
    maxima into y and the flat input index of each window's winner into idx, both flat (P * oh * ow,); the
    winner of window j at tap t (= ky * k + kx) is pos[j] + offs[t]. Per tile of planes (~64k values, in the
    core's cache): the windows' taps gathered tap-major, then one vectorised select pass per tap in scan
    order with PyTorch's rule (a greater value or a NaN takes the window) -- ``pool._running_max``'s
    comparisons -- and the indices from the winning taps, all in one GIL-free call."""
    planes = x.shape[0]
    m = oh * ow
    pb = max(1, 65536 // (k * k * m))
    tile = np.empty((k, k, pb, oh, ow), x.dtype)
    flat = tile.reshape(k * k, pb * m)
    code = np.empty(pb * m, np.uint8)
    for p0 in range(0, planes, pb):
        n = min(pb, planes - p0)
        if k == 2:
            _deinterleave(x, tile, p0, n, 2)
        elif k == 3:
            _deinterleave(x, tile, p0, n, 3)
        else:
            _deinterleave(x, tile, p0, n, k)
        base, size = p0 * m, n * m
        yt, ct = y[base:base + size], code[:size]
        yt[:] = flat[0, :size]
        ct[:] = 0
        for t in range(1, k * k):
            update_nan_(flat[t, :size], yt, ct, np.uint8(t))
        for p in range(n):
            for j in range(m):
                idx[base + p * m + j] = pos[j] + offs[ct[p * m + j]]

