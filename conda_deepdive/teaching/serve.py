"""Serve a channel directory over HTTP, with the caching headers conda relies on.

``python -m conda_deepdive serve [DIR] [--port N] [--bind ADDR]`` (default DIR: the teaching
channels, ``conda_deepdive/data/channels``) starts a small static file server on 127.0.0.1,
port 8999 unless ``--port`` says otherwise (``--port 0``: any free port; the URL is printed).
Point conda — or conda-deepdive — at it with ``channel_alias: http://127.0.0.1:8999/pkgs`` and
channel ``main``, or ``http://127.0.0.1:8999/cloud`` + ``conda-forge``. A port that is taken
(say, by a second ``serve``) is one line on stderr and exit code 1.

It exists to show how conda keeps its repodata cache fresh (``conda.gateways.repodata``):

* every response carries an ``ETag`` (a hash of the file's bytes), a ``Last-Modified`` date and
  ``Cache-Control: public, max-age=N``;
* conda stores these next to its cached ``repodata.json`` and, once ``max-age`` has passed,
  asks again with ``If-None-Match: <etag>`` / ``If-Modified-Since: <date>``;
* if the file did not change the server answers ``304 Not Modified`` with no body, and conda
  keeps its cache — watch the log: ``"GET /pkgs/main/linux-64/repodata.json HTTP/1.1" 304 -``.

Only the standard library is used (``http.server``). Each request is logged in the common log
format, like ``python -m http.server``.
"""

from __future__ import annotations

import argparse
import contextlib
import email.utils
import errno
import hashlib
import http.server
import os
import sys
import threading
from functools import partial
from pathlib import Path
from collections.abc import Iterator

from conda_deepdive.config.teaching_defaults import channels_dir

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import IO

__all__ = ["DEFAULT_DIRECTORY", "DEFAULT_PORT", "ChannelRequestHandler", "make_server", "serving", "serve", "main",
           "bind_error"]

DEFAULT_DIRECTORY = channels_dir()  # the package data, wherever the package is installed
DEFAULT_PORT = 8999
DEFAULT_MAX_AGE = 30  # seconds; what repo.anaconda.com sends for repodata


class _EtagCache:
    """Content hashes of files, recomputed only when size, mtime or inode change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[tuple, str]] = {}

    def etag(self, path: str, st: os.stat_result) -> str:
        key = (st.st_size, st.st_mtime_ns, st.st_ino)
        with self._lock:
            hit = self._cache.get(path)
            if hit and hit[0] == key:
                return hit[1]
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(partial(f.read, 1 << 16), b""):
                digest.update(chunk)
        tag = f'"{digest.hexdigest()[:32]}"'
        with self._lock:
            self._cache[path] = (key, tag)
        return tag


def _etag_matches(header: str, etag: str) -> bool:
    # If-None-Match uses the weak comparison: W/"x" matches "x"; "*" matches anything
    candidates = [c.strip() for c in header.split(",")]
    bare = etag.removeprefix("W/")
    return any(c == "*" or c.removeprefix("W/") == bare for c in candidates)


class ChannelRequestHandler(http.server.SimpleHTTPRequestHandler):
    """``SimpleHTTPRequestHandler`` plus ETag / Last-Modified / Cache-Control and 304s."""

    server_version = "conda-deepdive-serve/1.0"
    max_age = DEFAULT_MAX_AGE
    log_stream: IO[str] | None = None  # None: stderr, like http.server
    etags = _EtagCache()
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".json": "application/json",
        ".conda": "application/octet-stream",
        ".bz2": "application/x-bzip2",
        ".zst": "application/zstd",
    }

    def send_head(self):  # type: ignore[override]
        self._sent_size = None
        path = self.translate_path(self.path)
        if os.path.isdir(path) or not os.path.isfile(path):
            return super().send_head()  # directories, index.html and 404s as usual
        try:
            f = open(path, "rb")
        except OSError:
            self.send_error(404, "File not found")
            return None
        try:
            st = os.fstat(f.fileno())
            etag = self.etags.etag(path, st)
            last_modified = email.utils.formatdate(st.st_mtime, usegmt=True)
            if self._not_modified(etag, int(st.st_mtime)):
                f.close()
                self.send_response(304)
                self._validators(etag, last_modified)
                self.end_headers()
                return None
            if self.command != "HEAD":
                self._sent_size = st.st_size  # logged by send_response → log_request
            self.send_response(200)
            self.send_header("Content-Type", self.guess_type(path))
            self.send_header("Content-Length", str(st.st_size))
            self._validators(etag, last_modified)
            self.end_headers()
            return f
        except BaseException:
            f.close()
            raise

    def _validators(self, etag: str, last_modified: str) -> None:
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", last_modified)
        self.send_header("Cache-Control", f"public, max-age={self.max_age}")

    def _not_modified(self, etag: str, mtime: int) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:  # RFC 9110: If-None-Match wins over If-Modified-Since
            return _etag_matches(inm, etag)
        ims = self.headers.get("If-Modified-Since")
        if ims:
            try:
                since = email.utils.parsedate_to_datetime(ims)
            except (TypeError, ValueError, IndexError):
                return False
            return since is not None and mtime <= int(since.timestamp())
        return False

    def log_request(self, code="-", size="-"):  # type: ignore[override]
        # common log format with the body size, as Apache and http.server write it
        if size == "-" and getattr(self, "_sent_size", None) is not None and str(code).startswith("200"):
            size = self._sent_size
        if isinstance(code, http.HTTPStatus):
            code = code.value
        self.log_message('"%s" %s %s', self.requestline, str(code), str(size))

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server's name)
        line = "%s - - [%s] %s\n" % (self.address_string(), self.log_date_time_string(), format % args)
        stream = self.log_stream if self.log_stream is not None else sys.stderr
        stream.write(line)
        stream.flush()


def make_server(directory: str | os.PathLike = DEFAULT_DIRECTORY, port: int = 0, bind: str = "127.0.0.1",
                max_age: int = DEFAULT_MAX_AGE, log_stream: IO[str] | None = None) -> http.server.ThreadingHTTPServer:
    """A ready (not yet serving) threaded HTTP server for ``directory``."""
    directory = Path(directory)
    if not directory.is_dir():
        from conda_deepdive.exceptions import CondaValueError

        raise CondaValueError(f"serve: directory {str(directory)!r} does not exist or is not a directory")
    handler = type("BoundChannelRequestHandler", (ChannelRequestHandler,),
                   {"max_age": int(max_age), "log_stream": log_stream, "etags": _EtagCache()})
    server = http.server.ThreadingHTTPServer((bind, port), partial(handler, directory=str(directory)))
    server.daemon_threads = True
    return server


def bind_error(exc: OSError, bind: str, port: int) -> str:
    """One line that says why the server could not listen on ``bind:port``."""
    if exc.errno == errno.EADDRINUSE:
        return (f"port {port} on {bind} is already in use (another serve?): "
                "choose one with --port N, or --port 0 for any free port")
    if exc.errno == errno.EACCES:
        return f"not allowed to listen on port {port} of {bind}: use a port above 1023, or --port 0"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {bind}: not an address of this machine (see --bind)"
    return f"cannot listen on {bind}:{port}: {exc.strerror or exc}"


def _base_url(server: http.server.ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    if ":" in str(host):
        host = f"[{host}]"
    return f"http://{host}:{port}"


@contextlib.contextmanager
def serving(directory: str | os.PathLike = DEFAULT_DIRECTORY, port: int = 0, *, bind: str = "127.0.0.1",
            max_age: int = DEFAULT_MAX_AGE, log_stream: IO[str] | None = None) -> Iterator[str]:
    """Serve ``directory`` in a background thread; yields the base URL (no trailing slash).

    ``port=0`` picks a free port. Logs go to ``log_stream`` (default: stderr)::

        with serving(tmp_path) as url:
            requests.get(f"{url}/pkgs/main/noarch/repodata.json")
    """
    server = make_server(directory, port, bind, max_age, log_stream)
    # a short poll interval makes shutdown() quick, which keeps tests fast
    thread = threading.Thread(target=partial(server.serve_forever, poll_interval=0.05),
                              name="conda-deepdive-serve", daemon=True)
    thread.start()
    try:
        yield _base_url(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def serve(directory: str | os.PathLike = DEFAULT_DIRECTORY, port: int = DEFAULT_PORT, bind: str = "127.0.0.1",
          max_age: int = DEFAULT_MAX_AGE, out: IO[str] | None = None) -> int:
    """Serve until interrupted, printing the URL and how to point conda at it."""
    out = out or sys.stdout
    server = make_server(directory, port, bind, max_age)
    url = _base_url(server)
    print(f"Serving {Path(directory).resolve()} at {url}/ (Ctrl-C to stop)", file=out)
    root = Path(directory)
    if (root / "pkgs").is_dir():
        print(f"  channel_alias: {url}/pkgs   channels: [main, free]", file=out)
    if (root / "cloud").is_dir():
        print(f"  conda-forge:   {url}/cloud/conda-forge", file=out)
    out.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nstopped", file=out)
    finally:
        server.server_close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conda_deepdive serve",
                                     description="Serve a channel directory over HTTP with ETag/304 support.")
    parser.add_argument("directory", nargs="?", default=str(DEFAULT_DIRECTORY))
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"TCP port (default {DEFAULT_PORT}; 0 picks a free port)")
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--max-age", type=int, default=DEFAULT_MAX_AGE, dest="max_age")
    args = parser.parse_args(argv)
    from conda_deepdive.exceptions import CondaError

    try:
        return serve(args.directory, args.port, args.bind, args.max_age)
    except CondaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {bind_error(exc, args.bind, args.port)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
