"""The package layout is the pipeline: imports point one way, in stage order, and never in a circle.

``ls conda_deepdive/`` reads like conda's install deep dive (see docs/ARCHITECTURE.md). This test
computes the import graph with :mod:`ast` — every ``import`` statement, including the ones inside
functions — and fails on an import that points *up* the pipeline or on two modules that import
each other (directly or around a longer cycle), naming the edge.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "conda_deepdive"

#: Layers, lowest first. A module may import from its own layer or a lower one. The longest
#: matching prefix wins (``cli.parser`` is stage 1 and needs nothing; the rest of ``cli`` is the
#: top: the commands drive the pipeline and its renderers).
LAYERS: dict[str, int] = {
    "conda_deepdive": 0,              # __version__, CONDA_VERSION
    "conda_deepdive.__main__": 13,
    "conda_deepdive.exceptions": 0,
    "conda_deepdive.reporting": 0,
    "conda_deepdive.values": 0,       # value objects without dataclasses' start-up cost
    "conda_deepdive.cli.parser": 0,   # stage 1: conda.cli.conda_argparse — argparse only
    "conda_deepdive.cli": 12,
    "conda_deepdive.models": 1,
    "conda_deepdive.config": 2,       # stage 2
    "conda_deepdive.index": 3,        # stage 3
    "conda_deepdive.solve": 4,        # stages 4-6
    "conda_deepdive.fetch": 5,        # stage 8
    "conda_deepdive.link": 6,         # stage 9
    "conda_deepdive.transaction": 7,  # stage 7: UnlinkLinkTransaction drives fetch and link
    "conda_deepdive.mirror": 8,
    "conda_deepdive.pipeline": 9,
    "conda_deepdive.teaching": 10,
    "conda_deepdive.render": 10,
    "conda_deepdive.course": 11,
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Every conda_deepdive module ``name`` imports (``from pkg import sub`` counts as ``pkg.sub``)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            subs = [f"{module}.{alias.name}" for alias in node.names]
            targets = [s for s in subs if s in known] or [module]
        else:
            continue
        for target in targets:
            while target and target not in known:  # `import a.b.c` names module a.b.c or its package
                target = target.rpartition(".")[0]
            if target and target.startswith("conda_deepdive") and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def layer_of(module: str) -> int:
    best = max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len)
    return LAYERS[best]


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_every_module_has_a_layer():
    unplaced = [m for m in _modules() if not any(m == p or m.startswith(p + ".") for p in LAYERS)]
    assert unplaced == []


def test_imports_point_down_the_pipeline():
    graph = import_graph()
    upward = sorted(f"{a} -> {b} (layer {layer_of(a)} imports layer {layer_of(b)})"
                    for a, targets in graph.items() for b in targets if layer_of(b) > layer_of(a))
    assert upward == [], "imports that point up the pipeline:\n" + "\n".join(upward)


def test_no_import_cycles():
    cycles = _cycles(import_graph())
    graph = import_graph()
    described = []
    for component in cycles:
        members = set(component)
        edges = sorted(f"{a} -> {b}" for a in component for b in graph[a] if b in members)
        described.append("cycle: " + ", ".join(edges))
    assert cycles == [], "\n".join(described)


def test_packages_say_what_they_are():
    """Each stage package's docstring names its conda counterparts and what it exports."""
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert "conda" in doc and len(doc.splitlines()) >= 5, f"{init} needs a teaching docstring"


def test_the_checker_sees_cycles_and_upward_edges():
    """Guards against a check that cannot fail: a longer cycle is found, and the layers order the
    stages (cli.parser is stage 1 at the bottom; the commands are the top)."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
    order = ["conda_deepdive.cli.parser", "conda_deepdive.models.version", "conda_deepdive.config.context",
             "conda_deepdive.index.index", "conda_deepdive.solve.solve", "conda_deepdive.fetch.package_cache",
             "conda_deepdive.link.path_actions", "conda_deepdive.transaction.transaction",
             "conda_deepdive.pipeline", "conda_deepdive.render.console", "conda_deepdive.cli.main"]
    layers = [layer_of(m) for m in order]
    assert layers == sorted(layers) and len(set(layers)) == len(layers)


def test_a_lazy_export_loads_its_module_once_and_is_then_a_plain_attribute():
    import subprocess
    import sys

    code = ("import sys, conda_deepdive.models as m\n"
            "assert 'conda_deepdive.models.match_spec' not in sys.modules\n"
            "from conda_deepdive.models import MatchSpec\n"
            "assert vars(m)['MatchSpec'] is MatchSpec is sys.modules['conda_deepdive.models.match_spec'].MatchSpec\n")
    subprocess.run([sys.executable, "-c", code], check=True)
