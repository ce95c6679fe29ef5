"""The rest of torch's top-level surface that CPU scripts touch: threads, determinism flags,
``compile`` (returns the model, with a one-time warning), version info, and clear refusals."""
from __future__ import annotations

import os
import types
import warnings

__all__ = ["set_num_threads", "get_num_threads", "set_num_interop_threads", "get_num_interop_threads", "compile",
           "use_deterministic_algorithms", "are_deterministic_algorithms_enabled", "set_float32_matmul_precision",
           "get_float32_matmul_precision", "typename", "autocast", "version", "jit", "set_default_device",
           "get_default_device", "is_nonzero", "is_storage", "set_grad_enabled_default", "unsupported"]

_threads = [int(os.environ.get("OMP_NUM_THREADS", 0)) or os.cpu_count() or 1]
_deterministic = [False]
_matmul_precision = ["highest"]


def _blas_limit(n: int) -> None:
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(n)
    except ImportError:  # without threadpoolctl the BLAS keeps its start-up thread count
        pass


def set_num_threads(n: int) -> None:
    """Threads used by the BLAS (through threadpoolctl when installed)."""
    if n < 1:
        raise RuntimeError("set_num_threads expects a positive integer")
    _threads[0] = int(n)
    _blas_limit(int(n))


def get_num_threads() -> int:
    return _threads[0]


def set_num_interop_threads(n: int) -> None:
    pass


def get_num_interop_threads() -> int:
    return 1


_compile_warned = [False]


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None, options=None,
            disable=False):
    """ember has no compiler: returns ``model`` unchanged (warning once)."""
    if model is None:
        return lambda m: compile(m, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode)
    if not _compile_warned[0]:
        warnings.warn("ember does not compile models: torch.compile returns the model unchanged", UserWarning,
                      stacklevel=2)
        _compile_warned[0] = True
    return model


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    _deterministic[0] = bool(mode)  # ember's ops are deterministic already


def are_deterministic_algorithms_enabled() -> bool:
    return _deterministic[0]


def set_float32_matmul_precision(precision: str) -> None:
    if precision not in ("highest", "high", "medium"):
        raise RuntimeError(f"Invalid precision {precision!r}")
    _matmul_precision[0] = precision


def get_float32_matmul_precision() -> str:
    return _matmul_precision[0]


def typename(obj) -> str:
    from ._tensor import Tensor
    if isinstance(obj, Tensor):
        return obj.type()
    return type(obj).__module__ + "." + type(obj).__qualname__


def set_default_device(device) -> None:
    from ._device import check_device
    check_device(device)


def get_default_device():
    from ._device import CPU
    return CPU


def is_nonzero(input) -> bool:
    return bool(input)


def is_storage(obj) -> bool:
    return False


def set_grad_enabled_default():  # pragma: no cover - internal placeholder name kept out of __all__ users
    return None


class autocast:
    """CPU autocast: ember computes in the tensors' own dtypes; the context changes nothing."""

    def __init__(self, device_type="cpu", dtype=None, enabled=True, cache_enabled=None):
        self.device_type = device_type

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __call__(self, fn):
        return fn


version = types.SimpleNamespace(__version__="2.13.0+ember", cuda=None, hip=None, debug=False, git_version="ember")


def unsupported(feature: str):
    def fail(*args, **kwargs):
        raise RuntimeError(f"ember does not support {feature}")
    return fail


class _Unsupported(types.ModuleType):
    """A namespace whose every attribute use raises a clear 'not supported' error."""

    def __init__(self, name: str, feature: str):
        super().__init__(name)
        self._feature = feature

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        raise RuntimeError(f"ember does not support {self._feature} ({self.__name__}.{attr})")


jit = _Unsupported("torch.jit", "TorchScript")
