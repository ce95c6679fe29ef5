"""``Optimizer``: the base class holding parameter groups, per-parameter state and step hooks.

Subclasses read each group's hyper-parameters, gather the NumPy arrays of the parameters that have a
gradient and hand them to one functional helper per algorithm, which updates them in place.
"""
from __future__ import annotations

import copy
import functools
import warnings
from collections import OrderedDict, defaultdict
from itertools import chain

import numpy as np

from .._tensor import Tensor
from ..autograd.grad_mode import STATE, enable_grad

__all__ = ["Optimizer", "required", "register_optimizer_step_pre_hook", "register_optimizer_step_post_hook"]


class _RequiredParameter:
    """Singleton marking a hyper-parameter that every parameter group must give (``lr`` of old SGD)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()

_global_step_pre_hooks: OrderedDict = OrderedDict()
_global_step_post_hooks: OrderedDict = OrderedDict()


class _Handle:
    """``torch.utils.hooks.RemovableHandle`` over an ordered dict of hooks."""

    _next_id = 0

    def __init__(self, hooks: OrderedDict):
        self._hooks = hooks
        self.id = _Handle._next_id
        _Handle._next_id += 1

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def _add_hook(hooks: OrderedDict, hook, prepend: bool = False) -> _Handle:
    handle = _Handle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def register_optimizer_step_pre_hook(hook) -> _Handle:
    """A pre-hook ``hook(optimizer, args, kwargs) -> None or (args, kwargs)`` run before every optimizer's step."""
    return _add_hook(_global_step_pre_hooks, hook)


def register_optimizer_step_post_hook(hook) -> _Handle:
    """A post-hook ``hook(optimizer, args, kwargs) -> None`` run after every optimizer's step."""
    return _add_hook(_global_step_post_hooks, hook)


def _typename(obj) -> str:
    if isinstance(obj, Tensor):
        return "torch." + {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
                           "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                           "bool": "Bool"}.get(str(obj._data.dtype), "") + "Tensor"
    module = type(obj).__module__
    name = type(obj).__qualname__
    return name if module in ("builtins", None) else f"{module}.{name}"


def _to_scalar(x):
    """A 1-element Tensor hyper-parameter (``lr=tensor(0.1)``) as a Python number."""
    return x.item() if isinstance(x, Tensor) else x


def _state_tensor(array: np.ndarray) -> Tensor:
    """Wrap an optimizer state array (momentum buffer, step count...) as a Tensor without autograd."""
    return Tensor._make(array, False, None, 0)


def _step_tensor(value: float = 0.0) -> Tensor:
    """``state['step']``: a 0-d float32 tensor, as PyTorch 2.x stores it."""
    return _state_tensor(np.array(value, dtype=np.float32))


# Elementwise optimizer updates run block by block: each op of the update makes a pass over its arrays, and
# over a whole large parameter those passes stream from L3/DRAM; over a block they stay in L2 (2026-12-02,
# 2 cores Intel, float32: an add of 65,536 elements 6 us, of 200,704 elements 60 us; Adam's step for the
# MLP 784-256-256-10's 270k parameters: whole arrays 539 us, blocks of 16,384 606, 32,768 549, 65,536 511).
_BLOCK = 65536


def _blocks(arrays, scratch: dict):
    """Same-shaped arrays as lists of flat views, block by block (the whole arrays, once, if one of them is not
    C-contiguous or they are small), each list followed by a scratch array shaped like the block (reused from
    ``scratch``, a dict the caller keeps for the whole step)."""
    n, dtype = arrays[0].size, arrays[0].dtype
    whole = n <= _BLOCK or not all(a.flags.c_contiguous for a in arrays)
    size = n if whole else _BLOCK
    buf = scratch.get(dtype)
    if buf is None or buf.size < size:
        buf = scratch[dtype] = np.empty(max(size, 1 << 12), dtype)
    if whole:
        yield [*arrays, buf[:n].reshape(arrays[0].shape)]
        return
    flat = [a.reshape(-1) for a in arrays]
    for lo in range(0, n, _BLOCK):
        hi = min(n, lo + _BLOCK)
        yield [f[lo:hi] for f in flat] + [buf[:hi - lo]]


def _lerp_(a: np.ndarray, b: np.ndarray, weight: float, scratch: np.ndarray | None = None) -> None:
    """``a.lerp_(b, weight)`` with PyTorch's two formulas (the exact one near each end); ``scratch``, if given, is
    an array shaped like ``a`` to use for the temporary."""
    diff = np.subtract(b, a, out=scratch)
    if abs(weight) < 0.5:
        diff *= weight
        a += diff
    else:
        diff *= 1.0 - weight
        np.subtract(b, diff, out=a)


def _addcmul_(a: np.ndarray, t1: np.ndarray, t2: np.ndarray, value: float = 1.0,
              scratch: np.ndarray | None = None) -> None:
    """``a.addcmul_(t1, t2, value=value)``: ``a += value * t1 * t2`` (``scratch`` as in ``_lerp_``)."""
    tmp = np.multiply(t1, t2, out=scratch)
    if value != 1:
        tmp *= value
    a += tmp


def _grad_with_weight_decay(p: np.ndarray, g: np.ndarray, weight_decay: float, maximize: bool) -> np.ndarray:
    """The gradient the update uses: ``(-g if maximize else g) + weight_decay * p`` (a new array when changed)."""
    if weight_decay != 0:
        d = np.multiply(p, weight_decay)
        if maximize:
            d -= g
        else:
            d += g
        return d
    return np.negative(g) if maximize else g


def _with_hooks(step):
    """Wrap a subclass's ``step``: grad mode off, then global and per-optimizer pre/post hooks around it."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        if _global_step_pre_hooks or self._optimizer_step_pre_hooks:
            for hook in chain(_global_step_pre_hooks.values(), self._optimizer_step_pre_hooks.values()):
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(
                            f"{hook} must return None or a tuple of (new_args, new_kwargs), but got {result}.")
                    args, kwargs = result
        prev = STATE.enabled           # no_grad() inline (its object and calls cost ~1 us a step)
        STATE.enabled = False
        try:
            out = step(self, *args, **kwargs)
        finally:
            STATE.enabled = prev
        self._opt_called = True
        if self._optimizer_step_post_hooks or _global_step_post_hooks:
            for hook in chain(self._optimizer_step_post_hooks.values(), _global_step_post_hooks.values()):
                hook(self, args, kwargs)
        return out

    wrapper._ember_hooked = True
    return wrapper


class Optimizer:
    """Base class for all optimizers.

    params: an iterable of Tensors, of ``(name, Tensor)`` pairs, or of dicts (parameter groups with their
    own options); defaults: the hyper-parameters a group takes when it does not give them.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_ember_hooked", False):
            cls.step = _with_hooks(step)

    def __init__(self, params, defaults: dict) -> None:
        self.defaults = defaults
        self._init_hooks()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            "but got " + _typename(params))
        try:
            param_groups = list(params)
        except TypeError:
            raise TypeError(f"'{type(params).__name__}' object is not iterable") from None
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def _init_hooks(self) -> None:
        self._optimizer_step_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_post_hooks: OrderedDict = OrderedDict()

    # ---- pickling / repr ---------------------------------------------------------------------
    def __getstate__(self) -> dict:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if "_optimizer_step_pre_hooks" not in self.__dict__:
            self._init_hooks()

    def __repr__(self) -> str:
        s = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    s += f"    {key}: {group[key]}\n"
        return s + ")"

    # ---- parameter groups --------------------------------------------------------------------
    def add_param_group(self, param_group: dict) -> None:
        """Append a parameter group (a dict with ``params`` and optional per-group options)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering "
                            "of tensors in sets will change between runs. Please use a list instead.")
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        tensors = [p[1] if isinstance(p, tuple) else p for p in params]
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            param_group["param_names"] = names
        for p in tensors:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is " + _typename(p))
            if not self.defaults.get("differentiable", None) and not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)
        if len(tensors) != len({id(p) for p in tensors}):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will "
                          "cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        seen = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if any(id(p) in seen for p in tensors):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ---- gradients and steps -----------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized tensors (to ``None`` by default, else to zeros)."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                if set_to_none:
                    p._grad = None
                else:
                    if g.grad_fn is not None:
                        g.detach_()
                    else:
                        g.requires_grad_(False)
                    g.zero_()

    def step(self, closure=None):
        """Perform a single optimization step; ``closure`` re-evaluates the model and returns the loss."""
        raise NotImplementedError

    @staticmethod
    def _closure_loss(closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # ---- hooks -------------------------------------------------------------------------------
    def register_step_pre_hook(self, hook) -> _Handle:
        """``hook(optimizer, args, kwargs) -> None or (args, kwargs)`` run before this optimizer's step."""
        return _add_hook(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook) -> _Handle:
        """``hook(optimizer, args, kwargs) -> None`` run after this optimizer's step."""
        return _add_hook(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend: bool = False) -> _Handle:
        return _add_hook(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend: bool = False) -> _Handle:
        return _add_hook(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend: bool = False) -> _Handle:
        return _add_hook(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend: bool = False) -> _Handle:
        return _add_hook(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # ---- state dicts -------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """``{'state': {param_id: {...}}, 'param_groups': [{..., 'params': [ids]}]}``; ids number the
        parameters in group order. The state's tensors are referenced, not copied (as in PyTorch)."""
        for hook in self._optimizer_state_dict_pre_hooks.values():
            hook(self)
        ids: dict[int, int] = {}
        start = 0

        def pack(group):
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                ids.setdefault(id(p), i)
            packed["params"] = [ids[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        param_groups = [pack(g) for g in self.param_groups]
        state = {(ids[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        state_dict = {"state": state, "param_groups": param_groups}
        for hook in self._optimizer_state_dict_post_hooks.values():
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    @staticmethod
    def _cast_state(param: Tensor, value, key=None, keep_step_dtype: bool = True):
        """A deep copy of a state value; floating tensors take the parameter's dtype, except ``step``."""
        if isinstance(value, Tensor):
            data = value._data
            if key != "step" and np.issubdtype(param._data.dtype, np.floating) and \
                    np.issubdtype(data.dtype, np.floating):
                data = data.astype(param._data.dtype)
            return _state_tensor(np.array(data, copy=True))
        if isinstance(value, dict):
            return {k: Optimizer._cast_state(param, v, k) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(Optimizer._cast_state(param, v) for v in value)
        return copy.deepcopy(value)

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a ``state_dict()``: group options and per-parameter state (deep-copied, cast to the params)."""
        state_dict = state_dict.copy()
        for hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))
        state: defaultdict = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                state[id_map[k]] = self._cast_state(id_map[k], v)
            else:
                state[k] = v

        new_groups = []
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            new_groups.append(saved)
        self.__setstate__({"state": state, "param_groups": new_groups})
        for hook in self._optimizer_load_state_dict_post_hooks.values():
            hook(self)

    def _setdefault_groups(self, keys: dict) -> None:
        """Fill options that older state dicts lack and turn Python-number ``step`` entries into tensors."""
        for group in self.param_groups:
            for k, v in keys.items():
                group.setdefault(k, v)
        for st in self.state.values():
            if isinstance(st, dict):
                for name in ("step", "mu_product"):
                    if name in st and not isinstance(st[name], Tensor):
                        st[name] = _step_tensor(float(st[name]))


def _params_with_grad(group: dict) -> list[Tensor]:
    return [p for p in group["params"] if p._grad is not None]


def _bump(params) -> None:
    """Their values changed in place: bump the version counters (as PyTorch's in-place ops do)."""
    for p in params:
        p._vc[0] += 1

