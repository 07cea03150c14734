"""The rattler side of ``bench_rattler.py``: one whole process that solves like our CLI call.

Runs in the benchmark's own environment (``/tmp/...`` venv with ``py-rattler`` from PyPI, never a
dependency of conda-deepdive). Reads each channel × subdir with ``SparseRepoData`` (rattler's
sparse reader: it indexes ``repodata.json`` and decodes only the records the solve reaches),
solves with resolvo, strict or flexible channel priority, the same virtual packages as the
fidelity runs, and prints ``{"link": ["name-version-build", ...]}`` as JSON.

    python rattler_solve.py --subdir osx-64 --priority strict --virtual __osx=10.13 \\
        --channel file:///.../main-osx64-2018 ... -- numpy
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subdir", required=True)
    ap.add_argument("--priority", default="strict", choices=("strict", "flexible", "disabled"))
    ap.add_argument("--virtual", action="append", default=[], help="name=version[=build]")
    ap.add_argument("--channel", action="append", default=[], help="file:// URL of a channel")
    ap.add_argument("--no-pip", action="store_true", help="add_pip_as_python_dependency off")
    ap.add_argument("specs", nargs="+")
    args = ap.parse_args()

    from rattler import (BuildString, Channel, ChannelPriority, GenericVirtualPackage, PackageName,
                         SparseRepoData, Version, solve_with_sparse_repodata)

    repos = []
    for url in args.channel:
        channel = Channel(url)
        base = url[len("file://"):] if url.startswith("file://") else url
        for subdir in (args.subdir, "noarch"):
            path = os.path.join(base, subdir, "repodata.json")
            if os.path.isfile(path):
                repos.append(SparseRepoData(channel, subdir, path))
    virtual = []
    for item in args.virtual:
        name, version, *build = item.split("=")
        virtual.append(GenericVirtualPackage(PackageName(name), Version(version),
                                             BuildString(build[0] if build else "0")))
    priority = {"strict": ChannelPriority.Strict, "flexible": ChannelPriority.Disabled,
                "disabled": ChannelPriority.Disabled}[args.priority]
    import asyncio

    records = asyncio.run(solve_with_sparse_repodata(
        args.specs, repos, virtual_packages=virtual, channel_priority=priority,
        add_pip_as_python_dependency=not args.no_pip,
    ))
    link = sorted(f"{r.name.normalized}-{r.version}-{r.build}" for r in records)
    json.dump({"link": link}, sys.stdout)
    sys.stdout.flush()
    os._exit(0)  # py-rattler 0.28 can crash (SIGSEGV) while its runtime shuts down: skip teardown


if __name__ == "__main__":
    sys.exit(main())
