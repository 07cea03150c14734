"""URL helpers for channels (a small rewrite of the parts of ``conda.common.url`` that
``Channel`` needs): scheme detection, ``file://`` <-> path, joining, and splitting an
anaconda.org token (``/t/<token>/``) or a known subdir out of a URL.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable

PACKAGE_EXTENSIONS = (".conda", ".tar.bz2")

# A URL's scheme is a letter, then letters, digits, "+", "." or "-" (RFC 3986), then "://".
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")
_URL_RE = re.compile(
    r"^(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*)://"
    r"(?:(?P<auth>[^@/]*)@)?"
    r"(?P<host>\[[^\]]*\]|[^/:?#]*)"
    r"(?::(?P<port>\d*))?"
    r"(?P<path>/[^?#]*)?"
    r"(?:\?(?P<query>[^#]*))?"
)


@functools.cache
def _token_re() -> re.Pattern:
    return re.compile(r"/t/([a-zA-Z0-9-_]*)")  # compiled only for a URL that has a "/t/"


def _is_win_path(value: str) -> bool:
    """``C:/…`` or ``C:\\…`` (a drive letter, a colon, a slash)."""
    return len(value) > 2 and value[1] == ":" and value[2] in "/\\" and value[0].isascii() \
        and value[0].isalpha()


# percent-encoding as urllib.parse does it, for the everyday case only: urllib.parse (and the
# ipaddress module it imports) cost a warm run ~1.4 ms to import, for a few file:// paths
_ALWAYS_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")
_HEX = frozenset("0123456789abcdefABCDEF")


def quote(text: str, safe: str = "/") -> str:
    """``urllib.parse.quote(text, safe)``: UTF-8 bytes outside the safe set become ``%XX``."""
    keep = _ALWAYS_SAFE.union(c for c in safe if c.isascii())
    if all(c in keep for c in text):
        return text
    return "".join(chr(b) if chr(b) in keep else f"%{b:02X}" for b in text.encode("utf-8"))


def unquote(text: str) -> str:
    """``urllib.parse.unquote(text)``: ``%XX`` runs decoded as UTF-8 (bad bytes replaced), a
    ``%`` without two hex digits kept as it is."""
    if "%" not in text:
        return text
    if not text.isascii():  # urllib decodes only the ASCII runs: let it do this rare case
        from urllib.parse import unquote as full_unquote

        return full_unquote(text)
    pieces = text.split("%")
    out = bytearray(pieces[0].encode("ascii"))
    for piece in pieces[1:]:
        if len(piece) >= 2 and piece[0] in _HEX and piece[1] in _HEX:
            out.append(int(piece[:2], 16))
            out += piece[2:].encode("ascii")
        else:
            out += b"%" + piece.encode("ascii")
    return out.decode("utf-8", "replace")


def has_scheme(value: str) -> bool:
    """``value`` starts with ``<scheme>://``. (Plain string tests: the few URLs a run parses
    do not pay for compiling a regex.)"""
    end = value.find("://")
    if end <= 0:
        return False
    first = value[0]
    return first.isascii() and first.isalpha() and all(c in _SCHEME_CHARS for c in value[1:end])


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
    return value.startswith(("/", "./", "../", "~", "\\")) or value in (".", "..") or _is_win_path(value)


def path_to_url(path: str) -> str:
    """An absolute ``file://`` URL for a local path (``~`` and relative paths expanded)."""
    path = os.path.abspath(os.path.expanduser(path))
    if _is_win_path(path):
        return "file:///" + quote(path.replace("\\", "/"), safe="/:")
    return "file://" + quote(path, safe="/:~!$&'()*+,;=@")


def url_to_path(url: str) -> str:
    if not url.startswith("file://"):
        raise ValueError(f"not a file:// URL: {url}")
    path = unquote(url[len("file://"):])
    if _is_win_path(path.lstrip("/")):
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
    m = _token_re().search(url) if "/t/" in url else None
    token = m.group(1) if m else None
    cleaned = url.replace("/t/" + token, "", 1) if token is not None else url
    return cleaned.rstrip("/"), token


def split_platform(url: str, known_subdirs: Iterable[str]) -> tuple[str, str | None]:
    """``(url without its platform, platform)``: conda searches ``/(<subdir>|…)(?:/|$)``
    case-insensitively and takes the leftmost match, the URL's own spelling of it."""
    subdirs = tuple(known_subdirs)
    table = _platform_table(subdirs) if url.isascii() else None
    if table is not None:
        platform = _platform_segment(url, table)
    else:  # non-ASCII text (or no subdirs): the regex itself, for its exact case folding
        m = _platform_regex(subdirs).search(url)
        platform = m.group(1) if m else None
    cleaned = url.replace("/" + platform, "", 1) if platform is not None else url
    return cleaned.rstrip("/"), platform


_PLATFORM_RE_CACHE: dict[tuple[str, ...], re.Pattern] = {}
_PLATFORM_TABLES: dict[tuple[str, ...], frozenset | None] = {}


def _platform_table(subdirs: tuple[str, ...]) -> frozenset | None:
    """The subdirs lower-cased, when that is how the regex would compare them with ASCII text
    (all of them ASCII, and at least one: an empty alternation matches ``//``)."""
    table = _PLATFORM_TABLES.get(subdirs, False)
    if table is False:
        ascii_only = subdirs and all(s.isascii() for s in subdirs)
        table = _PLATFORM_TABLES[subdirs] = frozenset(s.lower() for s in subdirs) if ascii_only else None
    return table


def _platform_segment(url: str, table: frozenset) -> str | None:
    """The leftmost path segment of ASCII ``url`` that is a subdir of ``table`` (ignoring case):
    the alternatives match a whole segment, since each must end at a ``/`` or the end (``$``,
    which also matches before one final newline)."""
    pos = url.find("/")
    while pos != -1:
        nxt = url.find("/", pos + 1)
        segment = url[pos + 1:] if nxt == -1 else url[pos + 1:nxt]
        if segment.lower() in table:
            return segment
        if nxt == -1 and segment.endswith("\n") and segment[:-1].lower() in table:
            return segment[:-1]
        pos = nxt
    return None


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
    return _token_re().sub("/t/<TOKEN>", url) if "/t/" in url else url


def _tokenized_startswith(test: list[str], prefix: list[str]) -> bool:
    return all(t == p for t, p in zip(test, prefix))
