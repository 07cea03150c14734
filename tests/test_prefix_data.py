"""PrefixData: reading conda-meta/*.json into PrefixRecords (conda.core.prefix_data)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conda_deepdive.index.prefix_data import CorruptedPrefixRecordError, PrefixData

CHAN = "file:///channels/test-index1/linux-64"


def _write(prefix: Path, name: str, version: str, build: str, depends=(), **extra) -> None:
    meta = prefix / "conda-meta"
    meta.mkdir(parents=True, exist_ok=True)
    fn = f"{name}-{version}-{build}.tar.bz2"
    data = {"name": name, "version": version, "build": build, "build_number": 0,
            "depends": list(depends), "fn": fn, "url": f"{CHAN}/{fn}", "channel": CHAN,
            "subdir": "linux-64", "files": [], "paths_data": {"paths": [], "paths_version": 1}}
    data.update(extra)
    (meta / f"{name}-{version}-{build}.json").write_text(json.dumps(data))


@pytest.fixture
def prefix(tmp_path: Path) -> Path:
    p = tmp_path / "env"
    _write(p, "python", "2.7.5", "0", ["zlib"])
    _write(p, "zlib", "1.2.7", "0")
    _write(p, "numpy", "1.7.1", "py27_0", ["python 2.7*"])
    (p / "conda-meta" / "history").write_text("==> 2018-10-10 12:00:00 <==\n")
    return p


def test_reads_every_record(prefix: Path) -> None:
    pd = PrefixData(prefix)
    names = [r.name for r in pd.iter_records()]
    assert names == ["numpy", "python", "zlib"]  # sorted by file name
    assert pd.get("python").version == "2.7.5"
    assert pd.get("scipy") is None
    assert pd.get("scipy", "absent") == "absent"
    assert "zlib" in pd and len(pd) == 3


def test_records_keep_channel_and_identity(prefix: Path) -> None:
    rec = PrefixData(prefix).get("numpy")
    assert rec.dist_str() == f"{CHAN}::numpy-1.7.1-py27_0"
    assert rec.channel.name == "test-index1"
    assert rec.files == () or list(rec.files) == []


def test_query_and_dependency_order(prefix: Path) -> None:
    pd = PrefixData(prefix)
    assert [r.name for r in pd.query("python >=2.7")] == ["python"]
    assert list(pd.query("python 3*")) == []
    order = [r.name for r in pd.iter_records_sorted()]
    assert order.index("zlib") < order.index("python") < order.index("numpy")


def test_is_environment_needs_history(tmp_path: Path, prefix: Path) -> None:
    assert PrefixData(prefix).is_environment()
    assert not PrefixData(tmp_path / "nowhere").is_environment()
    assert list(PrefixData(tmp_path / "nowhere").iter_records()) == []


def test_repr_is_readable(prefix: Path) -> None:
    assert repr(PrefixData(prefix)) == f"PrefixData({str(prefix)!r}, 3 records)"


def test_reload_sees_new_files(prefix: Path) -> None:
    pd = PrefixData(prefix)
    assert pd.get("six") is None
    _write(prefix, "six", "1.3.0", "py27_0")
    assert pd.get("six") is None  # cached
    assert pd.reload().get("six").version == "1.3.0"


def test_corrupt_record_names_the_file(prefix: Path) -> None:
    bad = prefix / "conda-meta" / "broken-1-0.json"
    bad.write_text("{not json")
    with pytest.raises(CorruptedPrefixRecordError) as info:
        list(PrefixData(prefix).iter_records())
    assert "broken-1-0.json" in str(info.value)
