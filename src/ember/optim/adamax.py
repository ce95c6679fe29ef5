"""Adamax: Adam with the infinity norm in place of the second moment."""
from __future__ import annotations

import numpy as np

from .optimizer import (Optimizer, _bump, _grad_with_weight_decay, _lerp_, _params_with_grad, _state_tensor,
                        _step_tensor, _to_scalar)

__all__ = ["Adamax", "adamax"]


class Adamax(Optimizer):
    """``torch.optim.Adamax``."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 foreach=None, *, maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        if hasattr(lr, "numel") and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "capturable": capturable}
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
                    st["exp_avg"] = _state_tensor(np.zeros_like(p._data))
                    st["exp_inf"] = _state_tensor(np.zeros_like(p._data))
            states = [self.state[p] for p in params]
            beta1, beta2 = group["betas"]
            adamax([p._data for p in params], [p._grad._data for p in params], [s["exp_avg"]._data for s in states],
                   [s["exp_inf"]._data for s in states], [s["step"]._data for s in states],
                   lr=_to_scalar(group["lr"]), beta1=beta1, beta2=beta2, eps=group["eps"],
                   weight_decay=group["weight_decay"], maximize=group["maximize"])
            _bump(params)
        return loss


def adamax(params, grads, exp_avgs, exp_infs, steps, *, lr: float, beta1: float, beta2: float, eps: float,
           weight_decay: float, maximize: bool) -> None:
    """The Adamax update on arrays, in place."""
    for i, p in enumerate(params):
        steps[i] += 1
        p, g, exp_avg, exp_inf = np.atleast_1d(p, grads[i], exp_avgs[i], exp_infs[i])
        g = _grad_with_weight_decay(p, g, weight_decay, maximize)
        _lerp_(exp_avg, g, 1 - beta1)
        exp_inf *= beta2
        norm = np.abs(g)
        norm += eps
        np.maximum(exp_inf, norm, out=exp_inf)
        clr = lr / (1 - beta1 ** float(steps[i]))
        np.divide(exp_avg, exp_inf, out=norm)
        norm *= -clr
        p += norm
