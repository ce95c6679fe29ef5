"""Shape ops. Views (view, reshape of contiguous input, transpose, permute, expand, squeeze, narrow,
basic indexing) share memory and the version counter with their base; the rest copy."""
from __future__ import annotations

import math

from .._tensor import Size, Tensor
from ..autograd.function import Function
from ..backend import xp
from ._util import wrap_dim

__all__ = ["reshape", "view", "flatten", "unflatten", "squeeze", "unsqueeze", "transpose", "swapaxes",
           "swapdims", "t", "permute", "movedim", "moveaxis", "expand", "broadcast_to", "narrow", "select",
           "cat", "concat", "concatenate", "stack", "hstack", "vstack", "split", "chunk", "unbind", "repeat",
           "tile", "flip", "fliplr", "flipud", "roll", "clone", "contiguous", "sum_to_size",
           "broadcast_tensors", "broadcast_shapes", "atleast_1d", "atleast_2d", "diag_embed", "ravel"]


class _View(Function):
    """Base of view ops: the output shares its input's memory and version counter."""
    _is_view = True


def _as_view(out: Tensor, base: Tensor) -> Tensor:
    out._vc = base._vc
    out._base = base._base if base._base is not None else base
    if out.grad_fn is not None:
        out.__dict__["_vv"] = base._vc[0]  # the version its grad_fn is valid for (see inplace.refresh_view)
    return out


def _shape_arg(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, Size)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def _infer(shape, numel, orig):
    shape = list(shape)
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s}")
            known *= s
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape[neg[0]] = numel // known
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return tuple(shape)


class View(_View):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.in_shape = a.shape
        return a.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return reshape(g, ctx.in_shape), None


class Reshape(Function):
    """reshape of a non-contiguous input: a copy (PyTorch's _reshape_alias / clone + view)."""
    node_name = "UnsafeViewBackward0"

    @staticmethod
    def forward(ctx, a, shape):
        ctx.in_shape = a.shape
        return xp.ascontiguousarray(a).reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return reshape(g, ctx.in_shape), None


def _viewable(a, shape) -> bool:
    """Whether NumPy can reshape ``a`` without copying (contiguous, or compatible strides)."""
    if a.flags.c_contiguous:
        return True
    try:
        v = a.view()
        v.shape = shape
        return True
    except AttributeError:
        return False


def view(input, *shape):
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list, Size)):
        from .. import _dtypes
        dt = _dtypes.to_dtype(shape[0])
        return Tensor._make(input._data.view(dt.np), False, None, 0)
    shape = _infer(_shape_arg(shape), input._data.size, input._data.shape)
    if shape == input._data.shape:
        return _as_view(View.apply(input, shape), input)
    if not _viewable(input._data, shape):
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one "
                           "dimension spans across two contiguous subspaces). Use .reshape(...) instead.")
    return _as_view(View.apply(input, shape), input)


def reshape(input, *shape):
    shape = _infer(_shape_arg(shape), input._data.size, input._data.shape)
    if _viewable(input._data, shape):
        return _as_view((View if input._data.flags.c_contiguous else ReshapeAlias).apply(input, shape), input)
    return Reshape.apply(input, shape)


class ReshapeAlias(View):
    """reshape of a non-contiguous input whose strides allow a view (PyTorch's _reshape_alias)."""
    node_name = "ReshapeAliasBackward0"


def ravel(input):
    return view(contiguous(input), -1)


def flatten(input, start_dim: int = 0, end_dim: int = -1):
    nd = input._data.ndim
    if nd == 0:
        return reshape(input, 1)
    s = wrap_dim(start_dim, nd)
    e = wrap_dim(end_dim, nd)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    shp = input._data.shape
    return reshape(input, shp[:s] + (math.prod(shp[s:e + 1]),) + shp[e + 1:])


def unflatten(input, dim: int, sizes):
    nd = input._data.ndim
    d = wrap_dim(dim, nd)
    shp = input._data.shape
    sizes = _infer(tuple(sizes), shp[d], shp)
    return reshape(input, shp[:d] + sizes + shp[d + 1:])


class Squeeze(_View):
    node_name = "SqueezeBackward1"

    @staticmethod
    def forward(ctx, a, dims):
        ctx.in_shape = a.shape
        return a.reshape(tuple(s for i, s in enumerate(a.shape) if i not in dims))

    @staticmethod
    def backward(ctx, g):
        return reshape(g, ctx.in_shape), None


class Squeeze0(Squeeze):
    node_name = "SqueezeBackward0"


class Squeeze2(Squeeze):
    node_name = "SqueezeBackward2"


def squeeze(input, dim=None):
    shp = input._data.shape
    if dim is None:
        dims = tuple(i for i, s in enumerate(shp) if s == 1)
    else:
        ds = (dim,) if isinstance(dim, int) else tuple(dim)
        dims = tuple(i for i in (wrap_dim(d, len(shp)) for d in ds) if len(shp) and shp[i] == 1)
    cls = Squeeze0 if dim is None else Squeeze if isinstance(dim, int) else Squeeze2
    return _as_view(cls.apply(input, dims), input)


class Unsqueeze(_View):
    @staticmethod
    def forward(ctx, a, d):
        ctx.d = d
        return xp.expand_dims(a, d)

    @staticmethod
    def backward(ctx, g):
        return squeeze(g, ctx.d), None


def unsqueeze(input, dim: int):
    d = wrap_dim(dim, input._data.ndim + 1)
    return _as_view(Unsqueeze.apply(input, d), input)


class Transpose(_View):
    @staticmethod
    def forward(ctx, a, d0, d1):
        ctx.d = (d0, d1)
        return xp.swapaxes(a, d0, d1) if a.ndim else a.view()  # a 0-d tensor transposes to itself

    @staticmethod
    def backward(ctx, g):
        return transpose(g, *ctx.d), None, None


def transpose(input, dim0: int, dim1: int):
    nd = input._data.ndim
    return _as_view(Transpose.apply(input, wrap_dim(dim0, nd), wrap_dim(dim1, nd)), input)


swapaxes = swapdims = transpose


class T(_View):
    @staticmethod
    def forward(ctx, a):
        return a.T

    @staticmethod
    def backward(ctx, g):
        return t(g)


def t(input):
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D")
    return _as_view(T.apply(input), input)


class Permute(_View):
    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims = dims
        return a.transpose(dims)

    @staticmethod
    def backward(ctx, g):
        inv = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inv[d] = i
        return permute(g, *inv), None


def permute(input, *dims):
    dims = _shape_arg(dims)
    nd = input._data.ndim
    if len(dims) != nd:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
                           f"length of the desired ordering of dimensions i.e. input.dim() = {nd} is not equal "
                           f"to len(dims) = {len(dims)}")
    dims = tuple(wrap_dim(d, nd) for d in dims)
    if len(set(dims)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return _as_view(Permute.apply(input, dims), input)


def movedim(input, source, destination):
    nd = input._data.ndim
    src = [wrap_dim(s, nd) for s in ((source,) if isinstance(source, int) else source)]
    dst = [wrap_dim(s, nd) for s in ((destination,) if isinstance(destination, int) else destination)]
    order = [n for n in range(nd) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, *order)


moveaxis = movedim


class Expand(_View):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.in_shape = a.shape
        b = xp.broadcast_to(a, shape)
        # A writable view (broadcast_to's is read-only), so that x.expand(...)[0].zero_() writes into x.
        return xp.lib.stride_tricks.as_strided(a, b.shape, b.strides, writeable=a.flags.writeable)

    @staticmethod
    def backward(ctx, g):
        return sum_to_size(g, ctx.in_shape), None


def expand(input, *sizes):
    sizes = _shape_arg(sizes)
    shp = input._data.shape
    if len(sizes) < len(shp):
        raise RuntimeError(f"expand(torch.{input.dtype._legacy}{{{list(shp)}}}, size={list(sizes)}): the "
                           f"number of sizes provided ({len(sizes)}) must be greater or equal to the number of "
                           f"dimensions in the tensor ({len(shp)})")
    lead = len(sizes) - len(shp)
    out = list(sizes)
    for i in range(lead):
        if sizes[i] < 0:
            raise RuntimeError(f"The expanded size of the tensor ({sizes[i]}) isn't allowed in a leading, "
                               f"non-existing dimension {i}")
    for i, s in enumerate(shp):
        want = sizes[lead + i]
        if want == -1:
            out[lead + i] = s
        elif s != want and s != 1:
            raise RuntimeError(f"The expanded size of the tensor ({want}) must match the existing size ({s}) at "
                               f"non-singleton dimension {lead + i}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                               f"{list(shp)}")
    out = tuple(out)
    if out == shp:
        return input
    return _as_view(Expand.apply(input, out), input)


def broadcast_to(input, size):
    return expand(input, *size)


def broadcast_shapes(*shapes):
    try:
        return Size(xp.broadcast_shapes(*[tuple(s) if not isinstance(s, int) else (s,) for s in shapes]))
    except ValueError:
        raise RuntimeError(f"Shape mismatch: objects cannot be broadcast to a single shape: {shapes}") from None


def broadcast_tensors(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    shape = broadcast_shapes(*[t._data.shape for t in tensors])
    return tuple(expand(t, *shape) for t in tensors)


class SumToSize(Function):
    """Sum a gradient down to a broadcast source shape (the backward of expand)."""
    node_name = "SumBackward1"

    @staticmethod
    def forward(ctx, a, shape):
        ctx.in_shape = a.shape
        lead = a.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and a.shape[lead + i] != 1)
        out = a.sum(axis=axes, keepdims=True) if axes else a
        return out.reshape(shape) if out.shape != shape else out

    @staticmethod
    def backward(ctx, g):
        return expand(g, *ctx.in_shape), None


def sum_to_size(input, *size):
    size = _shape_arg(size)
    shp = input._data.shape
    if shp == size:
        return input
    if len(size) > len(shp) or any(s != 1 and s != d for s, d in zip(size, shp[len(shp) - len(size):])):
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(shp)}}}.")
    return SumToSize.apply(input, size)


class Clone(Function):
    @staticmethod
    def forward(ctx, a):
        return a.copy()

    @staticmethod
    def backward(ctx, g):
        return g


def clone(input, *, memory_format=None):
    return Clone.apply(input)


def contiguous(input, memory_format=None):
    if input._data.flags.c_contiguous:
        return input
    return Clone.apply(input)


# ---------------------------------------------------------------------------------------------
# Slicing
class Slice(_View):
    """Basic indexing (ints, slices, None, Ellipsis): a view."""
    node_name = "SliceBackward0"

    @staticmethod
    def forward(ctx, a, idx):
        ctx.in_shape = a.shape
        ctx.idx = idx
        out = a[idx]
        if type(out) is not xp.ndarray:  # NumPy returns a scalar copy for a full integer index: ask for a view
            out = a[idx + (Ellipsis,)] if not any(i is Ellipsis for i in idx) else a[idx][...]
        return out

    @staticmethod
    def backward(ctx, g):
        return SliceScatter.apply(g, ctx.in_shape, ctx.idx), None


class Select(Slice):
    node_name = "SelectBackward0"


class SliceScatter(Function):
    """zeros(shape) with g written at idx: the gradient of basic indexing."""
    node_name = "SliceBackwardBackward0"

    @staticmethod
    def forward(ctx, g, shape, idx):
        ctx.idx = idx
        out = xp.zeros(shape, g.dtype)
        out[idx] = g
        return out

    @staticmethod
    def backward(ctx, gg):
        return gg[ctx.idx], None, None


def narrow(input, dim: int, start, length: int):
    nd = input._data.ndim
    d = wrap_dim(dim, nd)
    size = input._data.shape[d]
    start = int(start)
    if start < 0:
        start += size
    if not 0 <= start <= size or length < 0 or start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    idx = (slice(None),) * d + (slice(start, start + length),)
    return _as_view(Slice.apply(input, idx), input)


def select(input, dim: int, index: int):
    nd = input._data.ndim
    if nd == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, nd)
    size = input._data.shape[d]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input._data.shape)} at "
                         f"dimension {d}")
    idx = (slice(None),) * d + (index,)
    return _as_view(Select.apply(input, idx), input)


# ---------------------------------------------------------------------------------------------
# Joining and splitting
class Cat(Function):
    @staticmethod
    def forward(ctx, dim, *arrays):
        ctx.dim = dim
        ctx.sizes = [a.shape[dim] if a.ndim else 0 for a in arrays]
        return xp.concatenate(arrays, axis=dim)

    @staticmethod
    def backward(ctx, g):
        out = [None]
        start = 0
        for s in ctx.sizes:
            out.append(narrow(g, ctx.dim, start, s))
            start += s
        return tuple(out)


def cat(tensors, dim: int = 0, *, out=None):
    from .. import _dtypes
    from .elementwise import _out

    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, t_ in enumerate(tensors):
        if not isinstance(t_, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t_).__name__}")
    # Legacy rule: 1-D empty tensors are skipped.
    nonempty = [t_ for t_ in tensors if not (t_._data.ndim == 1 and t_._data.shape[0] == 0)] or tensors[:1]
    ref = nonempty[0]
    nd = ref._data.ndim
    if nd == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = wrap_dim(dim, nd)
    for i, t_ in enumerate(nonempty):
        if t_._data.ndim != nd:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {nd} and {t_._data.ndim}")
        for k in range(nd):
            if k != d and t_._data.shape[k] != ref._data.shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected size "
                                   f"{ref._data.shape[k]} but got size {t_._data.shape[k]} for tensor number {i} in "
                                   f"the list.")
    dt = ref.dtype
    for t_ in nonempty[1:]:
        if t_.dtype is not dt:
            dt = _dtypes.promote_types(dt, t_.dtype)
    nonempty = [t_ if t_.dtype is dt else t_.to(dt) for t_ in nonempty]
    return _out(Cat.apply(d, *nonempty), out)


concat = concatenate = cat


def stack(tensors, dim: int = 0, *, out=None):
    from .elementwise import _out

    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shp = tensors[0]._data.shape
    for i, t_ in enumerate(tensors):
        if t_._data.shape != shp:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shp)} at entry 0 and "
                               f"{list(t_._data.shape)} at entry {i}")
    d = wrap_dim(dim, len(shp) + 1)
    from .. import _dtypes
    dt = tensors[0].dtype
    for t_ in tensors[1:]:
        if t_.dtype is not dt:
            dt = _dtypes.promote_types(dt, t_.dtype)
    return _out(Stack.apply(d, *[t_ if t_.dtype is dt else t_.to(dt) for t_ in tensors]), out)


class Stack(Function):
    @staticmethod
    def forward(ctx, d, *arrays):
        ctx.d = d
        return xp.stack(arrays, axis=d)

    @staticmethod
    def backward(ctx, g):
        return (None,) + unbind(g, ctx.d)


def hstack(tensors):
    tensors = [atleast_1d(t_) for t_ in tensors]
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1)


def vstack(tensors):
    return cat([atleast_2d(t_) for t_ in tensors], 0)


def atleast_1d(t_):
    return reshape(t_, 1) if t_._data.ndim == 0 else t_


def atleast_2d(t_):
    return reshape(t_, 1, -1) if t_._data.ndim < 2 else t_


def split(tensor, split_size_or_sections, dim: int = 0):
    d = wrap_dim(dim, tensor._data.ndim)
    size = tensor._data.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0 and size:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
        sizes = [min(step, size - s) for s in range(0, size, step)] if size else [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != size:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size "
                               f"at dimension {d}), but got split_sizes={sizes}")
    cls = Split if isinstance(split_size_or_sections, int) else SplitWithSizes
    return tuple(_as_view(p, tensor) for p in cls.apply(tensor, tuple(sizes), d))


class Split(_View):
    """split/chunk: one node whose outputs are the pieces (views of the input)."""
    node_name = "SplitBackward0"

    @staticmethod
    def forward(ctx, a, sizes, d):
        ctx.d = d
        out, start = [], 0
        for s in sizes:
            out.append(a[(slice(None),) * d + (slice(start, start + s),)])
            start += s
        return tuple(out)

    @staticmethod
    def backward(ctx, *grads):
        return cat(list(grads), ctx.d), None, None


class SplitWithSizes(Split):
    node_name = "SplitWithSizesBackward0"


def chunk(input, chunks: int, dim: int = 0):
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    d = wrap_dim(dim, input._data.ndim)
    size = input._data.shape[d]
    if size == 0:  # PyTorch: `chunks` empty pieces
        return tuple(_as_view(p, input) for p in Split.apply(input, (0,) * chunks, d))
    return split(input, -(-size // chunks), d)


def unbind(input, dim: int = 0):
    d = wrap_dim(dim, input._data.ndim)
    if input._data.shape[d] == 0:
        return ()
    return tuple(_as_view(p, input) for p in Unbind.apply(input, d))


class Unbind(_View):
    @staticmethod
    def forward(ctx, a, d):
        ctx.d = d
        return tuple(a[(slice(None),) * d + (i, Ellipsis)] for i in range(a.shape[d]))  # views, also 0-d

    @staticmethod
    def backward(ctx, *grads):
        return stack(list(grads), ctx.d), None


class Repeat(Function):
    @staticmethod
    def forward(ctx, a, reps):
        ctx.in_shape = a.shape
        ctx.reps = reps
        lead = len(reps) - a.ndim
        return xp.tile(a.reshape((1,) * lead + a.shape), reps)

    @staticmethod
    def backward(ctx, g):
        shp = ctx.in_shape
        reps = ctx.reps
        full = (1,) * (len(reps) - len(shp)) + tuple(shp)
        inter = []
        for r, s in zip(reps, full):
            inter += [r, s]
        gs = reshape(g, *inter)
        return reshape(gs.sum(dim=tuple(range(0, 2 * len(reps), 2))), *shp), None


def repeat(input, *sizes):
    sizes = _shape_arg(sizes)
    if len(sizes) < input._data.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                           "tensor")
    return Repeat.apply(input, sizes)


def tile(input, dims):
    dims = tuple(dims)
    if len(dims) < input._data.ndim:
        dims = (1,) * (input._data.ndim - len(dims)) + dims
    return repeat(input, *dims)


class Flip(Function):
    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims = dims
        return xp.flip(a, dims).copy()

    @staticmethod
    def backward(ctx, g):
        return Flip.apply(g, ctx.dims), None


def flip(input, dims):
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    return Flip.apply(input, tuple(wrap_dim(d, input._data.ndim) for d in dims))


def fliplr(input):
    return flip(input, 1)


def flipud(input):
    return flip(input, 0)


class Roll(Function):
    @staticmethod
    def forward(ctx, a, shifts, dims):
        ctx.s, ctx.d = shifts, dims
        return xp.roll(a, shifts, dims)

    @staticmethod
    def backward(ctx, g):
        neg = tuple(-s for s in ctx.s) if isinstance(ctx.s, tuple) else -ctx.s
        return Roll.apply(g, neg, ctx.d), None, None


def roll(input, shifts, dims=None):
    if isinstance(shifts, list):
        shifts = tuple(shifts)
    if isinstance(dims, list):
        dims = tuple(dims)
    return Roll.apply(input, shifts, dims)


def diag_embed(input, offset: int = 0, dim1: int = -2, dim2: int = -1):
    n = input._data.shape[-1]
    eye = Tensor._make(xp.eye(n, dtype=input._data.dtype), False, None, 0)
    return unsqueeze(input, -1) * eye


Tensor.view = view
Tensor.view_as = lambda self, other: view(self, other._data.shape)
Tensor.reshape = reshape
Tensor.reshape_as = lambda self, other: reshape(self, other._data.shape)
Tensor.flatten = flatten
Tensor.ravel = ravel
Tensor.unflatten = unflatten
Tensor.squeeze = squeeze
Tensor.unsqueeze = unsqueeze
Tensor.transpose = transpose
Tensor.swapaxes = Tensor.swapdims = transpose
Tensor.t = t
Tensor.permute = permute
Tensor.movedim = Tensor.moveaxis = movedim
Tensor.expand = expand
Tensor.expand_as = lambda self, other: expand(self, *other._data.shape)
Tensor.broadcast_to = broadcast_to
Tensor.sum_to_size = sum_to_size
Tensor.narrow = narrow
Tensor.select = select
Tensor.split = split
Tensor.chunk = chunk
Tensor.unbind = unbind
Tensor.repeat = repeat
Tensor.tile = tile
Tensor.flip = flip
Tensor.fliplr = fliplr
Tensor.flipud = flipud
Tensor.roll = roll
Tensor.clone = clone
Tensor.contiguous = contiguous
Tensor.diag_embed = diag_embed
