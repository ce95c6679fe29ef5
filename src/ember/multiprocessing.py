"""``torch.multiprocessing``: Python's multiprocessing plus tensors in shared memory.

``Tensor.share_memory_()`` moves a tensor's array into a POSIX shared-memory segment; a shared
tensor sent to another process (spawn/forkserver pickling, or fork inheritance) maps the same
segment, so Hogwild-style training in several processes updates one set of weights.
"""
from __future__ import annotations

import atexit
import mmap
import multiprocessing as _mp
import os
import secrets
import sys as _sys
from multiprocessing import *  # noqa: F401,F403

import _posixshmem

import numpy as np

__all__ = [n for n in dir(_mp) if not n.startswith("_")] + [
    "spawn", "start_processes", "ProcessContext", "ProcessRaisedException", "ProcessExitedException",
    "get_sharing_strategy", "set_sharing_strategy", "get_all_sharing_strategies"]

_STRATEGY = ["file_system" if _sys.platform == "darwin" else "file_descriptor"]  # torch's defaults


def get_all_sharing_strategies():
    return {"file_system", "file_descriptor"}


def get_sharing_strategy():
    return _STRATEGY[0]


def set_sharing_strategy(new_strategy):
    if new_strategy not in get_all_sharing_strategies():
        raise ValueError(f"invalid sharing strategy {new_strategy!r}")
    _STRATEGY[0] = new_strategy


class _Segment:
    """A POSIX shared-memory segment mapped into this process, kept out of Python's resource tracker
    (whose bookkeeping breaks when several processes attach the same segment). The creating process
    unlinks the name when it exits; mappings already made stay valid until their processes end."""

    def __init__(self, name: str, size: int = 0, create: bool = False):
        flags = os.O_RDWR | (os.O_CREAT | os.O_EXCL if create else 0)
        fd = _posixshmem.shm_open("/" + name, flags, mode=0o600)
        try:
            if create:
                os.ftruncate(fd, size)
            else:
                size = os.fstat(fd).st_size
            self.buf = mmap.mmap(fd, size)
        finally:
            os.close(fd)
        self.name = name


_OWNED: dict = {}  # segment name -> pid of the process that created it


def _unlink_owned() -> None:
    for name, pid in list(_OWNED.items()):
        if pid == os.getpid():
            try:
                _posixshmem.shm_unlink("/" + name)
            except OSError:
                pass
        _OWNED.pop(name, None)


atexit.register(_unlink_owned)


def _share_tensor(t) -> None:
    """Move t's values into a shared-memory segment (no-op if already shared)."""
    if _is_shared(t):
        return
    a = t._data
    while True:
        name = f"ember_{os.getpid()}_{secrets.token_hex(6)}"
        try:
            seg = _Segment(name, max(a.nbytes, 1), create=True)
            break
        except FileExistsError:
            continue
    _OWNED[name] = os.getpid()
    arr = np.ndarray(a.shape, a.dtype, buffer=seg.buf)
    arr[...] = a
    t._data = arr
    t.__dict__["_shm"] = seg


def _is_shared(t) -> bool:
    return "_shm" in getattr(t, "__dict__", {})


def _attach(name: str):
    return _Segment(name)


def _rebuild_shared(cls, name, shape, dtype, requires_grad, state):
    seg = _attach(name)
    arr = np.ndarray(shape, np.dtype(dtype), buffer=seg.buf)
    t = object.__new__(cls)
    from ._tensor import _init
    _init(t, arr, False)
    t._requires_grad = requires_grad
    if state:
        t.__dict__.update(state)
    t.__dict__["_shm"] = seg
    return t


def _reduce_shared(t):
    state = {k: v for k, v in t.__dict__.items() if not k.startswith("_shm")}
    return (_rebuild_shared, (type(t), t.__dict__["_shm"].name, t._data.shape, t._data.dtype.str,
                              t._requires_grad, state))


class ProcessRaisedException(Exception):
    def __init__(self, msg, error_index, error_pid):
        super().__init__(msg)
        self.error_index, self.pid = error_index, error_pid


class ProcessExitedException(Exception):
    def __init__(self, msg, error_index, error_pid, exit_code, signal_name=None):
        super().__init__(msg)
        self.error_index, self.pid, self.exit_code, self.signal_name = error_index, error_pid, exit_code, signal_name


def _wrap(fn, i, args, q):
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass
    except BaseException:
        import traceback
        q.put(traceback.format_exc())
        raise SystemExit(1) from None


class ProcessContext:
    def __init__(self, processes, queues):
        self.processes, self.error_queues = processes, queues

    def pids(self):
        return [p.pid for p in self.processes]

    def join(self, timeout=None) -> bool:
        for i, p in enumerate(self.processes):
            p.join(timeout)
            if p.exitcode not in (0, None):
                for q in self.processes:
                    if q.is_alive():
                        q.terminate()
                msg = self.error_queues[i].get() if not self.error_queues[i].empty() else None
                if msg:
                    raise ProcessRaisedException(f"\n\n-- Process {i} terminated with the following error:\n{msg}",
                                                 i, p.pid)
                raise ProcessExitedException(f"process {i} terminated with exit code {p.exitcode}", i, p.pid,
                                             p.exitcode)
        return all(p.exitcode is not None for p in self.processes)


def start_processes(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    ctx = _mp.get_context(start_method)
    procs, queues = [], []
    for i in range(nprocs):
        q = ctx.SimpleQueue()
        p = ctx.Process(target=_wrap, args=(fn, i, args, q), daemon=daemon)
        p.start()
        procs.append(p)
        queues.append(q)
    pc = ProcessContext(procs, queues)
    if join:
        pc.join()
        return None
    return pc


def spawn(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """Start ``nprocs`` processes running ``fn(i, *args)``, as torch.multiprocessing.spawn."""
    return start_processes(fn, args, nprocs, join, daemon, start_method)
