"""``torch.autograd.functional``: Jacobians, Hessians and vector products of a function of Tensors,
built on ``autograd.grad`` (row by row, so for small problems: the course's use)."""
from __future__ import annotations

from .grad_mode import enable_grad

__all__ = ["jacobian", "hessian", "vjp", "jvp", "vhp", "hvp"]


def _tensor():
    from .._tensor import Tensor
    return Tensor


def _inputs(inputs, create_graph):
    """(tuple of fresh differentiable inputs, whether the caller passed a tuple)."""
    Tensor = _tensor()
    is_tuple = not isinstance(inputs, Tensor)
    xs = tuple(inputs) if is_tuple else (inputs,)
    for i, x in enumerate(xs):
        if not isinstance(x, Tensor):
            raise TypeError(f"The inputs given to jacobian must be either a Tensor or a tuple of Tensors but the "
                            f"value at index {i} has type {type(x).__name__}.")
    # Inputs that already require grad keep their graph under create_graph (a view links them), as PyTorch.
    return tuple(x.view_as(x) if create_graph and x.requires_grad else x.detach().requires_grad_()
                 for x in xs), is_tuple


def _grads(outputs, inputs, grad_outputs, create_graph):
    from . import grad
    from .._creation import zeros_like
    outs = [o for o in outputs if o.requires_grad]
    gos = None if grad_outputs is None else [g for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if not outs:
        return tuple(zeros_like(x) for x in inputs)
    gs = grad(outs, inputs, gos, retain_graph=True, create_graph=create_graph, allow_unused=True)
    return tuple(g if g is not None else zeros_like(x) for g, x in zip(gs, inputs))


def _finish(t, create_graph):
    Tensor = _tensor()
    if isinstance(t, tuple):
        return tuple(_finish(x, create_graph) for x in t)
    return t if create_graph or not isinstance(t, Tensor) else t.detach()


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """d func(inputs) / d inputs: for output shape O and input shape I, a tensor of shape O + I
    (tuples of them for tuple outputs/inputs, as PyTorch)."""
    from ..ops.shape import stack
    from .._creation import zeros
    Tensor = _tensor()
    xs, tuple_in = _inputs(inputs, create_graph)
    with enable_grad():
        out = func(*xs)
        tuple_out = not isinstance(out, Tensor)
        outs = tuple(out) if tuple_out else (out,)
        result = []
        for o in outs:
            rows = [[] for _ in xs]
            flat = o.reshape(-1)
            for j in range(flat.numel()):
                for k, g in enumerate(_grads((flat[j],), xs, None, create_graph)):
                    rows[k].append(g)
            per_in = tuple(stack(r).reshape(*o.shape, *x.shape) if r else zeros(*o.shape, *x.shape, dtype=x.dtype)
                           for r, x in zip(rows, xs))
            result.append(per_in if tuple_in else per_in[0])
    return _finish(tuple(result) if tuple_out else result[0], create_graph)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """Second derivatives of a scalar function: shape I + I (a tuple of tuples for tuple inputs)."""
    Tensor = _tensor()
    tuple_in = not isinstance(inputs, Tensor)

    def gradient(*xs):
        out = func(*xs)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError("The function given to hessian should return a single element Tensor")
        gs = _grads((out.reshape(()),), xs, None, True)
        return gs if tuple_in else gs[0]
    return jacobian(gradient, inputs, create_graph=create_graph)


def _vector(v, outs):
    Tensor = _tensor()
    if v is None:
        if len(outs) != 1 or outs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the user-provided function returns a single "
                               "Tensor with a single element.")
        from .._creation import ones_like
        return (ones_like(outs[0]),)
    return (v,) if isinstance(v, Tensor) else tuple(v)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J)."""
    Tensor = _tensor()
    xs, tuple_in = _inputs(inputs, create_graph)
    with enable_grad():
        out = func(*xs)
        outs = (out,) if isinstance(out, Tensor) else tuple(out)
        gs = _grads(outs, xs, _vector(v, outs), create_graph)
    return _finish(out if isinstance(out, Tensor) else tuple(out), create_graph), \
        _finish(gs if tuple_in else gs[0], create_graph)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v), by differentiating v^T J with respect to a dummy v (double backward)."""
    from .._creation import zeros_like
    Tensor = _tensor()
    xs, tuple_in = _inputs(inputs, create_graph)
    vs = _vector(v, xs)
    with enable_grad():
        out = func(*xs)
        outs = (out,) if isinstance(out, Tensor) else tuple(out)
        dummies = tuple(zeros_like(o).requires_grad_() for o in outs)
        gs = _grads(outs, xs, dummies, True)
        res = _grads(gs, dummies, vs, create_graph)
    return _finish(out if isinstance(out, Tensor) else tuple(out), create_graph), \
        _finish(res if not isinstance(out, Tensor) else res[0], create_graph)


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H) of a scalar function."""
    Tensor = _tensor()
    xs, tuple_in = _inputs(inputs, create_graph)
    with enable_grad():
        out = func(*xs)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError("The function given to vhp should return a single element Tensor")
        gs = _grads((out,), xs, None, True)
        res = _grads(gs, xs, _vector(v, xs), create_graph)
    return _finish(out, create_graph), _finish(res if tuple_in else res[0], create_graph)


hvp = vhp  # the Hessian is symmetric for twice-differentiable functions: H v = (v^T H)^T
