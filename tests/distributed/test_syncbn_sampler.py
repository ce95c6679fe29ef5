"""SyncBatchNorm on 2 and 3 ranks equals BatchNorm on the full batch (PyTorch's); DistributedSampler's
indices equal PyTorch's."""
import numpy as np
import pytest

import ember
from ember import nn
from ember.utils.data.distributed import DistributedSampler, torch_randperm

from conftest import requires_torch, torch
from mpi_helpers import requires_mpi, run_ranks, write

SYNCBN = r'''
import sys
import numpy as np
import torch
import torch.nn as nn
import torch.distributed as dist

dist.init_process_group("gloo")
r, w = dist.get_rank(), dist.get_world_size()
gen = np.random.RandomState(0)
X = gen.randn(12, 3, 4, 4).astype(np.float32) * 2 + 1
G = gen.randn(12, 3, 4, 4).astype(np.float32)
per = 12 // w
model = nn.SyncBatchNorm.convert_sync_batchnorm(nn.Sequential(nn.BatchNorm2d(3, momentum=0.3)))
bn = model[0]
assert type(bn).__name__ == "SyncBatchNorm"
with torch.no_grad():
    bn.weight.copy_(torch.tensor([1.5, 0.5, 2.0]))
    bn.bias.copy_(torch.tensor([0.1, -0.2, 0.3]))
for step in range(2):                       # two steps: the running statistics accumulate
    x = torch.tensor(X[r * per:(r + 1) * per] + step, requires_grad=True)
    y = model(x)
    y.backward(torch.tensor(G[r * per:(r + 1) * per]))
ys = [torch.zeros(per, 3, 4, 4) for _ in range(w)]
dist.all_gather(ys, y.detach())
gx = [torch.zeros(per, 3, 4, 4) for _ in range(w)]
dist.all_gather(gx, x.grad)
dist.all_reduce(bn.weight.grad)               # as DDP would (summed here; DDP averages)
dist.all_reduce(bn.bias.grad)
bn.eval()
ev = bn(torch.tensor(X[:2]))                  # eval: the running statistics, no communication
if r == 0:
    np.savez(sys.argv[1], y=torch.cat(ys).numpy(), gx=torch.cat(gx).numpy(), gw=bn.weight.grad.numpy(),
             gb=bn.bias.grad.numpy(), rm=bn.running_mean.numpy(), rv=bn.running_var.numpy(), ev=ev.detach().numpy(),
             nbt=bn.num_batches_tracked.numpy())
'''


@requires_mpi
@requires_torch
@pytest.mark.parametrize("world", [2, 3])
def test_syncbatchnorm_equals_batchnorm_on_the_full_batch(tmp_path, world):
    out = tmp_path / "out.npz"
    run_ranks(world, write(tmp_path, SYNCBN), out, launcher=True)
    got = np.load(out)
    gen = np.random.RandomState(0)
    X = gen.randn(12, 3, 4, 4).astype(np.float32) * 2 + 1
    G = gen.randn(12, 3, 4, 4).astype(np.float32)
    bn = torch.nn.BatchNorm2d(3, momentum=0.3)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor([1.5, 0.5, 2.0]))
        bn.bias.copy_(torch.tensor([0.1, -0.2, 0.3]))
    for step in range(2):
        x = torch.tensor(X + step, requires_grad=True)
        y = bn(x)
        y.backward(torch.tensor(G))
    bn.eval()
    ev = bn(torch.tensor(X[:2]))
    ref = dict(y=y, gx=x.grad, gw=bn.weight.grad, gb=bn.bias.grad, rm=bn.running_mean, rv=bn.running_var, ev=ev,
               nbt=bn.num_batches_tracked)
    for k, v in ref.items():
        np.testing.assert_allclose(got[k], v.detach().numpy(), rtol=1e-5, atol=2e-6, err_msg=k)


def test_syncbatchnorm_without_process_group_is_batchnorm():
    x = ember.randn(6, 3, 5)
    sbn, bn = nn.SyncBatchNorm(3), nn.BatchNorm1d(3)
    np.testing.assert_allclose(sbn(x).detach().numpy(), bn(x).detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(sbn.running_var.numpy(), bn.running_var.numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="expected at least 2D input"):
        sbn(ember.randn(3))
    with pytest.raises(ValueError, match="number of input channels should be non-zero"):
        nn.SyncBatchNorm(0)(ember.randn(2, 0))


@requires_torch
def test_convert_sync_batchnorm_keeps_state_and_structure():
    m = nn.Sequential(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4), nn.Sequential(nn.BatchNorm1d(4, affine=False)))
    m[1].running_mean.fill_(0.5)
    m.eval()
    c = nn.SyncBatchNorm.convert_sync_batchnorm(m)
    assert type(c[1]) is nn.SyncBatchNorm and type(c[2][0]) is nn.SyncBatchNorm and type(c[0]) is nn.Conv2d
    assert c[1].weight is m[1].weight and c[1].running_mean is m[1].running_mean and not c[1].training
    assert c[2][0].weight is None
    t = torch.nn.SyncBatchNorm.convert_sync_batchnorm(torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3),
                                                                          torch.nn.BatchNorm2d(4)))
    assert list(c.state_dict())[:7] == list(t.state_dict())[:7]
    assert repr(c[1]) == repr(t[1])


@requires_torch
@pytest.mark.parametrize("n,world,seed,shuffle,drop_last", [
    (10, 3, 0, True, False), (10, 3, 0, True, True), (101, 4, 7, True, False), (7, 2, 123, False, False),
    (7, 2, 123, False, True), (1000, 5, 42, True, True), (3, 5, 1, True, False), (64, 2, 2**33 + 5, True, False)])
def test_distributed_sampler_indices_equal_torchs(n, world, seed, shuffle, drop_last):
    from torch.utils.data.distributed import DistributedSampler as TorchDS
    data = list(range(n))
    for epoch in (0, 1, 5):
        for rank in range(world):
            e = DistributedSampler(data, num_replicas=world, rank=rank, shuffle=shuffle, seed=seed,
                                   drop_last=drop_last)
            t = TorchDS(data, num_replicas=world, rank=rank, shuffle=shuffle, seed=seed, drop_last=drop_last)
            e.set_epoch(epoch)
            t.set_epoch(epoch)
            assert list(e) == list(t) and len(e) == len(t), (epoch, rank)


@requires_torch
def test_torch_randperm_reproduced_for_large_n():
    g = torch.Generator().manual_seed(9)
    assert torch_randperm(70000, 9) == torch.randperm(70000, generator=g).tolist()


def test_distributed_sampler_errors():
    with pytest.raises(ValueError, match=r"Invalid rank 3, rank should be in the interval \[0, 2\]"):
        DistributedSampler(list(range(5)), num_replicas=3, rank=3)
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        DistributedSampler(list(range(5)))
    assert ember.utils.data.DistributedSampler is DistributedSampler
