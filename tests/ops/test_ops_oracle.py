"""Generic tests over the op table (tests/opinfo.py), with PyTorch as the oracle: forward values,
dtypes and shapes; gradients with a random grad_output; double backward; float64 finite differences;
exception types on invalid input; and a coverage check of the table itself."""
import numpy as np
import pytest

import ember
from opinfo import EXCLUDED, OPS, Case, covered_names

torch = pytest.importorskip("torch")

FWD_TOL = {"float32": (1e-5, 1e-5), "float64": (1e-7, 1e-8)}


def flat(out):
    """An op's result as a flat list of tensors and plain values (namedtuples, lists, tuples)."""
    if isinstance(out, (tuple, list)) and not isinstance(out, (ember.Size, torch.Size)):
        return [x for o in out for x in flat(o)]
    return [out]


def _np(x):
    if isinstance(x, ember.Tensor):
        return x._data
    if x._is_zerotensor():  # PyTorch's gradients of some ops are "ZeroTensors" without storage
        return np.zeros(tuple(x.shape), str(x.dtype).replace("torch.", ""))
    return x.detach().numpy()


def check_same(e, t, rtol, atol, what=""):
    """ember value ``e`` equals torch value ``t`` (tensors: shape, dtype, values incl. NaN)."""
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f"{what}: expected a Tensor, got {type(e).__name__}"
        ev, tv = _np(e), _np(t)
        assert ev.shape == tv.shape, f"{what}: shape {ev.shape} != torch {tv.shape}"
        assert str(e.dtype) == str(t.dtype), f"{what}: dtype {e.dtype} != torch {t.dtype}"
        if tv.dtype.kind in "biu":
            np.testing.assert_array_equal(ev, tv, err_msg=what)
        else:
            if tv.dtype == np.float32:  # a float32 result of an integer or float64 case
                rtol, atol = max(rtol, 1e-5), max(atol, 1e-5)
            np.testing.assert_allclose(ev, tv, rtol=rtol, atol=atol, err_msg=what)
    elif isinstance(t, torch.Size):
        assert isinstance(e, ember.Size) and tuple(e) == tuple(t), f"{what}: {e!r} != {t!r}"
    else:
        assert type(e) is type(t) and e == t, f"{what}: {e!r} != torch {t!r}"


def cases(info, dtype):
    return [Case(s, dtype, seed=i) for i, s in enumerate(info.samples())]


def run(info, case, m, requires_grad=False):
    leaves = case.leaves(m, requires_grad)
    args, kwargs = case.args(m, leaves)
    return leaves, info.fn(m, *args, **kwargs)


FWD = [pytest.param(o, d, id=f"{o.id}-{d}") for o in OPS for d in o.dtypes]
GRAD = [pytest.param(o, d, id=f"{o.id}-{d}") for o in OPS if o.supports_grad for d in o.dtypes if d.startswith("f")]
GRADGRAD = [pytest.param(o, id=o.id) for o in OPS if o.supports_grad and o.supports_gradgrad and "float64" in o.dtypes]
GRADCHECK = [pytest.param(o, id=o.id) for o in OPS if o.supports_grad and o.gradcheck and "float64" in o.dtypes]


@pytest.mark.filterwarnings("ignore:Using a non-tuple sequence")
@pytest.mark.parametrize("info,dtype", FWD)
def test_forward(info, dtype):
    rtol, atol = FWD_TOL.get(dtype, (0, 0))
    rtol, atol = max(rtol, info.rtol if dtype == "float32" else 0), max(atol, info.atol if dtype == "float32" else 0)
    for k, case in enumerate(cases(info, dtype)):
        with np.errstate(all="ignore"):
            _, te = run(info, case, torch)
            _, ee = run(info, case, ember)
        fe, ft = flat(ee), flat(te)
        assert len(fe) == len(ft), f"sample {k} {case}: {len(fe)} outputs, torch {len(ft)}"
        for j, (e, t) in enumerate(zip(fe, ft)):
            check_same(e, t, rtol, atol, f"sample {k} {case} output {j}")
        if isinstance(te, tuple) and hasattr(te, "values") and hasattr(te, "indices"):
            check_same(ee.values, te.values, rtol, atol, "values field")


def _grads_close(ge, gt, dtype, info, what):
    assert len(ge) == len(gt)
    for i, (a, b) in enumerate(zip(ge, gt)):
        if b is None and a is None:
            continue
        if b is None:
            b = torch.zeros(a.shape, dtype=getattr(torch, a.dtype.name))
        if a is None:
            assert not _np(b).any(), f"{what} input {i}: ember gives no gradient, torch {b}"
            continue
        tol = (info.grad_rtol, info.grad_atol) if dtype == "float32" else (1e-6, 1e-7)
        check_same(a, b, *tol, what=f"{what} input {i}")


def _diff_outputs(out, lib):
    return [o for o in flat(out) if isinstance(o, lib.Tensor) and o.requires_grad]


def _random_like(outs, rng, requires_grad=False):
    gos = []
    for o in outs:
        a = rng.standard_normal(tuple(o.shape)).astype(str(o.dtype).replace("torch.", ""))
        gos.append((torch.from_numpy(a.copy()).requires_grad_(requires_grad),
                    ember.from_numpy(a.copy()).requires_grad_(requires_grad)))
    return gos


# Entries whose grad_fn is named differently from PyTorch's: ember composes them from other ops (the
# last op's node shows), or PyTorch uses one multi-output node (split, unbind) or a view-rebasing
# node (setitem's CopySlices). Every other differentiable entry must show PyTorch's node name.
NAME_DIFFS = {
    "composite": {"addcdiv", "addcmul", "addmv", "baddbmm", "deg2rad", "rad2deg", "diag_embed", "dist", "erfc",
                  "frac", "hypot", "lerp", "logaddexp", "xlogy", "std_mean", "var_mean", "norm", "vdot",
                  "inner", "einsum", "atleast_2d"},
    "in-place composite": {"lerp_-inplace", "addcmul_-inplace", "addcdiv_-inplace", "copy_-inplace",
                           "fill_-inplace", "zero_-inplace"},
    "view/reshape bookkeeping": {"sum_to_size", "setitem", "matmul",
                                 "matmul-operator", "linear"},
}
NAME_DIFFS = set().union(*NAME_DIFFS.values())


@pytest.mark.filterwarnings("ignore:Using a non-tuple sequence")
@pytest.mark.parametrize("info,dtype", GRAD)
def test_grad(info, dtype):
    rng = np.random.default_rng(0)
    for k, case in enumerate(cases(info, dtype)):
        if not any(case.grad_mask()):
            continue
        with np.errstate(all="ignore"):
            tl, tout = run(info, case, torch, True)
            el, eout = run(info, case, ember, True)
        fe, ft = flat(eout), flat(tout)
        for j, (e, t) in enumerate(zip(fe, ft)):
            if isinstance(t, torch.Tensor):
                assert e.requires_grad == t.requires_grad, f"sample {k} {case}: output {j} requires_grad"
                assert (e.grad_fn is None) == (t.grad_fn is None), f"sample {k} {case}: output {j} grad_fn"
                if t.grad_fn is not None and info.id not in NAME_DIFFS:
                    assert e.grad_fn.name() == t.grad_fn.name(), f"sample {k} {case}: output {j} grad_fn name"
        touts, eouts = _diff_outputs(tout, torch), _diff_outputs(eout, ember)
        if not touts:
            continue
        gos = _random_like(touts, rng)
        tin = [x for x in tl if x.requires_grad]
        ein = [x for x in el if x.requires_grad]
        with np.errstate(all="ignore"):
            gt = torch.autograd.grad(touts, tin, [g[0] for g in gos], allow_unused=True)
            ge = ember.autograd.grad(eouts, ein, [g[1] for g in gos], allow_unused=True)
        _grads_close(ge, gt, dtype, info, f"sample {k} {case}")


@pytest.mark.filterwarnings("ignore:Using a non-tuple sequence")
@pytest.mark.parametrize("info", GRADGRAD)
def test_gradgrad(info):
    """d/d(inputs, grad_outputs) of sum(grad_i * v_i), through create_graph=True."""
    rng = np.random.default_rng(1)
    for k, case in enumerate(cases(info, "float64")):
        if not any(case.grad_mask()):
            continue
        res = {}
        gos = None
        with np.errstate(all="ignore"):
            for m in (torch, ember):
                leaves, out = run(info, case, m, True)
                outs = _diff_outputs(out, m)
                if not outs:
                    break
                if gos is None:
                    gos = _random_like(outs, rng, requires_grad=True)
                    vs = [rng.standard_normal(tuple(x.shape)) for x in leaves if x.requires_grad]
                go = [g[0] if m is torch else g[1] for g in gos]
                ins = [x for x in leaves if x.requires_grad]
                gs = m.autograd.grad(outs, ins, go, create_graph=True, allow_unused=True)
                total = None
                for g, v in zip(gs, vs):
                    if g is not None and g.requires_grad:
                        term = (g * m.from_numpy(v.copy())).sum()
                        total = term if total is None else total + term
                if total is None:
                    res[m.__name__] = None
                    continue
                res[m.__name__] = m.autograd.grad(total, ins + go, allow_unused=True)
        if not res or res.get("torch") is None:
            continue
        assert res["ember"] is not None, f"sample {k} {case}: ember's gradient does not require grad"
        _grads_close(res["ember"], res["torch"], "float64", info, f"sample {k} {case} (double backward)")


@pytest.mark.filterwarnings("ignore:Using a non-tuple sequence")
@pytest.mark.parametrize("info", GRADCHECK)
def test_gradcheck(info):
    done = 0
    for case in cases(info, "float64"):
        mask = case.grad_mask()
        if not any(mask) or any(not np.isfinite(a).all() for a in case.arrays if a.dtype.kind == "f"):
            continue
        if sum(a.size for a, g in zip(case.arrays, mask) if g) > 30:
            continue
        leaves = case.leaves(ember, True)

        def fn(*xs, case=case):
            args, kwargs = case.args(ember, list(xs))
            return tuple(o for o in flat(info.fn(ember, *args, **kwargs))
                         if isinstance(o, ember.Tensor) and o.is_floating_point())
        assert ember.autograd.gradcheck(fn, leaves, eps=1e-6, atol=1e-5, rtol=1e-3), case
        done += 1
        if done == 3:
            break


# ---------------------------------------------------------------------------------------------
# Invalid inputs: the same exception type and message as PyTorch.
def _t(m, *shape, dtype="float32"):
    return m.zeros(shape, dtype=getattr(m, dtype))


ERRORS = {
    # pointwise
    "add-shape": lambda m: _t(m, 2, 3) + _t(m, 4),
    "mul-shape": lambda m: m.mul(_t(m, 2, 3), _t(m, 3, 2)),
    "neg-bool": lambda m: -_t(m, 3, dtype="bool"),
    "pow-int-neg": lambda m: _t(m, 3, dtype="int64") ** -1,
    "where-cond-dtype": lambda m: m.where(_t(m, 3), _t(m, 3), _t(m, 3)),
    "clamp-none": lambda m: m.clamp(_t(m, 3)),
    "bitwise-float": lambda m: m.bitwise_and(_t(m, 3), _t(m, 3)),
    "maximum-scalar": lambda m: m.maximum(_t(m, 3), 1.0),
    "div-mode": lambda m: m.div(_t(m, 3), _t(m, 3), rounding_mode="round"),
    # shape
    "view-numel": lambda m: _t(m, 2, 3).view(4, 2),
    "view-noncontig": lambda m: _t(m, 2, 3).t().view(6),
    "reshape-two-inferred": lambda m: _t(m, 2, 3).reshape(-1, -1),
    "transpose-dim": lambda m: _t(m, 2, 3).transpose(0, 2),
    "permute-len": lambda m: _t(m, 2, 3).permute(0, 1, 2),
    "permute-dup": lambda m: _t(m, 2, 3).permute(0, 0),
    "squeeze-dim": lambda m: _t(m, 2, 3).squeeze(3),
    "unsqueeze-dim": lambda m: _t(m, 2, 3).unsqueeze(4),
    "expand-size": lambda m: _t(m, 2, 3).expand(2, 4),
    "expand-fewer": lambda m: _t(m, 2, 3).expand(3),
    "expand-leading-neg": lambda m: _t(m, 3, 4).expand(-1, 3, 4),
    "cat-shape": lambda m: m.cat([_t(m, 2, 3), _t(m, 2, 4)]),
    "cat-dim": lambda m: m.cat([_t(m, 2, 3), _t(m, 2, 3)], 2),
    "cat-empty": lambda m: m.cat([]),
    "cat-0d": lambda m: m.cat([_t(m), _t(m)]),
    "stack-shape": lambda m: m.stack([_t(m, 2, 3), _t(m, 3, 2)]),
    "narrow-range": lambda m: _t(m, 4).narrow(0, 2, 3),
    "select-index": lambda m: _t(m, 4, 2).select(0, 4),
    "select-0d": lambda m: _t(m).select(0, 0),
    "split-sizes": lambda m: _t(m, 5).split([2, 2]),
    "chunk-zero": lambda m: _t(m, 5).chunk(0),
    "repeat-fewer": lambda m: _t(m, 2, 3).repeat(2),
    "flip-dim": lambda m: _t(m, 2, 3).flip(2),
    "t-3d": lambda m: _t(m, 2, 3, 4).t(),
    "flatten-order": lambda m: _t(m, 2, 3, 4).flatten(2, 1),
    # indexing
    "getitem-int": lambda m: _t(m, 3)[3],
    "getitem-neg": lambda m: _t(m, 3, 2)[:, -3],
    "getitem-tensor-oob": lambda m: _t(m, 3)[m.tensor([0, 5])],
    "getitem-float-index": lambda m: _t(m, 3)[m.tensor([0.0])],
    "getitem-too-many": lambda m: _t(m, 3)[0, 0],
    "getitem-0d": lambda m: _t(m)[0],
    "getitem-mask-shape": lambda m: _t(m, 3, 2)[m.tensor([True, False])],
    "setitem-shape": lambda m: _t(m, 3, 2).__setitem__(0, _t(m, 3)),
    # reductions
    "sum-dim": lambda m: _t(m, 2, 3).sum(2),
    "sum-dim-dup": lambda m: _t(m, 2, 3).sum((0, 0)),
    "mean-int": lambda m: _t(m, 2, 3, dtype="int64").mean(),
    "max-empty": lambda m: _t(m, 0).max(),
    "max-dim-empty": lambda m: _t(m, 0, 3).max(0),
    "max-dim": lambda m: _t(m, 2, 3).max(-3),
    "argmax-dim": lambda m: _t(m, 2, 3).argmax(5),
    "cumsum-dim": lambda m: _t(m, 2, 3).cumsum(2),
    "var-dim": lambda m: _t(m, 2, 3).var(3),
    "logsumexp-dim": lambda m: m.logsumexp(_t(m, 2, 3), 2),
    # linalg
    "mm-shape": lambda m: m.mm(_t(m, 2, 3), _t(m, 4, 5)),
    "mm-1d": lambda m: m.mm(_t(m, 3), _t(m, 3, 2)),
    "mm-dtype": lambda m: m.mm(_t(m, 2, 3), _t(m, 3, 2, dtype="float64")),
    "matmul-shape": lambda m: _t(m, 2, 3) @ _t(m, 4, 5),
    "matmul-0d": lambda m: m.matmul(_t(m), _t(m, 3)),
    "matmul-batch": lambda m: m.matmul(_t(m, 2, 2, 3), _t(m, 3, 3, 4)),
    "matmul-dtype": lambda m: _t(m, 2, 3) @ _t(m, 3, 2, dtype="int64"),
    "bmm-2d": lambda m: m.bmm(_t(m, 2, 3), _t(m, 3, 2)),
    "bmm-batch": lambda m: m.bmm(_t(m, 2, 2, 3), _t(m, 3, 3, 2)),
    "dot-2d": lambda m: m.dot(_t(m, 2, 3), _t(m, 3)),
    "dot-size": lambda m: m.dot(_t(m, 3), _t(m, 4)),
    "mv-shape": lambda m: m.mv(_t(m, 2, 3), _t(m, 4)),
    "linear-shape": lambda m: m.nn.functional.linear(_t(m, 2, 3), _t(m, 4, 5)),
    "addmm-shape": lambda m: m.addmm(_t(m, 2, 2), _t(m, 2, 3), _t(m, 2, 2)),
    # autograd-related argument errors
    "int-requires-grad": lambda m: _t(m, 2, dtype="int64").requires_grad_(),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_error_type(name):
    fn = ERRORS[name]
    with pytest.raises(Exception) as te:
        fn(torch)
    with pytest.raises(Exception) as ee:
        fn(ember)
    assert type(ee.value) is type(te.value) or isinstance(ee.value, type(te.value)), \
        f"ember raised {type(ee.value).__name__}: {ee.value}; torch {type(te.value).__name__}: {te.value}"
    assert str(ee.value).split("\n")[0] == str(te.value).split("\n")[0], "PyTorch's message"


# ---------------------------------------------------------------------------------------------
def test_every_public_op_has_an_entry():
    from ember.ops import elementwise, linalg, reduce, shape

    names = covered_names()
    missing = [f"{mod.__name__}.{n}" for mod in (elementwise, shape, reduce, linalg) for n in mod.__all__
               if n not in names and n not in EXCLUDED]
    assert not missing, f"ops without an entry in tests/opinfo.py: {missing}"


def test_excluded_names_exist():
    from ember.ops import elementwise, linalg, reduce, shape

    public = {n for mod in (elementwise, shape, reduce, linalg) for n in mod.__all__}
    assert set(EXCLUDED) <= public, set(EXCLUDED) - public


# Functions that no table entry reaches (directly, or in the graph of its gradient), and why.
UNREACHED_FUNCTIONS: dict = {}


def test_every_function_is_reached():
    """Every Function class in the four modules shows up in a graph the table builds: in the forward
    graph of some entry, or in the graph of its first-order gradient (create_graph=True)."""
    import inspect

    from ember.autograd.function import Function
    from ember.ops import elementwise, linalg, reduce, shape

    def walk(roots, seen):
        stack = [t.grad_fn for t in roots if t is not None and t.grad_fn is not None]
        while stack:
            n = stack.pop()
            if n is None or id(n) in seen:
                continue
            seen[id(n)] = n
            stack.extend(nxt for nxt, _ in n.next_functions)

    reached = set()
    for info in OPS:
        if not info.supports_grad or "float64" not in info.dtypes:
            continue
        for case in cases(info, "float64")[:4]:
            if not any(case.grad_mask()):
                continue
            with np.errstate(all="ignore"):
                leaves, out = run(info, case, ember, True)
                outs = _diff_outputs(out, ember)
                if not outs:
                    continue
                gos = [ember.ones(o.shape, dtype=o.dtype, requires_grad=True) for o in outs]
                ins = [x for x in leaves if x.requires_grad]
                gs = ember.autograd.grad(outs, ins, gos, create_graph=True, allow_unused=True)
            seen = {}
            walk(outs + [g for g in gs if g is not None], seen)
            reached.update(f"{c.__module__}.{c.__qualname__}" for n in seen.values()
                           if getattr(n, "_fn", None) is not None for c in n._fn.__mro__)
    defined = {f"{mod.__name__}.{name}" for mod in (elementwise, shape, reduce, linalg)
               for name, obj in vars(mod).items()
               if inspect.isclass(obj) and issubclass(obj, Function) and obj.__module__ == mod.__name__
               and "forward" in vars(obj)}
    missing = sorted(defined - reached - set(UNREACHED_FUNCTIONS))
    assert not missing, f"Functions no table entry reaches: {missing}"
