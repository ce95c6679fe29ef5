"""Pooling kernels vs PyTorch: values, indices (ties, NaN), gradients with a random grad_output, 1d/2d/3d."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ember.backend import parallel
from ember.backend.kernels import fused
from ember.backend.kernels import pool as K

MAX = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
AVG = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}
ADAPTIVE_AVG = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d}
ADAPTIVE_MAX = {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d}


def _x(shape, dtype, rng, kind="normal", noncontig=False):
    if noncontig and len(shape) > 3:
        x = rng.standard_normal(shape[:-2] + shape[:-3:-1]).swapaxes(-1, -2)
    else:
        x = rng.standard_normal(shape)
    if kind == "ties":      # few distinct values: windows hold several equal maxima
        x = np.round(x)
    elif kind == "nan":
        x[x > 1.5] = np.nan
    return x.astype(dtype)


def _tol(dtype):
    return dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-6)


def _grad(ty, tx, gy):
    return torch.autograd.grad(ty, tx, torch.tensor(gy, dtype=ty.dtype))[0].numpy()


# (shape, kernel, stride, padding, dilation, ceil_mode)
MAX_CASES = [
    ((2, 3, 8, 8), 2, 2, 0, 1, False),
    ((2, 3, 9, 9), 3, 2, 1, 1, True),
    ((2, 3, 9, 9), 3, 2, 1, 2, False),
    ((2, 3, 10, 9), (3, 2), (2, 1), (1, 0), 1, True),
    ((2, 3, 8, 7), 3, 1, 1, 1, False),          # overlapping, stride 1
    ((2, 3, 7, 7), 2, 3, 1, 1, True),           # gaps between windows
    ((2, 3, 11), 3, 2, 1, 1, True),
    ((2, 3, 12), 4, 4, 2, 1, True),
    ((2, 3, 5, 6, 7), 2, 2, 1, 1, True),
    ((1, 2, 6, 6, 6), 3, 2, 0, (1, 2, 1), False),
    ((3, 4, 4, 4), 2, 2, 0, 1, False),          # output rows of <= 2: (*S, planes) blocks when contiguous
    ((2, 3, 5, 4), 3, 2, 1, (1, 2), True),
    ((2, 3, 5), 2, 2, 1, 1, False),
    ((2, 2, 3, 4, 4), 2, 3, 1, 1, True),
]


@pytest.mark.parametrize("layout", ["strided", "contiguous"])
@pytest.mark.parametrize("kind", ["normal", "ties", "nan"])
@pytest.mark.parametrize("case", MAX_CASES, ids=[str(i) for i in range(len(MAX_CASES))])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_max_pool(case, dtype, kind, layout):
    """Contiguous inputs pool blocks of planes, strided ones whole images."""
    shape, k, s, p, d, ceil = case
    rng = np.random.default_rng(MAX_CASES.index(case))
    x = _x(shape, dtype, rng, kind, noncontig=layout == "strided")
    tx = torch.tensor(np.ascontiguousarray(x), requires_grad=True)
    ty, ti = MAX[len(shape) - 2](tx, k, s, p, d, ceil, True)
    y, idx = K.max_pool_forward(x, k, s, p, d, ceil)
    assert y.dtype == dtype and idx.dtype == np.int64 and y.shape == tuple(ty.shape)
    np.testing.assert_array_equal(y, ty.detach().numpy())        # NaNs compare equal here
    np.testing.assert_array_equal(idx, ti.numpy())
    y2, none = K.max_pool_forward(x, k, s, p, d, ceil, indices=False)   # values only: one dim after another
    assert none is None and y2.dtype == dtype
    np.testing.assert_array_equal(y2, ty.detach().numpy())
    with pytest.MonkeyPatch.context() as m:     # the NumPy tap updates (with Numba the compiled ones ran above)
        m.setitem(fused._cache, "update_nan_", None)
        m.setitem(fused._cache, "max_pool_", None)
        y3, idx3 = K.max_pool_forward(x, k, s, p, d, ceil)
    np.testing.assert_array_equal(y3, ty.detach().numpy())
    np.testing.assert_array_equal(idx3, ti.numpy())
    gy = rng.standard_normal(y.shape).astype(dtype)
    ref = _grad(ty, tx, gy)
    for kw in ({}, {"kernel": k, "stride": s, "dilation": d}):     # bincount path and (if disjoint) assignment
        gx = K.max_pool_backward(gy, idx, x.shape, **kw)
        assert gx.dtype == dtype and gx.shape == x.shape
        np.testing.assert_allclose(gx, ref, **_tol(dtype))
    # the assignment's NumPy blocks (where Numba is installed the calls above took the compiled scatter)
    with pytest.MonkeyPatch.context() as m:
        m.setitem(fused._cache, "scatter_", None)
        np.testing.assert_allclose(K.max_pool_backward(gy, idx, x.shape, k, s, d), ref, **_tol(dtype))


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("case", [((7, 5, 24, 24), 3, 3, 0, 1, False), ((5, 4, 17, 17), (16, 16), 1, 0, 1, False),
                                  ((6, 8, 16, 17), 3, 2, 1, 1, True)], ids=["course", "256taps", "overlap"])
def test_max_pool_threads_and_values_only(case, threads, monkeypatch):
    """Batch slices on several threads (the inputs are large enough to be split), tap codes wider than a
    byte (256 taps), ties everywhere; ``indices=False`` gives the same maxima."""
    monkeypatch.setitem(parallel._state, "n", threads)
    monkeypatch.setattr(K, "_POOL_PARALLEL_MIN", 1)
    monkeypatch.setattr(K, "_POOL_BLOCK_BYTES", 3000)     # several blocks of planes per thread
    shape, k, s, p, d, ceil = case
    x = np.round(np.random.default_rng(threads).standard_normal(shape)).astype(np.float32)
    x[0, 0, :3, :3] = np.nan
    if threads == 3:
        x = x.swapaxes(2, 3) if shape[2] == shape[3] else x[:, ::-1]    # a non-contiguous input: per-image blocks
    ty, ti = F.max_pool2d(torch.tensor(np.ascontiguousarray(x)), k, s, p, d, ceil, True)
    y, idx = K.max_pool_forward(x, k, s, p, d, ceil)
    np.testing.assert_array_equal(y, ty.numpy())
    np.testing.assert_array_equal(idx, ti.numpy())
    y2, none = K.max_pool_forward(x, k, s, p, d, ceil, indices=False)
    assert none is None
    np.testing.assert_array_equal(y2, ty.numpy())
    with pytest.MonkeyPatch.context() as m:     # the NumPy tap updates, uint8 and (256 taps) int32 codes
        m.setitem(fused._cache, "update_nan_", None)
        m.setitem(fused._cache, "max_pool_", None)
        y3, idx3 = K.max_pool_forward(x, k, s, p, d, ceil)
    np.testing.assert_array_equal(y3, ty.numpy())
    np.testing.assert_array_equal(idx3, ti.numpy())
    # the backward: plane ranges on the threads (disjoint windows) or one bincount (overlapping)
    monkeypatch.setattr(parallel, "_ROWS_MIN_ELEMENTS", 0)
    monkeypatch.setattr(K, "_BACKWARD_PARALLEL_MIN", 0)
    if threads == 3:
        monkeypatch.setattr(K, "_BACKWARD_BLOCK_BYTES", 1)     # one plane per block
    tx = torch.tensor(np.ascontiguousarray(x), requires_grad=True)
    gy = np.random.default_rng(7).standard_normal(y.shape).astype(np.float32)
    ref = _grad(F.max_pool2d(tx, k, s, p, d, ceil), tx, gy)
    gx = K.max_pool_backward(gy, idx, x.shape, kernel=k, stride=s, dilation=d)
    np.testing.assert_allclose(gx, ref, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", [((7, 5, 24, 24), 3), ((2, 3, 8, 8), 2), ((2, 3, 12), 4), ((2, 2, 4, 6, 6), 2)],
                         ids=["course", "2x2", "1d", "3d"])
def test_compiled_scatter_is_bitwise_the_numpy_blocks(case, dtype, threads, monkeypatch):
    """The disjoint max-pool backward with the compiled scatter (``fused.py``) and with its NumPy blocks: the
    same bits, on one thread or on plane ranges over two; a non-contiguous grad_output too."""
    pytest.importorskip("numba")
    assert fused.scatter_planes_kernel() is not None
    shape, k = case
    monkeypatch.setitem(parallel._state, "n", threads)
    monkeypatch.setattr(K, "_BACKWARD_PARALLEL_MIN", 0)
    monkeypatch.setattr(K, "_BACKWARD_BLOCK_BYTES", 1)
    rng = np.random.default_rng(threads)
    x = np.round(rng.standard_normal(shape)).astype(dtype)          # ties: the first maximum wins
    y, idx = K.max_pool_forward(x, k, k, 0, 1)
    gy = rng.standard_normal(y.shape[::-1]).astype(dtype).T          # a transposed (non-contiguous) view
    compiled = K.max_pool_backward(gy, idx, x.shape, k, k, 1)
    monkeypatch.setitem(fused._cache, "scatter_", None)
    np.testing.assert_array_equal(compiled, K.max_pool_backward(gy, idx, x.shape, k, k, 1))
    tx = torch.tensor(x, requires_grad=True)
    ref = _grad(MAX[len(shape) - 2](tx, k, k), tx, np.ascontiguousarray(gy))
    np.testing.assert_array_equal(compiled, ref)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", [((7, 5, 24, 24), 3), ((3, 4, 8, 10), 2), ((2, 3, 13, 11), 4), ((6, 8, 4, 4), 2)],
                         ids=["course", "2x2", "4x4_floor", "small"])
def test_compiled_tiled_max_pool_is_the_numpy_one(case, dtype, threads, monkeypatch):
    """k x k windows at stride k (``fused.max_pool_kernel``: one compiled call per block) against the NumPy tap
    updates and PyTorch: values and indices, ties, NaNs (the last one wins), rows and columns left over."""
    pytest.importorskip("numba")
    assert fused.max_pool_kernel() is not None
    shape, k = case
    monkeypatch.setitem(parallel._state, "n", threads)
    monkeypatch.setattr(K, "_POOL_PARALLEL_MIN", 1)
    monkeypatch.setattr(K, "_POOL_BLOCK_BYTES", 3000)        # several blocks of planes
    rng = np.random.default_rng(threads)
    x = np.round(rng.standard_normal(shape)).astype(dtype)
    x.reshape(-1)[::37] = np.nan
    y, idx = K.max_pool_forward(x, k, k, 0, 1)
    monkeypatch.setitem(fused._cache, "max_pool_", None)
    monkeypatch.setitem(fused._cache, "update_nan_", None)
    y2, idx2 = K.max_pool_forward(x, k, k, 0, 1)
    np.testing.assert_array_equal(y, y2)
    np.testing.assert_array_equal(idx, idx2)
    ty, ti = MAX[2](torch.tensor(x), k, k, return_indices=True)
    np.testing.assert_array_equal(y, ty.numpy())
    np.testing.assert_array_equal(idx, ti.numpy())


# (shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
AVG_CASES = [
    ((2, 3, 8, 8), 2, 2, 0, False, True, None),
    ((2, 3, 9, 9), 3, 2, 1, True, True, None),
    ((2, 3, 9, 9), 3, 2, 1, True, False, None),
    ((2, 3, 10, 9), (3, 2), (2, 1), (1, 0), True, False, None),
    ((2, 3, 10, 9), (3, 2), (2, 1), (1, 1), False, True, 3),
    ((2, 3, 8, 7), 3, 1, 1, False, False, None),
    ((2, 3, 7, 7), 2, 3, 1, True, True, None),
    ((2, 3, 11), 3, 2, 1, True, False, None),
    ((2, 3, 12), 4, 3, 2, True, True, None),
    ((2, 3, 5, 6, 7), 2, 2, 1, True, True, None),
    ((1, 2, 6, 7, 8), 3, 2, 1, True, False, None),
    ((1, 2, 6, 7, 8), 3, 2, 1, False, True, 5),
]


@pytest.mark.parametrize("case", AVG_CASES, ids=[str(i) for i in range(len(AVG_CASES))])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_avg_pool(case, dtype):
    shape, k, s, p, ceil, cip, div = case
    nd = len(shape) - 2
    rng = np.random.default_rng(AVG_CASES.index(case))
    x = _x(shape, dtype, rng, noncontig=True)
    tx = torch.tensor(np.ascontiguousarray(x), requires_grad=True)
    ty = AVG[nd](tx, k, s, p, ceil, cip, *([div] if nd > 1 else []))
    y = K.avg_pool_forward(x, k, s, p, ceil, cip, div)
    assert y.dtype == dtype and y.shape == tuple(ty.shape)
    np.testing.assert_allclose(y, ty.detach().numpy(), **_tol(dtype))
    gy = rng.standard_normal(y.shape).astype(dtype)
    gx = K.avg_pool_backward(gy, x.shape, k, s, p, ceil, cip, div)
    assert gx.dtype == dtype and gx.shape == x.shape and gx.flags.c_contiguous
    np.testing.assert_allclose(gx, _grad(ty, tx, gy), **_tol(dtype))


ADAPTIVE_CASES = [
    ((2, 3, 8, 8), (1, 1)),          # global
    ((2, 3, 8, 8), (4, 2)),          # divides evenly
    ((2, 3, 9, 7), (4, 3)),          # overlapping windows
    ((2, 3, 5, 5), (7, 8)),          # upsampling
    ((2, 3, 7, 9), (7, None)),       # None keeps the size
    ((2, 3, 10), 3),
    ((2, 3, 5, 6, 7), (2, 4, 3)),
    ((1, 2, 4, 4, 4), 1),
]


@pytest.mark.parametrize("case", ADAPTIVE_CASES, ids=[str(i) for i in range(len(ADAPTIVE_CASES))])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_adaptive_pools(case, dtype):
    shape, out = case
    nd = len(shape) - 2
    rng = np.random.default_rng(ADAPTIVE_CASES.index(case))
    x = _x(shape, dtype, rng, "ties" if dtype == np.float64 else "normal", noncontig=True)
    xc = np.ascontiguousarray(x)

    tx = torch.tensor(xc, requires_grad=True)
    ty = ADAPTIVE_AVG[nd](tx, out)
    y = K.adaptive_avg_pool_forward(x, out)
    assert y.dtype == dtype and y.shape == tuple(ty.shape)
    np.testing.assert_allclose(y, ty.detach().numpy(), **_tol(dtype))
    gy = rng.standard_normal(y.shape).astype(dtype)
    gx = K.adaptive_avg_pool_backward(gy, x.shape, out)
    assert gx.dtype == dtype and gx.shape == x.shape
    np.testing.assert_allclose(gx, _grad(ty, tx, gy), **_tol(dtype))

    tx = torch.tensor(xc, requires_grad=True)
    ty, ti = ADAPTIVE_MAX[nd](tx, out, True)
    y, idx = K.adaptive_max_pool_forward(x, out)
    assert y.dtype == dtype and idx.dtype == np.int64
    np.testing.assert_array_equal(y, ty.detach().numpy())
    np.testing.assert_array_equal(idx, ti.numpy())
    gx = K.adaptive_max_pool_backward(gy, idx, x.shape)
    np.testing.assert_allclose(gx, _grad(ty, tx, gy), **_tol(dtype))


@pytest.mark.parametrize("size,k,s,p,d,ceil", [
    (5, 2, 2, 0, 1, True), (6, 3, 2, 1, 1, True), (7, 3, 3, 1, 1, True), (10, 4, 3, 2, 1, True),
    (9, 3, 2, 1, 2, True), (8, 2, 2, 1, 1, False), (4, 4, 1, 0, 1, True), (13, 5, 4, 2, 1, True),
])
def test_pool_output_size_matches_torch(size, k, s, p, d, ceil):
    ref = F.max_pool1d(torch.zeros(1, 1, size), k, s, p, d, ceil).shape[-1]
    assert K.pool_output_size(size, k, s, p, d, ceil) == ref


def test_too_small_output_raises():
    with pytest.raises(RuntimeError, match="Output size is too small"):
        K.max_pool_forward(np.zeros((1, 1, 2, 2)), 3, 1, 0, 2, False)
