"""The on-disk repodata cache: ``<pkgs_dir>/cache/<hash>.json`` + ``<hash>.info.json``.

conda counterpart: ``conda.gateways.repodata`` (``cache_fn_url``, ``RepodataState``,
``RepodataCache``, ``get_cache_control_max_age``).

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
  one, so a killed fetch never leaves a half-written cache.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import time
from pathlib import Path
from typing import Any

__all__ = [
    "REPODATA_FN",
    "CACHE_STATE_SUFFIX",
    "cache_fn_url",
    "get_cache_control_max_age",
    "RepodataState",
    "RepodataCache",
]

REPODATA_FN = "repodata.json"
CACHE_STATE_SUFFIX = ".info.json"
# conda re-checks a format it found missing (e.g. .zst) after this long
CHECK_ALTERNATE_FORMAT_INTERVAL = datetime.timedelta(days=7)

_MAX_AGE_RE = re.compile(r"max-age=(\d+)")


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
    digest = hashlib.md5(url.encode("utf-8"), usedforsecurity=False).hexdigest()
    return f"{digest[:8]}.json"


def get_cache_control_max_age(cache_control: str | None) -> int:
    """Seconds from a ``Cache-Control`` header's ``max-age``; 0 when absent."""
    match = _MAX_AGE_RE.search(cache_control or "")
    return int(match.group(1)) if match else 0


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(tz=datetime.timezone.utc)


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

    def has_format(self, fmt: str) -> tuple[bool, datetime.datetime | None]:
        """``(available?, last_checked)``; unknown formats count as available (worth a try)."""
        entry = self.get(f"has_{fmt}")
        if not isinstance(entry, dict):
            return True, None
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
        return has or (when is not None and _utc_now() - when > CHECK_ALTERNATE_FORMAT_INTERVAL)


class RepodataCache:
    """One cache entry: ``<cache_dir>/<key>.json`` and its ``<key>.info.json`` state file."""

    def __init__(self, cache_dir: str | os.PathLike, key: str) -> None:
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
