"""Just enough version ordering and spec matching to index the teaching channel.

The channel builder plays the part of ``conda-index``, which needs to answer two questions:
*which record of a package is the newest?* (for ``channeldata.json`` and
``current_repodata.json``) and *which records satisfy this dependency?* (so
``current_repodata.json`` can pull in what the newest packages need).

The project's real implementation of conda's ordering lives in ``conda_deepdive.models``;
this module is deliberately self-contained so that the committed channel bytes never change
because another module changed. It understands the spec forms our recipes use —
``name``, ``name 1.2.*``, ``name >=1.2,<2.0a0``, ``name 1.0 openblas``, ``name=1.2`` and ``|``
alternatives — and refuses anything else loudly rather than guessing.

What to notice: ``3.12.0a0 < 3.12 < 3.12.4`` — the ``a0`` suffix is how conda-build spells
"before any 3.12 release", which is why ``<3.12.0a0`` excludes every 3.12 pre-release too.
"""

from __future__ import annotations

import fnmatch
import re
from functools import total_ordering

from conda_deepdive.values import value_object

__all__ = ["Version", "Spec", "SpecError"]

_PART = re.compile(r"\d+|[a-zA-Z]+|\*")


class SpecError(ValueError):
    """A version or spec string outside the subset the builder understands."""


def _part_key(part: int | str) -> tuple:
    # conda's rules: numbers sort after strings; "dev" is before every other string and
    # "post" after every other string (but still before numbers).
    if isinstance(part, int):
        return (3, part, "")
    if part == "post":
        return (2, 0, "")
    if part == "dev":
        return (0, 0, "")
    return (1, 0, part)


@total_ordering
@value_object(frozen=True)
class Version:
    """A conda version string with conda's ordering (epoch and ``+local`` not needed here)."""

    text: str

    @property
    def components(self) -> tuple[tuple[int | str, ...], ...]:
        if not self.text or not re.fullmatch(r"[0-9A-Za-z._]+", self.text):
            raise SpecError(f"version {self.text!r} is not a plain conda version")
        comps = []
        for comp in re.split(r"[._]", self.text.lower()):
            parts: list[int | str] = [int(p) if p.isdigit() else p for p in _PART.findall(comp)]
            if parts and isinstance(parts[0], str):
                parts.insert(0, 0)  # "a0" sorts as "0a0", like conda
            comps.append(tuple(parts) or (0,))
        return tuple(comps)

    def _pair(self, other: "Version") -> tuple[tuple, tuple]:
        n = max(len(self.components), len(other.components))
        width = max(len(c) for c in self.components + other.components)
        def pad(v: Version) -> tuple:
            comps = list(v.components) + [(0,)] * (n - len(v.components))
            return tuple(tuple(_part_key(p) for p in c + (0,) * (width - len(c))) for c in comps)
        return pad(self), pad(other)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        a, b = self._pair(other)
        return a == b

    def __lt__(self, other: "Version") -> bool:
        a, b = self._pair(other)
        return a < b

    def __hash__(self) -> int:
        comps = list(self.components)
        while len(comps) > 1 and all(p == 0 for p in comps[-1]):
            comps.pop()  # 1.0 == 1.0.0, so they must hash alike
        return hash(tuple(comps))

    def startswith(self, prefix: "Version") -> bool:
        mine, theirs = self.components, prefix.components
        if len(theirs) > len(mine):
            return False
        return mine[: len(theirs) - 1] == theirs[:-1] and mine[len(theirs) - 1][: len(theirs[-1])] == theirs[-1]

    def __repr__(self) -> str:
        return f"Version({self.text!r})"


def _match_one(constraint: str, version: Version) -> bool:
    m = re.fullmatch(r"(>=|<=|==|!=|>|<|=)?([0-9A-Za-z_]+(?:\.[0-9A-Za-z_]+)*)(\.\*|\*)?", constraint)
    if not m:
        raise SpecError(f"version constraint {constraint!r} is not understood by the builder")
    op, text, star = m.group(1) or "", Version(m.group(2)), bool(m.group(3))
    if op in ("", "=") and (star or op == "="):
        return version.startswith(text)
    if op in ("", "=="):
        return version == text
    if star:
        raise SpecError(f"version constraint {constraint!r} mixes an operator with '*'")
    return {
        ">=": version >= text,
        "<=": version <= text,
        ">": version > text,
        "<": version < text,
        "!=": version != text,
    }[op]


@value_object(frozen=True)
class Spec:
    """``name [version [build]]`` or ``name=version``: the dependency forms the recipes use."""

    name: str
    version: str | None = None
    build: str | None = None

    @classmethod
    def parse(cls, text: str) -> "Spec":
        words = text.split()
        if len(words) == 1 and "=" in words[0] and not words[0].startswith("="):
            name, _, version = words[0].partition("=")
            return cls(name, "=" + version)
        if not 1 <= len(words) <= 3:
            raise SpecError(f"dependency {text!r} is not 'name [version [build]]'")
        return cls(*words)

    def match(self, name: str, version: str, build: str) -> bool:
        if name != self.name:
            return False
        if self.build is not None and not fnmatch.fnmatchcase(build, self.build):
            return False
        if self.version is None or self.version == "*":
            return True
        v = Version(version)
        return any(
            all(_match_one(c, v) for c in alternative.split(","))
            for alternative in self.version.split("|")
        )

    def __str__(self) -> str:
        return " ".join(p for p in (self.name, self.version, self.build) if p is not None)
