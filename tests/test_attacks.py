"""A hostile channel (issue 12, part A): everything a channel supplies is untrusted.

Each test builds hand-made packages with :mod:`malicious_channel`, installs them through the CLI
(in-process, ``cli.main.main``) into an existing environment, and checks the same three things:

* the command exits 1 with **one** error line, and that line names the package;
* a sentinel directory *outside* the prefix and the package cache is unchanged, byte for byte
  (contents, modes, mtimes);
* the prefix is unchanged (the same tree digest as before the command).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from malicious_channel import Dir, Fifo, File, HardLink, HostileChannel, Link, Pkg, tree_digest

from conda_deepdive.cli.main import main


ERROR_LINE = re.compile(r"^[A-Z][A-Za-z]*(Error|Exception|Interrupt|Timeout)\b.*:")


@pytest.fixture()
def world(tmp_path):
    """A channel with a harmless ``base`` package, an environment holding it, and a sentinel
    directory beside them that no command may touch."""
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "HOME": str(home), "PATH": "/usr/bin:/bin", "CONDA_PKGS_DIRS": str(tmp_path / "pkgs"),
        "CONDA_OVERRIDE_GLIBC": "2.28", "CONDA_OVERRIDE_LINUX": "5.15",
        "CONDA_OVERRIDE_ARCHSPEC": "x86_64", "CONDA_OVERRIDE_CUDA": "", "CONDA_SUBDIR": "linux-64",
        "CONDA_ADD_PIP_AS_PYTHON_DEPENDENCY": "false",
    }
    sentinel = tmp_path / "sentinel"
    (sentinel / "victimdir").mkdir(parents=True)
    (sentinel / "victimdir" / "keep.txt").write_text("the user's file\n")
    (sentinel / "secret.txt").write_text("secret\n")
    os.chmod(sentinel / "secret.txt", 0o600)
    chan = HostileChannel(tmp_path / "chan")
    chan.add(Pkg("base", members=[File("share/base.txt", b"base\n")]))
    return World(tmp_path, env, chan, sentinel, tmp_path / "env")


class World:
    def __init__(self, root, env, chan, sentinel, prefix):
        self.root, self.env, self.chan, self.sentinel, self.prefix = root, env, chan, sentinel, prefix

    def run(self, capsys, *argv: str, json_mode: bool = False):
        capsys.readouterr()
        args = list(argv) + ["-y", "-p", str(self.prefix), "-c", self.chan.url, "--override-channels"]
        if json_mode:
            args.append("--json")
        rc = main(args, env=self.env)
        out, err = capsys.readouterr()
        return rc, out, err

    def create_base(self, capsys, *extra: str):
        self.chan.write()
        rc, out, err = self.run(capsys, "create", "base", *extra)
        assert rc == 0, err

    def attack(self, capsys, spec: str, package: str | None = None, *, error: str | None = None,
               setup=None):
        """Create the env, then install ``spec``: exit 1, one error line naming the package,
        sentinel and prefix unchanged. Returns the error line."""
        self.create_base(capsys)
        if setup:
            setup()
        sentinel_before = tree_digest(self.sentinel)
        prefix_before = tree_digest(self.prefix)
        rc, out, err = self.run(capsys, "install", spec)
        lines = [ln for ln in err.splitlines() if ERROR_LINE.match(ln)]
        assert rc == 1, (rc, out, err)
        assert len(lines) == 1, err
        assert "Traceback" not in err + out
        assert (package or spec) in lines[0], lines[0]
        if error:
            assert lines[0].startswith(error + ":"), lines[0]
        assert tree_digest(self.sentinel) == sentinel_before, "something outside the prefix changed"
        assert tree_digest(self.prefix) == prefix_before, "the prefix changed"
        # the same refusal with --json: conda's error document on stdout, nothing else there
        rc, out, err = self.run(capsys, "install", spec, json_mode=True)
        doc = json.loads(out)
        assert rc == 1 and doc["exception_name"] == lines[0].split(":")[0], doc
        assert doc["message"].splitlines()[0] in lines[0] and "Traceback" not in err
        assert tree_digest(self.sentinel) == sentinel_before and tree_digest(self.prefix) == prefix_before
        return lines[0]


def _python(chan):
    """A stand-in python 3.11 (no interpreter: no pyc work), so noarch: python can be linked."""
    chan.add(Pkg("python", version="3.11.0", members=[File("share/python-stub.txt", b"py\n")]))


# ---------------------------------------------------------------------------------------------
# filenames from repodata


@pytest.mark.parametrize("fn", ["../../victimdir.tar.bz2", "sub/evil-1.0-0.tar.bz2", "ABSOLUTE",
                                ".tar.bz2", "evil-1.0-0.zip"])
def test_repodata_filename_must_be_a_plain_name(world, capsys, fn):
    if fn == "ABSOLUTE":
        fn = str(world.sentinel / "victimdir.tar.bz2")
    world.chan.add(Pkg("evil", members=[File("share/evil.txt", b"x")], record={"fn": fn},
                       physical_name="linux-64/evil-real.tar.bz2"))
    line = world.attack(capsys, "evil", error="SafetyError")
    assert repr(fn) in line
    assert not any(p.name.startswith("victimdir") for p in (world.root / "pkgs").iterdir()
                   if p.name != "victimdir")
    assert (world.sentinel / "victimdir" / "keep.txt").read_text() == "the user's file\n"


# ---------------------------------------------------------------------------------------------
# paths.json / info/files / has_prefix


@pytest.mark.parametrize("path", ["../sentinel/pwn.txt", "ABSOLUTE", "share/../../sentinel/pwn.txt",
                                  "", ".", "a\x00b"])
def test_paths_json_path_must_stay_in_the_prefix(world, capsys, path):
    if path == "ABSOLUTE":
        path = str(world.sentinel / "secret.txt")
    world.chan.add(Pkg("evil", members=[File("share/evil.txt", b"x")],
                       paths=[{"_path": path, "path_type": "hardlink", "size_in_bytes": 1}]))
    world.attack(capsys, "evil", error="CondaVerificationError")


@pytest.mark.parametrize("entry", [
    {"_path": "share/evil.txt", "path_type": "banana"},
    {"_path": "share/evil.txt", "size_in_bytes": "1"},
    {"_path": "share/evil.txt", "prefix_placeholder": "", "file_mode": "text"},
    {"_path": "share/evil.txt", "prefix_placeholder": "/opt/x", "file_mode": "weird"},
    {"_path": 5},
    "share/evil.txt",
])
def test_paths_json_fields_of_the_wrong_type(world, capsys, entry):
    world.chan.add(Pkg("evil", members=[File("share/evil.txt", b"x")], paths=[entry]))
    world.attack(capsys, "evil", error="CondaVerificationError")


def test_paths_json_not_json_or_nested_too_deep(world, capsys):
    world.chan.add(Pkg("evil", members=[File("share/evil.txt", b"x")],
                       paths=b'{"paths": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"))
    line = world.attack(capsys, "evil", error="CondaVerificationError")
    assert "nested too deeply" in line


@pytest.mark.parametrize("files, has_prefix", [
    (b"../sentinel/pwn.txt\n", None),
    (b"share/evil.txt\n", b"/opt/ph text ../sentinel/secret.txt\n"),
    (b"share/evil.txt\n", b'"/opt/ph text share/evil.txt\n'),
])
def test_old_packages_files_and_has_prefix(world, capsys, files, has_prefix):
    info = {"info/files": files}
    if has_prefix is not None:
        info["info/has_prefix"] = has_prefix
    world.chan.add(Pkg("evil", members=[File("share/evil.txt", b"x")], info=info,
                       drop_info=("info/paths.json",)))
    world.attack(capsys, "evil", error="CondaVerificationError")


# ---------------------------------------------------------------------------------------------
# symlinks


def _escaping_pair():
    """``a/b/c/l -> ../../..`` (the package root) and ``m -> a/b/c/l/../..``: each target stays
    inside the package when read as text, but ``m`` really resolves two levels above it."""
    return [Dir("a"), Dir("a/b"), Dir("a/b/c"), Link("a/b/c/l", "../../.."), Link("m", "a/b/c/l/../..")]


def test_symlink_chain_leading_out_is_refused(world, capsys):
    """Each target reads as inside the package; as the kernel resolves them, ``m`` leads out."""
    world.chan.add(Pkg("linker", members=_escaping_pair()))
    line = world.attack(capsys, "linker", error="CondaVerificationError")
    assert "'m'" in line


def test_write_through_another_packages_symlink_in_one_transaction(world, capsys):
    world.chan.add(Pkg("linker", members=_escaping_pair()))
    world.chan.add(Pkg("writer", depends=("linker",),
                       members=[File("m/sentinel/pwn.txt", b"pwned\n")]))
    world.attack(capsys, "writer", "linker", error="CondaVerificationError")


def test_write_through_a_symlink_chain_already_in_the_prefix(world, capsys):
    """Say an older tool linked ``linker``: its symlinks are on disk; ``writer`` must not use them."""
    world.chan.add(Pkg("writer", members=[File("m/sentinel/pwn.txt", b"pwned\n")]))

    def plant():
        (world.prefix / "a" / "b" / "c").mkdir(parents=True)
        os.symlink("../../..", world.prefix / "a" / "b" / "c" / "l")
        os.symlink("a/b/c/l/../..", world.prefix / "m")
    world.attack(capsys, "writer", error="CondaVerificationError", setup=plant)


def test_write_through_a_symlink_already_in_the_prefix(world, capsys):
    world.chan.add(Pkg("writer", members=[File("share/lnk/pwn.txt", b"pwned\n")]))
    world.attack(capsys, "writer", error="CondaVerificationError",
                 setup=lambda: os.symlink(world.sentinel, world.prefix / "share" / "lnk"))


def test_noarch_python_writes_through_a_symlink_via_the_site_packages_mapping(world, capsys):
    """``site-packages/pwn.txt`` goes to ``lib/python3.11/site-packages/pwn.txt`` — through
    the package's own ``lib`` symlink, which the package layout did not show."""
    _python(world.chan)
    members = [Dir("x"), Link("x/y", ".."), Link("lib", "x/y/.."),
               File("site-packages/pwn.txt", b"pwned\n")]
    world.chan.add(Pkg("sneaky", noarch="python", subdir="noarch", depends=("python",),
                       build="pyh_0", members=members))

    def install_python():
        rc, out, err = world.run(capsys, "install", "python")
        assert rc == 0, err
    world.attack(capsys, "sneaky", error="CondaVerificationError", setup=install_python)


def test_absolute_symlink_to_a_directory_is_refused(world, capsys):
    """conda copies an absolute symlink's target; a directory cannot be copied that way."""
    world.chan.add(Pkg("linker", members=[Link("share/lnk", "SENTINEL")]))
    world.chan.pkgs[-1].members[0].target = str(world.sentinel)
    world.attack(capsys, "linker", error="CondaVerificationError")


def test_absolute_symlink_is_linked_as_a_copy_of_its_target(world, capsys):
    target = world.sentinel / "secret.txt"
    world.chan.add(Pkg("softish", members=[Link("bin/sh-copy", "/bin/sh"), Link("bin/rel", "sh-copy")]))
    world.create_base(capsys)
    before = tree_digest(world.sentinel)
    rc, out, err = world.run(capsys, "install", "softish")
    assert rc == 0, err
    copy = world.prefix / "bin" / "sh-copy"
    assert not copy.is_symlink() and copy.read_bytes() == Path("/bin/sh").read_bytes()
    assert os.readlink(world.prefix / "bin" / "rel") == "sh-copy"
    record = json.loads(next((world.prefix / "conda-meta").glob("softish-*.json")).read_text())
    kinds = {p["_path"]: p["path_type"] for p in record["paths_data"]["paths"]}
    assert kinds == {"bin/sh-copy": "softlink", "bin/rel": "softlink"}
    assert tree_digest(world.sentinel) == before and target.read_text() == "secret\n"


# ---------------------------------------------------------------------------------------------
# extraction


def test_hard_link_member_to_an_absolute_symlink(world, capsys):
    secret = world.sentinel / "secret.txt"
    world.chan.add(Pkg("evil", members=[Link("bin/abs", str(secret)), HardLink("bin/h", "bin/abs")]))
    line = world.attack(capsys, "evil", error="SafetyError")
    assert "hard link" in line
    assert oct(secret.stat().st_mode & 0o777) == oct(0o600)


def test_member_written_onto_an_earlier_symlink(world, capsys):
    secret = world.sentinel / "secret.txt"
    world.chan.add(Pkg("evil", members=[Link("share/x", str(secret)), File("share/x", b"pwned\n", 0o777)]))
    world.attack(capsys, "evil", error="SafetyError")


@pytest.mark.parametrize("members", [
    [Link("share/lnk", "SENTINEL"), File("share/lnk/pwn.txt", b"pwned\n")],
    [File("/abs/pwn.txt", b"x")],
    [File("../pwn.txt", b"x")],
    [Fifo("share/fifo")],
    [Link("share/up", "../../..")],
], ids=["through-symlink", "absolute", "dotdot", "fifo", "relative-escape"])
def test_archive_members(world, capsys, members):
    for m in members:
        if isinstance(m, Link) and m.target == "SENTINEL":
            m.target = str(world.sentinel)
    world.chan.add(Pkg("evil", members=members))
    world.attack(capsys, "evil", error="SafetyError")


@pytest.mark.parametrize("ext", [".conda", ".tar.bz2"])
def test_truncated_archive(world, capsys, ext):
    good = Pkg("evil", members=[File("share/evil.txt", b"x" * 5000)], ext=ext).archive()
    world.chan.add(Pkg("evil", ext=ext, raw_archive=good[: len(good) // 2]))
    world.attack(capsys, "evil", error="CorruptedArchiveError")


def test_truncated_conda_json_error_document(world, capsys):
    good = Pkg("evil", members=[File("share/evil.txt", b"x" * 5000)], ext=".conda").archive()
    world.chan.add(Pkg("evil", ext=".conda", raw_archive=good[:300]))
    world.create_base(capsys)
    rc, out, err = world.run(capsys, "install", "evil", json_mode=True)
    assert rc == 1
    doc = json.loads(out)
    assert doc["exception_name"] == "CorruptedArchiveError" and "evil-1.0-0.conda" in doc["message"]
    assert "Traceback" not in err


def test_index_json_nested_too_deep(world, capsys):
    world.chan.add(Pkg("evil", members=[File("share/evil.txt", b"x")],
                       info={"info/index.json": b"[" * 100_000 + b"]" * 100_000}))
    # the channel's record is fine; the package's own index.json is not
    world.chan.pkgs[-1].index_json  # noqa: B018 - repodata is still written from index_json()
    world.attack(capsys, "evil", error="CorruptedArchiveError")


# ---------------------------------------------------------------------------------------------
# names: entry points, link scripts


@pytest.mark.parametrize("command", ["..", "../../sentinel/pwn", "."])
def test_entry_point_name_must_be_a_plain_file_name(world, capsys, command):
    _python(world.chan)
    link = {"noarch": {"type": "python", "entry_points": [f"{command} = mod:main"]}, "package_metadata_version": 1}
    world.chan.add(Pkg("eppkg", noarch="python", subdir="noarch", depends=("python",), build="pyh_0",
                       members=[File("site-packages/mod.txt", b"x")],
                       info={"info/link.json": json.dumps(link).encode()}))

    def install_python():
        rc, out, err = world.run(capsys, "install", "python")
        assert rc == 0, err
    world.attack(capsys, "eppkg", error="CondaVerificationError", setup=install_python)


def test_noarch_banana(world, capsys):
    world.chan.add(Pkg("evil", members=[File("share/evil.txt", b"x")],
                       info={"info/index.json": json.dumps({"name": "evil", "version": "1.0", "build": "0",
                                                            "build_number": 0, "noarch": "banana",
                                                            "depends": []}).encode()}))
    world.attack(capsys, "evil", error="CondaUpgradeError")


# ---------------------------------------------------------------------------------------------
# disk full


def _enospc(*args, **kwargs):
    raise OSError(28, "No space left on device")


def test_disk_full_while_extracting(world, capsys, monkeypatch):
    import tarfile

    world.chan.add(Pkg("big", members=[File("share/big.txt", b"x" * 1000)]))
    world.create_base(capsys)
    before = tree_digest(world.prefix)
    monkeypatch.setattr(tarfile.TarFile, "makefile", _enospc)
    rc, out, err = world.run(capsys, "install", "big")
    lines = [ln for ln in err.splitlines() if ERROR_LINE.match(ln)]
    assert rc == 1 and lines == ["NoSpaceLeftError: No space left on devices."], err
    assert tree_digest(world.prefix) == before
    assert not [p for p in (world.root / "pkgs").iterdir() if p.name.endswith(".partial")]


def test_disk_full_while_rewriting_a_placeholder(world, capsys, monkeypatch):
    import shutil as shutil_mod

    placeholder = "/opt/anaconda1anaconda2anaconda3"
    data = f"#!/bin/sh\necho {placeholder}\n".encode()
    world.chan.add(Pkg("ph", members=[File("bin/ph", data, 0o755)],
                       paths=[{"_path": "bin/ph", "path_type": "hardlink", "prefix_placeholder": placeholder,
                               "file_mode": "text", "size_in_bytes": len(data)}]))
    world.create_base(capsys)
    before = tree_digest(world.prefix)
    real_copy2 = shutil_mod.copy2

    def copy2(src, dst, *a, **k):
        if ".condatmp" in str(dst):
            _enospc()
        return real_copy2(src, dst, *a, **k)
    monkeypatch.setattr(shutil_mod, "copy2", copy2)
    rc, out, err = world.run(capsys, "install", "ph")
    lines = [ln for ln in err.splitlines() if ERROR_LINE.match(ln)]
    assert rc == 1 and len(lines) == 1 and lines[0].startswith("NoSpaceLeftError:"), err
    before.pop(".condatmp", None)
    after = tree_digest(world.prefix)
    after.pop(".condatmp", None)
    assert after == before


# ---------------------------------------------------------------------------------------------
# repodata and condarc of the wrong shape


def _repodata(world, subdir: str = "linux-64") -> dict:
    world.chan.write()
    return json.loads((world.chan.root / subdir / "repodata.json").read_text())


@pytest.mark.parametrize("field, value", [
    ("size", "909"), ("noarch", "banana"), ("track_features", 5),
    ("depends", "python"), ("build_number", "zero"), ("name", 7), ("md5", 12), ("timestamp", "now"),
    ("depends", [5]), ("constrains", {"a": 1}),
])
def test_repodata_record_field_of_the_wrong_type(world, capsys, field, value):
    world.chan.add(Pkg("evil", members=[File("share/evil.txt", b"x")]))
    repodata = _repodata(world)
    record = repodata["packages"]["evil-1.0-0.tar.bz2"]
    record[field] = value
    world.chan.repodata_override["linux-64"] = repodata
    world.create_base(capsys)
    prefix_before, sentinel_before = tree_digest(world.prefix), tree_digest(world.sentinel)
    rc, out, err = world.run(capsys, "install", "evil")
    lines = [ln for ln in err.splitlines() if ERROR_LINE.match(ln)]
    assert "Traceback" not in out + err
    assert rc == 1 and len(lines) == 1, err
    assert tree_digest(world.prefix) == prefix_before and tree_digest(world.sentinel) == sentinel_before


@pytest.mark.parametrize("shape", ["packages.conda-string", "packages-list", "record-list", "top-list",
                                   "deep", "info-string"])
def test_repodata_of_the_wrong_shape(world, capsys, shape):
    world.create_base(capsys)
    repodata = _repodata(world)
    if shape == "packages.conda-string":
        repodata["packages.conda"] = "oops"
    elif shape == "packages-list":
        repodata["packages"] = [1, 2]
    elif shape == "record-list":
        repodata["packages"]["base-1.0-0.tar.bz2"] = ["x"]
    elif shape == "info-string":
        repodata["info"] = "linux-64"
    elif shape == "top-list":
        repodata = [repodata]
    raw = (b"[" * 100_000 + b"]" * 100_000) if shape == "deep" else json.dumps(repodata).encode()
    world.chan.repodata_override["linux-64"] = raw
    world.chan.write()
    (world.chan.root / "linux-64" / "repodata.json").write_bytes(raw)
    prefix_before = tree_digest(world.prefix)
    rc, out, err = world.run(capsys, "install", "base")
    lines = [ln for ln in err.splitlines() if ERROR_LINE.match(ln)]
    assert "Traceback" not in out + err
    assert rc == 1 and len(lines) == 1, err
    assert tree_digest(world.prefix) == prefix_before
    rc, out, err = world.run(capsys, "install", "base", json_mode=True)
    assert rc == 1 and json.loads(out)["exception_name"], out


def test_condarc_nested_too_deep(world, capsys):
    world.create_base(capsys)
    condarc = world.root / "home" / ".condarc"
    condarc.write_text("channels: " + "[" * 100_000 + "]" * 100_000 + "\n")
    rc, out, err = world.run(capsys, "install", "base")
    lines = [ln for ln in err.splitlines() if ERROR_LINE.match(ln)]
    assert "Traceback" not in out + err
    assert rc == 1 and len(lines) == 1 and ".condarc" in err, err
    condarc.write_text("channels:\n" + "".join("  " * i + "- \n" for i in range(1, 3000)))
    rc, out, err = world.run(capsys, "install", "base", json_mode=True)
    assert "Traceback" not in out + err
    assert rc == 1 and json.loads(out)["exception_name"], out


@pytest.mark.parametrize("path", ["conda-meta/forged-1.0-0.json", "conda-meta", ".condatmp/x"])
def test_package_may_not_ship_condas_bookkeeping(world, capsys, path):
    world.chan.add(Pkg("evil", members=[File(path, b"{}")]))
    world.attack(capsys, "evil", error="CondaVerificationError")


def test_entry_point_through_a_package_made_bin_symlink(world, capsys):
    _python(world.chan)
    link = {"noarch": {"type": "python", "entry_points": ["pwn = mod:main"]}, "package_metadata_version": 1}
    members = [Dir("x"), Link("x/y", ".."), Link("bin", "x/y/.."), File("site-packages/mod.txt", b"x")]
    world.chan.add(Pkg("eppkg", noarch="python", subdir="noarch", depends=("python",), build="pyh_0",
                       members=members, info={"info/link.json": json.dumps(link).encode()}))

    def install_python():
        rc, out, err = world.run(capsys, "install", "python")
        assert rc == 0, err
    world.attack(capsys, "eppkg", error="CondaVerificationError", setup=install_python)


def test_disk_full_anywhere_is_no_space_left_error(world, capsys, monkeypatch):
    import conda_deepdive.cli.parser as parser

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(parser, "do_call", full)
    rc, out, err = world.run(capsys, "install", "base")
    assert rc == 1 and err.strip() == "NoSpaceLeftError: No space left on devices.", err
    rc, out, err = world.run(capsys, "install", "base", json_mode=True)
    assert rc == 1 and json.loads(out)["exception_name"] == "NoSpaceLeftError"


@pytest.mark.parametrize("path", ["share//x.txt", "./share/x.txt", "share/x.txt/", "share/sub"])
def test_paths_json_odd_paths(world, capsys, path):
    world.chan.add(Pkg("evil", members=[File("share/x.txt", b"x"), Dir("share/sub")],
                       paths=[{"_path": path, "path_type": "hardlink"}]))
    world.attack(capsys, "evil", error="CondaVerificationError")


@pytest.mark.parametrize("version", [5, 1.5])
def test_repodata_version_written_as_a_number_is_read_as_text_like_conda(world, capsys, version):
    """conda 26.7.1 installs such a record (checked against the real thing), as version ``str(v)``."""
    world.chan.add(Pkg("numbered", members=[File("share/n.txt", b"n")]))
    repodata = _repodata(world)
    repodata["packages"]["numbered-1.0-0.tar.bz2"]["version"] = version
    world.chan.repodata_override["linux-64"] = repodata
    world.create_base(capsys)
    rc, out, err = world.run(capsys, "install", "numbered")
    assert rc == 0, err
    record = json.loads(next((world.prefix / "conda-meta").glob("numbered-*.json")).read_text())
    assert record["version"] == str(version)


def test_pyc_through_a_package_made_pycache_symlink(world, capsys):
    """``__pycache__ -> l/../../..`` stays inside the package as text, but in the prefix (where
    site-packages is two levels deeper) it leads out: compileall must never write through it."""
    _python(world.chan)
    members = [File("site-packages/evil/mod.py", b"x = 1\n"), Link("site-packages/evil/l", "../.."),
               Link("site-packages/evil/__pycache__", "l/../../..")]
    world.chan.add(Pkg("pycevil", noarch="python", subdir="noarch", depends=("python",), build="pyh_0",
                       members=members))

    def install_python():
        rc, out, err = world.run(capsys, "install", "python")
        assert rc == 0, err
    world.attack(capsys, "pycevil", error="CondaVerificationError", setup=install_python)
