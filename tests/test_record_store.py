"""Records are built lazily, name by name (record_store.py), and nothing a caller sees changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conda_deepdive.solve.channel_priority import apply_channel_priority
from conda_deepdive.index.index import SubdirData, fetch_index
from conda_deepdive.models.records import PackageRecord

ROOT = Path(__file__).resolve().parents[1]


def _pkg(name: str, version: str, build: str = "0", **extra) -> dict:
    return {"name": name, "version": version, "build": build, "build_number": 0, "depends": [],
            "md5": "0" * 32, "size": 1, "subdir": "linux-64", **extra}


def _channel(root: Path, packages: dict[str, dict], conda: dict[str, dict] | None = None) -> str:
    for subdir, pkgs, pkgs_conda in (("linux-64", packages, conda or {}), ("noarch", {}, {})):
        d = root / subdir
        d.mkdir(parents=True, exist_ok=True)
        (d / "repodata.json").write_text(json.dumps(
            {"info": {"subdir": subdir}, "packages": pkgs, "packages.conda": pkgs_conda}))
    return root.as_uri()


@pytest.fixture()
def context(tmp_path):
    from conda_deepdive.config.context import Context

    return Context.from_values(pkgs_dirs=[str(tmp_path / "pkgs")], subdir="linux-64",
                               override_glibc="2.17", override_linux="5.15", override_cuda="",
                               override_archspec="x86_64", add_pip_as_python_dependency=True)


@pytest.fixture()
def two_channels(tmp_path):
    a = _channel(tmp_path / "a", {
        "zlib-1.2-0.tar.bz2": _pkg("zlib", "1.2"),
        "python-3.9.0-0.tar.bz2": _pkg("python", "3.9.0", depends=["zlib"]),
        "zlib-1.3-0.tar.bz2": _pkg("zlib", "1.3"),
        "mkl-1-0.tar.bz2": _pkg("mkl", "1", track_features="mkl"),
        "future-1-0.tar.bz2": _pkg("future", "1", record_version=2),  # ignored, like conda
    }, conda={"zlib-1.3-0.conda": _pkg("zlib", "1.3")})
    b = _channel(tmp_path / "b", {"zlib-1.4-0.tar.bz2": _pkg("zlib", "1.4"),
                                  "nomkl-1-0.tar.bz2": _pkg("nomkl", "1", track_features="nomkl mkl")})
    return [a, b]


def _built(index) -> int:
    return sum(len(sd._store._built) for sd in index.subdir_datas if sd._store)


def test_nothing_is_built_until_asked_for(context, two_channels):
    SubdirData.clear_memory_cache()
    index = fetch_index(context, channels=two_channels)
    assert len(index) == 6  # the future-schema record is skipped; the .tar.bz2 twin is shadowed
    assert _built(index) == 0
    assert sorted(index.by_name) == ["mkl", "nomkl", "python", "zlib"]
    assert "zlib" in index.by_name and "numpy" not in index.by_name
    assert _built(index) == 0  # names and counts come from the parsed entries

    zlibs = index.by_name["zlib"]
    assert [(r.version, r.fn) for r in zlibs] == [("1.3", "zlib-1.3-0.conda"), ("1.2", "zlib-1.2-0.tar.bz2"),
                                                 ("1.4", "zlib-1.4-0.tar.bz2")]
    assert _built(index) == 3
    assert all(isinstance(r, PackageRecord) for r in zlibs)
    assert zlibs[0].legacy_bz2_md5 == "0" * 32  # the shadowed twin's checksum is remembered
    with pytest.raises(KeyError):
        index.by_name["numpy"]
    assert index.get("numpy") == []


def test_records_are_built_once_and_match_the_eager_view(context, two_channels):
    SubdirData.clear_memory_cache()
    index = fetch_index(context, channels=two_channels)
    python = index.by_name["python"][0]
    everything = index.records
    assert len(everything) == len(index) == 6
    assert _built(index) == 6
    assert python in everything and any(r is python for r in everything)  # same object, not a twin
    assert python.depends == ("zlib", "pip")  # add_pip_as_python_dependency, applied when built
    by_name: dict[str, list] = {}
    for rec in everything:
        by_name.setdefault(rec.name, []).append(rec)
    assert {n: index.by_name[n] for n in index.by_name} == by_name
    assert list(index.by_name) == list(by_name)  # same first-seen order as building everything


def test_memo_reuses_the_store_and_feature_lookup_builds_nothing(context, two_channels):
    SubdirData.clear_memory_cache()
    first = fetch_index(context, channels=two_channels)
    again = fetch_index(context, channels=two_channels)
    assert [sd.fetch_info.cache for sd in again.subdir_datas][0] == "memory"
    assert again.by_name["zlib"][0] is first.by_name["zlib"][0]
    SubdirData.clear_memory_cache()
    fresh = fetch_index(context, channels=two_channels)
    assert fresh.names_tracking("mkl") == ["mkl", "nomkl"]
    assert fresh.names_tracking("nomkl") == ["nomkl"]
    assert fresh.names_tracking("openblas") == []
    assert _built(fresh) == 0


def test_priority_report_from_an_index_equals_the_one_from_its_records(context, two_channels):
    SubdirData.clear_memory_cache()
    index = fetch_index(context, channels=two_channels)
    lazy = apply_channel_priority(index, index.channels, "strict")
    assert _built(index) <= len(index.subdir_datas)  # at most one per subdir (channels are named without building any)
    eager = apply_channel_priority(list(index.records), index.channels, "strict")
    assert lazy.summary() == eager.summary()
    assert lazy["zlib"].offered_by == eager["zlib"].offered_by and len(lazy["zlib"].offered_by) == 2
    assert lazy["zlib"].masked == eager["zlib"].masked == (lazy["zlib"].offered_by[1],)


@pytest.mark.parametrize("mode", ["flexible", "disabled"])
def test_a_report_that_masks_nothing_works_its_table_out_when_first_read(context, two_channels, mode):
    from conda_deepdive.reporting import RecordingReporter

    SubdirData.clear_memory_cache()
    index = fetch_index(context, channels=two_channels)
    reporter = RecordingReporter()
    lazy = apply_channel_priority(index, index.channels, mode, reporter=reporter)
    # nothing can be masked in this mode: the stage's summary needs only the number of names,
    # and no per-name table is made until someone reads one
    assert lazy._pending is not None
    summary_event = reporter.of_stage("priority")[-1]
    assert summary_event.kind == "summary" and summary_event.data["masked_records"] == 0
    eager = apply_channel_priority(list(index.records), index.channels, mode)
    assert summary_event.data["names"] == eager.summary()["names"] == len(eager.names)
    assert lazy.summary() == eager.summary()  # reading the contested names works the table out
    assert lazy._pending is None
    assert list(lazy.names) == list(eager.names) and repr(lazy) == repr(eager)
    assert lazy["zlib"].offered_by == eager["zlib"].offered_by and lazy["zlib"].masked == ()
    assert "zlib" in lazy and "no-such-name" not in lazy


def _overlapping_channels(root: Path, seed: int) -> list[str]:
    """Five channels (two subdirs each) offering a random, overlapping pick of twenty names."""
    import random

    rnd = random.Random(seed)
    urls = []
    for c in range(5):
        for subdir in ("linux-64", "noarch"):
            d = root / f"ch{c}" / subdir
            d.mkdir(parents=True)
            pkgs = {}
            for n in rnd.sample(range(20), rnd.randint(0, 12)):
                for v in range(rnd.randint(1, 3)):
                    pkgs[f"n{n}-{v}-0.tar.bz2"] = dict(_pkg(f"n{n}", str(v)), subdir=subdir)
            (d / "repodata.json").write_text(json.dumps({"info": {"subdir": subdir}, "packages": pkgs}))
        urls.append((root / f"ch{c}").as_uri())
    return urls


@pytest.mark.parametrize("seed", range(6))
def test_strict_masking_worked_out_per_channel_equals_the_per_name_walk(context, tmp_path, seed):
    from conda_deepdive.reporting import RecordingReporter

    SubdirData.clear_memory_cache()
    urls = _overlapping_channels(tmp_path, seed)
    index = fetch_index(context, channels=urls)
    records = list(index.records)
    # the second list leaves a channel out: an unlisted channel shares rank 1 with the second
    # listed one, and the per-name walk decides (the fast path steps aside)
    for ranked in (index.channels, index.channels[:-1]):
        fast, slow = RecordingReporter(), RecordingReporter()
        lazy = apply_channel_priority(index, ranked, "strict", reporter=fast)
        eager = apply_channel_priority(records, ranked, "strict", reporter=slow)
        assert (lazy._pending is not None) == (ranked == index.channels)  # which path ran
        assert "masked" in fast.kinds("priority")
        assert fast.to_json() == slow.to_json()  # the same masked groups, names in the same order
        assert lazy.summary() == eager.summary() and repr(lazy) == repr(eager)
        assert list(lazy.names) == list(eager.names)
        assert [lazy[n] for n in eager.names] == list(eager.names.values())
        # nobody listening (a plain ``create --json``): no masked groups are worked out while
        # the stage runs, and the report counts them, the same, when read
        quiet = apply_channel_priority(index, ranked, "strict")
        assert quiet._masked_later is not None and quiet._masked_total is None
        assert quiet.summary() == eager.summary() and repr(quiet) == repr(eager)
        assert quiet._masked_later is None
        assert list(quiet.names) == list(eager.names)


def test_store_repr_says_how_much_is_built(context, two_channels):
    SubdirData.clear_memory_cache()
    index = fetch_index(context, channels=two_channels)
    store = index.subdir_datas[0]._store
    assert repr(store) == "<RecordStore 4 records of 3 names, 0 built>"
    index.by_name["mkl"]
    assert repr(store) == "<RecordStore 4 records of 3 names, 1 built>"
    assert store.counts() == {"zlib": 2, "python": 1, "mkl": 1}


def test_records_of_counts_a_set_of_names_either_way():
    # strict priority sums the masked records of a block of names per subdir: directly for a
    # few names, by subtraction when the block is most of the subdir (both must agree)
    from conda_deepdive.index import sparse
    from conda_deepdive.index.record_store import RecordStore

    plain = RecordStore([None] * 6, {"a": [0, 1], "b": [2], "c": [3, 4, 5]}, lambda *e: None)
    doc = {"info": {"subdir": "noarch"}, "packages": {
        f"{n}-{i}-0.tar.bz2": {"name": n, "version": str(i)} for n, k in (("a", 2), ("b", 1), ("c", 3))
        for i in range(k)}}
    index = sparse.build_index(json.dumps(doc).encode())
    stored = sparse.SparseIndex.from_bytes(index.to_bytes())
    mapped = RecordStore(stored.entries, stored.positions, lambda *e: None)
    for store in (plain, mapped):
        assert store.records_of({"b"}) == 1  # counted
        assert store.records_of({"a", "c"}) == 5  # most names: 6 minus b's 1
        assert store.records_of({"a", "b", "c", "not-here"}) == 6
        assert store.records_of({"not-here"}) == 0


def test_a_run_nobody_watches_never_walks_every_name(context, two_channels):
    """The index's name union (every name of every subdir) is made only for an event someone
    sees or when something reads it: a plain ``create --json`` never needs it."""
    from conda_deepdive.reporting import RecordingReporter

    SubdirData.clear_memory_cache()
    index = fetch_index(context, channels=two_channels)  # nobody listening
    report = apply_channel_priority(index, index.channels, "strict")
    assert index.by_name._names is None
    eager = apply_channel_priority(list(index.records), index.channels, "strict")
    assert report.summary() == eager.summary()  # the count, made when read
    assert index.by_name._names is not None

    SubdirData.clear_memory_cache()
    watched = RecordingReporter()
    index = fetch_index(context, channels=two_channels, reporter=watched)
    (built,) = [e for e in watched.of_stage("index") if e.kind == "index_built"]
    assert built.data["package_names"] == len(index.by_name) == eager.summary()["names"] > 0
