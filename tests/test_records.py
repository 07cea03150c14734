"""PackageRecord / PackageCacheRecord / PrefixRecord: construction, identity, dumps."""

from __future__ import annotations

import json
import pickle

import pytest

from conda_deepdive.models import (
    Channel,
    LinkType,
    MatchSpec,
    NoarchType,
    PackageCacheRecord,
    PackageRecord,
    PackageType,
    PrefixRecord,
)
from conda_deepdive.models.match_spec import combined_depends, exact_spec
from conda_deepdive.models.records import records_from_repodata

from conftest import shared_path

RAW = {
    "build": "py37h6a91979_0",
    "build_number": 0,
    "depends": ["python >=3.7,<3.8.0a0", "libcxx >=4.0.1", "mkl >=2018.0.3"],
    "constrains": ["numpy-base 1.15.1"],
    "license": "BSD 3-Clause",
    "md5": "0b1c4a1b0c2a9f6d0d5a8c0f6b8e4c11",
    "name": "numpy",
    "sha256": "ab" * 32,
    "size": 48123,
    "subdir": "osx-64",
    "timestamp": 1535410316,  # seconds: normalised to ms
    "track_features": "mkl  debug",
    "version": "1.15.1",
}


def _rec(**kw):
    fields = dict(name="numpy", version="1.15.1", build="py37_0", build_number=0, subdir="osx-64",
                  channel=Channel("https://repo.anaconda.com/pkgs/main/osx-64"))
    fields.update(kw)
    return PackageRecord(**fields)


def test_from_repodata_fills_channel_url_and_normalises():
    chan = Channel("https://repo.anaconda.com/pkgs/main")
    rec = PackageRecord.from_repodata("numpy-1.15.1-py37h6a91979_0.tar.bz2", RAW, chan, "osx-64",
                                      "https://repo.anaconda.com/pkgs/main/osx-64")
    assert rec.url == "https://repo.anaconda.com/pkgs/main/osx-64/numpy-1.15.1-py37h6a91979_0.tar.bz2"
    assert rec.fn == "numpy-1.15.1-py37h6a91979_0.tar.bz2"
    assert rec.channel.platform == "osx-64" and str(rec.channel) == "https://repo.anaconda.com/pkgs/main/osx-64"
    assert rec.channel.canonical_name == "defaults"
    assert rec.depends == ("python >=3.7,<3.8.0a0", "libcxx >=4.0.1", "mkl >=2018.0.3")
    assert isinstance(rec.depends, tuple) and isinstance(rec.constrains, tuple)
    assert rec.track_features == ("mkl", "debug")
    assert rec.timestamp == 1535410316000
    assert rec.dist_str() == "defaults/osx-64::numpy-1.15.1-py37h6a91979_0"
    assert rec.record_id() == "pkgs/main/osx-64::numpy-1.15.1-py37h6a91979_0"
    assert rec.namekey == "global:numpy"
    assert repr(rec) == "PackageRecord('defaults/osx-64::numpy-1.15.1-py37h6a91979_0')"
    assert str(rec) == "defaults/osx-64::numpy==1.15.1=py37h6a91979_0"


def test_from_repodata_subdir_of_the_file_wins_and_base_url_defaults_to_channel():
    raw = dict(RAW, subdir="linux-64")
    rec = PackageRecord.from_repodata("n.tar.bz2", raw, Channel("conda-forge"), "osx-64")
    assert rec.subdir == "osx-64"
    assert rec.url == "https://conda.anaconda.org/conda-forge/osx-64/n.tar.bz2"


def test_timestamps_in_ms_are_kept():
    assert _rec(timestamp=1535410316123).timestamp == 1535410316123
    assert _rec(timestamp=1535410316).timestamp == 1535410316000
    assert _rec().timestamp == 0 and "timestamp" not in _rec().to_dict()


def test_version_order_is_lazy_and_cached():
    rec = _rec(version="1.10.0")
    assert rec._vo is None
    vo = rec.version_order
    assert rec.version_order is vo and str(vo) == "1.10.0"
    assert rec.version_order > _rec(version="1.9.5").version_order


def test_identity_is_the_pkey():
    a = _rec(md5="a")
    b = _rec(md5="b", channel=Channel("defaults"))  # same canonical channel, other details
    assert a == b and hash(a) == hash(b)
    assert a != _rec(build_number=1)
    assert a != _rec(channel=Channel("conda-forge"))
    assert len({a, b, _rec(build="py36_0")}) == 2


def test_records_are_immutable_and_replace_makes_copies():
    rec = _rec()
    with pytest.raises(AttributeError):
        rec.name = "scipy"  # type: ignore[misc]
    other = rec.replace(version="1.16.0")
    assert other.version == "1.16.0" and rec.version == "1.15.1"
    assert pickle.loads(pickle.dumps(rec)) == rec


def test_to_dict_round_trip_and_conda_key_order():
    chan = Channel("https://repo.anaconda.com/pkgs/main")
    rec = PackageRecord.from_repodata("numpy-1.15.1-py37h6a91979_0.tar.bz2", RAW, chan, "osx-64",
                                      "https://repo.anaconda.com/pkgs/main/osx-64")
    d = rec.to_dict()
    assert list(d) == ["name", "version", "build", "build_number", "channel", "subdir", "fn", "md5", "url",
                       "sha256", "depends", "constrains", "track_features", "license", "timestamp", "size"]
    assert d["track_features"] == "mkl debug"
    assert d["channel"] == "https://repo.anaconda.com/pkgs/main/osx-64"
    again = PackageRecord.from_dict(json.loads(json.dumps(d)))
    assert again == rec and again.to_dict() == d


def test_noarch_and_package_type():
    rec = _rec(noarch="python")
    assert rec.noarch is NoarchType.python and rec.noarch == "python"
    assert rec.package_type is PackageType.NOARCH_PYTHON
    assert _rec(noarch=True).noarch is NoarchType.generic
    assert _rec().package_type is None
    assert rec.to_dict()["package_type"] == "noarch_python"


def test_channel_and_fn_and_subdir_derived_from_url():
    url = "https://conda.anaconda.org/conda-forge/linux-64/zlib-1.2.11-0.tar.bz2"
    rec = PackageRecord(name="zlib", version="1.2.11", build="0", build_number=0, url=url)
    assert rec.channel.canonical_name == "conda-forge"
    assert rec.subdir == "linux-64" and rec.fn == "zlib-1.2.11-0.tar.bz2"


def test_missing_required_fields_name_what_is_missing():
    from conda_deepdive.exceptions import CondaValueError

    with pytest.raises(CondaValueError, match="version"):
        PackageRecord(name="x", build="0")


def test_combined_depends_merges_depends_and_makes_constrains_optional():
    rec = _rec(depends=["python >=3.7", "python <3.8", "mkl"], constrains=["numpy-base 1.15.1", "mkl >=2018"])
    by_name = {ms.name: ms for ms in combined_depends(rec)}
    assert set(by_name) == {"python", "mkl", "numpy-base"}
    assert by_name["numpy-base"].optional is True
    assert by_name["mkl"].optional is False
    assert by_name["python"].match({"name": "python", "version": "3.7.1", "build": "0", "build_number": 0})
    assert not by_name["python"].match({"name": "python", "version": "3.8.0", "build": "0", "build_number": 0})


def test_dict_like_access_and_match_spec_round_trip():
    rec = _rec(license="BSD")
    assert rec["name"] == "numpy" and rec.get("md5", "none") == "none" and "license" in rec
    with pytest.raises(KeyError):
        rec["nope"]
    assert exact_spec(rec).match(rec)
    assert str(exact_spec(rec)) == "defaults/osx-64::numpy==1.15.1=py37_0"
    assert MatchSpec.from_dist_str(rec.dist_str()).match(rec)
    assert not MatchSpec.from_dist_str("conda-forge/osx-64::numpy-1.15.1-py37_0").match(rec)


def test_records_from_repodata_reads_both_package_maps(tmp_path):
    repodata = {
        "info": {"subdir": "linux-64", "arch": "x86_64", "platform": "linux"},
        "packages": {"a-1-0.tar.bz2": {"name": "a", "version": "1", "build": "0", "build_number": 0}},
        "packages.conda": {"b-2-0.conda": {"name": "b", "version": "2", "build": "0", "build_number": 0,
                                            "depends": ["a"]}},
    }
    chan = Channel(tmp_path.as_uri())
    recs = records_from_repodata(repodata, chan)
    assert [r.fn for r in recs] == ["a-1-0.tar.bz2", "b-2-0.conda"]
    assert recs[1].url == f"{tmp_path.as_uri()}/linux-64/b-2-0.conda"
    assert recs[0].arch == "x86_64" and recs[0].platform == "linux"
    assert recs[1].depends == ("a",)


def test_real_repodata_loads_into_records():
    path = shared_path("data", "channels", "main-osx64-2018", "osx-64", "repodata.json")
    repodata = json.loads(path.read_text())
    chan = Channel(path.parent.parent.as_uri())
    recs = records_from_repodata(repodata, chan)
    assert len(recs) == len(repodata["packages"]) + len(repodata.get("packages.conda") or {})
    assert all(r.subdir == "osx-64" for r in recs)
    numpy = [r for r in recs if r.name == "numpy"]
    assert numpy and all(MatchSpec("numpy").match(r) for r in numpy)
    assert all(isinstance(r.timestamp, int) for r in recs)


def test_repodata_record_json_round_trips_exactly():
    path = shared_path("reference", "link", "09_pkgs_cache.json")
    for key, raw in json.loads(path.read_text())["repodata_record_json"].items():
        rec = PackageRecord.from_dict(raw)
        assert rec.to_dict() == raw, key
        assert list(rec.to_dict()) == list(raw), key
        assert rec.dist_str() == f"file:///tmp/ref/channel/{rec.subdir}::{key}"


def test_from_repodata_matches_what_conda_wrote_for_noarch_packages():
    repodata_path = shared_path("data", "channels", "linkdemo", "noarch", "repodata.json")
    ref = json.loads(shared_path("reference", "link", "09_pkgs_cache.json").read_text())["repodata_record_json"]
    repodata = json.loads(repodata_path.read_text())
    for rec in records_from_repodata(repodata, Channel("file:///tmp/ref/channel")):
        key = rec.fn.rsplit(".tar.bz2", 1)[0].rsplit(".conda", 1)[0]
        assert rec.to_dict() == ref[key], key


def test_prefix_records_round_trip_conda_meta_files():
    meta = shared_path("reference", "link", "conda-meta", "demo")
    files = sorted(meta.glob("*.json"))
    assert files
    for f in files:
        raw = json.loads(f.read_text())
        rec = PrefixRecord.load(f)
        assert rec.to_dict() == raw, f.name
        assert list(rec.to_dict()) == list(raw), f.name
        assert json.loads(rec.to_json()) == raw
        assert rec.link["type"] is LinkType.hardlink
        assert rec.files and rec.paths_data["paths_version"] == 1
        if "requested_spec" in raw:
            assert rec.requested_specs == tuple(raw["requested_specs"])


def test_prefix_record_payloads_are_read_only():
    rec = PrefixRecord(name="x", version="1", build="0", build_number=0, files=["a"],
                       paths_data={"paths_version": 1, "paths": [{"_path": "a", "path_type": "hardlink"}]},
                       link={"source": "/pkgs/x-1-0", "type": "hard"}, requested_spec="x")
    assert rec.link["type"] is LinkType.hardlink
    with pytest.raises(TypeError):
        rec.paths_data["paths_version"] = 2
    d = rec.to_dict()
    assert d["link"] == {"source": "/pkgs/x-1-0", "type": 1}
    assert d["requested_spec"] == "x" and d["requested_specs"] == ["x"]
    assert rec.replace(requested_spec="y").requested_spec == "y"


def test_package_cache_record_paths_and_md5(tmp_path):
    tarball = tmp_path / "x-1-0.tar.bz2"
    tarball.write_bytes(b"not really a tarball")
    (tmp_path / "x-1-0" / "info").mkdir(parents=True)
    (tmp_path / "x-1-0" / "info" / "index.json").write_text("{}")
    rec = PackageCacheRecord(name="x", version="1", build="0", build_number=0,
                             package_tarball_full_path=str(tarball), extracted_package_dir=str(tmp_path / "x-1-0"))
    import hashlib

    assert rec.md5 == hashlib.md5(b"not really a tarball").hexdigest()
    assert rec.is_fetched and rec.is_extracted and rec.tarball_basename == "x-1-0.tar.bz2"
    d = rec.to_dict()
    assert list(d)[-2:] == ["package_tarball_full_path", "extracted_package_dir"]
