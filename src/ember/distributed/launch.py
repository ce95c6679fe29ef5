"""``ember run --nproc-per-node N SCRIPT [ARGS...]``: torchrun's role, on ``mpiexec``.

Starts N ranks with ``mpiexec``; each gets torchrun's variables (RANK, LOCAL_RANK, WORLD_SIZE,
LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT, ...) and runs SCRIPT with ``import torch`` served by
ember. BLAS/OpenMP threads per rank default to ``cores // ranks`` (at least 1) so that ranks x threads
does not exceed the cores; a value already in the environment (OMP_NUM_THREADS, ...) wins.
Several machines: ``--hostfile FILE`` (MPI's host file: one host per line, ``host:slots``), and N
ranks per host.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys

__all__ = ["launch", "find_mpiexec"]

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
                "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")

USAGE = """usage: ember run --nproc-per-node N [--nnodes M --hostfile FILE] [--master-addr A] [--master-port P]
                 SCRIPT [ARGS...]

Runs SCRIPT on N ranks (processes) per node, as torchrun does, through MPI's mpiexec.
  --nproc-per-node N   ranks per node (also --nproc_per_node; 'auto'/'cpu': one per core)
  --nnodes M           nodes, taken from --hostfile (default 1)
  --hostfile FILE      MPI host file for several machines (one host name per line)
  --master-addr A, --master-port P
                       exported as MASTER_ADDR/MASTER_PORT (ranks find each other through MPI)
  --standalone, --node-rank, --rdzv-*, --max-restarts ...
                       torchrun options accepted for compatibility (single-shot jobs, no restarts)
Environment: EMBER_MPIEXEC (mpiexec to use), OMP_NUM_THREADS (threads per rank; default cores // ranks)."""


def find_mpiexec() -> str | None:
    """The mpiexec next to this Python (``pip install mpich``), else the one on PATH."""
    env = os.environ.get("EMBER_MPIEXEC")
    if env:
        return env
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.path.exists(here):
        return here
    return shutil.which("mpiexec")


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS
        return os.cpu_count() or 1


def _parse(argv: list[str]):
    opts = {"nproc": None, "nnodes": 1, "hostfile": None, "master_addr": "127.0.0.1", "master_port": "29500"}
    takes_value = {"--nproc-per-node": "nproc", "--nnodes": "nnodes", "--hostfile": "hostfile",
                   "--master-addr": "master_addr", "--master-port": "master_port",
                   "--node-rank": None, "--rdzv-backend": None, "--rdzv-endpoint": None, "--rdzv-id": None,
                   "--rdzv-conf": None, "--max-restarts": None, "--monitor-interval": None, "--role": None,
                   "--log-dir": None, "--redirects": None, "--tee": None, "--local-addr": None,
                   "--start-method": None}
    flags = {"--standalone", "--no-python", "--module", "-m", "--run-path"}
    i = 0
    while i < len(argv):
        a = argv[i]
        if not a.startswith("-"):
            break
        if a in ("-h", "--help"):
            print(USAGE)
            raise SystemExit(0)
        name, eq, value = a.partition("=")
        name = name.replace("_", "-")
        if name in flags:
            if name in ("--module", "-m", "--no-python"):
                raise SystemExit(_fail(f"ember run: {name} is not supported; pass a script path"))
            i += 1
            continue
        if name not in takes_value:
            raise SystemExit(_fail(f"ember run: unknown option '{a}'\n{USAGE}"))
        if not eq:
            if i + 1 >= len(argv):
                raise SystemExit(_fail(f"ember run: {name} needs a value"))
            value = argv[i + 1]
            i += 1
        i += 1
        if takes_value[name] is not None:
            opts[takes_value[name]] = value
    return opts, argv[i:]


def _fail(msg: str) -> int:
    print(msg, file=sys.stderr)
    return 2


def _nproc(value) -> int:
    if value in (None, ""):
        raise SystemExit(_fail("ember run: --nproc-per-node needs a number of ranks"))
    if value in ("auto", "cpu"):
        return _cores()
    try:
        n = int(value)
    except ValueError:
        raise SystemExit(_fail(f"ember run: --nproc-per-node expects a positive integer, got '{value}'")) from None
    if n < 1:
        raise SystemExit(_fail(f"ember run: --nproc-per-node expects a positive integer, got {n}"))
    return n


def command(argv: list[str], ember_command: list[str] | None = None) -> tuple[list[str], dict]:
    """The mpiexec command line and environment for ``argv`` (after ``ember run``), or, with
    ``ember_command`` (e.g. ``["train", ...]``), for that ember command on every rank."""
    from .._run import child_env

    opts, rest = _parse(argv)
    n = _nproc(opts["nproc"])
    if ember_command is not None:
        rest = ["--ember-command", *ember_command]
    if not rest:
        raise SystemExit(_fail(f"ember run: no script given\n{USAGE}"))
    mpiexec = find_mpiexec()
    if mpiexec is None:
        raise SystemExit(_fail("ember run --nproc-per-node needs MPI: pip install 'ember[distributed]' "
                               "(or: pip install mpi4py mpich), or set EMBER_MPIEXEC"))
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        raise SystemExit(_fail("ember run --nproc-per-node needs mpi4py: pip install 'ember[distributed]' "
                               "(or: pip install mpi4py mpich)")) from None
    nnodes = int(opts["nnodes"])
    env = child_env()
    threads = str(max(1, _cores() // n))
    for var in _THREAD_VARS:
        env.setdefault(var, os.environ.get("OMP_NUM_THREADS", threads))
    env.update(MASTER_ADDR=str(opts["master_addr"]), MASTER_PORT=str(opts["master_port"]),
               LOCAL_WORLD_SIZE=str(n), TORCHELASTIC_RUN_ID=env.get("TORCHELASTIC_RUN_ID", "ember-none"),
               PYTHONUNBUFFERED=env.get("PYTHONUNBUFFERED", "1"), EMBER_RANK_RUNNER="1")
    cmd = [mpiexec]
    if opts["hostfile"]:
        cmd += ["-f", opts["hostfile"], "-ppn", str(n)]
    elif nnodes > 1:
        raise SystemExit(_fail("ember run: --nnodes > 1 needs --hostfile FILE (the machines to run on)"))
    cmd += ["-n", str(n * nnodes), sys.executable, "-m", "ember.distributed._rank", *rest]
    return cmd, env


def launch(argv: list[str], ember_command: list[str] | None = None) -> int:
    """Run the job; return its exit code (non-zero when any rank failed or was killed)."""
    try:
        cmd, env = command(argv, ember_command)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 1
    # mpiexec in its own session: a signal reaches it once, from here, whether it was sent to the
    # launcher alone or to its process group (a terminal's Ctrl-C); mpiexec passes it to the ranks (a
    # second Ctrl-C makes mpiexec end them at once).
    proc = subprocess.Popen(cmd, env=env, start_new_session=True,
                            preexec_fn=_die_with_parent if sys.platform == "linux" else None)

    def forward(signum, frame):
        proc.send_signal(signum)
    before = _shm_segments()
    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        code = proc.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if code != 0:
        remove_orphaned_shm(before)
    return code


_SHM = "/dev/shm"


def _shm_segments() -> set[str]:
    """MPICH's shared-memory segments now present (Linux; empty elsewhere)."""
    try:
        return {f for f in os.listdir(_SHM) if f.startswith("mpich_shm_")}
    except OSError:
        return set()


def remove_orphaned_shm(before: set[str]) -> None:
    """After an aborted job: unlink the MPICH segments it created that no live process maps.

    MPI_Abort and killed ranks skip MPICH's cleanup, leaving a few MB in /dev/shm per failed job. A
    segment that appeared during the job and that no process still maps is that job's leftover (another
    job running concurrently keeps its own segments mapped)."""
    import time
    new = _shm_segments() - before
    for _ in range(50):  # ranks may still be exiting for a moment after mpiexec returned (up to 5 s)
        if not new:
            return
        mapped = _mapped(new)
        for name in new - mapped:
            try:
                os.unlink(os.path.join(_SHM, name))
            except OSError:
                pass
        new = mapped
        time.sleep(0.1)


def _mapped(names: set[str]) -> set[str]:
    mapped = set()
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/maps") as f:
                    text = f.read()
            except OSError:
                continue
            mapped.update(name for name in names if name in text)
    return mapped


def _die_with_parent() -> None:
    """In mpiexec's process (Linux): SIGTERM when the launcher dies, even by SIGKILL (no orphan jobs)."""
    import ctypes
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
