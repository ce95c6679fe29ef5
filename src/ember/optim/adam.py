"""Adam (and, with ``decoupled_weight_decay``, AdamW)."""
from __future__ import annotations

import numpy as np

from ..backend.kernels import fused
from .optimizer import (Optimizer, _addcmul_, _blocks, _bump, _grad_with_weight_decay, _lerp_, _params_with_grad,
                        _state_tensor, _step_tensor, _to_scalar)

__all__ = ["Adam", "adam"]


class Adam(Optimizer):
    """``torch.optim.Adam``: bias-corrected first and second moment estimates of the gradient."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 amsgrad: bool = False, *, foreach=None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused=None, decoupled_weight_decay: bool = False) -> None:
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
        defaults = {"lr": lr, "betas": tuple(_to_scalar(b) for b in betas), "eps": eps,
                    "weight_decay": weight_decay, "amsgrad": amsgrad, "maximize": maximize, "foreach": foreach,
                    "capturable": capturable, "differentiable": differentiable, "fused": fused,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        self._setdefault_groups({"amsgrad": False, "maximize": False, "foreach": None, "capturable": False,
                                 "differentiable": False, "decoupled_weight_decay": False, "fused": None})

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            params = _params_with_grad(group)
            if not params:
                continue
            amsgrad = group["amsgrad"]
            for p in params:
                st = self.state[p]
                if len(st) == 0:
                    st["step"] = _step_tensor()
                    st["exp_avg"] = _state_tensor(np.zeros_like(p._data))
                    st["exp_avg_sq"] = _state_tensor(np.zeros_like(p._data))
                    if amsgrad:
                        st["max_exp_avg_sq"] = _state_tensor(np.zeros_like(p._data))
            states = [self.state[p] for p in params]
            beta1, beta2 = group["betas"]
            adam([p._data for p in params], [p._grad._data for p in params],
                 [s["exp_avg"]._data for s in states], [s["exp_avg_sq"]._data for s in states],
                 [s["max_exp_avg_sq"]._data for s in states] if amsgrad else None,
                 [s["step"]._data for s in states],
                 amsgrad=amsgrad, beta1=_to_scalar(beta1), beta2=_to_scalar(beta2), lr=_to_scalar(group["lr"]),
                 weight_decay=group["weight_decay"], eps=group["eps"], maximize=group["maximize"],
                 decoupled_weight_decay=group["decoupled_weight_decay"])
            _bump(params)
        return loss


def adam(params: list[np.ndarray], grads: list[np.ndarray], exp_avgs: list[np.ndarray],
         exp_avg_sqs: list[np.ndarray], max_exp_avg_sqs: list[np.ndarray] | None, steps: list[np.ndarray], *,
         amsgrad: bool, beta1: float, beta2: float, lr: float, weight_decay: float, eps: float, maximize: bool,
         decoupled_weight_decay: bool) -> None:
    """The Adam/AdamW update on arrays, in place (``steps`` are 0-d float32 counters): one compiled pass per
    parameter where Numba is installed (``backend/kernels/fused.py``: the same operations, bitwise the same
    results), else a dozen NumPy passes per block of each parameter."""
    scratch = {}
    kernel = fused.adam_kernel()
    kernel_consts = {}              # (step, dtype) -> the compiled update's scalars: the same for every parameter
    for i, step_t in enumerate(steps):
        step_t += 1
        step = float(step_t)
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        step_size = lr / bias_correction1
        p, g, m, v = params[i], grads[i], exp_avgs[i], exp_avg_sqs[i]
        vmax = max_exp_avg_sqs[i] if amsgrad else v
        dt = p.dtype
        # (spelled out: a generator over the arrays cost ~1.5 us per parameter, a sixth of the step's Python)
        if kernel is not None and step_size != 0 and dt in fused.DTYPES and g.dtype == dt and m.dtype == dt \
                and v.dtype == dt and vmax.dtype == dt and p.flags.c_contiguous and g.flags.c_contiguous \
                and m.flags.c_contiguous and v.flags.c_contiguous and vmax.flags.c_contiguous:
            consts = kernel_consts.get((step, dt))
            if consts is None:
                s = dt.type
                consts = kernel_consts[step, dt] = (
                    s(beta2), s(1 - beta1), s(1.0 - (1 - beta1)), abs(1 - beta1) < 0.5, s(1 - beta2),
                    s(weight_decay), s(1 - lr * weight_decay), s(-1.0 / (bias_correction2 ** 0.5 * step_size)),
                    s(-eps / step_size), amsgrad, maximize, decoupled_weight_decay)
            kernel(p.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1), vmax.reshape(-1), *consts)
            continue
        arrays = [p, g, m, v] + ([vmax] if amsgrad else [])
        for *block, tmp in _blocks(np.atleast_1d(*arrays), scratch):
            _adam_block(*block, tmp=tmp, amsgrad=amsgrad, beta1=beta1, beta2=beta2, lr=lr,
                        weight_decay=weight_decay, eps=eps, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay, step_size=step_size,
                        bias_correction2=bias_correction2)


def _adam_block(p, grad, exp_avg, exp_avg_sq, max_sq=None, *, tmp, amsgrad, beta1, beta2, lr, weight_decay, eps,
                maximize, decoupled_weight_decay, step_size, bias_correction2):
    """PyTorch's single-tensor Adam update on one block of a parameter (``tmp``: scratch)."""
    if weight_decay != 0 and decoupled_weight_decay:
        p *= 1 - lr * weight_decay
        g = np.negative(grad) if maximize else grad
    else:
        g = _grad_with_weight_decay(p, grad, weight_decay, maximize)
    _lerp_(exp_avg, g, 1 - beta1, tmp)
    exp_avg_sq *= beta2
    _addcmul_(exp_avg_sq, g, g, 1 - beta2, tmp)
    # param.addcdiv_(exp_avg, sqrt(v) / sqrt(bias_correction2) + eps, value=-step_size) as p += exp_avg / d with
    # d = sqrt(v) * c1 + c2: the scalars folded into d save a pass and a division (results within an ulp)
    if amsgrad:
        np.maximum(max_sq, exp_avg_sq, out=max_sq)
        denom = np.sqrt(max_sq, out=tmp)
    else:
        denom = np.sqrt(exp_avg_sq, out=tmp)
    if step_size == 0:              # lr = 0 (a warm-up's first step): PyTorch's form, p += -0 * (m / d)
        denom /= bias_correction2 ** 0.5
        denom += eps
        np.divide(exp_avg, denom, out=denom)
        denom *= -step_size
    else:
        denom *= -1.0 / (bias_correction2 ** 0.5 * step_size)
        denom += -eps / step_size
        np.divide(exp_avg, denom, out=denom)
    p += denom
