"""conv/pool ops against PyTorch: forward, gradients with random grad_output, double backward."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F
from tests.conftest import assert_close

rng = np.random.default_rng(0)


def _rand(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def _pair(arr, requires_grad=True):
    e = ember.from_numpy(arr.copy()).requires_grad_(requires_grad)
    t = torch.from_numpy(arr.copy()).requires_grad_(requires_grad)
    return e, t


def _grads(e_out, t_out, e_in, t_in, rtol, atol):
    g = _rand(*t_out.shape, dtype=t_out.detach().numpy().dtype)
    ge = ember.autograd.grad(e_out, e_in, ember.from_numpy(g.copy()), allow_unused=True)
    gt = torch.autograd.grad(t_out, t_in, torch.from_numpy(g.copy()), allow_unused=True)
    for a, b in zip(ge, gt):
        if b is None:
            assert a is None
        else:
            assert_close(a, b, rtol=rtol, atol=atol)


CONV2D_CASES = [
    # (N, C_in, H, W), (C_out, C_in/g, kh, kw), stride, padding, dilation, groups
    ((2, 3, 9, 9), (4, 3, 3, 3), 1, 1, 1, 1),
    ((2, 3, 9, 8), (4, 3, 3, 3), 2, 0, 1, 1),
    ((1, 4, 10, 10), (6, 2, 3, 3), 1, 1, 1, 2),
    ((2, 4, 8, 8), (4, 1, 3, 3), 1, 1, 1, 4),
    ((2, 3, 11, 11), (2, 3, 3, 3), 1, 2, 2, 1),
    ((2, 1, 28, 28), (8, 1, 5, 5), 1, 0, 1, 1),
    ((2, 3, 8, 8), (5, 3, 1, 1), 1, 0, 1, 1),
    ((2, 3, 7, 7), (4, 3, 2, 2), 1, "same", 1, 1),
    ((2, 3, 7, 7), (4, 3, 3, 3), 1, "valid", 1, 1),
    ((2, 3, 9, 9), (4, 3, 3, 3), (2, 1), (1, 0), 1, 1),
]


@pytest.mark.parametrize("xs,ws,stride,padding,dilation,groups", CONV2D_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv2d_forward_backward(xs, ws, stride, padding, dilation, groups, dtype):
    x, tx = _pair(_rand(*xs, dtype=dtype))
    w, tw = _pair(_rand(*ws, dtype=dtype))
    b, tb = _pair(_rand(ws[0], dtype=dtype))
    y = F.conv2d(x, w, b, stride, padding, dilation, groups)
    ty = TF.conv2d(tx, tw, tb, stride, padding, dilation, groups)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    assert_close(y, ty, **tol)
    _grads(y, ty, (x, w, b), (tx, tw, tb), **tol)


def test_conv2d_noncontiguous_input():
    arr = _rand(2, 9, 9, 3)
    x = ember.from_numpy(arr.copy()).permute(0, 3, 1, 2)
    tx = torch.from_numpy(arr.copy()).permute(0, 3, 1, 2)
    w, tw = _pair(_rand(4, 3, 3, 3))
    assert_close(F.conv2d(x, w, padding=1), TF.conv2d(tx, tw, padding=1), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("fn,tfn,xs,ws", [
    ("conv1d", "conv1d", (2, 3, 10), (4, 3, 3)),
    ("conv3d", "conv3d", (1, 2, 5, 6, 5), (3, 2, 3, 3, 3)),
])
def test_conv_1d_3d(fn, tfn, xs, ws):
    x, tx = _pair(_rand(*xs, dtype=np.float64))
    w, tw = _pair(_rand(*ws, dtype=np.float64))
    y = getattr(F, fn)(x, w, None, 1, 1)
    ty = getattr(TF, tfn)(tx, tw, None, 1, 1)
    assert_close(y, ty, rtol=1e-10, atol=1e-10)
    _grads(y, ty, (x, w), (tx, tw), 1e-10, 1e-10)


@pytest.mark.parametrize("stride,padding,output_padding,groups,dilation", [
    (1, 0, 0, 1, 1), (2, 1, 1, 1, 1), (2, 0, 0, 2, 1), (1, 1, 0, 1, 2)])
def test_conv_transpose2d(stride, padding, output_padding, groups, dilation):
    x, tx = _pair(_rand(2, 4, 5, 5, dtype=np.float64))
    w, tw = _pair(_rand(4, 6 // groups, 3, 3, dtype=np.float64))
    b, tb = _pair(_rand(6, dtype=np.float64))
    y = F.conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation)
    ty = TF.conv_transpose2d(tx, tw, tb, stride, padding, output_padding, groups, dilation)
    assert_close(y, ty, rtol=1e-10, atol=1e-10)
    _grads(y, ty, (x, w, b), (tx, tw, tb), 1e-10, 1e-10)


def test_conv2d_double_backward_matches_torch():
    x, tx = _pair(_rand(2, 3, 6, 6, dtype=np.float64))
    w, tw = _pair(_rand(4, 3, 3, 3, dtype=np.float64))
    v = _rand(2, 4, 4, 4, dtype=np.float64)
    gx, gw = ember.autograd.grad(F.conv2d(x, w), (x, w), ember.from_numpy(v.copy()), create_graph=True)
    tgx, tgw = torch.autograd.grad(TF.conv2d(tx, tw), (tx, tw), torch.from_numpy(v.copy()), create_graph=True)
    s = (gx * gx).sum() + (gw ** 3).sum()
    ts = (tgx * tgx).sum() + (tgw ** 3).sum()
    _grads(s, ts, (x, w), (tx, tw), 1e-9, 1e-9)


def test_conv2d_gradcheck_and_gradgradcheck():
    x = ember.randn(1, 2, 5, 5, dtype=ember.float64).requires_grad_()
    w = ember.randn(3, 2, 3, 3, dtype=ember.float64).requires_grad_()
    b = ember.randn(3, dtype=ember.float64).requires_grad_()
    f = lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1)
    assert ember.autograd.gradcheck(f, (x, w, b))
    assert ember.autograd.gradgradcheck(f, (x, w, b))


@pytest.mark.parametrize("image_blocks", [True, False], ids=["image_blocks", "positions"])
def test_conv2d_winograd_gradcheck_and_gradgradcheck(monkeypatch, image_blocks):
    """First and second derivatives with every 3x3 stride-1 kernel call on the Winograd path (forced), its GEMMs
    over the threads by blocks of images or by position."""
    from ember.backend.kernels import winograd as W
    for name in ("MIN_CHANNELS", "MIN_WIDE_CHANNELS", "_MIN_TILES"):
        monkeypatch.setattr(W, name, 1)
    monkeypatch.setattr(W, "_IMAGE_BLOCKS_MIN_TILES", 1 if image_blocks else 1 << 30)
    calls = []
    conv3x3, grad_weight = W.conv3x3, W.grad_weight
    monkeypatch.setattr(W, "conv3x3", lambda *a, **k: calls.append("conv3x3") or conv3x3(*a, **k))
    monkeypatch.setattr(W, "grad_weight", lambda *a, **k: calls.append("grad_weight") or grad_weight(*a, **k))
    x = ember.randn(2, 3, 5, 6, dtype=ember.float64).requires_grad_()
    w = ember.randn(4, 3, 3, 3, dtype=ember.float64).requires_grad_()
    b = ember.randn(4, dtype=ember.float64).requires_grad_()
    f = lambda x, w, b: F.conv2d(x, w, b, padding=1)
    assert ember.autograd.gradcheck(f, (x, w, b))
    assert ember.autograd.gradgradcheck(f, (x, w, b))
    assert set(calls) == {"conv3x3", "grad_weight"}


@pytest.mark.parametrize("shape", [(8, 128, 16, 16), (32, 256, 4, 4), (4, 16, 12, 12)],
                         ids=["winograd_image_blocks", "winograd_positions", "rows"])
def test_conv2d_weight_changed_through_data_before_backward(shape):
    """A weight modified in place through ``.data`` between forward and backward bumps no version counter, and
    PyTorch's backward then differentiates with the new values: so must ember's (no kernel may carry anything
    it derived from the weight, e.g. Winograd's transformed filters, from forward to backward)."""
    n, c, h, w_ = shape
    x, tx = _pair(_rand(*shape))
    wt, tw = _pair((_rand(c, c, 3, 3) / np.sqrt(9 * c)).astype(np.float32))
    y, ty = F.conv2d(x, wt, padding=1), TF.conv2d(tx, tw, padding=1)
    wt.data.mul_(2)
    tw.data.mul_(2)
    g = _rand(*ty.shape)
    y.backward(ember.from_numpy(g))
    ty.backward(torch.from_numpy(g))
    assert_close(x.grad, tx.grad, rtol=1e-4, atol=1e-4)
    assert_close(wt.grad, tw.grad, rtol=1e-4, atol=2e-5 * np.sqrt(n * h * w_))


def test_conv_errors():
    x = ember.randn(100, 3, 28, 28)
    w = ember.randn(32, 1, 5, 5)
    with pytest.raises(RuntimeError, match=r"Given groups=1, weight of size \[32, 1, 5, 5\], expected "
                                           r"input\[100, 3, 28, 28\] to have 1 channels, but got 3 channels"):
        F.conv2d(x, w)
    with pytest.raises(RuntimeError, match="Kernel size can't be greater than actual input size"):
        F.conv2d(ember.randn(1, 1, 3, 3), ember.randn(1, 1, 5, 5))
    with pytest.raises(RuntimeError, match="Expected 3D \\(unbatched\\) or 4D \\(batched\\) input to conv2d"):
        F.conv2d(ember.randn(3, 4), w)
    # The same exception types as torch:
    for fn in (lambda m: m.conv2d(m.randn(1, 1, 3, 3), m.randn(1, 1, 5, 5)),
               lambda m: m.conv2d(m.randn(2, 3, 8, 8), m.randn(4, 2, 3, 3))):
        with pytest.raises(RuntimeError):
            fn(ember)
        with pytest.raises(RuntimeError):
            fn(torch)


def test_course_output_sizes():
    weight = ember.empty(5, 4, 2, 3).normal_()
    bias = ember.empty(5).normal_()
    x = ember.empty(117, 4, 10, 3).normal_()
    assert str(F.conv2d(x, weight, bias).size()) == "torch.Size([117, 5, 9, 1])"
    f = ember.nn.Conv2d(in_channels=4, out_channels=5, kernel_size=(2, 3))
    assert [(n, str(p.size())) for n, p in f.named_parameters()] == [
        ("weight", "torch.Size([5, 4, 2, 3])"), ("bias", "torch.Size([5])")]
    assert str(f(x).size()) == "torch.Size([117, 5, 9, 1])"
    x = ember.Tensor(1, 1, 20, 30).normal_()
    f = ember.nn.Conv2d(1, 1, kernel_size=3, dilation=4)
    assert str(f(x).size()) == "torch.Size([1, 1, 12, 22])"


POOL_CASES = [
    # kernel, stride, padding, dilation, ceil_mode
    (2, None, 0, 1, False),
    (3, 2, 1, 1, False),
    (3, 2, 1, 1, True),
    (3, 3, 0, 1, True),
    ((2, 3), (1, 2), (1, 1), 1, False),
    (3, 1, 1, 2, False),
]


@pytest.mark.parametrize("k,s,p,d,ceil", POOL_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool2d(k, s, p, d, ceil, dtype):
    x, tx = _pair(_rand(2, 3, 9, 10, dtype=dtype))
    y, i = F.max_pool2d(x, k, s, p, d, ceil, return_indices=True)
    ty, ti = TF.max_pool2d(tx, k, s, p, d, ceil, return_indices=True)
    assert_close(y, ty)
    assert_close(i, ti)
    _grads(y, ty, (x,), (tx,), 1e-6, 1e-6)


@pytest.mark.parametrize("k,s,p,ceil,cip,div", [
    (2, None, 0, False, True, None), (3, 2, 1, False, True, None), (3, 2, 1, True, False, None),
    (3, 2, 1, True, True, None), ((2, 3), (2, 1), (1, 0), False, True, 5)])
def test_avg_pool2d(k, s, p, ceil, cip, div):
    x, tx = _pair(_rand(2, 3, 9, 8, dtype=np.float64))
    y = F.avg_pool2d(x, k, s, p, ceil, cip, div)
    ty = TF.avg_pool2d(tx, k, s, p, ceil, cip, div)
    assert_close(y, ty, rtol=1e-10, atol=1e-10)
    _grads(y, ty, (x,), (tx,), 1e-10, 1e-10)


@pytest.mark.parametrize("out", [1, (3, 4), (5, 7), (None, 2)])
def test_adaptive_pools(out):
    x, tx = _pair(_rand(2, 3, 9, 10, dtype=np.float64))
    assert_close(F.adaptive_avg_pool2d(x, out), TF.adaptive_avg_pool2d(tx, out), rtol=1e-10, atol=1e-10)
    _grads(F.adaptive_avg_pool2d(x, out), TF.adaptive_avg_pool2d(tx, out), (x,), (tx,), 1e-10, 1e-10)
    y, i = F.adaptive_max_pool2d(x, out, return_indices=True)
    ty, ti = TF.adaptive_max_pool2d(tx, out, return_indices=True)
    assert_close(y, ty)
    assert_close(i, ti)
    _grads(y, ty, (x,), (tx,), 1e-10, 1e-10)


@pytest.mark.parametrize("fn", ["max_pool1d", "avg_pool1d", "max_pool3d", "avg_pool3d"])
def test_pool_1d_3d(fn):
    shape = (2, 3, 9) if fn.endswith("1d") else (1, 2, 5, 6, 7)
    x, tx = _pair(_rand(*shape, dtype=np.float64))
    y = getattr(F, fn)(x, 2, 2, 1)
    ty = getattr(TF, fn)(tx, 2, 2, 1)
    assert_close(y, ty)
    _grads(y, ty, (x,), (tx,), 1e-10, 1e-10)


def test_lp_pool2d():
    x, tx = _pair(np.abs(_rand(2, 3, 8, 8, dtype=np.float64)) + 0.1)
    assert_close(F.lp_pool2d(x, 2, 2), TF.lp_pool2d(tx, 2, 2), rtol=1e-10, atol=1e-10)
    assert_close(F.lp_pool2d(x, 1, 3, 2), TF.lp_pool2d(tx, 1, 3, 2), rtol=1e-10, atol=1e-10)


def test_pool_double_backward():
    x, tx = _pair(_rand(2, 2, 6, 6, dtype=np.float64))
    for f, tf in ((lambda a: F.max_pool2d(a, 3, 2, 1), lambda a: TF.max_pool2d(a, 3, 2, 1)),
                  (lambda a: F.avg_pool2d(a, 3, 2, 1), lambda a: TF.avg_pool2d(a, 3, 2, 1))):
        y, ty = f(x), tf(tx)
        v = _rand(*ty.shape, dtype=np.float64)
        (g,) = ember.autograd.grad((y * ember.from_numpy(v.copy())).sum(), x, create_graph=True)
        (tg,) = torch.autograd.grad((ty * torch.from_numpy(v.copy())).sum(), tx, create_graph=True)
        _grads((g * g * x).sum(), (tg * tg * tx).sum(), (x,), (tx,), 1e-9, 1e-9)


def test_pool_errors():
    with pytest.raises(RuntimeError, match="Output size is too small"):
        F.max_pool2d(ember.randn(1, 1, 2, 2), 3)
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.max_pool2d(ember.randn(1, 1, 8, 8), 2, padding=2)
    with pytest.raises(RuntimeError):
        TF.max_pool2d(torch.randn(1, 1, 2, 2), 3)


def test_notes_max_pool_example():
    x = ember.tensor([[[[1., 2., 3., 4.], [5., 6., 7., 8.], [9., 10., 11., 12.], [13., 14., 15., 16.]]]])
    assert repr(F.max_pool2d(x, 2)) == "tensor([[[[ 6.,  8.],\n          [14., 16.]]]])"
