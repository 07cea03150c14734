"""Benchmark: building PackageRecords for a realistic index vs. just reading the JSON.

Loads main + free + bioconda osx-64 (2018 snapshots, ~39k records) from ``../shared``. The
baseline is a bare ``json.load`` of the same files, measured in the same run; we print

* ``load+records / json.load`` — what loading an index costs compared to only parsing JSON;
* ``records only / json.load`` — the overhead ``PackageRecord.from_repodata`` adds;
* MatchSpec parsing of every distinct dependency string, and matching one spec against all
  records (the solver's inner loops), per operation.

Run: ``python benchmarks/bench_records.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHANNELS = ROOT.parent / "shared" / "data" / "channels"
SETS = ("main-osx64-2018", "free-osx64-2018", "bioconda-osx64-2018")


def _time(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    files = [CHANNELS / name / "osx-64" / "repodata.json" for name in SETS]
    missing = [str(f) for f in files if not f.exists()]
    if missing:
        print(f"skipped: shared repodata not found: {missing}")
        return 0

    sys.path.insert(0, str(ROOT))
    from conda_deepdive.models import Channel, MatchSpec
    from conda_deepdive.models.records import records_from_repodata

    channels = [Channel(f.parent.parent.as_uri()) for f in files]

    def json_only():
        return [json.loads(f.read_bytes()) for f in files]

    def load_and_build():
        recs = []
        for f, ch in zip(files, channels):
            recs += records_from_repodata(json.loads(f.read_bytes()), ch)
        return recs

    raws = json_only()

    def build_only():
        recs = []
        for raw, ch in zip(raws, channels):
            recs += records_from_repodata(raw, ch)
        return recs

    t_json, _ = _time(json_only, args.repeat)
    t_total, records = _time(load_and_build, args.repeat)
    t_build, _ = _time(build_only, args.repeat)
    n = len(records)
    print(f"records: {n} from {len(files)} repodata files (median of {args.repeat})")
    print(f"json.load baseline       {t_json:8.3f} s")
    print(f"json.load + records      {t_total:8.3f} s   ratio {t_total / t_json:5.2f}x")
    print(f"records only             {t_build:8.3f} s   ratio {t_build / t_json:5.2f}x  "
          f"({t_build / n * 1e6:.2f} us/record)")

    dep_strings = sorted({d for r in records for d in (*r.depends, *r.constrains)})
    from conda_deepdive.models import match_spec as ms_mod

    def parse_all():
        ms_mod._SPEC_CACHE.clear()
        ms_mod._PARSE_CACHE.clear()
        return [MatchSpec(s) for s in dep_strings]

    t_parse, _ = _time(parse_all, max(1, args.repeat // 2))
    print(f"MatchSpec parse (cold)   {t_parse:8.3f} s   {len(dep_strings)} distinct dependency strings, "
          f"{t_parse / len(dep_strings) * 1e6:.1f} us each, ratio to json.load {t_parse / t_json:5.2f}x")
    all_deps = [d for r in records for d in r.depends]
    t_cached, _ = _time(lambda: [MatchSpec(s) for s in all_deps], args.repeat)
    print(f"MatchSpec(str) cached    {t_cached:8.3f} s   {len(all_deps)} lookups, "
          f"{t_cached / len(all_deps) * 1e9:.0f} ns each")
    spec = MatchSpec("numpy >=1.11,<1.15")
    t_match, hits = _time(lambda: sum(1 for r in records if spec.match(r)), args.repeat)
    print(f"match over all records   {t_match:8.3f} s   {hits} hits, {t_match / n * 1e9:.0f} ns/record")
    pys = [r for r in records if r.name == "python"]
    vspec = MatchSpec("python >=2.7,<3|>=3.5")
    t_vmatch, _ = _time(lambda: [vspec.match(r) for r in pys * 50], args.repeat)
    print(f"version match            {t_vmatch:8.3f} s   {len(pys) * 50} name+version matches, "
          f"{t_vmatch / (len(pys) * 50) * 1e9:.0f} ns each")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
