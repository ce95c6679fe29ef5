"""``DistributedDataParallel``: data-parallel training over the ranks of ``ember.distributed``.

Each rank holds a replica of the module and runs its own share of the batch. At construction the
parameters and buffers are broadcast from rank 0. During backward, a post-accumulate-grad hook on
every parameter marks it ready; parameters are grouped in ~25 MB buckets (reverse registration order,
the order backward produces them; a smaller first bucket), and a bucket whose gradients are all ready
is averaged across the ranks with a non-blocking MPI all-reduce at once, so communication overlaps
the rest of backward. Buckets are started in the same order on every rank (MPI matches non-blocking
collectives by order). When the backward pass ends (a final callback of the autograd engine) the
all-reduces are waited for and the averaged gradients written back into ``param.grad``.
"""
from __future__ import annotations

import contextlib

import numpy as np

from ... import distributed as dist
from ...autograd import engine as _engine
from ...autograd.graph import AccumulateGrad
from ..modules.module import Module

__all__ = ["DistributedDataParallel"]

_FIRST_BUCKET_BYTES = 1024 * 1024
_UNFINISHED = ("Expected to have finished reduction in the prior iteration before starting a new one. This error "
               "indicates that your module has parameters that were not used in producing loss. You can enable "
               "unused parameter detection by passing the keyword argument `find_unused_parameters=True` to "
               "`torch.nn.parallel.DistributedDataParallel`, and by making sure all `forward` function outputs "
               "participate in calculating loss.")


class _Bucket:
    __slots__ = ("params", "offsets", "flat", "pending", "request", "marked", "used", "used_any")

    def __init__(self, params, dtype):
        self.params = params
        sizes = [p._data.size for p in params]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.flat = np.zeros(int(self.offsets[-1]), dtype)
        self.pending = 0
        self.request = None
        self.marked = np.zeros(len(params), bool)
        self.used = None       # find_unused_parameters: 1 where this rank's graph used the parameter
        self.used_any = None   # ... and where some rank's did (all-reduced)


def _walk_outputs(obj, out):
    from ..._tensor import Tensor
    if isinstance(obj, Tensor):
        out.append(obj)
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            _walk_outputs(o, out)
    elif isinstance(obj, dict):
        for o in obj.values():
            _walk_outputs(o, out)
    return out


def _reachable_leaves(outputs) -> set[int]:
    """ids of the leaf tensors the outputs' graphs reach (find_unused_parameters)."""
    seen, leaves = set(), set()
    stack = [t.grad_fn for t in outputs if t.grad_fn is not None]
    for t in outputs:
        if t.grad_fn is None and t._requires_grad:
            leaves.add(id(t))
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, AccumulateGrad):
            leaves.add(id(node.variable))
            continue
        for nxt, _ in node.next_functions:
            if nxt is not None and id(nxt) not in seen:
                stack.append(nxt)
    return leaves


class DistributedDataParallel(Module):
    """module: the replica on this rank; gradients are averaged over ``process_group`` (default: all ranks)."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 init_sync=True, process_group=None, bucket_cap_mb=None, find_unused_parameters=False,
                 check_reduction=False, gradient_as_bucket_view=False, static_graph=False,
                 delay_all_reduce_named_params=None, param_to_hook_all_reduce=None, mixed_precision=None,
                 device_mesh=None, skip_all_reduce_unused_params=False):
        super().__init__()
        # device_ids/output_device name GPUs in PyTorch; ember's replicas are on the CPU, so they are
        # accepted and ignored (programs written for torchrun on GPUs pass [local_rank]).
        if not any(p.requires_grad for p in module.parameters()):
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter "
                               "that requires a gradient.")
        self.module = module
        self.process_group = dist._group(process_group)
        self.device_ids = None
        self.output_device = None
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        self._params = [p for p in module.parameters() if p.requires_grad]
        self._world = self.process_group.size()
        self._verify_same_model()
        if init_sync:
            self._sync_states([p for p in module.parameters()] + [b for b in module.buffers()])
        self._buckets, self._where = self._make_buckets()
        self._armed = False      # this backward averages gradients (set in forward)
        self._queued = False
        self._next = 0           # next bucket to start: buckets start in order on every rank
        self._unfinished = False
        self._handles = [p.register_post_accumulate_grad_hook(self._grad_ready) for p in self._params]

    # ---- construction ----------------------------------------------------------------------
    def _verify_same_model(self) -> None:
        """Every rank must hold the same parameters (count, shapes, dtypes), as PyTorch checks."""
        mine = [(tuple(p._data.shape), str(p._data.dtype)) for p in self._params]
        everyone = []
        dist.all_gather_object(everyone, mine, self.process_group)
        ref = everyone[0]
        for r, theirs in enumerate(everyone):
            if len(theirs) != len(ref):
                raise RuntimeError(f"DDP expects same model across all ranks, but Rank {r} has {len(theirs)} params, "
                                   f"while rank 0 has inconsistent {len(ref)} params.")
            for i, (a, b) in enumerate(zip(theirs, ref)):
                if a != b:
                    raise RuntimeError(f"DDP expects same model across all ranks, but parameter {i} has shape "
                                       f"{list(a[0])} ({a[1]}) on rank {r} and {list(b[0])} ({b[1]}) on rank 0.")

    def _sync_states(self, tensors) -> None:
        """Broadcast tensors from rank 0, one flat buffer per dtype."""
        g = self.process_group
        by_dtype: dict = {}
        for t in tensors:
            by_dtype.setdefault(t._data.dtype, []).append(t)
        for dtype in sorted(by_dtype, key=str):
            ts = by_dtype[dtype]
            flat = np.concatenate([t._data.reshape(-1) for t in ts]) if ts else np.zeros(0, dtype)
            dist._wait_request(g._comm.Ibcast(flat, root=0), g, "DistributedDataParallel broadcast")
            o = 0
            for t in ts:
                n = t._data.size
                t._data[...] = flat[o:o + n].reshape(t._data.shape)
                t._vc[0] += 1
                o += n

    def _make_buckets(self):
        buckets, where = [], {}
        open_: dict = {}   # dtype -> (params, bytes)
        cap = min(_FIRST_BUCKET_BYTES, self.bucket_bytes_cap)  # a small first bucket starts communication early

        def close(dtype):
            nonlocal cap
            params, _ = open_.pop(dtype)
            b = _Bucket(params, dtype)
            for k, p in enumerate(params):
                where[id(p)] = (len(buckets), k)
            buckets.append(b)
            cap = self.bucket_bytes_cap

        for p in reversed(self._params):
            dtype = p._data.dtype
            params, size = open_.get(dtype, ([], 0))
            params.append(p)
            size += p._data.nbytes
            open_[dtype] = (params, size)
            if size >= cap:
                close(dtype)
        for dtype in list(open_):
            close(dtype)
        return buckets, where

    # ---- forward ---------------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        from ...autograd.grad_mode import STATE
        if self._unfinished:
            self._unfinished = False
            raise RuntimeError(_UNFINISHED)
        if self.broadcast_buffers and self.require_forward_param_sync and self._world > 1:
            bufs = list(self.module.buffers())
            if bufs:
                self._sync_states(bufs)
        out = self.module(*inputs, **kwargs)
        if STATE.enabled and self.require_backward_grad_sync and self._world > 1:
            self._prepare_for_backward(out)
        else:
            self._armed = False
        return out

    def _prepare_for_backward(self, out) -> None:
        self._armed = True
        self._queued = False
        self._next = 0
        for b in self._buckets:
            b.pending = len(b.params)
            b.request = None
            b.marked[:] = False
            b.used = np.zeros(len(b.params), np.int32) if self.find_unused_parameters else None
            b.used_any = None
        if self.find_unused_parameters:
            reached = _reachable_leaves(_walk_outputs(out, []))
            for p in self._params:
                if id(p) not in reached:
                    self._mark_ready(p, used=False)

    # ---- backward --------------------------------------------------------------------------
    def _grad_ready(self, p) -> None:
        if not self._armed:
            return
        if not self._queued:
            self._queued = True
            _engine.queue_callback(self._finalize)
        self._mark_ready(p, used=True)

    def _mark_ready(self, p, used: bool) -> None:
        bi, k = self._where[id(p)]
        b = self._buckets[bi]
        if b.marked[k]:
            return
        b.marked[k] = True
        if b.used is not None:
            b.used[k] = 1 if used else 0
        b.pending -= 1
        if b.pending == 0:
            self._start_ready_buckets()
        else:
            self._progress()

    def _start_ready_buckets(self) -> None:
        MPI = dist._mpi()
        while self._next < len(self._buckets) and self._buckets[self._next].pending == 0:
            b = self._buckets[self._next]
            scale = 1.0 / self._world
            for k, p in enumerate(b.params):
                lo, hi = b.offsets[k], b.offsets[k + 1]
                g = p._grad
                if g is None:
                    b.flat[lo:hi] = 0
                else:
                    np.multiply(g._data.reshape(-1), scale, out=b.flat[lo:hi], casting="unsafe")
            b.request = self.process_group._comm.Iallreduce(MPI.IN_PLACE, b.flat, op=MPI.SUM)
            if b.used is not None:
                # which parameters some rank used (a parameter no rank used keeps grad None, as PyTorch)
                b.used_any = np.empty_like(b.used)
                b.request = [b.request, self.process_group._comm.Iallreduce(b.used, b.used_any, op=MPI.MAX)]
            self._next += 1

    def _progress(self) -> None:
        """Let MPI move the messages of started buckets (progress happens inside MPI calls)."""
        if self._next:
            req = self._buckets[self._next - 1].request
            (req[0] if isinstance(req, list) else req).Test()

    def _finalize(self) -> None:
        from ..._tensor import Tensor
        self._armed = False
        if self.find_unused_parameters:
            for b in self._buckets:  # parameters whose gradient never came: unused on this rank
                b.pending = 0
            self._start_ready_buckets()
        if self._next < len(self._buckets):
            self._unfinished = True  # PyTorch reports this at the next forward
        for b in self._buckets[:self._next]:
            reqs = b.request if isinstance(b.request, list) else [b.request]
            for r in reqs:
                dist._wait_request(r, self.process_group, "DistributedDataParallel gradient all-reduce")
            for k, p in enumerate(b.params):
                if b.used_any is not None and not b.used_any[k]:
                    continue
                avg = b.flat[b.offsets[k]:b.offsets[k + 1]].reshape(p._data.shape)
                g = p._grad
                if g is None or not g._data.flags.writeable or g._requires_grad:
                    p._grad = Tensor._make(avg.astype(p._data.dtype, copy=True), False, None, 0)
                else:
                    np.copyto(g._data, avg, casting="unsafe")
                    g._vc[0] += 1

    # ---- torch's API -----------------------------------------------------------------------
    @contextlib.contextmanager
    def no_sync(self):
        """Backward passes run inside skip the all-reduce: gradients accumulate locally; the first
        backward outside averages the accumulated gradients."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def _set_static_graph(self) -> None:
        self.static_graph = True

    def register_comm_hook(self, state, hook):
        raise NotImplementedError("ember's DistributedDataParallel averages gradients with MPI all-reduce; "
                                  "communication hooks are not supported")

    def join(self, *args, **kwargs):
        raise NotImplementedError("DistributedDataParallel.join (uneven inputs) is not supported by ember")
