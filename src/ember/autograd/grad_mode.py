"""Grad mode: whether ops record the graph (``no_grad``, ``enable_grad``, ``set_grad_enabled``)."""
from __future__ import annotations

import functools

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled"]


class _State:
    __slots__ = ("enabled",)

    def __init__(self):
        self.enabled = True


STATE = _State()


def is_grad_enabled() -> bool:
    return STATE.enabled


def is_inference_mode_enabled() -> bool:
    return False


class _Mode:
    """Base for the context managers; each is also a decorator, as in PyTorch."""

    _value = True

    def __enter__(self):
        self._prev = STATE.enabled
        STATE.enabled = self._value
        return None

    def __exit__(self, *exc):
        STATE.enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self._fresh():
                return fn(*args, **kwargs)
        return wrapper

    def _fresh(self):
        return self.__class__()

    def clone(self):
        return self._fresh()


class no_grad(_Mode):
    _value = False


class enable_grad(_Mode):
    _value = True


class inference_mode(_Mode):
    def __init__(self, mode: bool = True):
        self._value = not mode

    def _fresh(self):
        return inference_mode(not self._value)


class set_grad_enabled(_Mode):
    """Sets grad mode on construction (usable as a plain call) and restores it on exit."""

    def __init__(self, mode: bool):
        self._prev = STATE.enabled
        self._value = bool(mode)
        STATE.enabled = self._value

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        STATE.enabled = self._prev
        return False

    def __call__(self, fn):
        STATE.enabled = self._prev  # used as a decorator: the mode applies inside calls only
        return super().__call__(fn)

    def _fresh(self):
        return _Scoped(self._value)


class _Scoped(_Mode):
    def __init__(self, value: bool):
        self._value = value
