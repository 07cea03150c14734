"""Channel indexing: turning a directory of archives into what conda downloads.

This is the teaching channel's ``conda-index``. For each subdir (``linux-64``, ``noarch``) it
writes:

* ``repodata.json`` — ``info.subdir``, ``packages`` (``.tar.bz2`` records),
  ``packages.conda`` (``.conda`` records), ``removed`` and ``repodata_version: 1``. A record is
  the package's ``info/index.json`` plus ``md5``, ``sha256`` and ``size`` of the archive file.
* ``repodata.json.bz2`` and ``repodata.json.zst`` — the same bytes compressed.
* ``current_repodata.json`` — a small index for conda's first, optimistic solve attempt: the
  newest version of every package, then (one pass) the newest matching version of any
  dependency those records cannot satisfy among themselves, then for packages with
  ``track_features`` the newest feature-free record. Like conda-index it first drops a
  ``.tar.bz2`` record whose ``.conda`` twin exists, and marks kept ``.conda`` records with
  ``legacy_bz2_md5``.
* ``index.html`` — a human-readable listing.
* ``repodata_shards.msgpack.zst`` and one ``<sha256>.msgpack.zst`` per package name — the same
  records as CEP-16 sharded repodata (:mod:`conda_deepdive.index.shards`), byte-reproducible.

and ``channeldata.json`` + ``index.html`` at the channel root (one entry per package name:
newest version, subdirs, whether it has link scripts or prefix placeholders, run_exports).

What to notice: conda never opens the archives to solve. Everything the solver knows comes
from these JSON files, which is why their md5/sha256/size must match the files exactly — conda
checks them after downloading.
"""

from __future__ import annotations

import bz2
import copy
import hashlib
import html
import json
from collections import defaultdict
from datetime import datetime, timezone

from conda_deepdive.teaching.archive import BuiltPackage, dumps_json
from conda_deepdive.teaching.specs import Spec, Version

__all__ = ["repodata_for", "current_repodata", "channeldata", "index_html", "compress_zstd"]


def repodata_for(subdir: str, packages: list[BuiltPackage]) -> dict:
    """The ``repodata.json`` document of one subdir."""
    legacy, conda = {}, {}
    for pkg in packages:
        for archive in pkg.archives:
            record = dict(pkg.index_json, md5=archive.md5, sha256=archive.sha256, size=archive.size)
            (conda if archive.fn.endswith(".conda") else legacy)[archive.fn] = record
    return {
        "info": {"subdir": subdir},
        "packages": legacy,
        "packages.conda": conda,
        "removed": [],
        "repodata_version": 1,
    }


def _sort_key(item: tuple[str, dict]) -> tuple:
    # conda's Resolve orders a group newest first by version, then build number, then timestamp
    rec = item[1]
    return (Version(rec["version"]), rec.get("build_number", 0), rec.get("timestamp", 0), rec["build"])


def _groups(records: dict[str, dict]) -> dict[str, list[tuple[str, dict]]]:
    groups: dict[str, list[tuple[str, dict]]] = defaultdict(list)
    for fn, rec in records.items():
        groups[rec["name"]].append((fn, rec))
    return {name: sorted(items, key=_sort_key, reverse=True) for name, items in sorted(groups.items())}


def _matches(spec: Spec, items: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
    return [(fn, r) for fn, r in items if spec.match(r["name"], r["version"], r["build"])]


def current_repodata(repodata: dict) -> dict:
    """``current_repodata.json`` computed from ``repodata.json`` the way conda-index does."""
    records: dict[str, dict] = dict(repodata["packages.conda"])
    for fn, rec in repodata["packages"].items():
        if fn[: -len(".tar.bz2")] + ".conda" not in records:
            records[fn] = rec  # a .tar.bz2 only counts when it has no .conda twin
    everything = _groups(records)

    # 1. the newest version of each package (every build of that version)
    keep: dict[str, set[str]] = {}
    for name, items in everything.items():
        newest = items[0][1]["version"]
        keep[name] = {fn for fn, _ in _matches(Spec(name, "=" + newest), items)}

    # 2. one pass over the kept records: a dependency nothing kept satisfies gets the newest
    #    version that does satisfy it (all builds of that version)
    def kept_items() -> list[tuple[str, dict]]:
        return [(fn, records[fn]) for fns in keep.values() for fn in fns]

    kept_now = kept_items()
    expanded = {name: set(fns) for name, fns in keep.items()}
    seen: set[str] = set()
    for _, rec in sorted(kept_now, key=lambda it: it[0]):
        for dep in rec.get("depends", []):
            if dep in seen:
                continue
            seen.add(dep)
            spec = Spec.parse(dep)
            if _matches(spec, kept_now):
                continue
            found = _matches(spec, everything.get(spec.name, []))
            if found:
                version = found[0][1]["version"]
                expanded[spec.name] |= {fn for fn, _ in _matches(Spec(spec.name, "=" + version),
                                                                  everything[spec.name])}
    keep = expanded

    # 3. a package whose kept records carry features also keeps its newest feature-free build
    for name, fns in keep.items():
        if not any(records[fn].get("track_features") or records[fn].get("features") for fn in fns):
            continue
        latest = max(Version(records[fn]["version"]) for fn in fns)
        for fn, rec in everything[name]:
            if Version(rec["version"]) <= latest and not (rec.get("track_features") or rec.get("features")):
                fns.add(fn)
                break

    current = {k: copy.deepcopy(v) for k, v in repodata.items() if k not in ("packages", "packages.conda")}
    current["packages"] = {}
    current["packages.conda"] = {}
    for fn in sorted(fn for fns in keep.values() for fn in fns):
        rec = copy.deepcopy(records[fn])
        if fn.endswith(".conda"):
            twin = repodata["packages"].get(fn[: -len(".conda")] + ".tar.bz2", {})
            rec["legacy_bz2_md5"] = twin.get("md5")
            current["packages.conda"][fn] = rec
        else:
            current["packages"][fn] = rec
    return current


def channeldata(packages: list[BuiltPackage]) -> dict:
    """``channeldata.json``: one summary per package name, taken from its newest record."""
    by_name: dict[str, list[BuiltPackage]] = defaultdict(list)
    for pkg in packages:
        by_name[pkg.spec.name].append(pkg)
    entries = {}
    for name, pkgs in sorted(by_name.items()):
        pkgs.sort(key=lambda p: (Version(p.spec.version), p.spec.build_number, p.spec.timestamp, p.spec.build))
        ref = pkgs[-1]
        run_exports = {}
        for p in pkgs:
            if p.spec.run_exports:
                run_exports[p.spec.version] = json.loads(p.spec.run_exports)
        entries[name] = {
            "activate.d": False,
            "binary_prefix": ref.has_binary_prefix,
            "deactivate.d": False,
            "description": ref.spec.description or None,
            "dev_url": ref.spec.dev_url,
            "home": ref.spec.home or None,
            "license": ref.spec.license,
            "post_link": ref.has_script("post-link"),
            "pre_link": ref.has_script("pre-link"),
            "pre_unlink": ref.has_script("pre-unlink"),
            "reference_package": f"{ref.spec.subdir}/{ref.archives[0].fn}",
            "run_exports": run_exports,
            "subdirs": sorted({p.spec.subdir for p in pkgs}),
            "summary": ref.spec.summary,
            "text_prefix": ref.has_text_prefix,
            "timestamp": ref.spec.timestamp // 1000,
            "version": ref.spec.version,
        }
    subdirs = sorted({p.spec.subdir for p in packages} | {"noarch"})
    return {"channeldata_version": 1, "packages": entries, "subdirs": subdirs}


def compress_bz2(data: bytes) -> bytes:
    return bz2.compress(data, 9)


def compress_zstd(data: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdCompressor(level=19, threads=0).compress(data)


_STYLE = ("body{font-family:sans-serif;background:#f7f7f7;margin:2em}"
          "table{background:#fff;border-collapse:collapse}"
          "td,th{font-family:monospace;padding:2px 14px;text-align:left}"
          "td.s{text-align:right}th{border-bottom:1px solid #999}")


def _when(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S +0000")


def index_html(title: str, files: dict[str, bytes], modified: int) -> bytes:
    """A subdir listing: name, size, date, sha256 and md5 of every file (dates are fixed)."""
    rows = []
    for name in sorted(files):
        data = files[name]
        rows.append(
            f'<tr><td><a href="{html.escape(name)}">{html.escape(name)}</a></td>'
            f'<td class="s">{len(data)}</td><td>{_when(modified)}</td>'
            f"<td>{hashlib.sha256(data).hexdigest()}</td><td>{hashlib.md5(data).hexdigest()}</td></tr>")
    return _page(title, "<tr><th>Filename</th><th>Size</th><th>Last Modified</th><th>SHA256</th>"
                        "<th>MD5</th></tr>", rows)


def channel_index_html(title: str, data: dict) -> bytes:
    """The channel root page: one row per package from ``channeldata.json``."""
    rows = [
        f"<tr><td>{html.escape(name)}</td><td>{html.escape(e['version'])}</td>"
        f"<td>{html.escape(', '.join(e['subdirs']))}</td><td>{html.escape(e['summary'])}</td></tr>"
        for name, e in data["packages"].items()
    ]
    return _page(title, "<tr><th>Package</th><th>Latest version</th><th>Subdirs</th><th>Summary</th></tr>", rows)


def _page(title: str, header: str, rows: list[str]) -> bytes:
    t = html.escape(title)
    body = "\n".join(rows)
    return (f"<!DOCTYPE html>\n<html>\n<head><meta charset=\"utf-8\"><title>{t}</title>"
            f"<style>{_STYLE}</style></head>\n<body>\n<h2>{t}</h2>\n<table>\n{header}\n{body}\n"
            f"</table>\n<address>conda-deepdive teaching channel (generated; do not edit)</address>\n"
            f"</body>\n</html>\n").encode()


def subdir_files(subdir: str, packages: list[BuiltPackage], channel_title: str) -> dict[str, bytes]:
    """Every file of one subdir directory: archives, the repodata family and index.html."""
    files: dict[str, bytes] = {}
    for pkg in packages:
        for archive in pkg.archives:
            files[archive.fn] = archive.data
    repodata = repodata_for(subdir, packages)
    raw = dumps_json(repodata)
    files["repodata.json"] = raw
    files["repodata.json.bz2"] = compress_bz2(raw)
    files["repodata.json.zst"] = compress_zstd(raw)
    files["current_repodata.json"] = dumps_json(current_repodata(repodata))
    newest = max((p.spec.timestamp for p in packages), default=1700000000000) // 1000
    files["index.html"] = index_html(f"{channel_title}/{subdir}", files, newest)
    # CEP-16 sharded repodata beside repodata.json (conda 26 reads it when repodata_use_shards):
    # the shard index and one <sha256>.msgpack.zst per package name (index/shards.py)
    from conda_deepdive.index.shards import REPODATA_SHARDS_FN, build_shards

    shard_index, shards, _names = build_shards(repodata, subdir)
    for digest, blob in shards.items():
        files[f"{digest}.msgpack.zst"] = blob
    files[REPODATA_SHARDS_FN] = shard_index
    return files
