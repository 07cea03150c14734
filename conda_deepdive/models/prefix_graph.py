"""The dependency graph of a set of package records (``conda.models.prefix_graph``).

The solver hands back a *set* of records; conda turns it into a graph whose edges are "depends
on" (a record's ``depends`` specs matched against the other records of the set) and sorts it
topologically, so dependencies come before the packages that need them (link order) and the
reverse for unlink order. The same graph answers the solver's structural questions without SAT:

* ``remove_spec(spec)`` — remove a package *and everything that depends on it* (``conda remove``);
* ``prune()`` — drop records nothing needs and nobody asked for (``--prune``);
* ``remove_youngest_descendant_nodes_with_specs()`` — ``--only-deps``;
* ``all_ancestors(node)`` — the dependency closure (``--update-deps``).

What to notice: the topological sort is deterministic — among records that are ready at the same
time, names are taken alphabetically, and a dependency cycle is broken at the record with the
fewest parents (conda logs, it does not fail).
"""

from __future__ import annotations

from collections.abc import Iterable

from conda_deepdive.models.match_spec import MatchSpec

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["PrefixGraph"]


def _ms(spec: Any) -> Any:
    return spec if isinstance(spec, MatchSpec) else MatchSpec(spec)


class PrefixGraph:
    """Records plus "depends on" edges; ``graph[node]`` is the set of the node's parents
    (the records it depends on). ``records`` is the topologically sorted tuple."""

    def __init__(self, records: Iterable[Any], specs: Iterable[Any] = ()):
        records = tuple(records)
        specs = tuple(_ms(s) for s in specs)
        by_name: dict[str, list] = {}
        for rec in records:
            by_name.setdefault(rec.name, []).append(rec)
        self.graph: dict[Any, set] = {}
        self.spec_matches: dict[Any, list] = {}
        for node in records:
            parents = set()
            for dep in getattr(node, "depends", ()) or ():
                ms = _ms(dep)
                name = ms.get_exact_value("name")
                candidates = by_name.get(name, ()) if name else records
                parents.update(rec for rec in candidates if ms.match(rec))
            self.graph[node] = parents
            matching = [s for s in specs if s.match(node)]
            if matching:
                self.spec_matches[node] = matching
        self._toposort()

    # -- sorting ---------------------------------------------------------------------------------
    @property
    def records(self) -> tuple:
        return tuple(self.graph)

    def __iter__(self):
        return iter(self.graph)

    def __len__(self) -> int:
        return len(self.graph)

    def __repr__(self) -> str:
        names = ", ".join(r.name for r in self.graph)
        return f"PrefixGraph({len(self.graph)} records: {names})"

    def _toposort(self) -> None:
        order = list(self._sorted_nodes({k: set(v) for k, v in self.graph.items()}))
        self.graph = {node: self.graph[node] for node in order}

    @staticmethod
    def _prepare(graph: dict) -> None:
        # python must come before noarch: python packages, and pip (python's dependency when
        # add_pip_as_python_dependency is on) must not make a cycle with python
        for node, parents in graph.items():
            parents.discard(node)
            if node.name == "python":
                for parent in tuple(parents):
                    if parent.name == "pip":
                        parents.discard(parent)

    @classmethod
    def _sorted_nodes(cls, graph: dict):
        cls._prepare(graph)
        has_children = {p for parents in graph.values() for p in parents}
        # records unconnected to anything go first, alphabetically
        lonely = sorted((n for n, ps in graph.items() if not ps and n not in has_children),
                        key=lambda r: r.name)
        for node in lonely:
            graph.pop(node)
            yield node
        while graph:
            ready = sorted((n for n, ps in graph.items() if not ps), key=lambda r: r.name)
            if not ready:
                # a cycle: break it at the record with the fewest parents
                node = min(graph, key=lambda r: (len(graph[r]), r.dist_str()))
                ready = [node]
            for node in ready:
                graph.pop(node)
                yield node
            done = set(ready)
            for parents in graph.values():
                parents -= done

    # -- structure -------------------------------------------------------------------------------
    def get_node_by_name(self, name: str) -> Any:
        return next((n for n in self.graph if n.name == name), None)

    def children(self, node: Any) -> set:
        return {n for n, parents in self.graph.items() if node in parents}

    def all_descendants(self, node: Any) -> tuple:
        """Everything that (directly or not) depends on ``node``, in graph order."""
        seen: set = set()
        todo = [node]
        while todo:
            for child in self.children(todo.pop()):
                if child not in seen:
                    seen.add(child)
                    todo.append(child)
        return tuple(n for n in self.graph if n in seen)

    def all_ancestors(self, node: Any) -> tuple:
        """Everything ``node`` (directly or not) depends on, in graph order."""
        seen: set = set()
        todo = [node]
        while todo:
            for parent in self.graph.get(todo.pop(), ()):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return tuple(n for n in self.graph if n in seen)

    def _remove_node(self, node: Any) -> None:
        for parents in self.graph.values():
            parents.discard(node)
        self.graph.pop(node, None)
        self.spec_matches.pop(node, None)

    # -- the solver's questions ------------------------------------------------------------------
    def remove_spec(self, spec: Any) -> tuple:
        """Remove the records matching ``spec`` and everything depending on them."""
        from conda_deepdive.models import MatchSpec

        spec = _ms(spec)
        matches = {n for n in self.graph if spec.match(n)}
        for feature in spec.get_raw_value("track_features") or ():
            feature_spec = MatchSpec(features=feature)
            matches.update(n for n in self.graph if feature_spec.match(n))
        doomed = set()
        for node in matches:
            doomed.add(node)
            doomed.update(self.all_descendants(node))
        removed = tuple(n for n in self.graph if n in doomed)
        for node in removed:
            self._remove_node(node)
        self._toposort()
        return removed

    def prune(self) -> tuple:
        """Repeatedly drop leaves (records nothing depends on) that no spec asked for."""
        removed: list = []
        while True:
            has_children = {p for parents in self.graph.values() for p in parents}
            leaves = [n for n in self.graph if n not in has_children and not self.spec_matches.get(n)]
            if not leaves:
                break
            for node in leaves:
                removed.append(node)
                self._remove_node(node)
        self._toposort()
        return tuple(removed)

    def remove_youngest_descendant_nodes_with_specs(self) -> tuple:
        """Remove the spec-matching records that nothing else depends on (``--only-deps``)."""
        has_children = {p for parents in self.graph.values() for p in parents}
        removed = tuple(n for n in self.graph if n not in has_children and n in self.spec_matches)
        for node in removed:
            self._remove_node(node)
        self._toposort()
        return removed
