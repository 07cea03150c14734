"""Stage 1: conda's command line parsed with conda's dest names, and main()'s exit codes."""

from __future__ import annotations

import importlib
import json
from types import SimpleNamespace

import pytest

from conda_deepdive.cli import main as cli_main
from conda_deepdive.cli.parser import ParsedCommand, do_call, generate_parser, parse_command
from conda_deepdive.exceptions import CommandNotFoundError, CondaError, DryRunExit

from conftest import load_fidelity


def ns(*argv: str):
    return parse_command(list(argv)).namespace


# --- the contract invocation -------------------------------------------------------------

def test_contract_invocation_means_the_same_as_conda():
    argv = ["create", "--dry-run", "--json", "--override-channels", "-c", "file:///tmp/chan",
            "-p", "/tmp/env", "--repodata-fn", "repodata.json", "numpy"]
    parsed = parse_command(argv)
    assert parsed.command == "create"
    assert parsed.func == "conda_deepdive.cli.main_create.execute"
    assert parsed.argv == tuple(argv)
    a = parsed.namespace
    assert (a.dry_run, a.json, a.override_channels) == (True, True, True)
    assert a.channel == ["file:///tmp/chan"]
    assert a.prefix == "/tmp/env" and a.name is None
    assert a.repodata_fns == ["repodata.json"]
    assert a.packages == ["numpy"]


def test_every_fidelity_case_command_line_parses():
    """The exact command lines real conda answered in ../shared/fidelity/cli_cases.json."""
    cases = load_fidelity("cli_cases.json")["cases"]
    parser = generate_parser()  # one parser serves many parses, as in a notebook session
    for case in cases:
        argv = [case["command"], "--dry-run", "--json", "--override-channels"]
        for ch in case["channels"]:
            argv += ["-c", f"file:///chan/{ch}"]
        argv += ["-p", "/tmp/prefix"]
        if case["command"] != "remove":
            argv += ["--repodata-fn", "repodata.json"]
        argv += list(case.get("flags") or []) + list(case["specs"])
        parsed = parse_command(argv, parser)
        assert parsed.command == case["command"], case["id"]
        positional = parsed.namespace.package_names if case["command"] == "remove" else parsed.namespace.packages
        assert positional == list(case["specs"]), case["id"]
        assert parsed.namespace.channel == [f"file:///chan/{ch}" for ch in case["channels"]]


# --- dest names (= Context setting names) -------------------------------------------------

@pytest.mark.parametrize("argv, dest, value", [
    (["install", "-n", "myenv", "x"], "name", "myenv"),
    (["install", "--name", "myenv", "x"], "name", "myenv"),
    (["install", "-p", "/p", "x"], "prefix", "/p"),
    (["install", "--prefix", "/p", "x"], "prefix", "/p"),
    (["install", "-c", "a", "--channel", "b", "x"], "channel", ["a", "b"]),
    (["install", "--override-channels", "-c", "a", "x"], "override_channels", True),
    (["install", "--use-local", "x"], "use_local", True),
    (["install", "--strict-channel-priority", "x"], "channel_priority", "strict"),
    (["install", "--no-channel-priority", "x"], "channel_priority", "disabled"),
    (["install", "--repodata-fn", "a.json", "--repodata-fn", "b.json", "x"], "repodata_fns", ["a.json", "b.json"]),
    (["install", "--dry-run", "x"], "dry_run", True),
    (["install", "-d", "x"], "dry_run", True),
    (["install", "--json", "x"], "json", True),
    (["install", "-y", "x"], "yes", True),
    (["install", "--yes", "x"], "yes", True),
    (["install", "--freeze-installed", "x"], "update_modifier", "freeze_installed"),
    (["install", "--no-update-deps", "x"], "update_modifier", "freeze_installed"),
    (["install", "--update-deps", "x"], "update_modifier", "update_deps"),
    (["install", "--update-specs", "x"], "update_modifier", "update_specs"),
    (["install", "--update-all"], "update_modifier", "update_all"),
    (["update", "--all"], "update_modifier", "update_all"),
    (["install", "-S", "x"], "update_modifier", "specs_satisfied_skip_solve"),
    (["install", "--no-deps", "x"], "deps_modifier", "no_deps"),
    (["install", "--only-deps", "x"], "deps_modifier", "only_deps"),
    (["remove", "--force-remove", "x"], "force_remove", True),
    (["remove", "--force", "x"], "force_remove", True),
    (["remove", "--all"], "all", True),
    (["install", "--force", "x"], "force", True),
    (["install", "--offline", "x"], "offline", True),
    (["install", "-v", "-v", "x"], "verbosity", 2),
    (["install", "-vvv", "x"], "verbosity", 3),
    (["install", "-q", "x"], "quiet", True),
    (["install", "--file", "a.txt", "--file", "b.txt"], "file", ["a.txt", "b.txt"]),
    (["install", "--no-pin", "x"], "ignore_pinned", True),
    (["install", "--copy", "x"], "copy", True),
    (["install", "--clobber", "x"], "clobber", True),
    (["install", "-k", "x"], "ssl_verify", False),
    (["create", "-n", "e", "--no-default-packages"], "no_default_packages", True),
])
def test_option_dest_names(argv, dest, value):
    assert getattr(ns(*argv), dest) == value


def test_options_not_given_stay_none_so_condarc_values_survive():
    a = ns("install", "-p", "/p", "numpy")
    for dest in ("channel", "channel_priority", "offline", "json", "dry_run", "yes", "update_modifier",
                 "deps_modifier", "use_local", "override_channels", "repodata_fns", "verbosity",
                 "quiet", "ignore_pinned", "copy", "clobber", "ssl_verify"):
        assert getattr(a, dest) is None, dest
    assert a.file == [] and a.packages == ["numpy"]


@pytest.mark.parametrize("spec", ["conda-forge::numpy", "conda-forge/linux-64::numpy>=1.20",
                                  "numpy=1.*", "https://repo.example/chan::numpy", "numpy[build=py_0]"])
def test_channel_specs_are_positional_packages(spec):
    assert ns("install", "-p", "/p", spec).packages == [spec]


def test_file_does_not_swallow_the_specs_after_it():
    a = ns("install", "--file", "reqs.txt", "numpy", "scipy")
    assert a.file == ["reqs.txt"] and a.packages == ["numpy", "scipy"]


def test_name_and_prefix_are_mutually_exclusive():
    with pytest.raises(SystemExit) as exc:
        parse_command(["install", "-n", "a", "-p", "/b", "x"])
    assert exc.value.code == 2


def test_create_requires_a_target_like_conda():
    with pytest.raises(SystemExit) as exc:
        parse_command(["create", "numpy"])
    assert exc.value.code == 2


# --- commands, aliases, func --------------------------------------------------------------

@pytest.mark.parametrize("typed, command, module", [
    ("create", "create", "main_create"),
    ("install", "install", "main_install"),
    ("update", "update", "main_update"),
    ("upgrade", "update", "main_update"),
    ("remove", "remove", "main_remove"),
    ("uninstall", "remove", "main_remove"),
])
def test_aliases_and_func(typed, command, module):
    argv = [typed, "-n", "e", "x"] if typed != "create" else [typed, "-n", "e", "x"]
    parsed = parse_command(argv)
    assert parsed.command == command
    assert parsed.namespace.cmd == typed  # conda keeps what was typed in args.cmd
    assert parsed.func == f"conda_deepdive.cli.{module}.execute"


@pytest.mark.parametrize("argv, module", [
    (["create", "-p", "/p"], "main_create"), (["install", "x"], "main_install"),
    (["update", "x"], "main_update"), (["remove", "x"], "main_remove"),
    (["list"], "main_list"), (["config", "--show"], "main_config"),
])
def test_func_imports_to_an_execute(argv, module):
    parsed = parse_command(argv)
    mod_name, attr = parsed.func.rsplit(".", 1)
    assert mod_name == f"conda_deepdive.cli.{module}"
    assert callable(getattr(importlib.import_module(mod_name), attr))


@pytest.mark.parametrize("command", ["trace", "explain", "serve"])
def test_other_owners_commands_point_at_their_modules(command):
    argv = [command] + (["install", "numpy"] if command != "serve" else [])
    parsed = parse_command(argv)
    assert parsed.func == f"conda_deepdive.cli.main_{command}.execute"
    try:
        module = importlib.import_module(parsed.func.rsplit(".", 1)[0])
    except ModuleNotFoundError:
        pytest.skip(f"conda_deepdive.cli.main_{command} is not written yet (another owner)")
    assert callable(module.execute)


def test_trace_parses_the_nested_command_with_the_same_parser():
    parsed = parse_command(["trace", "--step", "--stage", "solve", "--export", "t.json",
                            "install", "-c", "conda-forge", "-p", "/p", "--strict-channel-priority", "numpy"])
    assert parsed.command == "trace"
    a = parsed.namespace
    assert (a.step, a.stage, a.export) == (True, "solve", "t.json")
    nested = parsed.nested
    assert isinstance(nested, ParsedCommand) and a.nested is nested
    assert nested.command == "install" and nested.func.endswith("main_install.execute")
    assert nested.namespace.channel == ["conda-forge"]
    assert nested.namespace.channel_priority == "strict"
    assert nested.argv == ("install", "-c", "conda-forge", "-p", "/p", "--strict-channel-priority", "numpy")


@pytest.mark.parametrize("argv", [["trace"], ["explain", "--step"], ["trace", "list"]])
def test_trace_needs_a_solving_command(argv):
    with pytest.raises(SystemExit) as exc:
        parse_command(argv)
    assert exc.value.code == 2


def test_serve_options():
    a = ns("serve", "/srv/chans", "--port", "8123", "--bind", "127.0.0.1")
    assert (a.directory, a.port, a.bind) == ("/srv/chans", 8123, "127.0.0.1")
    assert ns("serve").directory is None


def test_config_show_takes_keys():
    assert ns("config", "--show").show == []
    assert ns("config", "--show", "channels", "channel_priority").show == ["channels", "channel_priority"]
    assert ns("config", "--show-sources").show_sources is True


# --- the inspectable object ---------------------------------------------------------------

def test_parsed_command_is_frozen_readable_and_json():
    parsed = parse_command(["install", "-c", "conda-forge", "-p", "/p", "numpy"])
    with pytest.raises(AttributeError):
        parsed.command = "remove"
    text = repr(parsed)
    assert text.startswith("ParsedCommand(command='install', func='conda_deepdive.cli.main_install.execute'")
    assert "channel=['conda-forge']" in text and "packages=['numpy']" in text
    assert "verbosity" not in text  # options not typed are left out
    summary = parsed.summary()
    assert json.loads(json.dumps(summary)) == summary
    assert summary["options"] == {"channel": ["conda-forge"], "prefix": "/p", "packages": ["numpy"]}
    assert parsed.namespace._parsed is parsed
    assert parse_command(list(parsed.argv)) == parsed


def test_from_namespace_wraps_a_hand_made_namespace():
    parsed = ParsedCommand.from_namespace(SimpleNamespace(cmd="upgrade", packages=["x"]))
    assert parsed.command == "update" and parsed.func == "conda_deepdive.cli.main_update.execute"


# --- do_call and main() ------------------------------------------------------------------

def test_do_call_imports_lazily_and_passes_env(monkeypatch):
    import sys
    import types

    calls = []
    fake = types.ModuleType("conda_deepdive_fake_cmd")

    def execute(args, parser, env=None):
        calls.append((args.cmd, env))
        return 7

    fake.execute = execute
    monkeypatch.setitem(sys.modules, "conda_deepdive_fake_cmd", fake)
    args = SimpleNamespace(cmd="x", func="conda_deepdive_fake_cmd.execute")
    assert do_call(args, None) == 7
    assert do_call(args, None, env={"HOME": "/h"}) == 7
    assert calls == [("x", None), ("x", {"HOME": "/h"})]

    legacy = types.ModuleType("conda_deepdive_fake_legacy")
    legacy.execute = lambda args, parser: "ran"
    monkeypatch.setitem(sys.modules, "conda_deepdive_fake_legacy", legacy)
    assert do_call(SimpleNamespace(func="conda_deepdive_fake_legacy.execute"), None, env={}) == "ran"


def _hermetic_env(tmp_path, **extra):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {"HOME": str(home), **extra}


def test_main_reports_a_conda_error_in_one_line_and_exits_1(tmp_path, capsys):
    bad = tmp_path / ".condarc"
    bad.write_text("channels: [a\nchannel_priority: strict\n")
    rc = cli_main.main(["config", "--show-sources"], env=_hermetic_env(tmp_path, CONDARC=str(bad)))
    out, err = capsys.readouterr()
    assert rc == 1 and out == ""
    assert "Traceback" not in err
    assert err.strip().startswith("ConfigurationLoadError: Unable to load configuration file.")
    assert str(bad) in err


def test_main_json_error_shape_on_stdout(tmp_path, capsys):
    missing = tmp_path / "no-such-env"
    rc = cli_main.main(["list", "-p", str(missing), "--json"], env=_hermetic_env(tmp_path))
    out, err = capsys.readouterr()
    assert rc == 1
    doc = json.loads(out)
    assert doc["exception_name"] == "EnvironmentLocationNotFound"
    assert doc["exception_type"] == "<class 'conda.exceptions.EnvironmentLocationNotFound'>"
    assert doc["message"] == f"Not a conda environment: {missing}"
    assert doc["error"].startswith("EnvironmentLocationNotFound: ")
    assert {"caused_by", "location"} <= set(doc)
    assert "Traceback" not in err


def test_print_error_rules(capsys):
    assert cli_main.print_error(CondaError("nope"), json_mode=False) == 1
    assert capsys.readouterr().err == "\nCondaError: nope\n\n"
    # conda: DryRunExit is a quiet success; with --json nothing is printed for it
    assert cli_main.print_error(DryRunExit(), json_mode=True) == 0
    assert capsys.readouterr() == ("", "")
    assert cli_main.print_error(DryRunExit(), json_mode=False) == 0
    assert "DryRunExit: Dry run. Exiting." in capsys.readouterr().err


def test_argparse_errors_exit_2(capsys):
    assert cli_main.main(["install", "--no-such-flag", "x"]) == 2
    assert "unrecognized arguments: --no-such-flag" in capsys.readouterr().err


def test_unknown_command_is_command_not_found(capsys):
    with pytest.raises(CommandNotFoundError):
        parse_command(["frobnicate"])
    assert cli_main.main(["frobnicate"]) == 1
    assert "CommandNotFoundError: No command 'conda frobnicate'." in capsys.readouterr().err


def test_help_and_version_exit_0(capsys):
    assert cli_main.main(["--help"]) == 0
    assert "install" in capsys.readouterr().out
    assert cli_main.main([]) == 0  # like conda: no arguments prints the help
    assert cli_main.main(["-V"]) == 0
    assert "26.7.1" in capsys.readouterr().out


def test_install_commands_delegate_to_the_shared_install(monkeypatch):
    import conda_deepdive.cli.install as shared

    seen = []
    monkeypatch.setattr(shared, "install", lambda args, parser, command, env=None: seen.append((command, env)) or 0)
    for argv, command in ((["create", "-p", "/p", "x"], "create"), (["install", "x"], "install"),
                          (["upgrade", "x"], "update"), (["uninstall", "x"], "remove")):
        assert cli_main.main(argv, env={"HOME": "/nonexistent"}) == 0
        assert seen[-1] == (command, {"HOME": "/nonexistent"})


# --- conda list -------------------------------------------------------------------------------

def _fake_env(tmp_path):
    prefix = tmp_path / "env"
    meta = prefix / "conda-meta"
    meta.mkdir(parents=True)
    for name, version, build, channel in (
        ("numpy", "1.15.0", "py36h1b885b7_0", "https://conda.anaconda.org/conda-forge/linux-64"),
        ("python", "3.6.0", "0", "https://repo.anaconda.com/pkgs/main/linux-64"),
        ("zlib", "1.2.11", "ha838bed_2", "https://conda.anaconda.org/conda-forge/linux-64"),
    ):
        fn = f"{name}-{version}-{build}"
        (meta / f"{fn}.json").write_text(json.dumps({
            "name": name, "version": version, "build": build, "build_number": 0, "channel": channel,
            "subdir": "linux-64", "fn": f"{fn}.tar.bz2", "url": f"{channel}/{fn}.tar.bz2", "depends": [],
            "files": [], "paths_data": {"paths": [], "paths_version": 1}}))
    return prefix


def test_list_prints_like_conda(tmp_path, capsys):
    pytest.importorskip("conda_deepdive.index.prefix_data")
    prefix = _fake_env(tmp_path)
    # the fixture's URLs are conda's real channels: read them under conda's built-in settings
    # (the teaching defaults would name repo.anaconda.com/pkgs/main by its URL)
    env = {"HOME": str(tmp_path), "CONDA_DEEPDIVE_REAL_DEFAULTS": "1", "CONDA_SUBDIR": "linux-64"}
    assert cli_main.main(["list", "-p", str(prefix)], env=env) == 0
    # conda 26.7.1's layout (conda/cli/main_list.py::list_packages, dynamic since 25.5 / #14781):
    # columns joined by two spaces, all left-aligned, starting widths 23/15/15/1 and widened to
    # the longest cell; the header carries "# " so rows widen Name by 2; lines right-stripped
    # (python's Channel is blank: "defaults" is hidden). tests/test_list_layout.py has the rest.
    assert capsys.readouterr().out.splitlines() == [
        f"# packages in environment at {prefix}:",
        "#",
        "# Name                     Version          Build            Channel",
        "numpy                      1.15.0           py36h1b885b7_0   conda-forge",
        "python                     3.6.0            0",
        "zlib                       1.2.11           ha838bed_2       conda-forge",
    ]
    assert cli_main.main(["list", "-p", str(prefix), "^n"], env=env) == 0
    assert [l.split()[0] for l in capsys.readouterr().out.splitlines()[3:]] == ["numpy"]
    assert cli_main.main(["list", "-p", str(prefix), "--export"], env=env) == 0
    assert capsys.readouterr().out.splitlines() == [
        "# This file may be used to create an environment using:",
        "# $ conda create --name <env> --file <this file>",
        "# platform: linux-64",
        "# created-by: conda 26.7.1",
        "numpy=1.15.0=py36h1b885b7_0", "python=3.6.0=0", "zlib=1.2.11=ha838bed_2"]


def test_list_json_is_condas_shape(tmp_path, capsys):
    pytest.importorskip("conda_deepdive.index.prefix_data")
    prefix = _fake_env(tmp_path)
    assert cli_main.main(["list", "-p", str(prefix), "--json", "-f", "python"], env={"HOME": str(tmp_path)}) == 0
    assert json.loads(capsys.readouterr().out) == [{
        "base_url": "https://repo.anaconda.com/pkgs/main", "build_number": 0, "build_string": "0",
        "channel": "pkgs/main", "dist_name": "python-3.6.0-0", "name": "python",
        "platform": "linux-64", "version": "3.6.0"}]


def test_list_needs_a_target(tmp_path, capsys):
    assert cli_main.main(["list"], env={"HOME": str(tmp_path)}) == 1
    assert "CondaValueError: no environment to list" in capsys.readouterr().err
