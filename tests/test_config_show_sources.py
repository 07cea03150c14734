"""``config --show-sources`` shows the built-in ``teaching defaults`` layer, in conda's layout.

conda 26.7.1 (``conda.cli.main_config``) prints one ``==> source <==`` block per source with
``format_dict``, a blank line after each, joined and ``print``-ed; ``--json`` is one object.
"""

from __future__ import annotations

import json

from conda_deepdive.cli.main import main
from conda_deepdive.config.teaching_defaults import channels_dir

ROOT = channels_dir().as_uri()
TEACHING_BLOCK = (
    "==> teaching defaults <==\n"
    f"channel_alias: {ROOT}/pkgs\n"
    "default_channels:\n"
    f"  - {ROOT}/pkgs/main\n"
    f"  - {ROOT}/pkgs/free\n"
    "custom_channels:\n"
    f"  conda-forge: {ROOT}/cloud\n"
    "\n"
)


def _env(tmp_path, **extra) -> dict:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {"HOME": str(home), "PATH": "/usr/bin:/bin", **extra}


def test_clean_machine_shows_the_teaching_defaults(capsys, tmp_path):
    assert main(["config", "--show-sources"], env=_env(tmp_path)) == 0
    assert capsys.readouterr().out == TEACHING_BLOCK


def test_teaching_layer_comes_first_then_files_envvars_and_flags(capsys, tmp_path):
    env = _env(tmp_path, CONDA_CHANNEL_PRIORITY="strict")
    (tmp_path / "home" / ".condarc").write_text("channels:\n  - conda-forge\n")
    assert main(["config", "--show-sources"], env=env) == 0
    rc_file = tmp_path / "home" / ".condarc"
    assert capsys.readouterr().out == (
        TEACHING_BLOCK
        + f"==> {rc_file} <==\nchannels:\n  - conda-forge\n\n"
        + "==> envvars <==\nchannel_priority: strict\n\n")


def test_json_names_the_teaching_layer(capsys, tmp_path):
    assert main(["config", "--show-sources", "--json"], env=_env(tmp_path)) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["teaching defaults"] == {
        "channel_alias": f"{ROOT}/pkgs",
        "default_channels": [f"{ROOT}/pkgs/main", f"{ROOT}/pkgs/free"],
        "custom_channels": {"conda-forge": f"{ROOT}/cloud"},
    }
    assert doc["cmd_line"] == {"json": True}


def test_real_defaults_have_no_teaching_layer(capsys, tmp_path):
    env = _env(tmp_path, CONDA_DEEPDIVE_REAL_DEFAULTS="1")
    assert main(["config", "--show-sources"], env=env) == 0
    assert capsys.readouterr().out == "\n"  # what conda prints on a clean machine
