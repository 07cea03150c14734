"""Sharded repodata (CEP-16): fetch only the package names a request can reach.

conda counterparts: ``conda._private.shards`` (``shards.py``: ``Shards``, ``ShardLike``,
``fetch_shards_index``; ``subset.py``: ``RepodataSubset``, ``build_repodata_subset``;
``cache.py``: ``ShardCache``), switched by ``repodata_use_shards`` (on by default in 26.7.1), and
conda-index's shard writer.

A sharded channel subdir publishes, beside ``repodata.json``:

* ``repodata_shards.msgpack.zst`` — the **shard index**: zstd-compressed msgpack
  ``{"info": {"base_url", "shards_base_url", "subdir"}, "repodata_version", "removed",
  "shards": {name: sha256 digest (32 raw bytes)}}``. It grows with the number of *names*, not
  builds, so it is small (conda-forge linux-64: ~0.5 MB against ~250 MB of JSON).
* one ``<sha256 hex>.msgpack.zst`` **shard** per name, at ``<shards_base_url><hex>.msgpack.zst``:
  ``{"packages": {fn: record}, "packages.conda": {fn: record}}`` — that name's slice of
  ``repodata.json``, with ``md5``/``sha256`` stored as raw bytes. The file is named after the
  sha256 of its own (compressed) bytes, so it never changes: a cached shard is valid forever.

How a request uses them (:func:`build_repodata_subset`, like conda's ``RepodataSubset``):
start from the *root names* — the specs, the prefix's packages, the history specs, pins,
``aggressive_update_packages``, virtual packages — fetch their shards from every channel, read
the ``depends`` of every record, fetch the shards of the names mentioned (``pip`` with
``python`` when ``add_pip_as_python_dependency``), and so on until nothing new is mentioned.
The solver gets that subset. A channel without a shard index falls back to ``repodata.json``
(read sparsely: :mod:`conda_deepdive.index.sparse`); its records are walked the same way.

Caching, as conda does it: the shard index is cached like ``repodata.json``
(``<pkgs_dir>/cache/<hash>.msgpack.zst``, HTTP validators, ``Cache-Control: max-age``, 304s)
and shards go into one SQLite table, ``<pkgs_dir>/cache/repodata_shards.db`` keyed by URL.
``file://`` channels are read in place.

Deliberate differences (each visible in the trace):

* our solver is conda's *classic* one, which in conda 26.7.1 reads all of ``repodata.json``
  (only solver plugins that accept ``build_repodata_subset`` get a subset); here the classic
  solver gets the subset, and any name it asks for later that the walk did not reach (the
  classic closure also follows ``constrains``) is fetched on demand (event ``shard_on_demand``);
* the state of a shard index lives in ``<hash>.shards.info.json`` (conda shares
  ``<hash>.info.json`` with ``repodata.json``), so the validators of both files stay valid;
* a shard whose bytes do not hash to the name it was fetched under is refused
  (``ChecksumMismatchError``); conda trusts it.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from pathlib import Path
from collections.abc import Callable, Iterable, Mapping

from conda_deepdive.exceptions import ChecksumMismatchError, RepodataDecodeError
from conda_deepdive.index.repodata_cache import (
    RepodataCache,
    _cache_dir,
    _channel_name,
    _url_to_path,
    cache_fn_url,
    http_timeout,
)
from conda_deepdive.values import field, value_object

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = [
    "REPODATA_SHARDS_FN", "SHARD_CACHE_NAME", "ShardIndex", "ShardStore", "ShardCache",
    "build_shards", "write_shards", "write_shard_files", "publish_shard_index", "WrittenShards", "fetch_shard_index", "build_repodata_subset",
    "SubsetReport", "spec_to_package_name", "root_names",
]

REPODATA_SHARDS_FN = "repodata_shards.msgpack.zst"
SHARD_CACHE_NAME = "repodata_shards.db"
#: conda's cap when a compressed shard has no size header (conda-forge's largest is ~2.6 MB)
ZSTD_MAX_SHARD_SIZE = 2**20 * 16
#: level conda-index uses for shards: higher levels waste time for tiny gains on small objects
ZSTD_LEVEL = 3
STAGE = "index"
_SHARD_FILE = re.compile(r"^[0-9a-f]{64}\.msgpack\.zst$")
_CONDA_EXT, _TAR_BZ2_EXT = ".conda", ".tar.bz2"


# ------------------------------------------------------------------------------------------------
# Records in shards: checksums as raw bytes on the wire, hex in memory
# ------------------------------------------------------------------------------------------------
def pack_record(record: Mapping[str, Any]) -> dict:
    """A repodata record as a shard stores it: keys sorted, ``md5``/``sha256`` as bytes."""
    out = {}
    for key in sorted(record):
        value = record[key]
        if key in ("md5", "sha256") and isinstance(value, str):
            try:
                value = bytes.fromhex(value)
            except ValueError:
                pass  # not hex: keep the text (readers accept both)
        out[key] = value
    return out


def ensure_hex_hash(record: dict) -> dict:
    """Bytes checksums back to hex text (conda's ``ensure_hex_hash``); changes ``record``."""
    for key in ("sha256", "md5"):
        value = record.get(key)
        if value and not isinstance(value, str):
            record[key] = bytes(value).hex()
    return record


# ------------------------------------------------------------------------------------------------
# Writing (teaching channels, mirrors): byte-reproducible
# ------------------------------------------------------------------------------------------------
@value_object(frozen=True)
class WrittenShards:
    """What :func:`write_shards` wrote for one subdir."""

    subdir_dir: str
    index_bytes: int
    shards: Mapping[str, str] = field(repr=False)  # name -> sha256 hex
    written: int = 0  # shard files that were new
    removed: int = 0  # stale shard files deleted

    def __repr__(self) -> str:
        return (f"WrittenShards({Path(self.subdir_dir).name}: {len(self.shards)} shards, "
                f"index {self.index_bytes:,} bytes, {self.written} new, {self.removed} removed)")


def build_shards(repodata: Mapping[str, Any], subdir: str | None = None) -> tuple[bytes, dict[str, bytes], dict[str, str]]:
    """``(index bytes, {hex: shard bytes}, {name: hex})`` for a ``repodata.json`` document.

    Same input → same bytes: names, filenames and record keys are sorted, msgpack has no
    timestamps, and zstd at a fixed level with no threads is deterministic.
    """
    import msgpack
    import zstandard

    info = dict(repodata.get("info") or {})
    subdir = info.get("subdir") or subdir or ""
    groups: dict[str, dict[str, dict]] = {}
    for key in ("packages", "packages.conda"):
        for fn, record in (repodata.get(key) or {}).items():
            name = record.get("name")
            shard = groups.setdefault(name, {"packages": {}, "packages.conda": {}})
            shard[key][fn] = record
    compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_checksum=False)
    blobs: dict[str, bytes] = {}
    names: dict[str, str] = {}
    for name in sorted(groups):
        shard = {key: {fn: pack_record(groups[name][key][fn]) for fn in sorted(groups[name][key])}
                 for key in ("packages", "packages.conda")}
        blob = compressor.compress(msgpack.packb(shard, use_bin_type=True))
        digest = hashlib.sha256(blob).hexdigest()
        blobs[digest] = blob
        names[name] = digest
    index = {
        # conda-index always writes base_url and shards_base_url (rattler/pixi require them)
        # (the rest of repodata.json's info — arch, platform — is kept: records read it)
        "info": {**{k: info[k] for k in sorted(info)}, "base_url": info.get("base_url") or "",
                 "shards_base_url": "", "subdir": subdir},
        "repodata_version": int(repodata.get("repodata_version") or 1),
        "removed": sorted(repodata.get("removed") or ()),
        "shards": {name: bytes.fromhex(digest) for name, digest in names.items()},
    }
    index_blob = compressor.compress(msgpack.packb(index, use_bin_type=True))
    return index_blob, blobs, names


def write_shard_files(subdir_dir: str | os.PathLike, blobs: Mapping[str, bytes], *,
                      writer: Callable[[Path, bytes], Any] | None = None) -> int:
    """Write the shard files of ``blobs`` (``{hex: bytes}``) that are not already there.

    Shards are content-addressed (``<sha256>.msgpack.zst``) and nothing reads one until an index
    names it, so they may be written long before the index — the mirror writes them while its
    downloads are still running. Returns how many files were new.
    """
    subdir_dir = Path(subdir_dir)
    subdir_dir.mkdir(parents=True, exist_ok=True)
    write = writer or _atomic_write
    written = 0
    for digest, blob in blobs.items():
        path = subdir_dir / f"{digest}.msgpack.zst"
        try:
            same = path.stat().st_size == len(blob)
        except OSError:
            same = False
        if not same:
            write(path, blob)
            written += 1
    return written


def publish_shard_index(subdir_dir: str | os.PathLike, index_blob: bytes, digests: Iterable[str], *,
                        writer: Callable[[Path, bytes], Any] | None = None, prune: bool = True) -> int:
    """Make ``index_blob`` the live shard index, then (``prune``) delete shard files it does not
    name. Its shards (``digests``) must already be written. Returns how many were deleted."""
    subdir_dir = Path(subdir_dir)
    (writer or _atomic_write)(subdir_dir / REPODATA_SHARDS_FN, index_blob)
    removed = 0
    if prune:
        keep = {f"{d}.msgpack.zst" for d in digests}
        for entry in os.scandir(subdir_dir):
            if _SHARD_FILE.match(entry.name) and entry.name not in keep:
                os.unlink(entry.path)
                removed += 1
    return removed


def write_shards(subdir_dir: str | os.PathLike, repodata: Mapping[str, Any], *,
                 writer: Callable[[Path, bytes], Any] | None = None, prune: bool = True) -> WrittenShards:
    """Write the shards of ``repodata`` into ``subdir_dir``, then the index, then prune.

    Shards go first and the index last, and old shards are deleted only after the new index is
    in place: a reader never sees an index naming a shard that is not there. ``writer(path,
    data)`` defaults to an atomic temp-file + rename (the mirror passes its own).
    """
    subdir_dir = Path(subdir_dir)
    index_blob, blobs, names = build_shards(repodata, subdir_dir.name)
    written = write_shard_files(subdir_dir, blobs, writer=writer)
    removed = publish_shard_index(subdir_dir, index_blob, blobs, writer=writer, prune=prune)
    return WrittenShards(str(subdir_dir), len(index_blob), names, written, removed)


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.urandom(4).hex()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# ------------------------------------------------------------------------------------------------
# Reading: the shard index
# ------------------------------------------------------------------------------------------------
def _unpack(blob: bytes, what: str, channel: str, subdir: str, url: str) -> Any:
    import msgpack
    import zstandard

    try:
        return msgpack.unpackb(zstandard.ZstdDecompressor().decompress(blob, max_output_size=ZSTD_MAX_SHARD_SIZE),
                               raw=False, strict_map_key=False)
    except Exception as exc:  # zstd, msgpack or size errors: one clear message
        raise RepodataDecodeError(
            f"The {what} of channel {channel}, subdir {subdir} ({url}, {len(blob):,} bytes) is not "
            f"zstd-compressed msgpack: {exc}.", channel=channel, subdir=subdir, url=url) from None


@value_object(frozen=True)
class ShardIndex:
    """A parsed ``repodata_shards.msgpack.zst``: which names exist and where their shards are."""

    url: str  # of the index file (credentials stripped)
    url_w_credentials: str = field(repr=False)
    info: dict = field(repr=False)
    shards: dict = field(repr=False)  # name -> 32-byte sha256 digest
    source: str = "file"  # "file" | "network" | "cache"
    cache: str = "none"  # as FetchInfo.cache
    wire_bytes: int = 0

    def __repr__(self) -> str:
        return f"<ShardIndex {self.url}: {len(self.shards)} names ({self.source}, cache {self.cache})>"

    def __contains__(self, name: object) -> bool:
        return name in self.shards

    @property
    def shards_base_url(self) -> str:
        return _join(self.url_w_credentials, (self.info or {}).get("shards_base_url") or "")

    def shard_url(self, name: str) -> str:
        """``<shards_base_url><sha256 hex>.msgpack.zst`` (KeyError if the name is not here)."""
        return f"{self.shards_base_url}{bytes(self.shards[name]).hex()}.msgpack.zst"


def _join(index_url: str, relative: str) -> str:
    """The folder of ``index_url`` joined with ``relative``, ending in ``/`` (conda's
    ``_safe_urljoin_with_slash`` for http(s) and file URLs)."""
    from urllib.parse import urljoin

    if "://" in relative:
        out = relative
    else:
        out = urljoin(urljoin(index_url, relative), ".")
    return out if out.endswith("/") else out + "/"


class _ShardsIndexCache(RepodataCache):
    """The cached shard index: ``<hash>.msgpack.zst`` + its own ``<hash>.shards.info.json``."""

    @property
    def cache_path_json(self) -> Path:  # the cached file (named as conda's cache_path_shards)
        return self.cache_dir / f"{self.key}.msgpack.zst"

    @property
    def cache_path_state(self) -> Path:
        return self.cache_dir / f"{self.key}.shards.info.json"


def fetch_shard_index(subdir_url: str, url_w_credentials: str, channel: Any, subdir: str,
                      context: Any, reporter: Any) -> ShardIndex | None:
    """The shard index of one channel subdir, or ``None`` (no shards: use ``repodata.json``).

    ``file://``: read in place. ``http(s)://``: conda's ``fetch_shards_index`` — skip the request
    while the cache says "no shards here" (re-checked after a week), use a fresh cached index
    without asking, else a conditional GET; a 4xx means "no shards" (remembered), a 5xx or a
    connection failure falls back to ``repodata.json`` for this run.
    """
    name = _channel_name(channel)
    url = f"{subdir_url}/{REPODATA_SHARDS_FN}"
    full = f"{url_w_credentials}/{REPODATA_SHARDS_FN}"
    if url_w_credentials.startswith("file://"):
        path = _url_to_path(url_w_credentials) / REPODATA_SHARDS_FN
        try:
            blob = path.read_bytes()
        except OSError:
            return None
        doc = _unpack(blob, "shard index", name, subdir, url)
        return _index_from(doc, url, full, "file", "none", len(blob), name, subdir)

    key = cache_fn_url(url_w_credentials)[: -len(".json")]
    if getattr(context, "use_only_tar_bz2", False):
        key += "1"
    cache = _ShardsIndexCache(_cache_dir(context), key)
    state = cache.load_state()
    if not state.should_check_format("shards"):
        return None
    have = cache.exists()
    if have and (context.offline or not cache.stale(getattr(context, "local_repodata_ttl", 1))):
        blob = cache.read_bytes()
        return _index_from(_unpack(blob, "cached shard index", name, subdir, url), url, full,
                           "cache", "offline" if context.offline else "hit", 0, name, subdir)
    if context.offline:
        return None
    import requests

    headers = state.conditional_headers() if have else {}
    timeout = http_timeout(context)
    try:
        with requests.Session() as session:
            session.verify = context.ssl_verify if context.ssl_verify not in (None, "") else True
            if context.proxy_servers:
                session.proxies.update(dict(context.proxy_servers))
            response = session.get(full, headers=headers, timeout=timeout)
    except requests.exceptions.RequestException as exc:
        reporter.event(STAGE, "shard_index_unavailable", channel=name, subdir=subdir, url=url,
                       reason=exc.__class__.__name__, using="repodata.json")
        return None
    status = response.status_code
    if status == 304 and have:
        cache.refresh()
        blob = cache.read_bytes()
        return _index_from(_unpack(blob, "cached shard index", name, subdir, url), url, full,
                           "cache", "304", 0, name, subdir)
    if status != 200:
        if 400 <= status < 500 and status != 416:
            cache.state.set_has_format("shards", False)  # remembered for a week, as in conda
            cache.refresh()
        reporter.event(STAGE, "shard_index_unavailable", channel=name, subdir=subdir, url=url,
                       status=status, using="repodata.json")
        return None
    blob = response.content
    doc = _unpack(blob, "shard index", name, subdir, url)  # never cache what we cannot read
    cache.state.set_has_format("shards", True)
    cache.save(blob, url=url_w_credentials, etag=response.headers.get("ETag") or "",
               mod=response.headers.get("Last-Modified") or "",
               cache_control=response.headers.get("Cache-Control") or "")
    return _index_from(doc, url, full, "network", "miss", len(blob), name, subdir)


def _index_from(doc: Any, url: str, full: str, source: str, verdict: str, size: int,
                channel: str, subdir: str) -> ShardIndex:
    if not isinstance(doc, dict) or not isinstance(doc.get("shards"), dict) or not isinstance(doc.get("info"), dict):
        raise RepodataDecodeError(
            f"The shard index of channel {channel}, subdir {subdir} ({url}) has no 'info' and "
            "'shards' maps: it is not a CEP-16 repodata_shards.msgpack.zst.",
            channel=channel, subdir=subdir, url=url)
    return ShardIndex(url, full, doc["info"], doc["shards"], source, verdict, size)


# ------------------------------------------------------------------------------------------------
# Reading: shards (file:// in place; http through the SQLite cache, many at once)
# ------------------------------------------------------------------------------------------------
class ShardCache:
    """conda's ``ShardCache``: ``<cache dir>/repodata_shards.db``, one row per shard URL holding
    the compressed bytes. Shards are named by their hash, so a row never goes stale."""

    def __init__(self, cache_dir: str | os.PathLike) -> None:
        import sqlite3

        self.path = Path(cache_dir) / SHARD_CACHE_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(self.path), timeout=30.0, check_same_thread=False)
        with self.conn as c:
            c.execute("CREATE TABLE IF NOT EXISTS shards (url TEXT PRIMARY KEY, package TEXT, "
                      "shard BLOB, timestamp TIMESTAMP DEFAULT CURRENT_TIMESTAMP)")

    def __repr__(self) -> str:
        return f"ShardCache({str(self.path)!r})"

    def retrieve_multiple(self, urls: list[str]) -> dict[str, bytes]:
        if not urls:
            return {}
        out: dict[str, bytes] = {}
        for i in range(0, len(urls), 500):  # SQLite's limit on bound parameters
            chunk = urls[i:i + 500]
            query = f"SELECT url, shard FROM shards WHERE url IN ({','.join('?' * len(chunk))})"
            out.update((row[0], bytes(row[1])) for row in self.conn.execute(query, chunk))
        return out

    def insert(self, url: str, package: str, blob: bytes) -> None:
        with self.conn as c:
            c.execute("INSERT OR IGNORE INTO shards (url, package, shard) VALUES (?, ?, ?)",
                      (url, package, blob))

    def close(self) -> None:
        self.conn.close()


class ShardStore:
    """The records of one sharded subdir, by name: what :class:`~conda_deepdive.index.record_store.RecordStore`
    is for ``repodata.json``, but a name's records exist only once its shard was fetched.

    ``fetch(names)`` brings several shards in at once (network requests in parallel);
    ``for_name(name)`` fetches one on demand. ``counts()``/``names()``/``len()`` describe the
    fetched part — the subset the solver sees — and ``total_names`` the whole channel.
    """

    def __init__(self, index: ShardIndex, make: Callable[[str, dict], Any], context: Any,
                 channel: str, subdir: str, reporter_of: Callable[[], Any]) -> None:
        self.index = index
        self._make = make
        self._context = context
        self._channel, self._subdir = channel, subdir
        self._reporter_of = reporter_of  # the SubdirData's reporter of the moment
        self._raw: dict[str, list[tuple[str, dict]]] = {}  # fetched: name -> [(fn, raw)] in order
        self._built: dict[str, tuple] = {}
        self._all: tuple | None = None
        self.fetched: dict[str, str] = {}  # name -> where from: "file" | "cache" | "network"
        self.fetched_bytes = 0
        self.on_demand: list[str] = []

    def __repr__(self) -> str:
        return (f"<ShardStore {self._channel}/{self._subdir}: {len(self.fetched)} of "
                f"{len(self.index.shards)} shards fetched, {len(self)} records>")

    @property
    def total_names(self) -> int:
        return len(self.index.shards)

    def __len__(self) -> int:
        return sum(len(v) for v in self._raw.values())

    def names(self) -> list[str]:
        return [n for n, v in self._raw.items() if v]

    def counts(self) -> dict[str, int]:
        return {n: len(v) for n, v in self._raw.items() if v}

    def names_tracking(self, feature: str) -> list[str]:
        from conda_deepdive.models.records import _features

        out = []
        for name, entries in self._raw.items():
            if any(feature in _features(raw.get("track_features")) for _fn, raw in entries
                   if raw.get("track_features")):
                out.append(name)
        return out

    def raw_for(self, name: str) -> list[tuple[str, dict]]:
        """``[(fn, raw record)]`` of a fetched name (fetching it first if needed)."""
        if name not in self._raw:
            if name not in self.index.shards:
                return []
            self.on_demand.append(name)
            self.fetch([name])
            self._reporter_of().event(STAGE, "shard_on_demand", channel=self._channel, subdir=self._subdir,
                                 name=name, source=self.fetched.get(name))
        return self._raw.get(name, [])

    def count(self, name: str) -> int:
        """How many records ``name`` has (fetching its shard if needed; nothing is built)."""
        return len(self.raw_for(name))

    def masked_dependencies(self, name: str) -> tuple[list, list] | None:
        """As ``RecordStore.masked_dependencies``: from the shard's decoded entries."""
        from conda_deepdive.index.record_store import raw_dependencies

        return raw_dependencies((raw for _fn, raw in self.raw_for(name)), name)

    def for_name(self, name: str) -> tuple:
        built = self._built.get(name)
        if built is None:
            built = self._built[name] = tuple(self._make(fn, raw) for fn, raw in self.raw_for(name))
        return built

    def all(self) -> tuple:
        """Every record of the channel subdir: fetches every shard (prefer ``for_name``)."""
        if self._all is None:
            self.fetch(list(self.index.shards))
            self._all = tuple(r for name in self.index.shards for r in self.for_name(name))
        return self._all

    # -- fetching ----------------------------------------------------------------------------------
    def fetch(self, names: Iterable[str]) -> None:
        wanted = [n for n in dict.fromkeys(names) if n in self.index.shards and n not in self._raw]
        if not wanted:
            return
        urls = {n: self.index.shard_url(n) for n in wanted}
        if self.index.url_w_credentials.startswith("file://"):
            for n in wanted:
                path = _url_to_path(urls[n])
                try:
                    blob = path.read_bytes()
                except OSError as exc:
                    raise RepodataDecodeError(
                        f"The shard of {n!r} in channel {self._channel}, subdir {self._subdir} is "
                        f"missing: {path} ({exc.__class__.__name__}). The shard index names it; "
                        "re-index the channel.", channel=self._channel, subdir=self._subdir) from None
                self._accept(n, urls[n], blob, "file")
            return
        cache = ShardCache(_cache_dir(self._context))
        try:
            found = cache.retrieve_multiple(list(urls.values()))
            missing = [n for n in wanted if urls[n] not in found]
            for n in wanted:
                if urls[n] in found:
                    self._accept(n, urls[n], found[urls[n]], "cache")
            if missing and self._context.offline:
                for n in missing:  # conda's offline_nofetch_thread: an empty shard
                    self._raw[n] = []
                    self.fetched[n] = "offline (empty)"
                return
            for n, blob in self._download({n: urls[n] for n in missing}).items():
                self._accept(n, urls[n], blob, "network")
                cache.insert(urls[n], n, blob)
        finally:
            cache.close()

    def _download(self, urls: dict[str, str]) -> dict[str, bytes]:
        if not urls:
            return {}
        import requests
        from concurrent.futures import ThreadPoolExecutor

        from conda_deepdive.exceptions import CondaHTTPError

        ctx = self._context
        timeout = http_timeout(ctx)
        session = requests.Session()
        session.verify = ctx.ssl_verify if ctx.ssl_verify not in (None, "") else True
        if ctx.proxy_servers:
            session.proxies.update(dict(ctx.proxy_servers))

        def get(item: tuple[str, str]) -> tuple[str, bytes]:
            name, url = item
            try:
                response = session.get(url, timeout=timeout)
            except requests.exceptions.RequestException as exc:
                raise CondaHTTPError(
                    f"HTTP 000 CONNECTION FAILED for url <{url}>\nCould not fetch the shard of "
                    f"{name!r} (channel {self._channel}, subdir {self._subdir}): {exc.__class__.__name__}.",
                    url=url, status_code="000", reason="CONNECTION FAILED") from None
            if response.status_code != 200:
                raise CondaHTTPError(
                    f"HTTP {response.status_code} {(response.reason or '').upper()} for url <{url}>\n"
                    f"The shard index of channel {self._channel}, subdir {self._subdir} names a "
                    f"shard for {name!r} that the server does not have.",
                    url=url, status_code=response.status_code, reason=response.reason or "")
            return name, response.content

        workers = min(len(urls), int(getattr(ctx, "repodata_threads", 0) or 10))
        try:
            with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
                return dict(pool.map(get, sorted(urls.items())))
        finally:
            session.close()

    def _accept(self, name: str, url: str, blob: bytes, source: str) -> None:
        expected = bytes(self.index.shards[name]).hex()
        actual = hashlib.sha256(blob).hexdigest()
        if actual != expected:
            raise ChecksumMismatchError(
                f"The shard of {name!r} from {url} has sha256 {actual}, but the shard index of "
                f"channel {self._channel}, subdir {self._subdir} says {expected}: refusing it.",
                url=url, expected=expected, actual=actual)
        doc = _unpack(blob, f"shard of {name!r}", self._channel, self._subdir, url)
        self._raw[name] = _shard_entries(doc, bool(getattr(self._context, "use_only_tar_bz2", False)))
        self.fetched[name] = source
        self.fetched_bytes += len(blob)


def _shard_entries(shard: Mapping[str, Any], use_only_tar_bz2: bool) -> list[tuple[str, dict]]:
    """``[(fn, raw)]`` in the order the monolithic reader keeps: ``.conda`` first, then the
    ``.tar.bz2`` files without a ``.conda`` twin (conda's ``filter_redundant_packages``); a
    ``.conda`` record remembers its twin's md5/size, as ``SubdirData`` does."""
    legacy = dict(shard.get("packages") or {})
    modern = {} if use_only_tar_bz2 else dict(shard.get("packages.conda") or {})
    out = []
    shadowed = set()
    for fn, raw in modern.items():
        raw = ensure_hex_hash(dict(raw))
        twin_fn = fn[: -len(_CONDA_EXT)] + _TAR_BZ2_EXT
        shadowed.add(twin_fn)
        twin = legacy.get(twin_fn)
        if twin is not None:
            twin = ensure_hex_hash(dict(twin))
            raw["legacy_bz2_md5"] = twin.get("md5")
            raw["legacy_bz2_size"] = twin.get("size")
        if "record_version" in raw and raw["record_version"] > 1:
            continue
        out.append((fn, raw))
    for fn, raw in legacy.items():
        if fn in shadowed:
            continue
        raw = ensure_hex_hash(dict(raw))
        if "record_version" in raw and raw["record_version"] > 1:
            continue
        out.append((fn, raw))
    return out


# ------------------------------------------------------------------------------------------------
# The subset: follow dependency names from the request (conda's RepodataSubset)
# ------------------------------------------------------------------------------------------------
_NAMES: dict[str, str | None] = {}


def spec_to_package_name(spec: str) -> str | None:
    """The package name a dependency spec mentions (``None`` if it does not parse)."""
    name = _NAMES.get(spec, "")
    if name == "":
        from conda_deepdive.models.match_spec import MatchSpec

        try:
            name = MatchSpec(spec).name
        except Exception:  # an unparseable dependency names nothing (conda logs a warning)
            name = None
        _NAMES[spec] = name
    return name


@value_object(frozen=True)
class SubsetReport:
    """What :func:`build_repodata_subset` did: roots, levels walked, shards per subdir."""

    roots: tuple[str, ...]
    levels: int
    names: int  # distinct names reached
    subdirs: tuple[dict, ...]  # per sharded subdir: channel, subdir, fetched, total names, records
    seconds: float = 0.0

    def __repr__(self) -> str:
        fetched = sum(s["shards_fetched"] for s in self.subdirs)
        return (f"<SubsetReport {len(self.roots)} roots -> {self.names} names in {self.levels} "
                f"levels; {fetched} shards fetched>")

    def summary(self) -> dict:
        return {"roots": list(self.roots), "levels": self.levels, "names": self.names,
                "subdirs": list(self.subdirs), "subset_seconds": round(self.seconds, 6)}


def build_repodata_subset(subdir_datas: Iterable[Any], root_names: Iterable[str], *,
                          add_pip_as_python_dependency: bool = True, reporter: Any = None) -> SubsetReport:
    """Walk dependency names breadth first from ``root_names`` over every subdir.

    Sharded subdirs fetch each level's shards together (one parallel batch per subdir and
    level); monolithic subdirs answer from ``repodata.json`` (sparse: only the reached names
    are decoded). Every name mentioned by a ``depends`` of any reached record, in any channel, is
    looked up in every channel — as conda's ``_visit_node`` broadcasts a name to all shardlikes.
    """
    started = time.perf_counter()
    sds = list(subdir_datas)
    roots = tuple(dict.fromkeys(n for n in root_names if n and n != "*"))
    seen: set[str] = set(roots)
    level = list(roots)
    depth = 0
    while level:
        depth += 1
        for sd in sds:
            store = getattr(sd, "shard_store", None)
            if store is not None:
                store.fetch(level)
        mentioned: dict[str, None] = {}
        for name in level:
            for sd in sds:
                store = getattr(sd, "shard_store", None)
                if store is not None:
                    raws = [raw for _fn, raw in store._raw.get(name, ())]
                    deps = (d for raw in raws for d in (raw.get("depends") or ()))
                else:
                    deps = (d for rec in sd.records_for(name) for d in rec.depends)
                for dep in deps:
                    dname = spec_to_package_name(dep)
                    if dname and dname not in seen:
                        mentioned[dname] = None
            if add_pip_as_python_dependency and name == "python" and "pip" not in seen:
                mentioned["pip"] = None
        seen.update(mentioned)
        level = list(mentioned)
    per_subdir = []
    for sd in sds:
        store = getattr(sd, "shard_store", None)
        if store is None:
            continue
        per_subdir.append({
            "channel": _channel_name(sd.channel), "subdir": sd.subdir,
            "shards_fetched": len(store.fetched), "total_names": store.total_names,
            "records": len(store), "bytes": store.fetched_bytes,
            "sources": _count_values(store.fetched.values()),
            "names": sorted(store.fetched),
        })
    report = SubsetReport(roots, depth, len(seen), tuple(per_subdir), time.perf_counter() - started)
    if reporter is not None:
        reporter.event(STAGE, "repodata_subset", **report.summary())
    return report


def _count_values(values: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return dict(sorted(out.items()))


def root_names(specs: Iterable[Any] = (), prefix: str | os.PathLike | None = None,
               context: Any = None, virtual_packages: Iterable[Any] = ()) -> list[str]:
    """The names a request starts from, as conda's solver plugins build them: the requested
    specs, the prefix's packages and history specs, pins (``pinned_packages`` and
    ``conda-meta/pinned``), ``aggressive_update_packages`` and the virtual packages."""
    names: dict[str, None] = {}

    def add_spec(spec: Any) -> None:
        name = spec if isinstance(spec, str) else getattr(spec, "name", None)
        if isinstance(spec, str):
            name = spec_to_package_name(spec)
        if name and name != "*":
            names[name] = None

    for spec in specs:
        add_spec(spec)
    if prefix:
        from conda_deepdive.index.history import History
        from conda_deepdive.index.prefix_data import PrefixData

        meta = Path(prefix) / "conda-meta"
        if meta.is_dir():
            for rec in PrefixData(str(prefix), getattr(context, "channel_config", None)).iter_records():
                names[rec.name] = None
            for name in History(str(prefix)).get_requested_specs_map():
                names[name] = None
            pinned = meta / "pinned"
            if pinned.is_file():
                for line in pinned.read_text(encoding="utf-8", errors="replace").splitlines():
                    line = line.split("#", 1)[0].strip()
                    if line:
                        add_spec(line)
    for spec in getattr(context, "pinned_packages", ()) or ():
        add_spec(spec)
    for spec in getattr(context, "aggressive_update_packages", ()) or ():
        add_spec(spec)
    for rec in virtual_packages:
        names[rec.name] = None
    return list(names)

