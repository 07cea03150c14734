"""History: conda-meta/history parsing, requested specs, and conda's exact write format."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conda_deepdive.index.history import History, parse_comment_line

CHAN = "file:///channels/test-index4/linux-64"


def _install(prefix: Path, *names: str) -> None:
    meta = prefix / "conda-meta"
    meta.mkdir(parents=True, exist_ok=True)
    for name in names:
        data = {"name": name, "version": "1.0", "build": "0", "build_number": 0, "channel": CHAN,
                "subdir": "linux-64", "fn": f"{name}-1.0-0.tar.bz2", "depends": []}
        (meta / f"{name}-1.0-0.json").write_text(json.dumps(data))


HISTORY = """\
==> 2018-10-10 12:00:00 <==
# cmd: /opt/conda/bin/conda create -p /envs/x python=3.6 numpy
# conda version: 4.5.11
+defaults::python-3.6.6-0
+defaults::numpy-1.15.0-py36_0
# update specs: ['python=3.6', 'numpy']
==> 2018-10-11 09:00:00 <==
# cmd: conda install -p /envs/x "pandas>=0.20"
# conda version: 26.7.1
+defaults::pandas-0.23.0-py36_0
# update specs: ['pandas[version=\\'>=0.20\\']']
==> 2018-10-12 09:00:00 <==
# cmd: conda remove -p /envs/x numpy
-defaults::numpy-1.15.0-py36_0
# remove specs: ['numpy']
==> 2018-10-13 09:00:00 <==
# cmd: conda install scipy
+defaults::scipy-1.1.0-py36_0
# update specs: ['scipy']
# neutered specs: ['python']
"""


@pytest.fixture
def prefix(tmp_path: Path) -> Path:
    p = tmp_path / "env"
    _install(p, "python", "pandas", "scipy")
    (p / "conda-meta" / "history").write_text(HISTORY)
    return p


def test_parse_revisions(prefix: Path) -> None:
    revs = History(prefix).parse()
    assert [r.date for r in revs] == ["2018-10-10 12:00:00", "2018-10-11 09:00:00",
                                      "2018-10-12 09:00:00", "2018-10-13 09:00:00"]
    assert revs[0].diffs == {"+defaults::python-3.6.6-0", "+defaults::numpy-1.15.0-py36_0"}
    assert revs[2].comments[-1] == "# remove specs: ['numpy']"


def test_requested_specs_replay_update_remove_neutered(prefix: Path) -> None:
    specs = History(prefix).get_requested_specs_map()
    # numpy was removed; python neutered to a bare name; only installed names survive
    assert {k: str(v) for k, v in specs.items()} == {
        "python": "python", "pandas": "pandas[version='>=0.20']", "scipy": "scipy"}


def test_not_installed_names_are_dropped(tmp_path: Path) -> None:
    p = tmp_path / "env"
    _install(p, "python")
    (p / "conda-meta" / "history").write_text(HISTORY)
    assert list(History(p).get_requested_specs_map()) == ["python"]


def test_user_requests_and_state(prefix: Path) -> None:
    h = History(prefix)
    reqs = h.get_user_requests()
    assert reqs[0]["cmd"][:2] == ["conda", "create"]
    assert reqs[0]["conda_version"] == "4.5.11"
    assert reqs[2]["remove_specs"] == ["numpy"]
    assert h.get_state() == {"defaults::python-3.6.6-0", "defaults::pandas-0.23.0-py36_0",
                             "defaults::scipy-1.1.0-py36_0"}
    assert h.get_state(0) == {"defaults::python-3.6.6-0", "defaults::numpy-1.15.0-py36_0"}


def test_old_unbracketed_spec_lists() -> None:
    item = parse_comment_line("# install specs: python>=3.5,numpy >=1.11,<2.0,feat@")
    assert item["update_specs"] == ["python>=3.5", "numpy >=1.11,<2.0"]
    assert parse_comment_line("# cmd: /x/bin/conda install a")["cmd"] == ["conda", "install", "a"]


def test_missing_history_is_empty(tmp_path: Path) -> None:
    h = History(tmp_path)
    assert h.parse() == [] and h.get_requested_specs_map() == {} and h.get_state() == set()


def test_write_changes_matches_conda_format(tmp_path: Path) -> None:
    """The reference revision of ../shared/reference/link/08_history_demo.txt, rebuilt."""
    from conftest import shared_path

    ref = shared_path("reference", "link", "08_history_demo.txt").read_text()
    cmd = re.search(r"# cmd: (.*)", ref).group(1)
    plus = [line[1:] for line in ref.splitlines() if line.startswith("+")]
    h = History(tmp_path / "demo")
    text = h.write_changes([], list(reversed(plus)), cmd, update_specs=["hookpkg", "softpkg", "pyhello"])
    # identical apart from the time stamp
    strip = lambda s: re.sub(r"==> .* <==", "==> T <==", s)  # noqa: E731
    assert strip(text) == strip(ref)
    assert (tmp_path / "demo" / "conda-meta" / "history").read_text() == text


def test_write_changes_appends_atomically(tmp_path: Path) -> None:
    h = History(tmp_path)
    h.write_changes([], ["c::a-1-0"], "conda create a", update_specs=["a"])
    h.write_changes(["c::a-1-0"], ["c::a-2-0"], ["conda", "update", "a"], update_specs=["a"],
                    neutered_specs=["b"], remove_specs=["z"])
    text = (tmp_path / "conda-meta" / "history").read_text()
    assert text.count("==> ") == 2
    second = text.split("==> ")[2]
    assert second.splitlines()[1:] == [
        "# cmd: conda update a", "# conda version: 26.7.1", "-c::a-1-0", "+c::a-2-0",
        "# remove specs: ['z']", "# update specs: ['a']", "# neutered specs: ['b']"]
    assert [p.name for p in (tmp_path / "conda-meta").iterdir()] == ["history"]  # no temp left
    assert len(h.parse()) == 2
