"""DistributedDataParallel on 2 and 4 MPI ranks equals one process on the whole batch."""
import numpy as np
import pytest

import ember
from ember import nn
from ember.utils.data.distributed import DistributedSampler

from mpi_helpers import requires_mpi, run_ranks, write

COMMON = r'''
import sys
import numpy as np
import torch
import torch.nn as nn
import torch.distributed as dist


def make_model():
    return nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3))


def make_data():
    gen = np.random.RandomState(0)
    return (torch.tensor(gen.randn(64, 5).astype(np.float32)), torch.tensor(gen.randint(0, 3, 64)))
'''

TRAIN = COMMON + r'''
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler
from torch.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("gloo")
r, w = dist.get_rank(), dist.get_world_size()
torch.manual_seed(1234 + r)          # a different init on every rank: DDP broadcasts rank 0's
model = make_model()
model.register_buffer("stamp", torch.full((2,), float(r)))
ddp = DDP(model, bucket_cap_mb=float(sys.argv[2]))
assert ddp.module is model and (model.stamp.numpy() == 0).all()
assert list(ddp.state_dict())[:3] == ["module.stamp", "module.0.weight", "module.0.bias"], list(ddp.state_dict())
X, Y = make_data()
ds = TensorDataset(X, Y)
sampler = DistributedSampler(ds, shuffle=True, seed=3)
dl = DataLoader(ds, batch_size=16 // w, sampler=sampler)
opt = torch.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
started = []
# the first layer's output gets its gradient before the first layer's parameters do: by then the
# bucket of the last layers has started its all-reduce (communication overlaps backward)
def watch(module, args, out):
    out.register_hook(lambda g: started.append(ddp._next))


model[0].register_forward_hook(watch)
step = 0
for epoch in range(5):
    sampler.set_epoch(epoch)
    for xb, yb in dl:
        opt.zero_grad()
        loss = nn.functional.cross_entropy(ddp(xb), yb)
        loss.backward()
        opt.step()
        step += 1
assert step == 20
if float(sys.argv[2]) < 0.01:
    assert len(ddp._buckets) >= 2 and min(started) >= 1, (len(ddp._buckets), started)
if r == 0:
    np.savez(sys.argv[1], **{k: v.numpy() for k, v in ddp.module.state_dict().items()})
print("OK")
'''


def _reference(world):
    """One process, the whole global batch of each step (the union of the ranks' batches)."""
    ns = {}
    exec(COMMON.replace("import torch.nn as nn", "").replace("import torch.distributed as dist", "")
         .replace("import torch\n", ""), {"torch": ember, "nn": nn, "np": np}, ns)
    ember.manual_seed(1234)
    model = ns["make_model"]()
    X, Y = ns["make_data"]()
    opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    samplers = [DistributedSampler(X, num_replicas=world, rank=k, shuffle=True, seed=3) for k in range(world)]
    b = 16 // world
    for epoch in range(5):
        for s in samplers:
            s.set_epoch(epoch)
        idx = [list(s) for s in samplers]
        for k in range(0, len(idx[0]), b):
            sel = sum((i[k:k + b] for i in idx), [])
            opt.zero_grad()
            nn.functional.cross_entropy(model(X[sel]), Y[sel]).backward()
            opt.step()
    return {k: v.numpy() for k, v in model.state_dict().items()}


@requires_mpi
@pytest.mark.parametrize("world,cap", [(2, 0.001), (2, 25), (4, 0.001)])
def test_ddp_equals_one_process_on_the_global_batch(tmp_path, world, cap):
    out = tmp_path / "weights.npz"
    run_ranks(world, write(tmp_path, TRAIN), out, cap, launcher=True)
    got = np.load(out)
    ref = _reference(world)
    assert sorted(got.files) == sorted(ref) + ["stamp"]
    assert (got["stamp"] == 0).all()
    for k in ref:
        np.testing.assert_allclose(got[k], ref[k], rtol=1e-5, atol=2e-6, err_msg=k)


NO_SYNC = COMMON + r'''
from torch.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("gloo")
r, w = dist.get_rank(), dist.get_world_size()
torch.manual_seed(0)
model = make_model()
ddp = DDP(model, bucket_cap_mb=0.001)
X, Y = make_data()
chunks = [(X[k * 8:(k + 1) * 8], Y[k * 8:(k + 1) * 8]) for k in range(8)]   # 4 micro-batches per rank
mine = chunks[r * 4:(r + 1) * 4] if w == 2 else None
with ddp.no_sync():
    for xb, yb in mine[:3]:
        nn.functional.cross_entropy(ddp(xb), yb).backward()
local = [p.grad.clone() for p in model.parameters()]
xb, yb = mine[3]
nn.functional.cross_entropy(ddp(xb), yb).backward()          # synchronises the accumulated gradients
# a reference on one process: the sum over all micro-batches of all ranks, divided by the ranks
ref = make_model()
ref.load_state_dict(model.state_dict())
for xb, yb in chunks:
    nn.functional.cross_entropy(ref(xb), yb).backward()
for p, q, l in zip(model.parameters(), ref.parameters(), local):
    np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy() / w, rtol=1e-5, atol=1e-6)
# inside no_sync the gradients were this rank's only
others = [torch.zeros_like(local[0]) for _ in range(w)]
dist.all_gather(others, local[0])
assert not np.allclose(others[0].numpy(), others[1].numpy())
print("OK")
'''


@requires_mpi
def test_no_sync_accumulates_locally_then_averages(tmp_path):
    run_ranks(2, write(tmp_path, NO_SYNC), launcher=True)


UNUSED = r'''
import numpy as np
import torch
import torch.nn as nn
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP


class Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 2)
        self.b = nn.Linear(4, 2)        # used by rank 0 only
        self.never = nn.Linear(4, 2)    # used by no rank

    def forward(self, x, use_b):
        return self.a(x) + (self.b(x) if use_b else 0)


dist.init_process_group("mpi")
r, w = dist.get_rank(), dist.get_world_size()
torch.manual_seed(0)
m = Branchy()
ddp = DDP(m, find_unused_parameters=True)
x = torch.ones(3, 4) * (r + 1)
ddp(x, use_b=(r == 0)).sum().backward()
ga = [torch.zeros(2, 4) for _ in range(w)]
# a's gradient: the average over the ranks; b's: rank 0's / w; never: stays None
np.testing.assert_allclose(m.a.weight.grad.numpy(), np.full((2, 4), 3.0 * (1 + w) / 2), rtol=1e-6)
np.testing.assert_allclose(m.b.weight.grad.numpy(), np.full((2, 4), 3.0 / w), rtol=1e-6)
assert m.never.weight.grad is None
# without find_unused_parameters, an unused parameter is reported at the next forward, as PyTorch
ddp2 = DDP(Branchy())
ddp2(x, use_b=True).sum().backward()
try:
    ddp2(x, use_b=True)
except RuntimeError as e:
    assert "Expected to have finished reduction in the prior iteration" in str(e)
    assert "find_unused_parameters=True" in str(e)
else:
    raise AssertionError("no error")
# different models on the ranks are refused at construction
try:
    DDP(nn.Linear(3, 2 + r))
except RuntimeError as e:
    assert "DDP expects same model across all ranks" in str(e), str(e)
else:
    raise AssertionError("no error")
print("OK")
'''


@requires_mpi
def test_find_unused_parameters_and_errors(tmp_path):
    p = run_ranks(2, write(tmp_path, UNUSED), launcher=True)
    assert p.stdout.count("OK") == 2
