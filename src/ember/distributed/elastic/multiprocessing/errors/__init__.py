"""``record``: torchrun programs decorate their entry point with it to report a failing rank's error.
ember's launcher already prints the failing rank's traceback and ends the job, so it returns ``fn``."""
from __future__ import annotations

__all__ = ["record"]


def record(fn=None, error_handler=None):
    if fn is None:
        return lambda f: f
    return fn
