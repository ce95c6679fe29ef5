"""Rprop: per-coordinate step sizes grown or shrunk by the sign agreement of successive gradients."""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, _bump, _params_with_grad, _state_tensor, _step_tensor, _to_scalar

__all__ = ["Rprop", "rprop"]


class Rprop(Optimizer):
    """``torch.optim.Rprop``."""

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable: bool = False,
                 foreach=None, maximize: bool = False, differentiable: bool = False) -> None:
        if hasattr(lr, "numel") and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "capturable": capturable}
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
                    st["prev"] = _state_tensor(np.zeros_like(p._data))
                    st["step_size"] = _state_tensor(np.full_like(p._grad._data, _to_scalar(group["lr"])))
            states = [self.state[p] for p in params]
            (etaminus, etaplus), (step_size_min, step_size_max) = group["etas"], group["step_sizes"]
            rprop([p._data for p in params], [p._grad._data for p in params], [s["prev"]._data for s in states],
                  [s["step_size"]._data for s in states], [s["step"]._data for s in states],
                  step_size_min=step_size_min, step_size_max=step_size_max, etaminus=etaminus, etaplus=etaplus,
                  maximize=group["maximize"])
            _bump(params)
        return loss


def rprop(params, grads, prevs, step_sizes, steps, *, step_size_min: float, step_size_max: float, etaminus: float,
          etaplus: float, maximize: bool) -> None:
    """The Rprop update on arrays, in place."""
    for i, p in enumerate(params):
        steps[i] += 1
        p, g, prev, step_size = np.atleast_1d(p, grads[i], prevs[i], step_sizes[i])
        g = np.negative(g) if maximize else np.array(g, copy=True)
        agreement = np.sign(np.multiply(g, prev))
        factor = np.where(agreement > 0, etaplus, np.where(agreement < 0, etaminus, 1)).astype(step_size.dtype)
        step_size *= factor
        np.clip(step_size, step_size_min, step_size_max, out=step_size)
        g[agreement < 0] = 0  # a sign change: no step now, and no sign to compare with next time
        p -= np.sign(g) * step_size
        np.copyto(prev, g)
