"""Tensor: a backend array plus autograd fields and view/version bookkeeping.

No math here: operators and methods call into ``ember.ops``; op families add their own methods with
``@tensor_method`` so each op's public forms live beside its Function.
"""
from __future__ import annotations

import warnings
import weakref

import numpy as np

from . import _dtypes
from ._device import CPU, check_device
from .autograd import backward as _autograd_backward
from .autograd.grad_mode import STATE

__all__ = ["Tensor", "tensor_method", "Size"]


class Size(tuple):
    """``torch.Size``: a tuple of ints with PyTorch's repr."""

    def __repr__(self) -> str:
        return f"torch.Size([{', '.join(map(str, self))}])"

    __str__ = __repr__

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, i):
        r = tuple.__getitem__(self, i)
        return Size(r) if isinstance(i, slice) else r

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))

    def __reduce__(self):
        return (Size, (tuple(self),))


class Tensor:
    """A multi-dimensional array that records the operations applied to it for autograd."""

    __slots__ = ("_data", "_requires_grad", "grad_fn", "_output_nr", "_grad", "_vc", "_base",
                 "_grad_acc", "_hooks", "_retains_grad", "__dict__", "__weakref__")
    __array_priority__ = 1000  # NumPy defers `ndarray op Tensor` to Tensor's reflected operators

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, *args, dtype=None, device=None, requires_grad=False):
        """Legacy constructor: ``Tensor(2, 3)`` (uninitialised), ``Tensor([1, 2])``, ``Tensor(array)``."""
        from ._creation import _as_array

        check_device(device)
        if not args:
            data = np.zeros((0,), (dtype or _dtypes.get_default_dtype()).np)
        elif len(args) == 1 and not isinstance(args[0], int):
            data = _as_array(args[0], dtype or _dtypes.get_default_dtype())
        elif all(isinstance(a, int) for a in args):
            data = np.zeros(args, (dtype or _dtypes.get_default_dtype()).np)
        elif len(args) == 1 and isinstance(args[0], (tuple, Size)):
            data = np.zeros(args[0], (dtype or _dtypes.get_default_dtype()).np)
        else:
            raise TypeError(f"new(): invalid data type '{type(args[0]).__name__}'")
        _init(self, data, bool(requires_grad))

    @staticmethod
    def _make(data, requires_grad: bool, grad_fn, output_nr: int):
        """The fast private constructor for op results."""
        t = object.__new__(Tensor)
        t._data = data
        t._requires_grad = requires_grad
        t.grad_fn = grad_fn
        t._output_nr = output_nr
        t._grad = None
        t._vc = [0]
        t._base = None
        t._grad_acc = None
        t._hooks = None
        t._retains_grad = False
        return t

    # ---- metadata --------------------------------------------------------------------------
    @property
    def dtype(self) -> _dtypes.dtype:
        return _dtypes._FROM_NP[self._data.dtype]

    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    @property
    def device(self):
        return CPU

    @property
    def is_cuda(self) -> bool:
        return False

    @property
    def is_cpu(self) -> bool:
        return True

    @property
    def is_sparse(self) -> bool:
        return False

    @property
    def is_quantized(self) -> bool:
        return False

    @property
    def is_meta(self) -> bool:
        return False

    @property
    def layout(self):
        return "torch.strided"

    def get_device(self) -> int:
        return -1

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    def stride(self, dim: int | None = None):
        st = tuple(s // self._data.itemsize for s in self._data.strides)
        return st if dim is None else st[_wrap_dim(dim, self._data.ndim)]

    def storage_offset(self) -> int:
        base = self._data
        while isinstance(base.base, np.ndarray):
            base = base.base
        return (self._data.__array_interface__["data"][0] - base.__array_interface__["data"][0]) \
            // max(self._data.itemsize, 1)

    def data_ptr(self) -> int:
        return self._data.__array_interface__["data"][0]

    def is_contiguous(self, memory_format=None) -> bool:
        if memory_format is not None and "channels_last" in str(memory_format):
            return self._data.ndim == 4 and self._data.transpose(0, 2, 3, 1).flags.c_contiguous
        return self._data.flags.c_contiguous

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_complex(self) -> bool:
        return self._data.dtype.kind == "c"

    def is_signed(self) -> bool:
        return self.dtype.is_signed

    @property
    def _version(self) -> int:
        return self._vc[0]

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def output_nr(self) -> int:
        return self._output_nr

    @property
    def T(self):
        return self.permute(*range(self._data.ndim - 1, -1, -1))

    @property
    def mT(self):
        return self.transpose(-2, -1)

    @property
    def H(self):
        return self.T

    @property
    def mH(self):
        return self.mT

    # ---- autograd fields -------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        value = bool(value)
        if self.grad_fn is not None:
            if value:
                return
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a computed "
                "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().")
        if value and self._data.dtype.kind not in "fc":
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._requires_grad = value

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        self.requires_grad = requires_grad
        return self

    @property
    def grad(self):
        if self.grad_fn is not None and not self._retains_grad and self._grad is None:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
                "attribute won't be populated during autograd.backward(). If you indeed want the .grad field "
                "to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you "
                "access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead.",
                UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError("assigned grad has data of a different size")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError("assigned grad has data of a different type")
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def data(self) -> "Tensor":
        t = Tensor._make(self._data, False, None, 0)
        return t

    @data.setter
    def data(self, value: "Tensor") -> None:
        self._data = value._data

    def detach(self) -> "Tensor":
        t = Tensor._make(self._data, False, None, 0)
        t._vc = self._vc
        t._base = self._base
        return t

    def detach_(self) -> "Tensor":
        if self._base is not None and self._base._requires_grad:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self.grad_fn = None
        self._requires_grad = False
        return self

    def retain_grad(self) -> None:
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains_grad:
            return
        self._retains_grad = True
        ref = weakref.ref(self)
        nr = self._output_nr

        def hook(grad):
            t = ref()
            if t is not None:
                if t._grad is None:
                    t._grad = grad if STATE.enabled else Tensor._make(grad._data.copy(), False, None, 0)
                else:
                    t._grad = t._grad + grad
            return None
        hook._retains_grad = True
        fn = self.grad_fn
        if fn._pre_hooks is None:
            fn._pre_hooks = []
        fn._pre_hooks.append((nr, hook))

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def register_hook(self, hook):
        """hook(grad) -> Tensor or None, run when the gradient of this tensor is computed."""
        from .autograd.graph import _RemovableHandle

        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        entry = (self._output_nr if self.grad_fn is not None else 0, hook)
        if self.grad_fn is not None:
            fn = self.grad_fn
            if fn._pre_hooks is None:
                fn._pre_hooks = []
            # Tensor hooks run in registration order, all before retain_grad's, as in PyTorch.
            pos = next((i for i, (_, h) in enumerate(fn._pre_hooks) if getattr(h, "_retains_grad", False)),
                       len(fn._pre_hooks))
            fn._pre_hooks.insert(pos, entry)
            return _RemovableHandle(fn._pre_hooks, entry)
        if self._hooks is None:
            self._hooks = []
            acc = self._grad_acc() if self._grad_acc is not None else None
            if acc is not None:
                acc._pre_hooks = self._hooks
        self._hooks.append(entry)
        return _RemovableHandle(self._hooks, entry)

    def register_post_accumulate_grad_hook(self, hook):
        """hook(tensor) -> None, run after the gradient has been accumulated into this leaf's ``.grad``."""
        from .autograd.graph import _RemovableHandle

        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        hooks = self.__dict__.setdefault("_post_acc_hooks", [])
        hooks.append(hook)
        return _RemovableHandle(hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None) -> None:
        _autograd_backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    # ---- conversion ------------------------------------------------------------------------
    def numpy(self, *, force: bool = False) -> np.ndarray:
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                               "instead.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        if dtype is not None:
            return self._data.astype(dtype, copy=False)
        return self._data

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.reshape(()).item()

    def tolist(self):
        return self._data.tolist()

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._data.reshape(()))

    def __float__(self) -> float:
        return float(self._scalar_value("float"))

    def __int__(self) -> int:
        return int(self._scalar_value("int"))

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data.reshape(()))

    def __complex__(self) -> complex:
        return complex(self._scalar_value("complex"))

    def _scalar_value(self, kind):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.reshape(()).item()

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self, *, tensor_contents=None) -> str:
        from ._printing import format_tensor

        suffixes = []
        if self.grad_fn is not None:
            suffixes.append(f"grad_fn=<{type(self.grad_fn).__name__}>")
        elif self._requires_grad:
            suffixes.append("requires_grad=True")
        return format_tensor(self._data, dtype_name=self.dtype.name,
                             default_dtype_name=_dtypes.get_default_dtype().name, suffixes=suffixes)

    __str__ = __repr__

    def __getattr__(self, name: str):
        # Only reached when normal lookup fails: name the missing feature (torch scripts call many methods).
        if name.startswith("_"):
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}' (ember does not support "
                             f"Tensor.{name})")

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0 and type(self) is Tensor:  # as torch: 0-d plain tensors format their value
            return self.item().__format__(spec)
        return object.__format__(self, spec) if spec else repr(self)

    def __reduce_ex__(self, proto):
        if "_shm" in self.__dict__:
            from .multiprocessing import _reduce_shared
            return _reduce_shared(self)
        state = {k: v for k, v in self.__dict__.items()} if type(self) is not Tensor else None
        return (_rebuild, (self._data, self._requires_grad, type(self), state))

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                               "protocol at the moment.  If you were attempting to deepcopy a module, this may be "
                               "because of a torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        new = type(self).__new__(type(self))
        _init(new, self._data.copy(), self._requires_grad)
        if type(self) is not Tensor:
            new.__dict__.update(
                {k: v for k, v in getattr(self, "__dict__", {}).items()})
        if self._grad is not None:
            new._grad = self._grad.__deepcopy__(memo)
        memo[id(self)] = new
        return new

    # ---- device / dtype movement -----------------------------------------------------------
    def cpu(self, memory_format=None) -> "Tensor":
        return self

    def cuda(self, device=None, non_blocking: bool = False, **kwargs) -> "Tensor":
        if isinstance(device, int) and not isinstance(device, bool):  # torch's CPU build, for .cuda(0)
            raise RuntimeError("Cannot access accelerator device when none is available.")
        check_device("cuda")

    def pin_memory(self, device=None) -> "Tensor":
        return self

    def is_pinned(self, device=None) -> bool:
        return False

    def share_memory_(self) -> "Tensor":
        from .multiprocessing import _share_tensor
        _share_tensor(self)
        return self

    def is_shared(self) -> bool:
        from .multiprocessing import _is_shared
        return _is_shared(self)

    def type(self, dtype=None, non_blocking: bool = False, **kwargs):
        if dtype is None:
            return "torch." + self.dtype._legacy
        if isinstance(dtype, str):
            name = dtype.rsplit(".", 1)[-1]
            for d in _dtypes._BY_NAME.values():
                if d._legacy == name:
                    return self.to(d)
            raise ValueError(f"invalid type: '{dtype}'")
        if isinstance(dtype, type) and hasattr(dtype, "_legacy_dtype"):
            return self.to(dtype._legacy_dtype)
        return self.to(dtype)

    def type_as(self, other: "Tensor") -> "Tensor":
        return self.to(other.dtype)

    def to(self, *args, **kwargs) -> "Tensor":
        """``to(dtype)``, ``to(device)``, ``to(other)``, ``to(device, dtype)`` with ``copy=``."""
        dtype = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        copy = kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, _dtypes.dtype) or a in (float, int, bool):
                dtype = _dtypes.to_dtype(a)
            elif isinstance(a, (str,)) or a.__class__.__name__ == "device":
                device = a
            elif isinstance(a, bool):
                pass
            elif a is not None:
                raise TypeError(f"to() received an invalid combination of arguments - got ({type(a).__name__})")
        if device is not None:
            check_device(device)
        if dtype is None or _dtypes.to_dtype(dtype).np == self._data.dtype:
            return self.clone() if copy else self
        from .ops.elementwise import _cast
        return _cast(self, _dtypes.to_dtype(dtype))

    def float(self, memory_format=None) -> "Tensor":
        return self.to(_dtypes.float32)

    def double(self, memory_format=None) -> "Tensor":
        return self.to(_dtypes.float64)

    def half(self, memory_format=None) -> "Tensor":
        return self.to(_dtypes.float16)

    def bfloat16(self, memory_format=None) -> "Tensor":
        return self.to(_dtypes.bfloat16)

    def long(self, memory_format=None) -> "Tensor":
        return self.to(_dtypes.int64)

    def int(self, memory_format=None) -> "Tensor":
        return self.to(_dtypes.int32)

    def short(self, memory_format=None) -> "Tensor":
        return self.to(_dtypes.int16)

    def char(self, memory_format=None) -> "Tensor":
        return self.to(_dtypes.int8)

    def byte(self, memory_format=None) -> "Tensor":
        return self.to(_dtypes.uint8)

    def bool(self, memory_format=None) -> "Tensor":
        return self.to(_dtypes.bool)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False) -> "Tensor":
        from ._creation import tensor
        return tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False) -> "Tensor":
        from ._creation import zeros
        return zeros(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False) -> "Tensor":
        from ._creation import ones
        return ones(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False) -> "Tensor":
        from ._creation import empty
        return empty(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False) -> "Tensor":
        from ._creation import full
        return full(size, fill_value, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new(self, *args, device=None) -> "Tensor":
        """Legacy ``x.new(*sizes)`` (uninitialised), ``x.new(data)``, ``x.new(tensor)`` in x's dtype."""
        from ._creation import empty, tensor
        check_device(device)
        if len(args) == 1 and isinstance(args[0], Tensor):
            return args[0].detach() if args[0].dtype == self.dtype else args[0].detach().to(self.dtype)
        if len(args) == 1 and not isinstance(args[0], (int, Size)):
            return tensor(args[0], dtype=self.dtype)
        return empty(*args, dtype=self.dtype)

    def resize_(self, *sizes, memory_format=None) -> "Tensor":
        """Give the tensor a new shape in place, keeping its first elements (new ones uninitialised)."""
        if self._requires_grad:
            raise RuntimeError("cannot resize variables that require grad")
        shape = tuple(sizes[0]) if len(sizes) == 1 and not isinstance(sizes[0], int) else tuple(sizes)
        if any(int(d) < 0 for d in shape):
            raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: {list(shape)}")
        n = int(np.prod(shape, dtype=np.int64))
        flat = self._data.reshape(-1)
        if n <= flat.size:
            new = flat[:n].reshape(shape)
        else:
            new = np.empty(n, dtype=self._data.dtype)
            new[:flat.size] = flat
            new = new.reshape(shape)
        self._data = new
        self._vc[0] += 1
        return self

    def resize_as_(self, other: "Tensor", memory_format=None) -> "Tensor":
        return self.resize_(other.shape)


def _init(t: Tensor, data: np.ndarray, requires_grad: bool) -> None:
    t._data = data
    t._requires_grad = False
    t.grad_fn = None
    t._output_nr = 0
    t._grad = None
    t._vc = [0]
    t._base = None
    t._grad_acc = None
    t._hooks = None
    t._retains_grad = False
    if requires_grad:
        t.requires_grad = True


def _rebuild(data, requires_grad, cls=None, state=None):
    t = object.__new__(cls or Tensor)
    _init(t, data, False)
    t._requires_grad = bool(requires_grad)
    if state:
        t.__dict__.update(state)
    return t


def _wrap_dim(dim: int, ndim: int) -> int:
    """Normalise a possibly negative dim, raising PyTorch's IndexError when out of range."""
    n = ndim if ndim > 0 else 1
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim + n if dim < 0 else dim


def tensor_method(*names):
    """Attach the decorated function to Tensor under its own name, or under ``names``."""
    def deco(fn):
        for n in names or (fn.__name__,):
            setattr(Tensor, n, fn)
        return fn
    return deco
