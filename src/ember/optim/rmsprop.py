"""RMSprop: gradients divided by a running root-mean-square of their history."""
from __future__ import annotations

import numpy as np

from .optimizer import (Optimizer, _addcmul_, _bump, _grad_with_weight_decay, _lerp_, _params_with_grad,
                        _state_tensor, _step_tensor, _to_scalar)

__all__ = ["RMSprop", "rmsprop"]


class RMSprop(Optimizer):
    """``torch.optim.RMSprop`` (optionally centered, with momentum)."""

    def __init__(self, params, lr=1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0,
                 momentum: float = 0, centered: bool = False, capturable: bool = False, foreach=None,
                 maximize: bool = False, differentiable: bool = False) -> None:
        if hasattr(lr, "numel") and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                    "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable}
        super().__init__(params, defaults)

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        self._setdefault_groups({"momentum": 0, "centered": False, "foreach": None, "maximize": False,
                                 "differentiable": False, "capturable": False})

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            params = _params_with_grad(group)
            if not params:
                continue
            momentum, centered = group["momentum"], group["centered"]
            for p in params:
                st = self.state[p]
                if len(st) == 0:
                    st["step"] = _step_tensor()
                    st["square_avg"] = _state_tensor(np.zeros_like(p._data))
                    if momentum > 0:
                        st["momentum_buffer"] = _state_tensor(np.zeros_like(p._data))
                    if centered:
                        st["grad_avg"] = _state_tensor(np.zeros_like(p._data))
            states = [self.state[p] for p in params]
            rmsprop([p._data for p in params], [p._grad._data for p in params],
                    [s["square_avg"]._data for s in states],
                    [s["grad_avg"]._data for s in states] if centered else None,
                    [s["momentum_buffer"]._data for s in states] if momentum > 0 else None,
                    [s["step"]._data for s in states],
                    lr=_to_scalar(group["lr"]), alpha=group["alpha"], eps=group["eps"],
                    weight_decay=group["weight_decay"], momentum=momentum, centered=centered,
                    maximize=group["maximize"])
            _bump(params)
        return loss


def rmsprop(params, grads, square_avgs, grad_avgs, momentum_buffers, steps, *, lr: float, alpha: float,
            eps: float, weight_decay: float, momentum: float, centered: bool, maximize: bool) -> None:
    """The RMSprop update on arrays, in place."""
    for i, p in enumerate(params):
        steps[i] += 1
        p, g, square_avg = np.atleast_1d(p, grads[i], square_avgs[i])
        g = _grad_with_weight_decay(p, g, weight_decay, maximize)
        square_avg *= alpha
        _addcmul_(square_avg, g, g, 1 - alpha)
        if centered:
            grad_avg = np.atleast_1d(grad_avgs[i])
            _lerp_(grad_avg, g, 1 - alpha)
            avg = np.multiply(grad_avg, grad_avg)
            np.subtract(square_avg, avg, out=avg)
            np.sqrt(avg, out=avg)
        else:
            avg = np.sqrt(square_avg)
        avg += eps
        if momentum > 0:
            buf = np.atleast_1d(momentum_buffers[i])
            buf *= momentum
            buf += np.divide(g, avg, out=avg)
            p -= np.multiply(buf, lr, out=avg)
        else:
            np.divide(g, avg, out=avg)
            avg *= -lr
            p += avg
