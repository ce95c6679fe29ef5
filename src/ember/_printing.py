"""Tensor repr/str: formats NumPy arrays exactly as PyTorch prints tensors (torch/_tensor_str.py)."""
from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterator, Sequence

import numpy as np

__all__ = ["format_tensor", "set_printoptions", "get_printoptions", "printoptions"]


@dataclasses.dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


_OPTS = _PrintOptions()

_PROFILES = {
    "default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80),
}

# torch's dtype aliases, so `dtype_name` may be given either way; printed names are the canonical ones.
_ALIASES = {"float": "float32", "double": "float64", "half": "float16", "long": "int64", "int": "int32",
            "short": "int16", "cfloat": "complex64", "cdouble": "complex128"}


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Set options for printing tensors (PyTorch's defaults: precision 4, threshold 1000, edgeitems 3,
    linewidth 80; profiles "default", "short", "full")."""
    if profile is not None:
        # As in PyTorch, an unknown profile name is silently ignored.
        for name, value in _PROFILES.get(profile, {}).items():
            setattr(_OPTS, name, value)
    if precision is not None:
        _OPTS.precision = precision
    if threshold is not None:
        _OPTS.threshold = threshold
    if edgeitems is not None:
        _OPTS.edgeitems = edgeitems
    if linewidth is not None:
        _OPTS.linewidth = linewidth
    # PyTorch quirk reproduced: sci_mode is always assigned, so any call without it resets it to None.
    _OPTS.sci_mode = sci_mode


def get_printoptions() -> dict[str, object]:
    """The current print options, as a dict that can be passed back as ``**kwargs`` to set_printoptions."""
    return dataclasses.asdict(_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs) -> Iterator[None]:
    """Temporarily change the print options (same arguments as set_printoptions)."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    """Chooses int/fixed/scientific notation and a common column width from the values to be shown."""

    def __init__(self, values: np.ndarray, floating: bool):
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        if not floating:
            self.max_width = max([1] + [len(str(v)) for v in flat.tolist()])
            return
        flat = flat.astype(np.float64)
        vals = flat[np.isfinite(flat) & (flat != 0)]
        if vals.size == 0:
            return
        absvals = np.abs(vals)
        vmin, vmax = absvals.min(), absvals.max()
        self.int_mode = bool(np.all(vals == np.ceil(vals)))
        if _OPTS.sci_mode is None:
            with np.errstate(over="ignore"):  # 1e300 / 1e-300 is inf, which is "> 1000" as in PyTorch
                ratio = vmax / vmin
            self.sci_mode = bool(ratio > 1000.0 or vmax > 1.0e8 or vmin < 1.0e-4)
        else:
            self.sci_mode = _OPTS.sci_mode
        p = _OPTS.precision
        if self.sci_mode:
            strs = [f"{v:.{p}e}" for v in vals.tolist()]
        elif self.int_mode:
            # The trailing "." that marks a float is counted in the width.
            strs = [f"{v:.0f}." for v in vals.tolist()]
        else:
            strs = [f"{v:.{p}f}" for v in vals.tolist()]
        self.max_width = max(self.max_width, max(len(s) for s in strs))

    def format(self, value) -> str:
        if not self.floating:
            s = str(value)
        elif self.sci_mode:
            s = f"{value:.{_OPTS.precision}e}"
        elif self.int_mode:
            s = f"{value:.0f}"
            if not (math.isinf(value) or math.isnan(value)):
                s += "."
        else:
            s = f"{value:.{_OPTS.precision}f}"
        # Values not measured (nan, inf, 0) may be wider than max_width; PyTorch does not pad or cut them.
        return " " * (self.max_width - len(s)) + s


def _format_value(value, fmts: Sequence[_Formatter]) -> str:
    if len(fmts) == 1:
        return fmts[0].format(value)
    real = fmts[0].format(value.real)
    imag = (fmts[1].format(value.imag) + "j").lstrip()
    return real + imag if imag[0] in "+-" else real + "+" + imag


def _summarized(a: np.ndarray) -> np.ndarray:
    """The elements shown when summarising: edgeitems from each end of every dimension."""
    e = _OPTS.edgeitems
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        # With edgeitems=0, a[-0:] is the whole array; PyTorch measures every element in that case too.
        return np.concatenate((a[:e], a[-e:])) if a.shape[0] > 2 * e else a
    if not e:
        return a[(slice(0, 0),) * a.ndim]
    rows = list(a[:e]) + list(a[-e:]) if a.shape[0] > 2 * e else list(a)
    return np.stack([_summarized(r) for r in rows])


def _vector_str(a: np.ndarray, indent: int, summarize: bool, fmts: Sequence[_Formatter]) -> str:
    # Each element takes its width plus ", "; complex adds the imaginary width and "j".
    element_length = fmts[0].max_width + 2
    if len(fmts) == 2:
        element_length += fmts[1].max_width + 1
    per_line = max(1, math.floor((_OPTS.linewidth - indent) / element_length))
    e = _OPTS.edgeitems
    if summarize and not e:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * e:
        data = ([_format_value(v, fmts) for v in a[:e].tolist()] + [" ..."]
                + [_format_value(v, fmts) for v in a[-e:].tolist()])
    else:
        data = [_format_value(v, fmts) for v in a.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(a: np.ndarray, indent: int, summarize: bool, fmts: Sequence[_Formatter]) -> str:
    if a.ndim == 0:
        return _format_value(a.item(), fmts)
    if a.ndim == 1:
        return _vector_str(a, indent, summarize, fmts)
    e = _OPTS.edgeitems
    n = a.shape[0]
    if summarize and n > 2 * e:
        slices = ([_nested_str(a[i], indent + 1, summarize, fmts) for i in range(e)] + ["..."]
                  + [_nested_str(a[i], indent + 1, summarize, fmts) for i in range(n - e, n)])
    else:
        slices = [_nested_str(a[i], indent + 1, summarize, fmts) for i in range(n)]
    # Slices of a k-D tensor are separated by k-1 newlines, i.e. k-2 blank lines.
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def _tensor_str(a: np.ndarray, indent: int, kind: str) -> str:
    summarize = a.size > _OPTS.threshold
    shown = _summarized(a) if summarize else a
    if kind == "complex":
        fmts = [_Formatter(shown.real, True), _Formatter(shown.imag, True)]
    else:
        fmts = [_Formatter(shown, kind == "float")]
    return _nested_str(a, indent, summarize, fmts)


def _add_suffixes(text: str, suffixes: Sequence[str], indent: int) -> str:
    parts = [text]
    # PyTorch quirk reproduced: the "last line length" is the real one plus 2 (plus 1 when one line).
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > _OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def _kind(dtype_name: str) -> str:
    if dtype_name.startswith("complex"):
        return "complex"
    if dtype_name.startswith(("float", "bfloat")):
        return "float"
    return "int"  # integers and bool print their Python str()


def format_tensor(
    array: np.ndarray,
    *,
    dtype_name: str,
    default_dtype_name: str = "float32",
    suffixes: Sequence[str] = (),
    prefix: str = "tensor(",
) -> str:
    """``repr`` of a CPU tensor holding ``array`` with torch dtype ``dtype_name`` ("float32", "int64", ...).

    ``suffixes`` (e.g. ``["requires_grad=True"]``) follow the size/dtype suffixes PyTorch adds itself.
    """
    a = np.asarray(array)
    dtype_name = _ALIASES.get(dtype_name, dtype_name)
    default_dtype_name = _ALIASES.get(default_dtype_name, default_dtype_name)
    indent = len(prefix)
    extra = []
    if a.size == 0:
        # An empty tensor shows its shape unless 1-D, and its dtype unless the default float dtype:
        # there are no elements to tell an int64 tensor from a float one.
        if a.ndim != 1:
            extra.append(f"size={tuple(a.shape)}")
        if dtype_name != default_dtype_name:
            extra.append(f"dtype=torch.{dtype_name}")
        body = "[]"
    else:
        if not _OPTS.edgeitems:
            extra.append(f"size={tuple(a.shape)}")
        default_complex = "complex128" if default_dtype_name == "float64" else "complex64"
        if dtype_name not in (default_dtype_name, default_complex, "int64", "bool"):
            extra.append(f"dtype=torch.{dtype_name}")
        body = _tensor_str(a, indent, _kind(dtype_name))
    return _add_suffixes(prefix + body, extra + list(suffixes), indent)
