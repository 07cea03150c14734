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
import gc
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

    # paired runs, each from a collected heap, so the machine's noise hits both sides alike
    json_times, total_times, build_times = [], [], []
    records = []
    for _ in range(args.repeat):
        records = []
        gc.collect()
        start = time.perf_counter()
        json_only()
        json_times.append(time.perf_counter() - start)
        gc.collect()
        start = time.perf_counter()
        records = load_and_build()
        total_times.append(time.perf_counter() - start)
        gc.collect()
        start = time.perf_counter()
        build_only()
        build_times.append(time.perf_counter() - start)
    t_json, t_total, t_build = (statistics.median(t) for t in (json_times, total_times, build_times))
    n = len(records)
    print(f"records: {n} from {len(files)} repodata files (median of {args.repeat} paired runs)")
    print(f"json.load baseline       {t_json:8.3f} s")
    print(f"json.load + records      {t_total:8.3f} s   ratio {t_total / t_json:5.2f}x")
    print(f"records only             {t_build:8.3f} s   ratio {t_build / t_json:5.2f}x  "
          f"({t_build / n * 1e6:.2f} us/record)")

    dep_strings = sorted({d for r in records for d in (*r.depends, *r.constrains)})
    from conda_deepdive.models.match_spec import clear_caches

    def parse_all():
        clear_caches()
        return [MatchSpec(s) for s in dep_strings]

    # The machine may be shared: CPU time (process_time) is reported beside wall time, as it is
    # much less disturbed by other processes. The first parse is "fully cold": no VersionSpec has
    # been interned yet. Later ones clear the MatchSpec caches but keep the VersionSpec table.
    n_dep = len(dep_strings)
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    parse_all()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"MatchSpec parse (first)  {wall:8.3f} s   {n_dep} distinct dependency strings, "
          f"{wall / n_dep * 1e6:.1f} us each (cpu {cpu / n_dep * 1e6:.1f} us); nothing interned yet")
    walls, cpus = [], []
    for _ in range(max(3, args.repeat)):
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        parse_all()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    t_parse, c_parse = statistics.median(walls), statistics.median(cpus)
    print(f"MatchSpec parse (cold)   {t_parse:8.3f} s   {n_dep} distinct dependency strings, "
          f"{t_parse / n_dep * 1e6:.1f} us each (cpu {c_parse / n_dep * 1e6:.1f} us), "
          f"ratio to json.load {t_parse / t_json:5.2f}x")
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
