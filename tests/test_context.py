"""Stage 2: the configuration cascade, provenance, and errors for broken condarc files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conda_deepdive.cli.parser import parse_command
from conda_deepdive.config.condarc import SEARCH_PATH, expand_search_path, merge_sequence
from conda_deepdive.config.context import DEFAULT_CHANNELS, SETTINGS, Context, host_subdir
from conda_deepdive.exceptions import (
    ArgumentError,
    ConfigurationLoadError,
    CondaValueError,
    CustomValidationError,
    InvalidElementTypeError,
    InvalidTypeError,
    MultipleKeysError,
)

from conftest import load_fidelity

# The user-level part of conda's search path: tests never read or write /etc or /var/lib.
USER_SEARCH_PATH = tuple(p for p in SEARCH_PATH if not p.startswith(("/etc/", "/var/")))


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


def load(home: Path, argv=None, **env) -> Context:
    args = parse_command(argv).namespace if argv else None
    return Context.load(args=args, env={"HOME": str(home), **env}, search_path=USER_SEARCH_PATH)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --- defaults ---------------------------------------------------------------------------

def test_defaults_are_conda_26s(home):
    c = load(home, CONDA_DEEPDIVE_REAL_DEFAULTS="1")
    assert c.channels == ("defaults",)
    assert c.channel_alias == "https://conda.anaconda.org"
    assert c.default_channels == DEFAULT_CHANNELS == (
        "https://repo.anaconda.com/pkgs/main", "https://repo.anaconda.com/pkgs/r")
    assert c.channel_priority == "flexible"
    assert c.repodata_fns == ("current_repodata.json", "repodata.json")
    assert c.add_pip_as_python_dependency is True
    assert c.aggressive_update_packages == ("ca-certificates", "certifi", "openssl")
    assert c.rollback_enabled is True and c.local_repodata_ttl == 1
    assert c.offline is False and c.json is False and c.dry_run is False and c.always_yes is None
    assert c.deps_modifier == "not_set" and c.update_modifier == "update_specs"
    assert c.safety_checks == "warn" and c.extra_safety_checks is False
    assert (c.verify_threads, c.execute_threads, c.repodata_threads, c.fetch_threads) == (1, 1, None, 5)
    assert c.subdir == host_subdir() and c.subdirs == (host_subdir(), "noarch")
    assert c.pkgs_dirs[-1] == str(home / ".conda" / "pkgs")
    assert str(home / ".conda" / "envs") in c.envs_dirs
    assert c.target_prefix is None  # never the Python we run in
    for name in ("glibc", "osx", "cuda", "archspec", "linux"):
        assert getattr(c, f"override_{name}") is None
    assert c.source_of("channel_priority") == "default"
    assert c.config_files == ()


def test_teaching_defaults_point_conda_names_at_the_bundled_channels(home):
    from conda_deepdive.config.teaching_defaults import channels_dir

    root = channels_dir().as_uri()
    c = load(home)
    assert c.channels == ("defaults",)
    assert c.channel_alias == f"{root}/pkgs"
    assert c.default_channels == (f"{root}/pkgs/main", f"{root}/pkgs/free")
    assert c.custom_channels == {"conda-forge": f"{root}/cloud"}
    assert c.source_of("channel_alias") == "teaching defaults"
    # any real source wins over them, as over any default
    write(home / ".condarc", "channel_alias: https://conda.anaconda.org\n")
    c = load(home)
    assert c.channel_alias == "https://conda.anaconda.org"
    assert c.default_channels == (f"{root}/pkgs/main", f"{root}/pkgs/free")


def test_host_subdir_on_this_machine():
    import platform
    import sys

    if sys.platform == "linux" and platform.machine() == "x86_64":
        assert host_subdir() == "linux-64"


# --- the search path ----------------------------------------------------------------------

def test_search_path_order_is_condas():
    assert SEARCH_PATH[:3] == ("/etc/conda/.condarc", "/etc/conda/condarc", "/etc/conda/condarc.d/")
    assert SEARCH_PATH[3:6] == ("/var/lib/conda/.condarc", "/var/lib/conda/condarc", "/var/lib/conda/condarc.d/")
    order = [p.split("/")[0] if p.startswith("$") else p for p in SEARCH_PATH]
    assert order.index("$CONDA_ROOT") < order.index("$XDG_CONFIG_HOME") < SEARCH_PATH.index("~/.config/conda/.condarc")
    assert SEARCH_PATH.index("~/.conda/.condarc") < SEARCH_PATH.index("~/.condarc") < SEARCH_PATH.index("$CONDA_PREFIX/.condarc")
    assert SEARCH_PATH[-1] == "$CONDARC"


def test_search_path_expansion_uses_the_passed_env_only(monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", "/from/os/environ")
    expanded = expand_search_path(SEARCH_PATH, {"HOME": "/h", "CONDA_ROOT": "/root"})
    assert "/h/.condarc" in expanded and "/root/condarc.d/" in expanded
    assert not any("/from/os/environ" in p for p in expanded)  # XDG unset in env → skipped
    assert not any("$" in p for p in expanded)


USER_FILES = [
    ("CONDA_ROOT", ".condarc"), ("CONDA_ROOT", "condarc"), ("CONDA_ROOT", "condarc.d/10-site.yml"),
    ("XDG_CONFIG_HOME", "conda/.condarc"), ("XDG_CONFIG_HOME", "conda/condarc"),
    ("XDG_CONFIG_HOME", "conda/condarc.d/a.yaml"),
    ("HOME", ".config/conda/.condarc"), ("HOME", ".config/conda/condarc"),
    ("HOME", ".config/conda/condarc.d/x.yml"),
    ("HOME", ".conda/.condarc"), ("HOME", ".conda/condarc"), ("HOME", ".conda/condarc.d/x.yml"),
    ("HOME", ".condarc"),
    ("CONDA_PREFIX", ".condarc"), ("CONDA_PREFIX", "condarc"), ("CONDA_PREFIX", "condarc.d/z.yml"),
    ("CONDARC", None),
]


@pytest.mark.parametrize("var, rel", USER_FILES)
def test_each_search_path_file_is_read(tmp_path, home, var, rel):
    bases = {"HOME": home, "CONDA_ROOT": tmp_path / "root", "XDG_CONFIG_HOME": tmp_path / "xdg",
             "CONDA_PREFIX": tmp_path / "active"}
    env = {k: str(v) for k, v in bases.items() if k != "HOME"}
    path = tmp_path / "custom" / ".condarc" if var == "CONDARC" else bases[var] / rel
    write(path, "channel_priority: strict\nchannels:\n  - from-file\n")
    env["CONDARC"] = str(path) if var == "CONDARC" else str(tmp_path / "absent" / ".condarc")
    c = load(home, **env)
    assert c.config_files == (str(path),)
    assert c.channel_priority == "strict" and c.source_of("channel_priority") == str(path)
    assert c.channels == ("from-file",)


def test_condarc_d_reads_only_yaml_files_sorted(tmp_path, home):
    d = home / ".conda" / "condarc.d"
    write(d / "20-b.yaml", "channel_priority: disabled\n")
    write(d / "10-a.yml", "channel_priority: strict\n")
    write(d / "notes.txt", "channel_priority: bogus\n")
    c = load(home)
    assert c.config_files == (str(d / "10-a.yml"), str(d / "20-b.yaml"))
    assert c.channel_priority == "disabled"


def test_condarc_variable_must_name_a_condarc_or_yaml_file(tmp_path, home):
    write(tmp_path / "settings.txt", "channel_priority: strict\n")
    assert load(home, CONDARC=str(tmp_path / "settings.txt")).channel_priority == "flexible"


def test_later_files_win_for_single_values(tmp_path, home):
    write(home / ".condarc", "channel_priority: strict\noffline: true\n")
    rc = write(tmp_path / "env.condarc" / ".condarc", "channel_priority: disabled\n")
    c = load(home, CONDARC=str(rc))
    assert c.channel_priority == "disabled" and c.source_of("channel_priority") == str(rc)
    assert c.offline is True and c.source_of("offline") == str(home / ".condarc")


def test_target_prefix_condarc_is_read_for_p(tmp_path, home):
    env_dir = tmp_path / "env"
    write(env_dir / ".condarc", "channel_priority: strict\n")
    c = load(home, ["install", "-p", str(env_dir), "numpy"])
    assert c.channel_priority == "strict" and c.source_of("channel_priority") == str(env_dir / ".condarc")
    assert c.target_prefix == str(env_dir)


def test_env_is_explicit_not_os_environ(monkeypatch, home):
    monkeypatch.setenv("CONDA_CHANNEL_PRIORITY", "strict")
    monkeypatch.setenv("CONDA_OVERRIDE_GLIBC", "2.99")
    c = load(home)
    assert c.channel_priority == "flexible" and c.override_glibc is None
    assert Context.load(env=None, search_path=()).channel_priority == "strict"  # None = os.environ


# --- environment variables ---------------------------------------------------------------

def test_conda_env_vars(home):
    c = load(home, CONDA_CHANNELS="conda-forge, bioconda,", CONDA_CHANNEL_PRIORITY="strict",
             CONDA_SUBDIR="osx-64", CONDA_PKGS_DIRS="/cache/a,/cache/b", CONDA_OFFLINE="yes",
             CONDA_ADD_PIP_AS_PYTHON_DEPENDENCY="false", CONDA_REPODATA_FNS="repodata.json",
             CONDA_LOCAL_REPODATA_TTL="0", CONDA_VERBOSITY="2", CONDA_PINNED_PACKAGES="a<2&b",
             CONDA_ENVS_DIRS=os.pathsep.join(["/envs/one", "/envs/two"]))
    assert c.channels == ("conda-forge", "bioconda")
    assert c.channel_priority == "strict" and c.source_of("channel_priority") == "envvars"
    assert c.subdir == "osx-64" and c.subdirs == ("osx-64", "noarch")
    assert c.pkgs_dirs == ("/cache/a", "/cache/b")
    assert c.offline is True and c.add_pip_as_python_dependency is False
    assert c.repodata_fns == ("repodata.json",)
    assert c.local_repodata_ttl == 0 and c.verbosity == 2
    assert c.pinned_packages == ("a<2", "b")
    assert c.envs_dirs[:2] == ("/envs/one", "/envs/two")


def test_virtual_package_overrides(home):
    c = load(home, CONDA_OVERRIDE_GLIBC="2.17", CONDA_OVERRIDE_CUDA="", CONDA_OVERRIDE_OSX="10.13",
             CONDA_OVERRIDE_ARCHSPEC="x86_64", CONDA_OVERRIDE_LINUX="5.15")
    assert (c.override_glibc, c.override_cuda, c.override_osx, c.override_archspec, c.override_linux) == \
        ("2.17", "", "10.13", "x86_64", "5.15")
    assert c.source_of("override_cuda") == "envvars"
    assert load(home).override_cuda is None  # unset ≠ set-empty ("no CUDA")


def test_bad_env_value_is_named(home):
    with pytest.raises(CustomValidationError, match="channel_priority = 'sometimes' declared in envvars"):
        load(home, CONDA_CHANNEL_PRIORITY="sometimes")
    with pytest.raises(CustomValidationError, match="offline = 'maybe' declared in envvars"):
        load(home, CONDA_OFFLINE="maybe")


def test_important_env_var_is_final(home):
    c = load(home, ["install", "--no-channel-priority", "x"], CONDA_CHANNEL_PRIORITY="strict!important")
    assert c.channel_priority == "strict" and c.source_of("channel_priority") == "envvars"


# --- precedence: condarc < env < flags ---------------------------------------------------

def test_flags_beat_env_beat_files(tmp_path, home):
    write(home / ".condarc", "channel_priority: disabled\noffline: false\nrepodata_fns: [a.json]\n")
    c = load(home, CONDA_CHANNEL_PRIORITY="flexible")
    assert c.channel_priority == "flexible" and c.source_of("channel_priority") == "envvars"
    c = load(home, ["install", "--strict-channel-priority", "--offline", "--repodata-fn", "repodata.json", "x"],
             CONDA_CHANNEL_PRIORITY="flexible")
    assert c.channel_priority == "strict" and c.source_of("channel_priority") == "cmd_line"
    assert c.offline is True and c.source_of("offline") == "cmd_line"
    assert c.repodata_fns == ("repodata.json", "a.json")
    assert [s for s, _ in c.sources["channel_priority"]] == ["default", str(home / ".condarc"), "envvars", "cmd_line"]
    assert c.sources["channel_priority"][1] == (str(home / ".condarc"), "disabled")


@pytest.mark.parametrize("argv, name, value", [
    (["install", "-y", "x"], "always_yes", True),
    (["install", "--dry-run", "x"], "dry_run", True),
    (["install", "--json", "x"], "json", True),
    (["install", "-q", "x"], "quiet", True),
    (["install", "-vv", "x"], "verbosity", 2),
    (["install", "--copy", "x"], "always_copy", True),
    (["install", "--no-deps", "x"], "deps_modifier", "no_deps"),
    (["install", "--freeze-installed", "x"], "update_modifier", "freeze_installed"),
    (["update", "--all"], "update_modifier", "update_all"),
    (["remove", "--force", "x"], "force_remove", True),
    (["install", "--no-pin", "x"], "ignore_pinned", True),
    (["install", "--clobber", "x"], "clobber", True),
    (["install", "--use-local", "x"], "use_local", True),
    (["install", "-k", "x"], "ssl_verify", False),
])
def test_flags_reach_context_through_dest_names(home, argv, name, value):
    c = load(home, argv)
    assert getattr(c, name) == value and c.source_of(name) == "cmd_line"


# --- channels: -c, --override-channels, --use-local ---------------------------------------

def test_c_channels_go_in_front_of_condarc_channels(home):
    write(home / ".condarc", "channels:\n  - conda-forge\n  - defaults\n")
    c = load(home, ["install", "-c", "bioconda", "-c", "mine", "x"])
    assert c.channels == ("bioconda", "mine", "conda-forge", "defaults")
    assert c.source_of("channels") == f"cmd_line + {home / '.condarc'}"


def test_c_without_condarc_channels_appends_defaults(home):
    assert load(home, ["install", "-c", "bioconda", "x"]).channels == ("bioconda", "defaults")
    # conda's quirk: CONDA_CHANNELS is dropped when -c is given and no condarc lists channels
    assert load(home, ["install", "-c", "bioconda", "x"], CONDA_CHANNELS="envchan").channels == \
        ("bioconda", "defaults")


def test_override_channels(home):
    write(home / ".condarc", "channels: [conda-forge]\n")
    c = load(home, ["install", "--override-channels", "-c", "file:///chan/a", "-c", "file:///chan/b", "x"])
    assert c.channels == ("file:///chan/a", "file:///chan/b") and c.source_of("channels") == "cmd_line"
    with pytest.raises(ArgumentError, match="At least one -c / --channel flag must be supplied"):
        load(home, ["install", "--override-channels", "x"])


def test_use_local_adds_local_first(home):
    assert load(home, ["install", "--use-local", "x"]).channels == ("local", "defaults")


# --- merging markers ------------------------------------------------------------------------

def test_final_in_an_early_file_freezes_the_key(tmp_path, home):
    write(home / ".condarc", "channel_priority: strict  #!final\nchannels:  #!final\n  - locked\n")
    rc = write(tmp_path / "late" / ".condarc", "channel_priority: disabled\nchannels: [late]\n")
    c = load(home, ["install", "--no-channel-priority", "x"], CONDARC=str(rc),
             CONDA_CHANNEL_PRIORITY="flexible")
    assert c.channel_priority == "strict" and c.source_of("channel_priority") == str(home / ".condarc")
    assert c.channels == ("locked",)


def test_top_and_bottom_markers(tmp_path, home):
    write(home / ".condarc", "channels:\n  - a\n  - pinned-first  #!top\n  - b\n  - last-resort  #!bottom\n")
    rc = write(tmp_path / "late" / ".condarc", "channels:\n  - c\n")
    c = load(home, CONDARC=str(rc))
    assert c.channels == ("pinned-first", "c", "a", "b", "last-resort")


def test_sequence_merge_rules():
    first = [("a", None), ("b", None)]
    second = [("c", None), ("a", None)]
    assert merge_sequence([first, second], [False, False]) == ["c", "a", "b"]
    assert merge_sequence([first, second], [True, False]) == ["a", "b"]
    assert merge_sequence([[("x", "bottom"), ("y", None)], [("z", None)]], [False, False]) == ["z", "y", "x"]


def test_maps_merge_key_by_key(tmp_path, home):
    write(home / ".condarc", "custom_channels:\n  mine: https://a.example\n  theirs: https://b.example\n"
                             "custom_multichannels:\n  both: [x, y]\n")
    rc = write(tmp_path / "late" / ".condarc", "custom_channels:\n  mine: https://c.example\n")
    c = load(home, CONDARC=str(rc))
    assert c.custom_channels == {"mine": "https://c.example", "theirs": "https://b.example"}
    assert c.custom_multichannels == {"both": ("x", "y")}


# --- malformed condarc files -----------------------------------------------------------------

def test_bad_yaml_names_the_file_and_position(home):
    rc = write(home / ".condarc", "channels:\n  - a\n channel_priority: [strict\n")
    with pytest.raises(ConfigurationLoadError) as exc:
        load(home)
    text = str(exc.value)
    assert text.startswith("Unable to load configuration file.\n  path: " + str(rc))
    assert "reason: invalid yaml at line" in text and "column" in text
    assert exc.value.dump_map()["path"] == str(rc)


def test_wrong_type_names_file_key_and_problem(home):
    rc = write(home / ".condarc", "channels: 3\n")
    with pytest.raises(InvalidTypeError) as exc:
        load(home)
    assert str(exc.value) == (f"Parameter channels = 3 declared in {rc} has type int.\n"
                              "Valid types:\n  - Sequence[str]")
    write(home / ".condarc", "offline: [1, 2]\n")
    with pytest.raises(InvalidTypeError, match="offline = \\[1, 2\\] declared in .* has type list"):
        load(home)
    write(home / ".condarc", "channels:\n  - [nested]\n")
    with pytest.raises(InvalidElementTypeError, match="invalid element \\['nested'\\] at index 0"):
        load(home)
    write(home / ".condarc", "custom_channels: [a]\n")
    with pytest.raises(InvalidTypeError, match="custom_channels"):
        load(home)


def test_unknown_channel_priority_value(home):
    rc = write(home / ".condarc", "channel_priority: sometimes\n")
    with pytest.raises(CustomValidationError) as exc:
        load(home)
    assert str(exc.value).startswith(f"Parameter channel_priority = 'sometimes' declared in {rc} is invalid.")
    assert "Valid choices for channel_priority: 'strict', 'flexible', 'disabled'" in str(exc.value)


def test_condarc_booleans_for_channel_priority(home):
    write(home / ".condarc", "channel_priority: false\n")
    assert load(home).channel_priority == "disabled"
    write(home / ".condarc", "channel_priority: true\n")
    assert load(home).channel_priority == "flexible"


def test_top_level_must_be_a_mapping(home):
    write(home / ".condarc", "- channels\n- conda-forge\n")
    with pytest.raises(ConfigurationLoadError, match="top level must be a mapping"):
        load(home)


def test_two_aliases_in_one_file(home):
    write(home / ".condarc", "channels: [a]\nchannel: [b]\n")
    with pytest.raises(MultipleKeysError, match="Multiple aliased keys"):
        load(home)


def test_channel_alias_needs_a_scheme(home):
    write(home / ".condarc", "channel_alias: conda.example.org\n")
    with pytest.raises(CustomValidationError, match="must have scheme/protocol"):
        load(home)


def test_empty_file_and_null_list_are_fine(home):
    write(home / ".condarc", "")
    assert load(home).channels == ("defaults",)
    write(home / ".condarc", "channels: ~\n")
    assert load(home).channels == ("defaults",)


def test_cli_reports_bad_condarc_without_traceback(home):
    import subprocess
    import sys

    write(home / ".condarc", "channels: 3\n")
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", "")}
    proc = subprocess.run([sys.executable, "-m", "conda_deepdive", "config", "--show-sources"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[0] == \
        f"InvalidTypeError: Parameter channels = 3 declared in {home / '.condarc'} has type int."


# --- show-sources, show, summary, repr --------------------------------------------------------

def test_show_sources_text_like_conda(tmp_path, home):
    write(home / ".condarc", "channels:\n  - conda-forge\nchannel_priority: strict\nunknown_key: 1\n"
                             "custom_channels:\n  mine: https://a.example\n")
    c = load(home, ["install", "-c", "bioconda", "--dry-run", "x"], CONDA_PKGS_DIRS="/p1,/p2",
             CONDA_PREFIX_NOT_A_SETTING="x")
    assert c.show_sources() == (
        f"==> {home / '.condarc'} <==\n"
        "channels:\n  - conda-forge\n"
        "channel_priority: strict\n"
        "custom_channels:\n  mine: https://a.example\n"
        "\n"
        "==> envvars <==\n"
        "pkgs_dirs:\n  - /p1\n  - /p2\n"
        "\n"
        "==> cmd_line <==\n"
        "channel:\n  - bioconda\n"
        "dry_run: True\n"
    )


def test_config_command_show_sources_and_show(home, capsys):
    from conda_deepdive.cli.main import main

    write(home / ".condarc", "channel_priority: strict\n")
    env = {"HOME": str(home), "CONDA_OFFLINE": "true"}
    assert main(["config", "--show-sources"], env=env) == 0
    out = capsys.readouterr().out
    assert out.startswith("==> teaching defaults <==\n")  # the built-in layer comes first
    assert f"\n==> {home / '.condarc'} <==\nchannel_priority: strict\n" in out
    assert "==> envvars <==\noffline: True\n" in out
    assert main(["config", "--show-sources", "--json"], env=env) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc[str(home / ".condarc")] == {"channel_priority": "strict"}
    assert doc["envvars"] == {"offline": True}
    assert main(["config", "--show", "channel_priority", "channels", "offline"], env=env) == 0
    assert capsys.readouterr().out == "channel_priority: strict\nchannels:\n  - defaults\noffline: True\n"
    assert main(["config", "--show", "--json"], env=env) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["channel_priority"] == "strict" and set(doc) == {s.name for s in SETTINGS}
    assert main(["config", "--show", "no_such_key"], env=env) == 2
    assert "Invalid configuration parameters: \n  - no_such_key" in capsys.readouterr().err


def test_summary_and_repr(home):
    write(home / ".condarc", "channel_priority: strict\n")
    c = load(home, ["install", "-c", "conda-forge", "x"])
    summary = c.summary()
    assert json.loads(json.dumps(summary)) == summary
    assert summary["settings"]["channel_priority"] == {"value": "strict", "source": str(home / ".condarc")}
    assert summary["settings"]["channels"]["value"] == ["conda-forge", "defaults"]
    assert summary["config_files"] == [str(home / ".condarc")]
    text = repr(c)
    assert text.startswith("Context(\n")
    assert f"channel_priority='strict',  # {home / '.condarc'}" in text
    assert "channels=('conda-forge', 'defaults'),  # cmd_line" in text
    assert "more settings at their defaults" in text


# --- immutability, from_values, replace -----------------------------------------------------

def test_context_is_immutable_and_replace_copies(home):
    strict = load(home).replace(channel_priority="strict")
    flexible = strict.replace(channel_priority="flexible")
    assert (strict.channel_priority, flexible.channel_priority) == ("strict", "flexible")
    assert strict.source_of("channel_priority") == "api"
    with pytest.raises(AttributeError, match="immutable"):
        strict.channel_priority = "disabled"
    with pytest.raises(CondaValueError, match="unknown Context setting"):
        strict.replace(chanel_priority="strict")
    with pytest.raises(CustomValidationError):
        strict.replace(channel_priority="sometimes")


def test_from_values(tmp_path):
    c = Context.from_values(channels=["conda-forge"], subdir="osx-arm64", pkgs_dirs=[str(tmp_path / "pkgs")],
                            add_pip_as_python_dependency=False, target_prefix="/tmp/env",
                            env={"CONDA_OVERRIDE_OSX": "13.0"})
    assert c.channels == ("conda-forge",) and c.source_of("channels") == "api"
    assert c.subdirs == ("osx-arm64", "noarch")
    assert c.add_pip_as_python_dependency is False and c.channel_priority == "flexible"
    assert c.target_prefix == "/tmp/env" and c.override_osx == "13.0"
    assert c.pkgs_dir_for_writes == str(tmp_path / "pkgs")
    assert c.repodata_cache_dir == str(tmp_path / "pkgs" / "cache")
    assert c.config_files == ()


def test_replace_subdir_updates_subdirs_and_target_prefix(home):
    c = load(home, ["install", "-p", "/tmp/a", "x"]).replace(subdir="linux-aarch64", target_prefix="/tmp/b")
    assert c.subdirs == ("linux-aarch64", "noarch") and c.target_prefix == "/tmp/b"


def test_pkgs_dir_for_writes_skips_unwritable(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    c = Context.from_values(pkgs_dirs=[str(blocker / "pkgs"), str(tmp_path / "ok")])
    assert c.pkgs_dir_for_writes == str(tmp_path / "ok")
    from conda_deepdive.exceptions import NoWritablePkgsDirError

    with pytest.raises(NoWritablePkgsDirError, match="No writeable pkgs directories"):
        Context.from_values(pkgs_dirs=[str(blocker / "pkgs")]).pkgs_dir_for_writes


# --- target prefix ----------------------------------------------------------------------------

def test_target_prefix_from_flags_and_active_env(tmp_path, home):
    assert load(home, ["install", "-p", "~/envs/x", "y"]).target_prefix == str(home / "envs" / "x")
    by_name = load(home, ["install", "-n", "demo", "y"])
    assert by_name.target_prefix == os.path.join(by_name.envs_dirs[0], "demo")
    assert load(home, CONDA_PREFIX=str(tmp_path / "active")).target_prefix == str(tmp_path / "active")
    with pytest.raises(CondaValueError, match="Invalid environment name"):
        load(home, ["install", "-n", "a/b", "y"])


def test_existing_named_env_is_found(tmp_path, home):
    envs = tmp_path / "envs"
    (envs / "demo" / "conda-meta").mkdir(parents=True)
    c = load(home, ["install", "-n", "demo", "y"], CONDA_ENVS_DIRS=str(envs))
    assert c.target_prefix == str(envs / "demo")


# --- channel_config and the fidelity environment ---------------------------------------------

def test_channel_config_for_channel_model(home):
    pytest.importorskip("conda_deepdive.models.channel")
    write(home / ".condarc", "channel_alias: https://mirror.example/conda\n"
                             "custom_channels:\n  internal: https://internal.example\n")
    config = load(home, CONDA_DEEPDIVE_REAL_DEFAULTS="1").channel_config
    assert config.channel_alias == "https://mirror.example/conda"
    assert tuple(config.default_channels) == DEFAULT_CHANNELS
    assert dict(config.custom_channels) == {"internal": "https://internal.example"}


def test_the_fidelity_run_environment(tmp_path):
    """The settings real conda ran the cli_cases with come out of our cascade unchanged."""
    data = load_fidelity("cli_cases.json")
    case = next(c for c in data["cases"] if c["settings"]["channel_priority"] == "strict"
                and c["prefix"] is None)
    rc = write(tmp_path / "rc" / ".condarc",
               f"channel_priority: {case['settings']['channel_priority']}\n"
               f"add_pip_as_python_dependency: {str(case['settings']['add_pip_as_python_dependency']).lower()}\n")
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home), "CONDARC": str(rc),
           "CONDA_SUBDIR": case["subdir"], "CONDA_PKGS_DIRS": str(tmp_path / "pkgs"),
           "CONDA_OVERRIDE_GLIBC": "2.17", "CONDA_OVERRIDE_LINUX": "5.15", "CONDA_OVERRIDE_CUDA": "",
           "CONDA_OVERRIDE_ARCHSPEC": "x86_64"}
    argv = [case["command"], "--dry-run", "--json", "--override-channels"]
    for ch in case["channels"]:
        argv += ["-c", f"file:///chan/{ch}"]
    argv += ["-p", str(tmp_path / "env"), "--repodata-fn", "repodata.json", *case["specs"]]
    c = Context.load(parse_command(argv).namespace, env=env, search_path=USER_SEARCH_PATH)
    assert c.channel_priority == "strict" and c.source_of("channel_priority") == str(rc)
    assert c.add_pip_as_python_dependency is case["settings"]["add_pip_as_python_dependency"]
    assert c.subdirs == (case["subdir"], "noarch")
    assert c.channels == tuple(f"file:///chan/{ch}" for ch in case["channels"])
    assert c.repodata_fns == ("repodata.json",)
    assert c.pkgs_dirs == (str(tmp_path / "pkgs"),)
    assert (c.dry_run, c.json, c.override_cuda) == (True, True, "")
    assert c.target_prefix == str(tmp_path / "env")


def test_vars_in_paths_expand_from_the_passed_env(tmp_path, home):
    write(home / ".condarc", "pkgs_dirs:\n  - $CACHE_ROOT/pkgs\n  - ~/more\n")
    c = load(home, CACHE_ROOT=str(tmp_path / "cache"))
    assert c.pkgs_dirs == (str(tmp_path / "cache" / "pkgs"), str(home / "more"))
    assert c.replace(offline=True).pkgs_dirs == c.pkgs_dirs


def test_named_env_condarc_is_read_for_n(tmp_path, home):
    envs = tmp_path / "envs"
    write(envs / "demo" / "conda-meta" / "history", "")
    write(envs / "demo" / ".condarc", "channel_priority: strict\n")
    c = load(home, ["install", "-n", "demo", "y"], CONDA_ENVS_DIRS=str(envs))
    assert c.target_prefix == str(envs / "demo")
    assert c.channel_priority == "strict" and c.source_of("channel_priority") == str(envs / "demo" / ".condarc")
