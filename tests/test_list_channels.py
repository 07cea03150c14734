"""``conda list``'s Channel column names each installed record's channel the way real conda does.

conda 26 (``conda/cli/main_list.py::list_packages``) prints ``prec.channel_name`` — the
record's ``channel.canonical_name`` — and leaves it out when it is ``defaults`` unless
``show_channel_urls`` is on. ``canonical_name`` (``conda/models/channel.py``) is the multichannel
name for a member of ``default_channels`` / ``custom_multichannels``, the bare name for a channel
in ``custom_channels`` or under ``channel_alias``, and otherwise ``scheme://location/name``.

Which of these a ``conda-meta`` record gets depends on the *configured* channel settings, so the
records must be read with the Context's ``ChannelConfig`` — here the teaching-defaults layer
(``default_channels`` = conda_deepdive/data/channels/pkgs/{main,free}, ``channel_alias`` = data/channels/pkgs,
``custom_channels`` conda-forge → data/channels/cloud).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conda_deepdive.cli import main as cli_main
from conda_deepdive.config.teaching_defaults import channels_dir

ROOT = channels_dir().as_uri()  # file:///…/data/channels
PKGS_MAIN = f"{ROOT}/pkgs/main"           # a default channel
CONDA_FORGE = f"{ROOT}/cloud/conda-forge"  # a custom channel
UNDER_ALIAS = f"{ROOT}/pkgs/extra"        # a bare name under channel_alias ("extra")
ELSEWHERE = "file:///srv/workshop/mychan"  # configured nowhere

#: (name, version, build, channel URL as conda-meta stores it, or None: derive it from "url")
RECORDS = (
    ("python", "3.11.9", "h955ad1f_0", f"{PKGS_MAIN}/linux-64"),
    ("tzdata", "2024a", "h04d1e81_0", f"{PKGS_MAIN}/noarch"),
    ("numpy", "1.26.4", "py311h_0", f"{CONDA_FORGE}/linux-64"),
    ("zlib", "1.2.13", "h4ab18f5_6", None),  # no "channel" key: conda falls back to the url
    ("extrapkg", "1.0", "0", f"{UNDER_ALIAS}/linux-64"),
    ("mypkg", "0.1", "0", f"{ELSEWHERE}/linux-64"),
)
CHANNEL_OF_URL = {"zlib": f"{CONDA_FORGE}/linux-64"}


def _fake_env(tmp_path: Path) -> Path:
    prefix = tmp_path / "env"
    meta = prefix / "conda-meta"
    meta.mkdir(parents=True)
    (meta / "history").write_text("")
    for name, version, build, channel in RECORDS:
        chan_url = channel or CHANNEL_OF_URL[name]
        subdir = chan_url.rsplit("/", 1)[1]
        fn = f"{name}-{version}-{build}.conda"
        data = {"name": name, "version": version, "build": build, "build_number": 0,
                "subdir": subdir, "fn": fn, "url": f"{chan_url}/{fn}", "depends": [],
                "files": [], "paths_data": {"paths": [], "paths_version": 1}}
        if channel is not None:
            data["channel"] = channel
        (meta / f"{name}-{version}-{build}.json").write_text(json.dumps(data))
    return prefix


def _env(tmp_path: Path, **extra: str) -> dict:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {"HOME": str(home), **extra}


def _run(capsys, argv: list[str], env: dict) -> str:
    assert cli_main.main(argv, env=env) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def _channel_column(out: str) -> dict[str, str]:
    """``{name: Channel column}`` of ``conda list``'s human output ('' when left out)."""
    lines = out.splitlines()
    assert lines[0].startswith("# packages in environment at ")
    assert lines[2].split() == ["#", "Name", "Version", "Build", "Channel"]
    result = {}
    for line in lines[3:]:
        parts = line.split()
        assert len(parts) in (3, 4), line  # name version build [channel]; no features here
        result[parts[0]] = parts[3] if len(parts) == 4 else ""
    return result


# --- the three kinds of channel under the teaching defaults ----------------------------------

def test_channel_column_names_each_kind_like_conda(tmp_path, capsys):
    prefix = _fake_env(tmp_path)
    out = _run(capsys, ["list", "-p", str(prefix)], _env(tmp_path))
    assert _channel_column(out) == {
        "extrapkg": "extra",              # under channel_alias: the bare name
        "mypkg": ELSEWHERE,               # not configured: the channel's base URL
        "numpy": "conda-forge",           # custom_channels: the name
        "python": "",                     # a default channel: canonical 'defaults', left out
        "tzdata": "",
        "zlib": "conda-forge",            # no "channel" key: named from its url
    }
    assert "file://" + str(channels_dir()) not in out  # the defect: teaching URLs leaked


def test_show_channel_urls_prints_defaults_by_name(tmp_path, capsys):
    # conda 26 prints channel_name (not a URL) even with --show-channel-urls
    prefix = _fake_env(tmp_path)
    out = _run(capsys, ["list", "-p", str(prefix), "--show-channel-urls"], _env(tmp_path))
    column = _channel_column(out)
    assert column["python"] == column["tzdata"] == "defaults"
    assert column["numpy"] == "conda-forge" and column["mypkg"] == ELSEWHERE


def test_show_channel_urls_false_hides_every_channel(tmp_path, capsys):
    prefix = _fake_env(tmp_path)
    env = _env(tmp_path)
    Path(env["HOME"], ".condarc").write_text("show_channel_urls: false\n")
    out = _run(capsys, ["list", "-p", str(prefix)], env)
    assert set(_channel_column(out).values()) == {""}


def test_canonical_output_uses_canonical_names(tmp_path, capsys):
    prefix = _fake_env(tmp_path)
    out = _run(capsys, ["list", "-p", str(prefix), "--canonical"], _env(tmp_path))
    assert out.splitlines() == [
        "extra/linux-64::extrapkg-1.0-0",
        f"{ELSEWHERE}/linux-64::mypkg-0.1-0",
        "conda-forge/linux-64::numpy-1.26.4-py311h_0",
        "defaults/linux-64::python-3.11.9-h955ad1f_0",
        "defaults/noarch::tzdata-2024a-h04d1e81_0",
        "conda-forge/linux-64::zlib-1.2.13-h4ab18f5_6",
    ]


def test_json_gives_channel_name_and_base_url(tmp_path, capsys):
    # conda's dist_fields_dump: "channel" is channel.name, "base_url" the channel root
    prefix = _fake_env(tmp_path)
    data = json.loads(_run(capsys, ["list", "-p", str(prefix), "--json"], _env(tmp_path)))
    got = {d["name"]: (d["channel"], d["base_url"], d["platform"]) for d in data}
    assert got == {
        "extrapkg": ("extra", UNDER_ALIAS, "linux-64"),
        "mypkg": ("mychan", ELSEWHERE, "linux-64"),
        "numpy": ("conda-forge", CONDA_FORGE, "linux-64"),
        # the teaching channel_alias is data/channels/pkgs, so this default channel is "main"
        "python": ("main", PKGS_MAIN, "linux-64"),
        "tzdata": ("main", PKGS_MAIN, "noarch"),
        "zlib": ("conda-forge", CONDA_FORGE, "linux-64"),
    }


# --- the names follow the configuration, not a hard-coded list --------------------------------

def test_real_defaults_name_the_teaching_channels_by_url(tmp_path, capsys):
    # under conda's own built-in settings none of these file:// channels is configured
    prefix = _fake_env(tmp_path)
    out = _run(capsys, ["list", "-p", str(prefix)], _env(tmp_path, CONDA_DEEPDIVE_REAL_DEFAULTS="1"))
    assert _channel_column(out) == {
        "extrapkg": UNDER_ALIAS, "mypkg": ELSEWHERE, "numpy": CONDA_FORGE,
        "python": PKGS_MAIN, "tzdata": PKGS_MAIN, "zlib": CONDA_FORGE,
    }


def test_condarc_custom_channel_and_alias_rename(tmp_path, capsys):
    prefix = _fake_env(tmp_path)
    env = _env(tmp_path)
    Path(env["HOME"], ".condarc").write_text(
        "custom_channels:\n  mychan: file:///srv/workshop\n")
    assert _channel_column(_run(capsys, ["list", "-p", str(prefix)], env))["mypkg"] == "mychan"
    env["CONDA_CHANNEL_ALIAS"] = "file:///srv/workshop"
    column = _channel_column(_run(capsys, ["list", "-p", str(prefix)], env))
    # pkgs/extra is no longer under the alias; default_channels still come from the teaching layer
    assert column["extrapkg"] == UNDER_ALIAS and column["python"] == ""


# --- PrefixData itself ---------------------------------------------------------------------------

def test_prefix_data_reads_records_with_the_given_config(tmp_path):
    from conda_deepdive.config.context import Context
    from conda_deepdive.index.prefix_data import PrefixData

    prefix = _fake_env(tmp_path)
    context = Context.load(env=_env(tmp_path))
    pd = PrefixData(prefix, channel_config=context.channel_config)
    assert pd.get("python").channel.canonical_name == "defaults"
    assert pd.get("python").dist_str() == "defaults/linux-64::python-3.11.9-h955ad1f_0"
    assert pd.get("numpy").channel.canonical_name == "conda-forge"
    # what is written back to conda-meta is unchanged: the channel URL with its subdir
    assert pd.get("python").to_dict()["channel"] == f"{PKGS_MAIN}/linux-64"
    # equal to the same build coming from the index (records compare by canonical name)
    from conda_deepdive.models import Channel, PackageRecord

    from_index = PackageRecord(name="python", version="3.11.9", build="h955ad1f_0", subdir="linux-64",
                               channel=Channel(f"{PKGS_MAIN}/linux-64", context.channel_config))
    assert pd.get("python") == from_index
    # without a config, conda's built-in settings apply (and the teaching URL stays a URL)
    assert PrefixData(prefix).get("python").channel.canonical_name == PKGS_MAIN


@pytest.mark.parametrize("argv", [["--json"], ["--canonical"], []])
def test_unknown_channel_record(tmp_path, capsys, argv):
    # a record with neither channel nor url is conda's "<unknown>" channel
    prefix = tmp_path / "env"
    (prefix / "conda-meta").mkdir(parents=True)
    (prefix / "conda-meta" / "odd-1.0-0.json").write_text(json.dumps(
        {"name": "odd", "version": "1.0", "build": "0", "build_number": 0, "subdir": "linux-64"}))
    out = _run(capsys, ["list", "-p", str(prefix), *argv], _env(tmp_path))
    if argv == ["--json"]:
        assert json.loads(out)[0]["channel"] == "<unknown>" and json.loads(out)[0]["base_url"] is None
    elif argv == ["--canonical"]:
        assert out.splitlines() == ["<unknown>/linux-64::odd-1.0-0"]
    else:
        assert _channel_column(out) == {"odd": "<unknown>"}
