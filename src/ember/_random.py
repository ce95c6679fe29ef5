"""Random numbers: a global Generator seeded by ``manual_seed``; random creation ops and fills.

ember's streams are reproducible within ember (same seed, same numbers), not equal to PyTorch's
(listed in DEVIATIONS.md).
"""
from __future__ import annotations

import numpy as np

from . import _dtypes
from ._device import check_device
from ._tensor import Tensor
from .autograd.grad_mode import STATE

__all__ = ["Generator", "manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state", "default_generator",
           "rand", "randn", "randint", "randperm", "rand_like", "randn_like", "randint_like", "normal", "bernoulli",
           "multinomial", "poisson"]


class Generator:
    """``torch.Generator``: a NumPy PCG64 stream with ``manual_seed``/``get_state``/``set_state``."""

    def __init__(self, device="cpu"):
        self._seed = 67280421310721
        self._rng = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed: int) -> "Generator":
        seed = int(seed)
        if not -0x8000_0000_0000_0000 <= seed <= 0xFFFF_FFFF_FFFF_FFFF:
            raise RuntimeError(f"Overflow when unpacking long long {seed}")
        self._seed = seed & 0xFFFF_FFFF_FFFF_FFFF
        self._rng = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def seed(self) -> int:
        s = int(np.random.SeedSequence().entropy) & 0xFFFF_FFFF_FFFF_FFFF
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> Tensor:
        import json
        st = json.dumps(self._rng.bit_generator.state).encode()
        return Tensor._make(np.frombuffer(st, np.uint8).copy(), False, None, 0)

    def set_state(self, state: Tensor) -> "Generator":
        import json
        self._rng.bit_generator.state = json.loads(bytes(state._data.astype(np.uint8)).decode())
        return self

    @property
    def device(self):
        from ._device import CPU
        return CPU


default_generator = Generator()


def _rng(generator):
    return (generator or default_generator)._rng


def manual_seed(seed: int) -> Generator:
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    default_generator.set_state(new_state)


def _size(size):
    from ._creation import _size as s
    return s(size)


def _float_dt(dtype):
    dt = _dtypes.to_dtype(dtype) if dtype is not None else _dtypes.get_default_dtype()
    if not dt.is_floating_point:
        raise NotImplementedError(f'"check_uniform_bounds" not implemented for \'{dt._legacy[:-6]}\'')
    return dt


def _new(arr, requires_grad):
    t = Tensor._make(arr, False, None, 0)
    if requires_grad:
        t.requires_grad = True
    return t


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False) -> Tensor:
    check_device(device)
    dt = _float_dt(dtype)
    return _new(_rng(generator).random(_size(size), dtype=np.float64 if dt is _dtypes.float64 else np.float32)
                .astype(dt.np, copy=False), requires_grad)


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False) -> Tensor:
    check_device(device)
    dt = _float_dt(dtype)
    return _new(_rng(generator).standard_normal(_size(size), dtype=np.float64 if dt is _dtypes.float64
                                                else np.float32).astype(dt.np, copy=False), requires_grad)


def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
            requires_grad=False) -> Tensor:
    check_device(device)
    if size is None and isinstance(high, (tuple, list)):
        low, high, size = 0, low, high  # randint(high, size)
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing 1 required positional arguments: \"size\"")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    dt = _dtypes.to_dtype(dtype) if dtype is not None else _dtypes.int64
    return _new(_rng(generator).integers(low, high, _size((tuple(size),))).astype(dt.np), requires_grad)


def randperm(n: int, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    dt = _dtypes.to_dtype(dtype) if dtype is not None else _dtypes.int64
    return _new(_rng(generator).permutation(n).astype(dt.np), requires_grad)


def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return rand(*input._data.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return randn(*input._data.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None, requires_grad=False,
                 memory_format=None):
    return randint(low, high, input._data.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
           requires_grad=False) -> Tensor:
    rng = _rng(generator)
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        m = mean._data if isinstance(mean, Tensor) else mean
        s = std._data if isinstance(std, Tensor) else std
        if isinstance(s, np.ndarray) and (s < 0).any() or (not isinstance(s, np.ndarray) and s < 0):
            raise RuntimeError("normal expects all elements of std >= 0.0")
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        ref = mean if isinstance(mean, Tensor) else std
        return _new((m + s * rng.standard_normal(shape)).astype(ref._data.dtype), requires_grad)
    if size is None:
        raise TypeError("normal() received an invalid combination of arguments")
    dt = _float_dt(dtype)
    return _new((mean + std * rng.standard_normal(_size((tuple(size),)))).astype(dt.np), requires_grad)


def bernoulli(input, p=None, *, generator=None) -> Tensor:
    probs = input._data if p is None else np.full(input._data.shape, p)
    return Tensor._make((_rng(generator).random(input._data.shape) < probs).astype(input._data.dtype), False, None,
                        0)


def multinomial(input, num_samples: int, replacement: bool = False, *, generator=None) -> Tensor:
    rng = _rng(generator)
    p = input._data.astype(np.float64)
    rows = p.reshape(-1, p.shape[-1])
    if not replacement and num_samples > rows.shape[1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    out = np.stack([rng.choice(r.shape[0], num_samples, replace=replacement, p=r / r.sum()) for r in rows])
    return Tensor._make(out.reshape(p.shape[:-1] + (num_samples,)).astype(np.int64), False, None, 0)


def poisson(input, generator=None) -> Tensor:
    return Tensor._make(_rng(generator).poisson(input._data).astype(input._data.dtype), False, None, 0)


# ---- in-place random fills (always without graph; on a leaf that requires grad only under no_grad)
def _fill(t: Tensor, arr) -> Tensor:
    if STATE.enabled and t._requires_grad and t.grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    t._data[...] = arr
    t._vc[0] += 1
    return t


def _work_dtype(t):
    return np.float64 if t._data.dtype == np.float64 else np.float32


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    r = _rng(generator).standard_normal(self._data.shape, dtype=_work_dtype(self))
    if std != 1:
        r *= std
    if mean != 0:
        r += mean
    return _fill(self, r)


def uniform_(self, a=0.0, b=1.0, *, generator=None):
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a} > to={b}")
    r = _rng(generator).random(self._data.shape, dtype=_work_dtype(self))
    return _fill(self, r * (b - a) + a)


def random_(self, from_=0, to=None, *, generator=None):
    if to is None:
        to = 2 ** 24 if self._data.dtype.kind == "f" else int(np.iinfo(self._data.dtype).max) + 1
        if from_ and to is not None and from_ != 0:
            from_, to = 0, from_
    return _fill(self, _rng(generator).integers(from_, to, self._data.shape))


def bernoulli_(self, p=0.5, *, generator=None):
    probs = p._data if isinstance(p, Tensor) else p
    return _fill(self, _rng(generator).random(self._data.shape) < probs)


def exponential_(self, lambd=1.0, *, generator=None):
    return _fill(self, _rng(generator).exponential(1.0 / lambd, self._data.shape))


def geometric_(self, p, *, generator=None):
    return _fill(self, _rng(generator).geometric(p, self._data.shape))


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    return _fill(self, _rng(generator).lognormal(mean, std, self._data.shape))


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    return _fill(self, median + sigma * _rng(generator).standard_cauchy(self._data.shape))


for _n in ["normal_", "uniform_", "random_", "bernoulli_", "exponential_", "geometric_", "log_normal_", "cauchy_"]:
    setattr(Tensor, _n, globals()[_n])
Tensor.bernoulli = lambda self, p=None, *, generator=None: bernoulli(self, p, generator=generator)
Tensor.multinomial = lambda self, n, replacement=False, *, generator=None: multinomial(self, n, replacement,
                                                                                       generator=generator)
