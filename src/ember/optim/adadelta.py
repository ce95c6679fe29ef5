"""Adadelta: steps scaled by the ratio of running RMS of updates to running RMS of gradients."""
from __future__ import annotations

import numpy as np

from .optimizer import (Optimizer, _addcmul_, _bump, _grad_with_weight_decay, _params_with_grad, _state_tensor,
                        _step_tensor, _to_scalar)

__all__ = ["Adadelta", "adadelta"]


class Adadelta(Optimizer):
    """``torch.optim.Adadelta``."""

    def __init__(self, params, lr=1.0, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0, foreach=None,
                 *, capturable: bool = False, maximize: bool = False, differentiable: bool = False) -> None:
        if hasattr(lr, "numel") and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay, "maximize": maximize,
                    "capturable": capturable, "foreach": foreach, "differentiable": differentiable}
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
                    st["square_avg"] = _state_tensor(np.zeros_like(p._data))
                    st["acc_delta"] = _state_tensor(np.zeros_like(p._data))
            states = [self.state[p] for p in params]
            adadelta([p._data for p in params], [p._grad._data for p in params],
                     [s["square_avg"]._data for s in states], [s["acc_delta"]._data for s in states],
                     [s["step"]._data for s in states], lr=_to_scalar(group["lr"]), rho=group["rho"],
                     eps=group["eps"], weight_decay=group["weight_decay"], maximize=group["maximize"])
            _bump(params)
        return loss


def adadelta(params, grads, square_avgs, acc_deltas, steps, *, lr: float, rho: float, eps: float,
             weight_decay: float, maximize: bool) -> None:
    """The Adadelta update on arrays, in place."""
    for i, p in enumerate(params):
        steps[i] += 1
        p, g, square_avg, acc_delta = np.atleast_1d(p, grads[i], square_avgs[i], acc_deltas[i])
        g = _grad_with_weight_decay(p, g, weight_decay, maximize)
        square_avg *= rho
        _addcmul_(square_avg, g, g, 1 - rho)
        std = np.add(square_avg, eps)
        np.sqrt(std, out=std)
        delta = np.add(acc_delta, eps)
        np.sqrt(delta, out=delta)
        delta /= std
        delta *= g
        acc_delta *= rho
        _addcmul_(acc_delta, delta, delta, 1 - rho)
        delta *= -lr
        p += delta
