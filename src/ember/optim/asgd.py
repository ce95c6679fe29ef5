"""ASGD: averaged stochastic gradient descent (keeps a running average ``ax`` of the iterates)."""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, _bump, _grad_with_weight_decay, _params_with_grad, _state_tensor, _step_tensor, \
    _to_scalar

__all__ = ["ASGD", "asgd"]


class ASGD(Optimizer):
    """``torch.optim.ASGD``; ``eta``, ``mu`` and ``step`` are 0-d float32 tensors in the state, as in PyTorch."""

    def __init__(self, params, lr=1e-2, lambd: float = 1e-4, alpha: float = 0.75, t0: float = 1e6,
                 weight_decay: float = 0, foreach=None, maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        if hasattr(lr, "numel") and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        self._setdefault_groups({"foreach": None, "maximize": False, "differentiable": False, "capturable": False})

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            params = _params_with_grad(group)
            if not params:
                continue
            for p in params:
                st = self.state[p]
                if len(st) == 0:
                    st["step"] = _step_tensor()
                    st["eta"] = _step_tensor(_to_scalar(group["lr"]))
                    st["mu"] = _step_tensor(1.0)
                    st["ax"] = _state_tensor(np.zeros_like(p._data))
            states = [self.state[p] for p in params]
            asgd([p._data for p in params], [p._grad._data for p in params], [s["ax"]._data for s in states],
                 [s["eta"]._data for s in states], [s["mu"]._data for s in states],
                 [s["step"]._data for s in states], lambd=group["lambd"], lr=_to_scalar(group["lr"]),
                 t0=group["t0"], alpha=group["alpha"], weight_decay=group["weight_decay"], maximize=group["maximize"])
            _bump(params)
        return loss


def asgd(params, grads, axs, etas, mus, steps, *, lambd: float, lr: float, t0: float, alpha: float,
         weight_decay: float, maximize: bool) -> None:
    """The ASGD update on arrays, in place (``etas``, ``mus``, ``steps`` are 0-d float32 arrays)."""
    for i, p in enumerate(params):
        steps[i] += 1
        p, g, ax = np.atleast_1d(p, grads[i], axs[i])
        g = _grad_with_weight_decay(p, g, weight_decay, maximize)
        eta = float(etas[i])
        p *= 1 - lambd * eta
        p -= np.multiply(g, eta)
        mu = float(mus[i])
        if mu != 1:
            diff = np.subtract(p, ax)
            diff *= mu
            ax += diff
        else:
            np.copyto(ax, p)
        step = float(steps[i])
        etas[i][...] = lr / ((1 + lambd * lr * step) ** alpha)
        mus[i][...] = 1 / max(1, step - t0)
