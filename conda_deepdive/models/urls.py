"""URL helpers for channels (a small rewrite of the parts of ``conda.common.url`` that
``Channel`` needs): scheme detection, ``file://`` <-> path, joining, and splitting an
anaconda.org token (``/t/<token>/``) or a known subdir out of a URL.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from urllib.parse import quote, unquote

PACKAGE_EXTENSIONS = (".conda", ".tar.bz2")

_SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")
_URL_RE = re.compile(
    r"^(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*)://"
    r"(?:(?P<auth>[^@/]*)@)?"
    r"(?P<host>\[[^\]]*\]|[^/:?#]*)"
    r"(?::(?P<port>\d*))?"
    r"(?P<path>/[^?#]*)?"
    r"(?:\?(?P<query>[^#]*))?"
)
_TOKEN_RE = re.compile(r"/t/([a-zA-Z0-9-_]*)")
_WIN_PATH_RE = re.compile(r"^[a-zA-Z]:[/\\]")


def has_scheme(value: str) -> bool:
    return bool(_SCHEME_RE.match(value))


def is_package_file(path: str) -> bool:
    return path.endswith(PACKAGE_EXTENSIONS)


def strip_pkg_extension(path: str) -> tuple[str, str | None]:
    for ext in PACKAGE_EXTENSIONS:
        if path.endswith(ext):
            return path[: -len(ext)], ext
    return path, None


def is_path(value: str) -> bool:
    if "://" in value:
        return False
    return value.startswith(("/", "./", "../", "~", "\\")) or value in (".", "..") or bool(
        _WIN_PATH_RE.match(value)
    )


def path_to_url(path: str) -> str:
    """An absolute ``file://`` URL for a local path (``~`` and relative paths expanded)."""
    path = os.path.abspath(os.path.expanduser(path))
    if _WIN_PATH_RE.match(path):
        return "file:///" + quote(path.replace("\\", "/"), safe="/:")
    return "file://" + quote(path, safe="/:~!$&'()*+,;=@")


def url_to_path(url: str) -> str:
    if not url.startswith("file://"):
        raise ValueError(f"not a file:// URL: {url}")
    path = unquote(url[len("file://"):])
    if _WIN_PATH_RE.match(path.lstrip("/")):
        path = path.lstrip("/")
    return path


def join_url(*parts: str | None) -> str:
    """Join URL pieces with single slashes, keeping a leading slash (conda's ``join_url``)."""
    if not parts:
        return ""
    lead = "/" if not parts[0] or parts[0].startswith("/") else ""
    return lead + "/".join(p for p in (x.strip("/") for x in parts if x) if p)


class _UrlParts:
    __slots__ = ("scheme", "auth", "host", "port", "path", "query")

    def __init__(self, url: str):
        m = _URL_RE.match(url)
        if m is None:  # no scheme: treat the whole thing as a path
            self.scheme = self.auth = self.host = self.port = self.query = None
            self.path = url or None
            return
        self.scheme = m.group("scheme").lower()
        self.auth = m.group("auth")
        self.host = m.group("host") or None
        self.port = m.group("port") or None
        self.path = m.group("path") or None
        self.query = m.group("query")

    def netloc_path(self, path: str | None = None) -> str:
        """``host[:port]path`` without scheme (conda's ``Url(host, port, path).url``)."""
        text = (self.host or "") + (f":{self.port}" if self.port else "")
        return text + (path if path is not None else (self.path or ""))


def split_anaconda_token(url: str) -> tuple[str, str | None]:
    m = _TOKEN_RE.search(url)
    token = m.group(1) if m else None
    cleaned = url.replace("/t/" + token, "", 1) if token is not None else url
    return cleaned.rstrip("/"), token


def split_platform(url: str, known_subdirs: Iterable[str]) -> tuple[str, str | None]:
    pattern = _platform_regex(tuple(known_subdirs))
    m = pattern.search(url)
    platform = m.group(1) if m else None
    cleaned = url.replace("/" + platform, "", 1) if platform is not None else url
    return cleaned.rstrip("/"), platform


_PLATFORM_RE_CACHE: dict[tuple[str, ...], re.Pattern] = {}


def _platform_regex(subdirs: tuple[str, ...]) -> re.Pattern:
    pattern = _PLATFORM_RE_CACHE.get(subdirs)
    if pattern is None:
        alternatives = "|".join(re.escape(s) for s in subdirs)
        pattern = _PLATFORM_RE_CACHE[subdirs] = re.compile(rf"/({alternatives})(?:/|$)", re.I)
    return pattern


def split_scheme_auth_token(url: str) -> tuple[str | None, str | None, str | None, str | None]:
    """``(location, scheme, auth, token)`` of a URL; location = host[:port]/path."""
    if not url:
        return None, None, None, None
    cleaned, token = split_anaconda_token(url)
    parts = _UrlParts(cleaned)
    return parts.netloc_path(), parts.scheme, parts.auth, token


def mask_token(url: str) -> str:
    """Replace an anaconda.org token by ``<TOKEN>`` so URLs can be printed safely."""
    return _TOKEN_RE.sub("/t/<TOKEN>", url)


def _tokenized_startswith(test: list[str], prefix: list[str]) -> bool:
    return all(t == p for t, p in zip(test, prefix))
