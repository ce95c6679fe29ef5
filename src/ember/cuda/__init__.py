"""``torch.cuda`` on a CPU-only build: queries answer "no GPU"; using one raises PyTorch's
``AssertionError: Torch not compiled with CUDA enabled``."""
from __future__ import annotations

from . import amp  # noqa: F401

__all__ = ["is_available", "device_count", "synchronize", "current_device", "get_device_name", "manual_seed",
           "manual_seed_all", "seed", "seed_all", "initial_seed", "get_rng_state", "set_rng_state",
           "get_rng_state_all", "set_rng_state_all", "empty_cache", "is_initialized", "init", "memory_allocated",
           "max_memory_allocated", "memory_reserved", "max_memory_reserved", "reset_peak_memory_stats",
           "set_device", "device", "device_of", "amp", "get_device_properties", "get_device_capability",
           "is_bf16_supported", "is_tf32_supported", "get_arch_list", "mem_get_info", "ipc_collect",
           "current_stream", "default_stream", "stream", "Stream", "Event", "memory_summary", "memory_stats",
           "OutOfMemoryError", "is_built"]

_NO_CUDA = "Torch not compiled with CUDA enabled"


class OutOfMemoryError(RuntimeError):
    pass


def is_available() -> bool:
    return False


def is_built() -> bool:
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def _lazy_init():
    raise AssertionError(_NO_CUDA)


init = _lazy_init


def synchronize(device=None) -> None:
    _lazy_init()


def current_device() -> int:
    _lazy_init()


def get_device_name(device=None) -> str:
    _lazy_init()


def get_device_properties(device=None):
    _lazy_init()


def get_device_capability(device=None):
    _lazy_init()


def mem_get_info(device=None):
    _lazy_init()


def ipc_collect() -> None:
    _lazy_init()


def current_stream(device=None):
    _lazy_init()


def default_stream(device=None):
    _lazy_init()


def set_device(device) -> None:
    _lazy_init()


def get_rng_state(device="cuda"):
    _lazy_init()


def get_rng_state_all():
    return []


def set_rng_state(new_state, device="cuda") -> None:
    """Queued until CUDA initialises, i.e. never on a CPU build (as PyTorch)."""


def set_rng_state_all(new_states) -> None:
    pass


def initial_seed() -> int:
    _lazy_init()


def is_bf16_supported(including_emulation: bool = True) -> bool:
    return False


def is_tf32_supported() -> bool:
    return False


def get_arch_list() -> list:
    return []


def manual_seed(seed: int) -> None:
    """Seeds nothing (no GPU), silently, as PyTorch does on a CPU build."""


def manual_seed_all(seed: int) -> None:
    """Seeds nothing (no GPU), silently, as PyTorch does on a CPU build."""


def seed() -> None:
    pass


def seed_all() -> None:
    pass


def empty_cache() -> None:
    pass


def memory_allocated(device=None) -> int:
    return 0


def max_memory_allocated(device=None) -> int:
    return 0


def memory_reserved(device=None) -> int:
    return 0


def max_memory_reserved(device=None) -> int:
    return 0


def memory_stats(device=None) -> dict:
    return {}


def memory_summary(device=None, abbreviated: bool = False) -> str:
    return "No CUDA devices: ember runs on the CPU.\n"


def reset_peak_memory_stats(device=None) -> None:
    pass


class device:
    """``with torch.cuda.device(i):`` — no device to select on a CPU build."""

    def __init__(self, device):
        self.idx = device

    def __enter__(self):
        raise RuntimeError("PyTorch was compiled without CUDA support")

    def __exit__(self, *exc):
        return False


class device_of(device):
    def __init__(self, obj):
        super().__init__(-1)


def stream(stream=None):
    _lazy_init()


class Stream:
    def __new__(cls, *args, **kwargs):
        raise RuntimeError("torch.cuda.Stream requires CUDA support")


class Event:
    def __new__(cls, *args, **kwargs):
        raise RuntimeError("Tried to instantiate dummy base class Event")


class _CudaTensorType(type):
    """``torch.cuda.FloatTensor`` and friends: no tensor is ever one (isinstance is False) and
    constructing one raises PyTorch's CPU-build error."""

    def __instancecheck__(cls, obj):
        return False

    def __call__(cls, *args, **kwargs):
        raise TypeError(f"type torch.cuda.{cls.__name__} not available. Torch not compiled with CUDA enabled.")


def _cuda_type(name):
    return _CudaTensorType(name, (), {"__module__": "torch.cuda", "is_cuda": True})


FloatTensor, DoubleTensor, HalfTensor, BFloat16Tensor = (_cuda_type(n) for n in (
    "FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor"))
LongTensor, IntTensor, ShortTensor, CharTensor, ByteTensor, BoolTensor = (_cuda_type(n) for n in (
    "LongTensor", "IntTensor", "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor"))
__all__ += ["FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "LongTensor", "IntTensor", "ShortTensor",
            "CharTensor", "ByteTensor", "BoolTensor"]
