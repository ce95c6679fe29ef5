"""Installed on PYTHONPATH by ``ember run`` so child processes serve ``import torch`` from ember.

A ``sitecustomize`` found later on ``sys.path`` (the system's or a virtualenv's) still runs: this
one shadows it, so it runs it itself.
"""
import os
import sys


def _chain() -> None:
    import importlib.machinery
    import importlib.util
    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is not None and spec.loader is not None:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)


if os.environ.get("EMBER_TORCH_ALIAS") == "1":
    try:
        from ember._alias import install_torch_alias
        install_torch_alias()
    except Exception as exc:  # pragma: no cover - never break interpreter start-up
        print(f"ember: could not install the torch alias in a child process: {exc}", file=sys.stderr)
try:
    _chain()
except Exception as exc:  # pragma: no cover - as Python itself: report, carry on
    print(f"Error in sitecustomize; set PYTHONVERBOSE for traceback:\n{type(exc).__name__}: {exc}", file=sys.stderr)
del _chain
