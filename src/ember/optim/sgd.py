"""Stochastic gradient descent with optional (Nesterov) momentum."""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, _bump, _grad_with_weight_decay, _params_with_grad, _state_tensor, _to_scalar

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


def sgd(params: list[np.ndarray], grads: list[np.ndarray], momentum_buffers: list, *, weight_decay: float,
        momentum: float, lr: float, dampening: float, nesterov: bool, maximize: bool) -> None:
    """The SGD update on arrays, in place; ``momentum_buffers[i] is None`` creates that buffer."""
    for i, p in enumerate(params):
        p, g = np.atleast_1d(p, grads[i])  # 0-d arrays as 1-element views, so `out=` works
        g = _grad_with_weight_decay(p, g, weight_decay, maximize)
        if momentum != 0:
            buf = momentum_buffers[i]
            if buf is None:
                momentum_buffers[i] = np.array(g, copy=True).reshape(params[i].shape)
                buf = np.atleast_1d(momentum_buffers[i])
            else:
                buf = np.atleast_1d(buf)
                buf *= momentum
                if dampening == 0:
                    buf += g
                else:
                    buf += np.multiply(g, 1 - dampening)
            g = np.multiply(buf, momentum) + g if nesterov else buf
        p -= np.multiply(g, lr)
