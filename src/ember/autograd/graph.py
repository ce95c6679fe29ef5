"""Graph nodes: ``Node`` (the ``grad_fn`` of a result, also the ``ctx`` of its Function),
``AccumulateGrad`` (the sink of a leaf) and ``SavedTensor`` (what ``save_for_backward`` keeps)."""
from __future__ import annotations

__all__ = ["Node", "AccumulateGrad", "SavedTensor"]

_FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they "
    "have already been freed). Saved intermediate values of the graph are freed when you call .backward() "
    "or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second "
    "time or if you need to access saved tensors after calling backward."
)


# Nodes PyTorch implements by hand in C++ report a qualified name() (their repr shows the short one).
_QUALIFIED = {n: "torch::autograd::" + n for n in ("AccumulateGrad", "CopySlices", "CopyBackwards")}
# types of ctx values that _release keeps without asking (none has __array__ or _data; a hasattr miss on a
# float costs ~0.15 us, once per stashed value and backward node)
_PLAIN = frozenset((int, float, bool, str, tuple, type(None)))
_TENSOR = []    # ember.Tensor, imported on first use (the Tensor module imports autograd); for the whole package


def _tensor_type():
    from .._tensor import Tensor
    _TENSOR.append(Tensor)
    return Tensor


class SavedTensor:
    """A tensor kept for backward, with its version at save time.

    An op's own output is kept as its array plus a marker (``node``/``output_nr``), and rebuilt on
    unpack with ``grad_fn`` set back to the node: output -> grad_fn -> saved output is then no
    reference cycle, so a graph is freed as soon as the user drops its result.
    """

    __slots__ = ("tensor", "array", "vc", "version", "output_nr", "requires_grad", "producer")

    def __init__(self, tensor, is_output: bool, output_nr: int = 0):
        self.vc = tensor._vc
        self.version = tensor._vc[0]
        if is_output:
            self.tensor = None
            self.array = tensor._data
            self.output_nr = output_nr
            self.requires_grad = tensor._requires_grad
        else:
            self.tensor = tensor
            self.array = None
            # Where the input came from when saved (an in-place op may rebase it later): for the error.
            self.producer = tensor.grad_fn
            self.output_nr = tensor._output_nr

    def unpack(self, node):
        if self.vc[0] != self.version:
            raise RuntimeError(self._modified_message(node))
        if self.tensor is not None:
            return self.tensor
        tensor = _TENSOR[0] if _TENSOR else _tensor_type()
        t = tensor._make(self.array, self.requires_grad, node if self.requires_grad else None, self.output_nr)
        t._vc = self.vc
        return t


    def _modified_message(self, node) -> str:
        """PyTorch's message: the saved tensor's type and shape, and the node that produced it."""
        import re

        from .._dtypes import from_numpy_dtype
        t = self.tensor
        arr = t._data if t is not None else self.array
        producer = node if t is None else self.producer
        which = ""
        if producer is not None:
            # A view whose base was modified in place is regraphed as AsStrided of the new base.
            name = "AsStrided" if t is not None and t._base is not None else \
                re.sub(r"Backward[0-9]*$", "", type(producer).__name__)
            which = f", which is output {self.output_nr} of {name},"
        return ("one of the variables needed for gradient computation has been modified by an inplace operation: "
                f"[torch.{from_numpy_dtype(arr.dtype)._legacy} [{', '.join(map(str, arr.shape))}]]{which} is at "
                f"version {self.vc[0]}; expected version {self.version} instead. Hint: enable anomaly detection to "
                "find the operation that failed to compute its gradient, with "
                "torch.autograd.set_detect_anomaly(True, check_nan=False).")


class Node:
    """A backward function in the graph; the Function's ``ctx`` during forward and backward.

    ``next_functions`` holds ``(node, input_nr)`` per forward input, ``(None, 0)`` where the input
    needs no gradient, as in PyTorch.
    """

    __slots__ = ("next_functions", "needs_input_grad", "_saved", "_to_save", "_input_meta", "_out_meta", "_pos",
                 "_released", "_pre_hooks", "_post_hooks", "_materialize", "_non_diff", "_dirty",
                 "__dict__", "__weakref__")
    _fn = None  # the Function class this node differentiates; set on generated subclasses

    def __init__(self):
        self._saved = None
        self._to_save = None
        self._released = False
        self._pre_hooks = None
        self._post_hooks = None
        self._materialize = True
        self._non_diff = None
        self._dirty = None

    # --- PyTorch's Node API ---------------------------------------------------------------
    def name(self) -> str:
        n = type(self).__name__
        return _QUALIFIED.get(n, n)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {hex(id(self))}>"

    def __call__(self, *grads):
        return self.apply(*grads)

    def apply(self, *grads):
        return self._fn.backward(self, *grads)

    @property
    def metadata(self) -> dict:
        d = self.__dict__.get("_metadata")
        if d is None:
            d = self.__dict__["_metadata"] = {}
        return d

    def register_hook(self, fn):
        """fn(grad_inputs, grad_outputs) -> None or new grad_inputs, run after this node."""
        if self._post_hooks is None:
            self._post_hooks = []
        self._post_hooks.append(fn)
        return _RemovableHandle(self._post_hooks, fn)

    def register_prehook(self, fn):
        """fn(grad_outputs) -> None or new grad_outputs, run before this node."""
        if self._pre_hooks is None:
            self._pre_hooks = []
        entry = (None, fn)
        self._pre_hooks.append(entry)
        return _RemovableHandle(self._pre_hooks, entry)

    # --- ctx API used by Functions --------------------------------------------------------
    def save_for_backward(self, *tensors) -> None:
        self._to_save = tensors

    @property
    def saved_tensors(self) -> tuple:
        if self._released:
            raise RuntimeError(_FREED)
        saved = self._saved
        if saved is None:
            return ()
        return tuple(s if s is None or not isinstance(s, SavedTensor) else s.unpack(self) for s in saved)

    def mark_non_differentiable(self, *outputs) -> None:
        self._non_diff = outputs

    def mark_dirty(self, *tensors) -> None:
        self._dirty = tensors

    def set_materialize_grads(self, value: bool) -> None:
        self._materialize = bool(value)

    def _release(self) -> None:
        # Free what backward kept (saved tensors, arrays stashed on ctx); plain values such as
        # shapes stay, so nodes that saved nothing can be traversed again, as in PyTorch.
        if self._saved is not None:
            self._saved = None
            self._released = True
        d = self.__dict__
        if d:
            drop = [k for k, v in d.items()
                    if type(v) not in _PLAIN and (hasattr(v, "__array__") or hasattr(v, "_data"))]
            for k in drop:
                del d[k]
                self._released = True


class AccumulateGrad(Node):
    """The sink of a leaf tensor: adds the incoming gradient into ``variable.grad``."""

    __slots__ = ("variable",)

    def __init__(self, variable):
        super().__init__()
        self.variable = variable
        self._pre_hooks = variable._hooks  # the leaf's tensor hooks, shared list
        self.next_functions = ()
        self.needs_input_grad = ()


class _RemovableHandle:
    __slots__ = ("_list", "_fn", "id")
    _next_id = 0

    def __init__(self, lst, fn):
        self._list = lst
        self._fn = fn
        _RemovableHandle._next_id += 1
        self.id = _RemovableHandle._next_id

    def remove(self) -> None:
        if self._fn in self._list:
            self._list.remove(self._fn)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
