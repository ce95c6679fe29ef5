"""Layers against PyTorch: repr, parameter names/shapes, state_dict keys, forward and gradients with
the same weights, batch-norm running statistics, dropout statistics, default-init statistics."""
import math

import numpy as np
import pytest
from conftest import assert_close, requires_torch, torch

import ember
from ember import nn

pytestmark = requires_torch

# name -> (builder taking the nn namespace, input shapes, integer input?)
LAYERS = {
    "Linear": (lambda n: n.Linear(5, 3), [(4, 5)]),
    "Linear_nobias_3d": (lambda n: n.Linear(5, 3, bias=False), [(2, 4, 5)]),
    "Bilinear": (lambda n: n.Bilinear(3, 4, 2), [(5, 3), (5, 4)]),
    "Identity": (lambda n: n.Identity(3, foo=1), [(2, 3)]),
    "Flatten": (lambda n: n.Flatten(), [(2, 3, 4)]),
    "Unflatten": (lambda n: n.Unflatten(1, (2, 3)), [(4, 6)]),
    "ReLU": (lambda n: n.ReLU(), [(4, 6)]),
    "ReLU6": (lambda n: n.ReLU6(), [(4, 6)]),
    "LeakyReLU": (lambda n: n.LeakyReLU(0.2), [(4, 6)]),
    "ELU": (lambda n: n.ELU(alpha=0.7), [(4, 6)]),
    "SELU": (lambda n: n.SELU(), [(4, 6)]),
    "CELU": (lambda n: n.CELU(1.5), [(4, 6)]),
    "GELU": (lambda n: n.GELU(), [(4, 6)]),
    "GELU_tanh": (lambda n: n.GELU("tanh"), [(4, 6)]),
    "SiLU": (lambda n: n.SiLU(), [(4, 6)]),
    "Mish": (lambda n: n.Mish(), [(4, 6)]),
    "Softplus": (lambda n: n.Softplus(beta=2.0, threshold=3.0), [(4, 6)]),
    "Sigmoid": (lambda n: n.Sigmoid(), [(4, 6)]),
    "Tanh": (lambda n: n.Tanh(), [(4, 6)]),
    "Hardtanh": (lambda n: n.Hardtanh(-0.5, 0.7), [(4, 6)]),
    "Hardswish": (lambda n: n.Hardswish(), [(4, 6)]),
    "Hardsigmoid": (lambda n: n.Hardsigmoid(), [(4, 6)]),
    "PReLU": (lambda n: n.PReLU(), [(4, 6)]),
    "PReLU_channels": (lambda n: n.PReLU(3, init=0.1), [(2, 3, 4)]),
    "Threshold": (lambda n: n.Threshold(0.1, 20.0), [(4, 6)]),
    "Softsign": (lambda n: n.Softsign(), [(4, 6)]),
    "Tanhshrink": (lambda n: n.Tanhshrink(), [(4, 6)]),
    "LogSigmoid": (lambda n: n.LogSigmoid(), [(4, 6)]),
    "Hardshrink": (lambda n: n.Hardshrink(), [(4, 6)]),
    "Softshrink": (lambda n: n.Softshrink(0.3), [(4, 6)]),
    "GLU": (lambda n: n.GLU(), [(4, 6)]),
    "BatchNorm1d": (lambda n: n.BatchNorm1d(6), [(4, 6)]),
    "BatchNorm1d_3d": (lambda n: n.BatchNorm1d(3, momentum=None), [(4, 3, 5)]),
    "BatchNorm2d": (lambda n: n.BatchNorm2d(3), [(4, 3, 5, 5)]),
    "BatchNorm2d_noaffine": (lambda n: n.BatchNorm2d(3, affine=False), [(4, 3, 2, 2)]),
    "BatchNorm2d_nostats": (lambda n: n.BatchNorm2d(3, track_running_stats=False), [(4, 3, 2, 2)]),
    "BatchNorm3d": (lambda n: n.BatchNorm3d(2), [(2, 2, 3, 3, 3)]),
    "LayerNorm": (lambda n: n.LayerNorm(6), [(4, 6)]),
    "LayerNorm_2d": (lambda n: n.LayerNorm((3, 4), eps=1e-3), [(2, 3, 4)]),
    "LayerNorm_nobias": (lambda n: n.LayerNorm(6, bias=False), [(4, 6)]),
    "GroupNorm": (lambda n: n.GroupNorm(2, 4), [(3, 4, 5, 5)]),
    "InstanceNorm2d": (lambda n: n.InstanceNorm2d(3), [(2, 3, 4, 4)]),
    "InstanceNorm2d_affine": (lambda n: n.InstanceNorm2d(3, affine=True, track_running_stats=True), [(2, 3, 4, 4)]),
    "InstanceNorm1d": (lambda n: n.InstanceNorm1d(3), [(2, 3, 7)]),
    "RMSNorm": (lambda n: n.RMSNorm((3, 4)), [(2, 3, 4)]),
    "LocalResponseNorm": (lambda n: n.LocalResponseNorm(3, alpha=0.1), [(2, 5, 3, 3)]),
    "Dropout_eval": (lambda n: n.Dropout(0.3).eval(), [(4, 6)]),
    "Dropout2d_eval": (lambda n: n.Dropout2d(0.3, inplace=True).eval(), [(2, 3, 4, 4)]),
    "AlphaDropout_eval": (lambda n: n.AlphaDropout(0.2).eval(), [(4, 6)]),
    "Upsample": (lambda n: n.Upsample(scale_factor=2), [(1, 2, 3, 3)]),
    "Upsample_bilinear": (lambda n: n.Upsample(size=(5, 4), mode="bilinear", align_corners=False), [(1, 2, 3, 3)]),
    "UpsamplingBilinear2d": (lambda n: n.UpsamplingBilinear2d(scale_factor=2), [(1, 2, 3, 3)]),
    "UpsamplingNearest2d": (lambda n: n.UpsamplingNearest2d(size=5), [(1, 2, 3, 3)]),
    "ZeroPad2d": (lambda n: n.ZeroPad2d((1, 2, 0, 1)), [(1, 2, 3, 3)]),
    "ConstantPad1d": (lambda n: n.ConstantPad1d(2, 3.5), [(2, 3, 4)]),
    "ReflectionPad2d": (lambda n: n.ReflectionPad2d(1), [(1, 2, 3, 3)]),
    "ReplicationPad1d": (lambda n: n.ReplicationPad1d((1, 3)), [(2, 3, 4)]),
    "CircularPad2d": (lambda n: n.CircularPad2d(1), [(1, 2, 3, 3)]),
    "PixelShuffle": (lambda n: n.PixelShuffle(2), [(1, 8, 2, 3)]),
    "PixelUnshuffle": (lambda n: n.PixelUnshuffle(2), [(1, 2, 4, 6)]),
    "ChannelShuffle": (lambda n: n.ChannelShuffle(2), [(1, 4, 2, 2)]),
    "CosineSimilarity": (lambda n: n.CosineSimilarity(dim=-1), [(3, 5), (3, 5)]),
    "PairwiseDistance": (lambda n: n.PairwiseDistance(p=1.0, keepdim=True), [(3, 5), (3, 5)]),
    "Sequential": (lambda n: n.Sequential(n.Linear(4, 8), n.ReLU(), n.BatchNorm1d(8), n.Linear(8, 2)), [(5, 4)]),
}

EMBEDDINGS = {
    "Embedding": lambda n: n.Embedding(10, 3),
    "Embedding_pad": lambda n: n.Embedding(10, 3, padding_idx=2),
    "Embedding_negpad_maxnorm": lambda n: n.Embedding(10, 3, padding_idx=-1, max_norm=1.0),
    "Embedding_freq": lambda n: n.Embedding(10, 3, scale_grad_by_freq=True),
}


def _copy_from_torch(em, tm):
    em.load_state_dict({k: ember.from_numpy(v.detach().numpy().copy()) for k, v in tm.state_dict().items()})


def _check_structure(em, tm):
    assert repr(em) == repr(tm)
    assert [(n, tuple(p.shape)) for n, p in em.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in tm.named_parameters()]
    assert list(em.state_dict().keys()) == list(tm.state_dict().keys())
    for k, v in tm.state_dict().items():
        assert em.state_dict()[k].dtype.name == str(v.dtype).replace("torch.", "")


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_torch(name):
    build, shapes = LAYERS[name]
    em, tm = build(nn), build(torch.nn)
    _check_structure(em, tm)
    _copy_from_torch(em, tm)
    rng = np.random.default_rng(abs(hash(name)) % 1000)
    xs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    ex = [ember.from_numpy(x.copy()).requires_grad_() for x in xs]
    tx = [torch.from_numpy(x.copy()).requires_grad_() for x in xs]
    ey, ty = em(*ex), tm(*tx)
    assert_close(ey, ty, rtol=1e-4, atol=1e-5)
    g = rng.standard_normal(tuple(ty.shape)).astype(np.float32)
    ey.backward(ember.from_numpy(g.copy()))
    ty.backward(torch.from_numpy(g.copy()))
    for a, b in zip(ex, tx):
        assert_close(a.grad, b.grad, rtol=1e-4, atol=1e-5)
    for (n1, p1), (_, p2) in zip(em.named_parameters(), tm.named_parameters()):
        assert_close(p1.grad, p2.grad, rtol=1e-4, atol=1e-4), n1
    for (n1, b1), (_, b2) in zip(em.named_buffers(), tm.named_buffers()):
        assert_close(b1, b2, rtol=1e-5, atol=1e-6), n1
    if any(isinstance(m, (nn.modules.batchnorm._NormBase)) for m in em.modules()):
        em.eval()
        tm.eval()
        assert_close(em(*ex), tm(*tx), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", list(EMBEDDINGS))
def test_embedding_matches_torch(name):
    em, tm = EMBEDDINGS[name](nn), EMBEDDINGS[name](torch.nn)
    _check_structure(em, tm)
    _copy_from_torch(em, tm)
    idx = np.array([[1, 2, 4, 9], [4, 3, 2, 9]])
    ey, ty = em(ember.from_numpy(idx)), tm(torch.from_numpy(idx))
    assert_close(ey, ty)
    g = np.random.default_rng(0).standard_normal(tuple(ty.shape)).astype(np.float32)
    ey.backward(ember.from_numpy(g.copy()))
    ty.backward(torch.from_numpy(g.copy()))
    assert_close(em.weight.grad, tm.weight.grad, atol=1e-6)
    assert_close(em.weight, tm.weight, atol=1e-6)  # max_norm renormalizes in place


def test_embedding_from_pretrained():
    w = np.arange(12, dtype=np.float32).reshape(4, 3)
    em = nn.Embedding.from_pretrained(ember.from_numpy(w.copy()))
    tm = torch.nn.Embedding.from_pretrained(torch.from_numpy(w.copy()))
    assert repr(em) == repr(tm) and em.weight.requires_grad == tm.weight.requires_grad
    assert nn.Embedding.from_pretrained(ember.from_numpy(w), freeze=False).weight.requires_grad
    assert_close(em(ember.tensor([3, 0])), tm(torch.tensor([3, 0])))
    assert float(nn.Embedding(5, 2, padding_idx=1).weight[1].abs().sum()) == 0


def test_softmax_module_reprs():
    for build in (lambda n: n.Softmax(dim=1), lambda n: n.Softmax(), lambda n: n.LogSoftmax(1),
                  lambda n: n.Softmin(0), lambda n: n.RReLU(), lambda n: n.ReLU(True), lambda n: n.ELU(inplace=True)):
        assert repr(build(nn)) == repr(build(torch.nn))


def test_softmax_modules_forward_if_available():
    from ember.ops import loss
    if not hasattr(loss, "softmax") or not hasattr(loss, "log_softmax"):
        pytest.skip("softmax/log_softmax are written by the loss helper")
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    for build in (lambda n: n.Softmax(dim=1), lambda n: n.LogSoftmax(1), lambda n: n.Softmin(1)):
        assert_close(build(nn)(ember.from_numpy(x)), build(torch.nn)(torch.from_numpy(x)), atol=1e-6)


def test_relu_inplace_module():
    x = ember.tensor([-1.0, 2.0])
    y = nn.ReLU(inplace=True)(x)
    assert y is x and x.tolist() == [0.0, 2.0]


# ---- batch norm ---------------------------------------------------------------------------------
@pytest.mark.parametrize("momentum", [0.1, None, 0.5])
def test_batchnorm_running_stats_over_steps(momentum):
    em, tm = nn.BatchNorm2d(3, momentum=momentum), torch.nn.BatchNorm2d(3, momentum=momentum)
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = (rng.standard_normal((4, 3, 5, 5)) * 3 + 1).astype(np.float32)
        assert_close(em(ember.from_numpy(x)), tm(torch.from_numpy(x)), atol=1e-5)
    for k, v in tm.state_dict().items():
        assert_close(em.state_dict()[k], v, atol=1e-6)
    em.eval()
    tm.eval()
    x = rng.standard_normal((2, 3, 5, 5)).astype(np.float32)
    assert_close(em(ember.from_numpy(x)), tm(torch.from_numpy(x)), atol=1e-5)
    assert int(em.num_batches_tracked) == 3


def test_batchnorm_errors_and_repr():
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        nn.BatchNorm2d(3)(ember.zeros(2, 3, 4))
    with pytest.raises(ValueError) as e:
        nn.BatchNorm1d(3)(ember.zeros(1, 3))
    with pytest.raises(ValueError) as t:
        torch.nn.BatchNorm1d(3)(torch.zeros(1, 3))
    assert str(e.value) == str(t.value)
    assert repr(nn.BatchNorm2d(3, affine=False)) == repr(torch.nn.BatchNorm2d(3, affine=False))


def test_batchnorm_functional_grad_fn_and_double_backward():
    x = ember.randn(4, 3, 2, 2, dtype=ember.float64, requires_grad=True)
    w = ember.rand(3, dtype=ember.float64, requires_grad=True)
    b = ember.randn(3, dtype=ember.float64, requires_grad=True)
    rm, rv = ember.zeros(3, dtype=ember.float64), ember.ones(3, dtype=ember.float64)
    y = nn.functional.batch_norm(x, rm, rv, w, b, training=True)
    assert y.grad_fn.name() == "NativeBatchNormBackward0"
    assert ember.autograd.gradcheck(lambda x, w, b: nn.functional.batch_norm(x, None, None, w, b, True),
                                    (x, w, b))
    assert ember.autograd.gradgradcheck(lambda x, w, b: nn.functional.batch_norm(x, None, None, w, b, True),
                                        (x, w, b))
    assert ember.autograd.gradgradcheck(lambda x, w, b: nn.functional.batch_norm(x, rm, rv, w, b, False),
                                        (x, w, b))


# ---- dropout ------------------------------------------------------------------------------------
def test_dropout_statistics_and_scaling():
    x = ember.ones(200, 500, requires_grad=True)
    m = nn.Dropout(0.3)
    y = m(x)
    kept = y._data != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y._data[kept], 1 / 0.7, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad._data != 0, kept)
    m.eval()
    assert m(x) is x
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        nn.functional.dropout(x, 1.5)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got -0.1"):
        nn.Dropout(-0.1)
    assert float(nn.functional.dropout(x, 1.0).abs().sum()) == 0
    ember.manual_seed(3)
    a = nn.functional.dropout(ember.ones(10))
    ember.manual_seed(3)
    assert nn.functional.dropout(ember.ones(10)).tolist() == a.tolist()


def test_dropout2d_drops_whole_channels_and_inplace():
    x = ember.ones(50, 40, 3, 3)
    y = nn.functional.dropout2d(x, 0.5)
    per_channel = y._data.reshape(50, 40, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))
    assert abs((per_channel[..., 0] == 0).mean() - 0.5) < 0.05
    z = ember.ones(1000)
    r = nn.functional.dropout(z, 0.5, inplace=True)
    assert r is z and set(np.unique(z._data)) <= {0.0, 2.0}
    y1 = nn.functional.dropout1d(ember.ones(30, 20, 5), 0.5)
    assert np.all((y1._data == 0).all(-1) | (y1._data == 2).all(-1))


def test_alpha_dropout_keeps_mean_and_variance():
    x = ember.randn(400, 500)
    y = nn.functional.alpha_dropout(x, 0.2, training=True)
    assert abs(float(y.mean())) < 0.02 and abs(float(y.std()) - 1) < 0.02


# ---- default init -------------------------------------------------------------------------------
@pytest.mark.parametrize("build", [lambda n: n.Linear(400, 300), lambda n: n.Linear(50, 1000),
                                   lambda n: n.Bilinear(30, 20, 500)])
def test_default_init_statistics_match_torch(build):
    em, tm = build(nn), build(torch.nn)
    for (n, pe), (_, pt) in zip(em.named_parameters(), tm.named_parameters()):
        e, t = pe._data.astype(np.float64), pt.detach().numpy().astype(np.float64)
        bound = float(np.abs(t).max())
        assert np.abs(e).max() <= bound * 1.02 + 1e-6 and np.abs(e).max() >= bound * 0.9, n
        se = t.std() / math.sqrt(t.size) * 5
        assert abs(e.mean() - t.mean()) < se, n
        assert abs(e.std() - t.std()) < t.std() * 5 / math.sqrt(t.size / 2) + 1e-3, n


def test_linear_reset_and_shared_helper():
    from ember.nn.modules.linear import _default_reset
    w = nn.Parameter(ember.empty(64, 256))
    b = nn.Parameter(ember.empty(64))
    _default_reset(w, b)
    assert float(w.abs().max()) <= 1 / 16 and float(b.abs().max()) <= 1 / 16
    assert float(w.abs().max()) > 0.9 / 16
