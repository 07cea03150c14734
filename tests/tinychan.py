"""A tiny channel of hand-made ``.tar.bz2`` packages, for tests that run the real CLI.

``build_channel(root, [Pkg("pa", "1", files={"share/pa/v.txt": "1"}), ...])`` writes
``root/linux-64/*.tar.bz2`` + ``repodata.json`` and an empty ``root/noarch/repodata.json``.
A package may carry link scripts (``scripts={"post-link": "echo hi > $PREFIX/.messages.txt"}``).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Pkg:
    name: str
    version: str
    build: str = "0"
    depends: tuple = ()
    files: dict = field(default_factory=dict)      # short path -> text
    scripts: dict = field(default_factory=dict)    # "pre-link"/"post-link"/"pre-unlink" -> bash
    size_lies: dict = field(default_factory=dict)  # short path -> size_in_bytes paths.json claims

    @property
    def fn(self) -> str:
        return f"{self.name}-{self.version}-{self.build}.tar.bz2"


def _add(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, 1700000000
    tar.addfile(info, io.BytesIO(data))


def build_package(pkg: Pkg) -> bytes:
    payload = {p: t.encode() for p, t in pkg.files.items()}
    modes = {p: 0o644 for p in payload}
    for action, body in pkg.scripts.items():
        path = f"bin/.{pkg.name}-{action}.sh"
        payload[path] = body.encode()
        modes[path] = 0o755
    index = {"name": pkg.name, "version": pkg.version, "build": pkg.build, "build_number": 0,
             "depends": list(pkg.depends), "subdir": "linux-64", "arch": "x86_64", "platform": "linux",
             "license": "BSD", "timestamp": 1700000000000}
    paths = {"paths": [{"_path": p, "path_type": "hardlink", "sha256": hashlib.sha256(d).hexdigest(),
                        "size_in_bytes": pkg.size_lies.get(p, len(d))} for p, d in sorted(payload.items())], "paths_version": 1}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:bz2") as tar:
        _add(tar, "info/index.json", json.dumps(index).encode())
        _add(tar, "info/paths.json", json.dumps(paths).encode())
        _add(tar, "info/files", "".join(p + "\n" for p in sorted(payload)).encode())
        for p, d in sorted(payload.items()):
            _add(tar, p, d, modes[p])
    return buf.getvalue()


def build_channel(root: Path, packages: list[Pkg]) -> str:
    """Write the channel; returns its ``file://`` URL."""
    sub = Path(root) / "linux-64"
    sub.mkdir(parents=True, exist_ok=True)
    records = {}
    for pkg in packages:
        data = build_package(pkg)
        (sub / pkg.fn).write_bytes(data)
        records[pkg.fn] = {"name": pkg.name, "version": pkg.version, "build": pkg.build, "build_number": 0,
                           "depends": list(pkg.depends), "subdir": "linux-64", "license": "BSD",
                           "md5": hashlib.md5(data).hexdigest(), "sha256": hashlib.sha256(data).hexdigest(),
                           "size": len(data), "timestamp": 1700000000000}
    (sub / "repodata.json").write_text(json.dumps({"info": {"subdir": "linux-64"}, "packages": records,
                                                   "packages.conda": {}, "repodata_version": 1}))
    noarch = Path(root) / "noarch"
    noarch.mkdir(parents=True, exist_ok=True)
    (noarch / "repodata.json").write_text(json.dumps({"info": {"subdir": "noarch"}, "packages": {},
                                                      "packages.conda": {}, "repodata_version": 1}))
    return Path(root).resolve().as_uri()


def cli_env(base: Path, **extra: str) -> dict:
    """An environment for ``python -m conda_deepdive`` subprocesses: own HOME and package cache."""
    home = Path(base) / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONDA")}
    env.update(HOME=str(home), CONDA_PKGS_DIRS=str(Path(base) / "pkgs"), CONDA_SUBDIR="linux-64",
               CONDA_OVERRIDE_GLIBC="2.28", CONDA_OVERRIDE_LINUX="5.15", CONDA_OVERRIDE_CUDA="",
               CONDA_OVERRIDE_ARCHSPEC="x86_64", PYTHONHASHSEED="0")
    env.update(extra)
    return env


def channel_args(url: str) -> list[str]:
    return ["--override-channels", "-c", url, "--repodata-fn", "repodata.json"]
