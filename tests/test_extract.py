"""Stage 8 safety: hostile or broken packages are refused cleanly, nothing half-written remains."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile

import pytest

from test_link_support import copy_cache, make_context, test_env, transaction, warm_pkgs  # noqa: F401

INDEX = {"name": "evil", "version": "1.0", "build": "0", "build_number": 0, "depends": [],
         "subdir": "linux-64", "arch": "x86_64", "platform": "linux", "license": "MIT"}


def _add(tar: tarfile.TarFile, name: str, data: bytes = b"", **attrs) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    info.mtime = 1700000000
    for key, value in attrs.items():
        setattr(info, key, value)
    tar.addfile(info, io.BytesIO(data) if data else None)


def build_tar_bz2(path, members, *, paths_json=True, index=True, files=None):
    """A hand-made .tar.bz2 package: ``members`` is a list of (name, data, attrs)."""
    with tarfile.open(path, "w:bz2") as tar:
        if index:
            _add(tar, "info/index.json", json.dumps(INDEX).encode())
        regular = [m for m in members if not m[2]]
        if paths_json:
            paths = [{"_path": n, "path_type": "hardlink", "sha256": hashlib.sha256(d).hexdigest(),
                      "size_in_bytes": len(d)} for n, d, _ in regular]
            _add(tar, "info/paths.json", json.dumps({"paths": paths, "paths_version": 1}).encode())
        if files is not None:
            _add(tar, "info/files", "".join(f + "\n" for f in files).encode())
        for name, data, attrs in members:
            _add(tar, name, data, **attrs)
    return path


def record_for(path, **overrides):
    from conda_deepdive.models import Channel, PackageRecord

    data = open(path, "rb").read()
    values = dict(name="evil", version="1.0", build="0", build_number=0, subdir="linux-64",
                  fn=os.path.basename(path), url=path.as_uri(), channel=Channel(path.parent.as_uri()),
                  md5=hashlib.md5(data).hexdigest(), sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    values.update(overrides)
    return PackageRecord.from_dict(values)


def _fetch(tmp_path, rec):
    from conda_deepdive.fetch.fetch_extract import ProgressiveFetchExtract

    return ProgressiveFetchExtract([rec], make_context(tmp_path)).execute()


def _cache_is_clean(tmp_path):
    pkgs = tmp_path / "pkgs"
    leftovers = [p.name for p in pkgs.iterdir()] if pkgs.exists() else []
    return [n for n in leftovers if n not in ("urls", "urls.txt", ".conda_deepdive.lock")
            and not n.endswith((".tar.bz2", ".conda"))]


@pytest.mark.parametrize("members, message", [
    ([("../escape.txt", b"x", {})], "contains '..'"),
    ([("lib/../../escape.txt", b"x", {})], "contains '..'"),
    ([("/etc/evil.conf", b"x", {})], "is an absolute path"),
    ([("lib/evil", b"", {"type": tarfile.SYMTYPE, "linkname": "../../outside"})], "escapes the package"),
    ([("lib/tmp", b"", {"type": tarfile.SYMTYPE, "linkname": "/tmp"}), ("lib/tmp/planted", b"x", {})],
     "written through a symlink"),
    ([("dev/null", b"", {"type": tarfile.CHRTYPE})], "device, FIFO"),
    ([("lib/hard", b"", {"type": tarfile.LNKTYPE, "linkname": "../../etc/passwd"})], "contains '..'"),
])
def test_unsafe_members_are_refused(tmp_path, members, message):
    from conda_deepdive.exceptions import SafetyError

    src = tmp_path / "channel"
    src.mkdir()
    pkg = build_tar_bz2(src / "evil-1.0-0.tar.bz2", members)
    prefix = tmp_path / "envs" / "target"
    txn = transaction(prefix, ("evil-1.0-0.tar.bz2",), ctx=make_context(tmp_path), env=test_env(tmp_path),
                      records={"evil-1.0-0.tar.bz2": record_for(pkg)})
    with pytest.raises(SafetyError, match=message):
        txn.execute()
    assert not prefix.exists()
    assert _cache_is_clean(tmp_path) == []
    assert not (tmp_path / "outside").exists() and not (tmp_path / "escape.txt").exists()


def test_checksum_mismatch_names_package_expected_and_actual(tmp_path):
    from conda_deepdive.exceptions import ChecksumMismatchError

    src = tmp_path / "channel"
    src.mkdir()
    pkg = build_tar_bz2(src / "evil-1.0-0.tar.bz2", [("bin/tool", b"#!/bin/sh\n", {})])
    rec = record_for(pkg, sha256="0" * 64)
    with pytest.raises(ChecksumMismatchError) as info:
        _fetch(tmp_path, rec)
    text = str(info.value)
    assert "evil-1.0-0" in text and "expected sha256: " + "0" * 64 in text
    assert "actual sha256: " + hashlib.sha256(pkg.read_bytes()).hexdigest() in text
    assert not (tmp_path / "pkgs" / "evil-1.0-0.tar.bz2").exists()   # not kept
    rec = record_for(pkg, size=3)
    with pytest.raises(ChecksumMismatchError, match="expected size: 3"):
        _fetch(tmp_path, rec)
    assert _cache_is_clean(tmp_path) == []


def test_corrupted_tarball_is_refused(tmp_path):
    from conda_deepdive.exceptions import CorruptedArchiveError

    src = tmp_path / "channel"
    src.mkdir()
    pkg = build_tar_bz2(src / "evil-1.0-0.tar.bz2", [("bin/tool", b"x" * 5000, {})])
    pkg.write_bytes(pkg.read_bytes()[:200])  # truncated download, published with its own hashes
    with pytest.raises(CorruptedArchiveError, match="corrupt package tarball"):
        _fetch(tmp_path, record_for(pkg))
    assert _cache_is_clean(tmp_path) == []


def test_missing_index_json_is_refused(tmp_path):
    from conda_deepdive.exceptions import CorruptedArchiveError

    src = tmp_path / "channel"
    src.mkdir()
    pkg = build_tar_bz2(src / "evil-1.0-0.tar.bz2", [("bin/tool", b"x", {})], index=False)
    with pytest.raises(CorruptedArchiveError, match="info/index.json"):
        _fetch(tmp_path, record_for(pkg))
    assert _cache_is_clean(tmp_path) == []


def test_missing_paths_json_falls_back_to_info_files_like_conda(tmp_path):
    src = tmp_path / "channel"
    src.mkdir()
    pkg = build_tar_bz2(src / "evil-1.0-0.tar.bz2",
                        [("bin/tool", b"#!/bin/sh\necho hi\n", {"mode": 0o755}),
                         ("bin/alias", b"", {"type": tarfile.SYMTYPE, "linkname": "tool"})],
                        paths_json=False, files=["bin/alias", "bin/tool"])
    prefix = tmp_path / "envs" / "old"
    transaction(prefix, ("evil-1.0-0.tar.bz2",), ctx=make_context(tmp_path), env=test_env(tmp_path),
                records={"evil-1.0-0.tar.bz2": record_for(pkg)}).execute()
    meta = json.loads((prefix / "conda-meta" / "evil-1.0-0.json").read_text())
    assert meta["files"] == ["bin/alias", "bin/tool"]
    assert [p["path_type"] for p in meta["paths_data"]["paths"]] == ["softlink", "hardlink"]
    assert os.readlink(prefix / "bin/alias") == "tool"


def test_neither_paths_json_nor_files_is_refused(tmp_path):
    from conda_deepdive.exceptions import CorruptedArchiveError

    src = tmp_path / "channel"
    src.mkdir()
    pkg = build_tar_bz2(src / "evil-1.0-0.tar.bz2", [("bin/tool", b"x", {})], paths_json=False)
    with pytest.raises(CorruptedArchiveError, match="neither info/paths.json nor info/files"):
        _fetch(tmp_path, record_for(pkg))


def test_malformed_conda_archive_from_shared_packages_is_refused(tmp_path):
    from conftest import shared_path

    from conda_deepdive.exceptions import CorruptedArchiveError

    pkg = shared_path("data", "packages", "ca-certificates-2024.7.4-hbcca054_0.conda")
    rec = record_for(pkg, name="ca-certificates", version="2024.7.4", build="hbcca054_0")
    with pytest.raises(CorruptedArchiveError, match="info-ca-certificates-2024.7.4-hbcca054_0"):
        _fetch(tmp_path, rec)
    assert _cache_is_clean(tmp_path) == []


def test_a_tampered_extracted_file_is_caught_at_verify(tmp_path, warm_pkgs):
    from conda_deepdive.exceptions import SafetyError

    copy_cache(warm_pkgs, tmp_path)
    tool = tmp_path / "pkgs" / "softpkg-1.0-0" / "bin" / "softtool"
    tool.write_text("tampered, and longer than before\n")
    prefix = tmp_path / "envs" / "t"
    txn = transaction(prefix, ("softpkg-1.0-0.conda",), ctx=make_context(tmp_path, safety_checks="enabled"),
                      env=test_env(tmp_path))
    with pytest.raises(SafetyError, match="has an incorrect size"):
        txn.execute()
    assert not (prefix / "bin").exists()
