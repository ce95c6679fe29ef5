"""nn.init against PyTorch: gains, fans, distributions' statistics (within sampling error), shapes,
no graph recorded, reproducibility with ember's generator, errors."""
import math

import numpy as np
import pytest
from conftest import requires_torch, torch

import ember
from ember import nn
from ember.nn import init

pytestmark = requires_torch


def test_calculate_gain_matches_torch():
    for nl, p in [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
                  ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("selu", None)]:
        assert init.calculate_gain(nl, p) == pytest.approx(torch.nn.init.calculate_gain(nl, p))
    with pytest.raises(ValueError, match="Unsupported nonlinearity foo"):
        init.calculate_gain("foo")
    with pytest.raises(ValueError):
        init.calculate_gain("leaky_relu", "x")


@pytest.mark.parametrize("shape", [(3, 4), (8, 3, 5, 5), (2, 6, 3)])
def test_fans_match_torch(shape):
    assert init._calculate_fan_in_and_fan_out(ember.empty(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))
    with pytest.raises(ValueError, match="Fan in and fan out can not be computed"):
        init._calculate_fan_in_and_fan_out(ember.empty(3))


CASES = {
    "uniform_": (lambda m, t: m.uniform_(t, -0.5, 2.0), (300, 200)),
    "normal_": (lambda m, t: m.normal_(t, 1.0, 0.3), (300, 200)),
    "trunc_normal_": (lambda m, t: m.trunc_normal_(t, 0.0, 1.0, -1.5, 0.5), (300, 200)),
    "xavier_uniform_": (lambda m, t: m.xavier_uniform_(t, gain=2.0), (300, 200)),
    "xavier_normal_": (lambda m, t: m.xavier_normal_(t), (300, 200)),
    "kaiming_uniform_": (lambda m, t: m.kaiming_uniform_(t, a=math.sqrt(5)), (64, 32, 3, 3)),
    "kaiming_uniform_relu_fan_out": (lambda m, t: m.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"),
                                     (64, 32, 3, 3)),
    "kaiming_normal_": (lambda m, t: m.kaiming_normal_(t, nonlinearity="relu"), (256, 300)),
    "orthogonal_": (lambda m, t: m.orthogonal_(t, gain=1.5), (60, 200)),
    "sparse_": (lambda m, t: m.sparse_(t, 0.3, std=0.05), (300, 200)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_random_init_statistics_match_torch(name):
    fn, shape = CASES[name]
    e = nn.Parameter(ember.empty(*shape))
    t = torch.nn.Parameter(torch.empty(*shape))
    r = fn(init, e)
    fn(torch.nn.init, t)
    assert r is e and e.grad_fn is None and e.requires_grad and e.dtype == ember.float32
    ev, tv = e._data.astype(np.float64), t.detach().numpy().astype(np.float64)
    n = ev.size
    assert abs(ev.mean() - tv.mean()) < 6 * tv.std() / math.sqrt(n) + 1e-9
    assert abs(ev.std() - tv.std()) < 6 * tv.std() / math.sqrt(n / 2)
    if name not in ("normal_", "xavier_normal_", "kaiming_normal_", "sparse_"):  # bounded distributions
        assert ev.min() >= tv.min() - 0.05 * tv.std() - 1e-6
        assert ev.max() <= tv.max() + 0.05 * tv.std() + 1e-6
    assert abs((ev == 0).mean() - (tv == 0).mean()) < 0.01


def test_orthogonal_is_orthogonal():
    for shape in [(5, 8), (8, 5), (4, 2, 3)]:
        w = init.orthogonal_(ember.empty(*shape))._data.reshape(shape[0], -1).astype(np.float64)
        if w.shape[0] <= w.shape[1]:
            np.testing.assert_allclose(w @ w.T, np.eye(w.shape[0]), atol=1e-5)
        else:
            np.testing.assert_allclose(w.T @ w, np.eye(w.shape[1]), atol=1e-5)


def test_deterministic_inits_match_torch():
    for fn, shape in [(lambda m, t: m.constant_(t, 0.3), (3, 4)), (lambda m, t: m.ones_(t), (2, 3)),
                      (lambda m, t: m.zeros_(t), (2, 3)), (lambda m, t: m.eye_(t), (3, 5)),
                      (lambda m, t: m.dirac_(t), (4, 3, 3, 3)), (lambda m, t: m.dirac_(t, groups=2), (4, 2, 3)),
                      (lambda m, t: m.dirac_(t), (2, 2, 3, 3, 3))]:
        e, t = ember.empty(*shape), torch.empty(*shape)
        fn(init, e)
        fn(torch.nn.init, t)
        np.testing.assert_array_equal(e._data, t.numpy())
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.eye_(ember.empty(2, 2, 2))


def test_init_under_no_grad_and_seeded():
    p = nn.Parameter(ember.empty(10, 10))
    init.normal_(p)
    assert p.grad_fn is None and p.is_leaf
    ember.manual_seed(5)
    a = init.kaiming_normal_(ember.empty(4, 4)).tolist()
    ember.manual_seed(5)
    assert init.kaiming_normal_(ember.empty(4, 4)).tolist() == a
    g = ember.Generator().manual_seed(1)
    b = init.uniform_(ember.empty(3), generator=g).tolist()
    assert init.uniform_(ember.empty(3), generator=ember.Generator().manual_seed(1)).tolist() == b
    assert init.uniform_(ember.empty(3, dtype=ember.float64)).dtype == ember.float64
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(ember.empty(2, 2), mode="fan_avg")


def test_lecun_normal_is_unit_fan_in_variance():
    w = init.lecun_normal_(ember.empty(400, 250))
    assert abs(float(w.std()) - 1 / math.sqrt(250)) < 0.002
    assert abs(float(w.mean())) < 0.001
