"""gather/scatter, index_*, masked_*, take, take_along_dim, nonzero against PyTorch: values, dtypes,
gradients with a random grad_output, double backward, in-place forms and error types.

The helpers ``check`` and ``raises_like`` are shared with test_sorting.py and test_linalg_decomp.py."""
import numpy as np
import pytest

import ember
from conftest import assert_close

torch = pytest.importorskip("torch")


class C:
    """A tensor argument that never requires grad (indices, masks, integer data)."""

    def __init__(self, a):
        self.a = np.asarray(a)


def _conv(args, lib):
    out = []
    for a in args:
        if isinstance(a, (C, np.ndarray)):
            arr = a.a if isinstance(a, C) else a
            t = ember.from_numpy(arr.copy()) if lib == "e" else torch.from_numpy(arr.copy())
            if isinstance(a, np.ndarray) and a.dtype.kind == "f":
                t.requires_grad_()
            out.append(t)
        else:
            out.append(a)
    return out


def _flat(r):
    return list(r) if isinstance(r, (tuple, list)) else [r]


def check(fe, ft, *args, grad=True, rtol=1e-5, atol=1e-6, seed=0, grad_outputs=None):
    """Compare fe(*args) with ft(*args): values, dtypes, shapes; then the gradients of every float
    ndarray argument for a random grad_output on each float output."""
    ea, ta = _conv(args, "e"), _conv(args, "t")
    re, rt = _flat(fe(*ea)), _flat(ft(*ta))
    assert len(re) == len(rt)
    for e, t in zip(re, rt):
        if isinstance(t, torch.Tensor):
            assert_close(e, t, rtol=rtol, atol=atol)
        else:
            assert e == t
    if not grad:
        return ea, ta, re, rt
    pairs = [(e, t) for e, t in zip(re, rt) if isinstance(t, torch.Tensor) and t.requires_grad]
    tin = [a for a in ta if isinstance(a, torch.Tensor) and a.requires_grad]
    if not pairs or not tin:
        return ea, ta, re, rt
    rng = np.random.default_rng(seed)
    gos = grad_outputs or [rng.standard_normal(tuple(t.shape)).astype(t.detach().numpy().dtype) for _, t in pairs]
    ein = [a for a in ea if isinstance(a, ember.Tensor) and a.requires_grad]
    tg = torch.autograd.grad([t for _, t in pairs], tin, [torch.from_numpy(g) for g in gos], allow_unused=True)
    # An output torch marks differentiable but ember does not (slogdet's sign) must contribute zero.
    ekeep = [(e, g) for (e, _), g in zip(pairs, gos) if e.requires_grad]
    eg = ember.autograd.grad([e for e, _ in ekeep], ein, [ember.from_numpy(g) for _, g in ekeep], allow_unused=True)
    for e, t in zip(eg, tg):
        if t is None:
            assert e is None or not np.any(e._data)
        else:
            assert e is not None, "ember gave no gradient where torch did"
            assert_close(e, t, rtol=rtol * 10, atol=atol * 10)
    return ea, ta, re, rt


def raises_like(fe, ft, *args, match=True):
    """ember raises the same exception type as torch, with the same first line of message if match."""
    ea, ta = _conv(args, "e"), _conv(args, "t")
    with pytest.raises(Exception) as ti:
        ft(*ta)
    with pytest.raises(Exception) as ei:
        fe(*ea)
    assert type(ei.value) is type(ti.value), f"{ei.value!r} != torch {ti.value!r}"
    if match:
        assert str(ei.value).split("\n")[0] == str(ti.value).split("\n")[0]


def gradgrad(fn, *inputs):
    """float64 finite-difference checks of the first and second derivatives."""
    xs = [ember.from_numpy(np.asarray(x, np.float64).copy()).requires_grad_() for x in inputs]
    assert ember.autograd.gradcheck(fn, xs)
    assert ember.autograd.gradgradcheck(fn, xs)


rng = np.random.default_rng(1)


def randn(*s, dtype=np.float32):
    return rng.standard_normal(s).astype(dtype)


def idx(a):
    return C(np.array(a, dtype=np.int64))


# ---------------------------------------------------------------------------------------------
# gather / scatter / scatter_add
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_gather(dim):
    x = randn(3, 4)
    index = C(rng.integers(0, x.shape[dim], (2, 3)))
    check(lambda a, i: a.gather(dim, i), lambda a, i: a.gather(dim, i), x, index)
    check(lambda a, i: ember.gather(a, dim, i), lambda a, i: torch.gather(a, dim, i), x, index)


def test_gather_larger_along_dim_and_0d():
    x = randn(3, 4)
    check(lambda a, i: a.gather(1, i), lambda a, i: a.gather(1, i), x, C(rng.integers(0, 4, (3, 7))))
    check(lambda a, i: a.gather(0, i), lambda a, i: a.gather(0, i), randn(), C(np.array(0)))
    check(lambda a, i: a.gather(0, i), lambda a, i: a.gather(0, i), randn(5), C(np.array([4, 4, 0], np.int32)))


def test_gather_gradgrad():
    i = ember.tensor([[0, 0], [2, 1]])
    gradgrad(lambda a: a.gather(1, i) ** 2, randn(2, 3))


@pytest.mark.parametrize("args", [
    (randn(3, 4), 1, idx([5])),
    (randn(3, 4), 1, idx([[-1]])),
    (randn(3, 4), 1, idx(1)),
    (randn(3, 4), 1, C(np.zeros((4, 1), np.int64))),
    (randn(3, 4), 1, C(np.zeros((1, 1), np.float32))),
])
def test_gather_errors(args):
    raises_like(lambda *a: ember.gather(*a), lambda *a: torch.gather(*a), *args,
                match=args[2].a.dtype != np.float32)


@pytest.mark.parametrize("dim", [0, 1])
def test_scatter_src_and_value(dim):
    x = randn(3, 5)
    # Unique positions along dim (duplicates are unspecified in PyTorch); index (2, 3) smaller than x.
    cols = [rng.permutation(x.shape[dim])[:2 if dim == 0 else 3] for _ in range(2 if dim == 1 else 3)]
    index = C(np.stack(cols, 1 if dim == 0 else 0))
    src = randn(*index.a.shape)
    check(lambda a, i, s: a.scatter(dim, i, s), lambda a, i, s: a.scatter(dim, i, s), x, index, src)
    check(lambda a, i: a.scatter(dim, i, 2.5), lambda a, i: a.scatter(dim, i, 2.5), x, index)
    check(lambda a, i: ember.scatter(a, dim, i, value=-1.0), lambda a, i: torch.scatter(a, dim, i, value=-1.0),
          x, index)
    # src larger than index: forward only (PyTorch's own backward rejects it)
    check(lambda a, i, s: a.scatter(dim, i, s), lambda a, i, s: a.scatter(dim, i, s), x, index, randn(4, 6),
          grad=False)


def test_scatter_int_and_grad_fn_names():
    x = ember.zeros(2, 3, dtype=ember.int64)
    r = x.scatter(1, ember.tensor([[2], [0]]), ember.tensor([[7], [8]]))
    assert r.tolist() == [[0, 0, 7], [8, 0, 0]] and r.dtype == ember.int64
    y = ember.randn(2, 3, requires_grad=True)
    i = ember.tensor([[0], [1]])
    assert type(y.scatter(1, i, y).grad_fn).__name__ == "ScatterBackward0"
    assert type(y.scatter(1, i, 1.0).grad_fn).__name__ == "ScatterBackward1"
    assert type(y.scatter_add(1, i, y).grad_fn).__name__ == "ScatterAddBackward0"
    assert type(y.gather(1, i).grad_fn).__name__ == "GatherBackward0"


@pytest.mark.parametrize("dim", [0, 1, -2])
def test_scatter_add_duplicates(dim):
    x, src = randn(3, 4), randn(5, 4)
    index = C(rng.integers(0, x.shape[dim], (5, 4) if dim != 1 else (3, 4)))
    src = randn(*index.a.shape)
    check(lambda a, i, s: a.scatter_add(dim, i, s), lambda a, i, s: a.scatter_add(dim, i, s), x, index, src)
    check(lambda a, i, s: ember.scatter_add(a, dim, i, s), lambda a, i, s: torch.scatter_add(a, dim, i, s),
          x.astype(np.float64), index, src.astype(np.float64), rtol=1e-12)
    check(lambda a, i, s: a.scatter_add(dim, i, s), lambda a, i, s: a.scatter_add(dim, i, s), x, index,
          randn(5, 6), grad=False)


def test_scatter_add_gradgrad():
    i = ember.tensor([[0, 0, 1], [1, 1, 1]])
    gradgrad(lambda a, s: a.scatter_add(1, i, s) ** 2, randn(2, 3), randn(2, 3))
    gradgrad(lambda a, s: a.scatter(1, ember.tensor([[0, 2]]), s) ** 2, randn(2, 3), randn(1, 2))


@pytest.mark.parametrize("case", ["oob", "src_small", "dtype", "value_add"])
def test_scatter_errors(case):
    x = randn(3, 4)
    if case == "oob":
        raises_like(lambda a, i: a.scatter(1, i, 1.0), lambda a, i: a.scatter(1, i, 1.0), x, idx([[5]]))
    elif case == "src_small":
        raises_like(lambda a, i, s: a.scatter(1, i, s), lambda a, i, s: a.scatter(1, i, s), x,
                    C(np.zeros((3, 3), np.int64)), randn(2, 3))
    elif case == "dtype":
        raises_like(lambda a, i, s: a.scatter(1, i, s), lambda a, i, s: a.scatter(1, i, s), x,
                    C(np.zeros((2, 2), np.int64)), C(np.ones((2, 2))))
    else:
        raises_like(lambda a, i: a.scatter_add(1, i, 1.0), lambda a, i: a.scatter_add(1, i, 1.0), x,
                    C(np.zeros((2, 2), np.int64)))


def test_scatter_inplace():
    for lib in (ember, torch):
        x = lib.zeros(2, 4)
        r = x.scatter_(1, lib.tensor([[1, 3], [0, 0]]), lib.ones(2, 2))
        assert r is x
        x.scatter_add_(0, lib.tensor([[1, 1, 1, 1]]), lib.ones(1, 4))
        if lib is ember:
            xe = x
        else:
            assert_close(xe, x)
    # under autograd: the in-place result carries the gradient
    a = ember.randn(2, 3, requires_grad=True)
    b = a * 1
    b.scatter_(1, ember.tensor([[0], [2]]), 0.0)
    b.sum().backward()
    assert a.grad.tolist() == [[0, 1, 1], [1, 1, 0]]


# ---------------------------------------------------------------------------------------------
# index_select / index_add / index_copy / index_fill
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("dt", [np.int64, np.int32])
def test_index_select(dim, dt):
    x = randn(3, 4, 2)
    index = C(rng.integers(0, x.shape[dim], 5).astype(dt))
    check(lambda a, i: a.index_select(dim, i), lambda a, i: a.index_select(dim, i), x, index)
    check(lambda a, i: ember.index_select(a, dim, i), lambda a, i: torch.index_select(a, dim, i), x,
          C(np.array(1, dt)))


def test_index_select_gradgrad_and_name():
    i = ember.tensor([0, 2, 0])
    gradgrad(lambda a: a.index_select(0, i) ** 2, randn(3, 2))
    y = ember.randn(3, requires_grad=True)
    assert type(y.index_select(0, i).grad_fn).__name__ == "IndexSelectBackward0"


@pytest.mark.parametrize("args", [
    (randn(3, 4), 0, idx([[0]])),
    (randn(3, 4), 0, C(np.array([0.0]))),
    (randn(3, 4), 0, idx([3])),
    (randn(3, 4), 0, idx([-1])),
    (randn(3, 4), 2, idx([0])),
    (randn(), 0, idx([0, 0])),
])
def test_index_select_errors(args):
    raises_like(lambda *a: ember.index_select(*a), lambda *a: torch.index_select(*a), *args)


@pytest.mark.parametrize("dim", [0, 1])
def test_index_add(dim):
    x = randn(3, 4)
    n = 6
    index = C(rng.integers(0, x.shape[dim], n))
    src = randn(n, 4) if dim == 0 else randn(3, n)
    check(lambda a, i, s: a.index_add(dim, i, s), lambda a, i, s: a.index_add(dim, i, s), x, index, src)
    check(lambda a, i, s: ember.index_add(a, dim, i, s, alpha=-2.0),
          lambda a, i, s: torch.index_add(a, dim, i, s, alpha=-2.0), x, C(index.a.astype(np.int32)), src)
    gradgrad(lambda a, s: a.index_add(dim, ember.from_numpy(index.a), s) ** 2, x, src)


@pytest.mark.parametrize("dim", [0, 1])
def test_index_copy_and_fill(dim):
    x = randn(3, 4)
    index = C(rng.permutation(x.shape[dim])[:2])
    src = randn(2, 4) if dim == 0 else randn(3, 2)
    check(lambda a, i, s: a.index_copy(dim, i, s), lambda a, i, s: a.index_copy(dim, i, s), x, index, src)
    check(lambda a, i: a.index_fill(dim, i, -3.0), lambda a, i: a.index_fill(dim, i, -3.0), x, index)
    check(lambda a, i, v: a.index_fill(dim, i, v), lambda a, i, v: a.index_fill(dim, i, v), x,
          C(np.array([0, 0, 2])), randn())
    check(lambda a, i: a.index_fill(dim, i, 1.0), lambda a, i: a.index_fill(dim, i, 1.0), x,
          C(np.array([0, -1])), grad=False)  # PyTorch's backward rejects negative indices
    xi = C(rng.integers(0, 9, (3, 4)))
    check(lambda a, i: a.index_fill(dim, i, 7), lambda a, i: a.index_fill(dim, i, 7), xi, index)


@pytest.mark.parametrize("case", ["add_oob", "add_shape", "add_count", "add_float_idx", "copy_int32", "copy_oob",
                                  "fill_int32", "fill_oob", "fill_1d_value"])
def test_index_op_errors(case):
    x = randn(3, 4)
    e, t = {
        "add_oob": ("index_add", (0, idx([0, 5]), randn(2, 4))),
        "add_shape": ("index_add", (0, idx([0, 1]), randn(2, 3))),
        "add_count": ("index_add", (0, idx([0, 1]), randn(3, 4))),
        "add_float_idx": ("index_add", (0, C(np.array([0.0])), randn(1, 4))),
        "copy_int32": ("index_copy", (0, C(np.array([0, 1], np.int32)), randn(2, 4))),
        "copy_oob": ("index_copy", (0, idx([0, 7]), randn(2, 4))),
        "fill_int32": ("index_fill", (0, C(np.array([0], np.int32)), 2.0)),
        "fill_oob": ("index_fill", (0, idx([0, 7]), 2.0)),
        "fill_1d_value": ("index_fill", (0, idx([0]), C(np.array([2.0], np.float32)))),
    }[case]
    raises_like(lambda a, *r: getattr(a, e)(*r), lambda a, *r: getattr(a, e)(*r), x, *t,
                match=case not in ("add_float_idx",))


def test_index_inplace():
    for lib in (ember, torch):
        x = lib.zeros(3, 2)
        assert x.index_add_(0, lib.tensor([0, 0, 2]), lib.ones(3, 2)) is x
        x.index_fill_(1, lib.tensor([1]), -1.0)
        x.index_copy_(0, lib.tensor([1]), lib.full((1, 2), 5.0))
        if lib is ember:
            xe = x
    assert_close(xe, x)
    a = ember.randn(3, 2, requires_grad=True)
    b = a * 2
    b.index_fill_(0, ember.tensor([1]), 0.0)
    b.sum().backward()
    assert a.grad.tolist() == [[2, 2], [0, 0], [2, 2]]


# ---------------------------------------------------------------------------------------------
# masked_fill / masked_select / masked_scatter
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 4), (4,)), ((4,), (2, 3, 4)), ((3, 1), (1, 5))])
def test_masked_fill_broadcast(shapes):
    x, m = randn(*shapes[0]), C(rng.random(shapes[1]) > 0.5)
    check(lambda a, k: a.masked_fill(k, 0.5), lambda a, k: a.masked_fill(k, 0.5), x, m)
    check(lambda a, k, v: ember.masked_fill(a, k, v), lambda a, k, v: torch.masked_fill(a, k, v), x, m, randn())
    check(lambda a, k: a.masked_fill(k, float("-inf")), lambda a, k: a.masked_fill(k, float("-inf")), x, m,
          grad=False)


def test_masked_fill_dtypes_and_gradgrad():
    check(lambda a, k: a.masked_fill(k, 2.7), lambda a, k: a.masked_fill(k, 2.7), C(np.arange(4)),
          C(np.array([True, False, True, False])))
    check(lambda a, k, v: a.masked_fill(k, v), lambda a, k, v: a.masked_fill(k, v), randn(2, 3),
          C(np.array([True, False, True])), randn(dtype=np.float64))
    m = ember.tensor([True, False, True])
    gradgrad(lambda a: a.masked_fill(m, 1.0) ** 2, randn(2, 3))
    gradgrad(lambda a, v: a.masked_fill(m, v) * a, randn(2, 3), randn())


@pytest.mark.parametrize("mask_dtype", [np.float32, np.uint8, np.int64])
def test_masked_fill_requires_bool(mask_dtype):
    raises_like(lambda a, k: a.masked_fill(k, 1.0), lambda a, k: a.masked_fill(k, 1.0), randn(3),
                C(np.ones(3, mask_dtype)), match=mask_dtype != np.int64)


def test_masked_fill_errors_and_inplace():
    raises_like(lambda a, k, v: a.masked_fill(k, v), lambda a, k, v: a.masked_fill(k, v), randn(3),
                C(np.ones(3, bool)), C(np.ones(1, np.float32)))
    raises_like(lambda a, k: a.masked_fill(k, 1.0), lambda a, k: a.masked_fill(k, 1.0), randn(3),
                C(np.ones(4, bool)), match=False)
    raises_like(lambda a, k: a.clone().masked_fill_(k, 1.0), lambda a, k: a.clone().masked_fill_(k, 1.0), randn(3),
                C(np.ones((2, 3), bool)))
    for lib in (ember, torch):
        x = lib.arange(6.0).reshape(2, 3)
        assert x.masked_fill_(x > 2, -1.0) is x
        if lib is ember:
            xe = x
    assert_close(xe, x)


@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 4), (4,)), ((4,), (2, 3, 4))])
def test_masked_select(shapes):
    x, m = randn(*shapes[0]), C(rng.random(shapes[1]) > 0.4)
    check(lambda a, k: a.masked_select(k), lambda a, k: a.masked_select(k), x, m)
    check(lambda a, k: ember.masked_select(a, k), lambda a, k: torch.masked_select(a, k), x, m)
    raises_like(lambda a, k: a.masked_select(k), lambda a, k: a.masked_select(k), x, C(m.a.astype(np.float32)))
    k = ember.from_numpy(m.a)
    gradgrad(lambda a: a.masked_select(k) ** 2, x)


@pytest.mark.parametrize("shapes", [((3, 4), (3, 4), (12,)), ((3, 4), (4,), (4, 5)), ((3, 1), (3, 4), (15,))])
def test_masked_scatter(shapes):
    x, m, s = randn(*shapes[0]), C(rng.random(shapes[1]) > 0.4), randn(*shapes[2])
    check(lambda a, k, src: a.masked_scatter(k, src), lambda a, k, src: a.masked_scatter(k, src), x, m, s)
    k = ember.from_numpy(m.a)
    gradgrad(lambda a, src: a.masked_scatter(k, src) ** 2, x, s)


def test_masked_scatter_errors_and_inplace():
    raises_like(lambda a, k, s: a.masked_scatter(k, s), lambda a, k, s: a.masked_scatter(k, s), randn(3, 4),
                C(np.ones((3, 4), bool)), randn(5))
    raises_like(lambda a, k, s: a.masked_scatter(k, s), lambda a, k, s: a.masked_scatter(k, s), randn(3, 4),
                C(np.ones((3, 4), bool)), randn(12, dtype=np.float64))
    raises_like(lambda a, k, s: a.masked_scatter(k, s), lambda a, k, s: a.masked_scatter(k, s), randn(3, 4),
                C(np.ones((3, 4), np.float32)), randn(12))
    for lib in (ember, torch):
        x = lib.zeros(2, 3)
        assert x.masked_scatter_(lib.tensor([True, False, True]), lib.arange(1.0, 7.0)) is x
        if lib is ember:
            xe = x
    assert_close(xe, x)


# ---------------------------------------------------------------------------------------------
# take / take_along_dim / nonzero / argwhere
def test_take():
    x = randn(3, 4)
    check(lambda a, i: a.take(i), lambda a, i: a.take(i), x, idx([[0, -1, 5], [5, 5, 11]]))
    check(lambda a, i: ember.take(a, i), lambda a, i: torch.take(a, i), x.T.copy(), idx(3))
    gradgrad(lambda a: a.take(ember.tensor([0, 0, 3])) ** 2, x)
    for bad in ([12], [-13]):
        raises_like(lambda a, i: a.take(i), lambda a, i: a.take(i), x, idx(bad))
    raises_like(lambda a, i: a.take(i), lambda a, i: a.take(i), x, C(np.array([1], np.int32)))


@pytest.mark.parametrize("xs,ishape,dim", [((3, 4), (3, 1), 1), ((3, 4), (1, 2), 1), ((1, 4), (3, 2), 1),
                                           ((3, 4), (5,), None), ((3, 4, 2), (3, 2, 1), -2)])
def test_take_along_dim(xs, ishape, dim):
    x = randn(*xs)
    n = x.size if dim is None else xs[dim]
    i = C(rng.integers(0, n, ishape))
    check(lambda a, k: ember.take_along_dim(a, k, dim), lambda a, k: torch.take_along_dim(a, k, dim), x, i)
    check(lambda a, k: a.take_along_dim(k, dim=dim), lambda a, k: a.take_along_dim(k, dim=dim), x, i)


def test_take_along_dim_with_argsort_and_errors():
    x = randn(4, 5)
    check(lambda a: ember.take_along_dim(a, a.argmax(1, keepdim=True), 1),
          lambda a: torch.take_along_dim(a, a.argmax(1, keepdim=True), 1), x)
    raises_like(lambda a, k: ember.take_along_dim(a, k, 1), lambda a, k: torch.take_along_dim(a, k, 1), x,
                C(np.zeros((1, 1), np.int32)))
    raises_like(lambda a, k: ember.take_along_dim(a, k, 1), lambda a, k: torch.take_along_dim(a, k, 1), x, idx(0))


@pytest.mark.parametrize("a", [np.array([[0, 1.5, 0], [2, 0, -1]]), np.array(3.0), np.array(0.0), np.zeros((2, 0)),
                               np.array([True, False, True])])
def test_nonzero_argwhere(a):
    check(lambda x: ember.nonzero(x), lambda x: torch.nonzero(x), C(a))
    check(lambda x: x.nonzero(as_tuple=True), lambda x: x.nonzero(as_tuple=True), C(a))
    check(lambda x: ember.argwhere(x), lambda x: torch.argwhere(x), C(a))


@pytest.mark.parametrize("name,fn", [
    ("gather", lambda a, L: a.gather(1, L.tensor([[0], [1]]))),
    ("scatter", lambda a, L: a.scatter(1, L.tensor([[0], [1]]), a)),
    ("scatter_value", lambda a, L: a.scatter(1, L.tensor([[0], [1]]), 1.0)),
    ("scatter_add", lambda a, L: a.scatter_add(0, L.tensor([[0, 1, 1]]), a)),
    ("index_select", lambda a, L: a.index_select(1, L.tensor([2, 0]))),
    ("index_add", lambda a, L: a.index_add(0, L.tensor([1]), a[:1])),
    ("index_copy", lambda a, L: a.index_copy(0, L.tensor([1]), a[:1])),
    ("index_fill", lambda a, L: a.index_fill(0, L.tensor([1]), 2.0)),
    ("index_fill_t", lambda a, L: a.index_fill(0, L.tensor([1]), a[0, 0])),
    ("masked_fill", lambda a, L: a.masked_fill(a > 0, 0.0)),
    ("masked_fill_t", lambda a, L: a.masked_fill(a > 0, a[0, 0])),
    ("masked_select", lambda a, L: a.masked_select(a > 0)),
    ("masked_scatter", lambda a, L: a.masked_scatter(a > 0, a)),
    ("take", lambda a, L: a.take(L.tensor([0, 5]))),
    ("take_along_dim", lambda a, L: L.take_along_dim(a, L.tensor([[0], [2]]), 1)),
])
def test_grad_fn_names(name, fn):
    x = randn(2, 3)
    e = fn(ember.from_numpy(x.copy()).requires_grad_(), ember)
    t = fn(torch.from_numpy(x.copy()).requires_grad_(), torch)
    assert e.grad_fn.name() == t.grad_fn.name()


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce(reduce, include_self):
    x = randn(3, 5)
    index = C(rng.integers(0, 5, (3, 4)))
    src = randn(3, 4)
    check(lambda a, i, s: a.scatter_reduce(1, i, s, reduce, include_self=include_self),
          lambda a, i, s: a.scatter_reduce(1, i, s, reduce, include_self=include_self), x, index, src, rtol=1e-4)
    # ties (amax/amin share the gradient among equal values), float64
    xt, st = rng.integers(0, 3, (4, 3)).astype(np.float64), rng.integers(0, 3, (5, 3)).astype(np.float64) + 1
    check(lambda a, i, s: ember.scatter_reduce(a, 0, i, s, reduce, include_self=include_self),
          lambda a, i, s: torch.scatter_reduce(a, 0, i, s, reduce, include_self=include_self), xt + 1,
          C(rng.integers(0, 4, (5, 3))), st)
    if reduce != "prod":
        i = ember.tensor([[0, 0, 2], [1, 1, 1]])
        gradgrad(lambda a, s: a.scatter_reduce(1, i, s, reduce, include_self=include_self) ** 2, randn(2, 3),
                 randn(2, 3))


def test_scatter_reduce_int_errors_and_legacy_reduce():
    check(lambda a, i, s: a.scatter_reduce(0, i, s, "mean"), lambda a, i, s: a.scatter_reduce(0, i, s, "mean"),
          C(np.array([1, 2, 3, 4])), idx([0, 0, 2]), C(np.array([5, -1, 3])))
    raises_like(lambda a, i, s: a.scatter_reduce(0, i, s, "foo"), lambda a, i, s: a.scatter_reduce(0, i, s, "foo"),
                randn(4), idx([0]), randn(1))
    with pytest.warns(UserWarning):
        check(lambda a, i, s: a.scatter(0, i, s, reduce="add"), lambda a, i, s: a.scatter(0, i, s, reduce="add"),
              C(randn(4)), idx([0, 0, 2]), C(randn(3)))
    check(lambda a, i: a.scatter(0, i, 2.0, reduce="multiply"), lambda a, i: a.scatter(0, i, 2.0, reduce="multiply"),
          C(randn(4)), idx([0, 0, 2]))
    for lib in (ember, torch):
        x = lib.ones(4)
        assert x.scatter_reduce_(0, lib.tensor([1, 1]), lib.tensor([2.0, 3.0]), "sum") is x
        if lib is ember:
            xe = x
    assert_close(xe, x)


@pytest.mark.parametrize("name,fn", [
    ("gather", lambda a, L: a.gather(0, L.tensor([[0, 1, 2], [3, 3, 0]]))),
    ("scatter_add", lambda a, L: a.scatter_add(0, L.tensor([[0, 1, 2], [3, 3, 0]]), a[:2])),
    ("index_select", lambda a, L: a.index_select(1, L.tensor([2, 0, 2]))),
    ("index_add", lambda a, L: a.index_add(1, L.tensor([2, 2]), a[:, :2])),
    ("masked_fill", lambda a, L: a.masked_fill(a > 0, 0.0)),
    ("masked_select", lambda a, L: a.masked_select(a > 0)),
    ("masked_scatter", lambda a, L: a.masked_scatter(a < 0, a * 2)),
    ("take", lambda a, L: a.take(L.tensor([1, 5, 11]))),
])
def test_non_contiguous_inputs(name, fn):
    """Ops on a transposed view (non-contiguous) agree with torch in value and gradient."""
    x = randn(3, 4)
    check(lambda a: fn(a.t(), lib_of(a)), lambda a: fn(a.t(), torch), x)


def lib_of(t):
    return ember if isinstance(t, ember.Tensor) else torch


def test_index_copy_fill_gradgrad():
    i = ember.tensor([2, 0])
    gradgrad(lambda a, s: a.index_copy(1, i, s) ** 2, randn(2, 3), randn(2, 2))
    gradgrad(lambda a, v: a.index_fill(0, i, v) * a, randn(3, 2), randn())


def test_empty_indices():
    x = randn(3, 4)
    e = C(np.zeros(0, np.int64))
    check(lambda a, i: a.index_select(1, i), lambda a, i: a.index_select(1, i), x, e)
    check(lambda a, i, s: a.index_add(1, i, s), lambda a, i, s: a.index_add(1, i, s), x, e, randn(3, 0))
    check(lambda a, i, s: a.index_copy(0, i, s), lambda a, i, s: a.index_copy(0, i, s), x, e, randn(0, 4))
    check(lambda a, i: a.gather(1, i), lambda a, i: a.gather(1, i), x, C(np.zeros((3, 0), np.int64)))
    check(lambda a, i: a.take(i), lambda a, i: a.take(i), x, e)
    check(lambda a, k: a.masked_select(k), lambda a, k: a.masked_select(k), x, C(np.zeros((3, 4), bool)))


@pytest.mark.parametrize("dim,index", [(0, -1), (1, 2), (-1, 0)])
def test_select_scatter(dim, index):
    x = randn(3, 4)
    src = randn(*np.delete(np.array(x.shape), dim % 2))
    check(lambda a, s: ember.select_scatter(a, s, dim, index), lambda a, s: torch.select_scatter(a, s, dim, index),
          x, src)
    check(lambda a, s: a.select_scatter(s, dim, index), lambda a, s: a.select_scatter(s, dim, index), x, src)
    raises_like(lambda a, s: a.select_scatter(s, dim, index), lambda a, s: a.select_scatter(s, dim, index), x,
                randn(7))


@pytest.mark.parametrize("dim,start,end,step", [(1, 1, None, 2), (0, 0, 2, 1), (-1, None, None, 3)])
def test_slice_scatter(dim, start, end, step):
    x = randn(3, 5)
    want = x[(slice(None),) * (dim % 2) + (slice(start, end, step),)].shape
    check(lambda a, s: ember.slice_scatter(a, s, dim, start, end, step),
          lambda a, s: torch.slice_scatter(a, s, dim, start, end, step), x, randn(*want))
    gradgrad(lambda a, s: ember.slice_scatter(a, s, dim, start, end, step) ** 2, x, randn(*want))
    raises_like(lambda a, s: a.slice_scatter(s, dim, start, end, step),
                lambda a, s: a.slice_scatter(s, dim, start, end, step), x, randn(7, 7))
    y = ember.randn(3, 5, requires_grad=True)
    assert ember.slice_scatter(y, ember.from_numpy(randn(*want)), dim, start, end, step).grad_fn.name() == \
        torch.slice_scatter(torch.zeros(3, 5, requires_grad=True), torch.zeros(want), dim, start, end,
                            step).grad_fn.name()
