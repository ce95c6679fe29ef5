"""``torch.cuda`` on a CPU-only build: queries answer "no GPU"; using one raises PyTorch's error."""
from __future__ import annotations

__all__ = ["is_available", "device_count", "synchronize", "current_device", "get_device_name", "manual_seed",
           "manual_seed_all", "empty_cache", "is_initialized", "memory_allocated", "max_memory_allocated",
           "reset_peak_memory_stats", "set_device", "device", "amp"]

_NO_CUDA = "Torch not compiled with CUDA enabled"


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def _lazy_init():
    raise AssertionError(_NO_CUDA)


def synchronize(device=None) -> None:
    _lazy_init()


def current_device() -> int:
    _lazy_init()


def get_device_name(device=None) -> str:
    _lazy_init()


def set_device(device) -> None:
    _lazy_init()


def manual_seed(seed: int) -> None:
    """Seeds nothing (no GPU), silently, as PyTorch does on a CPU build."""


def manual_seed_all(seed: int) -> None:
    """Seeds nothing (no GPU), silently, as PyTorch does on a CPU build."""


def empty_cache() -> None:
    pass


def memory_allocated(device=None) -> int:
    return 0


def max_memory_allocated(device=None) -> int:
    return 0


def reset_peak_memory_stats(device=None) -> None:
    pass


class device:
    def __init__(self, device):
        _lazy_init()


class _Amp:
    """``torch.cuda.amp``: autocast is a no-op context on the CPU build (with PyTorch's warning)."""

    class autocast:
        def __init__(self, enabled=True, dtype=None, cache_enabled=True):
            import warnings
            if enabled:
                warnings.warn("User provided device_type of 'cuda', but CUDA is not available. Disabling")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def __call__(self, fn):
            return fn

    class GradScaler:
        def __init__(self, *args, enabled=True, **kwargs):
            self._enabled = False

        def scale(self, loss):
            return loss

        def step(self, optimizer, *args, **kwargs):
            return optimizer.step(*args, **kwargs)

        def update(self, new_scale=None):
            pass

        def unscale_(self, optimizer):
            pass

        def is_enabled(self):
            return False

        def state_dict(self):
            return {}

        def load_state_dict(self, state):
            pass


amp = _Amp
