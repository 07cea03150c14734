"""Benchmark: link one package of 5,000 files into a fresh prefix, versus ``cp -al``.

Run: ``/tmp/venv/bin/python benchmarks/bench_link.py [--files 5000] [--repeat 3]``

Both sides start from the same extracted package in a package cache and produce hard links in a
new directory; ``cp -al`` is the floor (one process, no bookkeeping). conda-deepdive additionally
plans the actions, verifies sizes, writes ``conda-meta/<dist>.json`` and the history. Timings are
medians of ``--repeat`` runs measured in this same process run, so the ratio is meaningful on a
noisy machine even when absolute numbers are not.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make_package(pkgs: Path, n_files: int) -> Path:
    """An extracted package ``big-1.0-0`` with ``n_files`` small files in 50 directories."""
    root = pkgs / "big-1.0-0"
    paths = []
    for i in range(n_files):
        rel = f"share/big/d{i % 50:02d}/file{i:05d}.txt"
        data = f"file {i}\n".encode() * (1 + i % 7)
        full = root / rel
        full.parent.mkdir(parents=True, exist_ok=True)
        full.write_bytes(data)
        paths.append({"_path": rel, "path_type": "hardlink", "sha256": hashlib.sha256(data).hexdigest(),
                      "size_in_bytes": len(data)})
    info = root / "info"
    info.mkdir()
    index = {"name": "big", "version": "1.0", "build": "0", "build_number": 0, "depends": [],
             "subdir": "linux-64", "license": "MIT"}
    (info / "index.json").write_text(json.dumps(index))
    (info / "paths.json").write_text(json.dumps({"paths": paths, "paths_version": 1}))
    record = dict(index, fn="big-1.0-0.tar.bz2", md5="0" * 32, url="file:///nowhere/linux-64/big-1.0-0.tar.bz2",
                  channel="file:///nowhere/linux-64")
    (info / "repodata_record.json").write_text(json.dumps(record))
    return root


def time_ours(base: Path, pkgs: Path, run: int) -> tuple[float, float]:
    from conda_deepdive.config.context import Context
    from conda_deepdive.models import Channel, PackageRecord
    from conda_deepdive.transaction.transaction import PrefixSetup, UnlinkLinkTransaction

    rec = PackageRecord.from_dict(dict(name="big", version="1.0", build="0", build_number=0, subdir="linux-64",
                                       fn="big-1.0-0.tar.bz2", md5="0" * 32, channel=Channel("file:///nowhere"),
                                       url="file:///nowhere/linux-64/big-1.0-0.tar.bz2"))
    ctx = Context.from_values(pkgs_dirs=[str(pkgs)], root_prefix=str(base / "root"))
    prefix = base / f"ours{run}"
    env = dict(os.environ, HOME=str(base / "home"))
    txn = UnlinkLinkTransaction(PrefixSetup(str(prefix), (), (rec,), (), ("big",), ()), context=ctx, env=env,
                                cmd="bench")
    start = time.perf_counter()
    txn.verify()
    middle = time.perf_counter()
    txn.execute()
    end = time.perf_counter()
    assert os.stat(prefix / "share/big/d00/file00000.txt").st_nlink >= 2
    return end - start, end - middle


def time_cp_al(base: Path, source: Path, run: int) -> float:
    dest = base / f"cp{run}"
    start = time.perf_counter()
    subprocess.run(["cp", "-al", str(source), str(dest)], check=True)
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    with tempfile.TemporaryDirectory(prefix="bench-link-") as tmp:
        base = Path(tmp)
        pkgs = base / "pkgs"
        source = make_package(pkgs, args.files)
        cp, total, execute = [], [], []
        for run in range(args.repeat):
            cp.append(time_cp_al(base, source, run))
            t, e = time_ours(base, pkgs, run)
            total.append(t)
            execute.append(e)
            shutil.rmtree(base / f"cp{run}")
            shutil.rmtree(base / f"ours{run}")
        cp_m, total_m, exec_m = (statistics.median(x) for x in (cp, total, execute))
        print(f"package of {args.files} files, median of {args.repeat} runs")
        print(f"  cp -al (baseline)                       {cp_m:8.3f} s")
        print(f"  conda-deepdive prepare+verify+execute   {total_m:8.3f} s   ratio {total_m / cp_m:6.1f}x")
        print(f"  conda-deepdive execute only             {exec_m:8.3f} s   ratio {exec_m / cp_m:6.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
