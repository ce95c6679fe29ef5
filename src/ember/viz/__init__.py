"""``ember.viz``: pictures and tables of networks — the autograd graph behind a tensor as Graphviz
DOT (``draw_graph``, ``render_graph``) and the notes' per-layer table (``summary``)."""
from .graph import draw_graph, render_graph
from .summary import LayerInfo, Summary, summary

__all__ = ["draw_graph", "render_graph", "summary", "Summary", "LayerInfo"]
