"""``clean``: what stage 8 leaves in the package cache, found and removed as conda 26.7.1 does."""

from __future__ import annotations

import json
import os

import pytest

from conda_deepdive.cli.main import main


def run(argv, env, capsys):
    code = main(argv, env=env)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def installed(env, tmp_path, capsys):
    assert main(["create", "-y", "-q", "-p", str(tmp_path / "env"), "zlib"], env=env) == 0
    capsys.readouterr()
    # the index stage may have served repodata from its in-process cache: make sure there is one
    (tmp_path / "pkgs" / "cache").mkdir(exist_ok=True)
    return env, tmp_path / "pkgs"


def test_nothing_to_clean(env, capsys, tmp_path):
    (tmp_path / "pkgs").mkdir()
    code, out, err = run(["clean", "--all", "-y"], env, capsys)
    assert code == 0
    assert out.splitlines() == ["There are no unused tarball(s) to remove.",
                                "There are no index cache(s) to remove.",
                                "There are no unused package(s) to remove.",
                                "There are no tempfile(s) to remove.",
                                "There are no logfile(s) to remove."]


def test_no_target_is_an_argument_error(env, capsys):
    code, _, err = run(["clean"], env, capsys)
    assert code == 2
    assert "At least one removal target must be given. See 'conda clean --help'." in err


def test_dry_run_lists_and_keeps(installed, capsys):
    env, pkgs = installed
    before = sorted(os.listdir(pkgs))
    code, out, err = run(["clean", "--all", "--dry-run"], env, capsys)
    assert code == 0
    tarballs = [f for f in before if f.endswith(".conda")]
    assert f"Will remove {len(tarballs)} (" in out and ") tarball(s)." in out
    assert "Will remove 1 index cache(s)." in out
    assert "DryRunExit: Dry run. Exiting." in err
    assert sorted(os.listdir(pkgs)) == before


def test_verbose_lists_each_tarball_with_its_size(installed, capsys):
    env, pkgs = installed
    _, out, _ = run(["clean", "--tarballs", "--dry-run", "-v"], env, capsys)
    assert out.startswith(f"Will remove the following tarball(s):\n  {pkgs}\n  {'-' * len(str(pkgs))}\n")
    assert "  - zlib-" in out and "\n-----------------\nTotal: " in out


def test_tarballs_and_index_cache_removed_packages_in_use_kept(installed, capsys):
    env, pkgs = installed
    code, out, _ = run(["clean", "--tarballs", "--index-cache", "--packages", "-y"], env, capsys)
    assert code == 0
    left = os.listdir(pkgs)
    assert not any(f.endswith((".conda", ".tar.bz2")) for f in left)
    assert "cache" not in left
    # zlib's files are hard-linked into the environment: in use, so its directory stays
    assert any(f.startswith("zlib-") and os.path.isdir(pkgs / f) for f in left)


def test_json_document_and_no_output_lines(installed, capsys):
    env, pkgs = installed
    code, out, _ = run(["clean", "--all", "--json", "--dry-run"], env, capsys)
    doc = json.loads(out)
    assert code == 0
    assert list(doc) == ["success", "tarballs", "index_cache", "packages", "tempfiles", "logfiles"]
    assert doc["index_cache"] == {"files": [str(pkgs / "cache")]}
    assert set(doc["tarballs"]) == {"warnings", "pkg_sizes", "pkgs_dirs", "total_size"}
    assert doc["tarballs"]["total_size"] == sum(doc["tarballs"]["pkg_sizes"][str(pkgs)].values())


def test_prompt_no_keeps_everything(installed, capsys, monkeypatch):
    import io

    env, pkgs = installed
    before = sorted(os.listdir(pkgs))
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    code, out, err = run(["clean", "--tarballs"], env, capsys)
    assert code == 0 and "Proceed ([y]/n)? " in out and "CondaSystemExit: Exiting." in err  # conda: 0
    assert sorted(os.listdir(pkgs)) == before


def test_tempfiles_and_logfiles(env, capsys, tmp_path):
    target = tmp_path / "someenv" / "lib"
    target.mkdir(parents=True)
    (target / "old.so.c~").write_text("x")
    (tmp_path / "pkgs" / ".logs").mkdir(parents=True)
    (tmp_path / "pkgs" / ".logs" / "a.log").write_text("x")
    code, out, _ = run(["clean", "-c", str(tmp_path / "someenv"), "--logfiles", "-y", "-v"], env, capsys)
    assert code == 0
    assert f"Removed {target / 'old.so.c~'}" in out and f"Removed {tmp_path / 'pkgs' / '.logs' / 'a.log'}" in out
    assert not (target / "old.so.c~").exists()


def test_force_pkgs_dirs_lists_the_whole_cache(installed, capsys):
    env, pkgs = installed
    code, out, _ = run(["clean", "--force-pkgs-dirs", "--dry-run", "-v"], env, capsys)
    assert code == 0
    assert out == f"Will remove the following package cache(s):\n  - {pkgs}\n\n"
    assert pkgs.exists()
