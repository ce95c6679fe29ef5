"""sort/argsort/msort/topk/kthvalue/median/mode/unique/searchsorted/bucketize/cummax/cummin/cumprod/
histc/bincount against PyTorch: values, index dtypes (int64), gradients with a random grad_output,
double backward and error types."""
import numpy as np
import pytest

import ember
from conftest import assert_close
from test_indexing import C, check, gradgrad, raises_like

torch = pytest.importorskip("torch")
rng = np.random.default_rng(2)


def randn(*s, dtype=np.float32):
    return rng.standard_normal(s).astype(dtype)


def ties(*s):
    """Small integers as floats: many equal values (stability and tie rules matter)."""
    return rng.integers(0, 3, s).astype(np.float32)


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("descending", [False, True])
def test_sort(dim, descending):
    x = randn(4, 5)
    check(lambda a: a.sort(dim, descending), lambda a: a.sort(dim, descending), x)
    check(lambda a: ember.sort(a, dim=dim, descending=descending, stable=True),
          lambda a: torch.sort(a, dim=dim, descending=descending, stable=True), ties(4, 5))
    check(lambda a: ember.argsort(a, dim=dim, descending=descending, stable=True),
          lambda a: torch.argsort(a, dim=dim, descending=descending, stable=True), C(ties(4, 5)))


def test_sort_special_values_and_types():
    x = np.array([2.0, np.nan, -1.0, np.inf, np.nan, 0.0], np.float32)
    check(lambda a: a.sort(), lambda a: a.sort(), C(x))
    check(lambda a: a.sort(descending=True), lambda a: a.sort(descending=True), C(x))
    check(lambda a: a.sort(stable=True), lambda a: a.sort(stable=True), C(np.array([True, False, True])))
    check(lambda a: a.sort(0), lambda a: a.sort(0), C(rng.integers(-5, 5, (6, 2))))
    check(lambda a: a.sort(), lambda a: a.sort(), randn())
    check(lambda a: ember.msort(a), lambda a: torch.msort(a), randn(3, 4))
    r = ember.sort(ember.tensor([2.0, 1.0]))
    assert r.indices.dtype == ember.int64 and r.values.tolist() == [1.0, 2.0]
    y = ember.randn(3, requires_grad=True)
    assert type(y.sort()[0].grad_fn).__name__ == "SortBackward0"


def test_sort_topk_gradgrad():
    gradgrad(lambda a: a.sort(1, True).values ** 2, randn(3, 4))
    gradgrad(lambda a: a.topk(2, 0).values ** 2, randn(4, 3))
    gradgrad(lambda a: a.median(1).values ** 2, randn(3, 4))


@pytest.mark.parametrize("k,dim,largest", [(1, -1, True), (3, 1, False), (2, 0, True), (5, 1, True), (0, 1, True)])
def test_topk(k, dim, largest):
    x = randn(4, 5)
    check(lambda a: a.topk(k, dim, largest), lambda a: a.topk(k, dim, largest), x)
    check(lambda a: ember.topk(a, k, dim=dim, largest=largest, sorted=True),
          lambda a: torch.topk(a, k, dim=dim, largest=largest, sorted=True), x.astype(np.float64))


@pytest.mark.parametrize("largest", [True, False])
def test_topk_small_k_partition_path(largest):
    x = randn(6, 200)
    check(lambda a: a.topk(5, largest=largest), lambda a: a.topk(5, largest=largest), x)
    check(lambda a: a.topk(3, 0, largest=largest), lambda a: a.topk(3, 0, largest=largest), randn(40, 3))
    check(lambda a: a.topk(20, largest=largest), lambda a: a.topk(20, largest=largest), x)  # argpartition path
    x[1, 3] = -np.inf if largest else np.inf  # non-finite: not the argmax-passes path
    check(lambda a: a.topk(5, largest=largest), lambda a: a.topk(5, largest=largest), x)
    x[2, 7] = np.nan  # NaN: the full-sort path
    check(lambda a: a.topk(5, largest=largest), lambda a: a.topk(5, largest=largest), x)
    check(lambda a: a.topk(20, largest=largest), lambda a: a.topk(20, largest=largest), x)


def test_topk_errors():
    raises_like(lambda a: a.topk(3), lambda a: a.topk(3), randn(2))
    raises_like(lambda a: a.topk(1, 2), lambda a: a.topk(1, 2), randn(2, 2))
    check(lambda a: a.topk(1), lambda a: a.topk(1), randn())


@pytest.mark.parametrize("k,dim,keepdim", [(1, -1, False), (3, 0, True), (4, 0, False), (2, 1, False)])
def test_kthvalue(k, dim, keepdim):
    x = randn(4, 5)
    check(lambda a: a.kthvalue(k, dim, keepdim), lambda a: a.kthvalue(k, dim, keepdim), x)
    raises_like(lambda a: a.kthvalue(9, dim), lambda a: a.kthvalue(9, dim), x)
    check(lambda a: ember.kthvalue(a, 2), lambda a: torch.kthvalue(a, 2), C(np.array([2.0, 1, 2, 1])))


@pytest.mark.parametrize("shape,dim,keepdim", [((7,), None, False), ((4, 6), None, False), ((4, 6), 1, False),
                                               ((5, 3), 0, True), ((4, 5), -1, False)])
def test_median(shape, dim, keepdim):
    x = randn(*shape)
    if dim is None:
        check(lambda a: a.median(), lambda a: a.median(), x)
    else:
        check(lambda a: a.median(dim, keepdim), lambda a: a.median(dim, keepdim), x)
        check(lambda a: ember.median(a, dim), lambda a: torch.median(a, dim), C(rng.integers(0, 9, shape)))


def test_median_nan_ties_and_empty():
    for x in (np.array([2.0, np.nan, 2.0, 1.0], np.float32), np.array([2.0, 1, 2, 1], np.float32)):
        check(lambda a: a.median(0), lambda a: a.median(0), C(x))
        check(lambda a: a.median(), lambda a: a.median(), C(x))
        check(lambda a: a.nanmedian(), lambda a: a.nanmedian(), C(x))
    check(lambda a: a.nanmedian(1), lambda a: a.nanmedian(1),
          C(np.array([[np.nan, 1, 3, 2], [4, np.nan, np.nan, 0]], np.float32)))
    check(lambda a: a.median(), lambda a: a.median(), C(np.zeros(0, np.float32)))
    check(lambda a: a.median(), lambda a: a.median(), C(np.array([3, 1, 2, 4])))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_mode(dim):
    x = ties(5, 6)
    check(lambda a: a.mode(dim), lambda a: a.mode(dim), x)
    check(lambda a: ember.mode(a, dim, keepdim=True), lambda a: torch.mode(a, dim, keepdim=True),
          C(rng.integers(0, 4, (5, 6))))
    check(lambda a: a.mode(), lambda a: a.mode(), C(np.array([3.0, 1, 3, 2, 1, 3])))


@pytest.mark.parametrize("dim", [None, 0, 1])
def test_unique(dim):
    x = C(rng.integers(0, 3, (6, 2)))
    check(lambda a: ember.unique(a, dim=dim), lambda a: torch.unique(a, dim=dim), x)
    check(lambda a: a.unique(return_inverse=True, return_counts=True, dim=dim),
          lambda a: a.unique(return_inverse=True, return_counts=True, dim=dim), x)
    check(lambda a: ember.unique(a, sorted=False, return_counts=True, dim=dim),
          lambda a: torch.unique(a, sorted=False, return_counts=True, dim=dim), x)


def test_unique_consecutive():
    x = C(np.array([1, 1, 2, 2, 3, 1, 1, 2]))
    check(lambda a: ember.unique_consecutive(a, return_inverse=True, return_counts=True),
          lambda a: torch.unique_consecutive(a, return_inverse=True, return_counts=True), x)
    m = C(np.array([[1, 2], [1, 2], [0, 1], [1, 2]]))
    check(lambda a: a.unique_consecutive(return_counts=True, dim=0),
          lambda a: a.unique_consecutive(return_counts=True, dim=0), m)


@pytest.mark.parametrize("right", [False, True])
def test_searchsorted_bucketize(right):
    seq = C(np.array([1, 3, 5, 7]))
    v = C(np.array([[3, 6], [0, 9]]))
    check(lambda s, x: ember.searchsorted(s, x, right=right), lambda s, x: torch.searchsorted(s, x, right=right),
          seq, v)
    check(lambda s: ember.searchsorted(s, 3, right=right), lambda s: torch.searchsorted(s, 3, right=right), seq)
    check(lambda s, x: ember.searchsorted(s, x, side="right" if right else "left", out_int32=True),
          lambda s, x: torch.searchsorted(s, x, side="right" if right else "left", out_int32=True), seq, v)
    seq2 = C(np.sort(rng.standard_normal((2, 3, 5)), -1).astype(np.float32))
    v2 = C(rng.standard_normal((2, 3, 4)).astype(np.float32))
    check(lambda s, x: ember.searchsorted(s, x, right=right), lambda s, x: torch.searchsorted(s, x, right=right),
          seq2, v2)
    check(lambda x, b: ember.bucketize(x, b, right=right), lambda x, b: torch.bucketize(x, b, right=right), v, seq)
    unsorted = C(np.array([5, 1, 3]))
    check(lambda s, x, o: ember.searchsorted(s, x, sorter=o), lambda s, x, o: torch.searchsorted(s, x, sorter=o),
          unsorted, v, C(np.array([1, 2, 0])))


def test_searchsorted_errors():
    raises_like(lambda s, x: ember.searchsorted(s, x), lambda s, x: torch.searchsorted(s, x),
                C(np.ones((2, 3))), C(np.ones(3)))
    raises_like(lambda x, b: ember.bucketize(x, b), lambda x, b: torch.bucketize(x, b), C(np.ones(3)),
                C(np.ones((1, 3))))


@pytest.mark.parametrize("fn", ["cummax", "cummin"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cummax_cummin(fn, dim):
    check(lambda a: getattr(a, fn)(dim), lambda a: getattr(a, fn)(dim), randn(4, 5))
    check(lambda a: getattr(ember, fn)(a, dim), lambda a: getattr(torch, fn)(a, dim), ties(4, 5))
    check(lambda a: getattr(a, fn)(dim), lambda a: getattr(a, fn)(dim), C(rng.integers(0, 3, (4, 5))))


def test_cummax_nan_and_gradgrad():
    check(lambda a: a.cummax(0), lambda a: a.cummax(0), C(np.array([1.0, np.nan, 3.0, 2.0], np.float32)))
    check(lambda a: a.cummin(0), lambda a: a.cummin(0), C(np.array([1.0, 3.0, np.nan, 0.0], np.float32)))
    gradgrad(lambda a: a.cummax(1).values ** 2, randn(2, 4))


@pytest.mark.parametrize("zeros", [0, 1, 2])
@pytest.mark.parametrize("dim", [0, 1])
def test_cumprod(zeros, dim):
    x = randn(4, 5)
    if zeros:
        x.flat[rng.choice(x.size, zeros * 3, replace=False)] = 0.0
    check(lambda a: a.cumprod(dim), lambda a: a.cumprod(dim), x, rtol=1e-4, atol=1e-5)
    check(lambda a: ember.cumprod(a, dim), lambda a: torch.cumprod(a, dim), x.astype(np.float64))
    xs = x.astype(np.float64)[:3, :3]
    gradgrad(lambda a: ember.cumprod(a, dim), xs)


def test_cumprod_dtypes_and_inplace():
    check(lambda a: a.cumprod(0), lambda a: a.cumprod(0), C(np.array([1, 2, 3], np.int32)))
    check(lambda a: a.cumprod(0, dtype=ember.float32), lambda a: a.cumprod(0, dtype=torch.float32),
          C(np.array([1, 2, 3], np.int32)))
    check(lambda a: a.cumprod(0), lambda a: a.cumprod(0), randn())
    for lib in (ember, torch):
        x = lib.tensor([1.0, 2.0, 3.0])
        assert x.cumprod_(0) is x
        if lib is ember:
            xe = x
    assert_close(xe, x)


@pytest.mark.parametrize("bins,lo,hi", [(4, 0, 3), (10, 0, 0), (5, -1, 0.5), (7, 2, 2)])
def test_histc(bins, lo, hi):
    x = C(np.concatenate([randn(50), np.array([0.0, 3.0, -1.0], np.float32)]))
    check(lambda a: ember.histc(a, bins, lo, hi), lambda a: torch.histc(a, bins, lo, hi), x)
    check(lambda a: a.histc(bins=bins, min=lo, max=hi), lambda a: a.histc(bins=bins, min=lo, max=hi),
          C(x.a.astype(np.float64)))


def test_histc_errors():
    raises_like(lambda a: a.histc(4, 3, 1), lambda a: a.histc(4, 3, 1), C(np.ones(2, np.float32)))
    raises_like(lambda a: a.histc(4), lambda a: a.histc(4), C(np.ones(2, np.int64)))


def test_bincount():
    x = C(rng.integers(0, 6, 20))
    check(lambda a: ember.bincount(a), lambda a: torch.bincount(a), x)
    check(lambda a: a.bincount(minlength=10), lambda a: a.bincount(minlength=10), x)
    check(lambda a, w: a.bincount(w), lambda a, w: a.bincount(w), x, C(randn(20)), rtol=1e-5)
    check(lambda a, w: a.bincount(w), lambda a, w: a.bincount(w), x, C(rng.integers(0, 3, 20)))
    check(lambda a: ember.bincount(a, minlength=3), lambda a: torch.bincount(a, minlength=3),
          C(np.zeros(0, np.int64)))
    for bad in (np.array([0, -2]), np.zeros((1, 1), np.int64), np.zeros(2, np.float32)):
        raises_like(lambda a: ember.bincount(a), lambda a: torch.bincount(a), C(bad))


@pytest.mark.parametrize("fn", [lambda a: a.sort(1)[0], lambda a: a.topk(2)[0], lambda a: a.kthvalue(2)[0],
                                lambda a: a.median(), lambda a: a.median(1)[0], lambda a: a.mode(1)[0],
                                lambda a: a.cummax(1)[0], lambda a: a.cummin(0)[0], lambda a: a.cumprod(1),
                                lambda a: a.msort()])
def test_grad_fn_names(fn):
    x = randn(3, 4)
    e = fn(ember.from_numpy(x.copy()).requires_grad_())
    t = fn(torch.from_numpy(x.copy()).requires_grad_())
    assert e.grad_fn.name() == t.grad_fn.name()


def test_non_contiguous_inputs():
    x = randn(4, 6)
    check(lambda a: a.t().sort(1, descending=True), lambda a: a.t().sort(1, descending=True), x)
    check(lambda a: a.t().topk(2, 0), lambda a: a.t().topk(2, 0), x)
    check(lambda a: a.t().cumprod(1), lambda a: a.t().cumprod(1), x, rtol=1e-4)
    check(lambda a: a.t().cummax(0), lambda a: a.t().cummax(0), x)
    check(lambda a: a.t().median(1), lambda a: a.t().median(1), x)


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (None, True), (1, False), (0, True), (-1, True)])
def test_quantile(interpolation, dim, keepdim):
    x = randn(4, 7)
    for q in (0.3, 0.0, 1.0):
        check(lambda a, q=q: a.quantile(q, dim, keepdim, interpolation=interpolation),
              lambda a, q=q: a.quantile(q, dim, keepdim, interpolation=interpolation), x)
    qs = C(np.array([0.1, 0.5, 1 / 6, 0.9], np.float32))
    check(lambda a, k: ember.quantile(a, k, dim, keepdim, interpolation=interpolation),
          lambda a, k: torch.quantile(a, k, dim, keepdim, interpolation=interpolation), x, qs)
    xn = x.astype(np.float64)
    xn[1, 2] = xn[3, 0] = np.nan
    xn[2] = np.nan
    for fn in ("quantile", "nanquantile"):
        check(lambda a, k, f=fn: getattr(ember, f)(a, k, dim, keepdim, interpolation=interpolation),
              lambda a, k, f=fn: getattr(torch, f)(a, k, dim, keepdim, interpolation=interpolation),
              C(xn), C(qs.a.astype(np.float64)))


def test_quantile_errors_and_histogram():
    raises_like(lambda a: a.quantile(1.5), lambda a: a.quantile(1.5), randn(3))
    raises_like(lambda a: a.quantile(0.5), lambda a: a.quantile(0.5), C(np.arange(3)))
    raises_like(lambda a: a.quantile(0.5, interpolation="x"), lambda a: a.quantile(0.5, interpolation="x"), randn(3))
    x = C(np.concatenate([randn(40), np.array([0.0, 3.0], np.float32)]))
    check(lambda a: ember.histogram(a, 5, range=(0.0, 3.0)), lambda a: torch.histogram(a, 5, range=(0.0, 3.0)), x)
    check(lambda a: a.histogram(7), lambda a: a.histogram(7), x)
    check(lambda a, b, w: ember.histogram(a, b, weight=w, density=True),
          lambda a, b, w: torch.histogram(a, b, weight=w, density=True), x,
          C(np.array([-1.0, 0.0, 0.5, 2.0], np.float32)), C(np.abs(randn(42))))
