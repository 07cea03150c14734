"""``conda list``: the packages installed in an environment (conda: ``conda.cli.main_list``).

It reads ``<prefix>/conda-meta/*.json`` — one JSON file per installed package, written by the
link stage — through :class:`conda_deepdive.prefix_data.PrefixData`. What to notice: ``conda
list`` never looks at channels or solves anything; an environment *is* its ``conda-meta``.

Output like conda's: a ``# packages in environment at <prefix>:`` header, then
``Name Version Build Channel`` columns. The Channel column is the record's *canonical* channel
name under the Context's channel settings (``defaults`` for a member of ``default_channels``
— left out unless ``--show-channel-urls`` — the bare name for a channel under ``channel_alias``
or in ``custom_channels``, else the channel's URL);
``--json`` gives conda's list of dicts, ``--export`` ``name=version=build`` lines,
``--canonical`` ``channel::name-version-build``.
"""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Any, Iterable, Mapping

DEFAULTS_CHANNEL_NAME = "defaults"


def execute(args: Any, parser: Any, env: Mapping[str, str] | None = None) -> int:
    from conda_deepdive.context import Context
    from conda_deepdive.exceptions import CondaValueError, EnvironmentLocationNotFound

    context = Context.load(args=args, env=env)
    prefix = context.target_prefix
    if not prefix:
        raise CondaValueError("no environment to list: pass -p PREFIX or -n NAME "
                              "(or activate an environment so CONDA_PREFIX is set)")
    if not os.path.isdir(prefix):
        raise EnvironmentLocationNotFound(prefix)
    regex = getattr(args, "regex", None)
    if regex and getattr(args, "full_name", None):
        regex = rf"^{regex}$"
    records = select_records(_records(prefix, context.channel_config), regex)
    if context.json:
        _print_json([dist_fields_dump(r) for r in records])
        return 0
    if getattr(args, "export", None):
        sys.stdout.write(f"# This file may be used to create an environment using:\n"
                         f"# $ conda create --name <env> --file <this file>\n"
                         f"# platform: {context.subdir}\n")
        sys.stdout.writelines(f"{r.name}={r.version}={r.build}\n" for r in records)
        return 0
    if getattr(args, "canonical", None):
        sys.stdout.writelines(f"{r.dist_str()}\n" for r in records)
        return 0
    sys.stdout.write("\n".join(format_human(prefix, records, context.show_channel_urls)) + "\n")
    return 0


def _records(prefix: str, channel_config: Any = None) -> list:
    # the Context's channel settings name each record's channel (defaults / conda-forge / URL)
    from conda_deepdive.prefix_data import PrefixData

    return sorted(PrefixData(prefix, channel_config=channel_config).iter_records(), key=lambda r: r.name)


def select_records(records: Iterable[Any], regex: str | None) -> list:
    """conda's ``get_packages``: keep names matching ``regex`` (case-insensitive search)."""
    records = list(records)
    if not regex:
        return records
    pattern = re.compile(regex, re.I)
    return [r for r in records if pattern.search(r.name)]


def _schannel(record: Any) -> str:
    channel = getattr(record, "channel", None)
    return str(getattr(channel, "canonical_name", channel) or "")


def format_human(prefix: str, records: Iterable[Any], show_channel_urls: bool | None = None) -> list[str]:
    """The lines ``conda list`` prints (same column widths as conda)."""
    lines = [f"# packages in environment at {prefix}:", "#",
             "# %-23s %-15s %15s  Channel" % ("Name", "Version", "Build")]
    for r in records:
        features = tuple(getattr(r, "features", ()) or ())
        row = "%-25s %-15s %15s" % (r.name, r.version, r.build)
        row += "  " + (f"[{' '.join(features)}]" if features else "")
        schannel = _schannel(r)
        if show_channel_urls or (show_channel_urls is None and schannel != DEFAULTS_CHANNEL_NAME):
            row += f"  {schannel}"
        lines.append(row)
    return lines


def dist_fields_dump(record: Any) -> dict:
    """One package as ``conda list --json`` prints it."""
    channel = getattr(record, "channel", None)
    return {
        "base_url": getattr(channel, "base_url", None),
        "build_number": record.build_number,
        "build_string": record.build,
        "channel": getattr(channel, "name", channel),
        "dist_name": record.dist_str().split(":")[-1],
        "name": record.name,
        "platform": record.subdir,
        "version": record.version,
    }


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
