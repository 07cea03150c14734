"""The solution as a dependency graph (networkx): a text tree, DOT, and a small SVG picture.

What to notice: conda's solver answers with a flat *set* of records; the graph is something we
rebuild from each record's ``depends``. Packages nobody depends on are the *roots* — usually the
ones you asked for — and the order conda links packages in is a topological order of this graph
(dependencies first), which is why ``python`` is linked before ``numpy``.
"""

from __future__ import annotations

from html import escape
from collections.abc import Iterable

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["dependency_graph", "roots", "text_tree", "to_dot", "to_svg", "why_chains", "write_graph"]


def _dep_name(spec: str) -> str:
    # a depends entry is "name [version [build]]"; the name is the first word
    return spec.split()[0].split("[")[0] if spec.strip() else spec


def dependency_graph(records: Iterable[Any]):
    """A ``networkx.DiGraph``: an edge ``a -> b`` when record ``a`` depends on ``b`` by name."""
    import networkx as nx

    graph = nx.DiGraph()
    by_name = {}
    for rec in records:
        by_name[rec.name] = rec
        graph.add_node(rec.name, label=f"{rec.name} {rec.version}", build=rec.build)
    for rec in by_name.values():
        for spec in rec.depends:
            dep = _dep_name(spec)
            if dep in by_name and dep != rec.name:
                graph.add_edge(rec.name, dep, spec=spec)
    return graph


def roots(graph) -> list[str]:
    """Nodes nothing depends on, sorted (the requested packages, typically)."""
    return sorted(n for n in graph.nodes if graph.in_degree(n) == 0)


def text_tree(graph, *, max_depth: int | None = 6) -> str:
    """An indented tree from each root; a package already shown is marked ``(*)`` and not expanded."""
    lines: list[str] = []
    seen: set[str] = set()

    def walk(node: str, prefix: str, last: bool, depth: int) -> None:
        label = graph.nodes[node].get("label", node)
        branch = "" if depth == 0 else ("└── " if last else "├── ")
        repeat = node in seen
        lines.append(f"{prefix}{branch}{label}{' (*)' if repeat else ''}")
        if repeat or (max_depth is not None and depth >= max_depth):
            return
        seen.add(node)
        children = sorted(graph.successors(node))
        if max_depth is not None and depth + 1 >= max_depth and children:
            # one line for the level we do not expand, so nothing silently disappears
            hidden = ", ".join(children)
            lines.append(f"{prefix if depth == 0 else prefix + ('    ' if last else '│   ')}└── … {hidden}")
            return
        child_prefix = prefix if depth == 0 else prefix + ("    " if last else "│   ")
        for i, child in enumerate(children):
            walk(child, child_prefix, i == len(children) - 1, depth + 1)

    for root in roots(graph) or sorted(graph.nodes)[:1]:
        walk(root, "", True, 0)
    return "\n".join(lines)


def to_dot(graph, name: str = "solution") -> str:
    """Graphviz DOT text (deterministic: nodes and edges sorted)."""
    out = [f'digraph "{name}" {{', "  rankdir=TB;", '  node [shape=box, fontname="Helvetica"];']
    for node in sorted(graph.nodes):
        label = graph.nodes[node].get("label", node).replace('"', '\\"')
        out.append(f'  "{node}" [label="{label}"];')
    for a, b in sorted(graph.edges):
        out.append(f'  "{a}" -> "{b}";')
    out.append("}")
    return "\n".join(out) + "\n"


def _layers(graph) -> list[list[str]]:
    import networkx as nx

    if nx.is_directed_acyclic_graph(graph):
        return [sorted(layer) for layer in nx.topological_generations(graph)]
    # a dependency cycle (rare but legal in conda): fall back to one row per strongly connected part
    condensed = nx.condensation(graph)
    return [
        sorted(n for c in layer for n in condensed.nodes[c]["members"])
        for layer in nx.topological_generations(condensed)
    ]


def to_svg(graph, *, box_w: int = 150, box_h: int = 34, gap_x: int = 24, gap_y: int = 60) -> str:
    """A layered picture of the graph as standalone SVG (no graphviz needed; deterministic)."""
    layers = _layers(graph) or [[]]
    width = max(len(layer) for layer in layers) * (box_w + gap_x) + gap_x
    height = len(layers) * (box_h + gap_y) + gap_y
    pos: dict[str, tuple[int, int]] = {}
    for row, layer in enumerate(layers):
        offset = (width - len(layer) * (box_w + gap_x) + gap_x) // 2
        for col, node in enumerate(layer):
            pos[node] = (offset + col * (box_w + gap_x), gap_y // 2 + row * (box_h + gap_y))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" font-size="12">',
        '<rect width="100%" height="100%" fill="white"/>',
    ]
    for a, b in sorted(graph.edges):
        (x1, y1), (x2, y2) = pos[a], pos[b]
        parts.append(
            f'<line x1="{x1 + box_w // 2}" y1="{y1 + box_h}" x2="{x2 + box_w // 2}" y2="{y2}" '
            'stroke="#999" stroke-width="1"/>'
        )
    for node in sorted(pos):
        x, y = pos[node]
        label = escape(graph.nodes[node].get("label", node))
        parts.append(
            f'<rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="5" fill="#eef4fb" stroke="#3b6ea5"/>'
            f'<text x="{x + box_w // 2}" y="{y + box_h // 2 + 4}" text-anchor="middle">{label}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def why_chains(graph, requested: Iterable[str]) -> dict[str, list[list[str]]]:
    """For every package, the shortest dependency chains that lead to it from a requested name.

    ``{"libopenblas": [["numpy", "libopenblas"]], "numpy": [["numpy"]], ...}`` — each chain starts
    at a requested package and follows ``depends`` edges. A package no requested package
    reaches gets ``[]`` (it is there for another reason: history, a pin, an installed package).
    """
    import networkx as nx

    wanted = [r for r in requested if r in graph]
    out: dict[str, list[list[str]]] = {n: [] for n in graph.nodes}
    for root in sorted(wanted):
        lengths = nx.single_source_shortest_path_length(graph, root)
        for node, dist in lengths.items():
            chains = [list(p) for p in nx.all_shortest_paths(graph, root, node)]
            current = out[node]
            if not current or len(current[0]) > dist + 1:
                out[node] = sorted(chains)
            elif len(current[0]) == dist + 1:
                out[node] = sorted(current + chains)
    return out


def write_graph(graph, path: str) -> str:
    """Write ``graph`` as ``.dot`` (Graphviz text) or ``.svg`` (a picture); returns the format."""
    from pathlib import Path

    from conda_deepdive.exceptions import CondaValueError

    target = Path(path)
    suffix = target.suffix.lower()
    if suffix == ".dot" or suffix == ".gv":
        target.write_text(to_dot(graph), encoding="utf-8")
        return "dot"
    if suffix == ".svg":
        target.write_text(to_svg(graph), encoding="utf-8")
        return "svg"
    raise CondaValueError(f"cannot write a dependency graph to '{target.name}': use a .dot or .svg file name")
