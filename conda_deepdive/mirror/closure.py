"""``--closure SPEC``: mirror only what the solver could ever look at for a request.

conda-mirror's ``--include-depends`` follows ``depends`` strings with its own matcher, which
reads a build *string* with a build-*number* matcher and ignores ``noarch/``, so closures come out
incomplete, and users find out offline. Here the closure is the solver's own answer to "what
could matter": the **reduced index** of stage 5 (:func:`conda_deepdive.solve.reduction.get_reduced_index`),
computed over the platform's records *and* ``noarch``'s together, exactly as a client sees them.
A solve of the same request against the mirror alone then sees the same candidates as against
upstream, so it gives the same answer.

Three details:

* Virtual packages (``__glibc``, ``__cuda`` …) are not in any channel; the client adds its own.
  The mirror does not know the client's machine, so it adds *permissive* virtual records — for
  each virtual dependency, one version that satisfies it — and keeps every record some machine
  could use.
* Each ``--closure`` spec is reduced on its own and all of them together; the union is kept, and
  :attr:`Closure.pulled_by` says which spec(s) pulled each file in.
* conda makes ``pip`` a dependency of ``python`` when it loads an index
  (``add_pip_as_python_dependency``); the closure does the same, or a mirror of "numpy" would
  lack pip and the offline solve would fail where the online one succeeds.
* A kept ``.conda`` record keeps its ``.tar.bz2`` twin (and the reverse) when the filters kept it:
  a client with ``use_only_tar_bz2`` sees the same set.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from conda_deepdive.values import value_object

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["Closure", "compute_closure"]

_CONDA, _BZ2 = ".conda", ".tar.bz2"
_VIRTUAL_MD5 = "12345678901234567890123456789012"


@value_object(frozen=True)
class Closure:
    """The closure's verdict: ``kept[subdir]`` file names; ``pulled_by[(subdir, fn)]`` specs."""

    specs: tuple[str, ...]
    kept: Mapping[str, frozenset[str]]
    pulled_by: Mapping[tuple[str, str], tuple[str, ...]]
    unsatisfiable: tuple[str, ...] = ()

    def __repr__(self) -> str:
        n = sum(len(v) for v in self.kept.values())
        return f"Closure({list(self.specs)}: {n} files over {sorted(self.kept)})"

    def summary(self) -> dict:
        return {"specs": list(self.specs), "kept": {k: len(v) for k, v in self.kept.items()},
                "unsatisfiable": list(self.unsatisfiable),
                "pulled_by": {f"{sd}/{fn}": list(s) for (sd, fn), s in sorted(self.pulled_by.items())}}


def _candidates(text: str) -> list[str]:
    numbers = re.findall(r"\d+(?:\.\d+)*", text)
    out = []
    for n in numbers:
        out += [n, n + ".1", n + ".99"]
        parts = n.split(".")
        if parts[0].isdigit():
            out.append(str(int(parts[0]) - 1) if int(parts[0]) > 0 else "0")
    return out + ["0", "1", "9999"]


def _virtual_records(records: Iterable[Any], subdir: str) -> list:
    """One permissive virtual record per distinct virtual dependency (see the module docstring)."""
    from conda_deepdive.models.match_spec import MatchSpec
    from conda_deepdive.models.records import PackageRecord

    wanted: dict[str, set[str]] = {}
    for rec in records:
        for dep in rec.depends:
            if dep.startswith("__"):
                wanted.setdefault(dep.split()[0], set()).add(dep)
    out, seen = [], set()
    for name, deps in sorted(wanted.items()):
        for dep in sorted(deps):
            try:
                ms = MatchSpec(dep)
            except Exception:  # an unparsable spec makes its record invalid anyway
                continue
            tokens = dep.split()[1:]
            builds = [t for t in tokens[1:]] + ["0"]
            for version in _candidates(dep):
                build = next((b for b in builds if ms.match({"name": name, "version": version,
                                                             "build": b, "build_number": 0})), None)
                if build is not None:
                    if (name, version, build) not in seen:
                        seen.add((name, version, build))
                        out.append(PackageRecord.from_dict({
                            "name": name, "version": version, "build": build, "build_number": 0,
                            "channel": "@", "subdir": subdir, "fn": f"{name}-{version}-{build}",
                            "md5": _VIRTUAL_MD5, "depends": [], "package_type": "virtual_system"}))
                    break
    return out


def _parses(rec: Any) -> bool:
    """Whether the record's version and dependency specs can be read (untrusted index: one bad
    record must not make every spec of the closure look unsatisfiable)."""
    from conda_deepdive.models.match_spec import MatchSpec
    from conda_deepdive.models.version import VersionOrder

    try:
        VersionOrder(rec.version)
        for dep in (*rec.depends, *rec.constrains):
            MatchSpec(dep)
    except Exception:
        return False
    return True


def compute_closure(
    specs: Iterable[str],
    packages_by_subdir: Mapping[str, Mapping[str, Mapping[str, Any]]],
    channel: Any,
    platform_subdir: str,
    info_by_subdir: Mapping[str, Mapping[str, Any]] | None = None,
    add_pip: bool = True,
) -> Closure:
    """The reduced index of ``specs`` over ``packages_by_subdir`` (``{subdir: {fn: record dict}}``).

    ``platform_subdir`` names the client platform whose virtual packages are simulated;
    ``add_pip`` is the client's ``add_pip_as_python_dependency`` (conda's default: ``pip`` is a
    dependency of every ``python``, so the closure must keep pip too).
    """
    from conda_deepdive.exceptions import CondaError
    from conda_deepdive.models.records import PackageRecord
    from conda_deepdive.solve.resolve import Resolve

    specs = tuple(specs)
    records, where = [], {}
    for subdir, packages in packages_by_subdir.items():
        info = (info_by_subdir or {}).get(subdir) or {}
        conda_twins = {fn[: -len(_CONDA)] + _BZ2 for fn in packages if fn.endswith(_CONDA)}
        for fn, raw in packages.items():
            if fn in conda_twins:
                continue  # conda hides a .tar.bz2 whose .conda twin exists; the twin is re-added below
            if add_pip and raw.get("name") == "python" and str(raw.get("version", "")).startswith(("2.", "3.")):
                raw = {**raw, "depends": [*(raw.get("depends") or ()), "pip"]}  # as conda's SubdirData
            rec = PackageRecord.from_repodata(fn, raw, channel, subdir, None, info.get("arch"),
                                              info.get("platform"))
            if not _parses(rec):
                continue  # an unreadable version or dependency: no solver could use it either
            records.append(rec)
            where[id(rec)] = (subdir, fn)
    r = Resolve(records + _virtual_records(records, platform_subdir), channel_priority="flexible")
    pulled: dict[tuple[str, str], list[str]] = {}
    unsat: list[str] = []

    def add(reduced: Any, label: str) -> None:
        for rec in reduced:
            key = where.get(id(rec))
            if key is not None:
                pulled.setdefault(key, [])
                if label not in pulled[key]:
                    pulled[key].append(label)

    for spec in specs:
        try:
            reduced = r.get_reduced_index((spec,))
        except CondaError:
            reduced = ()
        if not len(reduced):
            unsat.append(spec)
        add(reduced, spec)
    if len(specs) > 1:
        try:
            add(r.get_reduced_index(specs), " + ".join(specs))
        except CondaError:
            pass
    # the twins of kept records
    for (subdir, fn), why in list(pulled.items()):
        twin = fn[: -len(_CONDA)] + _BZ2 if fn.endswith(_CONDA) else (
            fn[: -len(_BZ2)] + _CONDA if fn.endswith(_BZ2) else None)
        if twin and twin in packages_by_subdir.get(subdir, {}) and (subdir, twin) not in pulled:
            pulled[(subdir, twin)] = list(why)
    kept: dict[str, set[str]] = {sd: set() for sd in packages_by_subdir}
    for subdir, fn in pulled:
        kept[subdir].add(fn)
    return Closure(specs, {sd: frozenset(v) for sd, v in kept.items()},
                   {k: tuple(v) for k, v in sorted(pulled.items())}, tuple(unsat))
