"""Stage 3 — fetch the index: every channel's ``repodata.json``, turned into package records.

conda counterparts: ``conda.core.subdir_data.SubdirData`` (one channel × one subdir),
``conda.gateways.repodata`` (HTTP + cache, see :mod:`conda_deepdive.repodata_cache`) and
``conda.core.index`` (all channels together, plus the virtual packages of
:mod:`conda_deepdive.virtual_packages`).

What happens, per channel and subdir (``linux-64`` *and* ``noarch`` — noarch is always added):

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

What to notice as a learner: the index is plain data — tens of thousands of records, in channel
priority order (first channel first). Later stages (channel priority, reduction, solve) only
ever *filter* it. Look at ``index.subdir_datas[i].fetch_info`` to see what the network did.

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

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from collections.abc import Mapping
from typing import Any, Iterable, Sequence

from . import gc_policy
from .exceptions import ChannelError, CondaUpgradeError, UnavailableInvalidChannel
from .record_store import RecordStore
from .reporting import Reporter
from .repodata_cache import (
    REPODATA_FN,
    RepodataFetch,
    _channel_name,
    _strip_credentials,
    _url_to_path,
)

__all__ = ["SubdirData", "FetchInfo", "Index", "fetch_index", "STAGE"]

STAGE = "index"
MAX_REPODATA_VERSION = 1
_CONDA_EXT, _TAR_BZ2_EXT = ".conda", ".tar.bz2"


# ------------------------------------------------------------------------------------------------
# Small value objects
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
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
        }

    def __repr__(self) -> str:
        status = "" if self.status is None else f" HTTP {self.status}"
        return (
            f"<FetchInfo {self.channel}/{self.subdir}: {self.filename} from {self.source}"
            f" (cache {self.cache}{status}), {self.record_count} records, {self.bytes:,} bytes>"
        )


class _BufferingReporter(Reporter):
    """Holds a worker thread's reports so they can be replayed in deterministic order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple, dict]] = []

    def event(self, stage: str, kind: str, **data: Any) -> None:
        self.calls.append(("event", (stage, kind), data))

    def warning(self, stage: str, message: str) -> None:
        self.calls.append(("warning", (stage, message), {}))

    def progress(self, stage: str, task: str, done: int, total: int | None) -> None:
        self.calls.append(("progress", (stage, task, done, total), {}))

    def replay(self, target: Reporter) -> None:
        for method, args, kwargs in self.calls:
            getattr(target, method)(*args, **kwargs)


# ------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------

def _channel_class():
    from .models.channel import Channel

    return Channel


def _record_class():
    from .models.records import PackageRecord

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
    _memory_lock = threading.Lock()

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

    def names_tracking(self, feature: str) -> list[str]:
        """Names with a record that tracks ``feature`` (first-seen order; builds nothing)."""
        if self._store is not None:
            return self._store.names_tracking(feature)
        return list(dict.fromkeys(r.name for r in self._records if feature in (r.track_features or ())))

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
            records_seconds=records_seconds,
        )
        if memo_key is not None:
            with self._memory_lock:
                self._memory[memo_key] = (stamp, self._store, self.fetch_info)
        self._loaded = True
        self._report()
        return self

    def _report(self) -> None:
        self.reporter.event(STAGE, "subdir_loaded", **self.fetch_info.summary())

    # -- in-process memo for file:// -------------------------------------------------------------
    def _memory_key(self, fn: str) -> tuple | None:
        if not self.url_w_credentials.startswith("file://"):
            return None
        ctx = self.context
        return (self.url_w_credentials, fn, _channel_name(self.channel),
                bool(ctx.add_pip_as_python_dependency), bool(getattr(ctx, "use_only_tar_bz2", False)))

    def _file_stamp(self, fn: str) -> tuple:
        base = _url_to_path(self.url_w_credentials)
        stamp = []
        for name in dict.fromkeys((f"{fn}.zst", fn, f"{REPODATA_FN}.zst", REPODATA_FN)):
            try:
                st = (base / name).stat()
                stamp.append((name, st.st_size, st.st_mtime_ns))
            except OSError:
                stamp.append((name, None, None))
        return tuple(stamp)

    # -- getting the bytes ---------------------------------------------------------------------
    def _build_records(self, repodata: dict) -> RecordStore:
        """``packages.conda`` + ``packages`` → a :class:`RecordStore` of completed ``PackageRecord``s."""
        if repodata.get("repodata_version", 0) > MAX_REPODATA_VERSION:
            raise CondaUpgradeError(
                f"The repodata of {self.url} has repodata_version "
                f"{repodata['repodata_version']}; only version {MAX_REPODATA_VERSION} is understood."
            )
        info = repodata.get("info") or {}
        subdir = info.get("subdir") or self.subdir
        if subdir != self.subdir:
            raise ChannelError(
                f"{self.url}/repodata.json says info.subdir = {subdir!r} but was fetched for "
                f"subdir {self.subdir!r} of channel {_channel_name(self.channel)}."
            )
        # conda overwrites each record's subdir/arch/platform with the file's info values
        arch, platform = info.get("arch"), info.get("platform")
        ctx = self.context
        add_pip = bool(ctx.add_pip_as_python_dependency)
        legacy = repodata.get("packages") or {}
        modern = {} if getattr(ctx, "use_only_tar_bz2", False) else (repodata.get("packages.conda") or {})
        # a .tar.bz2 whose .conda twin exists is dropped: conda prefers the newer format
        shadowed = {fn[: -len(_CONDA_EXT)] + _TAR_BZ2_EXT for fn in modern}

        from_repodata = _record_class().from_repodata
        channel, base_url = self.channel, self.url_w_credentials
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
                if "record_version" in raw and raw["record_version"] > 1:
                    continue  # conda ignores records from a future schema
                name = raw.get("name")
                pos = positions.get(name)
                if pos is None:
                    positions[name] = [len(entries)]
                else:
                    pos.append(len(entries))
                append((fn, raw))

        def make(fn: str, raw: dict) -> Any:
            if add_pip and raw.get("name") == "python" and str(raw.get("version", "")).startswith(("2.", "3.")):
                raw = {**raw, "depends": [*(raw.get("depends") or ()), "pip"]}
            return from_repodata(fn, raw, channel, subdir, base_url, arch, platform)

        # records are built per name when first asked for (record_store.py)
        return RecordStore(entries, positions, make)


# ------------------------------------------------------------------------------------------------
# The whole index
# ------------------------------------------------------------------------------------------------
class Index:
    """All records of all channels × subdirs, in channel-priority order, plus virtual packages."""

    def __init__(self, channels: Sequence[Any], subdir_datas: Sequence[SubdirData],
                 virtual_packages: Sequence[Any], subdirs: Sequence[str], repodata_fn: str,
                 seconds: float = 0.0) -> None:
        self.channels = tuple(channels)
        self.subdir_datas = tuple(subdir_datas)
        self.virtual_packages = tuple(virtual_packages)
        self.subdirs = tuple(subdirs)
        self.repodata_fn = repodata_fn
        self.seconds = seconds
        self.by_name: Mapping[str, list] = _ByName(self.subdir_datas)
        self._records: tuple | None = None

    @property
    def records(self) -> tuple:
        """All records, in channel-priority order (builds every record: prefer ``by_name``)."""
        if self._records is None:
            records: list = []
            for sd in self.subdir_datas:
                records.extend(sd.records)
            self._records = tuple(records)
        return self._records

    def __len__(self) -> int:
        return sum(sd.record_count for sd in self.subdir_datas)

    def names_tracking(self, feature: str) -> list[str]:
        """Package names with a record whose ``track_features`` include ``feature``."""
        names: dict[str, None] = {}
        for sd in self.subdir_datas:
            names.update(dict.fromkeys(sd.names_tracking(feature)))
        return list(names)

    @property
    def feature_records(self) -> tuple:
        """One ``<feature>@`` record per feature seen in the index (conda's ``Index.features``).

        conda gives the solver a pseudo-package for each ``track_features``/``features`` name,
        so a spec can mention a feature; like conda they live on channel ``@``.
        """
        cached = self.__dict__.get("_feature_records")
        if cached is None:
            from .models.records import PackageRecord

            names = sorted({f for r in self.records for f in (*r.track_features, *r.features)})
            cached = self._feature_records = tuple(
                PackageRecord.from_dict({
                    "name": f"{name}@", "version": "0", "build": "0", "build_number": 0,
                    "channel": "@", "subdir": self.subdirs[0] if self.subdirs else None,
                    "md5": "12345678901234567890123456789012", "track_features": (name,),
                    "fn": f"{name}@",
                })
                for name in names
            )
        return cached

    def __iter__(self):
        return iter(self.records)

    def get(self, name: str) -> list:
        """Records named ``name`` (channel-priority order); ``[]`` when none."""
        return list(self.by_name.get(name, ()))

    def __repr__(self) -> str:
        names = ", ".join(_channel_name(c) for c in self.channels)
        vps = ", ".join(f"{r.name}={r.version}={r.build}" for r in self.virtual_packages)
        return (f"<Index {len(self):,} records from {len(self.subdir_datas)} subdirs of "
                f"[{names}] ({', '.join(self.subdirs)}); virtual: {vps or 'none'}>")

    def summary(self) -> dict:
        return {
            "channels": [_channel_name(c) for c in self.channels],
            "subdirs": list(self.subdirs),
            "repodata_fn": self.repodata_fn,
            "record_count": len(self),
            "package_names": len(self.by_name),
            "subdir_datas": [sd.fetch_info.summary() for sd in self.subdir_datas if sd.fetch_info],
            "virtual_packages": {r.name: f"{r.version}={r.build}" for r in self.virtual_packages},
            "load_seconds": round(self.seconds, 6),
        }


class _ByName(Mapping):
    """``{name: [records]}`` over several subdirs, in channel-priority order; a name's records
    are built the first time it is looked up (``Index.by_name``)."""

    def __init__(self, subdir_datas: Sequence[SubdirData]) -> None:
        self._sds = tuple(subdir_datas)
        self._lists: dict[str, list] = {}
        self._names: dict[str, None] | None = None

    def _all_names(self) -> dict[str, None]:
        if self._names is None:
            names: dict[str, None] = {}
            for sd in self._sds:
                names.update(dict.fromkeys(sd.name_counts()))
            self._names = names
        return self._names

    def __getitem__(self, name: str) -> list:
        lst = self._lists.get(name)
        if lst is None:
            lst = []
            for sd in self._sds:
                lst.extend(sd.records_for(name))
            if not lst:
                raise KeyError(name)
            self._lists[name] = lst
        return lst

    def __contains__(self, name: object) -> bool:
        return name in self._all_names()

    def __iter__(self):
        return iter(self._all_names())

    def __len__(self) -> int:
        return len(self._all_names())

    def __repr__(self) -> str:
        return f"<by_name: {len(self)} names, {len(self._lists)} looked up>"


def _expand_channels(context: Any, channels: Iterable[Any]) -> list:
    """Channel values → ``Channel`` objects; a MultiChannel (``defaults``) becomes its members."""
    Channel = _channel_class()
    config = getattr(context, "channel_config", None)
    out: list = []
    for value in channels:
        ch = value if not isinstance(value, str) else Channel(value, config=config)
        members = getattr(ch, "channels", None)
        if members is None:
            members = getattr(ch, "_channels", None)
        if members is not None and not isinstance(members, str):
            out.extend(Channel(m, config=config) if isinstance(m, str) else m for m in members)
        else:
            out.append(ch)
    seen, unique = set(), []
    for ch in out:  # a channel listed twice keeps its first (highest) priority
        key = ch.urls(with_credentials=True) if hasattr(ch, "urls") else str(ch)
        key = tuple(key)
        if key not in seen:
            seen.add(key)
            unique.append(ch)
    return unique


def _subdirs_of(channel: Any, subdirs: Sequence[str]) -> list[str]:
    """The subdirs a channel is asked for (a channel URL ending in a subdir pins it)."""
    result = []
    for url in channel.urls(with_credentials=False, subdirs=tuple(subdirs)):
        sd = url.rstrip("/").rsplit("/", 1)[-1]
        if sd not in result:
            result.append(sd)
    return result


def fetch_index(
    context: Any,
    channels: Sequence[Any] | None = None,
    subdirs: Sequence[str] | None = None,
    repodata_fn: str = REPODATA_FN,
    reporter: Reporter | None = None,
) -> Index:
    """Load every channel × subdir (threads, deterministic order) and the virtual packages."""
    from .virtual_packages import virtual_package_records

    reporter = reporter or Reporter()
    started = time.perf_counter()
    channel_values = list(context.channels if channels is None else channels)
    subdirs = tuple(subdirs or context.subdirs)
    if "noarch" not in subdirs:
        subdirs = (*subdirs, "noarch")  # conda always adds noarch
    chans = _expand_channels(context, channel_values)
    reporter.event(STAGE, "index_plan", channels=[_channel_name(c) for c in chans],
                   subdirs=list(subdirs), repodata_fn=repodata_fn, offline=bool(context.offline))

    buffers: list[_BufferingReporter] = []
    sdatas: list[SubdirData] = []
    for ch in chans:
        for sd in _subdirs_of(ch, subdirs):
            buf = _BufferingReporter()
            buffers.append(buf)
            sdatas.append(SubdirData(ch, sd, context, repodata_fn=repodata_fn, reporter=buf))

    workers = getattr(context, "repodata_threads", None) or min(8, (os.cpu_count() or 1) * 2)
    errors: list[BaseException | None] = [None] * len(sdatas)

    def load(i: int) -> None:
        try:
            sdatas[i].load()
        except BaseException as exc:  # re-raised below, in priority order
            errors[i] = exc

    # threads only pay off while waiting for servers: parsing JSON holds the GIL, so local
    # (file://) subdirs are read one after another on this thread
    remote = any(not sd.url_w_credentials.startswith("file://") for sd in sdatas)
    if remote and workers > 1 and len(sdatas) > 1:
        with ThreadPoolExecutor(max_workers=min(workers, len(sdatas))) as pool:
            list(pool.map(load, range(len(sdatas))))
    else:
        for i in range(len(sdatas)):
            load(i)
    # replay reports in channel-priority order, whatever order the threads finished in
    for i, buf in enumerate(buffers):
        buf.replay(reporter)
        reporter.progress(STAGE, "repodata", i + 1, len(buffers))
        sdatas[i].reporter = reporter
        if errors[i] is not None:
            raise errors[i]

    vps = virtual_package_records(context)
    index = Index(chans, sdatas, vps, subdirs, repodata_fn, time.perf_counter() - started)
    reporter.event(STAGE, "virtual_packages",
                   packages={r.name: f"{r.version}={r.build}" for r in vps})
    reporter.event(STAGE, "index_built", record_count=len(index),
                   package_names=len(index.by_name), subdirs=len(sdatas),
                   load_seconds=index.seconds)
    return index
