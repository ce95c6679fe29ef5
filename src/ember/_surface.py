"""The rest of torch's top-level surface that CPU scripts touch: threads, determinism flags,
``compile`` (returns the model, with a one-time warning), version info, and clear refusals."""
from __future__ import annotations

import types
import typing
import warnings

from .backend import parallel

__all__ = ["set_num_threads", "get_num_threads", "set_num_interop_threads", "get_num_interop_threads", "compile",
           "use_deterministic_algorithms", "are_deterministic_algorithms_enabled", "set_float32_matmul_precision",
           "get_float32_matmul_precision", "typename", "autocast", "version", "jit", "set_default_device",
           "get_default_device", "is_nonzero", "is_storage", "is_autocast_enabled", "get_autocast_dtype",
           "sparse_coo_tensor", "sparse_csr_tensor", "sparse_compressed_tensor", "quantize_per_tensor",
           "quantize_per_channel", "memory_format", "contiguous_format", "channels_last", "channels_last_3d",
           "preserve_format", "set_default_tensor_type", "random", "cpu", "mps", "xpu"]

_deterministic = [False]
_matmul_precision = ["highest"]


def set_num_threads(n: int) -> None:
    """Threads ember's kernels use (its own pool, ``backend/parallel.py``; the BLAS itself runs one thread)."""
    if n < 1:
        raise RuntimeError("set_num_threads expects a positive integer")
    parallel.set_num_threads(int(n))


def get_num_threads() -> int:
    return parallel.num_threads()


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


from .amp import autocast, is_autocast_enabled  # noqa: E402


def get_autocast_dtype(device_type: str):
    from . import _dtypes
    return _dtypes.bfloat16 if device_type == "cpu" else _dtypes.float16


version = types.SimpleNamespace(__version__="2.13.0+ember", cuda=None, hip=None, debug=False, git_version="ember")


def unsupported(feature: str):
    """A stand-in for a torch function ember lacks: calling it raises an error naming the feature."""
    def fail(*args, **kwargs):
        raise NotImplementedError(f"ember does not support {feature}")
    fail.__name__ = feature.rsplit(".", 1)[-1].strip("()")
    return fail


def _register(module: types.ModuleType, name: str) -> types.ModuleType:
    """Make ``module`` importable as ``name`` (so ``import torch.jit`` finds it under the alias)."""
    import importlib.machinery
    import sys
    module.__spec__ = importlib.machinery.ModuleSpec(name, None)
    sys.modules[name] = module
    return module


class _Unsupported(types.ModuleType):
    """A namespace whose every other attribute use raises a clear 'not supported' error."""

    def __init__(self, name: str, feature: str, shown: str, **benign):
        super().__init__(name)
        self._feature, self._shown = feature, shown
        self.__dict__.update(benign)

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return unsupported(f"{self._feature} ({self._shown}.{attr})")


def _identity_decorator(fn=None, *args, **kwargs):
    return fn if callable(fn) else (lambda f: f)


# torch.jit: scripting/tracing refuse at first use; the helpers model code calls in eager mode
# (is_scripting, ignore, unused, ...) behave as in eager PyTorch.
jit = _register(_Unsupported("ember.jit", "TorchScript", "torch.jit", is_scripting=lambda: False,
                             is_tracing=lambda: False, ignore=_identity_decorator, unused=_identity_decorator,
                             export=_identity_decorator, interface=_identity_decorator,
                             _overload_method=_identity_decorator, annotate=lambda the_type, the_value: the_value,
                             Final=typing.Final, Attribute=lambda value, type=None: value), "ember.jit")

sparse_coo_tensor = unsupported("sparse tensors (torch.sparse_coo_tensor)")
sparse_csr_tensor = unsupported("sparse tensors (torch.sparse_csr_tensor)")
sparse_compressed_tensor = unsupported("sparse tensors (torch.sparse_compressed_tensor)")
quantize_per_tensor = unsupported("quantization (torch.quantize_per_tensor)")
quantize_per_channel = unsupported("quantization (torch.quantize_per_channel)")


def refuse_missing(module: types.ModuleType, shown: str | None = None) -> None:
    """Give ``module`` a PEP 562 ``__getattr__`` whose AttributeError says ember lacks the feature, so
    a missing ``torch.x.y`` never fails with a bare AttributeError. A ``__getattr__`` the module has
    already (lazy submodules, its own refusals) is consulted first."""
    own = module.__dict__.get("__getattr__")
    if getattr(own, "_ember_refusal", False):
        return
    shown = shown or module.__name__.replace("ember.vision", "torchvision", 1).replace("ember", "torch", 1)
    name = module.__name__

    def __getattr__(attr):
        if own is not None:
            try:
                value = own(attr)
            except AttributeError as e:
                if "ember does not support" in str(e) or attr.startswith("__"):
                    raise
            else:
                if isinstance(value, types.ModuleType) and value.__name__.startswith(name + "."):
                    refuse_missing(value)
                return value
        if attr.startswith("__"):
            raise AttributeError(f"module '{name}' has no attribute '{attr}'")
        raise AttributeError(f"ember does not support {shown}.{attr} (module '{name}' has no attribute '{attr}')")

    __getattr__._ember_refusal = True
    module.__getattr__ = __getattr__


class _VariableMeta(type):
    def __instancecheck__(cls, obj):
        from ._tensor import Tensor
        return isinstance(obj, Tensor)


class Variable(metaclass=_VariableMeta):
    """``torch.autograd.Variable`` (merged into Tensor since PyTorch 0.4): ``Variable(t)`` is a
    detached alias of ``t`` with the requested ``requires_grad``; every tensor is a Variable."""

    def __new__(cls, data=None, requires_grad: bool = False, volatile: bool = False):
        from ._creation import empty
        from ._tensor import Tensor
        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with torch.no_grad():` instead.",
                          UserWarning, stacklevel=2)
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        out = data.detach()
        if requires_grad:
            out.requires_grad_(True)
        return out


class memory_format:
    """``torch.contiguous_format``, ``torch.channels_last``, ...: accepted wherever PyTorch takes a
    ``memory_format``; ember's arrays keep their own (C) layout, which changes no result."""

    def __init__(self, name: str):
        self._name = name

    def __repr__(self) -> str:
        return f"torch.{self._name}"

    def __reduce__(self):
        return (getattr, (_this_module(), self._name))


def _this_module():
    import sys
    return sys.modules[__name__]


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")


def set_default_tensor_type(t) -> None:
    """Deprecated in PyTorch 2.1: sets the default floating dtype from a tensor type."""
    from . import _dtypes
    warnings.warn("torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
                  "torch.set_default_dtype() and torch.set_default_device() as alternatives.", UserWarning,
                  stacklevel=2)
    name = t if isinstance(t, str) else getattr(t, "__name__", str(t))
    if name.startswith("torch.cuda.") or getattr(t, "is_cuda", False):
        raise TypeError("type torch.cuda.FloatTensor not available. Torch not compiled with CUDA enabled.")
    legacy = getattr(t, "_legacy_dtype", None)
    if legacy is None:
        short = name.rsplit(".", 1)[-1]
        legacy = {"FloatTensor": _dtypes.float32, "DoubleTensor": _dtypes.float64,
                  "HalfTensor": _dtypes.float16, "BFloat16Tensor": _dtypes.bfloat16}.get(short)
    if legacy is None:
        raise TypeError(f"invalid type: '{name}'")
    _dtypes.set_default_dtype(legacy)


# torch.serialization's allow-list for weights_only loading: ember's loader never runs pickled code,
# so the list is kept only for scripts that register their classes.
_SAFE_GLOBALS: list = []


def add_safe_globals(safe_globals) -> None:
    _SAFE_GLOBALS.extend(safe_globals)


def get_safe_globals() -> list:
    return list(_SAFE_GLOBALS)


def clear_safe_globals() -> None:
    _SAFE_GLOBALS.clear()


class safe_globals:
    def __init__(self, safe_globals):
        self._globals = list(safe_globals)

    def __enter__(self):
        self._before = list(_SAFE_GLOBALS)
        _SAFE_GLOBALS.extend(self._globals)

    def __exit__(self, *exc):
        _SAFE_GLOBALS[:] = self._before
        return False


def _make_random_module() -> types.ModuleType:
    """``torch.random``: seeding and RNG state, plus ``fork_rng``."""
    import contextlib

    from . import _random
    mod = types.ModuleType("ember.random", "torch.random: seeding and the random number generator's state.")
    for name in ("manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state", "default_generator",
                 "Generator"):
        setattr(mod, name, getattr(_random, name))

    @contextlib.contextmanager
    def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices", device_type="cuda"):
        """Run the block with a copy of the RNG state; the state is restored afterwards."""
        if not enabled:
            yield
            return
        state = _random.get_rng_state()
        try:
            yield
        finally:
            _random.set_rng_state(state)

    mod.fork_rng = fork_rng
    return _register(mod, "ember.random")


random = _make_random_module()


def _device_namespace(name: str, doc: str, **members) -> types.ModuleType:
    mod = types.ModuleType(f"ember.{name}", doc)
    mod.__dict__.update(members)
    _register(mod, f"ember.{name}")
    refuse_missing(mod, f"torch.{name}")
    return mod


def _raiser(exc, msg):
    def fail(*args, **kwargs):
        raise exc(msg)
    return fail


def _noop(*args, **kwargs):
    return None


cpu = _device_namespace(
    "cpu", "torch.cpu: the one device ember computes on.",
    is_available=lambda: True, is_initialized=lambda: True, device_count=lambda: 1, current_device=lambda: "cpu",
    set_device=_noop, synchronize=_noop, current_stream=_noop)
_NO_MPS = "without MPS backend."
mps = _device_namespace(
    "mps", "torch.mps on a machine without Apple's Metal backend.",
    is_available=lambda: False, device_count=lambda: 0, manual_seed=_noop, seed=_noop,
    synchronize=_raiser(RuntimeError, "Cannot execute deviceSynchronize() " + _NO_MPS),
    empty_cache=_raiser(RuntimeError, "Cannot execute emptyCache() " + _NO_MPS),
    current_allocated_memory=_raiser(RuntimeError, "Cannot execute getCurrentAllocatedMemory() " + _NO_MPS),
    driver_allocated_memory=_raiser(RuntimeError, "Cannot execute getDriverAllocatedMemory() " + _NO_MPS),
    get_rng_state=_raiser(RuntimeError, "Cannot execute getRNGState() " + _NO_MPS),
    set_rng_state=_raiser(RuntimeError, "Cannot execute setRNGState() " + _NO_MPS))
_NO_XPU = "Torch not compiled with XPU enabled"
xpu = _device_namespace(
    "xpu", "torch.xpu on a build without Intel GPU support.",
    is_available=lambda: False, device_count=lambda: 0, is_initialized=lambda: False, manual_seed=_noop,
    manual_seed_all=_noop, seed=_noop, empty_cache=_noop, synchronize=_raiser(AssertionError, _NO_XPU),
    current_device=_raiser(AssertionError, _NO_XPU), set_device=_raiser(AssertionError, _NO_XPU),
    get_device_name=_raiser(AssertionError, _NO_XPU), get_device_properties=_raiser(AssertionError, _NO_XPU))
