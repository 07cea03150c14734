"""Stage 3 over HTTP (127.0.0.1 only): cache, conditional requests, max-age, .zst, errors."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conda_deepdive.exceptions import (
    CondaError,
    CondaHTTPError,
    OfflineError,
    RepodataDecodeError,
    UnavailableInvalidChannel,
)
from conda_deepdive.index.index import SubdirData, fetch_index
from conda_deepdive.index.repodata_cache import RepodataCache, cache_fn_url, get_cache_control_max_age
from conda_deepdive.reporting import RecordingReporter

pytestmark = pytest.mark.network


class RepoServer:
    """A tiny channel server: files from ``root``, ETag/Last-Modified/304, knobs for tests."""

    def __init__(self, root: Path):
        self.root = root
        self.requests: list[tuple[str, dict]] = []  # (path, request headers)
        self.cache_control: str | None = None
        self.status_override: dict[str, int] = {}  # path -> status to answer instead
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output clean
                pass

            def do_GET(self):
                server.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                forced = server.status_override.get(self.path)
                if forced:
                    self.send_response(forced)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                path = server.root / self.path.lstrip("/")
                if not path.is_file():
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = path.read_bytes()
                etag = '"%s"' % hashlib.md5(body).hexdigest()
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", formatdate(path.stat().st_mtime, usegmt=True))
                if server.cache_control:
                    self.send_header("Cache-Control", server.cache_control)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                       daemon=True)
        self.stopped = False
        self.thread.start()

    def paths(self) -> list[str]:
        return [p for p, _ in self.requests]

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        self.httpd.shutdown()
        self.httpd.server_close()


def rec(name, version, build="0", **extra):
    return {"name": name, "version": version, "build": build, "build_number": 0,
            "depends": [], "md5": "0" * 32, "size": 1, **extra}


def write(root: Path, rel: str, content) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "srv"
    write(root, "chan/linux-64/repodata.json", {"info": {"subdir": "linux-64"}, "packages": {
        "a-1-0.tar.bz2": rec("a", "1"), "b-1-0.tar.bz2": rec("b", "1")}})
    write(root, "chan/noarch/repodata.json", {"info": {"subdir": "noarch"}, "packages": {}})
    server = RepoServer(root)
    yield server
    server.stop()


def ctx(tmp_path, **settings):
    from conda_deepdive.config.context import Context

    # these tests follow the repodata.json conversation; asking for repodata_shards.msgpack.zst
    # first (repodata_use_shards) is tested in test_shards.py
    values = dict(pkgs_dirs=[str(tmp_path / "pkgs")], override_cuda="", override_glibc="2.17",
                  override_linux="5.15", override_archspec="x86_64", local_repodata_ttl=0,
                  repodata_use_shards=False)
    values.update(settings)
    return Context.from_values(**values)


def load(server, tmp_path, subdir="linux-64", reporter=None, **settings):
    return SubdirData(f"{server.url}/chan", subdir, ctx(tmp_path, **settings), reporter=reporter).load()


# -- cache naming ------------------------------------------------------------------------------------
def test_cache_fn_url_is_condas_md5_prefix():
    url = "https://repo.anaconda.com/pkgs/main/linux-64"
    assert cache_fn_url(url) == hashlib.md5((url + "/").encode()).hexdigest()[:8] + ".json"
    assert cache_fn_url(url + "/") == cache_fn_url(url)
    other = cache_fn_url(url, "current_repodata.json")
    assert other == hashlib.md5((url + "/current_repodata.json").encode()).hexdigest()[:8] + ".json"
    assert get_cache_control_max_age("public, max-age=1200") == 1200
    assert get_cache_control_max_age("no-cache") == 0


# -- the happy path: 200, then 304 ----------------------------------------------------------------
def test_200_then_304(repo, tmp_path):
    rr = RecordingReporter()
    first = load(repo, tmp_path, reporter=rr)
    assert sorted(r.name for r in first.records) == ["a", "b"]
    info = first.fetch_info
    assert (info.cache, info.status, info.source, info.filename) == ("miss", 200, "network", "repodata.json")
    # conda 26 asks for .zst first; this server has none, so it fell back and remembered that
    assert repo.paths() == ["/chan/linux-64/repodata.json.zst", "/chan/linux-64/repodata.json"]
    assert "zst_unavailable" in rr.kinds()
    key = cache_fn_url(f"{repo.url}/chan/linux-64")[:-5]
    cache_dir = tmp_path / "pkgs" / "cache"
    assert info.cache_path == str(cache_dir / f"{key}.json")
    state = json.loads((cache_dir / f"{key}.info.json").read_text())
    assert state["etag"].startswith('"') and state["mod"] and state["url"].endswith("/chan/linux-64")
    assert state["has_zst"]["value"] is False and state["has_zst"]["last_checked"].endswith("Z")
    assert state["size"] == (cache_dir / f"{key}.json").stat().st_size
    assert not list(cache_dir.glob("*.tmp"))

    repo.requests.clear()
    second = load(repo, tmp_path)
    assert second.fetch_info.cache == "304" and second.fetch_info.status == 304
    assert second.fetch_info.source == "cache"
    assert [r.name for r in second.records] == [r.name for r in first.records]
    assert all(h.get("if-none-match") == state["etag"] for _, h in repo.requests)


def test_etag_change_refetches(repo, tmp_path):
    load(repo, tmp_path)
    write(repo.root, "chan/linux-64/repodata.json", {"info": {"subdir": "linux-64"}, "packages": {
        "c-2-0.tar.bz2": rec("c", "2")}})
    again = load(repo, tmp_path)
    assert again.fetch_info.cache == "miss" and again.fetch_info.status == 200
    assert [r.name for r in again.records] == ["c"]
    # and the new body is what the cache now holds
    assert json.loads(Path(again.fetch_info.cache_path).read_text())["packages"].keys() == {"c-2-0.tar.bz2"}


def test_max_age_honoured(repo, tmp_path):
    repo.cache_control = "public, max-age=600"
    load(repo, tmp_path, local_repodata_ttl=1)
    repo.requests.clear()
    hit = load(repo, tmp_path, local_repodata_ttl=1)
    assert hit.fetch_info.cache == "hit" and repo.requests == []  # server not even asked
    assert len(hit.records) == 2
    revalidate = load(repo, tmp_path, local_repodata_ttl=0)  # 0 = always ask
    assert revalidate.fetch_info.cache == "304" and repo.requests


def test_max_age_zero_and_ttl_seconds(repo, tmp_path):
    repo.cache_control = "max-age=0"
    load(repo, tmp_path, local_repodata_ttl=1)
    repo.requests.clear()
    assert load(repo, tmp_path, local_repodata_ttl=1).fetch_info.cache == "304"
    repo.requests.clear()
    # a ttl > 1 is a number of seconds and overrides what the server said
    assert load(repo, tmp_path, local_repodata_ttl=3600).fetch_info.cache == "hit"
    assert repo.requests == []


# -- formats ------------------------------------------------------------------------------------------
def test_zst_variant_preferred_and_revalidated(repo, tmp_path):
    import zstandard

    body = json.dumps({"info": {"subdir": "linux-64"}, "packages": {"z-1-0.tar.bz2": rec("z", "1")}}).encode()
    write(repo.root, "chan/linux-64/repodata.json.zst", zstandard.ZstdCompressor().compress(body))
    first = load(repo, tmp_path)
    assert first.fetch_info.filename == "repodata.json.zst"
    assert [r.name for r in first.records] == ["z"]
    assert first.fetch_info.json_bytes == len(body) and first.fetch_info.bytes < len(body) + 64
    assert repo.paths() == ["/chan/linux-64/repodata.json.zst"]  # no second request needed
    state = json.loads(Path(first.fetch_info.cache_path).with_suffix(".info.json").read_text())
    assert state["has_zst"]["value"] is True
    second = load(repo, tmp_path)
    assert (second.fetch_info.cache, second.fetch_info.filename) == ("304", "repodata.json.zst")


def test_current_repodata_fallback_over_http(repo, tmp_path):
    rr = RecordingReporter()
    sd = SubdirData(f"{repo.url}/chan", "linux-64", ctx(tmp_path), repodata_fn="current_repodata.json",
                    reporter=rr).load()
    assert sd.fetch_info.filename == "repodata.json" and len(sd.records) == 2
    assert "repodata_fallback" in rr.kinds()
    assert "/chan/linux-64/current_repodata.json" in repo.paths()
    # present → used, cached under its own key
    write(repo.root, "chan/linux-64/current_repodata.json", {"packages": {"b-1-0.tar.bz2": rec("b", "1")}})
    cur = SubdirData(f"{repo.url}/chan", "linux-64", ctx(tmp_path), repodata_fn="current_repodata.json").load()
    assert cur.fetch_info.filename == "current_repodata.json" and [r.name for r in cur.records] == ["b"]
    assert Path(cur.fetch_info.cache_path).name == cache_fn_url(f"{repo.url}/chan/linux-64", "current_repodata.json")


# -- errors ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("payload", [b'{"info": {"subdir": "linux-64"}, "packages": {"a-1-0.tar', b"<html>oops</html>"])
def test_truncated_or_non_json_repodata(repo, tmp_path, payload):
    write(repo.root, "chan/linux-64/repodata.json", payload)
    with pytest.raises(RepodataDecodeError) as err:
        fetch_index(ctx(tmp_path, channels=[f"{repo.url}/chan"]))
    assert "chan" in str(err.value) and "linux-64" in str(err.value)
    key = cache_fn_url(f"{repo.url}/chan/linux-64")
    assert not (tmp_path / "pkgs" / "cache" / key).exists(), "invalid repodata must never be cached"
    assert not list((tmp_path / "pkgs" / "cache").glob("*.tmp"))


def test_server_down_with_cache_warns_and_uses_cache(repo, tmp_path):
    load(repo, tmp_path)
    repo.stop()
    rr = RecordingReporter()
    sd = load(repo, tmp_path, reporter=rr)
    assert sd.fetch_info.cache == "stale" and len(sd.records) == 2
    warnings = [e.data["message"] for e in rr.events if e.kind == "warning"]
    assert len(warnings) == 1 and "cached copy" in warnings[0] and "/chan/linux-64" in warnings[0]


def test_server_down_without_cache_is_an_http_error(repo, tmp_path):
    repo.stop()
    with pytest.raises(CondaHTTPError) as err:
        load(repo, tmp_path)
    assert "CONNECTION FAILED" in str(err.value) and "linux-64" in str(err.value)


def test_5xx_uses_cache_with_warning_and_errors_without(repo, tmp_path):
    repo.status_override = {"/chan/linux-64/repodata.json.zst": 503}
    with pytest.raises(CondaHTTPError, match="503"):
        load(repo, tmp_path)
    repo.status_override = {}
    load(repo, tmp_path)
    repo.status_override = {"/chan/linux-64/repodata.json.zst": 503}
    rr = RecordingReporter()
    assert load(repo, tmp_path, reporter=rr).fetch_info.cache == "stale"
    assert "warning" in rr.kinds()


def test_offline(repo, tmp_path):
    with pytest.raises(OfflineError) as err:
        load(repo, tmp_path, offline=True)
    assert "linux-64" in str(err.value) and "cache" in str(err.value)
    assert repo.requests == []
    load(repo, tmp_path)
    repo.requests.clear()
    sd = load(repo, tmp_path, offline=True)
    assert sd.fetch_info.cache == "offline" and len(sd.records) == 2 and repo.requests == []


def test_404_noarch_is_unavailable_channel_but_platform_subdir_is_empty(repo, tmp_path):
    os.remove(repo.root / "chan/linux-64/repodata.json")
    sd = load(repo, tmp_path)
    assert sd.records == () and sd.fetch_info.status == 404
    assert Path(sd.fetch_info.cache_path).read_text() == "{}"  # conda caches the empty subdir
    os.remove(repo.root / "chan/noarch/repodata.json")
    with pytest.raises(UnavailableInvalidChannel) as err:
        load(repo, tmp_path, subdir="noarch")
    assert "404" in str(err.value) and isinstance(err.value, CondaError)


def test_edited_cache_is_not_trusted(repo, tmp_path):
    first = load(repo, tmp_path)
    cache_json = Path(first.fetch_info.cache_path)
    cache_json.write_text(cache_json.read_text().replace('"b"', '"x"'))  # size/mtime now differ
    repo.requests.clear()
    again = load(repo, tmp_path)
    assert again.fetch_info.cache == "miss" and sorted(r.name for r in again.records) == ["a", "b"]
    assert all("if-none-match" not in h for _, h in repo.requests)


def test_killed_write_leaves_old_cache_intact(repo, tmp_path, monkeypatch):
    first = load(repo, tmp_path)
    cache_json = Path(first.fetch_info.cache_path)
    before = cache_json.read_bytes()
    write(repo.root, "chan/linux-64/repodata.json", {"packages": {"n-1-0.tar.bz2": rec("n", "1")}})

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("killed mid-write")

    monkeypatch.setattr("conda_deepdive.index.repodata_cache.os.replace", killed)
    with pytest.raises(KeyboardInterrupt):
        load(repo, tmp_path)
    monkeypatch.undo()
    assert cache_json.read_bytes() == before
    assert not list(cache_json.parent.glob("*.tmp"))
    assert RepodataCache(cache_json.parent, cache_json.stem).load_state().etag  # still consistent


def test_fetch_index_over_http_in_order_with_noarch(repo, tmp_path):
    rr = RecordingReporter()
    index = fetch_index(ctx(tmp_path, channels=[f"{repo.url}/chan"]), reporter=rr)
    assert [sd.subdir for sd in index.subdir_datas] == ["linux-64", "noarch"]
    assert len(index.records) == 2
    loaded = [e.data for e in rr.events if e.kind == "subdir_loaded"]
    assert [(d["subdir"], d["cache"], d["status"]) for d in loaded] == [
        ("linux-64", "miss", 200), ("noarch", "miss", 200)]


def test_with_project_server(tmp_path):
    serve = pytest.importorskip("conda_deepdive.teaching.serve", reason="conda_deepdive.teaching.serve not written yet")
    root = tmp_path / "srv"
    write(root, "chan/linux-64/repodata.json", {"packages": {"a-1-0.tar.bz2": rec("a", "1")}})
    write(root, "chan/noarch/repodata.json", {"packages": {}})
    with serve.serving(root, port=0) as base:
        url = f"{base.rstrip('/')}/chan"
        first = SubdirData(url, "linux-64", ctx(tmp_path)).load()
        second = SubdirData(url, "linux-64", ctx(tmp_path)).load()
    assert first.fetch_info.cache == "miss" and [r.name for r in first.records] == ["a"]
    assert second.fetch_info.cache == "304"
