"""Tensor basics against PyTorch: dtypes and type promotion, creation, NumPy interop, legacy
constructors, ``.type()``/``.to()``, devices, views, reprs and argument errors."""
import itertools
import math

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def raises_like(fn):
    """``fn(m)`` raises the same exception type under torch and ember (returns the two messages)."""
    with pytest.raises(Exception) as te:
        fn(torch)
    with pytest.raises(Exception) as ee:
        fn(ember)
    assert isinstance(ee.value, type(te.value)), (type(ee.value), ee.value, type(te.value), te.value)
    return str(ee.value), str(te.value)


def same(e, t):
    assert isinstance(e, ember.Tensor), type(e)
    assert tuple(e.shape) == tuple(t.shape), (e.shape, t.shape)
    assert str(e.dtype) == str(t.dtype), (e.dtype, t.dtype)
    np.testing.assert_allclose(e._data.astype(np.float64), t.detach().numpy().astype(np.float64), rtol=1e-6)


# ---------------------------------------------------------------------------------------------
# dtypes and promotion
def _operand(m, dt, kind):
    if kind == "nd":
        return m.ones(2, dtype=getattr(m, dt))
    return m.ones((), dtype=getattr(m, dt))


PAIRS = list(itertools.product(DTYPES, DTYPES))


@pytest.mark.parametrize("kinds", [("nd", "nd"), ("nd", "0d"), ("0d", "nd"), ("0d", "0d")])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "floor_divide", "remainder", "fmod", "pow",
                                "maximum", "minimum", "eq", "lt", "logical_and", "bitwise_or", "where", "cat",
                                "clamp", "floor_div_op", "lerp"])
def test_promotion_grid(op, kinds):
    def run(m, a, b):
        x, y = _operand(m, a, kinds[0]), _operand(m, b, kinds[1])
        if op == "where":
            return m.where(m.tensor([True, False]), x, y)
        if op == "cat":
            return m.cat([x.reshape(-1), y.reshape(-1)])
        if op == "clamp":
            return m.clamp(x, y, y)
        if op == "floor_div_op":
            return x // y
        if op == "lerp":
            return m.lerp(x, y, 0.5)
        return getattr(m, op)(x, y)
    for a, b in PAIRS:
        if op == "maximum" and "bool" in (a, b) and a != b:
            continue  # torch refuses bool with other dtypes in maximum; a PyTorch quirk not reproduced
        try:
            t = run(torch, a, b)
        except Exception as exc:
            with pytest.raises(type(exc)):
                run(ember, a, b)
            continue
        e = run(ember, a, b)
        assert str(e.dtype) == str(t.dtype), f"{op}({a} {kinds[0]}, {b} {kinds[1]}): {e.dtype} != {t.dtype}"
        assert tuple(e.shape) == tuple(t.shape)


@pytest.mark.parametrize("scalar", [True, 2, -3, 300, 2.5, 1e3, -(2 ** 40), np.float64(2.5), np.int64(3),
                                    np.float32(0.5)], ids=repr)
@pytest.mark.parametrize("op", ["add", "mul", "div", "sub", "rsub", "pow", "lt", "floor_divide", "remainder"])
def test_promotion_with_python_scalars(op, scalar):
    fns = {"rsub": lambda m, x, s: s - x, "pow": lambda m, x, s: x ** s}
    fn = fns.get(op, lambda m, x, s: getattr(m, op)(x, s))
    for dt in DTYPES:
        for shape in [(2,), ()]:
            def run(m, shape=shape, dt=dt):
                x = m.full(shape, 2, dtype=getattr(m, dt))
                return fn(m, x, scalar)
            try:
                with np.errstate(all="ignore"):
                    t = run(torch)
            except Exception as exc:
                with pytest.raises(type(exc)):
                    run(ember)
                continue
            with np.errstate(all="ignore"):
                e = run(ember)
            assert str(e.dtype) == str(t.dtype), f"{op}({dt}{list(shape)}, {scalar!r}): {e.dtype} != {t.dtype}"


def test_promote_types_and_result_type():
    for a, b in PAIRS:
        ta, tb = getattr(torch, a), getattr(torch, b)
        ea, eb = getattr(ember, a), getattr(ember, b)
        assert repr(ember.promote_types(ea, eb)) == repr(torch.promote_types(ta, tb)), (a, b)
        for s in [1, 1.5, True]:
            assert repr(ember.result_type(ember.ones(1, dtype=ea), s)) == \
                repr(torch.result_type(torch.ones(1, dtype=ta), s)), (a, s)


def test_dtype_objects():
    assert repr(ember.float32) == "torch.float32" and ember.float is ember.float32 and ember.long is ember.int64
    assert ember.float64.is_floating_point and not ember.int32.is_floating_point
    assert ember.get_default_dtype() is ember.float32
    assert ember.finfo(ember.float32).eps == torch.finfo(torch.float32).eps
    assert ember.iinfo(ember.int8).max == 127
    ember.set_default_dtype(ember.float64)
    try:
        assert ember.tensor([1.5]).dtype is ember.float64 and ember.zeros(2).dtype is ember.float64
        assert (ember.ones(2, dtype=ember.int64) * 1.5).dtype is ember.float64
    finally:
        ember.set_default_dtype(ember.float32)
    assert ember.tensor([1.5]).dtype is ember.float32


# ---------------------------------------------------------------------------------------------
# creation
TENSOR_DATA = [1, 1.5, True, [1, 2], [1, 2.0], [True, False], [[1, 2], [3, 4]], [], [[]], [[1.5], [2]],
               np.float64(2.5), np.int32(3), np.array([1, 2], dtype=np.int16), np.array([[1.0]], dtype=np.float64),
               np.array(True), [np.float32(1.0), 2]]


@pytest.mark.parametrize("data", TENSOR_DATA, ids=repr)
def test_tensor_inference(data):
    same(ember.tensor(data), torch.tensor(data))


@pytest.mark.parametrize("dtype", ["float64", "int32", "bool", "float16", "uint8"])
def test_tensor_with_dtype(dtype):
    same(ember.tensor([[1, 0], [2, 3]], dtype=getattr(ember, dtype)),
         torch.tensor([[1, 0], [2, 3]], dtype=getattr(torch, dtype)))


def test_tensor_from_tensors_and_errors():
    same(ember.tensor([ember.tensor(1.5), ember.tensor(2.0)]), torch.tensor([torch.tensor(1.5), torch.tensor(2.0)]))
    same(ember.tensor([[ember.tensor(1), 2], [3, 4]]), torch.tensor([[torch.tensor(1), 2], [3, 4]]))
    raises_like(lambda m: m.tensor([m.tensor([1.0, 2.0]), m.tensor([3.0, 4.0])]))
    raises_like(lambda m: m.tensor([[1, 2], [3]]))
    raises_like(lambda m: m.tensor("abc"))
    x = ember.tensor([1.0, 2.0])
    y = ember.tensor(x)
    y[0] = 5.0
    assert x.tolist() == [1.0, 2.0], "tensor() copies"


CREATION = {
    "zeros": lambda m: m.zeros(2, 3),
    "zeros-tuple": lambda m: m.zeros((2, 3)),
    "zeros-list": lambda m: m.zeros([2, 3]),
    "zeros-size": lambda m: m.zeros(m.Size([2, 3])),
    "zeros-0d": lambda m: m.zeros(()),
    "zeros-empty": lambda m: m.zeros(0, 3),
    "ones-int": lambda m: m.ones(3, dtype=m.int64),
    "full-int": lambda m: m.full((2, 2), 3),
    "full-float": lambda m: m.full((2, 2), 3.5),
    "full-bool": lambda m: m.full((2,), True),
    "full-dtype": lambda m: m.full((2,), 7, dtype=m.float64),
    "arange-int": lambda m: m.arange(5),
    "arange-start": lambda m: m.arange(2, 7),
    "arange-step": lambda m: m.arange(1, 10, 3),
    "arange-neg": lambda m: m.arange(5, 0, -2),
    "arange-float": lambda m: m.arange(0, 1, 0.1),
    "arange-float-end": lambda m: m.arange(2.5),
    "arange-dtype": lambda m: m.arange(4, dtype=m.float64),
    "arange-empty": lambda m: m.arange(3, 3),
    "linspace": lambda m: m.linspace(0, 1, 5),
    "linspace-int-args": lambda m: m.linspace(-2, 2, steps=9),
    "linspace-one": lambda m: m.linspace(3, 5, 1),
    "linspace-dtype": lambda m: m.linspace(0, 1, 4, dtype=m.float64),
    "eye": lambda m: m.eye(3),
    "eye-rect": lambda m: m.eye(2, 4),
    "eye-dtype": lambda m: m.eye(2, dtype=m.int64),
    "zeros_like": lambda m: m.zeros_like(m.ones(2, 3, dtype=m.int32)),
    "ones_like-dtype": lambda m: m.ones_like(m.ones(2, dtype=m.int32), dtype=m.float64),
    "full_like": lambda m: m.full_like(m.ones(2, 2), 4),
    "full_like-int": lambda m: m.full_like(m.ones(2, dtype=m.int64), 2.7),
    "empty-shape": lambda m: m.empty(2, 3).shape,
    "empty_like-shape": lambda m: m.empty_like(m.ones(3, dtype=m.int16)).dtype,
    "new_zeros": lambda m: m.ones(2, dtype=m.float64).new_zeros(3),
    "new_ones": lambda m: m.ones(2, dtype=m.int32).new_ones((2, 2)),
    "new_full": lambda m: m.ones(2).new_full((2,), 5),
    "new_tensor": lambda m: m.ones(2, dtype=m.float64).new_tensor([1, 2]),
    "scalar_tensor": lambda m: m.scalar_tensor(3),
    "zeros-python-float": lambda m: m.zeros(2, dtype=float),
    "ones-python-int": lambda m: m.ones(2, dtype=int),
    "tensor-python-bool": lambda m: m.tensor([1, 0], dtype=bool),
    "to-python-float": lambda m: m.ones(2).to(float),
    "linspace-int": lambda m: m.linspace(0, 10, 5, dtype=m.int64),
    "arange-float-to-int": lambda m: m.arange(0.5, 4, dtype=m.int64),
    "eye-0": lambda m: m.eye(0),
    "full-0d": lambda m: m.full((), 3),
    "as_tensor-list": lambda m: m.as_tensor([1, 2]),
    "as_tensor-dtype": lambda m: m.as_tensor([1, 2], dtype=m.float32),
}


@pytest.mark.parametrize("name", list(CREATION))
def test_creation(name):
    e, t = CREATION[name](ember), CREATION[name](torch)
    if isinstance(t, torch.Tensor):
        same(e, t)
        assert e.is_leaf and not e.requires_grad
    else:
        assert repr(e) == repr(t)


def test_creation_requires_grad_and_errors():
    for m in (torch, ember):
        x = m.zeros(2, 3, requires_grad=True)
        assert x.requires_grad and x.is_leaf and x.grad_fn is None
        assert m.ones(2).requires_grad is False
    raises_like(lambda m: m.zeros(2, 3, dtype=m.int64, requires_grad=True))
    raises_like(lambda m: m.arange(0, 5, 0))
    raises_like(lambda m: m.zeros(-1))
    raises_like(lambda m: m.linspace(0, 1, -1))


RANDOM = {
    "rand": lambda m: m.rand(2, 3),
    "rand-size": lambda m: m.rand(m.Size([4])),
    "randn-tuple-dtype": lambda m: m.randn((2, 3), dtype=m.float64),
    "randn-requires-grad": lambda m: m.randn(2, requires_grad=True),
    "randint": lambda m: m.randint(0, 10, (3,)),
    "randint-high-size": lambda m: m.randint(5, (2, 2)),
    "randint-dtype": lambda m: m.randint(0, 5, (2,), dtype=m.int32),
    "randperm": lambda m: m.randperm(5),
    "randn_like": lambda m: m.randn_like(m.ones(2, 2, dtype=m.float64)),
    "normal-tensors": lambda m: m.normal(m.zeros(3), m.ones(3)),
    "normal-size": lambda m: m.normal(0.0, 1.0, size=(2, 2)),
    "bernoulli": lambda m: m.bernoulli(m.full((3,), 0.5)),
    "multinomial": lambda m: m.multinomial(m.tensor([0.2, 0.8]), 4, replacement=True),
    "uniform_": lambda m: m.zeros(3).uniform_(-1, 1),
    "normal_": lambda m: m.zeros(3, dtype=m.float64).normal_(),
}


@pytest.mark.parametrize("name", list(RANDOM))
def test_random_shapes_and_dtypes(name):
    e, t = RANDOM[name](ember), RANDOM[name](torch)
    assert (tuple(e.shape), e.dtype.name, e.requires_grad) == (tuple(t.shape), str(t.dtype)[6:], t.requires_grad)


def test_random_seed_and_errors():
    ember.manual_seed(3)
    a = ember.rand(4)
    ember.manual_seed(3)
    assert ember.rand(4).tolist() == a.tolist()
    assert ((a >= 0) & (a < 1)).all()
    assert sorted(ember.randperm(6).tolist()) == list(range(6))
    raises_like(lambda m: m.rand_like(m.ones(2, dtype=m.int64)))
    raises_like(lambda m: m.randint(3, 3, (2,)))


def test_from_numpy_shares_memory():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    x = ember.from_numpy(a)
    assert x.dtype is ember.float32 and tuple(x.shape) == (2, 3)
    a[0, 0] = 100.0
    assert x[0, 0].item() == 100.0
    x[1, 2] = -1.0
    assert a[1, 2] == -1.0
    assert np.shares_memory(x.numpy(), a)
    assert ember.from_numpy(np.array([1, 2])).dtype is ember.int64
    raises_like(lambda m: m.from_numpy([1, 2]))
    raises_like(lambda m: m.from_numpy(np.array(["a"])))


def test_numpy_item_tolist():
    for m in (torch, ember):
        x = m.tensor([[1.5, 2.0], [3.0, 4.0]])
        n = x.numpy()
        n[0, 0] = 9.0
        assert x[0, 0].item() == 9.0, "numpy() shares memory"
        assert x.tolist() == [[9.0, 2.0], [3.0, 4.0]]
        assert m.tensor(3).item() == 3 and isinstance(m.tensor(3).item(), int)
        assert isinstance(m.tensor(2.5).item(), float) and isinstance(m.tensor(True).item(), bool)
        assert m.tensor([[7]]).item() == 7
        assert m.tensor(5).tolist() == 5
        assert float(m.tensor([2.5])) == 2.5 and int(m.tensor(3.9)) == 3
        assert len(m.zeros(4, 2)) == 4
        assert 2.0 in x and 5.0 not in x and list(m.tensor([1, 2])) == [m.tensor(1), m.tensor(2)]
    raises_like(lambda m: m.ones(2).item())
    raises_like(lambda m: m.ones(2, requires_grad=True).numpy())
    raises_like(lambda m: len(m.tensor(1.0)))
    raises_like(lambda m: bool(m.ones(2)))
    assert ember.ones(2, requires_grad=True).detach().numpy().tolist() == [1.0, 1.0]


# ---------------------------------------------------------------------------------------------
# legacy constructors, .type(), .to(), devices
LEGACY = {
    "Tensor-sizes": lambda m: m.Tensor(2, 3),
    "Tensor-list": lambda m: m.Tensor([1, 2]),
    "Tensor-nested": lambda m: m.Tensor([[1, 2], [3, 4]]),
    "Tensor-empty": lambda m: m.Tensor(),
    "FloatTensor-list": lambda m: m.FloatTensor([1, 2.5]),
    "FloatTensor-size": lambda m: m.FloatTensor(3),
    "LongTensor-list": lambda m: m.LongTensor([1, 2]),
    "LongTensor-size": lambda m: m.LongTensor(2, 2),
    "DoubleTensor": lambda m: m.DoubleTensor([1, 2]),
    "ByteTensor": lambda m: m.ByteTensor([1, 2]),
    "BoolTensor": lambda m: m.BoolTensor([True, False]),
    "IntTensor": lambda m: m.IntTensor([1, 2]),
}


@pytest.mark.parametrize("name", list(LEGACY))
def test_legacy_constructors(name):
    e, t = LEGACY[name](ember), LEGACY[name](torch)
    assert tuple(e.shape) == tuple(t.shape) and str(e.dtype) == str(t.dtype)
    if "size" not in name and "sizes" not in name:
        same(e, t)


def test_legacy_isinstance_and_type_strings():
    for m in (torch, ember):
        x = m.zeros(2)
        assert isinstance(x, m.Tensor) and isinstance(x, m.FloatTensor) and not isinstance(x, m.LongTensor)
        assert x.type() == "torch.FloatTensor"
        assert m.zeros(2, dtype=m.int64).type() == "torch.LongTensor"
        assert m.zeros(2, dtype=m.bool).type() == "torch.BoolTensor"
        assert x.type(m.float64).dtype == m.float64
        assert x.type("torch.LongTensor").dtype == m.int64
        assert x.type(m.IntTensor).dtype == m.int32
        assert x.type(m.float32) is x


def test_to():
    x = ember.tensor([1.7, -2.2])
    for m in (torch, ember):
        x = m.tensor([1.7, -2.2])
        assert x.to(m.float32) is x and x.to("cpu") is x and x.to(m.device("cpu")) is x
        assert x.to(m.float32, copy=True) is not x
        y = x.to(m.int64)
        assert y.dtype == m.int64 and y.tolist() == [1, -2]
        assert x.to("cpu", m.float64).dtype == m.float64
        assert x.to(dtype=m.float16).dtype == m.float16
        assert x.to(m.zeros(1, dtype=m.int32)).dtype == m.int32
        assert x.double().dtype == m.float64 and x.long().dtype == m.int64 and x.bool().dtype == m.bool
        assert x.half().dtype == m.float16 and x.int().dtype == m.int32 and x.float() is x
        assert x.type_as(m.zeros(1, dtype=m.float64)).dtype == m.float64
    a = ember.ones(2, requires_grad=True)
    b = a.to(ember.float64)
    assert b.requires_grad and b.grad_fn.name() == "ToCopyBackward0"
    b.sum().backward()
    assert a.grad.dtype is ember.float32


def test_devices():
    for m in (torch, ember):
        x = m.zeros(2)
        assert x.device == m.device("cpu") and str(x.device) == "cpu" and x.device.type == "cpu"
        assert repr(m.device("cpu")) == "device(type='cpu')"
        assert repr(m.device("cuda", 1)) == "device(type='cuda', index=1)"
        assert str(m.device("cuda:0")) == "cuda:0"
        assert x.cpu() is x and not x.is_cuda and x.get_device() == -1
        assert m.zeros(2, device="cpu").device.type == "cpu"
    for fn in [lambda m: m.zeros(2).to("cuda"), lambda m: m.zeros(2).cuda(), lambda m: m.zeros(2, device="cuda"),
               lambda m: m.tensor([1.0], device="cuda:0"), lambda m: m.zeros(2).to(m.device("cuda"))]:
        msgs = raises_like(fn)
        assert "Torch not compiled with CUDA enabled" in msgs[0]


# ---------------------------------------------------------------------------------------------
# views, strides, memory sharing
def test_views_share_memory_and_version():
    for m in (torch, ember):
        x = m.arange(12.0).reshape(3, 4)
        for v in [x.view(4, 3), x.t(), x[1], x[:, 1:3], x.transpose(0, 1), x.unsqueeze(0), x.narrow(1, 1, 2),
                  x.permute(1, 0), x.select(0, 2), x[..., None], x[1, 2], x.diagonal(), x.expand(2, 3, 4)[1]]:
            before, total = x._version, x.sum().item()
            v.add_(1)  # writes through the view into x, and bumps the shared version counter
            assert v._version == x._version == before + 1
            assert x.sum().item() == total + v.numel()
        with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
            x.expand(2, 3, 4).add_(1)
        x = m.arange(12.0).reshape(3, 4)
        y = x.t()
        y[0, 1] = 100.0
        assert x[1, 0].item() == 100.0
        assert not y.is_contiguous() and x.is_contiguous()
        assert y.stride() == (1, 4) and x.stride() == (4, 1) and x.stride(0) == 4
        assert x[1:].storage_offset() == 4 and x[:, 2].stride() == (4,)
        assert x.contiguous() is x and not y.contiguous().data_ptr() == y.data_ptr()
        z = x[[0, 2]]          # advanced indexing copies
        z[0, 0] = -5.0
        assert x[0, 0].item() == 0.0
        assert x.reshape(12).data_ptr() == x.data_ptr()


def test_view_errors():
    raises_like(lambda m: m.zeros(3, 4).t().view(12))
    raises_like(lambda m: m.zeros(3, 4).view(5, -1))
    raises_like(lambda m: m.zeros(3, 4).view(-1, -1))
    assert ember.zeros(3, 4).t().reshape(12).shape == (12,)


def test_metadata():
    for m in (torch, ember):
        x = m.zeros(2, 3, 4, dtype=m.float64)
        assert x.dim() == 3 and x.ndim == 3 and x.numel() == 24 and x.nelement() == 24
        assert x.size() == (2, 3, 4) and x.size(-1) == 4 and x.shape[1] == 3
        assert x.element_size() == 8 and x.is_floating_point() and not x.is_complex()
        assert m.zeros(2, dtype=m.int8).is_signed() and not m.zeros(2, dtype=m.uint8).is_signed()
    raises_like(lambda m: m.zeros(2, 3).size(2))


# ---------------------------------------------------------------------------------------------
# printing integration
def _reprs(m):
    x = m.tensor([[1.5, -2.0], [3.25, 4.0]], requires_grad=True)
    return [
        x, x * 2, x.sum(), x[0], x.exp().mean(1), x.t(), x.view(4), x.max(1)[0], x.detach(), x.to(m.float64),
        m.tensor([1, 2, 3]), m.tensor(2.5), m.tensor(True), m.zeros(0, 3), m.tensor([1.5], dtype=m.float64),
        m.tensor([1.0, 2.0], dtype=m.float64, requires_grad=True), m.arange(6).reshape(2, 3),
        m.tensor([1e-8, 1.0]), m.tensor([1e10, 1.0]), m.tensor([math.nan, math.inf, 1.0]),
        m.ones(2, dtype=m.int32), m.tensor([0.1, 0.2], dtype=m.float16), x.clamp(0, 1),
        m.Size([2, 3]), m.Size([]), x.shape, x.dtype, m.tensor(1.5, requires_grad=True) * 2,
        x.max(1), x.min(0, keepdim=True), x.detach().aminmax(), m.tensor([[1, 5], [7, 2]]).max(dim=1),
    ]


def test_repr_matches_torch():
    for i, (e, t) in enumerate(zip(_reprs(ember), _reprs(torch))):
        assert repr(e) == repr(t), f"case {i}"
        assert str(e) == str(t), f"case {i}"


def test_print_formatting():
    for m in (torch, ember):
        x = m.tensor(3.14159)
        assert f"{x:.2f}" == "3.14" and f"{m.tensor(7)}" == "7"
    assert f"{ember.tensor([1.0, 2.0])}" == f"{torch.tensor([1.0, 2.0])}"


# ---------------------------------------------------------------------------------------------
# argument errors with PyTorch's exception types
@pytest.mark.parametrize("fn", [
    lambda m: m.ones(2, 3) + m.ones(3, 2),
    lambda m: m.ones(2)[5],
    lambda m: m.ones(2, 3)[:, 3],
    lambda m: m.ones(2, 3).sum(4),
    lambda m: m.ones(2).view(3),
    lambda m: m.ones(2, 3).permute(1),
    lambda m: m.ones(2, dtype=m.int64).requires_grad_(),
    lambda m: (m.ones(2, requires_grad=True) * 2).retain_grad() or m.ones(2).retain_grad(),
    lambda m: m.ones(2).mean(dtype=m.int64),
    lambda m: m.tensor([1, 2]).mean(),
    lambda m: m.ones(2, 3) @ m.ones(2, 3),
    lambda m: m.cat([m.ones(2), m.ones(2, 2)]),
    lambda m: m.ones(3)[m.tensor([1.0])],
    lambda m: m.ones(2).to("cuda"),
    lambda m: m.device("gpu"),
])
def test_error_types(fn):
    raises_like(fn)
