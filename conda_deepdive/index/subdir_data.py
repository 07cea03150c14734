"""Stage 3, one channel × one subdir: fetch its ``repodata.json`` and make package records.

conda counterpart: ``conda.core.subdir_data.SubdirData`` (the HTTP and cache side is in
:mod:`conda_deepdive.index.repodata_cache`, conda's ``conda.gateways.repodata``). All channels together,
plus the virtual packages, are :mod:`conda_deepdive.index.index`.

What happens, per channel and subdir:

1. **Where from?** ``file://`` channels are read straight from disk. ``http(s)://`` channels go
   through the cache in ``<pkgs_dir>/cache``: if the cache is fresh (``local_repodata_ttl``,
   ``Cache-Control: max-age``) the server is not asked at all; otherwise a *conditional* GET is
   sent (``If-None-Match``/``If-Modified-Since``) and ``304 Not Modified`` means "use the cache".
2. **Which file?** conda 26 first asks for ``repodata.json.zst`` (a fraction of the size) and
   falls back to ``repodata.json`` when the server answers 4xx — remembering ``has_zst`` in the
   cache state. With ``--repodata-fn current_repodata.json`` (conda's first attempt in
   ``conda install``) a channel without that file silently falls back to ``repodata.json``.
3. **Records.** ``packages.conda`` and ``packages`` are both read; when a package exists in both
   formats only the ``.conda`` one is kept (unless ``use_only_tar_bz2``). Each record is completed
   with ``channel``, ``url``, ``fn`` and — notice this — ``subdir``/``arch``/``platform`` taken
   from the file's ``info``, overwriting what the record said. With
   ``add_pip_as_python_dependency`` every ``python`` 2.x/3.x record gains a ``pip`` dependency.
   The records of a name are built when first asked for (:mod:`conda_deepdive.index.record_store`).

Look at ``subdir_data.fetch_info`` to see what the network did.

Deliberate differences from conda (each reported through the tracer):

* a server that cannot be reached (connection error or 5xx) while a cache exists → the cache is
  used with a warning (conda raises ``CondaHTTPError``);
* ``offline`` with no cache for an ``http(s)`` channel → ``OfflineError`` (conda silently treats
  the subdir as empty);
* repodata that is not JSON → one ``RepodataDecodeError`` naming channel and subdir, and nothing
  is cached (conda crashes with a ``JSONDecodeError`` after caching it);
* ``file://`` repodata is read in place rather than copied into the cache first; parsed
  ``file://`` subdirs are kept in memory (keyed by file size + mtime) like conda's
  ``SubdirData._cache_``, so conda's repeated solve attempts do not re-parse.
"""

from __future__ import annotations

from _thread import allocate_lock  # threading.Lock itself, without importing threading (~1.5 ms)
import os
import time
from collections.abc import Iterable

from conda_deepdive.index import gc_policy
from conda_deepdive.exceptions import ChannelError, CondaUpgradeError, UnavailableInvalidChannel
from conda_deepdive.index.record_store import RecordStore, check_raw_record
from conda_deepdive.reporting import Reporter
from conda_deepdive.index.repodata_cache import (
    REPODATA_FN,
    RepodataFetch,
    _cache_dir,
    _cache_dir_name,
    _channel_name,
    _strip_credentials,
    _url_to_local,
    _url_to_path,
    cache_fn_url,
)
from conda_deepdive.values import value_object

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["SubdirData", "FetchInfo", "STAGE"]

STAGE = "index"
MAX_REPODATA_VERSION = 1
_CONDA_EXT, _TAR_BZ2_EXT = ".conda", ".tar.bz2"


# ------------------------------------------------------------------------------------------------
# Small value objects
# ------------------------------------------------------------------------------------------------
@value_object(frozen=True, repr=False)  # its own __repr__ below
class FetchInfo:
    """What loading one subdir did: which URL and file, cache verdict, status, sizes, timings.

    ``cache`` is one of: ``"hit"`` (fresh cache, server not asked), ``"miss"`` (downloaded),
    ``"304"`` (server said not modified), ``"offline"`` (offline mode, cache used),
    ``"stale"`` (server unreachable, old cache used), ``"memory"`` (already parsed in this
    process), ``"none"`` (``file://``: no cache involved).
    """

    channel: str
    subdir: str
    url: str
    repodata_fn: str
    filename: str
    source: str  # "file" | "network" | "cache"
    cache: str
    status: int | None
    bytes: int
    json_bytes: int
    record_count: int
    cache_path: str | None = None
    fallbacks: tuple[str, ...] = ()
    fetch_seconds: float = 0.0
    parse_seconds: float = 0.0
    records_seconds: float = 0.0
    reader: str = "json"  # "json" (full parse) | "sparse" (sparse.py) | "shards" (shards.py)

    def summary(self) -> dict:
        return {
            "channel": self.channel,
            "subdir": self.subdir,
            "url": self.url,
            "repodata_fn": self.repodata_fn,
            "filename": self.filename,
            "source": self.source,
            "cache": self.cache,
            "status": self.status,
            "bytes": self.bytes,
            "json_bytes": self.json_bytes,
            "record_count": self.record_count,
            "cache_path": self.cache_path,
            "fallbacks": list(self.fallbacks),
            "fetch_seconds": round(self.fetch_seconds, 6),
            "parse_seconds": round(self.parse_seconds, 6),
            "records_seconds": round(self.records_seconds, 6),
            "reader": self.reader,
        }

    def __repr__(self) -> str:
        status = "" if self.status is None else f" HTTP {self.status}"
        return (
            f"<FetchInfo {self.channel}/{self.subdir}: {self.filename} from {self.source}"
            f" (cache {self.cache}{status}), {self.record_count} records, {self.bytes:,} bytes>"
        )


# ------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------

def _channel_class():
    from conda_deepdive.models.channel import Channel

    return Channel


def _sparse_enabled(context: Any) -> bool:
    from conda_deepdive.index.sparse import sparse_enabled

    # the switch may come from the process or from the environment the Context was loaded with
    env = getattr(context, "_env", None)
    return sparse_enabled() and (not isinstance(env, dict) or sparse_enabled(env))


def _shards_enabled(context: Any) -> bool:
    """conda's ``repodata_use_shards`` (read here: importing shards.py costs a few ms)."""
    value = getattr(context, "repodata_use_shards", True)
    if isinstance(value, str):
        return value.strip().lower() not in ("0", "false", "no", "off")
    return bool(value)


def _check_repodata_shape(repodata: Any, url: str) -> None:
    """The containers conda reads: an object with ``info`` (object), ``packages`` and
    ``packages.conda`` (objects of objects), ``repodata_version`` (int)."""
    from conda_deepdive.exceptions import RepodataDecodeError

    def bad(why: str) -> RepodataDecodeError:
        return RepodataDecodeError(f"The repodata at {url} is not usable: {why}.", url=url)

    if not isinstance(repodata, dict):
        raise bad(f"it is a {type(repodata).__name__}, not an object")
    for key in ("info", "packages", "packages.conda"):
        value = repodata.get(key)
        if value is not None and not isinstance(value, dict):
            raise bad(f"{key!r} is a {type(value).__name__}, not an object")
    for key in ("packages", "packages.conda"):
        for fn, raw in (repodata.get(key) or {}).items():
            if not isinstance(raw, dict):
                raise bad(f"the entry {fn!r} of {key!r} is a {type(raw).__name__}, not an object")
    version = repodata.get("repodata_version", 0)
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise bad(f"repodata_version is {version!r}")


def _record_class():
    from conda_deepdive.models.records import PackageRecord

    return PackageRecord


# ------------------------------------------------------------------------------------------------
# SubdirData
# ------------------------------------------------------------------------------------------------
class SubdirData:
    """The repodata of one channel × one subdir, fetched (or read from cache) and parsed.

    ``SubdirData(channel, "linux-64", context).load().records`` → a tuple of ``PackageRecord``.
    """

    # parsed file:// subdirs of this process: key -> (file stamp, RecordStore, FetchInfo)
    _memory: dict[tuple, tuple[tuple, RecordStore, FetchInfo]] = {}
    _memory_lock = allocate_lock()

    def __init__(
        self,
        channel: Any,
        subdir: str,
        context: Any,
        repodata_fn: str = REPODATA_FN,
        reporter: Reporter | None = None,
    ) -> None:
        if isinstance(channel, str):
            channel = _channel_class()(channel, config=getattr(context, "channel_config", None))
        self.channel = channel
        self.subdir = subdir
        self.context = context
        self.repodata_fn = repodata_fn or REPODATA_FN
        self.reporter = reporter or Reporter()
        self.url_w_credentials = self._subdir_url(with_credentials=True)
        self.url = _strip_credentials(self._subdir_url(with_credentials=False))
        self._store: RecordStore | None = None
        self.shard_store: Any = None  # a shards.ShardStore when the channel publishes shards
        self._records: tuple = ()
        self.fetch_info: FetchInfo | None = None
        self._loaded = False

    # -- the records (built per name on first use: see record_store.py) --------------------------
    @property
    def records(self) -> tuple:
        """Every record of this subdir (builds any not built yet)."""
        return self._store.all() if self._store is not None else self._records

    @records.setter
    def records(self, value: Iterable[Any]) -> None:
        self._store, self._records = None, tuple(value)

    @property
    def record_count(self) -> int:
        return len(self._store) if self._store is not None else len(self._records)

    def records_for(self, name: str) -> tuple:
        """The records named ``name`` (only those are built)."""
        if self._store is not None:
            return self._store.for_name(name)
        return tuple(r for r in self._records if r.name == name)

    def count_for(self, name: str) -> int:
        """How many records are named ``name`` (nothing is built)."""
        if self._store is not None:
            return self._store.count(name)
        return sum(1 for r in self._records if r.name == name)

    def masked_dependencies(self, name: str) -> tuple[list, list] | None:
        """``(dependency strings, features)`` of the records named ``name``, none built
        (``RecordStore.masked_dependencies``); ``None`` when this subdir cannot say."""
        if self._store is not None:
            return self._store.masked_dependencies(name)
        return None

    def names_tracking(self, feature: str) -> list[str]:
        """Names with a record that tracks ``feature`` (first-seen order; builds nothing)."""
        if self._store is not None:
            return self._store.names_tracking(feature)
        return list(dict.fromkeys(r.name for r in self._records if feature in (r.track_features or ())))

    def records_channel(self) -> Any:
        """The channel object this subdir's records carry (``record.channel``), without building
        one: the channel's URL narrowed to this subdir, as ``PackageRecord.from_repodata`` does."""
        from conda_deepdive.models.records import channel_for_subdir

        return channel_for_subdir(self.channel, self.subdir)

    def names(self) -> list[str]:
        """Package names in first-seen order, building nothing."""
        if self._store is not None:
            return self._store.names()
        return list(dict.fromkeys(rec.name for rec in self._records))

    def records_of(self, names: set) -> int:
        """How many records of this subdir are named one of ``names`` (nothing is built)."""
        records_of = getattr(self._store, "records_of", None)
        if records_of is not None:
            return records_of(names)
        counts = self.name_counts()
        return sum(counts[n] for n in names & counts.keys())

    def name_counts(self) -> dict[str, int]:
        """``{name: record count}`` in first-seen order, building nothing."""
        if self._store is not None:
            return self._store.counts()
        counts: dict[str, int] = {}
        for rec in self._records:
            counts[rec.name] = counts.get(rec.name, 0) + 1
        return counts

    def __repr__(self) -> str:
        state = f"{self.record_count} records" if self._loaded else "not loaded"
        return f"<SubdirData {_channel_name(self.channel)}/{self.subdir} ({self.repodata_fn}): {state}>"

    def summary(self) -> dict:
        info = self.fetch_info.summary() if self.fetch_info else None
        return {"channel": _channel_name(self.channel), "subdir": self.subdir,
                "records": self.record_count, "fetch": info}

    @classmethod
    def clear_memory_cache(cls) -> None:
        """Forget parsed ``file://`` subdirs (benchmarks, tests)."""
        with cls._memory_lock:
            cls._memory.clear()

    def _subdir_url(self, with_credentials: bool) -> str:
        urls = list(self.channel.urls(with_credentials=with_credentials, subdirs=(self.subdir,)))
        for url in urls:
            if url.rstrip("/").endswith("/" + self.subdir):
                return url.rstrip("/")
        if urls:
            return urls[0].rstrip("/")
        return self.channel.subdir_url(self.subdir).rstrip("/")

    # -- loading ---------------------------------------------------------------------------------
    def load(self) -> "SubdirData":
        """Fetch (or reuse) the repodata and build the records; returns ``self``."""
        if self._loaded:
            return self
        fallbacks: list[str] = []
        fn = self.repodata_fn
        started = time.perf_counter()
        memo_key, stamp = self._memory_key(fn), None
        if memo_key is not None:
            stamp = self._file_stamp(fn)
            with self._memory_lock:
                hit = self._memory.get(memo_key)
            if hit is not None and hit[0] == stamp:
                self._store, info = hit[1], hit[2]
                self.fetch_info = FetchInfo(**{**info.__dict__, "cache": "memory",
                                               "fetch_seconds": time.perf_counter() - started,
                                               "parse_seconds": 0.0, "records_seconds": 0.0})
                self._loaded = True
                self._report()
                return self
        if fn == REPODATA_FN and _shards_enabled(self.context) and self._load_shards(started):
            return self  # CEP-16 shards: records come per name (shards.py)
        if self._load_mapped(fn, started, memo_key, stamp):
            return self  # a local file whose sparse index is already stored: nothing to read
        fetcher = RepodataFetch(self.channel, self.subdir, self.url, self.url_w_credentials,
                                self.context, self.reporter)
        try:
            fetched = fetcher.fetch(fn)
        except UnavailableInvalidChannel as exc:  # includes RepodataIsEmpty
            if fn == REPODATA_FN:
                raise
            # conda: a channel without current_repodata.json is read through repodata.json
            fallbacks.append(f"{fn}: HTTP {getattr(exc, 'status_code', '000')}")
            self.reporter.event(STAGE, "repodata_fallback", channel=_channel_name(self.channel),
                                subdir=self.subdir, tried=fn, using=REPODATA_FN,
                                url=f"{self.url}/{fn}")
            fn = REPODATA_FN
            fetched = fetcher.fetch(fn)
        fetch_seconds = time.perf_counter() - started

        with gc_policy.paused():  # ~10⁵ acyclic objects: see gc_policy.py
            t0 = time.perf_counter()
            reader, store = "json", None
            if fetched.parsed is None and fetched.data and _sparse_enabled(self.context):
                store = self._sparse_store(fetched, fn)  # None: fall back to the full parse
            if store is not None:
                reader, self._store = "sparse", store
                parse_seconds, records_seconds = time.perf_counter() - t0, 0.0
            else:
                repodata = fetcher.parse(fetched)
                parse_seconds = time.perf_counter() - t0
                t0 = time.perf_counter()
                self._store = self._build_records(repodata)
                records_seconds = time.perf_counter() - t0
                del repodata

        self.fetch_info = FetchInfo(
            channel=_channel_name(self.channel), subdir=self.subdir, url=self.url,
            repodata_fn=self.repodata_fn, filename=fetched.filename, source=fetched.source,
            cache=fetched.cache, status=fetched.status, bytes=fetched.wire_bytes,
            json_bytes=len(fetched.data or b""), record_count=len(self._store),
            cache_path=fetched.cache_path, fallbacks=tuple(fallbacks),
            fetch_seconds=fetch_seconds, parse_seconds=parse_seconds,
            records_seconds=records_seconds, reader=reader,
        )
        if memo_key is not None:
            with self._memory_lock:
                self._memory[memo_key] = (stamp, self._store, self.fetch_info)
        self._loaded = True
        self._report()
        return self

    def _report(self) -> None:
        self.reporter.event(STAGE, "subdir_loaded", **self.fetch_info.summary())

    def _load_mapped(self, fn: str, started: float, memo_key: Any, memo_stamp: Any) -> bool:
        """``file://`` + uncompressed ``fn`` + a stored sparse index that matches the file: map
        the file into memory (``mmap``) instead of reading it. Only the pages of the records
        that get decoded are ever read, so the cost does not grow with the channel."""
        if memo_key is None or not _sparse_enabled(self.context):
            return False
        from conda_deepdive.index import sparse

        # the stamp just taken says whether the files are there (no second stat of each)
        sizes = {name: (size, mtime) for name, size, mtime in memo_stamp}
        if sizes[f"{fn}.zst"][0] is not None:
            return False  # conda reads the .zst first: the full path decompresses it
        size, mtime = sizes[fn]
        if size is None:
            return False
        path = os.path.join(self._local_dir(), fn)
        ctx = self.context
        tar_only = bool(getattr(ctx, "use_only_tar_bz2", False))
        key = cache_fn_url(self.url_w_credentials, fn)[: -len(".json")] + ("1" if tar_only else "")
        index_file = sparse.index_file(_cache_dir_name(ctx), key)
        t0 = time.perf_counter()
        with gc_policy.paused():  # ~10⁴ acyclic objects: see gc_policy.py
            index = sparse.load_index(index_file, (fn, size, mtime))
        if index is None or size == 0:
            return False
        buf = sparse.map_file(path)
        if buf is None:
            return False
        make = self._record_maker(index.info or {}, index.repodata_version)
        self._store = RecordStore(index.entries, index.positions,
                                  sparse.make_decoder(buf, index, make, index_file),
                                  trackers=index.features, dependencies=index.dependencies,
                                  special=index.special, has_features=index.has_features)
        self.reporter.event(STAGE, "sparse_index", channel=_channel_name(self.channel),
                            subdir=self.subdir, filename=fn, index="loaded (file mapped)",
                            index_path=str(index_file), records=len(index.entries),
                            names=len(index.positions),
                            index_seconds=round(time.perf_counter() - t0, 6))
        self.fetch_info = FetchInfo(
            channel=_channel_name(self.channel), subdir=self.subdir, url=self.url,
            repodata_fn=self.repodata_fn, filename=fn, source="file", cache="none", status=200,
            bytes=size, json_bytes=size, record_count=len(self._store),
            fetch_seconds=time.perf_counter() - started, reader="sparse",
        )
        with self._memory_lock:
            self._memory[memo_key] = (memo_stamp, self._store, self.fetch_info)
        self._loaded = True
        self._report()
        return True

    # -- sharded repodata (CEP-16) ---------------------------------------------------------------
    def _load_shards(self, started: float) -> bool:
        """Use the channel's ``repodata_shards.msgpack.zst`` if it has one (``True``): the
        records of a name come from its shard, fetched when the subset walk or the solver asks
        (shards.py). ``False``: no shard index, read ``repodata.json`` as usual."""
        if self.url_w_credentials.startswith("file://") and not os.path.isfile(
                os.path.join(self._local_dir(), "repodata_shards.msgpack.zst")):
            return False  # most local channels: no shards, and no need to import shards.py
        from conda_deepdive.index.shards import REPODATA_SHARDS_FN, ShardStore, fetch_shard_index

        index = fetch_shard_index(self.url, self.url_w_credentials, self.channel, self.subdir,
                                  self.context, self.reporter)
        if index is None:
            return False
        # the shard index's repodata_version speaks of base_url (CEP-15), not of record schemas
        make = self._record_maker(index.info, 0)
        self.shard_store = ShardStore(index, make, self.context, _channel_name(self.channel),
                                      self.subdir, lambda: self.reporter)
        self._store = self.shard_store
        self.fetch_info = FetchInfo(
            channel=_channel_name(self.channel), subdir=self.subdir, url=self.url,
            repodata_fn=self.repodata_fn, filename=REPODATA_SHARDS_FN, source=index.source,
            cache=index.cache, status=None if index.source == "cache" else 200,
            bytes=index.wire_bytes, json_bytes=0, record_count=0,
            fetch_seconds=time.perf_counter() - started, reader="shards",
        )
        self._loaded = True
        self._report()
        self.reporter.event(STAGE, "shard_index", channel=_channel_name(self.channel),
                            subdir=self.subdir, url=index.url, names=len(index.shards),
                            source=index.source, cache=index.cache)
        return True

    # -- in-process memo for file:// -------------------------------------------------------------
    def _memory_key(self, fn: str) -> tuple | None:
        if not self.url_w_credentials.startswith("file://"):
            return None
        ctx = self.context
        return (self.url_w_credentials, fn, _channel_name(self.channel),
                bool(ctx.add_pip_as_python_dependency), bool(getattr(ctx, "use_only_tar_bz2", False)),
                _sparse_enabled(ctx))

    def _local_dir(self) -> str:
        """The folder of a ``file://`` subdir, as a plain path string (stat-ed several times a
        load: ``os.path`` on a string costs a fraction of building ``Path`` objects, and a warm
        run then never imports pathlib)."""
        return _url_to_local(self.url_w_credentials)

    def _file_stamp(self, fn: str) -> tuple:
        base = self._local_dir()
        stamp = []
        for name in dict.fromkeys((f"{fn}.zst", fn, f"{REPODATA_FN}.zst", REPODATA_FN)):
            try:
                st = os.stat(os.path.join(base, name))
                stamp.append((name, st.st_size, st.st_mtime_ns))
            except OSError:
                stamp.append((name, None, None))
        return tuple(stamp)

    # -- getting the bytes ---------------------------------------------------------------------
    def _build_records(self, repodata: dict) -> RecordStore:
        """``packages.conda`` + ``packages`` → a :class:`RecordStore` of completed ``PackageRecord``s."""
        _check_repodata_shape(repodata, self.url)
        make = self._record_maker(repodata.get("info") or {}, repodata.get("repodata_version", 0))
        ctx = self.context
        legacy = repodata.get("packages") or {}
        modern = {} if getattr(ctx, "use_only_tar_bz2", False) else (repodata.get("packages.conda") or {})
        # a .tar.bz2 whose .conda twin exists is dropped: conda prefers the newer format
        shadowed = {fn[: -len(_CONDA_EXT)] + _TAR_BZ2_EXT for fn in modern}

        for fn, raw in modern.items():
            twin = legacy.get(fn[: -len(_CONDA_EXT)] + _TAR_BZ2_EXT)
            if twin is not None:  # conda remembers the twin's checksum and size
                raw["legacy_bz2_md5"] = twin.get("md5")
                raw["legacy_bz2_size"] = twin.get("size")
        legacy_items = legacy.items()
        if shadowed:
            legacy_items = [(fn, raw) for fn, raw in legacy_items if fn not in shadowed]
        entries: list[tuple[str, dict]] = []
        positions: dict[str, list[int]] = {}
        append = entries.append
        for group in (modern.items(), legacy_items):
            for fn, raw in group:
                if "record_version" in raw and isinstance(raw["record_version"], (int, float)) \
                        and raw["record_version"] > 1:
                    continue  # conda ignores records from a future schema
                name = raw.get("name")
                if not isinstance(name, str):  # unreachable by name; building it raises (all())
                    name = f"<invalid name {name!r}>"
                pos = positions.get(name)
                if pos is None:
                    positions[name] = [len(entries)]
                else:
                    pos.append(len(entries))
                append((fn, raw))

        # records are built per name when first asked for (record_store.py)
        return RecordStore(entries, positions, make)

    def _record_maker(self, info: dict, repodata_version: Any) -> Any:
        """Check the file's ``info``/``repodata_version``; return ``make(fn, raw) -> record``."""
        if (repodata_version or 0) > MAX_REPODATA_VERSION:
            raise CondaUpgradeError(
                f"The repodata of {self.url} has repodata_version "
                f"{repodata_version}; only version {MAX_REPODATA_VERSION} is understood."
            )
        subdir = info.get("subdir") or self.subdir
        if subdir != self.subdir:
            raise ChannelError(
                f"{self.url}/repodata.json says info.subdir = {subdir!r} but was fetched for "
                f"subdir {self.subdir!r} of channel {_channel_name(self.channel)}."
            )
        # conda overwrites each record's subdir/arch/platform with the file's info values
        arch, platform = info.get("arch"), info.get("platform")
        add_pip = bool(self.context.add_pip_as_python_dependency)
        from_repodata = _record_class().from_repodata
        from conda_deepdive.models.records import channel_for_subdir

        # the records' channel names this subdir: worked out once here, not once per record
        channel, base_url = channel_for_subdir(self.channel, subdir), self.url_w_credentials

        where = self.url

        def make(fn: str, raw: dict) -> Any:
            raw = check_raw_record(fn, raw, where)  # a hostile or broken channel: one clear error
            if add_pip and raw.get("name") == "python" and str(raw.get("version", "")).startswith(("2.", "3.")):
                raw = {**raw, "depends": [*(raw.get("depends") or ()), "pip"]}
            return from_repodata(fn, raw, channel, subdir, base_url, arch, platform)

        return make

    def _sparse_store(self, fetched: Any, fn: str) -> RecordStore | None:
        """The records of a monolithic file read sparsely (sparse.py); ``None`` = parse fully.

        The name index is kept beside the repodata cache (``<hash>.sparse``), stamped
        with the size and mtime of the file it describes, so the next run skips the scan."""
        from conda_deepdive.index import sparse

        if fetched.source == "cache" and fetched.cache_path:
            source = os.fspath(fetched.cache_path)
        elif fetched.source == "file":
            source = os.path.join(self._local_dir(), fetched.filename)
        else:
            source = None
        ctx = self.context
        tar_only = bool(getattr(ctx, "use_only_tar_bz2", False))
        try:
            st = os.stat(source) if source is not None else None
        except OSError:
            st = None
        stamp = (fetched.filename, st.st_size, st.st_mtime_ns) if st is not None else ()
        key = cache_fn_url(self.url_w_credentials, fn)[: -len(".json")] + ("1" if tar_only else "")
        path = sparse.index_path(_cache_dir(ctx), key)
        t0 = time.perf_counter()
        index = sparse.load_index(path, stamp) if stamp else None
        verdict, stored = "loaded", True  # stored: the cache folder holds this index
        if index is None:
            index = sparse.build_index(fetched.data, tar_only, stamp)
            if index is None:
                self.reporter.event(STAGE, "sparse_fallback", channel=_channel_name(self.channel),
                                    subdir=self.subdir, filename=fetched.filename)
                return None
            verdict = "built"
            if stamp and not sparse.save_index(path, index):
                verdict, stored = "built (not saved: cache folder not writable)", False
        make = self._record_maker(index.info or {}, index.repodata_version)
        self.reporter.event(STAGE, "sparse_index", channel=_channel_name(self.channel),
                            subdir=self.subdir, filename=fetched.filename, index=verdict,
                            index_path=str(path), records=len(index.entries),
                            names=len(index.positions),
                            index_seconds=round(time.perf_counter() - t0, 6))
        data = fetched.data
        if stored and st is not None and st.st_size == len(data):
            # the file on disk is these very bytes (not a compressed form): read records from it
            # mapped, through the stored index, as a warm run does — the bytes read now and the
            # index just built are freed (a cold run over many subdirs held them all)
            on_disk = sparse.load_index(path, stamp) if verdict == "built" else index
            mapped = sparse.map_file(source) if on_disk is not None else None
            if mapped is not None:
                index, data = on_disk, mapped
        build = sparse.make_decoder(data, index, make, path if stamp else None)
        return RecordStore(index.entries, index.positions, build, trackers=index.features,
                           dependencies=index.dependencies, special=index.special,
                           has_features=index.has_features)
