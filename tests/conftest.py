"""Shared test helpers: the PyTorch oracle and conversions between ember and torch tensors."""
import os

import numpy as np
import pytest

try:
    import torch
except ImportError:  # the oracle tests skip; .ci/run fails if any were skipped for this reason
    torch = None

import ember

requires_torch = pytest.mark.skipif(torch is None, reason="PyTorch oracle not installed")


def to_torch(t, requires_grad=None):
    """An ember tensor's values as a torch tensor (copied), optionally requiring grad."""
    x = torch.from_numpy(np.array(t._data, copy=True))
    if requires_grad if requires_grad is not None else t.requires_grad:
        x.requires_grad_()
    return x


def to_ember(x, requires_grad=None):
    t = ember.from_numpy(x.detach().numpy().copy())
    if requires_grad if requires_grad is not None else x.requires_grad:
        t.requires_grad_()
    return t


def assert_close(e, t, rtol=1e-5, atol=1e-6, check_dtype=True):
    """ember result ``e`` equals torch result ``t`` in shape, dtype and values."""
    ev = e._data if hasattr(e, "_data") else np.asarray(e)
    tv = t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)
    assert ev.shape == tv.shape, f"shape {ev.shape} != torch {tv.shape}"
    if check_dtype:
        assert ev.dtype == tv.dtype, f"dtype {ev.dtype} != torch {tv.dtype}"
    np.testing.assert_allclose(ev.astype(np.float64) if ev.dtype.kind != "b" else ev,
                               tv.astype(np.float64) if tv.dtype.kind != "b" else tv, rtol=rtol, atol=atol)


@pytest.fixture(autouse=True)
def _seed():
    ember.manual_seed(0)
    if torch is not None:
        torch.manual_seed(0)
    yield


def pytest_sessionfinish(session, exitstatus):
    # CI sets these: a run without the oracle (or MPI, or Numba) would pass by skipping, so it fails instead.
    if os.environ.get("EMBER_REQUIRE_ORACLE") and torch is None:
        print("\nEMBER_REQUIRE_ORACLE is set but PyTorch is not installed: the oracle tests were skipped")
        session.exitstatus = 3
    if os.environ.get("EMBER_REQUIRE_JIT"):
        try:
            import numba  # noqa: F401
        except ImportError:
            print("\nEMBER_REQUIRE_JIT is set but Numba is not installed: the compiled-kernel tests were skipped")
            session.exitstatus = 3
    if os.environ.get("EMBER_REQUIRE_MPI"):
        from ember.distributed.launch import find_mpiexec
        try:
            import mpi4py  # noqa: F401
        except ImportError:
            mpi4py = None
        if mpi4py is None or not find_mpiexec():
            print("\nEMBER_REQUIRE_MPI is set but mpi4py/mpiexec are missing: the distributed tests were skipped")
            session.exitstatus = 3
