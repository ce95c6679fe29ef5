"""``torch.accelerator``: ember runs on the CPU only, so no accelerator is available; the queries
answer so and the device-level calls raise PyTorch's error."""
from __future__ import annotations

__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index", "current_device_idx",
           "set_device_index", "set_device_idx", "synchronize", "current_stream", "set_stream", "empty_cache",
           "memory_allocated", "max_memory_allocated", "memory_reserved", "max_memory_reserved", "memory_stats",
           "reset_peak_memory_stats", "device_index"]

_NONE = "Cannot access accelerator device when none is available."


def _none(*args, **kwargs):
    raise RuntimeError(_NONE)


def is_available() -> bool:
    return False


def current_accelerator(check_available: bool = False):
    return None


def device_count() -> int:
    return 0


def current_device_index() -> int:
    _none()


def set_device_index(device) -> None:
    _none()


current_device_idx = current_device_index
set_device_idx = set_device_index
synchronize = current_stream = set_stream = empty_cache = memory_stats = _none
memory_allocated = max_memory_allocated = memory_reserved = max_memory_reserved = reset_peak_memory_stats = _none


class device_index:
    def __init__(self, device):
        self.idx = device

    def __enter__(self):
        if self.idx is not None:
            _none()
        return self

    def __exit__(self, *exc):
        return False
