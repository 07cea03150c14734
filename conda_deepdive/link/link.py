"""Stage 9 groundwork: what a package *is* once extracted, and how its files may reach a prefix.

conda counterparts: ``conda.core.link`` (``determine_link_type``, ``make_unlink_actions``,
``ActionGroup``, ``PrefixActionGroup``), ``conda.gateways.disk.read.read_package_info`` /
``read_paths_json`` and ``conda.models.records.PathDataV1``.

An extracted package tells conda everything it needs in ``info/``:

* ``index.json`` — name, version, build, depends… as the package was built;
* ``paths.json`` — every file with its ``path_type`` (hardlink / softlink / directory),
  ``sha256``, ``size_in_bytes`` and, for files that embed the build prefix,
  ``prefix_placeholder`` + ``file_mode``; ``no_link: true`` marks files that must be copied.
  Old packages have no ``paths.json``: conda rebuilds the same information from ``info/files``,
  ``info/has_prefix`` and ``info/no_link`` (:func:`read_paths_data` does the same);
* ``link.json`` (or the older ``package_metadata.json``) — for ``noarch: python``, the entry
  points to create.

:func:`determine_link_type` picks how files are placed: a **hard link** when the package cache
and the prefix are on the same filesystem, else a **symlink** if ``allow_softlinks``, else a
**copy**. Files with a placeholder or ``no_link`` are always copied, and symlinks are recreated
as symlinks.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from typing import Any, Iterable, NamedTuple

from conda_deepdive.models.enums import LinkType
from conda_deepdive.fetch.package_cache import PackageCacheEntry, record_value, strip_pkg_extension

__all__ = [
    "LinkType",
    "PathData",
    "PackageInfo",
    "read_paths_data",
    "read_package_info",
    "determine_link_type",
    "ActionGroup",
    "PrefixActionGroup",
    "PREFIX_ACTION_GROUP_ORDER",
    "load_prefix_records",
    "dist_str",
    "dist_name",
    "record_id",
    "dist_name_of",
    "legacy_dist_entry",
    "get_leaf_directories",
    "explode_directories",
]


# ---------------------------------------------------------------------------------------------
# one path of a package


_PATH_DATA_KEYS = (
    "_path", "prefix_placeholder", "file_mode", "no_link", "path_type", "sha256",
    "size_in_bytes", "sha256_in_prefix",
)
_PATH_DATA_FIELDS = frozenset(_PATH_DATA_KEYS[1:] + ("path",))


class PathData:
    """One entry of ``paths.json`` / of a conda-meta record's ``paths_data`` (conda's ``PathDataV1``).

    Deliberately small and mutable in one way: conda fills ``size_in_bytes`` of generated files
    (pyc, entry points) only after they exist.
    """

    __slots__ = _PATH_DATA_KEYS[1:] + ("path",)

    def __init__(self, path: str, path_type: str = "hardlink", sha256: str | None = None,
                 size_in_bytes: int | None = None, prefix_placeholder: str | None = None,
                 file_mode: str | None = None, no_link: bool = False,
                 sha256_in_prefix: str | None = None):
        self.path = path
        self.path_type = str(path_type)
        self.sha256 = sha256
        self.size_in_bytes = size_in_bytes
        self.prefix_placeholder = prefix_placeholder
        self.file_mode = file_mode
        self.no_link = bool(no_link)
        self.sha256_in_prefix = sha256_in_prefix

    @classmethod
    def from_json(cls, raw: dict) -> "PathData":
        return cls(
            raw["_path"], raw.get("path_type", "hardlink"), raw.get("sha256"),
            raw.get("size_in_bytes"), raw.get("prefix_placeholder"), raw.get("file_mode"),
            raw.get("no_link", False), raw.get("sha256_in_prefix"),
        )

    def replace(self, **changes: Any) -> "PathData":
        unknown = changes.keys() - _PATH_DATA_FIELDS
        if unknown:
            raise TypeError(f"PathData has no field(s) {sorted(unknown)}")
        get = changes.get
        return PathData(
            get("path", self.path), get("path_type", self.path_type), get("sha256", self.sha256),
            get("size_in_bytes", self.size_in_bytes), get("prefix_placeholder", self.prefix_placeholder),
            get("file_mode", self.file_mode), get("no_link", self.no_link),
            get("sha256_in_prefix", self.sha256_in_prefix),
        )

    def to_dict(self) -> dict:
        """conda-meta's key order; absent values are left out, as conda does."""
        out: dict[str, Any] = {"_path": self.path}
        for key, value in (
            ("prefix_placeholder", self.prefix_placeholder), ("file_mode", self.file_mode),
            ("no_link", self.no_link), ("path_type", self.path_type), ("sha256", self.sha256),
            ("size_in_bytes", self.size_in_bytes), ("sha256_in_prefix", self.sha256_in_prefix),
        ):
            if value is None or value is False:
                continue
            out[key] = value
        return out

    def __repr__(self) -> str:
        extra = f", placeholder({self.file_mode})" if self.prefix_placeholder else ""
        extra += ", no_link" if self.no_link else ""
        return f"PathData({self.path!r}, {self.path_type}{extra})"


def _read_lines(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8") as fh:
            return [line.rstrip("\n") for line in fh if line.strip()]
    except FileNotFoundError:
        return []


def _parse_has_prefix_line(line: str) -> tuple[str, str, str]:
    """``has_prefix`` lines are ``path`` or ``placeholder mode path`` (quotes allowed)."""
    import shlex

    parts = shlex.split(line, posix=True) if '"' in line or "'" in line else line.split()
    if len(parts) >= 3:
        return parts[0], parts[1], " ".join(parts[2:])
    return "/opt/anaconda1anaconda2anaconda3", "text", parts[-1]


def read_paths_data(extracted_package_dir: str) -> tuple[PathData, ...]:
    """The package's file list: ``info/paths.json``, or conda's fallback for old packages."""
    info = os.path.join(extracted_package_dir, "info")
    paths_json = os.path.join(info, "paths.json")
    if os.path.isfile(paths_json):
        with open(paths_json, encoding="utf-8") as fh:
            raw = json.load(fh)
        return tuple(PathData.from_json(p) for p in raw.get("paths", ()))
    files = _read_lines(os.path.join(info, "files"))
    if not files and not os.path.isfile(os.path.join(info, "files")):
        from conda_deepdive.exceptions import CondaVerificationError

        raise CondaVerificationError(
            f"The package at {extracted_package_dir} has neither info/paths.json nor info/files."
        )
    has_prefix = dict(
        (p, (ph, mode)) for ph, mode, p in map(_parse_has_prefix_line, _read_lines(os.path.join(info, "has_prefix")))
    )
    no_link = set(_read_lines(os.path.join(info, "no_link")))
    result = []
    for f in files:
        full = os.path.join(extracted_package_dir, f)
        placeholder, mode = has_prefix.get(f, (None, None))
        result.append(PathData(
            f, "softlink" if os.path.islink(full) else "hardlink",
            prefix_placeholder=placeholder, file_mode=mode, no_link=f in no_link,
        ))
    return tuple(result)


# ---------------------------------------------------------------------------------------------
# a package ready to link


@dataclass(frozen=True)
class PackageInfo:
    """Everything the link stage knows about one package to link (conda's ``PackageInfo``)."""

    repodata_record: Any          # the solver's record
    cache_entry: PackageCacheEntry
    index_json: dict
    paths_data: tuple
    noarch: str | None            # None, "generic" or "python"
    entry_points: tuple           # ("cmd = module:func", …) for noarch: python

    @property
    def extracted_package_dir(self) -> str:
        return self.cache_entry.extracted_package_dir

    @property
    def package_tarball_full_path(self) -> str:
        return self.cache_entry.package_tarball_full_path

    @property
    def name(self) -> str:
        return self.repodata_record.name

    @property
    def dist_name(self) -> str:
        return os.path.basename(self.extracted_package_dir)

    def __repr__(self) -> str:
        kind = f", noarch: {self.noarch}" if self.noarch else ""
        return f"PackageInfo({self.dist_name!r}, {len(self.paths_data)} paths{kind})"


def _noarch_of(rec: Any, index_json: dict, metadata: dict) -> str | None:
    value = record_value(rec, "noarch")
    if value is None:
        value = index_json.get("noarch")
    if value is None:
        value = (metadata.get("noarch") or {}).get("type")
    value = getattr(value, "value", value)
    if value in (None, False, "", "false", "False"):
        return None
    return "generic" if value in (True, "true", "generic") else str(value)


def read_package_info(rec: Any, cache_entry: PackageCacheEntry) -> PackageInfo:
    """Read ``info/`` of an extracted package (``index.json``, paths, ``link.json``)."""
    info = os.path.join(cache_entry.extracted_package_dir, "info")
    with open(os.path.join(info, "index.json"), encoding="utf-8") as fh:
        index_json = json.load(fh)
    metadata: dict = {}
    for name in ("link.json", "package_metadata.json"):
        path = os.path.join(info, name)
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as fh:
                metadata = json.load(fh) or {}
            break
    noarch = _noarch_of(rec, index_json, metadata)
    entry_points = tuple((metadata.get("noarch") or {}).get("entry_points") or ()) if noarch == "python" else ()
    return PackageInfo(rec, cache_entry, index_json, read_paths_data(cache_entry.extracted_package_dir),
                       noarch, entry_points)


def determine_link_type(extracted_package_dir: str, target_prefix: str, context: Any = None) -> LinkType:
    """hardlink if the cache and prefix share a filesystem, else softlink (if allowed), else copy."""
    get = (lambda n, d: getattr(context, n, d)) if context is not None else (lambda n, d: d)
    if get("always_copy", False):
        return LinkType.copy
    if get("always_softlink", False):
        return LinkType.softlink
    source = os.path.join(extracted_package_dir, "info", "index.json")
    probe = os.path.join(target_prefix, f".tmp-linktest-{uuid.uuid4().hex[:8]}")
    for link_type, make in ((LinkType.hardlink, os.link), (LinkType.softlink, os.symlink)):
        if link_type == LinkType.softlink and not get("allow_softlinks", False):
            continue
        try:
            make(source, probe)
        except OSError:
            continue
        else:
            os.unlink(probe)
            return link_type
    return LinkType.copy


# ---------------------------------------------------------------------------------------------
# groups of actions


class ActionGroup(NamedTuple):
    """Actions of one kind for one package (conda's ``ActionGroup``)."""

    type: str
    pkg_data: Any            # PackageInfo (link side), installed-record dict (unlink side), or None
    actions: tuple
    target_prefix: str


#: conda's ``PrefixActionGroup`` fields, in conda's order.
PREFIX_ACTION_GROUP_ORDER = (
    "remove_menu_action_groups", "unlink_action_groups", "unregister_action_groups",
    "link_action_groups", "register_action_groups", "compile_action_groups",
    "make_menu_action_groups", "entry_point_action_groups", "prefix_record_groups",
)


class PrefixActionGroup(NamedTuple):
    """All the action groups of one prefix, in conda's field order."""

    remove_menu_action_groups: tuple
    unlink_action_groups: tuple
    unregister_action_groups: tuple
    link_action_groups: tuple
    register_action_groups: tuple
    compile_action_groups: tuple
    make_menu_action_groups: tuple
    entry_point_action_groups: tuple
    prefix_record_groups: tuple


# ---------------------------------------------------------------------------------------------
# installed records and record names


def load_prefix_records(prefix: str) -> dict[str, dict]:
    """``{name: raw conda-meta dict}`` — the link stage needs the raw files (``files``,
    ``extracted_package_dir``…), exactly as written, to undo an installation."""
    meta = os.path.join(prefix, "conda-meta")
    out: dict[str, dict] = {}
    if not os.path.isdir(meta):
        return out
    for fn in sorted(os.listdir(meta)):
        if fn.endswith(".json"):
            try:
                with open(os.path.join(meta, fn), encoding="utf-8") as fh:
                    data = json.load(fh)
            except (OSError, ValueError):
                continue
            if isinstance(data, dict) and data.get("name"):
                data["__file__"] = fn
                out[data["name"]] = data
    return out


def dist_name(rec: Any) -> str:
    fn = record_value(rec, "fn")
    if fn:
        return strip_pkg_extension(fn)
    return f"{record_value(rec, 'name')}-{record_value(rec, 'version')}-{record_value(rec, 'build')}"


def _strip_subdir(value: str | None, subdir: str | None) -> str | None:
    # a channel built from a subdir URL (".../channel/linux-64") keeps its subdir: drop it
    if isinstance(value, str) and subdir and value.endswith("/" + subdir):
        return value[: -len(subdir) - 1]
    return value


def _channel_parts(rec: Any) -> tuple[str | None, str | None, str | None]:
    """(base_url, name, canonical_name) of a record's channel, from the Channel object if any."""
    channel = record_value(rec, "channel")
    if channel is not None and not isinstance(channel, str):
        subdir = record_value(rec, "subdir")
        base = _strip_subdir(getattr(channel, "base_url", None), subdir)
        canonical = _strip_subdir(getattr(channel, "canonical_name", None), subdir)
        return base, getattr(channel, "name", None), canonical
    url = record_value(rec, "url") or ""
    subdir = record_value(rec, "subdir")
    chan_url = channel if isinstance(channel, str) and "://" in channel else url.rsplit("/", 1)[0]
    if subdir and chan_url.endswith("/" + subdir):
        chan_url = chan_url[: -len(subdir) - 1]
    name = chan_url.rstrip("/").rsplit("/", 1)[-1] if chan_url else None
    return chan_url or None, name, chan_url or None


def dist_str(rec: Any, with_subdir: bool = False) -> str:
    """``channel::name-version-build`` as conda prints it in messages; ``with_subdir=True``
    gives the ``channel/subdir::name-version-build`` form of ``conda-meta/history``."""
    _, _, canonical = _channel_parts(rec)
    base = f"{record_value(rec, 'name')}-{record_value(rec, 'version')}-{record_value(rec, 'build')}"
    subdir = record_value(rec, "subdir")
    if canonical and with_subdir and subdir:
        canonical = f"{canonical}/{subdir}"
    return f"{canonical}::{base}" if canonical else base


def record_id(rec: Any) -> str:
    """``channel-name/subdir::name-version-build`` (the package plan's display form)."""
    _, name, _ = _channel_parts(rec)
    return f"{name}/{record_value(rec, 'subdir')}::{dist_name_of(rec)}"


def dist_name_of(rec: Any) -> str:
    return f"{record_value(rec, 'name')}-{record_value(rec, 'version')}-{record_value(rec, 'build')}"


def legacy_dist_entry(rec: Any) -> dict:
    """A LINK/UNLINK entry of ``conda --json`` (the "legacy dist" shape, keys sorted)."""
    base_url, name, _ = _channel_parts(rec)
    return {
        "base_url": base_url,
        "build_number": record_value(rec, "build_number", 0),
        "build_string": record_value(rec, "build"),
        "channel": name,
        "dist_name": f"{record_value(rec, 'name')}-{record_value(rec, 'version')}-{record_value(rec, 'build')}",
        "name": record_value(rec, "name"),
        "platform": record_value(rec, "subdir"),
        "version": record_value(rec, "version"),
    }


# ---------------------------------------------------------------------------------------------
# directory helpers (conda.common.path)


def explode_directories(short_paths: Iterable[str]) -> set[str]:
    """Every ancestor directory of the given paths (``a/b/c`` → ``a``, ``a/b``)."""
    out: set[str] = set()
    for p in short_paths:
        parts = p.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            out.add("/".join(parts[:i]))
    return out


def get_leaf_directories(short_paths: Iterable[str]) -> tuple[str, ...]:
    """The deepest directories needed to hold ``short_paths`` (``mkdir -p`` does the rest)."""
    dirs = sorted({p.rsplit("/", 1)[0] for p in short_paths if "/" in p})
    leaves = [d for i, d in enumerate(dirs) if not (i + 1 < len(dirs) and dirs[i + 1].startswith(d + "/"))]
    # a sorted list puts "a/b" before "a/b/c" but not always directly before it; check all
    leaves = [d for d in leaves if not any(o.startswith(d + "/") for o in dirs)]
    return tuple(leaves)
