"""The import alias behind ``ember run``: ``torch[.x]`` is served by ``ember[.x]`` and
``torchvision[.x]`` by ``ember.vision[.x]`` — the same module objects, so identity and isinstance hold.

In a notebook: ``import ember; ember.install_torch_alias()`` before ``import torch``.
Child processes inherit the alias through ``EMBER_TORCH_ALIAS=1`` and a ``sitecustomize`` on
``PYTHONPATH`` (see ``ember._run.child_env``), which covers DataLoader workers and multiprocessing with
spawn, forkserver and fork.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys

__all__ = ["install_torch_alias", "uninstall_torch_alias", "ALIASES"]

ALIASES = {"torch": "ember", "torchvision": "ember.vision"}

# Parts of torch's namespace that ember does not implement: importing them fails at once with an
# error that names the feature, instead of a ModuleNotFoundError from deep inside.
UNSUPPORTED = {
    "torch.jit": "TorchScript (torch.jit)",
    "torch.fx": "torch.fx graph transformations",
    "torch.sparse": "sparse tensors",
    "torch.quantization": "quantization",
    "torch.ao": "quantization (torch.ao)",
    "torch.onnx": "ONNX export",
    "torch.export": "torch.export",
    "torch._dynamo": "torch.compile's dynamo",
    "torch._inductor": "torch.compile's inductor",
    "torch.distributions": "torch.distributions",
}


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str):
        self.target = target
        self._spec = None

    def create_module(self, spec):
        module = importlib.import_module(self.target)
        self._spec = getattr(module, "__spec__", None)
        return module

    def exec_module(self, module):
        # The import system stamped the alias's spec on ember's module: give it back its own.
        if self._spec is not None:
            module.__spec__ = self._spec
        _refuse_missing_everywhere()


def _refuse_missing_everywhere() -> None:
    """Every public ember module loaded so far names the missing feature on a failed attribute lookup
    (``torchvision.models.X`` -> "ember does not support torchvision.models.X")."""
    from ._surface import refuse_missing
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "ember" or name.startswith("ember.")):
            continue
        if any(part.startswith("_") for part in name.split(".")):
            continue
        refuse_missing(module, name.replace("ember.vision", "torchvision", 1).replace("ember", "torch", 1))


class _UnsupportedLoader(importlib.abc.Loader):
    def __init__(self, feature: str):
        self.feature = feature

    def create_module(self, spec):
        raise ImportError(f"ember does not support {self.feature} ('{spec.name}'); see DEVIATIONS.md")

    def exec_module(self, module):  # pragma: no cover - create_module always raises
        pass


class _AliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        root = fullname.split(".", 1)[0]
        if root not in ALIASES:
            return None
        target = ALIASES[root] + fullname[len(root):]
        try:
            found = importlib.util.find_spec(target)
        except (ImportError, ValueError):
            found = None
        if found is None:
            for prefix, feature in UNSUPPORTED.items():
                if fullname == prefix or fullname.startswith(prefix + "."):
                    return importlib.machinery.ModuleSpec(fullname, _UnsupportedLoader(feature))
            return importlib.machinery.ModuleSpec(
                fullname, _UnsupportedLoader(f"the module '{fullname}' (no '{target}' in ember)"))
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(target), is_package=True)


_FINDER = _AliasFinder()


def install_torch_alias() -> None:
    """Make ``import torch`` / ``import torchvision`` give ember's modules in this process."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    for name in list(sys.modules):
        if name.split(".", 1)[0] in ALIASES and not sys.modules[name].__name__.startswith("ember"):
            del sys.modules[name]
    import ember
    sys.modules["torch"] = ember
    _refuse_missing_everywhere()
    os.environ["EMBER_TORCH_ALIAS"] = "1"


def uninstall_torch_alias() -> None:
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    for name in list(sys.modules):
        if name.split(".", 1)[0] in ALIASES:
            del sys.modules[name]
    os.environ.pop("EMBER_TORCH_ALIAS", None)
