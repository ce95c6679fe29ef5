"""ember's intra-op thread pool: the big kernels split their work over ``torch.get_num_threads()`` threads.

Why ember runs its own threads instead of a multithreaded BLAS: OpenBLAS parallelises each GEMM alone and its
idle workers spin for a while after every call, so on a 2-core machine the single-threaded NumPy code between
two GEMMs (im2col copies, pooling, elementwise ops) ran next to a spinning thread. The course network's
training step took 32-45 ms with 2 OpenBLAS threads and 27-29 ms with one (benchmarks/compare.py workload a,
2026-11-24). So ember sets the BLAS to one thread when it is imported and splits whole kernels instead —
batch chunks of a convolution (copy + GEMM + epilogue together), rows of a large matmul, planes of a pooling —
over its own threads, which block (not spin) while idle. NumPy releases the GIL inside copies, ufunc loops and
BLAS calls, so the threads run truly in parallel; the Python between those calls is short. But a thread whose
call returns while the other holds the GIL sleeps until it is released, and waking it costs ~25-40 us on the VMs
measured here, so a part should be a few long calls: where a kernel needs many short ones (col2im's adds, the
max-pool gradient's blocks) they run as one compiled loop when Numba is installed (``kernels/fused.py``).

``run(parts)`` runs callables concurrently (the caller takes the first) and returns their results. It is
re-entrant in the only safe way: a call made while the pool is busy (a nested kernel, or a second user thread)
runs its parts one after another in the calling thread. After ``fork`` the child starts with no pool.

While the parts run, each thread is bound to its own CPU of the caller's allowed set (when it has one per part;
``OMP_PROC_BIND=false`` turns this off); the caller's own CPU mask is restored when ``run`` returns, so threads
and processes the program starts later inherit nothing. Why: between kernels ember's threads sleep, and after a
pause this VM's scheduler (``sched_vcpu_pack``) woke both on one vCPU, where they stayed for ~50 ms: the course
net's first three steps after a 0.3 s pause took 15.5-21.3 ms against 11.3-13.4 ms later (2026-12-06, AMD EPYC
VM, means of 12 pauses); bound, 12.4-14.5 ms. PyTorch's OpenMP threads spin between kernels and keep their vCPUs.
"""
from __future__ import annotations

import functools
import os
import queue
import threading

__all__ = ["run", "run_sum", "run_rows", "num_threads", "set_num_threads", "split", "limit_blas_threads"]

# elementwise passes over at least this many elements run on the threads: on the 2-core Intel machine
# (2026-12-02) relu of a (64, 64, 32, 32) float32 array took 1.75 ms on one thread, 1.0 ms on two; relu's backward
# (g * (y > 0)) 2.56 vs 1.45 ms. Below ~1 MB the hand-off (~50 us) costs more than it saves.
_ROWS_MIN_ELEMENTS = 1 << 18

# like PyTorch: OMP_NUM_THREADS if set, else one thread per core
_state = {"n": max(1, int(os.environ.get("OMP_NUM_THREADS") or 0) or os.cpu_count() or 1)}
_workers: list[queue.SimpleQueue] = []
_busy = threading.Lock()
_BIND = hasattr(os, "sched_setaffinity") and os.environ.get("OMP_PROC_BIND", "").strip().lower() != "false"


def num_threads() -> int:
    return _state["n"]


def set_num_threads(n: int) -> None:
    """Threads ember's kernels use (the caller's thread included)."""
    _state["n"] = max(1, int(n))


def _bind(cpus) -> bool:
    """Bind the calling thread to ``cpus``; False if the system refused (the thread then runs unbound)."""
    try:
        os.sched_setaffinity(0, cpus)
        return True
    except OSError:
        return False


def _worker(inbox: queue.SimpleQueue) -> None:
    bound = None
    while True:
        i, fn, done, cpu = inbox.get()
        try:
            if cpu != bound:
                _bind((cpu,) if cpu is not None else os.sched_getaffinity(os.getpid()))
                bound = cpu
            done.put((i, True, fn()))
        except BaseException as e:  # noqa: BLE001 - handed to the caller, which re-raises it
            done.put((i, False, e))


def _ensure(n: int) -> None:
    while len(_workers) < n:
        inbox = queue.SimpleQueue()
        threading.Thread(target=_worker, args=(inbox,), name=f"ember-worker-{len(_workers)}", daemon=True).start()
        _workers.append(inbox)


def run(parts):
    """Run the callables ``parts`` concurrently and return their results in order (an exception is re-raised
    after every part has finished, so no worker still writes into the caller's arrays)."""
    parts = list(parts)
    if len(parts) <= 1 or not _busy.acquire(blocking=False):
        return [p() for p in parts]
    mask = None
    try:
        _ensure(len(parts) - 1)
        cpus = [None] * len(parts)
        if _BIND:
            mask = os.sched_getaffinity(0)
            if len(mask) >= len(parts) and _bind(sorted(mask)[:1]):
                cpus = sorted(mask)
            else:
                mask = None
        # a queue per call: if the caller is interrupted while waiting (Ctrl-C), a late result lands in this
        # call's queue, never in the next call's
        done = queue.SimpleQueue()
        for i, (inbox, p) in enumerate(zip(_workers, parts[1:]), 1):
            inbox.put((i, p, done, cpus[i]))
        results, error = [None] * len(parts), None
        try:
            results[0] = parts[0]()
        except BaseException as e:  # noqa: BLE001 - wait for the workers before raising
            error = e
        for _ in range(len(parts) - 1):
            i, ok, value = done.get()
            if ok:
                results[i] = value
            elif error is None:
                error = value
        if error is not None:
            raise error
        return results
    finally:
        if mask is not None:
            _bind(mask)
        _busy.release()


def run_sum(parts):
    """``run(parts)`` for parts that return partial sums (arrays, or None for no contribution): their total,
    added in place into the first (None if every part returned None) -- a weight gradient summed over the
    threads' ranges of images."""
    total = None
    for r in run(parts):
        if r is None:
            continue
        if total is None:
            total = r
        else:
            total += r
    return total


def split(n: int, parts: int | None = None) -> list[tuple[int, int]]:
    """``range(n)`` cut into at most ``parts`` (default: the thread count) contiguous, near-equal pieces."""
    parts = min(n, parts or _state["n"])
    if parts <= 1:
        return [(0, n)]
    q, r = divmod(n, parts)
    bounds, start = [], 0
    for i in range(parts):
        end = start + q + (i < r)
        bounds.append((start, end))
        start = end
    return bounds


def run_rows(fn, rows: int, elements: int) -> None:
    """``fn(lo, hi)`` over contiguous row ranges covering ``range(rows)``: one range per thread when the pass
    touches at least ``_ROWS_MIN_ELEMENTS`` elements, else a single call ``fn(0, rows)`` in this thread."""
    if elements < _ROWS_MIN_ELEMENTS or _state["n"] == 1 or rows < 2:
        fn(0, rows)
        return
    run(functools.partial(fn, lo, hi) for lo, hi in split(rows))


def limit_blas_threads(n: int = 1) -> bool:
    """Set the BLAS libraries NumPy loaded to ``n`` threads (threadpoolctl); False if that is not possible."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return False
    threadpool_limits(n, user_api="blas")
    return True


def _after_fork_in_child() -> None:
    global _busy
    _workers.clear()
    _busy = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)
