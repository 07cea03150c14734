"""Package archives: what conda-build writes, byte for byte reproducible.

A conda package is a compressed tarball of the files to put in the environment plus an
``info/`` directory describing them:

* ``info/index.json`` — the record conda-index copies into ``repodata.json``;
* ``info/paths.json`` — every file with ``path_type`` (``hardlink`` or ``softlink``),
  ``sha256``, ``size_in_bytes`` and, when conda must rewrite the build prefix inside it,
  ``prefix_placeholder`` + ``file_mode`` (``text`` or ``binary``); ``no_link`` marks a file
  that must always be copied;
* ``info/files``, ``info/has_prefix`` and ``info/no_link`` — the older, line-based versions of
  the same facts;
* ``info/link.json`` — for ``noarch: python`` packages, the console entry points conda writes;
* ``info/about.json`` and ``info/run_exports.json``.

Two container formats exist. ``.tar.bz2`` (v1) is one bzip2 tarball with ``info/`` first.
``.conda`` (v2) is an uncompressed zip holding ``metadata.json``, ``pkg-<dist>.tar.zst`` and
``info-<dist>.tar.zst``, so a client can read the small info tarball without decompressing the
payload. Both carry the same members.

What to notice: nothing here reads the clock, the user name or the directory order. Member
mtimes are the package timestamp, owners are 0/0 with empty names, members are sorted, zip
entries carry a fixed 1980 date, JSON is written with sorted keys and compressors run
single-threaded at fixed levels — that is what makes a rebuild byte-identical.
"""

from __future__ import annotations

import bz2
import hashlib
import io
import json
import posixpath
import tarfile
import zipfile

from conda_deepdive.teaching.recipes import PackageSpec, RecipeError
from conda_deepdive.values import value_object

__all__ = ["Member", "BuiltArchive", "BuiltPackage", "build_package", "dumps_json", "read_archive"]

ZSTD_LEVEL = 19
CONDA_BUILD_VERSION = "24.5.1"  # what about.json claims built the package


def dumps_json(obj: object) -> bytes:
    """JSON the way conda-build and conda-index write it: 2-space indent, sorted keys."""
    return json.dumps(obj, indent=2, sort_keys=True).encode()


@value_object(frozen=True)
class Member:
    """One archive member: a regular file (``data``) or a symlink (``linkname``)."""

    path: str
    data: bytes = b""
    mode: int = 0o644
    linkname: str | None = None

    def __repr__(self) -> str:
        kind = f"-> {self.linkname}" if self.linkname is not None else f"{len(self.data)}B {self.mode:o}"
        return f"<Member {self.path} {kind}>"


@value_object(frozen=True)
class BuiltArchive:
    """An archive's bytes and the checksums repodata advertises for it."""

    fn: str
    data: bytes

    @property
    def md5(self) -> str:
        return hashlib.md5(self.data).hexdigest()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def size(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return f"<BuiltArchive {self.fn} {self.size}B sha256={self.sha256[:12]}…>"


@value_object(frozen=True)
class BuiltPackage:
    """One package after building: its index.json record, paths and archives."""

    spec: PackageSpec
    index_json: dict
    paths: tuple[dict, ...]
    archives: tuple[BuiltArchive, ...]

    @property
    def has_text_prefix(self) -> bool:
        return any(p.get("file_mode") == "text" for p in self.paths)

    @property
    def has_binary_prefix(self) -> bool:
        return any(p.get("file_mode") == "binary" for p in self.paths)

    def has_script(self, kind: str) -> bool:
        return any(p["_path"] == f"bin/.{self.spec.name}-{kind}.sh" for p in self.paths)

    def __repr__(self) -> str:
        return f"<BuiltPackage {self.spec.subdir}/{self.spec.dist} {[a.fn for a in self.archives]}>"


def _index_json(spec: PackageSpec) -> dict:
    record: dict = {
        "arch": None if spec.noarch else "x86_64",
        "build": spec.build,
        "build_number": spec.build_number,
        "depends": list(spec.depends),
        "license": spec.license,
        "name": spec.name,
        "platform": None if spec.noarch else "linux",
        "subdir": spec.subdir,
        "timestamp": spec.timestamp,
        "version": spec.version,
    }
    if spec.license_family:
        record["license_family"] = spec.license_family
    if spec.constrains:
        record["constrains"] = list(spec.constrains)
    if spec.track_features:
        record["track_features"] = " ".join(spec.track_features)  # a string, as in repodata
    if spec.noarch:
        record["noarch"] = spec.noarch
    return record


def _paths_entries(spec: PackageSpec) -> list[dict]:
    by_path = {f.path: f for f in spec.files}
    entries = []
    for f in spec.files:
        entry = {
            "_path": f.path,
            "path_type": "hardlink",
            "sha256": hashlib.sha256(f.content).hexdigest(),
            "size_in_bytes": len(f.content),
        }
        if spec.placeholder.encode() in f.content:
            entry["prefix_placeholder"] = spec.placeholder
            # conda-build's rule: a file with a NUL byte is binary, anything else is text
            entry["file_mode"] = "binary" if b"\0" in f.content else "text"
        if f.no_link:
            entry["no_link"] = True
        entries.append(entry)
    for s in spec.symlinks:
        target = posixpath.normpath(posixpath.join(posixpath.dirname(s.path), s.target))
        if s.target.startswith("/") or target not in by_path:
            raise RecipeError(f"recipe {spec.recipe_file} ({spec.dist}): symlink {s.path} -> "
                              f"{s.target} must point at a file of the same package")
        # like conda-build, a link to a file reports the hash and size of the file it points at
        content = by_path[target].content
        entries.append({
            "_path": s.path,
            "path_type": "softlink",
            "sha256": hashlib.sha256(content).hexdigest(),
            "size_in_bytes": len(content),
        })
    return sorted(entries, key=lambda e: e["_path"])


def _about_json(spec: PackageSpec) -> dict:
    about = {
        "channels": [f"https://conda.anaconda.org/{spec.channel.split('/')[-1]}"]
        if spec.channel.startswith("cloud/") else [f"https://repo.anaconda.com/{spec.channel}"],
        "conda_build_version": CONDA_BUILD_VERSION,
        "description": spec.description,
        "home": spec.home,
        "license": spec.license,
        "summary": spec.summary,
        "extra": {"teaching_channel": "conda-deepdive", "recipe": spec.recipe_file},
    }
    if spec.license_family:
        about["license_family"] = spec.license_family
    if spec.dev_url:
        about["dev_url"] = spec.dev_url
    return about


def _info_members(spec: PackageSpec, paths: list[dict]) -> list[Member]:
    files = {
        "info/index.json": dumps_json(_index_json(spec)),
        "info/paths.json": dumps_json({"paths": paths, "paths_version": 1}),
        "info/files": "".join(p["_path"] + "\n" for p in paths).encode(),
        "info/about.json": dumps_json(_about_json(spec)),
    }
    prefixed = [p for p in paths if "prefix_placeholder" in p]
    if prefixed:
        files["info/has_prefix"] = "".join(
            f"{p['prefix_placeholder']} {p['file_mode']} {p['_path']}\n" for p in prefixed).encode()
    no_link = [p["_path"] for p in paths if p.get("no_link")]
    if no_link:
        files["info/no_link"] = "".join(p + "\n" for p in no_link).encode()
    if spec.noarch == "python":
        link = {"noarch": {"type": "python"}, "package_metadata_version": 1}
        if spec.entry_points:
            link["noarch"]["entry_points"] = list(spec.entry_points)
        files["info/link.json"] = dumps_json(link)
    if spec.run_exports:
        files["info/run_exports.json"] = dumps_json(json.loads(spec.run_exports))
    return [Member(p, data) for p, data in sorted(files.items())]


def _payload_members(spec: PackageSpec) -> list[Member]:
    members = [Member(f.path, f.content, 0o755 if f.executable else 0o644) for f in spec.files]
    members += [Member(s.path, mode=0o777, linkname=s.target) for s in spec.symlinks]
    return sorted(members, key=lambda m: m.path)


def _tar(members: list[Member], mtime: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for m in members:
            info = tarfile.TarInfo(m.path)
            info.mtime, info.mode = mtime, m.mode
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if m.linkname is not None:
                info.type, info.linkname = tarfile.SYMTYPE, m.linkname
                tar.addfile(info)
            else:
                info.size = len(m.data)
                tar.addfile(info, io.BytesIO(m.data))
    return buf.getvalue()


def _zstd(data: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdCompressor(level=ZSTD_LEVEL, threads=0).compress(data)


def _zip_entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED  # the tarballs inside are already zstd-compressed
    info.create_system = 3
    info.external_attr = 0o644 << 16
    return info


def write_tar_bz2(info: list[Member], payload: list[Member], mtime: int) -> bytes:
    """The v1 format: one bzip2-compressed tarball, ``info/`` members first."""
    return bz2.compress(_tar(info + payload, mtime), 9)


def write_conda(dist: str, info: list[Member], payload: list[Member], mtime: int) -> bytes:
    """The v2 format: a stored zip of metadata.json, the payload tarball and the info tarball."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(_zip_entry("metadata.json"), b'{"conda_pkg_format_version": 2}')
        zf.writestr(_zip_entry(f"pkg-{dist}.tar.zst"), _zstd(_tar(payload, mtime)))
        zf.writestr(_zip_entry(f"info-{dist}.tar.zst"), _zstd(_tar(info, mtime)))
    return buf.getvalue()


def build_package(spec: PackageSpec) -> BuiltPackage:
    """Build every requested format of one package, entirely in memory."""
    paths = _paths_entries(spec)
    info, payload = _info_members(spec, paths), _payload_members(spec)
    mtime = spec.timestamp // 1000
    archives = []
    for fmt in sorted(spec.formats):
        if fmt == ".conda":
            archives.append(BuiltArchive(spec.dist + fmt, write_conda(spec.dist, info, payload, mtime)))
        else:
            archives.append(BuiltArchive(spec.dist + fmt, write_tar_bz2(info, payload, mtime)))
    return BuiltPackage(spec, _index_json(spec), tuple(paths), tuple(archives))


def read_archive(path) -> dict[str, Member]:
    """Read back every member of a ``.tar.bz2`` or ``.conda`` file (``info/`` included).

    The inverse of the writers above, used by the tests to check what was written. It reads
    the container formats directly (tarfile, zipfile, zstandard) rather than through
    conda-package-handling, so the two can be compared.
    """
    from pathlib import Path

    path = Path(path)
    blobs: list[bytes]
    if path.name.endswith(".tar.bz2"):
        blobs = [bz2.decompress(path.read_bytes())]
    elif path.name.endswith(".conda"):
        import zstandard

        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            inner = [n for n in names if n.endswith(".tar.zst")]
            if "metadata.json" not in names or len(inner) != 2:
                raise RecipeError(f"{path}: not a v2 .conda archive (members {names})")
            blobs = [zstandard.ZstdDecompressor().decompressobj().decompress(zf.read(n)) for n in inner]
    else:
        raise RecipeError(f"{path}: not a .tar.bz2 or .conda file")
    members: dict[str, Member] = {}
    for blob in blobs:
        with tarfile.open(fileobj=io.BytesIO(blob), mode="r:") as tar:
            for info in tar.getmembers():
                if info.issym():
                    members[info.name] = Member(info.name, mode=info.mode, linkname=info.linkname)
                elif info.isfile():
                    members[info.name] = Member(info.name, tar.extractfile(info).read(), info.mode)
    return members
