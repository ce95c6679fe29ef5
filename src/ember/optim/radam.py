"""RAdam: Adam with a rectified adaptive learning rate (plain momentum SGD while the variance is unreliable)."""
from __future__ import annotations

import numpy as np

from .optimizer import (Optimizer, _addcmul_, _bump, _grad_with_weight_decay, _lerp_, _params_with_grad,
                        _state_tensor, _step_tensor, _to_scalar)

__all__ = ["RAdam", "radam"]


class RAdam(Optimizer):
    """``torch.optim.RAdam``."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 decoupled_weight_decay: bool = False, *, foreach=None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
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
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable, "decoupled_weight_decay": decoupled_weight_decay,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        self._setdefault_groups({"foreach": None, "maximize": False, "differentiable": False,
                                 "decoupled_weight_decay": False, "capturable": False})

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
                    st["exp_avg_sq"] = _state_tensor(np.zeros_like(p._data))
            states = [self.state[p] for p in params]
            beta1, beta2 = group["betas"]
            radam([p._data for p in params], [p._grad._data for p in params], [s["exp_avg"]._data for s in states],
                  [s["exp_avg_sq"]._data for s in states], [s["step"]._data for s in states],
                  lr=_to_scalar(group["lr"]), beta1=beta1, beta2=beta2, eps=group["eps"],
                  weight_decay=group["weight_decay"], decoupled_weight_decay=group["decoupled_weight_decay"],
                  maximize=group["maximize"])
            _bump(params)
        return loss


def radam(params, grads, exp_avgs, exp_avg_sqs, steps, *, lr: float, beta1: float, beta2: float, eps: float,
          weight_decay: float, decoupled_weight_decay: bool, maximize: bool) -> None:
    """The RAdam update on arrays, in place."""
    for i, p in enumerate(params):
        steps[i] += 1
        p, grad, exp_avg, exp_avg_sq = np.atleast_1d(p, grads[i], exp_avgs[i], exp_avg_sqs[i])
        step = float(steps[i])
        if weight_decay != 0 and decoupled_weight_decay:
            p *= 1 - lr * weight_decay
            g = np.negative(grad) if maximize else grad
        else:
            g = _grad_with_weight_decay(p, grad, weight_decay, maximize)
        _lerp_(exp_avg, g, 1 - beta1)
        exp_avg_sq *= beta2
        _addcmul_(exp_avg_sq, g, g, 1 - beta2)
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        update = np.divide(exp_avg, bias_correction1)
        update *= lr
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            adaptive = np.sqrt(exp_avg_sq)
            adaptive += eps
            np.divide(bias_correction2 ** 0.5, adaptive, out=adaptive)
            update *= adaptive
            update *= rect
        p -= update
