"""No side effects on a real conda installation.

``~/.conda/environments.txt`` is the registry the *real* ``conda env list`` reads. A ``trace``
without ``-p`` works in a throw-away prefix: it must never appear there, and the prefix is gone
at the end unless ``--keep``. An environment the user creates is registered as conda 26.7.1's
``conda.core.envs_manager.register_env`` does it: unless ``register_envs`` is false (condarc or
``CONDA_REGISTER_ENVS``), and ``remove --all`` takes it out again.

Every test runs with its own HOME (the ``env`` fixture), so the real ``~/.conda`` is never read
or written.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conda_deepdive.cli.main import main
from conda_deepdive.render.notebook import teaching_channel

MAIN = teaching_channel("main")


def _run(capsys, env: dict, *argv: str) -> tuple[int, str]:
    from conda_deepdive.index.index import SubdirData

    SubdirData.clear_memory_cache()  # each command is a new process in real life
    rc = main(list(argv), env=env)
    out = capsys.readouterr()
    return rc, out.out + out.err


def _registry(env: dict) -> Path:
    return Path(env["HOME"]) / ".conda" / "environments.txt"


@pytest.fixture
def tenv(env, tmp_path) -> dict:
    """The clean test environment, with temporary directories under tmp_path."""
    return {**env, "TMPDIR": str(tmp_path)}


def test_trace_leaves_nothing_behind(capsys, tenv, tmp_path):
    rc, out = _run(capsys, tenv, "trace", "install", "--override-channels", "-c", MAIN, "numpy")
    assert rc == 0, out
    assert "CONDA_REGISTER_ENVS=false" in out
    assert "temporary environment was removed" in out
    assert list(tmp_path.glob("conda-deepdive-trace-*")) == []
    assert not (Path(tenv["HOME"]) / ".conda").exists()


def test_trace_keep_keeps_the_prefix_but_does_not_register_it(capsys, tenv, tmp_path):
    rc, out = _run(capsys, tenv, "trace", "--keep", "create", "--override-channels", "-c", MAIN, "python")
    assert rc == 0, out
    (root,) = tmp_path.glob("conda-deepdive-trace-*")
    assert (root / "env" / "conda-meta" / "history").is_file()
    assert "rm -rf" in out and "--keep" in out
    assert not _registry(tenv).exists()


def test_trace_with_a_prefix_registers_it_like_create(capsys, tenv, tmp_path):
    prefix = tmp_path / "traced"
    rc, out = _run(capsys, tenv, "trace", "create", "-y", "-p", str(prefix), "--override-channels", "-c", MAIN, "python")
    assert rc == 0, out
    assert prefix.is_dir()  # the user's own prefix: kept, and registered as conda would
    assert _registry(tenv).read_text() == f"{prefix}\n"


def test_create_registers_the_prefix_once(capsys, tenv, tmp_path):
    prefix = tmp_path / "envs" / ".." / "env1"  # registered normalised, as conda does
    rc, out = _run(capsys, tenv, "create", "-y", "-q", "-p", str(prefix), "--override-channels", "-c", MAIN, "python")
    assert rc == 0, out
    assert _registry(tenv).read_text() == f"{tmp_path / 'env1'}\n"
    rc, out = _run(capsys, tenv, "install", "-y", "-q", "-p", str(tmp_path / "env1"), "--override-channels",
                   "-c", MAIN, "zlib")
    assert rc == 0, out
    assert _registry(tenv).read_text() == f"{tmp_path / 'env1'}\n"  # already listed: not again


def test_register_envs_false_from_the_environment(capsys, tenv, tmp_path):
    env = {**tenv, "CONDA_REGISTER_ENVS": "false"}
    rc, out = _run(capsys, env, "create", "-y", "-q", "-p", str(tmp_path / "env1"), "--override-channels",
                   "-c", MAIN, "python")
    assert rc == 0, out
    assert (tmp_path / "env1" / "conda-meta" / "history").is_file()
    assert not _registry(env).exists()


def test_register_envs_false_from_condarc(capsys, tenv, tmp_path):
    (Path(tenv["HOME"]) / ".condarc").write_text("register_envs: false\n")
    rc, out = _run(capsys, tenv, "create", "-y", "-q", "-p", str(tmp_path / "env1"), "--override-channels",
                   "-c", MAIN, "python")
    assert rc == 0, out
    assert not _registry(tenv).exists()
    rc, out = _run(capsys, tenv, "config", "--show", "register_envs")
    assert rc == 0 and out == "register_envs: False\n", out


def test_remove_all_unregisters_the_prefix(capsys, tenv, tmp_path):
    """What conda 26.7.1 does to environments.txt (checked against it): ``remove --all`` drops
    the prefix and, like its ``_clean_environments_txt``, every line that is no environment;
    ``--keep-env`` unregisters and the transaction's register action adds it back."""
    env1, env2, gone = tmp_path / "env1", tmp_path / "env2", str(tmp_path / "gone")
    for prefix in (env1, env2):
        rc, out = _run(capsys, tenv, "create", "-y", "-q", "-p", str(prefix), "--override-channels", "-c", MAIN, "zlib")
        assert rc == 0, out
    with open(_registry(tenv), "a") as fh:
        fh.write(gone + "\n")  # a prefix that no longer exists
    assert _registry(tenv).read_text().splitlines() == [str(env1), str(env2), gone]

    rc, out = _run(capsys, tenv, "remove", "--all", "-y", "-p", str(env1))
    assert rc == 0, out
    assert not env1.exists()
    assert _registry(tenv).read_text() == f"{env2}\n"

    rc, out = _run(capsys, tenv, "remove", "--all", "--keep-env", "-y", "-p", str(env2))
    assert rc == 0, out
    assert (env2 / "conda-meta" / "history").is_file()
    assert _registry(tenv).read_text() == f"{env2}\n"
