"""``ember run SCRIPT``: the script runs as ``python SCRIPT`` would, with ``torch`` served by ember.

Behaviour that does not involve torch (argv, __main__, imports next to the script, exit codes,
bad input) is compared with plain ``python SCRIPT``; the alias itself (identity of modules, child
processes) is checked in ember's own terms.
"""
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

EMBER = [sys.executable, "-m", "ember"]


def _run(cmd, cwd, timeout=120):
    env = dict(os.environ)
    env.pop("EMBER_TORCH_ALIAS", None)
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def ember_run(script, *args, cwd):
    return _run([*EMBER, "run", str(script), *args], cwd)


def python_run(script, *args, cwd):
    return _run([sys.executable, str(script), *args], cwd)


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


PLAIN = """
    import os, sys
    import helper
    from pkg import thing
    print("name", __name__)
    print("argv", sys.argv)
    print("file", __file__ == os.path.abspath(sys.argv[0]))
    print("path0", sys.path[0] == os.path.dirname(os.path.abspath(__file__)))
    print("helper", helper.VALUE, thing.double(21))
    print("main module", sys.modules["__main__"].__dict__ is globals())
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "exit3":
        sys.exit(3)
    if mode == "exitmsg":
        sys.exit("stopping here")
    if mode == "raise":
        def inner():
            raise ValueError("boom from the script")
        inner()
"""


@pytest.fixture()
def project(tmp_path):
    """A script with a helper module and a package (relative imports) next to it."""
    write(tmp_path / "helper.py", "VALUE = 42\n")
    write(tmp_path / "pkg" / "__init__.py", "")
    write(tmp_path / "pkg" / "thing.py", "from .util import factor\n\ndef double(x):\n    return factor * x\n")
    write(tmp_path / "pkg" / "util.py", "factor = 2\n")
    return write(tmp_path / "prog.py", PLAIN)


@pytest.mark.parametrize("args", [(), ("a", "--flag", "x y"), ("exit3",), ("exitmsg",)])
def test_like_python(project, args):
    """stdout, stderr and exit code as with ``python SCRIPT`` (for a script that does not use torch)."""
    cwd = project.parent
    want = python_run("prog.py", *args, cwd=cwd)
    got = ember_run("prog.py", *args, cwd=cwd)
    assert (got.returncode, got.stdout, got.stderr) == (want.returncode, want.stdout, want.stderr)
    assert "helper 42 42" in got.stdout


def test_exception_traceback_is_the_scripts(project):
    want = python_run("prog.py", "raise", cwd=project.parent)
    got = ember_run("prog.py", "raise", cwd=project.parent)
    assert got.returncode == want.returncode == 1
    assert got.stderr == want.stderr  # same frames: no ember or runpy lines
    assert "ValueError: boom from the script" in got.stderr
    assert "_run.py" not in got.stderr and "runpy" not in got.stderr


def test_script_from_another_directory(project, tmp_path_factory):
    other = tmp_path_factory.mktemp("elsewhere")
    got = ember_run(project, "exit3", cwd=other)
    assert got.returncode == 3
    assert "helper 42 42" in got.stdout and f"argv ['{project}', 'exit3']" in got.stdout


def test_console_script_and_module_form(project):
    exe = shutil.which("ember")
    if exe is None:
        pytest.skip("the ember console script is not on PATH (package not installed with its scripts)")
    a = _run([exe, "run", "prog.py", "exit3"], project.parent)
    b = ember_run("prog.py", "exit3", cwd=project.parent)
    assert a.returncode == b.returncode == 3 and a.stdout == b.stdout


def test_missing_script(tmp_path):
    got = ember_run("nothere.py", cwd=tmp_path)
    assert got.returncode != 0
    assert "can't open file 'nothere.py'" in got.stderr and "No such file" in got.stderr
    assert "Traceback" not in got.stderr


def test_not_python(tmp_path):
    write(tmp_path / "notes.txt", "these are shopping notes, not a program\n")
    got = ember_run("notes.txt", cwd=tmp_path)
    assert got.returncode != 0
    assert "'notes.txt' is not a Python program" in got.stderr
    (tmp_path / "blob.py").write_bytes(b"\x7fELF\x00\x01\x02binary")
    got = ember_run("blob.py", cwd=tmp_path)
    assert got.returncode != 0 and "'blob.py' is not a Python program (binary file)" in got.stderr
    got = ember_run(str(tmp_path), cwd=tmp_path)
    assert got.returncode != 0 and "can't find '__main__' module" in got.stderr


def test_syntax_error_like_python(tmp_path):
    write(tmp_path / "bad.py", "x = (1,\nprint(x\n")
    want = python_run("bad.py", cwd=tmp_path)
    got = ember_run("bad.py", cwd=tmp_path)
    assert got.returncode == want.returncode == 1
    assert got.stderr.strip().splitlines()[-1] == want.stderr.strip().splitlines()[-1]


def test_usage(tmp_path):
    got = _run([*EMBER, "run"], tmp_path)
    assert got.returncode == 2 and "usage: ember run SCRIPT" in got.stderr
    got = _run([*EMBER, "run", "--help"], tmp_path)
    assert got.returncode == 0 and "usage: ember run SCRIPT" in got.stdout


IDENTITY = """
    import sys
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from torch.utils.data import DataLoader
    import torchvision
    import torchvision.transforms as T
    from torchvision import datasets
    import ember, ember.vision, ember.vision.transforms, ember.vision.datasets
    import ember.utils.data
    checks = {
        "torch": torch is ember,
        "nn": torch.nn is ember.nn and nn is ember.nn,
        "F": F is ember.nn.functional,
        "DataLoader": DataLoader is ember.utils.data.DataLoader,
        "torchvision": torchvision is ember.vision,
        "T": T is ember.vision.transforms,
        "datasets": datasets is ember.vision.datasets,
        "sys.modules": sys.modules["torch.nn"] is ember.nn,
        "isinstance": isinstance(torch.zeros(2), ember.Tensor) and isinstance(nn.Linear(2, 2), ember.nn.Module),
        "spec kept": ember.nn.__spec__.name == "ember.nn",
    }
    print(checks)
    assert all(checks.values()), checks
    print("OK")
"""


def test_same_module_objects(tmp_path):
    got = ember_run(write(tmp_path / "ident.py", IDENTITY), cwd=tmp_path)
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip().endswith("OK")


CHILDREN = """
    import multiprocessing as mp
    import sys

    import torch
    from torch.utils.data import DataLoader, Dataset


    class Probe(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            import os
            import ember
            import torch
            return torch.tensor([float(torch is ember), float(os.getpid())])


    def child(q):
        import ember
        import torch
        import torchvision
        q.put((torch is ember) and (torchvision is ember.vision) and type(torch.zeros(1)) is ember.Tensor)


    def spawned(i, q):
        import ember
        import torch
        q.put(torch is ember)


    if __name__ == "__main__":
        import os
        rows = torch.cat([b for b in DataLoader(Probe(), batch_size=2, num_workers=2)])
        print("workers alias", bool((rows[:, 0] == 1).all()), "worker processes", len(set(rows[:, 1].tolist())),
              "parent not a worker", os.getpid() not in rows[:, 1].tolist())
        for method in sys.argv[1:]:
            ctx = mp.get_context(method)
            q = ctx.Queue()
            p = ctx.Process(target=child, args=(q,))
            p.start()
            print(method, q.get(timeout=60))
            p.join()
            print(method, "exit", p.exitcode)
        import torch.multiprocessing as tmp
        q = tmp.get_context("spawn").SimpleQueue()
        tmp.spawn(spawned, args=(q,), nprocs=2)
        print("torch.multiprocessing.spawn", [q.get(), q.get()])
"""


def test_children_alias_torch(tmp_path):
    script = write(tmp_path / "children.py", CHILDREN)
    got = ember_run(script, "spawn", "forkserver", "fork", cwd=tmp_path)
    assert got.returncode == 0, got.stderr
    out = got.stdout
    assert "workers alias True worker processes 2 parent not a worker True" in out
    for method in ("spawn", "forkserver", "fork"):
        assert f"{method} True" in out and f"{method} exit 0" in out
    assert "torch.multiprocessing.spawn [True, True]" in out


def test_notebook_call(tmp_path):
    """In a notebook: ``ember.install_torch_alias()`` before ``import torch``."""
    code = textwrap.dedent("""
        import ember
        ember.install_torch_alias()
        import torch, torch.nn, torchvision.transforms
        print(torch is ember, torch.nn is ember.nn, torchvision.transforms is ember.vision.transforms)
        ember.uninstall_torch_alias()
        import sys
        print("torch" in sys.modules)
    """)
    got = _run([sys.executable, "-c", code], tmp_path)
    assert got.returncode == 0, got.stderr
    assert got.stdout.split() == ["True", "True", "True", "False"]


def test_unsupported_imports_name_the_feature(tmp_path):
    script = write(tmp_path / "fx.py", """
        import torch
        for name in ["torch.fx", "torch.sparse", "torch.quantization", "torch.onnx", "torch._dynamo",
                     "torch.no_such_module", "torchvision.io"]:
            try:
                __import__(name)
                print(name, "imported")
            except ImportError as e:
                print(name, type(e).__name__, e)
        import torch.jit
        print("torch.jit imports", torch.jit.is_scripting())
    """)
    got = ember_run(script, cwd=tmp_path)
    assert got.returncode == 0, got.stderr
    lines = dict(line.split(" ", 1) for line in got.stdout.strip().splitlines())
    assert lines["torch.fx"].startswith("ImportError ember does not support torch.fx")
    assert lines["torch.sparse"].startswith("ImportError ember does not support sparse tensors")
    assert lines["torch.quantization"].startswith("ImportError ember does not support quantization")
    assert lines["torch.onnx"].startswith("ImportError ember does not support ONNX export")
    assert lines["torch._dynamo"].startswith("ImportError ember does not support torch.compile")
    assert lines["torch.no_such_module"].startswith("ImportError ember does not support the module "
                                                     "'torch.no_such_module'")
    assert "ember does not support the module 'torchvision.io'" in lines["torchvision.io"]
    assert lines["torch.jit"] == "imports False"


def test_import_error_in_script_is_reported_like_python(tmp_path):
    write(tmp_path / "imp.py", "import numpy\nimport no_such_package_xyz\n")
    want = python_run("imp.py", cwd=tmp_path)
    got = ember_run("imp.py", cwd=tmp_path)
    assert got.returncode == want.returncode == 1
    assert got.stderr == want.stderr


def test_python_subprocesses_alias_and_keep_their_sitecustomize(tmp_path):
    """A ``python`` the script starts serves torch from ember too; a sitecustomize already on the
    path still runs (ember's child-process hook chains to it)."""
    site = tmp_path / "site"
    write(site / "sitecustomize.py", "import os\nos.environ['OWN_SITECUSTOMIZE'] = 'ran'\n")
    script = write(tmp_path / "sub.py", """
        import subprocess, sys
        code = "import os, torch, ember; print(torch is ember, os.environ.get('OWN_SITECUSTOMIZE'))"
        print(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip())
    """)
    env = dict(os.environ, PYTHONPATH=str(site))
    env.pop("EMBER_TORCH_ALIAS", None)
    got = subprocess.run([*EMBER, "run", str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         env=env)
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip() == "True ran"


def test_missing_names_under_the_alias_name_the_feature(tmp_path):
    script = write(tmp_path / "missing.py", """
        import torch
        import torchvision
        from torchvision import models
        for get in (lambda: models.NoSuchNet_Weights, lambda: torchvision.no_such_thing,
                    lambda: torch.nn.NoSuchLayer, lambda: torch.fx):
            try:
                get()
            except AttributeError as e:
                print(e)
        print(models.resnet18.__name__)
    """)
    got = ember_run(script, cwd=tmp_path)
    assert got.returncode == 0, got.stderr
    assert got.stdout.splitlines() == [
        "ember does not support torchvision.models.NoSuchNet_Weights (module 'ember.vision.models' has no "
        "attribute 'NoSuchNet_Weights')",
        "ember does not support torchvision.no_such_thing (module 'ember.vision' has no attribute 'no_such_thing')",
        "ember does not support torch.nn.NoSuchLayer (module 'ember.nn' has no attribute 'NoSuchLayer')",
        "ember does not support torch.fx (torch.fx)",
        "resnet18",
    ]


def test_unsupported_feature_traceback_shows_the_scripts_line(tmp_path):
    write(tmp_path / "uses_fx.py", "import torch\nimport torch.fx\n")
    got = ember_run("uses_fx.py", cwd=tmp_path)
    assert got.returncode == 1
    assert got.stderr.splitlines() == [
        "Traceback (most recent call last):",
        f'  File "{tmp_path / "uses_fx.py"}", line 2, in <module>',
        "    import torch.fx",
        "ImportError: ember does not support torch.fx graph transformations ('torch.fx'); see DEVIATIONS.md",
    ]
