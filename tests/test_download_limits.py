"""Downloads from an untrusted server (issue 12, part A): never read past the size the record
declares, never wait forever. A loopback HTTP server plays the hostile side."""

from __future__ import annotations

import http.server
import os
import threading
import time

import pytest

from conda_deepdive.config.context import Context
from conda_deepdive.exceptions import ChecksumMismatchError, CondaHTTPError
from conda_deepdive.fetch.fetch_extract import CacheUrlAction

DECLARED = 909
HUGE = 300 * 1024 * 1024


class _Hostile(http.server.BaseHTTPRequestHandler):
    sent: dict = {}
    release = threading.Event()

    def log_message(self, *args):  # quiet
        pass

    def _stream(self, total: int) -> None:
        chunk = b"\0" * 65536
        sent = 0
        try:
            while sent < total:
                self.wfile.write(chunk)
                sent += len(chunk)
                _Hostile.sent[self.path] = sent
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self):
        self.send_response(200)
        if self.path == "/forever.tar.bz2":          # no Content-Length, never ends
            self.end_headers()
            self._stream(HUGE)
        elif self.path == "/announced.tar.bz2":      # says 300 MB up front
            self.send_header("Content-Length", str(HUGE))
            self.end_headers()
            self._stream(HUGE)
        elif self.path == "/stall.tar.bz2":          # a few bytes, then nothing
            self.send_header("Content-Length", str(DECLARED))
            self.end_headers()
            self.wfile.write(b"x" * 10)
            self.wfile.flush()
            _Hostile.release.wait(30)


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    _Hostile.release.set()
    httpd.shutdown()
    httpd.server_close()


def _action(url: str, tmp_path, **settings) -> CacheUrlAction:
    ctx = Context.from_values(**settings)
    fn = url.rsplit("/", 1)[1]
    return CacheUrlAction(url, str(tmp_path / "pkgs"), fn, sha256=None, size=DECLARED, md5=None, context=ctx)


@pytest.mark.parametrize("path", ["/forever.tar.bz2", "/announced.tar.bz2"])
def test_body_longer_than_declared_stops_at_the_declared_size(server, tmp_path, path):
    action = _action(server + path, tmp_path)
    with pytest.raises(ChecksumMismatchError) as info:
        action.execute()
    message = str(info.value)
    assert server + path in message and f"expected size: {DECLARED}" in message
    time.sleep(0.2)
    # the client read at most one chunk past the declared size; the server could not push 300 MB
    assert _Hostile.sent.get(path, 0) < 16 * 1024 * 1024
    assert not [p for p in os.listdir(tmp_path / "pkgs") if p.endswith(".partial")]
    assert not (tmp_path / "pkgs" / path.lstrip("/")).exists()


def test_stalled_body_is_a_timeout_naming_the_url(server, tmp_path):
    action = _action(server + "/stall.tar.bz2", tmp_path, remote_read_timeout_secs=0.5)
    started = time.monotonic()
    with pytest.raises(CondaHTTPError) as info:
        action.execute()
    assert time.monotonic() - started < 10
    assert server + "/stall.tar.bz2" in str(info.value)
    assert not [p for p in os.listdir(tmp_path / "pkgs") if p.endswith(".partial")]


def test_connect_timeout_comes_from_the_context(tmp_path, monkeypatch):
    import requests

    seen = {}

    def fake_get(url, **kwargs):
        seen.update(kwargs)
        raise requests.ConnectTimeout("connect timed out")
    monkeypatch.setattr(requests, "get", fake_get)
    action = _action("http://192.0.2.1/x-1.0-0.tar.bz2", tmp_path,
                     remote_connect_timeout_secs=1.5, remote_read_timeout_secs=7.0)
    with pytest.raises(CondaHTTPError) as info:
        action.execute()
    assert seen["timeout"] == (1.5, 7.0)
    assert "http://192.0.2.1/x-1.0-0.tar.bz2" in str(info.value)


def test_local_file_longer_than_declared(tmp_path):
    big = tmp_path / "big-1.0-0.tar.bz2"
    big.write_bytes(b"\0" * (5 * 1024 * 1024))
    action = CacheUrlAction(big.as_uri(), str(tmp_path / "pkgs"), big.name, size=DECLARED)
    with pytest.raises(ChecksumMismatchError):
        action.execute()
