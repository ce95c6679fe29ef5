"""``SyncBatchNorm``: batch normalization whose statistics cover the whole batch across the ranks.

In training, with a process group of more than one rank, each rank computes its per-channel mean,
sum of squared deviations and count; one all-gather exchanges them and every rank combines them
(Chan's parallel variance) into the statistics of the global batch. The all-gather is an autograd
op whose backward all-reduces the gradient, so the input gradients are those of BatchNorm over the
global batch. Otherwise (eval, one rank, no process group) it is BatchNorm. Unlike PyTorch, which
requires GPU inputs for the synchronised path, ember runs it on the CPU.
"""
from __future__ import annotations

import numpy as np

from ...autograd.function import Function
from ...autograd.grad_mode import no_grad
from ...ops.norm import batch_norm
from .batchnorm import _BatchNorm

__all__ = ["SyncBatchNorm"]


class _AllGatherStats(Function):
    """(K,) per rank -> (world, K) on every rank; backward: the summed gradient of this rank's row."""

    node_name = "SyncBatchNormBackward"

    @staticmethod
    def forward(ctx, a, group):
        from ... import distributed as dist
        ctx.group = group
        a = np.ascontiguousarray(a)
        out = np.empty((group.size(),) + a.shape, a.dtype)
        dist._wait_request(group._comm.Iallgather(a, out), group, "SyncBatchNorm all_gather")
        return out

    @staticmethod
    def backward(ctx, g):
        from ... import distributed as dist
        from ..._tensor import Tensor
        group = ctx.group
        MPI = dist._mpi()
        total = np.array(g._data, copy=True, order="C")
        dist._wait_request(group._comm.Iallreduce(MPI.IN_PLACE, total, op=MPI.SUM), group,
                           "SyncBatchNorm backward all_reduce")
        return Tensor._make(total[group.rank()].copy(), False, None, 0), None


class SyncBatchNorm(_BatchNorm):
    """input: (N, C, *). Statistics over N and * on all ranks of ``process_group`` (default: all)."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, process_group=None, device=None, dtype=None) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device=device, dtype=dtype)
        self.process_group = process_group

    def _check_input_dim(self, input):
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    def _check_non_zero_input_channels(self, input):
        if input.size(1) == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")

    def forward(self, input):
        from ... import distributed as dist
        self._check_input_dim(input)
        self._check_non_zero_input_channels(input)
        eaf = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            eaf = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
        bn_training = self.training or (self.running_mean is None and self.running_var is None)
        use_running = not self.training or self.track_running_stats
        running_mean = self.running_mean if use_running else None
        running_var = self.running_var if use_running else None
        group = None
        if bn_training and self.training and dist.is_initialized():
            group = dist._group(self.process_group)
            if group is not None and group.size() == 1:
                group = None
        if group is None:
            return batch_norm(input, running_mean, running_var, self.weight, self.bias, bn_training, eaf, self.eps)
        return self._sync_forward(input, running_mean, running_var, eaf, group)

    def _sync_forward(self, input, running_mean, running_var, eaf, group):
        from ... import _creation
        from ...ops.shape import cat

        c = input.size(1)
        dims = [0] + list(range(2, input.dim()))
        shape = [1, c] + [1] * (input.dim() - 2)
        n_local = input.numel() // c
        if n_local > 0:
            mean_l = input.mean(dim=dims)
            m2_l = ((input - mean_l.reshape(shape)) ** 2).sum(dim=dims)
        else:  # an empty share of the batch contributes nothing
            mean_l = input.sum(dim=dims)
            m2_l = input.sum(dim=dims)
        count = _creation.full((1,), float(n_local), dtype=input.dtype)
        stats = _AllGatherStats.apply(cat([mean_l, m2_l, count]), group)   # (world, 2C + 1)
        means, m2s, ns = stats[:, :c], stats[:, c:2 * c], stats[:, 2 * c:]
        n = ns.sum()
        if float(n) <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                             f"{list(input.shape)} on every rank")
        mean = (means * ns).sum(0) / n
        m2 = (m2s + ns * (means - mean) ** 2).sum(0)
        invstd = (m2 / n + self.eps).rsqrt()
        out = (input - mean.reshape(shape)) * invstd.reshape(shape)
        if self.weight is not None:
            out = out * self.weight.reshape(shape)
        if self.bias is not None:
            out = out + self.bias.reshape(shape)
        if running_mean is not None:
            with no_grad():
                running_mean.mul_(1 - eaf).add_(mean.detach() * eaf)
                running_var.mul_(1 - eaf).add_(m2.detach() / (n.detach() - 1) * eaf)
        return out

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every BatchNorm*D layer replaced by a SyncBatchNorm holding its state."""
        out = module
        if isinstance(module, _BatchNorm):
            out = cls(module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats,
                      process_group)
            if module.affine:
                with no_grad():
                    out.weight = module.weight
                    out.bias = module.bias
            out.running_mean = module.running_mean
            out.running_var = module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.training = module.training
            if hasattr(module, "qconfig"):
                out.qconfig = module.qconfig
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        del module
        return out
