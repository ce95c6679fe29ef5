"""Conv kernels vs PyTorch: forward, grad_input, grad_weight (random grad_output), transposed conv, every design."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ember.backend import parallel
from ember.backend.kernels import conv as K
from ember.backend.kernels import fused
from ember.backend.kernels import winograd as W

TORCH_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
TORCH_CONVT = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}

# (N, C_in, spatial, C_out, kernel, stride, padding, dilation, groups); padding "same" → K.same_padding
CASES = [
    (2, 3, (9, 9), 4, (3, 3), (1, 1), (1, 1), (1, 1), 1),
    (2, 4, (20, 21), 6, (3, 3), (1, 1), (1, 1), (1, 1), 1),
    (2, 4, (20, 20), 6, (3, 3), (1, 1), (2, 2), (2, 2), 2),        # dilated, grouped
    (5, 16, (10, 10), 16, (3, 3), (1, 1), (1, 1), (1, 1), 2),      # grouped, wide enough for per-image GEMMs
    (2, 4, (11, 10), 6, (3, 2), (2, 3), (1, 0), (1, 2), 2),        # mixed strides / dilations
    (2, 4, (12, 12), 6, (5, 5), (3, 3), (2, 2), (1, 1), 1),
    (3, 1, (16, 16), 5, (5, 5), (1, 1), (0, 0), (1, 1), 1),        # LeNet-like first layer
    (2, 6, (8, 8), 8, (1, 1), (1, 1), (0, 0), (1, 1), 2),          # pointwise
    (2, 6, (10, 10), 8, (1, 1), (2, 2), (0, 0), (1, 1), 1),        # strided pointwise
    (3, 6, (17, 18), 8, (1, 1), (2, 2), (0, 0), (1, 1), 1),        # strided pointwise, >= 64 outputs per image
    (2, 5, (9, 8), 7, (1, 1), (1, 1), (0, 0), (1, 1), 1),          # pointwise, >= 64 outputs per image
    (2, 6, (5, 5), 8, (1, 1), (1, 1), (1, 1), (1, 1), 1),          # padded 1x1 (adjoint crops)
    (2, 8, (10, 10), 8, (3, 3), (1, 1), (1, 1), (1, 1), 8),        # depthwise
    (2, 8, (18, 18), 16, (3, 3), (2, 2), (1, 1), (1, 1), 8),       # depthwise x2 multiplier, strided
    (2, 8, (17, 17), 8, (3, 3), (1, 1), (1, 1), (1, 1), 8),        # depthwise on a large map
    (2, 4, (20, 21), 6, (4, 2), (1, 1), "same", (1, 2), 2),        # 'same' with an even kernel
    (2, 4, (7, 8), 6, (4, 3), (1, 1), "same", (2, 1), 1),
    (2, 4, (3, 3), 5, (3, 3), (1, 1), (0, 0), (1, 1), 1),          # 1x1 output
    (2, 3, (13,), 4, (3,), (2,), (1,), (1,), 1),                   # 1d
    (2, 4, (30,), 6, (5,), (1,), (2,), (3,), 2),
    (2, 4, (5, 6, 7), 4, (3, 2, 3), (1, 2, 1), (1, 0, 2), (1, 1, 2), 2),  # 3d
    (1, 2, (8, 8, 8), 3, (3, 3, 3), (1, 1, 1), (1, 1, 1), (1, 1, 1), 1),
]

# the dispatch knobs: grad_input always by col2im / by the adjoint conv where stride 1 allows it; one chunk
# for the whole batch, or one image per chunk
DESIGNS = {
    "auto": {},
    "col2im": {"_ADJOINT_MAX_WASTE": 0},
    # col2im's two layouts: the taps outermost (ungrouped, small weights) in one image per chunk on 3 threads,
    # and channels-first whatever the weight
    "col2im_taps_per_image": {"_ADJOINT_MAX_WASTE": 0, "_TAPS_BYTES": 1, "_THREAD_MIN_FLOPS": 0, "threads": 3},
    "col2im_channels_first": {"_ADJOINT_MAX_WASTE": 0, "_TAPS_MAX_WEIGHT_BYTES": 0},
    # the taps' adds as NumPy calls (where Numba is installed the other designs take the compiled loop)
    "col2im_taps_numpy": {"_ADJOINT_MAX_WASTE": 0, "jit": False},
    "adjoint": {"_ADJOINT_MAX_WASTE": math.inf, "_ADJOINT_MIN_PIXELS": 0},
    "one_chunk": {"_CHUNK_COLS": 10**9, "_CHUNK_MIN_FLOPS": 10**12, "_CHUNK_BYTES": 10**12},
    "per_image": {"_CHUNK_COLS": 1, "_CHUNK_MIN_FLOPS": 1, "_CHUNK_BYTES": 1},
    # im2col layouts: one GEMM per image for every map size, or never
    "image_major": {"_IMAGE_MAJOR_MIN_P": 1, "_IMAGE_MAJOR_BYTES": 1},
    "channels_major": {"_IMAGE_MAJOR_MIN_P": 10**9},
    # ungrouped convs on channels-last columns whatever their channel count, in one chunk or one image per chunk
    "channels_last": {"_CHANNELS_LAST_MIN_C": 1, "_CHANNELS_LAST_PIXELS": 0},
    "channels_last_per_image": {"_CHANNELS_LAST_MIN_C": 1, "_CHANNELS_LAST_PIXELS": 0, "_CHANNELS_LAST_BYTES": 1,
                                "_THREAD_MIN_FLOPS": 0,
                                "threads": 3},
    # stride-1 convs as one GEMM per kernel row whatever their shape, in one chunk or one image per chunk
    "rows": {"_ROWS_MIN_C": 1, "_ROWS_MAX_C": 10**9, "_ROWS_MIN_KW": 1, "_ROWS_MIN_P": 0, "_ROWS_GW_RATIO": math.inf},
    "rows_per_image": {"_ROWS_MIN_C": 1, "_ROWS_MAX_C": 10**9, "_ROWS_MIN_KW": 1, "_ROWS_MIN_P": 0,
                       "_ROWS_GW_RATIO": math.inf, "_ROWS_BYTES": 1, "_THREAD_MIN_FLOPS": 0, "threads": 3},
    # chunks shared out over 3 threads, even for tiny work (each thread sums its own grad_weight partial)
    "threads": {"_THREAD_MIN_FLOPS": 0, "_CHUNK_COLS": 1, "_CHUNK_MIN_FLOPS": 1, "_IMAGE_MAJOR_BYTES": 1,
                "threads": 3},
}


def _tol(dtype, fan_in):
    if dtype == np.float64:
        return dict(rtol=1e-10, atol=1e-10 * math.sqrt(fan_in))
    return dict(rtol=1e-4, atol=2e-5 * math.sqrt(fan_in))


def _pads(case):
    _, _, _, _, k, _, pad, dil, _ = case
    return K.same_padding(k, dil) if pad == "same" else pad


def _inputs(case, dtype, rng, noncontig=False):
    n, c, spatial, o, k, *_, groups = case
    if noncontig:   # a transposed view: the last two axes swapped (or a negative-stride view in 1d)
        x = rng.standard_normal((n, c, *spatial[:-2], *spatial[::-1][:2])).astype(dtype).swapaxes(-1, -2) \
            if len(spatial) > 1 else rng.standard_normal((n, c, *spatial)).astype(dtype)[..., ::-1]
        assert not x.flags.c_contiguous
    else:
        x = rng.standard_normal((n, c, *spatial)).astype(dtype)
    w = rng.standard_normal((o, c // groups, *k)).astype(dtype)
    return x, w


@pytest.mark.parametrize("design", list(DESIGNS))
@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_conv_forward_and_grads(case, dtype, design, monkeypatch):
    for name, value in DESIGNS[design].items():
        if name == "threads":
            monkeypatch.setitem(parallel._state, "n", value)
        elif name == "jit":
            monkeypatch.setitem(fused._cache, "col2im_", None)
        else:
            monkeypatch.setattr(K, name, value)
    rng = np.random.default_rng(hash((CASES.index(case), design)) % 2**32)
    n, c, spatial, o, k, stride, pad, dil, groups = case
    x, w = _inputs(case, dtype, rng, noncontig=design == "auto")
    pads = _pads(case)

    b = rng.standard_normal(o).astype(dtype)          # the bias is added inside the kernel, per chunk
    y = K.conv_forward(x, w, stride, pads, dil, groups, bias=b)
    tx = torch.tensor(np.ascontiguousarray(x), dtype=torch.float64, requires_grad=True)
    tw = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    ty = TORCH_CONV[len(spatial)](tx, tw, torch.tensor(b, dtype=torch.float64), stride, pad, dil, groups)
    assert y.dtype == dtype and y.flags.c_contiguous and y.shape == tuple(ty.shape)
    fan_in = (c // groups) * math.prod(k)
    np.testing.assert_allclose(y, ty.detach().numpy(), **_tol(dtype, fan_in))

    gy = rng.standard_normal(y.shape).astype(dtype)
    gx_ref, gw_ref = torch.autograd.grad(ty, (tx, tw), torch.tensor(gy, dtype=torch.float64))
    gx = K.conv_grad_input(gy, w, x.shape, stride, pads, dil, groups)
    gw = K.conv_grad_weight(gy, x, w.shape, stride, pads, dil, groups)
    assert gx.dtype == dtype and gx.shape == x.shape and gx.flags.c_contiguous
    assert gw.dtype == dtype and gw.shape == w.shape
    np.testing.assert_allclose(gx, gx_ref.numpy(), **_tol(dtype, (o // groups) * math.prod(k)))
    np.testing.assert_allclose(gw, gw_ref.numpy(), **_tol(dtype, n * y[0, 0].size))
    # with the bias gradient (folded into the image-major GEMMs, else a separate sum)
    gw2, gb = K.conv_grad_weight(gy, x, w.shape, stride, pads, dil, groups, bias=True)
    assert gb.dtype == dtype and gb.shape == (o,) and gw2.shape == w.shape
    np.testing.assert_allclose(gw2, gw_ref.numpy(), **_tol(dtype, n * y[0, 0].size))
    np.testing.assert_allclose(gb, gy.astype(np.float64).sum(axis=(0, *range(2, gy.ndim))),
                               **_tol(dtype, n * y[0, 0].size))


# (N, C_in, spatial, C_out, kernel, stride, padding, output_padding, dilation, groups)
TRANSPOSE_CASES = [
    (2, 4, (5, 5), 6, (3, 3), (2, 2), (1, 1), (1, 1), (1, 1), 1),
    (2, 4, (6, 5), 6, (4, 3), (2, 3), (1, 0), (0, 2), (1, 1), 2),
    (2, 4, (5, 5), 4, (3, 3), (1, 1), (0, 0), (0, 0), (2, 2), 4),
    (2, 4, (12, 12), 6, (3, 3), (1, 1), (1, 1), (0, 0), (1, 1), 1),
    (2, 4, (7,), 6, (5,), (3,), (2,), (1,), (2,), 2),
    (1, 2, (3, 4, 3), 4, (2, 3, 2), (2, 1, 2), (0, 1, 1), (1, 0, 0), (1, 1, 1), 1),
]


@pytest.mark.parametrize("case", TRANSPOSE_CASES, ids=[str(i) for i in range(len(TRANSPOSE_CASES))])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_conv_transpose(case, dtype):
    n, c, spatial, o, k, stride, pad, opad, dil, groups = case
    rng = np.random.default_rng(TRANSPOSE_CASES.index(case))
    x = rng.standard_normal((n, c, *spatial)).astype(dtype)
    w = rng.standard_normal((c, o // groups, *k)).astype(dtype)
    y = K.conv_transpose_forward(x, w, stride, pad, opad, dil, groups)
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    tw = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    ty = TORCH_CONVT[len(spatial)](tx, tw, None, stride, pad, opad, groups, dil)
    assert y.dtype == dtype and y.shape == tuple(ty.shape) and y.flags.c_contiguous
    np.testing.assert_allclose(y, ty.detach().numpy(), **_tol(dtype, c * math.prod(k)))
    gy = rng.standard_normal(y.shape).astype(dtype)
    gx_ref, gw_ref = torch.autograd.grad(ty, (tx, tw), torch.tensor(gy, dtype=torch.float64))
    gx = K.conv_transpose_grad_input(gy, w, stride, pad, dil, groups)
    gw = K.conv_transpose_grad_weight(gy, x, w.shape, stride, pad, dil, groups)
    np.testing.assert_allclose(gx, gx_ref.numpy(), **_tol(dtype, o * math.prod(k)))
    np.testing.assert_allclose(gw, gw_ref.numpy(), **_tol(dtype, n * math.prod(y.shape[2:])))


# Winograd F(2x2, 3x3): (N, C_in, (H, W), C_out, ((top, bottom), (left, right)))
WINOGRAD_CASES = [
    (3, 5, (7, 9), 4, ((1, 1), (1, 1))),       # odd output sizes: the last tiles overhang
    (2, 3, (6, 6), 6, ((0, 0), (0, 0))),       # unpadded
    (4, 4, (5, 8), 3, ((2, 0), (1, 2))),       # asymmetric padding
    (5, 2, (1, 1), 3, ((1, 1), (1, 1))),       # one output pixel per image
    (1, 6, (12, 10), 5, ((2, 2), (2, 2))),     # wider than the input
    (7, 3, (4, 6), 2, ((1, 1), (1, 1))),
]
# the block plan: one tile per GEMM row block (grad-weight: per block) and one image per block over 3 threads; all
# tiles in one block, the GEMMs split by position over 3 threads; or the default plan (blocks of images: the cases
# have fewer tiles than a block plan needs)
WINOGRAD_PLANS = {
    "small_blocks": {"_GEMM_ROWS": 1, "_RUN": 1, "_GW_TILES": 1, "_IMAGE_BLOCKS_MIN_TILES": 1, "threads": 3},
    "positions": {"_IMAGE_BLOCKS_MIN_TILES": 1 << 30, "threads": 3},
    "default": {"_IMAGE_BLOCKS_MIN_TILES": 1},
}


def _force_winograd(monkeypatch, plan):
    monkeypatch.setattr(W, "MIN_CHANNELS", 1)
    monkeypatch.setattr(W, "MIN_WIDE_CHANNELS", 1)
    monkeypatch.setattr(W, "_MIN_TILES", 1)
    for name, value in WINOGRAD_PLANS[plan].items():
        if name == "threads":
            monkeypatch.setitem(parallel._state, "n", value)
        else:
            monkeypatch.setattr(W, name, value)
    calls = []
    conv3x3, grad_weight = W.conv3x3, W.grad_weight
    monkeypatch.setattr(W, "conv3x3", lambda *a, **k: calls.append(a[0].shape) or conv3x3(*a, **k))
    monkeypatch.setattr(W, "grad_weight", lambda *a, **k: calls.append("gw") or grad_weight(*a, **k))
    return calls


@pytest.mark.parametrize("plan", list(WINOGRAD_PLANS))
@pytest.mark.parametrize("case", WINOGRAD_CASES, ids=[str(i) for i in range(len(WINOGRAD_CASES))])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_winograd_forward_and_gradients(case, dtype, plan, monkeypatch):
    calls = _force_winograd(monkeypatch, plan)
    n, c, spatial, o, pads = case
    rng = np.random.default_rng(WINOGRAD_CASES.index(case))
    x = rng.standard_normal((n, c, *spatial)).astype(dtype)
    w = rng.standard_normal((o, c, 3, 3)).astype(dtype)
    b = rng.standard_normal(o).astype(dtype)
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    tw = torch.tensor(w, dtype=torch.float64)
    (top, bottom), (left, right) = pads
    ty = F.conv2d(F.pad(tx, (left, right, top, bottom)), tw, torch.tensor(b, dtype=torch.float64))
    y = K.conv_forward(x, w, (1, 1), pads, (1, 1), 1, bias=b)
    assert calls == [x.shape]
    assert y.dtype == dtype and y.flags.c_contiguous and y.shape == tuple(ty.shape)
    np.testing.assert_allclose(y, ty.detach().numpy(), **_tol(dtype, c * 9))

    gy = rng.standard_normal(y.shape).astype(dtype)
    (gx_ref,) = torch.autograd.grad(ty, tx, torch.tensor(gy, dtype=torch.float64))
    # grad_input by the adjoint conv (gy padded by 2 - pad), whichever path the dispatch picks, and by the
    # Winograd kernel directly
    tpads = tuple((2 - lo, s - d + lo) for s, d, (lo, _) in zip(spatial, y.shape[2:], pads))
    for gx in (K.conv_grad_input(gy, w, x.shape, (1, 1), pads, (1, 1), 1),
               W.conv3x3(gy, W.weight_adjoint(w), tpads)):
        assert gx.dtype == dtype and gx.shape == x.shape and gx.flags.c_contiguous
        np.testing.assert_allclose(gx, gx_ref.numpy(), **_tol(dtype, o * 9))

    # grad_weight through the dispatch (which must take Winograd) and by the kernel directly
    tw.requires_grad_()
    ty = F.conv2d(F.pad(tx, (left, right, top, bottom)), tw)
    (gw_ref,) = torch.autograd.grad(ty, tw, torch.tensor(gy, dtype=torch.float64))
    calls.clear()
    for gw in (K.conv_grad_weight(gy, x, w.shape, (1, 1), pads, (1, 1), 1), W.grad_weight(x, gy, pads)):
        assert gw.dtype == dtype and gw.shape == w.shape and gw.flags.c_contiguous
        np.testing.assert_allclose(gw, gw_ref.numpy(), **_tol(dtype, n * y.shape[2] * y.shape[3]))
    assert calls == ["gw", "gw"]


def test_winograd_dispatch():
    """The layers it measured faster on take it; thin, small-map, strided, grouped and 5x5 convs do not."""
    def takes(x_shape, w_shape, stride=(1, 1), pads=((1, 1), (1, 1)), groups=1, dtype=np.float32, gw=False):
        return W.applies(x_shape, w_shape, stride, pads, (1, 1), groups, dtype, weight_gradient=gw)
    assert takes((32, 128, 16, 16), (128, 128, 3, 3))
    assert takes((32, 256, 8, 8), (256, 256, 3, 3))
    # 64 > 128: not its forward (64 inner channels), but its grad-input (the 128 > 64 adjoint) and weight gradient
    assert not takes((32, 64, 16, 16), (128, 64, 3, 3))
    assert takes((32, 128, 16, 16), (64, 128, 3, 3))
    assert takes((32, 64, 16, 16), (128, 64, 3, 3), gw=True)
    assert not takes((32, 64, 32, 32), (64, 64, 3, 3), gw=True)    # thin
    assert not takes((32, 64, 32, 32), (64, 64, 3, 3))            # thin
    assert takes((32, 512, 4, 4), (512, 512, 3, 3))               # 128 tiles: the GEMMs split by position
    assert takes((32, 512, 4, 4), (512, 512, 3, 3), gw=True)
    assert not takes((16, 512, 4, 4), (512, 512, 3, 3))           # too few tiles per weight
    assert not takes((16, 512, 4, 4), (512, 512, 3, 3), gw=True)
    assert not takes((32, 512, 2, 2), (512, 512, 3, 3))
    assert not takes((32, 128, 16, 16), (128, 128, 3, 3), stride=(2, 2))
    assert not takes((32, 128, 16, 16), (128, 64, 3, 3), groups=2)
    assert not takes((32, 128, 16, 16), (128, 128, 5, 5))
    assert not takes((32, 128, 16, 16), (128, 128, 3, 3), dtype=np.float16)


def test_winograd_on_a_real_layer_matches_torch():
    """The default dispatch on a ResNet-sized layer (128 channels, 16x16, batch 8) vs PyTorch in float32."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((8, 128, 16, 16)).astype(np.float32)
    w = (rng.standard_normal((128, 128, 3, 3)) / 34).astype(np.float32)
    assert W.applies(x.shape, w.shape, (1, 1), ((1, 1), (1, 1)), (1, 1), 1, x.dtype)
    tx, tw = torch.from_numpy(x).requires_grad_(), torch.from_numpy(w)
    ty = F.conv2d(tx, tw, padding=1)
    gy = rng.standard_normal(ty.shape).astype(np.float32)
    ty.backward(torch.from_numpy(gy))
    np.testing.assert_allclose(K.conv_forward(x, w, (1, 1), (1, 1), (1, 1), 1), ty.detach().numpy(),
                               rtol=1e-4, atol=2e-5 * math.sqrt(128 * 9))
    np.testing.assert_allclose(K.conv_grad_input(gy, w, x.shape, (1, 1), (1, 1), (1, 1), 1), tx.grad.numpy(),
                               rtol=1e-4, atol=2e-5 * math.sqrt(128 * 9))
    tx, tw = torch.from_numpy(x), torch.from_numpy(w).requires_grad_()
    F.conv2d(tx, tw, padding=1).backward(torch.from_numpy(gy))
    np.testing.assert_allclose(K.conv_grad_weight(gy, x, w.shape, (1, 1), (1, 1), (1, 1), 1), tw.grad.numpy(),
                               rtol=1e-4, atol=2e-5 * math.sqrt(8 * 16 * 16))


def test_rows_on_a_real_layer_matches_torch(monkeypatch):
    """ResNet's 64-channel 3x3 layer (32x32, batch 4, with a bias) goes to the row-tap kernels by default --
    forward, grad-input (its adjoint) and weight gradient -- and matches PyTorch in float32."""
    calls = []
    for name in ("_forward_rows", "_grad_weight_rows"):
        real = getattr(K, name)
        monkeypatch.setattr(K, name, lambda *a, _real=real, _name=name, **k: calls.append(_name) or _real(*a, **k))
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 64, 32, 32)).astype(np.float32)
    w = (rng.standard_normal((64, 64, 3, 3)) / 24).astype(np.float32)
    b = rng.standard_normal(64).astype(np.float32)
    tx, tw, tb = (torch.from_numpy(a).requires_grad_() for a in (x, w, b))
    ty = F.conv2d(tx, tw, tb, padding=1)
    gy = rng.standard_normal(ty.shape).astype(np.float32)
    ty.backward(torch.from_numpy(gy))
    tol = dict(rtol=1e-4, atol=2e-5 * math.sqrt(64 * 9))
    np.testing.assert_allclose(K.conv_forward(x, w, (1, 1), (1, 1), (1, 1), 1, bias=b), ty.detach().numpy(), **tol)
    np.testing.assert_allclose(K.conv_grad_input(gy, w, x.shape, (1, 1), (1, 1), (1, 1), 1), tx.grad.numpy(), **tol)
    gw, gb = K.conv_grad_weight(gy, x, w.shape, (1, 1), (1, 1), (1, 1), 1, bias=True)
    np.testing.assert_allclose(gw, tw.grad.numpy(), rtol=1e-4, atol=2e-5 * math.sqrt(4 * 32 * 32))
    np.testing.assert_allclose(gb, tb.grad.numpy(), rtol=1e-4, atol=2e-5 * math.sqrt(4 * 32 * 32))
    assert calls == ["_forward_rows", "_forward_rows", "_grad_weight_rows"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", [
    (3, 32, (8, 8), 64, (5, 5), (1, 1), (0, 0), (1, 1), 1),       # the course net's conv2
    (2, 4, (12, 11), 6, (3, 3), (2, 2), (1, 1), (1, 1), 1),       # strided, padded
    (2, 3, (10, 12), 5, (3, 2), (1, 2), ((2, 0), (0, 1)), (2, 1), 1),   # dilated, uneven pads
    (2, 3, (9, 9), 4, (4, 4), (3, 3), ((-1, 0), (0, 0)), (1, 1), 1),    # a cropping (negative) pad
], ids=["course", "strided", "dilated", "crop"])
def test_compiled_col2im_is_bitwise_the_numpy_adds(case, dtype, monkeypatch):
    """``_grad_input_taps`` with the compiled col2im (``fused.py``) and with its NumPy adds: the same bits, one
    chunk or an image per chunk over 2 threads."""
    pytest.importorskip("numba")
    assert fused.col2im_kernel() is not None
    n, c, spatial, o, k, stride, pads, dil, _ = case
    rng = np.random.default_rng(0)
    x = np.empty((n, c, *spatial), dtype)
    w = rng.standard_normal((o, c, *k)).astype(dtype)
    pads = K._resolve_padding(pads, 2)
    out = K._out_shape(spatial, k, stride, pads, dil)
    gy = rng.standard_normal((n, o, *out)).astype(dtype)
    for chunking in ({}, {"_TAPS_BYTES": 1, "_THREAD_MIN_FLOPS": 0, "threads": 2}):
        with monkeypatch.context() as m:
            for name, value in chunking.items():
                m.setitem(parallel._state, "n", value) if name == "threads" else m.setattr(K, name, value)
            compiled = K._grad_input_taps(gy, w, x.shape, stride, pads, dil)
            m.setitem(fused._cache, "col2im_", None)
            numpy = K._grad_input_taps(gy, w, x.shape, stride, pads, dil)
        np.testing.assert_array_equal(compiled, numpy)
    tx, tw = torch.zeros(x.shape, dtype=torch.float64, requires_grad=True), torch.tensor(w, dtype=torch.float64)
    txp = F.pad(tx, (pads[1][0], pads[1][1], pads[0][0], pads[0][1]))
    ref = torch.autograd.grad(F.conv2d(txp, tw, None, stride, 0, dil), tx, torch.tensor(gy, dtype=torch.float64))[0]
    np.testing.assert_allclose(compiled, ref.numpy(), **_tol(dtype, o * math.prod(k)))


def test_same_padding_puts_the_extra_element_high():
    assert K.same_padding((4, 3, 1), (1, 2, 5)) == ((1, 2), (2, 2), (0, 0))


def test_float32_is_not_promoted_on_the_chunked_paths(monkeypatch):
    monkeypatch.setattr(K, "_CHUNK_BYTES", 1)
    x = np.ones((3, 2, 6, 6), np.float32)
    w = np.ones((4, 2, 3, 3), np.float32)
    gy = np.ones((3, 4, 2, 2), np.float32)
    assert K.conv_forward(x, w, (2, 2), (0, 0), (1, 1), 1).dtype == np.float32
    assert K.conv_grad_input(gy, w, x.shape, (2, 2), (0, 0), (1, 1), 1).dtype == np.float32
    assert K.conv_grad_weight(gy, x, w.shape, (2, 2), (0, 0), (1, 1), 1).dtype == np.float32


def test_errors():
    x = np.zeros((1, 3, 4, 4))
    with pytest.raises(RuntimeError, match="expected input"):
        K.conv_forward(x, np.zeros((2, 2, 3, 3)), (1, 1), (0, 0), (1, 1), 1)
    with pytest.raises(RuntimeError, match="Kernel size can't be greater"):
        K.conv_forward(x, np.zeros((2, 3, 5, 5)), (1, 1), (0, 0), (1, 1), 1)
    with pytest.raises(RuntimeError, match="dtype"):
        K.conv_forward(x.astype(np.float32), np.zeros((2, 3, 3, 3)), (1, 1), (0, 0), (1, 1), 1)


def test_empty_batch():
    y = K.conv_forward(np.zeros((0, 3, 5, 5)), np.zeros((2, 3, 3, 3)), (1, 1), (1, 1), (1, 1), 1)
    assert y.shape == (0, 2, 5, 5)
    gw = K.conv_grad_weight(np.zeros((0, 2, 5, 5)), np.zeros((0, 3, 5, 5)), (2, 3, 3, 3), (1, 1), (1, 1), (1, 1), 1)
    assert gw.shape == (2, 3, 3, 3) and not gw.any()
