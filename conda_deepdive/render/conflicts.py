"""A failed solve, drawn as a tree.

conda explains an ``UnsatisfiableError`` with *chains*: ``pysam -> python=2.7 -> sqlite[...]``
means "you asked for pysam, which needs python 2.7, which needs some sqlite". The chains for one
conflicting package share their beginnings, so a tree (a trie of the chains) shows at a glance
which of your requests pull in which incompatible requirements.
"""

from __future__ import annotations

import re

from conda_deepdive.values import field, value_object

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["ConflictGroup", "conflict_groups", "conflict_tree"]

_HEADER = re.compile(r"^Package (?P<name>\S+) conflicts for:$")


@value_object
class _Node:
    label: str
    children: dict[str, "_Node"] = field(default_factory=dict)

    def add(self, path: list[str]) -> None:
        if path:
            child = self.children.setdefault(path[0], _Node(path[0]))
            child.add(path[1:])


@value_object(frozen=True)
class ConflictGroup:
    """One "Package X conflicts for:" block: the package and every chain leading to it."""

    package: str
    chains: tuple[tuple[str, ...], ...]

    def summary(self) -> dict:
        return {"package": self.package, "chains": [" -> ".join(c) for c in self.chains]}


def conflict_groups(error: Any) -> list[ConflictGroup]:
    """The conflict blocks of an UnsatisfiableError, from structured data or from its message.

    Sorted by package name: conda builds its message from sets, so the order of the blocks can
    change from one run to the next; a tree for slides and tests should not."""
    structured = getattr(error, "conflict_groups", None)
    if callable(structured):
        return sorted(structured(), key=lambda g: g.package)
    return sorted(_parse_groups(error), key=lambda g: g.package)


def _parse_groups(error: Any) -> list[ConflictGroup]:
    groups: list[ConflictGroup] = []
    current: str | None = None
    chains: list[tuple[str, ...]] = []
    lines = str(error).splitlines()
    for line in lines + [""]:
        match = _HEADER.match(line.strip())
        if match or (not line.strip() and current is not None):
            if current is not None:
                groups.append(ConflictGroup(current, tuple(sorted(chains))))
            current, chains = (match.group("name"), []) if match else (None, [])
            continue
        if current is not None and line.strip():
            chains.append(tuple(part.strip() for part in line.strip().split(" -> ")))
    if not groups:
        # "incompatible with your system" style: one chain per line starting with "  - "
        system = [tuple(p.strip() for p in line.strip()[2:].split(" -> "))
                  for line in lines if line.strip().startswith("- ") and " -> " in line]
        if system:
            groups.append(ConflictGroup("your system", tuple(sorted(system))))
    return groups


def conflict_tree(error: Any):
    """A rich Tree of the conflict: requested packages at the first level, the paths below."""
    from rich.text import Text
    from rich.tree import Tree

    tree = Tree(Text(f"{type(error).__name__}: the request cannot be satisfied", style="bold red"))
    groups = conflict_groups(error)
    if not groups:
        tree.add(Text(str(error)))
        return tree
    for group in groups:
        root = _Node(group.package)
        for chain in group.chains:
            root.add(list(chain))
        branch = tree.add(Text.assemble(("conflict on ", "bold"), (group.package, "bold yellow")))
        _attach(branch, root)
    return tree


def _attach(branch: Any, node: _Node) -> None:
    from rich.text import Text

    for label in sorted(node.children):
        child = node.children[label]
        # leaves are the conflicting requirements themselves; Text() keeps '[...]' literal
        _attach(branch.add(Text(label, style="yellow" if not child.children else "")), child)
