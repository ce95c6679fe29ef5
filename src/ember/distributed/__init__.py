"""``ember.distributed``: ``torch.distributed``'s collectives on MPI (through mpi4py).

Ranks are MPI processes, started by ``ember run --nproc-per-node N script.py`` (torchrun's role) or
by ``mpiexec -n N python script.py``. Collectives move the tensors' NumPy buffers directly (buffer
protocol, no pickling); only ``*_object`` collectives pickle. ``backend='mpi'`` and ``'gloo'`` are
both served by MPI. mpi4py is imported by ``init_process_group`` only: ``import ember`` never needs it.

Consistency check: before a collective, ranks exchange a small signature (operation, dtype, shape)
with one extra allgather of 4 int64 per rank, so mismatched shapes/dtypes raise a clear error
instead of corrupting memory or hanging. It costs one small-message latency per collective (tens of
microseconds in-node); ``EMBER_DISTRIBUTED_CHECKS=0`` turns it off. DDP's bucket all-reduces skip it
(DDP checks the parameters' shapes once, at construction).

Waiting ranks poll with a short sleep instead of MPI's busy spin, so ranks that share cores (more
ranks than cores) do not steal the CPU from the ranks still computing.
"""
from __future__ import annotations

import datetime
import enum
import importlib.util
import os
import pickle
import sys
import time
import zlib

import numpy as np

__all__ = ["is_available", "init_process_group", "is_initialized", "is_mpi_available", "is_gloo_available",
           "is_nccl_available", "is_torchelastic_launched", "get_rank", "get_world_size", "get_backend",
           "destroy_process_group", "barrier", "broadcast", "all_reduce", "reduce", "all_gather",
           "all_gather_into_tensor", "gather", "scatter", "reduce_scatter_tensor", "send", "recv", "isend",
           "irecv", "reduce_scatter", "all_to_all", "all_to_all_single",
           "new_group", "broadcast_object_list", "all_gather_object", "gather_object",
           "scatter_object_list", "ReduceOp", "Work", "group", "GroupMember", "ProcessGroup", "Backend",
           "get_process_group_ranks", "monitored_barrier"]

_NOT_INIT = ("Default process group has not been initialized, please make sure to call init_process_group.")
_DEFAULT_TIMEOUT = datetime.timedelta(minutes=30)


def _set_rank_env_from_mpi() -> None:
    """Under plain ``mpiexec``, expose torchrun's RANK/WORLD_SIZE/LOCAL_RANK variables too."""
    env = os.environ
    for rank, size, lrank, lsize in (("PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS"),
                                      ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE",
                                       "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE")):
        if rank in env and size in env:
            env.setdefault("RANK", env[rank])
            env.setdefault("WORLD_SIZE", env[size])
            env.setdefault("LOCAL_RANK", env.get(lrank, env[rank]))
            env.setdefault("LOCAL_WORLD_SIZE", env.get(lsize, env[size]))
            env.setdefault("MASTER_ADDR", "127.0.0.1")
            env.setdefault("MASTER_PORT", "29500")
            if int(env[size]) > 1 and is_available():
                _install_abort_on_error()  # even before init_process_group
            return


def is_available() -> bool:
    """True when mpi4py (the engine) is installed: ``pip install ember[distributed]``."""
    return importlib.util.find_spec("mpi4py") is not None


def is_mpi_available() -> bool:
    return is_available()


def is_gloo_available() -> bool:
    return is_available()  # 'gloo' is served by MPI


def is_nccl_available() -> bool:
    return False


def is_torchelastic_launched() -> bool:
    return os.environ.get("TORCHELASTIC_RUN_ID") is not None


class Backend(str):
    """Backend names, as ``torch.distributed.Backend``."""

    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    MPI = "mpi"

    def __new__(cls, name: str):
        if not isinstance(name, str):
            raise ValueError(f"Backend constructor parameter must be string-ish, but got: {type(name)}")
        return str.__new__(cls, name.lower())


class ReduceOp:
    """``ReduceOp.SUM`` etc.: reduction operations of the collectives."""

    class RedOpType(enum.IntEnum):
        SUM = 0
        AVG = 1
        PRODUCT = 2
        MIN = 3
        MAX = 4
        BAND = 5
        BOR = 6
        BXOR = 7

    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR


class _Engine:
    """The lazily imported ``mpi4py.MPI`` module and the state of the default group."""

    MPI = None


def _mpi():
    """``mpi4py.MPI``, imported (and MPI initialised) on first use."""
    if _Engine.MPI is None:
        try:
            import mpi4py
        except ImportError:
            raise RuntimeError("ember.distributed needs MPI through mpi4py: pip install 'ember[distributed]' "
                               "(or: pip install mpi4py mpich)") from None
        mpi4py.rc.threads = False  # ranks are single-threaded Python; no MPI_THREAD_MULTIPLE overhead
        from mpi4py import MPI
        _Engine.MPI = MPI
    return _Engine.MPI


def _mpi_op(op, dtype=None):
    MPI = _mpi()
    op = ReduceOp.RedOpType(int(op)) if not isinstance(op, ReduceOp.RedOpType) else op
    if dtype is not None and dtype == np.bool_:
        # bool tensors reduce as uint8 (see _red): sum/max/or = any, product/min/and = all, as PyTorch
        return MPI.MIN if op in (ReduceOp.PRODUCT, ReduceOp.MIN, ReduceOp.BAND) else \
            MPI.BXOR if op == ReduceOp.BXOR else MPI.MAX
    return {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD, ReduceOp.MIN: MPI.MIN,
            ReduceOp.MAX: MPI.MAX, ReduceOp.BAND: MPI.BAND, ReduceOp.BOR: MPI.BOR, ReduceOp.BXOR: MPI.BXOR}[op]


class ProcessGroup:
    """A group of ranks: an MPI communicator plus the global ranks it holds (in group-rank order)."""

    def __init__(self, comm, ranks: list[int], backend: str, timeout: datetime.timedelta):
        self._comm = comm
        self._ranks = list(ranks)
        self._backend = Backend(backend)
        self._timeout = timeout

    def rank(self) -> int:
        return self._comm.Get_rank()

    def size(self) -> int:
        return self._comm.Get_size()

    def name(self) -> str:
        return self._backend.upper()

    def __repr__(self) -> str:
        return f"<ember.distributed.ProcessGroup backend={self._backend} ranks={self._ranks}>"


class GroupMember:
    """``GroupMember.WORLD`` (the default group) and the marker of ranks outside a new group."""

    WORLD: ProcessGroup | None = None
    NON_GROUP_MEMBER = -100


class group:  # noqa: N801 - torch's spelling
    WORLD: ProcessGroup | None = None


_state = {"backend": None, "timeout": _DEFAULT_TIMEOUT, "checks": True, "groups": []}


def is_initialized() -> bool:
    return GroupMember.WORLD is not None


def _world() -> ProcessGroup:
    if GroupMember.WORLD is None:
        raise ValueError(_NOT_INIT)
    return GroupMember.WORLD


def _group(g) -> ProcessGroup | None:
    """The process group to use, or None when this rank is not a member of ``g``."""
    w = _world()
    if g is None or g is GroupMember.WORLD:
        return w
    if g is GroupMember.NON_GROUP_MEMBER:
        return None
    if not isinstance(g, ProcessGroup):
        raise TypeError(f"group must be a ProcessGroup created by new_group, got {type(g).__name__}")
    return g


def init_process_group(backend: str | None = None, init_method: str | None = None,
                       timeout: datetime.timedelta | None = None, world_size: int = -1, rank: int = -1,
                       store=None, group_name: str = "", pg_options=None, device_id=None) -> None:
    """Join the default group: every MPI process of the job is one rank (``'mpi'``; ``'gloo'`` is
    accepted and served by MPI; ``'nccl'`` needs CUDA, which ember does not have)."""
    if GroupMember.WORLD is not None:
        raise ValueError("trying to initialize the default process group twice!")
    name = "mpi" if backend is None else str(backend).lower()
    parts = {p.split(":")[-1] for p in name.split(",")}  # "cpu:gloo,cuda:nccl" picks the CPU one
    if "cpu:gloo" in name or "cpu:mpi" in name:
        parts = {"gloo"}
    if parts & {"nccl", "ucc", "xccl"} and not parts & {"gloo", "mpi"}:
        raise RuntimeError(f"Distributed package doesn't have NCCL built in: ember runs on CPUs; use "
                           f"init_process_group(backend='gloo') or 'mpi' (both served by MPI) instead of "
                           f"'{backend}'")
    if not parts & {"gloo", "mpi"}:
        raise ValueError(f"Invalid backend: '{backend}' (ember.distributed serves 'mpi' and 'gloo')")
    if init_method is not None and not (init_method.startswith("env://") or init_method.startswith("tcp://")
                                         or init_method.startswith("file://")):
        raise ValueError(f"Invalid init_method '{init_method}': expected env://, tcp:// or file:// "
                         "(ember's ranks find each other through MPI, so the address itself is not used)")
    if timeout is not None and not isinstance(timeout, datetime.timedelta):
        raise TypeError(f"Expected timeout argument to be of type datetime.timedelta, got {type(timeout)}")
    MPI = _mpi()
    comm = MPI.COMM_WORLD
    size, me = comm.Get_size(), comm.Get_rank()
    env_size = int(os.environ.get("WORLD_SIZE", size)) if world_size in (-1, None) else int(world_size)
    env_rank = int(os.environ.get("RANK", me)) if rank in (-1, None) else int(rank)
    if env_size != size:
        raise RuntimeError(f"init_process_group: world_size is {env_size} but the MPI job has {size} process(es). "
                           "ember's ranks are MPI processes: start the program with `ember run "
                           f"--nproc-per-node {env_size} script.py` or `mpiexec -n {env_size} python script.py`")
    if env_rank != me:
        raise RuntimeError(f"init_process_group: rank is {env_rank} but this MPI process is rank {me}; "
                           "ember's ranks are MPI ranks (leave rank=/RANK to the launcher)")
    _state["backend"] = "gloo" if "gloo" in parts else "mpi"
    _state["timeout"] = timeout if timeout is not None else _DEFAULT_TIMEOUT
    _state["checks"] = os.environ.get("EMBER_DISTRIBUTED_CHECKS", "1") not in ("0", "false", "False", "")
    world = ProcessGroup(comm.Dup(), list(range(size)), _state["backend"], _state["timeout"])
    GroupMember.WORLD = group.WORLD = world
    if size > 1:
        _install_abort_on_error()


def _install_abort_on_error() -> None:
    """An uncaught exception in one rank ends the whole job (MPI would otherwise leave the others
    waiting in their next collective)."""
    if os.environ.get("EMBER_RANK_RUNNER"):  # under `ember run --nproc-per-node` the rank runner does it
        return
    previous = sys.excepthook

    def hook(tp, value, tb):
        try:
            previous(tp, value, tb)
        finally:
            if not issubclass(tp, KeyboardInterrupt):  # Ctrl-C reaches every rank: they end by themselves
                abort(1)

    if not getattr(sys.excepthook, "_ember_abort", False):
        hook._ember_abort = True
        sys.excepthook = hook


_set_rank_env_from_mpi()


def abort(code: int = 1) -> None:
    """End every rank of the job (MPI_Abort) after flushing this rank's output."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        time.sleep(0.25)  # let mpiexec forward this rank's last output (the traceback) before the abort
    finally:
        if _Engine.MPI is None and int(os.environ.get("WORLD_SIZE", "1")) > 1:
            _mpi()  # MPI_Abort needs MPI: the other ranks are (or will be) in MPI_Init or a collective
        if _Engine.MPI is not None:
            _Engine.MPI.COMM_WORLD.Abort(int(code) or 1)
        os._exit(int(code) or 1)


def destroy_process_group(group=None) -> None:
    if GroupMember.WORLD is None:
        raise ValueError(_NOT_INIT)
    if group is None or group is GroupMember.WORLD:
        for g in _state["groups"]:
            g._comm.Free()
        _state["groups"].clear()
        GroupMember.WORLD._comm.Free()
        _clear_world()
    elif isinstance(group, ProcessGroup) and group in _state["groups"]:
        _state["groups"].remove(group)
        group._comm.Free()


def _clear_world() -> None:
    GroupMember.WORLD = None
    globals()["group"].WORLD = None  # the `group` namespace class, shadowed by the argument above
    _state["backend"] = None


def get_rank(group=None) -> int:
    g = _group(group)
    return -1 if g is None else g.rank()


def get_world_size(group=None) -> int:
    g = _group(group)
    return -1 if g is None else g.size()


def get_backend(group=None) -> str:
    g = _group(group)
    if g is None:
        raise ValueError("Invalid process group specified")
    return g._backend


def get_process_group_ranks(group) -> list[int]:
    g = _group(group)
    return list(g._ranks)


def new_group(ranks=None, timeout=None, backend=None, pg_options=None, use_local_synchronization=False,
              group_desc=None, device_id=None, sort_ranks=True):
    """A group of some ranks (every rank of the world must call it, as in PyTorch)."""
    w = _world()
    ranks = list(range(w.size())) if ranks is None else [int(r) for r in ranks]
    if sort_ranks:
        ranks = sorted(ranks)
    for r in ranks:
        if not 0 <= r < w.size():
            raise ValueError(f"Invalid rank {r} in new_group: the world has {w.size()} ranks")
    if len(set(ranks)) != len(ranks):
        raise ValueError(f"new_group: duplicate ranks in {ranks}")
    comm = w._comm.Create_group(w._comm.Get_group().Incl(ranks))
    if w.rank() not in ranks:
        return GroupMember.NON_GROUP_MEMBER
    pg = ProcessGroup(comm, ranks, backend or w._backend, timeout or w._timeout)
    _state["groups"].append(pg)
    return pg


# ---- waiting -------------------------------------------------------------------------------------
def _wait_request(req, g: ProcessGroup | None, what: str, timeout=None, status=None):
    """Wait for an MPI request: spin briefly, then poll with a growing sleep (see the module doc);
    past the timeout the job is aborted with a message naming the operation (never a silent hang)."""
    if req.Test(status):
        return
    limit = (timeout or (g._timeout if g is not None else _state["timeout"])).total_seconds()
    start = time.perf_counter()
    nap = 0.0
    while not req.Test(status):
        waited = time.perf_counter() - start
        if waited > limit:
            me = _Engine.MPI.COMM_WORLD.Get_rank()
            print(f"[rank {me}] ember.distributed: {what} timed out after {limit:.0f} s (a rank died or "
                  "did not join the collective); aborting the job", file=sys.stderr)
            abort(1)
        if waited > 5e-5:
            nap = min(1e-3, nap * 2 if nap else 1e-5)
            time.sleep(nap)


class Work:
    """The handle of an asynchronous operation (``async_op=True``): ``wait()``, ``is_completed()``."""

    def __init__(self, reqs, group, what: str, finish=None, result=None, status=None):
        self._reqs = list(reqs)
        self._group = group
        self._what = what
        self._finish = finish
        self._result = result
        self._status = status  # an MPI.Status filled when the (single) request completes
        self._done = False

    def is_completed(self) -> bool:
        if self._done:
            return True
        if all(r.Test(self._status) for r in self._reqs):
            self._complete()
            return True
        return False

    def wait(self, timeout=None) -> bool:
        if not self._done:
            for r in self._reqs:
                _wait_request(r, self._group, self._what, timeout, self._status)
            self._complete()
        return True

    def _complete(self):
        if not self._done:
            self._done = True
            if self._finish is not None:
                self._finish()

    def is_success(self) -> bool:
        return self._done

    def result(self):
        self.wait()
        return self._result

    def get_future(self):
        return _Future(self)


class _Future:
    def __init__(self, work):
        self._work = work

    def wait(self):
        return self._work.result()

    def value(self):
        return self._work.result()

    def done(self):
        return self._work.is_completed()


def _run(reqs, g, what, async_op, finish=None, result=None):
    w = Work(reqs, g, what, finish, result)
    if async_op:
        return w
    w.wait()
    return None


# ---- buffers and checks --------------------------------------------------------------------------
def _tensor_check(t, name="tensor"):
    from .._tensor import Tensor
    if not isinstance(t, Tensor):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type torch.Tensor\n"
                        f"             but got {type(t)} instead.")


def _in_buf(t):
    """A C-contiguous array holding the tensor's values (the tensor's own array when possible)."""
    a = t._data
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


def _out_buf(t):
    """(array to receive into, write-back function)."""
    a = t._data
    if a.flags.c_contiguous and a.flags.writeable:
        def done():
            t._vc[0] += 1
        return a, done
    buf = np.empty(a.shape, a.dtype)

    def back():
        t._data[...] = buf
        t._vc[0] += 1
    return buf, back


_OPS = {n: i for i, n in enumerate(["broadcast", "all_reduce", "reduce", "all_gather", "all_gather_into_tensor",
                                     "gather", "scatter", "reduce_scatter_tensor"])}


def _check(g: ProcessGroup, what: str, arr: np.ndarray, extra: int = 0):
    """Raise a clear error when the ranks pass different shapes/dtypes/operations (one small allgather)."""
    if not _state["checks"] or g.size() == 1:
        return
    # crc32, not hash(): str hashes differ between processes
    sig = np.array([_OPS.get(what, 99) * 1000 + extra, zlib.crc32(arr.dtype.str.encode()),
                    zlib.crc32(repr(tuple(arr.shape)).encode()), arr.ndim], np.int64)
    allsig = np.empty((g.size(), 4), np.int64)
    _wait_request(g._comm.Iallgather(sig, allsig), g, what)
    if (allsig == sig).all():
        return
    everyone = []
    all_gather_object(everyone, (what, str(arr.dtype), tuple(arr.shape)), g)
    lines = "\n".join(f"  rank {g._ranks[i]}: {op}(dtype={dt}, shape={list(sh)})" for i, (op, dt, sh)
                      in enumerate(everyone))
    raise RuntimeError(f"ember.distributed.{what}: the ranks passed mismatched tensors or operations:\n{lines}\n"
                       "every rank must call the same collective with the same shape and dtype")


def _grank(g: ProcessGroup, r, group_r, name: str) -> int:
    """Group rank of a global rank argument (``src``/``dst``) or of ``group_src``/``group_dst``."""
    if group_r is not None:
        if r is not None:
            raise ValueError(f"Can not specify both {name} and group_{name}")
        return int(group_r)
    r = 0 if r is None else int(r)
    if r not in g._ranks:
        raise ValueError(f"Global rank {r} is not part of group {g}")
    return g._ranks.index(r)


# ---- collectives ---------------------------------------------------------------------------------
def barrier(group=None, async_op=False, device_ids=None, timeout=None):
    g = _group(group)
    if g is None:
        return None
    return _run([g._comm.Ibarrier()], g, "barrier", async_op)


def monitored_barrier(group=None, timeout=None, wait_all_ranks=False):
    return barrier(group, timeout=timeout)


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    _tensor_check(tensor)
    g = _group(group)
    if g is None:
        return None
    root = _grank(g, src, group_src, "src")
    _check(g, "broadcast", tensor._data, root)
    buf, done = _out_buf(tensor)
    if g.rank() == root and buf is not tensor._data:
        buf[...] = tensor._data
    return _run([g._comm.Ibcast(buf, root=root)], g, "broadcast", async_op, done)


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    _tensor_check(tensor)
    g = _group(group)
    if g is None:
        return None
    _check(g, "all_reduce", tensor._data, int(op))
    MPI = _mpi()
    buf, done = _out_buf(tensor)
    if buf is not tensor._data:
        buf[...] = tensor._data

    def finish():
        if int(op) == ReduceOp.AVG:
            _divide(buf, g.size())
        done()
    req = g._comm.Iallreduce(MPI.IN_PLACE, _red(buf), op=_mpi_op(op, buf.dtype))
    return _run([req], g, "all_reduce", async_op, finish)


def _red(buf: np.ndarray) -> np.ndarray:
    """The array MPI reduces: bool as uint8 (MPI has no arithmetic on C bool)."""
    return buf.view(np.uint8) if buf.dtype == np.bool_ else buf


def _divide(buf: np.ndarray, n: int) -> None:
    if buf.dtype == np.bool_:
        return
    if buf.dtype.kind in "iu":
        np.floor_divide(buf, n, out=buf)
    else:
        np.divide(buf, n, out=buf)


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    _tensor_check(tensor)
    g = _group(group)
    if g is None:
        return None
    root = _grank(g, dst, group_dst, "dst")
    _check(g, "reduce", tensor._data, int(op) * 64 + root)
    MPI = _mpi()
    buf, done = _out_buf(tensor)
    if buf is not tensor._data:
        buf[...] = tensor._data
    if g.rank() == root:
        req = g._comm.Ireduce(MPI.IN_PLACE, _red(buf), op=_mpi_op(op, buf.dtype), root=root)

        def finish():
            if int(op) == ReduceOp.AVG:
                _divide(buf, g.size())
            done()
    else:
        req = g._comm.Ireduce(_red(buf), None, op=_mpi_op(op, buf.dtype), root=root)
        finish = None
    return _run([req], g, "reduce", async_op, finish)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    _tensor_check(tensor)
    g = _group(group)
    if g is None:
        return None
    if len(tensor_list) != g.size():
        raise ValueError(f"all_gather: tensor_list has {len(tensor_list)} tensors but the group has {g.size()} "
                         "ranks")
    for t in tensor_list:
        _tensor_check(t, "tensor_list")
        if t._data.dtype != tensor._data.dtype or t._data.size != tensor._data.size:
            raise RuntimeError(f"all_gather: every tensor of tensor_list must match the input's dtype and size "
                               f"({tensor.dtype}, {list(tensor.shape)}), got ({t.dtype}, {list(t.shape)})")
    _check(g, "all_gather", tensor._data)
    src = _in_buf(tensor)
    out = np.empty((g.size(),) + src.shape, src.dtype)

    def finish():
        for t, part in zip(tensor_list, out):
            t._data[...] = part.reshape(t._data.shape)
            t._vc[0] += 1
    return _run([g._comm.Iallgather(src, out)], g, "all_gather", async_op, finish)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    _tensor_check(output_tensor, "output_tensor")
    _tensor_check(input_tensor, "input_tensor")
    g = _group(group)
    if g is None:
        return None
    if output_tensor._data.size != input_tensor._data.size * g.size() or \
            output_tensor._data.dtype != input_tensor._data.dtype:
        raise ValueError(f"all_gather_into_tensor: output tensor size must be equal to world_size times input "
                         f"tensor size (output {list(output_tensor.shape)}, input {list(input_tensor.shape)}, "
                         f"world size {g.size()}) with the same dtype")
    _check(g, "all_gather_into_tensor", input_tensor._data)
    out, done = _out_buf(output_tensor)
    return _run([g._comm.Iallgather(_in_buf(input_tensor), out.reshape(-1))], g, "all_gather_into_tensor",
                async_op, done)


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    _tensor_check(tensor)
    g = _group(group)
    if g is None:
        return None
    root = _grank(g, dst, group_dst, "dst")
    src = _in_buf(tensor)
    _check(g, "gather", src, root)
    if g.rank() == root:
        if gather_list is None or len(gather_list) != g.size():
            raise ValueError(f"gather: the destination rank needs gather_list with {g.size()} tensors")
        out = np.empty((g.size(),) + src.shape, src.dtype)

        def finish():
            for t, part in zip(gather_list, out):
                t._data[...] = part.reshape(t._data.shape)
                t._vc[0] += 1
        return _run([g._comm.Igather(src, out, root=root)], g, "gather", async_op, finish)
    if gather_list:
        raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination ranks.")
    return _run([g._comm.Igather(src, None, root=root)], g, "gather", async_op)


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    _tensor_check(tensor)
    g = _group(group)
    if g is None:
        return None
    root = _grank(g, src, group_src, "src")
    _check(g, "scatter", tensor._data, root)
    buf, done = _out_buf(tensor)
    if g.rank() == root:
        if scatter_list is None or len(scatter_list) != g.size():
            raise ValueError(f"scatter: the source rank needs scatter_list with {g.size()} tensors")
        send = np.stack([np.ascontiguousarray(t._data).reshape(buf.shape).astype(buf.dtype, copy=False)
                         for t in scatter_list])
        req = g._comm.Iscatter(send, buf, root=root)
    else:
        if scatter_list:
            raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
        req = g._comm.Iscatter(None, buf, root=root)
    return _run([req], g, "scatter", async_op, done)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    _tensor_check(output, "output")
    _tensor_check(input, "input")
    g = _group(group)
    if g is None:
        return None
    if input._data.size != output._data.size * g.size() or input._data.dtype != output._data.dtype:
        raise ValueError(f"reduce_scatter_tensor: input tensor size must be equal to world_size times output "
                         f"tensor size (input {list(input.shape)}, output {list(output.shape)}, world size "
                         f"{g.size()}) with the same dtype")
    _check(g, "reduce_scatter_tensor", input._data, int(op))
    buf, done = _out_buf(output)

    def finish():
        if int(op) == ReduceOp.AVG:
            _divide(buf, g.size())
        done()
    req = g._comm.Ireduce_scatter_block(_red(_in_buf(input)), _red(buf.reshape(-1)),
                                            op=_mpi_op(op, buf.dtype))
    return _run([req], g, "reduce_scatter_tensor", async_op, finish)


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """``output`` = this rank's entry of the element-wise reduction of every rank's ``input_list``."""
    _tensor_check(output, "output")
    g = _group(group)
    if g is None:
        return None
    if len(input_list) != g.size():
        raise ValueError(f"reduce_scatter: input_list has {len(input_list)} tensors but the group has {g.size()} "
                         "ranks")
    from .._tensor import Tensor
    flat = Tensor._make(np.stack([np.asarray(t._data, dtype=output._data.dtype).reshape(output._data.shape)
                                  for t in input_list]), False, None, 0)
    return reduce_scatter_tensor(output, flat, op, group, async_op)


def all_to_all_single(output, input, output_split_sizes=None, input_split_sizes=None, group=None, async_op=False):
    """Rank i sends the j-th slice (along dim 0) of ``input`` to rank j, which stores it as its i-th slice."""
    _tensor_check(output, "output")
    _tensor_check(input, "input")
    g = _group(group)
    if g is None:
        return None
    n = g.size()
    src = _in_buf(input)
    out, done = _out_buf(output)
    row_in = int(np.prod(src.shape[1:], dtype=np.int64))
    row_out = int(np.prod(out.shape[1:], dtype=np.int64))
    if input_split_sizes is None:
        if src.shape[0] % n:
            raise ValueError(f"all_to_all_single: input dim 0 ({src.shape[0]}) is not divisible by the world size {n}")
        input_split_sizes = [src.shape[0] // n] * n
    if output_split_sizes is None:
        if out.shape[0] % n:
            raise ValueError(f"all_to_all_single: output dim 0 ({out.shape[0]}) is not divisible by the world size "
                             f"{n}")
        output_split_sizes = [out.shape[0] // n] * n
    scount = np.asarray(input_split_sizes, np.int64) * row_in
    rcount = np.asarray(output_split_sizes, np.int64) * row_out
    sdispl = np.concatenate([[0], np.cumsum(scount)[:-1]])
    rdispl = np.concatenate([[0], np.cumsum(rcount)[:-1]])
    req = g._comm.Ialltoallv([src.reshape(-1), (scount, sdispl)], [out.reshape(-1), (rcount, rdispl)])
    return _run([req], g, "all_to_all_single", async_op, done)


def all_to_all(output_tensor_list, input_tensor_list, group=None, async_op=False):
    """Rank i sends ``input_tensor_list[j]`` to rank j, which receives it in ``output_tensor_list[i]``."""
    g = _group(group)
    if g is None:
        return None
    from .._tensor import Tensor
    if len(input_tensor_list) != g.size() or len(output_tensor_list) != g.size():
        raise ValueError(f"all_to_all: the tensor lists must have one tensor per rank ({g.size()})")
    dtype = input_tensor_list[0]._data.dtype
    src = Tensor._make(np.concatenate([np.asarray(t._data, dtype).reshape(-1) for t in input_tensor_list]), False,
                       None, 0)
    out = Tensor._make(np.empty(sum(t._data.size for t in output_tensor_list), dtype), False, None, 0)
    ins = [t._data.size for t in input_tensor_list]
    outs = [t._data.size for t in output_tensor_list]
    work = all_to_all_single(out, src, outs, ins, group, async_op=True)

    def finish(_prev=work._finish):
        if _prev is not None:
            _prev()
        o = 0
        for t in output_tensor_list:
            t._data[...] = out._data[o:o + t._data.size].reshape(t._data.shape)
            t._vc[0] += 1
            o += t._data.size
    work._finish = finish
    if async_op:
        return work
    work.wait()
    return None


_all_gather_base = all_gather_into_tensor
_reduce_scatter_base = reduce_scatter_tensor


def _peer(g, r, group_r, name):
    if group_r is not None:
        return int(group_r)
    if r is None:
        raise ValueError(f"{name} must be given")
    r = int(r)
    if r not in g._ranks:
        raise ValueError(f"Global rank {r} is not part of group {g}")
    return g._ranks.index(r)


def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    _tensor_check(tensor)
    g = _group(group)
    if g is None:
        return None
    peer = _peer(g, dst, group_dst, "dst")
    if peer == g.rank():
        raise ValueError("Invalid destination rank: should not be the same as the rank of the current process.")
    src = _in_buf(tensor)
    return Work([g._comm.Isend(src, dest=peer, tag=int(tag))], g, "send")


def send(tensor, dst=None, group=None, tag=0, group_dst=None) -> None:
    w = isend(tensor, dst, group, tag, group_dst)
    if w is not None:
        w.wait()


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    _tensor_check(tensor)
    g = _group(group)
    if g is None:
        return None
    MPI = _mpi()
    peer = MPI.ANY_SOURCE if src is None and group_src is None else _peer(g, src, group_src, "src")
    buf, done = _out_buf(tensor)
    status = MPI.Status()
    req = g._comm.Irecv(buf, source=peer, tag=int(tag))

    def finish():  # the sender's rank is known once the message has arrived
        w._result = g._ranks[status.Get_source()]
        done()
    w = Work([req], g, "recv", finish, status=status)
    return w


def recv(tensor, src=None, group=None, tag=0, group_src=None) -> int:
    w = irecv(tensor, src, group, tag, group_src)
    if w is None:
        return -1
    w.wait()
    return w._result


# ---- Python objects (pickled) --------------------------------------------------------------------
def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None) -> None:
    g = _group(group)
    if g is None:
        return
    root = _grank(g, src, group_src, "src")
    got = _bcast_pickle(g, list(object_list) if g.rank() == root else None, root)
    object_list[:] = got


def _bcast_pickle(g, obj, root):
    """Pickled broadcast through two buffer broadcasts (size, then bytes), waited with polling."""
    if g.rank() == root:
        data = np.frombuffer(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL), np.uint8)
        n = np.array([data.size], np.int64)
    else:
        n = np.zeros(1, np.int64)
    _wait_request(g._comm.Ibcast(n, root=root), g, "broadcast_object_list")
    if g.rank() != root:
        data = np.empty(int(n[0]), np.uint8)
    _wait_request(g._comm.Ibcast(data, root=root), g, "broadcast_object_list")
    return pickle.loads(data.tobytes())


def all_gather_object(object_list, obj, group=None) -> None:
    g = _group(group)
    if g is None:
        return
    data = np.frombuffer(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL), np.uint8)
    sizes = np.empty(g.size(), np.int64)
    _wait_request(g._comm.Iallgather(np.array([data.size], np.int64), sizes), g, "all_gather_object")
    out = np.empty(int(sizes.sum()), np.uint8)
    displ = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    _wait_request(g._comm.Iallgatherv(data, [out, sizes, displ, _mpi().BYTE]), g, "all_gather_object")
    object_list[:] = [pickle.loads(out[o:o + s].tobytes()) for o, s in zip(displ, sizes)]


def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None) -> None:
    g = _group(group)
    if g is None:
        return
    root = _grank(g, dst, group_dst, "dst")
    everyone = []
    all_gather_object(everyone, obj, group)
    if g.rank() == root and object_gather_list is not None:
        object_gather_list[:] = everyone


def scatter_object_list(scatter_object_output_list, scatter_object_input_list=None, src=None, group=None,
                        group_src=None) -> None:
    g = _group(group)
    if g is None:
        return
    root = _grank(g, src, group_src, "src")
    everything = _bcast_pickle(g, list(scatter_object_input_list) if g.rank() == root else None, root)
    scatter_object_output_list[0] = everything[g.rank()]
