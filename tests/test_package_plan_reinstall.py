"""The "## Package Plan ##" of ``install --force-reinstall``: what conda prints, line for line.

conda's ``UnlinkLinkTransaction._calculate_change_report`` (conda.core.link) files a package
that is unlinked and linked again as the *same record* (``link_prec == unlink_prec``, i.e. equal
``_pkey``) under no heading at all, and ``_change_report_str`` has no "REINSTALLED" section. So a
pure force-reinstall prints the header, the specs and nothing else (a download table only when the
package is missing from the package cache), while ``--json`` lists the package under both UNLINK
and LINK. These tests pin that, and check that ordinary installs/updates still print their sections.

One real environment (``create -p ENV python=3.11`` on the embedded teaching channel) serves the
module; every command goes through the real command line (``cli.main.main``).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from conda_deepdive.cli.main import main
from conda_deepdive.render.notebook import PINNED_VIRTUAL_PACKAGES

pytestmark = pytest.mark.skipif(sys.platform != "linux",
                                reason="the teaching environment (python=3.11) is linux-64 only")

ZLIB = "zlib-1.2.13-h5eee18b_1"


def _env(base: Path, pkgs: Path) -> dict:
    home = base / "home"
    home.mkdir(exist_ok=True)
    return {"HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TMPDIR": str(base),
            "CONDA_PKGS_DIRS": str(pkgs), **PINNED_VIRTUAL_PACKAGES}


def _run(capsys, env: dict, *argv: str) -> tuple[int, str, str]:
    from conda_deepdive.index.index import SubdirData

    SubdirData.clear_memory_cache()  # each command line is a fresh process in real life
    capsys.readouterr()
    rc = main(list(argv), env=env)
    out = capsys.readouterr()
    # human output starts with conda's progress lines (tests/test_install_progress.py): keep the plan
    text = out.out
    cut = text.find("\n## Package Plan ##")
    return rc, (text[cut:] if cut > 0 else text), out.err


class _World:
    def __init__(self, base: Path):
        self.base = base
        self.prefix = base / "env"
        self.pkgs = base / "pkgs"
        self.env = _env(base, self.pkgs)

    def cold_env(self, name: str) -> dict:
        """Same HOME, but an empty package cache: everything linked must be fetched again."""
        return {**self.env, "CONDA_PKGS_DIRS": str(self.base / name)}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from conda_deepdive.index.index import SubdirData

    w = _World(tmp_path_factory.mktemp("reinstall"))
    SubdirData.clear_memory_cache()
    rc = main(["create", "-y", "-q", "-p", str(w.prefix), "python=3.11"], env=w.env)
    assert rc == 0
    assert (w.prefix / "conda-meta" / f"{ZLIB}.json").is_file()
    return w


def _header(prefix: Path, *specs: str) -> list[str]:
    """The printed lines of conda's builder up to the specs' trailing "" element."""
    return ["", "## Package Plan ##", "", f"  environment location: {prefix}", "",
            "  added / updated specs:", *(f"    - {s}" for s in specs), ""]


# every section title is "\n<title>:\n", i.e. a blank line, the title, a blank line
DOWNLOAD_HEAD = ["", "The following packages will be downloaded:", "",
                 "    package                    |            build",
                 "    ---------------------------|-----------------"]
def _download_foot(total: str = "1 KB") -> list[str]:
    return ["    " + "-" * 60, " " * 43 + "Total: %14s" % total]
END = ["", "", ""]  # the builder's two closing "" elements, then print()'s newline


def _plan(stdout: str) -> str:
    """The plan block as printed (before the dry-run exit message)."""
    assert "DryRunExit: Dry run. Exiting." in stdout, stdout
    return stdout.split("\nDryRunExit: Dry run. Exiting.")[0]


# -- force-reinstall ------------------------------------------------------------------------------

def test_force_reinstall_dry_run_prints_only_the_header(capsys, world):
    rc, out, _ = _run(capsys, world.env, "install", "-p", str(world.prefix), "--force-reinstall",
                      "--dry-run", "zlib")
    assert rc == 0
    # header + the two closing "" of the builder + print's newline; no section at all
    assert _plan(out).split("\n") == _header(world.prefix, "zlib") + END
    assert "The following" not in out and "REINSTALL" not in out
    assert "All requested packages already installed" not in out


def test_force_reinstall_json_unlinks_and_links_the_same_record(capsys, world):
    rc, out, _ = _run(capsys, world.env, "install", "-p", str(world.prefix), "--force-reinstall",
                      "--dry-run", "--json", "zlib")
    assert rc == 0
    doc = json.loads(out)
    assert doc["dry_run"] is True and doc["success"] is True
    actions = doc["actions"]
    assert list(actions) == ["FETCH", "LINK", "PREFIX", "UNLINK"]  # sort_keys, as conda dumps it
    assert actions["FETCH"] == []  # zlib is still in the package cache
    assert actions["PREFIX"] == str(world.prefix)
    assert [e["dist_name"] for e in actions["UNLINK"]] == [ZLIB]
    assert actions["LINK"] == actions["UNLINK"]
    assert actions["LINK"][0]["build_number"] == 1 and actions["LINK"][0]["platform"] == "linux-64"


def test_install_force_means_force_reinstall(capsys, world):
    # conda.cli.install solves with force_reinstall=context.force_reinstall or context.force
    rc, out, _ = _run(capsys, world.env, "install", "-p", str(world.prefix), "--force",
                      "--dry-run", "--json", "zlib")
    assert rc == 0
    actions = json.loads(out)["actions"]
    assert [e["dist_name"] for e in actions["UNLINK"]] == [ZLIB]
    assert actions["LINK"] == actions["UNLINK"]
    rc, out, _ = _run(capsys, world.env, "install", "-p", str(world.prefix), "--dry-run", "--json", "zlib")
    assert rc == 0 and json.loads(out)["message"] == "All requested packages already installed."


def test_force_reinstall_with_an_empty_cache_shows_only_the_download_table(capsys, world):
    rc, out, _ = _run(capsys, world.cold_env("pkgs-cold"), "install", "-p", str(world.prefix),
                      "--force-reinstall", "--dry-run", "zlib")
    assert rc == 0
    assert _plan(out).split("\n") == [
        *_header(world.prefix, "zlib"), *DOWNLOAD_HEAD,
        "    zlib-1.2.13                |       h5eee18b_1           1 KB",
        *_download_foot(), *END]
    assert "INSTALLED" not in out and "UPDATED" not in out and "DOWNGRADED" not in out


def test_force_reinstall_next_to_a_new_package_lists_only_the_new_one(capsys, world):
    rc, out, _ = _run(capsys, world.env, "install", "-p", str(world.prefix), "--force-reinstall",
                      "--dry-run", "zlib", "six")
    assert rc == 0
    plan = _plan(out)
    assert plan.split("\n") == [
        *_header(world.prefix, "six", "zlib"), *DOWNLOAD_HEAD,
        "    six-1.16.0                 |     pyhd3eb1b0_1           1 KB",
        *_download_foot(),
        "", "The following NEW packages will be INSTALLED:", "",
        "  six                main/noarch::six-1.16.0-pyhd3eb1b0_1 ",
        *END]
    assert plan.count("zlib") == 1  # only in "added / updated specs"


def test_force_reinstall_really_relinks(capsys, world):
    meta = world.prefix / "conda-meta" / f"{ZLIB}.json"
    os.utime(meta, ns=(10**18, 10**18))  # 2001: any rewrite makes it newer
    rc, out, _ = _run(capsys, world.env, "install", "-y", "-p", str(world.prefix), "--force-reinstall",
                      "zlib")
    assert rc == 0
    assert out.split("\n")[:len(_header(world.prefix, "zlib")) + 3] == _header(world.prefix, "zlib") + END
    assert "The following" not in out
    assert meta.is_file() and meta.stat().st_mtime_ns > 10**18
    record = json.loads(meta.read_text())
    assert record["name"] == "zlib" and record["files"]
    assert all((world.prefix / f).exists() or (world.prefix / f).is_symlink() for f in record["files"])


# -- ordinary installs are unchanged --------------------------------------------------------------

def test_plain_install_of_a_new_package(capsys, world):
    rc, out, _ = _run(capsys, world.env, "install", "-p", str(world.prefix), "--dry-run", "six")
    assert rc == 0
    assert _plan(out).split("\n") == [
        *_header(world.prefix, "six"), *DOWNLOAD_HEAD,
        "    six-1.16.0                 |     pyhd3eb1b0_1           1 KB",
        *_download_foot(),
        "", "The following NEW packages will be INSTALLED:", "",
        "  six                main/noarch::six-1.16.0-pyhd3eb1b0_1 ",
        *END]


def test_python_update_leaves_relinked_noarch_packages_out(capsys, world):
    rc, out, _ = _run(capsys, world.env, "install", "-p", str(world.prefix), "--dry-run", "python=3.12")
    assert rc == 0
    assert _plan(out).split("\n") == [
        *_header(world.prefix, "python=3.12"), *DOWNLOAD_HEAD,
        # pip/setuptools/wheel are relinked too, but from the warm cache: not downloaded
        "    python-3.12.4              |       h5148396_1           2 KB",
        *_download_foot("2 KB"),
        "", "The following packages will be UPDATED:", "",
        "  python                                  3.11.9-h955ad1f_0 --> 3.12.4-h5148396_1 ",
        *END]
    rc, out, _ = _run(capsys, world.env, "install", "-p", str(world.prefix), "--dry-run", "--json",
                      "python=3.12")
    actions = json.loads(out)["actions"]
    relinked = {"pip", "setuptools", "wheel"}  # noarch: python, moved to lib/python3.12
    assert {e["name"] for e in actions["UNLINK"]} == {"python"} | relinked
    assert {e["name"] for e in actions["LINK"]} == {"python"} | relinked


# -- the identity rule itself ---------------------------------------------------------------------

def _rec(build_number: int, build: str = "h5eee18b_1", version: str = "1.2.13",
         channel: str = "https://repo.anaconda.com/pkgs/main"):
    from conda_deepdive.models.records import PackageRecord

    return PackageRecord(name="zlib", version=version, build=build, build_number=build_number,
                         channel=channel, subdir="linux-64")


def _report(unlink, link) -> list[str]:
    from conda_deepdive.transaction.package_plan import change_report
    from conda_deepdive.transaction.transaction import PrefixSetup

    setup = PrefixSetup("/p", (unlink,), (link,), (), ("zlib",), ())
    text = change_report("/p", setup, set())
    return text.split("  added / updated specs:\n    - zlib\n")[1].split("\n")


def test_same_record_is_in_no_section():
    assert _report(_rec(1), _rec(1)) == ["", "", ""]


def test_lower_build_number_with_the_same_build_string_is_a_downgrade():
    # conda compares whole records (_pkey includes build_number), not name-version-build strings;
    # nothing differs in what diff_strs shows, so both sides of the arrow are empty
    lines = _report(_rec(2), _rec(1))
    assert lines == ["", "", "The following packages will be DOWNGRADED:", "",
                     "  zlib" + " " * 15 + " " * 38 + " -->  ", "", ""]


def test_other_channel_same_build_is_superseded():
    lines = _report(_rec(1, channel="https://conda.anaconda.org/conda-forge"), _rec(1))
    assert "The following packages will be SUPERSEDED by a higher-priority channel:" in lines
    assert "  zlib" + " " * 15 + " " * 27 + "conda-forge --> pkgs/main " in lines
