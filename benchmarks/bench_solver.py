"""Benchmark the whole Solver (spec collection + SAT + post-processing) on fidelity cases.

For a sample of ``../shared/fidelity/cli_cases.json`` cases, runs conda's retry loop
(:func:`conda_deepdive.solve.solve.solve_with_retries`) in process with the index already loaded
(conda's own figure, ``oracle_seconds``, is a whole CLI call including Python start-up and
repodata parsing, so the index load is timed separately and reported beside it).

Prints per case: records loaded and the index load time beside a bare ``json.load`` of the same
files (the baseline, measured in the same run), variables/clauses of the final SAT problem,
collect_specs, run_sat (median of ``--runs``), the time of every optimisation pass, total, and
the ratio (load + total) / oracle_seconds; then the medians.

    python benchmarks/bench_solver.py [--runs 3] [--ids pfx-026 pop-006 ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

DEFAULT_IDS = ["tr-solve-000", "tr-solve-063", "pfx-026", "pfx-029", "pfx-039", "pfx-048", "pop-006",
               "pop-022"]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ids", nargs="*", default=DEFAULT_IDS)
    ns = parser.parse_args()

    import test_cli_cases as T
    from conda_deepdive.config.context import Context
    from conda_deepdive.index.index import SubdirData, fetch_index
    from conda_deepdive.models import MatchSpec
    from conda_deepdive.solve.solve import solve_with_retries

    cases = {c["id"]: c for c in T.load_cases()}
    rows = []
    for cid in ns.ids:
        case = cases.get(cid)
        if case is None:
            print(f"{cid}: no such case")
            continue
        with tempfile.TemporaryDirectory() as td:
            _argv, env, prefix = T.prepare(case, Path(td))
            channels = [T.channel_url(ch) for ch in case["channels"]]
            ctx = Context.load(env=env).replace(channels=tuple(channels), target_prefix=str(prefix))
            SubdirData.clear_memory_cache()  # a cold load per case, as in conda's separate processes
            t0 = time.perf_counter()
            index = fetch_index(ctx, channels=channels, repodata_fn="repodata.json")
            load = time.perf_counter() - t0
            t0 = time.perf_counter()
            for ch in case["channels"]:
                for sd in (case["subdir"], "noarch"):
                    path = T.CHANNELS_DIR / ch / sd / "repodata.json"
                    if path.exists():
                        with open(path, "rb") as fh:
                            json.load(fh)
            json_seconds = time.perf_counter() - t0
            collect, sat, total = [], [], []
            try:
                specs = [MatchSpec(s) for s in case["specs"]]
            except Exception as exc:  # an invalid spec is the case's answer (conda errors out too)
                specs, err, solver = None, type(exc).__name__, None
                total.append(0.0)
            for _ in range(ns.runs if specs is not None else 0):
                t0 = time.perf_counter()
                try:
                    res = solve_with_retries(
                        str(prefix), index.channels, ctx.subdirs,
                        specs if case["command"] != "remove" else (),
                        specs if case["command"] == "remove" else (),
                        command=case["command"], context=ctx, repodata_fns=["repodata.json"],
                        index_for=lambda fn: index)
                    solver = res.solver
                except Exception as exc:  # an expected error is a result too
                    solver = None
                    err = type(exc).__name__
                total.append(time.perf_counter() - t0)
                if solver is not None and solver.last_outcome is not None:
                    sat.append(solver.last_outcome.solve_seconds)
                    collect.append(total[-1] - sat[-1])
            med = statistics.median(total)
            rows.append((cid, load, statistics.median(collect) if collect else float("nan"),
                         statistics.median(sat) if sat else float("nan"), med, case["oracle_seconds"]))
            whole = load + med
            print(f"{cid:14s} {len(index.records):6d} records  load {load:5.2f}s "
                  f"(json.load {json_seconds:5.2f}s, {load / max(json_seconds, 1e-9):.1f}x)  "
                  f"collect {rows[-1][2]:5.2f}s  sat {rows[-1][3]:5.2f}s  total {med:5.2f}s  "
                  f"load+total {whole:5.2f}s  oracle {case['oracle_seconds']:5.2f}s  "
                  f"ratio {whole / case['oracle_seconds']:.2f}x" + ("" if solver else f"  ({err})"))
            stats = getattr(getattr(solver, "last_outcome", None), "stats", None) if solver else None
            if stats is not None:
                print(f"{'':14s} SAT problem: {stats.variables} vars / {stats.clauses} clauses; passes: "
                      + ", ".join(f"{p.name} {(p.generate_seconds + p.minimize_seconds) * 1000:.0f}ms"
                                  for p in stats.passes if p.objective_size))
    if rows:
        print(json.dumps({
            "median_total_seconds": statistics.median(r[4] for r in rows),
            "median_load_seconds": statistics.median(r[1] for r in rows),
            "median_oracle_seconds": statistics.median(r[5] for r in rows),
            "median_ratio_total_to_oracle": statistics.median(r[4] / r[5] for r in rows),
            "median_ratio_load_plus_total_to_oracle": statistics.median((r[1] + r[4]) / r[5] for r in rows),
        }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
