"""``remove --all`` / ``--keep-env`` and the errors of ``remove``, as conda 26.7.1's main_remove."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tinychan import Pkg, build_channel, channel_args, cli_env

WAIT = 60


@pytest.fixture(scope="module")
def chan(tmp_path_factory):
    base = tmp_path_factory.mktemp("rm")
    return build_channel(base / "chan", [Pkg("pa", "1", files={"share/pa.txt": "a"}),
                                         Pkg("pc", "1", files={"share/pc.txt": "c"})])


@pytest.fixture()
def env_pa(chan, tmp_path):
    env = cli_env(tmp_path)
    prefix = tmp_path / "envs" / "e"
    done = subprocess.run([sys.executable, "-m", "conda_deepdive", "create", "-y", "-p", str(prefix), "pa", "pc",
                           *channel_args(chan)], env=env, capture_output=True, text=True, timeout=WAIT)
    assert done.returncode == 0, done.stderr
    return chan, env, prefix


def _main(capsys, *argv, env):
    from conda_deepdive.cli.main import main

    rc = main(list(argv), env=env)
    out, err = capsys.readouterr()
    return rc, out, err


def test_remove_all_removes_the_environment(env_pa, capsys):
    url, env, prefix = env_pa
    envs_txt = prefix.parent.parent / "home" / ".conda" / "environments.txt"
    rc, out, err = _main(capsys, "remove", "-y", "-p", str(prefix), "--all", *channel_args(url), env=env)
    assert rc == 0, err
    assert out.startswith(f"\nRemove all packages in environment {prefix}:\n\n")
    assert "The following packages will be REMOVED:\n\n  pa-1-0\n  pc-1-0\n" in out
    assert out.endswith("Executing transaction: ...working... done\n")
    assert not prefix.exists()
    assert not envs_txt.exists() or str(prefix) not in envs_txt.read_text()


def test_remove_all_keep_env_keeps_history(env_pa, capsys):
    url, env, prefix = env_pa
    rc, out, err = _main(capsys, "remove", "-y", "-p", str(prefix), "--all", "--keep-env", env=env)
    assert rc == 0, err
    assert sorted(p.name for p in (prefix / "conda-meta").iterdir()) == ["created_at", "history"]
    assert not (prefix / "share").exists()
    # an environment with no packages: conda's note, then the directory goes
    rc, out, err = _main(capsys, "remove", "-y", "-p", str(prefix), "--all", env=env)
    assert rc == 0 and f"No packages found in {prefix}. Continuing environment removal" in out
    assert not prefix.exists()


def test_remove_all_dry_run_and_json(env_pa, capsys):
    url, env, prefix = env_pa
    rc, out, err = _main(capsys, "remove", "--dry-run", "-p", str(prefix), "--all", env=env)
    assert rc == 0 and "DryRunExit: Dry run. Exiting." in err and prefix.exists()
    rc, out, err = _main(capsys, "remove", "--dry-run", "--json", "-p", str(prefix), "--all", env=env)
    doc = json.loads(out)
    assert rc == 0 and doc["dry_run"] is True and [d["name"] for d in doc["actions"]["UNLINK"]] == ["pa", "pc"]
    rc, out, err = _main(capsys, "remove", "-y", "--json", "-p", str(prefix), "--all", env=env)
    assert rc == 0 and json.loads(out)["success"] is True and not prefix.exists()


@pytest.mark.parametrize("argv, name, text", [
    (["nosuch"], "PackagesNotFoundInPrefixError",
     "The following packages are missing from the target environment:\n  prefix: {prefix}\n\n  - nosuch\n"),
    (["zz", "pa", "aa"], "PackagesNotFoundInPrefixError",
     "The following packages are missing from the target environment:\n  prefix: {prefix}\n\n  - aa\n  - zz\n"),
    ([], "CondaValueError", 'no package names supplied,\n       try "conda remove -h" for more details'),
])
def test_remove_errors_as_conda(env_pa, capsys, argv, name, text):
    url, env, prefix = env_pa
    for json_flag in ((), ("--json",)):
        rc, out, err = _main(capsys, "remove", "-y", *json_flag, "-p", str(prefix), *argv, env=env)
        assert rc == 1
        if json_flag:
            doc = json.loads(out)
            assert doc["exception_name"] == name and doc["message"] == text.format(prefix=prefix)
            if name == "PackagesNotFoundInPrefixError":
                assert doc["package_name"] == sorted(set(argv) - {"pa"})
                assert doc["packages_formatted"].startswith("\n  - ") and "packages" not in doc
        else:
            # checked before any solve: no "Collecting package metadata" line
            assert out == "" and err == f"\n{name}: {text.format(prefix=prefix)}\n\n"


def test_remove_on_a_directory_or_nothing(tmp_path, capsys):
    env = cli_env(tmp_path)
    plain = tmp_path / "plain"
    (plain / "conda-meta").mkdir(parents=True)
    for extra in (["pa"], ["--all"]):
        rc, out, err = _main(capsys, "remove", "-y", "-p", str(plain), *extra, env=env)
        assert rc == 1 and err == (
            "\nDirectoryNotACondaEnvironmentError: The target directory exists, but it is not a conda "
            "environment.\nUse 'conda create' to convert the directory to a conda environment.\n"
            f"  target directory: {plain}\n\n\n")
        rc, out, err = _main(capsys, "remove", "-y", "-p", str(tmp_path / "missing"), *extra, env=env)
        assert rc == 1 and err == f"\nEnvironmentLocationNotFound: Not a conda environment: {tmp_path / 'missing'}\n\n"
