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
from collections import namedtuple
from collections.abc import Iterable

from conda_deepdive.models.enums import LinkType
from conda_deepdive.fetch.package_cache import PackageCacheEntry, record_value, strip_pkg_extension
from conda_deepdive.values import value_object

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = [
    "LinkType",
    "PathData",
    "PackageInfo",
    "read_paths_data",
    "check_short_path",
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


#: Top-level names a package may not ship: conda-meta/ holds the records (their ``files`` lists
#: are what ``remove`` deletes) and .condatmp/ the transaction's scratch files.
_RESERVED_TOP = ("conda-meta", ".condatmp")


def check_short_path(path: Any, dist: str, source: str = "info/paths.json") -> str:
    """A path a package names (``paths.json``, ``info/files``, ``has_prefix``…) must stay inside
    the prefix: a non-empty relative string, no ``..`` component, no NUL. Returns it unchanged;
    raises :class:`~conda_deepdive.exceptions.CondaVerificationError` otherwise.

    conda 26.7.1 trusts these strings (its extraction library refuses ``..`` members, but the
    manifest is joined to the prefix as it is); conda-deepdive refuses them before any change.
    """
    from conda_deepdive.exceptions import CondaVerificationError

    why = None
    if not isinstance(path, str) or not path:
        why = "is not a non-empty string"
    elif "\x00" in path:
        why = "contains a NUL byte"
    elif path.startswith(("/", "\\")) or (len(path) > 1 and path[1] == ":"):
        why = "is an absolute path"
    elif ".." in path.replace("\\", "/").split("/"):
        why = "climbs out with '..'"
    elif all(part in ("", ".") for part in path.split("/")):
        why = "names the prefix itself"
    elif any(part in ("", ".") for part in path.split("/")):
        why = "has an empty or '.' component"
    elif path.split("/")[0] in _RESERVED_TOP:
        why = "is inside conda's own bookkeeping directory"
    if why:
        raise CondaVerificationError(
            f"The package {dist} lists an unsafe path in {source}: {path!r} {why}."
        )
    return path


def _bad_paths_json(dist: str, why: str):
    from conda_deepdive.exceptions import CondaVerificationError

    return CondaVerificationError(f"The package {dist} has an invalid info/paths.json: {why}.")


_PATH_TYPES = ("hardlink", "softlink")  # what a package's paths.json may say (conda-build writes these)


def _checked_path_entry(raw: Any, dist: str) -> "PathData":
    """One ``paths.json`` entry, with every field of the type conda's ``PathDataV1`` expects."""
    if not isinstance(raw, dict):
        raise _bad_paths_json(dist, f"an entry is a {type(raw).__name__}, not an object")
    path = check_short_path(raw.get("_path"), dist)
    path_type = raw.get("path_type", "hardlink")
    if path_type not in _PATH_TYPES:
        raise _bad_paths_json(dist, f"{path!r} has path_type {path_type!r}")
    for key in ("sha256", "sha256_in_prefix"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise _bad_paths_json(dist, f"{path!r} has a {key} that is not a string")
    size = raw.get("size_in_bytes")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        raise _bad_paths_json(dist, f"{path!r} has size_in_bytes {size!r}")
    placeholder, mode = raw.get("prefix_placeholder"), raw.get("file_mode")
    if placeholder is not None and (not isinstance(placeholder, str) or not placeholder):
        raise _bad_paths_json(dist, f"{path!r} has an empty or non-string prefix_placeholder")
    if mode is not None and mode not in ("text", "binary"):
        raise _bad_paths_json(dist, f"{path!r} has file_mode {mode!r} (expected 'text' or 'binary')")
    if not isinstance(raw.get("no_link", False), (bool, type(None))):
        raise _bad_paths_json(dist, f"{path!r} has a no_link that is not a boolean")
    return PathData.from_json(raw)


def load_json_file(path: str, dist: str, what: str) -> Any:
    """``json.load`` for a file a package supplies: every failure (missing, not UTF-8, not JSON,
    nested too deep for the parser) is a CondaVerificationError naming the package and the file."""
    from conda_deepdive.exceptions import CondaVerificationError

    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except RecursionError:
        raise CondaVerificationError(f"The package {dist} has an invalid {what}: "
                                     f"it is nested too deeply to parse.") from None
    except (OSError, ValueError) as exc:
        raise CondaVerificationError(
            f"The package {dist} has an invalid {what}: {type(exc).__name__}: {exc}".splitlines()[0]
        ) from exc


def _read_lines(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8") as fh:
            return [line.rstrip("\n") for line in fh if line.strip()]
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        from conda_deepdive.exceptions import CondaVerificationError

        raise CondaVerificationError(f"Unreadable package metadata file {path}: {exc}") from exc


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
    dist = os.path.basename(extracted_package_dir.rstrip("/"))
    if os.path.isfile(paths_json):
        raw = load_json_file(paths_json, dist, "info/paths.json")
        entries = raw.get("paths", ()) if isinstance(raw, dict) else None
        if not isinstance(entries, (list, tuple)):
            raise _bad_paths_json(dist, "'paths' is not a list")
        return tuple(_checked_path_entry(p, dist) for p in entries)
    files = [check_short_path(f, dist, "info/files") for f in _read_lines(os.path.join(info, "files"))]
    if not files and not os.path.isfile(os.path.join(info, "files")):
        from conda_deepdive.exceptions import CondaVerificationError

        raise CondaVerificationError(
            f"The package at {extracted_package_dir} has neither info/paths.json nor info/files."
        )
    try:
        parsed = [_parse_has_prefix_line(line) for line in _read_lines(os.path.join(info, "has_prefix"))]
    except (ValueError, IndexError) as exc:
        from conda_deepdive.exceptions import CondaVerificationError

        raise CondaVerificationError(  # conda's message for a has_prefix it cannot split
            f"Invalid has_prefix file at path: {os.path.join(info, 'has_prefix')} ({dist})") from exc
    for placeholder, mode, p in parsed:
        check_short_path(p, dist, "info/has_prefix")
        if not placeholder or mode not in ("text", "binary"):
            from conda_deepdive.exceptions import CondaVerificationError

            raise CondaVerificationError(
                f"Invalid has_prefix file at path: {os.path.join(info, 'has_prefix')} ({dist}: "
                f"{p!r} has placeholder {placeholder!r}, mode {mode!r})")
    has_prefix = {p: (ph, mode) for ph, mode, p in parsed}
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


@value_object(frozen=True, repr=False)  # its own __repr__ below
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
    from conda_deepdive.exceptions import CondaVerificationError

    info = os.path.join(cache_entry.extracted_package_dir, "info")
    dist = os.path.basename(cache_entry.extracted_package_dir.rstrip("/"))
    index_json = load_json_file(os.path.join(info, "index.json"), dist, "info/index.json")
    if not isinstance(index_json, dict):
        raise CondaVerificationError(f"The package {dist} has an invalid info/index.json: not an object.")
    metadata: dict = {}
    for name in ("link.json", "package_metadata.json"):
        path = os.path.join(info, name)
        if os.path.isfile(path):
            metadata = load_json_file(path, dist, f"info/{name}") or {}
            break
    if not isinstance(metadata, dict) or not isinstance(metadata.get("noarch") or {}, dict):
        raise CondaVerificationError(f"The package {dist} has an invalid info/link.json: not an object.")
    noarch = _noarch_of(rec, index_json, metadata)
    if noarch not in (None, "generic", "python"):
        from conda_deepdive.exceptions import CondaUpgradeError

        raise CondaUpgradeError(  # conda's NoarchType.coerce message, plus the package
            f"The noarch type for this package ({dist}) is set to '{noarch}'. The current version "
            f"of conda is too old to install this package. Please update conda.")
    entry_points = tuple((metadata.get("noarch") or {}).get("entry_points") or ()) if noarch == "python" else ()
    if any(not isinstance(ep, str) for ep in entry_points):
        raise CondaVerificationError(f"The package {dist} has an entry point that is not a string.")
    from conda_deepdive.exceptions import CondaValueError
    from conda_deepdive.link.entry_points import parse_entry_point_def

    for definition in entry_points:
        try:
            parse_entry_point_def(definition)
        except CondaValueError as exc:
            raise CondaVerificationError(f"The package {dist} has an unsafe entry point: {exc}") from None
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
    import uuid  # only when linking (a dry run never gets here)

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


class ActionGroup(namedtuple("ActionGroup", "type pkg_data actions target_prefix")):
    """Actions of one kind for one package (conda's ``ActionGroup``, a namedtuple there too).

    ``type`` (str), ``pkg_data`` (PackageInfo on the link side, the installed-record dict on the
    unlink side, or None), ``actions`` (tuple), ``target_prefix`` (str).
    """

    __slots__ = ()


#: conda's ``PrefixActionGroup`` fields, in conda's order.
PREFIX_ACTION_GROUP_ORDER = (
    "remove_menu_action_groups", "unlink_action_groups", "unregister_action_groups",
    "link_action_groups", "register_action_groups", "compile_action_groups",
    "make_menu_action_groups", "entry_point_action_groups", "prefix_record_groups",
)


class PrefixActionGroup(namedtuple("PrefixActionGroup", PREFIX_ACTION_GROUP_ORDER)):
    """All the action groups of one prefix, in conda's field order (each a tuple)."""

    __slots__ = ()


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
            except (OSError, ValueError, RecursionError):
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
