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
