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

:func:`publish_index` (:func:`prepare_index`, then :func:`publish_prepared`) writes ``repodata.json`` and its ``.bz2``/``.zst`` twins (the same bytes,
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from collections.abc import Mapping

from conda_deepdive.values import field, value_object

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["atomic_write_bytes", "dumps_repodata", "prepare_index", "publish_prepared", "publish_index",
           "PreparedIndex", "PublishedIndex", "temp_name", "TEMP_MARK"]

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


@value_object(frozen=True)
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


@value_object(frozen=True)
class PreparedIndex:
    """Every byte of one subdir's index, computed (shard files already written) but not yet live.

    Computing an index takes longer than publishing it: JSON, two compressions, the current
    index and one shard file per name. :func:`prepare_index` does all of that — the mirror runs
    it *while its downloads are in flight* — and :func:`publish_prepared` then only renames a
    handful of files into place, in the safe order.
    """

    subdir_dir: str
    data: bytes | None = field(repr=False)
    compressed: tuple[tuple[str, bytes], ...] = field(repr=False)
    current: bytes | None = field(repr=False)
    shard_index: bytes | None = field(repr=False)
    shard_digests: tuple[str, ...] = field(repr=False)
    records: int = 0

    def __repr__(self) -> str:
        return (f"PreparedIndex({Path(self.subdir_dir).name}: {self.records} records, "
                f"{len(self.shard_digests)} shards)")


def prepare_index(
    subdir_dir: str | os.PathLike,
    repodata: Mapping[str, Any] | None,
    *,
    raw: bytes | None = None,
    indent: int | None = 2,
    current_repodata: Mapping[str, Any] | None = None,
    compressed: bool = True,
    shards: bool = True,
) -> PreparedIndex:
    """Compute the index files of one subdir; write its shard files (harmless: content-addressed
    and named by no live index yet). See :func:`publish_index` for the arguments."""
    subdir_dir = Path(subdir_dir)
    subdir_dir.mkdir(parents=True, exist_ok=True)
    data = raw
    if data is None and repodata is not None:
        data = dumps_repodata(repodata, indent)
    cur = None
    if current_repodata is not None:
        cur = json.dumps(current_repodata, indent=2, sort_keys=True).encode()
    blobs: tuple[tuple[str, bytes], ...] = ()
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="mirror-index") as pool:
        # bz2 and zstd release the GIL: they squeeze while the shards are packed and written
        squeezing = []
        if data is not None and compressed:
            squeezing = [("repodata.json.bz2", pool.submit(bz2.compress, data, 9)),
                         ("repodata.json.zst", pool.submit(_zstd, data))]
        shard_index, digests = None, ()
        if shards and repodata is not None and data is not None:
            from conda_deepdive.index.shards import build_shards, write_shard_files

            shard_index, shard_blobs, _names = build_shards(repodata, subdir_dir.name)
            # shards: atomic (temp + rename) but not fsync'ed one by one — a rename is all a
            # kill -9 needs, and 200 fsyncs cost a second on a busy disk
            write_shard_files(subdir_dir, shard_blobs,
                              writer=lambda path, blob: atomic_write_bytes(path, blob, fsync=False))
            digests = tuple(shard_blobs)
        blobs = tuple((name, fut.result()) for name, fut in squeezing)
    count = 0
    if repodata is not None:
        count = len(repodata.get("packages") or {}) + len(repodata.get("packages.conda") or {})
    return PreparedIndex(str(subdir_dir), data, blobs, cur, shard_index, digests, count)


def publish_prepared(prepared: PreparedIndex, *, channeldata: Mapping[str, Any] | None = None) -> PublishedIndex:
    """Make a prepared index live, each file atomically: ``channeldata.json`` and
    ``current_repodata.json``, the shard index (then stale shards go), the compressed twins,
    and ``repodata.json`` last."""
    from conda_deepdive.index.shards import REPODATA_SHARDS_FN, publish_shard_index

    subdir_dir = Path(prepared.subdir_dir)
    subdir_dir.mkdir(parents=True, exist_ok=True)
    written: list[tuple[str, int]] = []
    if channeldata is not None:
        cd = json.dumps(channeldata, indent=2, sort_keys=True).encode()
        atomic_write_bytes(subdir_dir.parent / "channeldata.json", cd)
        written.append(("../channeldata.json", len(cd)))
    if prepared.current is not None:
        atomic_write_bytes(subdir_dir / "current_repodata.json", prepared.current)
        written.append(("current_repodata.json", len(prepared.current)))
    if prepared.shard_index is not None:
        publish_shard_index(subdir_dir, prepared.shard_index, prepared.shard_digests,
                            writer=lambda path, blob: atomic_write_bytes(path, blob, fsync=False))
        written.append((REPODATA_SHARDS_FN, len(prepared.shard_index)))
    for name, blob in prepared.compressed:
        atomic_write_bytes(subdir_dir / name, blob)
        written.append((name, len(blob)))
    if prepared.data is not None:
        atomic_write_bytes(subdir_dir / "repodata.json", prepared.data)  # last: what clients read first
        written.append(("repodata.json", len(prepared.data)))
    return PublishedIndex(str(subdir_dir), tuple(written), prepared.records)


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
    prepared = prepare_index(subdir_dir, repodata, raw=raw, indent=indent, current_repodata=current_repodata,
                             compressed=compressed, shards=shards)
    return publish_prepared(prepared, channeldata=channeldata)
