"""Stage 8: download the chosen packages into the package cache and extract them — safely.

conda counterparts: ``conda.core.package_cache_data.ProgressiveFetchExtract`` and the
``CacheUrlAction`` / ``ExtractPackageAction`` classes of ``conda.core.path_actions``.

For every record the solver chose, :class:`ProgressiveFetchExtract` decides, by looking in the
package caches (``context.pkgs_dirs``), what work is left:

1. an extracted directory whose ``info/repodata_record.json`` matches the record → nothing;
2. a tarball in the writable cache whose size, md5 and sha256 match → extract only;
3. a matching tarball in another (read-only) cache → copy it, then extract;
4. otherwise → download from ``record.url`` (``file://``, ``http://``, ``https://``), then extract.

Each unit of work is an *action* object with conda's four verbs: ``verify``, ``execute``,
``reverse`` (undo after a failure) and ``cleanup`` (drop the undo information after success).

What to notice:

* a channel is untrusted: a package filename must be a plain name (``../../x.tar.bz2``, ``/abs``
  or ``a/b.conda`` would be joined to the cache directory as they are — ``SafetyError``);
* downloads are checked against the record's size, md5 **and** sha256 before they are kept, and
  are never read past the declared size (a server may send gigabytes, or never stop); the
  ``remote_connect_timeout_secs`` / ``remote_read_timeout_secs`` settings bound the waiting;
* extraction goes to a temporary directory that is renamed into place only when complete, and
  refuses archive members with absolute paths, ``..``, symlinks that climb out of the package,
  members written *through* or *onto* a symlink, hard links to anything but a regular file
  extracted earlier (``os.link`` follows symlinks), and device files (conda relies on
  conda-package-streaming for a subset of these checks); a damaged archive of any kind is a
  ``CorruptedArchiveError``, a full disk a ``NoSpaceLeftError``;
* a package without ``info/paths.json`` is still accepted — conda falls back to ``info/files``
  (old packages); one without ``info/index.json`` is refused;
* downloads of different packages run in parallel (``context.fetch_threads``), and a file lock
  per package cache keeps two concurrent installs from corrupting a shared cache.
"""

from __future__ import annotations

import os
import posixpath
import time
from collections.abc import Iterable

from conda_deepdive.fetch.package_cache import (
    PackageCacheData,
    check_package_filename,
    hash_file,
    record_value,
    repodata_record_dict,
    strip_pkg_extension,
)
from conda_deepdive.reporting import Reporter

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = [
    "CacheUrlAction",
    "ExtractPackageAction",
    "ProgressiveFetchExtract",
    "safe_extract",
    "url_to_path",
    "path_to_url",
]


def _rmtree(path: str, ignore_errors: bool = False) -> None:
    # shutil (with bz2 and lzma, ~3 ms) is imported when something is removed, not by a dry run
    import shutil

    shutil.rmtree(path, ignore_errors=ignore_errors)


HOLD_SUFFIX = ".c~"  # conda's CONDA_TEMP_EXTENSION


def url_to_path(url: str) -> str:
    from urllib.parse import unquote, urlparse

    parsed = urlparse(url)
    return unquote(parsed.path)


def path_to_url(path: str) -> str:
    from urllib.parse import quote

    return "file://" + quote(os.path.abspath(path))


def _ctx(context: Any, name: str, default: Any) -> Any:
    value = getattr(context, name, default) if context is not None else default
    return default if value is None else value


def _rm(path: str) -> None:
    if os.path.islink(path) or os.path.isfile(path):
        os.unlink(path)
    elif os.path.isdir(path):
        _rmtree(path)


def _dist(rec: Any) -> str:
    fn = record_value(rec, "fn") or ""
    return strip_pkg_extension(fn) or f"{rec.name}-{rec.version}-{rec.build}"


# ---------------------------------------------------------------------------------------------
# actions


class _FetchAction:
    """Shared behaviour of the two package-cache actions."""

    _verified = False
    _executed = False

    @property
    def verified(self) -> bool:
        return self._verified

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.describe()})"

    def describe(self) -> str:  # pragma: no cover - overridden
        return ""


class CacheUrlAction(_FetchAction):
    """Put the tarball behind ``url`` into ``target_pkgs_dir`` (download or copy), checksummed."""

    def __init__(self, url: str, target_pkgs_dir: str, target_package_basename: str,
                 sha256: str | None = None, size: int | None = None, md5: str | None = None,
                 record: Any = None, context: Any = None):
        self.url = url
        self.target_pkgs_dir = target_pkgs_dir
        self.target_package_basename = target_package_basename
        self.sha256, self.size, self.md5 = sha256, size, md5
        self.record = record
        self.context = context
        self.hold_path = self.target_full_path + HOLD_SUFFIX

    @property
    def target_full_path(self) -> str:
        return os.path.join(self.target_pkgs_dir, self.target_package_basename)

    def describe(self) -> str:
        return f"url={self.url!r}, target={self.target_full_path!r}"

    def verify(self):
        from conda_deepdive.exceptions import CondaValueError

        if "::" in self.url or not self.url.startswith(("file:/", "http://", "https://")):
            return CondaValueError(f"Cannot fetch {self.url!r}: only file://, http:// and https:// URLs")
        self._verified = True
        return None

    def execute(self, progress=None) -> None:
        from conda_deepdive.exceptions import OfflineError

        cache = PackageCacheData(self.target_pkgs_dir)
        cache.ensure_exists()
        if os.path.lexists(self.hold_path):
            _rm(self.hold_path)
        if self.url.startswith("file:/") and os.path.abspath(url_to_path(self.url)) == self.target_full_path:
            self._executed = True  # the tarball is already where it should be
            return
        import uuid

        partial = f"{self.target_full_path}.{uuid.uuid4().hex[:8]}.partial"
        try:
            if self.url.startswith("file:/"):
                self._copy_local(url_to_path(self.url), partial, progress)
            else:
                if _ctx(self.context, "offline", False):
                    raise OfflineError(f"Cannot download {self.url} in offline mode.")
                self._download(partial, progress)
            self._check(partial)
        except OSError as exc:  # a full disk, a read-only cache…: one documented error
            if os.path.lexists(partial):
                os.unlink(partial)
            from conda_deepdive.exceptions import os_error

            raise os_error(exc, partial) from exc
        except BaseException:
            if os.path.lexists(partial):
                os.unlink(partial)
            raise
        if os.path.lexists(self.target_full_path):
            os.replace(self.target_full_path, self.hold_path)
        os.replace(partial, self.target_full_path)
        self._executed = True
        cache.add_url(self.url)

    def _copy_local(self, source: str, dest: str, progress) -> None:
        from conda_deepdive.exceptions import CondaError

        if not os.path.isfile(source):
            raise CondaError(f"Package file not found: {source} (from {self.url})")
        total = os.path.getsize(source)
        done = 0
        with open(source, "rb") as src, open(dest, "wb") as dst:
            for chunk in iter(lambda: src.read(1 << 20), b""):
                dst.write(chunk)
                done += len(chunk)
                self._stop_if_oversized(done)
                if progress:
                    progress(done, total)

    def _download(self, dest: str, progress) -> None:
        import requests  # heavy: imported only when something is really downloaded

        from conda_deepdive.exceptions import CondaHTTPError

        verify = _ctx(self.context, "ssl_verify", True)
        # conda's two timeouts: to connect, and between two reads of the body (a stalled server)
        timeout = (float(_ctx(self.context, "remote_connect_timeout_secs", 9.15)),
                   float(_ctx(self.context, "remote_read_timeout_secs", 60.0)))
        try:
            with requests.get(self.url, stream=True, timeout=timeout, verify=verify) as resp:
                if resp.status_code != 200:
                    raise CondaHTTPError(f"HTTP {resp.status_code} for url <{self.url}>")
                try:
                    declared = int(resp.headers.get("Content-Length") or 0)
                except ValueError:
                    declared = 0
                if declared:
                    self._stop_if_oversized(declared, "the server announces")
                total = declared or self.size
                done = 0
                with open(dest, "wb") as fh:
                    # decoded bytes are counted: a small gzip body cannot inflate past the size
                    for chunk in resp.iter_content(1 << 16):
                        fh.write(chunk)
                        done += len(chunk)
                        self._stop_if_oversized(done)
                        if progress:
                            progress(done, total)
        except requests.RequestException as exc:
            raise CondaHTTPError(f"Download of {self.url} failed: {type(exc).__name__}: {exc}",
                                 caused_by=exc) from exc

    def _stop_if_oversized(self, done: int, what: str = "downloaded") -> None:
        """A body is never read past the size the record declares (a hostile or broken server
        could send gigabytes, or never stop)."""
        if isinstance(self.size, int) and done > self.size:
            from conda_deepdive.exceptions import ChecksumMismatchError

            dist = strip_pkg_extension(self.target_package_basename)
            raise ChecksumMismatchError(
                f"Conda detected a mismatch between the expected content and downloaded content\n"
                f"for package {dist} (url '{self.url}').\n"
                f"  expected size: {self.size}\n  {what}: more than {self.size} bytes ({done}); stopped."
            )

    def _check(self, path: str) -> None:
        from conda_deepdive.exceptions import ChecksumMismatchError

        dist = strip_pkg_extension(self.target_package_basename)
        actual_size = os.path.getsize(path)
        if self.size is not None and actual_size != self.size:
            raise ChecksumMismatchError(
                f"Conda detected a mismatch between the expected content and downloaded content\n"
                f"for package {dist} (url '{self.url}').\n"
                f"  expected size: {self.size}\n  actual size: {actual_size}"
            )
        wanted = {k: v for k, v in (("md5", self.md5), ("sha256", self.sha256)) if v}
        actual = hash_file(path, tuple(wanted)) if wanted else {}
        for algo, expected in wanted.items():
            if actual[algo] != expected:
                raise ChecksumMismatchError(
                    f"Conda detected a mismatch between the expected content and downloaded content\n"
                    f"for package {dist} (url '{self.url}').\n"
                    f"  expected {algo}: {expected}\n  actual {algo}: {actual[algo]}"
                )

    def reverse(self) -> None:
        if self._executed and os.path.lexists(self.hold_path):
            os.replace(self.hold_path, self.target_full_path)
        elif self._executed and os.path.lexists(self.target_full_path):
            os.unlink(self.target_full_path)

    def cleanup(self) -> None:
        if os.path.lexists(self.hold_path):
            _rm(self.hold_path)


class ExtractPackageAction(_FetchAction):
    """Extract a cached tarball into ``<pkgs_dir>/<dist>/`` and write ``repodata_record.json``."""

    def __init__(self, source_full_path: str, target_pkgs_dir: str, target_extracted_dirname: str,
                 record: Any, sha256: str | None = None, size: int | None = None,
                 md5: str | None = None):
        self.source_full_path = source_full_path
        self.target_pkgs_dir = target_pkgs_dir
        self.target_extracted_dirname = target_extracted_dirname
        self.record = record
        self.sha256, self.size, self.md5 = sha256, size, md5
        self.hold_path = self.target_full_path + HOLD_SUFFIX

    @property
    def target_full_path(self) -> str:
        return os.path.join(self.target_pkgs_dir, self.target_extracted_dirname)

    def describe(self) -> str:
        return f"source={self.source_full_path!r}, target={self.target_full_path!r}"

    def verify(self):
        self._verified = True
        return None

    def execute(self, progress=None) -> None:
        import json

        from conda_deepdive.exceptions import CorruptedArchiveError

        import uuid

        temp = os.path.join(self.target_pkgs_dir, f".{self.target_extracted_dirname}.{uuid.uuid4().hex[:8]}.partial")
        try:
            safe_extract(self.source_full_path, temp, progress=progress)
            index_path = os.path.join(temp, "info", "index.json")
            try:
                with open(index_path, encoding="utf-8") as fh:
                    index_json = json.load(fh)
                if not isinstance(index_json, dict):
                    raise ValueError("it is not a JSON object")
            except (OSError, ValueError, RecursionError) as exc:
                detail = "nested too deeply" if isinstance(exc, RecursionError) else exc
                raise CorruptedArchiveError(
                    f"Encountered corrupt package tarball at {self.source_full_path}: "
                    f"info/index.json is missing or unreadable ({detail})."
                ) from None
            info = os.path.join(temp, "info")
            if not (os.path.isfile(os.path.join(info, "paths.json"))
                    or os.path.isfile(os.path.join(info, "files"))):
                raise CorruptedArchiveError(
                    f"Package {self.source_full_path} has neither info/paths.json nor info/files: "
                    f"there is no manifest of the files to link."
                )
            record_json = json.dumps(repodata_record_dict(self.record, index_json), indent=2, sort_keys=False)
            try:
                with open(os.path.join(info, "repodata_record.json"), "w") as fh:
                    fh.write(record_json)
            except OSError as exc:
                from conda_deepdive.exceptions import os_error

                raise os_error(exc, os.path.join(info, "repodata_record.json")) from exc
        except BaseException:
            if os.path.lexists(temp):
                _rmtree(temp, ignore_errors=True)
            raise
        if os.path.lexists(self.target_full_path):
            if os.path.lexists(self.hold_path):
                _rm(self.hold_path)
            os.replace(self.target_full_path, self.hold_path)
        os.replace(temp, self.target_full_path)
        self._executed = True

    def reverse(self) -> None:
        if not self._executed:
            return
        if os.path.lexists(self.target_full_path):
            _rm(self.target_full_path)
        if os.path.lexists(self.hold_path):
            os.replace(self.hold_path, self.target_full_path)

    def cleanup(self) -> None:
        if os.path.lexists(self.hold_path):
            _rm(self.hold_path)


# ---------------------------------------------------------------------------------------------
# safe extraction


def _check_member_name(name: str, tarball: str, what: str = "member") -> str:
    from conda_deepdive.exceptions import SafetyError

    if not name or "\x00" in name:
        raise SafetyError(f"Refusing to extract {tarball}: {what} with an empty or NUL-containing name")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise SafetyError(f"Refusing to extract {tarball}: {what} {name!r} is an absolute path")
    parts = name.split("/")
    if ".." in parts:
        raise SafetyError(f"Refusing to extract {tarball}: {what} {name!r} contains '..'")
    return posixpath.normpath(name)


def _check_member(member: tarfile.TarInfo, dest_real: str, tarball: str) -> None:
    from conda_deepdive.exceptions import SafetyError

    name = _check_member_name(member.name, tarball)
    if not (member.isreg() or member.isdir() or member.issym() or member.islnk()):
        raise SafetyError(
            f"Refusing to extract {tarball}: member {name!r} is a device, FIFO or other special file"
        )
    # never write *through* a symlink extracted earlier (e.g. "lib -> /etc" then "lib/passwd")
    parent = os.path.realpath(os.path.join(dest_real, os.path.dirname(name)))
    if os.path.commonpath((dest_real, parent)) != dest_real:
        raise SafetyError(
            f"Refusing to extract {tarball}: member {name!r} would be written through a symlink "
            f"that points outside the package"
        )
    # ... nor onto one: a second member of the same name would open() (and chmod) its target
    if os.path.islink(os.path.join(dest_real, name)):
        raise SafetyError(
            f"Refusing to extract {tarball}: member {name!r} would be written onto a symlink "
            f"extracted earlier"
        )
    if member.issym():
        target = member.linkname
        if not target:
            raise SafetyError(f"Refusing to extract {tarball}: symlink {name!r} has an empty target")
        # Absolute targets (e.g. bin/sh -> /bin/sh) are accepted: conda links them as they are.
        if not target.startswith("/"):
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
            if resolved == ".." or resolved.startswith("../"):
                raise SafetyError(
                    f"Refusing to extract {tarball}: symlink {name!r} -> {target!r} escapes the package"
                )
    elif member.islnk():
        linked = _check_member_name(member.linkname, tarball, what=f"hard link target of {name!r}")
        # tarfile calls os.link(), which follows a symlink: the target must be a regular file
        # already extracted inside the package, never a symlink (to /etc/passwd, say)
        source = os.path.join(dest_real, linked)
        if os.path.islink(source) or not os.path.isfile(source) or \
                os.path.commonpath((dest_real, os.path.realpath(source))) != dest_real:
            raise SafetyError(
                f"Refusing to extract {tarball}: hard link {name!r} => {member.linkname!r} does not "
                f"point at a regular file extracted earlier in the package"
            )


def _trusted_after_checks(member: tarfile.TarInfo, dest_path: str) -> tarfile.TarInfo:
    # our own checks already ran; keep modes and mtimes, but files belong to whoever extracts
    import tarfile

    member = tarfile.tar_filter(member, dest_path)
    return member.replace(uid=os.getuid(), gid=os.getgid(), uname=None, gname=None, deep=False)


def _stream_members(tarball: str, fh):
    from conda_package_streaming.package_streaming import stream_conda_component

    if tarball.endswith(".conda"):
        for component in ("info", "pkg"):
            fh.seek(0)
            yield from stream_conda_component(tarball, fh, component=component)
    else:
        yield from stream_conda_component(tarball, fh, component="pkg")


def safe_extract(tarball: str, dest: str, progress=None) -> int:
    """Extract a ``.conda`` or ``.tar.bz2`` into ``dest`` (which must not exist yet), refusing
    unsafe members. Returns the number of members. On any error ``dest`` is removed."""
    from conda_deepdive.exceptions import CorruptedArchiveError, SafetyError

    if not tarball.endswith((".conda", ".tar.bz2")):
        raise CorruptedArchiveError(f"{tarball} is not a conda package (.conda or .tar.bz2)")
    os.makedirs(dest)
    dest_real = os.path.realpath(dest)
    count = 0
    try:
        with open(tarball, "rb") as fh:
            total = os.path.getsize(tarball)
            for tar, member in _stream_members(tarball, fh):
                _check_member(member, dest_real, tarball)
                tar.extract(member, dest_real, set_attrs=True, filter=_trusted_after_checks)
                count += 1
                if progress and count % 64 == 0:
                    progress(min(fh.tell(), total), total)
        if progress:
            progress(total, total)
    except SafetyError:
        _rmtree(dest, ignore_errors=True)
        raise
    except OSError as exc:
        _rmtree(dest, ignore_errors=True)
        import errno

        if exc.errno == errno.ENOSPC:
            from conda_deepdive.exceptions import os_error

            raise os_error(exc, dest) from exc
        raise CorruptedArchiveError(
            f"Encountered corrupt package tarball at {tarball}: {type(exc).__name__}: {exc}",
            caused_by=exc,
        ) from exc
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        _rmtree(dest, ignore_errors=True)
        raise
    except Exception as exc:  # BadZipFile, ZstdError, TarError, EOFError, RecursionError…
        _rmtree(dest, ignore_errors=True)
        from conda_deepdive.exceptions import CondaError

        if isinstance(exc, CondaError):
            raise
        detail = str(exc).splitlines()[0] if str(exc) else ""
        raise CorruptedArchiveError(
            f"Encountered corrupt package tarball at {tarball}: {type(exc).__name__}: {detail}",
            caused_by=exc,
        ) from exc
    except BaseException:
        _rmtree(dest, ignore_errors=True)
        raise
    if count == 0:
        _rmtree(dest, ignore_errors=True)
        raise CorruptedArchiveError(f"Encountered corrupt package tarball at {tarball}: it is empty")
    return count


# ---------------------------------------------------------------------------------------------
# the stage driver


class ProgressiveFetchExtract:
    """Plan and run the cache/extract actions for a set of records (conda's class name).

    ``paired_actions`` maps each record's dist name to ``(CacheUrlAction | None,
    ExtractPackageAction | None)``; both None means "already extracted in a cache".
    """

    def __init__(self, link_precs: Iterable[Any], context: Any = None, reporter: Reporter | None = None):
        seen: dict[str, Any] = {}
        for prec in link_precs:
            seen.setdefault(_dist(prec), prec)
        self.link_precs = tuple(seen.values())
        self.context = context
        self.reporter = reporter or Reporter()
        self.paired_actions: dict[str, tuple] = {}
        self._prepared = False
        self._executed = False
        self.errors: list[BaseException] = []

    def __repr__(self) -> str:
        state = "executed" if self._executed else "prepared" if self._prepared else "new"
        return (f"ProgressiveFetchExtract({len(self.link_precs)} packages, "
                f"{len(self.cache_actions)} to fetch, {len(self.extract_actions)} to extract, {state})")

    # -- planning -----------------------------------------------------------------------------
    @property
    def pkgs_dirs(self) -> list[str]:
        dirs = list(_ctx(self.context, "pkgs_dirs", ()) or ())
        if not dirs:
            from conda_deepdive.exceptions import CondaError

            raise CondaError("No package cache configured (context.pkgs_dirs is empty).")
        return [os.path.abspath(os.path.expanduser(d)) for d in dirs]

    @property
    def writable_cache(self) -> PackageCacheData:
        from conda_deepdive.exceptions import NoWritablePkgsDirError

        for d in self.pkgs_dirs:
            cache = PackageCacheData(d)
            if cache.is_writable:
                return cache
        raise NoWritablePkgsDirError(self.pkgs_dirs)

    def _actions_for(self, prec: Any) -> tuple:
        md5, sha256, size = (record_value(prec, k) for k in ("md5", "sha256", "size"))
        label = f"{record_value(prec, 'name')}-{record_value(prec, 'version')}-{record_value(prec, 'build')}"
        check_package_filename(record_value(prec, "fn"), label)
        if (size is not None and (isinstance(size, bool) or not isinstance(size, int))) or any(
                v is not None and not isinstance(v, str) for v in (md5, sha256)):
            from conda_deepdive.exceptions import CondaVerificationError

            raise CondaVerificationError(
                f"The record of {label} has a size, md5 or sha256 of the wrong type "
                f"(size={size!r}, md5={md5!r}, sha256={sha256!r}).")
        for d in self.pkgs_dirs:
            if PackageCacheData(d).get_extracted(prec) is not None:
                return (None, None)
        writable = self.writable_cache
        fn = record_value(prec, "fn")
        dist = strip_pkg_extension(fn)
        extract = None
        tarball = writable.get_valid_tarball(prec)
        if tarball is not None:
            extract = ExtractPackageAction(tarball, writable.pkgs_dir, dist, prec, sha256, size, md5)
            return (None, extract)
        for d in self.pkgs_dirs:
            other = PackageCacheData(d)
            if other.pkgs_dir != writable.pkgs_dir and other.get_valid_tarball(prec):
                url = path_to_url(os.path.join(other.pkgs_dir, fn))
                break
        else:
            url = record_value(prec, "url")
        if not url:
            from conda_deepdive.exceptions import CondaError

            raise CondaError(f"Record {dist} has no url: cannot fetch it.")
        cache = CacheUrlAction(url, writable.pkgs_dir, fn, sha256, size, md5, prec, self.context)
        extract = ExtractPackageAction(cache.target_full_path, writable.pkgs_dir, dist, prec, sha256, size, md5)
        return (cache, extract)

    def prepare(self) -> "ProgressiveFetchExtract":
        if self._prepared:
            return self
        self.paired_actions = {_dist(p): self._actions_for(p) for p in self.link_precs}
        for prec in self.link_precs:
            cache, extract = self.paired_actions[_dist(prec)]
            self.reporter.event(
                "fetch", "plan", package=_dist(prec),
                decision="cached" if extract is None else "extract" if cache is None else "download",
                url=cache.url if cache else None,
            )
        self._prepared = True
        return self

    @property
    def cache_actions(self) -> tuple:
        return tuple(c for c, _ in self.paired_actions.values() if c is not None)

    @property
    def extract_actions(self) -> tuple:
        return tuple(e for _, e in self.paired_actions.values() if e is not None)

    # -- running ------------------------------------------------------------------------------
    def _package_size(self, dist: str) -> int:
        """The record's tarball size (0 when unknown): the unit of the package's progress."""
        sizes = [a.size for a in self.paired_actions.get(dist, ()) if a is not None]
        return next((int(x) for x in sizes if isinstance(x, int) and x > 0), 0)

    def _run_one(self, dist: str) -> BaseException | None:
        cache, extract = self.paired_actions[dist]
        done = []
        try:
            for action in (cache, extract):
                if action is None:
                    continue
                error = action.verify()
                if error:
                    raise error
                started = time.perf_counter()
                task = f"{dist} ({'download' if action is cache else 'extract'})"
                action.execute(progress=lambda d, t, task=task: self.reporter.progress("fetch", task, d, t))
                done.append(action)
                self.reporter.event(
                    "fetch", "action", action=type(action).__name__, package=dist,
                    target=action.target_full_path,
                    duration_seconds=round(time.perf_counter() - started, 6),
                )
            size = self._package_size(dist)
            self.reporter.progress("fetch", dist, size, size)  # this package's bar is full
            return None
        except BaseException as exc:  # undo this package only; others stay cached
            for action in reversed(done):
                try:
                    action.reverse()
                except Exception:  # pragma: no cover - best effort
                    pass
            self.reporter.event("fetch", "failed", package=dist, error=str(exc).splitlines()[0])
            return exc

    def execute(self) -> "ProgressiveFetchExtract":
        """Fetch and extract everything still missing; raise the first error (after undoing)."""
        if self._executed:
            return self
        if not self.link_precs:
            self._executed = True
            return self
        from conda_deepdive.exceptions import CacheLockTimeout, CondaMultiError

        cache = self.writable_cache
        lock = cache.lock(timeout=float(_ctx(self.context, "pkgs_lock_timeout", 600)))
        import filelock

        try:
            lock.acquire(timeout=lock.timeout, poll_interval=0.05)
        except filelock.Timeout as exc:
            raise CacheLockTimeout(f"Timed out waiting for the package cache lock {lock.lock_file}") from exc
        try:
            stale = cache.clean_stale_partials()  # a killed run's leftovers (we hold the lock)
            if stale:
                self.reporter.event("fetch", "stale_partials_removed", pkgs_dir=cache.pkgs_dir, names=stale)
            # Re-plan under the lock: another process may have filled the cache meanwhile.
            self._prepared = False
            self.prepare()
            todo = [d for d, (c, e) in self.paired_actions.items() if c or e]
            # progress("fetch", <dist>, 0, size): one bar per package, largest first like conda's
            # ProgressiveFetchExtract (the "<dist> (download|extract)" tasks carry the details)
            for d in sorted(todo, key=lambda d: -self._package_size(d)):
                self.reporter.progress("fetch", d, 0, self._package_size(d))
            threads = max(1, int(_ctx(self.context, "fetch_threads", 5) or 5))
            if threads == 1 or len(todo) <= 1:
                results = [self._run_one(d) for d in todo]
            else:
                from concurrent.futures import ThreadPoolExecutor

                with ThreadPoolExecutor(max_workers=min(threads, len(todo))) as pool:
                    results = list(pool.map(self._run_one, todo))
            self.errors = [r for r in results if r is not None]
            for d, result in zip(todo, results):
                if result is None:  # success: drop the undo information (held old copies)
                    for action in self.paired_actions[d]:
                        if action is not None:
                            action.cleanup()
        finally:
            lock.release()
        if self.errors:
            if len(self.errors) == 1:
                raise self.errors[0]
            raise CondaMultiError(self.errors)
        self._executed = True
        return self

    def summary(self) -> dict:
        return {
            "packages": [_dist(p) for p in self.link_precs],
            "fetch": [a.url for a in self.cache_actions],
            "extract": [a.target_full_path for a in self.extract_actions],
            "executed": self._executed,
        }
