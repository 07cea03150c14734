"""Stage 3 — fetch the index: every channel's ``repodata.json``, turned into package records.

conda counterparts: ``conda.core.index`` (all channels together, plus the virtual packages of
:mod:`conda_deepdive.index.virtual_packages`) over ``conda.core.subdir_data.SubdirData`` (one channel ×
one subdir: :mod:`conda_deepdive.index.subdir_data`, with HTTP and cache in
:mod:`conda_deepdive.index.repodata_cache`).

``fetch_index`` expands the channels (``defaults`` becomes its members), loads every channel ×
subdir — ``linux-64`` *and* ``noarch``: noarch is always added — and adds the virtual packages.
Remote subdirs load in threads (they wait on servers); local ones one after another (parsing JSON
holds the GIL). Reports are replayed in channel-priority order, whatever order threads finish in.

What to notice as a learner: the index is plain data — tens of thousands of records, in channel
priority order (first channel first). Later stages (channel priority, reduction, solve) only
ever *filter* it. ``index.by_name["numpy"]`` builds just that name's records; ``index.records``
builds them all.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence

from conda_deepdive.reporting import Reporter
from conda_deepdive.index.repodata_cache import REPODATA_FN, _channel_name
from conda_deepdive.index.subdir_data import STAGE, FetchInfo, SubdirData, _channel_class

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["SubdirData", "FetchInfo", "Index", "fetch_index", "STAGE"]


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
            from conda_deepdive.models.records import PackageRecord

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
                names.update(dict.fromkeys(sd.names()))
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

    def sources(self, name: str) -> list:
        """``[(subdir data, record count)]`` for the subdirs holding ``name``, in
        channel-priority order, building nothing (``sources`` then ``records_for`` builds only
        the subdirs one asks for)."""
        out = []
        for sd in self._sds:
            count = sd.count_for(name)
            if count:
                out.append((sd, count))
        return out

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
    root_names: Iterable[str] | Callable[[], Iterable[str]] | None = None,
) -> Index:
    """Load every channel × subdir (threads, deterministic order) and the virtual packages.

    ``root_names``: the names the request starts from (shards.root_names), or a function that
    returns them (called only if a channel is sharded). When a channel
    publishes sharded repodata, the shards of every name reachable from them are fetched now
    (shards.build_repodata_subset) and the solver sees that subset; names asked for later are
    fetched on demand."""
    from conda_deepdive.index.virtual_packages import virtual_package_records

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
        from concurrent.futures import ThreadPoolExecutor  # local channels never need threads

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
    if root_names is not None and any(sd.shard_store is not None for sd in sdatas):
        from conda_deepdive.index.shards import build_repodata_subset

        if callable(root_names):
            root_names = root_names()
        build_repodata_subset(
            sdatas, [*root_names, *(r.name for r in vps)],
            add_pip_as_python_dependency=bool(context.add_pip_as_python_dependency), reporter=reporter)
    index = Index(chans, sdatas, vps, subdirs, repodata_fn, time.perf_counter() - started)
    reporter.event(STAGE, "virtual_packages",
                   packages={r.name: f"{r.version}={r.build}" for r in vps})
    if reporter.listens(STAGE):  # the name count walks every subdir's names
        reporter.event(STAGE, "index_built", record_count=len(index),
                       package_names=len(index.by_name), subdirs=len(sdatas),
                       load_seconds=index.seconds)
    return index
