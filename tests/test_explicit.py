"""Explicit installs (package files, URLs, ``@EXPLICIT`` lists) as conda 26.7.1 does them: no
index, no solve, records from the package files; and ``update`` refusing a version spec."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from conda_deepdive.cli.main import main
from conda_deepdive.config.teaching_defaults import channels_dir
from conda_deepdive.solve.install_flow import NO_SOLVE


SHARED = Path(__file__).resolve().parents[2] / "shared"


def shared_path(*parts: str) -> Path:
    """Path under ``../shared``; skips the test when it is absent (as conftest.shared_path)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"../shared/{'/'.join(parts)} is absent: real-conda reference data not available")
    return path

ZLIB = "zlib-1.2.13-h5eee18b_1.conda"
XZ = "xz-5.4.6-h5eee18b_1.conda"


def run(argv, env, capsys):
    code = main(argv, env=env)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def zlib_file(tmp_path):
    """A package file outside any channel (its directory is no platform subdir)."""
    target = tmp_path / "downloads" / ZLIB
    target.parent.mkdir()
    shutil.copy(channels_dir() / "pkgs" / "main" / "linux-64" / ZLIB, target)
    return target


def meta(prefix, dist):
    return json.loads((prefix / "conda-meta" / f"{dist}.json").read_text())


def test_package_file_installs_without_a_solve(env, tmp_path, zlib_file, capsys):
    prefix = tmp_path / "env"
    code, out, err = run(["create", "-y", "-p", str(prefix), str(zlib_file)], env, capsys)
    assert code == 0, err
    assert "Collecting package metadata" not in out and "Solving environment" not in out
    # conda: fetch first, then the plan, then the usual transaction lines
    assert out.startswith("\nDownloading and Extracting Packages: ...working... done\n\n## Package Plan ##")
    assert "  added / updated specs:\n    - <unknown>/linux-64::zlib==1.2.13=h5eee18b_1\n" in out
    assert "  zlib               <unknown>/linux-64::zlib-1.2.13-h5eee18b_1 " in out
    assert "Executing transaction: ...working... done" in out
    assert "conda activate" in out  # create still prints the activation hint
    record = meta(prefix, "zlib-1.2.13-h5eee18b_1")
    assert record["url"] == zlib_file.as_uri()
    assert record["md5"] == "6cf7aa2817ef4cfbcf74d14eaf15ec70"
    assert record["depends"] == ["libgcc-ng >=11.2.0"]  # not checked: libgcc-ng is not installed
    assert record["requested_spec"] == "<unknown>/linux-64::zlib==1.2.13=h5eee18b_1"
    assert not (prefix / "conda-meta" / "libgcc-ng-11.2.0-h1234c5_1.json").exists()
    history = (prefix / "conda-meta" / "history").read_text()
    assert "+<unknown>/linux-64::zlib-1.2.13-h5eee18b_1\n" in history
    assert "# update specs: ['<unknown>/linux-64::zlib==1.2.13=h5eee18b_1']" in history
    cached = json.loads((tmp_path / "pkgs" / "zlib-1.2.13-h5eee18b_1" / "info" / "repodata_record.json").read_text())
    assert cached["channel"] == "<unknown>" and cached["size"] == zlib_file.stat().st_size


def test_url_from_a_channel_subdir_keeps_its_channel(env, tmp_path, capsys):
    prefix = tmp_path / "env"
    assert run(["create", "-y", "-q", "-p", str(prefix), "zlib"], env, capsys)[0] == 0
    url = (channels_dir() / "pkgs" / "main" / "linux-64" / XZ).as_uri()
    code, out, err = run(["install", "-y", "-p", str(prefix), url], env, capsys)
    assert code == 0, err
    assert "Proceed" not in out
    # the URL's channel is the teaching 'defaults' member pkgs/main
    history = (prefix / "conda-meta" / "history").read_text().split("==>")[-1]
    assert "# update specs: ['defaults/linux-64::xz==5.4.6=h5eee18b_1']" in history
    # installing the very same package again changes nothing, but conda still runs the steps
    code, out, _ = run(["install", "-y", "-p", str(prefix), url], env, capsys)
    assert code == 0 and "INSTALLED" not in out and "Executing transaction: ...working... done" in out


def test_explicit_list_round_trip_from_list_explicit(env, tmp_path, capsys):
    first = tmp_path / "first"
    assert run(["create", "-y", "-q", "-p", str(first), "zlib"], env, capsys)[0] == 0
    code, listing, _ = run(["list", "-p", str(first), "--explicit", "--md5"], env, capsys)
    assert code == 0 and "@EXPLICIT" in listing
    spec_file = tmp_path / "spec.txt"
    spec_file.write_text(listing)
    second = tmp_path / "second"
    code, out, err = run(["create", "-y", "-p", str(second), "--file", str(spec_file)], env, capsys)
    assert code == 0, err
    assert "Solving environment" not in out
    names = lambda p: sorted(f for f in os.listdir(p / "conda-meta") if f.endswith(".json"))  # noqa: E731
    assert names(second) == names(first)


def test_dry_run_stops_before_fetching(env, tmp_path, zlib_file, capsys):
    code, out, err = run(["create", "--dry-run", "-p", str(tmp_path / "env"), str(zlib_file)], env, capsys)
    assert code == 0 and out == "" and "DryRunExit: Dry run. Exiting." in err
    assert not (tmp_path / "pkgs" / ZLIB).exists() and not (tmp_path / "env").exists()


def test_json_prints_no_document(env, tmp_path, zlib_file, capsys):
    code, out, err = run(["create", "-y", "--json", "-p", str(tmp_path / "env"), str(zlib_file)], env, capsys)
    assert code == 0 and out == "", err
    assert (tmp_path / "env" / "conda-meta" / "zlib-1.2.13-h5eee18b_1.json").exists()


def test_names_and_explicit_packages_do_not_mix(env, tmp_path, zlib_file, capsys):
    code, _, err = run(["create", "-y", "-p", str(tmp_path / "env"), str(zlib_file), "numpy"], env, capsys)
    assert code == 1
    assert ("CondaValueError: Cannot combine package names with explicit package lists. Package "
            "names (python, numpy) are resolved by the solver; explicit files and URLs are "
            "installed directly. Use only package names, or only explicit files/URLs.") in err


def test_md5_fragment_is_checked(env, tmp_path, zlib_file, capsys):
    good = tmp_path / "good.txt"
    good.write_text(f"@EXPLICIT\n{zlib_file.as_uri()}#6cf7aa2817ef4cfbcf74d14eaf15ec70\n")
    assert run(["create", "-y", "-q", "-p", str(tmp_path / "a"), "--file", str(good)], env, capsys)[0] == 0
    bad = tmp_path / "bad.txt"
    bad.write_text(f"@EXPLICIT\n{zlib_file.as_uri()}#{'0' * 32}\n")
    env = {**env, "CONDA_PKGS_DIRS": str(tmp_path / "other-pkgs")}
    code, _, err = run(["create", "-y", "-q", "-p", str(tmp_path / "b"), "--file", str(bad)], env, capsys)
    assert code == 1 and "ChecksumMismatchError" in err and "expected md5: " + "0" * 32 in err


def test_unparseable_line(env, tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("@EXPLICIT\nhttps://example.invalid/not-a-package.zip\n")
    code, _, err = run(["create", "-y", "-p", str(tmp_path / "env"), "--file", str(bad)], env, capsys)
    assert code == 1 and "ParseError: Could not parse explicit URL: https://example.invalid/not-a-package.zip" in err


def test_update_refuses_explicit_packages_and_version_specs(env, tmp_path, zlib_file, capsys):
    prefix = tmp_path / "env"
    assert run(["create", "-y", "-q", "-p", str(prefix), "zlib"], env, capsys)[0] == 0
    code, _, err = run(["update", "-p", str(prefix), str(zlib_file)], env, capsys)
    assert code == 1
    assert ("CondaUpdatePackageError: `conda update` only supports name-only spec, but received: \n"
            "    - <unknown>/linux-64::zlib==1.2.13=h5eee18b_1\n"
            "Use `conda install` to install a specific version of a package.") in err
    code, _, err = run(["update", "-p", str(prefix), "zlib=1.2"], env, capsys)
    assert code == 1
    assert ("CondaUpdatePackageError: `conda update` only supports name-only spec, but received: "
            "zlib=1.2\nUse `conda install` to install a specific version of a package.") in err
    code, out, _ = run(["update", "-p", str(prefix), "zlib=1.2", "--json"], env, capsys)
    doc = json.loads(out)
    assert doc["exception_name"] == "CondaUpdatePackageError"
    assert doc["exception_type"] == "<class 'conda.exceptions.CondaUpdatePackageError'>"
    assert doc["message"].startswith("`conda update` only supports name-only spec, but received: zlib=1.2")


def test_session_shows_no_solve(env, tmp_path, zlib_file):
    from conda_deepdive.pipeline import Session
    from conda_deepdive.reporting import RecordingReporter
    from conda_deepdive.transaction.explicit import ExplicitPackages, NoSolve

    rec = RecordingReporter()
    session = Session(["create", "-y", "-p", str(tmp_path / "env"), str(zlib_file)], env=env, reporter=rec)
    session.run()
    assert session.explicit
    assert isinstance(session.results["index"], ExplicitPackages)
    for stage in ("priority", "specs", "reduce"):
        assert isinstance(session.results[stage], NoSolve)
        assert session.results[stage].summary() == {"skipped": True, "reason": NO_SOLVE}
    solve = session.results["solve"].summary()
    assert solve["attempts"] == [] and solve["outcome"]["reason"] == NO_SOLVE
    assert solve["link"] == ["<unknown>/linux-64::zlib-1.2.13-h5eee18b_1"]
    assert ("context", "explicit_request") in [(e.stage, e.kind) for e in rec.events]
    json.dumps(session.summary())  # everything is JSON data
    assert (tmp_path / "env" / "lib" / "libz.so.1.2.13").exists()


def test_trace_renders_no_solve(env, tmp_path, zlib_file, capsys):
    code, out, err = run(["trace", "create", "-y", "-p", str(tmp_path / "env"), str(zlib_file)], env, capsys)
    assert code == 0, err
    assert out.count(NO_SOLVE) >= 5
    assert "Dependencies not checked: libgcc-ng >=11.2.0" in out


def test_shared_packages_conda_and_tar_bz2(env, tmp_path, capsys):
    small = shared_path("data", "packages", "small-executable-1.0-0.conda")
    data = shared_path("data", "packages", "cph_test_data-0.0.1-0.tar.bz2")
    prefix = tmp_path / "env"
    code, out, err = run(["create", "-y", "-p", str(prefix), str(small), str(data)], env, capsys)
    assert code == 0, err
    assert meta(prefix, "small-executable-1.0-0")["fn"] == "small-executable-1.0-0.conda"
    assert meta(prefix, "cph_test_data-0.0.1-0")["fn"] == "cph_test_data-0.0.1-0.tar.bz2"
    assert "<unknown>/" in out and "Solving environment" not in out


def test_explain_says_why_without_a_solver(env, tmp_path, zlib_file, capsys):
    code, out, err = run(["explain", "create", "-p", str(tmp_path / "env"), str(zlib_file)], env, capsys)
    assert code == 0, err
    assert "named exactly by the request" in out
    assert not (tmp_path / "env").exists()


def test_an_installed_version_is_replaced(env, tmp_path, capsys):
    prefix = tmp_path / "env"
    assert run(["create", "-y", "-q", "-p", str(prefix), "zlib"], env, capsys)[0] == 0
    old = channels_dir() / "pkgs" / "free" / "linux-64" / "zlib-1.2.8-3.tar.bz2"
    code, out, err = run(["install", "-y", "-p", str(prefix), old.as_uri()], env, capsys)
    assert code == 0, err
    # the same words as conda 26.7.1: main::zlib-1.2.13 --> free::zlib-1.2.8
    assert "The following packages will be SUPERSEDED by a higher-priority channel:" in out
    assert "main::zlib-1.2.13-h5eee18b_1 --> free::zlib-1.2.8-3" in out
    assert (prefix / "conda-meta" / "zlib-1.2.8-3.json").exists()
    assert not (prefix / "conda-meta" / "zlib-1.2.13-h5eee18b_1.json").exists()
    history = (prefix / "conda-meta" / "history").read_text().split("==>")[-1]
    assert "-defaults/linux-64::zlib-1.2.13-h5eee18b_1" in history
    assert "+defaults/linux-64::zlib-1.2.8-3" in history
