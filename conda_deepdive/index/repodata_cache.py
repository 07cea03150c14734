"""Getting repodata bytes, and the on-disk cache ``<pkgs_dir>/cache/<hash>.json`` + ``.info.json``.

conda counterparts: ``conda.gateways.repodata`` (``cache_fn_url``, ``RepodataState``,
``RepodataCache``, ``RepodataFetch``, ``conda_http_errors``) and
``conda.gateways.repodata.zstd`` (``ZstdRepoInterface``: ``repodata.json.zst`` first).
:class:`RepodataFetch` gets the bytes of one subdir; :mod:`conda_deepdive.index.index` parses them.

Every channel subdir conda has ever fetched leaves two files in the package cache's ``cache/``
folder, named after the first 8 hex digits of an md5 of the subdir URL:

* ``1a2b3c4d.json`` — the (decompressed) repodata exactly as the server sent it;
* ``1a2b3c4d.info.json`` — the *state*: the HTTP validators (``etag``, ``mod`` = Last-Modified,
  ``cache_control``), the URL, when we last heard from the server (``refresh_ns``), the size and
  mtime of the ``.json`` it describes, and whether the server offers ``repodata.json.zst``
  (``has_zst``).

What to notice as a learner:

* The state file is how conda makes *conditional requests*: it sends the stored ETag back as
  ``If-None-Match`` and a server that has nothing new answers ``304 Not Modified`` with an empty
  body. Only ``refresh_ns`` changes then.
* ``local_repodata_ttl`` decides whether to ask at all: ``1`` (default) trusts the server's
  ``Cache-Control: max-age``, ``0`` always asks, ``N > 1`` trusts the cache for N seconds.
* The state records ``size`` and ``mtime_ns`` of the ``.json``. If they no longer match (someone
  edited the file, or a write was interrupted) the validators are thrown away, forcing a full
  download — the cache never trusts a file it did not write itself.
* Writes are atomic: data goes to a temporary file in the same folder and is renamed over the old
  one, so a killed fetch never leaves a half-written cache. (conda also takes a file lock on the
  state file; we rely on the atomic renames alone.)
* The HTTP conversation, as conda 26 has it: ``GET repodata.json.zst`` (conditional); a 4xx
  means "no zst here" (``has_zst: false`` is written to the state) and ``GET repodata.json``
  follows. A 403/404 for ``repodata.json`` itself makes a platform subdir *empty* but a missing
  ``noarch`` an ``UnavailableInvalidChannel`` error — a valid channel always has ``noarch``.
"""

from __future__ import annotations

import json
import os
import re
import time

from conda_deepdive.exceptions import (
    CondaError,
    CondaHTTPError,
    CondaSSLError,
    OfflineError,
    ProxyError,
    RepodataDecodeError,
    RepodataIsEmpty,
    UnavailableInvalidChannel,
)
from conda_deepdive.models.urls import unquote as _unquote
from conda_deepdive.values import value_object

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from pathlib import Path
    from typing import Any

__all__ = [
    "REPODATA_FN",
    "CACHE_STATE_SUFFIX",
    "cache_fn_url",
    "get_cache_control_max_age",
    "RepodataState",
    "RepodataCache",
    "RepodataFetch",
]

REPODATA_FN = "repodata.json"
CACHE_STATE_SUFFIX = ".info.json"
# conda re-checks a format it found missing (e.g. .zst) after this long
CHECK_ALTERNATE_FORMAT_INTERVAL_SECONDS = 7 * 24 * 3600  # conda: a week



def cache_fn_url(url: str, repodata_fn: str = REPODATA_FN) -> str:
    """The cache file name conda uses for a subdir URL, e.g. ``"09cdf8bf.json"``.

    The URL is padded with ``/``; a non-default ``repodata_fn`` (``current_repodata.json``) is
    appended so the two files of one subdir get different cache entries, while plain
    ``repodata.json`` keeps the historical key other tools look for.
    """
    if not url.endswith("/"):
        url += "/"
    if repodata_fn != REPODATA_FN:
        url += repodata_fn
    try:  # CPython's own MD5: hashlib's would first load OpenSSL (~3 ms), for one short digest
        from _md5 import md5
    except ImportError:  # a Python built without it
        from hashlib import md5
    digest = md5(url.encode("utf-8"), usedforsecurity=False).hexdigest()
    return f"{digest[:8]}.json"


def get_cache_control_max_age(cache_control: str | None) -> int:
    """Seconds from a ``Cache-Control`` header's ``max-age``; 0 when absent."""
    match = re.search(r"max-age=(\d+)", cache_control or "") if cache_control else None
    return int(match.group(1)) if match else 0


def _utc_now() -> "datetime.datetime":
    import datetime  # only the HTTP path dates things (~1 ms to import)

    return datetime.datetime.now(tz=datetime.timezone.utc)


def http_timeout(context: Any) -> tuple[float, float]:
    """requests' ``(connect, read)`` timeout: conda's ``remote_connect_timeout_secs`` and
    ``remote_read_timeout_secs`` (the longest wait between two reads of a body)."""
    return (float(getattr(context, "remote_connect_timeout_secs", 9.15)),
            float(getattr(context, "remote_read_timeout_secs", 60.0)))


class RepodataState(dict):
    """The contents of ``<hash>.info.json`` (a plain dict with named accessors).

    Keys follow conda's file: ``url``, ``etag``, ``mod``, ``cache_control``, ``size``,
    ``mtime_ns``, ``refresh_ns``, ``has_zst`` (``{"last_checked": ISO-8601 Z, "value": bool}``).
    """

    @property
    def etag(self) -> str:
        return self.get("etag") or ""

    @property
    def mod(self) -> str:
        return self.get("mod") or ""

    @property
    def cache_control(self) -> str:
        return self.get("cache_control") or ""

    def conditional_headers(self) -> dict[str, str]:
        """``If-None-Match`` / ``If-Modified-Since`` from the stored validators: a server with
        nothing new answers ``304`` and an empty body."""
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.mod:
            headers["If-Modified-Since"] = self.mod
        return headers

    def has_format(self, fmt: str) -> tuple[bool, "datetime.datetime | None"]:
        """``(available?, last_checked)``; unknown formats count as available (worth a try)."""
        entry = self.get(f"has_{fmt}")
        if not isinstance(entry, dict):
            return True, None
        import datetime

        try:
            checked = datetime.datetime.fromisoformat(str(entry["last_checked"]).replace("Z", "+00:00"))
            return bool(entry["value"]), checked
        except (KeyError, ValueError):
            return True, None

    def set_has_format(self, fmt: str, value: bool) -> None:
        stamp = _utc_now().replace(tzinfo=None).isoformat() + "Z"
        self[f"has_{fmt}"] = {"last_checked": stamp, "value": bool(value)}

    def should_check_format(self, fmt: str) -> bool:
        """True if ``fmt`` is believed available, or was last found missing over a week ago."""
        has, when = self.has_format(fmt)
        return has or (when is not None
                       and (_utc_now() - when).total_seconds() > CHECK_ALTERNATE_FORMAT_INTERVAL_SECONDS)


class RepodataCache:
    """One cache entry: ``<cache_dir>/<key>.json`` and its ``<key>.info.json`` state file."""

    def __init__(self, cache_dir: str | os.PathLike, key: str) -> None:
        from pathlib import Path  # (a warm file:// run never makes one: no pathlib to import)

        self.cache_dir = Path(cache_dir)
        self.key = key  # e.g. "09cdf8bf" (or "09cdf8bf1" when use_only_tar_bz2, as in conda)
        self.state = RepodataState()

    def __repr__(self) -> str:
        return f"RepodataCache({str(self.cache_path_json)!r})"

    @property
    def cache_path_json(self) -> Path:
        return self.cache_dir / f"{self.key}.json"

    @property
    def cache_path_state(self) -> Path:
        return self.cache_dir / f"{self.key}{CACHE_STATE_SUFFIX}"

    def exists(self) -> bool:
        return self.cache_path_json.is_file()

    # -- reading -------------------------------------------------------------------------------
    def load_state(self) -> RepodataState:
        """Read the state file; validators are dropped if the ``.json`` is not the one described."""
        state = RepodataState()
        try:
            state.update(json.loads(self.cache_path_state.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            state = RepodataState()
        try:
            stat = self.cache_path_json.stat()
        except OSError:
            stat = None
        if stat is None or state.get("mtime_ns") != stat.st_mtime_ns or state.get("size") != stat.st_size:
            # not the file we wrote (edited, replaced, or never written): don't trust validators
            for key in ("etag", "mod", "cache_control"):
                state[key] = ""
            state["size"] = 0
        self.state = state
        return state

    def read_bytes(self) -> bytes:
        return self.cache_path_json.read_bytes()

    def stale(self, local_repodata_ttl: int | float) -> bool:
        """Must we ask the server again? (conda's ``RepodataCache.stale``)."""
        return self.seconds_until_stale(local_repodata_ttl) <= 0

    def seconds_until_stale(self, local_repodata_ttl: int | float) -> float:
        ttl = local_repodata_ttl
        if ttl is True:  # a boolean True in a condarc means 1
            ttl = 1
        if ttl > 1:
            max_age = float(ttl)
        elif ttl == 1:
            max_age = float(get_cache_control_max_age(self.state.cache_control))
        else:
            max_age = 0.0
        age = (time.time_ns() - int(self.state.get("refresh_ns", 0) or 0)) / 1e9
        return max_age - age

    # -- writing (always atomic) ---------------------------------------------------------------
    def save(self, data: bytes, **headers: Any) -> None:
        """Store new repodata and its state; ``headers`` are state keys (etag, mod, url…)."""
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = self._write_tmp(data)
        try:
            stat = tmp.stat()
            self.state.update(headers)
            self.state["mtime_ns"] = stat.st_mtime_ns  # rename keeps mtime: state stays valid
            self.state["size"] = stat.st_size
            self.state["refresh_ns"] = time.time_ns()
            os.replace(tmp, self.cache_path_json)
        finally:
            tmp.unlink(missing_ok=True)
        self._write_state()

    def refresh(self, **headers: Any) -> None:
        """A ``304 Not Modified``: the cached body is current; only the state file changes."""
        self.state.update({k: v for k, v in headers.items() if v})
        self.state["refresh_ns"] = time.time_ns()
        self._write_state()

    def _write_state(self) -> None:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = self._write_tmp(json.dumps(dict(self.state), indent=2, sort_keys=True).encode("utf-8"))
        try:
            os.replace(tmp, self.cache_path_state)
        finally:
            tmp.unlink(missing_ok=True)

    def _write_tmp(self, data: bytes) -> Path:
        # same folder as the target, so os.replace is a rename on one filesystem (atomic)
        tmp = self.cache_dir / f"{self.key}.{os.urandom(4).hex()}.tmp"
        with open(tmp, "xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        return tmp


# ------------------------------------------------------------------------------------------------
# Fetching: file:// in place, http(s):// through the cache (conda 26's ZstdRepoInterface)
# ------------------------------------------------------------------------------------------------
STAGE = "index"


@value_object
class _Fetched:
    """Internal: the outcome of getting the repodata bytes of one subdir."""

    data: bytes | None  # decompressed JSON text (None = treat as empty repodata)
    filename: str
    source: str
    cache: str
    status: int | None
    wire_bytes: int
    cache_path: str | None = None
    parsed: dict | None = None  # already decoded (downloads are checked before caching)


class _NotModified(Exception):
    def __init__(self, filename: str):
        self.filename = filename


class _ServerUnreachable(Exception):
    """Connection refused/timeout or a 5xx: the cache may still answer (with a warning)."""

    def __init__(self, error: CondaError):
        self.error = error


def _url_to_path(url: str) -> Path:
    from pathlib import Path
    from urllib.parse import unquote, urlparse

    parsed = urlparse(url)
    path = unquote(parsed.path)
    if parsed.netloc and parsed.netloc not in ("", "localhost"):
        path = f"//{parsed.netloc}{path}"  # UNC-style file://host/share
    return Path(path)


def _url_to_local(url: str) -> str:
    """The folder of a ``file://`` URL as a plain string, for ``os`` calls: what
    :func:`_url_to_path` finds, written without pathlib and urllib (~2 ms of imports a warm
    run does not need) for the URLs channels are made of; anything unusual goes through it."""
    if url.startswith("file://") and url.isprintable() and not any(c in url for c in ";?#[]"):
        netloc, slash, rest = url[len("file://"):].partition("/")
        path = _unquote(slash + rest)
        if path:
            return f"//{netloc}{path}" if netloc and netloc != "localhost" else path
    return str(_url_to_path(url))


def _strip_credentials(url: str) -> str:
    """Drop ``user:pass@`` and ``/t/<token>`` so URLs can be shown and logged."""
    scheme, sep, rest = url.partition("://")
    netloc, _, path = rest.partition("/")
    if (sep and scheme.isascii() and scheme.isalpha() and scheme.islower()
            and (netloc or (scheme == "file" and not path.startswith("/")))  # urllib rewrites
            # an empty "//" for other schemes, and a path that starts with "//"
            and url.isascii() and url.isprintable() and not any(c in url for c in " @;?#[]")
            and not path.startswith("t/")):
        return url  # nothing to strip, and urllib would give the same text back
    from urllib.parse import urlparse

    parsed = urlparse(url)
    netloc = parsed.netloc.rsplit("@", 1)[-1]
    path = parsed.path
    if path.startswith("/t/"):
        parts = path.split("/", 3)
        path = "/" + (parts[3] if len(parts) > 3 else "")
    return parsed._replace(netloc=netloc, path=path).geturl()


def _cache_dir(context: Any) -> Path:
    from pathlib import Path

    return Path(_cache_dir_name(context))


def _cache_dir_name(context: Any) -> str:
    """``<first pkgs_dir>/cache`` (or ``repodata_cache_dir``), as a string."""
    cache_dir = getattr(context, "repodata_cache_dir", None)
    if cache_dir:
        return os.fspath(cache_dir)
    pkgs_dir = getattr(context, "pkgs_dir_for_writes", None) or (list(context.pkgs_dirs) or ["."])[0]
    return os.path.join(os.fspath(pkgs_dir), "cache")


def _channel_name(channel: Any) -> str:
    return getattr(channel, "canonical_name", None) or str(channel)


class RepodataFetch:
    """Gets the repodata *bytes* of one channel subdir; ``SubdirData`` turns them into records.

    ``fetch(fn)`` returns a :class:`_Fetched` (bytes, filename used, source, cache verdict,
    status, size) or raises: ``UnavailableInvalidChannel``/``RepodataIsEmpty`` (403/404),
    ``CondaHTTPError``, ``OfflineError``. ``decode(data, filename)`` parses JSON with one clear
    ``RepodataDecodeError`` naming channel and subdir.
    """

    def __init__(self, channel: Any, subdir: str, url: str, url_w_credentials: str,
                 context: Any, reporter: Any) -> None:
        self.channel = channel
        self.subdir = subdir
        self.url = url
        self.url_w_credentials = url_w_credentials
        self.context = context
        self.reporter = reporter

    def fetch(self, fn: str) -> "_Fetched":
        return self._fetch(fn)

    def decode(self, data: bytes, filename: str) -> dict:
        return self._decode(data, filename)

    def parse(self, fetched: "_Fetched") -> dict:
        return self._parse(fetched)

    def _fetch(self, fn: str) -> _Fetched:
        if self.url_w_credentials.startswith("file://"):
            return self._fetch_file(fn)
        return self._fetch_http(fn)

    def _not_found(self, fn: str, status: int, reason: str = "NOT FOUND") -> _Fetched:
        """conda's rule for a 403/404: empty for a platform subdir, an error for noarch."""
        if self.subdir != "noarch":
            exc = _unavailable(RepodataIsEmpty, self.channel, self.url, status, reason)
            if fn != REPODATA_FN:
                raise exc  # lets current_repodata.json fall back to repodata.json
            self.reporter.event(STAGE, "repodata_missing", channel=_channel_name(self.channel),
                                subdir=self.subdir, url=f"{self.url}/{fn}", status=status,
                                treated_as="empty")
            return _Fetched(None, fn, "file" if self.url.startswith("file://") else "network",
                            "none", status, 0)
        raise _unavailable(UnavailableInvalidChannel, self.channel, self.url, status, reason)

    def _fetch_file(self, fn: str) -> _Fetched:
        base = _url_to_path(self.url_w_credentials)
        if fn.endswith(".json"):
            zst = base / f"{fn}.zst"
            if zst.is_file():
                import zstandard

                raw = zst.read_bytes()
                try:
                    data = zstandard.ZstdDecompressor().decompressobj().decompress(raw)
                except zstandard.ZstdError as exc:
                    self.reporter.warning(STAGE, f"could not decompress {zst} ({exc}); using {fn}")
                else:
                    return _Fetched(data, f"{fn}.zst", "file", "none", 200, len(raw))
        path = base / fn
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return self._not_found(fn, 404)
        except IsADirectoryError:
            return self._not_found(fn, 404)
        except PermissionError:
            return self._not_found(fn, 403, "FORBIDDEN")
        return _Fetched(data, fn, "file", "none", 200, len(data))

    def _fetch_http(self, fn: str) -> _Fetched:
        ctx = self.context
        key = cache_fn_url(self.url_w_credentials, fn)[: -len(".json")]
        if getattr(ctx, "use_only_tar_bz2", False):
            key += "1"  # conda keeps a separate cache when .conda packages are ignored
        cache = RepodataCache(_cache_dir(ctx), key)
        state = cache.load_state()
        have_cache = cache.exists()
        where = str(cache.cache_path_json)

        if have_cache:
            if ctx.offline:
                return self._from_cache(cache, fn, "offline")
            ttl = getattr(ctx, "local_repodata_ttl", 1)
            if not cache.stale(ttl):
                return self._from_cache(cache, fn, "hit")
        elif ctx.offline:
            raise OfflineError(
                f"Offline mode: no cached repodata for channel {_channel_name(self.channel)}, "
                f"subdir {self.subdir} ({self.url}/{fn}); expected a cache at {where}. "
                "Fetch once while online, or use a file:// channel.",
                url=f"{self.url}/{fn}", cache_path=where,
            )

        try:
            return self._download(fn, cache, state, have_cache)
        except _NotModified as nm:
            cache.refresh()
            return self._from_cache(cache, fn, "304", filename=nm.filename, status=304)
        except _ServerUnreachable as down:
            if not have_cache:
                if fn != REPODATA_FN and self._has_cache(REPODATA_FN):
                    # the README's promise for a server that is down: never cached
                    # current_repodata.json, but a cached repodata.json -> go on with that one
                    # (the caller falls back as for a 404; conda 26 stops with CondaHTTPError)
                    self.reporter.warning(
                        STAGE,
                        f"{self.url}/{fn} could not be fetched ({str(down.error).splitlines()[0]}) "
                        f"and was never cached; falling back to {REPODATA_FN}.",
                    )
                    raise _unavailable(RepodataIsEmpty, self.channel, self.url, 0,
                                       "SERVER UNREACHABLE") from None
                raise down.error from None
            self.reporter.warning(
                STAGE,
                f"{self.url}/{fn} could not be fetched ({str(down.error).splitlines()[0]}); "
                f"using the cached copy from {where}. (conda 26 would stop with CondaHTTPError.)",
            )
            return self._from_cache(cache, fn, "stale")

    def _has_cache(self, fn: str) -> bool:
        key = cache_fn_url(self.url_w_credentials, fn)[: -len(".json")]
        if getattr(self.context, "use_only_tar_bz2", False):
            key += "1"
        return RepodataCache(_cache_dir(self.context), key).exists()

    def _from_cache(self, cache: RepodataCache, fn: str, verdict: str, *,
                    filename: str | None = None, status: int | None = None) -> _Fetched:
        data = cache.read_bytes()
        return _Fetched(data, filename or fn, "cache", verdict, status, 0, str(cache.cache_path_json))

    def _download(self, fn: str, cache: RepodataCache, state, have_cache: bool) -> _Fetched:
        """conda 26's ZstdRepoInterface: ``<fn>.zst`` first, then ``<fn>``; save atomically."""
        import requests

        ctx = self.context
        headers = state.conditional_headers() if have_cache else {}
        timeout = http_timeout(ctx)

        with requests.Session() as session:  # one session per fetch (threads never share one)
            session.verify = ctx.ssl_verify if ctx.ssl_verify not in (None, "") else True
            if ctx.proxy_servers:
                session.proxies.update(dict(ctx.proxy_servers))

            response, used = None, fn
            if fn.endswith(".json"):
                zresp = self._get(session, f"{fn}.zst", headers, timeout)
                if zresp.status_code == 304:
                    raise _NotModified(f"{fn}.zst")
                if zresp.status_code == 200:
                    import zstandard

                    try:
                        data = zstandard.ZstdDecompressor().decompressobj().decompress(zresp.content)
                    except zstandard.ZstdError as exc:
                        self.reporter.warning(STAGE, f"could not decompress {self.url}/{fn}.zst "
                                              f"as zstd ({exc}); falling back to {fn}")
                    else:
                        cache.state.set_has_format("zst", True)
                        response, used = zresp, f"{fn}.zst"
                elif 400 <= zresp.status_code < 500 and zresp.status_code != 416:
                    cache.state.set_has_format("zst", False)  # remembered in <hash>.info.json
                else:
                    raise _ServerUnreachable(self._http_error(zresp, f"{fn}.zst"))
                if response is None:
                    self.reporter.event(STAGE, "zst_unavailable", url=f"{self.url}/{fn}.zst",
                                        status=zresp.status_code, falling_back_to=fn)
            if response is None:
                response = self._get(session, fn, headers, timeout)
                if response.status_code == 304:
                    raise _NotModified(fn)
                if response.status_code in (403, 404):
                    empty = self._not_found(fn, response.status_code, (response.reason or "").upper())
                    # like conda, remember "this subdir is empty" as a cached "{}"
                    cache.save(b"{}", url=self.url_w_credentials, etag="", mod="",
                               cache_control=response.headers.get("Cache-Control") or "")
                    empty.cache_path = str(cache.cache_path_json)
                    return empty
                if response.status_code != 200:
                    error = self._http_error(response, fn)
                    if response.status_code >= 500:
                        raise _ServerUnreachable(error)
                    raise error
                data = response.content

        # never cache what we cannot parse: check before the atomic write
        parsed = self._decode(data, used)
        cache.save(
            data,
            url=self.url_w_credentials,
            etag=response.headers.get("ETag") or "",
            mod=response.headers.get("Last-Modified") or "",
            cache_control=response.headers.get("Cache-Control") or "",
        )
        return _Fetched(data, used, "network", "miss", response.status_code,
                        len(response.content), str(cache.cache_path_json), parsed)

    def _get(self, session, fn: str, headers: dict, timeout):
        import requests

        url = f"{self.url_w_credentials}/{fn}"
        try:
            return session.get(url, headers=headers, timeout=timeout)
        except requests.exceptions.ProxyError as exc:
            raise ProxyError(f"Could not connect to the proxy for {self.url}/{fn}: {exc}") from exc
        except requests.exceptions.SSLError as exc:
            raise CondaSSLError(
                f"SSL error fetching {self.url}/{fn} (certificate verification?): {exc}"
            ) from exc
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            error = CondaHTTPError(
                f"HTTP 000 CONNECTION FAILED for url <{self.url}/{fn}>\n"
                f"Could not reach the server for channel {_channel_name(self.channel)}, "
                f"subdir {self.subdir}: {exc.__class__.__name__}.",
                url=f"{self.url}/{fn}", status_code="000", reason="CONNECTION FAILED",
            )
            raise _ServerUnreachable(error) from exc

    def _http_error(self, response, fn: str) -> CondaHTTPError:
        reason = (response.reason or "").upper() or "HTTP ERROR"
        status = response.status_code
        if status == 401:
            hint = "The server rejected the credentials (or token) for this channel."
        elif status >= 500:
            hint = "The server failed to answer a valid request (5xx); retrying later may help."
        else:
            hint = "An HTTP error occurred while fetching repodata."
        return CondaHTTPError(
            f"HTTP {status} {reason} for url <{self.url}/{fn}>\n"
            f"channel {_channel_name(self.channel)}, subdir {self.subdir}: {hint}",
            url=f"{self.url}/{fn}", status_code=status, reason=reason,
        )

    # -- parsing ----------------------------------------------------------------------------------
    def _decode(self, data: bytes, filename: str) -> dict:
        try:
            repodata = json.loads(data)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # Recursion: nested too deep
            raise RepodataDecodeError(
                f"The repodata of channel {_channel_name(self.channel)}, subdir {self.subdir} "
                f"is not valid JSON ({self.url}/{filename}, {len(data):,} bytes): {exc}. "
                "The file is truncated or is not repodata.",
                channel=_channel_name(self.channel), subdir=self.subdir,
                url=f"{self.url}/{filename}",
            ) from None
        if not isinstance(repodata, dict):
            raise RepodataDecodeError(
                f"The repodata of channel {_channel_name(self.channel)}, subdir {self.subdir} "
                f"({self.url}/{filename}) is JSON but not an object "
                f"(got {type(repodata).__name__}).",
                channel=_channel_name(self.channel), subdir=self.subdir,
                url=f"{self.url}/{filename}",
            )
        return repodata

    def _parse(self, fetched: _Fetched) -> dict:
        if fetched.parsed is not None:
            return fetched.parsed
        if fetched.data is None:
            return {}
        try:
            return self._decode(fetched.data, fetched.filename)
        except RepodataDecodeError as exc:
            if fetched.source == "cache":
                raise RepodataDecodeError(
                    f"{exc} The cached copy {fetched.cache_path} is damaged: delete it "
                    "(conda: `conda clean --index-cache`) and fetch again.",
                    channel=_channel_name(self.channel), subdir=self.subdir,
                    cache_path=fetched.cache_path,
                ) from None
            raise


def _unavailable(cls, channel: Any, subdir_url: str, status: int, reason: str) -> UnavailableInvalidChannel:
    name = getattr(channel, "name", None) or _channel_name(channel)
    base = getattr(channel, "base_url", None) or subdir_url.rsplit("/", 1)[0]
    base = _strip_credentials(str(base))
    reason = reason or "UNAVAILABLE OR INVALID"
    message = (
        f"HTTP {status} {reason} for channel {name} <{base}>\n\n"
        f"The channel is not accessible or is invalid: {subdir_url} has no repodata.\n"
    )
    if base.startswith("file://"):
        message += ("A valid channel directory needs a noarch/repodata.json, even an empty one "
                    "(conda-index or `python -m conda_deepdive.teaching` writes it).\n")
    exc = cls(message, channel_name=name, channel_url=base, status_code=status, reason=reason)
    exc.status_code = status
    return exc
