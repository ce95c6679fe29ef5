"""Softmax family and losses against PyTorch: values, gradients (random grad_output), options, errors."""
import warnings

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from conftest import assert_close, requires_torch, torch

if torch is not None:
    import torch.nn.functional as TF

pytestmark = requires_torch
RNG = np.random.default_rng(1234)


def _arr(kind, shape, dtype=np.float32):
    if kind == "randn":
        return RNG.standard_normal(shape).astype(dtype)
    if kind == "prob":
        return RNG.uniform(0.02, 0.98, shape).astype(dtype)
    if kind == "pos":
        return RNG.uniform(0.1, 2.0, shape).astype(dtype)
    if kind == "sign":
        return np.where(RNG.random(shape) < 0.5, -1.0, 1.0).astype(dtype)
    raise ValueError(kind)


def _run(name, arrays, grads, kwargs, rtol=1e-5, atol=1e-6, ekw=None, tkw=None):
    """Call ember's and torch's ``name`` on the same arrays; compare value and gradients of ``grads``."""
    e_in = [ember.from_numpy(a.copy()) for a in arrays]
    t_in = [torch.from_numpy(a.copy()) for a in arrays]
    for i in grads:
        e_in[i].requires_grad_()
        t_in[i].requires_grad_()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        le = getattr(F, name)(*e_in, **kwargs, **(ekw or {}))
        lt = getattr(TF, name)(*t_in, **kwargs, **(tkw or {}))
    assert_close(le, lt, rtol=rtol, atol=atol)
    if grads:
        go = RNG.standard_normal(tuple(lt.shape)).astype(lt.detach().numpy().dtype)
        ge = ember.autograd.grad(le, [e_in[i] for i in grads], ember.from_numpy(go.copy()))
        gt = torch.autograd.grad(lt, [t_in[i] for i in grads], torch.from_numpy(go.copy()))
        for a, b in zip(ge, gt):
            assert_close(a, b, rtol=max(rtol, 1e-4), atol=max(atol, 1e-5))
    return le


REDS = ["none", "mean", "sum"]


# ---------------------------------------------------------------------------------------------
# notes' examples
def test_notes_cross_entropy_and_nll():
    f = ember.tensor([[-1., -3., 4.], [-3., 3., -1.]])
    target = ember.tensor([0, 1])
    assert f"{ember.nn.functional.cross_entropy(f, target).item():.4f}" == "2.5141"
    assert abs(F.cross_entropy(f, target).item() - 2.514101028442383) < 1e-6
    assert f"{F.nll_loss(F.log_softmax(f, dim=1), target).item():.4f}" == "2.5141"


def test_notes_softmax_table():
    y = ember.tensor([[-10., -10., 10., -5.], [3., 0., 0., 0.], [1., 2., 3., 4.]])
    expect = np.array([[2.0612e-09, 2.0612e-09, 1.0000e+00, 3.0590e-07],
                       [8.7005e-01, 4.3317e-02, 4.3317e-02, 4.3317e-02],
                       [3.2059e-02, 8.7144e-02, 2.3688e-01, 6.4391e-01]])
    np.testing.assert_allclose(F.softmax(y, 1).numpy(), expect, rtol=1e-4)
    assert repr(F.softmax(y, 1)) == repr(torch.softmax(torch.tensor(y.numpy()), 1))


def test_notes_mse():
    x, y = ember.tensor([[3.]]), ember.tensor([[0.]])
    assert repr(F.mse_loss(x, y)) == "tensor(9.)"
    x, y = ember.tensor([[3., 0., 0., 0.]]), ember.tensor([[0., 0., 0., 0.]])
    assert repr(F.mse_loss(x, y)) == "tensor(2.2500)"


# ---------------------------------------------------------------------------------------------
# softmax family
@pytest.mark.parametrize("fn", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("shape,dim", [((5,), 0), ((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -1), ((), 0), ((2, 0, 3), 1)])
def test_softmax_family(fn, shape, dim):
    _run(fn, [_arr("randn", shape)], [0], {"dim": dim})


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_dtype_and_float64(fn):
    x = _arr("randn", (3, 5))
    e = getattr(F, fn)(ember.from_numpy(x), 1, dtype=ember.float64)
    t = getattr(TF, fn)(torch.from_numpy(x), 1, dtype=torch.float64)
    assert_close(e, t)
    _run(fn, [x.astype(np.float64)], [0], {"dim": 0})


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_extreme_logits(fn):
    x = np.array([[1e4, -1e4, 0.], [-1e4, -1e4, -1e4], [3e38, 0., -3e38]], np.float32)
    e = _run(fn, [x], [0], {"dim": 1})
    assert np.isfinite(e.detach().numpy()[:2]).all()


def test_softmax_implicit_dim_and_errors():
    x = ember.from_numpy(_arr("randn", (2, 3)))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        r = F.softmax(x)
    assert_close(r, torch.softmax(torch.from_numpy(x.numpy()), 1))
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"):
        F.softmax(x, 2)
    with pytest.raises(NotImplementedError):
        F.softmax(ember.tensor([1, 2, 3]), 0)
    assert_close(x.softmax(1), torch.from_numpy(x.numpy()).softmax(1))
    assert_close(x.log_softmax(-1), torch.from_numpy(x.numpy()).log_softmax(-1))


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax])
def test_softmax_double_backward(fn):
    x = ember.from_numpy(_arr("randn", (3, 4)).astype(np.float64)).requires_grad_()
    assert ember.autograd.gradcheck(lambda a: fn(a, 1), (x,))
    assert ember.autograd.gradgradcheck(lambda a: fn(a, 1), (x,))


# ---------------------------------------------------------------------------------------------
# cross_entropy / nll_loss
@pytest.mark.parametrize("red", REDS)
@pytest.mark.parametrize("smooth", [0.0, 0.25])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(6, 5), (4, 3, 2, 3), (5,)])
def test_cross_entropy_index_targets(red, smooth, weighted, shape):
    C = shape[1] if len(shape) > 1 else shape[0]
    tshape = (shape[0],) + shape[2:] if len(shape) > 1 else ()
    t = RNG.integers(0, C, tshape).astype(np.int64)
    if t.ndim:
        t.flat[1] = -100
    w = _arr("pos", (C,))
    ew = {"weight": ember.from_numpy(w)} if weighted else {}
    tw = {"weight": torch.from_numpy(w)} if weighted else {}
    le = _run("cross_entropy", [_arr("randn", shape), t], [0], {"reduction": red, "label_smoothing": smooth},
              ekw=ew, tkw=tw)
    assert type(le.grad_fn).__name__ == "NllLossBackward0"


@pytest.mark.parametrize("red", REDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_rows_fast_path_matches_general_path_bitwise(red, dtype):
    """(N, C) logits with every target in range, no weight, no smoothing take a shorter path; it must give the
    general path's values and gradients to the bit (a weight of ones sends the same call down the general path),
    and PyTorch's."""
    x = _arr("randn", (7, 5), dtype) * 3
    t = RNG.integers(0, 5, 7).astype(np.int64)
    go = RNG.standard_normal(() if red != "none" else (7,)).astype(dtype)
    out = []
    for kw in ({}, {"weight": ember.ones(5, dtype=ember.float64 if dtype == np.float64 else ember.float32)}):
        xe = ember.from_numpy(x.copy()).requires_grad_()
        le = F.cross_entropy(xe, ember.from_numpy(t), reduction=red, **kw)
        assert le.grad_fn.fast is not kw       # the fast path without a weight, the general one with it
        le.backward(ember.from_numpy(go.copy()))
        out.append((le.detach().numpy(), xe.grad.numpy()))
    (lf, gf), (lg, gg) = out
    assert lf.dtype == lg.dtype == gf.dtype == dtype
    assert np.array_equal(lf, lg) and np.array_equal(gf, gg)
    _run("cross_entropy", [x, t], [0], {"reduction": red}, rtol=1e-5 if dtype == np.float32 else 1e-12,
         atol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("red", REDS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(6, 5), (4, 3, 2, 3), (5,)])
def test_nll_loss(red, weighted, shape):
    C = shape[1] if len(shape) > 1 else shape[0]
    tshape = (shape[0],) + shape[2:] if len(shape) > 1 else ()
    t = RNG.integers(0, C, tshape).astype(np.int64)
    if t.ndim:
        t.flat[0] = 2
    w = _arr("pos", (C,))
    ew = {"weight": ember.from_numpy(w)} if weighted else {}
    tw = {"weight": torch.from_numpy(w)} if weighted else {}
    _run("nll_loss", [_arr("randn", shape), t], [0], {"reduction": red, "ignore_index": 2}, ekw=ew, tkw=tw)


@pytest.mark.parametrize("red", REDS)
@pytest.mark.parametrize("smooth", [0.0, 0.2])
@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 4)])
def test_cross_entropy_probability_targets(red, smooth, shape):
    p = _arr("prob", shape)
    p = p / p.sum(1, keepdims=True)
    w = _arr("pos", (shape[1],))
    _run("cross_entropy", [_arr("randn", shape), p], [0, 1], {"reduction": red, "label_smoothing": smooth},
         ekw={"weight": ember.from_numpy(w)}, tkw={"weight": torch.from_numpy(w)})


def test_cross_entropy_all_ignored_is_nan_and_uint8_targets():
    x = ember.from_numpy(_arr("randn", (3, 4)))
    assert np.isnan(F.cross_entropy(x, ember.tensor([-100, -100, -100])).item())
    _run("nll_loss", [_arr("randn", (3, 4)), np.array([0, 3, 1], np.uint8)], [0], {})


def test_cross_entropy_extreme_logits_finite():
    x = np.array([[1e4, -1e4, 0.], [-1e4, 1e4, 1e4], [0., 0., 1e4]], np.float32)
    t = np.array([1, 2, 0])
    for red in REDS:
        le = _run("cross_entropy", [x, t], [0], {"reduction": red})
        assert np.isfinite(le.detach().numpy()).all()
    le = _run("cross_entropy", [x, t], [0], {"label_smoothing": 0.1})
    assert np.isfinite(le.item())


@pytest.mark.parametrize("smooth", [0.0, 0.3])
@pytest.mark.parametrize("red", ["mean", "none"])
@pytest.mark.parametrize("plain", [False, True])
def test_cross_entropy_double_backward(smooth, red, plain):
    """plain: no weight and no ignored target (with smooth 0, the (N, C) fast path's own create_graph branch)."""
    x = ember.from_numpy(_arr("randn", (4, 3)).astype(np.float64)).requires_grad_()
    targets = [0, 2, 2 if plain else -100, 1]
    t = ember.tensor(targets)
    w = None if plain else ember.from_numpy(_arr("pos", (3,)).astype(np.float64))
    fn = lambda a: F.cross_entropy(a, t, weight=w, reduction=red, label_smoothing=smooth)
    assert fn(x).grad_fn.fast is (plain and not smooth)
    assert ember.autograd.gradcheck(fn, (x,))
    assert ember.autograd.gradgradcheck(fn, (x,))
    # Hessian-vector product against torch
    xt = torch.from_numpy(x.detach().numpy().copy()).requires_grad_()
    tl = TF.cross_entropy(xt, torch.tensor(targets), weight=None if plain else torch.from_numpy(w.numpy()),
                          reduction=red, label_smoothing=smooth)
    le = fn(x)
    v = RNG.standard_normal(x.shape)
    go = RNG.standard_normal(tuple(tl.shape))
    (ge,) = ember.autograd.grad(le, x, ember.from_numpy(go.copy()), create_graph=True)
    (gt,) = torch.autograd.grad(tl, xt, torch.from_numpy(go.copy()), create_graph=True)
    assert_close(ge, gt)
    (he,) = ember.autograd.grad((ge * ember.from_numpy(v)).sum(), x)
    (ht,) = torch.autograd.grad((gt * torch.from_numpy(v)).sum(), xt)
    assert_close(he, ht, atol=1e-10)


def test_nll_loss_double_backward():
    x = ember.from_numpy(_arr("randn", (4, 3)).astype(np.float64)).requires_grad_()
    t = ember.tensor([0, 2, 1, 1])
    assert ember.autograd.gradgradcheck(lambda a: F.nll_loss(F.log_softmax(a, 1), t), (x,))


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
def test_index_target_errors(fn):
    f = getattr(F, fn)
    x = ember.from_numpy(_arr("randn", (3, 4)))
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte, but got Float"):
        f(x, ember.tensor([0., 1., 2.]))
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte, but got Int"):
        f(x, ember.tensor([0, 1, 2], dtype=ember.int32))
    with pytest.raises(ValueError, match=r"Expected input batch_size \(3\) to match target batch_size \(4\)\."):
        f(x, ember.tensor([0, 1, 2, 3]))
    with pytest.raises(IndexError, match="Target 10 is out of bounds."):
        f(x, ember.tensor([0, 10, 2]))
    with pytest.raises(IndexError, match="Target -1 is out of bounds."):
        f(x, ember.tensor([0, -1, 2]))
    with pytest.raises(RuntimeError, match=r"weight tensor should be defined either for all 4 classes or no classes "
                                           r"but got weight tensor of shape: \[3\]"):
        f(x, ember.tensor([0, 1, 2]), weight=ember.ones(3))
    with pytest.raises(RuntimeError, match=r"Expected target size \[3, 5\], got \[3\]"):
        f(ember.zeros(3, 4, 5), ember.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="foo is not a valid value for reduction"):
        f(x, ember.tensor([0, 1, 2]), reduction="foo")
    with pytest.raises(ValueError, match="For 1D input, 1D target must have size 1, but got target size: 3"):
        f(ember.zeros(3), ember.tensor([0, 1, 2]))


def test_cross_entropy_label_smoothing_range():
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0. Got: 1.5"):
        F.cross_entropy(ember.zeros(3, 4), ember.tensor([0, 1, 2]), label_smoothing=1.5)


def test_legacy_size_average_reduce():
    x, t = _arr("randn", (4, 3)), np.array([0, 1, 2, 1])
    for sa, r in [(False, None), (None, False), (True, True)]:
        _run("cross_entropy", [x, t], [0], {"size_average": sa, "reduce": r})
        _run("mse_loss", [x, _arr("randn", (4, 3))], [0], {"size_average": sa, "reduce": r})


# ---------------------------------------------------------------------------------------------
# pointwise losses
PAIR = [
    ("mse_loss", ("randn", "randn"), {}),
    ("l1_loss", ("randn", "randn"), {}),
    ("smooth_l1_loss", ("randn", "randn"), {}),
    ("smooth_l1_loss", ("randn", "randn"), {"beta": 0.5}),
    ("smooth_l1_loss", ("randn", "randn"), {"beta": 0.0}),
    ("huber_loss", ("randn", "randn"), {}),
    ("huber_loss", ("randn", "randn"), {"delta": 0.4}),
    ("binary_cross_entropy", ("prob", "prob"), {}),
    ("binary_cross_entropy_with_logits", ("randn", "prob"), {}),
    ("kl_div", ("randn", "prob"), {}),
    ("kl_div", ("randn", "randn"), {"log_target": True}),
    ("soft_margin_loss", ("randn", "sign"), {}),
    ("poisson_nll_loss", ("randn", "pos"), {}),
    ("poisson_nll_loss", ("pos", "pos"), {"log_input": False, "full": True}),
    ("hinge_embedding_loss", ("randn", "sign"), {"margin": 0.7}),
]


@pytest.mark.parametrize("red", REDS)
@pytest.mark.parametrize("name,kinds,kw", PAIR, ids=[f"{p[0]}-{i}" for i, p in enumerate(PAIR)])
def test_pointwise_losses(name, kinds, kw, red):
    shape = (3, 4, 2)
    a, b = _arr(kinds[0], shape), _arr(kinds[1], shape)
    grads = [0] if name in ("hinge_embedding_loss", "soft_margin_loss") else [0, 1]
    _run(name, [a, b], grads, dict(kw, reduction=red))


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
@pytest.mark.parametrize("red", REDS)
def test_weighted_pointwise(name, red):
    w = _arr("pos", (3, 4))
    _run(name, [_arr("randn", (3, 4)), _arr("randn", (3, 4))], [0], {"reduction": red},
         ekw={"weight": ember.from_numpy(w)}, tkw={"weight": torch.from_numpy(w)})


@pytest.mark.parametrize("red", REDS)
def test_bce_weights(red):
    w, pw = _arr("pos", (4,)), _arr("pos", (4,))
    _run("binary_cross_entropy", [_arr("prob", (3, 4)), _arr("prob", (3, 4))], [0], {"reduction": red},
         ekw={"weight": ember.from_numpy(w)}, tkw={"weight": torch.from_numpy(w)})
    _run("binary_cross_entropy_with_logits", [_arr("randn", (3, 4)), _arr("prob", (3, 4))], [0, 1],
         {"reduction": red}, ekw={"weight": ember.from_numpy(w), "pos_weight": ember.from_numpy(pw)},
         tkw={"weight": torch.from_numpy(w), "pos_weight": torch.from_numpy(pw)})


def test_bce_clamps_log_and_logits_stable():
    x = np.array([0., 1., 0.5, 1.], np.float32)
    t = np.array([1., 0., 0.5, 1.], np.float32)
    le = _run("binary_cross_entropy", [x, t], [], {"reduction": "none"})
    assert le.numpy()[0] == 100.0
    x = np.array([1e4, -1e4, 80., -80.], np.float32)
    le = _run("binary_cross_entropy_with_logits", [x, t], [0], {"reduction": "none"})
    assert np.isfinite(le.detach().numpy()).all()


def test_kl_div_batchmean_and_warning():
    _run("kl_div", [_arr("randn", (3, 4)), _arr("prob", (3, 4))], [0, 1], {"reduction": "batchmean"})
    with pytest.warns(UserWarning, match="reduction: 'mean' divides the total loss by both"):
        F.kl_div(ember.zeros(2, 3), ember.ones(2, 3))


def test_mse_loss_size_warning_and_mismatch():
    with pytest.warns(UserWarning, match=r"Using a target size \(torch.Size\(\[4\]\)\) that is different to the "
                                         r"input size \(torch.Size\(\[3, 4\]\)\)\. This will likely lead to incorrect "
                                         r"results due to broadcasting\. Please ensure they have the same size\."):
        r = F.mse_loss(ember.zeros(3, 4), ember.ones(4))
    assert r.item() == 1.0
    _run("mse_loss", [_arr("randn", (3, 4)), _arr("randn", (4,))], [0, 1], {})
    with pytest.raises(ValueError, match=r"Target size \(torch.Size\(\[3\]\)\) must be the same as input size"):
        F.binary_cross_entropy_with_logits(ember.zeros(2, 3), ember.zeros(3))
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(ember.tensor([1.5]), ember.tensor([1.0]))
    with pytest.raises(RuntimeError, match="smooth_l1_loss does not support negative values for beta."):
        F.smooth_l1_loss(ember.zeros(2), ember.zeros(2), beta=-1.0)
    with pytest.raises(RuntimeError, match="huber_loss does not support non-positive values for delta."):
        F.huber_loss(ember.zeros(2), ember.zeros(2), delta=0.0)


def test_mse_double_backward():
    x = ember.from_numpy(_arr("randn", (3, 4)).astype(np.float64)).requires_grad_()
    y = ember.from_numpy(_arr("randn", (3, 4)).astype(np.float64)).requires_grad_()
    assert ember.autograd.gradgradcheck(F.mse_loss, (x, y))


@pytest.mark.parametrize("red", REDS)
@pytest.mark.parametrize("var_shape", [(3, 4), (3, 1), (3,)])
def test_gaussian_nll_loss(red, var_shape):
    _run("gaussian_nll_loss", [_arr("randn", (3, 4)), _arr("randn", (3, 4)), _arr("pos", var_shape)], [0, 1, 2],
         {"reduction": red, "full": True})


def test_gaussian_nll_loss_errors_and_eps():
    v = np.array([1e-9, 0.5, 1.0], np.float32)
    _run("gaussian_nll_loss", [_arr("randn", (3,)), _arr("randn", (3,)), v], [0, 2], {})
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(ember.zeros(2, 3), ember.zeros(2, 3), ember.ones(2, 2))
    with pytest.raises(ValueError, match="var has negative entry/entries"):
        F.gaussian_nll_loss(ember.zeros(2, 3), ember.zeros(2, 3), -ember.ones(2, 3))


# ---------------------------------------------------------------------------------------------
# margin and embedding losses
@pytest.mark.parametrize("red", REDS)
@pytest.mark.parametrize("p,margin,weighted", [(1, 1.0, False), (2, 0.5, True), (1, 2.0, True)])
def test_multi_margin_loss(red, p, margin, weighted):
    w = _arr("pos", (5,))
    _run("multi_margin_loss", [_arr("randn", (4, 5)), RNG.integers(0, 5, 4)], [0],
         {"p": p, "margin": margin, "reduction": red},
         ekw={"weight": ember.from_numpy(w)} if weighted else {},
         tkw={"weight": torch.from_numpy(w)} if weighted else {})


def test_multi_margin_loss_1d_and_errors():
    _run("multi_margin_loss", [_arr("randn", (5,)), np.array([3])], [0], {})
    with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
        F.multi_margin_loss(ember.zeros(2, 3), ember.tensor([0, 1]), p=3)
    with pytest.raises(RuntimeError, match="target out of range"):
        F.multi_margin_loss(ember.zeros(2, 3), ember.tensor([0, 5]))


@pytest.mark.parametrize("red", REDS)
def test_multilabel_margin_loss(red):
    t = np.array([[3, 0, -1, 1, 2], [1, 2, 3, 4, 0], [-1, 1, 2, 0, 0], [4, -1, 0, 0, 0]])
    _run("multilabel_margin_loss", [_arr("randn", (4, 5)), t], [0], {"reduction": red})
    _run("multilabel_margin_loss", [_arr("randn", (5,)), t[0]], [0], {"reduction": red})


@pytest.mark.parametrize("red", REDS)
def test_margin_ranking_and_cosine_embedding(red):
    y = _arr("sign", (5,))
    _run("margin_ranking_loss", [_arr("randn", (5,)), _arr("randn", (5,)), y], [0, 1],
         {"margin": 0.3, "reduction": red})
    _run("cosine_embedding_loss", [_arr("randn", (5, 3)), _arr("randn", (5, 3)), y], [0, 1],
         {"margin": 0.1, "reduction": red})
    _run("cosine_embedding_loss", [_arr("randn", (3,)), _arr("randn", (3,)), y[:1].reshape(())], [0, 1],
         {"reduction": red})


@pytest.mark.parametrize("red", REDS)
@pytest.mark.parametrize("p,swap", [(2, False), (1, True), (3, False)])
def test_triplet_margin_loss(red, p, swap):
    _run("triplet_margin_loss", [_arr("randn", (4, 6)), _arr("randn", (4, 6)), _arr("randn", (4, 6))], [0, 1, 2],
         {"p": p, "swap": swap, "margin": 1.5, "reduction": red})


# ---------------------------------------------------------------------------------------------
# Modules
MODULES = [
    ("CrossEntropyLoss", {}, ("randn", "cls")),
    ("CrossEntropyLoss", {"label_smoothing": 0.1, "ignore_index": 1, "reduction": "sum"}, ("randn", "cls")),
    ("NLLLoss", {"reduction": "none"}, ("randn", "cls")),
    ("MSELoss", {}, ("randn", "randn")),
    ("L1Loss", {"reduction": "sum"}, ("randn", "randn")),
    ("SmoothL1Loss", {"beta": 0.5}, ("randn", "randn")),
    ("HuberLoss", {"delta": 0.5}, ("randn", "randn")),
    ("BCELoss", {}, ("prob", "prob")),
    ("BCEWithLogitsLoss", {}, ("randn", "prob")),
    ("KLDivLoss", {"reduction": "batchmean", "log_target": True}, ("randn", "randn")),
    ("SoftMarginLoss", {}, ("randn", "sign")),
    ("HingeEmbeddingLoss", {"margin": 0.5}, ("randn", "sign")),
    ("PoissonNLLLoss", {"log_input": False}, ("pos", "pos")),
    ("MultiMarginLoss", {"p": 2, "margin": 0.5}, ("randn", "cls")),
]


def _input(kind, shape):
    return RNG.integers(0, shape[1], shape[:1]) if kind == "cls" else _arr(kind, shape)


@pytest.mark.parametrize("name,kw,kinds", MODULES, ids=[f"{m[0]}-{i}" for i, m in enumerate(MODULES)])
def test_loss_modules(name, kw, kinds):
    a, b = _input(kinds[0], (4, 3)), _input(kinds[1], (4, 3))
    me, mt = getattr(ember.nn, name)(**kw), getattr(torch.nn, name)(**kw)
    assert repr(me) == repr(mt)
    xe, xt = ember.from_numpy(a.copy()).requires_grad_(), torch.from_numpy(a.copy()).requires_grad_()
    le, lt = me(xe, ember.from_numpy(b.copy())), mt(xt, torch.from_numpy(b.copy()))
    assert_close(le, lt)
    go = RNG.standard_normal(tuple(lt.shape)).astype(np.float32)
    le.backward(ember.from_numpy(go.copy()))
    lt.backward(torch.from_numpy(go.copy()))
    assert_close(xe.grad, xt.grad, atol=1e-6)


def test_three_input_modules():
    a, b, c = (_arr("randn", (4, 3)) for _ in range(3))
    y = _arr("sign", (4,))
    for name, args_e, args_t in [
        ("TripletMarginLoss", [ember.from_numpy(v) for v in (a, b, c)], [torch.from_numpy(v) for v in (a, b, c)]),
        ("CosineEmbeddingLoss", [ember.from_numpy(a), ember.from_numpy(b), ember.from_numpy(y)],
         [torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(y)]),
        ("MarginRankingLoss", [ember.from_numpy(a[:, 0]), ember.from_numpy(b[:, 0]), ember.from_numpy(y)],
         [torch.from_numpy(a[:, 0]), torch.from_numpy(b[:, 0]), torch.from_numpy(y)]),
        ("GaussianNLLLoss", [ember.from_numpy(a), ember.from_numpy(b), ember.from_numpy(np.abs(c))],
         [torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(np.abs(c))]),
    ]:
        me, mt = getattr(ember.nn, name)(), getattr(torch.nn, name)()
        assert repr(me) == repr(mt)
        assert_close(me(*args_e), mt(*args_t))
    t = np.array([[0, 2, -1], [1, -1, 0], [2, 1, 0], [0, 1, 2]])
    assert_close(ember.nn.MultiLabelMarginLoss()(ember.from_numpy(a), ember.from_numpy(t)),
                 torch.nn.MultiLabelMarginLoss()(torch.from_numpy(a), torch.from_numpy(t)))


def test_weight_is_buffer_and_legacy_args():
    w = ember.tensor([1., 2., 3.])
    m = ember.nn.CrossEntropyLoss(weight=w)
    assert list(dict(m.named_buffers())) == ["weight"] and m.weight is w
    assert list(m.state_dict()) == list(torch.nn.CrossEntropyLoss(weight=torch.ones(3)).state_dict())
    assert list(ember.nn.CrossEntropyLoss().state_dict()) == []
    assert list(ember.nn.BCEWithLogitsLoss(pos_weight=w).state_dict()) == ["pos_weight"]
    m = m.double()
    assert m.weight.dtype == ember.float64
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        assert ember.nn.MSELoss(size_average=False).reduction == "sum"
    with pytest.warns(UserWarning):
        assert ember.nn.NLLLoss(reduce=False).reduction == "none"
    assert ember.nn.NLLLoss2d()(ember.zeros(2, 3, 4, 4), ember.zeros(2, 4, 4, dtype=ember.int64)).item() == 0.0


def test_notes_modules():
    f = ember.tensor([[-1., -3., 4.], [-3., 3., -1.]])
    target = ember.tensor([0, 1])
    assert repr(ember.nn.CrossEntropyLoss()(f, target)) == "tensor(2.5141)"
    assert repr(ember.nn.NLLLoss()(ember.nn.LogSoftmax(dim=1)(f), target)) == "tensor(2.5141)"
    crit = ember.nn.MSELoss()
    assert repr(crit(ember.tensor([[3.]]), ember.tensor([[0.]]))) == "tensor(9.)"
    assert repr(crit(ember.tensor([[3., 0., 0., 0.]]), ember.tensor([[0., 0., 0., 0.]]))) == "tensor(2.2500)"
    # PyTorch >= 0.4 accepts targets that require grad and differentiates w.r.t. them too
    x, y = ember.tensor([3., 2.]).requires_grad_(), ember.tensor([0., -2.]).requires_grad_()
    loss = crit(x, y)
    loss.backward()
    assert repr(loss.detach()) == "tensor(12.5000)" and y.grad.tolist() == [-3.0, -4.0]


def test_grad_fn_names_as_torch():
    x = ember.from_numpy(_arr("prob", (3, 4))).requires_grad_()
    t = ember.from_numpy(_arr("prob", (3, 4)))
    for red in REDS:
        assert type(F.mse_loss(x, t, reduction=red).grad_fn).__name__ == "MseLossBackward0"
        assert type(F.binary_cross_entropy(x, t, reduction=red).grad_fn).__name__ == "BinaryCrossEntropyBackward0"
        assert type(F.nll_loss(x, ember.tensor([0, 1, 2]), reduction=red).grad_fn).__name__ == "NllLossBackward0"
    assert type(F.softmax(x, 1).grad_fn).__name__ == "SoftmaxBackward0"
    assert type(F.log_softmax(x, 1).grad_fn).__name__ == "LogSoftmaxBackward0"


def test_bce_gradient_at_the_clamps():
    x = np.array([0., 1., 1e-30, 1 - 1e-7, 0.5], np.float32)
    t = np.array([1., 0., 1., 0., 0.25], np.float32)
    _run("binary_cross_entropy", [x, t], [0, 1], {"reduction": "sum"}, rtol=1e-4)


def test_bce_double_backward():
    x = ember.from_numpy(_arr("prob", (3, 4)).astype(np.float64)).requires_grad_()
    t = ember.from_numpy(_arr("prob", (3, 4)).astype(np.float64)).requires_grad_()
    assert ember.autograd.gradgradcheck(F.binary_cross_entropy, (x, t))


@pytest.mark.parametrize("call,msg", [
    (lambda w: F.soft_margin_loss(ember.zeros(3), w), "'soft_margin_loss' is not differentiable with respect to "
                                                     "argument 'target'"),
    (lambda w: F.cross_entropy(ember.zeros(2, 3), ember.tensor([0, 1]), weight=w), "'nll_loss_forward' is not "
                                                                                   "differentiable"),
    (lambda w: F.nll_loss(ember.zeros(2, 3), ember.tensor([0, 1]), weight=w), "argument 'weight'"),
    (lambda w: F.binary_cross_entropy(ember.zeros(3), ember.zeros(3), weight=w), "'binary_cross_entropy'"),
    (lambda w: F.multi_margin_loss(ember.zeros(2, 3), ember.tensor([0, 1]), weight=w), "'multi_margin_loss'"),
])
def test_arguments_that_cannot_require_grad(call, msg):
    w = ember.ones(3).requires_grad_()
    with pytest.raises(RuntimeError, match=msg + ".*This input cannot have requires_grad True."):
        call(w)
    with ember.no_grad():
        call(w)


def _f32(*s):
    return RNG.standard_normal(s).astype(np.float32)


EDGE = [
    ("cross_entropy", lambda: (_f32(0, 4), np.zeros(0, np.int64)), {}),
    ("cross_entropy", lambda: (_f32(0, 4), np.zeros(0, np.int64)), {"reduction": "sum"}),
    ("cross_entropy", lambda: (_f32(4), np.abs(_f32(4))), {}),
    ("cross_entropy", lambda: (_f32(4), np.array([2])), {}),
    ("nll_loss", lambda: (_f32(4), np.array([2])), {"reduction": "none"}),
    ("cross_entropy", lambda: (_f32(2, 3, 4, 5), np.zeros((2, 4, 6), np.int64)), {}),
    ("cross_entropy", lambda: (_f32(2, 3), np.array([[0.2, 0.8, 0.0], [1, 0, 0]], np.float64)), {}),
    ("kl_div", lambda: (_f32(4), np.abs(_f32(4))), {"reduction": "batchmean"}),
    ("multi_margin_loss", lambda: (_f32(4), np.array(2)), {}),
    ("multi_margin_loss", lambda: (_f32(2, 3), np.array([0., 1.], np.float32)), {}),
    ("multilabel_margin_loss", lambda: (_f32(3), np.array([0, -1, 5])), {}),
    ("multilabel_margin_loss", lambda: (_f32(2, 3), np.array([[0, -2, 1], [1, 2, -1]])), {}),
    ("triplet_margin_loss", lambda: (_f32(4), _f32(4), _f32(4)), {}),
    ("margin_ranking_loss", lambda: (_f32(3, 1), _f32(3, 4), np.sign(_f32(3, 4))), {}),
    ("hinge_embedding_loss", lambda: (_f32(3, 4), np.sign(_f32(4))), {}),
    ("gaussian_nll_loss", lambda: (_f32(3, 4), _f32(3, 4), 0.5), {}),
    ("l1_loss", lambda: (_f32(3, 4), _f32(3, 1)), {}),
    ("smooth_l1_loss", lambda: (_f32(3, 4), np.zeros((3, 4), np.int64)), {}),
    ("mse_loss", lambda: (_f32(3, 4).astype(np.float64), _f32(3, 4)), {}),
    ("binary_cross_entropy", lambda: (np.array([0.5, 0.2], np.float32), np.array([1, 0], np.int64)), {}),
    ("binary_cross_entropy", lambda: (np.array([0.5, 0.2], np.float32), np.array([1, 0], np.float64)), {}),
    ("binary_cross_entropy_with_logits", lambda: (_f32(3), np.array([1, 0, 1], np.int64)), {}),
    ("cosine_embedding_loss", lambda: (_f32(2, 3), _f32(2, 3), np.array([1, 0])), {}),
]


@pytest.mark.parametrize("name,make,kw", EDGE, ids=[f"{e[0]}-{i}" for i, e in enumerate(EDGE)])
def test_edge_cases_match_torch(name, make, kw):
    args = make()
    ea = [ember.from_numpy(np.array(a)) if isinstance(a, np.ndarray) else a for a in args]
    ta = [torch.from_numpy(np.array(a)) if isinstance(a, np.ndarray) else a for a in args]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expect = getattr(TF, name)(*ta, **kw)
        except Exception as e:  # noqa: BLE001 - the same exception type is the expectation
            with pytest.raises(type(e)):
                getattr(F, name)(*ea, **kw)
            return
        got = getattr(F, name)(*ea, **kw)
    assert_close(got, expect, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(4, 5), (4, 5, 3)])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
@pytest.mark.parametrize("targets", ["all_ignored", "some_ignored"])
def test_cross_entropy_ignored_targets_get_zero_gradient(shape, label_smoothing, targets):
    # every target ignored: the mean loss is nan (0 / 0) but the gradient is 0, as in PyTorch
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    t = rng.integers(0, shape[1], (shape[0],) + shape[2:])
    t[...] = -100 if targets == "all_ignored" else t
    if targets == "some_ignored":
        t.flat[::3] = -100
    grads = []
    for fw in (ember, torch):
        xt = fw.from_numpy(x.copy()).requires_grad_()
        loss = fw.nn.functional.cross_entropy(xt, fw.from_numpy(t), label_smoothing=label_smoothing)
        loss.backward()
        grads.append((loss.detach().numpy(), xt.grad.numpy()))
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-5, equal_nan=True)
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-5, atol=1e-7)
