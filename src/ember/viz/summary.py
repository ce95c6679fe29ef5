"""``summary(model, input_size)``: the notes' table of a network — each operation with the size
of the tensor it produces, its number of parameters and its number of products (multiplications)
for one sample's forward pass — built with forward hooks."""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["summary", "Summary", "LayerInfo"]


@dataclass
class LayerInfo:
    name: str            # qualified module name ("features.0"), "" for the model itself
    module: object
    output_size: tuple   # per sample (batch dimension removed)
    params: int          # parameters used for the first time by this call
    products: int        # multiplications for one sample

    @property
    def description(self) -> str:
        return f"{self.name}: {self.module!r}" if self.name else repr(self.module)


@dataclass
class Summary:
    input_size: tuple
    rows: list = field(default_factory=list)

    @property
    def total_params(self) -> int:
        return sum(r.params for r in self.rows)

    @property
    def total_products(self) -> int:
        return sum(r.products for r in self.rows)

    def table(self) -> str:
        head = ("Tensor sizes / operations", "Nb. parameters", "Nb. products")
        entries = []   # (left, params, products) with params/products "" on size lines
        entries.append((format_size(self.input_size), "", ""))
        for r in self.rows:
            entries.append(("  " + _one_line(r.description), f"{r.params:,}", f"{r.products:,}"))
            entries.append((format_size(r.output_size), "", ""))
        w0 = max(len(head[0]), *(len(e[0]) for e in entries))
        w1 = max(len(head[1]), *(len(e[1]) for e in entries))
        w2 = max(len(head[2]), *(len(e[2]) for e in entries))
        out = [f"{head[0]:<{w0}}  {head[1]:>{w1}}  {head[2]:>{w2}}", "-" * (w0 + w1 + w2 + 4)]
        out += [f"{a:<{w0}}  {b:>{w1}}  {c:>{w2}}".rstrip() for a, b, c in entries]
        out.append("-" * (w0 + w1 + w2 + 4))
        out.append(f"Total {self.total_params:,} parameters and {self.total_products:,} products for the forward pass.")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.table()


def format_size(size) -> str:
    """(32, 24, 24) -> '32×24×24', as the notes write sizes."""
    size = tuple(int(s) for s in size)
    return "×".join(map(str, size)) if size else "scalar"


def _one_line(s: str) -> str:
    return " ".join(part.strip() for part in s.splitlines())


def _prod(xs) -> int:
    p = 1
    for x in xs:
        p *= int(x)
    return p


def count_products(module, inputs, output) -> int:
    """Multiplications one sample costs in ``module``: convolutions (output elements x kernel
    volume x input channels per group), transposed convolutions (input elements x kernel volume x
    output channels per group), linear layers (output elements x input features), bilinear layers.
    Everything else (pooling, activations, normalisation) counts 0, as in the notes."""
    out = output
    per_sample_out = _prod(out.shape[1:]) if out.dim() > 0 else 1
    cls = type(module).__name__
    if hasattr(module, "kernel_size") and hasattr(module, "in_channels") and hasattr(module, "out_channels"):
        k = module.kernel_size
        kv = _prod(k) if isinstance(k, (tuple, list)) else int(k)
        groups = getattr(module, "groups", 1)
        if getattr(module, "transposed", False) or "Transpose" in cls:
            x = inputs[0]
            return _prod(x.shape[1:]) * kv * (module.out_channels // groups)
        return per_sample_out * kv * (module.in_channels // groups)
    if hasattr(module, "in1_features") and hasattr(module, "in2_features"):
        return per_sample_out * module.in1_features * module.in2_features
    if hasattr(module, "in_features") and hasattr(module, "out_features"):
        return per_sample_out * module.in_features
    return 0


def _first_tensor(x):
    if hasattr(x, "shape") and hasattr(x, "dim"):  # a Tensor
        return x
    if isinstance(x, (tuple, list)):
        for y in x:
            t = _first_tensor(y)
            if t is not None:
                return t
    if isinstance(x, dict):
        return _first_tensor(list(x.values()))
    return None


def summary(model, input_size=None, *, input_data=None, batch_size: int = 1, dtype=None, print_fn=print) -> Summary:
    """Run one forward pass of ``model`` on zeros of size ``(batch_size, *input_size)`` (or on
    ``input_data``) and print, for every module that computes something (leaf modules, and modules
    with parameters of their own), the size of its output per sample, its parameters and its
    products. Returns the ``Summary`` (``.rows``, ``.total_params``, ``.total_products``).

    Operations done with ``nn.functional`` inside a ``forward`` are invisible to hooks: write them
    as modules (``nn.ReLU()``, ``nn.MaxPool2d``…) to see them in the table.
    """
    from .. import no_grad, zeros
    if input_data is None:
        if input_size is None:
            raise ValueError("summary: give input_size (C, H, W…, without the batch dimension) or input_data")
        input_size = tuple(int(s) for s in input_size)
        kw = {} if dtype is None else {"dtype": dtype}
        input_data = zeros((batch_size,) + input_size, **kw)
    first = _first_tensor(input_data)
    result = Summary(tuple(first.shape[1:]) if first is not None else tuple(input_size or ()))

    seen_params: set = set()
    handles = []

    def make_hook(name):
        def hook(module, inputs, output):
            t = _first_tensor(output)
            if t is None:
                return
            n = 0
            for p in module.parameters(recurse=False):
                if id(p) not in seen_params:
                    seen_params.add(id(p))
                    n += p.numel()
            ins = inputs if isinstance(inputs, tuple) else (inputs,)
            x = _first_tensor(ins)
            result.rows.append(LayerInfo(name, module, tuple(t.shape[1:]), n,
                                         count_products(module, (x,) if x is not None else (), t)))
        return hook

    for name, m in model.named_modules():
        has_children = any(True for _ in m.children())
        has_own = any(True for _ in m.parameters(recurse=False))
        if not has_children or has_own:
            handles.append(m.register_forward_hook(make_hook(name)))
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            if isinstance(input_data, (tuple, list)):
                model(*input_data)
            else:
                model(input_data)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    if print_fn is not None:
        print_fn(result.table())
    return result
