"""Softmax family and the loss functions (``ember.nn.functional``), with PyTorch's semantics.

``softmax``/``log_softmax`` and the index-target ``cross_entropy``/``nll_loss`` are fused Functions
(one stable pass, no one-hot); the other losses are compositions of ember ops, so their gradients
(and double backward) come from the ops they are made of.
"""
from __future__ import annotations

import math
import warnings

from .. import _dtypes
from .._tensor import Tensor, tensor_method
from ..autograd.function import Function
from ..autograd.grad_mode import STATE
from ..backend import xp
from . import elementwise as E
from ._util import wrap_dim
from .index import scatter_along

__all__ = [
    "softmax", "log_softmax", "softmin", "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss",
    "huber_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div", "multi_margin_loss",
    "multilabel_margin_loss", "soft_margin_loss", "hinge_embedding_loss", "margin_ranking_loss",
    "cosine_embedding_loss", "poisson_nll_loss", "gaussian_nll_loss", "triplet_margin_loss",
    "pairwise_distance",
]


# ---------------------------------------------------------------------------------------------
# Softmax family
def _stable_softmax(x, dim):
    """(softmax, max, log-sum-exp of x - max) of array ``x`` along ``dim``: shifted by the max so exp never
    overflows, and the max kept apart so that x - max - log(s) loses no precision for huge logits."""
    m = x.max(axis=dim, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)  # all -inf (or inf) rows: let exp produce PyTorch's nan/0
    e = xp.exp(x - m)
    s = e.sum(axis=dim, keepdims=True)
    e /= s
    return e, m, xp.log(s)


class Softmax(Function):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        out = _stable_softmax(x, dim)[0] if x.size else x.copy()
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        gy = g * y
        return gy - y * gy.sum(ctx.dim, keepdim=True), None


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        if x.size:
            _, m, logs = _stable_softmax(x, dim)
            out = (x - m) - logs
        else:
            out = x.copy()
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g - E.exp(y) * g.sum(ctx.dim, keepdim=True), None


def _softmax_dim(name, ndim):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
                  "as an argument.", UserWarning, stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_args(name, input, dim, dtype):
    if dim is None:
        dim = _softmax_dim(name, input._data.ndim)
    if dtype is not None:
        input = E._cast(input, _dtypes.to_dtype(dtype))
    if input._data.dtype.kind not in "fc":
        dt = input._data.dtype.name
        raise NotImplementedError(f'"{name}_lastdim_kernel_impl" not implemented for \'{_DT_NAMES.get(dt, dt)}\'')
    nd = input._data.ndim
    d = wrap_dim(dim, nd)
    if nd == 0:
        d = None  # a 0-d tensor: numpy reduces over all (no) axes
    return input, d


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``; input: any shape."""
    input, d = _softmax_args("softmax", input, dim, dtype)
    return Softmax.apply(input, d)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """x - logsumexp(x) along ``dim``; input: any shape."""
    input, d = _softmax_args("log_softmax", input, dim, dtype)
    return LogSoftmax.apply(input, d)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(-x) along ``dim``."""
    if dim is None:
        dim = _softmax_dim("softmin", input._data.ndim)
    if dtype is not None:
        input = E._cast(input, _dtypes.to_dtype(dtype))
    return softmax(-input, dim)


@tensor_method("softmax")
def _t_softmax(self, dim, dtype=None):
    return softmax(self, dim, dtype=dtype)


@tensor_method("log_softmax")
def _t_log_softmax(self, dim, dtype=None):
    return log_softmax(self, dim, dtype=dtype)


# ---------------------------------------------------------------------------------------------
# Reduction arguments
def _legacy_reduction(size_average, reduce) -> str:
    """PyTorch's mapping of the deprecated ``size_average``/``reduce`` flags to ``reduction``."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.",
                  UserWarning, stacklevel=4)
    return ret


def _reduction(reduction, size_average=None, reduce=None) -> str:
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _size_str(shape) -> str:
    return f"torch.Size({list(shape)})"


def _warn_size(input, target):
    if tuple(target._data.shape) != tuple(input._data.shape):
        warnings.warn(f"Using a target size ({_size_str(target._data.shape)}) that is different to the input size "
                      f"({_size_str(input._data.shape)}). This will likely lead to incorrect results due to "
                      "broadcasting. Please ensure they have the same size.", UserWarning, stacklevel=3)


# ---------------------------------------------------------------------------------------------
# Negative log-likelihood and cross-entropy with class-index targets (fused)
_DT_NAMES = {"float32": "Float", "float64": "Double", "int32": "Int", "int64": "Long", "int16": "Short",
             "int8": "Char", "uint8": "Byte", "bool": "Bool", "float16": "Half", "bfloat16": "BFloat16"}


def _check_index_target(input, target, weight, fname):
    """Validate an (input, class-index target, weight) triple as PyTorch's nll_loss_nd does."""
    tk = target._data.dtype
    if tk not in (xp.int64, xp.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {_DT_NAMES.get(tk.name, tk.name)}")
    nd, tnd = input._data.ndim, target._data.ndim
    ishape, tshape = input._data.shape, target._data.shape
    if nd < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {nd})")
    if nd == 1:
        if tnd > 1 or (tnd == 1 and tshape[0] != 1):
            raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {tshape[0]}")
    else:
        if tnd == 0 or ishape[0] != tshape[0]:
            raise ValueError(f"Expected input batch_size ({ishape[0]}) to match target batch_size "
                             f"({tshape[0] if tnd else 0}).")
        if nd == 2 and tnd != 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if nd > 2 and tshape != ishape[:1] + ishape[2:]:
            if nd == 3:
                raise RuntimeError(f"Expected target size {list(ishape[:1] + ishape[2:])}, got {list(tshape)}")
            raise RuntimeError(f"size mismatch (got input: {list(ishape)} , target: {list(tshape)}")
    C = ishape[1] if nd >= 2 else ishape[0]
    if weight is not None and (weight._data.ndim != 1 or weight._data.shape[0] != C):
        raise RuntimeError(f"weight tensor should be defined either for all {C} classes or no classes but got "
                           f"weight tensor of shape: {list(weight._data.shape)}")


def _targets(x, t, weight, ignore_index, cd):
    """Class indices (ignored ones set to 0) as an index array along ``cd``, and per-item weights."""
    C = x.shape[cd]
    t = t.astype(xp.int64, copy=False)
    keep = t != ignore_index
    tt = t if keep.all() else xp.where(keep, t, 0)
    if tt.size and (tt.min() < 0 or tt.max() >= C):
        bad = (tt < 0) | (tt >= C)
        raise IndexError(f"Target {int(t[bad].flat[0])} is out of bounds.")
    wt = weight[tt] * keep if weight is not None else keep.astype(x.dtype)
    return keep, _unsqueeze(tt, cd), wt.astype(x.dtype, copy=False)


# The class-index gathers and scatters of the losses: plain fancy indexing for (N, C) inputs (NumPy's
# take_along_axis / put_along_axis / expand_dims cost ~7 us each in Python; the course's losses are (N, C)).
def _unsqueeze(a, cd):
    return a[:, None] if cd == 1 and a.ndim == 1 else xp.expand_dims(a, cd)


def _take_class(x, idx, cd):
    """x's entries at the class indices ``idx`` (x's shape with dim ``cd`` of size 1), that dim dropped."""
    if cd == 1 and x.ndim == 2:
        return x[xp.arange(x.shape[0]), idx[:, 0]]
    return xp.take_along_axis(x, idx, axis=cd).squeeze(cd)


def _sub_at_class(a, idx, cd, v):
    """``a`` at the class indices ``idx`` minus ``v`` (shaped like ``idx``), in place."""
    if cd == 1 and a.ndim == 2:
        a[xp.arange(a.shape[0]), idx[:, 0]] -= v[:, 0]
    else:
        xp.put_along_axis(a, idx, xp.take_along_axis(a, idx, axis=cd) - v, axis=cd)


def _per_item_grad(ctx, g):
    """The upstream gradient as a Tensor broadcastable to the per-item loss."""
    if ctx.reduction == "mean":
        return g / ctx.denom
    return g


def _per_item_grad_array(ctx, g):
    """``_per_item_grad`` on arrays (no graph recorded)."""
    g = g._data
    if ctx.reduction == "mean":
        with xp.errstate(invalid="ignore", divide="ignore"):
            return g / ctx.denom
    return g


class NllLoss(Function):
    """-weight[t] * input[n, t] per item; input: (C), (N, C) or (N, C, d1, ...)."""

    @staticmethod
    def forward(ctx, x, t, weight, ignore_index, reduction):
        cd = 1 if x.ndim >= 2 else 0
        keep, idx, wt = _targets(x, t, weight, ignore_index, cd)
        loss = -_take_class(x, idx, cd) * wt
        ctx.cd, ctx.idx, ctx.wt, ctx.shape, ctx.reduction = cd, idx, wt, x.shape, reduction
        if reduction == "none":
            return loss
        if reduction == "sum":
            return xp.asarray(loss.sum(), x.dtype)
        ctx.denom = wt.sum()
        with xp.errstate(invalid="ignore", divide="ignore"):
            return xp.asarray(loss.sum() / ctx.denom, x.dtype)

    @staticmethod
    def backward(ctx, g):
        gi = _per_item_grad(ctx, g) * Tensor._make(-ctx.wt, False, None, 0)
        return scatter_along(gi.unsqueeze(ctx.cd), ctx.shape, ctx.cd, ctx.idx), None, None, None, None


class CrossEntropy(Function):
    """log_softmax + nll_loss (+ label smoothing) in one stable pass over the logits."""
    node_name = "NllLossBackward0"

    @staticmethod
    def forward(ctx, x, t, weight, ignore_index, reduction, eps):
        cd = 1 if x.ndim >= 2 else 0
        C = x.shape[cd]
        ctx.fast = False
        if x.ndim == 2 and x.dtype.char in "fd" and weight is None and not eps and t.dtype == xp.int64 and t.size \
                and not 0 <= ignore_index < C and t.min() >= 0 and t.max() < C:
            return _cross_entropy_rows(ctx, x, t, reduction)
        keep, idx, wt = _targets(x, t, weight, ignore_index, cd)
        p, m, logs = _stable_softmax(x, cd)
        m, logs = m.squeeze(cd), logs.squeeze(cd)
        loss = ((m - _take_class(x, idx, cd)) + logs) * wt
        wb = None
        if eps:
            # smoothing term: -sum_c w_c log p_c = W * lse - sum_c w_c x_c
            if weight is not None:
                wb = weight.astype(x.dtype, copy=False).reshape((C,) + (1,) * (x.ndim - cd - 1))
                smooth = logs * wb.sum() - ((x - xp.expand_dims(m, cd)) * wb).sum(axis=cd)
            else:
                smooth = logs * C - (x - xp.expand_dims(m, cd)).sum(axis=cd)
            loss = (1 - eps) * loss + (eps / C) * (smooth * keep)
        ctx.save_for_backward(x)
        ctx.p, ctx.cd, ctx.idx, ctx.wt, ctx.keep, ctx.wb = p, cd, idx, wt, keep, wb
        ctx.reduction, ctx.eps, ctx.C = reduction, eps, C
        if reduction == "none":
            return xp.asarray(loss, x.dtype)
        if reduction == "sum":
            return xp.asarray(loss.sum(), x.dtype)
        ctx.denom = wt.sum()
        with xp.errstate(invalid="ignore", divide="ignore"):
            return xp.asarray(loss.sum() / ctx.denom, x.dtype)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if ctx.fast:
            if not STATE.enabled:
                # p - onehot(t), times the upstream gradient (per item for reduction='none')
                gi = _per_item_grad_array(ctx, g)
                with xp.errstate(invalid="ignore"):
                    grad = ctx.p * (gi[:, None] if gi.ndim else gi)
                    grad[xp.arange(grad.shape[0]), ctx.t] -= gi
                return Tensor._make(grad, False, None, 0), None, None, None, None, None
            n = ctx.t.shape[0]     # create_graph: the general form below, with its per-item arrays
            ctx.keep, ctx.wt, ctx.idx, ctx.wb = xp.ones(n, bool), xp.ones(n, ctx.p.dtype), ctx.t[:, None], None
        cd, eps, C = ctx.cd, ctx.eps, ctx.C
        keep = ctx.keep.astype(ctx.p.dtype)
        wsum = float(ctx.wb.sum()) if ctx.wb is not None else float(C)
        # d loss_i / d x_i = a_i * p_i - (1 - eps) w_t onehot_t - eps/C * w, with a_i below
        a = (1 - eps) * ctx.wt + (eps / C) * wsum * keep
        if not STATE.enabled:
            gi = _per_item_grad_array(ctx, g)
            with xp.errstate(invalid="ignore"):
                grad = ctx.p * _unsqueeze(gi * a, cd)
                _sub_at_class(grad, ctx.idx, cd, _unsqueeze(gi * ((1 - eps) * ctx.wt), cd))
                if eps:
                    wb = ctx.wb if ctx.wb is not None else xp.ones((), grad.dtype)
                    grad -= (eps / C) * _unsqueeze(gi * keep, cd) * wb
            if not ctx.keep.all():      # ignored items get 0, as in PyTorch (also when all are: 0 * (g / 0))
                xp.copyto(grad, 0, where=~_unsqueeze(ctx.keep, cd))
            return Tensor._make(grad.astype(ctx.p.dtype, copy=False), False, None, 0), None, None, None, None, None
        # create_graph: the same formula in ember ops, differentiable in x (through softmax) and g
        gi = _per_item_grad(ctx, g)
        const = Tensor._make
        grad = (gi * const(a, False, None, 0)).unsqueeze(cd) * softmax(x, cd)
        gt = (gi * const((1 - eps) * ctx.wt, False, None, 0)).unsqueeze(cd)
        grad = grad - scatter_along(gt, x._data.shape, cd, ctx.idx)
        if eps:
            wb = ctx.wb if ctx.wb is not None else xp.ones((), x._data.dtype)
            grad = grad - (gi * const(keep * (eps / C), False, None, 0)).unsqueeze(cd) * const(wb, False, None, 0)
        return grad, None, None, None, None, None


def _cross_entropy_rows(ctx, x, t, reduction):
    """CrossEntropy's forward for the common case: (N, C) float32/64 logits, class targets all in range (none
    ignored), no weight, no smoothing -- the general path's values (bitwise: its per-item weights are ones; float16
    stays on the general path, whose mean divides by a float16 sum of those ones) with about half of its NumPy calls
    ((16, 10) logits, 2026-12-06: forward 29 -> 22 us, forward + backward 72 -> 54)."""
    p, m, logs = _stable_softmax(x, 1)
    loss = (m[:, 0] - x[xp.arange(x.shape[0]), t]) + logs[:, 0]
    ctx.save_for_backward(x)
    ctx.fast, ctx.p, ctx.t, ctx.reduction, ctx.cd, ctx.eps, ctx.C = True, p, t, reduction, 1, 0.0, x.shape[1]
    if reduction == "none":
        return loss
    if reduction == "sum":
        return xp.asarray(loss.sum(), x.dtype)
    ctx.denom = x.dtype.type(t.shape[0])
    return xp.asarray(loss.sum() / ctx.denom, x.dtype)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood; input: (C), (N, C) or (N, C, d1, ...) log-probabilities, target: class indices."""
    reduction = _reduction(reduction, size_average, reduce)
    _check_index_target(input, target, weight, "nll_loss")
    _no_grad_arg(weight, "nll_loss_forward", "weight")
    w = weight._data if weight is not None else None
    if input._data.ndim == 1 and target._data.ndim == 1:
        target = target.reshape(())
    return NllLoss.apply(input, target._data, w, ignore_index, reduction)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                  ignore_index: int = -100, reduce=None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy of logits; input: (C), (N, C) or (N, C, d1, ...), target: class indices
    (shape without C) or class probabilities (input's shape)."""
    reduction = _reduction(reduction, size_average, reduce)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(f'"log_softmax_lastdim_kernel_impl" not implemented for '
                           f"'{_DT_NAMES.get(input._data.dtype.name, input._data.dtype.name)}'")
    if target._data.shape == input._data.shape and target._data.dtype.kind in "fc":
        return _cross_entropy_probs(input, target, weight, reduction, label_smoothing)
    _check_index_target(input, target, weight, "cross_entropy")
    _no_grad_arg(weight, "nll_loss_forward", "weight")
    w = weight._data if weight is not None else None
    if input._data.ndim == 1 and target._data.ndim == 1:
        target = target.reshape(())
    return CrossEntropy.apply(input, target._data, w, ignore_index, reduction, float(label_smoothing))


def _cross_entropy_probs(input, target, weight, reduction, eps):
    cd = 1 if input._data.ndim >= 2 else 0
    C = input._data.shape[cd]
    if weight is not None and (weight._data.ndim != 1 or weight._data.shape[0] != C):
        raise RuntimeError(f"weight tensor should be defined either for all {C} classes or no classes but got "
                           f"weight tensor of shape: {list(weight._data.shape)}")
    logp = log_softmax(input, cd)
    if eps:
        target = target * (1 - eps) + eps / C
    prod = logp * target
    if weight is not None:
        prod = prod * weight.reshape((C,) + (1,) * (input._data.ndim - cd - 1))
    loss = -prod.sum(cd)
    if reduction == "mean":
        return loss.sum() / (input._data.size / C) if input._data.size else loss.sum() / 0.0
    return _reduce(loss, reduction)


# ---------------------------------------------------------------------------------------------
# Regression losses
def _pointwise_args(input, target, reduction, size_average, reduce, warn=True):
    if warn:
        _warn_size(input, target)
    reduction = _reduction(reduction, size_average, reduce)
    input, target, _ = E.promote(input, target)
    return input, target, reduction


def _weighted(loss, weight, input, reduction, by_weight=True):
    """The optional elementwise ``weight`` of mse/l1/huber: mean becomes sum(w * l) / sum(w) (huber: the plain
    mean of w * l, as PyTorch's)."""
    if weight is None:
        return _reduce(loss, reduction)
    if tuple(weight._data.shape) != tuple(input._data.shape):
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "mean" and by_weight:
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


def _reduce_array(loss, reduction, ctx, dtype):
    """Forward-side reduction of a fused loss; remembers what backward needs to undo it."""
    ctx.reduction, ctx.n = reduction, loss.size
    if reduction == "none":
        return loss
    with xp.errstate(invalid="ignore", divide="ignore"):
        return xp.asarray(loss.sum() if reduction == "sum" else loss.mean(), dtype)


def _loss_grad(ctx, g):
    """The upstream gradient as a Tensor broadcastable to the unreduced loss."""
    return g * (1.0 / ctx.n) if ctx.reduction == "mean" else g


class MseLoss(Function):
    """(x - t)^2, reduced; x and t broadcast together."""

    @staticmethod
    def forward(ctx, x, t, reduction):
        ctx.save_for_backward(x, t)
        d = x - t
        return _reduce_array(d * d, reduction, ctx, x.dtype)

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.saved_tensors
        gx = (_loss_grad(ctx, g) * 2.0) * (x - t)
        n = ctx.needs_input_grad
        return (gx if n[0] else None), (-gx if n[1] else None), None


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
             weight: Tensor | None = None) -> Tensor:
    """Mean squared error; input and target: same shape (broadcast with a warning otherwise)."""
    input, target, reduction = _pointwise_args(input, target, reduction, size_average, reduce)
    if weight is None:
        if not isinstance(target, Tensor):
            target = Tensor._make(xp.asarray(target, input._data.dtype), False, None, 0)
        return MseLoss.apply(input, target, reduction)
    d = input - target
    return _weighted(d * d, weight, input, reduction)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
            weight: Tensor | None = None) -> Tensor:
    """Mean absolute error; input and target: same shape."""
    input, target, reduction = _pointwise_args(input, target, reduction, size_average, reduce)
    return _weighted(E.abs(input - target), weight, input, reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta."""
    input, target, reduction = _pointwise_args(input, target, reduction, size_average, reduce)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    d = E.abs(input - target)
    if beta == 0:
        return _reduce(d, reduction)
    return _reduce(E.where(d < beta, (0.5 / beta) * d * d, d - 0.5 * beta), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta)."""
    input, target, reduction = _pointwise_args(input, target, reduction, None, None)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    d = E.abs(input - target)
    return _weighted(E.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta)), weight, input, reduction,
                     by_weight=False)


# ---------------------------------------------------------------------------------------------
# Binary classification
def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """-w (t log x + (1 - t) log(1 - x)) with each log clamped at -100, as PyTorch's."""
    reduction = _reduction(reduction, size_average, reduce)
    if tuple(target._data.shape) != tuple(input._data.shape):
        raise ValueError(f"Using a target size ({_size_str(target._data.shape)}) that is different to the input "
                         f"size ({_size_str(input._data.shape)}) is deprecated. Please ensure they have the same size.")
    x = input._data
    if target._data.dtype != x.dtype:
        raise RuntimeError(f"Found dtype {_DT_NAMES.get(target._data.dtype.name)} but expected "
                           f"{_DT_NAMES.get(x.dtype.name)}")
    if x.size and not ((x >= 0) & (x <= 1)).all():
        raise RuntimeError("all elements of input should be between 0 and 1")
    _no_grad_arg(weight, "binary_cross_entropy", "weight")
    input, target, _ = E.promote(input, target)
    w = None
    if weight is not None:
        w = weight._data.astype(input._data.dtype, copy=False)
        try:
            xp.broadcast_shapes(w.shape, x.shape)
        except ValueError:
            raise RuntimeError(f"The size of tensor a ({x.shape[-1] if x.ndim else 1}) must match the size of "
                               f"tensor b ({w.shape[-1] if w.ndim else 1}) at non-singleton dimension "
                               f"{max(x.ndim, w.ndim) - 1}") from None
    return BinaryCrossEntropy.apply(input, target, w, reduction)


def _no_grad_arg(t, fname, arg):
    if t is not None and STATE.enabled and t.requires_grad:
        raise RuntimeError(f"The function '{fname}' is not differentiable with respect to argument '{arg}'. "
                           "This input cannot have requires_grad True.")


class BinaryCrossEntropy(Function):
    """-w (t log x + (1 - t) log(1 - x)), each log clamped at -100 as PyTorch's; weight w is a constant."""

    @staticmethod
    def forward(ctx, x, t, w, reduction):
        ctx.save_for_backward(x, t)
        ctx.w = w
        with xp.errstate(divide="ignore"):
            lx = xp.maximum(xp.log(x), -100)
            l1x = xp.maximum(xp.log(1 - x), -100)
        loss = -(t * lx + (1 - t) * l1x)
        if w is not None:
            loss = loss * w
        return _reduce_array(loss.astype(x.dtype, copy=False), reduction, ctx, x.dtype)

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.saved_tensors
        gl = _loss_grad(ctx, g)
        if ctx.w is not None:
            gl = gl * Tensor._make(ctx.w, False, None, 0)
        n = ctx.needs_input_grad
        gx = gl * (x - t) / E.clamp((1 - x) * x, min=1e-12) if n[0] else None
        with xp.errstate(divide="ignore"):
            gt = gl * (E.log(1 - x) - E.log(x)) if n[1] else None  # unclamped, as PyTorch's
        return gx, gt, None, None


class SoftplusNeg(Function):
    """log(1 + exp(-x)), stable for any x (the log-sigmoid of the logit, negated)."""
    node_name = "SoftplusBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.logaddexp(xp.zeros((), x.dtype), -x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (E.sigmoid(x) - 1)


def _softplus_neg(x):
    return SoftplusNeg.apply(x)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average=None, reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """BCE on logits: (1 - t) x + (1 + (pw - 1) t) log(1 + exp(-x)), computed stably."""
    reduction = _reduction(reduction, size_average, reduce)
    if tuple(target._data.shape) != tuple(input._data.shape):
        raise ValueError(f"Target size ({_size_str(target._data.shape)}) must be the same as input size "
                         f"({_size_str(input._data.shape)})")
    if target._data.dtype.kind not in "fc":
        raise RuntimeError(f"result type {_DT_NAMES.get(input._data.dtype.name)} can't be cast to the desired "
                           f"output type {_DT_NAMES.get(target._data.dtype.name)}")
    input, target, _ = E.promote(input, target)
    sp = _softplus_neg(input)
    if pos_weight is not None:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * sp
    else:
        loss = (1 - target) * input + sp
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """log(1 + exp(-y x)); target: +1/-1, input's shape."""
    _no_grad_arg(target, "soft_margin_loss", "target")
    input, target, reduction = _pointwise_args(input, target, reduction, size_average, reduce, warn=False)
    return _reduce(_softplus_neg(target * input), reduction)


# ---------------------------------------------------------------------------------------------
# Distribution losses
def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """KL(target || exp(input)) pointwise: t (log t - x); input: log-probabilities."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      UserWarning, stacklevel=2)
    if reduction not in ("none", "mean", "sum", "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    input, target, _ = E.promote(input, target)
    if log_target:
        loss = E.exp(target) * (target - input)
    else:
        loss = E.xlogy(target, target) - target * input
    if reduction == "batchmean":
        return loss.sum() / input._data.shape[0] if input._data.ndim else loss.sum()
    return _reduce(loss, reduction)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None, reduction: str = "mean") -> Tensor:
    """Poisson negative log-likelihood: exp(x) - t x (log_input) or x - t log(x + eps)."""
    reduction = _reduction(reduction, size_average, reduce)
    input, target, _ = E.promote(input, target)
    if log_input:
        loss = E.exp(input) - target * input
    else:
        loss = input - target * E.log(input + eps)
    if full:
        # Stirling's term t log t - t + 0.5 log(2 pi t), only where t > 1
        st = target * E.log(target) - target + 0.5 * E.log(2 * math.pi * target)
        loss = loss + E.where(target > 1, st, E.zeros_like_(st))
    return _reduce(loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """0.5 (log var + (x - t)^2 / var) (+ 0.5 log 2 pi); var: input's shape, or one fewer/size-1 last dim."""
    if not isinstance(var, Tensor):
        from .._creation import full as _full
        var = _full(input._data.shape, float(var), dtype=input.dtype)
    ishape, vshape = tuple(input._data.shape), tuple(var._data.shape)
    if vshape != ishape:
        if ishape[:-1] == vshape:
            var = var.unsqueeze(-1)
        elif ishape[:-1] == vshape[:-1] and vshape[-1:] == (1,):
            pass
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    if (var._data < 0).any():
        raise ValueError("var has negative entry/entries")
    # clamp for stability without blocking the gradient, as PyTorch's (clamp under no_grad)
    var = var + Tensor._make(xp.maximum(var._data, eps) - var._data, False, None, 0)
    d = input - target
    loss = 0.5 * (E.log(var) + d * d / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# ---------------------------------------------------------------------------------------------
# Margin and embedding losses
def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average=None, reduce=None,
                         reduction: str = "mean") -> Tensor:
    """x where y = 1, max(0, margin - x) where y = -1."""
    reduction = _reduction(reduction, size_average, reduce)
    zero = E.zeros_like_(input)
    neg = E.where(target != 1, E.clamp(margin - input, min=0), zero)
    pos = E.where(target != -1, input, zero)
    return _reduce(neg + pos, reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0, size_average=None,
                        reduce=None, reduction: str = "mean") -> Tensor:
    """max(0, -y (x1 - x2) + margin)."""
    reduction = _reduction(reduction, size_average, reduce)
    if not (input1._data.ndim == input2._data.ndim == target._data.ndim):
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {_size_str(input1._data.shape)}, input2: {_size_str(input2._data.shape)}, "
                           f"target: {_size_str(target._data.shape)} ")
    return _reduce(E.clamp(-target * (input1 - input2) + margin, min=0), reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) where y = 1, max(0, cos - margin) where y = -1; inputs: (N, D) or (D)."""
    reduction = _reduction(reduction, size_average, reduce)
    d = input1._data.ndim - 1
    eps = 1e-12
    prod = (input1 * input2).sum(d)
    m1 = (input1 * input1).sum(d) + eps
    m2 = (input2 * input2).sum(d) + eps
    cos = prod / E.sqrt(m1 * m2)
    zero = E.zeros_like_(cos)
    loss = E.where(target == 1, 1 - cos, zero) + E.where(target == -1, E.clamp(cos - margin, min=0), zero)
    return _reduce(loss, reduction)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p over the last dim."""
    from .reduce import norm
    nd = max(x1._data.ndim, x2._data.ndim)
    return norm(x1 - x2 + eps, p, nd - 1 if nd else None, keepdim)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average=None, reduce=None,
                        reduction: str = "mean") -> Tensor:
    """max(0, d(a, p) - d(a, n) + margin) with the p-norm distance."""
    reduction = _reduction(reduction, size_average, reduce)
    nds = (anchor._data.ndim, positive._data.ndim, negative._data.ndim)
    if len(set(nds)) != 1:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {nds[0]}D, positive {nds[1]}D, and negative {nds[2]}D "
                           "inputs")
    if margin <= 0:
        raise ValueError(f"TripletMarginLoss: expected margin to be greater than 0, got {margin} instead")
    dp = pairwise_distance(anchor, positive, p, eps)
    dn = pairwise_distance(anchor, negative, p, eps)
    if swap:
        dn = E.minimum(dn, pairwise_distance(positive, negative, p, eps))
    return _reduce(E.clamp(margin + dp - dn, min=0), reduction)


def _check_margin_target(input, target):
    if target._data.dtype != xp.int64:
        raise RuntimeError(f"expected scalar type Long but found {_DT_NAMES.get(target._data.dtype.name, '?')}")


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0, weight: Tensor | None = None,
                      size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """sum_{j != y} max(0, margin - x_y + x_j)^p / C (times weight[y]); input: (N, C) or (C)."""
    reduction = _reduction(reduction, size_average, reduce)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight._data.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    _check_margin_target(input, target)
    _no_grad_arg(weight, "multi_margin_loss", "weight")
    x = input if input._data.ndim == 2 else input.reshape(1, -1)
    t = target._data.reshape(-1)
    N, C = x._data.shape
    if t.shape[0] != N:
        raise RuntimeError(f"inconsistent target size, expected {N} but got {list(target._data.shape)}")
    if ((t < 0) | (t >= C)).any():
        raise RuntimeError("target out of range")
    idx = t[:, None]
    from .index import GatherAlong
    xy = GatherAlong.apply(x, 1, idx)
    z = E.clamp(margin - xy + x, min=0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * Tensor._make(weight._data[t][:, None].astype(x._data.dtype), False, None, 0)
    not_y = xp.ones((N, C), bool)
    xp.put_along_axis(not_y, idx, False, axis=1)
    loss = (z * Tensor._make(not_y.astype(x._data.dtype), False, None, 0)).sum(1) / C
    if input._data.ndim != 2:
        loss = loss.reshape(target._data.shape) if target._data.ndim else loss.reshape(())
    return _reduce(loss, reduction)


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                           reduction: str = "mean") -> Tensor:
    """sum over target classes j and non-target classes k of max(0, 1 - (x_j - x_k)) / C; target: class
    indices padded with -1 (the first -1 ends the list), input's shape."""
    reduction = _reduction(reduction, size_average, reduce)
    _check_margin_target(input, target)
    if tuple(target._data.shape) != tuple(input._data.shape):
        raise RuntimeError(f"inconsistent target size: {list(target._data.shape)} for input of size: "
                           f"{list(input._data.shape)}")
    x = input if input._data.ndim == 2 else input.reshape(1, -1)
    t = target._data.reshape(x._data.shape)
    N, C = x._data.shape
    if ((t < -1) | (t >= C)).any():
        raise RuntimeError("argument #2 'target' is out of range")
    valid = xp.cumprod(t >= 0, axis=1).astype(bool)  # entries before the first -1
    is_target = xp.zeros((N, C), bool)
    rows = xp.nonzero(valid)[0]
    is_target[rows, t[valid]] = True
    # pairs (j target, k non-target): sum_j sum_k relu(1 - x_j + x_k), one (N, C, C) pass
    z = E.clamp(1 - x.unsqueeze(2) + x.unsqueeze(1), min=0)
    mask = (is_target[:, :, None] & ~is_target[:, None, :]).astype(x._data.dtype)
    loss = (z * Tensor._make(mask, False, None, 0)).sum((1, 2)) / C
    if input._data.ndim != 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction)
