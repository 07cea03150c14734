"""A tiny builder of *hostile* conda channels, for the attack tests (issue 12).

The teaching channel builder (``conda_deepdive.teaching``) only writes well-formed packages; an
attacker does not. Here every byte of an archive is under the test's control: members may be
absolute, climb with ``..``, be symlinks to anywhere, hard links to symlinks, FIFOs; ``paths.json``
may say anything; a repodata key may be ``../../victimdir.tar.bz2`` while the record's ``url``
points at the real file.

    chan = HostileChannel(tmp_path / "chan")
    chan.add(Pkg("evil", members=[File("share/x", b"hi")], paths=[{"_path": "../x", ...}]))
    url = chan.write()          # repodata.json for linux-64 and noarch, archives, file:// URL

Nothing here is imported by the package itself.
"""

from __future__ import annotations

import bz2
import hashlib
import io
import json
import os
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zstandard

__all__ = ["File", "Link", "HardLink", "Dir", "Fifo", "Pkg", "HostileChannel", "tar_bytes"]


@dataclass
class File:
    name: str
    data: bytes = b""
    mode: int = 0o644


@dataclass
class Link:
    """A symlink member ``name -> target``."""

    name: str
    target: str


@dataclass
class HardLink:
    """A hard-link member ``name`` => ``target`` (a member name)."""

    name: str
    target: str


@dataclass
class Dir:
    name: str


@dataclass
class Fifo:
    name: str


def _tarinfo(m) -> tuple[tarfile.TarInfo, bytes | None]:
    ti = tarfile.TarInfo(m.name)
    ti.mtime = 1_700_000_000
    data = None
    if isinstance(m, File):
        ti.size, ti.mode, data = len(m.data), m.mode, m.data
    elif isinstance(m, Link):
        ti.type, ti.linkname, ti.mode = tarfile.SYMTYPE, m.target, 0o777
    elif isinstance(m, HardLink):
        ti.type, ti.linkname, ti.mode = tarfile.LNKTYPE, m.target, 0o644
    elif isinstance(m, Dir):
        ti.type, ti.mode = tarfile.DIRTYPE, 0o755
    elif isinstance(m, Fifo):
        ti.type, ti.mode = tarfile.FIFOTYPE, 0o644
    return ti, data


def tar_bytes(members) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for m in members:
            ti, data = _tarinfo(m)
            tar.addfile(ti, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Pkg:
    """One package. ``paths`` replaces the generated ``paths.json`` entries (a list of dicts, or
    raw bytes for the whole file); ``info`` adds/replaces ``info/*`` members (name -> bytes);
    ``record`` overrides repodata fields (``fn`` included: the repodata key)."""

    name: str
    version: str = "1.0"
    build: str = "0"
    members: list = field(default_factory=list)
    paths: Any = None
    info: dict = field(default_factory=dict)
    record: dict = field(default_factory=dict)
    ext: str = ".tar.bz2"
    subdir: str = "linux-64"
    noarch: str | None = None
    depends: tuple = ()
    drop_info: tuple = ()          # info/ members to leave out (e.g. "info/paths.json")
    raw_archive: bytes | None = None  # the archive's bytes as they are (e.g. truncated)
    physical_name: str | None = None  # where the archive is written, relative to the channel root

    @property
    def dist(self) -> str:
        return f"{self.name}-{self.version}-{self.build}"

    def index_json(self) -> dict:
        out = {"name": self.name, "version": self.version, "build": self.build, "build_number": 0,
               "depends": list(self.depends), "subdir": self.subdir, "license": "BSD"}
        if self.noarch:
            out["noarch"] = self.noarch
        return out

    def paths_json(self) -> bytes:
        if isinstance(self.paths, (bytes, bytearray)):
            return bytes(self.paths)
        if self.paths is not None:
            entries = self.paths
        else:
            entries = []
            for m in self.members:
                if isinstance(m, File):
                    entries.append({"_path": m.name, "path_type": "hardlink", "sha256": _sha(m.data),
                                    "size_in_bytes": len(m.data)})
                elif isinstance(m, (Link, HardLink)):
                    entries.append({"_path": m.name,
                                    "path_type": "softlink" if isinstance(m, Link) else "hardlink"})
        return json.dumps({"paths": entries, "paths_version": 1}, indent=2).encode()

    def info_members(self) -> list:
        info = {"info/index.json": json.dumps(self.index_json()).encode(),
                "info/paths.json": self.paths_json()}
        info.update({k if k.startswith("info/") else f"info/{k}": v for k, v in self.info.items()})
        return [File(k, v) for k, v in sorted(info.items()) if k not in self.drop_info]

    def archive(self) -> bytes:
        if self.raw_archive is not None:
            return self.raw_archive
        info, payload = self.info_members(), list(self.members)
        if self.ext == ".tar.bz2":
            return bz2.compress(tar_bytes(info + payload))
        cctx = zstandard.ZstdCompressor(level=3)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
            zf.writestr("metadata.json", json.dumps({"conda_pkg_format_version": 2}))
            zf.writestr(f"info-{self.dist}.tar.zst", cctx.compress(tar_bytes(info)))
            zf.writestr(f"pkg-{self.dist}.tar.zst", cctx.compress(tar_bytes(payload)))
        return buf.getvalue()


class HostileChannel:
    """A ``file://`` channel with ``linux-64`` and ``noarch`` subdirs."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.pkgs: list[Pkg] = []
        self.repodata_override: dict[str, Any] = {}   # subdir -> raw bytes or dict

    @property
    def url(self) -> str:
        return self.root.as_uri()

    def add(self, *pkgs: Pkg) -> "HostileChannel":
        self.pkgs.extend(pkgs)
        return self

    def write(self) -> str:
        repodata: dict[str, dict] = {}
        for subdir in ("linux-64", "noarch"):
            (self.root / subdir).mkdir(parents=True, exist_ok=True)
            repodata[subdir] = {"info": {"subdir": subdir}, "packages": {}, "packages.conda": {},
                                "repodata_version": 1}
        for pkg in self.pkgs:
            data = pkg.archive()
            real_fn = pkg.dist + pkg.ext
            physical = self.root / (pkg.physical_name or f"{pkg.subdir}/{real_fn}")
            physical.parent.mkdir(parents=True, exist_ok=True)
            physical.write_bytes(data)
            record = dict(pkg.index_json())
            record.update(md5=hashlib.md5(data).hexdigest(), sha256=_sha(data), size=len(data),
                          timestamp=1_700_000_000_000)
            if pkg.physical_name:
                record["url"] = physical.as_uri()
            record.update(pkg.record)
            fn = record.pop("fn", real_fn)
            key = "packages.conda" if fn.endswith(".conda") else "packages"
            if pkg.record.get("fn") is not None:
                record["fn"] = fn
            repodata[pkg.subdir][key][fn] = record
        for subdir, body in repodata.items():
            override = self.repodata_override.get(subdir)
            raw = override if isinstance(override, (bytes, bytearray)) else json.dumps(
                override if override is not None else body, indent=1).encode()
            (self.root / subdir / "repodata.json").write_bytes(raw)
        return self.url


def tree_digest(root: Path) -> dict:
    """Every path under ``root`` (not following symlinks) -> (kind, mode, content or target)."""
    out = {}
    root = Path(root)
    if not root.exists():
        return {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            full = Path(dirpath) / name
            rel = str(full.relative_to(root))
            st = os.lstat(full)
            if full.is_symlink():
                out[rel] = ("link", os.readlink(full))
            elif full.is_dir():
                out[rel] = ("dir", st.st_mode)
            else:
                out[rel] = ("file", st.st_mode, st.st_mtime_ns, full.read_bytes())
    return out
