"""``ember run SCRIPT [ARGS...]``: run an unmodified PyTorch program on ember."""
from __future__ import annotations

import os
import runpy
import sys
import traceback

__all__ = ["run_script", "child_env"]


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


def run_script(path: str, args: list[str]) -> int:
    """Run ``path`` as ``__main__`` with ``sys.argv = [path, *args]``; return its exit code."""
    from ._alias import install_torch_alias

    if not os.path.exists(path):
        print(f"ember run: can't open file '{path}': [Errno 2] No such file or directory", file=sys.stderr)
        return 2
    if os.path.isdir(path) and not os.path.exists(os.path.join(path, "__main__.py")):
        print(f"ember run: '{path}' is a directory without a __main__.py", file=sys.stderr)
        return 2
    if not os.path.isdir(path):
        with open(path, "rb") as f:
            head = f.read(4096)
        if b"\0" in head:
            print(f"ember run: '{path}' is not a Python program (binary file)", file=sys.stderr)
            return 2
    os.environ.update(child_env())
    install_torch_alias()
    sys.argv = [path, *args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)) if not os.path.isdir(path) else path)
    try:
        runpy.run_path(path, run_name="__main__")
    except SystemExit as e:
        code = e.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    except SyntaxError:
        traceback.print_exc(limit=0)
        return 1
    except BaseException as e:  # show the script's own frames, not ember run's
        tb = e.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename in (__file__, runpy.__file__):
            tb = tb.tb_next
        traceback.print_exception(type(e), e, tb)
        return 130 if isinstance(e, KeyboardInterrupt) else 1
    return 0


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: ember run [--nproc-per-node N] SCRIPT [ARGS...]\n\nRuns an unmodified PyTorch program with "
              "`import torch` served by ember and `import torchvision` by ember.vision.")
        return 0 if argv else 2
    if argv[0].startswith("--nproc-per-node") or argv[0] == "--nproc_per_node":
        from .distributed.launch import launch
        return launch(argv)
    return run_script(argv[0], argv[1:])
