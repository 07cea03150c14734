"""The sparse repodata.json reader (index/sparse.py) and CEP-16 shards (index/shards.py).

Both must build exactly the records the full parse builds — same fields, same order per name —
while reading less; these tests compare them record by record on real and hand-made channels,
check the fallbacks, the byte-reproducible writer, and the HTTP side of shards on a loopback
server (conditional GET of the index, SQLite cache of shards, refusal of a shard whose hash is
wrong, fallback to repodata.json when a channel has no shards).
"""

from __future__ import annotations

import hashlib
import http.server
import json
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import SHARED, TEACHING_CHANNELS

CHANNELS = SHARED / "data" / "channels"


def make_context(tmp_path: Path, **settings):
    from conda_deepdive.config.context import Context

    values = dict(pkgs_dirs=[str(tmp_path / "pkgs")], override_glibc="2.17", override_linux="5.15",
                  override_osx="10.13", override_cuda="", override_archspec="x86_64", local_repodata_ttl=0)
    values.update(settings)
    return Context.from_values(**values)


def records_of(url: str, subdir: str, ctx, env: dict | None = None, monkeypatch=None):
    from conda_deepdive.index.subdir_data import SubdirData

    SubdirData.clear_memory_cache()
    sd = SubdirData(url, subdir, ctx).load()
    return sd


class _TarOnly:
    use_only_tar_bz2 = True

    def __init__(self, ctx) -> None:
        self._ctx = ctx

    def __getattr__(self, name):
        return getattr(self._ctx, name)


def _dump(records) -> list:
    return [r.dump() if hasattr(r, "dump") else dict(vars(r)) for r in records]


def _hand_made(tmp_path: Path, subdir: str = "linux-64", **extra) -> Path:
    """A channel whose repodata exercises twins, a future record_version and track_features."""
    chan = tmp_path / "chan"
    (chan / "noarch").mkdir(parents=True)
    (chan / "noarch" / "repodata.json").write_text(json.dumps({"info": {"subdir": "noarch"}, "packages": {}}))
    rec = {"build": "0", "build_number": 0, "depends": [], "md5": "0" * 32, "sha256": "1" * 64, "size": 10}
    repodata = {
        "info": {"subdir": subdir, "arch": "x86_64", "platform": "linux"},
        "packages": {
            "a-1.0-0.tar.bz2": {**rec, "name": "a", "version": "1.0", "md5": "a" * 32, "size": 11},
            "b-1.0-0.tar.bz2": {**rec, "name": "b", "version": "1.0", "depends": ["a >=1"],
                                "track_features": "feat1"},
            "python-3.6.0-0.tar.bz2": {**rec, "name": "python", "version": "3.6.0"},
        },
        "packages.conda": {
            "a-1.0-0.conda": {**rec, "name": "a", "version": "1.0"},
            "c-2.0-0.conda": {**rec, "name": "c", "version": "2.0", "record_version": 2},
            "a-2.0-0.conda": {**rec, "name": "a", "version": "2.0", "constrains": ["b <2"]},
        },
        "repodata_version": 1,
        **extra,
    }
    (chan / subdir).mkdir()
    (chan / subdir / "repodata.json").write_text(json.dumps(repodata, indent=1))
    return chan


# -- the sparse reader --------------------------------------------------------------------------------
@pytest.mark.parametrize("tar_only", [False, True])
def test_sparse_records_equal_full_parse_hand_made(tmp_path, monkeypatch, tar_only):
    chan = _hand_made(tmp_path)
    ctx = make_context(tmp_path)
    if tar_only:  # not a Context setting here: conda reads it from its own context
        ctx = _TarOnly(ctx)
    sparse = records_of(chan.as_uri(), "linux-64", ctx)
    assert sparse.fetch_info.reader == "sparse"
    monkeypatch.setenv("CONDA_DEEPDIVE_SPARSE_REPODATA", "0")
    full = records_of(chan.as_uri(), "linux-64", ctx)
    assert full.fetch_info.reader == "json"
    assert sparse.name_counts() == full.name_counts()
    for name in ("a", "b", "c", "python", "missing"):
        assert _dump(sparse.records_for(name)) == _dump(full.records_for(name))
    assert _dump(sparse.records) == _dump(full.records)
    assert sparse.names_tracking("feat1") == full.names_tracking("feat1") == ["b"]
    if not tar_only:  # the .conda keeps its .tar.bz2 twin's checksum and size
        (a1,) = [r for r in sparse.records_for("a") if r.version == "1.0"]
        assert (a1.fn, a1.legacy_bz2_md5, a1.legacy_bz2_size) == ("a-1.0-0.conda", "a" * 32, 11)


def test_sparse_index_is_kept_and_reused(tmp_path):
    chan = _hand_made(tmp_path)
    ctx = make_context(tmp_path)
    from conda_deepdive.reporting import RecordingReporter
    from conda_deepdive.index.subdir_data import SubdirData

    verdicts = []
    for _ in range(2):
        SubdirData.clear_memory_cache()
        rr = RecordingReporter()
        SubdirData(chan.as_uri(), "linux-64", ctx, reporter=rr).load()
        (ev,) = [e for e in rr.to_list() if e["kind"] == "sparse_index"] if hasattr(rr, "to_list") else [
            e for e in json.loads(rr.to_json()) if e["kind"] == "sparse_index"]
        verdicts.append(ev["data"]["index"])
    assert verdicts == ["built", "loaded (file mapped)"]  # the second run maps the file
    assert list((tmp_path / "pkgs" / "cache").glob("*.sparse"))
    # the file changes: the stored index no longer matches its stamp and is rebuilt
    path = chan / "linux-64" / "repodata.json"
    path.write_text(path.read_text().replace('"version": "2.0"', '"version": "2.1"'))
    SubdirData.clear_memory_cache()
    sd = SubdirData(chan.as_uri(), "linux-64", ctx).load()
    assert sorted(r.version for r in sd.records_for("a")) == ["1.0", "2.1"]


def test_stored_index_round_trips_and_damage_means_rebuild(tmp_path):
    from conda_deepdive.index import sparse

    doc = {"info": {"subdir": "noarch", "x": [1.5, None]}, "packages.conda": {
        "a-1-0.conda": {"name": "a", "version": "1", "track_features": "f"}}, "packages": {
        "a-1-0.tar.bz2": {"name": "a", "version": "1", "md5": "0" * 32},
        "b-\u00e9-0.tar.bz2": {"name": "b", "version": "\u00e9"}}}
    buf = json.dumps(doc).encode()
    index = sparse.build_index(buf, stamp=("repodata.json", len(buf), 7))
    data = index.to_bytes()
    back = sparse.SparseIndex.from_bytes(data)
    assert list(back.entries) == list(index.entries) and back.twins == index.twins
    assert {n: list(back.positions[n]) for n in back.positions} == index.positions
    assert (back.info, back.features, back.stamp) == (index.info, index.features, index.stamp)
    assert {n: back.dependencies[n] for n in back.positions} == index.dependencies
    assert (back.special, back.has_features) == (index.special, index.has_features)
    # damaged, truncated, another version's or another format's bytes: rebuilt, never trusted
    version = b"index %d" % sparse.INDEX_VERSION
    older = b"index %d" % (sparse.INDEX_VERSION - 1)
    assert version in data
    for bad in (data[:-3], data[:40], b"x" + data[1:], data.replace(version, older), b"\x80"):
        assert sparse.SparseIndex.from_bytes(bad) is None
    # saving replaces what an earlier version stored for the same file
    old = tmp_path / "abc.sparse.msgpack"
    old.write_bytes(b"\x80")
    assert sparse.save_index(sparse.index_path(tmp_path, "abc"), index)
    assert not old.exists() and sparse.load_index(tmp_path / "abc.sparse", index.stamp) is not None
    assert sparse.load_index(tmp_path / "abc.sparse", ("repodata.json", len(buf), 8)) is None


def test_a_stored_index_is_mapped_and_read_only_where_used(tmp_path):
    # a warm run maps the stored file: filenames and twins are views into it until an entry
    # is read (a big channel's subdirs the solve never reaches cost only their header)
    from conda_deepdive.index import sparse

    doc = {"info": {"subdir": "noarch"}, "packages.conda": {
        "a-1-0.conda": {"name": "a", "version": "1"}}, "packages": {
        "a-1-0.tar.bz2": {"name": "a", "version": "1", "md5": "1" * 32, "size": 3},
        "\u00e9t\u00e9-1-0.tar.bz2": {"name": "ete", "version": "1"}}}
    buf = json.dumps(doc).encode()
    built = sparse.build_index(buf, stamp=("repodata.json", len(buf), 1))
    path = sparse.index_path(tmp_path, "k")
    assert sparse.save_index(path, built)
    loaded = sparse.load_index(path, built.stamp)
    assert type(loaded.entries._fns) is memoryview and loaded.twins._map is None
    assert list(loaded.entries) == list(built.entries)  # non-ASCII names found by byte offset
    assert dict(loaded.twins) == built.twins and loaded.twins._map is not None
    record = sparse.make_decoder(buf, loaded, lambda fn, raw: (fn, raw))(*loaded.entries[0])
    assert record[1]["legacy_bz2_md5"] == "1" * 32 and record[1]["legacy_bz2_size"] == 3
    # a stale stamp: nothing is kept open, and the rebuilt index replaces the file
    assert sparse.load_index(path, ("repodata.json", len(buf), 2)) is None
    assert sparse.save_index(path, sparse.build_index(buf, stamp=("repodata.json", len(buf), 2)))
    assert sparse.load_index(path, ("repodata.json", len(buf), 2)) is not None


def test_a_damaged_stored_index_is_one_clear_error_and_is_removed(tmp_path):
    # the stored index is our own cache file, but a damaged or edited one must not crash the
    # run or, worse, hand the solver another package's record under this name
    from conda_deepdive.exceptions import SparseIndexDamagedError
    from conda_deepdive.index import sparse
    from conda_deepdive.index.record_store import RecordStore

    doc = {"info": {"subdir": "noarch"}, "packages": {
        "a-1-0.tar.bz2": {"name": "a", "version": "1"}, "b-1-0.tar.bz2": {"name": "b", "version": "1"}}}
    buf = json.dumps(doc).encode()
    good = sparse.build_index(buf, stamp=("repodata.json", len(buf), 1))
    path = sparse.index_path(tmp_path, "k")

    def store(entries):
        damaged = sparse.SparseIndex(good.info, good.repodata_version, entries, good.positions,
                                     good.twins, good.features, good.stamp)
        assert sparse.save_index(path, damaged)
        loaded = sparse.load_index(path, good.stamp)
        build = sparse.make_decoder(buf, loaded, lambda fn, raw: SimpleNamespace(fn=fn, **raw), path)
        return RecordStore(loaded.entries, loaded.positions, build)

    assert store(good.entries).for_name("a")[0].version == "1"  # intact: fine
    (fa, sa, ea), (fb, sb, eb) = good.entries
    for entries in ([(fa, sa + 3, ea), (fb, sb, eb)],   # a range that is not one JSON object
                    [(fa, sb, eb), (fb, sa, ea)]):      # each range holds the other record
        with pytest.raises(SparseIndexDamagedError, match=r"does not match the repodata.*a-1-0"):
            store(entries).for_name("a")
        assert not path.exists()  # removed: the next run rebuilds it


@pytest.mark.parametrize("text", [
    b'[1, 2]', b'{"packages": {"x.tar.bz2": [1]}}', b'{"packages": {"a": {"name": "a"}, "a": {"name": "a"}}}',
    b'{"packages": {"a.tar.bz2": {"name": 5}}}', b'{"info": [], "packages": {}}', b'{"packages": {', b'',
    b'{"repodata_version": true}',
])
def test_build_index_declines_what_it_does_not_expect(text):
    from conda_deepdive.index.sparse import build_index

    assert build_index(text) is None


def test_build_index_handles_escapes_and_whitespace():
    from conda_deepdive.index.sparse import build_index

    doc = {"info": {"subdir": "noarch"}, "packages": {
        'we"ird-1-0.tar.bz2': {"name": "we\"ird", "version": "1", "depends": ["x {}", "\\"]},
        "n-1-0.tar.bz2": {"name": "n", "version": "1", "nested": {"k": [1, {"z": "}"}]}},
    }}
    for text in (json.dumps(doc), json.dumps(doc, indent=3), json.dumps(doc, separators=(",", ":"))):
        buf = text.encode()
        index = build_index(buf)
        assert index is not None and sorted(index.positions) == ['n', 'we"ird']
        for fn, start, end in index.entries:
            assert json.loads(buf[start:end]) == doc["packages"][fn]


@pytest.mark.skipif(not (CHANNELS / "test-index4").is_dir(), reason="../shared/data/channels is absent")
def test_sparse_equals_full_on_test_index4(tmp_path, monkeypatch):
    url = (CHANNELS / "test-index4").as_uri()
    ctx = make_context(tmp_path)
    sparse = records_of(url, "linux-64", ctx)
    monkeypatch.setenv("CONDA_DEEPDIVE_SPARSE_REPODATA", "0")
    full = records_of(url, "linux-64", ctx)
    assert sparse.name_counts() == full.name_counts()
    assert _dump(sparse.records) == _dump(full.records)


# -- shards: writer -----------------------------------------------------------------------------------
def test_writer_is_byte_reproducible_and_prunes(tmp_path):
    from conda_deepdive.index.shards import REPODATA_SHARDS_FN, write_shards

    chan = _hand_made(tmp_path)
    doc = json.loads((chan / "linux-64" / "repodata.json").read_text())
    first = write_shards(tmp_path / "one", doc)
    # same document with keys in another order: same bytes
    shuffled = {k: (dict(reversed(list(v.items()))) if isinstance(v, dict) else v) for k, v in reversed(list(doc.items()))}
    second = write_shards(tmp_path / "two", shuffled)
    files = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert files == sorted(p.name for p in (tmp_path / "two").iterdir())
    for name in files:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    assert first.shards == second.shards and sorted(first.shards) == ["a", "b", "c", "python"]
    for name, digest in first.shards.items():  # a shard is named after the sha256 of its bytes
        assert hashlib.sha256((tmp_path / "one" / f"{digest}.msgpack.zst").read_bytes()).hexdigest() == digest
    del doc["packages"]["b-1.0-0.tar.bz2"]
    third = write_shards(tmp_path / "one", doc)
    assert third.removed == 1 and "b" not in third.shards
    assert (tmp_path / "one" / REPODATA_SHARDS_FN).is_file()


def test_teaching_channels_publish_shards():
    from conda_deepdive.index.shards import REPODATA_SHARDS_FN, build_shards

    indexes = sorted(TEACHING_CHANNELS.glob(f"**/{REPODATA_SHARDS_FN}"))
    assert indexes, "the teaching channels publish sharded repodata"
    for path in indexes:  # what is committed is what the writer makes from repodata.json
        doc = json.loads((path.parent / "repodata.json").read_bytes())
        index_blob, blobs, _names = build_shards(doc, path.parent.name)
        assert path.read_bytes() == index_blob
        for digest, blob in blobs.items():
            assert (path.parent / f"{digest}.msgpack.zst").read_bytes() == blob


# -- shards: reading file:// ------------------------------------------------------------------------
def _shard_channel(tmp_path: Path) -> Path:
    from conda_deepdive.index.shards import write_shards

    chan = _hand_made(tmp_path)
    for subdir in ("linux-64", "noarch"):
        write_shards(chan / subdir, json.loads((chan / subdir / "repodata.json").read_text()))
    return chan


def test_shard_records_equal_monolithic(tmp_path):
    chan = _shard_channel(tmp_path)
    ctx = make_context(tmp_path)
    sharded = records_of(chan.as_uri(), "linux-64", ctx)
    assert sharded.fetch_info.reader == "shards" and sharded.record_count == 0  # nothing fetched yet
    plain = records_of(chan.as_uri(), "linux-64", make_context(tmp_path, repodata_use_shards=False))
    assert plain.fetch_info.reader == "sparse"
    for name in ("a", "b", "c", "python", "missing"):
        assert _dump(sharded.records_for(name)) == _dump(plain.records_for(name))
    assert sharded.shard_store.on_demand == ["a", "b", "c", "python"]  # "missing" has no shard


def test_subset_follows_depends_and_pip(tmp_path):
    from conda_deepdive.index.index import fetch_index
    from conda_deepdive.reporting import RecordingReporter

    chan = _shard_channel(tmp_path)
    rr = RecordingReporter()
    index = fetch_index(make_context(tmp_path, subdir="linux-64"), channels=[chan.as_uri()],
                        reporter=rr, root_names=["b", "python"])
    sd = index.subdir_datas[0]
    # b -> a (depends); python -> pip (add_pip_as_python_dependency), which this channel lacks
    assert sorted(sd.shard_store.fetched) == ["a", "b", "python"]
    assert len(index) == 4  # a (.conda 1.0, 2.0), b, python: c was never fetched
    (ev,) = [e for e in json.loads(rr.to_json()) if e["kind"] == "repodata_subset"]
    assert ev["data"]["roots"][:2] == ["b", "python"] and ev["data"]["subdirs"][0]["total_names"] == 4


def test_shard_with_wrong_hash_is_refused(tmp_path):
    from conda_deepdive.exceptions import ChecksumMismatchError

    chan = _shard_channel(tmp_path)
    sd = records_of(chan.as_uri(), "linux-64", make_context(tmp_path))
    path = Path(sd.shard_store.index.shard_url("a")[len("file://"):])
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(ChecksumMismatchError, match="sha256"):
        sd.records_for("a")


# -- shards over HTTP -------------------------------------------------------------------------------
class _Server:
    """A loopback static server over ``root`` that logs request paths and honours If-None-Match."""

    def __init__(self, root: Path) -> None:
        self.root, self.log = root, []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                outer.log.append(self.path)
                path = outer.root / self.path.lstrip("/")
                if not path.is_file():
                    self.send_response(404)
                    self.end_headers()
                    return
                data = path.read_bytes()
                etag = '"' + hashlib.md5(data).hexdigest() + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(tmp_path):
    srv = _Server(tmp_path / "www")
    yield srv
    srv.close()


def test_http_shards_cached_and_conditional(tmp_path, server):
    from conda_deepdive.index.shards import REPODATA_SHARDS_FN, SHARD_CACHE_NAME
    from conda_deepdive.index.subdir_data import SubdirData

    _shard_channel(server.root)  # server.root/chan/...
    url = f"{server.url}/chan"
    ctx = make_context(tmp_path)
    sd = SubdirData(url, "linux-64", ctx).load()
    assert (sd.fetch_info.reader, sd.fetch_info.cache) == ("shards", "miss")
    assert [r.version for r in sd.records_for("a")] == ["1.0", "2.0"]
    assert server.log[0] == f"/chan/linux-64/{REPODATA_SHARDS_FN}"
    assert server.log[1].endswith(".msgpack.zst") and len(server.log) == 2  # only a's shard
    assert (tmp_path / "pkgs" / "cache" / SHARD_CACHE_NAME).is_file()
    server.log.clear()
    again = SubdirData(url, "linux-64", ctx).load()  # ttl 0: the index is re-validated -> 304
    assert again.fetch_info.cache == "304"
    assert [r.version for r in again.records_for("a")] == ["1.0", "2.0"]
    assert server.log == [f"/chan/linux-64/{REPODATA_SHARDS_FN}"]  # the shard came from SQLite


def test_http_channel_without_shards_falls_back_and_remembers(tmp_path, server):
    from conda_deepdive.index.subdir_data import SubdirData

    _hand_made(server.root)
    url = f"{server.url}/chan"
    ctx = make_context(tmp_path)
    sd = SubdirData(url, "linux-64", ctx).load()
    assert sd.fetch_info.reader in ("json", "sparse") and sorted(sd.name_counts()) == ["a", "b", "python"]
    assert server.log[0].endswith("repodata_shards.msgpack.zst")
    server.log.clear()
    SubdirData(url, "linux-64", ctx).load()
    assert not any(p.endswith("repodata_shards.msgpack.zst") for p in server.log)  # has_shards: false


def test_the_index_keeps_each_names_dependency_strings_and_flags_odd_ones():
    # what the solver's name closure reads for records it leaves unbuilt: distinct strings per
    # name (first seen first), features the records have, and "special" names it must build
    from conda_deepdive.index import sparse

    doc = {"info": {"subdir": "noarch"}, "packages": {
        "a-1-0.tar.bz2": {"name": "a", "version": "1", "depends": ["b >=1", "c"], "constrains": ["d <2"]},
        "a-2-0.tar.bz2": {"name": "a", "version": "2", "depends": ["b >=1", "c"], "features": "debug"},
        "b-1-0.tar.bz2": {"name": "b", "version": "1", "depends": None},
        "c-1-0.tar.bz2": {"name": "c", "version": "1", "depends": [5]},
        "d-1-0.tar.bz2": {"name": "d", "version": "1", "depends": ["x\ny"]},
        "e-1-0.tar.bz2": {"name": "e", "version": "1", "depends": "b"},
        "f-1-0.tar.bz2": {"name": "f", "version": "1", "package_type": "virtual_system"},
        "g-1-0.tar.bz2": {"name": "g", "version": "1", "track_features": "debug"}}}
    index = sparse.build_index(json.dumps(doc).encode())
    assert index.dependencies["a"] == ["b >=1", "c", "d <2"] and index.dependencies["b"] == []
    assert index.has_features == {"a": ["debug"]}
    assert index.special == {"c", "d", "e", "f", "g"}
    back = sparse.SparseIndex.from_bytes(index.to_bytes())
    assert back.dependencies["a"] == index.dependencies["a"] and back.special == index.special


def test_a_cold_load_keeps_no_copy_of_the_file(tmp_path):
    # the first run reads the file to build its name index; afterwards the records come from
    # the file mapped through the stored index, as in a warm run, and the bytes read are freed
    # (a cold run over many subdirs used to hold every file's bytes to the end)
    import gc
    import tracemalloc

    from conda_deepdive.index.subdir_data import SubdirData

    def channel(name: str, n: int) -> Path:
        chan = tmp_path / name
        pkgs = {f"p{i}-1-0.tar.bz2": {"name": f"p{i % 50}", "version": f"1.{i}", "build": "0",
                                      "depends": [f"p{(i + 1) % 50} >=1.{i % 7}"], "license": "x" * 200}
                for i in range(n)}
        for subdir, found in (("linux-64", pkgs), ("noarch", {})):
            (chan / subdir).mkdir(parents=True)
            (chan / subdir / "repodata.json").write_text(json.dumps({"info": {"subdir": subdir}, "packages": found}))
        return chan

    ctx = make_context(tmp_path)
    SubdirData(channel("small", 10).as_uri(), "linux-64", ctx).load()  # imports happen here
    chan = channel("big", 2500)
    size = (chan / "linux-64" / "repodata.json").stat().st_size
    SubdirData.clear_memory_cache()
    gc.collect()
    tracemalloc.start()
    try:
        sd = SubdirData(chan.as_uri(), "linux-64", ctx).load()
        gc.collect()
        held, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sd.fetch_info.reader == "sparse" and size > 700_000
    assert held < size / 3  # the index's arrays and names, not the file
    assert [r.version for r in sd.records_for("p7")][:2] == ["1.7", "1.57"]
    SubdirData.clear_memory_cache()


def test_a_stored_index_finds_names_through_its_table_without_decoding_the_others():
    # a warm run asks ~35 names of each subdir; the stored table answers them by hashing the
    # name, and only a question about *every* name (the report) decodes them all
    import random

    from conda_deepdive.index import sparse

    rng = random.Random(7)
    names = sorted({"".join(rng.choice("abcdefgh-_.0123456789") for _ in range(rng.randint(1, 12)))
                    for _ in range(600)} | {"\u00e9t\u00e9", "r-base", "r-basE", "p" * 40})
    packages = {f"{n}-1-{i}.tar.bz2": {"name": n, "version": "1", "build": str(i), "depends": [f"dep-of-{n}"]}
                for i, n in enumerate(names) for _ in range(1 + i % 3)}
    buf = json.dumps({"info": {"subdir": "noarch"}, "packages": packages}).encode()
    built = sparse.build_index(buf)
    back = sparse.SparseIndex.from_bytes(built.to_bytes())
    table = back.positions._names
    for name in rng.sample(names, len(names)):
        assert list(back.positions[name]) == built.positions[name]
        assert back.dependencies[name] == built.dependencies[name] == [f"dep-of-{name}"]
        assert name in back.positions and back.positions.get(name) is not None
    assert table._all is None  # every name was found, and none of the others decoded to do it
    for absent in ("", "zz-not-here", "R-BASE", "\u00e9t\u00e8", "p" * 39, "p" * 41):
        assert absent not in back.positions and back.positions.get(absent) is None
        with pytest.raises(KeyError):
            back.positions[absent]
        assert back.dependencies.get(absent, "none") == "none"
    assert list(back.positions) == list(built.positions)  # first-seen order, decoded on demand
    assert back.positions.counts() == {n: len(p) for n, p in built.positions.items()}
    assert len(back.positions) == len(built.positions) and table._all is not None
    # a damaged table (every slot pointing at one name) answers "absent", and never loops
    data = bytearray(built.to_bytes())
    at = len(sparse._MAGIC) + 8
    header = json.loads(data[at:at + int.from_bytes(data[len(sparse._MAGIC):at], "little")])
    start, length = header["sections"]["slots"]
    body = at + int.from_bytes(data[len(sparse._MAGIC):at], "little")
    data[body + start:body + start + length] = (1).to_bytes(8, sys.byteorder) * (length // 8)
    damaged = sparse.SparseIndex.from_bytes(bytes(data))
    # names that are not UTF-8: the index is rebuilt, as for any other damage
    spoiled = bytearray(built.to_bytes())
    start, length = header["sections"]["names"]
    spoiled[body + start] = 0xFF
    assert sparse.SparseIndex.from_bytes(bytes(spoiled)) is None
    first, second = list(built.positions)[:2]
    assert list(damaged.positions[first]) == built.positions[first]  # what the slots point at
    assert damaged.positions.get(second) is None and damaged.positions.get("zz-not-here") is None
