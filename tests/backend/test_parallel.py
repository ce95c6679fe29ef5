"""ember's thread pool: results in order, exceptions after every part finished, nested calls run serially,
thread count from torch.set_num_threads, a fresh pool after fork, BLAS limited to one thread."""
import os
import signal
import threading
import time

import numpy as np
import pytest

import ember
from ember.backend import parallel


def test_results_in_order_and_on_several_threads(monkeypatch):
    monkeypatch.setitem(parallel._state, "n", 3)
    names = []

    def part(i):
        def f():
            time.sleep(0.01 * (3 - i))          # finish in reverse order
            names.append(threading.current_thread().name)
            return i * i
        return f

    assert parallel.run([part(i) for i in range(3)]) == [0, 1, 4]
    assert len(set(names)) == 3 and threading.current_thread().name in names


def test_run_sum_adds_the_parts_into_the_first_and_skips_none(monkeypatch):
    monkeypatch.setitem(parallel._state, "n", 3)
    arrays = [np.full(4, float(i + 1)) for i in range(3)]
    total = parallel.run_sum([lambda a=a: a for a in arrays] + [lambda: None])
    np.testing.assert_array_equal(total, [6.0] * 4)
    assert total is arrays[0]                       # in place: no new array
    assert parallel.run_sum([lambda: None, lambda: None]) is None


def test_an_exception_is_raised_after_all_parts_finished():
    done = []

    def slow():
        time.sleep(0.05)
        done.append(True)

    def bad():
        raise ValueError("part failed")

    with pytest.raises(ValueError, match="part failed"):
        parallel.run([bad, slow])
    assert done == [True]
    assert parallel.run([lambda: 1, lambda: 2]) == [1, 2]       # the pool still works


def test_nested_calls_run_serially_in_the_calling_thread():
    def outer():
        me = threading.current_thread()
        inner = parallel.run([lambda: threading.current_thread(), lambda: threading.current_thread()])
        return all(t is me for t in inner)

    assert parallel.run([outer, outer]) == [True, True]


def test_split():
    assert parallel.split(10, 3) == [(0, 4), (4, 7), (7, 10)]
    assert parallel.split(2, 5) == [(0, 1), (1, 2)]
    assert parallel.split(0, 2) == [(0, 0)]


def test_set_num_threads_sets_the_pool_size():
    old = ember.get_num_threads()
    try:
        ember.set_num_threads(1)
        assert parallel.num_threads() == 1 and parallel.split(10) == [(0, 10)]
        ember.set_num_threads(3)
        assert ember.get_num_threads() == 3 and len(parallel.split(10)) == 3
    finally:
        ember.set_num_threads(old)
    with pytest.raises(RuntimeError):
        ember.set_num_threads(0)


def test_the_pool_works_in_a_forked_child(monkeypatch):
    monkeypatch.setitem(parallel._state, "n", 2)
    parallel.run([lambda: 1, lambda: 2])          # the parent's worker exists
    pid = os.fork()
    if pid == 0:                                  # child: the parent's workers did not survive the fork
        try:
            ok = parallel.run([lambda: 1, lambda: 2]) == [1, 2]
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_the_blas_runs_one_thread():
    import threadpoolctl
    blas = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas" and "openblas" in i["filepath"]
            and "numpy" in i["filepath"]]
    assert blas and all(i["num_threads"] == 1 for i in blas)


@pytest.mark.parametrize("shapes", [((96, 70), (70, 50)), ((3, 40, 30), (30, 20)), ((4, 30, 20), (4, 20, 10)),
                                    ((2, 1, 30, 20), (3, 20, 10)), ((50, 64), (64, 3))])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_gemm_split_over_threads_equals_numpy(shapes, threads, monkeypatch):
    from ember.backend.kernels import gemm
    monkeypatch.setitem(parallel._state, "n", threads)
    monkeypatch.setattr(gemm, "_PARALLEL_MIN_FLOPS", 0)
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal(s).astype(np.float32) for s in shapes)
    a_t = np.asfortranarray(a) if a.ndim == 2 else a          # a non-C-contiguous operand too
    for lhs in (a, a_t):
        got = gemm.matmul(lhs, b)
        np.testing.assert_allclose(got, np.matmul(a, b), rtol=1e-5, atol=1e-5)
        assert got.dtype == np.float32 and got.shape == np.matmul(a, b).shape


def test_an_interrupted_call_does_not_leak_its_late_result_into_the_next(monkeypatch):
    """Ctrl-C while the caller waits for a busy worker: the worker's late result must not be taken for a part
    of the next call (SIGALRM stands in for Ctrl-C)."""
    monkeypatch.setitem(parallel._state, "n", 2)

    def on_alarm(*_):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGALRM, on_alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        with pytest.raises(KeyboardInterrupt):
            parallel.run([lambda: "main", lambda: time.sleep(0.3) or "stale"])
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert parallel.run([lambda: "a", lambda: "b"]) == ["a", "b"]


needs_affinity = pytest.mark.skipif(not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
                                    reason="needs sched_setaffinity and two CPUs")


@needs_affinity
def test_parts_run_bound_to_distinct_cpus_and_the_callers_mask_is_restored(monkeypatch):
    monkeypatch.setitem(parallel._state, "n", 2)
    monkeypatch.setattr(parallel, "_BIND", True)
    before = os.sched_getaffinity(0)

    def mask():
        return os.sched_getaffinity(0)

    inside = parallel.run([mask, mask])
    assert all(len(m) == 1 for m in inside) and inside[0] != inside[1] and inside[0] | inside[1] <= before
    assert os.sched_getaffinity(0) == before
    with pytest.raises(ValueError):                            # restored on an exception too
        parallel.run([lambda: (_ for _ in ()).throw(ValueError("x")), mask])
    assert os.sched_getaffinity(0) == before


@needs_affinity
def test_no_binding_when_turned_off_or_with_fewer_cpus_than_parts(monkeypatch):
    monkeypatch.setitem(parallel._state, "n", 2)
    before = os.sched_getaffinity(0)

    def mask():
        return os.sched_getaffinity(0)

    monkeypatch.setattr(parallel, "_BIND", False)              # OMP_PROC_BIND=false
    assert parallel.run([mask, mask]) == [before, before]      # (the worker unbinds itself again)
    monkeypatch.setattr(parallel, "_BIND", True)
    one = {min(before)}
    os.sched_setaffinity(0, one)                               # one allowed CPU for two parts
    try:
        assert parallel.run([mask, mask]) == [one, before]     # nobody bound (the worker keeps its own mask)
        assert os.sched_getaffinity(0) == one
    finally:
        os.sched_setaffinity(0, before)


@needs_affinity
def test_a_refused_binding_runs_the_parts_unbound(monkeypatch):
    monkeypatch.setitem(parallel._state, "n", 2)
    monkeypatch.setattr(parallel, "_BIND", False)
    assert parallel.run([lambda: 0, lambda: 0]) == [0, 0]     # the worker unbound: the next run binds it again
    monkeypatch.setattr(parallel, "_BIND", True)
    real = os.sched_setaffinity
    caller = threading.current_thread()

    def refuse_in_workers(pid, cpus):
        if threading.current_thread() is not caller:
            raise OSError(22, "Invalid argument")
        real(pid, cpus)

    monkeypatch.setattr(os, "sched_setaffinity", refuse_in_workers)
    assert parallel.run([lambda: 1, lambda: 2]) == [1, 2]      # the worker's refusal is not the part's error

    def refuse(pid, cpus):
        raise OSError(22, "Invalid argument")

    monkeypatch.setattr(os, "sched_setaffinity", refuse)      # the caller's too
    assert parallel.run([lambda: 3, lambda: 4]) == [3, 4]
    assert parallel.run([lambda: 5, lambda: 6]) == [5, 6]      # the pool's lock was released
