"""``torch.accelerator``: ember runs on the CPU only, so no accelerator is available."""
from __future__ import annotations

__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index", "synchronize"]


def is_available() -> bool:
    return False


def current_accelerator(check_available: bool = False):
    return None


def device_count() -> int:
    return 0


def current_device_index() -> int:
    return -1


def synchronize(device=None) -> None:
    pass
