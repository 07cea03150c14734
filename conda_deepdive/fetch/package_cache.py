"""The package cache (``pkgs_dirs``): tarballs, extracted packages, ``urls.txt``.

conda counterpart: ``conda.core.package_cache_data.PackageCacheData``.

Every package conda installs passes through a package cache directory (``~/.conda/pkgs`` or
``<root>/pkgs``), which looks like this after ``conda create -p env pyhello``::

    pkgs/
      pyhello-1.0-pyh_0.conda          the tarball, as downloaded (or copied from file://)
      pyhello-1.0-pyh_0/               the extracted package
        info/index.json                   metadata from the package itself
        info/paths.json                   every file, its sha256, size, placeholder…
        info/repodata_record.json         written by conda: the channel's record + index.json
        site-packages/…                   the payload, hard-linked into environments
      urls.txt                         one line per URL cached here
      urls                             an empty legacy file

An extracted directory is *reused* when its ``info/repodata_record.json`` says it is the same
package (same md5 / sha256) as the one the solver picked; a tarball is reused when its size and
hashes match the record. Otherwise it is downloaded again.

What to notice: environments *hard-link* files out of ``pkgs/<dist>/`` — the cache is not a
download folder you may freely delete while environments share inodes with it (deleting is safe
for the environments, but you lose the disk-space sharing).

conda-deepdive adds one thing conda 26.7.1 does not have: a file lock per package cache
(``<pkgs_dir>/.conda_deepdive.lock``), taken while the cache is being modified, so two installs
sharing a cache never see each other's half-written files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

from conda_deepdive.values import field, value_object

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = [
    "CONDA_PACKAGE_EXTENSIONS",
    "RECORD_FIELDS",
    "PackageCacheEntry",
    "PackageCacheData",
    "strip_pkg_extension",
    "record_value",
    "record_dump",
    "repodata_record_dict",
    "hash_file",
    "get_entry_to_link",
    "is_safe_package_filename",
    "check_package_filename",
]

CONDA_PACKAGE_EXTENSIONS = (".conda", ".tar.bz2")
LOCK_NAME = ".conda_deepdive.lock"

#: conda's ``PackageRecord.dump()`` key order (what ``--json`` and ``repodata_record.json`` show).
RECORD_FIELDS = (
    "name", "version", "build", "build_number", "channel", "subdir", "fn", "md5",
    "legacy_bz2_md5", "legacy_bz2_size", "url", "sha256", "arch", "platform", "depends",
    "constrains", "track_features", "features", "noarch", "preferred_env", "license",
    "license_family", "package_type", "timestamp", "date", "size",
)
_LIST_FIELDS = ("depends", "constrains")


def strip_pkg_extension(fn: str) -> str:
    """``"pyhello-1.0-pyh_0.conda"`` → ``"pyhello-1.0-pyh_0"`` (the extracted directory name)."""
    for ext in CONDA_PACKAGE_EXTENSIONS:
        if fn.endswith(ext):
            return fn[: -len(ext)]
    return fn


def is_safe_package_filename(fn: Any) -> bool:
    """A package filename from a channel may only name a file directly in the package cache:
    ``name-1.0-0.conda`` yes; ``../../victim.tar.bz2``, ``/abs.conda``, ``a/b.conda`` no."""
    if not isinstance(fn, str) or not fn.endswith(CONDA_PACKAGE_EXTENSIONS):
        return False
    if "/" in fn or "\\" in fn or "\x00" in fn or fn.startswith("."):
        return False
    return strip_pkg_extension(fn) not in ("", ".", "..")


def check_package_filename(fn: Any, package: str) -> str:
    """Raise :class:`~conda_deepdive.exceptions.SafetyError` unless ``fn`` is a plain package
    filename (conda 26.7.1 joins it to the cache directory as it is: issue 12)."""
    if not is_safe_package_filename(fn):
        from conda_deepdive.exceptions import SafetyError

        why = ("is not a string" if not isinstance(fn, str)
               else "is not a .conda or .tar.bz2 file name" if not fn.endswith(CONDA_PACKAGE_EXTENSIONS)
               else "is not a plain file name")
        raise SafetyError(f"Refusing package {package}: its filename {fn!r} {why}.")
    return fn


def record_value(rec: Any, key: str, default: Any = None) -> Any:
    """Read ``key`` from a record object or a plain dict (records come from several modules)."""
    if isinstance(rec, dict):
        return rec.get(key, default)
    value = getattr(rec, key, default)
    return default if callable(value) and key not in ("channel",) else value


def _channel_url(rec: Any) -> str | None:
    # conda dumps "channel" as the channel's URL *with* subdir: file:///x/channel/linux-64
    url = record_value(rec, "url")
    if url and "/" in url:
        return url.rsplit("/", 1)[0]
    channel = record_value(rec, "channel")
    if channel is None:
        return None
    if isinstance(channel, str):
        return channel
    base = getattr(channel, "base_url", None)
    subdir = record_value(rec, "subdir")
    return f"{base}/{subdir}" if base and subdir else str(channel)


def record_dump(rec: Any, *, keep_arch_platform: bool = True) -> dict:
    """A record as conda dumps it (``--json`` FETCH entries): conda's key order, None dropped,
    except ``arch`` and ``platform`` which conda always shows (as null when unknown)."""
    out: dict[str, Any] = {}
    for key in RECORD_FIELDS:
        value = _channel_url(rec) if key == "channel" else record_value(rec, key)
        if key in _LIST_FIELDS:
            value = list(value or ())
        elif key in ("track_features", "features"):
            if isinstance(value, (list, tuple)):
                value = " ".join(value)
            if not value:
                continue
        if key == "noarch" and value is not None and not isinstance(value, str):
            value = getattr(value, "value", str(value))
        if key == "noarch" and value in ("", "False", "false"):
            continue
        if value is None and not (keep_arch_platform and key in ("arch", "platform")):
            continue
        out[key] = value
    return out


def repodata_record_dict(rec: Any, index_json: dict) -> dict:
    """``info/repodata_record.json``: the index.json of the package, overlaid by the solver's
    record (channel, url, hashes win); None values dropped, conda's key order."""
    merged = {k: v for k, v in index_json.items() if v is not None}
    for key, value in record_dump(rec, keep_arch_platform=False).items():
        if key in ("arch", "platform") and value is None:
            continue
        merged[key] = value
    ordered = {k: merged[k] for k in RECORD_FIELDS if k in merged and merged[k] is not None}
    # keys conda does not know about (e.g. "requires" in old packages) are not carried over
    return ordered


def hash_file(path: str, algorithms=("md5", "sha256")) -> dict[str, str]:
    """Hash a file once for several algorithms (tarballs can be large)."""
    import hashlib  # only when a file is checked (loading OpenSSL costs a few ms)

    hashers = {name: hashlib.new(name) for name in algorithms}
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            for h in hashers.values():
                h.update(chunk)
    return {name: h.hexdigest() for name, h in hashers.items()}


@value_object(frozen=True, repr=False)  # its own __repr__ below
class PackageCacheEntry:
    """One package in a cache (conda's ``PackageCacheRecord``): its record and where it lives."""

    record: dict
    package_tarball_full_path: str
    extracted_package_dir: str
    pkgs_dir: str = field(default="", compare=False)

    def __getattr__(self, name: str) -> Any:
        # record fields read like attributes: entry.name, entry.md5, entry.url …
        record = self.__dict__.get("record") or {}
        if name in record:
            return record[name]
        if name in RECORD_FIELDS:
            return None
        raise AttributeError(name)

    @property
    def dist_name(self) -> str:
        return os.path.basename(self.extracted_package_dir)

    @property
    def is_extracted(self) -> bool:
        return os.path.isfile(os.path.join(self.extracted_package_dir, "info", "index.json"))

    @property
    def is_fetched(self) -> bool:
        return os.path.isfile(self.package_tarball_full_path)

    def __repr__(self) -> str:
        state = "extracted" if self.is_extracted else "tarball only"
        return f"PackageCacheEntry({self.dist_name!r}, {state}, in {self.pkgs_dir!r})"

    def summary(self) -> dict:
        return {
            "dist_name": self.dist_name, "extracted_package_dir": self.extracted_package_dir,
            "package_tarball_full_path": self.package_tarball_full_path,
            "url": self.record.get("url"), "md5": self.record.get("md5"),
            "sha256": self.record.get("sha256"),
        }


def _same_package(cached: dict, rec: Any) -> bool:
    """Is the cached repodata_record the very package the solver picked? (hashes decide)"""
    for key in ("name", "version", "build"):
        if str(cached.get(key)) != str(record_value(rec, key)):
            return False
    for key in ("sha256", "md5"):
        want = record_value(rec, key)
        have = cached.get(key)
        if want and have:
            return want == have
    want_url = record_value(rec, "url")
    return not want_url or cached.get("url") == want_url


class PackageCacheData:
    """A view of one package cache directory (conda's class of the same name)."""

    def __init__(self, pkgs_dir: str):
        self.pkgs_dir = os.path.abspath(os.path.expanduser(pkgs_dir))

    def __repr__(self) -> str:
        return f"PackageCacheData({self.pkgs_dir!r})"

    # -- what is in the cache -------------------------------------------------------------
    def iter_entries(self) -> Iterator[PackageCacheEntry]:
        """Extracted packages (with their ``repodata_record.json`` or, failing that, index.json)."""
        if not os.path.isdir(self.pkgs_dir):
            return
        for name in sorted(os.listdir(self.pkgs_dir)):
            full = os.path.join(self.pkgs_dir, name)
            info = os.path.join(full, "info")
            if name.startswith(".") or not os.path.isdir(info):
                continue
            record = _read_json(os.path.join(info, "repodata_record.json"))
            if record is None:
                record = _read_json(os.path.join(info, "index.json"))
            if record is None:
                continue
            tarball = self._tarball_for(name, record)
            yield PackageCacheEntry(record, tarball, full, self.pkgs_dir)

    def tarballs(self) -> list[str]:
        if not os.path.isdir(self.pkgs_dir):
            return []
        return sorted(
            f for f in os.listdir(self.pkgs_dir)
            if f.endswith(CONDA_PACKAGE_EXTENSIONS) and os.path.isfile(os.path.join(self.pkgs_dir, f))
        )

    def _tarball_for(self, dist_name: str, record: dict) -> str:
        fn = record.get("fn")
        if fn and strip_pkg_extension(fn) == dist_name:
            return os.path.join(self.pkgs_dir, fn)
        for ext in CONDA_PACKAGE_EXTENSIONS:
            if os.path.isfile(os.path.join(self.pkgs_dir, dist_name + ext)):
                return os.path.join(self.pkgs_dir, dist_name + ext)
        return os.path.join(self.pkgs_dir, dist_name + ".conda")

    def get_extracted(self, rec: Any) -> PackageCacheEntry | None:
        """The extracted package for ``rec`` if it is present *and* is the same package."""
        fn = record_value(rec, "fn") or ""
        if not is_safe_package_filename(fn):
            return None
        dist = strip_pkg_extension(fn)
        full = os.path.join(self.pkgs_dir, dist)
        info = os.path.join(full, "info")
        if not dist or not os.path.isfile(os.path.join(info, "index.json")):
            return None
        record = _read_json(os.path.join(info, "repodata_record.json"))
        if record is None or not _same_package(record, rec):
            return None
        return PackageCacheEntry(record, os.path.join(self.pkgs_dir, fn), full, self.pkgs_dir)

    def get_valid_tarball(self, rec: Any) -> str | None:
        """The cached tarball for ``rec`` if its size and hashes match the record."""
        fn = record_value(rec, "fn")
        if not fn or not is_safe_package_filename(fn):
            return None
        path = os.path.join(self.pkgs_dir, fn)
        if not os.path.isfile(path):
            return None
        size = record_value(rec, "size")
        if size is not None and not isinstance(size, int):
            return None
        if size and os.path.getsize(path) != size:
            return None
        wanted = {k: record_value(rec, k) for k in ("md5", "sha256") if record_value(rec, k)}
        if wanted:
            actual = hash_file(path, tuple(wanted))
            if any(actual[k] != v for k, v in wanted.items()):
                return None
        return path

    # -- writing ----------------------------------------------------------------------------
    @property
    def is_writable(self) -> bool:
        probe = self.pkgs_dir
        while not os.path.exists(probe):
            parent = os.path.dirname(probe)
            if parent == probe:
                return False
            probe = parent
        return os.access(probe, os.W_OK)

    def ensure_exists(self) -> None:
        os.makedirs(self.pkgs_dir, exist_ok=True)
        legacy = os.path.join(self.pkgs_dir, "urls")
        if not os.path.lexists(legacy):
            open(legacy, "a").close()
        urls_txt = os.path.join(self.pkgs_dir, "urls.txt")
        if not os.path.lexists(urls_txt):
            open(urls_txt, "a").close()

    def clean_stale_partials(self) -> list[str]:
        """Remove ``*.partial`` downloads and extraction folders a killed run left behind.

        Call it only while holding :meth:`lock`: every writer of this cache holds the lock while
        its ``.partial`` files exist, so any found under the lock belong to a run that died
        (SIGKILL, power loss) before it could clean up. Returns the names removed."""
        import shutil

        removed = []
        try:
            names = os.listdir(self.pkgs_dir)
        except OSError:
            return removed
        for name in names:
            if not name.endswith(".partial"):
                continue
            path = os.path.join(self.pkgs_dir, name)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                try:
                    os.unlink(path)
                except OSError:
                    continue
            removed.append(name)
        return removed

    def urls(self) -> list[str]:
        path = os.path.join(self.pkgs_dir, "urls.txt")
        if not os.path.isfile(path):
            return []
        with open(path) as fh:
            return [line.strip() for line in fh if line.strip()]

    def add_url(self, url: str) -> None:
        """Append ``url`` to ``urls.txt`` (conda records where each cached tarball came from)."""
        self.ensure_exists()
        with open(os.path.join(self.pkgs_dir, "urls.txt"), "a") as fh:
            fh.write(url + "\n")

    def lock(self, timeout: float = 600.0):
        """An inter-process lock on this cache (a ``filelock.FileLock``, used as a context)."""
        import filelock

        self.ensure_exists()
        return filelock.FileLock(os.path.join(self.pkgs_dir, LOCK_NAME), timeout=timeout)

    def summary(self) -> dict:
        return {
            "pkgs_dir": self.pkgs_dir,
            "extracted": [e.dist_name for e in self.iter_entries()],
            "tarballs": self.tarballs(),
            "urls": self.urls(),
        }


def _read_json(path: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        return data if isinstance(data, dict) else None
    except (OSError, ValueError, RecursionError):
        return None


def get_entry_to_link(rec: Any, pkgs_dirs) -> PackageCacheEntry | None:
    """First cache (in ``pkgs_dirs`` order) holding an extracted, matching copy of ``rec``."""
    for pkgs_dir in pkgs_dirs:
        entry = PackageCacheData(pkgs_dir).get_extracted(rec)
        if entry is not None:
            return entry
    return None
