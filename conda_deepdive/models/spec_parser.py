"""Reading a spec string into raw field values (conda's ``_parse_spec_str``).

The steps, in conda's order (each strips its part off the string before the next one looks):

1. drop ``# comments`` and `` if <condition>`` suffixes; ``name@`` is the old feature syntax;
2. a package *file* (URL or path ending in ``.conda``/``.tar.bz2``) is read from its file name;
3. ``[key=value, ...]`` brackets (values may be quoted);
4. ``(key=value)`` parentheses (parsed and ignored — conda does the same);
5. ``channel(/subdir)::`` in front;
6. the package name: everything up to the first space or operator;
7. the rest is ``version`` (+ ``build``), split by :func:`_parse_version_plus_build`;
8. bracket values override what was written outside — except the name.

The result is a plain dict cached per string; :class:`~.match_spec.MatchSpec` turns it into
field matchers. Strings of the common shapes (``numpy``, ``numpy >=1.11,<2``,
``python 3.6.5 h0a44026_0``) skip steps 1-8: :func:`_parse_simple_spec` recognises them with one
regex and splits them at the spaces, which is all the steps would have done.
"""

from __future__ import annotations

import re
import warnings
from os.path import basename, expanduser, expandvars

from ..exceptions import InvalidMatchSpec
from ..values import LazyPattern
from .channel import Channel, has_scheme, is_package_file, is_path, path_to_url, strip_pkg_extension, url_to_path
from .matchers import GlobLowerStrMatch, name_problem
from .urls import PACKAGE_EXTENSIONS, unquote

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

# the general path's patterns (most runs parse only simple specs: see _SIMPLE_SPEC_RE below)
_BRACKETS_RE = LazyPattern(r".*(?:(\[.*\]))")
_PARENS_RE = LazyPattern(r".*(?:(\(.*\)))")
_KEY_VALUE_RE = LazyPattern(r'([a-zA-Z0-9_-]+?)=(["\']?)([^\'"]*?)(\2)(?:[, ]|$)')
_NAME_SPLIT_RE = LazyPattern(r"([^ =<>!~]+)?([><!=~ ].+)?")
_VERSION_BUILD_RE = LazyPattern(r"((?:.+?)[^><!,|]?)(?:(?<![=!|,<>~])(?:[ =])([^-=,|<>~]+?))?$")


def _parse_version_plus_build(text: str) -> tuple[str, str | None]:
    """Split ``'>=1.0 , < 2.0 py34_0'`` into ``('>=1.0,<2.0', 'py34_0')``.

    A build is a trailing word after a space or ``=`` that is not itself part of an operator.
    """
    m = _VERSION_BUILD_RE.search(text)
    if m:
        version, build = m.groups()
        build = build and build.strip()
    else:
        version, build = text, None
    return version and version.replace(" ", ""), build


def _sanitize_version_str(version: str, build: str | None) -> str:
    """``==1.2`` → ``1.2`` (no build); ``=1.2`` → ``1.2*`` (no build); bare ``=``/``==`` kept so
    the version parser rejects them."""
    if version in ("==", "="):
        return version
    if not version.startswith("="):
        return version
    bare = version.lstrip("=")
    if version.startswith("==") and build is None:
        return bare
    if not any(c in bare for c in "=,|"):
        if build is None and not bare.endswith("*"):
            return bare + "*"
        return bare
    return version


def _parse_channel(value: str | None) -> tuple[str | None, str | None]:
    """``'conda-forge/linux-64'`` → ``('conda-forge', 'linux-64')``; URLs keep their base URL."""
    if not value:
        return None, None
    channel = Channel(value)
    if has_scheme(value) or is_path(value):
        return channel.base_url or channel.canonical_name, channel.subdir
    return channel.canonical_name, channel.subdir


def _parse_legacy_dist(filename: str, spec: str) -> tuple[str, str, str]:
    stem, _ = strip_pkg_extension(filename)
    parts = stem.rsplit("-", 2)
    if len(parts) != 3 or not all(parts):
        raise InvalidMatchSpec(spec, f"cannot read name-version-build from the file name '{filename}'")
    return parts[0], parts[1], parts[2]


_PARSE_CACHE: dict[str, dict[str, Any]] = {}

# The fast path. Nearly every dependency string in repodata has one of a few shapes —
# 'name', 'name >=1.2,<2.0a0', 'name 1.2.*', 'name 1.2 build_0' — one to three words separated
# by single spaces, with no channel, brackets, comments or file names. For exactly those strings
# the steps above reduce to "split at the spaces"; one regex recognises them. Its character
# classes are chosen so that no '=' in the version can be read as a version/build separator and
# no '!' can end the version; anything else takes the general path (tests/test_match_spec_fastpath.py
# checks that both paths agree on every dependency string of the shared channels).
# (Possessive quantifiers, '++' and '?+', only spare the regex engine from backtracking.)
_VERSION_ATOM = r"(?:[<>]=?|[=!~]=|=)?+[0-9A-Za-z_.+*]++"
_SIMPLE_SPEC_RE = re.compile(
    rf"([A-Za-z0-9_.\-]++)(?: ({_VERSION_ATOM}(?:,{_VERSION_ATOM})*+)(?: ([A-Za-z0-9_.+*]++))?)?"
)
# name -> its matcher, or None if name_problem() rejects it (names repeat a lot)
_SIMPLE_NAMES: dict[str, GlobLowerStrMatch | None] = {}


def _parse_simple_spec(spec_str: str) -> tuple[str, str | None, str | None, GlobLowerStrMatch] | None:
    """``(name, version, build, name matcher)`` of a spec of one of the common shapes, or
    ``None`` (use the general path).

    Gives exactly what the general path gives for these strings: the name, and the version
    (+ build) after the same ``_sanitize_version_str`` rewriting (``==1.2`` -> ``1.2``)."""
    m = _SIMPLE_SPEC_RE.fullmatch(spec_str)
    if m is None or spec_str.endswith(PACKAGE_EXTENSIONS):
        return None
    name, version, build = m.groups()
    try:
        name_matcher = _SIMPLE_NAMES[name]
    except KeyError:
        if len(_SIMPLE_NAMES) > 500_000:
            _SIMPLE_NAMES.clear()
        # a plain name (no '*', no '^...$'): an exact matcher, as GlobLowerStrMatch(name) builds
        name_matcher = _SIMPLE_NAMES[name] = None if name_problem(name) else GlobLowerStrMatch._plain(name)
    if name_matcher is None:
        return None  # the general path raises the proper error
    if version is not None:
        if build is not None and version == "if":
            return None  # 'a if b' is a conditional spec
        if version[0] == "=":
            version = _sanitize_version_str(version, build)
    return name, version, build, name_matcher


def _simple_components(spec_str: str) -> dict[str, Any] | None:
    """:func:`_parse_simple_spec` as the general parser's ``{field: raw value}`` dict."""
    parsed = _parse_simple_spec(spec_str)
    if parsed is None:
        return None
    name, version, build, _ = parsed
    components: dict[str, Any] = {"name": name}
    if version is not None:
        components["version"] = version
    if build is not None:
        components["build"] = build
    components["_original_spec_str"] = spec_str
    return components


def _parse_spec_str(spec_str: str) -> dict[str, Any]:
    """Turn one spec string into ``{field: raw value}`` (+ ``_original_spec_str``). Cached."""
    cached = _PARSE_CACHE.get(spec_str)
    if cached is not None:
        return cached
    simple = _simple_components(spec_str)
    if simple is not None:
        if len(_PARSE_CACHE) > 500_000:
            _PARSE_CACHE.clear()
        _PARSE_CACHE[spec_str] = simple
        return simple
    return _parse_spec_str_general(spec_str)


def _parse_spec_str_general(spec_str: str) -> dict[str, Any]:
    """The general parser: every shape of spec conda accepts (steps 1-8 above). Cached."""
    original = spec_str

    # ancient feature syntax: 'mkl@' means "the package that tracks feature mkl"
    if spec_str.endswith("@"):
        return {"name": "*", "track_features": (spec_str[:-1],)}

    # 1. drop a '# comment' and a ' if <condition>' suffix
    if "#" in spec_str:
        spec_str = spec_str[: spec_str.index("#")]
    spec_str = spec_str.split(" if ", 1)[0]

    # 2. a package file (URL or path): everything comes from the file name
    if is_package_file(spec_str):
        if not has_scheme(spec_str):
            spec_str = unquote(path_to_url(expandvars(expanduser(spec_str))))
        channel = Channel(unquote(spec_str))
        if channel.subdir:
            name, version, build = _parse_legacy_dist(channel.package_filename or "", original)
            result = {
                "channel": channel.canonical_name,
                "subdir": channel.subdir,
                "name": name,
                "version": version,
                "build": build,
                "fn": channel.package_filename,
                "url": spec_str,
            }
        else:  # a tarball somewhere that is not laid out as a channel
            path_or_url = url_to_path(spec_str) if spec_str.startswith("file://") else spec_str
            result = {"name": "*", "fn": basename(path_or_url), "url": spec_str}
        _PARSE_CACHE[original] = result
        return result

    # 3. the [key=value, ...] brackets
    brackets: dict[str, Any] = {}
    m = _BRACKETS_RE.match(spec_str)
    if m:
        bracket_text = m.group(1)
        spec_str = spec_str.replace(bracket_text, "")
        for kv in _KEY_VALUE_RE.finditer(bracket_text[1:-1]):
            key, _, value, _ = kv.groups()
            if not key or not value:
                raise InvalidMatchSpec(original, "key-value mismatch in brackets")
            if key == "version":
                value = _sanitize_version_str(value, None)
            brackets[key] = value

    # 4. the (key=value) parentheses: parsed and ignored, as in conda
    m = _PARENS_RE.match(spec_str)
    if m:
        spec_str = spec_str.replace(m.group(1), "")

    # 5. channel(/subdir)::(namespace:)rest
    pieces = spec_str.rsplit(":", 2)
    if len(pieces) == 3:
        channel_str, _namespace, spec_str = pieces
    elif len(pieces) == 2:
        channel_str, (_namespace, spec_str) = None, pieces
    else:
        channel_str, spec_str = None, pieces[0]
    channel, subdir = _parse_channel(channel_str)
    if "channel" in brackets:
        b_channel, b_subdir = _parse_channel(brackets.pop("channel"))
        channel = b_channel or channel
        subdir = b_subdir or subdir
    if "subdir" in brackets:
        subdir = brackets.pop("subdir")

    # 6. the package name is everything up to the first space or operator
    name, rest = _NAME_SPLIT_RE.match(spec_str).groups()
    if name is None:
        raise InvalidMatchSpec(original, f"no package name found in '{spec_str}'")
    problem = name_problem(name)
    if problem:
        raise InvalidMatchSpec(original, problem)

    # 7. what is left is version (+ build)
    rest = rest and rest.strip()
    version = build = None
    if rest:
        if "[" in rest:
            raise InvalidMatchSpec(original, "multiple brackets sections not allowed")
        version, build = _parse_version_plus_build(rest)
        version = _sanitize_version_str(version, build)

    # 8. assemble; bracket values override everything except the name
    components: dict[str, Any] = {"name": name}
    if channel is not None:
        components["channel"] = channel
    if subdir is not None:
        components["subdir"] = subdir
    if version is not None:
        components["version"] = version
    if build is not None:
        components["build"] = build
    if "name" in brackets:
        warnings.warn(
            f"'name' specified both inside ({brackets['name']}) and outside ({name}) of brackets. "
            f"The value outside of brackets ({name}) will be used.",
            UserWarning,
            stacklevel=4,
        )
        del brackets["name"]
    components.update(brackets)
    components["_original_spec_str"] = original
    if len(_PARSE_CACHE) > 500_000:
        _PARSE_CACHE.clear()
    _PARSE_CACHE[original] = components
    return components
