"""Finite-difference checks of gradients (float64), as ``torch.autograd.gradcheck``."""
from __future__ import annotations

import numpy as np

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    pass


def _inputs(inputs):
    from .._tensor import Tensor
    return (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)


def _flat_outputs(fn, inputs):
    from .._tensor import Tensor
    out = fn(*inputs)
    return (out,) if isinstance(out, Tensor) else tuple(o for o in out if isinstance(o, Tensor))


def _numerical_jacobian(fn, inputs, k, eps):
    # Not under no_grad: fn may itself differentiate (gradgradcheck's first-derivative function).
    from contextlib import nullcontext as no_grad

    x = inputs[k]
    arr = x._data  # perturbed in place, element by element (any layout: reshape(-1) may copy)
    with no_grad():
        outs0 = _flat_outputs(fn, inputs)
    cols = []
    for i in range(arr.size):
        at = np.unravel_index(i, arr.shape)
        orig = arr[at]
        arr[at] = orig + eps
        with no_grad():
            plus = [o._data.astype(np.float64).ravel().copy() for o in _flat_outputs(fn, inputs)]
        arr[at] = orig - eps
        with no_grad():
            minus = [o._data.astype(np.float64).ravel().copy() for o in _flat_outputs(fn, inputs)]
        arr[at] = orig
        cols.append(np.concatenate([(p - m) / (2 * eps) for p, m in zip(plus, minus)]) if plus else np.zeros(0))
    n_out = sum(o._data.size for o in outs0)
    return np.stack(cols, 1) if cols else np.zeros((n_out, 0))


def _analytical_jacobian(fn, inputs, k, outs):
    from .._tensor import Tensor
    from . import grad as autograd_grad

    n_out = sum(o._data.size for o in outs)
    jac = np.zeros((n_out, inputs[k]._data.size))
    row = 0
    for o in outs:
        for j in range(o._data.size):
            g = np.zeros(o._data.shape, o._data.dtype)
            g.reshape(-1)[j] = 1
            if not o._requires_grad:
                row += 1
                continue
            (gi,) = autograd_grad([o], [inputs[k]], [Tensor._make(g, False, None, 0)], retain_graph=True,
                                  allow_unused=True)
            if gi is not None:
                jac[row] = gi._data.astype(np.float64).ravel()
            row += 1
    return jac


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True,
              fast_mode=False, masked=None) -> bool:
    """Compare the analytical Jacobian (autograd) with central finite differences, per input."""
    inputs = _inputs(inputs)
    from .._tensor import Tensor
    diff = [k for k, x in enumerate(inputs) if isinstance(x, Tensor) and x._requires_grad]
    for k in diff:
        if inputs[k]._data.dtype != np.float64:
            import warnings
            warnings.warn("Input #%d requires gradient and is not a double precision floating point. " % k +
                          "This check will likely fail if all the inputs are not of double precision floating point. ")
    outs = _flat_outputs(func, inputs)
    for k in diff:
        num = _numerical_jacobian(func, inputs, k, eps)
        ana = _analytical_jacobian(func, inputs, k, outs)
        if not np.allclose(ana, num, rtol=rtol, atol=atol):
            if raise_exception:
                raise GradcheckError(f"Jacobian mismatch for output 0 with respect to input {k},\n"
                                     f"numerical:{num}\nanalytical:{ana}\n")
            return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, **kwargs) -> bool:
    """gradcheck of the function (inputs, grad_outputs) -> d(outputs)/d(inputs) · grad_outputs."""
    from .._tensor import Tensor
    from . import grad as autograd_grad

    inputs = _inputs(inputs)
    outs = _flat_outputs(func, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(Tensor._make(rng.standard_normal(o._data.shape), False, None, 0).requires_grad_()
                             for o in outs)
    grad_outputs = _inputs(grad_outputs)
    n_in = len(inputs)
    diff = [x for x in inputs if isinstance(x, Tensor) and x._requires_grad]

    def first(*args):
        ins, gos = args[:n_in], args[n_in:]
        o = _flat_outputs(func, ins)
        d = [x for x in ins if isinstance(x, Tensor) and x._requires_grad]
        gs = autograd_grad(o, d, gos, create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    del diff
    return gradcheck(first, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
