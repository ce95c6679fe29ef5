"""The compiled Adam update (backend/kernels/fused.py) against the NumPy passes it replaces: bitwise equal."""
import itertools

import numpy as np
import pytest

from ember.backend.kernels import fused
from ember.optim import adam as A

numba = pytest.importorskip("numba")     # CI installs it (EMBER_REQUIRE_JIT makes a skip fail the run)

FLAGS = list(itertools.product((np.float32, np.float64), (False, True), (False, True), (0.0, 0.01), (False, True),
                               (0.9, 0.3)))


def _run(kernel, amsgrad, maximize, weight_decay, decoupled, beta1, grads, p0, monkeypatch, lr=1e-2):
    monkeypatch.setitem(fused._cache, "adam_", kernel)
    p = p0.copy()
    m, v, vmax = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    step = np.zeros((), np.float32)
    with np.errstate(all="ignore"):                 # (NumPy warns of the non-finite values the test feeds)
        for g in grads:
            A.adam([p], [g], [m], [v], [vmax] if amsgrad else None, [step], amsgrad=amsgrad, beta1=beta1,
                   beta2=0.999, lr=lr, weight_decay=weight_decay, eps=1e-8, maximize=maximize,
                   decoupled_weight_decay=decoupled)
    return p, m, v, vmax


@pytest.mark.parametrize("dtype,amsgrad,maximize,weight_decay,decoupled,beta1", FLAGS)
def test_fused_adam_is_bitwise_the_numpy_update(dtype, amsgrad, maximize, weight_decay, decoupled, beta1,
                                                monkeypatch):
    kernel = fused.adam_kernel()
    assert kernel is not None
    rng = np.random.default_rng(len(FLAGS))
    p0 = rng.standard_normal((37, 53)).astype(dtype)
    grads = [rng.standard_normal(p0.shape).astype(dtype) for _ in range(3)]
    grads[1][0, :3] = (np.nan, np.inf, -np.inf)        # non-finite gradients propagate alike
    grads[2][1, 0] = 1e30
    got = _run(kernel, amsgrad, maximize, weight_decay, decoupled, beta1, grads, p0, monkeypatch)
    want = _run(None, amsgrad, maximize, weight_decay, decoupled, beta1, grads, p0, monkeypatch)
    assert got[0].dtype == dtype
    for name, a, b in zip(("param", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"), got, want):
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert np.isnan(got[0][0, 0]) and np.isfinite(got[0][5:]).all()


def test_fused_adam_leaves_odd_cases_to_numpy(monkeypatch):
    """lr = 0 (PyTorch's own form of that step), non-contiguous and float16 parameters take the NumPy passes."""
    calls = []
    kernel = fused.adam_kernel()
    monkeypatch.setitem(fused._cache, "adam_", lambda *a: calls.append(a[0].dtype) or kernel(*a))
    rng = np.random.default_rng(0)
    for p in (rng.standard_normal((4, 6)).astype(np.float32)[:, ::2], rng.standard_normal(5).astype(np.float16)):
        A.adam([p], [np.ones_like(p)], [np.zeros_like(p)], [np.zeros_like(p)], None, [np.zeros((), np.float32)],
               amsgrad=False, beta1=0.9, beta2=0.999, lr=1e-2, weight_decay=0, eps=1e-8, maximize=False,
               decoupled_weight_decay=False)
    p = np.ones(5, np.float32)
    A.adam([p], [np.ones_like(p)], [np.zeros_like(p)], [np.zeros_like(p)], None, [np.zeros((), np.float32)],
           amsgrad=False, beta1=0.9, beta2=0.999, lr=0.0, weight_decay=0, eps=1e-8, maximize=False,
           decoupled_weight_decay=False)
    assert calls == []
    A.adam([p], [np.ones_like(p)], [np.zeros_like(p)], [np.zeros_like(p)], None, [np.zeros((), np.float32)],
           amsgrad=False, beta1=0.9, beta2=0.999, lr=1e-3, weight_decay=0, eps=1e-8, maximize=False,
           decoupled_weight_decay=False)
    assert calls == [np.float32]


def test_ember_jit_0_turns_the_kernel_off(monkeypatch):
    monkeypatch.delitem(fused._cache, "adam_", raising=False)
    monkeypatch.setenv("EMBER_JIT", "0")
    assert fused.adam_kernel() is None
    monkeypatch.delitem(fused._cache, "adam_")
    monkeypatch.delenv("EMBER_JIT")
    assert fused.adam_kernel() is not None
