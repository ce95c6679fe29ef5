"""``ember run SCRIPT [ARGS...]``: run an unmodified PyTorch program on ember.

The script runs as ``python SCRIPT`` would run it — as the ``__main__`` module, with
``sys.argv = [SCRIPT, *ARGS]``, its own directory first on ``sys.path`` and its exit code — except
that ``import torch[.x]`` gives ``ember[.x]`` and ``import torchvision[.x]`` gives
``ember.vision[.x]`` (see ``ember._alias``), here and in every child process it starts.
"""
from __future__ import annotations

import builtins
import importlib.machinery
import os
import runpy
import sys
import traceback
import types

__all__ = ["run_script", "child_env", "main"]

_LAUNCH_FILES = (__file__, runpy.__file__, "<frozen runpy>")
_PY_SUFFIXES = (".py", ".pyw")
_HERE = os.path.dirname(os.path.abspath(__file__))
_ALIAS_FILES = ("_alias.py", "_surface.py")


def child_env(env: dict | None = None) -> dict:
    """Environment for processes started from an aliased program: they alias torch too."""
    env = dict(os.environ if env is None else env)
    site = os.path.join(os.path.dirname(__file__), "_alias_site")
    parts = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if site not in parts:
        parts.insert(0, site)
    env["PYTHONPATH"] = os.pathsep.join(parts)
    env["EMBER_TORCH_ALIAS"] = "1"
    return env


def _fail(msg: str) -> int:
    print(f"ember run: {msg}", file=sys.stderr)
    return 2


def _compile(path: str):
    """The script's code object, or an exit code after a clear message."""
    with open(path, "rb") as f:
        source = f.read()
    if b"\0" in source[:8192]:
        return _fail(f"'{path}' is not a Python program (binary file)")
    try:
        return compile(source, os.path.abspath(path), "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as e:
        traceback.print_exception(type(e), e, None)
        if not path.endswith(_PY_SUFFIXES):
            print(f"ember run: '{path}' is not a Python program", file=sys.stderr)
        return 1


def _exit_code(e: SystemExit) -> int:
    code = e.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _report(e: BaseException) -> int:
    """Print the traceback as ``python SCRIPT`` would: the script's frames, not the launcher's."""
    tb = e.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename in _LAUNCH_FILES:
        tb = tb.tb_next
    if sys.excepthook is not sys.__excepthook__:  # the script installed its own hook
        sys.excepthook(type(e), e, tb)
    else:
        report = traceback.TracebackException(type(e), e, tb)
        _hide_alias_frames(report, set())
        print("".join(report.format()), end="", file=sys.stderr)
    return 130 if isinstance(e, KeyboardInterrupt) else 1


def _hide_alias_frames(report: traceback.TracebackException, seen: set) -> None:
    """Drop the frames of ember's alias and refusal machinery (the error message names the feature)."""
    if id(report) in seen:
        return
    seen.add(id(report))
    report.stack = traceback.StackSummary.from_list(
        [f for f in report.stack if os.path.basename(f.filename) not in _ALIAS_FILES
         or os.path.dirname(f.filename) != _HERE])
    for chained in (report.__cause__, report.__context__):
        if chained is not None:
            _hide_alias_frames(chained, seen)


def run_script(path: str, args: list[str]) -> int:
    """Run ``path`` as ``__main__`` with ``sys.argv = [path, *args]``; return its exit code."""
    from ._alias import install_torch_alias

    if not os.path.exists(path):
        return _fail(f"can't open file '{path}': [Errno 2] No such file or directory")
    is_dir = os.path.isdir(path)
    if is_dir and not os.path.exists(os.path.join(path, "__main__.py")):
        return _fail(f"can't find '__main__' module in '{path}'")
    code = None
    if not is_dir:
        try:
            code = _compile(path)
        except OSError as e:
            return _fail(f"can't open file '{path}': {e}")
        if isinstance(code, int):
            return code
    os.environ.update(child_env())
    install_torch_alias()
    sys.argv = [path, *args]
    # As `python SCRIPT`: the script's directory replaces the launcher's at the head of sys.path.
    here = os.path.abspath(path) if is_dir else os.path.dirname(os.path.abspath(path))
    if sys.path:
        sys.path[0] = here
    else:
        sys.path.insert(0, here)
    try:
        if is_dir:
            runpy.run_path(path, run_name="__main__")
        else:
            main_module = types.ModuleType("__main__")
            main_module.__dict__.update(__file__=code.co_filename, __cached__=None, __spec__=None,
                                        __loader__=importlib.machinery.SourceFileLoader("__main__", code.co_filename),
                                        __builtins__=builtins)
            sys.modules["__launcher_main__"] = sys.modules.get("__main__")
            sys.modules["__main__"] = main_module
            exec(code, main_module.__dict__)
    except SystemExit as e:
        return _exit_code(e)
    except BaseException as e:  # noqa: BLE001 - everything the script raises ends it, as with python
        return _report(e)
    return 0


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: ember run SCRIPT [ARGS...]\n\nRuns an unmodified PyTorch program with `import torch` served "
              "by ember and `import torchvision` by ember.vision (also in the processes it starts).",
              file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    if argv[0].split("=")[0].replace("_", "-") in ("--nproc-per-node", "--nnodes", "--standalone", "--hostfile",
                                                    "--master-addr", "--master-port", "--node-rank"):
        # torchrun's options (in any order before the script): the multi-rank launcher
        try:
            from .distributed.launch import launch
        except ImportError:
            return _fail("--nproc-per-node needs ember.distributed, which this ember does not have")
        return launch(argv)
    if argv[0].startswith("-"):
        return _fail(f"unknown option '{argv[0]}' (usage: ember run SCRIPT [ARGS...])")
    return run_script(argv[0], argv[1:])
