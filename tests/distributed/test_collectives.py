"""Every collective of ember.distributed on 2 and 3 MPI ranks against a NumPy reference (computed in
the ranks from the same seeded inputs), plus the errors of bad calls."""
import pytest

import ember
import ember.distributed as dist

from mpi_helpers import requires_mpi, run_ranks, write

SCRIPT = r'''
import numpy as np
import ember as torch
import ember.distributed as dist
from ember.distributed import ReduceOp

dist.init_process_group("gloo", init_method="env://")
r, w = dist.get_rank(), dist.get_world_size()
assert dist.is_initialized() and dist.get_backend() == "gloo"


def data(rank, shape=(3, 4), dtype=np.float64):
    rs = np.random.RandomState(100 + rank)
    if np.dtype(dtype).kind in "iu":
        return rs.randint(-5, 6, size=shape).astype(dtype)
    return rs.randn(*shape).astype(dtype)


allx = [data(k) for k in range(w)]
for dtype in (np.float32, np.float64, np.int64):
    ins = [data(k, dtype=dtype) for k in range(w)]
    refs = {ReduceOp.SUM: np.sum(ins, 0), ReduceOp.MAX: np.max(ins, 0), ReduceOp.MIN: np.min(ins, 0),
            ReduceOp.PRODUCT: np.prod(ins, 0),
            ReduceOp.AVG: (np.sum(ins, 0) // w) if dtype == np.int64 else np.sum(ins, 0) / w}
    for op, ref in refs.items():
        t = torch.tensor(ins[r])
        assert dist.all_reduce(t, op=op) is None
        np.testing.assert_allclose(t.numpy(), ref.astype(dtype), rtol=1e-6, err_msg=f"all_reduce {op} {dtype}")
        assert t.dtype == torch.from_numpy(ins[r]).dtype
        # reduce: only dst gets the result
        for dst in range(w):
            t = torch.tensor(ins[r])
            dist.reduce(t, dst=dst, op=op)
            if r == dst:
                np.testing.assert_allclose(t.numpy(), ref.astype(dtype), rtol=1e-6)

# 0-d tensors; bool tensors reduce as any (sum/max) and all (product/min), as PyTorch
t = torch.tensor(1.5 + r)
dist.all_reduce(t)
assert t.shape == () and float(t) == sum(1.5 + k for k in range(w))
flags = [np.array([True, k == 0, False]) for k in range(w)]
for op, ref in ((ReduceOp.SUM, np.any(flags, 0)), (ReduceOp.MAX, np.any(flags, 0)),
                (ReduceOp.PRODUCT, np.all(flags, 0)), (ReduceOp.MIN, np.all(flags, 0))):
    t = torch.tensor(flags[r])
    dist.all_reduce(t, op=op)
    assert t.dtype == torch.bool and (t.numpy() == ref).all(), (op, t)

# async all_reduce and a non-contiguous tensor (written back through the view)
arr = np.zeros((3, 8))
arr[:, ::2] = allx[r]
arr[:, 1::2] = -7.0
base = torch.tensor(arr)
view = base[:, ::2]
work = dist.all_reduce(view, async_op=True)
work.wait()
assert work.is_completed()
np.testing.assert_allclose(view.numpy(), np.sum(allx, 0), rtol=1e-12)
np.testing.assert_allclose(base.numpy()[:, ::2], np.sum(allx, 0), rtol=1e-12)
assert (base.numpy()[:, 1::2] == -7.0).all()

# broadcast from every source
for src in range(w):
    t = torch.tensor(allx[r])
    dist.broadcast(t, src=src)
    np.testing.assert_array_equal(t.numpy(), allx[src])

# all_gather, all_gather_into_tensor (concatenated and stacked)
outs = [torch.zeros(3, 4, dtype=torch.float64) for _ in range(w)]
dist.all_gather(outs, torch.tensor(allx[r]))
for k in range(w):
    np.testing.assert_array_equal(outs[k].numpy(), allx[k])
cat = torch.zeros(3 * w, 4, dtype=torch.float64)
dist.all_gather_into_tensor(cat, torch.tensor(allx[r]))
np.testing.assert_array_equal(cat.numpy(), np.concatenate(allx))
stk = torch.zeros(w, 3, 4, dtype=torch.float64)
dist.all_gather_into_tensor(stk, torch.tensor(allx[r]), async_op=True).wait()
np.testing.assert_array_equal(stk.numpy(), np.stack(allx))

# gather / scatter to and from every rank
for root in range(w):
    lst = [torch.zeros(3, 4, dtype=torch.float64) for _ in range(w)] if r == root else None
    dist.gather(torch.tensor(allx[r]), gather_list=lst, dst=root)
    if r == root:
        for k in range(w):
            np.testing.assert_array_equal(lst[k].numpy(), allx[k])
    out = torch.zeros(3, 4, dtype=torch.float64)
    dist.scatter(out, [torch.tensor(a * 10) for a in allx] if r == root else None, src=root)
    np.testing.assert_array_equal(out.numpy(), allx[r] * 10)

# reduce_scatter_tensor: rank k gets the k-th block of the sum
big = [data(k, (2 * w, 3)) for k in range(w)]
out = torch.zeros(2, 3, dtype=torch.float64)
dist.reduce_scatter_tensor(out, torch.tensor(big[r]))
np.testing.assert_allclose(out.numpy(), np.sum(big, 0)[2 * r:2 * r + 2], rtol=1e-12)
out = torch.zeros(2, 3, dtype=torch.float64)
dist.reduce_scatter_tensor(out, torch.tensor(big[r]), op=ReduceOp.MAX)
np.testing.assert_array_equal(out.numpy(), np.max(big, 0)[2 * r:2 * r + 2])

# reduce_scatter (list form)
out = torch.zeros(2, 3, dtype=torch.float64)
dist.reduce_scatter(out, [torch.tensor(big[r][2 * k:2 * k + 2]) for k in range(w)])
np.testing.assert_allclose(out.numpy(), np.sum(big, 0)[2 * r:2 * r + 2], rtol=1e-12)

# all_to_all_single (equal and uneven splits) and all_to_all
inp = torch.tensor(np.arange(2 * w, dtype=np.float64) + 100 * r)
out = torch.zeros(2 * w, dtype=torch.float64)
dist.all_to_all_single(out, inp)
np.testing.assert_array_equal(out.numpy(), np.concatenate([np.arange(2 * r, 2 * r + 2) + 100 * k for k in range(w)]))
# rank k sends k+1 rows to every rank
inp = torch.tensor(np.full((w * (r + 1), 2), float(r)))
out = torch.zeros(sum(k + 1 for k in range(w)), 2, dtype=torch.float64)
dist.all_to_all_single(out, inp, output_split_sizes=[k + 1 for k in range(w)],
                       input_split_sizes=[r + 1] * w)
np.testing.assert_array_equal(out.numpy()[:, 0], np.concatenate([[float(k)] * (k + 1) for k in range(w)]))
outs = [torch.zeros(k + 1, dtype=torch.int64) for k in range(w)]
dist.all_to_all(outs, [torch.full((r + 1,), 10 * r + k, dtype=torch.int64) for k in range(w)])
for k in range(w):
    np.testing.assert_array_equal(outs[k].numpy(), np.full(k + 1, 10 * k + r))

# point to point: a ring with send/recv, then isend/irecv
nxt, prv = (r + 1) % w, (r - 1) % w
buf = torch.zeros(3, 4, dtype=torch.float64)
if r % 2 == 0:
    dist.send(torch.tensor(allx[r]), dst=nxt)
    got = dist.recv(buf, src=prv)
else:
    got = dist.recv(buf, src=prv)
    dist.send(torch.tensor(allx[r]), dst=nxt)
assert got == prv
np.testing.assert_array_equal(buf.numpy(), allx[prv])
buf = torch.zeros(3, 4, dtype=torch.float64)
reqs = [dist.isend(torch.tensor(allx[r] + 1), dst=nxt, tag=7), dist.irecv(buf, src=prv, tag=7)]
for q in reqs:
    q.wait()
np.testing.assert_array_equal(buf.numpy(), allx[prv] + 1)
buf = torch.zeros(3, 4, dtype=torch.float64)
if r == 0:
    senders = set()
    for _ in range(w - 1):
        senders.add(dist.recv(buf))          # any source
    q = dist.irecv(buf, tag=5)               # any source, tag 5: rank 1's
    while not q.is_completed():
        pass
    q.wait()
    senders.add(q.result())
    assert senders == set(range(1, w)), senders
    assert q.result() == 1
else:
    dist.send(torch.tensor(allx[r]), dst=0)
    if r == 1:
        dist.send(torch.tensor(allx[r]), dst=0, tag=5)

# objects
objs = [{"rank": r, "list": [1, 2]}, "x"] if r == 1 else [None, None]
dist.broadcast_object_list(objs, src=1)
assert objs == [{"rank": 1, "list": [1, 2]}, "x"], objs
everyone = []
dist.all_gather_object(everyone, ("hi", r))
assert everyone == [("hi", k) for k in range(w)]

# a sub-group of ranks 0 and w-1; src/dst are global ranks
g = dist.new_group([0, w - 1])
t = torch.tensor(allx[r])
if r in (0, w - 1):
    assert dist.get_world_size(g) == 2 and dist.get_rank(g) == (0 if r == 0 else 1)
    dist.all_reduce(t, group=g)
    np.testing.assert_allclose(t.numpy(), allx[0] + allx[w - 1], rtol=1e-12)
    t2 = torch.tensor(allx[r])
    dist.broadcast(t2, src=w - 1, group=g)
    np.testing.assert_array_equal(t2.numpy(), allx[w - 1])
else:
    assert dist.get_rank(g) == -1
    assert dist.all_reduce(t, group=g) is None
    np.testing.assert_array_equal(t.numpy(), allx[r])

# mismatched shapes across ranks: a clear error on every rank, no corruption or hang
try:
    dist.all_reduce(torch.zeros(3 + r))
except RuntimeError as e:
    msg = str(e)
    assert "mismatched" in msg and "rank 0: all_reduce(dtype=float32, shape=[3])" in msg, msg
else:
    raise AssertionError("no error for mismatched shapes")
try:
    dist.broadcast(torch.zeros(2, dtype=torch.float64 if r == 0 else torch.float32), src=0)
except RuntimeError as e:
    assert "float64" in str(e) and "float32" in str(e), str(e)
else:
    raise AssertionError("no error for mismatched dtypes")

dist.barrier()
dist.barrier(async_op=True).wait()
dist.destroy_process_group()
assert not dist.is_initialized()
print("OK", r)
'''


@requires_mpi
@pytest.mark.parametrize("n", [2, 3])
def test_collectives_against_numpy(tmp_path, n):
    p = run_ranks(n, write(tmp_path, SCRIPT))
    assert p.stdout.count("OK") == n, p.stdout


def test_collectives_before_init_raise_torchs_error():
    assert not dist.is_initialized()
    msg = "Default process group has not been initialized, please make sure to call init_process_group."
    for call in (lambda: dist.all_reduce(ember.ones(2)), lambda: dist.get_rank(), lambda: dist.get_world_size(),
                 lambda: dist.barrier(), lambda: dist.broadcast(ember.ones(2), src=0), lambda: dist.get_backend()):
        with pytest.raises(ValueError) as e:
            call()
        assert str(e.value) == msg


def test_nccl_and_unknown_backends_are_refused():
    with pytest.raises(RuntimeError, match="NCCL.*gloo"):
        dist.init_process_group("nccl")
    with pytest.raises(ValueError, match="Invalid backend"):
        dist.init_process_group("carrier-pigeon")
    assert not dist.is_initialized()


def test_reduce_op_names_and_availability():
    assert dist.is_available() in (True, False)
    assert {op.name for op in dist.ReduceOp.RedOpType} >= {"SUM", "AVG", "PRODUCT", "MIN", "MAX"}
    assert dist.ReduceOp.SUM == dist.ReduceOp.RedOpType.SUM
    assert dist.Backend("GLOO") == "gloo" and dist.Backend.MPI == "mpi"
    assert dist.group.WORLD is None and dist.GroupMember.NON_GROUP_MEMBER == -100


def test_import_ember_does_not_import_mpi4py():
    import subprocess
    import sys
    code = "import sys, ember, ember.distributed; assert 'mpi4py' not in sys.modules; print('ok')"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "ok"
