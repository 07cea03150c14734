"""``current_repodata.json`` for the mirrored set, computed as conda-index computes it.

conda tries ``current_repodata.json`` first (``repodata_fns``): a small index holding only what
a fresh install most likely needs, so the first solve is fast; when that solve fails conda falls
back to the full ``repodata.json``. conda-index (``conda_index.index.current_repodata``) builds it:

1. per package name, every record of the **newest version** (all its builds);
2. one pass over those records: a dependency that nothing kept satisfies brings in every record
   of the newest version that does satisfy it (``_add_missing_deps``);
3. a name whose kept records carry ``track_features``/``features`` also keeps its newest
   feature-free record not newer than the latest (``_add_prev_ver_for_features``).

Records are read as conda reads them (a ``.tar.bz2`` whose ``.conda`` twin exists is hidden),
and a kept ``.conda`` record gets ``legacy_bz2_md5`` — its twin's md5 — as conda-index adds it.
The mirror recomputes this file for the *kept* set: upstream's ``current_repodata.json`` may name
files the mirror does not have.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["build_current_repodata"]

_CONDA, _BZ2 = ".conda", ".tar.bz2"


def _resolve(records: list) -> Any:
    from conda_deepdive.solve.resolve import Resolve

    return Resolve(records, channel_priority="disabled")


def _add_missing_deps(new_r: Any, original_r: Any) -> list:
    from conda_deepdive.models.match_spec import MatchSpec

    expanded = {name: set(group) for name, group in new_r.groups.items()}
    seen: set[str] = set()
    for _, group in new_r.groups.items():
        for rec in group:
            for dep in rec.depends:
                if dep in seen:
                    continue
                ms = MatchSpec(dep)
                if not new_r.find_matches(ms):
                    matches = original_r.find_matches(ms)
                    if matches:
                        version = matches[0].version
                        expanded[ms.name] = expanded.get(ms.name, set()) | set(
                            original_r.find_matches(MatchSpec(f"{ms.name}={version}")))
                seen.add(dep)
    return [p for group in expanded.values() for p in group]


def _add_prev_ver_for_features(new_r: Any, orig_r: Any) -> list:
    from conda_deepdive.models.version import VersionOrder

    expanded = {name: set(group) for name, group in new_r.groups.items()}
    for name, group in new_r.groups.items():
        if not any(m.track_features or m.features for m in group):
            continue
        latest = VersionOrder(str(group[0].version))
        for m in orig_r.groups.get(name, ()):
            if VersionOrder(str(m.version)) <= latest and not (m.track_features or m.features):
                expanded[name] = {m} | expanded[name]
                break
    return [p for group in expanded.values() for p in group]


def build_current_repodata(repodata: Mapping[str, Any], channel: Any, subdir: str,
                           pins: Mapping[str, list] | None = None) -> dict:
    """The ``current_repodata.json`` document for ``repodata`` (conda-index's algorithm)."""
    from conda_deepdive.models.match_spec import MatchSpec
    from conda_deepdive.models.records import PackageRecord

    legacy = repodata.get("packages") or {}
    modern = repodata.get("packages.conda") or {}
    info = repodata.get("info") or {}
    shadowed = {fn[: -len(_CONDA)] + _BZ2 for fn in modern}
    records = []
    for key in ("packages.conda", "packages"):
        for fn, raw in (repodata.get(key) or {}).items():
            if key == "packages" and fn in shadowed:
                continue
            records.append(PackageRecord.from_repodata(fn, raw, channel, subdir, None,
                                                       info.get("arch"), info.get("platform")))
    r = _resolve(records)
    groups: dict[str, set] = {}
    for name, group in r.groups.items():
        version = group[0].version
        matches = set(r.find_matches(MatchSpec(f"{name}={version}")))
        for pin in (pins or {}).get(name, ()):
            found = r.find_matches(MatchSpec(f"{name}={pin}"))
            if found:
                matches.update(r.find_matches(MatchSpec(f"{name}={found[0].version}")))
        groups[name] = matches
    new_r = _resolve([p for g in groups.values() for p in g])
    new_r = _resolve(_add_missing_deps(new_r, r))
    keep = _add_prev_ver_for_features(new_r, r)

    current = {k: copy.deepcopy(v) for k, v in repodata.items() if k not in ("packages", "packages.conda")}
    packages: dict[str, Any] = {}
    conda_packages: dict[str, Any] = {}
    for rec in keep:
        fn = rec.fn
        if fn.endswith(_CONDA):
            entry = dict(modern[fn])
            entry["legacy_bz2_md5"] = (legacy.get(fn[: -len(_CONDA)] + _BZ2) or {}).get("md5")
            conda_packages[fn] = entry
        elif fn.endswith(_BZ2):
            packages[fn] = legacy[fn]
    current["packages"] = packages
    current["packages.conda"] = conda_packages
    return current
