"""``config --set/--add/--prepend/--append/--remove/--remove-key/--get`` write and read one condarc
as conda 26.7.1 does (outputs below were captured from real conda 26.7.1), and the seed's recipe
— mirror, five ``config`` commands — ends with an offline install from the mirror.

Every test gets its own HOME (``env`` fixture): the real ~/.condarc is never touched.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from conda_deepdive.cli.main import main


def run(env, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(list(argv), env=env)
    return rc, out.getvalue(), err.getvalue()


def condarc(env) -> str:
    return (Path(env["HOME"]) / ".condarc").read_text()


def test_seed_commands_write_and_get_like_conda(env):
    assert run(env, "config", "--set", "channel_alias", "file:///x/anaconda/pkgs")[0] == 0
    for name in ("free", "pro", "main", "conda-forge"):
        assert run(env, "config", "--add", "channels", name)[0] == 0
    # conda 26.7.1 edits the file, whose channels never listed defaults
    rc, out, err = run(env, "config", "--remove", "channels", "defaults")
    assert rc == 1 and "CondaKeyError: 'channels': value 'defaults' not present in config" in err
    assert run(env, "config", "--set", "offline", "True")[0] == 0
    assert condarc(env) == (
        "channel_alias: file:///x/anaconda/pkgs\n"
        "channels:\n"
        "  - conda-forge\n"
        "  - main\n"
        "  - pro\n"
        "  - free\n"
        "offline: true\n"
    )
    rc, out, err = run(env, "config", "--get")
    assert rc == 0 and out == (
        "--set channel_alias file:///x/anaconda/pkgs\n"
        "--add channels 'free'   # lowest priority\n"
        "--add channels 'pro'\n"
        "--add channels 'main'\n"
        "--add channels 'conda-forge'   # highest priority\n"
        "--set offline True\n"
    )
    rc, out, _ = run(env, "config", "--get", "channels", "offline")
    assert out.splitlines()[0] == "--add channels 'free'   # lowest priority"
    assert out.splitlines()[-1] == "--set offline True"


def test_json_get_and_warnings(env):
    run(env, "config", "--set", "channel_alias", "file:///x/anaconda/pkgs")
    rc, out, _ = run(env, "config", "--json", "--get", "channel_alias")
    doc = json.loads(out)
    assert doc == {"success": True, "rc_path": str(Path(env["HOME"]) / ".condarc"), "warnings": [],
                   "get": {"channel_alias": "file:///x/anaconda/pkgs"}}
    run(env, "config", "--add", "channels", "free")
    rc, out, err = run(env, "config", "--add", "channels", "free")
    assert rc == 0 and err == "Warning: 'free' already in 'channels' list, moving to the top\n"
    rc, out, err = run(env, "config", "--append", "channels", "free")
    assert err == "Warning: 'free' already in 'channels' list, moving to the bottom\n"
    rc, out, err = run(env, "config", "--get", "nonexist")
    assert rc == 0 and out == "" and err == "Unknown key: 'nonexist'\n"


def test_errors_like_conda(env):
    rc, _, err = run(env, "config", "--remove-key", "nope")
    assert rc == 1 and "CondaKeyError: 'nope': undefined in config" in err
    rc, _, err = run(env, "config", "--set", "nope", "1")
    assert rc == 1 and err.startswith("Unknown key: 'nope'\n") and "CondaKeyError: 'nope': unknown parameter" in err
    rc, _, err = run(env, "config", "--set", "channels", "x")
    assert rc == 1 and "CondaKeyError: 'channels': invalid parameter" in err
    rc, out, _ = run(env, "config", "--json", "--remove", "channels", "zz")
    doc = json.loads(out)
    assert rc == 1 and doc["exception_name"] == "CondaKeyError" and doc["key"] == "channels"
    assert doc["msg"] == "'channels': value 'zz' not present in config"


@pytest.mark.parametrize("text, reason", [
    ("channels: {a: [1\n", "invalid yaml at line 2, column 1"),
    ("- a\n- b\n", "the top level must be a mapping of settings (key: value), got seq"),
    ("a: " + "[" * 100_000 + "\n", "nested too deeply"),
])
def test_a_broken_file_is_one_error_and_stays_as_it_was(env, tmp_path, text, reason):
    """A condarc that --add/--set must edit but cannot read: one ConfigurationLoadError naming the
    file and what is wrong, no traceback, and the file is left byte for byte."""
    rc_file = tmp_path / "broken.yml"
    rc_file.write_text(text)
    rc, out, err = run(env, "config", "--file", str(rc_file), "--add", "channels", "x")
    assert rc == 1 and "Traceback" not in err
    assert err.strip().startswith("ConfigurationLoadError: Unable to load configuration file.")
    assert f"path: {rc_file}" in err and reason in err
    assert rc_file.read_text() == text


def test_maps_file_env_system_and_round_trip(env, tmp_path):
    rc_file = tmp_path / "my.condarc"
    rc_file.write_text("# my settings\nchannels:  # the order matters\n  - conda-forge\nssl_verify: false\n")
    assert run(env, "config", "--file", str(rc_file), "--set", "custom_channels.conda-forge",
               "file:///y/cloud")[0] == 0
    assert run(env, "config", "--file", str(rc_file), "--prepend", "channels", "main")[0] == 0
    text = rc_file.read_text()
    assert text.startswith("# my settings\nchannels:  # the order matters\n  - main\n  - conda-forge\n")
    assert "custom_channels:\n  conda-forge: file:///y/cloud\n" in text
    rc, out, _ = run(env, "config", "--file", str(rc_file), "--get", "custom_channels")
    assert out == "--set custom_channels.conda-forge file:///y/cloud\n"
    assert run(env, "config", "--file", str(rc_file), "--remove-key", "custom_channels.conda-forge")[0] == 0
    assert "conda-forge: file" not in rc_file.read_text()
    # --env: the active environment's .condarc; --system: the root prefix's
    prefix = tmp_path / "active"
    prefix.mkdir()
    assert run({**env, "CONDA_PREFIX": str(prefix)}, "config", "--env", "--set", "always_yes", "yes")[0] == 0
    assert (prefix / ".condarc").read_text() == "always_yes: true\n"
    root = tmp_path / "root"
    root.mkdir()
    assert run({**env, "CONDA_ROOT_PREFIX": str(root)}, "config", "--system", "--set", "offline", "true")[0] == 0
    assert (root / ".condarc").read_text() == "offline: true\n"
    assert not (Path(env["HOME"]) / ".condarc").exists()


@pytest.mark.slow
def test_seed_recipe_installs_offline_from_the_mirror(env, tmp_path, monkeypatch):
    """The seed's whole recipe on the bundled channels: mirror main, free and conda-forge into
    ./anaconda, the seed's config commands, then an offline install from the mirror — after the
    custom_channels line the mirror prints (the seed's channel_alias alone misses conda-forge)."""
    monkeypatch.chdir(tmp_path)
    for name in ("main", "free", "conda-forge"):
        rc, out, err = run(env, "mirror", "--upstream-channel", name, "--platform", "linux-64", "-q")
        assert rc == 0, out + err
    root = (tmp_path / "anaconda").resolve()
    assert "custom_channels:\n      conda-forge: " + (root / "cloud").as_uri() in \
        run(env, "mirror", "--upstream-channel", "conda-forge", "--platform", "linux-64")[1]
    real = {**env, "CONDA_DEEPDIVE_REAL_DEFAULTS": "1"}  # no teaching channels behind the scenes
    assert run(real, "config", "--set", "channel_alias", (root / "pkgs").as_uri())[0] == 0
    for name in ("free", "main", "conda-forge"):
        assert run(real, "config", "--add", "channels", name)[0] == 0
    assert run(real, "config", "--remove", "channels", "defaults")[0] == 1  # as in conda 26.7.1
    assert run(real, "config", "--set", "offline", "True")[0] == 0
    prefix = tmp_path / "env"
    rc, out, err = run(real, "create", "-y", "-p", str(prefix), "numpy")
    assert rc == 1 and "anaconda/pkgs/conda-forge" in out + err  # the recipe as written
    assert run(real, "config", "--set", "custom_channels.conda-forge", (root / "cloud").as_uri())[0] == 0
    rc, out, err = run(real, "create", "-y", "-p", str(prefix))
    assert rc == 0, out + err
    rc, out, err = run(real, "install", "-y", "-p", str(prefix), "numpy")
    assert rc == 0, out + err
    assert list((prefix / "conda-meta").glob("numpy-*.json"))
