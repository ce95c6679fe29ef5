"""nn.functional activations, normalizations, dropout and helpers against PyTorch: values, dtypes,
gradients with a random grad_output, float64 gradcheck/gradgradcheck, grad_fn names, errors."""
import numpy as np
import pytest
from conftest import assert_close, requires_torch, torch

import ember
from ember.autograd import gradcheck, gradgradcheck
from ember.nn import functional as F

pytestmark = requires_torch
TF = torch.nn.functional if torch else None

ACTIVATIONS = {
    "relu": ({}, "ReluBackward0"),
    "relu6": ({}, "HardtanhBackward0"),
    "leaky_relu": ({"negative_slope": 0.2}, "LeakyReluBackward0"),
    "elu": ({"alpha": 0.8}, "EluBackward0"),
    "selu": ({}, "EluBackward0"),
    "celu": ({"alpha": 1.3}, "CeluBackward0"),
    "gelu": ({}, "GeluBackward0"),
    "gelu_tanh": ({"approximate": "tanh"}, "GeluBackward0"),
    "silu": ({}, "SiluBackward0"),
    "mish": ({}, "MishBackward0"),
    "softplus": ({"beta": 1.5, "threshold": 2.0}, "SoftplusBackward0"),
    "hardtanh": ({"min_val": -0.4, "max_val": 0.9}, "HardtanhBackward0"),
    "hardswish": ({}, "HardswishBackward0"),
    "hardsigmoid": ({}, "HardsigmoidBackward0"),
    "sigmoid": ({}, "SigmoidBackward0"),
    "tanh": ({}, "TanhBackward0"),
    "threshold": ({"threshold": 0.3, "value": -2.0}, "ThresholdBackward0"),
    "logsigmoid": ({}, "LogSigmoidBackward0"),
    "softsign": ({}, "DivBackward0"),
    "tanhshrink": ({}, "SubBackward0"),
}
SMOOTH = ["elu", "selu", "celu", "gelu", "gelu_tanh", "silu", "mish", "softplus", "sigmoid", "tanh", "logsigmoid",
          "softsign", "tanhshrink"]


def _fn(lib_f, name):
    return getattr(lib_f, name.replace("_tanh", ""))


def _data(shape, seed=0, dtype=np.float32, scale=3.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_forward_backward(name):
    kw, node = ACTIVATIONS[name]
    x = _data((5, 7))
    x[0, :4] = [0.0, 3.0, -3.0, 25.0]  # kinks and the softplus threshold
    ex = ember.from_numpy(x.copy()).requires_grad_()
    tx = torch.from_numpy(x.copy()).requires_grad_()
    ey, ty = _fn(F, name)(ex, **kw), _fn(TF, name)(tx, **kw)
    assert_close(ey, ty, rtol=1e-5, atol=1e-6)
    assert ey.grad_fn.name() == ty.grad_fn.name() == node
    g = _data((5, 7), 1, scale=1.0)
    ey.backward(ember.from_numpy(g.copy()))
    ty.backward(torch.from_numpy(g.copy()))
    assert_close(ex.grad, tx.grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", SMOOTH)
def test_activation_gradcheck_and_double_backward(name):
    kw, _ = ACTIVATIONS[name]
    x = ember.from_numpy(_data((3, 4), 2, np.float64, scale=1.5)).requires_grad_()
    f = _fn(F, name)
    assert gradcheck(lambda t: f(t, **kw), (x,))
    assert gradgradcheck(lambda t: f(t, **kw), (x,))


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "elu", "selu", "celu", "hardtanh", "threshold", "relu6",
                                  "silu", "hardswish", "hardsigmoid", "mish"])
def test_activation_inplace(name):
    kw, _ = ACTIVATIONS[name]
    x = _data((4, 5))
    ex = ember.from_numpy(x.copy())
    tx = torch.from_numpy(x.copy())
    ry = _fn(F, name)(ex, inplace=True, **kw)
    _fn(TF, name)(tx, inplace=True, **kw)
    assert ry is ex
    assert_close(ex, tx, rtol=1e-5, atol=1e-6)
    # under autograd on a non-leaf
    a = ember.from_numpy(x.copy()).requires_grad_()
    ta = torch.from_numpy(x.copy()).requires_grad_()
    eb, tb = a * 1, ta * 1
    _fn(F, name)(eb, inplace=True, **kw)
    _fn(TF, name)(tb, inplace=True, **kw)
    g = _data((4, 5), 3)
    eb.backward(ember.from_numpy(g.copy()))
    tb.backward(torch.from_numpy(g.copy()))
    assert_close(a.grad, ta.grad, rtol=1e-5, atol=1e-6)


def test_relu_inplace_under_autograd_is_one_array_like_pytorch():
    """relu_ on a non-view with a history computes in place and saves the tensor itself (PyTorch's ReluBackward0):
    same values and gradients, no new array, the version check when the result is modified later; a view takes
    the general in-place path (its base's gradient through CopySlices)."""
    x = _data((4, 5))
    g = _data((4, 5), 3)
    for m in (ember, torch):
        a = m.from_numpy(x.copy()).requires_grad_()
        y = a * 2
        before = y._data if m is ember else None
        r = y.relu_()
        assert r is y and type(y.grad_fn).__name__ == "ReluBackward0"
        if m is ember:
            assert y._data is before              # the same array, modified in place
        (y * y).backward(m.from_numpy(g.copy()))
        if m is ember:
            ea = a.grad
        else:
            assert_close(ea, a.grad, rtol=1e-5, atol=1e-6)
        b = m.from_numpy(x.copy()).requires_grad_()
        z = b * 2
        z.relu_()
        z.add_(1)                             # the saved result changed: backward must refuse
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.sum().backward()
        c = m.from_numpy(x.copy()).requires_grad_()
        w = c * 2
        w[1:3].relu_()                        # a view: its base w is rebased
        (w * w).backward(m.from_numpy(g.copy()))
        if m is ember:
            ec = c.grad
        else:
            assert_close(ec, c.grad, rtol=1e-5, atol=1e-6)


def test_prelu_and_extras():
    x = _data((2, 3, 4))
    w = np.array([0.1, -0.3, 0.5], np.float32)
    ex, tx = ember.from_numpy(x.copy()).requires_grad_(), torch.from_numpy(x.copy()).requires_grad_()
    ew, tw = ember.from_numpy(w.copy()).requires_grad_(), torch.from_numpy(w.copy()).requires_grad_()
    ey, ty = F.prelu(ex, ew), TF.prelu(tx, tw)
    assert_close(ey, ty)
    assert ey.grad_fn.name() == ty.grad_fn.name()
    g = _data((2, 3, 4), 1)
    ey.backward(ember.from_numpy(g.copy()))
    ty.backward(torch.from_numpy(g.copy()))
    assert_close(ex.grad, tx.grad)
    assert_close(ew.grad, tw.grad, atol=1e-5)
    for name, kw in [("hardshrink", {}), ("softshrink", {"lambd": 0.7}), ("glu", {"dim": 1}), ("rrelu", {})]:
        y = np.concatenate([x, x], 1)
        assert_close(getattr(F, name)(ember.from_numpy(y), **kw), getattr(TF, name)(torch.from_numpy(y), **kw))


def test_relu_keeps_dtype_and_rejects_bad_args():
    assert F.relu(ember.zeros(2, dtype=ember.float64)).dtype == ember.float64
    assert F.relu(ember.tensor([-1, 2])).tolist() == [0, 2]
    with pytest.raises(RuntimeError):
        F.gelu(ember.zeros(2), approximate="fast")
    with pytest.raises(ValueError):
        F.hardtanh(ember.zeros(2), 1.0, -1.0)


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_relu_special_values_bit_for_bit(dtype):
    # relu compares against a cached zero array for contiguous input and the scalar 0 otherwise; both keep
    # NaN and the sign of -0.0 as PyTorch does, in place or not
    v = np.array([[-1.0, 0.0, np.nan, 2.0, -0.0, np.inf, -np.inf, 1e-30]] * 3, dtype)
    want = torch.relu(torch.from_numpy(v.copy())).numpy()
    got = [F.relu(ember.from_numpy(v.copy())), F.relu(ember.from_numpy(v.copy()).t()).t(),
           F.relu(ember.from_numpy(v.copy()), inplace=True), ember.relu_(ember.from_numpy(v.copy()).t()).t()]
    for g in got:
        g = g.numpy()
        assert np.array_equal(g, want, equal_nan=True) and np.array_equal(np.signbit(g), np.signbit(want))


@requires_torch
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_relu_and_its_gradients_on_the_threaded_row_path(threads, monkeypatch):
    # large contiguous arrays run relu and its backward (g * (y > 0)) in row ranges on ember's threads; forced
    # here for a small array so each thread gets special values too
    from ember.backend import parallel
    monkeypatch.setattr(parallel, "_ROWS_MIN_ELEMENTS", 0)
    monkeypatch.setitem(parallel._state, "n", threads)
    v = np.array([-1.0, 0.0, np.nan, 2.0, -0.0, np.inf, -np.inf, 1e-30, -3.5, 0.5, 4.0], np.float32)
    g = np.random.default_rng(0).standard_normal(v.shape).astype(np.float32)
    want = torch.relu(torch.from_numpy(v.copy())).numpy()
    for got in (F.relu(ember.from_numpy(v.copy())), F.relu(ember.from_numpy(v.copy()), inplace=True)):
        got = got.numpy()
        assert np.array_equal(got, want, equal_nan=True) and np.array_equal(np.signbit(got), np.signbit(want))
    w = np.nan_to_num(v, nan=1.0, posinf=2.0, neginf=-2.0)
    ex, tx = ember.from_numpy(w.copy()).requires_grad_(), torch.from_numpy(w.copy()).requires_grad_()
    (eg,) = ember.autograd.grad(F.relu(ex), ex, ember.from_numpy(g), create_graph=True)
    (tg,) = torch.autograd.grad(torch.relu(tx), tx, torch.from_numpy(g), create_graph=True)
    assert np.array_equal(eg.detach().numpy(), tg.detach().numpy())
    (egg,) = ember.autograd.grad(eg, ex, ember.ones(v.shape), allow_unused=True) if eg.requires_grad else (None,)
    assert egg is None or np.array_equal(egg.numpy(), np.zeros_like(w))


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_add_shares_large_same_shaped_arrays_over_threads(threads, monkeypatch):
    # a + b of one shape, dtype and C layout runs in flat ranges on ember's threads (forced here for small
    # arrays); alpha, broadcasting, mixed dtypes and views take NumPy's add
    from ember.backend import parallel
    monkeypatch.setattr(parallel, "_ROWS_MIN_ELEMENTS", 0)
    monkeypatch.setitem(parallel._state, "n", threads)
    rng = np.random.default_rng(threads)
    a, b = rng.standard_normal((3, 4, 5)).astype(np.float32), rng.standard_normal((3, 4, 5)).astype(np.float32)
    cases = [(a, b, 1), (a, b, 2.5), (a, b[:1], 1), (a, b.astype(np.float64), 1), (a, b.transpose(0, 2, 1).copy()
             .transpose(0, 2, 1), 1), (a.astype(np.int64), b.astype(np.int64), 1)]
    for x, y, alpha in cases:
        ex, ey = ember.from_numpy(x.copy()), ember.from_numpy(y.copy())
        tx, ty = torch.from_numpy(x.copy()), torch.from_numpy(y.copy())
        got, want = ember.add(ex, ey, alpha=alpha), torch.add(tx, ty, alpha=alpha)
        assert got.dtype == ember.from_numpy(want.numpy()).dtype and got.shape == tuple(want.shape)
        if alpha == 1:
            assert np.array_equal(got.numpy(), want.numpy())
        else:   # PyTorch fuses a + alpha * b (one rounding less)
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, atol=1e-6)
    ex, ey = (ember.from_numpy(v.copy()).requires_grad_() for v in (a, b))
    tx, ty = (torch.from_numpy(v.copy()).requires_grad_() for v in (a, b))
    g = rng.standard_normal(a.shape).astype(np.float32)
    for e_grad, t_grad in zip(ember.autograd.grad(ex + ey, (ex, ey), ember.from_numpy(g)),
                              torch.autograd.grad(tx + ty, (tx, ty), torch.from_numpy(g))):
        assert np.array_equal(e_grad.numpy(), t_grad.numpy())


@pytest.mark.parametrize("small_batch_path", [False, True])
@pytest.mark.parametrize("xs,bias,transposed", [((2, 3), True, False), ((2, 3), False, False), ((2, 3), True, True),
                                                ((0, 3), True, False), ((3,), True, False), ((2, 5, 3), True, False),
                                                ((70, 3), True, False)])
def test_linear_layouts_and_the_array_backward(xs, bias, transposed, small_batch_path, monkeypatch):
    # few rows and a large weight take (W @ x^T)^T; training without create_graph takes the array backward;
    # the small-batch path is forced here for a small weight (70 rows stay on x @ W^T)
    from ember.ops import linalg
    if small_batch_path:
        monkeypatch.setattr(linalg, "_SMALL_BATCH_WEIGHT", 0)
    x = _data(xs[::-1]).T if transposed else _data(xs)
    w, b = _data((4, 3), 1), (_data((4,), 2) if bias else None)
    g = _data(xs[:-1] + (4,), 3)
    ex, ew = ember.from_numpy(x).requires_grad_(), ember.from_numpy(w).requires_grad_()
    tx, tw = torch.from_numpy(x.copy()).requires_grad_(), torch.from_numpy(w).requires_grad_()
    eb = ember.from_numpy(b).requires_grad_() if bias else None
    tb = torch.from_numpy(b).requires_grad_() if bias else None
    eo, to = F.linear(ex, ew, eb), TF.linear(tx, tw, tb)
    assert eo.is_contiguous()
    assert_close(eo, to, rtol=1e-6, atol=1e-5)
    eo.backward(ember.from_numpy(g))
    to.backward(torch.from_numpy(g))
    for e_, t_ in [(ex, tx), (ew, tw)] + ([(eb, tb)] if bias else []):
        assert_close(e_.grad, t_.grad, rtol=1e-6, atol=1e-5)
    x64 = ember.from_numpy(x.astype(np.float64)).requires_grad_()
    w64 = ember.from_numpy(w.astype(np.float64)).requires_grad_()
    b64 = ember.from_numpy(b.astype(np.float64)).requires_grad_() if bias else None
    args = (x64, w64) + ((b64,) if bias else ())
    assert gradcheck(F.linear, args) and gradgradcheck(F.linear, args)


# ---- normalization ------------------------------------------------------------------------------
NORMS = {
    "layer_norm": (lambda f, x, w, b: f.layer_norm(x, (5,), w, b, 1e-5), (3, 4, 5), (5,)),
    "layer_norm_2d": (lambda f, x, w, b: f.layer_norm(x, (4, 5), w, b), (3, 4, 5), (4, 5)),
    "group_norm": (lambda f, x, w, b: f.group_norm(x, 2, w, b), (3, 4, 5), (4,)),
    "instance_norm": (lambda f, x, w, b: f.instance_norm(x, weight=w, bias=b), (3, 4, 5), (4,)),
    "batch_norm_train": (lambda f, x, w, b: f.batch_norm(x, None, None, w, b, True), (3, 4, 5), (4,)),
    "batch_norm_2d": (lambda f, x, w, b: f.batch_norm(x, None, None, w, b, True), (6, 4), (4,)),
    "local_response_norm": (lambda f, x, w, b: f.local_response_norm(x * w.reshape(1, 4, 1), 3), (3, 4, 5), (4,)),
    "rms_norm": (lambda f, x, w, b: f.rms_norm(x, (4, 5), x[0] * 0 + w.reshape(4, 1), 1e-3),
                 (3, 4, 5), (4,)),
    "normalize": (lambda f, x, w, b: f.normalize(x * w.reshape(1, 4, 1), dim=1), (3, 4, 5), (4,)),
    "normalize_p1": (lambda f, x, w, b: f.normalize(x + w.reshape(1, 4, 1), p=1.0, dim=-1), (3, 4, 5), (4,)),
}


@pytest.mark.parametrize("name", list(NORMS))
def test_norm_functional(name):
    fn, xs, ws = NORMS[name]
    x, w, b = _data(xs), _data(ws, 1), _data(ws, 2)
    e = [ember.from_numpy(a.copy()).requires_grad_() for a in (x, w, b)]
    t = [torch.from_numpy(a.copy()).requires_grad_() for a in (x, w, b)]
    ey, ty = fn(F, *e), fn(TF, *t)
    assert_close(ey, ty, rtol=1e-4, atol=1e-5)
    g = _data(tuple(ty.shape), 3, scale=1.0)
    ey.backward(ember.from_numpy(g.copy()))
    ty.backward(torch.from_numpy(g.copy()))
    for a, b_ in zip(e, t):
        if b_.grad is not None:
            assert_close(a.grad, b_.grad, rtol=1e-4, atol=1e-4)
    e64 = [ember.from_numpy(a.astype(np.float64)).requires_grad_() for a in (x[:2, :, :3], w, b)] \
        if len(xs) == 3 and name != "layer_norm_2d" else None
    if e64 is not None and name not in ("local_response_norm", "normalize", "normalize_p1", "rms_norm"):
        ws_ok = e64[1].shape[0] == (4 if ws == (4,) else e64[0].shape[-1])
        if ws_ok and name != "layer_norm":
            assert gradcheck(lambda *a: fn(F, *a), tuple(e64))


def test_layer_norm_gradgrad_and_errors():
    x = ember.from_numpy(_data((2, 3), 0, np.float64)).requires_grad_()
    assert gradgradcheck(lambda t: F.layer_norm(t, (3,)), (x,))
    with pytest.raises(RuntimeError, match="normalized_shape"):
        F.layer_norm(ember.zeros(2, 3), (4,))
    with pytest.raises(RuntimeError, match="running_mean and running_var"):
        F.batch_norm(ember.zeros(2, 3), None, None)


def test_batch_norm_running_stats_functional():
    x = _data((8, 3, 4, 4))
    erm, erv = ember.zeros(3), ember.ones(3)
    trm, trv = torch.zeros(3), torch.ones(3)
    F.batch_norm(ember.from_numpy(x), erm, erv, training=True, momentum=0.3)
    TF.batch_norm(torch.from_numpy(x), trm, trv, training=True, momentum=0.3)
    assert_close(erm, trm, atol=1e-6)
    assert_close(erv, trv, atol=1e-5)
    assert erm._version == 1


@pytest.mark.parametrize("threads,block_bytes", [(2, 1 << 20), (3, 1 << 20), (2, 1), (1, 500)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False, "frozen"])
@pytest.mark.parametrize("shape", [(7, 3, 4, 5), (9, 3, 70), (3, 3, 6)])
def test_batch_norm_on_the_threaded_row_path(threads, block_bytes, training, affine, shape, monkeypatch):
    # large inputs run batch norm's passes (forward and the fast backward) in ranges of images on ember's threads,
    # each range in blocks of images; forced here for a small input (one or two images per block; a map shorter
    # and one longer than 64, the two ways channel sums are reduced; per-channel constants as (C, L) planes from 4
    # images, as (C, 1) columns below). "frozen": weight and bias without gradients (in evaluation mode the input
    # gradient then needs no channel sums)
    from ember.backend import parallel
    from ember.ops import norm
    monkeypatch.setattr(parallel, "_ROWS_MIN_ELEMENTS", 0)
    monkeypatch.setitem(parallel._state, "n", threads)
    monkeypatch.setattr(norm, "_BN_BLOCK_BYTES", block_bytes)
    x, w, b, g = _data(shape), _data((3,), 1), _data((3,), 2), _data(shape, 3)
    rm, rv = _data((3,), 4), np.abs(_data((3,), 5)) + 0.5
    e = [ember.from_numpy(a.copy()).requires_grad_(i == 0 or affine is True) for i, a in enumerate((x, w, b))]
    t = [torch.from_numpy(a.copy()).requires_grad_(i == 0 or affine is True) for i, a in enumerate((x, w, b))]
    ey = F.batch_norm(e[0], ember.from_numpy(rm.copy()), ember.from_numpy(rv.copy()), e[1] if affine else None,
                      e[2] if affine else None, training)
    ty = TF.batch_norm(t[0], torch.from_numpy(rm.copy()), torch.from_numpy(rv.copy()), t[1] if affine else None,
                       t[2] if affine else None, training)
    assert_close(ey, ty, rtol=1e-4, atol=1e-5)
    n = 3 if affine is True else 1
    eg = ember.autograd.grad(ey, e[:n], ember.from_numpy(g))
    tg = torch.autograd.grad(ty, t[:n], torch.from_numpy(g))
    for a, c in zip(eg, tg):
        assert_close(a, c, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("shape", [(0, 3, 4), (2, 3, 0), (0, 3)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_of_an_empty_batch(shape, training):
    # PyTorch: an empty output, zero gradients, running statistics unchanged
    outs = []
    for fw, f in ((ember, F), (torch, TF)):
        x, w, b = fw.zeros(*shape, requires_grad=True), fw.ones(3, requires_grad=True), fw.zeros(3, requires_grad=True)
        rm, rv = fw.zeros(3), fw.ones(3)
        y = f.batch_norm(x, rm, rv, w, b, training)
        outs.append((y, *fw.autograd.grad(y.sum(), (x, w, b)), rm, rv))
    for e, t in zip(*outs):
        assert_close(e, t)


def test_instance_norm_running_stats():
    x = _data((4, 3, 5))
    erm, erv, trm, trv = ember.zeros(3), ember.ones(3), torch.zeros(3), torch.ones(3)
    assert_close(F.instance_norm(ember.from_numpy(x), erm, erv, momentum=0.2),
                 TF.instance_norm(torch.from_numpy(x), trm, trv, momentum=0.2), atol=1e-5)
    assert_close(erm, trm, atol=1e-6)
    assert_close(erv, trv, atol=1e-5)


# ---- dropout ------------------------------------------------------------------------------------
def test_dropout_functional_eval_and_grad_fn():
    x = ember.ones(3, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.5).grad_fn.name() == TF.dropout(torch.ones(3, requires_grad=True), 0.5).grad_fn.name()
    assert F.dropout(ember.ones(4, dtype=ember.float64), 0.5).dtype == ember.float64
    with pytest.raises(ValueError) as e:
        F.dropout2d(x, 2.0)
    with pytest.raises(ValueError) as t:
        TF.dropout2d(torch.ones(3), 2.0)
    assert str(e.value) == str(t.value)


# ---- pad / interpolate / misc -------------------------------------------------------------------
PADS = [
    ((2, 3, 4, 5), (1, 2), "constant"),
    ((2, 3, 4, 5), (1, 2, 0, 3), "constant"),
    ((2, 3, 4, 5), (-1, 2, 1, -2), "constant"),
    ((2, 3, 4, 5), (2, 1, 3, 0), "reflect"),
    ((2, 3, 4, 5), (2, 1, 3, 4), "replicate"),
    ((2, 3, 4, 5), (2, 1, 3, 2), "circular"),
    ((2, 3, 5), (2, 3), "reflect"),
    ((2, 3, 5), (4, 1), "replicate"),
]


@pytest.mark.parametrize("shape,pads,mode", PADS)
def test_pad(shape, pads, mode):
    x = _data(shape)
    ex, tx = ember.from_numpy(x.copy()).requires_grad_(), torch.from_numpy(x.copy()).requires_grad_()
    kw = {"value": 1.5} if mode == "constant" else {}
    ey, ty = F.pad(ex, pads, mode=mode, **kw), TF.pad(tx, pads, mode=mode, **kw)
    assert_close(ey, ty)
    g = _data(tuple(ty.shape), 1)
    ey.backward(ember.from_numpy(g.copy()))
    ty.backward(torch.from_numpy(g.copy()))
    assert_close(ex.grad, tx.grad, atol=1e-5)


def test_pad_gradgrad_and_errors():
    x = ember.from_numpy(_data((1, 2, 4), 0, np.float64)).requires_grad_()
    for mode in ("constant", "reflect", "replicate", "circular"):
        assert gradgradcheck(lambda t, mode=mode: F.pad(t, (2, 1), mode=mode), (x,))
    with pytest.raises(RuntimeError, match="Padding length must be divisible by 2"):
        F.pad(x, (1,))
    with pytest.raises(RuntimeError):
        F.pad(x, (4, 0), mode="reflect")


INTERP = [
    ((2, 3, 4, 5), {"size": (7, 3)}, "nearest", None),
    ((2, 3, 4, 5), {"scale_factor": 2}, "nearest", None),
    ((2, 3, 4, 5), {"scale_factor": 1.5}, "nearest", None),
    ((2, 3, 4, 5), {"size": (7, 9)}, "nearest-exact", None),
    ((2, 3, 4, 5), {"size": (7, 3)}, "bilinear", False),
    ((2, 3, 4, 5), {"size": (7, 9)}, "bilinear", True),
    ((2, 3, 4, 5), {"scale_factor": 2}, "bilinear", False),
    ((2, 3, 4, 5), {"scale_factor": 0.5}, "bilinear", False),
    ((2, 3, 6), {"size": 10}, "linear", False),
    ((2, 3, 6), {"scale_factor": 3}, "nearest", None),
]


@pytest.mark.parametrize("shape,kw,mode,ac", INTERP)
def test_interpolate(shape, kw, mode, ac):
    x = _data(shape)
    ex, tx = ember.from_numpy(x.copy()).requires_grad_(), torch.from_numpy(x.copy()).requires_grad_()
    ey = F.interpolate(ex, mode=mode, align_corners=ac, **kw)
    ty = TF.interpolate(tx, mode=mode, align_corners=ac, **kw)
    assert_close(ey, ty, rtol=1e-5, atol=1e-5)
    g = _data(tuple(ty.shape), 1)
    ey.backward(ember.from_numpy(g.copy()))
    ty.backward(torch.from_numpy(g.copy()))
    assert_close(ex.grad, tx.grad, rtol=1e-5, atol=1e-5)


def test_one_hot_embedding_bilinear_pixel_shuffle():
    idx = np.array([[0, 3], [2, 1]])
    assert_close(F.one_hot(ember.from_numpy(idx)), TF.one_hot(torch.from_numpy(idx)))
    assert_close(F.one_hot(ember.from_numpy(idx), 6), TF.one_hot(torch.from_numpy(idx), 6))
    with pytest.raises(RuntimeError, match="one_hot is only applicable to index tensor"):
        F.one_hot(ember.zeros(2))
    w = _data((5, 3))
    ew, tw = ember.from_numpy(w.copy()).requires_grad_(), torch.from_numpy(w.copy()).requires_grad_()
    ey, ty = F.embedding(ember.from_numpy(idx), ew, padding_idx=1), TF.embedding(torch.from_numpy(idx), tw, 1)
    assert_close(ey, ty)
    g = _data((2, 2, 3), 1)
    ey.backward(ember.from_numpy(g.copy()))
    ty.backward(torch.from_numpy(g.copy()))
    assert_close(ew.grad, tw.grad)
    x1, x2, wb, bb = _data((4, 3)), _data((4, 2), 1), _data((5, 3, 2), 2), _data((5,), 3)
    e = [ember.from_numpy(a.copy()).requires_grad_() for a in (x1, x2, wb, bb)]
    t = [torch.from_numpy(a.copy()).requires_grad_() for a in (x1, x2, wb, bb)]
    ey, ty = F.bilinear(*e), TF.bilinear(*t)
    assert_close(ey, ty, rtol=1e-4, atol=1e-4)
    ey.sum().backward()
    ty.sum().backward()
    for a, b in zip(e, t):
        assert_close(a.grad, b.grad, rtol=1e-4, atol=1e-4)
    x = _data((2, 8, 3, 3))
    assert_close(F.pixel_shuffle(ember.from_numpy(x), 2), TF.pixel_shuffle(torch.from_numpy(x), 2))
    y = _data((2, 2, 4, 6))
    assert_close(F.pixel_unshuffle(ember.from_numpy(y), 2), TF.pixel_unshuffle(torch.from_numpy(y), 2))


def test_embedding_double_backward():
    w = ember.from_numpy(_data((5, 3), 0, np.float64)).requires_grad_()
    idx = ember.tensor([[0, 4], [4, 2]])
    assert gradgradcheck(lambda t: F.embedding(idx, t, padding_idx=2) ** 2, (w,))


def test_cosine_similarity_pairwise_distance():
    a, b = _data((4, 5)), _data((4, 5), 1)
    e = [ember.from_numpy(v.copy()).requires_grad_() for v in (a, b)]
    t = [torch.from_numpy(v.copy()).requires_grad_() for v in (a, b)]
    for fe, ft in [(F.cosine_similarity(*e), TF.cosine_similarity(*t)),
                   (F.cosine_similarity(e[0], e[1][:1], dim=-1), TF.cosine_similarity(t[0], t[1][:1], dim=-1)),
                   (F.pairwise_distance(*e), TF.pairwise_distance(*t)),
                   (F.pairwise_distance(*e, p=1.0, keepdim=True), TF.pairwise_distance(*t, p=1.0, keepdim=True)),
                   (F.pairwise_distance(*e, p=3.0), TF.pairwise_distance(*t, p=3.0))]:
        assert_close(fe, ft, rtol=1e-5, atol=1e-5)
        for v in e + t:
            v.grad = None
        fe.sum().backward()
        ft.sum().backward()
        for v, w in zip(e, t):
            assert_close(v.grad, w.grad, rtol=1e-4, atol=1e-5)


# ---- nn.utils -----------------------------------------------------------------------------------
def test_clip_grad_and_vector_conversion():
    from ember.nn import utils as U
    rng = np.random.default_rng(0)
    gs = [rng.standard_normal(s).astype(np.float32) for s in [(3, 4), (5,)]]
    for norm_type in (2.0, 1.0, float("inf")):
        ep = [ember.nn.Parameter(ember.zeros(*g.shape)) for g in gs]
        tp = [torch.nn.Parameter(torch.zeros(*g.shape)) for g in gs]
        for p, q, g in zip(ep, tp, gs):
            p.grad = ember.from_numpy(g.copy())
            q.grad = torch.from_numpy(g.copy())
        assert_close(U.clip_grad_norm_(ep, 1.0, norm_type), torch.nn.utils.clip_grad_norm_(tp, 1.0, norm_type),
                     rtol=1e-5)
        for p, q in zip(ep, tp):
            assert_close(p.grad, q.grad, rtol=1e-5, atol=1e-6)
    ep = [ember.nn.Parameter(ember.zeros(*g.shape)) for g in gs]
    for p, g in zip(ep, gs):
        p.grad = ember.from_numpy(g.copy())
    U.clip_grad_value_(ep, 0.5)
    assert max(float(p.grad.abs().max()) for p in ep) <= 0.5
    v = U.parameters_to_vector(ep)
    assert v.shape == (17,)
    U.vector_to_parameters(ember.arange(17.0), ep)
    assert ep[1].tolist() == [12.0, 13.0, 14.0, 15.0, 16.0] and isinstance(ep[1], ember.nn.Parameter)


def test_pdist_channel_shuffle():
    x = _data((5, 4))
    for p in (2.0, 1.0, 3.0):
        ex, tx = ember.from_numpy(x.copy()).requires_grad_(), torch.from_numpy(x.copy()).requires_grad_()
        ey, ty = F.pdist(ex, p), TF.pdist(tx, p)
        assert_close(ey, ty, rtol=1e-5, atol=1e-5)
        ey.sum().backward()
        ty.sum().backward()
        assert_close(ex.grad, tx.grad, rtol=1e-4, atol=1e-5)
    y = _data((2, 6, 3))
    assert_close(F.channel_shuffle(ember.from_numpy(y), 3), TF.channel_shuffle(torch.from_numpy(y), 3))
