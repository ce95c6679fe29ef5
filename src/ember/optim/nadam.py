"""NAdam: Adam with Nesterov momentum (and a momentum-decay schedule)."""
from __future__ import annotations

import numpy as np

from .optimizer import (Optimizer, _addcmul_, _bump, _grad_with_weight_decay, _lerp_, _params_with_grad,
                        _state_tensor, _step_tensor, _to_scalar)

__all__ = ["NAdam", "nadam"]


class NAdam(Optimizer):
    """``torch.optim.NAdam``; ``state['mu_product']`` is a 0-d float32 tensor, as in PyTorch."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False, *, foreach=None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False) -> None:
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
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay, "decoupled_weight_decay": decoupled_weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        self._setdefault_groups({"maximize": False, "foreach": None, "capturable": False, "differentiable": False,
                                 "decoupled_weight_decay": False})

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
                    st["mu_product"] = _step_tensor(1.0)
                    st["exp_avg"] = _state_tensor(np.zeros_like(p._data))
                    st["exp_avg_sq"] = _state_tensor(np.zeros_like(p._data))
            states = [self.state[p] for p in params]
            beta1, beta2 = group["betas"]
            nadam([p._data for p in params], [p._grad._data for p in params], [s["exp_avg"]._data for s in states],
                  [s["exp_avg_sq"]._data for s in states], [s["mu_product"]._data for s in states],
                  [s["step"]._data for s in states], lr=_to_scalar(group["lr"]), beta1=beta1, beta2=beta2,
                  eps=group["eps"], weight_decay=group["weight_decay"], momentum_decay=group["momentum_decay"],
                  decoupled_weight_decay=group["decoupled_weight_decay"], maximize=group["maximize"])
            _bump(params)
        return loss


def nadam(params, grads, exp_avgs, exp_avg_sqs, mu_products, steps, *, lr: float, beta1: float, beta2: float,
          eps: float, weight_decay: float, momentum_decay: float, decoupled_weight_decay: bool,
          maximize: bool) -> None:
    """The NAdam update on arrays, in place (``mu_products`` and ``steps`` are 0-d float32 arrays)."""
    for i, p in enumerate(params):
        steps[i] += 1
        p, grad, exp_avg, exp_avg_sq = np.atleast_1d(p, grads[i], exp_avgs[i], exp_avg_sqs[i])
        step = float(steps[i])
        bias_correction2 = 1 - beta2 ** step
        if weight_decay != 0 and decoupled_weight_decay:
            p *= 1 - lr * weight_decay
            g = np.negative(grad) if maximize else grad
        else:
            g = _grad_with_weight_decay(p, grad, weight_decay, maximize)
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        mu_products[i] *= mu
        mu_product = float(mu_products[i])
        _lerp_(exp_avg, g, 1 - beta1)
        exp_avg_sq *= beta2
        _addcmul_(exp_avg_sq, g, g, 1 - beta2)
        denom = np.divide(exp_avg_sq, bias_correction2)
        np.sqrt(denom, out=denom)
        denom += eps
        tmp = np.divide(g, denom)
        tmp *= -lr * (1.0 - mu) / (1.0 - mu_product)
        p += tmp
        np.divide(exp_avg, denom, out=tmp)
        tmp *= (-lr * mu_next) / (1.0 - mu_product * mu_next)
        p += tmp
