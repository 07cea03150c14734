"""Benchmark: conda_deepdive.models.version against baselines measured in the same run.

    python benchmarks/bench_version.py [--repeat N] [--big]

Data: every distinct version in ``../shared/data/channels/main-osx64-2018/osx-64/repodata.json``
(``--big`` adds free + bioconda osx-64 2018: the ~39k-record set the solver sees).

Baselines:
* ``packaging.version.Version`` (pypa/packaging, PEP 440 rules; versions it rejects are skipped
  for it, so it does *less* work than we do) -- parse + sort;
* ``naive tuple`` -- ``tuple((0, int) or (-1, str) per dot-piece)``: what a hand-rolled sort would
  do (wrong for conda, but a speed floor);
* ``conda-style loops`` -- our parsed components compared with zip_longest loops like conda's
  ``VersionOrder.__lt__`` (sorting via ``cmp_to_key``): shows what the precomputed key buys.
* spec matching: ``packaging.specifiers.SpecifierSet.contains`` for the PEP 440-expressible specs.
Each figure is the best of ``--repeat`` runs; caches are cleared before every cold run.
"""

from __future__ import annotations

import argparse
import functools
import json
import time
from itertools import zip_longest
from pathlib import Path

from conda_deepdive.exceptions import InvalidVersionSpec
from conda_deepdive.models import version as version_module
from conda_deepdive.models.version import VersionOrder
from conda_deepdive.models.version_spec import VersionSpec

ROOT = Path(__file__).resolve().parents[1]
CHANNELS = ROOT.parent / "shared" / "data" / "channels"
MAIN = CHANNELS / "main-osx64-2018" / "osx-64" / "repodata.json"
BIG = [CHANNELS / f"{c}-osx64-2018" / "osx-64" / "repodata.json" for c in ("free", "bioconda")]

# (conda spec, PEP 440 equivalent or None)
SPECS = [
    (">=1.2,<2", ">=1.2,<2"),
    ("!=1.0", "!=1.0"),
    ("~=1.4.2", "~=1.4.2"),
    (">=2.7,!=3.0.*,!=3.1.*,!=3.2.*", ">=2.7,!=3.0.*,!=3.1.*,!=3.2.*"),
    ("1.11.*", "==1.11.*"),
    ("<3", "<3"),
    ("=3.6", None),
    ("1.2.3|1.2.4|>=2.0,<2.1", None),
    ("*.7.*", None),
    ("^1\\.[0-9]+$", None),
]


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def duel(ours, baseline, repeat: int) -> tuple[float, float]:
    """Best-of-``repeat`` for both, alternating runs so machine noise hits both alike."""
    t_ours, t_base = float("inf"), float("inf")
    for _ in range(repeat):
        t_ours = min(t_ours, best(ours, 1))
        t_base = min(t_base, best(baseline, 1))
    return t_ours, t_base


def load_versions(paths: list[Path]) -> list[str]:
    out: list[str] = []
    for path in paths:
        data = json.loads(path.read_text())
        for group in ("packages", "packages.conda"):
            out.extend(rec["version"] for rec in data.get(group, {}).values())
    return out


def conda_style_cmp(a: VersionOrder, b: VersionOrder) -> int:
    """conda's comparison as explicit loops over the components (the algorithm, not our key)."""
    for t1, t2 in ((a.version, b.version), (a.local, b.local)):
        for v1, v2 in zip_longest(t1, t2, fillvalue=()):
            for c1, c2 in zip_longest(v1, v2, fillvalue=0):
                if c1 == c2:
                    continue
                s1, s2 = isinstance(c1, str), isinstance(c2, str)
                if s1 != s2:
                    return -1 if s1 else 1
                return -1 if c1 < c2 else 1
    return 0


def naive_key(v: str) -> tuple:
    return tuple((0, int(p)) if p.isdigit() else (-1, p) for p in v.split("."))


def report(label: str, ours: float, baseline: float, base_label: str) -> None:
    print(f"  {label:<44} ours {ours * 1e3:8.2f} ms | {base_label:<22} {baseline * 1e3:8.2f} ms"
          f" | ratio {baseline / ours:6.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--big", action="store_true", help="add free + bioconda osx-64 (39k records)")
    args = ap.parse_args()
    paths = [MAIN] + (BIG if args.big else [])
    all_versions = load_versions(paths)
    distinct = sorted(set(all_versions))
    print(f"{len(all_versions)} records, {len(distinct)} distinct versions from "
          f"{', '.join(p.parent.parent.name for p in paths)}")

    def ours_parse_sort():
        VersionOrder._cache_.clear()
        version_module._COMPONENTS.clear()  # the per-component memo too: a truly cold start
        return sorted(VersionOrder(v) for v in distinct)

    ordered = ours_parse_sort()
    print("parse + sort distinct versions (cold cache):")

    try:
        from packaging.version import InvalidVersion, Version
    except ImportError:  # pragma: no cover - packaging ships with pip/setuptools environments
        Version = None
    if Version is not None:
        accepted = []
        for v in distinct:
            try:
                Version(v)
                accepted.append(v)
            except InvalidVersion:
                pass

        def packaging_parse_sort():
            return sorted(Version(v) for v in accepted)

        report("vs packaging.version.Version", *duel(ours_parse_sort, packaging_parse_sort, args.repeat),
               f"packaging ({len(accepted)}/{len(distinct)})")
    report("vs naive tuple(int) key",
           *duel(ours_parse_sort, lambda: sorted(distinct, key=naive_key), args.repeat), "naive tuple")
    parsed = list(ordered)
    report("sort only, already parsed",
           *duel(lambda: sorted(parsed), lambda: sorted(parsed, key=functools.cmp_to_key(conda_style_cmp)),
                 args.repeat), "conda-style loops")

    def per_record_lookup():
        for v in all_versions:
            VersionOrder(v)

    t_lookup = best(per_record_lookup, args.repeat)
    print(f"  VersionOrder(v) for all {len(all_versions)} records, warm cache: {t_lookup * 1e3:.2f} ms"
          f" ({t_lookup / len(all_versions) * 1e9:.0f} ns each)")

    print(f"match {len(SPECS)} specs x {len(distinct)} versions (version strings):")
    bad = [v for v in distinct if _invalid(v)]
    usable = [v for v in distinct if v not in bad]
    if bad:
        print(f"  ({len(bad)} versions conda rejects are skipped: {bad[:5]})")
    specs = [VersionSpec(s) for s, _ in SPECS]

    def ours_match_all():
        n = 0
        for spec in specs:
            m = spec.match
            for v in usable:
                n += m(v)
        return n

    t_match = best(ours_match_all, args.repeat)
    calls = len(specs) * len(usable)
    print(f"  ours: {t_match * 1e3:.2f} ms, {calls / t_match / 1e6:.2f} M matches/s")
    if Version is not None:
        from packaging.specifiers import SpecifierSet

        pep = [(VersionSpec(c), SpecifierSet(p)) for c, p in SPECS if p]
        pep_versions = [Version(v) for v in accepted]
        vos = [VersionOrder(v) for v in accepted]

        def ours_pep():
            return sum(s.match(v) for s, _ in pep for v in vos)

        def packaging_pep():
            return sum(ss.contains(v, prereleases=True) for _, ss in pep for v in pep_versions)

        report(f"{len(pep)} PEP 440-expressible specs, parsed inputs",
               *duel(ours_pep, packaging_pep, args.repeat), "packaging SpecifierSet")


def _invalid(v: str) -> bool:
    try:
        VersionOrder(v)
        return False
    except InvalidVersionSpec:
        return True


if __name__ == "__main__":
    main()
