"""The backward engine: an iterative traversal with a dependency count per node.

1. collect the nodes reachable from the roots and count, per node, the gradients it will receive;
2. seed the roots; 3. run each node once all its gradients have arrived, un-broadcasting and
summing what it sends to the next nodes; 4. leaves accumulate into ``.grad``; 5. free saved tensors
unless ``retain_graph``.
"""
from __future__ import annotations

import sys

import numpy as np

from .function import _grad_edge
from .graph import _FREED, AccumulateGrad
from .grad_mode import STATE

__all__ = ["run_backward", "queue_callback"]

# One list per running backward (they nest): callbacks run once that backward has finished.
_FINAL_CALLBACKS: list[list] = []


def queue_callback(fn) -> None:
    """Run ``fn()`` when the current backward pass ends (``Variable._execution_engine.queue_callback``)."""
    if not _FINAL_CALLBACKS:
        raise RuntimeError("Final callbacks can only be installed during backward pass.")
    _FINAL_CALLBACKS[-1].append(fn)


def _collect(root_nodes):
    """Dependency counts of every node reachable from the roots (explicit stack: no recursion)."""
    deps = {}
    seen = set()
    stack = []
    for n in root_nodes:
        if id(n) not in seen:
            seen.add(id(n))
            stack.append(n)
    order = []
    while stack:
        node = stack.pop()
        order.append(node)
        for nxt, _ in node.next_functions:
            if nxt is None:
                continue
            deps[nxt] = deps.get(nxt, 0) + 1
            if id(nxt) not in seen:
                seen.add(id(nxt))
                stack.append(nxt)
    return deps, order


def _needed(order, deps, targets):
    """Nodes on some path to a target node (only those run when ``inputs=`` is given)."""
    # Kahn order from the roots, then a reverse sweep: a node is needed if a child is.
    remaining = dict(deps)
    ready = [n for n in order if remaining.get(n, 0) == 0]
    topo = []
    while ready:
        n = ready.pop()
        topo.append(n)
        for nxt, _ in n.next_functions:
            if nxt is None:
                continue
            remaining[nxt] -= 1
            if remaining[nxt] == 0:
                ready.append(nxt)
    needed = set()
    for n in reversed(topo):
        if n in targets or any(nxt is not None and nxt in needed for nxt, _ in n.next_functions):
            needed.add(n)
    return needed


def _validate_grad(g, shape, dtype, node, i):
    """Un-broadcast (sum) a gradient to its input's shape and cast it to the input's dtype."""
    from .._tensor import Tensor

    if not isinstance(g, Tensor):
        raise TypeError(f"function {node.name()} returned a gradient of type {type(g).__name__} at index {i}; "
                        "expected a Tensor or None")
    if g._data.shape != shape:
        got = list(g._data.shape)
        try:
            g = g.sum_to_size(shape)
        except RuntimeError:
            raise RuntimeError(f"Function {node.name()} returned an invalid gradient at index {i} - got {got} "
                               f"but expected shape compatible with {list(shape)}") from None
    if g._data.dtype != dtype:
        g = g.to(_to_dtype(dtype))
    return g


def _to_dtype(np_dtype):
    from .._dtypes import from_numpy_dtype
    return from_numpy_dtype(np_dtype)


def run_backward(roots, grad_roots, retain_graph: bool, create_graph: bool, inputs=None,
                 allow_unused: bool = False, accumulate: bool = True):
    """Backpropagate from ``roots`` (Tensors) seeded with ``grad_roots``.

    With ``accumulate`` (``Tensor.backward``), leaves receive ``.grad``; otherwise (``autograd.grad``)
    the gradients of ``inputs`` are returned.
    """
    root_edges = []
    for r in roots:
        if not r._requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        root_edges.append(_grad_edge(r))
    deps, order = _collect([e[0] for e in root_edges])

    captures = None          # (node, nr) -> slot index, for autograd.grad / backward(inputs=)
    targets = None
    if inputs is not None:
        captures = {}
        targets = set()
        for k, t in enumerate(inputs):
            if not t._requires_grad:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            node, nr = _grad_edge(t)
            captures.setdefault((node, nr), []).append(k)
            targets.add(node)
        needed = _needed(order, deps, targets)
    else:
        needed = None

    buffers = {}
    # gradient tensors already handed to a destination (copy before sharing), by id; the dict keeps them alive so
    # that no later tensor reuses an id (a set of bare ids made fresh gradients look shared and copied them)
    routed = {}
    for (node, nr), g in zip(root_edges, grad_roots):
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * _n_outputs(node)
        buf[nr] = g if buf[nr] is None else buf[nr] + g
        routed[id(g)] = g

    results = [None] * (len(inputs) if inputs is not None else 0)
    ready = [n for n in {id(e[0]): e[0] for e in root_edges}.values() if deps.get(n, 0) == 0]
    prev = STATE.enabled
    STATE.enabled = create_graph
    _FINAL_CALLBACKS.append([])
    try:
        while ready:
            node = ready.pop()
            grads = buffers.pop(node, None) or [None] * _n_outputs(node)
            if captures is not None:
                for nr, g in enumerate(grads):
                    slots = captures.get((node, nr))
                    if slots is not None:
                        g = _run_pre_hooks(node, grads)[nr] if node._pre_hooks else g
                        for k in slots:
                            results[k] = g
                            if accumulate and g is not None:
                                _accumulate_into(inputs[k], g, create_graph, routed)
                if needed is not None and node not in needed:
                    continue
                if node in targets and (isinstance(node, AccumulateGrad) or not _leads_on(node, needed)):
                    continue
            if isinstance(node, AccumulateGrad):
                g = grads[0]
                if node._pre_hooks:
                    g = _run_pre_hooks(node, grads)[0]
                if accumulate and g is not None:
                    _accumulate_into(node.variable, g, create_graph, routed)
                    post = node.variable.__dict__.get("_post_acc_hooks")   # a getattr miss costs ~0.8 us
                    if post:
                        for h in list(post):
                            h(node.variable)
                continue
            if node._released:
                raise RuntimeError(_FREED)
            if node._pre_hooks:
                grads = _run_pre_hooks(node, grads)
            if node._materialize:
                grads = _materialize(node, grads)
            out = node._fn.backward(node, *grads)
            if type(out) is not tuple:
                out = (out,)
            n_in = len(node.needs_input_grad)
            if len(out) != n_in:
                if len(out) > n_in and all(g is None for g in out[n_in:]):
                    out = out[:n_in]
                else:
                    raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients "
                                       f"(expected {n_in}, got {len(out)})")
            if node._post_hooks:
                for h in node._post_hooks:
                    r = h(out, tuple(grads))
                    if r is not None:
                        out = tuple(r)
            if not retain_graph:
                node._release()
            meta = node._input_meta
            for i, (nxt, nr) in enumerate(node.next_functions):
                if nxt is None:
                    continue
                g = out[node._pos[i]]
                if g is not None:
                    shape, dt = meta[i]
                    if g._data.shape != shape or g._data.dtype != dt:
                        g = _validate_grad(g, shape, dt, node, node._pos[i])
                    buf = buffers.get(nxt)
                    if buf is None:
                        buf = buffers[nxt] = [None] * _n_outputs(nxt)
                    buf[nr] = g if buf[nr] is None else buf[nr] + g
                d = deps[nxt] - 1
                deps[nxt] = d
                if d == 0:
                    ready.append(nxt)
        callbacks = _FINAL_CALLBACKS[-1]
        k = 0
        while k < len(callbacks):  # a callback may queue another
            callbacks[k]()
            k += 1
    finally:
        STATE.enabled = prev
        _FINAL_CALLBACKS.pop()

    if inputs is not None and not accumulate:
        for k, r in enumerate(results):
            if r is None and not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {k} appears to not have been used in the "
                                   "graph. Set allow_unused=True if this is the desired behavior.")
        return tuple(results)
    return None


def _leads_on(node, needed):
    return any(nxt is not None and nxt in needed for nxt, _ in node.next_functions)


def _n_outputs(node):
    if isinstance(node, AccumulateGrad):
        return 1
    return len(node._out_meta)


def _run_pre_hooks(node, grads):
    """Hooks are (output_nr, fn): tensor hooks get one gradient, node pre-hooks (nr None) all."""
    grads = list(grads)
    for nr, h in list(node._pre_hooks):
        if nr is None:
            r = h(tuple(grads))
            if r is not None:
                grads = list(r)
        elif grads[nr] is not None:
            r = h(grads[nr])
            if r is not None:
                if r._data.shape != grads[nr]._data.shape:
                    raise RuntimeError(f"hook '{getattr(h, '__name__', type(h).__name__)}' has changed the size of "
                                       "value")
                grads[nr] = r
    return grads


def _materialize(node, grads):
    """Zeros for the outputs that received no gradient (PyTorch's materialize_grads). ember's own ops skip their
    integer outputs (max-pool indices, sort's indices): their backwards ignore that gradient, and the zeros were
    VGG's max-pool indices' size, 15.7 MB per training step. User Functions get zeros for every output, as in
    PyTorch."""
    for g in grads:                 # (a loop: all() over a generator cost ~0.4 us per node)
        if g is None:
            break
    else:
        return grads
    from .._tensor import Tensor
    from ..backend import xp

    own = not node._fn._tensor_forward
    return [g if g is not None or meta is None or (own and meta[1].kind not in "fc")
            else Tensor._make(xp.zeros(*meta), False, None, 0) for g, meta in zip(grads, node._out_meta)]


def _accumulate_into(t, g, create_graph, routed):
    """``t.grad = g`` the first time (taking g's array only if nothing else can see it), then add."""
    old = t._grad
    if old is None:
        if create_graph:
            t._grad = g
        else:
            a = g._data
            flags = a.flags
            if id(g) in routed or (a.base is not None and not _sole_view(a)) or not flags.writeable \
                    or g.grad_fn is not None or not flags.c_contiguous:
                a = a.copy()
            t._grad = type(g)._make(a, False, None, 0)
            routed[id(g)] = g
    elif create_graph or old._requires_grad:
        t._grad = old + g
    else:
        old._data += g._data
        old._vc[0] += 1


def _sole_view(a) -> bool:
    """Whether the view ``a`` covers the whole of an array that nothing but ``a`` refers to -- a kernel's result
    reshaped (a conv's weight gradient, say) -- so that taking it as ``.grad`` shares no memory. (ResNet-18's step
    copied 35 MB of such weight gradients before this check.)"""
    base = a.base
    return type(base) is np.ndarray and base.base is None and base.nbytes == a.nbytes \
        and sys.getrefcount(base) <= _SOLE_VIEW_REFS


def _refs_of_sole_base(a) -> int:
    """``sys.getrefcount`` of the base of a view that alone refers to it, seen from a function shaped like
    ``_sole_view`` (measured, not assumed, in case the interpreter counts differently)."""
    base = a.base
    return sys.getrefcount(base)


_SOLE_VIEW_REFS = _refs_of_sole_base(np.empty(4).reshape(2, 2))
