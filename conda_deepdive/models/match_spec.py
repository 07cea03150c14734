"""MatchSpec: conda's query language for packages (mirrors ``conda.models.match_spec``).

Every package request — on the command line (``numpy>=1.20``), in a record's ``depends``
(``python >=3.6,<3.7.0a0``), in ``--file`` lists, in history — is parsed into a
:class:`MatchSpec`: a set of *field matchers*, one per record field the spec constrains. A record
matches when every matcher accepts the record's value for that field.

The fields (``MatchSpec.FIELD_NAMES``) and how each one matches:

=================  ======================================================================
``name``           exact, glob (``py*``) or regex (``^py.*$``); always stored lower-case
``version``        a :class:`~conda_deepdive.models.version.VersionSpec` (``>=1.2,<2``, ``1.7.*``…)
``build``          exact / glob / regex over the build string (``py38*``)
``build_number``   a :class:`~conda_deepdive.models.version.BuildNumberMatch` (``>=3``)
``channel``        a :class:`~conda_deepdive.models.channel.Channel` compared by name
``subdir``         exact string (``linux-64``)
``track_features``, ``features``  the *set* of features must be equal
``url``, ``md5``, ``sha256``, ``fn``  exact strings
``license``, ``license_family``   case-insensitive glob
=================  ======================================================================

One spec has many spellings; ``str()`` prints the *canonical* one::

    numpy 1.7*            -> numpy=1.7             (fuzzy version: '=' and no '.*')
    numpy 1.7.1 py27_0    -> numpy==1.7.1=py27_0   (exact version + exact build outside brackets)
    numpy >=1.5           -> numpy[version='>=1.5'] (anything with operators goes in brackets)
    conda-forge::numpy    -> conda-forge::numpy    (channel in front, its canonical name)
    mkl@                  -> *[track_features=mkl] (ancient feature syntax)

*Strictness* is conda's old 1-2-3 scale, still used by conda-build and by the solver's
bookkeeping: 1 = name only, 2 = name + version, 3 = anything more (build, channel, md5, a
non-exact name …).

What to notice: parsing is the expensive part, so identical strings are parsed once and the
resulting (immutable) MatchSpec is reused — the solver builds one MatchSpec per dependency
string of ~40k records and calls :meth:`MatchSpec.match` millions of times.
"""

from __future__ import annotations

import re
import warnings
from functools import reduce
from os.path import basename, expanduser, expandvars
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import unquote

from ..exceptions import InvalidMatchSpec, InvalidVersionSpec
from .channel import Channel, has_scheme, is_package_file, is_path, path_to_url, strip_pkg_extension, url_to_path
from .version import BuildNumberMatch, VersionSpec

FIELD_NAMES: tuple[str, ...] = (
    "channel",
    "subdir",
    "name",
    "version",
    "build",
    "build_number",
    "track_features",
    "features",
    "url",
    "md5",
    "sha256",
    "license",
    "license_family",
    "fn",
)
FIELD_NAMES_SET = frozenset(FIELD_NAMES)

# Package names as conda 26 accepts them (CEP "names in conda packages"): letters, digits and
# single separators (. - _); may start with one underscore, virtual packages with two.
_NAME_RE = re.compile(r"^(?:[a-z0-9]|[a-z0-9_](?!_))[._-]?(?:[a-z0-9]+(?:[._-]|$))*$", re.I)
_VIRTUAL_NAME_RE = re.compile(r"^__[a-z0-9][._-]?(?:[a-z0-9]+(?:[._-]|$))*$", re.I)


# ============================================================================================
# field matchers
# ============================================================================================
class MatchInterface:
    """One field's matcher: ``match(value)``, ``raw_value`` (what was asked for) and
    ``exact_value`` (the value when the matcher accepts exactly one thing, else ``None``)."""

    __slots__ = ("_raw_value",)

    def __init__(self, value: Any):
        self._raw_value = value

    def match(self, other: Any) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def matches(self, value: Any) -> bool:
        return self.match(value)

    @property
    def raw_value(self) -> Any:
        return self._raw_value

    @property
    def exact_value(self) -> Any:
        return self._raw_value

    def merge(self, other: "MatchInterface") -> Any:
        if self.raw_value != other.raw_value:
            raise ValueError(f"Incompatible component merge:\n  - {self.raw_value!r}\n  - {other.raw_value!r}")
        return self.raw_value

    def union(self, other: "MatchInterface") -> str:
        return "|".join(sorted({str(self.raw_value), str(other.raw_value)}))

    def __str__(self) -> str:
        return str(self._raw_value)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, type(self)) and self._raw_value == other._raw_value

    def __hash__(self) -> int:
        return hash(self._raw_value)


def _as_text(other: Any) -> str:
    if other.__class__ is str:
        return other
    raw = getattr(other, "_raw_value", None)
    return raw if isinstance(raw, str) else str(other)


class ExactStrMatch(MatchInterface):
    """Equal strings only (``md5``, ``sha256``, ``url``, ``fn``, ``subdir``)."""

    __slots__ = ()

    def match(self, other: Any) -> bool:
        return self._raw_value == _as_text(other)


class ExactLowerStrMatch(ExactStrMatch):
    __slots__ = ()

    def __init__(self, value: str):
        super().__init__(value.lower())

    def match(self, other: Any) -> bool:
        return self._raw_value == _as_text(other).lower()


class GlobStrMatch(MatchInterface):
    """Exact string, ``*`` glob, or ``^regex$`` (``build``; ``name`` via the lower-case variant)."""

    __slots__ = ("_re_match",)

    def __init__(self, value: str):
        super().__init__(value)
        self._re_match = None
        try:
            if value.startswith("^") and value.endswith("$"):
                self._re_match = re.compile(value).match
            elif "*" in value:
                self._re_match = re.compile(r"^(?:%s)$" % re.escape(value).replace("\\*", ".*")).match
        except (re.error, RecursionError, OverflowError) as exc:
            raise InvalidMatchSpec(value, f"Contains an invalid regular expression. '{exc}'") from None

    def match(self, other: Any) -> bool:
        text = _as_text(other)
        if self._re_match is not None:
            return self._re_match(text) is not None
        return self._raw_value == text

    @property
    def exact_value(self) -> str | None:
        return self._raw_value if self._re_match is None else None

    @property
    def matches_all(self) -> bool:
        return self._raw_value == "*"

    def merge(self, other: MatchInterface) -> Any:
        """Intersect two patterns (conda keeps the stricter glob or writes a regex intersection)."""
        if self.raw_value == other.raw_value:
            return self.raw_value
        this, that = self, other
        if this._re_match is None and isinstance(that, GlobStrMatch) and that._re_match is not None:
            this, that = that, this  # make `this` the pattern if only one is
        that_text = str(that)
        if "*" not in that_text:
            if this._re_match is not None and this._re_match(that_text):
                return that.raw_value
            return MatchInterface.merge(this, that)
        this_text = str(this.raw_value)
        both_single = this_text.count("*") == that_text.count("*") == 1
        if both_single and (this_text[0] == that_text[0] == "*" or this_text[-1] == that_text[-1] == "*"):
            a, b = this_text.strip("*"), that_text.strip("*")
            if a in b:
                return that.raw_value
            if b in a:
                return this.raw_value
            return MatchInterface.merge(this, that)
        patterns = []
        for text in (this_text, that_text):
            if text.startswith("^") and text.endswith("$"):
                patterns.append(text[1:-1])
            elif "*" in text:
                patterns.append(re.escape(text).replace("\\*", ".*"))
            else:
                patterns.append(text)
        return rf"^(?={patterns[0]})(?:{patterns[1]})$"


class GlobLowerStrMatch(GlobStrMatch):
    """The ``name`` matcher: like :class:`GlobStrMatch`, lower-casing the requested value."""

    __slots__ = ()

    def __init__(self, value: str):
        super().__init__(value.lower())


class CaseInsensitiveStrMatch(GlobLowerStrMatch):
    """``license`` / ``license_family``: glob match ignoring case on both sides."""

    __slots__ = ()

    def match(self, other: Any) -> bool:
        text = _as_text(other).lower()
        if self._re_match is not None:
            return self._re_match(text) is not None
        return self._raw_value == text


def _feature_set(value: Any) -> frozenset[str]:
    if not value:
        return frozenset()
    if isinstance(value, str):
        return frozenset(f for f in (p.strip() for p in value.replace(" ", ",").split(",")) if f)
    return frozenset(f for f in (str(p).strip() for p in value) if f)


class FeatureMatch(MatchInterface):
    """``track_features`` / ``features``: the record's feature *set* must equal the requested one."""

    __slots__ = ()

    def __init__(self, value: Any):
        super().__init__(_feature_set(value))

    def match(self, other: Any) -> bool:
        return self._raw_value == _feature_set(other)

    def __str__(self) -> str:
        return " ".join(sorted(self._raw_value))

    def __repr__(self) -> str:
        return "[" + ", ".join(f"'{k}'" for k in sorted(self._raw_value)) + "]"


class ChannelMatch(GlobStrMatch):
    """``channel``: a glob over canonical names, or one Channel compared by name.

    ``defaults`` matches records from ``pkgs/main`` (their canonical name is ``defaults``), but
    ``pkgs/main`` does not match a record whose channel is the ``defaults`` multichannel itself.
    """

    __slots__ = ("_display",)

    def __init__(self, value: Any):
        self._re_match = None
        display = None
        try:
            if isinstance(value, str):
                if value.startswith("^") and value.endswith("$"):
                    self._re_match = re.compile(value).match
                elif "*" in value:
                    self._re_match = re.compile(r"^(?:%s)$" % value.replace("*", ".*")).match
                else:
                    channel = Channel(value)
                    # a URL stays a URL in the canonical spec; a name prints as its canonical name
                    display = (channel.base_url or channel.canonical_name) if (
                        has_scheme(value) or is_path(value)
                    ) else channel.canonical_name
                    value = channel
            elif isinstance(value, Channel):
                display = value.canonical_name
            else:
                raise InvalidMatchSpec(value, "a channel must be given as a name or URL")
        except (re.error, RecursionError, OverflowError) as exc:
            raise InvalidMatchSpec(value, f"Contains an invalid regular expression. '{exc}'") from None
        self._raw_value = value
        self._display = display if display is not None else str(value)

    def match(self, other: Any) -> bool:
        other_channel = other if isinstance(other, Channel) else Channel(_as_text(other) if other is not None else None)
        if self._re_match is not None:
            return self._re_match(other_channel.canonical_name) is not None
        return self._raw_value.name in (other_channel.name, other_channel.canonical_name)

    @property
    def exact_value(self) -> Any:
        return self._raw_value if self._re_match is None else None

    def __str__(self) -> str:
        return self._display

    def __repr__(self) -> str:
        return f"'{self._display}'"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ChannelMatch) and self._display == other._display

    def __hash__(self) -> int:
        return hash(self._display)


_IMPLEMENTORS: dict[str, Callable[[Any], Any]] = {
    "channel": ChannelMatch,
    "name": GlobLowerStrMatch,
    "version": VersionSpec,
    "build": GlobStrMatch,
    "build_number": BuildNumberMatch,
    "track_features": FeatureMatch,
    "features": FeatureMatch,
    "license": CaseInsensitiveStrMatch,
    "license_family": CaseInsensitiveStrMatch,
}
_MATCHER_CACHE: dict[tuple[str, Any], Any] = {}


def _validate_name(value: str) -> None:
    if "*" in value or (value.startswith("^") and value.endswith("$")):
        return  # a pattern, checked when compiled
    if len(value) > 128 or not (_NAME_RE.match(value) or _VIRTUAL_NAME_RE.match(value)):
        raise InvalidMatchSpec(
            value,
            "invalid package name: use letters, digits and single '.', '-' or '_' separators "
            "(a leading '_' is allowed, '__' only for virtual packages)",
        )


def _make_component(field_name: str, value: Any) -> Any:
    if hasattr(value, "match"):
        return value  # already a matcher (VersionSpec, GlobStrMatch, …)
    key = (field_name, value)
    matcher = _MATCHER_CACHE.get(key)  # TypeError for unhashable values, exactly like conda
    if matcher is None:
        if field_name == "name" and isinstance(value, str):
            _validate_name(value.lower())
        factory = _IMPLEMENTORS.get(field_name)
        matcher = factory(value) if factory else ExactStrMatch(str(value))
        if len(_MATCHER_CACHE) > 500_000:
            _MATCHER_CACHE.clear()
        _MATCHER_CACHE[key] = matcher
    return matcher


# ============================================================================================
# parsing spec strings
# ============================================================================================
_BRACKETS_RE = re.compile(r".*(?:(\[.*\]))")
_PARENS_RE = re.compile(r".*(?:(\(.*\)))")
_KEY_VALUE_RE = re.compile(r'([a-zA-Z0-9_-]+?)=(["\']?)([^\'"]*?)(\2)(?:[, ]|$)')
_NAME_SPLIT_RE = re.compile(r"([^ =<>!~]+)?([><!=~ ].+)?")
_VERSION_BUILD_RE = re.compile(r"((?:.+?)[^><!,|]?)(?:(?<![=!|,<>~])(?:[ =])([^-=,|<>~]+?))?$")


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


def _parse_spec_str(spec_str: str) -> dict[str, Any]:
    """Turn one spec string into ``{field: raw value}`` (+ ``_original_spec_str``). Cached."""
    cached = _PARSE_CACHE.get(spec_str)
    if cached is not None:
        return cached
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


# ============================================================================================
# MatchSpec
# ============================================================================================
_SPEC_CACHE: dict[str, "MatchSpec"] = {}


class MatchSpec:
    """A package query: a set of field matchers (see the module docstring for the grammar).

    ``MatchSpec("numpy >=1.20")``, ``MatchSpec(name="numpy", version=">=1.20")``,
    ``MatchSpec(other_spec, optional=True)``. Immutable; equal specs hash equal.
    """

    FIELD_NAMES = FIELD_NAMES
    FIELD_NAMES_SET = FIELD_NAMES_SET

    __slots__ = (
        "_match_components",
        "_optional",
        "_target",
        "_original_spec_str",
        "_hash_key",
        "_hash",
        "_str",
        "_tests",
    )

    def __new__(cls, spec_arg: Any = None, **kwargs: Any) -> "MatchSpec":
        if spec_arg.__class__ is str and not kwargs:
            spec = _SPEC_CACHE.get(spec_arg)
            if spec is not None:
                return spec
        try:
            spec = cls._construct(spec_arg, kwargs)
        except InvalidVersionSpec as exc:
            text = f"{spec_arg}" if spec_arg else ""
            if kwargs:
                text += " " + ", ".join(f"{k}={v}" for k, v in kwargs.items())
            raise InvalidMatchSpec(text.strip(), str(exc)) from exc
        if spec_arg.__class__ is str and not kwargs:
            if len(_SPEC_CACHE) > 200_000:
                _SPEC_CACHE.clear()
            _SPEC_CACHE[spec_arg] = spec
        return spec

    @classmethod
    def _construct(cls, spec_arg: Any, kwargs: dict[str, Any]) -> "MatchSpec":
        if not spec_arg:
            return cls._from_components(dict(kwargs))
        if isinstance(spec_arg, MatchSpec):
            if not kwargs:
                return spec_arg
            merged: dict[str, Any] = dict(spec_arg._match_components)
            merged.setdefault("optional", spec_arg.optional)
            merged.setdefault("target", spec_arg.target)
            merged["_original_spec_str"] = spec_arg.original_spec_str
            merged.update(kwargs)
            return cls._from_components(merged)
        if isinstance(spec_arg, str):
            parsed = _parse_spec_str(spec_arg)
            if kwargs:
                parsed = dict(parsed, **kwargs)
                if set(kwargs) - {"optional", "target"}:
                    parsed.pop("_original_spec_str", None)
            return cls._from_components(dict(parsed))
        if isinstance(spec_arg, Mapping):
            return cls._from_components(dict(spec_arg, **kwargs))
        if hasattr(spec_arg, "to_match_spec"):
            spec = spec_arg.to_match_spec()
            return cls(spec, **kwargs) if kwargs else spec
        raise InvalidMatchSpec(
            f"{spec_arg!r}", f"cannot build a MatchSpec from a {type(spec_arg).__name__}; give a string or keywords"
        )

    @classmethod
    def _from_components(cls, kwargs: dict[str, Any]) -> "MatchSpec":
        self = object.__new__(cls)
        optional = kwargs.pop("optional", False)
        target = kwargs.pop("target", None)
        original = kwargs.pop("_original_spec_str", None)
        unknown = set(kwargs) - FIELD_NAMES_SET
        if unknown:
            raise InvalidMatchSpec(original, f"Cannot match on field(s): {unknown}")
        # a field given as None is simply not constrained
        components = {key: _make_component(key, value) for key, value in kwargs.items() if value is not None}
        set_ = object.__setattr__
        set_(self, "_match_components", components)
        set_(self, "_optional", bool(optional))
        set_(self, "_target", target)
        set_(self, "_original_spec_str", original)
        # identity and the per-field test functions are worked out lazily, on first use
        set_(self, "_hash_key", None)
        set_(self, "_hash", None)
        set_(self, "_str", None)
        set_(self, "_tests", None)
        return self

    def _key(self) -> tuple:
        key = self._hash_key
        if key is None:
            comps = frozenset((f, type(m).__name__, str(m)) for f, m in self._match_components.items())
            key = (comps, self._optional, self._target)
            object.__setattr__(self, "_hash_key", key)
        return key

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("MatchSpec is immutable; build a new one with MatchSpec(spec, **changes)")

    def __reduce__(self):
        return (_rebuild, (str(self), self._optional, self._target))

    # -- alternative constructors ----------------------------------------------------------
    @classmethod
    def from_dist_str(cls, dist_str: str) -> "MatchSpec":
        """``'conda-forge/linux-64::numpy-1.20.0-py39_0'`` → an exact spec for that package."""
        from .channel import KNOWN_SUBDIRS

        parts: dict[str, Any] = {}
        dist_str, _ = strip_pkg_extension(dist_str)
        if "::" in dist_str:
            channel_subdir, dist_str = dist_str.split("::", 1)
            channel_str, _, subdir = channel_subdir.rpartition("/")
            if channel_str and subdir in KNOWN_SUBDIRS:
                parts["channel"], parts["subdir"] = channel_str, subdir
            else:
                parts["channel"] = channel_subdir
        pieces = dist_str.rsplit("-", 2)
        if len(pieces) != 3:
            raise InvalidMatchSpec(dist_str, "expected name-version-build")
        parts.update(name=pieces[0], version=pieces[1], build=pieces[2])
        return cls(**parts)

    # -- reading fields -----------------------------------------------------------------------
    def get_exact_value(self, field_name: str) -> Any:
        """The field's value if it is pinned to exactly one value (``numpy==1.7`` → ``'1.7'``)."""
        matcher = self._match_components.get(field_name)
        return matcher and matcher.exact_value

    def get_raw_value(self, field_name: str) -> Any:
        """What was asked for, pattern or not (``numpy 1.7*`` → version ``'1.7.*'``)."""
        matcher = self._match_components.get(field_name)
        return matcher and matcher.raw_value

    def get(self, field_name: str, default: Any = None) -> Any:
        value = self.get_raw_value(field_name)
        return default if value is None else value

    def __contains__(self, field_name: str) -> bool:
        return field_name in self._match_components

    @property
    def name(self) -> str:
        return self.get_exact_value("name") or "*"

    @property
    def version(self) -> VersionSpec | None:
        return self._match_components.get("version")

    @property
    def optional(self) -> bool:
        return self._optional

    @property
    def target(self) -> Any:
        return self._target

    @property
    def original_spec_str(self) -> str | None:
        return self._original_spec_str

    @property
    def fn(self) -> str:
        value = self.get_raw_value("fn") or self.get_raw_value("url")
        if not value:
            raise ValueError(f"{self} names no file")
        return basename(value)

    @property
    def is_name_only_spec(self) -> bool:
        comps = self._match_components
        return len(comps) == 1 and "name" in comps and self.name != "*"

    @property
    def strictness(self) -> int:
        """conda's 1-2-3 scale: 1 name only, 2 name+version, 3 anything stricter."""
        comps = self._match_components
        counted = sum(f in comps for f in ("name", "version", "build"))
        if counted < len(comps):
            return 3
        if not self.get_exact_value("name") or "build" in comps:
            return 3
        if "version" in comps:
            return 2
        return 1

    @property
    def spec(self) -> str:
        return self.conda_build_form()

    def _is_simple(self) -> bool:
        return len(self._match_components) == 1 and self.get_exact_value("name") is not None

    def _is_single(self) -> bool:
        return len(self._match_components) == 1

    # -- matching -----------------------------------------------------------------------------
    def match(self, record: Any) -> bool:
        """Does ``record`` (a PackageRecord or a plain dict) satisfy every field matcher?"""
        if record.__class__ is dict:
            from .records import PackageRecord

            record = PackageRecord.from_dict(record)
        tests = self._tests
        if tests is None:
            tests = _compile_tests(self._match_components)
            object.__setattr__(self, "_tests", tests)
        for test in tests:
            if not test(record):
                return False
        return True

    # -- printing -------------------------------------------------------------------------------
    def __str__(self) -> str:
        text = self._str
        if text is None:
            text = _canonical_str(self._match_components)
            object.__setattr__(self, "_str", text)
        return text

    def __repr__(self) -> str:
        extra = ""
        if self._target:
            extra += f', target="{self._target}"'
        if self._optional:
            extra += ", optional=True"
        return f'{type(self).__name__}("{self}"{extra})'

    def __json__(self) -> str:
        return str(self)

    def dist_str(self) -> str:
        return str(self)

    def conda_build_form(self) -> str:
        """The space-separated ``name version build`` form conda-build writes in recipes."""
        name = self.get_exact_value("name")
        if not name:
            raise ValueError(f"conda_build_form() needs an exact package name; {self} has none")
        version = self.get_raw_value("version")
        build = self.get_raw_value("build")
        if build:
            return " ".join((name, str(version or "*"), str(build)))
        if version:
            return f"{name} {version}"
        return name

    def _to_filename_do_not_use(self) -> str | None:
        fn = self.get_exact_value("fn")
        if fn:
            return fn
        values = [self.get_exact_value(f) for f in ("name", "version", "build")]
        if any(v is None for v in values):
            return None
        return "-".join(values) + ".tar.bz2"

    # -- identity ---------------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        return isinstance(other, MatchSpec) and self._key() == other._key()

    def __hash__(self) -> int:
        h = self._hash
        if h is None:
            h = hash(self._key())
            object.__setattr__(self, "_hash", h)
        return h

    # -- combining specs -------------------------------------------------------------------------
    @classmethod
    def merge(cls, match_specs: Iterable[Any], union: bool = False) -> tuple["MatchSpec", ...]:
        """Combine specs for the same package into one (``numpy >=1`` + ``numpy <2`` →
        ``numpy[version='<2,>=1']``). Specs without an exact name are passed through."""
        specs = sorted((cls(s) for s in match_specs if s), key=str)
        by_name: dict[str, list[MatchSpec]] = {}
        for s in specs:
            by_name.setdefault(s.name, []).append(s)
        unmergeable = by_name.pop("*", [])
        merged: list[MatchSpec] = []
        for group in by_name.values():
            by_optional: dict[bool, list[MatchSpec]] = {}
            for s in group:
                by_optional.setdefault(s.optional, []).append(s)
            for subgroup in by_optional.values():
                targets = {s.target for s in subgroup if s.target is not None}
                if len(targets) > 1:
                    listing = "".join(f"\n  - {s}" for s in subgroup)
                    raise ValueError(f"Incompatible MatchSpec merge:{listing}")
                if len(subgroup) == 1:
                    merged.append(subgroup[0])
                else:
                    merged.append(reduce(lambda a, b: a._merge(b, union), subgroup))
        return (*merged, *unmergeable)

    @classmethod
    def union(cls, match_specs: Iterable[Any]) -> tuple["MatchSpec", ...]:
        """Like :meth:`merge` but OR-ing the constraints (``1.7|1.8``)."""
        return cls.merge(match_specs, union=True)

    def _merge(self, other: "MatchSpec", union: bool = False) -> "MatchSpec":
        if self.optional != other.optional or self.target != other.target:
            raise ValueError(f"Incompatible MatchSpec merge:  - {self}\n  - {other}")
        final: dict[str, Any] = {}
        for field in set(self._match_components) | set(other._match_components):
            this = self._match_components.get(field)
            that = other._match_components.get(field)
            if this is None or that is None:
                final[field] = this if that is None else that
            elif union:
                try:
                    final[field] = this.union(that)
                except (AttributeError, ValueError, TypeError):
                    final[field] = f"{this}|{that}"
            else:
                final[field] = this.merge(that)
        return type(self)(optional=self.optional, target=self.target, **final)


def _rebuild(text: str, optional: bool, target: Any) -> MatchSpec:
    return MatchSpec(text, optional=optional, target=target) if (optional or target) else MatchSpec(text)


def _compile_tests(components: dict[str, Any]) -> tuple[Callable[[Any], bool], ...]:
    """One small function per field, cheapest and most selective (name) first."""
    tests: list[tuple[int, Callable[[Any], bool]]] = []
    for field, matcher in components.items():
        if field == "name":
            exact = matcher.exact_value
            if exact is not None:
                tests.append((0, lambda rec, _n=exact: rec.name == _n))
            elif not matcher.matches_all:
                tests.append((0, lambda rec, _m=matcher.match: _m(rec.name)))
        elif field == "version":
            vmatch = matcher.match
            tests.append((1, lambda rec, _m=vmatch: _m(_version_of(rec))))
        elif field == "build":
            tests.append((2, lambda rec, _m=matcher.match: bool(_m(rec.build))))
        else:
            tests.append((3, _field_test(field, matcher)))
    tests.sort(key=lambda t: t[0])
    return tuple(t for _, t in tests)


def _field_test(field: str, matcher: Any) -> Callable[[Any], bool]:
    m = matcher.match

    def test(rec: Any) -> bool:
        try:
            value = getattr(rec, field)
        except AttributeError:
            value = None
        try:
            return bool(m(value))
        except AttributeError:
            return matcher == value

    return test


def _version_of(rec: Any) -> Any:
    try:
        return rec.version_order  # PackageRecord caches its parsed VersionOrder
    except AttributeError:
        return rec.version


def _canonical_str(components: dict[str, Any]) -> str:
    """Print components the canonical way (see the module docstring)."""
    out: list[str] = []
    brackets: list[str] = []

    channel = components.get("channel")
    channel_exact = channel is not None and channel.exact_value is not None
    if channel_exact:
        out.append(str(channel))
    elif channel is not None and not channel.matches_all:
        brackets.append(f"channel={channel}")

    subdir = components.get("subdir")
    if subdir is not None:
        if channel_exact:
            out.append(f"/{subdir}")
        else:
            brackets.append(f"subdir={subdir}")

    name = components.get("name")
    name_text = str(name) if name is not None else "*"
    out.append(f"::{name_text}" if out else name_text)

    version = components.get("version")
    build = components.get("build")
    version_exact = False
    if version is not None:
        v = str(version)
        if v == "*":
            pass  # matches everything: nothing to print
        elif any(c in v for c in "><$^|,"):
            brackets.append(f"version='{v}'")
        elif v[:2] in ("!=", "~="):
            if build is not None:
                brackets.append(f"version='{v}'")
            else:
                out.append(v)
        elif v.endswith(".*"):
            out.append("=" + v[:-2])
        elif v.endswith("*"):
            out.append("=" + v[:-1])
        elif v.startswith("=="):
            out.append(v)
            version_exact = True
        else:
            out.append("==" + v)
            version_exact = True

    if build is not None:
        b = str(build)
        if any(c in b for c in "><$^|,"):
            brackets.append(f"build='{b}'")
        elif "*" in b or not version_exact:
            brackets.append(f"build={b}")
        else:
            out.append("=" + b)

    skip = {"channel", "subdir", "name", "version", "build"}
    if "url" in components and "fn" in components:
        skip.add("fn")
    for key in FIELD_NAMES:
        if key in skip or key not in components:
            continue
        if key == "url" and channel is not None:
            continue  # the channel already says where the package lives
        value = str(components[key])
        if any(c in value for c in ", ="):
            brackets.append(f"{key}='{value}'")
        else:
            brackets.append(f"{key}={value}")

    if brackets:
        out.append("[" + ",".join(brackets) + "]")
    return "".join(out)


__all__ = [
    "CaseInsensitiveStrMatch",
    "ChannelMatch",
    "ExactStrMatch",
    "FeatureMatch",
    "GlobLowerStrMatch",
    "GlobStrMatch",
    "MatchInterface",
    "MatchSpec",
]
