"""Downloading packages: parallel, streamed, verified, resumable — or clearly failed.

conda-mirror downloads one file at a time whatever ``--num-threads`` says, reads each file
whole into memory to md5 it, saves a 404 page as a package and exits 0 when files failed. Here:

* **Truly parallel.** One urllib3 connection pool per host holding ``num_threads`` connections,
  and ``num_threads`` worker threads, so that many requests are in flight at once and
  connections are reused (no TCP/TLS handshake per file). urllib3 (what requests is built on)
  rather than a ``requests.Session``: requests spends about 0.3 ms of Python per GET merging
  settings, hooks and cookies, and with the GIL that is wall time shared by all the workers.
  Proxies, the CA bundle and ``.netrc`` are read as requests would, once per host.
* **Checked while streaming.** Each chunk updates the size count and the sha256 (md5 too when
  that is all the record has) as it arrives; memory stays flat (one chunk per download) whatever
  the package size. The download stops at the **declared size**: a server that sends more is
  wrong, and we do not read a byte further.
* **What arrived is a package.** A ``200`` with an HTML page (a captive portal, an error page)
  fails, a checksum mismatch fails, and the archive is opened to check that ``info/index.json``
  names the package the record names.
* **Retries that help.** Connection errors, resets, truncated bodies, ``429`` and ``5xx`` are
  retried ``max_retries`` times with capped, jittered exponential backoff ("full jitter": a
  random wait below ``min(cap, base·2^attempt)``, so that many clients do not retry in step); a
  ``Retry-After`` header is honoured. ``404``/``403``/``410`` are not retried.
* **Resume.** The bytes received so far stay in ``.<fn>.mirror-tmp-part`` *inside the target
  subdir* (same filesystem as the final name). A retry — or the next run, after a crash — asks
  for the rest with ``Range: bytes=N-``; the part already on disk is re-hashed first.
* **Atomic.** Only a verified file is renamed to its final name (``os.replace``), so the
  package name in the mirror either does not exist or is complete and correct.

Every step is reported to the tracer: ``progress(stage, "download:<fn>", done, total)`` per file,
events ``download_started``/``download_retry``/``download_finished``/``download_failed``.
"""

from __future__ import annotations

import email.utils
import hashlib
import io
import json
import os
import random
import tarfile
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import unquote, urlparse

from conda_deepdive.mirror.publish import TEMP_MARK
from conda_deepdive.reporting import Reporter
from conda_deepdive.values import value_object

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["DownloadJob", "DownloadOutcome", "IndexResponse", "Downloader", "check_archive",
           "hash_file", "part_path", "DownloadFailed"]

CHUNK = 256 * 1024
#: a body this small is held in memory until checked (no more than one streaming chunk)
SMALL = CHUNK
_PROGRESS_EVERY = 1 << 20  # report per-file progress every MiB (and at the end)


class DownloadFailed(Exception):
    """One attempt failed; ``retry`` says whether another attempt may help."""

    def __init__(self, reason: str, retry: bool = True, retry_after: float | None = None,
                 keep_part: bool = False) -> None:
        super().__init__(reason)
        self.reason, self.retry, self.retry_after, self.keep_part = reason, retry, retry_after, keep_part


@value_object(frozen=True)
class DownloadJob:
    """One file to fetch: where from, where to, and what the index says it must be."""

    url: str
    dest: str
    subdir: str
    fn: str
    size: int | None
    sha256: str | None
    md5: str | None
    name: str | None = None
    version: str | None = None
    build: str | None = None

    def __repr__(self) -> str:
        return f"DownloadJob({self.subdir}/{self.fn}, {self.size} bytes)"


@value_object(frozen=True)
class DownloadOutcome:
    """How one file ended: ``ok``, bytes received (this run), attempts, resumed, reason."""

    subdir: str
    fn: str
    ok: bool
    received: int
    attempts: int
    resumed: bool = False
    reason: str | None = None
    seconds: float = 0.0

    def __repr__(self) -> str:
        state = "ok" if self.ok else f"FAILED: {self.reason}"
        return f"DownloadOutcome({self.subdir}/{self.fn}: {state}, {self.attempts} attempt(s))"


@value_object(frozen=True)
class IndexResponse:
    """An index file fetch: ``status`` 200 (``body`` set), 304 (unchanged) or 404 (absent)."""

    url: str
    status: int
    body: bytes | None = None
    etag: str | None = None
    last_modified: str | None = None

    def __repr__(self) -> str:
        size = f", {len(self.body)} bytes" if self.body is not None else ""
        return f"IndexResponse({self.url}, {self.status}{size})"


def part_path(dest: str | os.PathLike) -> Path:
    """The resumable partial download of ``dest`` (beside it: same filesystem)."""
    dest = Path(dest)
    return dest.with_name(f".{dest.name}{TEMP_MARK}part")


def hash_file(path: str | os.PathLike, algorithms: Iterable[str] = ("sha256",),
              limit: int | None = None) -> tuple[int, dict[str, str]]:
    """Size and hex digests of a file, read in chunks (flat memory)."""
    hashers = {a: hashlib.new(a) for a in algorithms}
    n = 0
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(CHUNK if limit is None else min(CHUNK, limit - n))
            if not chunk:
                break
            n += len(chunk)
            for h in hashers.values():
                h.update(chunk)
    return n, {a: h.hexdigest() for a, h in hashers.items()}


def _source(src: str | os.PathLike | bytes) -> Any:
    """A binary file object over a path or over bytes already in memory."""
    return io.BytesIO(src) if isinstance(src, (bytes, bytearray)) else open(src, "rb")


def _bz2_chunks(src: str | os.PathLike | bytes) -> Iterable[bytes]:
    """Decompressed bytes of a (possibly multi-stream) ``.bz2`` file, a chunk at a time."""
    import bz2

    dec = bz2.BZ2Decompressor()
    with _source(src) as fh:
        while True:
            raw = fh.read(64 * 1024)
            if not raw:
                return
            while raw:
                out = dec.decompress(raw)
                if out:
                    yield out
                if dec.eof:  # a .tar.bz2 may be several concatenated bz2 streams
                    raw, dec = dec.unused_data, bz2.BZ2Decompressor()
                else:
                    raw = b""


def _index_json_from_tar_chunks(chunks: Iterable[bytes]) -> dict | None:
    """Walk tar headers over decompressed chunks until ``info/index.json`` (fast path).

    Reads 512-byte headers with ``TarInfo.frombuf`` and skips member data without keeping it:
    memory stays at one chunk plus the member being read. Extended headers (pax, GNU long
    names) are skipped like members; ``index.json`` never needs them. Returns None when the
    walk cannot decide (the caller then lets :mod:`tarfile` read the archive).
    """
    buf = bytearray()
    it = iter(chunks)

    def fill(n: int) -> bool:
        while len(buf) < n:
            try:
                buf.extend(next(it))
            except StopIteration:
                return False
        return True

    while fill(512):
        block = bytes(buf[:512])
        if block == b"\0" * 512:
            return None  # end of archive
        try:
            info = tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
        except tarfile.TarError:
            return None
        size = info.size
        padded = (size + 511) // 512 * 512
        if info.name in ("info/index.json", "./info/index.json") and info.isfile():
            if not fill(512 + size):
                return None
            return json.loads(bytes(buf[512:512 + size]))
        skip = 512 + padded
        while skip:  # drop this member without holding it in memory
            if not buf and not fill(1):
                return None
            n = min(skip, len(buf))
            del buf[:n]
            skip -= n
    return None


def _index_json_from_tar(stream: Any, mode: str) -> dict | None:
    with tarfile.open(fileobj=stream, mode=mode) as tar:
        for member in tar:
            if member.name in ("info/index.json", "./info/index.json"):
                f = tar.extractfile(member)
                return json.loads(f.read()) if f is not None else None
    return None


def check_archive(path: str | os.PathLike | bytes, fn: str) -> dict:
    """Open the archive (a path, or its bytes) and return its ``info/index.json``; raise
    ValueError if unreadable.

    ``.conda``: a zip whose ``info-*.tar.zst`` member holds ``info/``; ``.tar.bz2``: one tar.
    Only as much is decompressed as needed to reach ``info/index.json``.
    """
    try:
        if fn.endswith(".conda"):
            import zstandard

            with zipfile.ZipFile(io.BytesIO(path) if isinstance(path, (bytes, bytearray)) else path) as zf:
                info = next((n for n in zf.namelist() if n.startswith("info-") and n.endswith(".tar.zst")), None)
                if info is None:
                    raise ValueError("no info-*.tar.zst member in the .conda zip")
                with zf.open(info) as raw:
                    reader = zstandard.ZstdDecompressor().stream_reader(raw)
                    data = _index_json_from_tar(reader, "r|")
        elif fn.endswith(".tar.bz2"):
            data = _index_json_from_tar_chunks(_bz2_chunks(path))
            if data is None:  # an unusual layout: let tarfile decide
                with _source(path) as raw:
                    data = _index_json_from_tar(raw, "r|bz2")
        else:
            raise ValueError("not a conda package file name")
    except (OSError, EOFError, tarfile.TarError, zipfile.BadZipFile, ValueError, KeyError) as exc:
        raise ValueError(f"archive unreadable ({exc.__class__.__name__}: {exc})") from None
    except Exception as exc:  # zstandard.ZstdError and friends
        raise ValueError(f"archive unreadable ({exc.__class__.__name__}: {exc})") from None
    if not isinstance(data, dict):
        raise ValueError("archive has no info/index.json")
    return data


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class Downloader:
    """A pool of ``num_threads`` workers sharing one connection pool per host (see the module docstring)."""

    def __init__(
        self,
        *,
        num_threads: int = 8,
        max_retries: int = 5,
        timeout: float = 30.0,
        reporter: Reporter | None = None,
        stage: str = "mirror",
        ssl_verify: Any = True,
        proxies: Mapping[str, str] | None = None,
        backoff_base: float = 0.25,
        backoff_cap: float = 8.0,
        retry_after_cap: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        on_done: Callable[[DownloadOutcome, "DownloadJob"], None] | None = None,
    ) -> None:
        self.num_threads = max(1, num_threads)
        self.max_retries = max(0, max_retries)
        self.timeout = timeout
        self.reporter = reporter or Reporter()
        self.stage = stage
        self.backoff_base, self.backoff_cap, self.retry_after_cap = backoff_base, backoff_cap, retry_after_cap
        self.sleep = sleep
        self.on_done = on_done
        self._ssl_verify, self._proxies = ssl_verify, dict(proxies or {})
        self._managers: dict[str | None, Any] = {}  # proxy URL (None: direct) -> urllib3 manager
        self._hosts: dict[tuple[str, str], tuple[Any, dict[str, str]]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Downloader({self.num_threads} threads, {self.max_retries} retries, timeout {self.timeout}s)"

    # -- the connection pools ---------------------------------------------------------------
    def _pool(self, url: str) -> tuple[Any, dict[str, str]]:
        """The urllib3 pool manager for ``url``'s host, and the headers every request there carries.

        Built once per host (proxy, CA bundle and ``.netrc`` looked up then, as requests would with
        ``trust_env``): one manager per proxy, ``num_threads`` connections per host, each worker
        keeping its connection open between files instead of handshaking again.
        """
        parts = urlparse(url)
        host = (parts.scheme, parts.netloc)
        found = self._hosts.get(host)
        if found is not None:
            return found
        with self._lock:
            found = self._hosts.get(host)
            if found is None:
                proxy = self._proxy_for(parts.scheme, parts.hostname or "")
                manager = self._managers.get(proxy)
                if manager is None:
                    manager = self._managers[proxy] = self._make_manager(proxy)
                headers = {"User-Agent": "conda-deepdive-mirror"}
                # credentials in the URL win over .netrc, as in requests
                auth = ((unquote(parts.username), unquote(parts.password or "")) if parts.username
                        else _netrc_auth(parts.hostname or ""))
                if auth:
                    import base64

                    token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
                    headers["Authorization"] = f"Basic {token}"
                found = self._hosts[host] = (manager, headers)
        return found

    def _proxy_for(self, scheme: str, hostname: str) -> str | None:
        """The proxy for a host: the Downloader's own ``proxies`` (conda's ``proxy_servers``: keys
        ``scheme://host``, ``scheme``, ``all://host``, ``all``) win; else ``HTTP(S)_PROXY`` /
        ``ALL_PROXY`` unless ``NO_PROXY`` names the host."""
        for key in (f"{scheme}://{hostname}", scheme, f"all://{hostname}", "all"):
            if self._proxies.get(key):
                return self._proxies[key]
        if self._proxies:
            return None
        import urllib.request

        env = urllib.request.getproxies_environment()
        if not env or urllib.request.proxy_bypass_environment(hostname, env):
            return None
        return env.get(scheme) or env.get("all")

    def _make_manager(self, proxy: str | None) -> Any:
        import urllib3

        kwargs: dict[str, Any] = {"num_pools": 8, "maxsize": self.num_threads,
                                  "timeout": urllib3.Timeout(connect=self.timeout, read=self.timeout),
                                  # redirects are followed (a CDN may answer with one); every
                                  # other retry is ours, with backoff (see fetch_all)
                                  "retries": urllib3.Retry(total=None, connect=0, read=0, redirect=10,
                                                           status=0, other=0, raise_on_status=False)}
        verify = self._ssl_verify
        if verify is True:
            verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        if verify is False or (isinstance(verify, str) and verify.lower() in ("false", "no", "0")):
            kwargs["cert_reqs"] = "CERT_NONE"
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        else:
            kwargs["cert_reqs"] = "CERT_REQUIRED"
            if verify is True:
                try:
                    import certifi  # the bundle requests (and so conda) verifies against

                    kwargs["ca_certs"] = certifi.where()
                except ImportError:  # pragma: no cover - the system's store then
                    pass
            elif os.path.isdir(str(verify)):
                kwargs["ca_cert_dir"] = str(verify)
            else:
                kwargs["ca_certs"] = str(verify)
        if proxy:
            return urllib3.ProxyManager(proxy, **kwargs)
        return urllib3.PoolManager(**kwargs)

    def _get(self, url: str, headers: Mapping[str, str], *, stream: bool) -> Any:
        manager, base = self._pool(url)
        return manager.request("GET", url, headers={**base, **headers}, preload_content=not stream,
                               decode_content=not stream)

    def close(self) -> None:
        with self._lock:
            for manager in self._managers.values():
                manager.clear()
            self._managers.clear()
            self._hosts.clear()

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (full jitter; Retry-After wins)."""
        delay = random.uniform(0, min(self.backoff_cap, self.backoff_base * (2 ** attempt)))
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.retry_after_cap))
        return delay

    # -- index files ------------------------------------------------------------------------
    def get_index(self, url: str, etag: str | None = None, last_modified: str | None = None) -> IndexResponse:
        """GET an index file, conditionally (``If-None-Match``/``If-Modified-Since``), with retries."""
        if url.startswith("file://"):
            path = Path(unquote(urlparse(url).path))
            try:
                st = path.stat()
            except OSError:
                return IndexResponse(url, 404)
            tag = f'"{st.st_size:x}-{st.st_mtime_ns:x}"'  # a file:// "ETag": size and mtime
            if etag == tag:
                return IndexResponse(url, 304, None, tag)
            return IndexResponse(url, 200, path.read_bytes(), tag)
        import urllib3

        headers = {"Accept-Encoding": "gzip, deflate"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        attempt = 0
        while True:
            try:
                resp = self._get(url, headers, stream=False)
                if resp.status == 304:
                    return IndexResponse(url, 304, None, etag, last_modified)
                if resp.status in (404, 403, 410):
                    return IndexResponse(url, 404)
                if resp.status == 429 or resp.status >= 500:
                    raise DownloadFailed(f"HTTP {resp.status}", True,
                                         _retry_after(resp.headers.get("Retry-After")))
                if resp.status != 200:
                    raise DownloadFailed(f"HTTP {resp.status}", False)
                if resp.headers.get("Content-Type", "").startswith("text/html"):
                    raise DownloadFailed("got an HTML page instead of JSON", True)
                body = resp.data
                expected = resp.headers.get("Content-Length")
                if expected and resp.headers.get("Content-Encoding") in (None, "identity") \
                        and int(expected) != len(body):
                    raise DownloadFailed(f"truncated: {len(body)} of {expected} bytes", True)
                return IndexResponse(url, 200, body, resp.headers.get("ETag"),
                                     resp.headers.get("Last-Modified"))
            except (urllib3.exceptions.HTTPError, OSError, DownloadFailed) as exc:
                failure = exc if isinstance(exc, DownloadFailed) else \
                    DownloadFailed(_describe(exc), not _is_tls_failure(exc))
                if not failure.retry or attempt >= self.max_retries:
                    raise failure from None
                delay = self.backoff(attempt, failure.retry_after)
                self.reporter.event(self.stage, "index_retry", url=url, attempt=attempt + 1,
                                    reason=failure.reason, delay_seconds=round(delay, 3))
                self.sleep(delay)
                attempt += 1

    # -- packages ---------------------------------------------------------------------------
    def fetch_all(self, jobs: Iterable[DownloadJob]) -> list[DownloadOutcome]:
        """Download every job, ``num_threads`` at a time; one failure never stops the others.

        Two stages, like a production line: ``num_threads`` *transfer* workers stream bodies
        into their part files (sha256 and size checked as the bytes arrive), and as soon as a
        body is complete the worker starts the next request while a *check* worker opens the
        archive and renames the verified file into place. A worker's connection is never idle
        while an archive is being checked. A failed check sends the file back to the transfer
        queue (after the backoff) like any other retryable failure.
        """
        jobs = list(jobs)
        if not jobs:
            return []
        outcomes: list[DownloadOutcome | None] = [None] * len(jobs)
        left = [len(jobs)]
        everything_done = threading.Event()
        workers = min(self.num_threads, len(jobs))

        def finish(i: int, job: DownloadJob, run: _Run, ok: bool, reason: str | None = None) -> None:
            outcome = DownloadOutcome(job.subdir, job.fn, ok, run.received, run.attempt + 1, run.resumed,
                                      reason, time.perf_counter() - run.t0)
            if ok:
                self.reporter.event(self.stage, "download_finished", subdir=job.subdir, fn=job.fn,
                                    received=run.received, attempts=run.attempt + 1, resumed=run.resumed,
                                    download_seconds=round(outcome.seconds, 4))
            else:
                self.reporter.event(self.stage, "download_failed", subdir=job.subdir, fn=job.fn,
                                    reason=reason, attempts=run.attempt + 1)
            self.reporter.progress(self.stage, run.task, job.size or 0, job.size)  # closes the file's bar
            try:
                if self.on_done is not None:
                    self.on_done(outcome, job)
            finally:
                outcomes[i] = outcome
                with self._lock:
                    left[0] -= 1
                    if left[0] == 0:
                        everything_done.set()

        def failed(i: int, job: DownloadJob, run: _Run, exc: DownloadFailed) -> None:
            if not exc.keep_part:
                _unlink(part_path(job.dest))
            if not exc.retry or run.attempt >= self.max_retries:
                finish(i, job, run, False, exc.reason)
                return
            delay = self.backoff(run.attempt, exc.retry_after)
            self.reporter.event(self.stage, "download_retry", subdir=job.subdir, fn=job.fn,
                                attempt=run.attempt + 1, reason=exc.reason, delay_seconds=round(delay, 3))
            run.attempt += 1
            transfers.submit(transfer, i, job, run, delay)

        def transfer(i: int, job: DownloadJob, run: _Run, delay: float = 0.0) -> None:
            try:
                if delay:
                    self.sleep(delay)
                if run.attempt == 0:
                    run.t0 = time.perf_counter()
                    self.reporter.event(self.stage, "download_started", subdir=job.subdir, fn=job.fn,
                                        size=job.size)
                got, resumed, body = self._transfer(job, run.task)
                run.received += got
                run.resumed = run.resumed or resumed
            except DownloadFailed as exc:
                failed(i, job, run, exc)
                return
            except Exception as exc:  # a bug must not hang the run: the file fails, named
                finish(i, job, run, False, f"internal error: {_describe(exc)}")
                return
            checks.submit(check, i, job, run, body)

        def check(i: int, job: DownloadJob, run: _Run, body: bytes | None) -> None:
            try:
                self._verify(job, body)
            except DownloadFailed as exc:
                failed(i, job, run, exc)
                return
            except Exception as exc:
                finish(i, job, run, False, f"internal error: {_describe(exc)}")
                return
            finish(i, job, run, True)

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mirror-dl") as transfers, \
                ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mirror-check") as checks:
            for i, job in enumerate(jobs):
                transfers.submit(transfer, i, job, _Run(f"download:{job.subdir}/{job.fn}"))
            everything_done.wait()
        return [o for o in outcomes if o is not None]

    def _open(self, job: DownloadJob, offset: int) -> tuple[Any, int, int | None, Callable[[], None]]:
        """Start the transfer at ``offset``: (chunk iterator, offset actually used, length, close)."""
        if job.url.startswith("file://"):
            path = unquote(urlparse(job.url).path)
            try:
                fh = open(path, "rb")
            except FileNotFoundError:
                raise DownloadFailed("not found (file:// upstream)", False) from None
            except OSError as exc:
                raise DownloadFailed(f"cannot read upstream file: {exc.strerror}", True) from None
            fh.seek(offset)
            length = os.fstat(fh.fileno()).st_size - offset
            return iter(lambda: fh.read(CHUNK), b""), offset, length, fh.close
        import urllib3

        headers = {"Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        try:
            resp = self._get(job.url, headers, stream=True)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise DownloadFailed(_describe(exc), not _is_tls_failure(exc), keep_part=True) from None
        status = resp.status
        if status in (404, 403, 410):
            resp.close()
            raise DownloadFailed(f"HTTP {status} (not on the server)", False)
        if status == 429 or status >= 500:
            resp.close()
            raise DownloadFailed(f"HTTP {status}", True, _retry_after(resp.headers.get("Retry-After")),
                                 keep_part=True)
        if status not in (200, 206):
            resp.close()
            raise DownloadFailed(f"HTTP {status}", False)
        if resp.headers.get("Content-Type", "").lower().startswith("text/html"):
            resp.close()
            raise DownloadFailed("the server sent an HTML page instead of the package", True)
        if status == 200:
            offset = 0  # the server ignored the Range request: start over
        length = resp.headers.get("Content-Length")
        length_i = int(length) if length and length.isdigit() else None
        return _chunks(resp), offset, length_i, resp.close

    def _transfer(self, job: DownloadJob, task: str) -> tuple[int, bool, bytes | None]:
        """One attempt at the body of ``job``: (bytes received, resumed, body).

        Size and checksum are checked here, as the bytes arrive; the archive by :meth:`_verify`.
        A body of at most one chunk (:data:`SMALL`) stays in memory — it costs no more than the
        streaming buffer would — and reaches the disk in the check stage, off this worker's
        connection; a larger one streams into its part file. Whatever arrived before a failure is
        kept in the part file, so the next attempt resumes after it.
        """
        import urllib3

        part = part_path(job.dest)
        algos = ["sha256"] if job.sha256 else []
        if job.md5 and not job.sha256:
            algos.append("md5")
        offset = 0
        try:
            have = part.stat().st_size
        except OSError:
            have = 0
        if job.size and 0 < have < job.size:
            offset = have
        elif have:
            _unlink(part)
        chunks, offset, length, close = self._open(job, offset)
        resumed = offset > 0
        hashers = {a: hashlib.new(a) for a in algos}
        if offset:
            # the bytes already on disk count: hash them first (a chunk at a time)
            with open(part, "rb") as fh:
                while True:
                    chunk = fh.read(CHUNK)
                    if not chunk:
                        break
                    for h in hashers.values():
                        h.update(chunk)
        if job.size is not None and length is not None and offset + length > job.size:
            close()
            raise DownloadFailed(f"the server announces {offset + length} bytes, the index says {job.size}",
                                 True)
        held: list[bytes] | None = [] if not offset and job.size is not None and job.size <= SMALL else None
        done, received, last_report = offset, 0, 0
        too_long = False
        out = None
        try:
            if held is None:
                out = open(part, "ab" if offset else "wb")
            for chunk in chunks:
                if not chunk:
                    continue
                if job.size is not None and done + len(chunk) > job.size:
                    chunk = chunk[: job.size - done]  # stop at the declared size, read no further
                    too_long = True
                if held is not None:
                    held.append(chunk)
                else:
                    out.write(chunk)
                for h in hashers.values():
                    h.update(chunk)
                done += len(chunk)
                received += len(chunk)
                if done - last_report >= _PROGRESS_EVERY:
                    self.reporter.progress(self.stage, task, done, job.size)
                    last_report = done
                if too_long or (job.size is not None and done >= job.size):
                    break
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            close()
            if isinstance(exc, OSError) and exc.errno is not None and exc.errno not in (104, 32):
                raise DownloadFailed(f"cannot write {part.name}: {exc.strerror}", False) from None
            if held:
                _keep_part(part, held)
            raise DownloadFailed(f"{_describe(exc)} after {done} bytes", True, keep_part=True) from None
        finally:
            close()
            if out is not None:
                out.close()
        if too_long:
            raise DownloadFailed(f"the server sent more than the declared {job.size} bytes", True)
        if job.size is not None and done < job.size:
            if held:
                _keep_part(part, held)
            raise DownloadFailed(f"truncated: {done} of {job.size} bytes", True, keep_part=True)
        if job.sha256 and hashers["sha256"].hexdigest() != job.sha256:
            raise DownloadFailed(f"sha256 mismatch (got {hashers['sha256'].hexdigest()[:12]}…, "
                                 f"index says {job.sha256[:12]}…)", True)
        if not job.sha256 and job.md5 and hashers["md5"].hexdigest() != job.md5:
            raise DownloadFailed(f"md5 mismatch (got {hashers['md5'].hexdigest()}, index says {job.md5})", True)
        return received, resumed, (b"".join(held) if held is not None else None)

    def _verify(self, job: DownloadJob, body: bytes | None = None) -> None:
        """Open the downloaded archive (``body``, or the part file): ``info/index.json`` must name
        the package the record names. Only then does the file get its real name."""
        part = part_path(job.dest)
        try:
            index = check_archive(part if body is None else body, job.fn)
        except ValueError as exc:
            raise DownloadFailed(str(exc), True) from None
        for key in ("name", "version", "build"):
            want = getattr(job, key)
            if want is not None and str(index.get(key)) != str(want):
                raise DownloadFailed(f"info/index.json says {key}={index.get(key)!r}, the index says {want!r}",
                                     False)
        if body is not None:
            try:
                with open(part, "wb") as out:
                    out.write(body)
            except OSError as exc:
                _unlink(part)
                raise DownloadFailed(f"cannot write {part.name}: {exc.strerror}", False) from None
        os.replace(part, job.dest)  # verified: now, and only now, it gets its real name


def _keep_part(part: Path, held: list[bytes]) -> None:
    """Save the bytes of an interrupted in-memory transfer, for the next attempt to resume."""
    try:
        with open(part, "wb") as out:
            out.writelines(held)
    except OSError:
        _unlink(part)


class _Run:
    """The running state of one file across its attempts (owned by one worker at a time)."""

    __slots__ = ("task", "attempt", "received", "resumed", "t0")

    def __init__(self, task: str) -> None:
        self.task, self.attempt, self.received, self.resumed = task, 0, 0, False
        self.t0 = time.perf_counter()


def _chunks(resp: Any) -> Iterable[bytes]:
    """The body as it arrives: ``read1`` returns what the socket has (up to a chunk), so the
    bytes before a reset or a truncation reach the disk and a retry can resume after them."""
    while True:
        data = resp.read1(CHUNK)
        if not data:
            return
        yield data


def _is_tls_failure(exc: BaseException) -> bool:
    """A certificate that does not verify will not verify on the next attempt either (the
    error itself, or what urllib3's MaxRetryError wraps)."""
    import ssl

    import urllib3

    tls = (ssl.SSLError, urllib3.exceptions.SSLError)
    return isinstance(exc, tls) or isinstance(getattr(exc, "reason", None), tls)


def _describe(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    if isinstance(reason, BaseException):  # urllib3's MaxRetryError wraps what really happened
        exc = reason
    name = exc.__class__.__name__
    text = str(exc)
    if "Connection reset" in text or "ConnectionResetError" in text:
        return f"{name}: connection reset"
    if len(text) > 160:
        text = text[:157] + "..."
    return f"{name}: {text}" if text else name


def _netrc_auth(hostname: str) -> tuple[str, str] | None:
    """(login, password) for ``hostname`` from ``$NETRC`` or ``~/.netrc``, as requests finds it."""
    import netrc

    candidates = [os.environ["NETRC"]] if os.environ.get("NETRC") else \
        [os.path.expanduser("~/.netrc"), os.path.expanduser("~/_netrc")]
    for path in candidates:
        if not os.path.isfile(path):
            continue
        try:
            found = netrc.netrc(path).authenticators(hostname)
        except (netrc.NetrcParseError, OSError):
            return None  # an unreadable .netrc is ignored, as requests does
        if found:
            return found[0] or found[1] or "", found[2] or ""
        return None
    return None


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass
