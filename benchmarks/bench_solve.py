"""Benchmark the classic-solver engine (Resolve) against real conda's timings.

Two workloads, as in ``../shared/fidelity/README.md``:

* test-index4 (5,643 records, flexible): solve ``numpy`` and ``pandas``
  (conda 26.7.1 in process: numpy 0.32 s, pandas 0.28 s);
* main + free + bioconda osx-64 2018 (39,056 records, strict): solve ``numpy``
  (conda: get_reduced_index 0.45 s, gen_clauses 0.48 s, Resolve.solve 0.30–1.05 s).

For each, prints the median over runs of every phase (reduce, gen_clauses, each optimisation
pass, the rest), variable/clause counts, and the ratio to conda's figure (goal: <= 0.3x).
Each run uses a fresh ``Resolve`` (no warm caches), like one conda CLI call.

    python benchmarks/bench_solve.py [--runs N] [--profile]
"""

from __future__ import annotations

import argparse
import os
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHANNELS = ROOT.parent / "shared" / "data" / "channels"

# conda 26.7.1 on this machine type (medians of 3), from ../shared/fidelity/README.md
CONDA = {
    ("test-index4", "numpy"): {"solve": 0.32},
    ("test-index4", "pandas"): {"solve": 0.28},
    ("osx-2018", "numpy"): {"reduce": 0.45, "gen_clauses": 0.48, "solve_rest": 0.30, "solve": 0.45 + 0.48 + 0.30},
}


LOAD_STATS: dict = {}


# conda 26.7.1's whole CLI call for `create numpy` on these channels (cli_cases.json pop-016)
CONDA_CLI_OSX_NUMPY = 5.247


def load(channel_dirs, subdir, add_pip=True):
    """Records + channels, like the index stage; ``LOAD_STATS[key]`` keeps how long it took
    beside the bare ``json.load`` of the same files (the baseline, measured in this run)."""
    from conda_deepdive.models.channel import Channel
    from conda_deepdive.models.records import PackageRecord

    t_start = time.perf_counter()
    json_seconds = 0.0
    records, channels = [], []
    for ch in channel_dirs:
        channel = Channel(f"file://{CHANNELS / ch}")
        channels.append(channel)
        for sd in (subdir, "noarch"):
            path = CHANNELS / ch / sd / "repodata.json"
            if not path.exists():
                continue
            t_json = time.perf_counter()
            with open(path, "rb") as fh:
                data = json.load(fh)
            json_seconds += time.perf_counter() - t_json
            info = data.get("info") or {}
            fsd = info.get("subdir") or sd
            for fn, raw in (data.get("packages") or {}).items():
                if add_pip and raw["name"] == "python" and raw["version"].startswith(("2.", "3.")):
                    raw["depends"] = [*raw.get("depends", ()), "pip"]
                records.append(PackageRecord.from_repodata(fn, raw, channel, fsd, f"file://{CHANNELS / ch}/{fsd}"))
    vps = {"linux-64": [("__glibc", "2.17"), ("__linux", "5.15"), ("__unix", "0")],
           "osx-64": [("__osx", "10.13"), ("__unix", "0")]}[subdir]
    for name, version in vps + [("__archspec", "1")]:
        records.append(PackageRecord.from_dict({
            "name": name, "version": version, "build": "x86_64" if name == "__archspec" else "0",
            "channel": "@", "subdir": subdir, "package_type": "virtual_system"}))
    LOAD_STATS[tuple(channel_dirs)] = {"records": len(records), "json_seconds": json_seconds,
                                       "load_seconds": time.perf_counter() - t_start}
    return records, channels


def report_load(label, channel_dirs):
    st = LOAD_STATS[tuple(channel_dirs)]
    print(f"   {label}: {st['records']} records loaded in {st['load_seconds'] * 1000:.0f} ms "
          f"(json.load alone {st['json_seconds'] * 1000:.0f} ms, "
          f"ratio {st['load_seconds'] / max(st['json_seconds'], 1e-9):.2f}x)")


def run_once(records, channels, priority, spec):
    from conda_deepdive.solve.resolve import Resolve

    t0 = time.perf_counter()
    r = Resolve(records, channels, priority)
    t_init = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = r.solve([spec])
    total = time.perf_counter() - t0
    d = r.last_solve
    phases = {"init": t_init, "reduce": d.reduce_seconds, "gen_clauses": d.gen_clauses_seconds}
    for p in d.passes:
        phases[f"pass:{p.name}"] = p.generate_seconds + p.minimize_seconds
    phases["solve"] = total
    phases["solve_rest"] = total - d.reduce_seconds - d.gen_clauses_seconds
    pycosat = sum(c.seconds for c in d.sat_calls)
    phases["pycosat (same calls as conda)"] = pycosat
    phases["python side (solve - pycosat)"] = total - pycosat
    sizes = {"reduced": len(d.reduced_index), "vars": d.variables, "clauses": d.clauses,
             "final_clauses": d.final_clauses, "pycosat_calls": len(d.sat_calls),
             "pycosat_seconds": sum(c.seconds for c in d.sat_calls), "packages": len(result)}
    return phases, sizes, result


def bench(label, records, channels, priority, spec, runs):
    samples = []
    sizes = None
    for _ in range(runs):
        phases, sizes, result = run_once(records, channels, priority, spec)
        samples.append(phases)
    med = {k: statistics.median(s[k] for s in samples) for k in samples[0]}
    base = CONDA.get((label, spec), {})
    print(f"\n== {label}: {spec} ({len(records)} records, {priority}) -> {sizes['packages']} packages")
    print(f"   reduced index {sizes['reduced']} records; {sizes['vars']} vars / {sizes['clauses']} clauses "
          f"(final {sizes['final_clauses']}); {sizes['pycosat_calls']} pycosat calls "
          f"({sizes['pycosat_seconds'] * 1000:.0f} ms)")
    for k, v in med.items():
        ratio = f"  ratio {v / base[k]:.2f}x conda ({base[k]:.2f} s)" if k in base else ""
        print(f"   {k:38s} {v * 1000:9.1f} ms{ratio}")
    return med


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--profile", action="store_true", help="cProfile one osx-2018 numpy solve")
    args = ap.parse_args(argv)
    if not CHANNELS.exists():
        print(f"{CHANNELS} is absent: nothing to benchmark")
        return 0
    sys.setrecursionlimit(10000)
    t0 = time.perf_counter()
    osx_dirs = ["main-osx64-2018", "free-osx64-2018", "bioconda-osx64-2018"]
    idx4 = load(["test-index4"], "linux-64")
    osx = load(osx_dirs, "osx-64")
    print(f"loaded repodata in {time.perf_counter() - t0:.1f} s")
    report_load("test-index4 linux-64", ["test-index4"])
    report_load("osx-64 2018 (main+free+bioconda)", osx_dirs)
    load1 = os.getloadavg()[0]
    print(f"load average {load1:.1f} on {os.cpu_count()} cores"
          + ("  (busy machine: conda's figures were taken on an idle one)" if load1 > 1.5 else ""))
    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        run_once(*osx, "strict", "numpy")
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(35)
        return 0
    bench("test-index4", *idx4, "flexible", "numpy", args.runs)
    bench("test-index4", *idx4, "flexible", "pandas", args.runs)
    med = bench("osx-2018", *osx, "strict", "numpy", args.runs)
    st = LOAD_STATS[tuple(osx_dirs)]
    whole = st["load_seconds"] + med["init"] + med["solve"]
    print(f"\n== engine only: build all 39k records + Resolve over the whole index + solve numpy: "
          f"{whole:.2f} s (conda's CLI call: {CONDA_CLI_OSX_NUMPY:.2f} s -> ratio "
          f"{whole / CONDA_CLI_OSX_NUMPY:.2f}x)")
    print("   The command itself builds records lazily and solves over the name closure: "
          "benchmarks/bench_cli_osx.py times it (issue #5's < 1 s goal).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
