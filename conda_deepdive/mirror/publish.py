"""Publishing index files: the one door through which every index file of the mirror goes.

A conda client reads ``repodata.json`` and then asks for the files it names. So the mirror must
never show an index that names a file which is not there (yet, or any more), nor half an index.
Two rules give that at *every instant*, even after ``kill -9``:

1. every file is written under a temporary name **in the same directory** (same filesystem),
   flushed and fsync'ed, then ``os.replace``'d into place — a rename is atomic on POSIX, so a
   reader sees the old file or the new one, never a mix;
2. index files are published **after** the packages they name are in place, and packages the new
   index no longer names are deleted only **after** it is live (:mod:`.conda_mirror` does the
   ordering; this module does the writing).

:func:`publish_index` writes ``repodata.json`` and its ``.bz2``/``.zst`` twins (the same bytes,
compressed), ``current_repodata.json`` and the channel's ``channeldata.json``. The compressed
twins go first and ``repodata.json`` last, so a client that prefers ``.zst`` never sees a newer
index than one that reads the plain file would. Sharded repodata (CEP-16, index/shards.py) is
published first of all: the shards, then their index.

conda counterpart: conda-index's ``ChannelIndex._write_repodata`` / ``_maybe_write``.
"""

from __future__ import annotations

import bz2
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

__all__ = ["atomic_write_bytes", "dumps_repodata", "publish_index", "PublishedIndex", "temp_name",
           "TEMP_MARK"]

#: every temporary file of the mirror carries this in its name (a checker and a re-run skip them)
TEMP_MARK = ".mirror-tmp-"


def temp_name(path: str | os.PathLike) -> Path:
    """A fresh temporary name beside ``path`` (same directory, so the final rename is atomic)."""
    path = Path(path)
    return path.with_name(f".{path.name}{TEMP_MARK}{os.getpid()}-{secrets.token_hex(4)}")


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, fsync: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically (temp + fsync + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def dumps_repodata(repodata: Mapping[str, Any], indent: int | None = 2) -> bytes:
    """``repodata`` as JSON bytes, keys in the order given (upstream's order is kept)."""
    if indent is None:
        text = json.dumps(repodata, separators=(",", ":"), ensure_ascii=False)
    else:
        text = json.dumps(repodata, indent=indent, ensure_ascii=False)
    return text.encode("utf-8")


@dataclass(frozen=True)
class PublishedIndex:
    """What :func:`publish_index` wrote: the subdir, the files (name → size) and the record count."""

    subdir_dir: str
    files: tuple[tuple[str, int], ...]
    records: int

    def __repr__(self) -> str:
        names = ", ".join(name for name, _ in self.files)
        return f"PublishedIndex({Path(self.subdir_dir).name}: {self.records} records; {names})"

    def summary(self) -> dict:
        return {"subdir_dir": self.subdir_dir, "files": dict(self.files), "records": self.records}


def _zstd(data: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdCompressor(level=16).compress(data)


def publish_index(
    subdir_dir: str | os.PathLike,
    repodata: Mapping[str, Any] | None,
    *,
    raw: bytes | None = None,
    indent: int | None = 2,
    current_repodata: Mapping[str, Any] | None = None,
    channeldata: Mapping[str, Any] | None = None,
    compressed: bool = True,
    shards: bool = True,
) -> PublishedIndex:
    """Publish the index files of one subdir, each atomically, ``repodata.json`` last.

    ``repodata``: the document to serve (``raw`` — its exact bytes — when they are already known,
    e.g. upstream's file mirrored unfiltered). ``current_repodata``: written as conda-index writes
    it (``indent=2, sort_keys=True``). ``channeldata``: goes to the *channel* directory (the
    parent of ``subdir_dir``). ``compressed``: also write ``repodata.json.bz2`` and ``.zst``.
    ``shards``: also publish CEP-16 sharded repodata (``repodata_shards.msgpack.zst`` + one
    ``<sha256>.msgpack.zst`` per name, index/shards.py): shards, then their index, before the
    JSON files; shards the new index no longer names are deleted once it is live.
    """
    subdir_dir = Path(subdir_dir)
    subdir_dir.mkdir(parents=True, exist_ok=True)
    written: list[tuple[str, int]] = []
    data = raw
    if data is None and repodata is not None:
        data = dumps_repodata(repodata, indent)
    if channeldata is not None:
        cd = json.dumps(channeldata, indent=2, sort_keys=True).encode()
        atomic_write_bytes(subdir_dir.parent / "channeldata.json", cd)
        written.append(("../channeldata.json", len(cd)))
    if current_repodata is not None:
        cur = json.dumps(current_repodata, indent=2, sort_keys=True).encode()
        atomic_write_bytes(subdir_dir / "current_repodata.json", cur)
        written.append(("current_repodata.json", len(cur)))
    if shards and repodata is not None and data is not None:
        from conda_deepdive.index.shards import REPODATA_SHARDS_FN, write_shards

        # shards: atomic (temp + rename) but not fsync'ed one by one — a rename is all a kill -9
        # needs, and 200 fsyncs cost a second on a busy disk (the JSON files below are fsync'ed)
        shard_report = write_shards(subdir_dir, repodata,
                                    writer=lambda path, data: atomic_write_bytes(path, data, fsync=False))
        written.append((REPODATA_SHARDS_FN, shard_report.index_bytes))
    if data is not None:
        if compressed:
            for name, squeeze in (("repodata.json.bz2", lambda d: bz2.compress(d, 9)),
                                  ("repodata.json.zst", _zstd)):
                blob = squeeze(data)
                atomic_write_bytes(subdir_dir / name, blob)
                written.append((name, len(blob)))
        atomic_write_bytes(subdir_dir / "repodata.json", data)  # last: the file clients read first
        written.append(("repodata.json", len(data)))
    count = 0
    if repodata is not None:
        count = len(repodata.get("packages") or {}) + len(repodata.get("packages.conda") or {})
    return PublishedIndex(str(subdir_dir), tuple(written), count)
