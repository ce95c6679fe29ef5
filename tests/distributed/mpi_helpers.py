"""Helpers: run a small script on N MPI ranks (``mpiexec -n N python script``) and check its exit."""
import os
import subprocess
import sys
import textwrap

import pytest

from ember.distributed.launch import _shm_segments, find_mpiexec, remove_orphaned_shm

MPIEXEC = find_mpiexec()
try:
    import mpi4py  # noqa: F401
    HAVE_MPI4PY = True
except ImportError:
    HAVE_MPI4PY = False

requires_mpi = pytest.mark.skipif(not (HAVE_MPI4PY and MPIEXEC),
                                  reason="MPI not installed (pip install mpi4py mpich): ember.distributed's "
                                         "multi-rank tests need mpiexec and mpi4py")


def _env():
    env = dict(os.environ)
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[v] = "1"
    for v in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE"):
        env.pop(v, None)
    return env


def write(tmp_path, source: str, name: str = "script.py") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return str(path)


def run_ranks(n: int, path: str, *args, timeout: float = 180, launcher: bool = False, check: bool = True):
    """Run ``path`` on ``n`` ranks; return the CompletedProcess (asserting exit 0 when ``check``)."""
    if launcher:
        cmd = [sys.executable, "-m", "ember", "run", "--nproc-per-node", str(n), path, *map(str, args)]
    else:
        cmd = [MPIEXEC, "-n", str(n), sys.executable, path, *map(str, args)]
    before = _shm_segments()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=_env())
    if p.returncode != 0 and not launcher:
        remove_orphaned_shm(before)  # an aborted MPICH job leaves its /dev/shm segments (the launcher cleans up)
    if check:
        assert p.returncode == 0, f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
    return p
