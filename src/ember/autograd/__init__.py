"""``ember.autograd``: backward, grad, Function, grad modes, gradcheck."""
from __future__ import annotations

from collections.abc import Sequence

from ..backend import xp

from . import function as _function
from .engine import run_backward
from .graph import _TENSOR, _tensor_type
from .function import once_differentiable
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .graph import Node

__all__ = ["backward", "grad", "Function", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
           "is_grad_enabled", "gradcheck", "gradgradcheck", "once_differentiable", "Node", "graph",
           "set_detect_anomaly", "detect_anomaly", "forward_ad", "functional"]


class Function(_function.Function):
    """Base for user-defined ops: ``forward(ctx, *tensors)`` and ``backward(ctx, *grads)``."""

    _tensor_forward = True


def _as_tuple(x):
    Tensor = _TENSOR[0] if _TENSOR else _tensor_type()   # (a function-level import costs ~1 us a call)
    if x is None:
        return None
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _seeds(outputs, grad_outputs, create_graph):
    Tensor = _TENSOR[0] if _TENSOR else _tensor_type()

    seeds = []
    for i, out in enumerate(outputs):
        g = grad_outputs[i] if grad_outputs is not None else None
        if g is None:
            if out._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if not out.is_floating_point():
                raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got "
                                   f"{out.dtype}")
            g = Tensor._make(xp.ones(out._data.shape, out._data.dtype), False, None, 0)
        else:
            if not isinstance(g, Tensor):
                g = Tensor._make(xp.asarray(g, dtype=out._data.dtype), False, None, 0)
            if g._data.shape != out._data.shape:
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and "
                                   f"output[{i}] has a shape of {out.shape}.")
            if g._data.dtype != out._data.dtype:
                g = g.to(out.dtype)
        seeds.append(g)
    return seeds


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph: bool = False, grad_variables=None,
             inputs=None) -> None:
    """Accumulate gradients of ``tensors`` into the ``.grad`` of the leaves (or of ``inputs``)."""
    tensors = _as_tuple(tensors)
    grad_tensors = _as_tuple(grad_tensors if grad_tensors is not None else grad_variables)
    if grad_tensors is not None and len(grad_tensors) != len(tensors):
        raise RuntimeError("grad can be implicitly created only for scalar outputs")
    if retain_graph is None:
        retain_graph = create_graph
    inputs = _as_tuple(inputs)
    if inputs is not None and len(inputs) == 0:
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    seeds = _seeds(tensors, grad_tensors, create_graph)
    run_backward(list(tensors), seeds, retain_graph, create_graph, inputs=inputs, allow_unused=True,
                 accumulate=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph: bool = False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned as a tuple (nothing accumulates)."""
    from .._tensor import Tensor

    outputs = _as_tuple(outputs)
    single = isinstance(inputs, Tensor)
    inputs = _as_tuple(inputs)
    if isinstance(grad_outputs, Sequence) or grad_outputs is None:
        grad_outputs = None if grad_outputs is None else tuple(grad_outputs)
    else:
        grad_outputs = (grad_outputs,)
    if grad_outputs is not None:
        if len(grad_outputs) < len(outputs):
            raise RuntimeError(f"got {len(outputs)} tensors and {len(grad_outputs)} gradients")
        grad_outputs = grad_outputs[:len(outputs)]  # PyTorch ignores extra ones
    if allow_unused is None:
        allow_unused = materialize_grads
    if retain_graph is None:
        retain_graph = create_graph
    seeds = _seeds(outputs, grad_outputs, create_graph)
    res = run_backward(list(outputs), seeds, retain_graph, create_graph, inputs=inputs,
                       allow_unused=allow_unused, accumulate=False)
    if materialize_grads:
        from .._creation import zeros_like
        res = tuple(r if r is not None else zeros_like(i) for r, i in zip(res, inputs))
    del single
    return res


from .gradcheck import gradcheck, gradgradcheck  # noqa: E402
from . import functional  # noqa: E402


class _Anomaly:
    def __init__(self, mode=True, check_nan=True):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def set_detect_anomaly(mode: bool, check_nan: bool = True):
    return _Anomaly(mode, check_nan)


detect_anomaly = _Anomaly


class _GraphNS:
    Node = Node


graph = _GraphNS
