"""Learning-rate schedulers against torch.optim.lr_scheduler: the same lr (and momentum) sequences."""
import copy
import math
import warnings

import numpy as np
import pytest

import ember
from ember.optim import lr_scheduler as elrs

torch = pytest.importorskip("torch")
tlrs = torch.optim.lr_scheduler


def _optimizers(kind="sgd", lrs=(0.1,)):
    """An ember and a torch optimizer over the same parameters, one group per entry of ``lrs``."""
    e_groups, t_groups = [], []
    for i, lr in enumerate(lrs):
        a = np.full((2,), float(i), np.float32)
        e_groups.append({"params": [ember.from_numpy(a.copy()).requires_grad_()], "lr": lr})
        t_groups.append({"params": [torch.nn.Parameter(torch.from_numpy(a.copy()))], "lr": lr})
    if kind == "sgd":
        return ember.optim.SGD(e_groups, lr=0.1, momentum=0.9), torch.optim.SGD(t_groups, lr=0.1, momentum=0.9)
    return ember.optim.Adam(e_groups, lr=0.1), torch.optim.Adam(t_groups, lr=0.1)


def _record(opt, sched, steps, metrics=None):
    out = []
    for i in range(steps):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])
        groups = opt.param_groups
        out.append((list(sched.get_last_lr()), [g["lr"] for g in groups],
                    [g.get("momentum", g.get("betas", (None,))[0]) for g in groups]))
    return out


def _compare(make, steps=30, kind="sgd", lrs=(0.1,), metrics=None):
    eo, to = _optimizers(kind, lrs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        es, ts = make(eo, elrs), make(to, tlrs)
        assert es.get_last_lr() == ts.get_last_lr()
        e_seq, t_seq = _record(eo, es, steps, metrics), _record(to, ts, steps, metrics)
    for i, (e, t) in enumerate(zip(e_seq, t_seq)):
        assert e == t, f"step {i}: {e} != {t}"
    return es, ts


SCHEDULERS = {
    "StepLR": lambda o, m: m.StepLR(o, step_size=3, gamma=0.5),
    "MultiStepLR": lambda o, m: m.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.3),
    "ConstantLR": lambda o, m: m.ConstantLR(o, factor=0.5, total_iters=4),
    "LinearLR": lambda o, m: m.LinearLR(o, start_factor=0.25, end_factor=0.9, total_iters=6),
    "ExponentialLR": lambda o, m: m.ExponentialLR(o, gamma=0.9),
    "PolynomialLR": lambda o, m: m.PolynomialLR(o, total_iters=10, power=2.0),
    "LambdaLR": lambda o, m: m.LambdaLR(o, lambda e: 0.95 ** e + 0.01 * e),
    "MultiplicativeLR": lambda o, m: m.MultiplicativeLR(o, lambda e: 0.9 if e % 2 else 0.97),
    "CosineAnnealingLR": lambda o, m: m.CosineAnnealingLR(o, T_max=7, eta_min=0.01),
    "CosineAnnealingLR-0": lambda o, m: m.CosineAnnealingLR(o, T_max=10),
    "WarmRestarts": lambda o, m: m.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2, eta_min=0.001),
    "WarmRestarts-1": lambda o, m: m.CosineAnnealingWarmRestarts(o, T_0=4),
    "CyclicLR": lambda o, m: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4),
    "CyclicLR-2": lambda o, m: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3, step_size_down=5,
                                          mode="triangular2"),
    "CyclicLR-exp": lambda o, m: m.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=4,
                                            mode="exp_range", gamma=0.95, base_momentum=0.7, max_momentum=0.95),
    "CyclicLR-fn": lambda o, m: m.CyclicLR(o, 0.01, 0.1, step_size_up=2, scale_fn=lambda x: 1 / (x + 1),
                                           scale_mode="iterations", cycle_momentum=False),
    "OneCycleLR": lambda o, m: m.OneCycleLR(o, max_lr=0.5, total_steps=31),
    "OneCycleLR-linear": lambda o, m: m.OneCycleLR(o, max_lr=[0.5, 0.2], epochs=3, steps_per_epoch=11,
                                                   anneal_strategy="linear", pct_start=0.25),
    "OneCycleLR-3": lambda o, m: m.OneCycleLR(o, max_lr=0.5, total_steps=31, three_phase=True, div_factor=10.0,
                                              final_div_factor=100.0),
    "SequentialLR": lambda o, m: m.SequentialLR(o, [m.LinearLR(o, start_factor=0.1, total_iters=5),
                                                    m.ExponentialLR(o, gamma=0.9)], milestones=[5]),
    "SequentialLR-3": lambda o, m: m.SequentialLR(o, [m.ConstantLR(o, factor=0.5, total_iters=3),
                                                      m.CosineAnnealingLR(o, T_max=8),
                                                      m.StepLR(o, step_size=2, gamma=0.7)], milestones=[4, 12]),
    "ChainedScheduler": lambda o, m: m.ChainedScheduler([m.ConstantLR(o, factor=0.5, total_iters=4),
                                                         m.ExponentialLR(o, gamma=0.9)]),
    "ChainedScheduler-opt": lambda o, m: m.ChainedScheduler([m.LinearLR(o, 0.5, total_iters=3),
                                                             m.MultiStepLR(o, [4, 8])], optimizer=o),
}


@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_sequence_matches_torch(name, kind):
    lrs = (0.1, 0.05) if name in ("CyclicLR-exp", "OneCycleLR-linear") or kind == "adam" else (0.1,)
    _compare(SCHEDULERS[name], steps=30, kind=kind, lrs=lrs)


def test_lambda_per_group():
    _compare(lambda o, m: m.LambdaLR(o, [lambda e: 0.9 ** e, lambda e: 1 / (e + 1)]), lrs=(0.1, 0.3))


@pytest.mark.parametrize("kwargs,metrics", [
    (dict(patience=2), [1.0, 0.9, 0.9, 0.95, 0.91, 0.8, 0.8, 0.8, 0.8, 0.8, 0.79999, 0.8, 0.8, 0.8, 0.8]),
    (dict(mode="max", factor=0.5, patience=1, cooldown=2, threshold=0.1, threshold_mode="abs"),
     [0.1, 0.2, 0.25, 0.3, 0.3, 0.3, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]),
    (dict(mode="min", factor=0.5, patience=0, min_lr=[0.02, 0.001], eps=1e-3),
     [float(x) for x in range(20)]),
    (dict(mode="max", threshold_mode="rel", patience=1, factor=0.2, min_lr=0.003),
     [1.0, 1.00001, 1.0, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2]),
])
def test_reduce_lr_on_plateau(kwargs, metrics):
    es, ts = _compare(lambda o, m: m.ReduceLROnPlateau(o, **kwargs), steps=len(metrics), lrs=(0.1, 0.05),
                      metrics=metrics)
    assert (es.best, es.num_bad_epochs, es.cooldown_counter, es.last_epoch) == \
           (ts.best, ts.num_bad_epochs, ts.cooldown_counter, ts.last_epoch)


def test_reduce_lr_on_plateau_tensor_metric():
    eo, _ = _optimizers()
    s = elrs.ReduceLROnPlateau(eo, patience=0)
    s.step(ember.tensor(1.0))
    s.step(ember.tensor(2.0))
    assert s.get_last_lr() == [pytest.approx(0.01)]


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR",
                                  "PolynomialLR", "CosineAnnealingLR", "WarmRestarts"])
def test_step_with_epoch_uses_closed_form(name):
    """``step(epoch)`` (deprecated) jumps to an epoch using the closed form, as in PyTorch."""
    eo, to = _optimizers()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        es, ts = SCHEDULERS[name](eo, elrs), SCHEDULERS[name](to, tlrs)
        for epoch in [3, 7, 2, 11, 12]:
            es.step(epoch)
            ts.step(epoch)
            assert es.get_last_lr() == ts.get_last_lr(), epoch
    eo.step()
    with pytest.warns(UserWarning, match="epoch parameter"):
        elrs.StepLR(eo, 2).step(1)


@pytest.mark.parametrize("name", ["StepLR", "CosineAnnealingLR", "WarmRestarts", "CyclicLR", "OneCycleLR",
                                  "SequentialLR", "ChainedScheduler", "LambdaLR"])
def test_state_dict_round_trip(name):
    """A scheduler rebuilt from a mid-run state_dict continues with the same lrs."""
    eo, _ = _optimizers()
    s = SCHEDULERS[name](eo, elrs)
    for _ in range(7):
        eo.step()
        s.step()
    sd = copy.deepcopy(s.state_dict())
    assert "optimizer" not in sd
    opt_sd = copy.deepcopy(eo.state_dict())
    rest = [(s.step(), s.get_last_lr())[1] for _ in range(10)]

    eo2, _ = _optimizers()
    s2 = SCHEDULERS[name](eo2, elrs)
    eo2.load_state_dict(opt_sd)
    s2.load_state_dict(sd)
    rest2 = [(s2.step(), s2.get_last_lr())[1] for _ in range(10)]
    assert rest == rest2


def test_state_dict_matches_torch_keys():
    eo, to = _optimizers()
    es, ts = elrs.StepLR(eo, 3), tlrs.StepLR(to, 3)
    assert set(es.state_dict()) <= set(ts.state_dict())
    assert {k: v for k, v in es.state_dict().items() if k in ("base_lrs", "last_epoch", "_step_count",
                                                               "step_size", "gamma", "_last_lr")} == \
        {k: v for k, v in ts.state_dict().items() if k in ("base_lrs", "last_epoch", "_step_count", "step_size",
                                                            "gamma", "_last_lr")}
    assert eo.param_groups[0]["initial_lr"] == to.param_groups[0]["initial_lr"]


def test_last_epoch_resume_requires_initial_lr():
    eo, to = _optimizers()
    with pytest.raises(KeyError) as te:
        tlrs.StepLR(to, 3, last_epoch=5)
    with pytest.raises(KeyError) as ee:
        elrs.StepLR(eo, 3, last_epoch=5)
    assert str(ee.value) == str(te.value)
    # with initial_lr present, resuming works and matches torch
    for o in (eo, to):
        for g in o.param_groups:
            g["initial_lr"] = 0.2
    es, ts = elrs.StepLR(eo, 3, last_epoch=5), tlrs.StepLR(to, 3, last_epoch=5)
    for _ in range(5):
        eo.step()
        to.step()
        es.step()
        ts.step()
        assert es.get_last_lr() == ts.get_last_lr()


def _same_error(fe, ft):
    with pytest.raises(Exception) as te:
        ft()
    with pytest.raises(Exception) as ee:
        fe()
    assert type(ee.value) is type(te.value)
    assert str(ee.value) == str(te.value)


@pytest.mark.parametrize("make", [
    lambda o, m: m.ConstantLR(o, factor=1.5),
    lambda o, m: m.LinearLR(o, start_factor=0),
    lambda o, m: m.LinearLR(o, end_factor=2.0),
    lambda o, m: m.CosineAnnealingWarmRestarts(o, T_0=0),
    lambda o, m: m.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0),
    lambda o, m: m.OneCycleLR(o, max_lr=0.1),
    lambda o, m: m.OneCycleLR(o, max_lr=0.1, total_steps=0),
    lambda o, m: m.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1.5),
    lambda o, m: m.OneCycleLR(o, max_lr=0.1, total_steps=10, anneal_strategy="exp"),
    lambda o, m: m.OneCycleLR(o, max_lr=[0.1, 0.2], total_steps=10),
    lambda o, m: m.CyclicLR(o, 0.01, 0.1, mode="bad"),
    lambda o, m: m.ReduceLROnPlateau(o, factor=1.0),
    lambda o, m: m.ReduceLROnPlateau(o, mode="avg"),
    lambda o, m: m.ReduceLROnPlateau(o, threshold_mode="x"),
    lambda o, m: m.ReduceLROnPlateau(o, min_lr=[0.1, 0.2]),
    lambda o, m: m.LambdaLR(o, [lambda e: 1.0, lambda e: 1.0]),
    lambda o, m: m.MultiplicativeLR(o, 0.5),
    lambda o, m: m.SequentialLR(o, [m.StepLR(o, 2)], milestones=[3]),
    lambda o, m: m.SequentialLR(o, [], milestones=[]),
    lambda o, m: m.SequentialLR(o, [m.ReduceLROnPlateau(o)], milestones=[]),
    lambda o, m: m.ChainedScheduler([]),
    lambda o, m: m.StepLR("not an optimizer", 3),
])
def test_bad_arguments(make):
    eo, to = _optimizers()
    _same_error(lambda: make(eo, elrs), lambda: make(to, tlrs))


def test_cycle_momentum_needs_momentum():
    e_p = [ember.zeros(2, requires_grad=True)]
    t_p = [torch.zeros(2, requires_grad=True)]
    _same_error(lambda: elrs.OneCycleLR(ember.optim.Adagrad(e_p), 0.1, total_steps=5),
                lambda: tlrs.OneCycleLR(torch.optim.Adagrad(t_p), 0.1, total_steps=5))
    _same_error(lambda: elrs.CyclicLR(ember.optim.Adagrad(e_p), 0.01, 0.1),
                lambda: tlrs.CyclicLR(torch.optim.Adagrad(t_p), 0.01, 0.1))


def test_one_cycle_too_many_steps():
    eo, to = _optimizers()
    es, ts = elrs.OneCycleLR(eo, 0.1, total_steps=3), tlrs.OneCycleLR(to, 0.1, total_steps=3)
    for _ in range(3):
        eo.step()
        to.step()
        es.step()
        ts.step()
    _same_error(es.step, ts.step)


def test_step_order_warning():
    eo, to = _optimizers()
    es, ts = elrs.StepLR(eo, 3), tlrs.StepLR(to, 3)
    with pytest.warns(UserWarning) as tw:
        ts.step()
    with pytest.warns(UserWarning) as ew:
        es.step()
    assert str(ew[0].message) == str(tw[0].message)
    eo, _ = _optimizers()
    es = elrs.StepLR(eo, 3)
    eo.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        es.step()


def test_get_lr_outside_step_warns():
    eo, _ = _optimizers()
    s = elrs.StepLR(eo, 3)
    with pytest.warns(UserWarning, match="get_last_lr"):
        s.get_lr()


def test_scheduler_drives_training():
    """The lr a scheduler writes is the one the next optimizer step uses."""
    p = ember.zeros(1, requires_grad=True)
    opt = ember.optim.SGD([p], lr=1.0)
    sched = elrs.ExponentialLR(opt, gamma=0.5)
    for _ in range(3):
        p.grad = ember.ones(1)
        opt.step()
        sched.step()
    assert math.isclose(float(p._data[0]), -(1 + 0.5 + 0.25))
