"""``conda list``: the packages installed in an environment (conda: ``conda.cli.main_list``).

It reads ``<prefix>/conda-meta/*.json`` — one JSON file per installed package, written by the
link stage — through :class:`conda_deepdive.index.prefix_data.PrefixData`. What to notice: ``conda
list`` never looks at channels or solves anything; an environment *is* its ``conda-meta``.

The human table (conda >= 25.5, ``--fields``; unchanged in 26.7.1 when ``--size`` is not given):

* a ``# packages in environment at <prefix>:`` line, a lone ``#``, then a column header;
* the columns are ``--fields`` (default ``name,version,build,channel_name``, titled
  ``Name Version Build Channel``), separated by two spaces and all left-aligned;
* each column is as wide as its widest cell. The default layout starts from the widths the
  old fixed table used (23, 15, 15, 1); any other field list starts from the titles' lengths;
* the header is printed with a ``# `` in front, so data rows give the first column two more
  characters — that keeps Name under Name;
* every line is right-stripped (no trailing blanks where the Channel column is empty).

The Channel column is the record's *canonical* channel name under the Context's channel
settings (``defaults`` for a member of ``default_channels`` — left blank unless
``show_channel_urls`` — the bare name for a channel under ``channel_alias`` or in
``custom_channels``, else the channel's URL).

Other outputs: ``--json`` (conda's list of dicts), ``--canonical``
(``channel/subdir::name-version-build``), ``--export`` (``name=version=build`` under a
``# platform:`` header) and ``--explicit`` (package URLs after ``@EXPLICIT``, optionally with
``#md5`` / ``#sha256``). ``--reverse`` reverses every one of them except ``--explicit``.
"""

from __future__ import annotations

import json
import os
import re
import sys
from enum import Enum
from collections.abc import Iterable, Mapping, Sequence

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

DEFAULTS_CHANNEL_NAME = "defaults"
UNKNOWN_CHANNEL = "<unknown>"
EXPLICIT_MARKER = "@EXPLICIT"

#: conda's ``CONDA_LIST_FIELDS`` (conda/base/constants.py): field → column title.
LIST_FIELDS: Mapping[str, str] = {
    "arch": "Arch",
    "build": "Build",
    "build_number": "Build number",
    "channel": "Channel URL",
    "channel_name": "Channel",
    "constrains": "Constraints",
    "depends": "Dependencies",
    "dist_str": "Dist",
    "features": "Features",
    "fn": "Filename",
    "license": "License",
    "license_family": "License family",
    "md5": "MD5",
    "name": "Name",
    "noarch": "Noarch",
    "package_type": "Package type",
    "requested_spec": "Requested",
    # listed by conda 26's --help; its title is not in the source we could read (see report)
    "requested_specs": "Requested specs",
    "sha256": "SHA256",
    "size": "Size",
    "subdir": "Subdir",
    "timestamp": "Timestamp",
    "track_features": "Track features",
    "url": "URL",
    "version": "Version",
}
#: conda's ``DEFAULT_CONDA_LIST_FIELDS`` (the ``list_fields`` setting's default).
DEFAULT_LIST_FIELDS: tuple[str, ...] = ("name", "version", "build", "channel_name")
#: starting widths of the default table: the pre-25.5 fixed layout, so common envs look the same
_DEFAULT_WIDTHS = (23, 15, 15, 1)


def execute(args: Any, parser: Any, env: Mapping[str, str] | None = None) -> int:
    from conda_deepdive.config.context import Context
    from conda_deepdive.exceptions import ArgumentError, CondaValueError, EnvironmentLocationNotFound

    context = Context.load(args=args, env=env)
    prefix = context.target_prefix
    if not prefix:
        raise CondaValueError("no environment to list: pass -p PREFIX or -n NAME "
                              "(or activate an environment so CONDA_PREFIX is set)")
    if not os.path.isdir(prefix):
        raise EnvironmentLocationNotFound(prefix)
    md5, sha256 = bool(getattr(args, "md5", None)), bool(getattr(args, "sha256", None))
    if md5 and sha256:
        raise ArgumentError("Only one of --md5 and --sha256 can be specified at the same time")
    fields = validate_fields(getattr(args, "list_fields", None))

    if getattr(args, "explicit", None):
        remove_auth = getattr(args, "remove_auth", True) is not False
        sys.stdout.write("".join(f"{line}\n" for line in format_explicit(
            prefix, context, md5=md5, sha256=sha256, remove_auth=remove_auth)))
        return 0

    regex = getattr(args, "regex", None)
    full_name = bool(regex and getattr(args, "full_name", None))
    if full_name:
        regex = rf"^{regex}$"
    if context.json:
        fmt = "json"
    elif getattr(args, "canonical", None):
        fmt = "canonical"
    elif getattr(args, "export", None):
        fmt = "export"
        # conda prints the export header before it knows whether anything matched
        sys.stdout.write("".join(f"{line}\n" for line in export_header(context.subdir)))
    else:
        fmt = "human"

    records = _records(prefix, context.channel_config)
    selected = select_records(records, regex)
    if regex and not selected:
        if full_name:
            from conda_deepdive.exceptions import PackageNotInstalledError

            raise PackageNotInstalledError(prefix, args.regex)
        raise CondaValueError(f"No packages match '{regex}'.")
    if getattr(args, "reverse", None):
        selected.reverse()

    if fmt == "json":
        _print_json([dist_fields_dump(r) for r in selected])
    elif fmt == "canonical":
        sys.stdout.writelines(f"{r.dist_str()}\n" for r in selected)
    elif fmt == "export":
        sys.stdout.writelines(f"{r.name}={r.version}={r.build}\n" for r in selected)
    else:
        lines = format_human(prefix, selected, context.show_channel_urls, fields)
        sys.stdout.write("\n".join(lines) + "\n")
    return 0


# -- which records ---------------------------------------------------------------------------

def _records(prefix: str, channel_config: Any = None) -> list:
    # the Context's channel settings name each record's channel (defaults / conda-forge / URL)
    from conda_deepdive.index.prefix_data import PrefixData

    # conda sorts by the plain name here (case-sensitive); a regex re-sorts case-insensitively
    return sorted(PrefixData(prefix, channel_config=channel_config).iter_records(), key=lambda r: r.name)


def select_records(records: Iterable[Any], regex: str | None) -> list:
    """conda's ``get_packages``: keep names matching ``regex`` (case-insensitive search),
    ordered by lower-cased name. Without a regex the records are returned as given."""
    records = list(records)
    if not regex:
        return records
    from conda_deepdive.exceptions import CondaValueError

    try:
        pattern = re.compile(regex, re.I)
    except re.error as exc:  # conda lets this escape as a traceback; we name the input instead
        raise CondaValueError(f"invalid regular expression {regex!r}: {exc}") from None
    return [r for r in sorted(records, key=lambda r: r.name.lower()) if pattern.search(r.name)]


def validate_fields(fields: Sequence[str] | None) -> tuple[str, ...]:
    """The ``--fields`` list, checked like conda's ``list_fields`` setting validation."""
    if not fields:
        return DEFAULT_LIST_FIELDS
    fields = tuple(fields)
    invalid = set(fields).difference(LIST_FIELDS)
    if invalid:
        from conda_deepdive.exceptions import CustomValidationError

        raise CustomValidationError(
            f"Parameter list_fields = {fields!r} declared in cmd_line is invalid.\n"
            f"Invalid value(s): {sorted(invalid)}. Valid values are: {sorted(LIST_FIELDS)}")
    return fields


# -- the human table --------------------------------------------------------------------------

def _schannel(record: Any) -> str:
    channel = getattr(record, "channel", None)
    return str(getattr(channel, "canonical_name", channel) or "")


def field_value(record: Any, field: str, show_channel_urls: bool | None = None) -> str:
    """One cell of the table, as conda renders it."""
    if field == "features":
        features = sorted(set(getattr(record, "features", None) or ()))
        return f"[{' '.join(features)}]" if features else ""
    if field == "channel_name":
        schannel = _schannel(record)
        if show_channel_urls or (show_channel_urls is None and schannel != DEFAULTS_CHANNEL_NAME):
            return schannel
        return ""
    value = getattr(record, field, None)
    if callable(value):  # dist_str is a method (conda 26 calls it)
        value = value()
    if isinstance(value, Enum):
        value = value.value
    # conda: str(value or ""), so a 0 (build_number, size) prints as an empty cell
    text = str(value or "").strip()
    return "" if text == "None" else text


def format_human(prefix: str, records: Iterable[Any], show_channel_urls: bool | None = None,
                 fields: Sequence[str] = DEFAULT_LIST_FIELDS) -> list[str]:
    """The lines ``conda list`` prints: header, then one row per record, widths fitted."""
    fields = tuple(fields)
    titles = [LIST_FIELDS[f] for f in fields]
    widths = list(_DEFAULT_WIDTHS) if fields == DEFAULT_LIST_FIELDS else [len(t) for t in titles]
    rows = []
    for record in records:
        row = [field_value(record, f, show_channel_urls) for f in fields]
        widths = [max(w, len(cell)) for w, cell in zip(widths, row)]
        rows.append(row)
    header = "# " + _join_padded(titles, widths)
    # the header's "# " shifts it right by two: widen the first data column to match
    row_widths = [widths[0] + 2, *widths[1:]]
    return [f"# packages in environment at {prefix}:", "#", header.rstrip(),
            *(_join_padded(row, row_widths).rstrip() for row in rows)]


def _join_padded(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths))


# -- export / explicit --------------------------------------------------------------------------

def export_header(subdir: str) -> list[str]:
    """The comment block ``--export`` and ``--explicit`` start with (conda: print_export_header)."""
    from conda_deepdive import CONDA_VERSION

    return ["# This file may be used to create an environment using:",
            "# $ conda create --name <env> --file <this file>",
            f"# platform: {subdir}",
            f"# created-by: conda {CONDA_VERSION}"]


def _remove_auth(url: str) -> str:
    # conda strips an anaconda.org token (/t/<token>/) and any user:password@ before printing
    from conda_deepdive.models.urls import split_anaconda_token

    url = split_anaconda_token(url)[0]
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/@]*@", r"\1", url)


def format_explicit(prefix: str, context: Any, md5: bool = False, sha256: bool = False,
                    remove_auth: bool = True) -> list[str]:
    """``conda list --explicit``: every package URL, dependencies first (conda: print_explicit)."""
    from conda_deepdive.index.prefix_data import PrefixData

    lines = [*export_header(context.subdir), EXPLICIT_MARKER]
    for record in PrefixData(prefix, channel_config=context.channel_config).iter_records_sorted():
        url = getattr(record, "url", None)
        if not url or url.startswith(UNKNOWN_CHANNEL):
            lines.append(f"# no URL for: {record.fn}")
            continue
        if remove_auth:
            url = _remove_auth(url)
        if md5 or sha256:
            checksum = getattr(record, "md5" if md5 else "sha256", None)
            lines.append(url + (f"#{checksum}" if checksum else ""))
        else:
            lines.append(url)
    return lines


# -- json ---------------------------------------------------------------------------------------

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
