"""ember.viz.draw_graph / render_graph on the notes' three examples.

draw_graph only reads ``grad_fn``, ``next_functions`` and ``AccumulateGrad.variable``, so it draws a
torch graph as well: the DOT text of ember's graph must equal the DOT text of torch's graph for the
same computation (same nodes, names, shapes, edges and edge labels, in the same order).
"""
import re
import shutil

import numpy as np
import pytest

import ember
from ember.viz import draw_graph, render_graph

from conftest import requires_torch, torch


def _norm_example(T, data):
    x = T.tensor(data["x3"]).requires_grad_()
    q = x.norm()
    return q, {"x": x, "q": q}


def _mlp_example(T, data):
    w1 = T.tensor(data["w1"]).requires_grad_()
    b1 = T.tensor(data["b1"]).requires_grad_()
    w2 = T.tensor(data["w2"]).requires_grad_()
    b2 = T.tensor(data["b2"]).requires_grad_()
    x = T.tensor(data["x10"])
    h = T.tanh(w1 @ x + b1)
    y = T.tanh(w2 @ h + b2)
    target = T.tensor(data["t5"])
    loss = (y - target).pow(2).mean()
    return loss, {"w1": w1, "b1": b1, "w2": w2, "b2": b2, "loss": loss}


def _blah_example(T, data):
    w = T.tensor(data["w"]).requires_grad_()

    def blah(k, x):
        for i in range(k):
            x = T.tanh(w[i] @ x)
        return x

    u = blah(1, T.tensor(data["u0"]))
    v = blah(3, T.tensor(data["v0"]))
    q = u.dot(v)
    return q, {"w": w, "q": q}


EXAMPLES = {"norm": _norm_example, "mlp": _mlp_example, "blah": _blah_example}


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    f = np.float32
    return {"x3": np.array([1.0, 2.0, 2.0], f), "w1": rng.random((20, 10), f), "b1": rng.random(20, f),
            "w2": rng.random((5, 20), f), "b2": rng.random(5, f), "x10": rng.random(10, f), "t5": rng.random(5, f),
            "w": rng.random((3, 10, 10), f), "u0": rng.random(10, f), "v0": rng.random(10, f)}


def _labels(dot: str) -> list:
    return re.findall(r'\[label="([^"]*)"', dot)


def test_norm_example_nodes(data):
    q, params = _norm_example(ember, data)
    dot = draw_graph(q, params)
    labels = _labels(dot)
    # The notes: "q []", NormBackward0 (now LinalgVectorNormBackward0), AccumulateGrad, "x [3]".
    assert labels == ["q []", "LinalgVectorNormBackward0", "AccumulateGrad", "x [3]"]
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")


def test_mlp_example_nodes(data):
    loss, params = _mlp_example(ember, data)
    dot = draw_graph(loss, params)
    labels = _labels(dot)
    for name in ["loss []", "MeanBackward0", "PowBackward0", "SubBackward0", "TanhBackward0", "AddBackward0",
                 "MvBackward0", "AccumulateGrad", "w1 [20, 10]", "b1 [20]", "w2 [5, 20]", "b2 [5]"]:
        assert name in labels, name
    assert labels.count("MvBackward0") == 2 and labels.count("AddBackward0") == 2
    assert labels.count("AccumulateGrad") == 4
    # Edges out of ops with two inputs needing gradients (the two AddBackward0, the MvBackward0 of
    # w2 @ h) carry the input indices 0 and 1; SubBackward0 and the MvBackward0 of w1 @ x (one such
    # input each) have none.
    assert len(re.findall(r'-> n\d+ \[label="0"\]', dot)) == 3
    assert len(re.findall(r'-> n\d+ \[label="1"\]', dot)) == 3


def test_blah_example_weight_sharing(data):
    q, params = _blah_example(ember, data)
    labels = _labels(draw_graph(q, params))
    assert labels.count("DotBackward0") == 1
    assert labels.count("TanhBackward0") == 4
    assert labels.count("MvBackward0") == 4
    assert labels.count("SelectBackward0") == 4
    # w is used four times but is one leaf: one AccumulateGrad, one "w [3, 10, 10]" box.
    assert labels.count("AccumulateGrad") == 1
    assert labels.count("w [3, 10, 10]") == 1


@requires_torch
@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_same_dot_as_torch_graph(example, data):
    e_root, e_params = EXAMPLES[example](ember, data)
    t_root, t_params = EXAMPLES[example](torch, data)
    assert draw_graph(e_root, e_params) == draw_graph(t_root, t_params)


def test_unnamed_leaves_and_module_params():
    lin_w = ember.randn(3, 4, requires_grad=True)
    y = (ember.randn(2, 4) @ lin_w.t()).relu().sum()
    dot = draw_graph(y)
    labels = _labels(dot)
    assert labels[0] == "[]" and "[3, 4]" in labels
    dot2 = draw_graph(y, [("weight", lin_w)], root_name="y")
    assert '"weight [3, 4]"' in dot2 and '"y []"' in dot2


def test_leaf_root_and_several_roots():
    a = ember.randn(2, requires_grad=True)
    assert _labels(draw_graph(a, {"a": a})) == ["a [2]"]
    b = a * 2
    c = a + 1
    labels = _labels(draw_graph([b, c], {"a": a}))
    assert labels.count("AccumulateGrad") == 1 and labels.count("a [2]") == 1
    assert "MulBackward0" in labels and "AddBackward0" in labels


def test_deep_graph_no_recursion():
    x = ember.randn(3, requires_grad=True)
    y = x
    for _ in range(3000):
        y = y * 1.0001
    labels = _labels(draw_graph(y))
    assert labels.count("MulBackward0") == 3000


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's `dot` program is not installed")
@pytest.mark.parametrize("fmt,magic", [("png", b"\x89PNG"), ("svg", b"<")])
def test_render(tmp_path, data, fmt, magic):
    loss, params = _mlp_example(ember, data)
    out = render_graph(loss, tmp_path / f"g.{fmt}", params=params)
    content = out.read_bytes()
    assert content.lstrip()[:len(magic)] == magic
    if fmt == "svg":
        text = content.decode()
        assert "MvBackward0" in text and "w1 [20, 10]" in text
    # explicit format wins over the suffix
    out2 = render_graph(loss, tmp_path / "graph.img", format="png", params=params)
    assert out2.read_bytes()[:4] == b"\x89PNG"


def test_render_without_dot(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    x = ember.randn(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="Graphviz"):
        render_graph(x.sum(), tmp_path / "g.png")
