"""ember.utils.data against torch.utils.data: index order, batching, collation, splits, workers."""
import collections
import math

import numpy as np
import pytest

import ember
from ember.utils import data as edata
from conftest import requires_torch, torch

if torch is not None:
    from torch.utils import data as tdata


class _Index:
    """A map-style dataset whose sample i is i (works in both libraries)."""

    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        return i

    def __len__(self):
        return self.n


def _ids(batches):
    return [np.asarray(b._data if hasattr(b, "_data") else b.numpy() if hasattr(b, "numpy") else b).tolist()
            for b in batches]


@requires_torch
@pytest.mark.parametrize("n,bs,drop_last", [(10, 3, False), (10, 3, True), (9, 3, False), (9, 3, True), (5, 8, False),
                                            (5, 8, True), (1, 1, False)])
def test_sequential_batches_and_len_match_torch(n, bs, drop_last):
    e = edata.DataLoader(_Index(n), batch_size=bs, drop_last=drop_last)
    t = tdata.DataLoader(_Index(n), batch_size=bs, drop_last=drop_last)
    assert len(e) == len(t)
    assert _ids(e) == _ids(t)


@requires_torch
def test_batch_sampler_and_sampler_options_match_torch():
    for mk in (lambda m: dict(batch_sampler=m.BatchSampler(m.SequentialSampler(range(11)), 4, False)),
               lambda m: dict(sampler=[3, 1, 4, 1, 5, 9, 2, 6], batch_size=3),
               lambda m: dict(batch_size=None)):
        e = edata.DataLoader(_Index(11), **mk(edata))
        t = tdata.DataLoader(_Index(11), **mk(tdata))
        assert len(e) == len(t)
        assert _ids(e) == _ids(t)
    assert list(edata.BatchSampler(range(10), 3, True)) == list(tdata.BatchSampler(range(10), 3, True))
    assert len(edata.BatchSampler(range(10), 3, False)) == len(tdata.BatchSampler(range(10), 3, False)) == 4


@requires_torch
@pytest.mark.parametrize("kwargs", [dict(batch_size=2, shuffle=True, sampler=[0, 1]),
                                    dict(batch_sampler=[[0]], batch_size=2),
                                    dict(batch_size=None, drop_last=True),
                                    dict(num_workers=-1),
                                    dict(persistent_workers=True),
                                    dict(prefetch_factor=2),
                                    dict(timeout=-1)])
def test_invalid_option_combinations_raise_like_torch(kwargs):
    with pytest.raises(ValueError) as te:
        tdata.DataLoader(_Index(4), **kwargs)
    with pytest.raises(ValueError) as ee:
        edata.DataLoader(_Index(4), **kwargs)
    assert str(ee.value) == str(te.value)


def test_shuffle_is_a_permutation_and_reproducible_with_generator():
    def run(seed, **kw):
        g = ember.Generator().manual_seed(seed)
        return _ids(edata.DataLoader(_Index(23), batch_size=5, shuffle=True, generator=g, **kw))

    a, b, c = run(3), run(3), run(4)
    assert a == b and a != c
    assert sorted(sum(a, [])) == list(range(23))
    ember.manual_seed(7)
    x = _ids(edata.DataLoader(_Index(23), batch_size=5, shuffle=True))
    ember.manual_seed(7)
    y = _ids(edata.DataLoader(_Index(23), batch_size=5, shuffle=True))
    assert x == y


def test_two_workers_give_the_same_batches_as_the_main_process():
    x = ember.randn(37, 3)
    y = ember.arange(37)
    ds = edata.TensorDataset(x, y)
    out = []
    for nw in (0, 2):
        g = ember.Generator().manual_seed(11)
        out.append([(bx._data.copy(), by._data.copy())
                    for bx, by in edata.DataLoader(ds, batch_size=8, shuffle=True, generator=g, num_workers=nw)])
    assert len(out[0]) == len(out[1]) == 5
    for (ax, ay), (bx, by) in zip(*out):
        np.testing.assert_array_equal(ax, bx)
        np.testing.assert_array_equal(ay, by)
    # the generic (per-sample) path in workers too, with a collate_fn of our own
    g0, g2 = ember.Generator().manual_seed(5), ember.Generator().manual_seed(5)
    coll = lambda b: [i * 10 for i in b]
    a = list(edata.DataLoader(_Index(20), batch_size=3, shuffle=True, generator=g0, collate_fn=coll))
    b = list(edata.DataLoader(_Index(20), batch_size=3, shuffle=True, generator=g2, collate_fn=coll, num_workers=2))
    assert a == b


def test_abandoned_worker_iterator_shuts_down_quickly():
    import time
    ds = edata.TensorDataset(ember.zeros(4000, 64, 64), ember.arange(4000))
    t0 = time.time()
    for i, _ in enumerate(edata.DataLoader(ds, batch_size=500, num_workers=2, prefetch_factor=4)):
        if i == 1:
            break
    assert time.time() - t0 < 4.0


class _Slow:
    def __getitem__(self, i):
        import time
        time.sleep(0.6)
        return i

    def __len__(self):
        return 1


def test_timeout_raises():
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.2 seconds"):
        list(edata.DataLoader(_Slow(), batch_size=1, num_workers=1, timeout=0.2))


def test_tensor_dataset_fast_path_equals_per_sample_collate():
    x = ember.randn(10, 2, 3)
    y = ember.randint(0, 5, (10,))
    ds = edata.TensorDataset(x, y)
    slow = edata.DataLoader(ds, batch_size=4, collate_fn=lambda b: edata.default_collate(b))
    fast = edata.DataLoader(ds, batch_size=4)
    for (a1, b1), (a2, b2) in zip(slow, fast):
        assert a1.shape == a2.shape and a1.dtype == a2.dtype and b1.dtype == b2.dtype
        np.testing.assert_array_equal(a1._data, a2._data)
        np.testing.assert_array_equal(b1._data, b2._data)


class _Fail:
    def __getitem__(self, i):
        if i == 3:
            raise ValueError("bad sample 3")
        return i

    def __len__(self):
        return 6


def test_worker_exception_is_reraised_in_main_process():
    with pytest.raises(ValueError, match="bad sample 3"):
        list(edata.DataLoader(_Fail(), batch_size=2, num_workers=2))


class _WorkerIds:
    def __getitem__(self, i):
        info = edata.get_worker_info()
        return (info.id, info.num_workers, int(ember.randint(0, 10**9, (1,))))

    def __len__(self):
        return 4


def test_worker_info_seeds_and_init_fn():
    assert edata.get_worker_info() is None
    seen = []
    g = ember.Generator().manual_seed(0)
    batches = list(edata.DataLoader(_WorkerIds(), batch_size=1, num_workers=2, generator=g,
                                    worker_init_fn=lambda wid: seen.append(wid)))
    ids = [int(b[0]) for b in batches]
    assert ids == [0, 1, 0, 1]  # round-robin, results in order
    assert all(int(b[1]) == 2 for b in batches)
    # each worker is seeded base_seed + id: different streams, reproducible with the same generator
    g = ember.Generator().manual_seed(0)
    again = list(edata.DataLoader(_WorkerIds(), batch_size=1, num_workers=2, generator=g))
    assert [int(b[2]) for b in batches] == [int(b[2]) for b in again]
    assert int(batches[0][2]) != int(batches[1][2])


class _Threads:
    """Sample i is the number of threads ember's kernels use where it is loaded."""

    def __len__(self):
        return 2

    def __getitem__(self, i):
        return ember.get_num_threads()


def test_workers_run_their_kernels_on_one_thread(monkeypatch):
    monkeypatch.setitem(ember.backend.parallel._state, "n", 2)      # (as PyTorch's workers: set_num_threads(1))
    assert [int(b) for b in edata.DataLoader(_Threads(), batch_size=1, num_workers=2)] == [1, 1]
    assert [int(b) for b in edata.DataLoader(_Threads(), batch_size=1)] == [2, 2]
    assert ember.get_num_threads() == 2


def test_workers_ignore_ctrl_c():
    import os
    import signal
    it = iter(edata.DataLoader(_Index(12), batch_size=2, num_workers=2))
    first = next(it)
    for w in it._workers:
        os.kill(w.pid, signal.SIGINT)
    assert _ids([first] + list(it)) == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9], [10, 11]]


def test_persistent_workers_serve_several_epochs():
    dl = edata.DataLoader(_Index(7), batch_size=2, num_workers=2, persistent_workers=True)
    for _ in range(3):
        assert _ids(dl) == [[0, 1], [2, 3], [4, 5], [6]]
    dl._iterator._shutdown_workers()


def _make_iterable(mod):
    class Shards(mod.IterableDataset):
        def __iter__(self):
            info = mod.get_worker_info()
            if info is None:
                return iter(range(10))
            return iter(range(info.id, 10, info.num_workers))

        def __len__(self):
            return 10
    return Shards()


@requires_torch
@pytest.mark.parametrize("nw,bs,drop_last", [(0, 3, False), (2, 3, False), (2, 3, True), (2, None, False)])
def test_iterable_dataset_order_matches_torch(nw, bs, drop_last):
    e = edata.DataLoader(_make_iterable(edata), batch_size=bs, num_workers=nw, drop_last=drop_last)
    t = tdata.DataLoader(_make_iterable(tdata), batch_size=bs, num_workers=nw, drop_last=drop_last)
    assert _ids(e) == _ids(t)
    assert len(e) == len(t)


Point = collections.namedtuple("Point", "x y")


@requires_torch
@pytest.mark.parametrize("make", [
    lambda T: [T.arange(3) * i for i in range(4)],
    lambda T: [(T.ones(2) * i, i, float(i) / 2, str(i)) for i in range(3)],
    lambda T: [{"a": T.full((2, 2), float(i)), "b": [i, i + 1], "c": {"d": np.float32(i)}} for i in range(3)],
    lambda T: [Point(np.arange(3, dtype=np.float32) + i, np.int64(i)) for i in range(2)],
    lambda T: [np.arange(4, dtype=np.uint8).reshape(2, 2) for i in range(3)],
    lambda T: [True, False, True],
])
def test_default_collate_matches_torch_on_nested_structures(make):
    def norm(x):
        if isinstance(x, ember.Tensor):
            return ("T", str(x.dtype).split(".")[-1], x._data.tolist())
        if isinstance(x, torch.Tensor):
            return ("T", str(x.dtype).split(".")[-1], x.numpy().tolist())
        if isinstance(x, dict):
            return {k: norm(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return (type(x).__name__, [norm(v) for v in x])
        return x
    e = edata.default_collate(make(ember))
    t = tdata.default_collate(make(torch))
    assert norm(e) == norm(t)


def test_default_collate_errors():
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        edata.default_collate([object(), object()])
    with pytest.raises(RuntimeError, match="equal size"):
        edata.default_collate([[1, 2], [1]])


@requires_torch
@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.7], [0.5, 0.25, 0.25], [0.34, 0.33, 0.33], [10]])
def test_random_split_sizes_match_torch_and_partition(lengths):
    e = edata.random_split(_Index(10), lengths, generator=ember.Generator().manual_seed(0))
    t = tdata.random_split(_Index(10), lengths, generator=torch.Generator().manual_seed(0))
    assert [len(s) for s in e] == [len(s) for s in t]
    assert sorted(i for s in e for i in s.indices) == list(range(10))
    e2 = edata.random_split(_Index(10), lengths, generator=ember.Generator().manual_seed(0))
    assert [s.indices for s in e] == [s.indices for s in e2]
    with pytest.raises(ValueError):
        edata.random_split(_Index(10), [3, 3])


def test_datasets_subset_concat():
    x = ember.arange(6.)
    ds = edata.TensorDataset(x, x * 2)
    assert len(ds) == 6 and float(ds[2][1]) == 4.0
    with pytest.raises(AssertionError, match="Size mismatch"):
        edata.TensorDataset(ember.zeros(3), ember.zeros(4))
    sub = edata.Subset(_Index(10), [9, 2, 5])
    assert [sub[i] for i in range(3)] == [9, 2, 5]
    cat = edata.ConcatDataset([_Index(3), _Index(2)])
    assert len(cat) == 5 and [cat[i] for i in range(5)] == [0, 1, 2, 0, 1] and cat[-1] == 1
    both = edata.StackDataset(_Index(3), _Index(3))
    assert both[1] == (1, 1)


def test_samplers():
    g = ember.Generator().manual_seed(0)
    rs = list(edata.RandomSampler(range(5), replacement=True, num_samples=50, generator=g))
    assert len(rs) == 50 and set(rs) <= set(range(5))
    assert len(list(edata.RandomSampler(range(5), num_samples=12))) == 12
    assert sorted(edata.SubsetRandomSampler([4, 8, 15])) == [4, 8, 15]
    w = list(edata.WeightedRandomSampler([0.0, 1.0, 0.0, 1.0], 20, generator=g))
    assert len(w) == 20 and set(w) <= {1, 3}
    assert sorted(edata.WeightedRandomSampler([1, 1, 1], 3, replacement=False)) == [0, 1, 2]
    with pytest.raises(ValueError):
        edata.RandomSampler(range(5), num_samples=0)
    assert math.isclose(len(edata.DataLoader(_Index(10), batch_size=4)), 3)


def test_legacy_import_paths():
    from ember.utils.data._utils.collate import default_collate
    from ember.utils.data.dataloader import default_collate as dc2
    assert default_collate is dc2 is edata.default_collate
