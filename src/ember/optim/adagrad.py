"""Adagrad: per-coordinate learning rates from the accumulated squared gradients."""
from __future__ import annotations

import numpy as np

from .optimizer import (Optimizer, _addcmul_, _bump, _grad_with_weight_decay, _params_with_grad, _state_tensor,
                        _step_tensor, _to_scalar)

__all__ = ["Adagrad", "adagrad"]


class Adagrad(Optimizer):
    """``torch.optim.Adagrad``; its state (``step``, ``sum``) exists from construction, as in PyTorch."""

    def __init__(self, params, lr=1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach=None, *, maximize: bool = False,
                 differentiable: bool = False, fused=None) -> None:
        if hasattr(lr, "numel") and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                st = self.state[p]
                st["step"] = _step_tensor()
                st["sum"] = _state_tensor(np.full_like(p._data, group["initial_accumulator_value"]))

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        self._setdefault_groups({"foreach": None, "maximize": False, "differentiable": False, "fused": None})

    def share_memory(self) -> None:
        """A no-op: ember has no shared-memory tensors (kept for API compatibility)."""

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            params = _params_with_grad(group)
            if not params:
                continue
            for p in params:
                st = self.state[p]
                if len(st) == 0:  # a parameter added after construction (torch takes the default value here)
                    st["step"] = _step_tensor()
                    st["sum"] = _state_tensor(np.full_like(p._data, self.defaults["initial_accumulator_value"]))
            states = [self.state[p] for p in params]
            adagrad([p._data for p in params], [p._grad._data for p in params], [s["sum"]._data for s in states],
                    [s["step"]._data for s in states], lr=_to_scalar(group["lr"]), weight_decay=group["weight_decay"],
                    lr_decay=group["lr_decay"], eps=group["eps"], maximize=group["maximize"])
            _bump(params)
        return loss


def adagrad(params, grads, state_sums, steps, *, lr: float, weight_decay: float, lr_decay: float, eps: float,
            maximize: bool) -> None:
    """The Adagrad update on arrays, in place."""
    for i, p in enumerate(params):
        steps[i] += 1
        step = float(steps[i])
        p, g, state_sum = np.atleast_1d(p, grads[i], state_sums[i])
        g = _grad_with_weight_decay(p, g, weight_decay, maximize)
        clr = lr / (1 + (step - 1) * lr_decay)
        _addcmul_(state_sum, g, g)
        std = np.sqrt(state_sum)
        std += eps
        np.divide(g, std, out=std)
        std *= -clr
        p += std
