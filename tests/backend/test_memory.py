"""ember keeps freed array memory for reuse (glibc mallopt): a repeated large allocation does not page-fault."""
import os
import subprocess
import sys


PROBE = r"""
import resource, sys
import numpy as np
import ember
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
n = (6 << 20) // 4            # two 6 MiB arrays per round: over glibc's default thresholds
for _ in range(3):
    a = np.ones(n, np.float32); b = np.ones(n, np.float32); del a, b
f = faults()
for _ in range(20):
    a = np.ones(n, np.float32); b = np.ones(n, np.float32); del a, b
print((faults() - f) / 20)
"""


def _faults_per_round(env_extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env.update(env_extra)
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def test_freed_memory_is_reused_without_page_faults():
    from ember.backend import memory
    if not sys.platform.startswith("linux"):
        assert not memory.keep_freed_memory()      # glibc's mallopt only: elsewhere it does nothing
        return
    assert memory.keep_freed_memory()      # glibc
    # 12 MiB per round is ~3,000 pages: with glibc's defaults each round touches fresh pages (~1,000 faults
    # with the kernel's fault-around), with ember's thresholds it reuses the heap
    assert _faults_per_round({}) < 50
    assert _faults_per_round({"EMBER_KEEP_FREED_MEMORY": "0"}) > 500


def _address(a):
    return a.__array_interface__["data"][0]


def test_large_arrays_reuse_a_freed_buffer_of_their_size(monkeypatch):
    import numpy as np

    from ember.backend import memory
    monkeypatch.setattr(memory, "LARGE_BYTES", 1 << 16)
    monkeypatch.setattr(memory, "CACHE_BYTES", 1 << 20)
    monkeypatch.setattr(memory, "_cache", [])
    assert memory.empty((100,), np.float32).base is None                    # small: plain np.empty
    a = memory.empty((64, 2, 128), np.float32)                              # 64 KiB
    assert a.shape == (64, 2, 128) and a.dtype == np.float32 and a.flags.c_contiguous and a.flags.writeable
    at = _address(a)
    b = memory.empty((128, 128), np.float32)                                # 64 KiB while a is alive: fresh
    assert _address(b) != at
    view = a[::2]
    del a
    c = memory.empty((64, 2, 128), np.float32)                              # a view keeps a's buffer busy
    assert _address(c) not in (at, _address(b))
    del view
    d = memory.empty((2, 64, 64), np.float64)                               # 64 KiB, other dtype: a's buffer
    assert _address(d) == at and d.dtype == np.float64 and d.shape == (2, 64, 64)
    d[...] = 1.5
    assert not np.shares_memory(d, b) and not np.shares_memory(d, c) and (d == 1.5).all()
    assert len(memory._cache) == 3
    del b, c, d
    e = memory.empty((1 << 15,), np.float32)                                # 128 KiB: a size not cached yet
    assert len(memory._cache) == 4 and _address(e) != at
    # over CACHE_BYTES (1 MiB, 320 KiB held): the free buffers are dropped, and one that does not fit is not kept
    f = memory.empty((1 << 18,), np.float32)                                # 1 MiB
    assert len(memory._cache) == 1 and memory._cache[0] is e.base
    g = memory.empty((1 << 18,), np.float32)
    assert len(memory._cache) == 1 and not np.shares_memory(f, g)           # neither kept


def test_conv_output_from_the_cache_matches_torch(monkeypatch):
    # a conv whose output is 'large' gets it from the cache, twice the same buffer, values right both times
    import numpy as np
    import torch

    from ember.backend import memory
    from ember.backend.kernels import conv
    monkeypatch.setattr(memory, "LARGE_BYTES", 1 << 12)
    monkeypatch.setattr(memory, "_cache", [])
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 3, 10, 10)).astype(np.float32)
    w = rng.standard_normal((5, 3, 3, 3)).astype(np.float32)
    ref = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w)).numpy()
    y1 = conv.conv_forward(x, w, 1, 0, 1)
    np.testing.assert_allclose(y1, ref, rtol=1e-5, atol=1e-5)
    first = _address(y1)
    del y1
    y2 = conv.conv_forward(x * 2, w, 1, 0, 1)
    assert _address(y2) == first
    np.testing.assert_allclose(y2, 2 * ref, rtol=1e-5, atol=2e-5)
