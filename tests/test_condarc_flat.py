"""The flat-condarc fast path (config/condarc.py) reads exactly what ruamel.yaml reads, or defers."""

from __future__ import annotations

import pytest

from conda_deepdive.config import condarc


def _plain(v):
    value = v.value
    if isinstance(value, tuple):
        value = tuple(_plain(x) for x in value)
    elif isinstance(value, dict):
        value = {k: _plain(x) for k, x in value.items()}
    return (type(value).__name__, value, v.key_flag, v.item_flags, v.source, v.key)


def _layer_values(layer):
    return {k: _plain(v) for k, v in layer.values.items()}


TEXTS = [
    "",
    "\n\n",
    "channel_priority: strict\nadd_pip_as_python_dependency: true\n",
    "channel_priority: flexible\nalways_yes: false",
    "auto_update_conda: false\n\nchannel_priority: disabled\n",
    "solver: classic\nrepodata_fns: current_repodata-json\n",
    # everything below must defer to ruamel
    "channel_priority: strict #!final\n",
    "channel_priority: strict\n# !final\n",
    "channels:\n  - conda-forge\n",
    "always_yes: yes\n",
    "always_yes: on\n",
    "offline: null\n",
    "x: True\n",
    "true: strict\n",
    "a: b\na: c\n",
    "a: 'b'\n",
    "a: b \n",
    "a: b\r\n",
    "a:  b\n",
    "%YAML 1.1\n---\na: yes\n",
    "a: 1\n",
    "a: b-1_2\n",
]


@pytest.mark.parametrize("text", TEXTS)
def test_flat_condarc_matches_ruamel(tmp_path, monkeypatch, text):
    path = tmp_path / "condarc"
    path.write_text(text)
    try:
        fast = _layer_values(condarc.load_condarc_file(str(path)))
    except Exception as exc:  # noqa: BLE001 - compared below
        fast = type(exc).__name__
    monkeypatch.setattr(condarc, "_flat_condarc", lambda text: None)
    try:
        slow = _layer_values(condarc.load_condarc_file(str(path)))
    except Exception as exc:  # noqa: BLE001
        slow = type(exc).__name__
    assert fast == slow


def test_flat_condarc_defers_when_unsure():
    assert condarc._flat_condarc("channel_priority: strict\nalways_yes: true\n") == {
        "channel_priority": "strict", "always_yes": True}
    for text in TEXTS[6:]:
        if text != "a: b-1_2\n":
            assert condarc._flat_condarc(text) is None, text
