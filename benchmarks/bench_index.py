"""Benchmark stage 3: load main + free + bioconda osx-64 (2018, ~39k records) from file://.

Prints our cold ``fetch_index`` time against a bare ``json.load`` of the same repodata files,
measured in the same run (best of N), and the ratio. Also shows the warm (in-process memo) time
and where the cold time goes (parse vs grouping the entries by name), from ``FetchInfo``.

``fetch_index`` builds ``PackageRecord`` objects lazily, name by name (record_store.py): a solve
only ever builds the records of the names it reaches. The time to build *every* record (what
``index.records`` costs the first time, and what conda always pays) is printed separately.

    python benchmarks/bench_index.py [--repeat 5]

Needs ``../shared/data/channels`` (real repodata snapshots).
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
NAMES = ("main-osx64-2018", "free-osx64-2018", "bioconda-osx64-2018")


def bare_json(files: list[Path], pause_gc: bool = False) -> float:
    if pause_gc:
        gc.disable()
    t0 = time.perf_counter()
    total = 0
    for f in files:
        with open(f, "rb") as fh:
            total += len(json.load(fh).get("packages", {}))
    elapsed = time.perf_counter() - t0
    gc.enable()
    assert total == 39056, total
    return elapsed


def ours(context) -> tuple[float, object]:
    from conda_deepdive.index.index import SubdirData, fetch_index

    SubdirData.clear_memory_cache()
    t0 = time.perf_counter()
    index = fetch_index(context)
    elapsed = time.perf_counter() - t0
    t0 = time.perf_counter()
    assert len(index.records) == 39056, len(index.records)  # builds every record
    return elapsed, time.perf_counter() - t0, index


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    if not CHANNELS.is_dir():
        print(f"skip: {CHANNELS} not found (real repodata snapshots needed)")
        return 0

    from conda_deepdive.config.context import Context
    from conda_deepdive.index.index import fetch_index

    files = [CHANNELS / n / sd / "repodata.json" for n in NAMES for sd in ("osx-64", "noarch")]
    context = Context.from_values(
        channels=[(CHANNELS / n).as_uri() for n in NAMES], subdir="osx-64",
        override_osx="10.13", override_cuda="", override_archspec="x86_64",
    )

    base, base_nogc, mine, parse, build, every = [], [], [], [], [], []
    for _ in range(args.repeat):
        gc.collect()
        base.append(bare_json(files))
        gc.collect()
        base_nogc.append(bare_json(files, pause_gc=True))
        gc.collect()
        elapsed, all_records, index = ours(context)
        mine.append(elapsed)
        every.append(all_records)
        parse.append(sum(sd.fetch_info.parse_seconds for sd in index.subdir_datas))
        build.append(sum(sd.fetch_info.records_seconds for sd in index.subdir_datas))
        del index

    t0 = time.perf_counter()
    warm = fetch_index(context)
    warm_s = time.perf_counter() - t0

    b, m = min(base), min(mine)
    print(f"records: {len(warm.records):,} from {len(files)} repodata files")
    print(f"bare json.load (baseline): best {b:.3f} s   median {statistics.median(base):.3f} s")
    print(f"bare json.load, gc paused: best {min(base_nogc):.3f} s   (what fetch_index parses with)")
    print(f"fetch_index (cold):        best {m:.3f} s   median {statistics.median(mine):.3f} s")
    print(f"   of which json parse:    {min(parse):.3f} s, grouping by name: {min(build):.3f} s")
    print(f"then building all 39,056 records (index.records): best {min(every):.3f} s "
          f"-> cold + all records / bare json: {(m + min(every)) / b:.2f}x")
    print(f"fetch_index (warm, memo):  {warm_s:.3f} s")
    print(f"ratio cold / bare json:    {m / b:.2f}x   (vs gc-paused json: {m / min(base_nogc):.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
