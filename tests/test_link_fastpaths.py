"""The per-file shortcuts of linking give the same answers as the plain code they replace."""

from __future__ import annotations

import json
import os

import pytest

import conda_deepdive.link.path_actions  # noqa: F401  (imports generated_actions in the right order)
from conda_deepdive.link.generated_actions import _json_indent2
from conda_deepdive.link.link import PathData
from conda_deepdive.models.enums import LinkType
from conda_deepdive.transaction.transaction import _lexists_in

JSON_CASES = [
    {"a": 1, "b": [{"x": "é\n\u2028\"\\", "y": True, "z": None, "f": 1.5, "n": float("nan")}, {}], "c": {}, "d": [],
     "e": LinkType.hardlink, "g": {"k": [1, 2, [3, {"q": "r"}]]}},
    [], {}, "s", 3, [[]], {1: 2, "k": {2: "x", "y": "z"}}, {"a": {"b": {"c": "d"}}},
    {"paths_data": {"paths_version": 1, "paths": [
        {"_path": "bin/x", "path_type": "hardlink", "sha256": "0" * 64, "size_in_bytes": 10**30},
        {"_path": "lib/y", "no_link": True, "path_type": "softlink", "size_in_bytes": -1}]}},
]


@pytest.mark.parametrize("obj", JSON_CASES)
def test_json_writer_is_json_dumps_indent_2(obj):
    assert _json_indent2(obj) == json.dumps(obj, indent=2)


def test_lexists_in_agrees_with_os_path_lexists(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "f").write_text("x")
    (tmp_path / "file").write_text("x")
    os.symlink("nowhere", tmp_path / "a" / "dangling")
    memo: dict = {}
    for short in ("a/b/f", "a/b/g", "a/dangling", "a/c/f", "x/y/z", "file/child", "file", "a", "a/b"):
        assert _lexists_in(str(tmp_path), short, memo) == os.path.lexists(tmp_path / short), short


def test_path_data_replace_and_to_dict():
    pd = PathData("bin/x", "hardlink", "0" * 64, 3, None, None, False, None)
    new = pd.replace(sha256_in_prefix="1" * 64, no_link=1)
    assert (new.path, new.sha256, new.size_in_bytes, new.no_link, new.sha256_in_prefix) == (
        "bin/x", "0" * 64, 3, True, "1" * 64)
    assert list(new.to_dict()) == ["_path", "no_link", "path_type", "sha256", "size_in_bytes", "sha256_in_prefix"]
    with pytest.raises(TypeError):
        pd.replace(colour="red")
