"""Field matchers: how one field of a MatchSpec tests one field of a record.

Mirrors the ``*Match`` classes of ``conda.models.match_spec``. A matcher keeps the value that
was asked for (``raw_value``), knows whether that pins exactly one value (``exact_value``), tests a
record's value (``match``) and can combine with another matcher for the same field (``merge`` =
AND, ``union`` = OR) — which is how ``MatchSpec.merge`` folds ``numpy >=1`` and ``numpy <2`` into one.

String values follow one convention everywhere: ``^...$`` is a regular expression, a value with
``*`` is a glob, anything else must be equal.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from ..exceptions import InvalidMatchSpec
from ..values import LazyPattern
from .channel import Channel, has_scheme, is_path
from .version_spec import BuildNumberMatch, VersionSpec

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any


@functools.cache
def _name_res() -> tuple[re.Pattern, re.Pattern]:
    """``(ordinary, virtual)``: package names as conda 26 accepts them (CEP "names in conda
    packages"): letters, digits and single separators (. - _); may start with one underscore,
    virtual packages with two. Compiled for the first name that is not plain (~1 ms)."""
    return (re.compile(r"^(?:[a-z0-9]|[a-z0-9_](?!_))[._-]?(?:[a-z0-9]+(?:[._-]|$))*$", re.I),
            re.compile(r"^__[a-z0-9][._-]?(?:[a-z0-9]+(?:[._-]|$))*$", re.I))


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

    @classmethod
    def _plain(cls, value: str) -> "GlobStrMatch":
        """What ``cls(value)`` builds for a value with no ``*`` and no ``^...$`` — an exact
        match — minus the checks (the MatchSpec fast path has already made them)."""
        self = object.__new__(cls)
        self._raw_value = value
        self._re_match = None
        return self

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

    @classmethod
    def _plain(cls, value: str) -> "GlobLowerStrMatch":
        return super()._plain(value.lower())


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


_NAME_BAD_CHARS_RE = LazyPattern(r"[^a-zA-Z0-9_.*-]")


def _is_plain_name(name: str) -> bool:
    """ASCII letters/digits in runs joined by single separators (. - _), after at most two
    underscores ('_libgcc_mutex', '__glibc'): a subset of what the full rules (_name_res)
    accept, tested with string methods (the regex ``_{0,2}+[a-zA-Z0-9]++(?:[._-][a-zA-Z0-9]++)*+``
    would cost more to compile than the names of a whole run cost to check)."""
    body = name[2:] if name.startswith("__") else name[1:] if name.startswith("_") else name
    if not body or not body.isascii():
        return False
    runs = body.replace(".", "-").replace("_", "-")
    return runs[0] != "-" and runs[-1] != "-" and "--" not in runs and runs.replace("-", "").isalnum()


def name_problem(name: str) -> str | None:
    """Why ``name`` is not an acceptable package name (``None`` if it is).

    Globs (``py*``) may use ``*``; ``^...$`` regexes are checked when compiled.
    """
    if len(name) <= 128 and _is_plain_name(name):
        return None  # the everyday name ('numpy', 'ca-certificates'): certainly fine
    if name.startswith("^") and name.endswith("$"):
        return None
    bad = dict.fromkeys(_NAME_BAD_CHARS_RE.findall(name))
    if bad:
        return f"package name contains invalid characters ({', '.join(bad)})"
    if "*" in name:
        return None
    if len(name) > 128:
        return "package name is longer than 128 characters"
    ordinary, virtual = _name_res()
    if not (ordinary.match(name) or virtual.match(name)):
        return (
            "package name must start with a letter, a digit or one underscore ('__' only for "
            "virtual packages) and must not contain two separators ('.', '-', '_') in a row"
        )
    return None


def _make_component(field_name: str, value: Any) -> Any:
    if hasattr(value, "match"):
        return value  # already a matcher (VersionSpec, GlobStrMatch, …)
    key = (field_name, value)
    matcher = _MATCHER_CACHE.get(key)  # TypeError for unhashable values, exactly like conda
    if matcher is None:
        if field_name == "name" and isinstance(value, str):
            problem = name_problem(value)
            if problem:
                raise InvalidMatchSpec(value, problem)
        factory = _IMPLEMENTORS.get(field_name)
        matcher = factory(value) if factory else ExactStrMatch(str(value))
        if len(_MATCHER_CACHE) > 500_000:
            _MATCHER_CACHE.clear()
        _MATCHER_CACHE[key] = matcher
    return matcher
