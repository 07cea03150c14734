"""Downloading packages: parallel, streamed, verified, resumable — or clearly failed.

conda-mirror downloads one file at a time whatever ``--num-threads`` says, reads each file
whole into memory to md5 it, saves a 404 page as a package and exits 0 when files failed. Here:

* **Truly parallel.** One ``requests.Session`` whose connection pool holds ``num_threads``
  connections, and ``num_threads`` worker threads, so that many requests are in flight at once
  and connections are reused (no TCP/TLS handshake per file).
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
import json
import os
import random
import tarfile
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import unquote, urlparse

from conda_deepdive.mirror.publish import TEMP_MARK
from conda_deepdive.reporting import Reporter

__all__ = ["DownloadJob", "DownloadOutcome", "IndexResponse", "Downloader", "check_archive",
           "hash_file", "part_path", "DownloadFailed"]

CHUNK = 256 * 1024
_PROGRESS_EVERY = 1 << 20  # report per-file progress every MiB (and at the end)


class DownloadFailed(Exception):
    """One attempt failed; ``retry`` says whether another attempt may help."""

    def __init__(self, reason: str, retry: bool = True, retry_after: float | None = None,
                 keep_part: bool = False) -> None:
        super().__init__(reason)
        self.reason, self.retry, self.retry_after, self.keep_part = reason, retry, retry_after, keep_part


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


def _bz2_chunks(path: str | os.PathLike) -> Iterable[bytes]:
    """Decompressed bytes of a (possibly multi-stream) ``.bz2`` file, a chunk at a time."""
    import bz2

    dec = bz2.BZ2Decompressor()
    with open(path, "rb") as fh:
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


def check_archive(path: str | os.PathLike, fn: str) -> dict:
    """Open the archive (streaming) and return its ``info/index.json``; raise ValueError if unreadable.

    ``.conda``: a zip whose ``info-*.tar.zst`` member holds ``info/``; ``.tar.bz2``: one tar.
    Only as much is decompressed as needed to reach ``info/index.json``.
    """
    try:
        if fn.endswith(".conda"):
            import zstandard

            with zipfile.ZipFile(path) as zf:
                info = next((n for n in zf.namelist() if n.startswith("info-") and n.endswith(".tar.zst")), None)
                if info is None:
                    raise ValueError("no info-*.tar.zst member in the .conda zip")
                with zf.open(info) as raw:
                    reader = zstandard.ZstdDecompressor().stream_reader(raw)
                    data = _index_json_from_tar(reader, "r|")
        elif fn.endswith(".tar.bz2"):
            data = _index_json_from_tar_chunks(_bz2_chunks(path))
            if data is None:  # an unusual layout: let tarfile decide
                with open(path, "rb") as raw:
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
    """A pool of ``num_threads`` workers sharing one HTTP session (see the module docstring)."""

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
        session: Any = None,
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
        self._session = session
        self._ssl_verify, self._proxies = ssl_verify, dict(proxies or {})
        self._env_settings: dict[tuple[str, str], dict] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Downloader({self.num_threads} threads, {self.max_retries} retries, timeout {self.timeout}s)"

    # -- the session ------------------------------------------------------------------------
    @property
    def session(self) -> Any:
        with self._lock:
            if self._session is None:
                import requests
                from requests.adapters import HTTPAdapter

                s = requests.Session()
                # one pool per host, as many connections as workers: every worker keeps its
                # connection open between files instead of handshaking again
                adapter = HTTPAdapter(pool_connections=4, pool_maxsize=self.num_threads, max_retries=0)
                s.mount("http://", adapter)
                s.mount("https://", adapter)
                s.verify = self._ssl_verify
                if self._proxies:
                    s.proxies.update(self._proxies)
                s.headers["User-Agent"] = "conda-deepdive-mirror"
                # what requests reads from the environment (proxies, CA bundle, .netrc) is read
                # once per host in _settings(): trust_env re-reads os.environ on every request,
                # ~0.5 ms of Python a file, which the GIL turns into wall time for 8 threads
                s.trust_env = False
                self._session = s
            return self._session

    def _settings(self, url: str) -> dict:
        """The environment's settings for ``url``'s host, as requests' ``trust_env`` would find
        them (``HTTP(S)_PROXY``/``NO_PROXY``, ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``, netrc);
        proxies given to the Downloader win."""
        host = urlparse(url)[:2]
        settings = self._env_settings.get(host)
        if settings is None:
            from requests.utils import get_environ_proxies, get_netrc_auth

            proxies = {**get_environ_proxies(url, no_proxy=self._proxies.get("no_proxy")), **self._proxies}
            settings = {"proxies": proxies}
            if self._ssl_verify is True:
                settings["verify"] = (os.environ.get("REQUESTS_CA_BUNDLE")
                                      or os.environ.get("CURL_CA_BUNDLE") or True)
            auth = get_netrc_auth(url)
            if auth:
                settings["auth"] = auth
            with self._lock:
                self._env_settings[host] = settings
        return settings

    def close(self) -> None:
        if self._session is not None:
            self._session.close()

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
        import requests

        headers = {"Accept-Encoding": "gzip, deflate"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        attempt = 0
        while True:
            try:
                resp = self.session.get(url, headers=headers, timeout=self.timeout, **self._settings(url))
                if resp.status_code == 304:
                    return IndexResponse(url, 304, None, etag, last_modified)
                if resp.status_code in (404, 403, 410):
                    return IndexResponse(url, 404)
                if resp.status_code == 429 or resp.status_code >= 500:
                    raise DownloadFailed(f"HTTP {resp.status_code}", True,
                                         _retry_after(resp.headers.get("Retry-After")))
                if resp.status_code != 200:
                    raise DownloadFailed(f"HTTP {resp.status_code}", False)
                if resp.headers.get("Content-Type", "").startswith("text/html"):
                    raise DownloadFailed("got an HTML page instead of JSON", True)
                body = resp.content
                expected = resp.headers.get("Content-Length")
                if expected and resp.headers.get("Content-Encoding") in (None, "identity") \
                        and int(expected) != len(body):
                    raise DownloadFailed(f"truncated: {len(body)} of {expected} bytes", True)
                return IndexResponse(url, 200, body, resp.headers.get("ETag"),
                                     resp.headers.get("Last-Modified"))
            except (requests.RequestException, DownloadFailed) as exc:
                failure = exc if isinstance(exc, DownloadFailed) else DownloadFailed(_describe(exc))
                if not failure.retry or attempt >= self.max_retries:
                    raise failure from None
                delay = self.backoff(attempt, failure.retry_after)
                self.reporter.event(self.stage, "index_retry", url=url, attempt=attempt + 1,
                                    reason=failure.reason, delay_seconds=round(delay, 3))
                self.sleep(delay)
                attempt += 1

    # -- packages ---------------------------------------------------------------------------
    def fetch_all(self, jobs: Iterable[DownloadJob]) -> list[DownloadOutcome]:
        """Download every job, ``num_threads`` at a time; one failure never stops the others."""
        jobs = list(jobs)
        if not jobs:
            return []
        with ThreadPoolExecutor(max_workers=min(self.num_threads, len(jobs)),
                                thread_name_prefix="mirror-dl") as pool:
            return list(pool.map(self.fetch_one, jobs))

    def fetch_one(self, job: DownloadJob) -> DownloadOutcome:
        t0 = time.perf_counter()
        task = f"download:{job.subdir}/{job.fn}"
        self.reporter.event(self.stage, "download_started", subdir=job.subdir, fn=job.fn, size=job.size)
        attempt, received, resumed = 0, 0, False
        outcome: DownloadOutcome
        while True:
            try:
                got, was_resumed = self._attempt(job, task)
                received += got
                resumed = resumed or was_resumed
                outcome = DownloadOutcome(job.subdir, job.fn, True, received, attempt + 1, resumed,
                                          None, time.perf_counter() - t0)
                self.reporter.event(self.stage, "download_finished", subdir=job.subdir, fn=job.fn,
                                    received=received, attempts=attempt + 1, resumed=resumed,
                                    download_seconds=round(outcome.seconds, 4))
                break
            except DownloadFailed as exc:
                if not exc.keep_part:
                    _unlink(part_path(job.dest))
                if not exc.retry or attempt >= self.max_retries:
                    outcome = DownloadOutcome(job.subdir, job.fn, False, received, attempt + 1, resumed,
                                              exc.reason, time.perf_counter() - t0)
                    self.reporter.event(self.stage, "download_failed", subdir=job.subdir, fn=job.fn,
                                        reason=exc.reason, attempts=attempt + 1)
                    break
                delay = self.backoff(attempt, exc.retry_after)
                self.reporter.event(self.stage, "download_retry", subdir=job.subdir, fn=job.fn,
                                    attempt=attempt + 1, reason=exc.reason, delay_seconds=round(delay, 3))
                self.sleep(delay)
                attempt += 1
        self.reporter.progress(self.stage, task, job.size or 0, job.size)  # closes the file's bar
        if self.on_done is not None:
            self.on_done(outcome, job)
        return outcome

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
        import requests

        headers = {"Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        try:
            resp = self.session.get(job.url, headers=headers, stream=True, timeout=self.timeout,
                                    **self._settings(job.url))
        except requests.RequestException as exc:
            raise DownloadFailed(_describe(exc), True, keep_part=True) from None
        status = resp.status_code
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

    def _attempt(self, job: DownloadJob, task: str) -> tuple[int, bool]:
        import requests
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
            n, _ = 0, None
            with open(part, "rb") as fh:
                while True:
                    chunk = fh.read(CHUNK)
                    if not chunk:
                        break
                    n += len(chunk)
                    for h in hashers.values():
                        h.update(chunk)
        if job.size is not None and length is not None and offset + length > job.size:
            close()
            raise DownloadFailed(f"the server announces {offset + length} bytes, the index says {job.size}",
                                 True)
        done, received, last_report = offset, 0, 0
        too_long = False
        try:
            with open(part, "ab" if offset else "wb") as out:
                for chunk in chunks:
                    if not chunk:
                        continue
                    if job.size is not None and done + len(chunk) > job.size:
                        chunk = chunk[: job.size - done]  # stop at the declared size, read no further
                        too_long = True
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
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            close()
            if isinstance(exc, OSError) and not isinstance(exc, requests.RequestException) \
                    and exc.errno is not None and exc.errno not in (104, 32):
                raise DownloadFailed(f"cannot write {part.name}: {exc.strerror}", False) from None
            raise DownloadFailed(f"{_describe(exc)} after {done} bytes", True, keep_part=True) from None
        finally:
            close()
        if too_long:
            raise DownloadFailed(f"the server sent more than the declared {job.size} bytes", True)
        if job.size is not None and done < job.size:
            raise DownloadFailed(f"truncated: {done} of {job.size} bytes", True, keep_part=True)
        if job.sha256 and hashers["sha256"].hexdigest() != job.sha256:
            raise DownloadFailed(f"sha256 mismatch (got {hashers['sha256'].hexdigest()[:12]}…, "
                                 f"index says {job.sha256[:12]}…)", True)
        if not job.sha256 and job.md5 and hashers["md5"].hexdigest() != job.md5:
            raise DownloadFailed(f"md5 mismatch (got {hashers['md5'].hexdigest()}, index says {job.md5})", True)
        try:
            index = check_archive(part, job.fn)
        except ValueError as exc:
            raise DownloadFailed(str(exc), True) from None
        for key in ("name", "version", "build"):
            want = getattr(job, key)
            if want is not None and str(index.get(key)) != str(want):
                raise DownloadFailed(f"info/index.json says {key}={index.get(key)!r}, the index says {want!r}",
                                     False)
        os.replace(part, job.dest)  # verified: now, and only now, it gets its real name
        return received, resumed


def _chunks(resp: Any) -> Iterable[bytes]:
    """The body as it arrives: ``read1`` returns what the socket has (up to a chunk), so the
    bytes before a reset or a truncation reach the disk and a retry can resume after them."""
    raw = resp.raw
    if hasattr(raw, "read1"):
        while True:
            data = raw.read1(CHUNK)
            if not data:
                return
            yield data
    else:  # pragma: no cover (urllib3 < 2)
        yield from resp.iter_content(CHUNK)


def _describe(exc: BaseException) -> str:
    name = exc.__class__.__name__
    text = str(exc)
    if "Connection reset" in text or "ConnectionResetError" in text:
        return f"{name}: connection reset"
    if len(text) > 160:
        text = text[:157] + "..."
    return f"{name}: {text}" if text else name


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass
