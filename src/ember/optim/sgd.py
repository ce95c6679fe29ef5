"""Stochastic gradient descent with optional (Nesterov) momentum."""
from __future__ import annotations

import functools

import numpy as np

from ..backend import parallel
from .optimizer import (Optimizer, _blocks, _bump, _grad_with_weight_decay, _params_with_grad, _state_tensor,
                        _to_scalar)

__all__ = ["SGD", "sgd"]


class SGD(Optimizer):
    """``torch.optim.SGD``: ``buf = momentum * buf + (1 - dampening) * g``; ``p -= lr * buf``
    (``g + momentum * buf`` with ``nesterov``)."""

    def __init__(self, params, lr=1e-3, momentum: float = 0, dampening: float = 0, weight_decay=0,
                 nesterov: bool = False, *, maximize: bool = False, foreach=None, differentiable: bool = False,
                 fused=None) -> None:
        if hasattr(lr, "numel") and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov, "maximize": maximize, "foreach": foreach,
                    "differentiable": differentiable, "fused": fused}
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        self._setdefault_groups({"nesterov": False, "maximize": False, "foreach": None, "differentiable": False,
                                 "fused": False})

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            params = _params_with_grad(group)
            if not params:
                continue
            momentum = group["momentum"]
            bufs = [None] * len(params)
            if momentum != 0:
                for i, p in enumerate(params):
                    buf = self.state[p].get("momentum_buffer")
                    bufs[i] = None if buf is None else buf._data
            sgd([p._data for p in params], [p._grad._data for p in params], bufs,
                weight_decay=_to_scalar(group["weight_decay"]), momentum=momentum, lr=_to_scalar(group["lr"]),
                dampening=group["dampening"], nesterov=group["nesterov"], maximize=group["maximize"])
            if momentum != 0:
                for p, buf in zip(params, bufs):
                    st = self.state[p]
                    if "momentum_buffer" not in st:
                        st["momentum_buffer"] = _state_tensor(buf)
            _bump(params)
        return loss


# Parameters of at least this many elements in all are updated on ember's threads, each thread a group of whole
# parameters of about equal size: the update then streams from memory (ResNet-18's 11.2M parameters, momentum:
# 10.2 ms on one thread, 7.9 ms on two, 2026-12-02); smaller sets stay in cache and on one thread.
_PARALLEL_MIN = 1 << 20


def sgd(params: list[np.ndarray], grads: list[np.ndarray], momentum_buffers: list, *, weight_decay: float,
        momentum: float, lr: float, dampening: float, nesterov: bool, maximize: bool) -> None:
    """The SGD update on arrays, in place; ``momentum_buffers[i] is None`` creates that buffer. Large parameters
    are updated block by block (``_blocks``: the passes stay in cache; ResNet-18's parameters with momentum
    13.3 -> 11.3 ms on one thread, 2026-12-02), large parameter sets on ember's threads."""

    def update(indices):
        scratch = {}
        for i in indices:
            _sgd_one(i, params, grads, momentum_buffers, scratch, weight_decay=weight_decay, momentum=momentum,
                     lr=lr, dampening=dampening, nesterov=nesterov, maximize=maximize)

    sizes = [p.size for p in params]
    if sum(sizes) >= _PARALLEL_MIN and parallel.num_threads() > 1 and len(params) > 1:
        parallel.run(functools.partial(update, group) for group in _balanced(sizes, parallel.num_threads()))
    else:
        update(range(len(params)))


def _balanced(sizes: list[int], parts: int) -> list[list[int]]:
    """Indices of ``sizes`` in at most ``parts`` groups of near-equal total (largest first, into the lightest)."""
    groups, totals = [[] for _ in range(min(parts, len(sizes)))], [0] * min(parts, len(sizes))
    for i in sorted(range(len(sizes)), key=lambda i: -sizes[i]):
        k = totals.index(min(totals))
        groups[k].append(i)
        totals[k] += sizes[i]
    return [g for g in groups if g]


def _sgd_one(i, params, grads, momentum_buffers, scratch, *, weight_decay, momentum, lr, dampening, nesterov,
             maximize) -> None:
    p, g = np.atleast_1d(params[i], grads[i])  # 0-d arrays as 1-element views, so `out=` works
    if momentum != 0 and momentum_buffers[i] is None:
        g = _grad_with_weight_decay(p, g, weight_decay, maximize)
        momentum_buffers[i] = np.array(g, copy=True).reshape(params[i].shape)
        p -= np.multiply(np.multiply(g, momentum) + g if nesterov else g, lr)
        return
    if momentum == 0:
        for p_b, g_b, tmp in _blocks([p, g], scratch):
            g_b = _grad_with_weight_decay(p_b, g_b, weight_decay, maximize)
            p_b -= np.multiply(g_b, lr, out=tmp)
        return
    for p_b, g_b, buf, tmp in _blocks([p, g, np.atleast_1d(momentum_buffers[i])], scratch):
        g_b = _grad_with_weight_decay(p_b, g_b, weight_decay, maximize)
        buf *= momentum
        if dampening == 0:
            buf += g_b
        else:
            buf += np.multiply(g_b, 1 - dampening, out=tmp)
        if nesterov:
            d = np.multiply(buf, momentum, out=tmp)
            d += g_b
        else:
            d = buf
        p_b -= np.multiply(d, lr, out=tmp)
