"""``info``, ``info --envs`` and ``env list``: conda 26.7.1's layout, from the project's Context."""

from __future__ import annotations

import json

import pytest

from conda_deepdive.cli.main import main
from conda_deepdive.config.teaching_defaults import channels_dir


def run(argv, env, capsys):
    code = main(argv, env=env)
    out, err = capsys.readouterr()
    return code, out, err


def test_info_rows_in_condas_order(env, capsys):
    code, out, _ = run(["info"], env, capsys)
    assert code == 0
    keys = [line.split(" : ", 1)[0].strip() for line in out.splitlines() if " : " in line]
    assert keys[:7] == ["active environment", "user config file", "populated config files",
                        "conda version", "conda-build version", "python version", "solver"]
    for key in ("virtual packages", "base environment", "channel URLs", "package cache",
                "envs directories", "platform", "offline mode"):
        assert key in keys
    # conda's detail_view: keys right-aligned on the longest key, then " : "
    assert "\n     active environment : None\n" in out
    assert "          conda version : 26.7.1" in out
    assert "               platform : linux-64" in out
    assert out.startswith("\n") and out.endswith("\n\n")


def test_info_names_the_teaching_defaults_and_expands_defaults(env, capsys):
    _, out, _ = run(["info"], env, capsys)
    root = channels_dir().as_uri()
    assert f"channel URLs : {root}/pkgs/main/linux-64\n" in out
    for sub in ("pkgs/main/noarch", "pkgs/free/linux-64", "pkgs/free/noarch"):
        assert f"{' ' * 26}{root}/{sub}\n" in out
    assert f"teaching defaults : {channels_dir()}" in out
    assert "__glibc=2.28=0" in out and "__linux=5.15=0" in out
    assert f"package cache : {env['CONDA_PKGS_DIRS']}" in out


def test_info_real_defaults_have_no_teaching_row(env, capsys):
    env = {**env, "CONDA_DEEPDIVE_REAL_DEFAULTS": "1"}
    _, out, _ = run(["info"], env, capsys)
    assert "teaching defaults" not in out
    assert "https://repo.anaconda.com/pkgs/main/linux-64" in out


def test_info_json_has_condas_keys(env, capsys):
    code, out, _ = run(["info", "--json"], env, capsys)
    data = json.loads(out)
    assert code == 0
    for key in ("platform", "conda_version", "virtual_pkgs", "channels", "pkgs_dirs", "envs_dirs",
                "config_files", "root_prefix", "envs", "envs_details", "offline", "user_agent"):
        assert key in data, key
    assert data["platform"] == "linux-64"
    assert ["__glibc", "2.28", "0"] in data["virtual_pkgs"]
    assert data["conda_deepdive"]["teaching_defaults"] is True
    assert data["channels"][0].endswith("/pkgs/main/linux-64")
    assert not out.endswith("\n")  # conda's JSON backend writes no trailing newline


def test_info_config_files_lists_the_condarc(env, capsys, tmp_path):
    rc = tmp_path / "home" / ".condarc"
    rc.write_text("channel_priority: strict\n")
    _, out, _ = run(["info", "--json"], env, capsys)
    assert json.loads(out)["config_files"] == [str(rc)]


def test_info_base(env, capsys):
    _, out, _ = run(["info", "--base"], env, capsys)
    assert out.strip() == json.loads(run(["info", "--json"], env, capsys)[1])["root_prefix"]


@pytest.fixture
def created(env, tmp_path):
    envs_dir = tmp_path / "envs"
    env = {**env, "CONDA_ENVS_DIRS": str(envs_dir)}
    assert main(["create", "-y", "-q", "-n", "demo", "zlib"], env=env) == 0
    return env, envs_dir / "demo"


def test_info_envs_lists_created_environment(created, capsys):
    env, prefix = created
    capsys.readouterr()
    code, out, _ = run(["info", "--envs"], env, capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[:5] == ["", "# conda environments:", "#", "# * -> active", "# + -> frozen"]
    assert f"{'demo':20}     {prefix}" in lines
    assert any(line.startswith(f"{'base':20}") for line in lines)
    # env list is the same command
    assert run(["env", "list"], env, capsys)[1] == out


def test_env_list_json_details(created, capsys):
    env, prefix = created
    capsys.readouterr()
    _, out, _ = run(["env", "list", "--json"], env, capsys)
    data = json.loads(out)
    assert str(prefix) in data["envs"]
    details = data["envs_details"][str(prefix)]
    assert list(details) == ["name", "created", "last_modified", "active", "base", "frozen", "writable"]
    assert details["name"] == "demo" and details["base"] is False and details["writable"] is True
    assert details["last_modified"] is not None


def test_active_environment_is_marked(created, capsys):
    env, prefix = created
    capsys.readouterr()
    env = {**env, "CONDA_PREFIX": str(prefix)}
    _, out, _ = run(["env", "list"], env, capsys)
    assert f"{'demo':20} *   {prefix}" in out
    _, out, _ = run(["info"], env, capsys)
    assert " active environment : demo\n" in out and f"active env location : {prefix}" in out


def test_environments_txt_is_read_not_rewritten(env, capsys, tmp_path):
    txt = tmp_path / "home" / ".conda" / "environments.txt"
    txt.parent.mkdir(parents=True)
    txt.write_text("/nonexistent/env\n")
    _, out, _ = run(["env", "list"], env, capsys)
    assert "/nonexistent/env" not in out
    assert txt.read_text() == "/nonexistent/env\n"


def test_size_needs_envs(env, capsys):
    code, _, err = run(["info", "--size"], env, capsys)
    assert code == 2 and "ArgumentError: --size can only be used with --envs" in err


@pytest.mark.parametrize("argv", [["info", "--help"], ["search", "--help"], ["clean", "--help"],
                                  ["env", "list", "--help"], ["env", "--help"]])
def test_help_of_the_new_commands_imports_nothing_heavy(argv):
    from test_cli_help import HEAVY, _run

    out, code, modules = _run(argv)
    assert code == 0 and "usage: conda-deepdive" in out
    assert [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)] == []
    assert "conda_deepdive.cli.main_info" not in modules  # the command module loads only to run
