"""Stage 3 (index fetch) over ``file://``: counts, record completion, formats, fallbacks, errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import shared_path
from conda_deepdive.exceptions import CondaError, RepodataDecodeError, UnavailableInvalidChannel
from conda_deepdive.index.index import FetchInfo, Index, SubdirData, fetch_index
from conda_deepdive.reporting import RecordingReporter


def make_context(tmp_path: Path, **settings):
    from conda_deepdive.config.context import Context

    values = dict(
        pkgs_dirs=[str(tmp_path / "pkgs")],
        override_glibc="2.17", override_linux="5.15", override_osx="10.13",
        override_cuda="", override_archspec="x86_64",
    )
    values.update(settings)
    return Context.from_values(**values)


def channel_url(name: str) -> str:
    return shared_path("data", "channels", name).as_uri()


class WithSetting:
    """A Context plus settings it does not (yet) model, e.g. conda's ``use_only_tar_bz2``."""

    def __init__(self, context, **extra):
        self._context, self._extra = context, extra

    def __getattr__(self, name):
        if name in self._extra:
            return self._extra[name]
        return getattr(self._context, name)


def readme_table() -> list[tuple[str, str, int]]:
    text = shared_path("data", "channels", "README.md").read_text()
    rows = []
    for line in text.splitlines():
        m = re.match(r"\|\s*([\w-]+)\s*\|\s*([\w-]+)\s*\|\s*(\d+)\s*\|\s*\d+\s*\|", line)
        if m:
            rows.append((m.group(1), m.group(2), int(m.group(3))))
    return rows


def write_channel(root: Path, subdirs: dict[str, dict | bytes | None]) -> str:
    """A throw-away channel: ``{subdir: repodata dict | raw bytes | None (no file)}``."""
    for subdir, content in subdirs.items():
        d = root / subdir
        d.mkdir(parents=True, exist_ok=True)
        if content is None:
            continue
        data = content if isinstance(content, bytes) else json.dumps(content).encode()
        (d / "repodata.json").write_bytes(data)
    return root.as_uri()


def rec(name, version, build="0", depends=(), **extra):
    return {"name": name, "version": version, "build": build, "build_number": 0,
            "depends": list(depends), "md5": "0" * 32, "size": 1, **extra}


# -- counts against the shared channels' README table ---------------------------------------------
def test_counts_match_channel_readme(tmp_path):
    rows = readme_table()
    assert len(rows) >= 20, "README table not parsed"
    SubdirData.clear_memory_cache()
    for channel, subdir, count in rows:
        ctx = make_context(tmp_path, subdir=subdir if subdir != "noarch" else "linux-64")
        sd = SubdirData(channel_url(channel), subdir, ctx).load()
        assert len(sd.records) == count, (channel, subdir)
        assert sd.fetch_info.record_count == count
        assert sd.fetch_info.source == "file" and sd.fetch_info.cache == "none"


def test_large_osx_index_in_priority_order(tmp_path):
    names = ["main-osx64-2018", "free-osx64-2018", "bioconda-osx64-2018"]
    ctx = make_context(tmp_path, subdir="osx-64", channels=[channel_url(n) for n in names])
    index = fetch_index(ctx)
    assert isinstance(index, Index)
    assert len(index.records) == 9356 + 12987 + 16713
    assert [sd.subdir for sd in index.subdir_datas] == ["osx-64", "noarch"] * 3
    # records appear channel by channel, first channel first
    order = [r.url.split("/channels/")[1].split("/")[0] for r in index.records]
    first_change = order.index("free-osx64-2018")
    assert set(order[:first_change]) == {"main-osx64-2018"}
    assert order[-1] == "bioconda-osx64-2018"
    # by_name keeps that order too
    numpys = index.by_name["numpy"]
    assert numpys and all(r.name == "numpy" for r in numpys)
    assert sum(len(v) for v in index.by_name.values()) == len(index.records)
    summary = index.summary()
    json.dumps(summary)
    assert summary["record_count"] == 39056
    assert "39,056 records" in repr(index)


# -- record completion -----------------------------------------------------------------------------
def test_records_completed_with_channel_url_fn_subdir_and_info_values(tmp_path):
    ctx = make_context(tmp_path, subdir="osx-64")
    sd = SubdirData(channel_url("free-osx64-2018"), "osx-64", ctx).load()
    raw = json.loads(shared_path("data", "channels", "free-osx64-2018", "osx-64", "repodata.json").read_text())
    fn, raw_rec = next(iter(raw["packages"].items()))
    assert raw_rec.get("subdir") is None and raw_rec.get("arch") is None
    record = next(r for r in sd.records if r.fn == fn)
    assert record.url == f"{channel_url('free-osx64-2018')}/osx-64/{fn}"
    assert record.subdir == "osx-64"
    # conda overwrites arch/platform with the file's info values
    assert record.arch == "x86_64" and record.platform == "osx"
    # the record's channel is the channel narrowed to the subdir, like conda's SubdirData channel
    assert record.channel == sd.channel and record.channel.platform == "osx-64"
    assert record.channel.canonical_name == sd.channel.canonical_name


def test_info_without_arch_clears_record_arch(tmp_path):
    root = tmp_path / "ch"
    url = write_channel(root, {
        "linux-64": {"info": {"subdir": "linux-64"},
                     "packages": {"a-1-0.tar.bz2": rec("a", "1", arch="x86_64", platform="linux")}},
        "noarch": {"info": {"subdir": "noarch"}, "packages": {}},
    })
    sd = SubdirData(url, "linux-64", make_context(tmp_path)).load()
    (r,) = sd.records
    assert r.arch is None and r.platform is None  # as conda: info has neither


def test_add_pip_as_python_dependency(tmp_path):
    url = channel_url("test-index2")
    on = SubdirData(url, "linux-64", make_context(tmp_path, add_pip_as_python_dependency=True)).load()
    off = SubdirData(url, "linux-64", make_context(tmp_path, add_pip_as_python_dependency=False)).load()
    py_on = {r.fn: r for r in on.records if r.name == "python"}
    py_off = {r.fn: r for r in off.records if r.name == "python"}
    assert py_on.keys() == py_off.keys() and len(py_on) > 5
    for fn, r in py_on.items():
        if r.version.startswith(("2.", "3.")):
            assert tuple(r.depends) == (*py_off[fn].depends, "pip"), fn
        else:
            assert tuple(r.depends) == tuple(py_off[fn].depends), fn  # python 1.0.1: untouched
    assert any(not r.version.startswith(("2.", "3.")) for r in py_on.values())
    assert all("pip" not in r.depends for r in off.records if r.name == "python")


def test_conda_format_shadows_tar_bz2(tmp_path):
    url = channel_url("linkdemo")
    sd = SubdirData(url, "linux-64", make_context(tmp_path, add_pip_as_python_dependency=False)).load()
    fns = sorted(r.fn for r in sd.records)
    assert fns == ["failpkg-1.0-0.tar.bz2", "hookpkg-1.0-0.tar.bz2",
                   "python-3.11.2-mini_0.conda", "softpkg-1.0-0.conda"]
    only_bz2 = SubdirData(url, "linux-64", WithSetting(make_context(tmp_path), use_only_tar_bz2=True)).load()
    assert sorted(r.fn for r in only_bz2.records) == [
        "failpkg-1.0-0.tar.bz2", "hookpkg-1.0-0.tar.bz2", "python-3.11.2-mini_0.tar.bz2"]


def test_future_record_version_is_skipped(tmp_path):
    url = write_channel(tmp_path / "ch", {
        "linux-64": {"info": {"subdir": "linux-64"}, "packages": {
            "a-1-0.tar.bz2": rec("a", "1"), "b-1-0.tar.bz2": rec("b", "1", record_version=2)}},
        "noarch": {"packages": {}},
    })
    sd = SubdirData(url, "linux-64", make_context(tmp_path)).load()
    assert [r.name for r in sd.records] == ["a"]


# -- fetch_index mechanics ---------------------------------------------------------------------------
def test_noarch_always_included_and_virtual_packages_attached(tmp_path):
    ctx = make_context(tmp_path, subdir="linux-64", channels=[channel_url("test-index4")])
    index = fetch_index(ctx, subdirs=("linux-64",))
    assert index.subdirs == ("linux-64", "noarch")
    assert len(index.records) == 5305 + 338
    vps = {r.name: f"{r.version}={r.build}" for r in index.virtual_packages}
    assert vps == {"__archspec": "1=x86_64", "__conda": "26.7.1=0", "__glibc": "2.17=0",
                   "__linux": "5.15=0", "__unix": "0=0"}


def test_threads_keep_deterministic_order(tmp_path):
    chans = [channel_url(n) for n in ("test-index2", "test-index4", "test-index1")]
    # a first load writes the sparse name indexes (index/sparse.py) that both runs below read
    SubdirData.clear_memory_cache()
    fetch_index(make_context(tmp_path, subdir="linux-64", channels=chans))
    results = []
    for threads in (1, 4):
        SubdirData.clear_memory_cache()
        rr = RecordingReporter()
        ctx = make_context(tmp_path, subdir="linux-64", channels=chans, repodata_threads=threads)
        index = fetch_index(ctx, reporter=rr)
        results.append(([r.url for r in index.records], rr.to_json()))
    assert results[0] == results[1]


def test_tracer_events_per_subdir(tmp_path):
    rr = RecordingReporter()
    ctx = make_context(tmp_path, subdir="linux-64", channels=[channel_url("test-index2")])
    SubdirData.clear_memory_cache()
    fetch_index(ctx, reporter=rr)
    loaded = [e.data for e in rr.events if e.kind == "subdir_loaded"]
    assert [(d["subdir"], d["record_count"], d["filename"], d["cache"]) for d in loaded] == [
        ("linux-64", 4112, "repodata.json", "none"), ("noarch", 6, "repodata.json", "none")]
    assert all(d["bytes"] > 0 and "fetch_seconds" in d and d["url"].startswith("file://") for d in loaded)
    assert rr.kinds()[-1] == "index_built"
    # a second load in the same process reuses the parsed subdir (conda's SubdirData cache)
    rr2 = RecordingReporter()
    fetch_index(ctx, reporter=rr2)
    assert [e.data["cache"] for e in rr2.events if e.kind == "subdir_loaded"] == ["memory", "memory"]


def test_memory_cache_notices_changed_file(tmp_path):
    root = tmp_path / "ch"
    url = write_channel(root, {"linux-64": {"packages": {"a-1-0.tar.bz2": rec("a", "1")}},
                               "noarch": {"packages": {}}})
    ctx = make_context(tmp_path)
    assert len(SubdirData(url, "linux-64", ctx).load().records) == 1
    write_channel(root, {"linux-64": {"packages": {"a-1-0.tar.bz2": rec("a", "1"),
                                                   "a-2-0.tar.bz2": rec("a", "2", extra_field="x")}}})
    assert len(SubdirData(url, "linux-64", ctx).load().records) == 2


# -- file formats and fallbacks -----------------------------------------------------------------------
def test_current_repodata_falls_back_to_repodata(tmp_path):
    rr = RecordingReporter()
    sd = SubdirData(channel_url("test-index2"), "linux-64", make_context(tmp_path),
                    repodata_fn="current_repodata.json", reporter=rr).load()
    assert len(sd.records) == 4112
    assert sd.fetch_info.filename == "repodata.json"
    assert sd.fetch_info.repodata_fn == "current_repodata.json"
    assert sd.fetch_info.fallbacks and "current_repodata.json" in sd.fetch_info.fallbacks[0]
    assert "repodata_fallback" in rr.kinds()


def test_current_repodata_used_when_present(tmp_path):
    root = tmp_path / "ch"
    url = write_channel(root, {"linux-64": {"packages": {"a-1-0.tar.bz2": rec("a", "1"),
                                                         "a-2-0.tar.bz2": rec("a", "2")}},
                               "noarch": {"packages": {}}})
    (root / "linux-64" / "current_repodata.json").write_text(
        json.dumps({"packages": {"a-2-0.tar.bz2": rec("a", "2")}}))
    sd = SubdirData(url, "linux-64", make_context(tmp_path), repodata_fn="current_repodata.json").load()
    assert [r.version for r in sd.records] == ["2"]
    assert sd.fetch_info.filename == "current_repodata.json" and not sd.fetch_info.fallbacks


def test_zst_file_preferred(tmp_path):
    import zstandard

    root = tmp_path / "ch"
    url = write_channel(root, {"linux-64": {"packages": {"a-1-0.tar.bz2": rec("a", "1")}},
                               "noarch": {"packages": {}}})
    body = json.dumps({"packages": {"z-1-0.tar.bz2": rec("z", "1")}}).encode()
    (root / "linux-64" / "repodata.json.zst").write_bytes(zstandard.ZstdCompressor().compress(body))
    sd = SubdirData(url, "linux-64", make_context(tmp_path)).load()
    assert [r.name for r in sd.records] == ["z"]
    assert sd.fetch_info.filename == "repodata.json.zst"
    assert sd.fetch_info.json_bytes == len(body)


def test_missing_platform_subdir_is_empty_but_missing_noarch_is_an_error(tmp_path):
    url = write_channel(tmp_path / "ch", {"linux-64": None, "noarch": {"packages": {}}})
    rr = RecordingReporter()
    sd = SubdirData(url, "linux-64", make_context(tmp_path), reporter=rr).load()
    assert sd.records == () and sd.fetch_info.status == 404
    assert "repodata_missing" in rr.kinds()

    url2 = write_channel(tmp_path / "ch2", {"linux-64": {"packages": {}}, "noarch": None})
    with pytest.raises(UnavailableInvalidChannel) as err:
        SubdirData(url2, "noarch", make_context(tmp_path)).load()
    assert "404" in str(err.value) and "ch2" in str(err.value)
    with pytest.raises(UnavailableInvalidChannel):
        fetch_index(make_context(tmp_path, channels=[url2]))


@pytest.mark.parametrize("payload", [b'{"packages": {"a-1-0.tar.bz2": {"name": "a", "vers',
                                     b"<html><body>502 Bad Gateway</body></html>", b"[1, 2]"])
def test_invalid_repodata_is_one_clear_error(tmp_path, payload):
    url = write_channel(tmp_path / "brokenchan", {"linux-64": payload, "noarch": {"packages": {}}})
    with pytest.raises(RepodataDecodeError) as err:
        fetch_index(make_context(tmp_path, channels=[url]))
    message = str(err.value)
    assert "brokenchan" in message and "linux-64" in message
    assert isinstance(err.value, CondaError)
    assert err.value.dump_map()["exception_name"] == "RepodataDecodeError"


def test_newer_repodata_version_refused(tmp_path):
    from conda_deepdive.exceptions import CondaUpgradeError

    url = write_channel(tmp_path / "ch", {"linux-64": {"repodata_version": 2, "packages": {}},
                                          "noarch": {"packages": {}}})
    with pytest.raises(CondaUpgradeError, match="repodata_version"):
        SubdirData(url, "linux-64", make_context(tmp_path)).load()


def test_offline_still_reads_file_channels(tmp_path):
    ctx = make_context(tmp_path, offline=True, channels=[channel_url("test-index1")])
    index = fetch_index(ctx)
    assert len(index.records) == 1149


def test_fetch_info_is_readable(tmp_path):
    sd = SubdirData(channel_url("test-index1"), "linux-64", make_context(tmp_path)).load()
    info = sd.fetch_info
    assert isinstance(info, FetchInfo)
    assert "1149 records" in repr(info) and "test-index1" in repr(info)
    assert "1149 records" in repr(sd)
    assert set(json.loads(json.dumps(info.summary()))) >= {
        "url", "filename", "cache", "status", "bytes", "record_count", "fetch_seconds"}


def test_defaults_multichannel_expands_in_order(tmp_path):
    one, two = channel_url("test-index1"), channel_url("test-index2")
    ctx = make_context(tmp_path, channels=["defaults"], default_channels=[two, one])
    index = fetch_index(ctx)
    assert [c.base_url for c in index.channels] == [two, one]
    assert {c.canonical_name for c in index.channels} == {"defaults"}  # as in conda
    assert len(index.records) == 4112 + 6 + 1149
    assert index.records[0].url.startswith(two) and index.records[-1].url.startswith(one)
    # a channel listed twice keeps its first place only
    again = fetch_index(make_context(tmp_path, channels=[one, "defaults"], default_channels=[two, one]))
    assert [c.base_url for c in again.channels] == [one, two]


def test_feature_records_like_condas_index(tmp_path):
    index = fetch_index(make_context(tmp_path, channels=[channel_url("test-index1")]))
    feats = {r.name: r for r in index.feature_records}
    seen = {f for r in index.records for f in (*r.track_features, *r.features)}
    assert seen and set(feats) == {f"{f}@" for f in seen}
    mkl = feats["mkl@"]
    assert (mkl.version, mkl.build, mkl.track_features, mkl.subdir) == ("0", "0", ("mkl",), "linux-64")
