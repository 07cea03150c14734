"""``conda search``: a MatchSpec query over the index (stage 3 seen from the outside).

conda counterparts: ``conda.cli.main_search.execute``, ``conda.core.subdir_data.query_all`` /
``_search_package`` and ``SubdirData.query``.

``search`` loads the same repodata the install stages load (``repodata.json`` of every channel ×
subdir, through :func:`conda_deepdive.index.index.fetch_index`, so the trace reporter sees the same
``index`` events), then keeps the records a :class:`~conda_deepdive.models.MatchSpec` matches.
What to notice:

* a query is a full MatchSpec: ``'numpy>=1.26'``, ``'numpy=1.26.4=py311*'``, ``'*mutex*'``,
  ``conda-forge::numpy`` (the channel part replaces the configured channels) or
  ``'numpy[subdir=linux-64]'`` (the subdir part replaces the platform's subdirs);
* a name that matches nothing is retried as ``*name*`` ("flexible search") unless
  ``--skip-flexible-search`` is given;
* results are sorted by name, then :class:`~conda_deepdive.models.version.VersionOrder`, then
  build — the channel order only breaks ties. No solver runs: this is the *whole* index, before
  channel priority and reduction decide what the solver may see.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timezone
from collections.abc import Iterable, Mapping

from conda_deepdive.cli.main_info import swallow_broken_pipe

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["execute", "query_index", "table_text", "pretty_record_text", "search_json"]


# ------------------------------------------------------------------------------------------
# the query (conda.core.subdir_data.query_all / _search_package)
# ------------------------------------------------------------------------------------------

def query_index(index: Any, spec: Any) -> list:
    """Every record of ``index``'s channel × subdir data that ``spec`` matches, in conda's order.

    Virtual packages are not searched (``query_all`` reads repodata only).
    """
    from conda_deepdive.models.version import VersionOrder

    name = spec.get_exact_value("name")
    found = []
    for sd in index.subdir_datas:
        candidates = sd.records_for(name) if name else sd.records
        found.extend(rec for rec in candidates if spec.match(rec))
    return sorted(found, key=lambda rec: (rec.name, VersionOrder(rec.version), rec.build))


def all_channel_urls(context: Any, channels: Iterable[str], subdirs: Iterable[str]) -> list[str]:
    from conda_deepdive.models.channel import Channel

    urls: list[str] = []
    for value in channels:
        for url in Channel(value, config=context.channel_config).urls(
                with_credentials=False, subdirs=tuple(subdirs)):
            if url not in urls:
                urls.append(url)
    return urls


# ------------------------------------------------------------------------------------------
# output (conda.cli.main_search)
# ------------------------------------------------------------------------------------------

def table_text(records: Iterable[Any]) -> str:
    """conda's table: ``# Name  Version  Build  Channel`` with its printf widths."""
    lines = ["# %-18s %15s %15s  %-20s" % ("Name", "Version", "Build", "Channel")]
    for rec in records:
        lines.append("%-20s %15s %15s  %-20s" % (rec.name, rec.version, rec.build, rec.channel.name))
    return "\n".join(lines)


def _dashlist(items: Iterable[Any], indent: int = 2) -> str:
    return "".join("\n" + " " * indent + "- " + str(item) for item in items)


def pretty_record_text(rec: Any) -> str:
    """One ``--info`` block (conda's ``_pretty_record_format``)."""
    from conda_deepdive.transaction.package_plan import human_bytes

    lines = [f"{rec.name} {rec.version} {rec.build}"]
    lines.append("-" * len(lines[0]))

    def push(label: str, value: Any) -> None:
        if value is not None:
            lines.append("%-12s: %s" % (label, value))

    push("file name", rec.fn)
    push("name", rec.name)
    push("version", rec.version)
    push("build", rec.build)
    push("build number", rec.build_number)
    if rec.size is not None:
        lines.append("%-12s: %s" % ("size", human_bytes(rec.size)))
    push("license", rec.license)
    push("subdir", rec.subdir)
    push("url", rec.url)
    push("md5", rec.md5)
    if rec.timestamp:
        # records keep repodata's milliseconds; conda's PackageRecord.timestamp is in seconds
        seconds = rec.timestamp / 1000 if rec.timestamp > 253402300799 else rec.timestamp
        stamp = datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%d %H:%M:%S %Z")
        lines.append("%-12s: %s" % ("timestamp", stamp))
    if rec.track_features:
        lines.append("%-12s: %s" % ("track_features", _dashlist(rec.track_features)))
    if rec.constrains:
        lines.append("%-12s: %s" % ("constraints", _dashlist(rec.constrains)))
    lines.append("%-12s: %s" % ("dependencies", _dashlist(rec.depends) if rec.depends else "[]"))
    lines.append("\n")
    return "\n".join(lines)


def search_json(records: Iterable[Any]) -> dict[str, list]:
    """``{name: [record dump, ...]}`` in match order (conda: a defaultdict of records)."""
    from conda_deepdive.fetch.package_cache import record_dump

    out: dict[str, list] = {}
    for rec in records:
        out.setdefault(rec.name, []).append(record_dump(rec))
    return out


class _Spinner:
    """conda's console spinner, without animation: ``message: `` … ``done``.

    Off a terminal, with ``--quiet`` or ``TERM=dumb`` conda writes ``...working... `` in between;
    with ``--json`` nothing is written at all.
    """

    def __init__(self, message: str, context: Any, env: Mapping[str, str]):
        self.message = message
        self.enabled = not context.json
        tty = _isatty(sys.stdout) and env.get("TERM", "") not in ("dumb", "unknown")
        self.animated = tty and not context.quiet

    def __enter__(self) -> "_Spinner":
        if self.enabled:
            sys.stdout.write(f"{self.message}: " + ("" if self.animated else "...working... "))
            sys.stdout.flush()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.enabled:
            sys.stdout.write("failed\n" if exc_type else "done\n")
            sys.stdout.flush()


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _write_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2))
    sys.stdout.flush()


# ------------------------------------------------------------------------------------------
# the command
# ------------------------------------------------------------------------------------------

def _search_envs(spec: Any, context: Any, env: Mapping[str, str], args: Any) -> int:
    """``search --envs``: the spec against every known environment's installed records."""
    from conda_deepdive.cli.main_info import list_all_known_prefixes
    from conda_deepdive.exceptions import PackagesNotFoundError
    from conda_deepdive.index.prefix_data import PrefixData

    with _Spinner(f"Searching environments for {spec}", context, env):
        groups = []
        for prefix in list_all_known_prefixes(context, env):
            if not os.path.isdir(os.path.join(prefix, "conda-meta")):
                continue
            recs = sorted(PrefixData(prefix, channel_config=context.channel_config).query(spec),
                          key=lambda r: (r.name, r.version, r.build))
            if recs:
                groups.append((prefix, recs))
        if not groups:
            raise PackagesNotFoundError([str(spec)])
    if context.json:
        _write_json([{"location": prefix, "package_records": [r.to_dict() for r in recs]}
                     for prefix, recs in groups])
    elif getattr(args, "info", None):
        for _prefix, recs in groups:
            for rec in recs:
                print(pretty_record_text(rec))
    else:
        lines = ["# %-13s %15s %15s  %-20s %-20s" % ("Name", "Version", "Build", "Channel", "Location")]
        for prefix, recs in groups:
            lines += ["%-15s %15s %15s  %-20s %-20s" % (r.name, r.version, r.build, r.channel.name, prefix)
                      for r in recs]
        print("\n".join(lines))
    return 0


@swallow_broken_pipe
def execute(args: Any, parser: Any, env: Mapping[str, str] | None = None,
            reporter: Any = None) -> int:
    """Run ``search [MATCH_SPEC]`` (default ``*``)."""
    from conda_deepdive.config.context import Context
    from conda_deepdive.exceptions import PackagesNotFoundInChannelsError
    from conda_deepdive.index.index import fetch_index
    from conda_deepdive.models import MatchSpec

    env = dict(os.environ if env is None else env)
    context = Context.load(args=args, env=env)
    spec = MatchSpec(str(getattr(args, "match_spec", None) or "*").strip("\"'"))
    subdir = spec.get_exact_value("subdir")
    subdirs = (subdir,) if subdir else tuple(context.subdirs)
    if getattr(args, "envs", None):
        return _search_envs(spec, context, env, args)

    spec_channel = spec.get_exact_value("channel")
    # the MatchSpec's channel was parsed without our config: re-read it by name/URL under it
    channels = ((getattr(spec_channel, "canonical_name", None) or str(spec_channel),)
                if spec_channel else tuple(context.channels))
    with _Spinner("Loading channels", context, env):
        # stage 3, as install runs it: the same SubdirData loading, cache and tracer events
        index = fetch_index(context, channels=channels, subdirs=subdirs,
                            repodata_fn="repodata.json", reporter=reporter)
        matches = query_index(index, spec)
    if not matches and not getattr(args, "skip_flexible_search", None) and spec.get_exact_value("name"):
        flex = MatchSpec(spec, name=f"*{spec.name}*")
        if not context.json:
            print(f"No match found for: {spec}. Search: {flex}")
        matches = query_index(index, flex)
    if not matches:
        raise PackagesNotFoundInChannelsError([str(spec)], all_channel_urls(context, context.channels, subdirs))

    if context.json:
        _write_json(search_json(matches))
    elif getattr(args, "info", None):
        for rec in matches:
            print(pretty_record_text(rec))
    else:
        print(table_text(matches))
    return 0
