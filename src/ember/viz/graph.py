"""Drawing the autograd graph behind a tensor as Graphviz DOT (the notes' agtree2dot pictures).

Nodes, from the root down: the root tensor (its name, if ``params`` gives one, and shape), one node
per ``grad_fn`` labelled with its class name (``AddmmBackward0``…), and for each leaf its
``AccumulateGrad`` node plus the leaf tensor itself labelled ``"name [shape]"``. An edge goes from a
node to each entry of its ``next_functions``, labelled with the input's index when the node has
several inputs.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

__all__ = ["draw_graph", "render_graph"]


def _shape(t) -> str:
    return "[" + ", ".join(str(int(s)) for s in t.shape) + "]"


def _names(params) -> dict:
    """id(tensor) -> name, from a dict name -> tensor, pairs (name, tensor), or a Module."""
    if params is None:
        return {}
    if hasattr(params, "named_parameters"):
        items = list(params.named_parameters())
    elif hasattr(params, "items"):
        items = list(params.items())
    else:
        items = list(params)
    return {id(t): str(name) for name, t in items}


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def draw_graph(tensor, params=None, *, root_name: str | None = None) -> str:
    """The DOT text of the autograd graph that computes ``tensor`` (or a list of tensors).

    ``params`` names the leaves (and, if it contains it, the root): a dict ``name -> tensor``, an
    iterable of ``(name, tensor)`` pairs, or a Module (its ``named_parameters()``).
    """
    roots = list(tensor) if isinstance(tensor, (list, tuple)) else [tensor]
    names = _names(params)
    lines = ["digraph autograd {",
             '  graph [rankdir=TB, ranksep=0.3, nodesep=0.3];',
             '  node [fontname="Helvetica", fontsize=11, height=0.3];',
             '  edge [fontname="Helvetica", fontsize=9, arrowsize=0.6];']
    ids: dict = {}          # id(node or leaf tensor) -> dot id
    keep: list = []         # keep visited objects alive so their ids stay unique
    counter = [0]

    def new_id(obj) -> str:
        counter[0] += 1
        d = f"n{counter[0]}"
        ids[id(obj)] = d
        keep.append(obj)
        return d

    def tensor_node(t, label_name) -> str:
        d = new_id(t)
        label = f"{label_name} {_shape(t)}" if label_name else _shape(t)
        lines.append(f"  {d} [label={_quote(label)}, shape=box, style=filled, fillcolor=\"#cfe2f3\"];")
        return d

    stack = []
    for i, r in enumerate(roots):
        name = names.get(id(r)) or (root_name if len(roots) == 1 else None)
        if name is None and root_name is not None and len(roots) > 1:
            name = f"{root_name}[{i}]"
        if r.grad_fn is None:
            # A leaf (or a tensor without history) is its own graph.
            if id(r) not in ids:
                tensor_node(r, name)
            continue
        rd = new_id(object())
        label = f"{name} {_shape(r)}" if name else _shape(r)
        lines.append(f"  {rd} [label={_quote(label)}, shape=box, style=\"filled,bold\", fillcolor=\"#fce5cd\"];")
        fn = r.grad_fn
        if id(fn) not in ids:
            stack.append(fn)
            _declare_fn(fn, new_id, lines, names, tensor_node, ids)
        lines.append(f"  {rd} -> {ids[id(fn)]};")

    # Iterative traversal (deep graphs must not hit the recursion limit).
    while stack:
        fn = stack.pop()
        nexts = [(n, k) for n, k in getattr(fn, "next_functions", ()) or ()]
        several = sum(n is not None for n, _ in nexts) > 1
        for index, (nxt, _input_nr) in enumerate(nexts):
            if nxt is None:
                continue
            if id(nxt) not in ids:
                _declare_fn(nxt, new_id, lines, names, tensor_node, ids)
                stack.append(nxt)
            attr = f" [label={_quote(str(index))}]" if several else ""
            lines.append(f"  {ids[id(fn)]} -> {ids[id(nxt)]}{attr};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _declare_fn(fn, new_id, lines, names, tensor_node, ids) -> None:
    d = new_id(fn)
    cls = type(fn).__name__
    lines.append(f"  {d} [label={_quote(cls)}, shape=ellipse];")
    var = getattr(fn, "variable", None)
    if var is not None:  # AccumulateGrad: draw its leaf with its name and shape
        vd = ids.get(id(var)) or tensor_node(var, names.get(id(var)))
        lines.append(f"  {d} -> {vd} [style=dashed, arrowhead=none];")


def render_graph(tensor, path, format: str | None = None, params=None, *, root_name: str | None = None) -> Path:
    """Write the graph of ``tensor`` as an image with Graphviz's ``dot`` (PNG, SVG, PDF…; from
    ``format`` or the file's suffix, PNG by default). Returns the path written."""
    path = Path(path)
    fmt = (format or path.suffix.lstrip(".") or "png").lower()
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError("render_graph needs Graphviz's `dot` program, which is not on PATH: install Graphviz "
                           "(Debian/Ubuntu: apt-get install graphviz) or write the text of draw_graph() to a .dot "
                           "file and render it elsewhere")
    source = draw_graph(tensor, params, root_name=root_name)
    proc = subprocess.run([dot, f"-T{fmt}", "-o", str(path)], input=source.encode(), capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"dot -T{fmt} failed: {proc.stderr.decode(errors='replace').strip()}")
    return path
