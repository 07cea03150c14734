"""A loopback HTTP server for the mirror tests that misbehaves on request.

Serves a directory (a channel tree) like a CDN would — ``ETag`` + ``If-None-Match`` → ``304``,
``Range`` → ``206`` — and injects faults per path, consumed one per request:

* ``"503"`` (with ``Retry-After: 1``), ``"503:0"`` (``Retry-After: 0``), ``"429"``, ``"404"``;
* ``"reset"``: headers and half the body, then a TCP reset (SO_LINGER 0);
* ``"truncate"``: the full ``Content-Length`` announced, half the body sent, clean close;
* ``"corrupt"``: the whole body with one byte flipped in the middle;
* ``"html"``: ``200`` with an HTML page (a captive portal);
* ``"long"``: the body plus extra bytes beyond the declared size;
* ``"slow"``: the normal answer after ``slow_seconds``.

``latency`` adds a delay to every request. ``requests`` counts requests per path and
``max_in_flight`` the most requests served at the same time.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import socket
import struct
import threading
import time
from pathlib import Path


class FaultServer:
    def __init__(self, root: str | os.PathLike, latency: float = 0.0, slow_seconds: float = 1.0) -> None:
        self.root = Path(root)
        self.latency = latency
        self.slow_seconds = slow_seconds
        self.faults: dict[str, list[str]] = {}
        self.requests: dict[str, int] = {}
        self.ranges: list[tuple[str, str]] = []
        self.statuses: list[tuple[str, int]] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # no 40 ms Nagle/delayed-ACK stall per response

            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                server._handle(self)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, client_address: None  # resets are on purpose
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                       daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> "FaultServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> "FaultServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def add_fault(self, path: str, *faults: str) -> None:
        with self.lock:
            self.faults.setdefault(path, []).extend(faults)

    def package_requests(self) -> int:
        return sum(n for p, n in self.requests.items() if p.endswith((".conda", ".tar.bz2")))

    # -- the request handler ------------------------------------------------------------------
    def _handle(self, h: http.server.BaseHTTPRequestHandler) -> None:
        path = h.path.split("?", 1)[0]
        with self.lock:
            self.requests[path] = self.requests.get(path, 0) + 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            queue = self.faults.get(path)
            fault = queue.pop(0) if queue else None
            if h.headers.get("Range"):
                self.ranges.append((path, h.headers["Range"]))
        try:
            if self.latency:
                time.sleep(self.latency)
            self._answer(h, path, fault)
        finally:
            with self.lock:
                self.in_flight -= 1

    def _send(self, h, status: int, body: bytes, ctype: str = "application/octet-stream",
              extra: dict | None = None, length: int | None = None) -> None:
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body) if length is None else length))
        for k, v in (extra or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)
        self.statuses.append((h.path, status))

    def _answer(self, h, path: str, fault: str | None) -> None:
        if fault and fault.startswith("503"):
            after = fault.split(":", 1)[1] if ":" in fault else "1"
            return self._send(h, 503, b"busy", "text/plain", {"Retry-After": after})
        if fault == "429":
            return self._send(h, 429, b"slow down", "text/plain", {"Retry-After": "0"})
        if fault == "html":
            page = b"<html><body><h1>Welcome to the hotel wifi</h1></body></html>"
            return self._send(h, 200, page, "text/html; charset=utf-8")
        if fault == "slow":
            time.sleep(self.slow_seconds)
        file = (self.root / path.lstrip("/")).resolve()
        if fault == "404" or not str(file).startswith(str(self.root.resolve())) or not file.is_file():
            return self._send(h, 404, b"not found", "text/plain")
        data = file.read_bytes()
        st = file.stat()
        etag = '"' + hashlib.md5(f"{st.st_size}-{st.st_mtime_ns}".encode()).hexdigest() + '"'
        ctype = "application/json" if path.endswith(".json") else "application/octet-stream"
        if h.headers.get("If-None-Match") == etag:
            h.send_response(304)
            h.send_header("ETag", etag)
            h.send_header("Content-Length", "0")
            h.end_headers()
            self.statuses.append((h.path, 304))
            return
        status, extra = 200, {"ETag": etag, "Accept-Ranges": "bytes"}
        rng = h.headers.get("Range")
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[len("bytes="):-1])
            if start < len(data):
                extra["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
                data, status = data[start:], 206
        if fault == "corrupt":
            mid = len(data) // 2
            data = data[:mid] + bytes([data[mid] ^ 0xFF]) + data[mid + 1:]
        if fault == "long":
            return self._send(h, status, data + b"x" * 4096, ctype, extra)
        if fault in ("reset", "truncate"):
            h.send_response(status)
            h.send_header("Content-Type", ctype)
            h.send_header("Content-Length", str(len(data)))
            for k, v in extra.items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(data[: len(data) // 2])
            h.wfile.flush()
            if fault == "reset":
                h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            h.close_connection = True
            try:
                h.connection.shutdown(socket.SHUT_RDWR) if fault == "truncate" else None
            except OSError:
                pass
            h.connection.close()
            self.statuses.append((h.path, status))
            return
        self._send(h, status, data, ctype, extra)
