"""Property tests: hypothesis draws shapes (broadcasting pairs, dims, keepdim, permutations, splits) and
every result and gradient is compared with PyTorch's."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ember

torch = pytest.importorskip("torch")

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True)
DTYPES = st.sampled_from(["float32", "float64"])


def _close(e, t, dtype, what=""):
    ev, tv = e._data, t.detach().numpy()
    assert ev.shape == tv.shape, (what, ev.shape, tv.shape)
    assert str(e.dtype) == str(t.dtype), (what, e.dtype, t.dtype)
    tol = 1e-4 if dtype == "float32" else 1e-9
    np.testing.assert_allclose(ev, tv, rtol=tol, atol=tol, err_msg=what)


def check(fn, arrays, dtype, seed=0, grad=True):
    """``fn(m, *tensors)`` under torch and ember: outputs, then input gradients for a random grad_output."""
    te = [torch.from_numpy(a.copy()).requires_grad_(grad) for a in arrays]
    ee = [ember.from_numpy(a.copy()).requires_grad_(grad) for a in arrays]
    with np.errstate(all="ignore"):
        tout, eout = fn(torch, *te), fn(ember, *ee)
    touts = list(tout) if isinstance(tout, (tuple, list)) else [tout]
    eouts = list(eout) if isinstance(eout, (tuple, list)) else [eout]
    assert len(touts) == len(eouts)
    for i, (e, t) in enumerate(zip(eouts, touts)):
        _close(e, t, dtype, f"output {i}")
    if not grad:
        return
    rng = np.random.default_rng(seed)
    pairs = [(e, t) for e, t in zip(eouts, touts) if t.requires_grad]
    if not pairs:
        return
    gos = [rng.standard_normal(tuple(t.shape)).astype(dtype) for _, t in pairs]
    with np.errstate(all="ignore"):
        gt = torch.autograd.grad([t for _, t in pairs], te, [torch.from_numpy(g) for g in gos], allow_unused=True)
        ge = ember.autograd.grad([e for e, _ in pairs], ee, [ember.from_numpy(g) for g in gos], allow_unused=True)
    for i, (a, b) in enumerate(zip(ge, gt)):
        if b is None:
            assert a is None or not a._data.any()
            continue
        if a is None and b.numel() == 0:
            continue  # cat's legacy skip of 1-D empty tensors: ember leaves them out of the graph
        assert a is not None, f"no gradient for input {i}"
        _close(a, b, dtype, f"grad {i}")


def values(shape, dtype, seed, low=-2.0, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, shape).astype(dtype)


# ---------------------------------------------------------------------------------------------
BINARY = {
    "add": lambda m, a, b: a + b,
    "sub": lambda m, a, b: m.sub(a, b, alpha=2),
    "mul": lambda m, a, b: a * b,
    "div": lambda m, a, b: a / (b.abs() + 0.5),
    "pow": lambda m, a, b: (a.abs() + 0.5) ** b,
    "maximum": lambda m, a, b: m.maximum(a, b),
    "atan2": lambda m, a, b: m.atan2(a, b),
    "where": lambda m, a, b: m.where(a > b, a, b * 2),
    "lerp": lambda m, a, b: m.lerp(a, b, 0.3),
}


@pytest.mark.parametrize("name", list(BINARY))
@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4),
       dtype=DTYPES, seed=st.integers(0, 2 ** 16))
def test_binary_broadcasting(name, shapes, dtype, seed):
    a, b = shapes.input_shapes
    check(BINARY[name], [values(a, dtype, seed), values(b, dtype, seed + 1)], dtype, seed)


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
       da=st.sampled_from(["bool", "uint8", "int32", "int64", "float32", "float64"]),
       db=st.sampled_from(["bool", "int16", "int64", "float16", "float32", "float64"]),
       scalar=st.sampled_from([None, 2, 2.5, True]))
def test_binary_promotion(shapes, da, db, scalar):
    a, b = shapes.input_shapes
    rng = np.random.default_rng(0)
    xa = (rng.integers(0, 3, a) if da != "bool" else rng.integers(0, 2, a)).astype(da)
    xb = (rng.integers(1, 3, b)).astype(db)
    for op in ("add", "mul", "div", "lt"):
        def fn(m, x, y, op=op):
            return getattr(m, op)(x, y if scalar is None else scalar)
        te, ee = fn(torch, torch.from_numpy(xa), torch.from_numpy(xb)), fn(ember, ember.from_numpy(xa),
                                                                         ember.from_numpy(xb))
        assert str(ee.dtype) == str(te.dtype), (op, da, db, scalar)
        np.testing.assert_allclose(ee._data.astype(np.float64), te.numpy().astype(np.float64), rtol=1e-3)


UNARY = {
    "exp": lambda m, x: x.exp(), "log": lambda m, x: (x.abs() + 0.1).log(), "tanh": lambda m, x: x.tanh(),
    "sigmoid": lambda m, x: x.sigmoid(), "sqrt": lambda m, x: (x.abs() + 0.1).sqrt(), "abs": lambda m, x: x.abs(),
    "relu": lambda m, x: x.relu(), "clamp": lambda m, x: x.clamp(-0.5, 0.7), "sin": lambda m, x: x.sin(),
    "square": lambda m, x: x.square(), "neg": lambda m, x: -x, "rsub": lambda m, x: 1 - x,
}


@pytest.mark.parametrize("name", list(UNARY))
@SETTINGS
@given(shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4), dtype=DTYPES,
       seed=st.integers(0, 2 ** 16), transpose=st.booleans())
def test_unary(name, shape, dtype, seed, transpose):
    fn = UNARY[name]
    if transpose and len(shape) >= 2:
        check(lambda m, x: fn(m, x.transpose(0, -1)), [values(shape, dtype, seed)], dtype, seed)
    else:
        check(fn, [values(shape, dtype, seed)], dtype, seed)


# ---------------------------------------------------------------------------------------------
@st.composite
def shape_and_dims(draw, min_dims=0, allow_tuple=True):
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=4, min_side=1, max_side=4))
    nd = len(shape)
    kind = draw(st.sampled_from(["none", "int", "tuple"] if allow_tuple else ["none", "int"]))
    if kind == "none" or nd == 0:
        dim = None if kind == "none" or nd == 0 and kind == "tuple" else draw(st.sampled_from([0, -1]))
    elif kind == "int":
        dim = draw(st.integers(-nd, nd - 1))
    else:
        dims = draw(st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True))
        dim = tuple(d - nd if draw(st.booleans()) else d for d in dims)
    return shape, dim, draw(st.booleans())


REDUCTIONS = {
    "sum": lambda m, x, d, k: x.sum() if d is None else x.sum(d, keepdim=k),
    "mean": lambda m, x, d, k: x.mean() if d is None else x.mean(d, keepdim=k),
    "prod": lambda m, x, d, k: x.prod() if d is None else x.prod(d if isinstance(d, int) else d[0], keepdim=k),
    "amax": lambda m, x, d, k: x.amax() if d is None else x.amax(d, keepdim=k),
    "amin": lambda m, x, d, k: x.amin() if d is None else x.amin(d, keepdim=k),
    "logsumexp": lambda m, x, d, k: m.logsumexp(x, d if d is not None else tuple(range(x.dim())), keepdim=k),
    "var": lambda m, x, d, k: x.var(d, keepdim=k, correction=0),
    "std": lambda m, x, d, k: x.std(d, keepdim=k, correction=0) + 0.0,
    "norm": lambda m, x, d, k: x.norm(dim=d, keepdim=k) if d is not None else x.norm(),
    "max_dim": lambda m, x, d, k: x.max() if d is None else x.max(d if isinstance(d, int) else d[0], keepdim=k),
    "min_dim": lambda m, x, d, k: x.min() if d is None else x.min(d if isinstance(d, int) else d[0], keepdim=k),
    "argmax": lambda m, x, d, k: (x.argmax() if d is None else x.argmax(d if isinstance(d, int) else d[0],
                                                                        keepdim=k)).float(),
    "cumsum": lambda m, x, d, k: x.cumsum(0 if d is None else d if isinstance(d, int) else d[0]),
}


@pytest.mark.parametrize("name", list(REDUCTIONS))
@SETTINGS
@given(sdk=shape_and_dims(), dtype=DTYPES, seed=st.integers(0, 2 ** 16))
def test_reductions(name, sdk, dtype, seed):
    shape, dim, keepdim = sdk
    fn = REDUCTIONS[name]
    low = 0.5 if name == "prod" else -2.0
    check(lambda m, x: fn(m, x, dim, keepdim), [values(shape, dtype, seed, low=low)], dtype, seed)


# ---------------------------------------------------------------------------------------------
@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=5, max_side=4), data=st.data(), dtype=DTYPES)
def test_permute_transpose_reshape(shape, data, dtype):
    nd = len(shape)
    perm = data.draw(st.permutations(range(nd)))
    d0, d1 = data.draw(st.integers(-nd, nd - 1)), data.draw(st.integers(-nd, nd - 1))
    n = int(np.prod(shape))
    split = data.draw(st.sampled_from([s for s in range(1, n + 1) if n % s == 0] or [1]))

    def fn(m, x):
        y = x.permute(*perm).transpose(d0, d1)
        return y.reshape(split, -1) * 2, y.flatten(), y.contiguous().view(-1, split)
    check(fn, [values(shape, dtype, 0)], dtype)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, max_side=4), data=st.data(), dtype=DTYPES)
def test_squeeze_unsqueeze_flatten_expand(shape, data, dtype):
    nd = len(shape)
    start = data.draw(st.integers(-nd, nd - 1))
    end = data.draw(st.integers(start % nd, nd - 1))
    u = data.draw(st.integers(-nd - 1, nd))
    lead = data.draw(st.integers(1, 3))
    ones = tuple(1 if data.draw(st.booleans()) else s for s in shape)

    def fn(m, x):
        return (x.flatten(start, end), x.unsqueeze(u).squeeze(u), x.reshape(ones) if ones == shape else x.squeeze(),
                x.unsqueeze(0).expand(lead, *shape) * 3)
    check(fn, [values(shape, dtype, 1)], dtype)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, max_side=4), data=st.data(), dtype=DTYPES)
def test_cat_stack_split_chunk(shape, data, dtype):
    nd = len(shape)
    dim = data.draw(st.integers(-nd, nd - 1))
    sizes = data.draw(st.lists(st.integers(0, 3), min_size=1, max_size=3))
    parts = [tuple(s if i != dim % nd else k for i, s in enumerate(shape)) for k in sizes]
    arrays = [values(p, dtype, i) for i, p in enumerate(parts)]
    split = data.draw(st.integers(1, 4))

    def fn(m, *xs):
        c = m.cat(xs, dim)
        return (c * 2, *c.split(split, dim), *c.chunk(split, dim), m.stack([x * 1 for x in xs[:1]] * 2, dim))
    check(fn, arrays, dtype)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), data=st.data(), dtype=DTYPES)
def test_indexing(shape, data, dtype):
    nd = len(shape)
    idx = []
    for s in shape:
        kind = data.draw(st.sampled_from(["slice", "int", "all"]))
        if kind == "int":
            idx.append(data.draw(st.integers(-s, s - 1)))
        elif kind == "slice":
            a = data.draw(st.integers(-s, s))
            b = data.draw(st.integers(-s, s))
            idx.append(slice(a, b, data.draw(st.integers(1, 3))))
        else:
            idx.append(slice(None))
    idx = tuple(idx)
    rows = data.draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=1, max_size=5))
    del nd

    def fn(m, x):
        return x[idx] * 2, x[m.tensor(rows)] * 3, x[x > 0] * 1
    check(fn, [values(shape, dtype, 2)], dtype)


@SETTINGS
@given(shapes=st.sampled_from([((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((2, 2, 3), (3,)),
                               ((3,), (2, 3, 4)), ((2, 1, 2, 3), (4, 3, 5)), ((1, 2, 3), (2, 3, 2))]),
       transpose=st.booleans(), dtype=DTYPES, seed=st.integers(0, 100))
def test_matmul(shapes, transpose, dtype, seed):
    a, b = shapes

    def fn(m, x, y):
        if transpose and y.dim() >= 2:
            y = y.transpose(-1, -2).contiguous().transpose(-1, -2)
        return x @ y
    check(fn, [values(a, dtype, seed), values(b, dtype, seed + 1)], dtype, seed)


INPLACE = {
    "mul_": lambda v, b: v.mul_(b),
    "add_": lambda v, b: v.add_(b, alpha=2),
    "exp_": lambda v, b: v.exp_(),
    "copy_": lambda v, b: v.copy_(b * 3),
    "zero_": lambda v, b: v.zero_(),
    "setitem": lambda v, b: v.__setitem__(Ellipsis, b.sin()),
}


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=4), data=st.data(), dtype=DTYPES)
def test_inplace_on_random_views(shape, data, dtype):
    """An in-place op on a random view (slices with steps, selects, a transpose) of a non-leaf; the
    base and an older view are used afterwards: values and gradients as PyTorch's."""
    idx = []
    for s in shape:
        kind = data.draw(st.sampled_from(["slice", "int", "all"]))
        if kind == "int":
            idx.append(data.draw(st.integers(-s, s - 1)))
        elif kind == "slice":
            a = data.draw(st.integers(0, s - 1))
            idx.append(slice(a, data.draw(st.integers(a + 1, s)), data.draw(st.integers(1, 2))))
        else:
            idx.append(slice(None))
    idx = tuple(idx)
    transpose = data.draw(st.booleans())
    op = data.draw(st.sampled_from(sorted(INPLACE)))

    def fn(m, x):
        y = x * 1
        old = y.flatten()[: max(1, y.numel() // 2)]        # a view taken before the in-place op
        v = y.transpose(0, -1) if transpose and y.dim() >= 2 else y
        v = v[idx if not (transpose and y.dim() >= 2) else idx[::-1]]
        b = (v.detach() * 0 + 0.5) if v.dim() else m.tensor(0.5, dtype=v.dtype)
        INPLACE[op](v, b)
        return y * 2, old * 3, v + 1
    check(fn, [values(shape, dtype, 3)], dtype)
