"""``Function``: one op's forward (on arrays) and backward (in ember ops), and ``apply``, the only
place a graph node is created.

Built-in ops subclass ``Function`` and write ``forward(ctx, *arrays_or_values)`` on backend arrays and
``backward(ctx, *grads)`` on Tensors. User code subclasses ``ember.autograd.Function`` whose
``forward`` receives Tensors, as in PyTorch.
"""
from __future__ import annotations

import weakref

from ..backend import xp
from .graph import _TENSOR, AccumulateGrad, Node, SavedTensor, _tensor_type
from .grad_mode import STATE

_ND = xp.ndarray


def _arr(o):
    """A forward result as an array: NumPy returns scalars, not 0-d arrays, for 0-d operands."""
    return o if type(o) is _ND else xp.asarray(o)

__all__ = ["Function", "FunctionCtx", "once_differentiable"]


class _PlainCtx:
    """The ctx handed to forward when no graph is recorded: attributes work, saving is a no-op."""

    needs_input_grad = ()

    def save_for_backward(self, *tensors):
        pass

    def mark_non_differentiable(self, *outputs):
        pass

    def mark_dirty(self, *tensors):
        pass

    def set_materialize_grads(self, value):
        pass


FunctionCtx = _PlainCtx


def _grad_edge(t):
    """The (node, input_nr) edge that a gradient for tensor ``t`` travels to."""
    fn = t.grad_fn
    if fn is not None:
        return (fn, t._output_nr)
    acc = t._grad_acc() if t._grad_acc is not None else None
    if acc is None:
        acc = AccumulateGrad(t)
        t._grad_acc = weakref.ref(acc)
    return (acc, 0)


class Function:
    """Base of every differentiable op; subclasses are not instantiated (PyTorch's static style)."""

    _tensor_forward = False   # True for user-defined Functions (forward gets Tensors)
    _node_cls = Node
    _scalar_args = ()         # positions of Python-number operands listed in next_functions

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("node_name")
        if name is None:
            name = cls.__name__ + ("Backward" if cls._tensor_forward else "Backward0")
        cls._node_cls = type(name, (Node,), {"__slots__": (), "_fn": cls})

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    @classmethod
    def apply(cls, *args):
        Tensor = _TENSOR[0] if _TENSOR else _tensor_type()  # a function-level import costs ~2 us per op

        record = False
        if STATE.enabled:
            for a in args:
                if isinstance(a, Tensor) and a._requires_grad:
                    record = True
                    break
        if cls._tensor_forward:
            return _apply_tensor_forward(cls, args, record)

        fwd_args = [a._data if isinstance(a, Tensor) else a for a in args]
        if not record:
            out = cls.forward(_PlainCtx(), *fwd_args)
            if type(out) is tuple:
                return tuple(Tensor._make(_arr(o), False, None, 0) for o in out)
            return Tensor._make(out if type(out) is _ND else xp.asarray(out), False, None, 0)

        node = cls._node_cls()
        needs = []
        edges = []
        meta = []
        pos = []
        scalar_pos = cls._scalar_args
        for i, a in enumerate(args):
            if isinstance(a, Tensor):
                r = a._requires_grad
                if r and a._base is not None and a.grad_fn is not None and a._vc[0] != a.__dict__.get("_vv", a._vc[0]):
                    _refresh_view(a)  # a view whose base changed in place gets a fresh grad_fn
                needs.append(r)
                edges.append(_grad_edge(a) if r else (None, 0))
                meta.append((a._data.shape, a._data.dtype))
                pos.append(i)
            else:
                needs.append(False)
                if i in scalar_pos:
                    # PyTorch wraps a Python number operand as a tensor: it shows as (None, 0).
                    edges.append((None, 0))
                    meta.append(None)
                    pos.append(i)
        node.needs_input_grad = tuple(needs)
        node.next_functions = tuple(edges)
        # Per edge: the forward argument position, and its input's shape and dtype, for
        # un-broadcasting and casting gradients in the engine.
        node._pos = tuple(pos)
        node._input_meta = tuple(meta)
        out = cls.forward(node, *fwd_args)
        if type(out) is not tuple and node._non_diff is None:
            # one output (nearly every op): no tuples to build and loop over (the generator expressions below
            # cost ~0.9 us of the ~4.3 us a recorded op took)
            o = out if type(out) is _ND else xp.asarray(out)
            diff = o.dtype.kind in "fc"
            result = Tensor._make(o, diff, node if diff else None, 0)
            node._out_meta = ((o.shape, o.dtype),)
            if node._to_save is not None:
                node._saved = _pack(node._to_save, args, fwd_args, (result,), (out,))
                node._to_save = None
            return result
        multi = type(out) is tuple
        raw = out if multi else (out,)
        outs = tuple(_arr(o) for o in raw)
        results = []
        for i, o in enumerate(outs):
            diff = o.dtype.kind in "fc"
            results.append(Tensor._make(o, diff, node if diff else None, i))
        if node._non_diff:
            for o_arr in node._non_diff:
                for r, ro in zip(results, raw):
                    if r._data is o_arr or ro is o_arr:
                        r._requires_grad = False
                        r.grad_fn = None
        node._out_meta = tuple((o.shape, o.dtype) for o in outs)
        if node._to_save is not None:
            node._saved = _pack(node._to_save, args, fwd_args, results, raw)
            node._to_save = None
        return tuple(results) if multi else results[0]


def _refresh_view(view):
    from ..ops.inplace import refresh_view
    refresh_view(view)


def _pack(to_save, args, fwd_args, results, raw):
    """Turn what forward saved (arrays, by identity) into SavedTensors of inputs or outputs."""
    Tensor = _TENSOR[0] if _TENSOR else _tensor_type()

    saved = []
    for s in to_save:
        if s is None:
            saved.append(None)
            continue
        hit = None
        for r, ro in zip(results, raw):
            if r._data is s or r is s or ro is s:
                hit = SavedTensor(r, True, r._output_nr)
                break
        if hit is None:
            for a, f in zip(args, fwd_args):
                if isinstance(a, Tensor) and (f is s or a is s):
                    hit = SavedTensor(a, False)
                    break
        if hit is None:
            # An intermediate array: a constant for double backward (masks, indices); ops that must be
            # twice differentiable save only inputs and outputs.
            hit = Tensor._make(s, False, None, 0) if not isinstance(s, Tensor) else SavedTensor(s, False)
        saved.append(hit)
    return tuple(saved)


def _apply_tensor_forward(cls, args, record):
    """apply() for user Functions: forward runs on detached Tensors, outputs join the graph."""
    from .._tensor import Tensor

    node = cls._node_cls()
    needs, edges, pos = [], [], []
    for i, a in enumerate(args):
        r = isinstance(a, Tensor) and a._requires_grad and record
        needs.append(r)
        if isinstance(a, Tensor):
            edges.append(_grad_edge(a) if r else (None, 0))
            pos.append(i)
    node.needs_input_grad = tuple(needs)
    node.next_functions = tuple(edges)
    node._pos = tuple(pos)
    node._input_meta = tuple((args[i]._data.shape, args[i]._data.dtype) for i in pos)
    inner = [a.detach() if isinstance(a, Tensor) else a for a in args]
    prev = STATE.enabled
    STATE.enabled = False
    try:
        out = cls.forward(node, *inner)
    finally:
        STATE.enabled = prev
    multi = isinstance(out, tuple)
    outs = out if multi else (out,)
    non_diff = node._non_diff or ()
    dirty = node._dirty or ()
    results = []
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            results.append(o)
            continue
        is_input = any(o is x for x in inner)
        if any(o is d for d in dirty):
            # An input modified in place: the caller's tensor itself becomes the result.
            src = args[[j for j, x in enumerate(inner) if x is o][0]]
            if src.is_leaf and src._requires_grad and record:
                raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
            src._vc[0] += 1
            t = src
        elif is_input:
            t = Tensor._make(o._data, False, None, 0)  # returning an input yields a view of it
        else:
            t = o
        diff = record and o._data.dtype.kind in "fc" and not any(o is n for n in non_diff)
        if diff:
            t._requires_grad = True
            t.grad_fn = node
            t._output_nr = i
        results.append(t)
    node._out_meta = tuple((o._data.shape, o._data.dtype) if isinstance(o, Tensor) else None for o in outs)
    if node._to_save is not None:
        saved = []
        for s in node._to_save:
            if s is None:
                saved.append(None)
                continue
            hit = None
            for r in results:
                if r is s or (isinstance(r, Tensor) and r._data is s._data and r.grad_fn is node):
                    hit = SavedTensor(r, True, r._output_nr)
                    break
            if hit is None:
                j = next((j for j, x in enumerate(inner) if x is s), None)
                hit = SavedTensor(args[j] if j is not None else s, False)
            saved.append(hit)
        node._saved = tuple(saved)
        node._to_save = None
    if not record:
        return tuple(results) if multi else results[0]
    return tuple(results) if multi else results[0]


def once_differentiable(fn):
    """Decorator for a backward that is not itself differentiable (runs it with grad mode off)."""
    import functools

    @functools.wraps(fn)
    def wrapper(ctx, *grads):
        prev = STATE.enabled
        STATE.enabled = False
        try:
            return fn(ctx, *grads)
        finally:
            STATE.enabled = prev
    return wrapper
